//! The leading indicator m(t): the feedback gain of each asset as the run goes, from the book as
//! it stands and each venue's current depth (`cascade run --indicator`, timeline.csv
//! `m_<ASSET>`; over a Monte Carlo, `cascade montecarlo --indicator LEVEL`).
//!
//! At the end of a step, m of an asset is the definition of `cascade.feedback_gain` applied to
//! the state of that moment instead of the start: the units that the liquidations a further 1%
//! fall would trigger hand the keepers who sell on the asset's primary venue (each account's own
//! rule called just below its trigger, each perp long closed whole), over the units that push
//! that venue's best bid down 1% as it stands (its consumed depth, its makers' depth fraction).
//! At step 0 it is `cascade.feedback_gain`. The accounts in the 1% window are found through each
//! protocol's liquidation index — those liquidatable at the price 1% lower and not now — so a
//! step costs O(log N + the window), not a pass over the book; perp positions are scanned.
//!
//! A rising m says the book has come close to a wall the venue cannot absorb: m ≥ 1 means the
//! next 1% fall forces more than 1% of selling pressure. Whether it predicts the cascades of a
//! Monte Carlo is measured by [`Forecast`].

use cascade_engine::{State, World};
use cascade_model::ids::{AccountId, AssetId, ProtocolId};

use crate::feedback::{WINDOW, trigger};

/// Computes m(t) of a world's assets from its states, reusing a buffer of candidates.
pub struct GainNow<'w> {
    world: &'w World,
    candidates: Vec<AccountId>,
}

impl<'w> GainNow<'w> {
    /// For states of `world`.
    pub fn new(world: &'w World) -> Self {
        Self {
            world,
            candidates: Vec::new(),
        }
    }

    /// m of every asset in `state`, in world order (`None` for an asset without a venue).
    pub fn of_each(&mut self, state: &State) -> Vec<Option<f64>> {
        (0..self.world.assets.len())
            .map(|a| self.of(state, AssetId(a as u32)))
            .collect()
    }

    /// The largest m of any asset in `state` (0 when none has a venue): what an alarm on the
    /// indicator compares with its level.
    pub fn largest(&mut self, state: &State) -> f64 {
        self.of_each(state)
            .into_iter()
            .flatten()
            .fold(0.0, f64::max)
    }

    /// m of `asset` in `state`, or `None` when the asset has no venue.
    pub fn of(&mut self, state: &State, asset: AssetId) -> Option<f64> {
        let world = self.world;
        let venue = world.assets[asset.index()].primary_venue?;
        let fundamental = state.fundamentals[asset.index()].price();
        let depth = state.venues[venue.index()].depth_for_fall(fundamental, WINDOW);
        let mut sold = 0.0;
        for (p, info) in world.protocols.iter().enumerate() {
            let sells_here = info.keepers.first().is_some_and(|k| {
                world.keepers[k.index()].spec.sell_on[asset.index()] == Some(venue)
            });
            if sells_here && info.params.collateral[asset.index()].is_some() {
                sold += self.lending_sold(state, ProtocolId(p as u32), asset);
            }
        }
        sold += perp_sold(world, state, asset, venue);
        Some(if depth.is_finite() && depth > 0.0 {
            sold / depth
        } else {
            0.0
        })
    }

    /// What the calls a further 1% fall of `asset` triggers in protocol `p` hand the keeper.
    fn lending_sold(&mut self, state: &State, p: ProtocolId, asset: AssetId) -> f64 {
        let world = self.world;
        let info = &world.protocols[p.index()];
        if info.params.collateral[asset.index()].is_none() {
            return 0.0;
        }
        let book = &state.protocols[p.index()];
        let price = |a: AssetId| world.protocol_price(state, p, a);
        let now = price(asset);
        let low = now * (1.0 - WINDOW);
        let lowered = |a: AssetId| if a == asset { low } else { price(a) };
        self.candidates.clear();
        book.index.candidates(&lowered, &mut self.candidates);
        let mut sold = 0.0;
        for &id in &self.candidates {
            let account = &book.accounts[id.index()];
            let Some((_, trigger)) = trigger(account, &info.params, asset, &price) else {
                continue;
            };
            if !(trigger < now && trigger >= low) {
                continue;
            }
            let at_trigger = trigger * (1.0 - 1e-9);
            let moved = |a: AssetId| if a == asset { at_trigger } else { price(a) };
            let health = account.health_factor(&info.params, &moved);
            if let Some(seizure) = info.params.liquidation.keeper_call(
                &info.params,
                account,
                health,
                asset,
                &moved,
                f64::INFINITY,
                0.0,
            ) {
                sold += seizure.to_liquidator;
            }
        }
        sold
    }
}

