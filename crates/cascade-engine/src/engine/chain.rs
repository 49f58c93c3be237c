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
//! When keepers with the `priority_auction` gas strategy serve a protocol, a mechanism asks the
//! gate for a contest ([`Gate::contest`]) before its keepers act on an opportunity: the keepers
//! that want it and can send now bid in a priority gas auction, each up to the opportunity's
//! value to it; their transactions get in highest bid first while room lasts, and the mechanism
//! then tries its keepers in block order. The first executes; the others' included transactions
//! revert at the step's end if nothing is left for them, their gas spent. An English auction's
//! bids are not exclusive (all those that get in take part in the round's bidding): the bots
//! bid the clearing price when the lot is worth it to them, and nobody raises.
//!
//! Without a `[chain]` the gate still applies keepers' reaction latency and absences: an action
//! waits until the latency has passed since the keeper first wanted it, with no gas and no room
//! limit, and an intent the keeper stops wanting is forgotten at the step's end.

use std::collections::{BTreeMap, HashMap, HashSet};

use cascade_model::chain::{
    DropReason, GasBidder, GasStrategy, Sender, Target, Transaction, TxKind, inclusion_order,
    priority_gas_auction,
};
use cascade_model::fundamental::Fundamental;
use cascade_model::ids::KeeperId;
use cascade_model::keeper::KeeperBook;
use cascade_model::volatility::RealisedVolatility;

