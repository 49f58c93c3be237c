//! The rules of a perpetual-swap exchange and of each of its markets: margin brackets, maximum
//! leverage, mark price and funding per market; close-out, fees, slicing, the backstop vault and
//! what covers a deficit the insurance fund cannot, per exchange.

use crate::Seconds;
use crate::perp::MarginTable;

/// How a market's mark price is formed from its index (the oracle) and its own book (the venue).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkRule {
    /// The index price itself (Hyperliquid's oracle-led mark, dYdX).
    Index,
    /// The venue's price (the last trade on the perp's own book).
    Venue,
    /// Binance's fair price: the median of the index, the index plus the last funding basis
    /// (`index · (1 + premium)`), and the venue price.
    Median,
}

/// The value a position's maintenance margin is charged on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MaintenanceBasis {
    /// Its notional at the mark (Binance, Hyperliquid).
    #[default]
    Mark,
    /// Its value at entry (BitMEX: "Isolated and Cross Margin Examples",
    /// bitmex.com/app/isolatedMarginExamples — 20 ETHUSDT at 1,000 on a 10,000 USDT cross wallet,
    /// maintenance 1% = 200 USDT, liquidation 510, bankruptcy 500).
    Entry,
}

/// A market: one base asset, its margin brackets and funding.
#[derive(Clone, Debug, PartialEq)]
pub struct PerpMarketParams {
    /// Highest leverage a position may be opened with (initial margin = notional / leverage).
    pub max_leverage: f64,
    /// Maintenance-margin brackets by notional.
    pub margin: MarginTable,
    /// What the brackets are applied to: the notional at the mark, or the value at entry.
    pub maintenance_on: MaintenanceBasis,
    /// How the mark price is formed.
    pub mark: MarkRule,
    /// Seconds between funding payments (28,800 on Binance, 3,600 on Hyperliquid); `None`
    /// disables funding.
    pub funding_interval: Option<Seconds>,
    /// Interest component per interval (0.0001 = 0.01%).
    pub funding_interest: f64,
    /// Clamp on (interest − premium) per interval (0.0005).
    pub funding_clamp: f64,
    /// Cap on the rate per interval, either sign.
    pub funding_cap: f64,
}

/// What happens to a liquidated account's remaining margin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseOut {
    /// Binance/BitMEX: the engine takes the position over at the bankruptcy price; the trader's
    /// margin is gone; a fill better than bankruptcy pays the surplus to the insurance fund, a
    /// worse one is paid by the fund.
    Bankruptcy,
    /// Hyperliquid: market orders close the position; what collateral remains after the fills
    /// and the liquidation fee stays with the trader; only a negative balance is the fund's.
    Market,
}

/// What covers a deficit the insurance fund cannot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeficitRule {
    /// Auto-deleveraging: opposite positions ranked by the venue's rule are closed at its ADL
    /// price ([`AdlRule`]; docs/reference-math.md §8.3, §8.4).
    AutoDeleverage,
    /// Socialised loss: the deficit is charged to accounts in profit, pro rata to their
    /// unrealised profit at the mark.
    Socialise,
    /// Nothing: the exchange carries the deficit.
    None,
}

/// How an exchange's auto-deleveraging ranks the opposite positions and at what price it
/// closes them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AdlRule {
    /// The queue's order.
    pub ranking: AdlRanking,
    /// The price deleveraged positions are closed at.
    pub price: AdlPrice,
    /// How much of each opposite position is closed.
    pub allocation: AdlAllocation,
}

/// How a bankrupt position's size is spread over the opposite positions of the book.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AdlAllocation {
    /// The queue (every venue's rule): opposite positions by decreasing rank, each closed only
    /// as far as the bankrupt size still open needs, the last one partly.
    #[default]
    Queue,
    /// The queue closing whole positions: every opposite position reached is closed entirely,
    /// what it closes beyond the bankrupt size taken by the market's outside counterparties at
    /// the same price (the overshoot of a queue that cannot close part of a position).
    WholePositions,
    /// Pro rata (Drift's contracts pro rata; the "pro-rata" benchmark of Chitra,
    /// "Autodeleveraging: Impossibilities and Optimization", arXiv:2512.01112): every opposite
    /// position in profit at the mark is closed by the same fraction, the bankrupt size over
    /// their total size (at most all of each); the rest goes to the queue's order.
    ProRata,
}

/// The order of the ADL queue, by venue (docs/reference-math.md §8.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AdlRanking {
    /// BitMEX: PnL% × effective leverage per position ([`crate::perp::adl_rank`]).
    #[default]
    Bitmex,
    /// Binance: unrealised PnL over collateral × margin ratio, per account
    /// ([`crate::perp::binance_adl_rank`]).
    Binance,
    /// Hyperliquid: (mark / entry) × notional / account value, in profit
    /// ([`crate::perp::hyperliquid_adl_rank`]).
    Hyperliquid,
}

/// The price at which auto-deleveraging closes positions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AdlPrice {
    /// The bankrupt position's bankruptcy price (Binance, BitMEX).
    #[default]
    Bankruptcy,
    /// The market's previous oracle price (Hyperliquid).
    PreviousOracle,
}

