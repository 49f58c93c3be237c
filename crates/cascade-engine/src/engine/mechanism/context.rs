//! What a liquidation mechanism may read and change: [`Round`] for a protocol's part of a cascade
//! round, [`StepCx`] for phase 6 and [`MarkCx`] for the end of a run.
//!
//! Each context is a set of disjoint borrows of the path's state, built by the engine for one
//! protocol, so a mechanism sees its protocol's book and the shared desks it works through (the
//! keepers' books, the sales waiting for the round's end, the transaction gate, the limits) and
//! nothing else: not the other protocols' books, not the perp exchanges, not the oracles. The
//! operations every mechanism repeats (the gate, a keeper's valuation, queuing a sale, an
//! episode's start and end, booking bad debt, settling an account left without collateral, the
//! end of an auction) are methods here, written once.

use cascade_model::chain::{Sender, Target, TxKind};
use cascade_model::fundamental::Fundamental;
use cascade_model::ids::{AccountId, AssetId, KeeperId, ProtocolId, VenueId};
use cascade_model::keeper::KeeperBook;
use cascade_model::lending::Account;
use cascade_model::venue::Venue;

use super::super::chain::{self, ChainRun, Gate};
use super::super::episodes::Episodes;
use super::super::{Impact, PendingSale, Sales};
use crate::event::{Event, EventKind};
use crate::sink::EventSink;
use crate::world::{ProtocolInfo, ProtocolState, World};

/// A protocol's keepers in the order they act on an account: without a chain the protocol's
/// own list, borrowed (nothing to build per liquidation); with one, reordered by what is already
/// in a block (most protocols have a few keepers: kept inline, so nothing is allocated).
pub(crate) enum KeeperOrder<'a> {
    /// The protocol's order.
    Listed(std::iter::Copied<std::slice::Iter<'a, KeeperId>>),
    /// Reordered by the chain.
    Reordered(smallvec::IntoIter<[KeeperId; 4]>),
}

impl Iterator for KeeperOrder<'_> {
    type Item = KeeperId;

    fn next(&mut self) -> Option<KeeperId> {
        match self {
            KeeperOrder::Listed(keepers) => keepers.next(),
            KeeperOrder::Reordered(keepers) => keepers.next(),
        }
    }
}

/// What happens to debt left on an account without collateral, by the protocol's rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BadDebt {
    /// Written off at once (realised bad debt).
    WrittenOff,
    /// Left on the account, which leaves the index (nothing more can be seized).
    LeftOnAccount,
}

/// One protocol's part of a cascade round.
pub(crate) struct Round<'a> {
    /// The world, read only.
    pub(crate) world: &'a World,
    /// The protocol.
    pub(crate) id: ProtocolId,
    /// Its rules and keepers.
    pub(crate) info: &'a ProtocolInfo,
    /// The round's number within the step's cascade (1 first).
    pub(crate) number: u32,
    /// The step.
    pub(crate) step: u64,
    /// The time, seconds.
    pub(crate) time: u64,
    /// The protocol's prices this round, per asset.
    pub(crate) prices: &'a [f64],
    /// Per asset, whether the protocol pauses liquidations that need its price (a stale feed,
    /// docs/reference-math.md §9.4); empty when it pauses none.
    pub(crate) paused: &'a [bool],
    /// The protocol's book: accounts (changed only through `account_mut`), index, treasury,
    /// loss absorber.
    pub(crate) book: &'a mut ProtocolState,
    /// Fundamentals, read only (keepers' quotes, the gas asset's price).
    pub(crate) fundamentals: &'a [Fundamental],
    /// Venues, read only in a round: keepers quote them; sales happen at the round's end.
    pub(crate) venues: &'a [Venue],
    /// The keepers' books.
    pub(crate) keepers: &'a mut [KeeperBook],
    /// Seized collateral on its way to the venues.
    pub(crate) sales: &'a mut Sales,
    /// The mempool (the gate's state).
    pub(crate) chain: &'a mut Option<ChainRun>,
    /// Per account of the protocol: when its current liquidation episode started.
    pub(crate) liquidatable_since: &'a mut Episodes,
    /// Debt (USD) the protocol has liquidated this step, against its rate limit.
    pub(crate) liquidated_usd: &'a mut f64,
    /// Per protocol: USD of tab in its running Dutch auctions, whose sum the world's
    /// `auction_hole` caps (the only figure of another protocol a mechanism sees).
    pub(crate) auction_tab_usd: &'a mut [f64],
    /// Scratch list of candidates.
    pub(crate) candidates: &'a mut Vec<AccountId>,
    /// Where events go.
    pub(crate) sink: &'a mut dyn EventSink,
    /// What the rule does with debt left without collateral.
    pub(crate) bad_debt: BadDebt,
    /// Whether the protocol's sales move the venues (muted in an attribution's
    /// counterfactuals).
    pub(crate) impact: Impact,
    /// Debt (USD) the protocol may liquidate per step: its own rate limit, lowered by a
    /// watcher's throttle (`Controls`); `None` for no limit.
    pub(crate) limit_usd: Option<f64>,
    /// The last quote of a keeper's sale, reused as the next quote's starting point.
    pub(crate) last_quote: Option<Quote>,
    /// The protocol's batching sums, when the engine batches and the rules allow it.
    pub(crate) batches: Option<&'a super::ProtocolBatches>,
}

