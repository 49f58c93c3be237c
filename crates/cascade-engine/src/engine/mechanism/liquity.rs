//! Liquity v1: troves offset against the Stability Pool, what it cannot take redistributed to the
//! other troves, and a recovery mode (docs/reference-math.md §5; liquity/dev `TroveManager.sol`,
//! `liquidate`, `batchLiquidateTroves`, `_getTotalFromBatchLiquidate_RecoveryMode`,
//! `_liquidateNormalMode`, `_liquidateRecoveryMode`, `_getOffsetAndRedistributionVals`,
//! `_getCappedOffsetVals`, `_redistributeDebtAndColl`; `StabilityPool.sol`, `offset`). The
//! formulas and the bands are the model's (`cascade_model::liquity`).
//!
//! - Each round is one liquidation sequence over the troves the index finds, the lowest
//!   collateral ratio first. Its total collateral ratio (TCR) at the start decides whether it
//!   starts in **recovery mode** (below CCR); the index is then asked for candidates with
//!   collateral prices scaled by MCR / TCR, so troves below TCR come up.
//! - In normal mode a trove whose individual collateral ratio (ICR) is below MCR is liquidated:
//!   the liquidator receives the gas compensation (`gas_compensation` debt units and
//!   `collateral_gas_share` of the collateral); the pool offsets as much of the debt as its
//!   deposits cover and takes the matching collateral (the product P falls); the rest is
//!   redistributed.
//! - In recovery mode, by band: ICR ≤ 100%: everything is redistributed; 100% < ICR < MCR: as
//!   in normal mode; MCR ≤ ICR < TCR with deposits covering the debt: a **capped offset** — the
//!   pool takes collateral worth debt × MCR, the surplus stays with the owner; otherwise the
//!   trove is not liquidated.
//! - The keepers' entry point (`entry_point`) decides what each trove sees. **Batch**
//!   (`batchLiquidateTroves`, the default, what Liquity's own keeper calls): the TCR is
//!   re-measured after every trove from the running totals; a sequence that started in
//!   recovery mode returns to normal mode once it is at or above CCR and then liquidates only
//!   troves below MCR; a sequence that started in normal mode stays in it; what the pool cannot
//!   take is redistributed once, at the end of the round. **Single** (`liquidate(address)`,
//!   one transaction per trove): each trove is judged by the mode and TCR of the system as the
//!   previous one left it, and its redistribution is applied at once, so the next trove's ICR
//!   includes it.
//! - Each trove goes in with a keeper's transaction (a kick on the chain, with either entry
//!   point): the first keeper serving the protocol whose transaction gets in liquidates it. The
//!   last trove is never liquidated. Liquity has no settlement schedule: troves are liquidated
//!   whenever they are below the line.
//! - Redistribution goes to the active troves in proportion to their collateral (Liquity
//!   applies it through per-stake accumulators), and the book is re-indexed; with no active
//!   trove left, the debt is written off. The pool's collateral gains are held, not sold.

use cascade_model::ids::{AccountId, AssetId};
use cascade_model::lending::{Account, LiquidationIndex};
use cascade_model::liquity::{
    self, Band, EntryPoint, LiquityParams, Offset, Sequence, StabilityPool,
};

use super::{LiquidationMechanism, MarkCx, Round, richest_collateral};
use crate::event::{EventKind, TroveLiquidation};

/// Liquity's parameters and its pool's starting deposits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Liquity(pub(super) LiquityParams);

/// The Stability Pool with the system's totals, and the round's liquidation sequence.
#[derive(Clone, Debug)]
pub(crate) struct Troves {
    pool: StabilityPool,
    sequence: Sequence,
    /// What collateral prices are multiplied by to ask the index for candidates (MCR / TCR in
    /// recovery mode at the round's start, 1 otherwise).
    scale: f64,
}

/// A trove found liquidatable: its collateral, debt, ratio, the mode it was judged in and how
/// its liquidation splits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Trove {
    asset: AssetId,
    collateral: f64,
    debt: f64,
    icr: f64,
    recovery: bool,
    offset: Offset,
}

impl LiquidationMechanism for Liquity {
    type State = Troves;
    type Finding = Trove;

    /// The pool at its starting deposits, with the totals of the troves owing debt.
    fn open(&self, accounts: &[Account], prices: &[f64]) -> Troves {
        let asset_count = prices.len();
        let mut collateral = vec![0.0; asset_count];
        let mut debt = 0.0;
        let mut active = 0;
        let debt_asset = accounts
            .iter()
            .find(|a| a.debt > 0.0)
            .map_or(AssetId(0), |a| a.debt_asset);
        for account in accounts {
            if account.debt > 0.0 {
                active += 1;
                for &(asset, units) in &account.collateral {
                    collateral[asset.index()] += units;
                }
                debt += account.debt;
            }
        }
        Troves {
            pool: StabilityPool {
                deposits: self.0.stability_pool,
                product: 1.0,
                gains: vec![0.0; asset_count],
                system_collateral: collateral,
                system_debt: debt,
                pending_collateral: vec![0.0; asset_count],
                pending_debt: 0.0,
                debt_asset,
                active_troves: active,
            },
            sequence: Sequence::start(&self.0, f64::INFINITY),
            scale: 1.0,
        }
    }

