//! The chain's measures (summary.json `chain`, `protocols.<NAME>.borrowers`,
//! `keepers.<NAME>.gas_spent_usd`): blocks and gas prices, what happened to every transaction
//! the agents sent (included, reverted, dropped, still waiting) and how long they waited, per
//! kind; the borrowers who noticed, acted, or were stopped. A fold over the chain and borrower
//! events.
//!
//! State: a tally for all transactions and one per kind; the transactions waiting in the mempool
//! (those are the only ones whose later inclusion must be told from an immediate one); per
//! protocol whose owners act, its borrowers' counts and one bit per account whose owner acted
//! and has not been liquidated since (`liquidated_after_acting` needs it); per keeper, its gas.
//! When keepers bid in priority gas auctions, the contests (`chain.gas_auctions`) and each
//! keeper's wins, losses and reverted transactions (`keepers.<NAME>.gas_auctions`).

use std::collections::BTreeMap;

use cascade_engine::{Event, EventKind, GasAuctionRecord, LiquidationRecord, World};
use cascade_model::borrower::BorrowerAction;
use cascade_model::chain::{DropReason, Sender, TxKind};
use cascade_model::ids::ProtocolId;
use serde::Serialize;

use crate::tally::{AccountSet, PerAsset};

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
    /// Priority gas auctions among keepers (only when a keeper bids in them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gas_auctions: Option<GasAuctionSummary>,
}

/// `chain.gas_auctions`: the opportunities two or more keepers bid gas for in one step.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GasAuctionSummary {
    /// Contested opportunities (one priority gas auction each).
    pub contested: u64,
    /// Per kind of transaction (`liquidate`, `bid`, `take`).
    pub by_kind: BTreeMap<String, u64>,
    /// Of which the highest bid got in (the others' bids did not clear or found no room).
    pub won: u64,
    /// Mean keepers per contest.
    pub bidders_mean: f64,
    /// Raises in all.
    pub raises: u64,
    /// Mean winning bid of the contests won, gwei: the clearing price of a contested
    /// opportunity.
    pub winning_gwei_mean: f64,
    /// Highest winning bid, gwei.
    pub winning_gwei_max: f64,
    /// Mean clearing price of the chain when those contests began, gwei.
    pub base_gwei_mean: f64,
    /// Bidders outbid.
    pub outbid: u64,
    /// Of which still got into a block (gas paid; a liquidation or take then reverts).
    pub outbid_included: u64,
}

/// `keepers.<NAME>.gas_auctions`: a keeper in priority gas auctions.
#[derive(Clone, Debug, Default, Serialize)]
pub struct KeeperGasAuctions {
    /// Contests it won (its bid first in the block).
    pub won: u64,
    /// Contests in which it was outbid.
    pub lost: u64,
    /// Of those, the ones whose transaction still got in (its gas paid).
    pub lost_included: u64,
    /// Its transactions that reverted (outbid, or their action gone by the time they got in).
    pub reverted: u64,
    /// Gas paid for those, USD.
    pub gas_reverted_usd: f64,
    /// Its marked profit less all the gas it paid, USD.
    pub profit_net_of_gas_usd: f64,
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

/// What the chain fold yields.
pub(crate) struct ChainFigures {
    /// The chain's summary, when the world has a chain.
    pub(crate) chain: Option<ChainSummary>,
    /// Per protocol, its borrowers' summary when its owners act.
    pub(crate) borrowers: Vec<Option<BorrowerSummary>>,
    /// Per keeper, gas paid, USD (when the world has a chain).
    pub(crate) keeper_gas: Vec<Option<f64>>,
    /// Per keeper, its part in gas auctions (when keepers bid in them; the profit net of gas is
    /// left to the summary).
    pub(crate) keeper_auctions: Vec<Option<KeeperGasAuctions>>,
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

/// One protocol's borrowers so far.
struct BorrowerTally {
    summary: BorrowerSummary,
    collateral_added: PerAsset,
    debt_repaid: PerAsset,
    /// Σ seconds from noticing to acting, and the actions.
    reaction: (f64, u64),
    /// Accounts whose owner acted and that were not liquidated since.
    acted: AccountSet,
}

/// The fold of the chain and borrower events.
pub(crate) struct ChainFold {
    chain: Option<ChainSummary>,
    borrowers: Vec<Option<BorrowerTally>>,
    keeper_gas: Vec<Option<f64>>,
    all: Tally,
    kinds: BTreeMap<TxKind, Tally>,
    gas_sum: f64,
    gas_steps: u64,
    /// Transactions waiting in the mempool (they were counted as sent when submitted), with
    /// the protocol of an owner's.
    waiting: BTreeMap<u64, Option<ProtocolId>>,
    /// The gas auctions so far, with Σ bidders, Σ winning bids and Σ base prices.
    auctions: Option<(GasAuctionSummary, f64, f64, f64)>,
    /// Per keeper, its part in them.
    keeper_auctions: Vec<Option<KeeperGasAuctions>>,
}

impl ChainFold {
    pub(crate) fn new(world: &World) -> Self {
        Self {
            chain: world.chain.as_ref().map(|c| ChainSummary {
                block_seconds: c.block_seconds,
                ..ChainSummary::default()
            }),
            borrowers: world
                .protocols
                .iter()
                .map(|p| {
                    (!p.borrowers.is_empty()).then(|| BorrowerTally {
                        summary: BorrowerSummary::default(),
                        collateral_added: PerAsset::new(world.assets.len()),
                        debt_repaid: PerAsset::new(world.assets.len()),
                        reaction: (0.0, 0),
                        acted: AccountSet::growing(),
                    })
                })
                .collect(),
            keeper_gas: world
                .keepers
                .iter()
                .map(|_| world.chain.as_ref().map(|_| 0.0))
                .collect(),
            all: Tally::default(),
            kinds: BTreeMap::new(),
            gas_sum: 0.0,
            gas_steps: 0,
            waiting: BTreeMap::new(),
            auctions: gas_auctions(world).then(|| (GasAuctionSummary::default(), 0.0, 0.0, 0.0)),
            keeper_auctions: world
                .keepers
                .iter()
                .map(|_| gas_auctions(world).then(KeeperGasAuctions::default))
                .collect(),
        }
    }

