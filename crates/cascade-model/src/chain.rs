//! The chain: blocks of fixed duration, a gas price, and limited room for the simulated agents'
//! transactions — the congestion through which borrowers fail to add collateral and keepers
//! fail to bid (docs/model.md §1, "The chain").
//!
//! The gas price is the *clearing* price of the rest of the network: a transaction bidding at
//! least that much gets into the next block if the agents' room in it is not used up; one
//! bidding less waits in the mempool, is re-bid by its sender's strategy, or expires. Among the
//! waiting transactions that clear, the highest bids get in first. Gas is paid in a named asset
//! (ETH on Ethereum) at `gas used × gas price`.
//!
//! Keepers with the [`GasStrategy::PriorityAuction`] strategy compete for the same opportunity
//! in a priority gas auction ([`priority_gas_auction`]; Daian et al., "Flash Boys 2.0", IEEE
//! S&P 2020, arXiv:1904.05234, §4–5): each sees the others' bids in the mempool and replaces its
//! own transaction with one bidding a fixed fraction more than the leading bid (a node accepts a
//! replacement only above the old bid by its price bump: 10% in geth, `--txpool.pricebump`,
//! 12.5% in Parity), up to what the opportunity is worth to it. The highest bid goes first in
//! the block; the others still pay their gas when included, and revert when the opportunity is
//! gone (a reverted transaction pays for the gas it used, before and after EIP-1559).

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
    /// A keeper's priority-gas-auction bot (keepers only): it bids the clearing price, and when
    /// other keepers want the same opportunity in the same step it outbids the leading bid by
    /// `price_bump` as often as it takes, never above the lower of `max_gwei` and what the
    /// opportunity is worth to it in gas ([`priority_gas_auction`]). Outside a contest a waiting
    /// transaction follows the clearing price, as `Market` without markup.
    PriorityAuction {
        /// Fraction by which a raise exceeds the leading bid (0.1 = 10%, geth's replacement
        /// rule).
        price_bump: f64,
        /// Most the keeper will bid, gwei (infinite: only the opportunity's value bounds it).
        max_gwei: f64,
    },
}

impl GasStrategy {
    /// The bid for a new transaction when the clearing price is `clearing`.
    pub fn bid(&self, clearing: f64) -> f64 {
        match *self {
            Self::Fixed { gwei } => gwei,
            Self::Market { markup, max_gwei } => (clearing * (1.0 + markup)).min(max_gwei),
            Self::PriorityAuction { max_gwei, .. } => clearing.min(max_gwei),
        }
    }

    /// The new bid of a waiting transaction bidding `current`, if the strategy raises it.
    pub fn rebid(&self, current: f64, clearing: f64) -> Option<f64> {
        match self {
            Self::Fixed { .. } => None,
            Self::Market { .. } | Self::PriorityAuction { .. } => {
                let bid = self.bid(clearing);
                (bid > current).then_some(bid)
            }
        }
    }

    /// Whether the strategy bids in priority gas auctions.
    pub fn is_priority_auction(&self) -> bool {
        matches!(self, Self::PriorityAuction { .. })
    }
}

/// One bidder of a priority gas auction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GasBidder {
    /// Its first bid, gwei (at most `limit`).
    pub opening: f64,
    /// Most it will bid, gwei: for a priority-auction bot the lower of its cap and the
    /// opportunity's value to it in gas, for any other strategy its opening bid.
    pub limit: f64,
    /// Fraction by which it outbids the leading bid; `None` for a bidder that does not raise
    /// (a fixed or market strategy: it bids what its strategy bids).
    pub price_bump: Option<f64>,
}

/// How a priority gas auction ended.
#[derive(Clone, Debug, PartialEq)]
pub struct GasAuctionOutcome {
    /// Each bidder's last bid, gwei.
    pub bids: Vec<f64>,
    /// Each bidder's raises.
    pub raises: Vec<u32>,
    /// The bidders by block position: highest last bid first; of equal bids, the one that
    /// reached it first (an earlier transaction), then the bidder's index.
    pub order: Vec<usize>,
}

/// Raises after which an auction stops, whatever is left (a bump of 10% multiplies the leading
/// bid by more than 10^41 in that many raises).
const MAX_RAISES: usize = 1_000;

