//! The figures particular to a lending protocol's liquidation mechanism, one fold each:
//!
//! - [`AuctionFold`]: Dutch and English auctions (`protocols.<NAME>.auctions`);
//! - [`BackstopFold`]: the backstop vault of liquidation by transfer (`backstop`);
//! - [`CometFold`]: Compound III's absorbs, purchases and reserves (`comet`);
//! - [`PoolFold`]: Liquity's Stability Pool (`stability_pool`).
//!
//! State: per protocol using the mechanism, its counts, sums and per-asset sums.

use std::collections::BTreeMap;

use cascade_engine::{Event, EventKind, World};
use cascade_model::lending::LiquidationRule;

use crate::summary::{
    AssetSummary, AuctionSummary, BackstopSummary, CometSummary, NEAR_ZERO_BID,
    StabilityPoolSummary,
};
use crate::tally::PerAsset;

// ---- Auctions --------------------------------------------------------------------------------

/// One protocol's auctions so far.
struct AuctionTally {
    summary: AuctionSummary,
    returned: PerAsset,
    won_near_zero: PerAsset,
}

/// The fold of `protocols.<NAME>.auctions.*`.
pub(crate) struct AuctionFold {
    /// Per protocol, from its first auction event.
    protocols: Vec<Option<AuctionTally>>,
    assets: usize,
}

impl AuctionFold {
    pub(crate) fn new(world: &World) -> Self {
        Self {
            protocols: world.protocols.iter().map(|_| None).collect(),
            assets: world.assets.len(),
        }
    }

    fn tally(&mut self, protocol: usize) -> &mut AuctionTally {
        let assets = self.assets;
        self.protocols[protocol].get_or_insert_with(|| AuctionTally {
            summary: AuctionSummary::default(),
            returned: PerAsset::new(assets),
            won_near_zero: PerAsset::new(assets),
        })
    }

    pub(crate) fn event(&mut self, event: &Event) {
        match &event.kind {
            EventKind::AuctionKicked {
                protocol,
                incentive,
                ..
            } => {
                let a = &mut self.tally(protocol.index()).summary;
                a.kicked += 1;
                a.incentives_usd += incentive;
            }
            EventKind::AuctionBid { protocol, .. } => {
                self.tally(protocol.index()).summary.bids += 1;
            }
            EventKind::AuctionReset {
                protocol,
                incentive,
                ..
            } => {
                let a = &mut self.tally(protocol.index()).summary;
                a.resets += 1;
                a.incentives_usd += incentive;
            }
            EventKind::AuctionTaken {
                protocol,
                collateral_asset,
                slice,
                collateral_price,
                owe,
                debt_price,
                ..
            } => {
                let paid = owe * debt_price;
                let t = self.tally(protocol.index());
                t.summary.taken += 1;
                let value = slice * collateral_price;
                if value > 0.0 && paid < NEAR_ZERO_BID * value {
                    t.summary.won_near_zero += 1;
                    t.won_near_zero.add(*collateral_asset, *slice);
                    t.summary.collateral_won_near_zero_usd += value;
                }
            }
            EventKind::AuctionEnded {
                protocol,
                collateral_asset,
                returned,
                raised,
                debt,
                debt_price,
                ..
            } => {
                let t = self.tally(protocol.index());
                t.summary.ended += 1;
                t.summary.penalty_raised_usd += (raised - debt).max(0.0) * debt_price;
                if *returned > 0.0 {
                    t.returned.add(*collateral_asset, *returned);
                }
            }
            _ => {}
        }
    }

    /// Per protocol in world order: its auctions, or empty ones for an auction protocol that
    /// kicked none.
    pub(crate) fn finish(self, world: &World) -> Vec<Option<AuctionSummary>> {
        self.protocols
            .into_iter()
            .zip(&world.protocols)
            .map(|(tally, info)| match tally {
                Some(t) => {
                    let mut a = t.summary;
                    a.collateral_returned = t.returned.into_map(world);
                    a.collateral_won_near_zero = t.won_near_zero.into_map(world);
                    a.running_at_end = a.kicked - a.ended;
                    if a.taken > 0 {
                        a.won_near_zero_share = a.won_near_zero as f64 / a.taken as f64;
                    }
                    Some(a)
                }
                None => matches!(
                    info.params.liquidation,
                    LiquidationRule::DutchAuction(_) | LiquidationRule::EnglishAuction(_)
                )
                .then(AuctionSummary::default),
            })
            .collect()
    }
}

