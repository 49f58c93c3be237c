//! Which columns a world's events files have beyond the fixed ones, and where each detail value
//! goes.
//!
//! Every [`Key`] of an event's detail is a column of its own; a per-asset key is a column per
//! asset (`collateral.ETH`, `collateral.USDC`), a per-market key a column per asset some perp
//! market trades (`long.BTC`). The columns are in [`Key::ALL`]'s order, per-asset columns in the
//! world's asset order. A key is present only when the world has something that writes it
//! ([`Feature`]): a run without perp exchanges has no perp columns, as timeline.csv has none, so
//! the many blank cells of mechanisms a scenario does not use cost nothing.

use cascade_engine::{PerpInfo, World};
use cascade_model::lending::LiquidationRule;

use super::rows::{Key, Type, Value};

/// Something a world may have whose events fill columns of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Feature {
    /// Every world: books opened and marked, shocks, sales, missed liquidations, batches,
    /// cascades and keepers' marks.
    Always,
    /// A lending protocol with an insurance fund (`losses_settled`).
    Insurance,
    /// Dutch or English auctions (`auction_*`, the collateral and debt in running auctions).
    Auctions,
    /// Liquity's Stability Pool (`trove_liquidated`, `redistributed`, `stability_pool_marked`).
    Liquity,
    /// Compound III (`absorbed`, `collateral_bought`, `comet_marked`).
    Comet,
    /// A backstop vault (`backstop_marked`).
    Backstop,
    /// Perp exchanges (`perps_opened`, `perp_*`, `funding_paid`).
    Perps,
    /// A chain (`blocks_produced`, `tx_*`).
    Chain,
    /// Keepers bidding in priority gas auctions (`gas_auction`).
    GasAuctions,
    /// Owners who act on their accounts (`borrowers_noticed`, `borrower_acted`).
    Owners,
    /// Market makers on a venue (`depth_changed`).
    MarketMakers,
    /// A constant-product venue following a reserve series (`venue_liquidity_changed`).
    Reserves,
    /// A lending protocol that checks its oracles' age (`feed_stale`, `liquidations_paused`).
    Staleness,
}

impl Feature {
    const ALL: [Self; 13] = [
        Self::Always,
        Self::Insurance,
        Self::Auctions,
        Self::Liquity,
        Self::Comet,
        Self::Backstop,
        Self::Perps,
        Self::Chain,
        Self::GasAuctions,
        Self::Owners,
        Self::MarketMakers,
        Self::Reserves,
        Self::Staleness,
    ];

    /// The keys of the events this feature brings.
    fn keys(self) -> &'static [Key] {
        use Key::*;
        match self {
            Self::Always => &[
                Accounts,
                OpenAccounts,
                Count,
                Factor,
                OracleValue,
                Shortfall,
                DebtUsd,
                CollateralUsd,
                Spent,
                Received,
                Incentives,
                Rounds,
                HitRoundLimit,
                Collateral,
                DebtByAsset,
                Treasury,
                Inventory,
            ],
            Self::Insurance => &[
                PaidIn,
                Drawn,
                Socialised,
                Lots,
                Auctioned,
                Uncovered,
                FundBalance,
            ],
            Self::Auctions => &[
                Auction,
                Tab,
                Top,
                Debt,
                CollateralPrice,
                InAuctionCollateral,
                InAuctionDebt,
            ],
            Self::Liquity => &[
                CollateralRatio,
                RecoveryMode,
                DebtOffset,
                CollateralToPool,
                DebtRedistributed,
                CollateralRedistributed,
                Surplus,
                GasDebt,
                Troves,
                Product,
                Gains,
            ],
            Self::Comet => &[DeltaValue, Credit, CollateralPrice, Held],
            Self::Backstop => &[CostBasisUsd],
            Self::Perps => &[
                LongUsd,
                ShortUsd,
                TotalValue,
                Close,
                Remaining,
                Entry,
                Mark,
                LiquidationPrice,
                BankruptcyPrice,
                Equity,
                Maintenance,
                Fee,
                PriceBefore,
                FundChange,
                Kept,
                FundBalance,
                Bankrupt,
                Rank,
                Counterparty,
                Uncovered,
                Rate,
                Fund,
                VaultValue,
                VaultCapital,
                Long,
                Short,
                Vault,
            ],
            Self::Chain => &[
                Blocks, GasGwei, Room, Waiting, Tx, TxKind, GasBidGwei, Submitted, Bumps, Sender,
                Reason,
            ],
            Self::GasAuctions => &[
                TxKind,
                GasGwei,
                GasBidGwei,
                RunnerUpGwei,
                Bumps,
                Bidders,
                Outbid,
                OutbidIncluded,
                Auction,
            ],
            Self::Owners => &[Acting, Declined, Action, HealthAfter],
            Self::MarketMakers => &[Depth, DailyVolatility],
            Self::Reserves => &[Liquidity],
            Self::Staleness => &[AgeSeconds, Feed],
        }
    }

    /// Whether `world` has it.
    fn present(self, world: &World) -> bool {
        let rule = |wanted: fn(&LiquidationRule) -> bool| {
            world
                .protocols
                .iter()
                .any(|p| wanted(&p.params.liquidation))
        };
        match self {
            Self::Always => true,
            Self::Insurance => world.protocols.iter().any(|p| p.insurance.is_some()),
            Self::Auctions => rule(|r| {
                matches!(
                    r,
                    LiquidationRule::DutchAuction(_) | LiquidationRule::EnglishAuction(_)
                )
            }),
            Self::Liquity => rule(|r| matches!(r, LiquidationRule::Liquity(_))),
            Self::Comet => rule(|r| matches!(r, LiquidationRule::CometAbsorb(_))),
            Self::Backstop => rule(|r| matches!(r, LiquidationRule::Backstop(_))),
            Self::Perps => !world.perps.is_empty(),
            Self::Chain => world.chain.is_some(),
            Self::GasAuctions => {
                world.chain.is_some()
                    && world
                        .keepers
                        .iter()
                        .any(|k| k.spec.gas.is_priority_auction())
            }
            Self::Owners => world.protocols.iter().any(|p| !p.borrowers.is_empty()),
            Self::MarketMakers => world
                .initial
                .venues
                .iter()
                .any(|v| v.market_makers().is_some()),
            Self::Reserves => world.venues.iter().any(|v| v.liquidity.is_some()),
            Self::Staleness => world.protocols.iter().any(|p| p.staleness.is_some()),
        }
    }
}

