//! Running a stress test: a scenario over a grid of values of its fields. Every point is the
//! scenario's text with the point's values written in, validated before anything runs, then run
//! once (path 0) or as a Monte Carlo of N paths, the points in parallel. `cascade stress` and the
//! Python package call this, so both give the same stress.json; the caller writes the files.

use std::path::Path;
use std::sync::Arc;

use cascade_analytics::RunInfo;
use cascade_analytics::montecarlo::{
    BeyondPaths, MonteCarloHeader, MonteCarloSummary, PathFigures, Runner, ScenarioId,
};
use cascade_engine::World;
use cascade_scenario::ScenarioError;
use cascade_scenario::edit::ScenarioText;
use cascade_scenario::generate::BookCache;
use rayon::prelude::*;

use crate::{Outcome, Stress, StressRow};

/// What a stress test is asked: the scenario (its text, the name its problems are reported
/// under, where its data files are, and the unedited world and hash), the grid and the paths.
pub struct StressContext<'a> {
    /// The name the scenario's problems are reported under (its file).
    pub name: &'a Path,
    /// Where its data files are found.
    pub base_dir: &'a Path,
    /// Its text, unedited.
    pub text: &'a str,
    /// The unedited scenario's world.
    pub world: &'a World,
    /// The unedited scenario's hash.
    pub hash: &'a str,
    /// The grid's keys (field paths) and their values, in order.
    pub grid: &'a [(String, Vec<String>)],
    /// Paths per point: `None` runs path 0 once.
    pub paths: Option<u64>,
}

/// Why a stress test could not be built.
#[derive(Debug)]
pub enum GridError {
    /// The scenario's text is not TOML.
    Syntax(String),
    /// A grid value that cannot be written in at `key`.
    Set {
        /// The field path.
        key: String,
        /// The value.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A point whose edited scenario is not valid.
    Invalid {
        /// The point, `key=value` pairs joined by spaces.
        point: String,
        /// Its problems.
        error: ScenarioError,
    },
    /// A point that reports other figures than the first (its values joined by `, `).
    Columns(String),
    /// A point that reads its paths from an ensemble with fewer paths than asked.
    PathLimit {
        /// The point's values joined by `, `.
        point: String,
        /// The ensemble file.
        file: String,
        /// Its paths.
        paths: u64,
    },
}

/// A scenario with edits written in, validated, as a runner of its paths, and its hash.
pub struct Edited {
    /// The runner.
    pub runner: Runner,
    /// The edited scenario's hash.
    pub hash: String,
}

/// Why edits could not be made.
#[derive(Debug)]
pub enum EditFailure {
    /// A value that cannot be written in at `key`.
    Set {
        /// The field path.
        key: String,
        /// The value.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// The edited scenario is not valid.
    Invalid(ScenarioError),
}

/// The scenario `text` (reported under `name`, its data files under `base_dir`) with `edits`
/// (field path, value) written in and validated, as a runner of its paths. Populations the edits
/// leave as they are share their books through `books`.
pub fn edited(
    name: &Path,
    base_dir: &Path,
    text: &ScenarioText,
    edits: &[(&str, &str)],
    books: &BookCache,
) -> Result<Edited, EditFailure> {
    let mut edited = text.clone();
    for (key, value) in edits {
        edited.set(key, value).map_err(|e| EditFailure::Set {
            key: (*key).to_string(),
            value: (*value).to_string(),
            reason: e.reason,
        })?;
    }
    let scenario = cascade_scenario::from_str_with_books(&edited.text(), name, base_dir, books)
        .map_err(EditFailure::Invalid)?;
    let cascade_scenario::Scenario {
        world,
        hash,
        description,
        warnings,
    } = scenario;
    let info = RunInfo {
        hash: hash.clone(),
        description,
        warnings,
        ..RunInfo::default()
    };
    Ok(Edited {
        runner: Runner::new(Arc::new(world), info),
        hash,
    })
}

/// A point of the grid, built and validated.
struct Point {
    values: Vec<String>,
    runner: Runner,
    hash: String,
}

/// Every point of a grid, built and validated, ready to run.
pub struct StressPoints {
    name: String,
    hash: String,
    seed: u64,
    horizon_seconds: u64,
    paths: Option<u64>,
    grid: Vec<(String, Vec<String>)>,
    points: Vec<Point>,
}

/// What a point gave.
pub enum PointResult {
    /// One run: path 0's figures.
    Run(PathFigures),
    /// A Monte Carlo of the point.
    MonteCarlo(Box<MonteCarloSummary>),
}

/// A point that ran.
pub struct StressPoint {
    /// The value of each grid key.
    pub values: Vec<String>,
    /// The edited scenario's hash.
    pub hash: String,
    /// What it gave.
    pub result: PointResult,
}

/// A stress test that ran: what stress.json and stress.csv are written from.
pub struct StressRun {
    /// The scenario's name.
    pub name: String,
    /// The unedited scenario's hash.
    pub hash: String,
    /// Its seed.
    pub seed: u64,
    /// Simulated time of a run.
    pub horizon_seconds: u64,
    /// Paths per point (1: a single run).
    pub paths: u64,
    /// The grid.
    pub grid: Vec<(String, Vec<String>)>,
    /// The metrics' names.
    pub names: Vec<String>,
    /// The points in grid order.
    pub points: Vec<StressPoint>,
}

impl StressRun {
    /// The rows of [`Stress`].
    pub fn rows(&self) -> Vec<StressRow<'_>> {
        self.points
            .iter()
            .map(|p| StressRow {
                values: &p.values,
                hash: &p.hash,
                outcome: match &p.result {
                    PointResult::Run(figures) => Outcome::Run(figures),
                    PointResult::MonteCarlo(mc) => Outcome::MonteCarlo(mc),
                },
            })
            .collect()
    }

