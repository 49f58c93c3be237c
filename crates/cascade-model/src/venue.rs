//! Venues: where collateral is sold, and how a sale moves the price.
//!
//! Every impact model is a price curve `price(F, c)`: the best bid when the fundamental is `F` and
//! `c` units have been sold into the venue and not yet refilled. A sale of `q` units starting at
//! `c` receives the exact integral of the curve from `c` to `c + q` (for an order book, the sum over
//! the levels it eats). The consumed quantity has a permanent part, which never recovers, and a
//! transient part, which decays with a half-life (book resilience, arbitrage refilling depth).
//! Because the curve is anchored on the fundamental, an exogenous move shifts the whole venue while
//! the impact of forced selling stays on top of it.
//!
//! References: linear impact (Kyle); square-root law (Y·σ·√(q/V), Tóth et al. 2011); constant
//! product with fee (Uniswap v2 `getAmountOut`, REFERENCE-MATH §10.1).

use crate::Seconds;
use crate::ids::AssetId;

/// The shape of a venue's price impact.
#[derive(Clone, Debug, PartialEq)]
pub enum ImpactCurve {
    /// The price falls `usd_per_unit` USD per unit sold: price = F − λ·c (floored at zero).
    Linear {
        /// λ, USD of price per unit sold.
        usd_per_unit: f64,
    },
    /// Square-root law: price = F·(1 − Y·σ·√(c/V)) (floored at zero).
    SquareRoot {
        /// Y, the dimensionless prefactor (about 1 in empirical studies).
        coefficient: f64,
        /// σ, daily volatility as a fraction.
        daily_volatility: f64,
        /// V, daily traded volume in units.
        daily_volume: f64,
    },
    /// Constant product x·y = L² re-centred on the fundamental: at rest the pool holds
    /// x = L/√F base and y = L·√F quote. Selling c units pays out as Uniswap v2's `getAmountOut`
    /// for one trade of c from rest, and leaves x + c base (the fee stays in the pool) against the
    /// remaining quote, whose ratio is the new spot. Successive sales are priced as one trade from
    /// rest, so the growth of k from fees between trades is ignored.
    ConstantProduct {
        /// L = √(x·y), the pool's liquidity.
        liquidity: f64,
        /// Swap fee as a fraction (0.003 for Uniswap v2).
        fee: f64,
    },
    /// Uniswap v3 concentrated liquidity inside one price range (REFERENCE-MATH §10.2): selling
    /// Δ base after the fee moves √P to L·√P / (L + Δ·√P) and pays L·(√P − √P′) quote. At rest the
    /// pool price is the fundamental; the range ends `range_depth` below it, where the bids run
    /// out.
    ConcentratedLiquidity {
        /// L, the range's liquidity.
        liquidity: f64,
        /// Swap fee as a fraction (a v3 fee tier: 0.0005, 0.003, 0.01).
        fee: f64,
        /// Where the range ends below the fundamental, as a fraction of it (1 for no bound).
        range_depth: f64,
    },
    /// An order book of bid levels at fixed relative depths below the fundamental.
    OrderBook(OrderBook),
}

/// Bid levels of an order book, relative to the fundamental so the book moves with it.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderBook {
    /// Depth of each level below the fundamental as a fraction (level price = F·(1 − depth)),
    /// non-decreasing, each in [0, 1).
    depth: Vec<f64>,
    /// Units bid at each level.
    size: Vec<f64>,
    /// Cumulative units up to and including each level.
    cumulative: Vec<f64>,
}

impl OrderBook {
    /// Builds a book from (price, size) levels quoted when the fundamental was `reference_price`.
    /// Levels must be sorted by decreasing price, with positive prices below or at the reference
    /// and positive sizes (the scenario loader checks this and reports the offending level).
    pub fn from_levels(reference_price: f64, levels: &[(f64, f64)]) -> Self {
        let mut depth = Vec::with_capacity(levels.len());
        let mut size = Vec::with_capacity(levels.len());
        let mut cumulative = Vec::with_capacity(levels.len());
        let mut total = 0.0;
        for &(price, units) in levels {
            depth.push((1.0 - price / reference_price).max(0.0));
            size.push(units);
            total += units;
            cumulative.push(total);
        }
        Self {
            depth,
            size,
            cumulative,
        }
    }

