//! The chain's measures (summary.json `chain`, `protocols.<NAME>.borrowers`,
//! `keepers.<NAME>.gas_spent_usd`): blocks and gas prices, what happened to every transaction
//! the agents sent (included, reverted, dropped, still waiting) and how long they waited, per
//! kind; the borrowers who noticed, acted, or were stopped. A fold over the chain and borrower
//! events.

use std::collections::{BTreeMap, BTreeSet};

use cascade_engine::{Event, EventKind, World};
use cascade_model::borrower::BorrowerAction;
use cascade_model::chain::{DropReason, Sender, TxKind};
use serde::Serialize;

/// `chain.*`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ChainSummary {
    /// Seconds between blocks.
    pub block_seconds: u64,
    /// Blocks produced over the run.
    pub blocks: u64,
    /// Clearing gas price at the start, gwei.
    pub gas_gwei_start: f64,
    /// Highest clearing gas price, gwei.
    pub gas_gwei_max: f64,
    /// Mean clearing gas price over the steps, gwei.
    pub gas_gwei_mean: f64,
    /// The agents' transactions in all, and what became of them.
    pub transactions: TxSummary,
    /// The same per kind (`liquidate`, `kick`, `bid`, `take`, `top_up`, `repay`), for the kinds
    /// sent.
    pub by_kind: BTreeMap<String, TxSummary>,
    /// Most transactions waiting at the start of a step.
    pub max_waiting: u64,
    /// Gas paid by all agents, USD.
    pub gas_usd: f64,
    /// Times a keeper's gas budget could not pay for a transaction (it stops sending until gas
    /// is cheap enough).
    pub keepers_out_of_gas: u64,
}

/// What became of a set of transactions. `sent = included + dropped + waiting_at_end`, and
/// `included = executed + reverted`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TxSummary {
    /// Transactions sent.
    pub sent: u64,
    /// Of which got into a block at once.
    pub included_at_once: u64,
    /// Of which had to wait in the mempool first.
    pub waited: u64,
    /// Included (their gas paid).
    pub included: u64,
    /// Included and executed.
    pub executed: u64,
    /// Included when their action was no longer possible.
    pub reverted: u64,
    /// Dropped after waiting longer than the expiry.
    pub dropped_expired: u64,
    /// Dropped because their sender could not pay the gas.
    pub dropped_gas_budget: u64,
    /// Still waiting at the end of the run.
    pub waiting_at_end: u64,
    /// Mean wait of the included ones, seconds.
    pub mean_wait_seconds: f64,
    /// Longest wait of an included one, seconds.
    pub max_wait_seconds: u64,
    /// Gas paid, USD.
    pub gas_usd: f64,
}

/// `protocols.<NAME>.borrowers.*`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BorrowerSummary {
    /// Owners who found their account below their trigger (once per episode).
    pub noticed: u64,
    /// Of which decided to act.
    pub decided_to_act: u64,
    /// Of which decided not to.
    pub declined: u64,
    /// Top-ups executed.
    pub top_ups: u64,
    /// Repayments executed.
    pub repayments: u64,
    /// Collateral added, units per asset.
    pub collateral_added: BTreeMap<String, f64>,
    /// Debt repaid by owners, units per asset.
    pub debt_repaid: BTreeMap<String, f64>,
    /// Owners' transactions dropped from the mempool (congestion stopped them).
    pub transactions_dropped: u64,
    /// Owners' transactions still waiting at the end.
    pub transactions_waiting_at_end: u64,
    /// Accounts whose owner acted and that were still liquidated at some point afterwards.
    pub liquidated_after_acting: u64,
    /// Mean time from noticing to the action executing, seconds.
    pub mean_reaction_seconds: f64,
}

/// What a fold of the chain events yields.
pub struct ChainFold {
    /// The chain's summary, when the world has a chain.
    pub chain: Option<ChainSummary>,
    /// Per protocol, its borrowers' summary when its owners act.
    pub borrowers: Vec<Option<BorrowerSummary>>,
    /// Per keeper, gas paid, USD (when the world has a chain).
    pub keeper_gas: Vec<Option<f64>>,
}

#[derive(Default)]
struct Tally {
    summary: TxSummary,
    wait_total: f64,
}

impl Tally {
    fn include(&mut self, wait: u64, gas_usd: f64, waited: bool) {
        let s = &mut self.summary;
        s.included += 1;
        s.gas_usd += gas_usd;
        s.max_wait_seconds = s.max_wait_seconds.max(wait);
        self.wait_total += wait as f64;
        if !waited {
            s.sent += 1;
            s.included_at_once += 1;
        }
    }

    fn finish(mut self) -> TxSummary {
        let s = &mut self.summary;
        s.executed = s.included - s.reverted;
        s.waiting_at_end = s.sent - s.included - s.dropped_expired - s.dropped_gas_budget;
        if s.included > 0 {
            s.mean_wait_seconds = self.wait_total / s.included as f64;
        }
        self.summary
    }
}

