//! report.html: one self-contained page, written for a risk committee, from the files a command
//! already wrote into its output folder — so `cascade run --report` and `cascade report OUTDIR`
//! give the same page, and a report can be written again for outputs kept from an older run.
//!
//! The folder says what it holds: summary.json with timeline.csv is a run, compare.json a
//! comparison, montecarlo.json a Monte Carlo, stress.json a stress test, map.json a liquidation
//! map, calibration.json a calibration. Each kind has its module of sections.
//!
//! Charts are SVG drawn in Rust by plotters (see `chart`): the page has no script, fetches
//! nothing (its Content-Security-Policy forbids it) and prints; every chart is also its own SVG
//! file for papers and forum posts.

mod calibrate;
mod chart;
mod compare;
mod format;
mod map;
mod montecarlo;
mod page;
mod read;
mod run;
mod stress;

use std::path::{Path, PathBuf};

pub use chart::{Chart, ChartError};
use page::Page;

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A JSON output is not JSON.
    #[error("{path}: not valid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        source: serde_json::Error,
    },
    /// A CSV output could not be parsed.
    #[error("{path}: {source}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The parser's message, with its position.
        source: csv::Error,
    },
    /// A file lacks something its format has (a key, a column, a number).
    #[error("{path}: {what}")]
    Content {
        /// The file.
        path: PathBuf,
        /// What is missing or wrong, naming the key, column or line.
        what: String,
    },
    /// The folder holds no output a report is made from.
    #[error(
        "{0}: no cascade outputs to report on (looked for summary.json with timeline.csv, \
         compare.json, montecarlo.json, stress.json, map.json and calibration.json)"
    )]
    Empty(PathBuf),
    /// A chart could not be drawn.
    #[error(transparent)]
    Chart(#[from] ChartError),
}

/// What an output folder holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    /// `cascade run`: summary.json and timeline.csv.
    Run,
    /// `cascade compare`: compare.json, one run folder per mechanism.
    Compare,
    /// `cascade montecarlo` (or `merge`): montecarlo.json and paths.csv.
    MonteCarlo,
    /// `cascade stress`: stress.json.
    Stress,
    /// `cascade map`: map.json.
    Map,
    /// `cascade calibrate`: calibration.json.
    Calibrate,
}

impl OutputKind {
    const ALL: [OutputKind; 6] = [
        OutputKind::Compare,
        OutputKind::MonteCarlo,
        OutputKind::Stress,
        OutputKind::Calibrate,
        OutputKind::Map,
        OutputKind::Run,
    ];

    /// Whether `dir` holds this kind's outputs.
    fn present(self, dir: &Path) -> bool {
        let has = |name: &str| dir.join(name).is_file();
        match self {
            OutputKind::Run => has("summary.json") && has("timeline.csv"),
            OutputKind::Compare => has("compare.json"),
            OutputKind::MonteCarlo => has("montecarlo.json"),
            OutputKind::Stress => has("stress.json"),
            OutputKind::Map => has("map.json"),
            OutputKind::Calibrate => has("calibration.json"),
        }
    }

    /// The kinds `dir` holds, the most aggregated first.
    pub fn found_in(dir: &Path) -> Vec<OutputKind> {
        Self::ALL.into_iter().filter(|k| k.present(dir)).collect()
    }

    fn page(self, dir: &Path) -> Result<Page, ReportError> {
        match self {
            OutputKind::Run => run::page(dir),
            OutputKind::Compare => compare::page(dir),
            OutputKind::MonteCarlo => montecarlo::page(dir),
            OutputKind::Stress => stress::page(dir),
            OutputKind::Map => map::page(dir),
            OutputKind::Calibrate => calibrate::page(dir),
        }
    }
}

/// A report made from an output folder.
#[derive(Clone, Debug)]
pub struct Report {
    page: Page,
}

impl Report {
    /// Reads the outputs in `dir` and lays out their report: the page of the first kind found,
    /// with the sections of any other kinds after its own.
    pub fn from_dir(dir: &Path) -> Result<Self, ReportError> {
        let kinds = OutputKind::found_in(dir);
        let Some((first, rest)) = kinds.split_first() else {
            return Err(ReportError::Empty(dir.to_path_buf()));
        };
        let mut page = first.page(dir)?;
        for kind in rest {
            page.sections.extend(kind.page(dir)?.sections);
        }
        Ok(Self { page })
    }

    /// The page as one HTML document.
    pub fn html(&self) -> String {
        self.page.html()
    }

    /// The page's charts, in page order: `--charts DIR` writes each as `<name>.svg`.
    pub fn charts(&self) -> Vec<&Chart> {
        self.page.charts().collect()
    }
}
