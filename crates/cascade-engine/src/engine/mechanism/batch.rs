//! Batched liquidation: a round of a fixed-spread protocol that closes every liquidatable,
//! untouched account of a (collateral, debt) pair at once, in closed form, instead of one keeper
//! call per account.
//!
//! A Monte Carlo path that breaks into a wall of loans liquidates most of it, one call, one
//! account update, one queued sale and one event per account; nobody reads those events, only
//! the path's totals. Where the rules make every call a full close whatever the account, the
//! totals of a run of accounts follow from two sums over it, and the accounts of a pair are
//! sorted by their trigger key in the index, so each run is a slice of the initial book's sorted
//! vector: prefix sums of its collateral and debt, built once per world, give them in O(1).
//!
//! **When a round is batched** (anything else takes the per-account path, the reference):
//! - the rule is a fixed spread with close factor 1, a fixed bonus (no health or volatility
//!   slope) and no rate limit, and no owner of the protocol acts (so only liquidations change
//!   accounts);
//! - no account of the protocol has changed in the path (`touched` is empty), so the sorted
//!   vector in play holds exactly the untouched accounts and every one of them is as it opened;
//!   once a per-account call touches one, the protocol's rounds stay per-account until the reset;
//! - the protocol's first keeper acts at once (no chain, no latency, no outage), calls once (not
//!   the two-step strategy), has the capital for the whole batch, and its minimum profit is below
//!   minus the largest repayment of the pair, so it would liquidate every account of the batch
//!   whatever the sale fetches.
//!
//! **The closed form** (docs/reference-math.md §1.3, `fixed_spread_seizure` with the whole
//! debt): at collateral price p, debt price q, bonus b and treasury share f, an account with
//! collateral c and debt d is wanted d·q(1+b)/p of its collateral. If that is at most c (key d /
//! (c·LT) at most p / (q(1+b)·LT)) the debt is repaid in full; otherwise all c is seized, c·p /
//! (q(1+b)) of the debt repaid and the rest written off. The keys split the batch's slice into a
//! lower part repaid in full and an upper part written off, so the totals are
//! - repaid = D(solvent) + C(under water)·p / (q(1+b)), seized = D(solvent)·q(1+b)/p +
//!   C(under water), written off = D(under water) − C(under water)·p / (q(1+b)),
//! - fee = f·b/(1+b)·seized, to the keeper seized − fee,
//!
//! with C and D the collateral and debt over each part. These equal the per-account calls'
//! totals up to the order of additions (the tests hold them to 1e-9 relative).
//!
//! **What is kept**: the slice leaves the index at once (`LiquidationIndex::close_top`), and its
//! totals are recorded (`ProtocolState::batches`) for the end-of-run mark; the accounts
//! themselves are not written (a reset has nothing to restore). One `LiquidationBatch` event
//! reports the batch.

use std::sync::Arc;

use cascade_model::ids::{AccountId, AssetId, KeeperId};
use cascade_model::keeper::KeeperStrategy;
use cascade_model::lending::{Account, LiquidationIndex, LiquidationRule, partition_from_top};

use super::Round;
use crate::event::{EventKind, LiquidationBatchRecord};
use crate::world::{ProtocolInfo, World};

/// What batching needs of one protocol, built once per world: its fixed spread's treasury share
/// and, per pair of its index, prefix sums over the initial book's sorted vector.
#[derive(Debug)]
pub(crate) struct ProtocolBatches {
    protocol_fee: f64,
    pairs: Vec<PairSums>,
}

/// Prefix sums of collateral and debt units over a pair's sorted entries (entry i's sums are
/// those of entries 0 … i − 1), and the largest debt of the pair.
#[derive(Debug)]
struct PairSums {
    collateral: Vec<f64>,
    debt: Vec<f64>,
    max_debt: f64,
}

impl PairSums {
    fn of(entries: &[(u64, u32)], accounts: &[Account]) -> Self {
        let mut collateral = Vec::with_capacity(entries.len() + 1);
        let mut debt = Vec::with_capacity(entries.len() + 1);
        let (mut c, mut d, mut max_debt) = (0.0, 0.0, 0.0_f64);
        collateral.push(c);
        debt.push(d);
        for &(_, i) in entries {
            let account = &accounts[i as usize];
            c += account.collateral.first().map_or(0.0, |x| x.1);
            d += account.debt;
            max_debt = max_debt.max(account.debt);
            collateral.push(c);
            debt.push(d);
        }
        Self {
            collateral,
            debt,
            max_debt,
        }
    }

    /// Collateral and debt units over entries `from` … `to` − 1.
    fn between(&self, from: usize, to: usize) -> (f64, f64) {
        (
            self.collateral[to] - self.collateral[from],
            self.debt[to] - self.debt[from],
        )
    }
}

impl ProtocolBatches {
    /// Each protocol's, where its rules allow batching.
    pub(crate) fn for_world(world: &World) -> Vec<Option<Arc<Self>>> {
        world
            .protocols
            .iter()
            .zip(&world.initial.protocols)
            .map(|(info, book)| Self::for_protocol(world, info, &book.accounts, &book.index))
            .collect()
    }

    fn for_protocol(
        world: &World,
        info: &ProtocolInfo,
        accounts: &[Account],
        index: &LiquidationIndex,
    ) -> Option<Arc<Self>> {
        let LiquidationRule::FixedSpread(rule) = info.params.liquidation else {
            return None;
        };
        let first = info.keepers.first()?;
        let keeper = &world.keepers[first.index()].spec;
        let allowed = rule.close_factor >= 1.0
            && rule.bonus_slope == 0.0
            && rule.volatility_slope == 0.0
            && info.params.step_limit_usd.is_none()
            && info.borrowers.is_empty()
            && keeper.strategy == KeeperStrategy::SingleCall;
        if !allowed {
            return None;
        }
        let pairs = (0..index.pairs().count())
            .map(|pair| PairSums::of(index.in_play(pair), accounts))
            .collect();
        Some(Arc::new(Self {
            protocol_fee: rule.protocol_fee,
            pairs,
        }))
    }
}