use crate::event::{Event, EventKind, GasAuctionRecord, TxRecord};
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
    /// Whether keepers bid in priority gas auctions (a chain, and a keeper with that strategy).
    pub(super) gas_auctions: bool,
    /// Opportunities contested this step: one auction each per step.
    contested: HashSet<(TxKind, Target)>,
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
            gas_auctions: world.chain.is_some()
                && world
                    .keepers
                    .iter()
                    .any(|k| k.spec.gas.is_priority_auction()),
            contested: HashSet::new(),
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

    /// A priority gas auction for `kind` on `target` among the keepers `wanting` it, each with
    /// the opportunity's value to it before gas (USD); returns the order in which they act:
    /// those holding a transaction included in an earlier block, then the auction's bidders by
    /// block position (whose transactions got in first), then those that cannot bid now (their
    /// reaction latency, absences). Each then goes through [`Gate::transact`] as usual.
    ///
    /// A keeper bids when it can send now: a priority-auction bot opens at the clearing price
    /// and raises up to the lower of its cap and `value / (gas used × gas asset price)`, and
    /// stays out when that is below the clearing price; any other strategy bids what it would
    /// anyway and does not raise. Bids that clear get in, highest first, while room and gas
    /// budgets last; the others wait. Without a chain, or for an opportunity contested already
    /// this step, nothing is bid: the keepers act in the order given, holders first.
    ///
    /// Only an `exclusive` opportunity — one the first transaction takes, a liquidation call or
    /// a take — is worth outbidding for, and its contest is recorded (`GasAuction`). An English
    /// auction's bids are not exclusive: every bid that gets in takes part in the round's
    /// bidding, whatever its place in the block (the round is settled as an English auction
    /// among them), so the bots bid the clearing price, each only if the lot's value to it
    /// covers it, and nobody raises.
    pub(super) fn contest(
        &mut self,
        kind: TxKind,
        target: Target,
        wanting: &[(KeeperId, f64)],
        exclusive: bool,
        round: u32,
    ) -> smallvec::SmallVec<[KeeperId; 4]> {
        let now = self.time;
        let world = self.world;
        let holds = |run: &ChainRun, k: KeeperId| {
            run.by_key
                .get(&(Sender::Keeper(k), kind, target))
                .map(|id| run.txs[id])
        };
        let mut order: smallvec::SmallVec<[KeeperId; 4]> = smallvec::SmallVec::new();
        let (Some(run), Some(params)) = (self.run.as_mut(), world.chain.as_ref()) else {
            order.extend(wanting.iter().map(|&(k, _)| k));
            return order;
        };
        let first_this_step = run.contested.insert((kind, target));
        order.extend(
            wanting
                .iter()
                .map(|&(k, _)| k)
                .filter(|&k| holds(run, k).is_some_and(|t| t.included)),
        );
        if !first_this_step {
            order.extend(
                wanting
                    .iter()
                    .map(|&(k, _)| k)
                    .filter(|&k| !holds(run, k).is_some_and(|t| t.included)),
            );
            return order;
        }
        let base = run.gas_gwei;
        let gas_price = self.fundamentals[params.gas_asset.index()].price();
        let usd_per_gwei = params.gas_used.of(kind) * cascade_model::chain::GWEI * gas_price;
        let mut waiting_out = smallvec::SmallVec::<[KeeperId; 4]>::new();
        let mut bidders: Vec<(KeeperId, GasBidder)> = Vec::new();
        for &(k, value_usd) in wanting {
            let spec = &world.keepers[k.index()].spec;
            let existing = holds(run, k);
            if existing.is_some_and(|t| t.included) {
                continue;
            }
            let present = spec.present(now);
            let ready = match existing {
                Some(t) => t.not_before <= now,
                None => present && spec.latency == 0,
            };
            if !ready {
                waiting_out.push(k);
                continue;
            }
            let opening = existing.map_or(0.0, |t| t.gas_bid);
            let bidder = match spec.gas {
                GasStrategy::PriorityAuction {
                    price_bump,
                    max_gwei,
                } if present => {
                    let value_gwei = if usd_per_gwei > 0.0 {
                        value_usd / usd_per_gwei
                    } else {
                        f64::INFINITY
                    };
                    let limit = max_gwei.min(value_gwei);
                    if limit < base {
                        // Not worth the clearing price: it sends nothing.
                        continue;
                    }
                    GasBidder {
                        opening: opening.max(base).min(limit),
                        limit,
                        price_bump: exclusive.then_some(price_bump),
                    }
                }
                strategy => {
                    let bid = match existing {
                        Some(t) if present => strategy.rebid(t.gas_bid, base).unwrap_or(t.gas_bid),
                        Some(t) => t.gas_bid,
                        None => strategy.bid(base),
                    };
                    GasBidder {
                        opening: bid,
                        limit: bid,
                        price_bump: None,
                    }
                }
            };
            bidders.push((k, bidder));
        }
        let auction: Vec<GasBidder> = bidders.iter().map(|&(_, b)| b).collect();
        let outcome = priority_gas_auction(&auction);
        let mut included = vec![false; bidders.len()];
        for &i in &outcome.order {
            let (k, _) = bidders[i];
            let bid = outcome.bids[i];
            included[i] = self.send_at(k, kind, target, bid, outcome.raises[i], round);
            order.push(k);
        }
        order.extend(waiting_out);
        if exclusive && bidders.len() >= 2 {
            let first = outcome.order[0];
            let winner = included[first].then_some(bidders[first].0);
            let outbid = outcome.order[1..]
                .iter()
                .map(|&i| (bidders[i].0, included[i]))
                .collect();
            self.emit(
                round,
                EventKind::GasAuction(Box::new(GasAuctionRecord {
                    kind,
                    target,
                    bidders: bidders.len() as u32,
                    winner,
                    winning_gwei: outcome.bids[first],
                    runner_up_gwei: outcome.bids[outcome.order[1]],
                    base_gwei: base,
                    raises: outcome.raises.iter().sum(),
                    outbid,
                })),
            );
        }
        order
    }

    /// Keeper `k`'s transaction of `kind` on `target` bidding `gwei` after `raises` raises: its
    /// waiting one re-bid, or a new one (not sent if its gas budget cannot pay). It gets in if
    /// the bid clears, room is left and the budget pays; otherwise it waits. Returns whether it
    /// got in.
    fn send_at(
        &mut self,
        k: KeeperId,
        kind: TxKind,
        target: Target,
        gwei: f64,
        raises: u32,
        round: u32,
    ) -> bool {
        let now = self.time;
        let sender = Sender::Keeper(k);
        let run = self.run.as_mut().expect("a chain contests");
        let id = match run.by_key.get(&(sender, kind, target)) {
            Some(&id) => {
                let tx = run.txs.get_mut(&id).expect("present");
                if gwei > tx.gas_bid {
                    tx.gas_bid = gwei;
                    tx.bumps += raises.max(1);
                }
                id
            }
            None => {
                let cost = self.gas_cost(kind, gwei);
                if !self.keeper_can_pay(k, cost, round) {
                    return false;
                }
                let run = self.run.as_mut().expect("a chain contests");
                let id = run.next_id;
                run.next_id += 1;
                run.txs.insert(
                    id,
                    Transaction {
                        id,
                        sender,
                        kind,
                        target,
                        gas_bid: gwei,
                        submitted: now,
                        not_before: now,
                        bumps: raises,
                        amount: 0.0,
                        included: false,
                    },
                );
                run.by_key.insert((sender, kind, target), id);
                let tx = run.txs[&id];
                if !self.get_in(&tx, round) {
                    self.emit(round, EventKind::TxSubmitted(record(&tx, 0.0)));
                    return false;
                }
                return true;
            }
        };
        let tx = self.run.as_ref().expect("a chain contests").txs[&id];
        self.get_in(&tx, round)
    }

    /// Includes `tx` (left in the mempool, marked included, for its action to execute) if its
    /// bid clears, room is left and its sender can pay.
    fn get_in(&mut self, tx: &Transaction, round: u32) -> bool {
        let run = self.run.as_ref().expect("a chain contests");
        if tx.gas_bid < run.gas_gwei || run.room == 0 || !self.pay_for(tx, round) {
            return false;
        }
        let run = self.run.as_mut().expect("a chain contests");
        run.txs.get_mut(&tx.id).expect("present").included = true;
        true
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
        run.contested.clear();
        for tx in reverted {
            let cost = self.gas_cost(tx.kind, tx.gas_bid);
            self.emit(0, EventKind::TxReverted(record(&tx, cost)));
        }
    }
}
