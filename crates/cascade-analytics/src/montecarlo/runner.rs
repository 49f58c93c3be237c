//! Runs a range of paths of one world on the current rayon pool, one engine per worker reused
//! from path to path (`Engine::reset`), a summary fold per path, the figures collected in path
//! order: the figures of path k depend on the world and k alone, whatever the number of threads
//! or the range the path was run in.
//!
//! The engines liquidate in batches where the rules allow it (`Engine::batch_liquidations`): a
//! Monte Carlo reads each path's totals, never its per-account trail, and a path that breaks into
//! a wall of loans then costs about what a calm one does. Its figures equal `cascade run --path
//! K`'s, which liquidates account by account, up to the order of additions.

use std::cell::Cell;
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};

use cascade_engine::{Engine, Event, EventSink, PathLimit, World};
use rayon::prelude::*;

use super::metrics::{Metrics, PathFigures};
use crate::indicator::{GainNow, PathSignal, Throttle};
use crate::summary::{FeedbackGains, RunInfo, SummaryFold};
use crate::view::LiquidationView;

/// What a Monte Carlo runs: the world, its metrics and the summary's details.
pub struct Runner {
    world: Arc<World>,
    metrics: Metrics,
    info: RunInfo,
}

impl Runner {
    /// A runner of `world`'s paths. The feedback gains, which depend on the initial world only,
    /// are not recomputed per path.
    pub fn new(world: Arc<World>, info: RunInfo) -> Self {
        let metrics = Metrics::of(&world);
        let info = RunInfo {
            feedback_gains: FeedbackGains::Skipped,
            ..info
        };
        Self {
            world,
            metrics,
            info,
        }
    }

    /// The metrics every path reports.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The world.
    pub fn world(&self) -> &Arc<World> {
        &self.world
    }

    /// Runs `paths` in parallel on the current rayon pool, calling `done` after each path;
    /// returns their figures in path order.
    ///
    /// # Errors
    /// Paths the world does not have (an asset reads its paths from an ensemble with fewer),
    /// before any runs.
    pub fn run(
        &self,
        paths: Range<u64>,
        done: &(dyn Fn() + Sync),
    ) -> Result<Vec<PathFigures>, BeyondPaths> {
        self.run_each(paths, done, |engine, path| self.path(engine, path))
    }

    /// [`Runner::run`], also measuring on each path how the leading indicator m(t) behaved
    /// before the path's first liquidation, for an alarm at m ≥ `level`
    /// ([`crate::indicator::Forecast`] reads the signals). The figures are `run`'s.
    ///
    /// # Errors
    /// As [`Runner::run`].
    pub fn run_with_indicator(
        &self,
        paths: Range<u64>,
        level: f64,
        done: &(dyn Fn() + Sync),
    ) -> Result<Vec<(PathFigures, PathSignal)>, BeyondPaths> {
        self.run_each(paths, done, |engine, path| {
            self.watched_path(engine, path, level)
        })
    }

    /// [`Runner::run`] under an adaptive policy: after every step, while some asset's m(t) is at
    /// or above the policy's level, every lending protocol's liquidations of the next step are
    /// throttled ([`Throttle`]). The same paths as `run`'s, so the two compare path by path.
    ///
    /// # Errors
    /// As [`Runner::run`].
    pub fn run_adaptive(
        &self,
        paths: Range<u64>,
        policy: Throttle,
        done: &(dyn Fn() + Sync),
    ) -> Result<Vec<PathFigures>, BeyondPaths> {
        self.run_each(paths, done, |engine, path| {
            let mut fold = SummaryFold::new(&*self.world, self.info.clone());
            let mut gain = GainNow::new(&self.world);
            engine.run_watched(&mut fold, &mut |_, state, controls| {
                controls.throttle_usd_per_step =
                    (gain.largest(state) >= policy.level).then_some(policy.throttle_usd_per_step);
            });
            self.metrics.figures(&self.world, path, &fold.finish())
        })
    }