    fn writes_off_bad_debt(&self) -> bool {
        true
    }

    fn follows_epochs(&self) -> bool {
        false
    }

    /// The round's sequence starts: recovery mode or not, from the TCR at the round's prices.
    fn advance(&self, troves: &mut Troves, r: &mut Round<'_>) -> u64 {
        let tcr = total_collateral_ratio(&troves.pool, r.prices);
        troves.sequence = Sequence::start(&self.0, tcr);
        // In recovery mode troves below TCR are candidates: scale the collateral price so the
        // index's threshold (MCR) sits at TCR.
        troves.scale = if troves.sequence.in_recovery() {
            self.0.mcr / tcr
        } else {
            1.0
        };
        0
    }

    fn lookup_price(&self, troves: &Troves, prices: &[f64], asset: AssetId) -> f64 {
        if asset == troves.pool.debt_asset {
            prices[asset.index()]
        } else {
            prices[asset.index()] * troves.scale
        }
    }

    /// Whether the trove is liquidatable at this point of the sequence, and how.
    fn confirm(&self, troves: &Troves, r: &Round<'_>, id: AccountId) -> Option<Trove> {
        let params = &self.0;
        let pool = &troves.pool;
        let account = r.account(id);
        let (asset, collateral) = richest_collateral(account, r.prices)?;
        let debt = account.debt;
        if debt <= 0.0 {
            return None;
        }
        let price = r.price(asset) / r.price(pool.debt_asset);
        let icr = collateral * price / debt;
        let tcr = total_collateral_ratio(pool, r.prices);
        let recovery = match params.entry_point {
            EntryPoint::Batch => troves.sequence.in_recovery(),
            EntryPoint::Single => tcr < params.ccr,
        };
        let offset = match liquity::band(params, recovery, icr, tcr, pool.deposits, debt)? {
            Band::Offset => liquity::offset(params, collateral, debt, pool.deposits, false),
            Band::RedistributeAll => liquity::offset(params, collateral, debt, pool.deposits, true),
            Band::CappedOffset => liquity::capped_offset(params, collateral, debt, price),
        };
        Some(Trove {
            asset,
            collateral,
            debt,
            icr,
            recovery,
            offset,
        })
    }

    /// Liquidates the trove by a keeper's transaction: the pool offsets its part, the rest waits
    /// for the round's redistribution, the keeper takes the gas compensation.
    fn liquidate(
        &self,
        troves: &mut Troves,
        r: &mut Round<'_>,
        id: AccountId,
        trove: Trove,
    ) -> bool {
        let params = &self.0;
        let (world, prices) = (r.world, r.prices);
        // Nobody to call it, the last trove, or no keeper's transaction in yet: it waits.
        if r.info.keepers.is_empty() || troves.pool.active_troves <= 1 {
            return false;
        }
        let Some(keeper) = r.kicker(id) else {
            return false;
        };
        let Trove {
            asset,
            collateral,
            debt,
            icr,
            recovery,
            offset: o,
        } = trove;
        let debt_asset = troves.pool.debt_asset;
        let debt_price = prices[debt_asset.index()];
        let liquidatable_since = r.end_episode(id);
        r.count_liquidated(debt * debt_price);
        let account = r.book.account_mut(id);
        account.debt = 0.0;
        account
            .collateral
            .iter_mut()
            .for_each(|c| c.1 = if c.0 == asset { o.surplus } else { c.1 });
        r.reindex(id);
        let pool = &mut troves.pool;
        if o.debt_offset > 0.0 {
            let (product, _) = liquity::pool_after_offset(
                pool.product,
                0.0,
                pool.deposits,
                o.debt_offset,
                o.collateral_to_pool,
            );
            pool.product = product;
            pool.deposits -= o.debt_offset;
            pool.gains[asset.index()] += o.collateral_to_pool;
        }
        pool.pending_collateral[asset.index()] += o.collateral_redistributed;
        pool.pending_debt += o.debt_redistributed;
        pool.system_collateral[asset.index()] -= collateral;
        pool.system_debt -= debt;
        pool.active_troves -= 1;
        let book = &mut r.keepers[keeper.index()];
        book.receive(asset, o.gas_collateral);
        book.incentives += params.gas_compensation * debt_price;
        if let Some(v) = world.keepers[keeper.index()].spec.sell_on[asset.index()] {
            r.queue_sale(keeper, v, o.gas_collateral, prices[asset.index()]);
        }
        let protocol = r.id;
        r.emit(EventKind::TroveLiquidated(Box::new(TroveLiquidation {
            protocol,
            account: id,
            keeper,
            collateral_asset: asset,
            collateral,
            debt_asset,
            debt,
            collateral_ratio: icr,
            recovery_mode: recovery,
            gas_collateral: o.gas_collateral,
            gas_debt: params.gas_compensation,
            debt_offset: o.debt_offset,
            collateral_to_pool: o.collateral_to_pool,
            debt_redistributed: o.debt_redistributed,
            collateral_redistributed: o.collateral_redistributed,
            surplus: o.surplus,
            collateral_price: prices[asset.index()],
            debt_price,
            liquidatable_since,
        })));
        match params.entry_point {
            EntryPoint::Batch => {
                let tcr = total_collateral_ratio(&troves.pool, prices);
                troves.sequence.after_trove(params, tcr);
            }
            EntryPoint::Single => redistribute(troves, r),
        }
        true
    }

