//! The chain: blocks of fixed duration, a gas price, and limited room for the simulated agents'
//! transactions — the congestion through which borrowers fail to add collateral and keepers
//! fail to bid (docs/model.md §1, "The chain").
//!
//! The gas price is the *clearing* price of the rest of the network: a transaction bidding at
//! least that much gets into the next block if the agents' room in it is not used up; one
//! bidding less waits in the mempool, is re-bid by its sender's strategy, or expires. Among the
//! waiting transactions that clear, the highest bids get in first. Gas is paid in a named asset
//! (ETH on Ethereum) at `gas used × gas price`.

use crate::Seconds;
use crate::ids::{AccountId, AssetId, KeeperId, ProtocolId};
use crate::volatility::stress;

/// Wei per gwei, the unit gas prices are quoted in.
pub const GWEI: f64 = 1e-9;

/// Where the clearing gas price comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum GasPrice {
    /// The same price throughout, gwei.
    Constant {
        /// Gwei.
        gwei: f64,
    },
    /// A series of (time, gwei) points in time order, the value in force being the last point
    /// at or before the time (the first point before it).
    Series {
        /// Point times, seconds from the start of the run, increasing.
        times: Vec<Seconds>,
        /// Gwei at each point.
        gwei: Vec<f64>,
    },
    /// A price that rises with the realised volatility σ of an asset's fundamental:
    /// `base × stress(σ, calm)^elasticity`, capped at `max_gwei`, where stress is σ/calm floored
    /// at 1 (so the price is `base` in calm markets).
    Volatility {
        /// Gwei in calm markets.
        base_gwei: f64,
        /// Daily volatility considered calm.
        calm_daily_volatility: f64,
        /// How steeply the price rises with stress (1: in proportion).
        elasticity: f64,
        /// Cap, gwei.
        max_gwei: f64,
        /// The asset whose fundamental's volatility drives the price.
        asset: AssetId,
        /// Trailing window of the realised volatility, seconds.
        window: Seconds,
    },
}

impl GasPrice {
    /// The clearing price at `time`, given the driving asset's daily realised volatility (used
    /// only by the volatility process).
    pub fn gwei(&self, time: Seconds, daily_volatility: f64) -> f64 {
        match self {
            Self::Constant { gwei } => *gwei,
            Self::Series { times, gwei } => {
                let after = times.partition_point(|&t| t <= time);
                gwei[after.saturating_sub(1)]
            }
            Self::Volatility {
                base_gwei,
                calm_daily_volatility,
                elasticity,
                max_gwei,
                ..
            } => (base_gwei * stress(daily_volatility, *calm_daily_volatility).powf(*elasticity))
                .min(*max_gwei),
        }
    }
}

/// Gas used by each kind of transaction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GasUsed {
    /// A fixed-spread liquidation call.
    pub liquidation: f64,
    /// Starting an auction (bite, bark), absorbing an account or liquidating a Liquity trove.
    pub kick: f64,
    /// A bid in an English auction (tend, dent).
    pub bid: f64,
    /// A take in a Dutch auction.
    pub take: f64,
    /// A borrower adding collateral.
    pub top_up: f64,
    /// A borrower repaying debt.
    pub repay: f64,
}

impl Default for GasUsed {
    /// Orders of magnitude of mainnet calls in 2020–21 (a liquidation ~500k gas, a flip bid
    /// ~200k, a vault top-up ~100k).
    fn default() -> Self {
        Self {
            liquidation: 500_000.0,
            kick: 300_000.0,
            bid: 200_000.0,
            take: 300_000.0,
            top_up: 100_000.0,
            repay: 150_000.0,
        }
    }
}

impl GasUsed {
    /// Gas used by a transaction of `kind`.
    pub fn of(&self, kind: TxKind) -> f64 {
        match kind {
            TxKind::Liquidate => self.liquidation,
            TxKind::Kick => self.kick,
            TxKind::Bid => self.bid,
            TxKind::Take => self.take,
            TxKind::TopUp => self.top_up,
            TxKind::Repay => self.repay,
        }
    }
}

/// The chain's rules.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainParams {
    /// Seconds between blocks.
    pub block_seconds: Seconds,
    /// Transactions of the simulated agents that fit in one block; `None` for no limit.
    pub room_per_block: Option<u64>,
    /// The clearing gas price.
    pub gas: GasPrice,
    /// The asset gas is paid in, valued at its fundamental price.
    pub gas_asset: AssetId,
    /// Gas used per kind of transaction.
    pub gas_used: GasUsed,
    /// Seconds a transaction may wait in the mempool before it is dropped; `None` never.
    pub expiry: Option<Seconds>,
}