/// The detail columns of a world's events files, in order.
pub(super) struct Layout {
    /// Each column's name.
    names: Vec<String>,
    /// Each column's key.
    keys: Vec<Key>,
    /// Per key (by its index in [`Key::ALL`]): its first column, if the world has it.
    first: Vec<Option<usize>>,
    /// Per asset: its place among a per-market key's columns, if some perp market trades it.
    market_slot: Vec<Option<usize>>,
}

impl Layout {
    /// The columns `world`'s events can fill.
    pub(super) fn new(world: &World) -> Self {
        let mut wanted = vec![false; Key::ALL.len()];
        for feature in Feature::ALL {
            if feature.present(world) {
                for &key in feature.keys() {
                    wanted[key as usize] = true;
                }
            }
        }
        let traded: Vec<bool> = (0..world.assets.len())
            .map(|a| {
                world
                    .perps
                    .iter()
                    .any(|x| x.markets.iter().any(|m| m.asset.index() == a))
            })
            .collect();
        let mut slot = 0;
        let market_slot = traded
            .iter()
            .map(|&t| {
                t.then(|| {
                    slot += 1;
                    slot - 1
                })
            })
            .collect();
        let mut layout = Self {
            names: Vec::new(),
            keys: Vec::new(),
            first: vec![None; Key::ALL.len()],
            market_slot,
        };
        for &key in Key::ALL.iter().filter(|&&key| wanted[key as usize]) {
            layout.first[key as usize] = Some(layout.names.len());
            let symbols = world.assets.iter().zip(&traded);
            match key.ty() {
                Type::PerAsset => layout.push_each(key, symbols.map(|(a, _)| &a.symbol)),
                Type::PerMarket => {
                    layout.push_each(key, symbols.filter(|(_, t)| **t).map(|(a, _)| &a.symbol))
                }
                Type::Real | Type::Int | Type::Flag | Type::Name | Type::Account | Type::Room => {
                    layout.names.push(key.name().to_string());
                    layout.keys.push(key);
                }
            }
        }
        layout
    }

    /// Adds a `key.SYMBOL` column per symbol.
    fn push_each<'a>(&mut self, key: Key, symbols: impl Iterator<Item = &'a String>) {
        for symbol in symbols {
            self.names.push(format!("{}.{symbol}", key.name()));
            self.keys.push(key);
        }
    }

    /// The columns' names, in order.
    pub(super) fn names(&self) -> &[String] {
        &self.names
    }

    /// The key of each column, in order.
    pub(super) fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// How many columns there are.
    pub(super) fn len(&self) -> usize {
        self.names.len()
    }

    /// The column of a key with one value, if the world has it.
    pub(super) fn column(&self, key: Key) -> Option<usize> {
        self.first[key as usize]
    }

    /// Calls `each(column, units)` for the cells of a per-asset or per-market value, in column
    /// order: every asset of the world, or every market of the exchange (the other market
    /// columns stay blank).
    pub(super) fn cells(&self, key: Key, value: &Value<'_>, mut each: impl FnMut(usize, f64)) {
        let Some(first) = self.column(key) else {
            return;
        };
        match *value {
            Value::Assets(units) => {
                for (a, &v) in units.iter().enumerate() {
                    each(first + a, v);
                }
            }
            Value::Markets(info, units) => {
                for (a, slot) in self.market_slot.iter().enumerate() {
                    if let (Some(slot), Some(v)) = (slot, market_units(info, units, a)) {
                        each(first + slot, v);
                    }
                }
            }
            Value::Real(_)
            | Value::Int(_)
            | Value::Flag(_)
            | Value::Name(_)
            | Value::Account(_)
            | Value::Room(_) => {}
        }
    }
}

/// The units of the exchange's market of asset `a`, if it has one.
fn market_units(info: &PerpInfo, units: &[f64], a: usize) -> Option<f64> {
    let m = info.markets.iter().position(|m| m.asset.index() == a)?;
    units.get(m).copied()
}

#[cfg(test)]
mod tests {
    use super::{Feature, Key};

    #[test]
    fn every_key_comes_with_a_feature() {
        for key in Key::ALL {
            assert!(
                Feature::ALL.iter().any(|f| f.keys().contains(key)),
                "{key:?} belongs to no feature: its column would never be written"
            );
        }
    }
}
