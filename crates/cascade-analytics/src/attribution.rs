//! Contagion attribution: when several lending protocols and perp exchanges sell into the same
//! venues (and read oracles on them), how much of each asset's fall, of the total bad debt and
//! of each protocol's bad debt each one's forced trades caused (`cascade run --attribution`,
//! docs/outputs.md "attribution").
//!
//! The method is the exact Shapley value over counterfactual runs of the same path. A source is
//! a lending protocol (the sales of what keepers seize from it, its backstop vault's unwind) or
//! a perp exchange (its close-outs). For every set S of sources the path is run with the forced
//! trades of the sources outside S muted: they fill at the venue's current price and leave it
//! as it was, as into infinite depth (`Engine::mute_impact`); everything else — the prices'
//! drivers, the book, who is liquidated and when — follows from the run. A figure v (an asset's
//! total drop, the bad debt) is then known for every S, and source i's share is
//!
//! ```text
//! φᵢ = Σ_{S ∌ i} |S|! (n − |S| − 1)! / n! · (v(S ∪ {i}) − v(S))
//! ```
//!
//! the average, over every order in which the sources could be switched on, of what switching
//! i on added. The shares add up exactly to v(all) − v(none): what forced selling added to the
//! figure; v(none), the figure with every forced trade muted, is reported beside them
//! (`without_forced_trades`), so the parts add up to the run's own figure. A source can have a
//! negative share (its trades, by ending a cascade early or lifting a price, lowered the
//! figure). It takes 2ⁿ runs, so at most [`MAX_SOURCES`] sources.

use std::collections::BTreeMap;
use std::sync::Arc;

use cascade_engine::{Engine, MutedImpact, World};
use rayon::prelude::*;
use serde::Serialize;

use crate::summary::{FeedbackGains, RunInfo, Summary, SummaryFold};

/// The most sources an attribution runs: 2⁸ = 256 runs of the path.
pub const MAX_SOURCES: usize = 8;

/// The method, as summary.json states it.
pub const METHOD: &str = "exact Shapley values over the 2^n runs of the path in which each set \
                          of sources' forced trades move the venues and the others' fill at the \
                          venue's price without moving it";

/// A figure split between the sources whose forced trades caused it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Shares {
    /// The figure in the run itself (every source's trades moving the venues).
    pub total: f64,
    /// The figure with every source's forced trades muted.
    pub without_forced_trades: f64,
    /// Each source's Shapley share of `total − without_forced_trades`.
    pub by_source: BTreeMap<String, f64>,
}

/// The attribution of a run (summary.json `attribution`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Attribution {
    /// How the shares are computed.
    pub method: &'static str,
    /// The sources: lending protocols, then perp exchanges, in scenario order.
    pub sources: Vec<String>,
    /// Runs of the path made (2ⁿ).
    pub runs: u64,
    /// Each asset's total drop (largest drawdown of its primary venue), a fraction.
    pub total_drop: BTreeMap<String, Shares>,
    /// The total bad debt, USD.
    pub bad_debt_usd: Shares,
    /// Each protocol's and exchange's bad debt, USD: who caused whose losses.
    pub protocols: BTreeMap<String, Shares>,
}

/// More sources than an attribution runs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{sources} lending protocols and perp exchanges: an attribution runs the path 2^n times, \
     for at most {MAX_SOURCES} of them"
)]
pub struct TooManySources {
    /// How many the world has.
    pub sources: usize,
}

/// What one counterfactual run gave.
struct Outcome {
    drops: Vec<f64>,
    bad_debt: f64,
    protocols: Vec<f64>,
}

/// The names of `world`'s sources of forced trades: lending protocols, then perp exchanges.
pub fn sources(world: &World) -> Vec<String> {
    world
        .protocols
        .iter()
        .map(|p| p.name.clone())
        .chain(world.perps.iter().map(|p| p.name.clone()))
        .collect()
}

