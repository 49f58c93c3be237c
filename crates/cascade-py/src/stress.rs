//! A stress test of a scenario over a grid of values of its fields (`cascade stress`): the
//! grid built and run by the same library call as the command, so stress.json and stress.csv
//! are its files byte for byte.

use cascade_report::{GridError, StressContext, StressPoints, StressRun};
use cascade_scenario::{InputError, ScenarioError};
use pyo3::prelude::*;

use crate::error::{Failure, Outcome, detached};
use crate::montecarlo::on_threads;
use crate::scenario::{Scenario, text_of};
use crate::table::Table;

/// The points of a stress test and what each gave.
#[pyclass(frozen, module = "cascade._cascade")]
pub(crate) struct StressResult {
    run: StressRun,
    /// stress.json, byte for byte as `cascade stress` writes it.
    #[pyo3(get)]
    stress_json: String,
    /// stress.csv, byte for byte.
    #[pyo3(get)]
    stress_csv: String,
}

#[pymethods]
impl StressResult {
    /// stress.csv's columns as an Arrow table.
    #[getter]
    fn table(&self, py: Python<'_>) -> PyResult<Table> {
        detached(py, || {
            let rows = self.run.rows();
            cascade_report::stress_batch(&self.run.document(&rows))
                .map(Table::of)
                .map_err(|e| Failure::Internal(e.to_string()))
        })
    }

    /// How many points.
    fn __len__(&self) -> usize {
        self.run.points.len()
    }
}

impl Scenario {
    /// Builds and runs the grid; see `Scenario.stress`.
    pub(crate) fn run_stress(
        &self,
        grid: &[(String, Vec<String>)],
        paths: Option<u64>,
        threads: Option<usize>,
    ) -> Outcome<StressResult> {
        if paths == Some(0) {
            return Err(Failure::Value("paths = 0: at least one path".into()));
        }
        for (i, (key, values)) in grid.iter().enumerate() {
            if key.trim().is_empty() || values.is_empty() || values.iter().any(|v| v.is_empty()) {
                return Err(Failure::Value(format!(
                    "grid {key:?}: a key and one or more non-empty values are needed"
                )));
            }
            if grid[..i].iter().any(|(k, _)| k == key) {
                return Err(Failure::Value(format!("grid {key}: given twice")));
            }
        }
        let ctx = StressContext {
            name: &self.name,
            base_dir: &self.base_dir,
            text: &self.text,
            world: &self.world,
            hash: &self.info.hash,
            grid,
            paths,
        };
        let built = StressPoints::build(&ctx).map_err(|e| self.grid_failure(e, paths))?;
        let run = on_threads(threads, || built.run(&|| {}))?
            .map_err(|e| Failure::Value(e.to_string()))?;
        let (stress_json, stress_csv) = {
            let rows = run.rows();
            let stress = run.document(&rows);
            (
                text_of(|w| cascade_report::write_stress_json(&stress, w))?,
                text_of(|w| cascade_report::write_stress_csv(&stress, w))?,
            )
        };
        Ok(StressResult {
            run,
            stress_json,
            stress_csv,
        })
    }

    /// A grid that cannot be built: a value that cannot be written in, or a point that is not
    /// valid, as `ScenarioError` naming the field; the rest as `ValueError`.
    fn grid_failure(&self, e: GridError, paths: Option<u64>) -> Failure {
        match e {
            GridError::Syntax(e) => Failure::Value(format!("{}: {e}", self.name.display())),
            GridError::Set { key, value, reason } => Failure::Scenario(ScenarioError::from(
                InputError::new(&self.name, key, reason).value(value),
            )),
            GridError::Invalid { error, .. } => Failure::Scenario(error),
            GridError::Columns(point) => Failure::Value(format!(
                "the grid point {point} reports other figures than the first (it renames or adds \
                 an asset, a protocol or a keeper): stress those values in separate runs"
            )),
            GridError::PathLimit {
                point,
                file,
                paths: has,
            } => Failure::Value(format!(
                "paths = {}: the grid point {point} reads its paths from the ensemble {file:?}, \
                 which has {has} paths",
                paths.unwrap_or(1)
            )),
        }
    }
}
