//! The book read as liquidations to come: for one asset, every call a lending protocol's rule
//! would make and every perp position its exchange would close, each at the asset price that
//! triggers it (the other prices held at the start).
//!
//! A lending account is followed down its *ladder*: its first call comes at its trigger price
//! (debt value less the other collateral's weighted value, over its units of the asset times the
//! threshold), priced at the trigger with the health factor of just below it — the limit of the
//! call as the price crosses the trigger. The call repays debt and takes collateral, which moves
//! the account's trigger; its next call comes at the lower of the two (a call that leaves it
//! liquidatable, a toxic one, is repeated at the same price, as the engine's next round would),
//! until the account has no debt or no collateral, the rule makes no call, a call takes less
//! than [`MIN_CALL_SHARE`] of the account's starting units, or the caller's limit of calls
//! ([`MAX_CALLS`] for `cascade map`; the summary reads first calls only, which keeps it one rule
//! call per account on a million-account book).
//! Mechanisms that do not liquidate by a keeper's call (auctions, backstop transfer, Compound
//! III, Liquity) have one entry at the trigger, with its collateral and nothing sold: what they
//! sell, they sell later or never.
//!
//! What a call hands the keeper is sold on the venue where the protocol's first keeper (in
//! scenario order) sells the asset, if it sells it at all; the protocol's fee stays in its
//! treasury. A perp position is closed whole into its market's venue: longs sell in a fall,
//! shorts buy in a rise.

use cascade_engine::World;
use cascade_model::ids::{AssetId, ProtocolId, VenueId};
use cascade_model::lending::{Account, LendingParams, Seizure};

/// The most calls one account's ladder follows.
pub const MAX_CALLS: usize = 64;

/// A ladder stops after a call that takes less than this share of the account's starting units
/// of the asset (a close factor of ½ halves the debt per call: the tail of calls is worth
/// nothing to the map, and would cost a pass per call).
pub const MIN_CALL_SHARE: f64 = 1e-4;

/// How far below its trigger an account's health factor is read, relative to the trigger.
const NUDGE: f64 = 1e-9;

/// Which way the price moves to trigger a liquidation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// A fall: lending collateral and perp longs.
    Fall,
    /// A rise: perp shorts.
    Rise,
}

impl Direction {
    /// Both directions, falls first.
    pub const BOTH: [Self; 2] = [Self::Fall, Self::Rise];

    /// Its name in the outputs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fall => "fall",
            Self::Rise => "rise",
        }
    }

    /// +1 for a fall, −1 for a rise: the sign of (start − price) for a price it reaches.
    pub fn sign(self) -> f64 {
        match self {
            Self::Fall => 1.0,
            Self::Rise => -1.0,
        }
    }
}

/// Who holds a position: a lending protocol or a perp exchange, by index in the world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Holder {
    /// A lending protocol (`world.protocols`).
    Lending(u32),
    /// A perp exchange (`world.perps`).
    Perp(u32),
}

impl Holder {
    /// The protocol's or exchange's name.
    pub fn name(self, world: &World) -> &str {
        match self {
            Self::Lending(p) => &world.protocols[p as usize].name,
            Self::Perp(x) => &world.perps[x as usize].name,
        }
    }

    /// The owner of its account `account`: the label of a file's account, else the number.
    pub fn owner(self, world: &World, account: u32) -> String {
        let labels = match self {
            Self::Lending(p) => &world.protocols[p as usize].account_labels,
            Self::Perp(x) => &world.perps[x as usize].account_labels,
        };
        labels
            .get(account as usize)
            .cloned()
            .unwrap_or_else(|| account.to_string())
    }
}