/// Units of perp longs on `asset` whose liquidation price lies within 1% below their market's
/// mark, closed on `venue`.
fn perp_sold(
    world: &World,
    state: &State,
    asset: AssetId,
    venue: cascade_model::ids::VenueId,
) -> f64 {
    let mut sold = 0.0;
    for (info, book) in world.perps.iter().zip(&state.perps) {
        for account in &book.accounts {
            for (i, p) in account.positions.iter().enumerate() {
                let market = &info.markets[p.market.index()];
                if market.asset != asset || market.venue != venue || p.size <= 0.0 {
                    continue;
                }
                let mark = book.marks[p.market.index()];
                let trigger = account.liquidation_price(i, &info.rules, &book.marks);
                let distance = (mark - trigger) / mark;
                if distance > 0.0 && distance <= WINDOW {
                    sold += p.size;
                }
            }
        }
    }
    sold
}

/// How well m(t) crossing a level forecasts a cascade over the paths of a Monte Carlo.
///
/// A path is a **cascade** when it ends with bad debt or is a death spiral (montecarlo.json's
/// events); its **onset** is the first step with a liquidation. A path's **score** is the largest
/// m(t) of any asset at the end of a step before its onset (over the whole path when it has no
/// liquidation), and an **alarm** is a score at or above the level. Then: the hit rate is the
/// share of cascades with an alarm, the false-alarm rate the share of the other paths with one,
/// the lead time of a hit the steps from its first alarm to its onset, and the AUC the
/// probability that a cascade's score exceeds a calm path's (ties count half: the Mann–Whitney
/// statistic over n₁·n₀).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Forecast {
    /// The level.
    pub level: f64,
    /// Paths that were cascades.
    pub cascades: u64,
    /// Paths that were not.
    pub calm: u64,
    /// Share of cascades with an alarm before their onset.
    pub hit_rate: Option<f64>,
    /// Share of calm paths with an alarm.
    pub false_alarm_rate: Option<f64>,
    /// Mean steps from the first alarm to the onset, over the hits.
    pub mean_lead_steps: Option<f64>,
    /// Median of the same.
    pub median_lead_steps: Option<f64>,
    /// P(score of a cascade > score of a calm path), ties half.
    pub auc: Option<f64>,
}

/// What one path gave the forecast.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PathSignal {
    /// Whether the path was a cascade.
    pub cascade: bool,
    /// Its score: the largest m(t) before its onset.
    pub score: f64,
    /// Steps from its first alarm to its onset, when it had both.
    pub lead_steps: Option<u64>,
}

impl Forecast {
    /// The forecast of `level` over `paths`.
    pub fn of(level: f64, paths: &[PathSignal]) -> Self {
        let (cascades, calm): (Vec<&PathSignal>, Vec<&PathSignal>) =
            paths.iter().partition(|p| p.cascade);
        let share = |group: &[&PathSignal]| {
            (!group.is_empty()).then(|| {
                group.iter().filter(|p| p.score >= level).count() as f64 / group.len() as f64
            })
        };
        let mut leads: Vec<f64> = cascades
            .iter()
            .filter_map(|p| p.lead_steps.map(|l| l as f64))
            .collect();
        leads.sort_by(f64::total_cmp);
        let mean_lead = (!leads.is_empty()).then(|| leads.iter().sum::<f64>() / leads.len() as f64);
        let median_lead = (!leads.is_empty()).then(|| {
            let n = leads.len();
            if n % 2 == 1 {
                leads[n / 2]
            } else {
                (leads[n / 2 - 1] + leads[n / 2]) / 2.0
            }
        });
        Self {
            level,
            cascades: cascades.len() as u64,
            calm: calm.len() as u64,
            hit_rate: share(&cascades),
            false_alarm_rate: share(&calm),
            mean_lead_steps: mean_lead,
            median_lead_steps: median_lead,
            auc: auc(&cascades, &calm),
        }
    }
}

