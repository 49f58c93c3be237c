//! Perpetual-swap exchanges inside the step (REFERENCE-MATH §8): marks from index and book, the
//! liquidation engine, loss absorption and funding.
//!
//! Each cascade round, after the lending protocols, every exchange marks its markets and scans
//! its accounts. An account whose equity is below maintenance is, in this order:
//! 1. taken over by the liquidator vault, with its margin, when equity is below the vault's
//!    fraction of maintenance (Hyperliquid's backstop);
//! 2. otherwise closed into each market's venue (longs sell, shorts buy) — a first slice only,
//!    with a cooldown, for large positions — and handed to the vault instead if the book cannot
//!    fill the close;
//! 3. closed against opposite positions at its bankruptcy price (auto-deleveraging) instead,
//!    when the close would leave a deficit the insurance fund cannot pay;
//! 4. settled: under bankruptcy close-out the fund takes what margin is left (or pays what is
//!    missing), under market close-out the trader keeps it; a deficit the fund cannot pay is
//!    socialised at the end of the step or stays uncovered.
//!
//! Every trade is matched against the market's outside counterparties (`Counterparty`) at the
//! same price and funding is paid by every holder of the market, so the exchange's total value
//! (`PerpState::total_value`) is constant.

use cascade_model::ids::{AccountId, MarketId, PerpId};
use cascade_model::perp::adl_rank;
use cascade_model::perp::index::PerpIndex;
use cascade_model::perp::params::{CloseOut, DeficitRule, funding_rate, mark_price};

use super::Cx;
use crate::event::{EventKind, PerpCloseKind, PerpLiquidation, PerpMark, PerpSettlement};

/// Units below which a position counts as closed (rounding of partial closes).
const DUST_UNITS: f64 = 1e-12;

/// A close planned for one position: the signed units to close and what the book would give.
struct PlannedClose {
    position: usize,
    units: f64,
    filled: f64,
    average: f64,
}

/// The order in which opposite positions of one market and side are deleveraged in a round:
/// accounts by decreasing rank, consumed from `next`.
#[derive(Clone, Debug, Default)]
pub(super) struct AdlQueue {
    stamp: Option<(u64, u32)>,
    ranked: Vec<(AccountId, f64)>,
    next: usize,
}

impl AdlQueue {
    /// Empty, as at the start of a path (its memory kept).
    pub(super) fn clear(&mut self) {
        self.stamp = None;
        self.ranked.clear();
        self.next = 0;
    }
}

