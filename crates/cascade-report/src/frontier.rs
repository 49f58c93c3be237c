//! Running a calibration: every value of one parameter's range written into the scenario (as a
//! stress test writes a grid point), validated before anything runs, then run over the same
//! paths 0 … N − 1 — common random numbers, so the frontier is smooth in the parameter — and
//! measured against a risk budget. `cascade calibrate` and the Python package call this, so both
//! give the same calibration.json and frontier.csv; the caller writes the files.

use std::path::Path;

use cascade_analytics::calibrate::{FrontierPoint, Prefer, RiskBudget, choose, range_values};
use cascade_analytics::montecarlo::{MonteCarloHeader, MonteCarloSummary, ScenarioId};
use cascade_engine::World;
use cascade_scenario::ScenarioError;
use cascade_scenario::edit::ScenarioText;
use cascade_scenario::generate::BookCache;
use rayon::prelude::*;

use crate::{Calibration, EditFailure, Edited, edited};

/// The most values a range may have.
pub const MAX_RANGE_VALUES: usize = 1_000;

/// What a calibration is asked: the scenario (its text, the name its problems are reported
/// under, where its data files are, the unedited world and hash), the parameter, its values,
/// the budget and the paths.
pub struct CalibrateContext<'a> {
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
    /// The parameter's field path.
    pub parameter: &'a str,
    /// The range as given (`LO:HI[:STEP]`).
    pub range: &'a str,
    /// Its values, ascending (from [`question`]).
    pub values: &'a [String],
    /// Which way is capital-efficient (from [`question`]).
    pub prefer: Prefer,
    /// The risk budget.
    pub budget: &'a RiskBudget,
    /// Paths per value.
    pub paths: u64,
}

/// Why a calibration could not be made.
#[derive(Debug)]
pub enum CalibrateError {
    /// A range that is not `LO:HI[:STEP]`, or too long.
    Range(String),
    /// A parameter whose capital-efficient direction is not known, with no preference given.
    Prefer(String),
    /// The scenario's text is not TOML.
    Syntax(String),
    /// A value that cannot be written in at the parameter.
    Set {
        /// The field path.
        key: String,
        /// The value.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A value under which the scenario is not valid.
    Invalid {
        /// The value.
        value: String,
        /// Its problems.
        error: ScenarioError,
    },
    /// The budget names a figure the scenario does not report.
    Metric {
        /// The budget as written.
        expression: String,
        /// The figure it names.
        metric: String,
        /// The scenario's figures (the columns of paths.csv).
        names: Vec<String>,
    },
    /// A value under which the scenario reports other figures than under the first.
    Columns {
        /// The value.
        value: String,
        /// The first value.
        first: String,
    },
    /// More paths than the ensemble the scenario reads them from has.
    PathLimit {
        /// The ensemble file.
        file: String,
        /// Its paths.
        paths: u64,
    },
    /// Paths beyond what the scenario can run.
    Paths(String),
    /// A risk that cannot be measured.
    Measure(String),
}

/// The values of `range` and the capital-efficient direction of `parameter` (`prefer`, or the
/// one known for the key), checked before the scenario is read.
///
/// # Errors
/// [`CalibrateError::Range`] or [`CalibrateError::Prefer`].
pub fn question(
    parameter: &str,
    range: &str,
    prefer: Option<Prefer>,
) -> Result<(Vec<String>, Prefer), CalibrateError> {
    let values = range_values(range, MAX_RANGE_VALUES).map_err(CalibrateError::Range)?;
    let prefer = prefer
        .or_else(|| Prefer::for_key(parameter))
        .ok_or_else(|| CalibrateError::Prefer(parameter.to_string()))?;
    Ok((values, prefer))
}

/// One value of the range, built and validated.
struct Candidate {
    value: String,
    made: Edited,
}

/// Every value's scenario, built and validated, ready to run.
pub struct Candidates<'a> {
    ctx: &'a CalibrateContext<'a>,
    candidates: Vec<Candidate>,
}

/// A calibration that ran: what calibration.json and frontier.csv are written from.
pub struct CalibrationRun<'a> {
    ctx: &'a CalibrateContext<'a>,
    /// The frontier, ascending by value.
    pub frontier: Vec<FrontierPoint>,
    /// The chosen point, if any value is in budget.
    pub chosen: Option<usize>,
}

