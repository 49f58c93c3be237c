//! A compare of a scenario under mechanisms and counterfactuals (`cascade compare`): the
//! variants checked and run by the same library call as the command, so compare.json and each
//! variant's summary.json are its files byte for byte.

use cascade_report::{CompareContext, CompareError, CompareRun, Variants};
use cascade_scenario::ScenarioError;
use pyo3::prelude::*;

use crate::error::{Failure, Outcome};
use crate::montecarlo::on_threads;
use crate::scenario::{Ran, RunResult, Scenario, text_of};
use crate::table::Table;

/// The variants of a compare and their table.
#[pyclass(frozen, module = "cascade._cascade")]
pub(crate) struct CompareResult {
    /// compare.json, byte for byte as `cascade compare` writes it.
    #[pyo3(get)]
    compare_json: String,
    /// compare.csv, byte for byte.
    #[pyo3(get)]
    compare_csv: String,
    /// compare.csv's columns as an Arrow table, a row per variant.
    #[pyo3(get)]
    table: Py<Table>,
    /// Each variant's run (its summary.json and timeline, no events), in the order asked.
    #[pyo3(get)]
    variants: Vec<(String, Py<RunResult>)>,
    /// The warnings `cascade compare` prints: parts of variants that change nothing here, and
    /// variants whose auctions a lone keeper won for nothing.
    #[pyo3(get)]
    warnings: Vec<String>,
}

/// A compare's outputs before they are Python objects.
pub(crate) struct Compared {
    compare_json: String,
    compare_csv: String,
    table: Table,
    variants: Vec<(String, Ran)>,
    warnings: Vec<String>,
}

impl Compared {
    /// The Python object.
    pub(crate) fn into_py(self, py: Python<'_>) -> PyResult<CompareResult> {
        Ok(CompareResult {
            compare_json: self.compare_json,
            compare_csv: self.compare_csv,
            table: Py::new(py, self.table)?,
            variants: self
                .variants
                .into_iter()
                .map(|(name, ran)| Ok((name, Py::new(py, ran.into_py(py)?)?)))
                .collect::<PyResult<_>>()?,
            warnings: self.warnings,
        })
    }

    fn of(ran: CompareRun, mut warnings: Vec<String>) -> Outcome<Self> {
        warnings.extend(ran.lone_bidder_warnings());
        let comparison = &ran.comparison;
        Ok(Self {
            compare_json: text_of(|w| cascade_report::write_compare_json(comparison, w))?,
            compare_csv: text_of(|w| cascade_report::write_compare_csv(comparison, w))?,
            table: Table::of(
                cascade_report::compare_batch(comparison)
                    .map_err(|e| Failure::Internal(e.to_string()))?,
            ),
            variants: ran
                .variants
                .into_iter()
                .map(|v| Ok((v.name, Ran::of(&v.summary, &v.timeline, None)?)))
                .collect::<Outcome<_>>()?,
            warnings,
        })
    }
}

impl Scenario {
    /// Runs the scenario under each variant; see `Scenario.compare`.
    pub(crate) fn run_compare(
        &self,
        mechanisms: &[String],
        asset: Option<&str>,
        threads: Option<usize>,
    ) -> Outcome<Compared> {
        if mechanisms.is_empty() {
            return Err(Failure::Value(
                "mechanisms: name one or more variants (as_is for the scenario as written)".into(),
            ));
        }
        let ctx = CompareContext {
            name: &self.name,
            base_dir: &self.base_dir,
            text: &self.text,
            mechanisms,
            asset,
        };
        let variants = Variants::plan(&ctx).map_err(failure)?;
        let warnings = variants.inert_parts();
        let ran = on_threads(threads, || variants.run(&|| {}))?.map_err(failure)?;
        Compared::of(ran, warnings)
    }
}

/// A compare that cannot be made: an invalid scenario (under a variant, each problem's message
/// naming it) as `ScenarioError`, the rest as `ValueError`.
fn failure(e: CompareError) -> Failure {
    match e {
        CompareError::Mechanism { name, reason } | CompareError::Variant { name, reason } => {
            Failure::Value(format!("mechanisms {name:?}: {reason}"))
        }
        CompareError::Twice(name) => Failure::Value(format!("mechanisms {name:?}: listed twice")),
        CompareError::Scenario(e) => Failure::Scenario(e),
        CompareError::Asset { symbol, known } => Failure::Value(format!(
            "asset {symbol:?}: not an asset of the scenario; known: [{}]",
            known.join(", ")
        )),
        CompareError::Invalid { name, error } => Failure::Scenario(ScenarioError {
            problems: error
                .problems
                .into_iter()
                .map(|mut p| {
                    p.message = format!("under mechanism {name}: {}", p.message);
                    p
                })
                .collect(),
        }),
    }
}