    /// Total units bid in the book.
    pub fn total_size(&self) -> f64 {
        self.cumulative.last().copied().unwrap_or(0.0)
    }

    /// Index of the best level not yet fully consumed after `consumed` units.
    fn level_at(&self, consumed: f64) -> usize {
        self.cumulative.partition_point(|&q| q <= consumed)
    }
}

impl ImpactCurve {
    /// Best bid after `consumed` units have been sold, with fundamental `fundamental`.
    pub fn price(&self, fundamental: f64, consumed: f64) -> f64 {
        match self {
            Self::Linear { usd_per_unit } => (fundamental - usd_per_unit * consumed).max(0.0),
            Self::SquareRoot { .. } => {
                let a = self.sqrt_slope();
                fundamental * (1.0 - a * consumed.max(0.0).sqrt()).max(0.0)
            }
            Self::ConstantProduct { liquidity, fee } => {
                let x_rest = liquidity / fundamental.sqrt();
                fundamental * x_rest * x_rest
                    / ((x_rest + (1.0 - fee) * consumed) * (x_rest + consumed))
            }
            Self::ConcentratedLiquidity {
                liquidity,
                fee,
                range_depth,
            } => {
                let root = fundamental.sqrt();
                let after = liquidity * root / (liquidity + (1.0 - fee) * consumed.max(0.0) * root);
                (after * after).max(fundamental * (1.0 - range_depth))
            }
            Self::OrderBook(book) => match book.depth.get(book.level_at(consumed)) {
                Some(d) => fundamental * (1.0 - d),
                // Exhausted: no bids left; report the deepest level's price.
                None => book.depth.last().map_or(0.0, |d| fundamental * (1.0 - d)),
            },
        }
    }

    fn sqrt_slope(&self) -> f64 {
        match self {
            Self::SquareRoot {
                coefficient,
                daily_volatility,
                daily_volume,
            } => coefficient * daily_volatility / daily_volume.sqrt(),
            _ => unreachable!("sqrt_slope is only called on SquareRoot"),
        }
    }

    /// Units that can be sold from `consumed` before the bids run out (infinite for an AMM).
    pub fn capacity(&self, fundamental: f64, consumed: f64) -> f64 {
        match self {
            Self::Linear { usd_per_unit } => (fundamental / usd_per_unit - consumed).max(0.0),
            Self::SquareRoot { .. } => {
                let a = self.sqrt_slope();
                (1.0 / (a * a) - consumed).max(0.0)
            }
            Self::ConstantProduct { .. } => f64::INFINITY,
            Self::ConcentratedLiquidity {
                liquidity,
                fee,
                range_depth,
            } => {
                if *range_depth >= 1.0 {
                    return f64::INFINITY;
                }
                // Effective input that takes √P from √F down to the range's lower bound.
                let (root, floor) = (
                    fundamental.sqrt(),
                    (fundamental * (1.0 - range_depth)).sqrt(),
                );
                let effective = liquidity * (1.0 / floor - 1.0 / root);
                (effective / (1.0 - fee) - consumed).max(0.0)
            }
            Self::OrderBook(book) => (book.total_size() - consumed).max(0.0),
        }
    }