    /// A priority gas auction.
    fn gas_auction(&mut self, a: &GasAuctionRecord) {
        if let Some((s, bidders, winning, base)) = self.auctions.as_mut() {
            s.contested += 1;
            *s.by_kind.entry(a.kind.name().to_string()).or_default() += 1;
            s.raises += u64::from(a.raises);
            s.outbid += a.outbid.len() as u64;
            s.outbid_included += a.outbid.iter().filter(|(_, got_in)| *got_in).count() as u64;
            *bidders += f64::from(a.bidders);
            *base += a.base_gwei;
            if a.winner.is_some() {
                s.won += 1;
                *winning += a.winning_gwei;
                s.winning_gwei_max = s.winning_gwei_max.max(a.winning_gwei);
            }
        }
        if let Some(k) = a.winner {
            if let Some(t) = self.keeper_auctions[k.index()].as_mut() {
                t.won += 1;
            }
        }
        for &(k, got_in) in &a.outbid {
            if let Some(t) = self.keeper_auctions[k.index()].as_mut() {
                t.lost += 1;
                t.lost_included += u64::from(got_in);
            }
        }
    }

    pub(crate) fn event(&mut self, event: &Event) {
        match &event.kind {
            EventKind::BlocksProduced {
                blocks,
                gas_gwei,
                waiting,
                ..
            } => {
                if let Some(c) = self.chain.as_mut() {
                    if self.gas_steps == 0 {
                        c.gas_gwei_start = *gas_gwei;
                    }
                    c.blocks += blocks;
                    c.gas_gwei_max = c.gas_gwei_max.max(*gas_gwei);
                    c.max_waiting = c.max_waiting.max(*waiting);
                    self.gas_sum += gas_gwei;
                    self.gas_steps += 1;
                }
            }
            EventKind::TxSubmitted(tx) => {
                for tally in [&mut self.all, self.kinds.entry(tx.kind).or_default()] {
                    tally.summary.sent += 1;
                    tally.summary.waited += 1;
                }
                let owner = match tx.sender {
                    Sender::Borrower(p, _) => Some(p),
                    _ => None,
                };
                self.waiting.insert(tx.tx, owner);
            }
            EventKind::TxIncluded(tx) => {
                let was_waiting = self.waiting.remove(&tx.tx).is_some();
                let wait = event.time - tx.submitted.min(event.time);
                self.all.include(wait, tx.gas_usd, was_waiting);
                self.kinds
                    .entry(tx.kind)
                    .or_default()
                    .include(wait, tx.gas_usd, was_waiting);
                if let Sender::Keeper(k) = tx.sender {
                    if let Some(g) = self.keeper_gas[k.index()].as_mut() {
                        *g += tx.gas_usd;
                    }
                }
            }
            EventKind::TxReverted(tx) => {
                self.all.summary.reverted += 1;
                self.kinds.entry(tx.kind).or_default().summary.reverted += 1;
                if let Sender::Keeper(k) = tx.sender {
                    if let Some(t) = self.keeper_auctions[k.index()].as_mut() {
                        t.reverted += 1;
                        t.gas_reverted_usd += tx.gas_usd;
                    }
                }
            }
            EventKind::GasAuction(a) => self.gas_auction(a),
            EventKind::TxDropped(tx, reason) => {
                for tally in [&mut self.all, self.kinds.entry(tx.kind).or_default()] {
                    match reason {
                        DropReason::Expired => tally.summary.dropped_expired += 1,
                        DropReason::GasBudget => tally.summary.dropped_gas_budget += 1,
                    }
                }
                if let Sender::Borrower(p, _) = tx.sender {
                    if let Some(b) = self.borrowers[p.index()].as_mut() {
                        b.summary.transactions_dropped += 1;
                    }
                }
                self.waiting.remove(&tx.tx);
            }
            EventKind::KeeperOutOfGas { .. } => {
                if let Some(c) = self.chain.as_mut() {
                    c.keepers_out_of_gas += 1;
                }
            }
            EventKind::BorrowersNoticed {
                protocol,
                acting,
                declined,
            } => {
                if let Some(b) = self.borrowers[protocol.index()].as_mut() {
                    let s = &mut b.summary;
                    s.noticed += acting + declined;
                    s.decided_to_act += acting;
                    s.declined += declined;
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
                if let Some(b) = self.borrowers[protocol.index()].as_mut() {
                    match action {
                        BorrowerAction::TopUp => {
                            b.summary.top_ups += 1;
                            b.collateral_added.add(*asset, *units);
                        }
                        BorrowerAction::Repay => {
                            b.summary.repayments += 1;
                            b.debt_repaid.add(*asset, *units);
                        }
                    }
                    b.reaction.0 += (event.time - noticed.min(&event.time)) as f64;
                    b.reaction.1 += 1;
                    b.acted.insert(account.0);
                }
            }
            // Only a call or a kick counts as liquidating an account after its owner acted. A
            // batch of calls holds only accounts the path had not touched, so no owner of them
            // had acted: it has nothing to count here.
            EventKind::Liquidation(LiquidationRecord {
                protocol, account, ..
            })
            | EventKind::AuctionKicked {
                protocol, account, ..
            } => {
                if let Some(b) = self.borrowers[protocol.index()].as_mut() {
                    if b.acted.remove(account.0) {
                        b.summary.liquidated_after_acting += 1;
                    }
                }
            }
            _ => {}
        }
    }

    pub(crate) fn finish(mut self, world: &World) -> ChainFigures {
        for p in self.waiting.into_values().flatten() {
            if let Some(b) = self.borrowers[p.index()].as_mut() {
                b.summary.transactions_waiting_at_end += 1;
            }
        }
        if let Some(c) = self.chain.as_mut() {
            if self.gas_steps > 0 {
                c.gas_gwei_mean = self.gas_sum / self.gas_steps as f64;
            }
            c.transactions = self.all.finish();
            c.gas_auctions = self.auctions.map(|(mut s, bidders, winning, base)| {
                if s.contested > 0 {
                    s.bidders_mean = bidders / s.contested as f64;
                    s.base_gwei_mean = base / s.contested as f64;
                }
                if s.won > 0 {
                    s.winning_gwei_mean = winning / s.won as f64;
                }
                s
            });
            c.gas_usd = c.transactions.gas_usd;
            c.by_kind = self
                .kinds
                .into_iter()
                .map(|(k, t)| (k.name().to_string(), t.finish()))
                .collect();
        }
        let borrowers = self
            .borrowers
            .into_iter()
            .map(|tally| {
                let b = tally?;
                let (total, count) = b.reaction;
                let mut s = b.summary;
                s.collateral_added = b.collateral_added.into_map(world);
                s.debt_repaid = b.debt_repaid.into_map(world);
                if count > 0 {
                    s.mean_reaction_seconds = total / count as f64;
                }
                Some(s)
            })
            .collect();
        ChainFigures {
            chain: self.chain,
            borrowers,
            keeper_gas: self.keeper_gas,
            keeper_auctions: self.keeper_auctions,
        }
    }
}

/// Whether keepers of `world` bid in priority gas auctions.
fn gas_auctions(world: &World) -> bool {
    world.chain.is_some()
        && world
            .keepers
            .iter()
            .any(|k| k.spec.gas.is_priority_auction())
}
