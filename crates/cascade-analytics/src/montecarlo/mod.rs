//! Risk as a distribution: many paths of one world, their figures, and the estimators of the
//! loss distribution (docs/model.md, "Risk over many paths"; docs/outputs.md, montecarlo.json).
//!
//! A Monte Carlo draws the book and everything else of the scenario once (the world); path k
//! draws the scenario's stochastic drivers from the world's seed and k alone ([`Runner`]), so a
//! path's figures ([`PathFigures`]) are the same in any batch, on any number of threads and in
//! any shard. [`MonteCarloSummary::of`] reduces the figures of paths, in path order, to
//! montecarlo.json; shards merged and reduced give the same file as one run of all paths.

pub mod estimate;
mod merge;
mod metrics;
mod runner;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use estimate::{Distribution, LEVELS};
pub use merge::{MergeError, Shard, merge};
pub use metrics::{DEATH_SPIRAL_AMPLIFICATION, Metrics, PathFigures};
pub use runner::{BeyondPaths, Runner};

/// How many of the worst paths montecarlo.json lists.
pub const WORST_PATHS: usize = 10;

/// What a set of paths is of: the scenario, its seed and horizon, and the range of paths.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonteCarloHeader {
    /// Paths run.
    pub paths: u64,
    /// The first path's number.
    pub paths_from: u64,
    /// The scenario's master seed.
    pub seed: u64,
    /// Simulated time of each path, seconds (steps × step length).
    pub horizon_seconds: u64,
    /// Which scenario.
    pub scenario: ScenarioId,
}

/// A scenario's name and hash (SHA-256 of the file and its data files).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioId {
    /// Name.
    pub name: String,
    /// Hash.
    pub hash: String,
}

/// montecarlo.json.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MonteCarloSummary {
    /// The paths' identity.
    #[serde(flatten)]
    pub header: MonteCarloHeader,
    /// The distribution of each figure over the paths, by name.
    pub metrics: BTreeMap<String, Distribution>,
    /// Probabilities of events over the paths.
    pub probabilities: Probabilities,
    /// Their standard errors, √(p (1 − p) / n).
    pub probabilities_se: Probabilities,
    /// How the events are defined.
    pub definitions: Definitions,
    /// The paths with the largest bad debt (then the largest liquidated debt, then the lowest
    /// number), worst first, with all their figures.
    pub worst_paths: Vec<WorstPath>,
    /// How well the leading indicator m(t) forecast the cascades (`cascade montecarlo
    /// --indicator LEVEL`); absent otherwise, and after `cascade merge`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indicator: Option<crate::indicator::Forecast>,
    /// The same paths under an adaptive policy on the indicator, against the static parameters
    /// (`--indicator LEVEL --throttle USD`); absent otherwise, and after `cascade merge`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<crate::indicator::PolicyComparison>,
}

/// `probabilities.*`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Probabilities {
    /// A path ends with bad debt (realised plus unrealised) above zero.
    pub bad_debt: f64,
    /// A path is a death spiral.
    pub death_spiral: f64,
}

/// `definitions.*`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Definitions {
    /// A path is a death spiral when some asset's amplification reaches this.
    pub death_spiral_amplification: f64,
    /// `var`: the order statistic ⌈n·q⌉.
    pub var: &'static str,
    /// `es`: the expected shortfall of the paths' empirical distribution.
    pub es: &'static str,
    /// `var_se`: from the order-statistic interval.
    pub var_se: &'static str,
}

/// One of the worst paths.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorstPath {
    /// Its number: `cascade run SCENARIO --path K` replays it.
    pub path: u64,
    /// Whether it was a death spiral.
    pub death_spiral: bool,
    /// Its figures.
    #[serde(flatten)]
    pub figures: BTreeMap<String, f64>,
}

impl MonteCarloSummary {
    /// The summary of `rows` (the figures of `header`'s paths, in path order, named by `names`).
    pub fn of(header: MonteCarloHeader, names: &[String], rows: &[PathFigures]) -> Self {
        let metrics = names
            .iter()
            .enumerate()
            .filter_map(|(i, name)| {
                let values: Vec<f64> = rows.iter().filter_map(|r| r.values[i]).collect();
                Distribution::of(&values).map(|d| (name.clone(), d))
            })
            .collect();
        let n = rows.len().max(1) as f64;
        let share =
            |f: &dyn Fn(&PathFigures) -> bool| rows.iter().filter(|r| f(r)).count() as f64 / n;
        let bad_debt = names.iter().position(|n| n == "bad_debt_usd");
        let value = |r: &PathFigures, i: Option<usize>| i.and_then(|i| r.values[i]).unwrap_or(0.0);
        let probabilities = Probabilities {
            bad_debt: share(&|r| value(r, bad_debt) > 0.0),
            death_spiral: share(&|r| r.death_spiral),
        };
        let se = |p: f64| (p * (1.0 - p) / n).sqrt();
        let probabilities_se = Probabilities {
            bad_debt: se(probabilities.bad_debt),
            death_spiral: se(probabilities.death_spiral),
        };
        let liquidated = names.iter().position(|n| n == "liquidated_debt_usd");
        let mut order: Vec<&PathFigures> = rows.iter().collect();
        order.sort_by(|a, b| {
            value(b, bad_debt)
                .total_cmp(&value(a, bad_debt))
                .then(value(b, liquidated).total_cmp(&value(a, liquidated)))
                .then(a.path.cmp(&b.path))
        });
        let worst_paths = order
            .into_iter()
            .take(WORST_PATHS)
            .map(|r| WorstPath {
                path: r.path,
                death_spiral: r.death_spiral,
                figures: names
                    .iter()
                    .zip(&r.values)
                    .filter_map(|(n, v)| v.map(|v| (n.clone(), v)))
                    .collect(),
            })
            .collect();
        Self {
            header,
            metrics,
            probabilities,
            probabilities_se,
            definitions: Definitions {
                death_spiral_amplification: DEATH_SPIRAL_AMPLIFICATION,
                var: "order statistic ceil(n q) of the paths' figures (upper tail: losses)",
                es: "VaR + sum(max(0, x - VaR)) / (n (1 - q)): the expected shortfall of the paths' empirical distribution",
                var_se: "(x_(u) - x_(l)) / (2 * 1.96), l, u = n q -/+ 1.96 sqrt(n q (1 - q)): the distribution-free 95% interval of order statistics",
            },
            worst_paths,
            indicator: None,
            adaptive: None,
        }
    }
}
