//! The agents' transactions inside the step: the mempool, inclusion by gas bid within the
//! step's room, re-bids, expiry, and the gate ([`Gate::transact`]) that every keeper and
//! borrower action goes through.
//!
//! At the start of each step the chain produces the step's blocks: the clearing gas price is read
//! (series, constant or volatility process), the agents' room is `room per block × blocks`,
//! waiting transactions older than the expiry are dropped, market-strategy senders re-bid, and the
//! waiting transactions that now clear get in, highest bid first, while room lasts. Those are
//! executed when the engine reaches their action in the step (a borrower's in phase 4, a keeper's
//! in the cascade); one whose action is no longer possible by the step's end reverts, its gas
//! spent. During the step an agent that decides to act sends a transaction: it gets in at once if
//! its bid clears and room is left, and waits otherwise. A sender's waiting transaction for the
//! same action and target is the same transaction when the sender wants it again, so nothing is
//! sent or executed twice.
//!
//! Without a `[chain]` the gate still applies keepers' reaction latency and absences: an action
//! waits until the latency has passed since the keeper first wanted it, with no gas and no room
//! limit, and an intent the keeper stops wanting is forgotten at the step's end.

use std::collections::{BTreeMap, HashMap, HashSet};

use cascade_model::chain::{
    DropReason, GasStrategy, Sender, Target, Transaction, TxKind, inclusion_order,
};
use cascade_model::fundamental::Fundamental;
use cascade_model::ids::KeeperId;
use cascade_model::keeper::KeeperBook;
use cascade_model::volatility::RealisedVolatility;

use crate::event::{Event, EventKind, TxRecord};
use crate::sink::EventSink;
use crate::world::World;

type TxKey = (Sender, TxKind, Target);

/// The mempool and the current step's blocks.
#[derive(Clone, Debug)]
pub(crate) struct ChainRun {
    /// Clearing gas price of the step, gwei.
    pub(super) gas_gwei: f64,
    /// Agents' transactions that still fit in the step.
    room: u64,
    /// Waiting transactions, and those included this step and not yet executed, by id.
    txs: BTreeMap<u64, Transaction>,
    /// The transaction of each (sender, kind, target).
    by_key: HashMap<TxKey, u64>,
    /// Transactions wanted this step (without a chain, the others are forgotten at its end).
    wanted: HashSet<u64>,
    next_id: u64,
    /// Realised volatility of the gas process's asset, when the gas price follows it.
    volatility: Option<RealisedVolatility>,
    /// Per keeper: whether its gas budget last failed to pay for a transaction.
    out_of_gas: Vec<bool>,
}

impl ChainRun {
    /// The mempool of `world`, if anything needs one: a chain, or a keeper with a reaction
    /// latency or absences.
    pub(super) fn for_world(world: &World) -> Option<Self> {
        let keepers_wait = world
            .keepers
            .iter()
            .any(|k| k.spec.latency > 0 || !k.spec.outages.is_empty());
        if world.chain.is_none() && !keepers_wait {
            return None;
        }
        let volatility = world.chain.as_ref().and_then(|c| match c.gas {
            cascade_model::chain::GasPrice::Volatility { window, .. } => Some(
                RealisedVolatility::new(window, world.simulation.step_seconds),
            ),
            _ => None,
        });
        Some(Self {
            gas_gwei: 0.0,
            room: u64::MAX,
            txs: BTreeMap::new(),
            by_key: HashMap::new(),
            wanted: HashSet::new(),
            next_id: 0,
            volatility,
            out_of_gas: vec![false; world.keepers.len()],
        })
    }

    /// Transactions waiting in the mempool (not included).
    pub(super) fn waiting(&self) -> u64 {
        self.txs.values().filter(|t| !t.included).count() as u64
    }

    fn remove(&mut self, id: u64) -> Option<Transaction> {
        let tx = self.txs.remove(&id)?;
        self.by_key.remove(&(tx.sender, tx.kind, tx.target));
        self.wanted.remove(&id);
        Some(tx)
    }
}

/// USD a transaction of `kind` bidding `gwei` costs now (0 without a chain).
fn gas_cost(world: &World, fundamentals: &[Fundamental], kind: TxKind, gwei: f64) -> f64 {
    world.chain.as_ref().map_or(0.0, |c| {
        c.cost_usd(kind, gwei, fundamentals[c.gas_asset.index()].price())
    })
}