impl<'a> Candidates<'a> {
    /// Builds and validates every value's scenario, in range order (the first draws the books,
    /// the others reuse the ones they leave as they are), then checks that every value reports
    /// the same figures, that the budget's metric is one of them, and that the paths exist.
    ///
    /// # Errors
    /// [`CalibrateError`]: the first problem found.
    pub fn build(ctx: &'a CalibrateContext<'a>) -> Result<Self, CalibrateError> {
        let text =
            ScenarioText::parse(ctx.text).map_err(|e| CalibrateError::Syntax(e.to_string()))?;
        let books = BookCache::new();
        let build = |value: &String| -> Result<Candidate, CalibrateError> {
            let made = edited(
                ctx.name,
                ctx.base_dir,
                &text,
                &[(ctx.parameter, value)],
                &books,
            )
            .map_err(|e| match e {
                EditFailure::Set { key, value, reason } => {
                    CalibrateError::Set { key, value, reason }
                }
                EditFailure::Invalid(error) => CalibrateError::Invalid {
                    value: value.clone(),
                    error,
                },
            })?;
            Ok(Candidate {
                value: value.clone(),
                made,
            })
        };
        let first = ctx.values.first().map(build).transpose()?;
        let rest: Vec<Candidate> = ctx
            .values
            .get(1..)
            .unwrap_or_default()
            .par_iter()
            .map(build)
            .collect::<Result<_, _>>()?;
        let built = Self {
            ctx,
            candidates: first.into_iter().chain(rest).collect(),
        };
        built.check()?;
        Ok(built)
    }

    /// Every value reports the same figures, the budget's metric is one of them, and the
    /// paths exist.
    fn check(&self) -> Result<(), CalibrateError> {
        let ctx = self.ctx;
        let Some(first) = self.candidates.first() else {
            return Ok(());
        };
        let names = first.made.runner.metrics().names();
        let missing = ctx
            .budget
            .metric()
            .filter(|m| !names.iter().any(|n| n == m));
        if let Some(metric) = missing {
            return Err(CalibrateError::Metric {
                expression: ctx.budget.expression.clone(),
                metric: metric.to_string(),
                names: names.to_vec(),
            });
        }
        for c in &self.candidates {
            if c.made.runner.metrics() != first.made.runner.metrics() {
                return Err(CalibrateError::Columns {
                    value: c.value.clone(),
                    first: first.value.clone(),
                });
            }
            let world = c.made.runner.world();
            if let Some(limit) = world.path_limit().filter(|l| ctx.paths > l.paths) {
                return Err(CalibrateError::PathLimit {
                    file: limit.file.clone(),
                    paths: limit.paths,
                });
            }
        }
        Ok(())
    }

    /// How many paths run in all (what a progress bar counts).
    pub fn total_paths(&self) -> u64 {
        self.ctx.paths * self.candidates.len() as u64
    }

    /// Runs every value over paths 0 … N − 1, one value after another (each in parallel over
    /// its paths), calling `done` after each path, and chooses the value.
    ///
    /// # Errors
    /// [`CalibrateError::Paths`]: paths beyond what the scenario can run;
    /// [`CalibrateError::Measure`]: a risk that cannot be measured.
    pub fn run(self, done: &(dyn Fn() + Sync)) -> Result<CalibrationRun<'a>, CalibrateError> {
        let ctx = self.ctx;
        let frontier = self
            .candidates
            .iter()
            .map(|c| point(ctx, c, done))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CalibrationRun {
            ctx,
            chosen: choose(&frontier, ctx.prefer),
            frontier,
        })
    }
}

impl CalibrationRun<'_> {
    /// The document the writers take.
    pub fn document(&self) -> Calibration<'_> {
        let ctx = self.ctx;
        let sim = &ctx.world.simulation;
        Calibration {
            name: &sim.name,
            hash: ctx.hash,
            seed: sim.seed,
            horizon_seconds: sim.steps * sim.step_seconds,
            paths: ctx.paths,
            parameter: ctx.parameter,
            range: ctx.range,
            prefer: ctx.prefer,
            budget: ctx.budget,
            chosen: self.chosen,
            frontier: &self.frontier,
        }
    }
}

/// Runs one value over paths 0 … N − 1 and measures its risk.
fn point(
    ctx: &CalibrateContext<'_>,
    c: &Candidate,
    done: &(dyn Fn() + Sync),
) -> Result<FrontierPoint, CalibrateError> {
    let paths = ctx.paths;
    let runner = &c.made.runner;
    let rows = runner
        .run(0..paths, done)
        .map_err(|e| CalibrateError::Paths(e.to_string()))?;
    let world = runner.world();
    let header = MonteCarloHeader {
        paths,
        paths_from: 0,
        seed: world.simulation.seed,
        horizon_seconds: world.simulation.steps * world.simulation.step_seconds,
        scenario: ScenarioId {
            name: world.simulation.name.clone(),
            hash: c.made.hash.clone(),
        },
    };
    let mc = MonteCarloSummary::of(header, runner.metrics().names(), &rows);
    FrontierPoint::new(c.value.clone(), ctx.budget, &mc, world).map_err(CalibrateError::Measure)
}