/// A priority gas auction (Daian et al. 2019, §5: bots replace their transaction with one
/// bidding a fixed fraction above the best bid seen, up to the value of the opportunity).
///
/// All bidders open at once. Then, in turns, each raising bidder that is not leading replaces
/// its bid with the leading bid × (1 + its bump), or with its limit if that is lower but still
/// above the leading bid and at least its own bid × (1 + bump) (the node's replacement rule);
/// the auction ends when nobody can outbid the leader. With two bidders of limits
/// v1 ≥ v2 · (1 + bump) the first wins, paying between v2 / (1 + bump) and
/// min(v1, v2 · (1 + bump)): the second-price outcome of an English auction, within one
/// increment (closer limits may go either way, the replacement rule stopping one first). A lone
/// bidder pays its opening bid.
/// Ties are broken by who bid first, then by index: deterministic.
pub fn priority_gas_auction(bidders: &[GasBidder]) -> GasAuctionOutcome {
    let n = bidders.len();
    let mut bids: Vec<f64> = bidders.iter().map(|b| b.opening.min(b.limit)).collect();
    let mut raises = vec![0u32; n];
    // When each bid was made: 0 for the openings, then the raise's sequence number.
    let mut when = vec![0usize; n];
    let leads = |bids: &[f64], when: &[usize], i: usize, j: usize| {
        bids[i] > bids[j] || (bids[i] == bids[j] && (when[i], i) < (when[j], j))
    };
    let mut leader = (0..n).reduce(|a, b| if leads(&bids, &when, b, a) { b } else { a });
    let mut sequence = 0;
    while let Some(l) = leader {
        if sequence >= MAX_RAISES {
            break;
        }
        // The first bidder (by index) able to outbid the leader does.
        let raise = (0..n).filter(|&i| i != l).find_map(|i| {
            let bump = bidders[i].price_bump?;
            let top = bids[l];
            let bid = (top * (1.0 + bump)).min(bidders[i].limit);
            (bid > top && bid >= bids[i] * (1.0 + bump)).then_some((i, bid))
        });
        let Some((i, bid)) = raise else {
            break;
        };
        bids[i] = bid;
        raises[i] += 1;
        sequence += 1;
        when[i] = sequence;
        leader = Some(i);
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| {
        bids[j]
            .total_cmp(&bids[i])
            .then(when[i].cmp(&when[j]))
            .then(i.cmp(&j))
    });
    GasAuctionOutcome {
        bids,
        raises,
        order,
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

    fn pga(limit: f64) -> GasBidder {
        GasBidder {
            opening: 50.0,
            limit,
            price_bump: Some(0.1),
        }
    }

    /// Two bots of values v1 ≥ 1.1·v2 from a 50-gwei base: the first wins, paying the second's
    /// value within one 10% increment, never more than its own value.
    #[test]
    fn the_higher_value_wins_at_about_the_second_value() {
        for (v1, v2) in [
            (300.0, 200.0),
            (1_000.0, 120.0),
            (220.0, 200.0),
            (80.0, 60.0),
        ] {
            for bidders in [[pga(v1), pga(v2)], [pga(v2), pga(v1)]] {
                let out = priority_gas_auction(&bidders);
                let winner = out.order[0];
                assert_eq!(bidders[winner].limit, v1, "{v1} vs {v2}");
                let paid = out.bids[winner];
                assert!(
                    paid <= v1 && paid <= v2 * 1.1 + 1e-9,
                    "{paid} for {v1} vs {v2}"
                );
                assert!(paid >= v2 / 1.1 - 1e-9, "{paid} for {v1} vs {v2}");
                let loser = out.order[1];
                assert!(out.bids[loser] <= v2 && out.bids[loser] < paid);
                assert!(out.raises[loser] > 0, "the loser tried");
            }
        }
        // Within one increment the replacement rule may stop the higher value first: whoever
        // wins pays at most its value and at least the other's within an increment.
        let bidders = [pga(201.0), pga(200.0)];
        let out = priority_gas_auction(&bidders);
        let winner = out.order[0];
        assert!(out.bids[winner] <= bidders[winner].limit);
        assert!(out.bids[winner] >= 200.0 / 1.1);
    }

    /// Equal values: one of them pays the common value, the same one every time.
    #[test]
    fn a_tie_is_won_at_the_common_value_deterministically() {
        let out = priority_gas_auction(&[pga(200.0), pga(200.0)]);
        assert_eq!(out, priority_gas_auction(&[pga(200.0), pga(200.0)]));
        let winner = out.order[0];
        assert_eq!(out.bids[winner], 200.0);
        assert!(out.bids[1 - winner] < 200.0);
    }

    /// However many bots, nobody bids above its value (nor its opening above its limit).
    #[test]
    fn no_bidder_bids_above_its_value() {
        let limits = [57.0, 340.0, 339.0, 51.0, 1e6, 500_000.0, 50.0];
        let bidders: Vec<GasBidder> = limits.iter().map(|&v| pga(v)).collect();
        let out = priority_gas_auction(&bidders);
        for (b, bid) in bidders.iter().zip(&out.bids) {
            assert!(*bid <= b.limit, "{bid} above {}", b.limit);
        }
        assert_eq!(out.order[0], 4);
        assert!(out.bids[4] >= 500_000.0 / 1.1 && out.bids[4] <= 550_000.0);
        let capped = priority_gas_auction(&[GasBidder {
            opening: 50.0,
            limit: 30.0,
            price_bump: Some(0.1),
        }]);
        assert_eq!(capped.bids, [30.0]);
    }

    /// Alone, a bot pays the base price; beside a bidder that does not raise, it outbids it by
    /// one increment.
    #[test]
    fn a_lone_bot_pays_the_base_and_a_fixed_bid_is_outbid_once() {
        let out = priority_gas_auction(&[pga(400.0)]);
        assert_eq!(
            (out.bids.as_slice(), out.raises.as_slice()),
            (&[50.0][..], &[0][..])
        );
        let fixed = GasBidder {
            opening: 120.0,
            limit: 120.0,
            price_bump: None,
        };
        let out = priority_gas_auction(&[fixed, pga(400.0)]);
        assert_eq!(out.order, [1, 0]);
        assert!((out.bids[1] - 132.0).abs() < 1e-9);
        assert_eq!(out.raises, [0, 1]);
        let out = priority_gas_auction(&[fixed, pga(125.0)]);
        assert_eq!(out.bids[1], 125.0, "its value, above the fixed bid");
        let out = priority_gas_auction(&[fixed, pga(100.0)]);
        assert_eq!(out.order, [0, 1], "it cannot afford to outbid");
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