    /// Units filled and USD received when selling `units` starting from `consumed`.
    pub fn sale(&self, fundamental: f64, consumed: f64, units: f64) -> (f64, f64) {
        let filled = units.min(self.capacity(fundamental, consumed)).max(0.0);
        if filled <= 0.0 {
            return (0.0, 0.0);
        }
        let (c1, c2) = (consumed, consumed + filled);
        let proceeds = match self {
            Self::Linear { usd_per_unit } => {
                fundamental * filled - usd_per_unit * (c2 * c2 - c1 * c1) / 2.0
            }
            Self::SquareRoot { .. } => {
                let a = self.sqrt_slope();
                let (c1, c2) = (c1.max(0.0), c2.max(0.0));
                fundamental * (filled - 2.0 * a / 3.0 * (c2.powf(1.5) - c1.powf(1.5)))
            }
            Self::ConstantProduct { liquidity, fee } => {
                let x_rest = liquidity / fundamental.sqrt();
                let k = liquidity * liquidity;
                k / (x_rest + (1.0 - fee) * c1) - k / (x_rest + (1.0 - fee) * c2)
            }
            Self::ConcentratedLiquidity { liquidity, fee, .. } => {
                let root = fundamental.sqrt();
                let root_at = |c: f64| liquidity * root / (liquidity + (1.0 - fee) * c * root);
                liquidity * (root_at(c1) - root_at(c2))
            }
            Self::OrderBook(book) => {
                let mut proceeds = 0.0;
                let mut level = book.level_at(c1);
                let mut at = c1;
                while at < c2 && level < book.size.len() {
                    let take = book.cumulative[level].min(c2) - at;
                    proceeds += take * fundamental * (1.0 - book.depth[level]);
                    at += take;
                    level += 1;
                }
                proceeds
            }
        };
        (filled, proceeds.max(0.0))
    }
}

/// The result of a sale on a venue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fill {
    /// Units sold (less than asked when the bids ran out).
    pub filled: f64,
    /// USD received.
    pub proceeds: f64,
    /// Best bid before the sale.
    pub price_before: f64,
    /// Best bid after the sale.
    pub price_after: f64,
}

/// A venue: one base asset against the numeraire, an impact curve and the state of consumed depth.
#[derive(Clone, Debug)]
pub struct Venue {
    asset: AssetId,
    curve: ImpactCurve,
    permanent_fraction: f64,
    half_life: Option<Seconds>,
    consumed_permanent: f64,
    consumed_transient: f64,
}

impl Venue {
    /// A venue for `asset`. `permanent_fraction` in [0, 1] of each sale never recovers; the rest
    /// decays with `half_life` (required when `permanent_fraction` < 1).
    pub fn new(
        asset: AssetId,
        curve: ImpactCurve,
        permanent_fraction: f64,
        half_life: Option<Seconds>,
    ) -> Self {
        Self {
            asset,
            curve,
            permanent_fraction,
            half_life,
            consumed_permanent: 0.0,
            consumed_transient: 0.0,
        }
    }

    /// The traded asset.
    pub fn asset(&self) -> AssetId {
        self.asset
    }

    /// The impact curve.
    pub fn curve(&self) -> &ImpactCurve {
        &self.curve
    }

    /// Units sold and not yet refilled.
    pub fn consumed(&self) -> f64 {
        self.consumed_permanent + self.consumed_transient
    }

    /// Restores untouched depth.
    pub fn reset(&mut self) {
        self.consumed_permanent = 0.0;
        self.consumed_transient = 0.0;
    }

    /// Best bid given the fundamental.
    pub fn price(&self, fundamental: f64) -> f64 {
        self.curve.price(fundamental, self.consumed())
    }

    /// What selling `units` now would give, without trading.
    pub fn quote(&self, fundamental: f64, units: f64) -> Fill {
        let c = self.consumed();
        let (filled, proceeds) = self.curve.sale(fundamental, c, units);
        Fill {
            filled,
            proceeds,
            price_before: self.curve.price(fundamental, c),
            price_after: self.curve.price(fundamental, c + filled),
        }
    }

    /// Sells `units` into the venue.
    pub fn sell(&mut self, fundamental: f64, units: f64) -> Fill {
        let fill = self.quote(fundamental, units);
        self.consumed_permanent += self.permanent_fraction * fill.filled;
        self.consumed_transient += (1.0 - self.permanent_fraction) * fill.filled;
        fill
    }

    /// Lets transient impact recover for `dt` seconds. Returns whether anything changed.
    pub fn recover(&mut self, dt: Seconds) -> bool {
        match self.half_life {
            Some(h) if self.consumed_transient != 0.0 && dt > 0 => {
                let factor = 0.5f64.powf(dt as f64 / h as f64);
                self.consumed_transient *= factor;
                if self.consumed_transient.abs() < 1e-12 {
                    self.consumed_transient = 0.0;
                }
                true
            }
            _ => false,
        }
    }