impl<'a> Round<'a> {
    /// Records an event of this round.
    pub(crate) fn emit(&mut self, kind: EventKind) {
        self.sink.record(&Event {
            step: self.step,
            time: self.time,
            round: self.number,
            kind,
        });
    }

    /// The protocol's price of `asset` this round.
    pub(crate) fn price(&self, asset: AssetId) -> f64 {
        self.prices[asset.index()]
    }

    /// Whether a liquidation of account `id` needs a price the protocol pauses on: its debt
    /// asset's or a collateral's it holds (a health factor reads them all).
    pub(crate) fn is_paused(&self, id: AccountId) -> bool {
        if self.paused.is_empty() {
            return false;
        }
        let account = self.account(id);
        self.paused[account.debt_asset.index()]
            || account
                .collateral
                .iter()
                .any(|&(asset, units)| units > 0.0 && self.paused[asset.index()])
    }

    /// Account `id`, to read.
    pub(crate) fn account(&self, id: AccountId) -> &Account {
        &self.book.accounts[id.index()]
    }

    /// Its health factor at the round's prices, when below 1 (liquidatable).
    pub(crate) fn health_factor_below_one(&self, id: AccountId) -> Option<f64> {
        let price = |a: AssetId| self.prices[a.index()];
        let health_factor = self.account(id).health_factor(&self.info.params, &price);
        (health_factor < 1.0).then_some(health_factor)
    }

    /// Re-keys account `id` in the index after a change.
    pub(crate) fn reindex(&mut self, id: AccountId) {
        let book = &mut *self.book;
        book.index
            .update(&self.info.params, id, &book.accounts[id.index()]);
    }

