//! The feedback gain m(p) over the whole price range (docs/model.md §3), its largest value and
//! the death-spiral threshold, from the book's liquidations and the primary venue's own curve.
//!
//! m(p) in a fall = the units the liquidations triggered in [p·(1 − w), p) sell on the primary
//! venue, over the units that push that venue's price down by w from p; w = 1% ([`WINDOW`]). In a
//! rise, the window is (p, p·(1 + w)] and the depth the units that lift the price by w. The venue
//! is taken as it stands at the start, its fundamental moved so that its price is p: the market
//! alone brought it there, and the question is what a further 1% does. Under linear impact the
//! depth is w·p/λ wherever p is, so m(p) = λ·κ·ρ(p) exactly; for an AMM or an order book the
//! depth at p is the curve's own. An infinite depth (bids that never fall that far) gives 0, as
//! `cascade.feedback_gain` does.

use cascade_model::venue::Venue;

use crate::feedback::WINDOW;

use super::book::Direction;

/// Bisection steps when locating the spiral threshold inside a bucket.
const BISECTIONS: usize = 200;

/// The units sold on the primary venue by the liquidations of one direction, by trigger price.
#[derive(Clone, Debug, Default)]
pub struct Sales {
    /// Trigger prices, ascending.
    prices: Vec<f64>,
    /// prefix[i]: units sold by the first i liquidations (ascending price order).
    prefix: Vec<f64>,
}

impl Sales {
    /// From (trigger price, units sold on the primary venue) pairs, in any order.
    pub fn new(mut pairs: Vec<(f64, f64)>) -> Self {
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut prefix = Vec::with_capacity(pairs.len() + 1);
        let mut sum = 0.0;
        prefix.push(sum);
        for &(_, units) in &pairs {
            sum += units;
            prefix.push(sum);
        }
        Self {
            prices: pairs.into_iter().map(|p| p.0).collect(),
            prefix,
        }
    }

    /// Units sold by the liquidations whose trigger is below `p` (`inclusive`: at or below).
    fn below(&self, p: f64, inclusive: bool) -> f64 {
        let i = if inclusive {
            self.prices.partition_point(|&x| x <= p)
        } else {
            self.prices.partition_point(|&x| x < p)
        };
        self.prefix[i]
    }

    /// Units sold by the liquidations a move from `p` by the window triggers.
    pub fn in_window(&self, direction: Direction, p: f64) -> f64 {
        match direction {
            Direction::Fall => self.below(p, false) - self.below(p * (1.0 - WINDOW), false),
            Direction::Rise => self.below(p * (1.0 + WINDOW), true) - self.below(p, true),
        }
    }

    /// Units sold by every liquidation a price of `p` has triggered: triggers above `p` in a
    /// fall, below it in a rise.
    pub fn reached(&self, direction: Direction, p: f64) -> f64 {
        let total = self.prefix.last().copied().unwrap_or(0.0);
        match direction {
            Direction::Fall => total - self.below(p, true),
            Direction::Rise => self.below(p, false),
        }
    }
}

/// The primary venue as the map reads it: as it stands at the start, moved with its fundamental.
#[derive(Clone, Debug)]
pub struct MapVenue {
    /// The venue at the start.
    pub venue: Venue,
    /// Its fundamental at the start.
    pub fundamental: f64,
    /// Its price at the start (the map's reference price).
    pub price: f64,
}

impl MapVenue {
    /// The fundamental at which the untouched venue's price is `p`.
    fn fundamental_at(&self, p: f64) -> f64 {
        self.fundamental * p / self.price
    }

    /// Units that move the price by the window from `p`: `None` when infinite or nil.
    pub fn depth(&self, direction: Direction, p: f64) -> Option<f64> {
        let f = self.fundamental_at(p);
        let depth = match direction {
            Direction::Fall => self.venue.depth_for_fall(f, WINDOW),
            Direction::Rise => self.venue.depth_for_rise(f, WINDOW),
        };
        (depth.is_finite() && depth > 0.0).then_some(depth)
    }
}

/// m at one price.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GainPoint {
    /// The price p.
    pub price: f64,
    /// m(p).
    pub m: f64,
    /// Units the liquidations a 1% move from p triggers sell on the primary venue.
    pub units_sold: f64,
    /// Units that move the primary venue 1% from p (`None`: infinite, the gain is 0).
    pub depth: Option<f64>,
}

/// m(p) for one direction.
pub struct Gain<'a> {
    /// The direction.
    pub direction: Direction,
    /// The sales.
    pub sales: &'a Sales,
    /// The venue.
    pub venue: &'a MapVenue,
}

impl Gain<'_> {
    /// m at `p`.
    pub fn at(&self, p: f64) -> GainPoint {
        let units_sold = self.sales.in_window(self.direction, p);
        let depth = self.venue.depth(self.direction, p);
        GainPoint {
            price: p,
            m: depth.map_or(0.0, |d| units_sold / d),
            units_sold,
            depth,
        }
    }

    /// The death-spiral threshold: the first price, going from `grid[0]` (the start) along
    /// `grid`, at which m ≥ 1; between the last grid price below 1 and the first at or above,
    /// the price is located by bisection (the one nearest the start where m ≥ 1 that a bisection
    /// of the bucket finds). `None` when m < 1 at every grid price.
    pub fn spiral(&self, grid: &[GainPoint]) -> Option<f64> {
        let k = grid.iter().position(|g| g.m >= 1.0)?;
        if k == 0 {
            return Some(grid[0].price);
        }
        // m(inner) < 1 (nearer the start), m(outer) ≥ 1.
        let (mut inner, mut outer) = (grid[k - 1].price, grid[k].price);
        for _ in 0..BISECTIONS {
            let mid = 0.5 * (inner + outer);
            if mid == inner || mid == outer {
                break;
            }
            if self.at(mid).m >= 1.0 {
                outer = mid;
            } else {
                inner = mid;
            }
        }
        Some(outer)
    }
}

/// The point of largest m (the first, nearest the start, on a tie); `None` when m is 0
/// everywhere.
pub fn largest(grid: &[GainPoint]) -> Option<GainPoint> {
    grid.iter()
        .copied()
        .fold(None, |best: Option<GainPoint>, g| match best {
            Some(b) if b.m >= g.m => Some(b),
            _ if g.m > 0.0 => Some(g),
            _ => best,
        })
}
