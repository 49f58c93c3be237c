//! Keepers: the liquidators who repay debt, take collateral and sell it (or hold it).
//!
//! A keeper serves a list of protocols in order, may be limited by capital (USD it can spend on
//! repayments, replenished by its sale proceeds) and requires a minimum profit per liquidation,
//! valued at what its sale venue would pay (or at the oracle price when it holds), net of the gas
//! its transaction would cost. On a chain it also has a gas strategy and budget, a reaction
//! latency, a delay before its seized collateral reaches a venue, and periods when it is absent.

use crate::Seconds;
use crate::chain::GasStrategy;
use crate::ids::{AssetId, ProtocolId, VenueId};

/// What a keeper is and how it behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct KeeperSpec {
    /// Protocols served. When several keepers serve a protocol, the one listed first in the
    /// scenario is offered each liquidation first.
    pub protocols: Vec<ProtocolId>,
    /// Venue on which seized collateral of each asset is sold at once; `None` holds it.
    pub sell_on: Vec<Option<VenueId>>,
    /// Capital available for repayments, USD; `None` for unlimited.
    pub capital: Option<f64>,
    /// Minimum profit, USD, for the keeper to act on a liquidation.
    pub min_profit: f64,
    /// How many calls the keeper makes on one liquidatable account.
    pub strategy: KeeperStrategy,
    /// How the keeper prices gas (used only when the world has a chain).
    pub gas: GasStrategy,
    /// USD the keeper may spend on gas over the run; `None` for unlimited.
    pub gas_budget: Option<f64>,
    /// Seconds between an opportunity appearing and the keeper's transaction being sent.
    pub latency: Seconds,
    /// Seconds between seizing collateral and selling it (moving it to the venue): the capital
    /// it ties up comes back only then.
    pub sale_delay: Seconds,
    /// Periods `[from, to)` in seconds when the keeper is absent (down, or out of the market).
    pub outages: Vec<(Seconds, Seconds)>,
}

impl KeeperSpec {
    /// A keeper with the given protocols, venues, capital and minimum profit, acting at once and
    /// always present, bidding the clearing gas price.
    pub fn new(
        protocols: Vec<ProtocolId>,
        sell_on: Vec<Option<VenueId>>,
        capital: Option<f64>,
        min_profit: f64,
    ) -> Self {
        Self {
            protocols,
            sell_on,
            capital,
            min_profit,
            strategy: KeeperStrategy::SingleCall,
            gas: GasStrategy::Market {
                markup: 0.0,
                max_gwei: f64::INFINITY,
            },
            gas_budget: None,
            latency: 0,
            sale_delay: 0,
            outages: Vec::new(),
        }
    }

    /// Whether the keeper is present at `time` (outside all its outages).
    pub fn present(&self, time: Seconds) -> bool {
        !self
            .outages
            .iter()
            .any(|&(from, to)| from <= time && time < to)
    }
}

/// How a keeper liquidates an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeeperStrategy {
    /// One call for as much as the close factor and its capital allow.
    SingleCall,
    /// Under a close factor, first repay just enough to leave the health factor barely below 1,
    /// then call again for the close factor of the remaining debt: more debt repaid, so more
    /// bonus, than one call (the strategy documented by Qin et al., "An Empirical Study of DeFi
    /// Liquidations", 2021).
    TwoStep,
}

/// A keeper's balances during a run.
#[derive(Clone, Debug, PartialEq)]
pub struct KeeperBook {
    /// USD spent on repayments.
    pub spent: f64,
    /// USD received from sales.
    pub received: f64,
    /// USD received as auction incentives (tip + chip), paid by the protocol.
    pub incentives: f64,
    /// USD locked in standing English-auction bids (refunded when outbid, paid when dealt).
    pub locked: f64,
    /// Collateral held, per asset (seized and not sold, or sold only in part).
    pub inventory: Vec<f64>,
    /// USD spent on gas.
    pub gas_spent: f64,
}

impl KeeperBook {
    /// An empty book for a world with `assets` assets.
    pub fn new(assets: usize) -> Self {
        Self {
            spent: 0.0,
            received: 0.0,
            incentives: 0.0,
            locked: 0.0,
            inventory: vec![0.0; assets],
            gas_spent: 0.0,
        }
    }

    /// USD still available for repayments under `capital` (infinite when unlimited).
    pub fn available(&self, capital: Option<f64>) -> f64 {
        capital.map_or(f64::INFINITY, |c| {
            (c - self.spent + self.received - self.locked).max(0.0)
        })
    }

    /// USD of gas budget left under `budget` (infinite when unlimited).
    pub fn gas_left(&self, budget: Option<f64>) -> f64 {
        budget.map_or(f64::INFINITY, |b| (b - self.gas_spent).max(0.0))
    }

    /// Records collateral received.
    pub fn receive(&mut self, asset: AssetId, units: f64) {
        self.inventory[asset.index()] += units;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_are_half_open_and_budgets_run_down() {
        let mut spec = KeeperSpec::new(vec![], vec![], None, 0.0);
        spec.outages = vec![(100, 200)];
        assert!(spec.present(99) && !spec.present(100) && !spec.present(199) && spec.present(200));
        let mut book = KeeperBook::new(1);
        book.gas_spent = 30.0;
        assert_eq!(book.gas_left(Some(100.0)), 70.0);
        assert_eq!(book.gas_left(None), f64::INFINITY);
    }
}