/// The Mann–Whitney estimate of P(X > Y) + ½ P(X = Y), X a cascade's score and Y a calm path's,
/// by ranks: O(n log n).
fn auc(cascades: &[&PathSignal], calm: &[&PathSignal]) -> Option<f64> {
    if cascades.is_empty() || calm.is_empty() {
        return None;
    }
    let mut all: Vec<(f64, bool)> = cascades
        .iter()
        .map(|p| (p.score, true))
        .chain(calm.iter().map(|p| (p.score, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Sum of the cascades' mid-ranks.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        let mid = (i + j + 1) as f64 / 2.0;
        rank_sum += mid * all[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let (n1, n0) = (cascades.len() as f64, calm.len() as f64);
    Some((rank_sum - n1 * (n1 + 1.0) / 2.0) / (n1 * n0))
}

/// An adaptive policy on the leading indicator: at the end of each step, while some asset's m(t)
/// is at or above `level`, every lending protocol liquidates at most `throttle_usd_per_step` of
/// debt in the next step (a circuit breaker: the accounts beyond it wait); below the level, the
/// protocols' own limits.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Throttle {
    /// The level of m(t) that turns the throttle on.
    pub level: f64,
    /// Debt (USD) a protocol may liquidate per step while it is on.
    pub throttle_usd_per_step: f64,
}

/// One figure under the static parameters and under a policy, over the same paths.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Compared {
    /// Mean over the paths, static parameters.
    pub static_mean: f64,
    /// Mean over the paths, with the policy.
    pub adaptive_mean: f64,
    /// Mean of the per-path differences, policy less static.
    pub difference_mean: f64,
    /// Its standard error: the standard deviation of the differences over √n (the same paths,
    /// so the paths' own spread cancels).
    pub difference_se: f64,
    /// VaR 99% (order statistic ⌈0.99·n⌉), static.
    pub static_var99: f64,
    /// VaR 99%, with the policy.
    pub adaptive_var99: f64,
}

/// A policy against the static parameters (montecarlo.json `adaptive`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PolicyComparison {
    /// The policy.
    pub policy: Throttle,
    /// Paths compared.
    pub paths: u64,
    /// Every figure of paths.csv, and `death_spiral` (1 on a death spiral, 0 otherwise), by name.
    pub figures: std::collections::BTreeMap<String, Compared>,
}

impl PolicyComparison {
    /// The comparison of the same paths' figures (`names` in order), static and adaptive.
    pub fn of(
        policy: Throttle,
        names: &[String],
        fixed: &[crate::montecarlo::PathFigures],
        adaptive: &[crate::montecarlo::PathFigures],
    ) -> Self {
        let mut figures = std::collections::BTreeMap::new();
        let spiral = |r: &crate::montecarlo::PathFigures| Some(f64::from(u8::from(r.death_spiral)));
        let columns = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), Some(i)))
            .chain(std::iter::once(("death_spiral".to_string(), None)));
        for (name, column) in columns {
            let value = |r: &crate::montecarlo::PathFigures| match column {
                Some(i) => r.values[i],
                None => spiral(r),
            };
            let pairs: Vec<(f64, f64)> = fixed
                .iter()
                .zip(adaptive)
                .filter_map(|(a, b)| Some((value(a)?, value(b)?)))
                .collect();
            if let Some(c) = compared(&pairs) {
                figures.insert(name, c);
            }
        }
        Self {
            policy,
            paths: fixed.len() as u64,
            figures,
        }
    }
}

/// The comparison of (static, adaptive) pairs; `None` without pairs.
fn compared(pairs: &[(f64, f64)]) -> Option<Compared> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f64;
    let mean = |f: &dyn Fn(&(f64, f64)) -> f64| pairs.iter().map(f).sum::<f64>() / n;
    let difference = mean(&|p| p.1 - p.0);
    let spread = if pairs.len() > 1 {
        (pairs
            .iter()
            .map(|p| (p.1 - p.0 - difference).powi(2))
            .sum::<f64>()
            / (n - 1.0))
            .sqrt()
    } else {
        0.0
    };
    let var99 = |f: &dyn Fn(&(f64, f64)) -> f64| {
        let mut v: Vec<f64> = pairs.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        crate::montecarlo::estimate::tail(&v, 0.99).var
    };
    Some(Compared {
        static_mean: mean(&|p| p.0),
        adaptive_mean: mean(&|p| p.1),
        difference_mean: difference,
        difference_se: spread / n.sqrt(),
        static_var99: var99(&|p| p.0),
        adaptive_var99: var99(&|p| p.1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(cascade: bool, score: f64, lead: Option<u64>) -> PathSignal {
        PathSignal {
            cascade,
            score,
            lead_steps: lead,
        }
    }

    #[test]
    fn the_forecast_counts_hits_false_alarms_leads_and_ranks() {
        let paths = [
            signal(true, 2.0, Some(10)),
            signal(true, 1.5, Some(4)),
            signal(true, 0.2, None),
            signal(false, 0.1, None),
            signal(false, 1.2, None),
            signal(false, 0.2, None),
        ];
        let f = Forecast::of(1.0, &paths);
        assert_eq!((f.cascades, f.calm), (3, 3));
        assert_eq!(f.hit_rate, Some(2.0 / 3.0));
        assert_eq!(f.false_alarm_rate, Some(1.0 / 3.0));
        assert_eq!(f.mean_lead_steps, Some(7.0));
        assert_eq!(f.median_lead_steps, Some(7.0));
        // Pairs (cascade, calm): 2.0 beats all three, 1.5 all three, 0.2 beats 0.1, ties 0.2 and
        // loses to 1.2: (3 + 3 + 1.5) / 9.
        assert!((f.auc.unwrap() - 7.5 / 9.0).abs() < 1e-12, "{:?}", f.auc);
        let none = Forecast::of(1.0, &paths[3..]);
        assert_eq!(none.hit_rate, None);
        assert_eq!(none.auc, None);
    }
}
