//! Venues: where collateral is sold and bought, and how a trade moves the price.
//!
//! Every impact model is a price curve `price(F, c)` when the fundamental is `F` and `c` is the
//! venue's net consumed quantity: the units sold into it and not yet refilled, net of the units
//! bought from it. `c` is signed: positive after net sales (the price is the best bid, at or below
//! `F`), negative after net purchases (the price is above `F`: the next ask, or an AMM's spot).
//! The curve is non-increasing over all real `c`. A sale of `q` units starting at `c` receives the
//! exact integral of the curve from `c` to `c + q`; a purchase of `q` units pays the integral from
//! `c − q` to `c` (for an order book, the sum over the levels it eats; for an AMM, whose price is
//! the pool's spot, the fee is charged on top: a sale is paid as if its input were cut by the fee,
//! a purchase pays the spot integral divided by 1 − fee). Each side of `c = 0` has its own
//! formula — bids for `c > 0`, asks for `c < 0` — and a trade that crosses 0 is split there, so
//! buying back sold units pays what selling them received and selling bought units back receives
//! what buying them cost: a trade's USD depends only on where it starts and ends. The consumed
//! quantity has a permanent part, which never recovers, and a transient part, which decays towards
//! zero with a half-life from either side (book resilience, arbitrage refilling depth). Because the
//! curve is anchored on the fundamental, an exogenous move shifts the whole venue while the impact
//! of forced trading stays on top of it.
//!
//! A venue also has a *depth fraction* d in (0, 1], 1 for the full book: what share of the curve's
//! liquidity is being quoted. With depth d every quantity of the curve is scaled by d — the price
//! after c units is `price(F, c/d)`, a sale of q from c fills d × the curve's fill of q/d from
//! c/d and receives d × its proceeds, purchases and capacities alike — so an order book quotes
//! every level's size × d, an AMM holds liquidity L × d (LPs withdrawing), linear impact steepens
//! to λ/d and the square-root law sees a daily volume of V·d. Market makers
//! ([`crate::market_maker`]) move d with the venue's realised
//! volatility. Every trade and quote goes through [`Venue`], which applies the depth; the bare
//! [`ImpactCurve`] is the full book.
//!
//! An AMM's liquidity L may change over a run ([`Venue::set_liquidity`], driven by a
//! [`LiquiditySchedule`] of pool reserves): liquidity providers mint or burn at the pool's current
//! price, so the consumed units scale with L and the price does not jump; later trades meet the
//! new depth.
//!
//! References: linear impact (Kyle); square-root law (Y·σ·√(q/V), Tóth et al. 2011); constant
//! product with fee (Uniswap v2 `getAmountOut` and `getAmountIn`, docs/reference-math.md §10.1);
//! concentrated liquidity (Uniswap v3 `computeSwapStep`, docs/reference-math.md §10.2).

use crate::Seconds;
use crate::ids::AssetId;
use crate::market_maker::MarketMakers;

/// The smallest fraction of its resting base reserve that an AMM (constant product or concentrated
/// liquidity) keeps: buyers can take the pool's base down to it but not below, since emptying the
/// pool would take an infinite payment. The pool's price there is 10¹⁸ times the fundamental.
pub const MIN_POOL_RESERVE: f64 = 1e-9;

/// The thinnest a venue's book can be made: depth fractions are clamped to [`MIN_DEPTH`, 1], so
/// the scaled curve (consumed units divided by the depth) stays finite.
pub const MIN_DEPTH: f64 = 1e-9;

/// The shape of a venue's price impact.
#[derive(Clone, Debug, PartialEq)]
pub enum ImpactCurve {
    /// The price falls `usd_per_unit` USD per unit sold and rises as much per unit bought:
    /// price = F − λ·c (floored at zero).
    Linear {
        /// λ, USD of price per unit sold.
        usd_per_unit: f64,
    },
    /// Square-root law: price = F·(1 − Y·σ·sign(c)·√(|c|/V)) (floored at zero), so buying moves
    /// the price up as selling moves it down.
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
    /// rest, so the growth of k from fees between trades is ignored. Buying leaves x + c base
    /// (c < 0) at spot L²/(x + c)², and buying from c₁ down to c₂ costs Uniswap v2's
    /// `getAmountIn`, (L²/(x + c₂) − L²/(x + c₁))/(1 − fee); the pool's base never falls below
    /// [`MIN_POOL_RESERVE`] of x.
    ConstantProduct {
        /// L = √(x·y), the pool's liquidity.
        liquidity: f64,
        /// Swap fee as a fraction (0.003 for Uniswap v2).
        fee: f64,
    },
    /// Uniswap v3 concentrated liquidity inside one price range (docs/reference-math.md §10.2):
    /// selling
    /// Δ base after the fee moves √P to L·√P / (L + Δ·√P) and pays L·(√P − √P′) quote. At rest the
    /// pool price is the fundamental; the range ends `range_depth` below it, where the bids run
    /// out. Buying Δ base moves 1/√P to 1/√P − Δ/L and costs L·(√P′ − √P)/(1 − fee); the range is
    /// unbounded above, and the pool's virtual base L/√P never falls below [`MIN_POOL_RESERVE`] of
    /// its resting L/√F.
    ConcentratedLiquidity {
        /// L, the range's liquidity.
        liquidity: f64,
        /// Swap fee as a fraction (a v3 fee tier: 0.0005, 0.003, 0.01).
        fee: f64,
        /// Where the range ends below the fundamental, as a fraction of it (1 for no bound).
        range_depth: f64,
    },
    /// An order book of bid levels below the fundamental and ask levels above it, at fixed
    /// relative depths.
    OrderBook(OrderBook),
}

/// Bid and ask levels of an order book, relative to the fundamental so the book moves with it.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderBook {
    /// Depth of each bid level below the fundamental as a fraction (level price = F·(1 − depth)),
    /// non-decreasing, each in [0, 1).
    depth: Vec<f64>,
    /// Units bid at each level.
    size: Vec<f64>,
    /// Cumulative units up to and including each level.
    cumulative: Vec<f64>,
    /// Height of each ask level above the fundamental as a fraction (level price = F·(1 + depth)),
    /// non-decreasing, each ≥ 0.
    ask_depth: Vec<f64>,
    /// Units offered at each ask level.
    ask_size: Vec<f64>,
    /// Cumulative units offered up to and including each ask level.
    ask_cumulative: Vec<f64>,
}

/// Relative depths, sizes and cumulative sizes of levels, each depth given by `depth(price)`.
fn relative_levels(
    levels: &[(f64, f64)],
    depth_of: impl Fn(f64) -> f64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut depth = Vec::with_capacity(levels.len());
    let mut size = Vec::with_capacity(levels.len());
    let mut cumulative = Vec::with_capacity(levels.len());
    let mut total = 0.0;
    for &(price, units) in levels {
        depth.push(depth_of(price));
        size.push(units);
        total += units;
        cumulative.push(total);
    }
    (depth, size, cumulative)
}

impl OrderBook {
    /// Builds a book from (price, size) bid levels quoted when the fundamental was
    /// `reference_price`. Levels must be sorted by decreasing price, with positive prices below or
    /// at the reference and positive sizes (the scenario loader checks this and reports the
    /// offending level). The asks mirror the bids: a bid `d` below the fundamental becomes an ask
    /// of the same size at F·(1 + d).
    pub fn from_levels(reference_price: f64, levels: &[(f64, f64)]) -> Self {
        let (depth, size, cumulative) =
            relative_levels(levels, |price| (1.0 - price / reference_price).max(0.0));
        Self {
            ask_depth: depth.clone(),
            ask_size: size.clone(),
            ask_cumulative: cumulative.clone(),
            depth,
            size,
            cumulative,
        }
    }

