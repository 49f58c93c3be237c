//! Auto-deleveraging (docs/reference-math.md §8.3): a bankrupt account's positions are closed at
//! their
//! bankruptcy price against the opposite positions of the book by decreasing ADL rank (profit ×
//! effective leverage, ranked once per round), then against the outside counterparties; what
//! finds no opposite position is closed into the book.

use crate::sink::EventSink;
use cascade_model::ids::{AccountId, MarketId, PerpId};
use cascade_model::perp::adl_rank;

use super::super::Cx;
use super::close_out::{Closing, LiquidationFee};
use super::{DUST_UNITS, PlannedClose};
use crate::event::{EventKind, PerpCloseKind, PerpLiquidation};

/// The order in which opposite positions of one market and side are deleveraged in a round:
/// accounts by decreasing rank, consumed from `next`.
#[derive(Clone, Debug, Default)]
pub(in crate::engine) struct AdlQueue {
    stamp: Option<(u64, u32)>,
    ranked: Vec<(AccountId, f64)>,
    next: usize,
}

impl AdlQueue {
    /// Empty, as at the start of a path (its memory kept).
    pub(in crate::engine) fn clear(&mut self) {
        self.stamp = None;
        self.ranked.clear();
        self.next = 0;
    }
}

impl<S: EventSink> Cx<'_, S> {
    /// Auto-deleveraging: each position of the bankrupt account is closed at its bankruptcy
    /// price against opposite positions by decreasing ADL rank, then against the outside
    /// counterparties; what finds no opposite position is closed into the book.
    pub(super) fn deleverage(
        &mut self,
        x: PerpId,
        id: AccountId,
        equity: f64,
        maintenance: f64,
        round: u32,
    ) {
        let world = self.world;
        let info = &world.perps[x.index()];
        let marks = self.path.state.perps[x.index()].marks.clone();
        let mut j = 0;
        while j < self.path.state.perps[x.index()].accounts[id.index()]
            .positions
            .len()
        {
            let account = &self.path.state.perps[x.index()].accounts[id.index()];
            let position = account.positions[j];
            let m = position.market;
            let bankruptcy_price = account.bankruptcy_price(j, &marks);
            let liquidation_price = account.liquidation_price(j, &info.rules, &marks);
            let mut remaining = position.size.abs();
            // Opposite positions of the book, best rank first.
            let side = usize::from(position.size > 0.0);
            self.rank_for_adl(x, m, side, round);
            loop {
                if remaining <= DUST_UNITS {
                    break;
                }
                let queue = &self.path.adl_queues[x.index()][m.index()][side];
                let Some(&(c, rank)) = queue.ranked.get(queue.next) else {
                    break;
                };
                let state = &mut self.path.state.perps[x.index()];
                let held_positions = &state.accounts[c.index()].positions;
                let Some(k) = held_positions.iter().position(|p| p.market == m) else {
                    self.path.adl_queues[x.index()][m.index()][side].next += 1;
                    continue;
                };
                let held = held_positions[k];
                if held.size.signum() == position.size.signum() || c == id {
                    self.path.adl_queues[x.index()][m.index()][side].next += 1;
                    continue;
                }
                let take = remaining.min(held.size.abs());
                let portion = take * held.size.signum();
                // Closed at the bankruptcy price, worse than the mark: its liquidation price
                // may move towards the mark.
                state.index.invalidate();
                let counter = &mut state.accounts[c.index()];
                counter.wallet += portion * (bankruptcy_price - held.entry);
                counter.positions[k].size -= portion;
                if counter.positions[k].size.abs() <= DUST_UNITS {
                    counter.positions.remove(k);
                    self.path.adl_queues[x.index()][m.index()][side].next += 1;
                }
                remaining -= take;
                self.emit(
                    round,
                    EventKind::PerpDeleveraged {
                        exchange: x,
                        market: m,
                        account: Some(c),
                        bankrupt: id,
                        units: portion,
                        price: bankruptcy_price,
                        rank,
                    },
                );
            }
            // Then the outside counterparties, if they hold the other side.
            let counterparty = &mut self.path.state.perps[x.index()].counterparties[m.index()];
            if remaining > DUST_UNITS && counterparty.size.signum() == -position.size.signum() {
                let take = remaining.min(counterparty.size.abs());
                let portion = take * counterparty.size.signum();
                counterparty.size -= portion;
                counterparty.cost -= portion * bankruptcy_price;
                remaining -= take;
                self.emit(
                    round,
                    EventKind::PerpDeleveraged {
                        exchange: x,
                        market: m,
                        account: None,
                        bankrupt: id,
                        units: portion,
                        price: bankruptcy_price,
                        rank: f64::NAN,
                    },
                );
            }
            let closed = position.size.signum() * (position.size.abs() - remaining.max(0.0));
            let account = &mut self.path.state.perps[x.index()].accounts[id.index()];
            account.wallet += closed * (bankruptcy_price - position.entry);
            account.positions[j].size -= closed;
            let left = account.positions[j].size;
            if closed != 0.0 {
                let price = self.path.last_venue_price[info.markets[m.index()].venue.index()];
                self.emit(
                    round,
                    EventKind::PerpLiquidated(Box::new(PerpLiquidation {
                        exchange: x,
                        account: id,
                        market: m,
                        close: PerpCloseKind::Deleveraged,
                        units: closed,
                        remaining: left,
                        entry: position.entry,
                        fill_price: bankruptcy_price,
                        mark: marks[m.index()],
                        liquidation_price,
                        bankruptcy_price,
                        equity,
                        maintenance,
                        fee: 0.0,
                        price_before: price,
                        price_after: price,
                    })),
                );
            }
            if left.abs() <= DUST_UNITS {
                self.path.state.perps[x.index()].accounts[id.index()]
                    .positions
                    .remove(j);
            } else {
                j += 1;
            }
        }
        // What no opposite position took goes to the book; the fund and the shortfall rule
        // take the result.
        let account = &self.path.state.perps[x.index()].accounts[id.index()];
        if !account.positions.is_empty() {
            let plan: Vec<PlannedClose> = account
                .positions
                .iter()
                .enumerate()
                .map(|(j, p)| {
                    let (filled, average) = self.quote_close(x, p.market, p.size);
                    PlannedClose {
                        position: j,
                        units: p.size,
                        filled,
                        average,
                    }
                })
                .collect();
            let closing = Closing {
                kind: PerpCloseKind::Market,
                fee: LiquidationFee::of(info.params.close_out, None),
                equity,
                maintenance,
            };
            self.execute_closes(x, id, &plan, closing, round);
        }
        if self.path.state.perps[x.index()].accounts[id.index()]
            .positions
            .is_empty()
        {
            self.settle_perp_account(x, id, round);
        }
    }

    /// Ranks the positions of market `m` on `side` (1: shorts, the side deleveraged against a
    /// bankrupt long; 0: longs) once per round, by §8.3's rank at the marks, ties by account.
    fn rank_for_adl(&mut self, x: PerpId, m: MarketId, side: usize, round: u32) {
        let stamp = Some((self.path.step, round));
        if self.path.adl_queues[x.index()][m.index()][side].stamp == stamp {
            return;
        }
        let state = &self.path.state.perps[x.index()];
        let mark = state.marks[m.index()];
        let wants_short = side == 1;
        let mut ranked: Vec<(AccountId, f64)> = state
            .accounts
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let k = a.positions.iter().position(|p| p.market == m)?;
                let p = a.positions[k];
                if (p.size < 0.0) != wants_short || p.size == 0.0 {
                    return None;
                }
                let sign = p.size.signum();
                let bankrupt = a.bankruptcy_price(k, &state.marks);
                let rank = adl_rank(sign * mark, sign * p.entry, sign * bankrupt);
                Some((AccountId(i as u32), rank))
            })
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        self.path.adl_queues[x.index()][m.index()][side] = AdlQueue {
            stamp,
            ranked,
            next: 0,
        };
    }
}