/// One liquidation the book holds for an asset: a lending call or a perp close.
#[derive(Clone, Debug, PartialEq)]
pub struct Trigger {
    /// The asset price that triggers it, on the map's price axis (the asset's start price times
    /// the ratio of the trigger to the price its holder sees at the start).
    pub price: f64,
    /// The same price as its holder sees it (its oracle's, or a perp market's mark): the
    /// position's liquidation price.
    pub own_price: f64,
    /// Which way the price moves to reach it.
    pub direction: Direction,
    /// The protocol or exchange.
    pub holder: Holder,
    /// The account, by index in its holder's book.
    pub account: u32,
    /// The account's first call (its collateral and debt count in the wall once, here).
    pub first: bool,
    /// Units of the asset the account holds at the start (a perp position's size), on its first
    /// call; 0 on later ones.
    pub collateral: f64,
    /// Its debt, in units of its debt asset, on its first call (a perp position: 0).
    pub debt: f64,
    /// Its debt's value at the start prices, USD, on its first call (a perp position: 0).
    pub debt_usd: f64,
    /// The debt asset (a perp position: the market's asset).
    pub debt_asset: AssetId,
    /// Units taken from the account by this call (a perp close: the size).
    pub seized: f64,
    /// Units sold (bought back, in a rise) on `venue` because of it.
    pub sold: f64,
    /// Where they are traded; `None` when nothing is sold.
    pub venue: Option<VenueId>,
}

/// Hands `visit` every liquidation of `asset` the initial book holds, falls and rises, lending
/// protocols in order then perp exchanges, each account's calls in ladder order. `reference` is
/// the asset's start price on the map's axis; `max_calls` bounds each account's ladder (1: its
/// first call only). Nothing is kept: a million-account book is read in one pass.
pub fn for_each_trigger(
    world: &World,
    asset: AssetId,
    reference: f64,
    max_calls: usize,
    mut visit: impl FnMut(&Trigger),
) {
    for p in 0..world.protocols.len() {
        let cx = ProtocolCx::new(world, p, asset, reference);
        lending_triggers(&cx, max_calls.max(1), &mut visit);
    }
    perp_triggers(world, asset, reference, &mut visit);
}

/// What the calls of one protocol's accounts on one asset read.
struct ProtocolCx<'w> {
    world: &'w World,
    protocol: ProtocolId,
    params: &'w LendingParams,
    asset: AssetId,
    threshold: f64,
    /// Map price per unit of the protocol's price of the asset.
    scale: f64,
    /// Where the protocol's first keeper sells the asset.
    venue: Option<VenueId>,
}

impl<'w> ProtocolCx<'w> {
    fn new(world: &'w World, p: usize, asset: AssetId, reference: f64) -> Self {
        let info = &world.protocols[p];
        let protocol = ProtocolId(p as u32);
        let start = world.protocol_price(&world.initial, protocol, asset);
        Self {
            world,
            protocol,
            params: &info.params,
            asset,
            threshold: info.params.collateral[asset.index()]
                .map_or(0.0, |c| c.liquidation_threshold),
            scale: if start > 0.0 { reference / start } else { 0.0 },
            venue: info
                .keepers
                .first()
                .and_then(|k| world.keepers[k.index()].spec.sell_on[asset.index()]),
        }
    }

    /// The protocol's price of `a` at the start.
    fn start_price(&self, a: AssetId) -> f64 {
        self.world
            .protocol_price(&self.world.initial, self.protocol, a)
    }

    /// The start prices with the asset's at `at`.
    fn prices_at(&self, at: f64) -> impl Fn(AssetId) -> f64 + '_ {
        move |a| {
            if a == self.asset {
                at
            } else {
                self.start_price(a)
            }
        }
    }

    /// The asset price at which `account` becomes liquidatable, the other prices held: its debt
    /// value less its other collateral's weighted value, over its weighted units of the asset.
    /// `None` when no fall of the asset makes it liquidatable.
    fn trigger(&self, account: &Account) -> Option<f64> {
        if self.threshold <= 0.0 {
            return None;
        }
        let price = |a| self.start_price(a);
        crate::feedback::trigger(account, self.params, self.asset, &price)
            .map(|(_, trigger)| trigger)
            .filter(|trigger| *trigger > 0.0 && trigger.is_finite())
    }

    /// One keeper call of the protocol's rule on `account` at asset price `at` (its repayment
    /// sized as the protocol's helper sizes it), with the health factor of just below `at`.
    fn call(&self, account: &Account, at: f64) -> Option<Seizure> {
        let health = account.health_factor(self.params, &self.prices_at(at * (1.0 - NUDGE)));
        if health >= 1.0 {
            return None;
        }
        self.params.liquidation.keeper_call(
            self.params,
            account,
            health,
            self.asset,
            &self.prices_at(at),
            f64::INFINITY,
            0.0,
        )
    }
}