    /// Runs `paths` in parallel, one engine per worker, `each` running one path on an engine
    /// reset to it; the results in path order.
    fn run_each<T: Send>(
        &self,
        paths: Range<u64>,
        done: &(dyn Fn() + Sync),
        each: impl Fn(&mut Engine, u64) -> T + Sync,
    ) -> Result<Vec<T>, BeyondPaths> {
        if let Some(limit) = self.world.path_limit().filter(|l| paths.end > l.paths) {
            return Err(BeyondPaths {
                limit,
                end: paths.end,
            });
        }
        // At most one engine per worker: a job takes one from the shelf (or makes the first)
        // and puts it back, so the book is copied once per worker, not once per path.
        let shelf: Mutex<Vec<Engine>> = Mutex::new(Vec::new());
        let take = || shelf.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let put = |e| shelf.lock().unwrap_or_else(PoisonError::into_inner).push(e);
        let results = paths
            .into_par_iter()
            .map(|path| {
                let mut engine = match take() {
                    Some(mut e) => {
                        e.reset(path);
                        e
                    }
                    None => {
                        let mut e = Engine::on_path(Arc::clone(&self.world), path);
                        e.batch_liquidations(true);
                        e
                    }
                };
                let result = each(&mut engine, path);
                put(engine);
                done();
                result
            })
            .collect();
        Ok(results)
    }

    /// Runs `engine`, at time 0 of `path`, to the end.
    fn path(&self, engine: &mut Engine, path: u64) -> PathFigures {
        let mut fold = SummaryFold::new(&*self.world, self.info.clone());
        engine.run_into(&mut fold);
        self.metrics.figures(&self.world, path, &fold.finish())
    }

    /// [`Runner::path`], with m(t) measured after every step until the first liquidation.
    fn watched_path(
        &self,
        engine: &mut Engine,
        path: u64,
        level: f64,
    ) -> (PathFigures, PathSignal) {
        let first_liquidation = Cell::new(None);
        let mut sink = Onset {
            fold: SummaryFold::new(&*self.world, self.info.clone()),
            first_liquidation: &first_liquidation,
        };
        let mut gain = GainNow::new(&self.world);
        let mut score: f64 = 0.0;
        let mut first_alarm = None;
        let mut onset = None;
        engine.run_watched(&mut sink, &mut |step, state, _| {
            if onset.is_some() {
                return;
            }
            // A step with the path's first liquidation is its onset: m after it does not count.
            if let Some(first) = first_liquidation.get() {
                onset = Some(first);
                return;
            }
            let m = gain.largest(state);
            score = score.max(m);
            if m >= level && first_alarm.is_none() {
                first_alarm = Some(step);
            }
        });
        let figures = self.metrics.figures(&self.world, path, &sink.fold.finish());
        let bad_debt = self
            .metrics
            .position("bad_debt_usd")
            .and_then(|i| figures.values[i])
            .unwrap_or(0.0);
        let cascade = bad_debt > 0.0 || figures.death_spiral;
        let signal = PathSignal {
            cascade,
            score,
            lead_steps: match (first_alarm, onset) {
                (Some(alarm), Some(onset)) if cascade => Some(onset - alarm),
                _ => None,
            },
        };
        (figures, signal)
    }
}

/// Paths asked for beyond the ones a world has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BeyondPaths {
    /// What bounds the world's paths.
    pub limit: PathLimit,
    /// The end of the range asked for (one past its last path).
    pub end: u64,
}

impl std::fmt::Display for BeyondPaths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "paths up to {} asked for, but the ensemble {:?} has {} paths (0 to {})",
            self.end - 1,
            self.limit.file,
            self.limit.paths,
            self.limit.paths.saturating_sub(1)
        )
    }
}

impl std::error::Error for BeyondPaths {}

/// A path's summary fold that also notes the step of its first liquidation.
struct Onset<'w> {
    fold: SummaryFold<&'w World>,
    first_liquidation: &'w Cell<Option<u64>>,
}

impl EventSink for Onset<'_> {
    fn record(&mut self, event: &Event) {
        if self.first_liquidation.get().is_none() && LiquidationView::of(event).is_some() {
            self.first_liquidation.set(Some(event.step));
        }
        self.fold.event(event);
    }
}