    /// Builds a book from (price, size) bid and ask levels quoted when the fundamental was
    /// `reference_price`. Bids are as for [`OrderBook::from_levels`]; asks must be sorted by
    /// increasing price, each at or above the reference, with positive sizes. With no asks nothing
    /// can be bought.
    pub fn from_bids_and_asks(
        reference_price: f64,
        bids: &[(f64, f64)],
        asks: &[(f64, f64)],
    ) -> Self {
        let (depth, size, cumulative) =
            relative_levels(bids, |price| (1.0 - price / reference_price).max(0.0));
        let (ask_depth, ask_size, ask_cumulative) =
            relative_levels(asks, |price| (price / reference_price - 1.0).max(0.0));
        Self {
            depth,
            size,
            cumulative,
            ask_depth,
            ask_size,
            ask_cumulative,
        }
    }

    /// Total units bid in the book.
    pub fn total_size(&self) -> f64 {
        self.cumulative.last().copied().unwrap_or(0.0)
    }

    /// Total units offered in the book.
    pub fn total_ask_size(&self) -> f64 {
        self.ask_cumulative.last().copied().unwrap_or(0.0)
    }

    /// Index of the best level not yet fully consumed after `consumed` units.
    fn level_at(&self, consumed: f64) -> usize {
        self.cumulative.partition_point(|&q| q <= consumed)
    }

    /// Index of the best ask level not yet fully consumed after `bought` units.
    fn ask_level_at(&self, bought: f64) -> usize {
        self.ask_cumulative.partition_point(|&q| q <= bought)
    }
}