// ---- Backstop vaults -------------------------------------------------------------------------

/// One protocol's backstop vault so far.
struct BackstopTally {
    summary: BackstopSummary,
    sold: PerAsset,
    inventory: PerAsset,
}

/// The fold of `protocols.<NAME>.backstop.*`.
pub(crate) struct BackstopFold {
    /// Per protocol, from its vault's first event.
    protocols: Vec<Option<BackstopTally>>,
    assets: usize,
}

impl BackstopFold {
    pub(crate) fn new(world: &World) -> Self {
        Self {
            protocols: world.protocols.iter().map(|_| None).collect(),
            assets: world.assets.len(),
        }
    }

    fn tally(&mut self, protocol: usize) -> &mut BackstopTally {
        let assets = self.assets;
        self.protocols[protocol].get_or_insert_with(|| BackstopTally {
            summary: BackstopSummary::default(),
            sold: PerAsset::new(assets),
            inventory: PerAsset::new(assets),
        })
    }

    pub(crate) fn event(&mut self, event: &Event) {
        match &event.kind {
            EventKind::BackstopTakeover { protocol, .. } => {
                self.tally(protocol.index()).summary.takeovers += 1;
            }
            EventKind::BackstopSale {
                protocol,
                asset,
                filled,
                ..
            } => self.tally(protocol.index()).sold.add(*asset, *filled),
            EventKind::BackstopMarked {
                protocol,
                spent,
                received,
                inventory,
                cost_basis_usd,
            } => {
                let t = self.tally(protocol.index());
                t.summary.spent_usd = *spent;
                t.summary.received_usd = *received;
                t.summary.hedged_pnl_usd = received - spent + cost_basis_usd;
                for (a, units) in inventory.iter().enumerate() {
                    if *units > 0.0 {
                        t.inventory.set(a, *units);
                    }
                }
            }
            _ => {}
        }
    }

    /// Per protocol in world order, its vault's holdings marked at `assets`' final prices.
    pub(crate) fn finish(
        self,
        world: &World,
        assets: &BTreeMap<String, AssetSummary>,
    ) -> Vec<Option<BackstopSummary>> {
        self.protocols
            .into_iter()
            .map(|tally| {
                let t = tally?;
                let mut b = t.summary;
                b.sold = t.sold.into_map(world);
                b.inventory = t.inventory.into_map(world);
                let held: f64 = b
                    .inventory
                    .iter()
                    .map(|(symbol, units)| {
                        units * assets.get(symbol).map_or(0.0, |a| a.final_price)
                    })
                    .sum();
                b.marked_pnl_usd = b.received_usd - b.spent_usd + held;
                Some(b)
            })
            .collect()
    }
}

// ---- Compound III ----------------------------------------------------------------------------

/// One Compound III protocol so far.
struct CometTally {
    summary: CometSummary,
    bought: PerAsset,
    held: PerAsset,
}

/// The fold of `protocols.<NAME>.comet.*`.
pub(crate) struct CometFold {
    /// Per protocol, for Compound III ones.
    protocols: Vec<Option<CometTally>>,
}

impl CometFold {
    pub(crate) fn new(world: &World) -> Self {
        Self {
            protocols: world
                .protocols
                .iter()
                .map(|p| match p.params.liquidation {
                    LiquidationRule::CometAbsorb(c) => Some(CometTally {
                        summary: CometSummary {
                            reserves_start_usd: c.initial_reserves_usd,
                            reserves_min_usd: c.initial_reserves_usd,
                            reserves_final_usd: c.initial_reserves_usd,
                            ..CometSummary::default()
                        },
                        bought: PerAsset::new(world.assets.len()),
                        held: PerAsset::new(world.assets.len()),
                    }),
                    _ => None,
                })
                .collect(),
        }
    }

    fn tally(&mut self, protocol: usize) -> &mut CometTally {
        self.protocols[protocol]
            .as_mut()
            .expect("a Compound III protocol")
    }

