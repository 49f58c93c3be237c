//! Auto-deleveraging (docs/reference-math.md §8.3, §8.4): a bankrupt account's positions are
//! closed at the exchange's ADL price (the bankruptcy price, or Hyperliquid's previous oracle
//! price) against the opposite positions of the book by decreasing rank — the venue's own:
//! BitMEX's profit × effective leverage, Binance's unrealised PnL over collateral × margin
//! ratio, or Hyperliquid's (mark / entry) × notional / account value — ranked once per round,
//! then against the outside counterparties; what finds no opposite position is closed into the
//! book.

use crate::sink::EventSink;
use cascade_model::ids::{AccountId, MarketId, PerpId};
use cascade_model::perp::account::PerpAccount;
use cascade_model::perp::params::{AdlPrice, AdlRanking, PerpMarketParams};
use cascade_model::perp::{adl_rank, binance_adl_rank, hyperliquid_adl_rank};

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
            // The price every close of this position is made at, by the venue's rule.
            let adl_price = match info.params.adl.price {
                AdlPrice::Bankruptcy => bankruptcy_price,
                AdlPrice::PreviousOracle => {
                    self.path.state.perps[x.index()].previous_indices[m.index()]
                }
            };
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
                // Closed at the ADL price, not the mark: its liquidation price may move.
                state.index.invalidate();
                let counter = &mut state.accounts[c.index()];
                counter.wallet += portion * (adl_price - held.entry);
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
                        price: adl_price,
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
                counterparty.cost -= portion * adl_price;
                remaining -= take;
                self.emit(
                    round,
                    EventKind::PerpDeleveraged {
                        exchange: x,
                        market: m,
                        account: None,
                        bankrupt: id,
                        units: portion,
                        price: adl_price,
                        rank: f64::NAN,
                    },
                );
            }
            let closed = position.size.signum() * (position.size.abs() - remaining.max(0.0));
            let account = &mut self.path.state.perps[x.index()].accounts[id.index()];
            account.wallet += closed * (adl_price - position.entry);
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
                        fill_price: adl_price,
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
    /// bankrupt long; 0: longs) once per round, by the exchange's rank at the marks, ties by
    /// account.
    fn rank_for_adl(&mut self, x: PerpId, m: MarketId, side: usize, round: u32) {
        let stamp = Some((self.path.step, round));
        if self.path.adl_queues[x.index()][m.index()][side].stamp == stamp {
            return;
        }
        let info = &self.world.perps[x.index()];
        let (ranking, rules) = (info.params.adl.ranking, &info.rules);
        let state = &self.path.state.perps[x.index()];
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
                let rank = venue_rank(ranking, a, k, rules, &state.marks);
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

/// Position `k` of `account`'s place in the ADL queue by the venue's `ranking`, at `marks`:
/// higher goes first.
fn venue_rank(
    ranking: AdlRanking,
    account: &PerpAccount,
    k: usize,
    rules: &[PerpMarketParams],
    marks: &[f64],
) -> f64 {
    let p = account.positions[k];
    let mark = marks[p.market.index()];
    match ranking {
        AdlRanking::Bitmex => {
            let sign = p.size.signum();
            let bankrupt = account.bankruptcy_price(k, marks);
            adl_rank(sign * mark, sign * p.entry, sign * bankrupt)
        }
        AdlRanking::Binance => {
            let pnl = account.equity(marks) - account.wallet;
            binance_adl_rank(pnl, account.wallet, account.maintenance(rules, marks))
        }
        AdlRanking::Hyperliquid => hyperliquid_adl_rank(
            p.side(),
            mark,
            p.entry,
            p.notional(mark),
            account.equity(marks),
        ),
    }
}
