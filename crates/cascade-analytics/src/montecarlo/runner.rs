//! Runs a range of paths of one world on the current rayon pool, one engine per worker reused
//! from path to path (`Engine::reset`), a summary fold per path, the figures collected in path
//! order: the figures of path k depend on the world and k alone, whatever the number of threads
//! or the range the path was run in.

use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};

use cascade_engine::{Engine, World};
use rayon::prelude::*;

use super::metrics::{Metrics, PathFigures};
use crate::summary::{FeedbackGains, RunInfo, SummaryFold};

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
    pub fn run(&self, paths: Range<u64>, done: &(dyn Fn() + Sync)) -> Vec<PathFigures> {
        // At most one engine per worker: a job takes one from the shelf (or makes the first)
        // and puts it back, so the book is copied once per worker, not once per path.
        let shelf: Mutex<Vec<Engine>> = Mutex::new(Vec::new());
        let take = || shelf.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let put = |e| shelf.lock().unwrap_or_else(PoisonError::into_inner).push(e);
        paths
            .into_par_iter()
            .map(|path| {
                let mut engine = match take() {
                    Some(mut e) => {
                        e.reset(path);
                        e
                    }
                    None => Engine::on_path(Arc::clone(&self.world), path),
                };
                let figures = self.path(&mut engine, path);
                put(engine);
                done();
                figures
            })
            .collect()
    }

    /// Runs `engine`, at time 0 of `path`, to the end.
    fn path(&self, engine: &mut Engine, path: u64) -> PathFigures {
        let mut fold = SummaryFold::new(&*self.world, self.info.clone());
        engine.run(&mut fold);
        self.metrics.figures(&self.world, path, &fold.finish())
    }
}
