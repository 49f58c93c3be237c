//! Path ensembles: a set of price paths made elsewhere (another model's scenarios, a regulator's
//! or a desk's stress set), one per Monte Carlo path.
//!
//! Path k of a run follows the ensemble's k-th path, read between its points like a replayed
//! series ([`Series::value_at`]); path 0, the scenario's own run, follows the first. An ensemble
//! draws nothing: the randomness is in the file. A path number beyond the ensemble is the
//! caller's mistake (`World::path_limit` in the engine says how many there are), never a silent
//! wrap to another path.

use super::{Interpolation, Series};
use crate::Seconds;

/// The paths of an ensemble on the run's clock, and how to read between their points.
#[derive(Clone, Debug, PartialEq)]
pub struct Ensemble {
    /// Each path's points, times relative to the run's start, in the file's order.
    paths: Vec<Series>,
    interpolation: Interpolation,
    /// Where the paths were read from, as the scenario names it (for messages).
    source: String,
}

impl Ensemble {
    /// An ensemble of `paths` (at least one; `None` without any) read from `source`.
    pub fn new(paths: Vec<Series>, interpolation: Interpolation, source: String) -> Option<Self> {
        (!paths.is_empty()).then_some(Self {
            paths,
            interpolation,
            source,
        })
    }

    /// How many paths the ensemble holds.
    pub fn count(&self) -> u64 {
        self.paths.len() as u64
    }

    /// The paths, in the file's order.
    pub fn paths(&self) -> &[Series] {
        &self.paths
    }

    /// Where the paths were read from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// How the paths are read between their points.
    pub fn interpolation(&self) -> Interpolation {
        self.interpolation
    }

    /// The price of path `member` at time `t`.
    pub fn price(&self, member: usize, t: Seconds) -> f64 {
        self.paths[member].value_at(t, self.interpolation)
    }
}