impl ChainParams {
    /// Blocks produced in the step that ends at `time`, `step_seconds` after the previous one:
    /// those whose timestamp (a multiple of the block time) falls in (time − step, time]. The
    /// initial instant (time 0) has one block.
    pub fn blocks_in_step(&self, time: Seconds, step_seconds: Seconds) -> u64 {
        if time == 0 {
            return 1;
        }
        let b = self.block_seconds.max(1);
        time / b - time.saturating_sub(step_seconds) / b
    }

    /// The agents' room in a step of `blocks` blocks (`u64::MAX` without a limit).
    pub fn room(&self, blocks: u64) -> u64 {
        self.room_per_block
            .map_or(u64::MAX, |r| r.saturating_mul(blocks))
    }

    /// USD paid for a transaction of `kind` bidding `gwei` when the gas asset is worth
    /// `gas_asset_price`.
    pub fn cost_usd(&self, kind: TxKind, gwei: f64, gas_asset_price: f64) -> f64 {
        self.gas_used.of(kind) * gwei * GWEI * gas_asset_price
    }
}

/// How an agent prices its transactions' gas.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GasStrategy {
    /// Always the same bid, gwei (a wallet's default, or a bot with a stale gas oracle): it
    /// never re-bids.
    Fixed {
        /// Gwei.
        gwei: f64,
    },
    /// The clearing price plus a markup, capped; a waiting transaction is re-bid each block
    /// the clearing price moves above it, up to the cap.
    Market {
        /// Fraction above the clearing price (0.1 = 10%).
        markup: f64,
        /// Most the agent will bid, gwei.
        max_gwei: f64,
    },
}

impl GasStrategy {
    /// The bid for a new transaction when the clearing price is `clearing`.
    pub fn bid(&self, clearing: f64) -> f64 {
        match *self {
            Self::Fixed { gwei } => gwei,
            Self::Market { markup, max_gwei } => (clearing * (1.0 + markup)).min(max_gwei),
        }
    }

    /// The new bid of a waiting transaction bidding `current`, if the strategy raises it.
    pub fn rebid(&self, current: f64, clearing: f64) -> Option<f64> {
        match self {
            Self::Fixed { .. } => None,
            Self::Market { .. } => {
                let bid = self.bid(clearing);
                (bid > current).then_some(bid)
            }
        }
    }
}

/// Who sends a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sender {
    /// A keeper.
    Keeper(KeeperId),
    /// The owner of an account.
    Borrower(ProtocolId, AccountId),
}

/// What a transaction does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TxKind {
    /// A fixed-spread liquidation call.
    Liquidate,
    /// Starting an auction on an unsafe vault.
    Kick,
    /// A bid in an English auction.
    Bid,
    /// A take in a Dutch auction.
    Take,
    /// A borrower adding collateral.
    TopUp,
    /// A borrower repaying debt.
    Repay,
}

impl TxKind {
    /// The name used in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Liquidate => "liquidate",
            Self::Kick => "kick",
            Self::Bid => "bid",
            Self::Take => "take",
            Self::TopUp => "top_up",
            Self::Repay => "repay",
        }
    }
}

/// What a transaction acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// An account (vault, loan) of a protocol.
    Account(ProtocolId, AccountId),
    /// A running auction of a protocol, by its id.
    Auction(ProtocolId, u32),
}

/// Why a waiting transaction left the mempool without being included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// It waited longer than the chain's expiry.
    Expired,
    /// Its sender could no longer pay for its gas.
    GasBudget,
}

impl DropReason {
    /// The name used in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::GasBudget => "gas_budget",
        }
    }
}

/// A transaction waiting in the mempool, or included in the current step and not yet executed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transaction {
    /// Sequence number, unique in a run.
    pub id: u64,
    /// Who sent it.
    pub sender: Sender,
    /// What it does.
    pub kind: TxKind,
    /// What it acts on.
    pub target: Target,
    /// Gas bid, gwei.
    pub gas_bid: f64,
    /// When it was sent, seconds.
    pub submitted: Seconds,
    /// Earliest time it may be included (the sender's reaction latency), seconds.
    pub not_before: Seconds,
    /// Times its bid was raised.
    pub bumps: u32,
    /// Units it moves, for a borrower's top-up or repayment (fixed when sent).
    pub amount: f64,
    /// Whether it has been included in the current step (and awaits execution).
    pub included: bool,
}

