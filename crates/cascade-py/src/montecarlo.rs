//! A Monte Carlo of a scenario's paths (`cascade montecarlo`) and the merge of its shards
//! (`cascade merge`): the per-path table and the distribution, montecarlo.json's figures.

use std::io::Cursor;

use cascade_analytics::montecarlo::{
    self, BeyondPaths, MonteCarloHeader, MonteCarloSummary, Runner, ScenarioId, Shard,
};
use cascade_engine::World;
use pyo3::prelude::*;

use crate::error::{Failure, Outcome, detached};
use crate::scenario::{Scenario, text_of};
use crate::table::Table;

/// Refuses paths up to `end` − 1 when the world has fewer (a path ensemble read from a file).
pub(crate) fn check_path_limit(world: &World, end: u64) -> Outcome<()> {
    match world.path_limit().filter(|limit| end > limit.paths) {
        Some(limit) => Err(Failure::Value(BeyondPaths { limit, end }.to_string())),
        None => Ok(()),
    }
}

/// Runs `work` on a pool of `threads` threads, or on rayon's global pool (one per core).
pub(crate) fn on_threads<T: Send>(
    threads: Option<usize>,
    work: impl FnOnce() -> T + Send,
) -> Outcome<T> {
    match threads {
        Some(0) => Err(Failure::Value("threads = 0: at least one thread".into())),
        Some(threads) => rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map(|pool| pool.install(work))
            .map_err(|e| Failure::Internal(format!("cannot start the worker threads: {e}"))),
        None => Ok(work()),
    }
}

/// The paths of a Monte Carlo and their distribution.
#[pyclass(frozen, module = "cascade._cascade")]
pub(crate) struct MonteCarloResult {
    shard: Shard,
    /// montecarlo.json, byte for byte as `cascade montecarlo` (or `cascade merge`) writes it.
    #[pyo3(get)]
    montecarlo_json: String,
}

impl MonteCarloResult {
    fn of(shard: Shard) -> Outcome<Self> {
        let summary = MonteCarloSummary::of(shard.header.clone(), &shard.names, &shard.rows);
        let montecarlo_json = text_of(|w| cascade_report::write_montecarlo_json(&summary, w))?;
        Ok(Self {
            shard,
            montecarlo_json,
        })
    }
}

#[pymethods]
impl MonteCarloResult {
    /// paths.csv, byte for byte: what a shard hands to [`merge`].
    #[getter]
    fn paths_csv(&self, py: Python<'_>) -> PyResult<String> {
        detached(py, || {
            text_of(|w| cascade_report::write_paths_csv(&self.shard.names, &self.shard.rows, w))
        })
    }

    /// The per-path table (paths.parquet's columns).
    #[getter]
    fn paths(&self, py: Python<'_>) -> PyResult<Table> {
        detached(py, || {
            cascade_report::paths_batch(&self.shard.names, &self.shard.rows)
                .map(Table::of)
                .map_err(|e| Failure::Internal(e.to_string()))
        })
    }

    /// The first path's number.
    #[getter]
    fn paths_from(&self) -> u64 {
        self.shard.header.paths_from
    }

    /// How many paths.
    fn __len__(&self) -> usize {
        self.shard.rows.len()
    }
}

/// What a Monte Carlo is asked.
pub(crate) struct Asked {
    pub(crate) paths: u64,
    pub(crate) paths_from: u64,
    pub(crate) threads: Option<usize>,
}

impl Scenario {
    /// Runs the paths asked; see `Scenario.montecarlo`.
    pub(crate) fn run_paths(&self, asked: &Asked) -> Outcome<MonteCarloResult> {
        if asked.paths == 0 {
            return Err(Failure::Value("paths = 0: at least one path".into()));
        }
        let end = asked.paths_from.checked_add(asked.paths).ok_or_else(|| {
            Failure::Value(format!(
                "paths_from = {} with paths = {}: the last path's number overflows",
                asked.paths_from, asked.paths
            ))
        })?;
        check_path_limit(&self.world, end)?;
        let world = &self.world;
        let header = MonteCarloHeader {
            paths: asked.paths,
            paths_from: asked.paths_from,
            seed: world.simulation.seed,
            horizon_seconds: world.simulation.steps * world.simulation.step_seconds,
            scenario: ScenarioId {
                name: world.simulation.name.clone(),
                hash: self.info.hash.clone(),
            },
        };
        let runner = Runner::new(std::sync::Arc::clone(world), self.info.clone());
        let rows = on_threads(asked.threads, || runner.run(asked.paths_from..end, &|| {}))?
            .map_err(|e| Failure::Value(e.to_string()))?;
        MonteCarloResult::of(Shard {
            header,
            names: runner.metrics().names().to_vec(),
            rows,
        })
    }
}

/// One shard as its two files' texts: montecarlo.json and paths.csv.
type ShardTexts = (String, String);

/// Reads a shard back from its files' texts, as `cascade merge` reads its folders.
fn read_shard(i: usize, (json, csv): &ShardTexts) -> Outcome<Shard> {
    let bad =
        |what: &str, e: &dyn std::fmt::Display| Failure::Value(format!("shard {i}: {what}: {e}"));
    let header = cascade_report::read_montecarlo_header(Cursor::new(json))
        .map_err(|e| bad("montecarlo.json", &e))?;
    let (names, rows) =
        cascade_report::read_paths_csv(Cursor::new(csv)).map_err(|e| bad("paths.csv", &e))?;
    if header.paths == 0 || rows.len() as u64 != header.paths {
        return Err(Failure::Value(format!(
            "shard {i}: {} rows where montecarlo.json says paths = {}",
            rows.len(),
            header.paths
        )));
    }
    Ok(Shard {
        header,
        names,
        rows,
    })
}

/// Joins shards of one Monte Carlo, each given as (montecarlo.json, paths.csv) texts, into the
/// result of one run of all their paths: the checks and rows of `cascade merge`.
#[pyfunction]
pub(crate) fn merge(py: Python<'_>, shards: Vec<ShardTexts>) -> PyResult<MonteCarloResult> {
    detached(py, move || {
        let shards = shards
            .iter()
            .enumerate()
            .map(|(i, s)| read_shard(i, s))
            .collect::<Outcome<Vec<Shard>>>()?;
        let merged = montecarlo::merge(shards).map_err(|e| Failure::Value(e.to_string()))?;
        MonteCarloResult::of(merged)
    })
}