    /// The document the writers take, with `rows` from [`StressRun::rows`].
    pub fn document<'a>(&'a self, rows: &'a [StressRow<'a>]) -> Stress<'a> {
        Stress {
            name: &self.name,
            hash: &self.hash,
            seed: self.seed,
            horizon_seconds: self.horizon_seconds,
            paths: self.paths,
            grid: &self.grid,
            names: &self.names,
            rows,
        }
    }
}

/// Every combination of the grid's values, the last key varying fastest.
pub fn grid_points(grid: &[(String, Vec<String>)]) -> Vec<Vec<String>> {
    grid.iter().fold(vec![Vec::new()], |acc, (_, values)| {
        acc.into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push(v.clone());
                    p
                })
            })
            .collect()
    })
}

/// Builds the scenario of one point.
fn build(
    ctx: &StressContext<'_>,
    text: &ScenarioText,
    values: Vec<String>,
    books: &BookCache,
) -> Result<Point, GridError> {
    let edits: Vec<(&str, &str)> = ctx
        .grid
        .iter()
        .zip(&values)
        .map(|((k, _), v)| (k.as_str(), v.as_str()))
        .collect();
    let made = edited(ctx.name, ctx.base_dir, text, &edits, books).map_err(|e| match e {
        EditFailure::Set { key, value, reason } => GridError::Set { key, value, reason },
        EditFailure::Invalid(error) => GridError::Invalid {
            point: edits
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
            error,
        },
    })?;
    Ok(Point {
        values,
        runner: made.runner,
        hash: made.hash,
    })
}

