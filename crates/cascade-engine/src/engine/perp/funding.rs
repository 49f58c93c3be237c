//! Phase 6 for perp exchanges: the step's uncovered deficits charged to accounts in profit
//! (exchanges whose `DeficitRule` socialises), each market's premium sampled, and funding paid
//! at the end of an interval by every holder of the market (the book, the vault, the outside
//! counterparties).

use crate::sink::EventSink;
use cascade_model::ids::{MarketId, PerpId};
use cascade_model::perp::params::funding_rate;

use super::super::Cx;
use crate::event::EventKind;

impl<S: EventSink> Cx<'_, S> {
    /// Phase 6 for perps: deficits of the step are charged to accounts in profit (exchanges
    /// that socialise), then each market samples its premium and pays funding at the end of an
    /// interval.
    pub(in crate::engine) fn perp_time_driven(&mut self) {
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
}