/// Large positions are closed in slices: a liquidation of a position above `above_usd`
/// notional sends only `fraction` of it and starts a cooldown of `cooldown` seconds; what a
/// further liquidation of the account does during it is `during_cooldown`'s (Hyperliquid: 20%
/// above 100,000 USDC, 30 s, the whole position during the cooldown).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Slicing {
    /// Notional (USD, at the mark) above which a close-out is a slice.
    pub above_usd: f64,
    /// Share of the position sent in a slice.
    pub fraction: f64,
    /// Seconds of cooldown after a slice.
    pub cooldown: Seconds,
    /// What a liquidation of the account does during the cooldown.
    pub during_cooldown: SliceCooldown,
}

/// What happens to an account still liquidatable during a slice's cooldown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SliceCooldown {
    /// It waits for the cooldown to end; the rest is then closed whole, and a slice comes again
    /// only once the account has recovered above maintenance.
    Wait,
    /// Hyperliquid ("Liquidations", hyperliquid.gitbook.io/hyperliquid-docs/trading/
    /// liquidations: "After a block where any position of a user is partially liquidated, there
    /// is a cooldown period of 30 seconds. During this cooldown period, all market liquidation
    /// orders for that user will be for the entire position"): it is liquidated at once, the
    /// whole position; after the cooldown a large position is sliced again.
    CloseWhole,
}

/// A Hyperliquid-style liquidator vault (HLP): it takes positions and their margin over when
/// equity falls below `below_fraction` of maintenance or the book cannot absorb a close-out,
/// and carries their profit and loss.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VaultParams {
    /// Fraction of maintenance margin under which the vault takes over (2/3 on Hyperliquid).
    pub below_fraction: f64,
    /// The vault's own capital, USD.
    pub capital_usd: f64,
}

/// An exchange's liquidation engine and loss absorption.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PerpParams {
    /// Bankruptcy-price or market close-out.
    pub close_out: CloseOut,
    /// Fee on the notional closed by a liquidation, paid into the insurance fund (market
    /// close-out and slices; under bankruptcy close-out the whole remaining margin goes there).
    pub liquidation_fee: f64,
    /// Large positions closed in slices with a cooldown, if set.
    pub slicing: Option<Slicing>,
    /// The backstop vault, if any.
    pub vault: Option<VaultParams>,
    /// Insurance fund at the start, USD.
    pub insurance_fund_usd: f64,
    /// What covers what the fund cannot.
    pub deficit: DeficitRule,
    /// Auto-deleveraging's queue and price (under [`DeficitRule::AutoDeleverage`]).
    pub adl: AdlRule,
}

/// The funding rate for one interval (Binance and Hyperliquid use the same form):
/// F = P + clamp(I − P, −c, c), capped at ±cap, where P is the interval's average premium
/// ((mark − index) / index) and I the interest component. Positive: longs pay shorts.
pub fn funding_rate(average_premium: f64, interest: f64, clamp: f64, cap: f64) -> f64 {
    let rate = average_premium + (interest - average_premium).clamp(-clamp, clamp);
    rate.clamp(-cap, cap)
}

/// A market's mark price from its index, its venue's price and the premium of the current
/// funding interval.
pub fn mark_price(rule: MarkRule, index: f64, venue: f64, premium: f64) -> f64 {
    match rule {
        MarkRule::Index => index,
        MarkRule::Venue => venue,
        MarkRule::Median => {
            let mut v = [index, index * (1.0 + premium), venue];
            v.sort_by(f64::total_cmp);
            v[1]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Binance's funding formula with the default interest 0.01% and clamp 0.05% per 8 h:
    /// a premium of 0.03% gives exactly the interest (the clamp absorbs the difference); a
    /// premium of 0.2% gives 0.2% − 0.05% = 0.15%; a discount of −0.1% gives −0.05%; a cap of
    /// 0.75% bounds a 2% premium. Tolerance 1e-15.
    #[test]
    fn funding_rate_follows_binance() {
        let f = |p: f64| funding_rate(p, 0.0001, 0.0005, 0.0075);
        assert!((f(0.0003) - 0.0001).abs() < 1e-15);
        assert!((f(0.002) - 0.0015).abs() < 1e-15);
        assert!((f(-0.001) + 0.0005).abs() < 1e-15);
        assert!((f(0.02) - 0.0075).abs() < 1e-15);
    }

    #[test]
    fn median_mark_takes_the_middle_value() {
        assert_eq!(mark_price(MarkRule::Median, 100.0, 90.0, 0.02), 100.0);
        assert_eq!(mark_price(MarkRule::Median, 100.0, 101.0, 0.02), 101.0);
        assert_eq!(mark_price(MarkRule::Median, 100.0, 110.0, 0.02), 102.0);
        assert_eq!(mark_price(MarkRule::Index, 100.0, 90.0, 0.02), 100.0);
        assert_eq!(mark_price(MarkRule::Venue, 100.0, 90.0, 0.02), 90.0);
    }
}
