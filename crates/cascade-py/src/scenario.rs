//! A validated scenario held for Python, and what runs on one path or maps its book.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use cascade_analytics::map::{LiquidationMap, MapOptions, positions};
use cascade_analytics::{RunInfo, Summary, Timeline};
use cascade_engine::{Discard, World};
use cascade_report::{EventBatches, MapHeader, RunAsked};
use pyo3::prelude::*;

use crate::calibrate::CalibrationResult;
use crate::compare::CompareResult;
use crate::error::{Failure, Outcome, detached};
use crate::montecarlo::{Asked, MonteCarloResult};
use crate::stress::StressResult;
use crate::table::Table;

/// The most buckets per direction of a map (as `cascade map`).
const MAX_BUCKETS: usize = 100_000;

/// A validated scenario: its text (overrides written in), where it came from, and the world
/// built from it.
#[pyclass(frozen, module = "cascade._cascade")]
pub(crate) struct Scenario {
    /// The text, with every override written in: what a worker elsewhere rebuilds it from.
    pub(crate) text: String,
    /// The name its problems are reported under (the file, or `<string>`).
    pub(crate) name: PathBuf,
    /// Where its data files are found.
    pub(crate) base_dir: PathBuf,
    pub(crate) world: Arc<World>,
    pub(crate) info: RunInfo,
}

/// What a scenario is read from.
struct Source {
    text: String,
    name: PathBuf,
    base_dir: PathBuf,
}

impl Source {
    /// Writes the overrides in and validates the result.
    fn build(self, sets: &[String]) -> Outcome<Scenario> {
        let text = if sets.is_empty() {
            self.text
        } else {
            cascade_scenario::edit::with_sets(&self.text, sets)
                .map_err(|e| Failure::of_set(&self.name, &e))?
        };
        let scenario = cascade_scenario::from_str(&text, &self.name, &self.base_dir)?;
        let cascade_scenario::Scenario {
            world,
            hash,
            description,
            warnings,
        } = scenario;
        Ok(Scenario {
            text,
            name: self.name,
            base_dir: self.base_dir,
            world: Arc::new(world),
            info: RunInfo {
                hash,
                description,
                warnings,
                ..RunInfo::default()
            },
        })
    }
}

/// The name a scenario given as text is reported under.
const TEXT_NAME: &str = "<string>";

#[pymethods]
impl Scenario {
    /// Reads and validates the scenario file at `path`, with `sets` (`KEY=VALUE`) written in.
    #[staticmethod]
    #[pyo3(signature = (path, sets = Vec::new()))]
    fn load(py: Python<'_>, path: PathBuf, sets: Vec<String>) -> PyResult<Self> {
        detached(py, move || {
            let text = cascade_scenario::read(&path)?;
            let base_dir = cascade_scenario::base_dir(&path).to_path_buf();
            Source {
                text,
                name: path,
                base_dir,
            }
            .build(&sets)
        })
    }

    /// Validates scenario TOML `text`; its data files are looked for under `base_dir`, its
    /// problems reported under `name`.
    #[staticmethod]
    #[pyo3(signature = (text, sets = Vec::new(), name = None, base_dir = None))]
    fn from_toml(
        py: Python<'_>,
        text: String,
        sets: Vec<String>,
        name: Option<PathBuf>,
        base_dir: Option<PathBuf>,
    ) -> PyResult<Self> {
        detached(py, move || {
            Source {
                text,
                name: name.unwrap_or_else(|| PathBuf::from(TEXT_NAME)),
                base_dir: base_dir.unwrap_or_else(|| PathBuf::from(".")),
            }
            .build(&sets)
        })
    }