    /// The chain's gate.
    fn gate(&mut self) -> Gate<'_> {
        Gate {
            world: self.world,
            run: self.chain,
            keepers: self.keepers,
            fundamentals: self.fundamentals,
            step: self.step,
            time: self.time,
            sink: &mut *self.sink,
        }
    }

    /// Whether keeper `k`'s transaction of `kind` on `target` executes now (latency, absences
    /// and, on a chain, gas, room and the mempool decide).
    pub(crate) fn transact(&mut self, k: KeeperId, kind: TxKind, target: Target) -> bool {
        let round = self.number;
        self.gate()
            .transact(Sender::Keeper(k), kind, target, 0.0, round)
            .is_some()
    }

    /// Whether keeper `k` holds a transaction of `kind` on `target` included this step and not
    /// yet executed (it goes first: it is in an earlier block).
    pub(crate) fn holds_included(&self, k: KeeperId, kind: TxKind, target: Target) -> bool {
        chain::holds_included(self.chain.as_ref(), Sender::Keeper(k), kind, target)
    }

    /// The protocol's keepers in the order they act on `target`: those holding an included
    /// transaction of `kind` on it first (it is in an earlier block), then the others, each
    /// group in the protocol's order. Without a chain that is the protocol's order.
    pub(crate) fn keepers_in_order(&self, kind: TxKind, target: Target) -> KeeperOrder<'a> {
        let info: &'a ProtocolInfo = self.info;
        if self.chain.is_none() {
            return KeeperOrder::Listed(info.keepers.iter().copied());
        }
        let mut keepers = smallvec::SmallVec::<[KeeperId; 4]>::from_slice(&info.keepers);
        keepers.sort_by_key(|&k| !self.holds_included(k, kind, target));
        KeeperOrder::Reordered(keepers.into_iter())
    }

    /// Whether keepers bid against each other in priority gas auctions (a chain, and a keeper
    /// with the `priority_auction` gas strategy).
    pub(crate) fn gas_auctions(&self) -> bool {
        self.chain.as_ref().is_some_and(|run| run.gas_auctions)
    }

    /// A priority gas auction among the keepers `wanting` the opportunity of `kind` on
    /// `target`, each with its value to them before gas (USD); returns the order in which they
    /// then act, each through [`Round::transact`] ([`Gate::contest`]). Liquidation calls and
    /// takes are exclusive (the first takes the opportunity); English-auction bids are not.
    pub(crate) fn contest(
        &mut self,
        kind: TxKind,
        target: Target,
        wanting: &[(KeeperId, f64)],
    ) -> smallvec::SmallVec<[KeeperId; 4]> {
        let round = self.number;
        let exclusive = match kind {
            TxKind::Liquidate | TxKind::Take | TxKind::Kick => true,
            TxKind::Bid | TxKind::TopUp | TxKind::Repay => false,
        };
        self.gate().contest(kind, target, wanting, exclusive, round)
    }

    /// USD keeper `k` expects a new transaction of `kind` to cost now.
    pub(crate) fn expected_gas_usd(&self, k: KeeperId, kind: TxKind) -> f64 {
        chain::expected_gas_usd(self.world, self.chain.as_ref(), self.fundamentals, k, kind)
    }

    /// The keeper that starts a process on account `id` (an auction, a trove's liquidation):
    /// the first of the protocol's keepers (one whose kick got into an earlier block first)
    /// whose kick transaction gets in.
    pub(crate) fn kicker(&mut self, id: AccountId) -> Option<KeeperId> {
        let target = Target::Account(self.id, id);
        self.keepers_in_order(TxKind::Kick, target)
            .find(|&k| self.transact(k, TxKind::Kick, target))
    }

    /// What keeper `k` would get for `units` of `asset` now: its venue's quote after the other
    /// sales pending this round, or `protocol_price` when it holds.
    ///
    /// The quote is the proceeds of selling everything pending plus `units` less those of
    /// selling what is pending. A liquidation queues exactly the units it was quoted for, so the
    /// next quote's "pending" is this quote's "pending plus units": the proceeds are kept
    /// ([`Quote`]) and reused when the venue, the fundamental and the pending units are the
    /// same to the bit (venues do not change within a round; the round is where this lives).
    pub(crate) fn keeper_value(
        &mut self,
        k: KeeperId,
        asset: AssetId,
        units: f64,
        protocol_price: f64,
    ) -> f64 {
        match self.world.keepers[k.index()].spec.sell_on[asset.index()] {
            Some(v) if self.impact == Impact::Muted => {
                // A muted sale fills at the price the venue will show after the others.
                let fundamental = self.fundamentals[asset.index()].price();
                units
                    * self.venues[v.index()]
                        .price_after(fundamental, self.sales.by_venue[v.index()])
            }
            Some(v) => {
                let fundamental = self.fundamentals[asset.index()].price();
                let venue = &self.venues[v.index()];
                let already = self.sales.by_venue[v.index()];
                let proceeds = |sold: f64| venue.sale_from(fundamental, 0.0, sold).1;
                let before = match self.last_quote {
                    Some(q) if q.is(v, fundamental, already) => q.proceeds,
                    _ => proceeds(already),
                };
                let sold = already + units;
                let after = proceeds(sold);
                self.last_quote = Some(Quote {
                    venue: v,
                    fundamental,
                    sold,
                    proceeds: after,
                });
                after - before
            }
            None => units * protocol_price,
        }
    }

    /// Queues `units` that keeper `k` will sell on venue `v` at the end of the round (later
    /// with a sale delay), valued at `oracle_price` for the slippage measure.
    pub(crate) fn queue_sale(&mut self, k: KeeperId, v: VenueId, units: f64, oracle_price: f64) {
        let sale = PendingSale {
            keeper: k,
            venue: v,
            units,
            oracle_value: units * oracle_price,
            impact: self.impact,
        };
        let delay = self.world.keepers[k.index()].spec.sale_delay;
        self.sales.queue(sale, delay, self.time);
    }

    /// USD of debt the protocol may still liquidate this step under its rate limit (its own,
    /// or a watcher's throttle, whichever is lower).
    pub(crate) fn allowance_usd(&self) -> f64 {
        self.limit_usd.map_or(f64::INFINITY, |limit| {
            (limit - *self.liquidated_usd).max(0.0)
        })
    }

    /// Counts `usd` of debt liquidated against the rate limit.
    pub(crate) fn count_liquidated(&mut self, usd: f64) {
        *self.liquidated_usd += usd;
    }

    /// Starts account `id`'s liquidation episode now, unless one is under way.
    pub(crate) fn start_episode(&mut self, id: AccountId) {
        if self.liquidatable_since.start(id, self.time) {
            // A reset must end the episode: the account counts as touched.
            self.book.touch(id);
        }
    }

    /// When account `id`'s episode started (now, if none is under way).
    pub(crate) fn episode_start(&self, id: AccountId) -> u64 {
        self.liquidatable_since.start_of(id).unwrap_or(self.time)
    }

    /// Ends account `id`'s episode; returns when it started (now, if none was under way).
    pub(crate) fn end_episode(&mut self, id: AccountId) -> u64 {
        self.liquidatable_since.end(id).unwrap_or(self.time)
    }

    /// Books debt that will not be repaid: the protocol's insurance fund (if any) takes it at
    /// the end of the step, and a `BadDebt` event records it.
    pub(crate) fn book_bad_debt(
        &mut self,
        account: AccountId,
        debt_asset: AssetId,
        amount: f64,
        debt_price: f64,
    ) {
        let usd = amount * debt_price;
        if let Some(losses) = self.book.losses.as_mut() {
            losses.record_bad_debt(usd);
        }
        self.emit(EventKind::BadDebt {
            protocol: self.id,
            account,
            debt_asset,
            amount,
            usd,
        });
    }

    /// Writes off the debt of account `id`, which has no collateral left.
    pub(crate) fn write_off(&mut self, id: AccountId) {
        let account = self.book.account_mut(id);
        let amount = account.debt;
        let debt_asset = account.debt_asset;
        account.debt = 0.0;
        self.reindex(id);
        let debt_price = self.price(debt_asset);
        self.book_bad_debt(id, debt_asset, amount, debt_price);
    }

    /// After a change: an account left owing with no collateral has its debt written off or
    /// leaves the index, by the rule (nothing more can be seized); any other account is
    /// re-indexed at its new trigger.
    pub(crate) fn settle_account(&mut self, id: AccountId) {
        let account = self.account(id);
        if !account.has_collateral() && account.debt > 0.0 {
            match self.bad_debt {
                BadDebt::WrittenOff => self.write_off(id),
                BadDebt::LeftOnAccount => self.book.index.forget(id),
            }
        } else {
            self.reindex(id);
        }
    }

    /// The end of any auction, Dutch or English: what was raised beyond the debt (the penalty)
    /// is income, fed to the insurance fund by its fee share; an `AuctionEnded` event records
    /// the close; what was raised short of the debt is bad debt.
    pub(crate) fn close_auction(&mut self, close: AuctionClose) {
        let surplus = (close.raised - close.debt).max(0.0);
        if let Some(losses) = self.book.losses.as_mut() {
            losses.record_fees(surplus * close.debt_price);
        }
        self.emit(EventKind::AuctionEnded {
            protocol: self.id,
            auction: close.auction,
            account: close.account,
            collateral_asset: close.collateral_asset,
            returned: close.returned,
            debt_asset: close.debt_asset,
            raised: close.raised,
            debt: close.debt,
            debt_price: close.debt_price,
            liquidatable_since: close.liquidatable_since,
        });
        let shortfall = close.debt - close.raised;
        if shortfall > 0.0 {
            self.book_bad_debt(close.account, close.debt_asset, shortfall, close.debt_price);
        }
    }
}

