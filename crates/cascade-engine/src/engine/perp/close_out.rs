//! Close-out: one liquidatable account is taken over by the vault, closed into the markets'
//! venues (a first slice for a large position), or handed to auto-deleveraging; then settled
//! against the insurance fund by the exchange's `CloseOut` rule, a deficit the fund cannot pay
//! left to the `DeficitRule`.

use crate::sink::EventSink;
use cascade_model::ids::{AccountId, MarketId, PerpId};
use cascade_model::perp::params::{CloseOut, DeficitRule, SliceCooldown, Slicing};

use super::super::{Cx, Impact};
use super::{DUST_UNITS, PlannedClose};
use crate::event::{EventKind, PerpCloseKind, PerpLiquidation, PerpSettlement};

/// Whether a close pays the liquidation fee into the insurance fund.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LiquidationFee {
    /// It does.
    Charged,
    /// It does not (the fund takes the remaining margin instead).
    Waived,
}

impl LiquidationFee {
    /// The fee of a close under `close_out`: market close-out always charges it, bankruptcy
    /// close-out only on a slice (a whole close gives the fund what margin is left instead).
    pub(super) fn of(close_out: CloseOut, slice: Option<Slicing>) -> Self {
        match close_out {
            CloseOut::Market => Self::Charged,
            CloseOut::Bankruptcy => match slice {
                Some(_) => Self::Charged,
                None => Self::Waived,
            },
        }
    }
}

/// How planned closes of an account are booked: as a whole close or a slice, with or without
/// the fee, for an account found at `equity` below `maintenance`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Closing {
    pub(super) kind: PerpCloseKind,
    pub(super) fee: LiquidationFee,
    pub(super) equity: f64,
    pub(super) maintenance: f64,
}

impl<S: EventSink> Cx<'_, S> {
    /// Liquidates one account; returns whether anything changed (false when the book had no
    /// liquidity for any of the close and no vault takes it).
    pub(super) fn liquidate_perp_account(
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
        let in_cooldown = self.path.time < account.cooldown_until;
        let slice = params.slicing.filter(|s| {
            // Under `Wait` a slice starts a liquidation that ends once the account has
            // recovered; under `CloseWhole` one is due whenever no cooldown runs.
            let due = match s.during_cooldown {
                SliceCooldown::Wait => !account.sliced,
                SliceCooldown::CloseWhole => !in_cooldown,
            };
            due && account
                .positions
                .iter()
                .any(|p| p.notional(marks[p.market.index()]) > s.above_usd)
        });
        let fraction = slice.map_or(1.0, |s| s.fraction);
        let fee = LiquidationFee::of(params.close_out, slice);
        let mut plan = Vec::with_capacity(account.positions.len());
        let mut balance = account.wallet;
        let mut unfilled = false;
        for (j, p) in account.positions.iter().enumerate() {
            let units = p.size * fraction;
            let (filled, average) = self.quote_close(x, p.market, units);
            unfilled |= filled < units.abs() * (1.0 - 1e-12);
            let signed = filled * units.signum();
            balance += signed * (average - p.entry);
            match fee {
                LiquidationFee::Charged => balance -= params.liquidation_fee * filled * average,
                LiquidationFee::Waived => {}
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
        // A whole close the fund could not pay for: deleverage instead, where the rule does.
        let deleverages = match params.deficit {
            DeficitRule::AutoDeleverage => closes_all && -balance > state.fund + 1e-9,
            DeficitRule::Socialise | DeficitRule::None => false,
        };
        if deleverages {
            let shortfall = -balance - state.fund;
            self.deleverage(x, id, (equity, maintenance), shortfall, round);
            return true;
        }
        if plan.iter().all(|c| c.filled <= 0.0) {
            // No bids (or asks) left for any of it: the account waits for the book to refill.
            return false;
        }
        let closing = Closing {
            kind: match slice {
                Some(_) => PerpCloseKind::Slice,
                None => PerpCloseKind::Market,
            },
            fee,
            equity,
            maintenance,
        };
        self.execute_closes(x, id, &plan, closing, round);
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
    pub(super) fn quote_close(&self, x: PerpId, m: MarketId, units: f64) -> (f64, f64) {
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
    pub(super) fn execute_closes(
        &mut self,
        x: PerpId,
        id: AccountId,
        plan: &[PlannedClose],
        closing: Closing,
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
            let fill = match (self.path.muted.perp(x), close.units >= 0.0) {
                (Impact::Moves, true) => venue.sell(fundamental, close.units),
                (Impact::Moves, false) => venue.buy(fundamental, -close.units),
                (Impact::Muted, true) => venue.sell_at_price(fundamental, close.units),
                (Impact::Muted, false) => venue.buy_at_price(fundamental, -close.units),
            };
            self.path.last_venue_price[market.venue.index()] = fill.price_after;
            let average = if fill.filled > 0.0 {
                fill.proceeds / fill.filled
            } else {
                close.average
            };
            let signed = fill.filled * close.units.signum();
            let fee = match closing.fee {
                LiquidationFee::Charged => info.params.liquidation_fee * fill.filled * average,
                LiquidationFee::Waived => 0.0,
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
                close: closing.kind,
                units: signed,
                remaining,
                entry: position.entry,
                fill_price: average,
                mark: marks[m.index()],
                liquidation_price,
                bankruptcy_price,
                equity: closing.equity,
                maintenance: closing.maintenance,
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
    pub(super) fn settle_perp_account(&mut self, x: PerpId, id: AccountId, round: u32) {
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
            match params.deficit {
                DeficitRule::Socialise => self.path.perp_to_socialise[x.index()] += shortfall,
                DeficitRule::AutoDeleverage | DeficitRule::None => {}
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
}
