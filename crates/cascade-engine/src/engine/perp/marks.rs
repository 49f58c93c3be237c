//! Marks: each market's index (its oracle, or the fundamental) and mark price by the market's
//! `MarkRule` (index, venue, or Binance's median with the funding interval's premium), refreshed
//! before every round and at phase 6; the books as they open and as they end.

use crate::sink::EventSink;
use cascade_model::ids::PerpId;
use cascade_model::perp::params::mark_price;

use super::super::Cx;
use crate::event::{EventKind, PerpMark};

impl<S: EventSink> Cx<'_, S> {
    /// Index and mark of every market of `x` from its oracle (or fundamental) and venue now.
    pub(super) fn refresh_marks(&mut self, x: PerpId) {
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
            if index != state.indices[m] {
                state.previous_indices[m] = state.indices[m];
            }
            state.indices[m] = index;
            state.marks[m] = mark_price(info.rules[m].mark, index, venue, premium);
        }
        if let Some(vault) = state.vault.as_mut() {
            vault.lowest_value = vault.lowest_value.min(vault.value(&state.marks));
        }
    }

    /// The initial book of every exchange.
    pub(in crate::engine) fn open_perps(&mut self) {
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
    pub(in crate::engine) fn mark_perps(&mut self) {
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
            let (vault_value, vault_capital, vault_size, vault_lowest_value) =
                match state.vault.as_ref().zip(info.params.vault) {
                    Some((v, p)) => (
                        v.value(&state.marks),
                        p.capital_usd,
                        v.size.clone(),
                        v.lowest_value,
                    ),
                    None => (0.0, 0.0, vec![0.0; markets], 0.0),
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
                vault_lowest_value,
                uncovered: state.uncovered,
                total_value: state.total_value(),
                adl: state.adl,
            };
            self.emit(0, EventKind::PerpMarked(Box::new(mark)));
        }
    }
}