    /// Validates a scenario given as JSON (a Python dict's `json.dumps`), written as TOML.
    #[staticmethod]
    #[pyo3(signature = (json, sets = Vec::new(), base_dir = None))]
    fn from_json(
        py: Python<'_>,
        json: String,
        sets: Vec<String>,
        base_dir: Option<PathBuf>,
    ) -> PyResult<Self> {
        detached(py, move || {
            let name = PathBuf::from("<dict>");
            let value: serde_json::Value = serde_json::from_str(&json)
                .map_err(|e| Failure::Value(format!("not a scenario table: {e}")))?;
            let text = toml::to_string(&value).map_err(|e| {
                Failure::Value(format!(
                    "the dict cannot be written as TOML ({e}); None has no TOML form"
                ))
            })?;
            Source {
                text,
                name,
                base_dir: base_dir.unwrap_or_else(|| PathBuf::from(".")),
            }
            .build(&sets)
        })
    }

    /// The scenario's TOML text, overrides written in.
    #[getter]
    fn text(&self) -> &str {
        &self.text
    }

    /// The name problems are reported under.
    #[getter]
    fn source(&self) -> PathBuf {
        self.name.clone()
    }

    /// Where data files are looked for.
    #[getter]
    fn base_dir(&self) -> PathBuf {
        self.base_dir.clone()
    }

    /// `simulation.name`.
    #[getter]
    fn name(&self) -> &str {
        &self.world.simulation.name
    }

    /// `simulation.seed`.
    #[getter]
    fn seed(&self) -> u64 {
        self.world.simulation.seed
    }

    /// SHA-256 of the text and its data files (summary.json's `scenario.hash`).
    #[getter]
    fn hash(&self) -> &str {
        &self.info.hash
    }

    /// Validation warnings.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.info.warnings.clone()
    }

    /// Runs the scenario on `path`, its events gathered as an Arrow table when `events`.
    #[pyo3(signature = (path = 0, events = true, attribution = false, indicator = false))]
    fn run(
        &self,
        py: Python<'_>,
        path: u64,
        events: bool,
        attribution: bool,
        indicator: bool,
    ) -> PyResult<RunResult> {
        let asked = RunAsked {
            path,
            attribution,
            indicator,
        };
        detached(py, || self.run_path(asked, events))?.into_py(py)
    }

    /// Runs paths `paths_from` … `paths_from + paths − 1` (`cascade montecarlo`).
    #[pyo3(signature = (paths, paths_from = 0, threads = None))]
    fn montecarlo(
        &self,
        py: Python<'_>,
        paths: u64,
        paths_from: u64,
        threads: Option<usize>,
    ) -> PyResult<MonteCarloResult> {
        let asked = Asked {
            paths,
            paths_from,
            threads,
        };
        detached(py, || self.run_paths(&asked))
    }

    /// The scenario over a grid of values of its fields (`cascade stress`): `grid` is each
    /// field path with its values (TOML value text), every combination a point, the last key
    /// varying fastest; each point runs path 0, or paths 0 … `paths` − 1 as a Monte Carlo.
    #[pyo3(signature = (grid, paths = None, threads = None))]
    fn stress(
        &self,
        py: Python<'_>,
        grid: Vec<(String, Vec<String>)>,
        paths: Option<u64>,
        threads: Option<usize>,
    ) -> PyResult<StressResult> {
        detached(py, || self.run_stress(&grid, paths, threads))
    }

    /// The scenario under each of `mechanisms` (`cascade compare`): a mechanism, a
    /// counterfactual, or several joined by `+`, each run on path 0, in parallel; the rows
    /// measure `asset` (the first asset with a venue when not given).
    #[pyo3(signature = (mechanisms, asset = None, threads = None))]
    fn compare(
        &self,
        py: Python<'_>,
        mechanisms: Vec<String>,
        asset: Option<String>,
        threads: Option<usize>,
    ) -> PyResult<CompareResult> {
        detached(py, || {
            self.run_compare(&mechanisms, asset.as_deref(), threads)
        })?
        .into_py(py)
    }

    /// The most capital-efficient value of `parameter` over `range` (`LO:HI[:STEP]`) whose
    /// `risk` (`var99(bad_debt_usd) <= 3e5`, …) stays in budget over paths 0 … `paths` − 1
    /// (`cascade calibrate`).
    #[pyo3(signature = (parameter, range, risk, paths, prefer = None, threads = None))]
    #[allow(clippy::too_many_arguments)]
    fn calibrate(
        &self,
        py: Python<'_>,
        parameter: String,
        range: String,
        risk: String,
        paths: u64,
        prefer: Option<String>,
        threads: Option<usize>,
    ) -> PyResult<CalibrationResult> {
        let asked = crate::calibrate::Asked {
            parameter: &parameter,
            range: &range,
            risk: &risk,
            paths,
            prefer: prefer.as_deref(),
            threads,
        };
        detached(py, || self.run_calibrate(&asked))
    }

    /// The liquidation map of the initial book and its cascade curves (`cascade map`).
    #[pyo3(signature = (buckets = None, shocks = None, threads = None))]
    fn map(
        &self,
        py: Python<'_>,
        buckets: Option<usize>,
        shocks: Option<Vec<f64>>,
        threads: Option<usize>,
    ) -> PyResult<MapResult> {
        let options = map_options(buckets, shocks)?;
        detached(py, || {
            let world = &self.world;
            let mut map = LiquidationMap::of(world, &options);
            crate::montecarlo::on_threads(threads, || map.run_curves_with_progress(world, &|| {}))?;
            let header = MapHeader {
                name: &world.simulation.name,
                hash: &self.info.hash,
                seed: world.simulation.seed,
            };
            let book = positions(world);
            Ok(MapResult {
                map_json: text_of(|w| cascade_report::write_map_json(&header, &map, world, w))?,
                map_csv: text_of(|w| cascade_report::write_map_csv(&map, world, w))?,
                positions_json: text_of(|w| cascade_report::write_positions_json(&book, world, w))?,
            })
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "cascade.Scenario({:?}, seed {}, {} steps)",
            self.world.simulation.name, self.world.simulation.seed, self.world.simulation.steps
        )
    }
}