    /// Spreads the round's pending redistribution (a batch's, at its end).
    fn end_round(&self, troves: &mut Troves, r: &mut Round<'_>) {
        redistribute(troves, r);
    }

    fn mark(&self, troves: &Troves, cx: &mut MarkCx<'_>) {
        let pool = &troves.pool;
        let protocol = cx.id;
        cx.emit(EventKind::StabilityPoolMarked {
            protocol,
            deposits: pool.deposits,
            product: pool.product,
            gains: pool.gains.clone(),
        });
    }
}

/// The system's total collateral ratio at `prices`, counting what waits to be redistributed (a
/// batch's running totals: `entireSystemColl` and `entireSystemDebt` less what left the system).
fn total_collateral_ratio(pool: &StabilityPool, prices: &[f64]) -> f64 {
    let collateral_value: f64 = pool
        .system_collateral
        .iter()
        .zip(&pool.pending_collateral)
        .zip(prices)
        .map(|((units, pending), price)| (units + pending) * price)
        .sum();
    let debt_value = (pool.system_debt + pool.pending_debt) * prices[pool.debt_asset.index()];
    liquity::total_collateral_ratio(collateral_value, debt_value)
}

/// Spreads the pending redistribution over the active troves in proportion to their
/// collateral, and re-indexes the book (every trigger moved).
fn redistribute(troves: &mut Troves, r: &mut Round<'_>) {
    let info = r.info;
    let protocol = &mut *r.book;
    let pool = &mut troves.pool;
    if pool.pending_debt <= 0.0 && pool.pending_collateral.iter().all(|&c| c <= 0.0) {
        return;
    }
    let debt = std::mem::take(&mut pool.pending_debt);
    let debt_asset = pool.debt_asset;
    // A Liquity book has one collateral asset: the debt goes with the first asset that active
    // troves hold; collateral of an asset no active trove holds goes to the treasury.
    let mut remaining_debt = debt;
    let mut events = Vec::new();
    for a in 0..pool.pending_collateral.len() {
        let collateral = std::mem::take(&mut pool.pending_collateral[a]);
        let base = pool.system_collateral[a];
        if base <= 0.0 {
            protocol.treasury[a] += collateral;
            continue;
        }
        let debt_share = std::mem::take(&mut remaining_debt);
        if collateral <= 0.0 && debt_share <= 0.0 {
            continue;
        }
        let mut receiving = 0;
        // Every account may change: the book is marked wholly touched.
        protocol.touched.all = true;
        for account in &mut protocol.accounts {
            if account.debt <= 0.0 {
                continue;
            }
            if let Some(slot) = account.collateral.iter_mut().find(|c| c.0.index() == a) {
                let share = slot.1 / base;
                slot.1 += collateral * share;
                account.debt += debt_share * share;
                receiving += 1;
            }
        }
        pool.system_collateral[a] += collateral;
        pool.system_debt += debt_share;
        events.push((a, collateral, debt_share, receiving));
    }
    protocol.index = LiquidationIndex::build(&info.params, &protocol.accounts);
    let spread: f64 = events.iter().map(|e| e.2).sum();
    for (a, collateral, debt, troves) in events {
        let protocol = r.id;
        r.emit(EventKind::Redistributed {
            protocol,
            collateral_asset: AssetId(a as u32),
            collateral,
            debt,
            troves,
        });
    }
    // With no active trove left to take it, the debt is written off.
    let orphaned = debt - spread;
    if orphaned > 1e-9 * debt.max(1.0) {
        let debt_price = r.price(debt_asset);
        r.book_bad_debt(AccountId(0), debt_asset, orphaned, debt_price);
    }
}