/// USD keeper `k` expects a new transaction of `kind` to cost now: what its strategy would bid
/// at the current clearing price (0 without a chain). Keepers count it against their minimum
/// profit.
pub(super) fn expected_gas_usd(
    world: &World,
    run: Option<&ChainRun>,
    fundamentals: &[Fundamental],
    k: KeeperId,
    kind: TxKind,
) -> f64 {
    match run {
        Some(run) if world.chain.is_some() => gas_cost(
            world,
            fundamentals,
            kind,
            world.keepers[k.index()].spec.gas.bid(run.gas_gwei),
        ),
        _ => 0.0,
    }
}

/// Whether a transaction of `sender` for `kind` on `target` is in the mempool (waiting or
/// included this step).
pub(super) fn has_transaction(
    run: Option<&ChainRun>,
    sender: Sender,
    kind: TxKind,
    target: Target,
) -> bool {
    run.is_some_and(|run| run.by_key.contains_key(&(sender, kind, target)))
}

/// Whether `sender` holds a transaction of `kind` on `target` included this step and not yet
/// executed (it goes first: it is in an earlier block).
pub(super) fn holds_included(
    run: Option<&ChainRun>,
    sender: Sender,
    kind: TxKind,
    target: Target,
) -> bool {
    run.is_some_and(|run| {
        run.by_key
            .get(&(sender, kind, target))
            .is_some_and(|id| run.txs[id].included)
    })
}

fn record(tx: &Transaction, gas_usd: f64) -> Box<TxRecord> {
    Box::new(TxRecord {
        tx: tx.id,
        sender: tx.sender,
        kind: tx.kind,
        target: tx.target,
        gas_bid: tx.gas_bid,
        gas_usd,
        submitted: tx.submitted,
        bumps: tx.bumps,
    })
}

/// What the chain's gate works with: the world (read only), the mempool, the keepers' books (gas
/// spent), the fundamentals (the gas asset's price), the clock and the sink. Built for each use
/// from the disjoint parts of a path's state, so the phases and the liquidation mechanisms reach
/// the gate without holding the whole engine.
pub(super) struct Gate<'a> {
    pub(super) world: &'a World,
    pub(super) run: &'a mut Option<ChainRun>,
    pub(super) keepers: &'a mut [KeeperBook],
    pub(super) fundamentals: &'a [Fundamental],
    pub(super) step: u64,
    pub(super) time: u64,
    pub(super) sink: &'a mut dyn EventSink,
}

