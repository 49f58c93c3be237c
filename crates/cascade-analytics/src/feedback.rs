//! The feedback gain m of a liquidation wall (docs/model.md §3): m(p) = λ(p)·κ·ρ(p), computed as
//! "collateral sold per 1% fall divided by the depth that absorbs a 1% fall".
//!
//! For every account holding the asset, the price of that asset at which the account becomes
//! liquidatable (other prices held) is found; the accounts whose trigger lies within 1% below the
//! start price are the ones a 1% fall liquidates. Each sells what one call of its protocol's own
//! liquidation rule hands the keeper just below the trigger — for a fixed spread on a single
//! collateral, κ = min(1, close factor · threshold · (1 + bonus)) of the collateral less the
//! protocol fee's share, fee · bonus / (1 + bonus), which goes to the treasury — if the protocol's
//! first keeper (in scenario order) sells that asset on the asset's primary venue. The depth is
//! the units that move the primary venue's best bid down 1%. For a uniform wall under linear
//! impact, a shock s leads to a total fall s / (1 − m) while m < 1.
//!
//! Perp longs count too: a long whose liquidation price (at the start marks) lies in the window
//! is closed by selling its whole size into its market's venue, which counts when that venue is
//! the asset's primary one. Rises mirror falls ([`feedback_gain_up`]): perp shorts whose
//! liquidation price lies within 1% above the start buy their size back, against the units that
//! lift the primary venue's price 1%.

use cascade_engine::World;
use cascade_model::ids::{AssetId, ProtocolId};
use serde::Serialize;

/// The width of the price window, as a fraction of the start price.
pub const WINDOW: f64 = 0.01;

/// The feedback gain of one asset and what it is made of.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeedbackGain {
    /// m: units sold by the liquidations a 1% fall triggers, over the depth that absorbs 1%.
    pub gain: f64,
    /// Collateral units whose liquidation a 1% fall triggers.
    pub collateral_in_window: f64,
    /// Units of it that would be sold on the primary venue.
    pub units_sold: f64,
    /// Units that move the primary venue's best bid down 1%.
    pub depth_for_one_percent: f64,
}

/// The feedback gain of `asset` at its start price, or `None` if the asset has no venue.
pub fn feedback_gain(world: &World, asset: AssetId) -> Option<FeedbackGain> {
    let venue_id = world.assets[asset.index()].primary_venue?;
    let state = &world.initial;
    let fundamental = state.fundamentals[asset.index()].price();
    let depth = state.venues[venue_id.index()].depth_for_fall(fundamental, WINDOW);
    let mut in_window = 0.0;
    let mut sold = 0.0;
    for (p, info) in world.protocols.iter().enumerate() {
        let protocol = ProtocolId(p as u32);
        let price = |a: AssetId| world.protocol_price(state, protocol, a);
        let start = price(asset);
        let low = start * (1.0 - WINDOW);
        if info.params.collateral[asset.index()].is_none() {
            continue;
        }
        let sells_here = info.keepers.first().is_some_and(|k| {
            world.keepers[k.index()].spec.sell_on[asset.index()] == Some(venue_id)
        });
        let rule = info.params.liquidation;
        for account in &state.protocols[p].accounts {
            let Some((units, trigger)) = trigger(account, &info.params, asset, &price) else {
                continue;
            };
            if trigger < start && trigger >= low {
                in_window += units;
                if sells_here {
                    // What the protocol's own rule lets one call hand the keeper just below the
                    // trigger (the treasury's share is not sold).
                    let at_trigger = trigger * (1.0 - 1e-9);
                    let moved = |a: AssetId| if a == asset { at_trigger } else { price(a) };
                    let health = account.health_factor(&info.params, &moved);
                    if let Some(seizure) = rule.keeper_call(
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
            }
        }
    }
    let (perp_in_window, perp_sold) = perp_wall(world, asset, venue_id, 1.0);
    Some(FeedbackGain::new(
        in_window + perp_in_window,
        sold + perp_sold,
        depth,
    ))
}

/// The price of `asset` at which `account` becomes liquidatable under `params`, the other prices
/// (`price`) held, with its units of the asset: its debt value less its other collateral's
/// weighted value, over its units of the asset times the asset's threshold. `None` for an account
/// without the asset, without debt, or of a protocol that does not take the asset.
pub(crate) fn trigger(
    account: &cascade_model::lending::Account,
    params: &cascade_model::lending::LendingParams,
    asset: AssetId,
    price: &impl Fn(AssetId) -> f64,
) -> Option<(f64, f64)> {
    let collateral = params.collateral[asset.index()]?;
    let units = account.collateral_of(asset);
    if units <= 0.0 || account.debt <= 0.0 {
        return None;
    }
    let others: f64 = account
        .collateral
        .iter()
        .filter(|c| c.0 != asset)
        .map(|&(a, u)| {
            u * price(a) * params.collateral[a.index()].map_or(0.0, |c| c.liquidation_threshold)
        })
        .sum();
    let debt_value = account.debt_value(price);
    Some((
        units,
        (debt_value - others) / (units * collateral.liquidation_threshold),
    ))
}

impl FeedbackGain {
    /// m = units sold / depth (0 when the depth is infinite or nil).
    fn new(in_window: f64, sold: f64, depth: f64) -> Self {
        let gain = if depth.is_finite() && depth > 0.0 {
            sold / depth
        } else {
            0.0
        };
        Self {
            gain,
            collateral_in_window: in_window,
            units_sold: sold,
            depth_for_one_percent: depth,
        }
    }
}

/// The gain of a rise: perp shorts liquidated by a 1% rise, over the units that lift the
/// primary venue 1%. `None` without a venue or without perp shorts on the asset.
pub fn feedback_gain_up(world: &World, asset: AssetId) -> Option<FeedbackGain> {
    let venue_id = world.assets[asset.index()].primary_venue?;
    let has_shorts = world
        .perps
        .iter()
        .zip(&world.initial.perps)
        .any(|(info, state)| {
            state.accounts.iter().any(|a| {
                a.positions
                    .iter()
                    .any(|p| p.size < 0.0 && info.markets[p.market.index()].asset == asset)
            })
        });
    if !has_shorts {
        return None;
    }
    let state = &world.initial;
    let fundamental = state.fundamentals[asset.index()].price();
    let depth = state.venues[venue_id.index()].depth_for_rise(fundamental, WINDOW);
    let (in_window, sold) = perp_wall(world, asset, venue_id, -1.0);
    Some(FeedbackGain::new(in_window, sold, depth))
}

/// Units of perp positions on `side` (+1 longs, −1 shorts) of `asset` whose liquidation price
/// lies within the window beyond the start mark, and those of them closed on `venue`.
fn perp_wall(
    world: &World,
    asset: AssetId,
    venue: cascade_model::ids::VenueId,
    side: f64,
) -> (f64, f64) {
    let (mut in_window, mut sold) = (0.0, 0.0);
    for (info, state) in world.perps.iter().zip(&world.initial.perps) {
        for account in &state.accounts {
            for (i, p) in account.positions.iter().enumerate() {
                let market = &info.markets[p.market.index()];
                if market.asset != asset || p.size * side <= 0.0 {
                    continue;
                }
                let start = state.marks[p.market.index()];
                let trigger = account.liquidation_price(i, &info.rules, &state.marks);
                // How far the price must move, towards the position's loss, to liquidate it.
                let distance = side * (start - trigger) / start;
                if distance > 0.0 && distance <= WINDOW {
                    in_window += p.size.abs();
                    if market.venue == venue {
                        sold += p.size.abs();
                    }
                }
            }
        }
    }
    (in_window, sold)
}
