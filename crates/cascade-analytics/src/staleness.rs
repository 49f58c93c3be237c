//! Oracle staleness of lending protocols (summary.json `protocols.<NAME>.oracle_staleness`), from
//! the `FeedStale` events a protocol that checks its oracles' age emits per step and stale asset,
//! and its `LiquidationsPaused` per round (docs/reference-math.md §9.4).
//!
//! State: per protocol, the last step counted as stale, paused and falling back (a step with
//! several stale assets counts once), and a few sums.

use cascade_engine::{Event, EventKind, World};
use cascade_model::oracle::OnStale;
use serde::Serialize;

/// `protocols.<NAME>.oracle_staleness.*`, for a protocol that checks its oracles' age.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StalenessSummary {
    /// The oldest price the protocol uses, seconds (its `max_age_seconds`).
    pub max_age_seconds: u64,
    /// `pause` or `fallback`.
    pub on_stale: String,
    /// Seconds in which some price the protocol reads was stale: the steps found so after
    /// their oracle reads, each counting one step's length.
    pub stale_seconds: u64,
    /// Of those, seconds in which it paused liquidations on some asset.
    pub paused_seconds: u64,
    /// Of those, seconds in which it priced some asset by its fallback oracle.
    pub fallback_seconds: u64,
    /// Liquidatable accounts it left because a price they need was stale, counted per round as
    /// `liquidations_missed` is.
    pub liquidations_paused: u64,
    /// The oldest stale price it found, seconds since its oracle's last publication (0 when
    /// none was stale).
    pub oldest_price_seconds: u64,
    /// When it first found a price stale, seconds (null when never).
    pub first_stale_seconds: Option<u64>,
}

/// One protocol's running figures.
#[derive(Clone, Debug, Default)]
struct Tally {
    summary: StalenessSummary,
    /// The last step counted as stale, paused and falling back.
    stale_step: Option<u64>,
    paused_step: Option<u64>,
    fallback_step: Option<u64>,
}

/// The fold of lending protocols' oracle staleness.
pub(crate) struct StalenessFold {
    /// Per protocol, its tally when it checks its oracles' age.
    protocols: Vec<Option<Tally>>,
    step_seconds: u64,
}

impl StalenessFold {
    pub(crate) fn new(world: &World) -> Self {
        let protocols = world
            .protocols
            .iter()
            .map(|p| {
                p.staleness.as_ref().map(|guard| Tally {
                    summary: StalenessSummary {
                        max_age_seconds: guard.rule.max_age,
                        on_stale: match guard.rule.on_stale {
                            OnStale::Pause => "pause",
                            OnStale::Fallback => "fallback",
                        }
                        .to_string(),
                        ..StalenessSummary::default()
                    },
                    ..Tally::default()
                })
            })
            .collect();
        Self {
            protocols,
            step_seconds: world.simulation.step_seconds,
        }
    }

    pub(crate) fn event(&mut self, event: &Event) {
        match &event.kind {
            EventKind::FeedStale {
                protocol,
                age,
                fallback,
                ..
            } => {
                let Some(tally) = self.protocols[protocol.index()].as_mut() else {
                    return;
                };
                let s = &mut tally.summary;
                let dt = self.step_seconds;
                let step = Some(event.step);
                if tally.stale_step != step {
                    tally.stale_step = step;
                    s.stale_seconds += dt;
                }
                let (counted, seconds) = match fallback {
                    Some(_) => (&mut tally.fallback_step, &mut s.fallback_seconds),
                    None => (&mut tally.paused_step, &mut s.paused_seconds),
                };
                if *counted != step {
                    *counted = step;
                    *seconds += dt;
                }
                s.oldest_price_seconds = s.oldest_price_seconds.max(*age);
                s.first_stale_seconds.get_or_insert(event.time);
            }
            EventKind::LiquidationsPaused { protocol, count } => {
                if let Some(tally) = self.protocols[protocol.index()].as_mut() {
                    tally.summary.liquidations_paused += count;
                }
            }
            _ => {}
        }
    }

    /// Per protocol, its figures when it checks its oracles' age.
    pub(crate) fn finish(self) -> Vec<Option<StalenessSummary>> {
        self.protocols
            .into_iter()
            .map(|t| t.map(|t| t.summary))
            .collect()
    }
}
