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
use cascade_model::perp::params::{AdlAllocation, AdlPrice, AdlRanking, PerpMarketParams};
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
    /// counterparties; what finds no opposite position is closed into the book. `shortfall` is
    /// what closing the account into the book would have left unpaid by the fund.
    pub(super) fn deleverage(
        &mut self,
        x: PerpId,
        id: AccountId,
        (equity, maintenance): (f64, f64),
        shortfall: f64,
        round: u32,
    ) {
        let world = self.world;
        let info = &world.perps[x.index()];
        let marks = self.path.state.perps[x.index()].marks.clone();
        self.record_adl_need(x, id, shortfall);
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
            // Opposite positions of the book, best rank first.
            let side = usize::from(position.size > 0.0);
            self.rank_for_adl(x, m, side, round);
            let fill = AdlFill {
                bankrupt: id,
                market: m,
                side,
                sign: position.size.signum(),
                price: adl_price,
                mark: marks[m.index()],
            };
            let mut remaining = position.size.abs();
            let whole = match info.params.adl.allocation {
                AdlAllocation::Queue => false,
                AdlAllocation::WholePositions => true,
                AdlAllocation::ProRata => {
                    remaining = self.deleverage_pro_rata(x, &fill, remaining, round);
                    false
                }
            };
            remaining = self.deleverage_queue(x, &fill, remaining, whole, round);
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

    /// The queue: opposite positions by decreasing rank take `remaining` units of the bankrupt
    /// position, each only as far as needed (or, `whole`, entirely: what a position closes
    /// beyond the bankrupt size goes to the outside counterparties). Returns the units left.
    fn deleverage_queue(
        &mut self,
        x: PerpId,
        fill: &AdlFill,
        mut remaining: f64,
        whole: bool,
        round: u32,
    ) -> f64 {
        let (m, side) = (fill.market, fill.side);
        loop {
            if remaining <= DUST_UNITS {
                break;
            }
            let queue = &self.path.adl_queues[x.index()][m.index()][side];
            let Some(&(c, rank)) = queue.ranked.get(queue.next) else {
                break;
            };
            let Some(k) = self.opposite_position(x, fill, c) else {
                self.path.adl_queues[x.index()][m.index()][side].next += 1;
                continue;
            };
            let held = self.path.state.perps[x.index()].accounts[c.index()].positions[k]
                .size
                .abs();
            let absorbed = remaining.min(held);
            let take = if whole { held } else { absorbed };
            if self.close_against(x, fill, (c, k), (take, absorbed), rank, round) {
                self.path.adl_queues[x.index()][m.index()][side].next += 1;
            }
            remaining -= absorbed;
        }
        remaining
    }

    /// Pro rata: every opposite position in profit at the mark closes the same fraction of
    /// itself, `remaining` over their total size (at most 1). Returns the units left.
    fn deleverage_pro_rata(
        &mut self,
        x: PerpId,
        fill: &AdlFill,
        remaining: f64,
        round: u32,
    ) -> f64 {
        let (m, side) = (fill.market, fill.side);
        let ranked = std::mem::take(&mut self.path.adl_queues[x.index()][m.index()][side].ranked);
        let accounts = &self.path.state.perps[x.index()].accounts;
        let in_profit: Vec<(AccountId, usize, f64, f64)> = ranked
            .iter()
            .filter_map(|&(c, rank)| {
                let k = self.opposite_position(x, fill, c)?;
                let p = accounts[c.index()].positions[k];
                (p.size * (fill.mark - p.entry) > 0.0).then_some((c, k, p.size.abs(), rank))
            })
            .collect();
        self.path.adl_queues[x.index()][m.index()][side].ranked = ranked;
        let total: f64 = in_profit.iter().map(|&(_, _, size, _)| size).sum();
        if total <= 0.0 {
            return remaining;
        }
        let fraction = (remaining / total).min(1.0);
        let mut left = remaining;
        for (c, k, size, rank) in in_profit {
            let take = (size * fraction).min(left);
            if take <= 0.0 {
                break;
            }
            self.close_against(x, fill, (c, k), (take, take), rank, round);
            left -= take;
        }
        left.max(0.0)
    }

    /// Where account `c` holds the position of `fill`'s market opposite the bankrupt one, if
    /// it does (and is not the bankrupt account).
    fn opposite_position(&self, x: PerpId, fill: &AdlFill, c: AccountId) -> Option<usize> {
        if c == fill.bankrupt {
            return None;
        }
        let positions = &self.path.state.perps[x.index()].accounts[c.index()].positions;
        let k = positions.iter().position(|p| p.market == fill.market)?;
        (positions[k].size.signum() == -fill.sign).then_some(k)
    }

    /// Closes `take` units of position `k` of account `c` at the ADL price: `absorbed` of them
    /// against the bankrupt position, the rest against the outside counterparties. Books the
    /// profit given up and the notional in profit closed. Returns whether the position is gone.
    fn close_against(
        &mut self,
        x: PerpId,
        fill: &AdlFill,
        (c, k): (AccountId, usize),
        (take, absorbed): (f64, f64),
        rank: f64,
        round: u32,
    ) -> bool {
        let state = &mut self.path.state.perps[x.index()];
        // Closed at the ADL price, not the mark: its liquidation price may move.
        state.index.invalidate();
        let held = state.accounts[c.index()].positions[k];
        let portion = take * held.size.signum();
        if held.size * (fill.mark - held.entry) > 0.0 {
            state.adl.profitable_notional_usd += take * fill.mark;
        }
        state.adl.haircut_usd += portion * (fill.mark - fill.price);
        let excess = portion * (1.0 - absorbed / take);
        if excess != 0.0 {
            // Beyond the bankrupt size: the outside counterparties take the other side.
            let counterparty = &mut state.counterparties[fill.market.index()];
            counterparty.size += excess;
            counterparty.cost += excess * fill.price;
        }
        let counter = &mut state.accounts[c.index()];
        counter.wallet += portion * (fill.price - held.entry);
        counter.positions[k].size -= portion;
        let gone = counter.positions[k].size.abs() <= DUST_UNITS;
        if gone {
            counter.positions.remove(k);
        }
        self.emit(
            round,
            EventKind::PerpDeleveraged {
                exchange: x,
                market: fill.market,
                account: Some(c),
                bankrupt: fill.bankrupt,
                units: portion,
                price: fill.price,
                rank,
            },
        );
        gone
    }

    /// Books what deleveraging account `id` needs: the `shortfall` its close into the book would
    /// have left, and the smallest notional of opposite positions in profit whose whole profit
    /// covers it.
    fn record_adl_need(&mut self, x: PerpId, id: AccountId, shortfall: f64) {
        let needed = shortfall.max(0.0);
        let state = &self.path.state.perps[x.index()];
        let bankrupt = &state.accounts[id.index()].positions;
        let mut in_profit: Vec<(f64, f64)> = Vec::new();
        for (i, a) in state.accounts.iter().enumerate() {
            if i == id.index() {
                continue;
            }
            for p in &a.positions {
                let opposite = bankrupt
                    .iter()
                    .any(|b| b.market == p.market && b.size.signum() == -p.size.signum());
                let mark = state.marks[p.market.index()];
                let profit = p.size * (mark - p.entry);
                if opposite && profit > 0.0 {
                    in_profit.push((profit, p.size.abs() * mark));
                }
            }
        }
        let min_notional = min_notional_covering(needed, &mut in_profit);
        let ledger = &mut self.path.state.perps[x.index()].adl;
        ledger.needed_usd += needed;
        ledger.min_notional_usd += min_notional;
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

/// One bankrupt position being deleveraged: its market, the side ranked against it (1: shorts),
/// its sign, the ADL price and the mark.
struct AdlFill {
    bankrupt: AccountId,
    market: MarketId,
    side: usize,
    sign: f64,
    price: f64,
    mark: f64,
}

/// The smallest notional whose profit covers `needed`, from positions given as (profit,
/// notional), each usable in part: positions by decreasing profit per unit of notional (a
/// fractional knapsack, which the greedy order solves exactly); all of them when their profit
/// falls short.
fn min_notional_covering(needed: f64, positions: &mut [(f64, f64)]) -> f64 {
    positions.sort_by(|a, b| (b.0 / b.1).total_cmp(&(a.0 / a.1)));
    let mut left = needed;
    let mut notional = 0.0;
    for &(profit, size) in positions.iter() {
        if left <= 0.0 {
            break;
        }
        let part = (left / profit).min(1.0);
        notional += part * size;
        left -= part * profit;
    }
    notional
}

#[cfg(test)]
mod tests {
    use super::min_notional_covering;

    /// A need of 15 from positions (profit 10, notional 100), (profit 10, notional 50) and
    /// (profit 1, notional 100): the 20%-profit position first (50), then half of the 10% one
    /// (50): 100. A need beyond all profit takes every position (250); no need takes nothing.
    #[test]
    fn the_minimum_notional_takes_the_richest_profit_first() {
        let mut p = vec![(10.0, 100.0), (10.0, 50.0), (1.0, 100.0)];
        assert!((min_notional_covering(15.0, &mut p) - 100.0).abs() < 1e-12);
        assert!((min_notional_covering(100.0, &mut p) - 250.0).abs() < 1e-12);
        assert_eq!(min_notional_covering(0.0, &mut p), 0.0);
    }
}