impl StressPoints {
    /// Builds and validates every point of the grid before anything runs. Points that leave a
    /// population of positions as it is share its book: the first point draws the books, the
    /// others reuse them (or draw the ones they change).
    pub fn build(ctx: &StressContext<'_>) -> Result<Self, GridError> {
        let text = ScenarioText::parse(ctx.text).map_err(|e| GridError::Syntax(e.to_string()))?;
        let books = BookCache::new();
        let mut values = grid_points(ctx.grid).into_iter();
        let first = values.next().map(|v| build(ctx, &text, v, &books));
        let rest: Vec<Point> = values
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|values| build(ctx, &text, values, &books))
            .collect::<Result<_, _>>()?;
        let points: Vec<Point> = first
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .chain(rest)
            .collect();
        // Every point must report the same figures (a grid that renames an asset, a protocol
        // or a keeper, or adds one, would change the columns).
        if let Some(first) = points.first() {
            for point in &points[1..] {
                if point.runner.metrics() != first.runner.metrics() {
                    return Err(GridError::Columns(point.values.join(", ")));
                }
            }
        }
        let paths = ctx.paths.unwrap_or(1);
        for point in &points {
            if let Some(limit) = point
                .runner
                .world()
                .path_limit()
                .filter(|l| paths > l.paths)
            {
                return Err(GridError::PathLimit {
                    point: point.values.join(", "),
                    file: limit.file.clone(),
                    paths: limit.paths,
                });
            }
        }
        let sim = &ctx.world.simulation;
        Ok(Self {
            name: sim.name.clone(),
            hash: ctx.hash.to_string(),
            seed: sim.seed,
            horizon_seconds: sim.steps * sim.step_seconds,
            paths: ctx.paths,
            grid: ctx.grid.to_vec(),
            points,
        })
    }

    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many paths run in all (what a progress bar counts).
    pub fn total_paths(&self) -> u64 {
        self.paths.unwrap_or(1) * self.points.len() as u64
    }

    /// Runs every point in parallel, calling `done` after each path.
    pub fn run(self, done: &(dyn Fn() + Sync)) -> Result<StressRun, BeyondPaths> {
        let results = self
            .points
            .par_iter()
            .map(|point| outcome(point, self.paths, done))
            .collect::<Result<Vec<_>, _>>()?;
        let names: Vec<String> = self
            .points
            .first()
            .map(|p| p.runner.metrics().names().to_vec())
            .unwrap_or_default();
        Ok(StressRun {
            name: self.name,
            hash: self.hash,
            seed: self.seed,
            horizon_seconds: self.horizon_seconds,
            paths: self.paths.unwrap_or(1),
            grid: self.grid,
            names,
            points: self
                .points
                .into_iter()
                .zip(results)
                .map(|(p, result)| StressPoint {
                    values: p.values,
                    hash: p.hash,
                    result,
                })
                .collect(),
        })
    }
}

/// Runs one point: path 0, or paths 0 … N−1.
fn outcome(
    point: &Point,
    paths: Option<u64>,
    done: &(dyn Fn() + Sync),
) -> Result<PointResult, BeyondPaths> {
    match paths {
        None => {
            let mut figures = point.runner.run(0..1, done)?;
            Ok(PointResult::Run(figures.remove(0)))
        }
        Some(n) => {
            let rows = point.runner.run(0..n, done)?;
            let world = point.runner.world();
            let header = MonteCarloHeader {
                paths: n,
                paths_from: 0,
                seed: world.simulation.seed,
                horizon_seconds: world.simulation.steps * world.simulation.step_seconds,
                scenario: ScenarioId {
                    name: world.simulation.name.clone(),
                    hash: point.hash.clone(),
                },
            };
            Ok(PointResult::MonteCarlo(Box::new(MonteCarloSummary::of(
                header,
                point.runner.metrics().names(),
                &rows,
            ))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_every_combination_last_key_fastest() {
        let grid = vec![
            ("a".to_string(), vec!["1".to_string(), "2".to_string()]),
            (
                "b".to_string(),
                vec!["x".to_string(), "y".to_string(), "z".to_string()],
            ),
        ];
        let p = grid_points(&grid);
        assert_eq!(p.len(), 6);
        assert_eq!(p[0], ["1", "x"]);
        assert_eq!(p[1], ["1", "y"]);
        assert_eq!(p[5], ["2", "z"]);
    }
}