/// Folds the chain and borrower events of a run.
pub fn chain_fold(world: &World, events: &[Event]) -> ChainFold {
    let mut chain = world.chain.as_ref().map(|c| ChainSummary {
        block_seconds: c.block_seconds,
        ..ChainSummary::default()
    });
    let mut borrowers: Vec<Option<BorrowerSummary>> = world
        .protocols
        .iter()
        .map(|p| (!p.borrowers.is_empty()).then(BorrowerSummary::default))
        .collect();
    let mut keeper_gas: Vec<Option<f64>> = world
        .keepers
        .iter()
        .map(|_| world.chain.as_ref().map(|_| 0.0))
        .collect();
    let mut all = Tally::default();
    let mut kinds: BTreeMap<TxKind, Tally> = BTreeMap::new();
    let mut gas_sum = 0.0;
    let mut gas_steps = 0u64;
    // Transactions that waited, by id: they were counted as sent when submitted.
    let mut waited: BTreeSet<u64> = BTreeSet::new();
    let mut owner_waiting: BTreeMap<u64, usize> = BTreeMap::new();
    let mut acted: Vec<BTreeSet<u32>> = world.protocols.iter().map(|_| BTreeSet::new()).collect();
    let mut reaction: Vec<(f64, u64)> = vec![(0.0, 0); world.protocols.len()];
    for event in events {
        match &event.kind {
            EventKind::BlocksProduced {
                blocks,
                gas_gwei,
                waiting,
                ..
            } => {
                if let Some(c) = chain.as_mut() {
                    if gas_steps == 0 {
                        c.gas_gwei_start = *gas_gwei;
                    }
                    c.blocks += blocks;
                    c.gas_gwei_max = c.gas_gwei_max.max(*gas_gwei);
                    c.max_waiting = c.max_waiting.max(*waiting);
                    gas_sum += gas_gwei;
                    gas_steps += 1;
                }
            }
            EventKind::TxSubmitted(tx) => {
                waited.insert(tx.tx);
                for tally in [&mut all, kinds.entry(tx.kind).or_default()] {
                    tally.summary.sent += 1;
                    tally.summary.waited += 1;
                }
                if let Sender::Borrower(p, _) = tx.sender {
                    owner_waiting.insert(tx.tx, p.index());
                }
            }
            EventKind::TxIncluded(tx) => {
                let was_waiting = waited.contains(&tx.tx);
                let wait = event.time - tx.submitted.min(event.time);
                all.include(wait, tx.gas_usd, was_waiting);
                kinds
                    .entry(tx.kind)
                    .or_default()
                    .include(wait, tx.gas_usd, was_waiting);
                if let Sender::Keeper(k) = tx.sender {
                    if let Some(g) = keeper_gas[k.index()].as_mut() {
                        *g += tx.gas_usd;
                    }
                }
                owner_waiting.remove(&tx.tx);
            }
            EventKind::TxReverted(tx) => {
                all.summary.reverted += 1;
                kinds.entry(tx.kind).or_default().summary.reverted += 1;
            }
            EventKind::TxDropped(tx, reason) => {
                for tally in [&mut all, kinds.entry(tx.kind).or_default()] {
                    match reason {
                        DropReason::Expired => tally.summary.dropped_expired += 1,
                        DropReason::GasBudget => tally.summary.dropped_gas_budget += 1,
                    }
                }
                if let Sender::Borrower(p, _) = tx.sender {
                    if let Some(b) = borrowers[p.index()].as_mut() {
                        b.transactions_dropped += 1;
                    }
                }
                owner_waiting.remove(&tx.tx);
            }
            EventKind::KeeperOutOfGas { .. } => {
                if let Some(c) = chain.as_mut() {
                    c.keepers_out_of_gas += 1;
                }
            }
            EventKind::BorrowersNoticed {
                protocol,
                acting,
                declined,
            } => {
                if let Some(b) = borrowers[protocol.index()].as_mut() {
                    b.noticed += acting + declined;
                    b.decided_to_act += acting;
                    b.declined += declined;
                }
            }
            EventKind::BorrowerActed {
                protocol,
                account,
                action,
                asset,
                units,
                noticed,
                ..
            } => {
                if let Some(b) = borrowers[protocol.index()].as_mut() {
                    let symbol = world.assets[asset.index()].symbol.clone();
                    match action {
                        BorrowerAction::TopUp => {
                            b.top_ups += 1;
                            *b.collateral_added.entry(symbol).or_insert(0.0) += units;
                        }
                        BorrowerAction::Repay => {
                            b.repayments += 1;
                            *b.debt_repaid.entry(symbol).or_insert(0.0) += units;
                        }
                    }
                    let r = &mut reaction[protocol.index()];
                    r.0 += (event.time - noticed.min(&event.time)) as f64;
                    r.1 += 1;
                    acted[protocol.index()].insert(account.0);
                }
            }
            EventKind::Liquidation(_) | EventKind::AuctionKicked { .. } => {
                let (p, account) = match &event.kind {
                    EventKind::Liquidation(l) => (l.protocol, l.account),
                    EventKind::AuctionKicked {
                        protocol, account, ..
                    } => (*protocol, *account),
                    _ => unreachable!("matched above"),
                };
                let after_acting = acted[p.index()].remove(&account.0);
                match borrowers[p.index()].as_mut() {
                    Some(b) if after_acting => b.liquidated_after_acting += 1,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    for p in owner_waiting.into_values() {
        if let Some(b) = borrowers[p].as_mut() {
            b.transactions_waiting_at_end += 1;
        }
    }
    if let Some(c) = chain.as_mut() {
        if gas_steps > 0 {
            c.gas_gwei_mean = gas_sum / gas_steps as f64;
        }
        c.transactions = all.finish();
        c.gas_usd = c.transactions.gas_usd;
        c.by_kind = kinds
            .into_iter()
            .map(|(k, t)| (k.name().to_string(), t.finish()))
            .collect();
    }
    for (b, (total, count)) in borrowers.iter_mut().zip(reaction) {
        if let Some(b) = b.as_mut() {
            if count > 0 {
                b.mean_reaction_seconds = total / count as f64;
            }
        }
    }
    ChainFold {
        chain,
        borrowers,
        keeper_gas,
    }
}