impl ImpactCurve {
    /// The curve's price with fundamental `fundamental` after a net `consumed` units have been
    /// sold (negative: bought). For `consumed` ≥ 0 it is the best bid; below 0 it is the price of
    /// the next unit bought (an order book's best remaining ask, an AMM's spot), at or above the
    /// fundamental. Non-increasing in `consumed`; an order book jumps from its best bid to its
    /// best ask across 0 (its spread).
    #[inline]
    pub fn price(&self, fundamental: f64, consumed: f64) -> f64 {
        if consumed < 0.0 {
            return self.ask_price(fundamental, consumed);
        }
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

    /// The price for `consumed` < 0 (net bought).
    fn ask_price(&self, fundamental: f64, consumed: f64) -> f64 {
        match self {
            Self::Linear { usd_per_unit } => fundamental - usd_per_unit * consumed,
            Self::SquareRoot { .. } => {
                let a = self.sqrt_slope();
                fundamental * (1.0 + a * (-consumed).sqrt())
            }
            Self::ConstantProduct { liquidity, .. }
            | Self::ConcentratedLiquidity { liquidity, .. } => {
                // Spot on the (virtual) reserves: L²/x², with x = x_rest + c base left.
                let x_rest = liquidity / fundamental.sqrt();
                let ratio = x_rest / (x_rest + consumed.max(self.ask_limit(fundamental)));
                fundamental * ratio * ratio
            }
            Self::OrderBook(book) => match book.ask_depth.get(book.ask_level_at(-consumed)) {
                Some(d) => fundamental * (1.0 + d),
                // Exhausted: no asks left; report the highest level's price.
                None => book
                    .ask_depth
                    .last()
                    .map_or(fundamental, |d| fundamental * (1.0 + d)),
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

    /// The lowest consumed quantity buyers can reach (minus the most that can be bought from
    /// rest): −∞ where buying is unlimited.
    fn ask_limit(&self, fundamental: f64) -> f64 {
        match self {
            Self::Linear { .. } | Self::SquareRoot { .. } => f64::NEG_INFINITY,
            Self::ConstantProduct { liquidity, .. }
            | Self::ConcentratedLiquidity { liquidity, .. } => {
                -(liquidity / fundamental.sqrt()) * (1.0 - MIN_POOL_RESERVE)
            }
            Self::OrderBook(book) => -book.total_ask_size(),
        }
    }

    /// Units that can be sold from `consumed` before the bids run out (infinite for an AMM).
    /// Units bought and not yet refilled (`consumed` < 0) are sold back first and count too.
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

    /// Units that can be bought from `consumed` before the asks run out: infinite for the linear
    /// and square-root laws; for an AMM, all of the pool's base but [`MIN_POOL_RESERVE`] of it at
    /// rest (so less than L/√F from rest); for an order book, the units offered. Units sold and not
    /// yet refilled (`consumed` > 0) are bought back first and count too.
    pub fn buy_capacity(&self, fundamental: f64, consumed: f64) -> f64 {
        (consumed - self.ask_limit(fundamental)).max(0.0)
    }

    /// Units filled and USD received when selling `units` starting from `consumed`.
    pub fn sale(&self, fundamental: f64, consumed: f64, units: f64) -> (f64, f64) {
        let filled = units.min(self.capacity(fundamental, consumed)).max(0.0);
        if filled <= 0.0 {
            return (0.0, 0.0);
        }
        let (c1, c2) = (consumed, consumed + filled);
        let proceeds = if c1 < 0.0 {
            // Selling bought units back: the asks up to 0, then the bids.
            let asks = self.ask_integral(fundamental, c1, c2.min(0.0));
            if c2 > 0.0 {
                asks + self.bid_integral(fundamental, 0.0, c2, c2)
            } else {
                asks
            }
        } else {
            self.bid_integral(fundamental, c1, c2, filled)
        };
        (filled, proceeds.max(0.0))
    }

    /// Units filled and USD paid when buying `units` starting from `consumed`: the integral of
    /// the curve from `consumed − filled` to `consumed`, split at 0. Sold units bought back
    /// (above 0) cost what selling them received, up to where the bids ran out (units sold beyond
    /// that, after the fundamental moved, cost nothing); the rest is priced on the ask side.
    pub fn purchase(&self, fundamental: f64, consumed: f64, units: f64) -> (f64, f64) {
        let filled = units.min(self.buy_capacity(fundamental, consumed)).max(0.0);
        if filled <= 0.0 {
            return (0.0, 0.0);
        }
        let (c1, c2) = (consumed, consumed - filled);
        let mut cost = 0.0;
        if c1 > 0.0 {
            let high = c1.min(self.capacity(fundamental, 0.0));
            let low = c2.max(0.0);
            if high > low {
                cost += self.bid_integral(fundamental, low, high, high - low);
            }
        }
        if c2 < 0.0 {
            cost += self.ask_integral(fundamental, c2, c1.min(0.0));
        }
        (filled, cost.max(0.0))
    }

    /// USD between consumed quantities 0 ≤ `c1` ≤ `c2` on the bid side, `filled` = c2 − c1, within
    /// the bids' capacity: what selling from `c1` to `c2` receives.
    fn bid_integral(&self, fundamental: f64, c1: f64, c2: f64, filled: f64) -> f64 {
        match self {
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
        }
    }

    /// USD between consumed quantities `c1` ≤ `c2` ≤ 0 on the ask side: what buying from `c2`
    /// down to `c1` costs (and selling from `c1` up to `c2` receives). Quantities beyond the
    /// asks' limit count for nothing.
    fn ask_integral(&self, fundamental: f64, c1: f64, c2: f64) -> f64 {
        let limit = self.ask_limit(fundamental);
        let (c1, c2) = (c1.max(limit), c2.max(limit));
        if c1 >= c2 {
            return 0.0;
        }
        match self {
            Self::Linear { usd_per_unit } => {
                fundamental * (c2 - c1) - usd_per_unit * (c2 * c2 - c1 * c1) / 2.0
            }
            Self::SquareRoot { .. } => {
                // ∫ F·(1 + a·√(−c)) dc from c1 to c2
                //   = F·((c2 − c1) + (2a/3)·(|c1|^1.5 − |c2|^1.5)).
                let a = self.sqrt_slope();
                fundamental * ((c2 - c1) + 2.0 * a / 3.0 * ((-c1).powf(1.5) - (-c2).powf(1.5)))
            }
            Self::ConstantProduct { liquidity, fee }
            | Self::ConcentratedLiquidity { liquidity, fee, .. } => {
                // getAmountIn on the (virtual) reserves: (k/x₁ − k/x₂)/(1 − fee), x = x_rest + c.
                let x_rest = liquidity / fundamental.sqrt();
                let k = liquidity * liquidity;
                (k / (x_rest + c1) - k / (x_rest + c2)) / (1.0 - fee)
            }
            Self::OrderBook(book) => {
                // Bought units run from −c2 to −c1 over the ask levels, best first.
                let (from, to) = (-c2, -c1);
                let mut cost = 0.0;
                let mut level = book.ask_level_at(from);
                let mut at = from;
                while at < to && level < book.ask_size.len() {
                    let take = book.ask_cumulative[level].min(to) - at;
                    cost += take * fundamental * (1.0 + book.ask_depth[level]);
                    at += take;
                    level += 1;
                }
                cost
            }
        }
    }
}

/// An AMM's liquidity over time, read from a series of pool reserves: each point's
/// L = √(base · quote) is in force from its time until the next point's (previous-value), and the
/// first point's before it. Times are seconds from the start of the run.
#[derive(Clone, Debug, PartialEq)]
pub struct LiquiditySchedule {
    times: Vec<Seconds>,
    liquidity: Vec<f64>,
}

impl LiquiditySchedule {
    /// A schedule from (time, L) points: at least one, times strictly increasing, every L
    /// positive and finite (the scenario loader checks this and reports the offending row).
    pub fn new(points: &[(Seconds, f64)]) -> Self {
        debug_assert!(!points.is_empty(), "a liquidity schedule needs a point");
        Self {
            times: points.iter().map(|p| p.0).collect(),
            liquidity: points.iter().map(|p| p.1).collect(),
        }
    }

    /// The L in force at time `t`: the last point's at or before `t`, the first point's before
    /// the first.
    pub fn at(&self, t: Seconds) -> f64 {
        let i = self.times.partition_point(|&x| x <= t);
        self.liquidity[i.saturating_sub(1)]
    }

    /// The (time, L) points, in time order.
    pub fn points(&self) -> impl Iterator<Item = (Seconds, f64)> + '_ {
        self.times
            .iter()
            .copied()
            .zip(self.liquidity.iter().copied())
    }
}

/// The result of a trade on a venue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fill {
    /// Units sold or bought (less than asked when the bids or the asks ran out).
    pub filled: f64,
    /// USD received for a sale; USD paid for a purchase.
    pub proceeds: f64,
    /// The curve's price before the trade (for a sale, the best bid).
    pub price_before: f64,
    /// The curve's price after the trade (for a sale, the best bid).
    pub price_after: f64,
}

/// A change of a venue's depth fraction by its market makers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DepthChange {
    /// The new depth fraction, in (0, 1].
    pub depth: f64,
    /// The daily realised volatility of the venue's price the makers responded to.
    pub daily_volatility: f64,
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
    /// The depth fraction d in (0, 1]: the share of the curve being quoted.
    depth: f64,
    /// Who sets the depth, if anyone (without market makers it stays at 1).
    market_makers: Option<MarketMakers>,
}

impl Venue {
    /// A venue for `asset`. `permanent_fraction` in [0, 1] of each trade never recovers; the rest
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
            depth: 1.0,
            market_makers: None,
        }
    }

    /// The venue with market makers who set its depth from its realised volatility
    /// ([`Venue::adjust_depth`]).
    pub fn with_market_makers(mut self, market_makers: MarketMakers) -> Self {
        self.market_makers = Some(market_makers);
        self
    }

    /// The venue's market makers, if it has any.
    pub fn market_makers(&self) -> Option<&MarketMakers> {
        self.market_makers.as_ref()
    }

    /// The depth fraction d in (0, 1]: the share of the full curve being quoted.
    pub fn depth(&self) -> f64 {
        self.depth
    }

    /// Sets the depth fraction, clamped to [`MIN_DEPTH`, 1] (a NaN leaves it unchanged). Units
    /// consumed stay consumed: the same units now eat further into the thinner book.
    pub fn set_depth(&mut self, depth: f64) {
        if !depth.is_nan() {
            self.depth = depth.clamp(MIN_DEPTH, 1.0);
        }
    }

    /// Lets the market makers, if any, watch the venue's price now (with fundamental
    /// `fundamental`, at the current depth) and set the depth for the next `dt` seconds. Returns
    /// the change, if the depth changed.
    pub fn adjust_depth(&mut self, fundamental: f64, dt: Seconds) -> Option<DepthChange> {
        // No makers, nothing to price: most venues have none, and this runs every step.
        self.market_makers.as_ref()?;
        let price = self.price(fundamental);
        let makers = self.market_makers.as_mut()?;
        let next = makers.respond(price, self.depth, dt);
        let daily_volatility = makers.daily_volatility();
        let before = self.depth;
        self.set_depth(next);
        (self.depth != before).then_some(DepthChange {
            depth: self.depth,
            daily_volatility,
        })
    }

    /// The traded asset.
    pub fn asset(&self) -> AssetId {
        self.asset
    }

    /// The impact curve of the full book (depth 1). Quotes and trades go through the venue's
    /// own methods, which apply the depth fraction.
    pub fn curve(&self) -> &ImpactCurve {
        &self.curve
    }

    /// `consumed` units of the venue as units of its full-depth curve: c / d.
    fn on_curve(&self, consumed: f64) -> f64 {
        consumed / self.depth
    }

    /// Net units sold and not yet refilled: negative after net purchases.
    pub fn consumed(&self) -> f64 {
        self.consumed_permanent + self.consumed_transient
    }

    /// Restores untouched depth: nothing consumed, the full book quoted, and the market makers'
    /// observations forgotten.
    pub fn reset(&mut self) {
        self.consumed_permanent = 0.0;
        self.consumed_transient = 0.0;
        self.depth = 1.0;
        if let Some(makers) = &mut self.market_makers {
            makers.reset();
        }
    }

    /// The curve's price given the fundamental: the best bid while the venue is net sold, above
    /// the fundamental once it is net bought. With depth d it is the full curve's price at c/d.
    #[inline]
    pub fn price(&self, fundamental: f64) -> f64 {
        self.curve
            .price(fundamental, self.on_curve(self.consumed()))
    }

    /// Units filled and USD received selling `units` after `extra_consumed` more units than the
    /// venue has consumed (sales already promised this round, say), without trading:
    /// d × the full curve's sale of `units`/d from (c + `extra_consumed`)/d.
    pub fn sale_from(&self, fundamental: f64, extra_consumed: f64, units: f64) -> (f64, f64) {
        let d = self.depth;
        let c = self.on_curve(self.consumed() + extra_consumed);
        let on_curve = units / d;
        let (filled, proceeds) = self.curve.sale(fundamental, c, on_curve);
        (unscaled_fill(units, on_curve, filled, d), proceeds * d)
    }

    /// Units that can be sold now before the bids run out (infinite for an AMM): d × the full
    /// curve's capacity from c/d.
    pub fn capacity(&self, fundamental: f64) -> f64 {
        self.depth
            * self
                .curve
                .capacity(fundamental, self.on_curve(self.consumed()))
    }

    /// Units that can be bought now before the asks run out: d × the full curve's buying
    /// capacity from c/d.
    pub fn buy_capacity(&self, fundamental: f64) -> f64 {
        self.depth
            * self
                .curve
                .buy_capacity(fundamental, self.on_curve(self.consumed()))
    }

    /// What selling `units` now would give, without trading.
    pub fn quote(&self, fundamental: f64, units: f64) -> Fill {
        let d = self.depth;
        let c = self.on_curve(self.consumed());
        let on_curve = units / d;
        let (filled, proceeds) = self.curve.sale(fundamental, c, on_curve);
        Fill {
            filled: unscaled_fill(units, on_curve, filled, d),
            proceeds: proceeds * d,
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

    /// A sale of `units` at the current price that leaves the venue as it was: the counterfactual
    /// of a trade into infinite depth (an attribution's muted source). Everything is filled.
    pub fn sell_at_price(&self, fundamental: f64, units: f64) -> Fill {
        let price = self.price(fundamental);
        Fill {
            filled: units,
            proceeds: units * price,
            price_before: price,
            price_after: price,
        }
    }

    /// A purchase of `units` at the current price of the next unit bought that leaves the venue
    /// as it was (see [`Venue::sell_at_price`]); `proceeds` is the USD paid.
    pub fn buy_at_price(&self, fundamental: f64, units: f64) -> Fill {
        let c = self.on_curve(self.consumed());
        // A purchase first buys back what was net sold, on the bid side, then lifts the asks.
        let price = if c > 0.0 {
            self.curve.price(fundamental, c)
        } else {
            self.curve.ask_price(fundamental, c)
        };
        Fill {
            filled: units,
            proceeds: units * price,
            price_before: price,
            price_after: price,
        }
    }

    /// The price after selling `extra_consumed` more units than the venue has consumed: where
    /// the next unit sold after the sales already promised this round would fill.
    pub fn price_after(&self, fundamental: f64, extra_consumed: f64) -> f64 {
        self.curve
            .price(fundamental, self.on_curve(self.consumed() + extra_consumed))
    }

    /// What buying `units` now would cost, without trading; `proceeds` is the USD paid.
    pub fn quote_buy(&self, fundamental: f64, units: f64) -> Fill {
        let d = self.depth;
        let c = self.on_curve(self.consumed());
        let on_curve = units / d;
        let (filled, cost) = self.curve.purchase(fundamental, c, on_curve);
        Fill {
            filled: unscaled_fill(units, on_curve, filled, d),
            proceeds: cost * d,
            price_before: self.curve.price(fundamental, c),
            price_after: self.curve.price(fundamental, c - filled),
        }
    }

    /// Buys `units` from the venue; `proceeds` is the USD paid. The permanent fraction of the
    /// units bought lowers the permanent consumed part, the rest the transient part.
    pub fn buy(&mut self, fundamental: f64, units: f64) -> Fill {
        let fill = self.quote_buy(fundamental, units);
        self.consumed_permanent -= self.permanent_fraction * fill.filled;
        self.consumed_transient -= (1.0 - self.permanent_fraction) * fill.filled;
        fill
    }

    /// Sets the liquidity L of an AMM (constant product or concentrated liquidity): liquidity
    /// providers mint or burn at the pool's current price, so the consumed units, permanent and
    /// transient, scale with L and the venue's price does not move. Returns whether L changed;
    /// other curves have no L and are left alone (false). `liquidity` must be positive and finite.
    pub fn set_liquidity(&mut self, liquidity: f64) -> bool {
        let current = match &mut self.curve {
            ImpactCurve::ConstantProduct { liquidity: l, .. }
            | ImpactCurve::ConcentratedLiquidity { liquidity: l, .. } => l,
            _ => return false,
        };
        if *current == liquidity {
            return false;
        }
        let scale = liquidity / *current;
        *current = liquidity;
        self.consumed_permanent *= scale;
        self.consumed_transient *= scale;
        true
    }

    /// Lets transient impact recover for `dt` seconds: the transient part, positive after sales
    /// or negative after purchases, decays towards zero. Returns whether anything changed.
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
    /// With depth d it is d × the full curve's depth from c/d.
    pub fn depth_for_fall(&self, fundamental: f64, fraction: f64) -> f64 {
        self.depth * self.curve_depth_for_fall(fundamental, fraction)
    }

    /// [`Venue::depth_for_fall`] in units of the full curve.
    fn curve_depth_for_fall(&self, fundamental: f64, fraction: f64) -> f64 {
        let c = self.on_curve(self.consumed());
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
        smallest_reaching(high, below)
    }

    /// Units that must be bought from the current state to push the curve's price up by
    /// `fraction` (0.01 = 1%): the depth that absorbs such a rise (a short squeeze). Infinite if
    /// the price never rises that far before the asks run out.
    /// With depth d it is d × the full curve's depth from c/d.
    pub fn depth_for_rise(&self, fundamental: f64, fraction: f64) -> f64 {
        self.depth * self.curve_depth_for_rise(fundamental, fraction)
    }

    /// [`Venue::depth_for_rise`] in units of the full curve.
    fn curve_depth_for_rise(&self, fundamental: f64, fraction: f64) -> f64 {
        let c = self.on_curve(self.consumed());
        let start = self.curve.price(fundamental, c);
        let target = start * (1.0 + fraction);
        if start <= 0.0 {
            return 0.0;
        }
        if let ImpactCurve::Linear { usd_per_unit } = self.curve {
            return (target - start) / usd_per_unit;
        }
        // The curve is non-increasing in consumed units, so non-decreasing in units bought:
        // bracket, then bisect.
        let above = |u: f64| self.curve.price(fundamental, c - u) >= target;
        let limit = self.curve.buy_capacity(fundamental, c);
        let mut high = limit.min(1.0);
        while !above(high) {
            if high >= limit || high > 1e18 {
                return f64::INFINITY;
            }
            high = (2.0 * high).min(limit);
        }
        smallest_reaching(high, above)
    }
}

/// Units of the venue filled when the full curve filled `filled` of the `on_curve` = `units` / d
/// asked of it: all of `units` when it filled everything (so rounding in d × (units / d) never
/// leaves a sliver unsold), d × `filled` otherwise.
fn unscaled_fill(units: f64, on_curve: f64, filled: f64, d: f64) -> f64 {
    if filled >= on_curve {
        units.max(0.0)
    } else {
        filled * d
    }
}

/// Bisects [0, `high`] for the smallest quantity at which `reached` holds (it holds at `high`
/// and, the curve being monotone, at everything above), to a relative 1e-12.
fn smallest_reaching(mut high: f64, reached: impl Fn(f64) -> bool) -> f64 {
    let mut low = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if reached(mid) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// docs/reference-math.md §10.1 V1: pool 1,000 ETH / 2,000,000 USDC, sell 10 ETH → 19,743.16
    /// USDC
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

    /// Uniswap v2 `getAmountOut` (docs/reference-math.md §10.1) with the fee as a fraction.
    fn get_amount_out(amount_in: f64, reserve_in: f64, reserve_out: f64, fee: f64) -> f64 {
        let in_after_fee = amount_in * (1.0 - fee);
        in_after_fee * reserve_out / (reserve_in + in_after_fee)
    }

    /// A schedule holds each point's L until the next point, and the first point's before it.
    #[test]
    fn liquidity_schedule_is_previous_value() {
        let schedule = LiquiditySchedule::new(&[(600, 10.0), (1200, 20.0), (1800, 5.0)]);
        assert_eq!(schedule.at(0), 10.0);
        assert_eq!(schedule.at(600), 10.0);
        assert_eq!(schedule.at(1199), 10.0);
        assert_eq!(schedule.at(1200), 20.0);
        assert_eq!(schedule.at(1799), 20.0);
        assert_eq!(schedule.at(1800), 5.0);
        assert_eq!(schedule.at(u64::MAX), 5.0);
        assert_eq!(schedule.points().count(), 3);
    }

    /// After `set_liquidity` a sale from rest is Uniswap v2's `getAmountOut` on the new reserves
    /// (L/√F base, L·√F quote); with units already sold the price does not jump (a mint or burn
    /// at the pool's price), and the next sale meets the new depth.
    #[test]
    fn set_liquidity_changes_the_depth_not_the_price() {
        let mut venue = Venue::new(
            AssetId(0),
            ImpactCurve::ConstantProduct {
                liquidity: (1000.0f64 * 2_000_000.0).sqrt(),
                fee: 0.003,
            },
            0.5,
            Some(600),
        );
        // A pool of 2,000 ETH / 4,000,000 USDC at F = 2,000.
        assert!(venue.set_liquidity((2000.0f64 * 4_000_000.0).sqrt()));
        assert!(!venue.set_liquidity((2000.0f64 * 4_000_000.0).sqrt()));
        let expected = get_amount_out(10.0, 2000.0, 4_000_000.0, 0.003);
        assert!(close(venue.quote(2000.0, 10.0).proceeds, expected, 1e-6));
        venue.sell(2000.0, 50.0);
        let before = venue.price(2000.0);
        let consumed = venue.consumed();
        assert!(venue.set_liquidity((1000.0f64 * 2_000_000.0).sqrt()));
        assert!(close(venue.price(2000.0), before, 1e-9));
        assert!(close(venue.consumed(), consumed / 2.0, 1e-12));
        // The shallower pool, 25 ETH sold into its 1,000 at rest: the next 10 ETH fetch less than
        // they did in the deeper pool at rest.
        let next = venue.quote(2000.0, 10.0);
        let bid = 2000.0 * 1000.0 * 1000.0 / ((1000.0 + 25.0 * 0.997) * 1025.0);
        assert!(close(next.price_before, bid, 1e-9));
        assert!(next.proceeds > 0.0 && next.proceeds < expected);
        // Curves without an L are left alone.
        let mut linear = Venue::new(
            AssetId(0),
            ImpactCurve::Linear { usd_per_unit: 1.0 },
            1.0,
            None,
        );
        assert!(!linear.set_liquidity(5.0));
    }

    /// docs/reference-math.md §10.2 V2: L = 1,000,000, P = 2,000, fee 0.3%; selling 5 token0 gives
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

    /// Every kind of curve, for the tests that run over all of them.
    fn all_curves() -> Vec<ImpactCurve> {
        vec![
            ImpactCurve::Linear { usd_per_unit: 0.5 },
            ImpactCurve::SquareRoot {
                coefficient: 1.0,
                daily_volatility: 0.05,
                daily_volume: 10_000.0,
            },
            ImpactCurve::ConstantProduct {
                liquidity: (1000.0f64 * 100_000.0).sqrt(),
                fee: 0.003,
            },
            ImpactCurve::ConcentratedLiquidity {
                liquidity: 1e4,
                fee: 0.003,
                range_depth: 0.5,
            },
            ImpactCurve::OrderBook(OrderBook::from_bids_and_asks(
                100.0,
                &[(99.0, 5.0), (98.0, 5.0), (90.0, 10.0)],
                &[(101.0, 4.0), (103.0, 6.0), (120.0, 10.0)],
            )),
        ]
    }

    /// Selling 3 units, buying 10 (crossing 0) and selling the 10 back returns consumed, and both
    /// of its parts, to where they were after the first sale, and the sale back receives what the
    /// purchase paid (the curve is path-independent). Tolerances: 1e-12 in units, 1e-9 relative in
    /// USD.
    #[test]
    fn buy_then_sell_round_trip_returns_consumed_to_its_start() {
        for curve in all_curves() {
            let mut venue = Venue::new(AssetId(0), curve.clone(), 0.4, Some(60));
            venue.sell(100.0, 3.0);
            let (start, permanent) = (venue.consumed(), venue.consumed_permanent);
            let bought = venue.buy(100.0, 10.0);
            assert_eq!(bought.filled, 10.0, "{curve:?}");
            assert!(close(venue.consumed(), start - 10.0, 1e-12), "{curve:?}");
            assert!(bought.price_after > bought.price_before, "{curve:?}");
            let sold = venue.sell(100.0, 10.0);
            assert_eq!(sold.filled, 10.0, "{curve:?}");
            assert!(close(venue.consumed(), start, 1e-12), "{curve:?}");
            assert!(close(venue.consumed_permanent, permanent, 1e-12));
            assert!(
                close(sold.proceeds, bought.proceeds, 1e-9 * bought.proceeds),
                "{curve:?}: paid {} got {}",
                bought.proceeds,
                sold.proceeds
            );
            assert!(close(sold.price_after, bought.price_before, 1e-9));
        }
    }

    /// Linear, λ = 0.5, F = 100: buying 10 from rest costs ∫₋₁₀⁰ (100 − 0.5c) dc =
    /// 10·100 + 0.5·10²/2 = 1,025 and lifts the price to 105; after selling 4, buying 10 costs
    /// ∫₋₆⁴ (100 − 0.5c) dc = 1,000 − 0.25·(4² − 6²) = 1,005. Tolerance 1e-9 USD.
    #[test]
    fn linear_buy_cost_is_the_closed_form() {
        let curve = ImpactCurve::Linear { usd_per_unit: 0.5 };
        let mut venue = Venue::new(AssetId(0), curve.clone(), 1.0, None);
        let fill = venue.buy(100.0, 10.0);
        assert_eq!(fill.filled, 10.0);
        assert!(close(fill.proceeds, 1025.0, 1e-9), "{}", fill.proceeds);
        assert_eq!(fill.price_before, 100.0);
        assert!(close(fill.price_after, 105.0, 1e-12));
        assert_eq!(curve.buy_capacity(100.0, 0.0), f64::INFINITY);
        let (filled, cost) = curve.purchase(100.0, 4.0, 10.0);
        assert_eq!(filled, 10.0);
        assert!(close(cost, 1005.0, 1e-9), "{cost}");
    }

    /// Uniswap v2 `getAmountIn` on the §10.1 V1 pool (1,000 ETH / 2,000,000 USDC, fee 0.3%),
    /// buying 10 ETH: in = R_in·out / ((R_out − out)·0.997) = 2,000,000·10 / (990·0.997)
    /// = 20,000,000 / 987.03 = 20,262.8086 USDC (the contract adds 1 wei of rounding, ignored
    /// here). The new spot is 2,020,202.02 USDC / 990 ETH = 2,040.6081 (fee outside the
    /// reserves, as k/x²). Tolerances: 1e-3 USDC in cost, 1e-3 in price.
    #[test]
    fn constant_product_buy_matches_uniswap_v2_get_amount_in() {
        let liquidity = (1000.0f64 * 2_000_000.0).sqrt();
        let curve = ImpactCurve::ConstantProduct {
            liquidity,
            fee: 0.003,
        };
        let venue = Venue::new(AssetId(0), curve.clone(), 1.0, None);
        let fill = venue.quote_buy(2000.0, 10.0);
        assert_eq!(fill.filled, 10.0);
        assert!(
            close(fill.proceeds, 20_262.808_6, 1e-3),
            "{}",
            fill.proceeds
        );
        assert!(
            close(fill.price_after, 2_040.608_1, 1e-3),
            "{}",
            fill.price_after
        );
        // The pool can never be emptied: buying far more than it holds fills less than its
        // 1,000 ETH, at a finite cost.
        let capacity = curve.buy_capacity(2000.0, 0.0);
        assert!(capacity < 1000.0 && capacity > 999.9, "{capacity}");
        let (filled, cost) = curve.purchase(2000.0, 0.0, 1e6);
        assert!(close(filled, capacity, 1e-9));
        assert!(cost.is_finite() && cost > 2e6, "{cost}");
    }

    /// docs/reference-math.md §10.2 V2: L = 1,000,000, P = 2,000, fee 0.3%: buying token0 with
    /// 10,000
    /// token1 moves √P to 44.731330 (P′ = 2,000.8918) and gives 4.983889 token0. So buying
    /// 4.983889 costs 10,000 (within 1e-2: the amount is rounded to 1e-6 token0, worth about
    /// 2e-3) and leaves the price at 2,000.8918 (within 1e-4).
    #[test]
    fn concentrated_liquidity_buy_matches_uniswap_v3_v2() {
        let curve = ImpactCurve::ConcentratedLiquidity {
            liquidity: 1e6,
            fee: 0.003,
            range_depth: 1.0,
        };
        let (filled, cost) = curve.purchase(2000.0, 0.0, 4.983889);
        assert_eq!(filled, 4.983889);
        assert!(close(cost, 10_000.0, 1e-2), "{cost}");
        assert!(close(curve.price(2000.0, -filled), 2_000.891_8, 1e-4));
        // §10.2's formula directly: 1/√P′ = 1/√P − Δ/L, cost = L·(√P′ − √P)/(1 − fee).
        let root = 2000.0f64.sqrt();
        let after = 1.0 / (1.0 / root - 4.983889 / 1e6);
        assert!(close(cost, 1e6 * (after - root) / 0.997, 1e-6));
        // Buying is bounded by the virtual base at rest, L/√F = 22,360.68.
        let capacity = curve.buy_capacity(2000.0, 0.0);
        assert!(capacity < 1e6 / root && capacity > 22_360.0, "{capacity}");
    }

    /// Asks at 101 (5), 102 (5) and 110 (10) with the fundamental at 100: buying 12 eats the first
    /// two levels and 2 of the third. Tolerance 1e-9 USD.
    #[test]
    fn order_book_asks_are_eaten_level_by_level() {
        let book = OrderBook::from_bids_and_asks(
            100.0,
            &[(99.0, 5.0), (98.0, 5.0)],
            &[(101.0, 5.0), (102.0, 5.0), (110.0, 10.0)],
        );
        let mut venue = Venue::new(AssetId(0), ImpactCurve::OrderBook(book), 1.0, None);
        let fill = venue.buy(100.0, 12.0);
        assert!(close(
            fill.proceeds,
            5.0 * 101.0 + 5.0 * 102.0 + 2.0 * 110.0,
            1e-9
        ));
        // Before the purchase the curve's price is the best bid; after it, the next ask.
        assert_eq!(fill.price_before, 99.0);
        assert!(close(fill.price_after, 110.0, 1e-12));
        let rest = venue.buy(100.0, 100.0);
        assert!(close(rest.filled, 8.0, 1e-12));
        assert!(close(rest.proceeds, 8.0 * 110.0, 1e-9));
        assert_eq!(venue.buy(100.0, 1.0).filled, 0.0);
        // The book moves with the fundamental: exhausted, it reports its highest ask.
        assert!(close(venue.price(50.0), 55.0, 1e-12));
        // Selling back walks down the same asks.
        let back = venue.sell(100.0, 15.0);
        assert!(close(back.proceeds, 10.0 * 110.0 + 5.0 * 102.0, 1e-9));
        // The 101 level is still bought out: the next ask is 102.
        assert!(close(back.price_after, 102.0, 1e-12));
    }

    /// Without asks, a bid d below the fundamental is mirrored by an ask of the same size at
    /// F·(1 + d): bids 99/98/90 give asks 101/102/110. Tolerance 1e-9 USD.
    #[test]
    fn order_book_mirrors_the_bids_when_no_asks_are_given() {
        let bids = [(99.0, 5.0), (98.0, 5.0), (90.0, 10.0)];
        let mirrored = ImpactCurve::OrderBook(OrderBook::from_levels(100.0, &bids));
        let explicit = ImpactCurve::OrderBook(OrderBook::from_bids_and_asks(
            100.0,
            &bids,
            &[(101.0, 5.0), (102.0, 5.0), (110.0, 10.0)],
        ));
        let (filled, cost) = mirrored.purchase(100.0, 0.0, 12.0);
        assert_eq!(filled, 12.0);
        assert!(close(cost, 5.0 * 101.0 + 5.0 * 102.0 + 2.0 * 110.0, 1e-9));
        assert!(close(mirrored.buy_capacity(100.0, 0.0), 20.0, 1e-12));
        for c in [-25.0, -20.0, -12.0, -5.0, -1e-9, 0.0, 3.0] {
            assert!(close(
                mirrored.price(100.0, c),
                explicit.price(100.0, c),
                1e-9
            ));
        }
        // An explicit book without asks sells nothing to buyers.
        let bare = OrderBook::from_bids_and_asks(100.0, &bids, &[]);
        assert_eq!(
            ImpactCurve::OrderBook(bare).purchase(100.0, 0.0, 1.0),
            (0.0, 0.0)
        );
    }

    /// Y = 1, σ = 5%, V = 10,000 (a = 0.0005): buying q = 100 from rest costs
    /// F·q·(1 + (2/3)·a·√q) = 100,000·(1 + 0.005·2/3) = 100,333.33 and lifts the price 0.5%,
    /// mirroring the sale, whose proceeds are F·q·(1 − (2/3)·a·√q). Tolerance 1e-6 USD.
    #[test]
    fn square_root_buy_mirrors_the_sale() {
        let curve = ImpactCurve::SquareRoot {
            coefficient: 1.0,
            daily_volatility: 0.05,
            daily_volume: 10_000.0,
        };
        let (filled, cost) = curve.purchase(1000.0, 0.0, 100.0);
        assert_eq!(filled, 100.0);
        let expected = 1000.0 * 100.0 * (1.0 + 2.0 / 3.0 * 0.0005 * 100.0f64.sqrt());
        assert!(close(cost, expected, 1e-6), "{cost} vs {expected}");
        assert!(close(curve.price(1000.0, -100.0), 1005.0, 1e-9));
        let (_, proceeds) = curve.sale(1000.0, 0.0, 100.0);
        assert!(close(cost + proceeds, 2.0 * 1000.0 * 100.0, 1e-6));
        assert_eq!(curve.buy_capacity(1000.0, 0.0), f64::INFINITY);
    }

    /// The price is continuous at c = 0 for every curve but the order book (within 1e-6 USD
    /// across ±1e-12 units), equals the fundamental there, and is non-increasing over a grid of
    /// consumed quantities from −20 to 20 that crosses 0 (the order book included, its spread
    /// a jump down at 0).
    #[test]
    fn price_is_continuous_at_zero_and_non_increasing() {
        for curve in all_curves() {
            let continuous = !matches!(curve, ImpactCurve::OrderBook(_));
            if continuous {
                let at_zero = curve.price(100.0, 0.0);
                assert!(close(at_zero, 100.0, 1e-9), "{curve:?}: {at_zero}");
                assert!(
                    close(curve.price(100.0, -1e-12), at_zero, 1e-6),
                    "{curve:?}"
                );
                assert!(close(curve.price(100.0, 1e-12), at_zero, 1e-6), "{curve:?}");
            }
            let grid: Vec<f64> = (-4000..=4000).map(|i| f64::from(i) * 0.005).collect();
            for pair in grid.windows(2) {
                let (p0, p1) = (curve.price(100.0, pair[0]), curve.price(100.0, pair[1]));
                assert!(p1 <= p0, "{curve:?}: price({}) = {p1} > {p0}", pair[1]);
            }
        }
    }

    /// Linear λ = 1, a quarter permanent, half-life 60 s: buying 8 lifts the price to 108; after
    /// 60 s the transient −6 halves to −3 (price 105), after 120 s more to −0.75 (102.75), and it
    /// eventually snaps to 0, leaving the permanent −2. Tolerance 1e-12.
    #[test]
    fn recover_decays_negative_transient_towards_zero() {
        let mut venue = Venue::new(
            AssetId(0),
            ImpactCurve::Linear { usd_per_unit: 1.0 },
            0.25,
            Some(60),
        );
        venue.buy(100.0, 8.0);
        assert!(close(venue.price(100.0), 108.0, 1e-12));
        assert!(venue.recover(60));
        assert!(close(venue.price(100.0), 105.0, 1e-12));
        assert!(venue.recover(120));
        assert!(close(venue.price(100.0), 102.75, 1e-12));
        assert!(venue.recover(60 * 60));
        assert_eq!(venue.consumed_transient, 0.0);
        assert!(close(venue.consumed(), -2.0, 1e-12));
        assert!(!venue.recover(60));
    }

    #[test]
    fn depth_for_rise_matches_closed_forms() {
        // Linear: a 1% rise from 2,000 is 20 USD at 0.002 USD per unit (tolerance 1e-9).
        let mut linear = Venue::new(
            AssetId(0),
            ImpactCurve::Linear {
                usd_per_unit: 0.002,
            },
            1.0,
            None,
        );
        assert!(close(linear.depth_for_rise(2000.0, 0.01), 10_000.0, 1e-9));
        // Net bought, the fall is still measured down the same curve.
        linear.buy(2000.0, 5_000.0);
        // 5,000 bought lift the price to 2,010; a 1% fall is then 20.1 USD.
        assert!(close(linear.depth_for_fall(2000.0, 0.01), 10_050.0, 1e-9));
        // Constant product, no fee: the price rises 1% when x shrinks to x/√1.01 (tolerance 1e-6).
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
        let expected = 1000.0 * (1.0 - 1.0 / 1.01f64.sqrt());
        assert!(close(amm.depth_for_rise(2000.0, 0.01), expected, 1e-6));
        // An order book runs out of asks: a rise past its highest ask never happens.
        let book = OrderBook::from_levels(100.0, &[(99.0, 5.0), (90.0, 10.0)]);
        let venue = Venue::new(AssetId(0), ImpactCurve::OrderBook(book), 1.0, None);
        assert!(close(venue.depth_for_rise(100.0, 0.05), 5.0, 1e-9));
        assert_eq!(venue.depth_for_rise(100.0, 0.5), f64::INFINITY);
    }

    /// The same curve with d × its liquidity, built directly: linear λ/d, square-root volume
    /// V·d, an AMM's liquidity L·d, an order book's sizes × d.
    fn thinned(curve: &ImpactCurve, d: f64) -> ImpactCurve {
        match curve.clone() {
            ImpactCurve::Linear { usd_per_unit } => ImpactCurve::Linear {
                usd_per_unit: usd_per_unit / d,
            },
            ImpactCurve::SquareRoot {
                coefficient,
                daily_volatility,
                daily_volume,
            } => ImpactCurve::SquareRoot {
                coefficient,
                daily_volatility,
                daily_volume: daily_volume * d,
            },
            ImpactCurve::ConstantProduct { liquidity, fee } => ImpactCurve::ConstantProduct {
                liquidity: liquidity * d,
                fee,
            },
            ImpactCurve::ConcentratedLiquidity {
                liquidity,
                fee,
                range_depth,
            } => ImpactCurve::ConcentratedLiquidity {
                liquidity: liquidity * d,
                fee,
                range_depth,
            },
            ImpactCurve::OrderBook(book) => {
                let scale = |v: &[f64]| v.iter().map(|x| x * d).collect::<Vec<_>>();
                ImpactCurve::OrderBook(OrderBook {
                    size: scale(&book.size),
                    cumulative: scale(&book.cumulative),
                    ask_size: scale(&book.ask_size),
                    ask_cumulative: scale(&book.ask_cumulative),
                    ..book
                })
            }
        }
    }

    /// A venue at depth 0.4 behaves as the same venue built with 0.4 × the liquidity at full
    /// depth, for every impact model: prices, sales, purchases, capacities and the depth of a
    /// 1% fall or rise agree from rest, after net sales and after net purchases. Tolerance 1e-9
    /// relative (capacities that are infinite must both be).
    #[test]
    fn a_thinned_venue_is_the_curve_with_scaled_liquidity() {
        let rel = |a: f64, b: f64| a == b || (a - b).abs() <= 1e-9 * b.abs().max(1.0);
        for curve in all_curves() {
            let d = 0.4;
            let mut thin = Venue::new(AssetId(0), curve.clone(), 1.0, None);
            thin.set_depth(d);
            let mut direct = Venue::new(AssetId(0), thinned(&curve, d), 1.0, None);
            for (sell, buy) in [(0.0, 0.0), (2.0, 0.0), (0.0, 3.0)] {
                thin.sell(100.0, sell);
                direct.sell(100.0, sell);
                thin.buy(100.0, buy);
                direct.buy(100.0, buy);
                assert!(rel(thin.price(100.0), direct.price(100.0)), "{curve:?}");
                for units in [0.5, 3.0, 7.0] {
                    let (a, b) = (thin.quote(100.0, units), direct.quote(100.0, units));
                    assert!(rel(a.filled, b.filled), "{curve:?}: {a:?} {b:?}");
                    assert!(rel(a.proceeds, b.proceeds), "{curve:?}: {a:?} {b:?}");
                    assert!(rel(a.price_after, b.price_after), "{curve:?}: {a:?} {b:?}");
                    let (a, b) = (thin.quote_buy(100.0, units), direct.quote_buy(100.0, units));
                    assert!(rel(a.filled, b.filled), "{curve:?}: {a:?} {b:?}");
                    assert!(rel(a.proceeds, b.proceeds), "{curve:?}: {a:?} {b:?}");
                    assert!(rel(a.price_after, b.price_after), "{curve:?}: {a:?} {b:?}");
                    let (a, b) = (
                        thin.sale_from(100.0, 1.0, units),
                        direct.quote(100.0, 1.0 + units).proceeds
                            - direct.quote(100.0, 1.0).proceeds,
                    );
                    assert!((a.1 - b).abs() <= 1e-9 * b.abs().max(1.0), "{curve:?}");
                }
                assert!(rel(thin.capacity(100.0), direct.capacity(100.0)));
                assert!(rel(thin.buy_capacity(100.0), direct.buy_capacity(100.0)));
                let fall = (
                    thin.depth_for_fall(100.0, 0.01),
                    direct.depth_for_fall(100.0, 0.01),
                );
                assert!(
                    (fall.0 - fall.1).abs() <= 1e-9 * fall.1.max(1.0),
                    "{curve:?}"
                );
                let rise = (
                    thin.depth_for_rise(100.0, 0.01),
                    direct.depth_for_rise(100.0, 0.01),
                );
                assert!(
                    rise.0 == rise.1 || (rise.0 - rise.1).abs() <= 1e-9 * rise.1.max(1.0),
                    "{curve:?}: {rise:?}"
                );
            }
        }
    }

    /// Linear λ = 0.5, F = 100, depth 0.5: after selling 4 the price is F − λ·c/d = 96; the sale
    /// received ∫₀⁴ (F − λ·c/d) dc = 400 − 16·λ/(2d) = 392; the bids run out at c = F·d/λ = 100,
    /// 96 units on; a 1% fall (0.96 USD) takes 0.96·d/λ = 0.96 units. Tolerance 1e-9.
    #[test]
    fn thinned_linear_impact_is_the_closed_form() {
        let mut venue = Venue::new(
            AssetId(0),
            ImpactCurve::Linear { usd_per_unit: 0.5 },
            1.0,
            None,
        );
        venue.set_depth(0.5);
        let fill = venue.sell(100.0, 4.0);
        assert_eq!(fill.filled, 4.0);
        assert!(close(fill.proceeds, 392.0, 1e-9), "{}", fill.proceeds);
        assert!(close(venue.price(100.0), 96.0, 1e-9));
        assert!(close(venue.capacity(100.0), 96.0, 1e-9));
        assert!(close(venue.depth_for_fall(100.0, 0.01), 0.96, 1e-9));
        // Refilled to full depth, the same 4 units weigh half as much.
        venue.set_depth(1.0);
        assert!(close(venue.price(100.0), 98.0, 1e-9));
        // A sale the bids absorb fills exactly what was asked, whatever the rounding of
        // d × (units / d).
        for d in [0.3, 0.7, 0.1, 1.0 / 3.0] {
            venue.set_depth(d);
            for units in [0.7, 0.1, 1.0 / 3.0, 2.9] {
                assert_eq!(venue.quote(100.0, units).filled, units, "d = {d}");
                assert_eq!(venue.quote_buy(100.0, units).filled, units, "d = {d}");
                assert_eq!(venue.sale_from(100.0, 0.0, units).0, units, "d = {d}");
            }
        }
    }

    /// Bids 99 (5), 98 (5), 90 (10) at depth 0.4 quote 2, 2 and 4 units: selling 5 receives
    /// 2·99 + 2·98 + 1·90 = 484 and leaves the best bid at 90; the book holds 8 units in all.
    /// Tolerance 1e-9.
    #[test]
    fn thinned_order_book_sizes_scale_with_depth() {
        let book = OrderBook::from_levels(100.0, &[(99.0, 5.0), (98.0, 5.0), (90.0, 10.0)]);
        let mut venue = Venue::new(AssetId(0), ImpactCurve::OrderBook(book), 1.0, None);
        venue.set_depth(0.4);
        assert!(close(venue.capacity(100.0), 8.0, 1e-9));
        assert!(close(venue.buy_capacity(100.0), 8.0, 1e-9));
        let fill = venue.sell(100.0, 5.0);
        assert!(close(fill.proceeds, 484.0, 1e-9), "{}", fill.proceeds);
        assert_eq!(fill.price_after, 90.0);
        let rest = venue.sell(100.0, 100.0);
        assert!(close(rest.filled, 3.0, 1e-9));
        assert!(close(rest.proceeds, 270.0, 1e-9));
    }

    /// The §10.1 pool (1,000 ETH / 2,000,000 USDC, fee 0.3%) at depth 0.5 is the pool
    /// 500 / 1,000,000: selling 10 ETH pays getAmountOut = 10·0.997·1,000,000 / (500 + 9.97)
    /// = 19,550.17 USDC and leaves the spot at (1,000,000 − out) / 510. Tolerance 1e-6.
    #[test]
    fn thinned_constant_product_is_get_amount_out_on_scaled_reserves() {
        let liquidity = (1000.0f64 * 2_000_000.0).sqrt();
        let mut venue = Venue::new(
            AssetId(0),
            ImpactCurve::ConstantProduct {
                liquidity,
                fee: 0.003,
            },
            1.0,
            None,
        );
        venue.set_depth(0.5);
        let out = 10.0 * 0.997 * 1_000_000.0 / (500.0 + 10.0 * 0.997);
        let fill = venue.quote(2000.0, 10.0);
        assert!(
            close(fill.proceeds, out, 1e-6),
            "{} vs {out}",
            fill.proceeds
        );
        assert!(close(fill.price_after, (1_000_000.0 - out) / 510.0, 1e-6));
        // getAmountIn for 10 ETH on the scaled pool: 1,000,000·10 / (490·0.997).
        let cost = 1_000_000.0 * 10.0 / (490.0 * 0.997);
        assert!(close(venue.quote_buy(2000.0, 10.0).proceeds, cost, 1e-6));
    }

    /// At full depth a venue quotes exactly what its curve does (bit for bit), so venues whose
    /// depth never moves reproduce the outputs they had before depth existed.
    #[test]
    fn full_depth_is_the_bare_curve_bit_for_bit() {
        for curve in all_curves() {
            let mut venue = Venue::new(AssetId(0), curve.clone(), 0.5, Some(60));
            venue.sell(100.0, 3.3);
            venue.recover(17);
            let c = venue.consumed();
            for units in [0.1, 2.7, 50.0] {
                let fill = venue.quote(100.0, units);
                let (filled, proceeds) = curve.sale(100.0, c, units);
                assert_eq!((fill.filled, fill.proceeds), (filled, proceeds));
                assert_eq!(venue.sale_from(100.0, 0.0, units), (filled, proceeds));
                assert_eq!(fill.price_after, curve.price(100.0, c + filled));
                let buy = venue.quote_buy(100.0, units);
                assert_eq!((buy.filled, buy.proceeds), curve.purchase(100.0, c, units));
            }
            assert_eq!(venue.price(100.0), curve.price(100.0, c));
            assert_eq!(venue.capacity(100.0), curve.capacity(100.0, c));
        }
    }

    /// Makers with σ₀ = 5%, k = 1, d_min = 0.2 on a linear venue observed every 600 s: a flat
    /// price changes nothing; a 10% fall of the fundamental then gives the returns 0 and ln(0.9),
    /// a daily volatility of |ln 0.9|·√(144/2) = 0.894 and a target of σ₀/σ = 0.056, floored at
    /// 0.2 — the change reported once; with no further move the volatility stays high (the window
    /// is an hour) and nothing changes. A venue without makers never changes. Tolerance 1e-12.
    #[test]
    fn market_makers_thin_the_venue_when_its_price_moves() {
        use crate::market_maker::{MarketMakerParams, MarketMakers};
        let params = MarketMakerParams {
            calm_daily_volatility: 0.05,
            sensitivity: 1.0,
            min_depth: 0.2,
            window_seconds: 3_600,
            refill_half_life: Some(1_800),
        };
        let curve = ImpactCurve::Linear { usd_per_unit: 0.5 };
        let mut venue = Venue::new(AssetId(0), curve.clone(), 1.0, None)
            .with_market_makers(MarketMakers::new(params, 600));
        assert_eq!(venue.adjust_depth(100.0, 0), None);
        assert_eq!(venue.adjust_depth(100.0, 600), None);
        let change = venue
            .adjust_depth(90.0, 600)
            .expect("the fall thins the book");
        assert_eq!(change.depth, 0.2);
        assert!(close(
            change.daily_volatility,
            0.9f64.ln().abs() * 72f64.sqrt(),
            1e-12
        ));
        assert_eq!(venue.depth(), 0.2);
        assert_eq!(venue.adjust_depth(90.0, 600), None);
        venue.reset();
        assert_eq!(venue.depth(), 1.0);
        let mut bare = Venue::new(AssetId(0), curve, 1.0, None);
        assert_eq!(bare.adjust_depth(100.0, 0), None);
        assert_eq!(bare.adjust_depth(50.0, 600), None);
        assert_eq!(bare.depth(), 1.0);
    }
}
