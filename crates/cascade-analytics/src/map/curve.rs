//! The cascade curve: the price a cascade ends at after an instant shock s of the asset, read off
//! the map and measured by full runs of the scenario.
//!
//! **From the map.** The shock moves the primary venue's fundamental to F₀·(1 − s) (a rise:
//! 1 + s). The price is then the venue's price after the units sold by every liquidation the
//! price has reached (triggers above it in a fall, below it in a rise); those sales move it
//! further, which reaches more triggers: p ← price(F₀·(1 − s), sold(p)), repeated until no new
//! trigger is reached. The iteration is monotone and ends, at the latest, when the book is
//! exhausted.
//!
//! **From runs.** The scenario itself, with every asset's price driver held at its start value
//! and its shocks replaced by the one shock of the asset at step 1, is run for its steps; the
//! curve reports the primary venue's lowest price over the run (highest, in a rise): where the
//! cascade stopped, before transient impact recovered.
//!
//! **Why they differ.** The map assumes the protocols' prices follow the primary venue at once,
//! prices each call at its trigger (a jump sells more: the bonus is paid at the lower price, and
//! a health factor far below 1 may close more of the debt), ignores keepers' capital, minimum
//! profit and gas, the venues' recovery between steps and the order of rounds, and sells on
//! other venues without moving the primary one. The run has oracle lags (a deviation threshold
//! or heartbeat can stop a cascade between updates), one call per account per round and its
//! round limit. On a wall the two agree closely (the tests hold a fixture to 0.5% of the price);
//! on a book where keepers stop for lack of profit or oracles lag, the difference is the measure
//! of what the map leaves out.

use std::sync::Arc;

use cascade_engine::{Engine, World};
use cascade_model::fundamental::{Fundamental, PriceDriver, Shock};
use cascade_model::ids::AssetId;

use crate::summary::{FeedbackGains, RunInfo, SummaryFold};

use super::book::Direction;
use super::gain::{MapVenue, Sales};

/// The most iterations of the map's fixed point.
const MAX_ITERATIONS: usize = 1_000_000;

/// The shocks of the cascade curve when none are asked for.
pub const DEFAULT_SHOCKS: [f64; 10] = [0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5];

/// One point of the cascade curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvePoint {
    /// The instant shock, a fraction (0.1: the fundamental moves 10%).
    pub shock: f64,
    /// The primary venue's price before any liquidation: the start price moved by the shock.
    pub shocked_price: f64,
    /// Where the cascade ends by the map.
    pub final_price_map: f64,
    /// Units the map's cascade sells (buys back, in a rise) on the primary venue.
    pub units_sold_map: f64,
    /// Where it ends in a full run (`None` until runs are made).
    pub final_price_run: Option<f64>,
}

impl CurvePoint {
    /// final_price_map − final_price_run.
    pub fn difference(&self) -> Option<f64> {
        self.final_price_run.map(|r| self.final_price_map - r)
    }

    /// The difference as a fraction of the run's price.
    pub fn relative_difference(&self) -> Option<f64> {
        self.final_price_run
            .filter(|r| *r > 0.0)
            .map(|r| (self.final_price_map - r) / r)
    }
}

/// Where the map's cascade ends after the shock `shock` in `direction`.
pub fn map_point(direction: Direction, shock: f64, sales: &Sales, venue: &MapVenue) -> CurvePoint {
    let fundamental = venue.fundamental * (1.0 - direction.sign() * shock);
    let price_after = |units: f64| match direction {
        Direction::Fall if units > 0.0 => venue.venue.quote(fundamental, units).price_after,
        Direction::Rise if units > 0.0 => venue.venue.quote_buy(fundamental, units).price_after,
        Direction::Fall | Direction::Rise => venue.venue.price(fundamental),
    };
    let shocked_price = price_after(0.0);
    let (mut price, mut units) = (shocked_price, 0.0);
    for _ in 0..MAX_ITERATIONS {
        let reached = sales.reached(direction, price);
        if reached <= units {
            break;
        }
        units = reached;
        price = price_after(units);
    }
    CurvePoint {
        shock,
        shocked_price,
        final_price_map: price,
        units_sold_map: units,
        final_price_run: None,
    }
}

/// `world` with every asset's price driver held at its start value and one shock: `asset`'s
/// fundamental moved by `shock` in `direction` at step 1.
pub fn shocked_world(world: &World, asset: AssetId, direction: Direction, shock: f64) -> World {
    let mut shocked = world.clone();
    for (info, fundamental) in shocked
        .assets
        .iter()
        .zip(shocked.initial.fundamentals.iter_mut())
    {
        *fundamental = Fundamental::new(info.start_price, PriceDriver::Constant);
    }
    shocked.correlation = None;
    shocked.shocks = vec![(
        asset,
        Shock {
            step: 1,
            factor: 1.0 - direction.sign() * shock,
        },
    )];
    shocked
}

/// Runs `world` shocked by `shock` (see [`shocked_world`]) and returns the primary venue's
/// lowest price over the run in a fall, its highest in a rise (`None` without a venue).
pub fn run_point(world: &World, asset: AssetId, direction: Direction, shock: f64) -> Option<f64> {
    world.assets[asset.index()].primary_venue?;
    let shocked = Arc::new(shocked_world(world, asset, direction, shock));
    let info = RunInfo {
        feedback_gains: FeedbackGains::Skipped,
        ..RunInfo::default()
    };
    let mut fold = SummaryFold::new(Arc::clone(&shocked), info);
    Engine::new(shocked).run(&mut fold);
    let summary = fold.finish();
    let figures = summary.assets.get(&world.assets[asset.index()].symbol)?;
    Some(match direction {
        Direction::Fall => figures.min_price,
        Direction::Rise => figures.max_price,
    })
}