    /// Units that must be sold from the current state to push the best bid down by `fraction`
    /// (0.01 = 1%): the depth that absorbs such a fall. Infinite if the bids never fall that far.
    pub fn depth_for_fall(&self, fundamental: f64, fraction: f64) -> f64 {
        let c = self.consumed();
        let start = self.curve.price(fundamental, c);
        let target = start * (1.0 - fraction);
        if start <= 0.0 {
            return 0.0;
        }
        if let ImpactCurve::Linear { usd_per_unit } = self.curve {
            return (start - target) / usd_per_unit;
        }
        // The curve is non-increasing in consumed units: bracket, then bisect.
        let below = |u: f64| self.curve.price(fundamental, c + u) <= target;
        let mut high = 1.0;
        let limit = self.curve.capacity(fundamental, c);
        while !below(high) {
            if high >= limit || high > 1e18 {
                return f64::INFINITY;
            }
            high *= 2.0;
        }
        let mut low = 0.0;
        for _ in 0..200 {
            let mid = 0.5 * (low + high);
            if below(mid) {
                high = mid;
            } else {
                low = mid;
            }
            if high - low <= 1e-12 * high {
                break;
            }
        }
        high
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// REFERENCE-MATH §10.1 V1: pool 1,000 ETH / 2,000,000 USDC, sell 10 ETH → 19,743.16 USDC
    /// (new spot 1,960.65); sell 100 ETH → 181,322.18 USDC. Tolerance 0.01 USDC.
    #[test]
    fn constant_product_matches_uniswap_v2_v1() {
        let liquidity = (1000.0f64 * 2_000_000.0).sqrt();
        let venue = Venue::new(
            AssetId(0),
            ImpactCurve::ConstantProduct {
                liquidity,
                fee: 0.003,
            },
            1.0,
            None,
        );
        let fill = venue.quote(2000.0, 10.0);
        assert!(close(fill.proceeds, 19_743.16, 0.01), "{}", fill.proceeds);
        assert!(close(venue.quote(2000.0, 100.0).proceeds, 181_322.18, 0.01));
        // New spot: (2,000,000 − 19,743.16) USDC against 1,010 ETH, the fee kept in the pool.
        assert!(close(
            fill.price_after,
            (2_000_000.0 - fill.proceeds) / 1010.0,
            1e-9
        ));
        assert!(close(fill.price_after, 1960.65, 0.01));
    }

    /// REFERENCE-MATH §10.2 V2: L = 1,000,000, P = 2,000, fee 0.3%; selling 5 token0 gives
    /// P′ = 1,999.1086 and 9,967.778 token1. Tolerances: 1e-4 in price, 1e-3 in amount.
    #[test]
    fn concentrated_liquidity_matches_uniswap_v3_v2() {
        let curve = ImpactCurve::ConcentratedLiquidity {
            liquidity: 1e6,
            fee: 0.003,
            range_depth: 1.0,
        };
        let (filled, proceeds) = curve.sale(2000.0, 0.0, 5.0);
        assert_eq!(filled, 5.0);
        assert!(close(proceeds, 9_967.778, 1e-3), "{proceeds}");
        assert!(close(curve.price(2000.0, 5.0), 1999.1086, 1e-4));
        // Two sales in a row cost the same as one: the curve is path-independent.
        let (_, first) = curve.sale(2000.0, 0.0, 2.0);
        let (_, second) = curve.sale(2000.0, 2.0, 3.0);
        assert!(close(first + second, proceeds, 1e-9));
        // A range ending 1% below the price runs out of bids there.
        let bounded = ImpactCurve::ConcentratedLiquidity {
            liquidity: 1e6,
            fee: 0.003,
            range_depth: 0.01,
        };
        let capacity = bounded.capacity(2000.0, 0.0);
        assert!(close(bounded.price(2000.0, capacity), 1980.0, 1e-9));
        let (filled, _) = bounded.sale(2000.0, 0.0, 1e9);
        assert!(close(filled, capacity, 1e-9));
    }

    #[test]
    fn linear_sale_is_the_integral_and_floors_at_zero() {
        let mut venue = Venue::new(
            AssetId(0),
            ImpactCurve::Linear { usd_per_unit: 0.5 },
            1.0,
            None,
        );
        let fill = venue.sell(100.0, 10.0);
        assert!(close(fill.proceeds, 10.0 * 100.0 - 0.5 * 100.0 / 2.0, 1e-9));
        assert!(close(fill.price_after, 95.0, 1e-12));
        // 190 units remain before the price reaches zero.
        let rest = venue.sell(100.0, 1_000.0);
        assert!(close(rest.filled, 190.0, 1e-9));
        assert_eq!(rest.price_after, 0.0);
    }

    #[test]
    fn order_book_is_eaten_level_by_level() {
        let book = OrderBook::from_levels(100.0, &[(99.0, 5.0), (98.0, 5.0), (90.0, 10.0)]);
        let mut venue = Venue::new(AssetId(0), ImpactCurve::OrderBook(book), 1.0, None);
        let fill = venue.sell(100.0, 12.0);
        assert!(close(
            fill.proceeds,
            5.0 * 99.0 + 5.0 * 98.0 + 2.0 * 90.0,
            1e-9
        ));
        assert_eq!(fill.price_before, 99.0);
        assert_eq!(fill.price_after, 90.0);
        let rest = venue.sell(100.0, 100.0);
        assert!(close(rest.filled, 8.0, 1e-12));
        // The book moves with the fundamental.
        assert!(close(venue.price(50.0), 45.0, 1e-12));
    }

    #[test]
    fn square_root_law_average_price() {
        // Y = 1, σ = 5%, V = 10,000: selling 100 units moves the price by 1·0.05·√0.01 = 0.5%,
        // and the average discount is two thirds of that.
        let curve = ImpactCurve::SquareRoot {
            coefficient: 1.0,
            daily_volatility: 0.05,
            daily_volume: 10_000.0,
        };
        let (filled, proceeds) = curve.sale(1000.0, 0.0, 100.0);
        assert_eq!(filled, 100.0);
        assert!(close(
            proceeds / filled,
            1000.0 * (1.0 - 2.0 / 3.0 * 0.005),
            1e-9
        ));
        assert!(close(curve.price(1000.0, 100.0), 995.0, 1e-9));
    }

    #[test]
    fn transient_impact_recovers_with_its_half_life() {
        let mut venue = Venue::new(
            AssetId(0),
            ImpactCurve::Linear { usd_per_unit: 1.0 },
            0.25,
            Some(60),
        );
        venue.sell(100.0, 8.0);
        assert!(close(venue.price(100.0), 92.0, 1e-12));
        venue.recover(60);
        // Permanent 2 units stay; transient 6 halves to 3.
        assert!(close(venue.price(100.0), 95.0, 1e-12));
        venue.recover(120);
        assert!(close(venue.price(100.0), 97.25, 1e-12));
    }

    #[test]
    fn depth_for_fall_matches_closed_forms() {
        let linear = Venue::new(
            AssetId(0),
            ImpactCurve::Linear {
                usd_per_unit: 0.002,
            },
            1.0,
            None,
        );
        assert!(close(linear.depth_for_fall(2000.0, 0.01), 10_000.0, 1e-9));
        // Constant product: price falls 1% when x grows by 1/√0.99.
        let liquidity = (1000.0f64 * 2_000_000.0).sqrt();
        let amm = Venue::new(
            AssetId(0),
            ImpactCurve::ConstantProduct {
                liquidity,
                fee: 0.0,
            },
            1.0,
            None,
        );
        let expected = 1000.0 * (1.0 / 0.99f64.sqrt() - 1.0);
        assert!(close(amm.depth_for_fall(2000.0, 0.01), expected, 1e-6));
    }
}
