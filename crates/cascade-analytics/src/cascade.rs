//! Cascade dynamics (summary.json `cascade`): settle rounds per step, steps in which anything was
//! liquidated, round-limit hits, and the a-priori feedback gains of the initial world.
//!
//! State: four counters and whether the current step has liquidated anything yet.

use std::collections::BTreeMap;

use cascade_engine::{Event, EventKind, World};
use cascade_model::ids::AssetId;

use crate::feedback::{feedback_gain, feedback_gain_up};
use crate::map::{AssetMap, DirectionMap, MapOptions};
use crate::summary::{CascadeSummary, FeedbackGains, GainAt, WallSummary};
use crate::view::LiquidationView;

/// The fold of `cascade.*`.
pub(crate) struct CascadeFold {
    cascade: CascadeSummary,
    step_had_liquidation: bool,
}

impl CascadeFold {
    pub(crate) fn new() -> Self {
        Self {
            cascade: CascadeSummary::default(),
            step_had_liquidation: false,
        }
    }

    pub(crate) fn event(&mut self, event: &Event) {
        match &event.kind {
            EventKind::CascadeSettled {
                rounds,
                hit_round_limit,
            } => self.settled(*rounds, *hit_round_limit),
            _ => {
                if LiquidationView::of(event).is_some_and(|v| v.call.is_some()) {
                    self.step_had_liquidation = true;
                }
            }
        }
    }

    /// A step's cascade settled after `rounds` active rounds.
    #[inline]
    pub(crate) fn settled(&mut self, rounds: u32, hit_round_limit: bool) {
        let c = &mut self.cascade;
        c.rounds_max = c.rounds_max.max(rounds);
        c.rounds_total += u64::from(rounds);
        c.round_limit_hits += u64::from(hit_round_limit);
        c.steps_with_liquidations += u64::from(self.step_had_liquidation);
        self.step_had_liquidation = false;
    }

    /// The summary, with the feedback gains of `world`'s initial book and venues unless they
    /// are skipped.
    pub(crate) fn finish(self, world: &World, gains: FeedbackGains) -> CascadeSummary {
        let mut cascade = self.cascade;
        if gains == FeedbackGains::Computed {
            WorldFeedback::of(world).apply_to(&mut cascade);
        }
        cascade
    }
}

/// The figures of `cascade.*` that depend on the initial world alone — the a-priori feedback
/// gains at the start price, and the liquidation map's largest gain, spiral price and nearest
/// wall — so they can be computed once, apart from the run's events: `cascade run` computes
/// them on a thread of their own while the engine runs, and a Monte Carlo's paths skip them.
#[derive(Clone, Debug, Default)]
pub struct WorldFeedback {
    feedback_gain: BTreeMap<String, f64>,
    feedback_gain_detail: BTreeMap<String, crate::FeedbackGain>,
    feedback_gain_up: BTreeMap<String, f64>,
    feedback_gain_up_detail: BTreeMap<String, crate::FeedbackGain>,
    map: CascadeSummary,
}

impl WorldFeedback {
    /// The figures of `world`.
    pub fn of(world: &World) -> Self {
        let mut figures = Self::default();
        for (a, asset) in world.assets.iter().enumerate() {
            if let Some(gain) = feedback_gain(world, AssetId(a as u32)) {
                figures
                    .feedback_gain
                    .insert(asset.symbol.clone(), gain.gain);
                figures
                    .feedback_gain_detail
                    .insert(asset.symbol.clone(), gain);
            }
            if let Some(gain) = feedback_gain_up(world, AssetId(a as u32)) {
                figures
                    .feedback_gain_up
                    .insert(asset.symbol.clone(), gain.gain);
                figures
                    .feedback_gain_up_detail
                    .insert(asset.symbol.clone(), gain);
            }
        }
        map_figures(world, &mut figures.map);
        figures
    }

    /// Writes the figures into a run's `cascade` summary.
    pub fn apply_to(self, cascade: &mut CascadeSummary) {
        cascade.feedback_gain = self.feedback_gain;
        cascade.feedback_gain_detail = self.feedback_gain_detail;
        cascade.feedback_gain_up = self.feedback_gain_up;
        cascade.feedback_gain_up_detail = self.feedback_gain_up_detail;
        cascade.feedback_gain_max = self.map.feedback_gain_max;
        cascade.spiral_price = self.map.spiral_price;
        cascade.nearest_wall = self.map.nearest_wall;
        cascade.feedback_gain_max_up = self.map.feedback_gain_max_up;
        cascade.spiral_price_up = self.map.spiral_price_up;
    }
}

/// The largest gains, spiral thresholds and nearest walls of the liquidation map, from each
/// account's first call (no ladders, no cascade curve: one rule call per account, nothing run).
fn map_figures(world: &World, cascade: &mut CascadeSummary) {
    let options = MapOptions {
        shocks: Vec::new(),
        calls: 1,
        ..MapOptions::default()
    };
    for (a, info) in world.assets.iter().enumerate() {
        let map = AssetMap::of(world, AssetId(a as u32), &options);
        let fall = map.as_ref().and_then(|m| m.fall.as_ref());
        let symbol = &info.symbol;
        if info.primary_venue.is_some() {
            cascade
                .feedback_gain_max
                .insert(symbol.clone(), fall.and_then(gain_max));
            cascade
                .spiral_price
                .insert(symbol.clone(), fall.and_then(|f| f.spiral_price));
        }
        if let Some(fall) = fall {
            cascade
                .nearest_wall
                .insert(symbol.clone(), nearest_wall(fall));
        }
        let rise = map.as_ref().and_then(|m| m.rise.as_ref());
        if let Some(rise) = rise.filter(|_| info.primary_venue.is_some()) {
            cascade
                .feedback_gain_max_up
                .insert(symbol.clone(), gain_max(rise));
            cascade
                .spiral_price_up
                .insert(symbol.clone(), rise.spiral_price);
        }
    }
}

fn gain_max(d: &DirectionMap) -> Option<GainAt> {
    d.gain_max.map(|g| GainAt {
        m: g.m,
        price: g.price,
    })
}

fn nearest_wall(d: &DirectionMap) -> Option<WallSummary> {
    d.nearest_wall.as_ref().map(|w| WallSummary {
        price_high: w.inner.max(w.outer),
        price_low: w.inner.min(w.outer),
        accounts: w.figures.accounts,
        collateral_units: w.figures.collateral_units,
        collateral_usd: w.figures.collateral_usd,
        debt_usd: w.figures.debt_usd,
    })
}
