//! A trader's margin account on a perpetual-swap exchange: a wallet of settlement currency (USD)
//! and signed positions in the exchange's markets. An isolated position is an account holding
//! one position with its own margin; a cross account shares one wallet across its positions.
//! Equity, maintenance, liquidation and bankruptcy prices are computed at given mark prices.

use crate::ids::MarketId;
use crate::perp::params::{MaintenanceBasis, PerpMarketParams};
use crate::perp::{
    MarginTable, Side, binance_liquidation_price, entry_maintenance_liquidation_price,
};

/// A position in one market.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PerpPosition {
    /// The market.
    pub market: MarketId,
    /// Signed size in units of the base asset: positive long, negative short.
    pub size: f64,
    /// Average entry price.
    pub entry: f64,
}

impl PerpPosition {
    /// Long or short.
    pub fn side(&self) -> Side {
        if self.size >= 0.0 {
            Side::Long
        } else {
            Side::Short
        }
    }

    /// Unrealised profit at `mark`: size · (mark − entry).
    pub fn pnl(&self, mark: f64) -> f64 {
        self.size * (mark - self.entry)
    }

    /// Notional at `mark`, USD (positive).
    pub fn notional(&self, mark: f64) -> f64 {
        self.size.abs() * mark
    }

    /// Maintenance margin in `market`, on the value its rule names: the notional at `mark` or
    /// the value at entry.
    pub fn maintenance(&self, market: &PerpMarketParams, mark: f64) -> f64 {
        let value = match market.maintenance_on {
            MaintenanceBasis::Mark => self.notional(mark),
            MaintenanceBasis::Entry => self.size.abs() * self.entry,
        };
        market.margin.maintenance(value)
    }
}

/// Margin mode, as opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarginMode {
    /// One position, its own margin.
    Isolated,
    /// One wallet across all the account's positions.
    Cross,
}

/// A margin account.
#[derive(Clone, Debug, PartialEq)]
pub struct PerpAccount {
    /// Settlement-currency balance, USD: deposits plus realised profit, funding and fees.
    pub wallet: f64,
    /// Open positions (at most one per market).
    pub positions: Vec<PerpPosition>,
    /// Margin mode.
    pub mode: MarginMode,
    /// Whether a first slice of a large position has been sent in the current liquidation.
    pub sliced: bool,
    /// No close-out before this time (the slice cooldown).
    pub cooldown_until: u64,
}

impl PerpAccount {
    /// Wallet plus unrealised profit at the marks (`marks[m]` for market `m`).
    pub fn equity(&self, marks: &[f64]) -> f64 {
        self.wallet
            + self
                .positions
                .iter()
                .map(|p| p.pnl(marks[p.market.index()]))
                .sum::<f64>()
    }

    /// Maintenance margin of all positions at the marks.
    pub fn maintenance(&self, markets: &[PerpMarketParams], marks: &[f64]) -> f64 {
        self.positions
            .iter()
            .map(|p| {
                let m = p.market.index();
                p.maintenance(&markets[m], marks[m])
            })
            .sum()
    }

    /// Whether equity is below maintenance (and there is something to liquidate).
    pub fn liquidatable(&self, markets: &[PerpMarketParams], marks: &[f64]) -> bool {
        !self.positions.is_empty() && self.equity(marks) < self.maintenance(markets, marks)
    }

    /// The price of position `i`'s market at which the account's equity meets maintenance, the
    /// other positions held at their marks (Binance's one-way formula, §8.1, where the other
    /// positions' maintenance and profit enter as TMM₁ and UPNL₁; with maintenance on the entry
    /// value, §8.2's).
    pub fn liquidation_price(&self, i: usize, markets: &[PerpMarketParams], marks: &[f64]) -> f64 {
        let position = self.positions[i];
        let (other_maintenance, other_pnl) = self.others(i, markets, marks);
        let market = &markets[position.market.index()];
        let price = match market.maintenance_on {
            MaintenanceBasis::Mark => binance_liquidation_price,
            MaintenanceBasis::Entry => entry_maintenance_liquidation_price,
        };
        price(
            self.wallet,
            position.side(),
            position.size.abs(),
            position.entry,
            &market.margin,
            other_maintenance,
            other_pnl,
        )
    }

    /// The price of position `i`'s market at which the account's equity is zero, the other
    /// positions held at their marks: entry − (wallet + other profit) / size.
    pub fn bankruptcy_price(&self, i: usize, marks: &[f64]) -> f64 {
        let position = self.positions[i];
        let other_pnl: f64 = self
            .positions
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, p)| p.pnl(marks[p.market.index()]))
            .sum();
        (position.entry - (self.wallet + other_pnl) / position.size).max(0.0)
    }

    fn others(&self, i: usize, markets: &[PerpMarketParams], marks: &[f64]) -> (f64, f64) {
        self.positions
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .fold((0.0, 0.0), |(mm, pnl), (_, p)| {
                let m = p.market.index();
                (
                    mm + p.maintenance(&markets[m], marks[m]),
                    pnl + p.pnl(marks[m]),
                )
            })
    }
}

