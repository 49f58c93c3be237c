//! A calibration of one of a scenario's fields against a risk budget (`cascade calibrate`):
//! the values built and run by the same library call as the command, so calibration.json and
//! frontier.csv are its files byte for byte.

use cascade_analytics::calibrate::{Prefer, RiskBudget};
use cascade_report::{CalibrateContext, CalibrateError, Candidates};
use cascade_scenario::{InputError, ScenarioError};
use pyo3::prelude::*;

use crate::error::{Failure, Outcome};
use crate::montecarlo::on_threads;
use crate::scenario::{Scenario, text_of};
use crate::table::Table;

/// What `Scenario.calibrate` was asked.
pub(crate) struct Asked<'a> {
    pub(crate) parameter: &'a str,
    pub(crate) range: &'a str,
    pub(crate) risk: &'a str,
    pub(crate) paths: u64,
    pub(crate) prefer: Option<&'a str>,
    pub(crate) threads: Option<usize>,
}

/// The frontier of a calibration and the value chosen.
#[pyclass(frozen, module = "cascade._cascade")]
pub(crate) struct CalibrationResult {
    /// calibration.json, byte for byte as `cascade calibrate` writes it.
    #[pyo3(get)]
    calibration_json: String,
    /// frontier.csv, byte for byte.
    #[pyo3(get)]
    frontier_csv: String,
    /// frontier.csv's columns as an Arrow table, a row per value.
    frontier: Table,
    /// The value chosen (as written into the scenario), or None when no value is in budget.
    #[pyo3(get)]
    chosen: Option<String>,
}

#[pymethods]
impl CalibrationResult {
    /// frontier.csv's columns as an Arrow table.
    #[getter]
    fn frontier(&self) -> Table {
        self.frontier.clone()
    }
}

impl Scenario {
    /// Builds, runs and measures every value; see `Scenario.calibrate`.
    pub(crate) fn run_calibrate(&self, asked: &Asked<'_>) -> Outcome<CalibrationResult> {
        if asked.paths == 0 {
            return Err(Failure::Value("paths = 0: at least one path".into()));
        }
        let budget: RiskBudget = asked
            .risk
            .parse()
            .map_err(|e| Failure::Value(format!("risk {e}")))?;
        let prefer: Option<Prefer> = asked
            .prefer
            .map(str::parse)
            .transpose()
            .map_err(|e| Failure::Value(format!("prefer {e}")))?;
        let (values, prefer) = cascade_report::question(asked.parameter, asked.range, prefer)
            .map_err(|e| self.failure(asked, e))?;
        let ctx = CalibrateContext {
            name: &self.name,
            base_dir: &self.base_dir,
            text: &self.text,
            world: &self.world,
            hash: &self.info.hash,
            parameter: asked.parameter,
            range: asked.range,
            values: &values,
            prefer,
            budget: &budget,
            paths: asked.paths,
        };
        let candidates = Candidates::build(&ctx).map_err(|e| self.failure(asked, e))?;
        let ran = on_threads(asked.threads, || candidates.run(&|| {}))?
            .map_err(|e| self.failure(asked, e))?;
        let calibration = ran.document();
        Ok(CalibrationResult {
            calibration_json: text_of(|w| cascade_report::write_calibration_json(&calibration, w))?,
            frontier_csv: text_of(|w| cascade_report::write_frontier_csv(&calibration, w))?,
            frontier: Table::of(
                cascade_report::frontier_batch(&calibration)
                    .map_err(|e| Failure::Internal(e.to_string()))?,
            ),
            chosen: ran.chosen.map(|i| ran.frontier[i].value.clone()),
        })
    }

    /// A calibration that cannot be made: a value that cannot be written in, or under which
    /// the scenario is not valid, as `ScenarioError` naming the field; the rest as `ValueError`.
    fn failure(&self, asked: &Asked<'_>, e: CalibrateError) -> Failure {
        let parameter = asked.parameter;
        match e {
            CalibrateError::Range(e) => Failure::Value(format!("range {e}")),
            CalibrateError::Prefer(parameter) => Failure::Value(format!(
                "parameter {parameter}: which way is more capital-efficient is not known for \
                 this key; say it with prefer=\"high\" or prefer=\"low\""
            )),
            CalibrateError::Syntax(e) => Failure::Value(format!("{}: {e}", self.name.display())),
            CalibrateError::Set { key, value, reason } => Failure::Scenario(ScenarioError::from(
                InputError::new(&self.name, key, reason).value(value),
            )),
            CalibrateError::Invalid { error, .. } => Failure::Scenario(error),
            CalibrateError::Metric {
                expression,
                metric,
                names,
            } => Failure::Value(format!(
                "risk {expression:?}: the scenario has no figure {metric:?}; its figures (the \
                 columns of paths.csv) are {}",
                names.join(", ")
            )),
            CalibrateError::Columns { value, first } => Failure::Value(format!(
                "parameter {parameter} = {value}: the scenario reports other figures than at \
                 {first} (the edit renames or adds an asset, a protocol or a keeper)"
            )),
            CalibrateError::PathLimit { file, paths } => Failure::Value(format!(
                "paths = {}: the scenario reads its paths from the ensemble {file:?}, which has \
                 {paths} paths",
                asked.paths
            )),
            CalibrateError::Paths(e) => Failure::Value(format!("paths = {}: {e}", asked.paths)),
            CalibrateError::Measure(e) => Failure::Value(e),
        }
    }
}