/// Orders waiting transactions for inclusion: highest gas bid first, then the oldest.
pub fn inclusion_order(a: &Transaction, b: &Transaction) -> std::cmp::Ordering {
    b.gas_bid.total_cmp(&a.gas_bid).then(a.id.cmp(&b.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(block_seconds: Seconds, room: Option<u64>) -> ChainParams {
        ChainParams {
            block_seconds,
            room_per_block: room,
            gas: GasPrice::Constant { gwei: 10.0 },
            gas_asset: AssetId(0),
            gas_used: GasUsed::default(),
            expiry: None,
        }
    }

    #[test]
    fn blocks_follow_the_block_time_across_steps() {
        // 13-second blocks over one-minute steps: 4 or 5 blocks a step, 60·k/13 in all.
        let chain = params(13, Some(2));
        let total: u64 = (1..=13).map(|k| chain.blocks_in_step(60 * k, 60)).sum();
        assert_eq!(total, 60);
        assert_eq!(chain.blocks_in_step(60, 60), 4);
        assert_eq!(chain.blocks_in_step(120, 60), 5);
        assert_eq!(chain.blocks_in_step(0, 60), 1);
        assert_eq!(chain.room(4), 8);
        assert_eq!(params(13, None).room(4), u64::MAX);
    }

    #[test]
    fn a_series_holds_each_value_until_the_next_point() {
        let gas = GasPrice::Series {
            times: vec![0, 600, 1200],
            gwei: vec![10.0, 50.0, 200.0],
        };
        assert_eq!(gas.gwei(0, 0.0), 10.0);
        assert_eq!(gas.gwei(599, 0.0), 10.0);
        assert_eq!(gas.gwei(600, 0.0), 50.0);
        assert_eq!(gas.gwei(5_000, 0.0), 200.0);
    }

    #[test]
    fn the_volatility_process_is_flat_when_calm_and_proportional_under_stress() {
        let gas = GasPrice::Volatility {
            base_gwei: 20.0,
            calm_daily_volatility: 0.05,
            elasticity: 1.0,
            max_gwei: 150.0,
            asset: AssetId(0),
            window: 3_600,
        };
        assert_eq!(gas.gwei(0, 0.01), 20.0);
        assert!((gas.gwei(0, 0.30) - 120.0).abs() < 1e-9, "6× calm: 6× gas");
        assert_eq!(gas.gwei(0, 1.0), 150.0, "capped");
    }

    #[test]
    fn strategies_bid_and_rebid() {
        let fixed = GasStrategy::Fixed { gwei: 20.0 };
        assert_eq!(fixed.bid(200.0), 20.0);
        assert_eq!(fixed.rebid(20.0, 200.0), None);
        let market = GasStrategy::Market {
            markup: 0.1,
            max_gwei: 100.0,
        };
        assert!((market.bid(50.0) - 55.0).abs() < 1e-12);
        assert_eq!(market.bid(200.0), 100.0);
        assert_eq!(market.rebid(55.0, 80.0), Some(88.0));
        assert_eq!(market.rebid(100.0, 200.0), None, "already at its cap");
    }

    /// 500,000 gas at 200 gwei with ETH at 100 USD: 0.1 ETH = 10 USD.
    #[test]
    fn gas_cost_is_gas_times_price() {
        let chain = params(13, None);
        assert!((chain.cost_usd(TxKind::Liquidate, 200.0, 100.0) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn inclusion_prefers_the_highest_bid_then_the_oldest() {
        let tx = |id, gas_bid| Transaction {
            id,
            sender: Sender::Keeper(KeeperId(0)),
            kind: TxKind::Bid,
            target: Target::Auction(ProtocolId(0), id as u32),
            gas_bid,
            submitted: 0,
            not_before: 0,
            bumps: 0,
            amount: 0.0,
            included: false,
        };
        let mut txs = [tx(3, 50.0), tx(1, 20.0), tx(2, 50.0)];
        txs.sort_by(inclusion_order);
        assert_eq!(txs.map(|t| t.id), [2, 3, 1]);
    }
}