/// The proceeds of selling `sold` units on `venue` at `fundamental`, as last quoted in a round.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Quote {
    venue: VenueId,
    fundamental: f64,
    sold: f64,
    proceeds: f64,
}

impl Quote {
    /// Whether this quote is of selling `sold` on `venue` at `fundamental`, to the bit.
    fn is(&self, venue: VenueId, fundamental: f64, sold: f64) -> bool {
        self.venue == venue
            && self.fundamental.to_bits() == fundamental.to_bits()
            && self.sold.to_bits() == sold.to_bits()
    }
}

/// How an auction, Dutch or English, closed: the fields of its `AuctionEnded` event.
pub(crate) struct AuctionClose {
    pub(crate) auction: u32,
    pub(crate) account: AccountId,
    pub(crate) collateral_asset: AssetId,
    pub(crate) returned: f64,
    pub(crate) debt_asset: AssetId,
    pub(crate) raised: f64,
    pub(crate) debt: f64,
    pub(crate) debt_price: f64,
    pub(crate) liquidatable_since: u64,
}

/// A protocol's part of phase 6 (time-driven mechanisms): what it may sell into the venues.
pub(crate) struct StepCx<'a> {
    /// The world, read only.
    pub(crate) world: &'a World,
    /// The protocol.
    pub(crate) id: ProtocolId,
    /// The step.
    pub(crate) step: u64,
    /// The time, seconds.
    pub(crate) time: u64,
    /// Fundamentals, read only.
    pub(crate) fundamentals: &'a [Fundamental],
    /// Venues, which sales move.
    pub(crate) venues: &'a mut [Venue],
    /// Each venue's last price, which a sale sets.
    pub(crate) last_venue_price: &'a mut [f64],
    /// Whether the protocol's sales move the venues (muted in an attribution's
    /// counterfactuals).
    pub(crate) impact: Impact,
    /// Where events go.
    pub(crate) sink: &'a mut dyn EventSink,
}

impl StepCx<'_> {
    /// Records an event of phase 6.
    pub(crate) fn emit(&mut self, kind: EventKind) {
        self.sink.record(&Event {
            step: self.step,
            time: self.time,
            round: 0,
            kind,
        });
    }
}

/// A protocol's part of the end-of-run marks: it only records.
pub(crate) struct MarkCx<'a> {
    /// The protocol.
    pub(crate) id: ProtocolId,
    /// The step.
    pub(crate) step: u64,
    /// The time, seconds.
    pub(crate) time: u64,
    /// Where events go.
    pub(crate) sink: &'a mut dyn EventSink,
}

impl MarkCx<'_> {
    /// Records a mark.
    pub(crate) fn emit(&mut self, kind: EventKind) {
        self.sink.record(&Event {
            step: self.step,
            time: self.time,
            round: 0,
            kind,
        });
    }
}