impl Scenario {
    /// The path limit check of `cascade run --path`, then the run.
    fn run_path(&self, asked: RunAsked, events: bool) -> Outcome<Ran> {
        crate::montecarlo::check_path_limit(&self.world, asked.path.saturating_add(1))?;
        let failed = |e: cascade_report::RunError| match e {
            cascade_report::RunError::Attribution(e) => Failure::Value(format!("attribution: {e}")),
            other => Failure::Internal(other.to_string()),
        };
        let (summary, timeline, events) = if events {
            let mut batches = EventBatches::new(Arc::clone(&self.world))
                .map_err(|e| Failure::Internal(e.to_string()))?;
            let (summary, timeline) =
                cascade_report::run_path(&self.world, self.info.clone(), asked, &mut batches)
                    .map_err(failed)?;
            let (schema, batches) = batches
                .finish()
                .map_err(|e| Failure::Internal(e.to_string()))?;
            (summary, timeline, Some(Table::new(schema, batches)))
        } else {
            let (summary, timeline) =
                cascade_report::run_path(&self.world, self.info.clone(), asked, &mut Discard)
                    .map_err(failed)?;
            (summary, timeline, None)
        };
        Ran::of(&summary, &timeline, events)
    }
}

/// The map's options, checked as `cascade map` checks them.
fn map_options(buckets: Option<usize>, shocks: Option<Vec<f64>>) -> PyResult<MapOptions> {
    let mut options = MapOptions::default();
    if let Some(buckets) = buckets {
        if buckets == 0 || buckets > MAX_BUCKETS {
            return Err(crate::error::value_error(format!(
                "buckets = {buckets}: between 1 and {MAX_BUCKETS}"
            )));
        }
        options.buckets = buckets;
    }
    if let Some(shocks) = shocks {
        if let Some(bad) = shocks
            .iter()
            .find(|s| !(s.is_finite() && **s > 0.0 && **s < 1.0))
        {
            return Err(crate::error::value_error(format!(
                "shocks: {bad} is not a fraction strictly between 0 and 1 (0.1 for 10%)"
            )));
        }
        options.shocks = shocks;
    }
    Ok(options)
}

