//! One view of the events that liquidate a position or pay for a liquidation, whatever the
//! mechanism: a lending call, a Dutch or English auction's kick and takes, a Liquity trove, a
//! Compound III absorb and purchase, a backstop takeover, a perp close or vault takeover, and a
//! batch of lending calls reported as one record.
//!
//! Several figures (liquidation counts, debt repaid, collateral seized, keepers' calls, episode
//! durations, a step's activity) are sums over all of them. Reading every kind once here lets
//! each fold count a liquidation once instead of once per kind, and keeps the kinds that count
//! in one place.
//!
//! A view stands for [`LiquidationView::count`] liquidations: one for every kind but a batch,
//! which stands for its accounts' calls (and the bad debt they left, which other kinds report as
//! events of their own). Its sums are the calls' totals, so a fold that multiplies what it counts
//! by `count` sees a batch exactly as it would see the calls one by one.

use cascade_engine::{Event, EventKind};
use cascade_model::ids::{AccountId, AssetId, KeeperId, ProtocolId};

/// The position an event liquidates, when it is a liquidation in its own right (counted once in
/// `liquidations.count` and the timeline's `liquidations`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Call {
    /// An account of the view's lending protocol: a call, a kick, a trove, an absorb or a
    /// takeover.
    Lending(AccountId),
    /// `count` accounts of the view's lending protocol that the path had not touched before, so
    /// none of them was liquidated before: a batch of calls.
    Untouched,
    /// A perp position closed, or an account taken over by the exchange's vault.
    Perp,
}

/// Collateral taken from the liquidated account.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Seized<'a> {
    /// None.
    Nothing,
    /// Units of one asset, and their value at the protocol's price, USD.
    One {
        /// Asset.
        asset: AssetId,
        /// Units.
        units: f64,
        /// Value, USD.
        usd: f64,
    },
    /// Units per asset (Compound III takes them all; their value is not summed).
    Each(&'a [f64]),
}

/// What one event contributes to the liquidation figures.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LiquidationView<'a> {
    /// The position liquidated, if the event liquidates one.
    pub(crate) call: Option<Call>,
    /// Liquidations the event stands for, at least 1: a batch's accounts, 1 for every other kind.
    /// The sums below are over all of them; a count (calls, keepers' liquidations, episodes) is
    /// this many.
    pub(crate) count: u64,
    /// The lending protocol whose figures the flows below add to.
    pub(crate) protocol: Option<ProtocolId>,
    /// The keeper credited with a liquidation: it called, liquidated a trove, took from an
    /// auction, or bought absorbed collateral.
    pub(crate) keeper: Option<KeeperId>,
    /// Collateral seized.
    pub(crate) seized: Seized<'a>,
    /// Collateral units paid to the protocol's treasury.
    pub(crate) fee: Option<(AssetId, f64)>,
    /// Debt repaid, USD at the protocol's price.
    pub(crate) repaid_usd: Option<f64>,
    /// Collateral received by the keeper at the protocol's price minus what it paid, USD.
    pub(crate) bonus_usd: Option<f64>,
    /// Seconds from the account's first liquidatable check, when the event closes its episode
    /// (`count` episodes of that length).
    pub(crate) closed_after: Option<u64>,
    /// Debt written off with the liquidation, USD at the protocol's price: a batch's accounts
    /// whose collateral ran out. (A single call's write-off is a `BadDebt` event of its own.)
    pub(crate) written_off_usd: Option<f64>,
}

impl<'a> LiquidationView<'a> {
    const NONE: Self = Self {
        call: None,
        count: 1,
        protocol: None,
        keeper: None,
        seized: Seized::Nothing,
        fee: None,
        repaid_usd: None,
        bonus_usd: None,
        closed_after: None,
        written_off_usd: None,
    };