    pub(crate) fn event(&mut self, event: &Event) {
        match &event.kind {
            EventKind::Absorbed {
                protocol,
                debt,
                debt_price,
                credit,
                shortfall,
                ..
            } => {
                let c = &mut self.tally(protocol.index()).summary;
                c.absorbs += 1;
                c.credits_usd += credit;
                c.shortfall_usd += shortfall;
                c.reserves_final_usd -= debt * debt_price + credit;
                c.reserves_min_usd = c.reserves_min_usd.min(c.reserves_final_usd);
            }
            EventKind::CollateralBought {
                protocol,
                asset,
                units,
                paid,
                ..
            } => {
                let t = self.tally(protocol.index());
                t.bought.add(*asset, *units);
                t.summary.paid_usd += paid;
                t.summary.reserves_final_usd += paid;
            }
            EventKind::CometMarked {
                protocol,
                reserves_usd,
                held,
            } => {
                let t = self.tally(protocol.index());
                t.summary.reserves_final_usd = *reserves_usd;
                for (a, units) in held.iter().enumerate() {
                    if *units > 0.0 {
                        t.held.set(a, *units);
                    }
                }
            }
            _ => {}
        }
    }

    /// Per protocol in world order.
    pub(crate) fn finish(self, world: &World) -> Vec<Option<CometSummary>> {
        self.protocols
            .into_iter()
            .map(|tally| {
                let t = tally?;
                Some(CometSummary {
                    bought: t.bought.into_map(world),
                    held: t.held.into_map(world),
                    ..t.summary
                })
            })
            .collect()
    }
}

// ---- Liquity's Stability Pool ----------------------------------------------------------------

/// One Liquity protocol's pool so far.
struct PoolTally {
    summary: StabilityPoolSummary,
    redistributed: PerAsset,
    surplus: PerAsset,
    gains: PerAsset,
}

/// The fold of `protocols.<NAME>.stability_pool.*`.
pub(crate) struct PoolFold {
    /// Per protocol, for Liquity ones.
    protocols: Vec<Option<PoolTally>>,
}

impl PoolFold {
    pub(crate) fn new(world: &World) -> Self {
        Self {
            protocols: world
                .protocols
                .iter()
                .map(|p| match p.params.liquidation {
                    LiquidationRule::Liquity(l) => Some(PoolTally {
                        summary: StabilityPoolSummary {
                            deposits_start: l.stability_pool,
                            deposits_end: l.stability_pool,
                            product: 1.0,
                            ..StabilityPoolSummary::default()
                        },
                        redistributed: PerAsset::new(world.assets.len()),
                        surplus: PerAsset::new(world.assets.len()),
                        gains: PerAsset::new(world.assets.len()),
                    }),
                    _ => None,
                })
                .collect(),
        }
    }

    fn tally(&mut self, protocol: usize) -> &mut PoolTally {
        self.protocols[protocol]
            .as_mut()
            .expect("a Liquity protocol")
    }

    pub(crate) fn event(&mut self, event: &Event) {
        match &event.kind {
            EventKind::TroveLiquidated(t) => {
                let p = self.tally(t.protocol.index());
                let s = &mut p.summary;
                s.liquidations += 1;
                s.recovery_mode_liquidations += u64::from(t.recovery_mode);
                s.debt_offset += t.debt_offset;
                s.debt_redistributed += t.debt_redistributed;
                p.redistributed
                    .add(t.collateral_asset, t.collateral_redistributed);
                if t.surplus > 0.0 {
                    p.surplus.add(t.collateral_asset, t.surplus);
                }
            }
            EventKind::Redistributed { protocol, .. } => {
                self.tally(protocol.index()).summary.redistributions += 1;
            }
            EventKind::StabilityPoolMarked {
                protocol,
                deposits,
                product,
                gains,
            } => {
                let p = self.tally(protocol.index());
                p.summary.deposits_end = *deposits;
                p.summary.product = *product;
                for (a, units) in gains.iter().enumerate() {
                    if *units > 0.0 {
                        p.gains.set(a, *units);
                    }
                }
            }
            _ => {}
        }
    }

    /// Per protocol in world order.
    pub(crate) fn finish(self, world: &World) -> Vec<Option<StabilityPoolSummary>> {
        self.protocols
            .into_iter()
            .map(|tally| {
                let t = tally?;
                Some(StabilityPoolSummary {
                    collateral_redistributed: t.redistributed.into_map(world),
                    surplus_to_owners: t.surplus.into_map(world),
                    gains: t.gains.into_map(world),
                    ..t.summary
                })
            })
            .collect()
    }
}
