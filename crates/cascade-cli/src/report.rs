//! report.html and the charts as SVG files: `--report` and `--charts DIR` on every command that
//! writes an output folder, and `cascade report OUTDIR` for a folder already written. The page is
//! made from the folder's files alone, so both routes give the same page.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use cascade_report::{Report, ReportError};

use super::{Failure, check_dir, write_file};

/// The report options a command that writes an output folder takes.
#[derive(clap::Args, Clone, Debug, Default)]
pub(crate) struct ReportArgs {
    /// Also write report.html into the output folder: one self-contained page for a risk
    /// committee (figures, charts and tables; no script, and nothing fetched when it opens).
    #[arg(long)]
    pub(crate) report: bool,
    /// Also write every chart of the report as an SVG file into DIR (created if missing);
    /// implies --report.
    #[arg(long, value_name = "DIR")]
    pub(crate) charts: Option<PathBuf>,
}

impl ReportArgs {
    /// Checks `--charts` before anything runs: a folder that cannot be made is a usage error.
    pub(crate) fn check(&self) -> Result<(), Failure> {
        match &self.charts {
            Some(dir) => check_dir("--charts", dir),
            None => Ok(()),
        }
    }

    /// Writes the report of `out` when asked to.
    pub(crate) fn write(&self, out: &Path) -> Result<(), Failure> {
        if self.report || self.charts.is_some() {
            write(out, self.charts.as_deref())?;
        }
        Ok(())
    }
}

/// A report's failure: a folder without outputs, or a file the report cannot read, is the
/// user's input (exit 2); a file it cannot write is the machine's (exit 1).
fn failure(e: ReportError) -> Failure {
    match e {
        ReportError::Empty(_)
        | ReportError::Io { .. }
        | ReportError::Json { .. }
        | ReportError::Csv { .. }
        | ReportError::Content { .. } => Failure::Usage(e.to_string()),
        ReportError::Chart(_) => Failure::Internal(anyhow::Error::new(e)),
    }
}

/// Writes `dir/report.html` (whole or not at all: through a temporary file renamed into place)
/// and, with `charts`, every chart as `charts/<name>.svg`. Returns the page's path.
pub(crate) fn write(dir: &Path, charts: Option<&Path>) -> Result<PathBuf, Failure> {
    let report = Report::from_dir(dir).map_err(failure)?;
    let page = dir.join("report.html");
    let partial = dir.join(".report.html.partial");
    write_file(&partial, |w| w.write_all(report.html().as_bytes()))?;
    fs::rename(&partial, &page).with_context(|| format!("cannot write {}", page.display()))?;
    if let Some(charts) = charts {
        fs::create_dir_all(charts)
            .with_context(|| format!("cannot create {}", charts.display()))?;
        for chart in report.charts() {
            let path = charts.join(format!("{}.svg", chart.name));
            write_file(&path, |w| w.write_all(chart.svg.as_bytes()))?;
        }
    }
    Ok(page)
}

/// `cascade report OUTDIR [--charts DIR]`.
pub(crate) fn command(dir: &Path, charts: Option<&Path>) -> Result<(), Failure> {
    if !dir.is_dir() {
        return Err(Failure::Usage(format!(
            "{}: not a folder of cascade outputs",
            dir.display()
        )));
    }
    if let Some(charts) = charts {
        check_dir("--charts", charts)?;
    }
    let page = write(dir, charts)?;
    println!("report: {}", page.display());
    if let Some(charts) = charts {
        println!("charts: {}", charts.display());
    }
    Ok(())
}
