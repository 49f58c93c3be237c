//! report.html and the charts as SVG files: `--report` and `--charts DIR` on every command that
//! writes an output folder, and `cascade report OUTDIR` for a folder already written. The page is
//! made from the folder's files alone, so both routes give the same page.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use cascade_report::{OutputFolder, PartialFile, Report, ReportError};

use super::{Failure, check_dir, reseal, write_file};

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

    /// Writes the report of `folder` into it when asked to (after its other files, before its
    /// manifest).
    pub(crate) fn write(&self, folder: &mut OutputFolder) -> Result<(), Failure> {
        if self.report || self.charts.is_some() {
            write(folder, self.charts.as_deref())?;
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

/// Writes report.html into `folder` (whole or not at all: through a temporary file renamed
/// into place) and, with `charts`, every chart as `charts/<name>.svg` (each the same way).
/// Returns the page's path.
pub(crate) fn write(folder: &mut OutputFolder, charts: Option<&Path>) -> Result<PathBuf, Failure> {
    let report = Report::from_dir(folder.dir()).map_err(failure)?;
    write_file(folder, "report.html", |w| {
        w.write_all(report.html().as_bytes())
    })?;
    if let Some(charts) = charts {
        fs::create_dir_all(charts)
            .with_context(|| format!("cannot create {}", charts.display()))?;
        for chart in report.charts() {
            let name = format!("{}.svg", chart.name);
            let write = || -> std::io::Result<()> {
                let mut file = PartialFile::create(charts, &name)?;
                file.write_all(chart.svg.as_bytes())?;
                file.commit().map(drop)
            };
            write().with_context(|| format!("cannot write {}", charts.join(&name).display()))?;
        }
    }
    Ok(folder.dir().join("report.html"))
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
    // report.html joins the folder's files and its manifest.
    let mut folder = OutputFolder::reopen(dir)
        .with_context(|| format!("cannot add report.html to {}", dir.display()))?;
    let page = write(&mut folder, charts)?;
    reseal(folder)?;
    say!("report: {}", page.display())?;
    if let Some(charts) = charts {
        say!("charts: {}", charts.display())?;
    }
    Ok(())
}