    /// The view of `event`, if it is one of the liquidation kinds. Inlined into each fold, it
    /// reduces to the fields that fold reads.
    #[inline(always)]
    pub(crate) fn of(event: &'a Event) -> Option<Self> {
        let since = |since: u64| event.time - since.min(event.time);
        Some(match &event.kind {
            EventKind::Liquidation(l) => {
                let repaid = l.debt_repaid * l.debt_price;
                Self {
                    call: Some(Call::Lending(l.account)),
                    protocol: Some(l.protocol),
                    keeper: Some(l.keeper),
                    seized: Seized::One {
                        asset: l.collateral_asset,
                        units: l.collateral_seized,
                        usd: l.collateral_seized * l.collateral_price,
                    },
                    fee: Some((l.collateral_asset, l.protocol_fee)),
                    repaid_usd: Some(repaid),
                    bonus_usd: Some(l.to_keeper * l.collateral_price - repaid),
                    closed_after: l.closes.then(|| since(l.liquidatable_since)),
                    ..Self::NONE
                }
            }
            // The calls of a batch, each closing an episode that opened at this check; an empty
            // batch stands for nothing.
            EventKind::LiquidationBatch(b) if b.accounts > 0 => {
                let repaid = b.debt_repaid * b.debt_price;
                Self {
                    call: Some(Call::Untouched),
                    count: b.accounts,
                    protocol: Some(b.protocol),
                    keeper: Some(b.keeper),
                    seized: Seized::One {
                        asset: b.collateral_asset,
                        units: b.collateral_seized,
                        usd: b.collateral_seized * b.collateral_price,
                    },
                    fee: Some((b.collateral_asset, b.protocol_fee)),
                    repaid_usd: Some(repaid),
                    bonus_usd: Some(b.to_keeper * b.collateral_price - repaid),
                    closed_after: Some(0),
                    written_off_usd: Some(b.written_off * b.debt_price),
                }
            }
            EventKind::AuctionKicked {
                protocol,
                account,
                collateral_asset,
                lot,
                collateral_price,
                ..
            } => Self {
                call: Some(Call::Lending(*account)),
                protocol: Some(*protocol),
                seized: Seized::One {
                    asset: *collateral_asset,
                    units: *lot,
                    usd: lot * collateral_price,
                },
                ..Self::NONE
            },
            EventKind::AuctionTaken {
                protocol,
                keeper,
                slice,
                collateral_price,
                owe,
                debt_price,
                ..
            } => {
                let paid = owe * debt_price;
                Self {
                    protocol: Some(*protocol),
                    keeper: Some(*keeper),
                    repaid_usd: Some(paid),
                    bonus_usd: Some(slice * collateral_price - paid),
                    ..Self::NONE
                }
            }
            EventKind::AuctionEnded {
                liquidatable_since, ..
            } => Self {
                closed_after: Some(since(*liquidatable_since)),
                ..Self::NONE
            },
            EventKind::TroveLiquidated(t) => {
                let units = t.collateral - t.surplus;
                Self {
                    call: Some(Call::Lending(t.account)),
                    protocol: Some(t.protocol),
                    keeper: Some(t.keeper),
                    seized: Seized::One {
                        asset: t.collateral_asset,
                        units,
                        usd: units * t.collateral_price,
                    },
                    repaid_usd: Some(t.debt_offset * t.debt_price),
                    closed_after: Some(since(t.liquidatable_since)),
                    ..Self::NONE
                }
            }
            EventKind::Absorbed {
                protocol,
                account,
                collateral,
                debt,
                debt_price,
                liquidatable_since,
                ..
            } => Self {
                call: Some(Call::Lending(*account)),
                protocol: Some(*protocol),
                seized: Seized::Each(collateral),
                repaid_usd: Some(debt * debt_price),
                closed_after: Some(since(*liquidatable_since)),
                ..Self::NONE
            },
            EventKind::CollateralBought {
                keeper,
                units,
                collateral_price,
                paid,
                ..
            } => Self {
                keeper: Some(*keeper),
                bonus_usd: Some(units * collateral_price - paid),
                ..Self::NONE
            },
            EventKind::BackstopTakeover {
                protocol,
                account,
                collateral_asset,
                units,
                collateral_price,
                debt,
                debt_price,
                liquidatable_since,
                ..
            } => Self {
                call: Some(Call::Lending(*account)),
                protocol: Some(*protocol),
                seized: Seized::One {
                    asset: *collateral_asset,
                    units: *units,
                    usd: units * collateral_price,
                },
                repaid_usd: Some(debt * debt_price),
                closed_after: Some(since(*liquidatable_since)),
                ..Self::NONE
            },
            // Like a lending backstop's takeover, a vault takeover is a liquidation.
            EventKind::PerpLiquidated(_) | EventKind::PerpTakeover { .. } => Self {
                call: Some(Call::Perp),
                ..Self::NONE
            },
            _ => return None,
        })
    }

    /// Calls `f` with each asset and units seized (for Compound III, each asset with units).
    #[inline(always)]
    pub(crate) fn each_seized(&self, mut f: impl FnMut(AssetId, f64)) {
        match self.seized {
            Seized::Nothing => {}
            Seized::One { asset, units, .. } => f(asset, units),
            Seized::Each(units) => {
                for (a, units) in units.iter().enumerate() {
                    if *units > 0.0 {
                        f(AssetId(a as u32), *units);
                    }
                }
            }
        }
    }
}