/// The maintenance rate of the first bracket, which bounds the maximum leverage: a position
/// opened at `1 / rate` leverage or more would be liquidatable at once.
pub fn first_bracket_rate(table: &MarginTable) -> f64 {
    table.tier(0.0).rate
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perp::params::MarkRule;

    fn market(brackets: &[(f64, f64)]) -> PerpMarketParams {
        PerpMarketParams {
            max_leverage: 50.0,
            margin: MarginTable::new(brackets).expect("valid"),
            maintenance_on: MaintenanceBasis::Mark,
            mark: MarkRule::Index,
            funding_interval: None,
            funding_interest: 0.0,
            funding_clamp: 0.0,
            funding_cap: 0.0,
        }
    }

    fn isolated(size: f64, entry: f64, wallet: f64) -> PerpAccount {
        PerpAccount {
            wallet,
            positions: vec![PerpPosition {
                market: MarketId(0),
                size,
                entry,
            }],
            mode: MarginMode::Isolated,
            sliced: false,
            cooldown_until: 0,
        }
    }

    /// §8.1 P1 through the account: an isolated long 1 BTC at 20,000 with 1,000 margin at
    /// MMR 0.4% liquidates at 19,076.31 and is bankrupt at 19,000; at the liquidation price its
    /// equity equals maintenance (tolerance 1e-6 USD).
    #[test]
    fn isolated_long_p1() {
        let markets = [market(&[(0.0, 0.004)])];
        let account = isolated(1.0, 20_000.0, 1_000.0);
        let lp = account.liquidation_price(0, &markets, &[20_000.0]);
        assert!((lp - 19_076.31).abs() < 0.01, "{lp}");
        let at = [lp];
        assert!((account.equity(&at) - account.maintenance(&markets, &at)).abs() < 1e-6);
        assert!((account.bankruptcy_price(0, &[20_000.0]) - 19_000.0).abs() < 1e-9);
        assert!(!account.liquidatable(&markets, &[lp + 0.01]));
        assert!(account.liquidatable(&markets, &[lp - 0.01]));
    }

    /// A cross account, long BTC and short ETH on one wallet: the BTC liquidation price moves
    /// with the ETH position's profit, and at it the whole account's equity meets the whole
    /// maintenance (tolerance 1e-6 USD).
    #[test]
    fn cross_account_liquidation_price_counts_the_other_positions() {
        let markets = [market(&[(0.0, 0.004)]), market(&[(0.0, 0.01)])];
        let mut account = isolated(1.0, 20_000.0, 1_500.0);
        account.mode = MarginMode::Cross;
        account.positions.push(PerpPosition {
            market: MarketId(1),
            size: -10.0,
            entry: 2_000.0,
        });
        let marks = [20_000.0, 1_900.0];
        let lp = account.liquidation_price(0, &markets, &marks);
        let at = [lp, 1_900.0];
        assert!((account.equity(&at) - account.maintenance(&markets, &at)).abs() < 1e-6);
        // The short's 1,000 profit lowers the long's liquidation price by about 1,000/0.996.
        let alone = isolated(1.0, 20_000.0, 1_500.0).liquidation_price(0, &markets, &marks);
        assert!(lp < alone);
        let bankrupt = account.bankruptcy_price(0, &marks);
        assert!(account.equity(&[bankrupt, 1_900.0]).abs() < 1e-6);
    }

    /// §8.2 P3 through a cross account: 20 ETH long at 1,000 on 10,000 USDT, 1% charged on the
    /// entry value, liquidates at 510 with equity 200 = maintenance there; a second position's
    /// profit lowers it (tolerance 1e-9 USD).
    #[test]
    fn maintenance_on_the_entry_value_p3() {
        let mut markets = [market(&[(0.0, 0.01)]), market(&[(0.0, 0.01)])];
        markets
            .iter_mut()
            .for_each(|m| m.maintenance_on = MaintenanceBasis::Entry);
        let mut account = isolated(20.0, 1_000.0, 10_000.0);
        account.mode = MarginMode::Cross;
        let marks = [1_000.0, 100.0];
        let lp = account.liquidation_price(0, &markets, &marks);
        assert!((lp - 510.0).abs() < 1e-9, "{lp}");
        assert!((account.maintenance(&markets, &[lp, 100.0]) - 200.0).abs() < 1e-9);
        assert!((account.equity(&[lp]) - 200.0).abs() < 1e-9);
        assert!(account.liquidatable(&markets, &[lp - 0.01, 100.0]));
        account.positions.push(PerpPosition {
            market: MarketId(1),
            size: -10.0,
            entry: 110.0,
        });
        // The short's 100 USDT profit and its 11 USDT maintenance (1% of 1,100 at entry).
        let lp = account.liquidation_price(0, &markets, &marks);
        assert!((lp - (1_000.0 - (10_000.0 - 11.0 + 100.0 - 200.0) / 20.0)).abs() < 1e-9);
    }

    /// Short positions: equity falls as the price rises; the short of P1 liquidates at
    /// 20,916.33 and is bankrupt at 21,000.
    #[test]
    fn isolated_short_p1() {
        let markets = [market(&[(0.0, 0.004)])];
        let account = isolated(-1.0, 20_000.0, 1_000.0);
        let lp = account.liquidation_price(0, &markets, &[20_000.0]);
        assert!((lp - 20_916.33).abs() < 0.01, "{lp}");
        assert!((account.bankruptcy_price(0, &[20_000.0]) - 21_000.0).abs() < 1e-9);
        assert!(account.liquidatable(&markets, &[lp + 0.01]));
    }
}