/// The ladders of one protocol's accounts.
fn lending_triggers(cx: &ProtocolCx<'_>, max_calls: usize, visit: &mut impl FnMut(&Trigger)) {
    if cx.threshold <= 0.0 || cx.scale <= 0.0 {
        return;
    }
    let state = &cx.world.initial.protocols[cx.protocol.index()];
    for (i, account) in state.accounts.iter().enumerate() {
        let Some(first) = cx.trigger(account) else {
            continue;
        };
        let entry = |at: f64, seized: f64, sold: f64, is_first: bool| Trigger {
            price: at * cx.scale,
            own_price: at,
            direction: Direction::Fall,
            holder: Holder::Lending(cx.protocol.0),
            account: i as u32,
            first: is_first,
            collateral: if is_first {
                account.collateral_of(cx.asset)
            } else {
                0.0
            },
            debt: if is_first { account.debt } else { 0.0 },
            debt_usd: if is_first {
                account.debt_value(&|a| cx.start_price(a))
            } else {
                0.0
            },
            debt_asset: account.debt_asset,
            seized,
            sold,
            venue: cx.venue.filter(|_| sold > 0.0),
        };
        let mut held = account.clone();
        let mut at = first;
        let units = account.collateral_of(cx.asset);
        for call in 0..max_calls {
            let Some(seizure) = cx.call(&held, at) else {
                if call == 0 {
                    visit(&entry(at, 0.0, 0.0, true));
                }
                break;
            };
            let sold = if cx.venue.is_some() {
                seizure.to_liquidator
            } else {
                0.0
            };
            visit(&entry(at, seizure.collateral_seized, sold, call == 0));
            if !apply(&mut held, cx.asset, &seizure)
                || seizure.collateral_seized < MIN_CALL_SHARE * units
            {
                break;
            }
            match cx.trigger(&held) {
                Some(next) => at = at.min(next),
                None => break,
            }
        }
    }
}

/// Takes a call's seizure off `account`; whether it still owes something against some of the
/// asset.
fn apply(account: &mut Account, asset: AssetId, seizure: &Seizure) -> bool {
    let before = account.debt;
    account.debt = (account.debt - seizure.debt_repaid).max(0.0);
    let mut left = 0.0;
    for (a, units) in &mut account.collateral {
        if *a == asset {
            let was = *units;
            *units = (*units - seizure.collateral_seized).max(0.0);
            if *units <= 1e-12 * was {
                *units = 0.0;
            }
            left = *units;
        }
    }
    account.debt > 1e-9 * before && left > 0.0
}

/// Perp positions on `asset`: longs in a fall, shorts in a rise, each closed whole into its
/// market's venue at its liquidation price at the start marks.
fn perp_triggers(world: &World, asset: AssetId, reference: f64, visit: &mut impl FnMut(&Trigger)) {
    for (x, (info, state)) in world.perps.iter().zip(&world.initial.perps).enumerate() {
        for (i, account) in state.accounts.iter().enumerate() {
            for (k, position) in account.positions.iter().enumerate() {
                let market = &info.markets[position.market.index()];
                let start = state.marks[position.market.index()];
                if market.asset != asset || position.size == 0.0 || start <= 0.0 {
                    continue;
                }
                let trigger = account.liquidation_price(k, &info.rules, &state.marks);
                if !(trigger > 0.0 && trigger.is_finite()) {
                    continue;
                }
                let size = position.size.abs();
                visit(&Trigger {
                    price: trigger * reference / start,
                    own_price: trigger,
                    direction: if position.size > 0.0 {
                        Direction::Fall
                    } else {
                        Direction::Rise
                    },
                    holder: Holder::Perp(x as u32),
                    account: i as u32,
                    first: true,
                    collateral: size,
                    debt: 0.0,
                    debt_usd: 0.0,
                    debt_asset: asset,
                    seized: size,
                    sold: size,
                    venue: Some(market.venue),
                });
            }
        }
    }
}