impl Gate<'_> {
    fn emit(&mut self, round: u32, kind: EventKind) {
        self.sink.record(&Event {
            step: self.step,
            time: self.time,
            round,
            kind,
        });
    }

    /// How `sender` prices gas.
    fn gas_strategy(&self, sender: Sender) -> GasStrategy {
        match sender {
            Sender::Keeper(k) => self.world.keepers[k.index()].spec.gas,
            Sender::Borrower(p, id) => self.world.protocols[p.index()]
                .borrower(id)
                .map_or(GasStrategy::Fixed { gwei: 0.0 }, |b| b.gas),
        }
    }

    /// USD a transaction of `kind` bidding `gwei` costs now (0 without a chain).
    fn gas_cost(&self, kind: TxKind, gwei: f64) -> f64 {
        gas_cost(self.world, self.fundamentals, kind, gwei)
    }

    /// The start of a step's blocks: the clearing price, the room, expiries, re-bids and the
    /// waiting transactions that now get in.
    pub(super) fn begin_blocks(&mut self) {
        let world = self.world;
        let Some(run) = self.run.as_mut() else {
            return;
        };
        let Some(params) = world.chain.as_ref() else {
            return;
        };
        let now = self.time;
        let blocks = params.blocks_in_step(now, world.simulation.step_seconds);
        let volatility = match (&mut run.volatility, &params.gas) {
            (Some(v), cascade_model::chain::GasPrice::Volatility { asset, .. }) => {
                v.observe(self.fundamentals[asset.index()].price());
                v.daily()
            }
            _ => 0.0,
        };
        run.gas_gwei = params.gas.gwei(now, volatility);
        run.room = params.room(blocks);
        let (gas_gwei, room, waiting) = (run.gas_gwei, run.room, run.waiting());
        let ids: Vec<u64> = run.txs.keys().copied().collect();
        self.emit(
            0,
            EventKind::BlocksProduced {
                blocks,
                gas_gwei,
                room,
                waiting,
            },
        );
        // Expiries, then re-bids by market-strategy senders.
        for id in ids {
            let run = self.run.as_mut().expect("checked above");
            let tx = run.txs[&id];
            if params
                .expiry
                .is_some_and(|e| now.saturating_sub(tx.submitted) >= e)
            {
                let tx = run.remove(id).expect("present");
                self.emit(
                    0,
                    EventKind::TxDropped(record(&tx, 0.0), DropReason::Expired),
                );
                continue;
            }
            if let Some(bid) = self.gas_strategy(tx.sender).rebid(tx.gas_bid, gas_gwei) {
                let tx = self
                    .run
                    .as_mut()
                    .expect("checked above")
                    .txs
                    .get_mut(&id)
                    .expect("present");
                tx.gas_bid = bid;
                tx.bumps += 1;
            }
        }
        // Waiting transactions that clear get in, highest bid first, while room lasts.
        let run = self.run.as_ref().expect("checked above");
        let mut clearing: Vec<Transaction> = run
            .txs
            .values()
            .filter(|t| t.not_before <= now && t.gas_bid >= gas_gwei)
            .copied()
            .collect();
        clearing.sort_by(inclusion_order);
        for tx in clearing {
            if self.run.as_ref().is_some_and(|r| r.room == 0) {
                break;
            }
            if !self.pay_for(&tx, 0) {
                let run = self.run.as_mut().expect("checked above");
                let tx = run.remove(tx.id).expect("present");
                self.emit(
                    0,
                    EventKind::TxDropped(record(&tx, 0.0), DropReason::GasBudget),
                );
                continue;
            }
            let run = self.run.as_mut().expect("checked above");
            run.txs.get_mut(&tx.id).expect("present").included = true;
        }
    }

    /// Whether keeper `k`'s gas budget can pay `cost`; the first refusal since it last paid
    /// emits `KeeperOutOfGas`.
    fn keeper_can_pay(&mut self, k: KeeperId, cost: f64, round: u32) -> bool {
        let budget = self.world.keepers[k.index()].spec.gas_budget;
        let book = &self.keepers[k.index()];
        if cost <= book.gas_left(budget) {
            return true;
        }
        let gas_spent = book.gas_spent;
        let run = self.run.as_mut().expect("a chain pays");
        if !std::mem::replace(&mut run.out_of_gas[k.index()], true) {
            self.emit(
                round,
                EventKind::KeeperOutOfGas {
                    keeper: k,
                    gas_spent,
                },
            );
        }
        false
    }

    /// Includes `tx` if its sender can pay: room is taken, gas paid, `TxIncluded` emitted.
    /// Returns false when a keeper's gas budget cannot pay (emitting `KeeperOutOfGas` the first
    /// time).
    fn pay_for(&mut self, tx: &Transaction, round: u32) -> bool {
        let cost = self.gas_cost(tx.kind, tx.gas_bid);
        if let Sender::Keeper(k) = tx.sender {
            if !self.keeper_can_pay(k, cost, round) {
                return false;
            }
            self.keepers[k.index()].gas_spent += cost;
            self.run.as_mut().expect("a chain pays").out_of_gas[k.index()] = false;
        }
        let run = self.run.as_mut().expect("a chain pays");
        run.room = run.room.saturating_sub(1);
        self.emit(round, EventKind::TxIncluded(record(tx, cost)));
        true
    }

    /// The gate of every agent action: whether `sender`'s transaction of `kind` on `target`
    /// executes now. Without a mempool it always does. An absent keeper sends nothing new (its
    /// transactions already sent may still get in and execute). A
    /// transaction included at the start of the step executes; a waiting one is re-bid by its
    /// sender's strategy and gets in if it clears and room is left; otherwise a new one is sent
    /// (`amount` fixes what a borrower's moves) and gets in at once or waits. Returns the amount
    /// the executing transaction carries, or `None` if nothing executes now.
    pub(super) fn transact(
        &mut self,
        sender: Sender,
        kind: TxKind,
        target: Target,
        amount: f64,
        round: u32,
    ) -> Option<f64> {
        let now = self.time;
        let Some(run) = self.run.as_mut() else {
            return Some(amount);
        };
        let latency = match sender {
            Sender::Keeper(k) => self.world.keepers[k.index()].spec.latency,
            Sender::Borrower(..) => 0,
        };
        let absent = match sender {
            Sender::Keeper(k) => !self.world.keepers[k.index()].spec.present(now),
            Sender::Borrower(..) => false,
        };
        let on_chain = self.world.chain.is_some();
        if absent && !on_chain {
            // Without a chain nothing was sent: an absent keeper's intents wait with it.
            return None;
        }
        let id = match run.by_key.get(&(sender, kind, target)) {
            Some(&id) => {
                run.wanted.insert(id);
                if run.txs[&id].included {
                    return run.remove(id).map(|tx| tx.amount);
                }
                id
            }
            None => {
                // An absent keeper sends nothing new; what it sent before is on its way.
                if absent {
                    return None;
                }
                let gas_gwei = run.gas_gwei;
                let gas_bid = if on_chain {
                    self.gas_strategy(sender).bid(gas_gwei)
                } else {
                    0.0
                };
                if let Sender::Keeper(k) = sender {
                    // A keeper whose budget cannot pay for the transaction does not send it.
                    let cost = self.gas_cost(kind, gas_bid);
                    if on_chain && !self.keeper_can_pay(k, cost, round) {
                        return None;
                    }
                }
                let run = self.run.as_mut().expect("present");
                let id = run.next_id;
                run.next_id += 1;
                run.txs.insert(
                    id,
                    Transaction {
                        id,
                        sender,
                        kind,
                        target,
                        gas_bid,
                        submitted: now,
                        not_before: now + latency,
                        bumps: 0,
                        amount,
                        included: false,
                    },
                );
                run.by_key.insert((sender, kind, target), id);
                run.wanted.insert(id);
                if let Some(amount) = self.try_include(id, round) {
                    return Some(amount);
                }
                if on_chain {
                    let tx = self.run.as_ref().expect("present").txs[&id];
                    self.emit(round, EventKind::TxSubmitted(record(&tx, 0.0)));
                }
                return None;
            }
        };
        self.try_include(id, round)
    }

    /// Tries to include waiting transaction `id` now; on success it is removed and the amount
    /// it carries returned, for its action to execute.
    fn try_include(&mut self, id: u64, round: u32) -> Option<f64> {
        let now = self.time;
        let run = self.run.as_mut().expect("a mempool");
        let tx = run.txs[&id];
        if now < tx.not_before {
            return None;
        }
        if self.world.chain.is_none() {
            return run.remove(id).map(|tx| tx.amount);
        }
        let gas_gwei = run.gas_gwei;
        let mut tx = tx;
        if tx.gas_bid < gas_gwei {
            match self.gas_strategy(tx.sender).rebid(tx.gas_bid, gas_gwei) {
                Some(bid) if bid >= gas_gwei => {
                    tx.gas_bid = bid;
                    tx.bumps += 1;
                    let run = self.run.as_mut().expect("a mempool");
                    *run.txs.get_mut(&id).expect("present") = tx;
                }
                _ => return None,
            }
        }
        if self.run.as_ref().is_some_and(|r| r.room == 0) || !self.pay_for(&tx, round) {
            return None;
        }
        self.run
            .as_mut()
            .expect("a mempool")
            .remove(id)
            .map(|tx| tx.amount)
    }

    /// The end of a step's blocks: transactions included this step and not executed revert;
    /// without a chain, intents nobody wanted this step are forgotten.
    pub(super) fn end_blocks(&mut self) {
        let Some(run) = self.run.as_mut() else {
            return;
        };
        let on_chain = self.world.chain.is_some();
        let ids: Vec<u64> = run
            .txs
            .values()
            .filter(|t| t.included || (!on_chain && !run.wanted.contains(&t.id)))
            .map(|t| t.id)
            .collect();
        let mut reverted = Vec::new();
        for id in ids {
            let tx = run.remove(id).expect("present");
            if tx.included {
                reverted.push(tx);
            }
        }
        run.wanted.clear();
        for tx in reverted {
            let cost = self.gas_cost(tx.kind, tx.gas_bid);
            self.emit(0, EventKind::TxReverted(record(&tx, cost)));
        }
    }
}