impl Cx<'_> {
    /// The perp exchanges' part of a cascade round. Returns the number of accounts acted on.
    pub(super) fn liquidate_perps(&mut self, round: u32) -> u64 {
        let mut activity = 0;
        for x in 0..self.world.perps.len() {
            let x = PerpId(x as u32);
            self.refresh_marks(x);
            activity += self.perp_round(x, round);
        }
        activity
    }

    /// Index and mark of every market of `x` from its oracle (or fundamental) and venue now.
    fn refresh_marks(&mut self, x: PerpId) {
        let info = &self.world.perps[x.index()];
        let state = &mut self.path.state.perps[x.index()];
        for (m, market) in info.markets.iter().enumerate() {
            let index = match market.index {
                Some(o) => self.path.state.oracles[o.index()].published(),
                None => self.path.state.fundamentals[market.asset.index()].price(),
            };
            let venue = self.path.last_venue_price[market.venue.index()];
            let (sum, count) = state.premium[m];
            let premium = if count > 0 {
                sum / f64::from(count)
            } else {
                0.0
            };
            state.indices[m] = index;
            state.marks[m] = mark_price(info.rules[m].mark, index, venue, premium);
        }
    }

    fn perp_round(&mut self, x: PerpId, round: u32) -> u64 {
        let world = self.world;
        let rules = &world.perps[x.index()].rules;
        let mut activity = 0;
        let mut missed = 0;
        let state = &mut self.path.state.perps[x.index()];
        if state.index.is_stale() {
            state.index = PerpIndex::build(&state.accounts, rules, &state.marks);
        }
        // A sliced account that is healthy again starts its next liquidation with a slice.
        let marks = &state.marks;
        self.path.perp_sliced[x.index()].retain(|&i| {
            let account = &mut state.accounts[i as usize];
            let still = !account.positions.is_empty()
                && account.equity(marks) < account.maintenance(rules, marks);
            account.sliced &= still;
            still
        });
        let mut candidates = std::mem::take(&mut self.path.perp_candidates);
        state
            .index
            .candidates(&state.accounts, &state.marks, &mut candidates);
        for &id in &candidates {
            let i = id.index();
            let state = &mut self.path.state.perps[x.index()];
            let account = &mut state.accounts[i];
            if account.positions.is_empty() {
                continue;
            }
            let equity = account.equity(&state.marks);
            let maintenance = account.maintenance(rules, &state.marks);
            if equity >= maintenance {
                continue;
            }
            if self.path.time < account.cooldown_until {
                missed += 1;
                continue;
            }
            if self.liquidate_perp_account(x, id, equity, maintenance, round) {
                activity += 1;
            } else {
                missed += 1;
            }
        }
        self.path.perp_candidates = candidates;
        if missed > 0 {
            // Accounts waiting out a slice cooldown, or whose close found no liquidity.
            self.emit(
                round,
                EventKind::PerpCooldowns {
                    exchange: x,
                    count: missed,
                },
            );
        }
        activity
    }

    /// Liquidates one account; returns whether anything changed (false when the book had no
    /// liquidity for any of the close and no vault takes it).
    fn liquidate_perp_account(
        &mut self,
        x: PerpId,
        id: AccountId,
        equity: f64,
        maintenance: f64,
        round: u32,
    ) -> bool {
        let world = self.world;
        let info = &world.perps[x.index()];
        let params = info.params;
        if let Some(vault) = params.vault {
            if equity < vault.below_fraction * maintenance {
                self.take_over(x, id, equity, maintenance, round);
                return true;
            }
        }
        let state = &self.path.state.perps[x.index()];
        let marks = state.marks.clone();
        let account = &state.accounts[id.index()];
        let slice = params.slicing.filter(|s| {
            !account.sliced
                && account
                    .positions
                    .iter()
                    .any(|p| p.notional(marks[p.market.index()]) > s.above_usd)
        });
        let fraction = slice.map_or(1.0, |s| s.fraction);
        let charges_fee = slice.is_some() || params.close_out == CloseOut::Market;
        let mut plan = Vec::with_capacity(account.positions.len());
        let mut balance = account.wallet;
        let mut unfilled = false;
        for (j, p) in account.positions.iter().enumerate() {
            let units = p.size * fraction;
            let (filled, average) = self.quote_close(x, p.market, units);
            unfilled |= filled < units.abs() * (1.0 - 1e-12);
            let signed = filled * units.signum();
            balance += signed * (average - p.entry);
            if charges_fee {
                balance -= params.liquidation_fee * filled * average;
            }
            plan.push(PlannedClose {
                position: j,
                units,
                filled,
                average,
            });
        }
        if unfilled && params.vault.is_some() {
            // The book cannot absorb the close: the vault takes the account over.
            self.take_over(x, id, equity, maintenance, round);
            return true;
        }
        let closes_all = slice.is_none() && !unfilled;
        if closes_all
            && params.deficit == DeficitRule::AutoDeleverage
            && -balance > state.fund + 1e-9
        {
            self.deleverage(x, id, equity, maintenance, round);
            return true;
        }
        if plan.iter().all(|c| c.filled <= 0.0) {
            // No bids (or asks) left for any of it: the account waits for the book to refill.
            return false;
        }
        self.execute_closes(
            x,
            id,
            &plan,
            slice.is_some(),
            charges_fee,
            equity,
            maintenance,
            round,
        );
        let account = &mut self.path.state.perps[x.index()].accounts[id.index()];
        if let Some(s) = slice {
            account.sliced = true;
            account.cooldown_until = self.path.time + s.cooldown;
            self.path.perp_sliced[x.index()].push(id.0);
        } else if account.positions.is_empty() {
            self.settle_perp_account(x, id, round);
        }
        if !self.path.state.perps[x.index()].accounts[id.index()]
            .positions
            .is_empty()
        {
            // A slice or a partial fill: the fee and the smaller position move its liquidation
            // price.
            self.path.state.perps[x.index()].index.invalidate();
        }
        true
    }

    /// What closing `units` (signed: positive closes a long by selling) of market `m` into its
    /// venue would fill, and at what average price.
    fn quote_close(&self, x: PerpId, m: MarketId, units: f64) -> (f64, f64) {
        let market = &self.world.perps[x.index()].markets[m.index()];
        let fundamental = self.path.state.fundamentals[market.asset.index()].price();
        let venue = &self.path.state.venues[market.venue.index()];
        let fill = if units >= 0.0 {
            venue.quote(fundamental, units)
        } else {
            venue.quote_buy(fundamental, -units)
        };
        let average = if fill.filled > 0.0 {
            fill.proceeds / fill.filled
        } else {
            fill.price_before
        };
        (fill.filled, average)
    }

    /// Trades planned closes into the venues and books them: realised profit and fees on the
    /// wallet, the fee into the fund, the other side to the outside counterparties.
    #[allow(clippy::too_many_arguments)]
    fn execute_closes(
        &mut self,
        x: PerpId,
        id: AccountId,
        plan: &[PlannedClose],
        slice: bool,
        charges_fee: bool,
        equity: f64,
        maintenance: f64,
        round: u32,
    ) {
        let world = self.world;
        let info = &world.perps[x.index()];
        let marks = self.path.state.perps[x.index()].marks.clone();
        let mut records = Vec::with_capacity(plan.len());
        for close in plan {
            if close.filled <= 0.0 {
                continue;
            }
            let account = &self.path.state.perps[x.index()].accounts[id.index()];
            let position = account.positions[close.position];
            let m = position.market;
            let liquidation_price = account.liquidation_price(close.position, &info.rules, &marks);
            let bankruptcy_price = account.bankruptcy_price(close.position, &marks);
            let market = &info.markets[m.index()];
            let fundamental = self.path.state.fundamentals[market.asset.index()].price();
            let venue = &mut self.path.state.venues[market.venue.index()];
            let fill = if close.units >= 0.0 {
                venue.sell(fundamental, close.units)
            } else {
                venue.buy(fundamental, -close.units)
            };
            self.path.last_venue_price[market.venue.index()] = fill.price_after;
            let average = if fill.filled > 0.0 {
                fill.proceeds / fill.filled
            } else {
                close.average
            };
            let signed = fill.filled * close.units.signum();
            let fee = if charges_fee {
                info.params.liquidation_fee * fill.filled * average
            } else {
                0.0
            };
            let state = &mut self.path.state.perps[x.index()];
            let account = &mut state.accounts[id.index()];
            account.wallet += signed * (average - position.entry) - fee;
            account.positions[close.position].size -= signed;
            let remaining = account.positions[close.position].size;
            state.fund += fee;
            let counterparty = &mut state.counterparties[m.index()];
            counterparty.size += signed;
            counterparty.cost += signed * average;
            records.push(PerpLiquidation {
                exchange: x,
                account: id,
                market: m,
                close: if slice {
                    PerpCloseKind::Slice
                } else {
                    PerpCloseKind::Market
                },
                units: signed,
                remaining,
                entry: position.entry,
                fill_price: average,
                mark: marks[m.index()],
                liquidation_price,
                bankruptcy_price,
                equity,
                maintenance,
                fee,
                price_before: fill.price_before,
                price_after: fill.price_after,
            });
        }
        self.path.state.perps[x.index()].accounts[id.index()]
            .positions
            .retain(|p| p.size.abs() > DUST_UNITS);
        for record in records {
            self.emit(round, EventKind::PerpLiquidated(Box::new(record)));
        }
    }

    /// Settles an account whose positions are all closed: the fund takes the remaining margin
    /// (bankruptcy close-out) or only a negative balance (market close-out); what the fund
    /// cannot pay is to be socialised or stays uncovered.
    fn settle_perp_account(&mut self, x: PerpId, id: AccountId, round: u32) {
        let params = self.world.perps[x.index()].params;
        let state = &mut self.path.state.perps[x.index()];
        let account = &mut state.accounts[id.index()];
        let balance = account.wallet;
        let to_fund = match params.close_out {
            CloseOut::Bankruptcy => balance,
            CloseOut::Market => balance.min(0.0),
        };
        account.wallet -= to_fund;
        let kept = account.wallet;
        let fund_before = state.fund;
        state.fund += to_fund;
        let mut shortfall = 0.0;
        if state.fund < 0.0 {
            shortfall = -state.fund;
            state.fund = 0.0;
            state.uncovered += shortfall;
            if params.deficit == DeficitRule::Socialise {
                self.path.perp_to_socialise[x.index()] += shortfall;
            }
        }
        let fund_balance = state.fund;
        self.emit(
            round,
            EventKind::PerpSettled(Box::new(PerpSettlement {
                exchange: x,
                account: id,
                balance,
                fund_change: fund_balance - fund_before,
                kept,
                shortfall,
                fund_balance,
            })),
        );
    }

    /// The vault takes the account's positions and its margin over, at their entry prices.
    fn take_over(&mut self, x: PerpId, id: AccountId, equity: f64, maintenance: f64, round: u32) {
        let state = &mut self.path.state.perps[x.index()];
        let account = &mut state.accounts[id.index()];
        let Some(vault) = state.vault.as_mut() else {
            return;
        };
        let mut notional = 0.0;
        let mut net_units = 0.0;
        vault.cash += account.wallet;
        account.wallet = 0.0;
        for p in account.positions.drain(..) {
            let m = p.market.index();
            vault.size[m] += p.size;
            vault.cost[m] += p.size * p.entry;
            notional += p.notional(state.marks[m]);
            net_units += p.size;
        }
        account.sliced = false;
        vault.takeovers += 1;
        self.emit(
            round,
            EventKind::PerpTakeover {
                exchange: x,
                account: id,
                notional,
                equity,
                maintenance,
                net_units,
            },
        );
    }

    /// Auto-deleveraging: each position of the bankrupt account is closed at its bankruptcy
    /// price against opposite positions by decreasing ADL rank, then against the outside
    /// counterparties; what finds no opposite position is closed into the book.
    fn deleverage(&mut self, x: PerpId, id: AccountId, equity: f64, maintenance: f64, round: u32) {
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
            let charges_fee = info.params.close_out == CloseOut::Market;
            self.execute_closes(x, id, &plan, false, charges_fee, equity, maintenance, round);
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

    /// Phase 6 for perps: deficits of the step are charged to accounts in profit (exchanges
    /// that socialise), then each market samples its premium and pays funding at the end of an
    /// interval.
    pub(super) fn perp_time_driven(&mut self) {
        let world = self.world;
        for (x, info) in world.perps.iter().enumerate() {
            let exchange = PerpId(x as u32);
            self.refresh_marks(exchange);
            let owed = std::mem::take(&mut self.path.perp_to_socialise[x]);
            if owed > 0.0 {
                self.socialise(exchange, owed);
            }
            for (m, rules) in info.rules.iter().enumerate() {
                let state = &mut self.path.state.perps[x];
                let index = state.indices[m];
                let venue = self.path.last_venue_price[info.markets[m].venue.index()];
                if index > 0.0 {
                    state.premium[m].0 += (venue - index) / index;
                    state.premium[m].1 += 1;
                }
                let Some(interval) = rules.funding_interval else {
                    continue;
                };
                if self.path.time == 0 || self.path.time % interval != 0 {
                    continue;
                }
                let (sum, count) = std::mem::take(&mut state.premium[m]);
                let premium = if count > 0 {
                    sum / f64::from(count)
                } else {
                    0.0
                };
                let rate = funding_rate(
                    premium,
                    rules.funding_interest,
                    rules.funding_clamp,
                    rules.funding_cap,
                );
                let mark = state.marks[m];
                let market = MarketId(m as u32);
                let per_unit = rate * mark;
                let mut longs_paid = 0.0;
                for account in &mut state.accounts {
                    for p in account.positions.iter().filter(|p| p.market == market) {
                        account.wallet -= p.size * per_unit;
                        if p.size > 0.0 {
                            longs_paid += p.size * per_unit;
                        }
                    }
                }
                if let Some(vault) = state.vault.as_mut() {
                    vault.cash -= vault.size[m] * per_unit;
                    longs_paid += vault.size[m].max(0.0) * per_unit;
                }
                state.index.invalidate();
                let counterparty = &mut state.counterparties[m];
                counterparty.cash -= counterparty.size * per_unit;
                longs_paid += counterparty.size.max(0.0) * per_unit;
                self.emit(
                    0,
                    EventKind::FundingPaid {
                        exchange,
                        market,
                        rate,
                        mark,
                        longs_paid,
                    },
                );
            }
        }
    }

    /// Charges `owed` USD of deficit to the accounts with unrealised profit, pro rata to it
    /// (at most all of it), and takes the charge off the uncovered deficit.
    fn socialise(&mut self, x: PerpId, owed: f64) {
        let state = &mut self.path.state.perps[x.index()];
        let marks = &state.marks;
        let profit = |a: &cascade_model::perp::account::PerpAccount| {
            a.positions
                .iter()
                .map(|p| p.pnl(marks[p.market.index()]))
                .sum::<f64>()
                .max(0.0)
        };
        let total: f64 = state.accounts.iter().map(profit).sum();
        let share = if total > 0.0 {
            (owed / total).min(1.0)
        } else {
            0.0
        };
        let mut charged = 0.0;
        let mut accounts = 0;
        if share > 0.0 {
            for i in 0..state.accounts.len() {
                let charge = profit(&state.accounts[i]) * share;
                if charge > 0.0 {
                    state.accounts[i].wallet -= charge;
                    charged += charge;
                    accounts += 1;
                }
            }
        }
        if charged > 0.0 {
            state.index.invalidate();
        }
        state.uncovered -= charged;
        if state.uncovered.abs() < 1e-6 {
            // Rounding of the pro-rata charges (sub-micro-USD), not a deficit.
            state.uncovered = 0.0;
        }
        let uncovered = state.uncovered;
        self.emit(
            0,
            EventKind::PerpSocialised {
                exchange: x,
                usd: charged,
                accounts,
                uncovered,
            },
        );
    }

    /// The initial book of every exchange.
    pub(super) fn open_perps(&mut self) {
        for x in 0..self.world.perps.len() {
            let exchange = PerpId(x as u32);
            self.refresh_marks(exchange);
            let state = &self.path.state.perps[x];
            let (mut long_usd, mut short_usd) = (0.0, 0.0);
            for a in &state.accounts {
                for p in &a.positions {
                    let notional = p.notional(state.marks[p.market.index()]);
                    if p.size > 0.0 {
                        long_usd += notional;
                    } else {
                        short_usd += notional;
                    }
                }
            }
            let kind = EventKind::PerpsOpened {
                exchange,
                accounts: state.accounts.len() as u64,
                long_usd,
                short_usd,
                total_value: state.total_value(),
            };
            self.emit(0, kind);
        }
    }

    /// End of run: every exchange's book at its marks.
    pub(super) fn mark_perps(&mut self) {
        for x in 0..self.world.perps.len() {
            let exchange = PerpId(x as u32);
            self.refresh_marks(exchange);
            let info = &self.world.perps[x];
            let state = &self.path.state.perps[x];
            let markets = info.markets.len();
            let (mut long_units, mut short_units) = (vec![0.0; markets], vec![0.0; markets]);
            let mut open_accounts = 0;
            let mut unrealised = 0.0;
            for a in &state.accounts {
                if a.positions.is_empty() {
                    continue;
                }
                open_accounts += 1;
                unrealised += (-a.equity(&state.marks)).max(0.0);
                for p in &a.positions {
                    if p.size > 0.0 {
                        long_units[p.market.index()] += p.size;
                    } else {
                        short_units[p.market.index()] -= p.size;
                    }
                }
            }
            let (vault_value, vault_capital, vault_size) = match (&state.vault, info.params.vault) {
                (Some(v), Some(p)) => (v.value(&state.marks), p.capital_usd, v.size.clone()),
                _ => (0.0, 0.0, vec![0.0; markets]),
            };
            let mark = PerpMark {
                exchange,
                open_accounts,
                long_units,
                short_units,
                marks: state.marks.clone(),
                unrealised_bad_debt_usd: unrealised,
                fund: state.fund,
                vault_value,
                vault_capital,
                vault_size,
                uncovered: state.uncovered,
                total_value: state.total_value(),
            };
            self.emit(0, EventKind::PerpMarked(Box::new(mark)));
        }
    }
}
