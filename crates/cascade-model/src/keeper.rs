//! Keepers: the liquidators who repay debt, take collateral and sell it (or hold it).
//!
//! A keeper serves a list of protocols in order, may be limited by capital (USD it can spend on
//! repayments, replenished by its sale proceeds) and requires a minimum profit per liquidation,
//! valued at what its sale venue would pay (or at the oracle price when it holds).

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
        }
    }

    /// USD still available for repayments under `capital` (infinite when unlimited).
    pub fn available(&self, capital: Option<f64>) -> f64 {
        capital.map_or(f64::INFINITY, |c| {
            (c - self.spent + self.received - self.locked).max(0.0)
        })
    }

    /// Records collateral received.
    pub fn receive(&mut self, asset: AssetId, units: f64) {
        self.inventory[asset.index()] += units;
    }
}