/// What `write` writes, as text.
pub(crate) fn text_of(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> Outcome<String> {
    let mut out = Vec::new();
    write(&mut out).map_err(|e| Failure::Internal(e.to_string()))?;
    String::from_utf8(out).map_err(|e| Failure::Internal(e.to_string()))
}

/// The timeline as one record batch: `step` and `time_seconds` as int64, every other column
/// float64, NaN where timeline.csv has one.
pub(crate) fn timeline_batch(timeline: &Timeline) -> Outcome<RecordBatch> {
    let fixed = cascade_analytics::timeline::FIXED_COLUMNS;
    let mut fields = Vec::with_capacity(timeline.columns.len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(timeline.columns.len());
    for (c, name) in timeline.columns.iter().enumerate() {
        let values = timeline.rows.iter().map(|row| row[c]);
        if fixed.contains(&name.as_str()) {
            let mut b = Int64Builder::with_capacity(timeline.rows.len());
            values.for_each(|v| b.append_value(v as i64));
            fields.push(Field::new(name, DataType::Int64, false));
            arrays.push(Arc::new(b.finish()));
        } else {
            let mut b = Float64Builder::with_capacity(timeline.rows.len());
            values.for_each(|v| b.append_value(v));
            fields.push(Field::new(name, DataType::Float64, false));
            arrays.push(Arc::new(b.finish()));
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| Failure::Internal(e.to_string()))
}

/// A run on one path: summary.json's text, the timeline and the events.
#[pyclass(frozen, module = "cascade._cascade")]
pub(crate) struct RunResult {
    /// summary.json, byte for byte as `cascade run` writes it.
    #[pyo3(get)]
    summary_json: String,
    /// timeline.csv, byte for byte.
    #[pyo3(get)]
    timeline_csv: String,
    /// The timeline: one row per step.
    #[pyo3(get)]
    timeline: Py<Table>,
    /// The events (the columns of events.parquet), or None when not gathered.
    #[pyo3(get)]
    events: Option<Py<Table>>,
}

/// A run's outputs before they are Python objects.
pub(crate) struct Ran {
    summary_json: String,
    timeline_csv: String,
    timeline: Table,
    events: Option<Table>,
}

impl Ran {
    /// summary.json's and timeline.csv's texts and the timeline's table, with the events.
    pub(crate) fn of(
        summary: &Summary,
        timeline: &Timeline,
        events: Option<Table>,
    ) -> Outcome<Self> {
        Ok(Self {
            summary_json: text_of(|w| cascade_report::write_summary_json(summary, w))?,
            timeline_csv: text_of(|w| cascade_report::write_timeline(timeline, w))?,
            timeline: Table::of(timeline_batch(timeline)?),
            events,
        })
    }

    /// The Python object.
    pub(crate) fn into_py(self, py: Python<'_>) -> PyResult<RunResult> {
        Ok(RunResult {
            summary_json: self.summary_json,
            timeline_csv: self.timeline_csv,
            timeline: Py::new(py, self.timeline)?,
            events: self.events.map(|t| Py::new(py, t)).transpose()?,
        })
    }
}

/// A liquidation map: map.json, map.csv and positions.json as `cascade map` writes them.
#[pyclass(frozen, module = "cascade._cascade")]
pub(crate) struct MapResult {
    /// map.json's text.
    #[pyo3(get)]
    map_json: String,
    /// map.csv's text.
    #[pyo3(get)]
    map_csv: String,
    /// positions.json's text.
    #[pyo3(get)]
    positions_json: String,
}