/// Attributes path `path` of `world`, running its 2ⁿ counterfactuals on the current rayon pool.
///
/// # Errors
/// More than [`MAX_SOURCES`] sources.
pub fn attribute(
    world: &Arc<World>,
    info: &RunInfo,
    path: u64,
) -> Result<Attribution, TooManySources> {
    let names = sources(world);
    let n = names.len();
    if n > MAX_SOURCES {
        return Err(TooManySources { sources: n });
    }
    let lending = world.protocols.len();
    let outcomes: Vec<Outcome> = (0..1u32 << n)
        .into_par_iter()
        .map(|on| {
            let muted: Vec<bool> = (0..n).map(|i| on & (1 << i) == 0).collect();
            run(world, info, path, &muted, lending)
        })
        .collect();
    let shares = |value: &dyn Fn(&Outcome) -> f64| -> Shares {
        let v: Vec<f64> = outcomes.iter().map(value).collect();
        let phi = shapley(&v, n);
        Shares {
            total: v[v.len() - 1],
            without_forced_trades: v[0],
            by_source: names.iter().cloned().zip(phi).collect(),
        }
    };
    let symbols = world.assets.iter().map(|a| &a.symbol).enumerate();
    let total_drop = symbols
        .map(|(a, symbol)| (symbol.clone(), shares(&|o| o.drops[a])))
        .collect();
    let protocols = names
        .iter()
        .enumerate()
        .map(|(i, name)| (name.clone(), shares(&|o| o.protocols[i])))
        .collect();
    Ok(Attribution {
        method: METHOD,
        runs: 1 << n,
        total_drop,
        bad_debt_usd: shares(&|o| o.bad_debt),
        protocols,
        sources: names,
    })
}

/// Runs the path with the sources flagged in `muted` muted.
fn run(world: &Arc<World>, info: &RunInfo, path: u64, muted: &[bool], lending: usize) -> Outcome {
    let mut engine = Engine::on_path(Arc::clone(world), path);
    engine.mute_impact(MutedImpact {
        protocols: muted[..lending].to_vec(),
        perps: muted[lending..].to_vec(),
    });
    let info = RunInfo {
        feedback_gains: FeedbackGains::Skipped,
        ..info.clone()
    };
    let mut fold = SummaryFold::new(&**world, info);
    engine.run_into(&mut fold);
    outcome(world, &fold.finish())
}

fn outcome(world: &World, summary: &Summary) -> Outcome {
    let drops = world
        .assets
        .iter()
        .map(|a| summary.assets.get(&a.symbol).map_or(0.0, |s| s.total_drop))
        .collect();
    let protocols = sources(world)
        .iter()
        .map(|name| summary.protocols.get(name).map_or(0.0, |p| p.bad_debt_usd))
        .collect();
    Outcome {
        drops,
        bad_debt: summary.bad_debt_usd,
        protocols,
    }
}

/// The Shapley values of the n players of the game `v`, given on every coalition as a bit set
/// (`v[S]`, bit i for player i): φᵢ = Σ_{S ∌ i} |S|!(n − |S| − 1)!/n! · (v(S ∪ {i}) − v(S)).
pub fn shapley(v: &[f64], n: usize) -> Vec<f64> {
    assert_eq!(v.len(), 1 << n, "a value for every coalition");
    // weight[s] = s! (n − s − 1)! / n!, built without factorials: 1 / (n · C(n − 1, s)).
    let weight: Vec<f64> = (0..n)
        .map(|s| {
            let mut choose = 1.0;
            for k in 0..s {
                choose = choose * (n - 1 - k) as f64 / (k + 1) as f64;
            }
            1.0 / (n as f64 * choose)
        })
        .collect();
    (0..n)
        .map(|i| {
            let bit = 1usize << i;
            (0..v.len())
                .filter(|s| s & bit == 0)
                .map(|s| weight[s.count_ones() as usize] * (v[s | bit] - v[s]))
                .sum()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapley_values_of_known_games() {
        // Additive game: each player's share is its own value.
        let v: Vec<f64> = (0..8u32)
            .map(|s| {
                [1.0, 2.0, 4.0]
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| s & (1 << i) != 0)
                    .map(|(_, x)| x)
                    .sum()
            })
            .collect();
        assert_eq!(shapley(&v, 3), vec![1.0, 2.0, 4.0]);
        // Glove game: player 0 holds a left glove, players 1 and 2 right ones; a pair is worth
        // 1. Shapley: 2/3, 1/6, 1/6.
        let v: Vec<f64> = (0..8usize)
            .map(|s| f64::from(u8::from(s & 1 != 0 && s & 6 != 0)))
            .collect();
        let phi = shapley(&v, 3);
        for (got, want) in phi.iter().zip([2.0 / 3.0, 1.0 / 6.0, 1.0 / 6.0]) {
            assert!((got - want).abs() < 1e-12, "{phi:?}");
        }
        // Efficiency: the values add up to v(all) − v(none).
        let v: Vec<f64> = (0..16).map(|s| f64::from((s * s % 7) as u8)).collect();
        let sum: f64 = shapley(&v, 4).iter().sum();
        assert!((sum - (v[15] - v[0])).abs() < 1e-12);
    }
}