/// The totals of one batch that the mark needs: what the accounts held when they opened, and
/// the collateral taken from them.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ClosedBatch {
    pub(crate) collateral_asset: AssetId,
    pub(crate) debt_asset: AssetId,
    pub(crate) accounts: u64,
    /// Collateral units the accounts opened with.
    pub(crate) collateral: f64,
    /// Debt units they opened with.
    pub(crate) debt: f64,
    /// Collateral units seized from them.
    pub(crate) seized: f64,
}

/// Liquidates in batches what the round can, pair by pair, before the per-account candidates
/// are looked up. Returns the number of accounts liquidated.
pub(super) fn liquidate_batches(plan: &ProtocolBatches, r: &mut Round<'_>) -> u64 {
    let untouched = r.book.touched.ids().is_some_and(<[u32]>::is_empty);
    let Some(&keeper) = r.info.keepers.first() else {
        return 0;
    };
    if !untouched || r.chain.is_some() {
        return 0;
    }
    let mut liquidated = 0;
    for (pair, sums) in plan.pairs.iter().enumerate() {
        liquidated += liquidate_pair(plan, sums, r, pair, keeper);
    }
    liquidated
}

/// A batch of pair `pair`, if its keeper takes it whole.
fn liquidate_pair(
    plan: &ProtocolBatches,
    sums: &PairSums,
    r: &mut Round<'_>,
    pair: usize,
    k: KeeperId,
) -> u64 {
    let Some((collateral_asset, debt_asset)) = r.book.index.pairs().nth(pair) else {
        return 0;
    };
    if !r.book.index.overlay_is_empty(pair) {
        return 0;
    }
    let Some(params) = r.info.params.collateral[collateral_asset.index()] else {
        return 0;
    };
    let (p, q) = (r.price(collateral_asset), r.price(debt_asset));
    let Some(from) = first_liquidatable(r, pair, p / q) else {
        return 0;
    };
    let live = r.book.index.in_play(pair).len();
    let b = r.info.params.liquidation.bonus(&params);
    // Keys above this are under water: the wanted collateral exceeds the balance.
    let written_off_key = p / (q * (1.0 + b) * params.liquidation_threshold);
    let split = from
        + partition_from_top(&r.book.index.in_play(pair)[from..], |&(bits, _)| {
            f64::from_bits(bits) <= written_off_key
        });
    let (_, solvent_debt) = sums.between(from, split);
    let (under_collateral, under_debt) = sums.between(split, live);
    let repaid_under = under_collateral * p / (q * (1.0 + b));
    let repaid = solvent_debt + repaid_under;
    let seized = solvent_debt * q * (1.0 + b) / p + under_collateral;
    let written_off = (under_debt - repaid_under).max(0.0);
    let fee = (seized - seized / (1.0 + b)) * plan.protocol_fee;
    let to_keeper = seized - fee;
    let cost = repaid * q;
    // The keeper would take every account: it has the capital for all of them, and its minimum
    // profit is below what the worst of them could cost it (gas is free without a chain).
    let spec = &r.world.keepers[k.index()].spec;
    if r.keepers[k.index()].available(spec.capital) < cost || spec.min_profit > -sums.max_debt * q {
        return 0;
    }
    r.count_liquidated(cost);
    r.book.treasury[collateral_asset.index()] += fee;
    if let Some(losses) = r.book.losses.as_mut() {
        losses.record_fees(fee * p);
        if written_off > 0.0 {
            losses.record_bad_debt(written_off * q);
        }
    }
    let book = &mut r.keepers[k.index()];
    book.spent += cost;
    book.receive(collateral_asset, to_keeper);
    if let Some(v) = spec.sell_on[collateral_asset.index()] {
        r.queue_sale(k, v, to_keeper, p);
    }
    let (opened_collateral, opened_debt) = sums.between(from, live);
    let accounts = (live - from) as u64;
    r.book.index.close_top(pair, from);
    r.book.batches.push(ClosedBatch {
        collateral_asset,
        debt_asset,
        accounts,
        collateral: opened_collateral,
        debt: opened_debt,
        seized,
    });
    let protocol = r.id;
    r.emit(EventKind::LiquidationBatch(LiquidationBatchRecord {
        protocol,
        keeper: k,
        accounts,
        written_off_accounts: (live - split) as u64,
        collateral_asset,
        collateral_seized: seized,
        to_keeper,
        protocol_fee: fee,
        collateral_price: p,
        debt_asset,
        debt_repaid: repaid,
        written_off,
        debt_price: q,
    }));
    accounts
}

/// The position of the pair's lowest entry in play that is liquidatable at price ratio `ratio`
/// (every entry above it is), if any: the index's candidates, confirmed from the bottom by the
/// health factor where rounding at the boundary could disagree with the key.
fn first_liquidatable(r: &Round<'_>, pair: usize, ratio: f64) -> Option<usize> {
    let entries = r.book.index.in_play(pair);
    let floor = if ratio > 0.0 {
        ratio.to_bits().saturating_sub(1)
    } else {
        0
    };
    let mut from = partition_from_top(entries, |&(bits, _)| bits <= floor);
    while let Some(&(_, i)) = entries.get(from) {
        if r.health_factor_below_one(AccountId(i)).is_some() {
            return Some(from);
        }
        from += 1;
    }
    None
}
