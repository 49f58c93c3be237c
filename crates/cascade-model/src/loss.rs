//! Loss absorption behind a protocol's liquidations: an insurance fund, funded by a share of the
//! protocol's liquidation fees and drawn to cover bad debt, then — when it is empty — socialised
//! loss (a haircut on suppliers) or debt auctions that mint a governance token in fixed lots
//! (Maker's flop: 50,000 DAI per lot on mainnet in 2020), or nothing (the deficit stays).

/// What covers bad debt the fund cannot.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shortfall {
    /// The protocol carries the deficit.
    Unabsorbed,
    /// Suppliers take the loss pro rata (a haircut on deposits).
    Socialise,
    /// Debt auctions raise `lot_usd` per lot by minting a governance token; a lot is kicked each
    /// time the uncovered deficit reaches a whole lot.
    DebtAuction {
        /// USD raised per lot.
        lot_usd: f64,
    },
}

/// A protocol's loss-absorption rules.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InsuranceParams {
    /// Fund balance at the start, USD.
    pub initial_usd: f64,
    /// Share of the protocol's liquidation fees (valued at the collateral price) paid into the
    /// fund.
    pub fee_share: f64,
    /// What covers bad debt once the fund is empty.
    pub shortfall: Shortfall,
}

/// What one settlement did, USD.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Settlement {
    /// Fee income paid into the fund.
    pub paid_in: f64,
    /// Bad debt covered by the fund.
    pub drawn: f64,
    /// Bad debt socialised.
    pub socialised: f64,
    /// Lots kicked by debt auctions.
    pub lots: u64,
    /// USD raised by those lots.
    pub auctioned: f64,
    /// Bad debt uncovered after this settlement, in total (a level, not a flow): carried by the
    /// protocol, or awaiting a whole debt-auction lot.
    pub uncovered: f64,
    /// Fund balance after the settlement.
    pub balance: f64,
}

/// The state of a protocol's loss absorption during a run.
#[derive(Clone, Debug, PartialEq)]
pub struct LossAbsorber {
    params: InsuranceParams,
    balance: f64,
    income: f64,
    deficit: f64,
    /// Deficit not covered: carried by the protocol, or waiting for a whole debt-auction lot.
    uncovered: f64,
}

impl LossAbsorber {
    /// A fund at its initial balance.
    pub fn new(params: InsuranceParams) -> Self {
        Self {
            params,
            balance: params.initial_usd,
            income: 0.0,
            deficit: 0.0,
            uncovered: 0.0,
        }
    }

    /// The rules.
    pub fn params(&self) -> &InsuranceParams {
        &self.params
    }

    /// Records liquidation-fee revenue (USD) of which `fee_share` is due to the fund.
    pub fn record_fees(&mut self, usd: f64) {
        self.income += usd * self.params.fee_share;
    }

    /// Records bad debt written off (USD).
    pub fn record_bad_debt(&mut self, usd: f64) {
        self.deficit += usd;
    }

    /// Whether anything awaits settlement.
    pub fn has_pending(&self) -> bool {
        self.income > 0.0 || self.deficit > 0.0
    }

    /// Pays in the fee income, then covers the deficit: fund first, then the shortfall rule.
    pub fn settle(&mut self) -> Settlement {
        let paid_in = std::mem::take(&mut self.income);
        self.balance += paid_in;
        let deficit = std::mem::take(&mut self.deficit);
        let drawn = deficit.min(self.balance);
        self.balance -= drawn;
        let rest = deficit - drawn;
        let mut settlement = Settlement {
            paid_in,
            drawn,
            balance: self.balance,
            ..Settlement::default()
        };
        match self.params.shortfall {
            Shortfall::Unabsorbed => self.uncovered += rest,
            Shortfall::Socialise => settlement.socialised = rest,
            Shortfall::DebtAuction { lot_usd } => {
                self.uncovered += rest;
                let lots = (self.uncovered / lot_usd).floor();
                self.uncovered -= lots * lot_usd;
                settlement.lots = lots as u64;
                settlement.auctioned = lots * lot_usd;
            }
        }
        settlement.uncovered = self.uncovered;
        settlement
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fund_pays_first_then_the_shortfall_rule() {
        let params = InsuranceParams {
            initial_usd: 100.0,
            fee_share: 0.5,
            shortfall: Shortfall::Socialise,
        };
        let mut fund = LossAbsorber::new(params);
        fund.record_fees(40.0);
        fund.record_bad_debt(150.0);
        let s = fund.settle();
        assert_eq!(
            (s.paid_in, s.drawn, s.socialised, s.balance),
            (20.0, 120.0, 30.0, 0.0)
        );
    }

    #[test]
    fn debt_auctions_kick_whole_lots_as_the_deficit_accumulates() {
        let params = InsuranceParams {
            initial_usd: 0.0,
            fee_share: 0.0,
            shortfall: Shortfall::DebtAuction { lot_usd: 50_000.0 },
        };
        let mut fund = LossAbsorber::new(params);
        fund.record_bad_debt(70_000.0);
        let first = fund.settle();
        assert_eq!(
            (first.lots, first.auctioned, first.uncovered),
            (1, 50_000.0, 20_000.0)
        );
        fund.record_bad_debt(40_000.0);
        let second = fund.settle();
        // 20,000 waiting + 40,000 = 60,000: one more lot, 10,000 still waiting.
        assert_eq!(
            (second.lots, second.auctioned, second.uncovered),
            (1, 50_000.0, 10_000.0)
        );
    }
}
