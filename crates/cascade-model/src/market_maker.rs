//! Market makers who withdraw depth as volatility rises and refill it as it calms.
//!
//! A venue's quotes are not a fixed wall: the firms posting them widen and thin them when prices
//! start to move, because the orders they leave resting are the ones picked off. This module is
//! that rule. The makers watch the venue's own price, once a step, and measure its daily realised
//! volatility σ over a trailing window ([`RealisedVolatility`]); against a calm level σ₀ the
//! stress is s = max(1, σ/σ₀) ([`stress`]), and the fraction of the full book they keep quoting
//! is
//!
//! d* = max(d_min, 1 / (1 + k·(s − 1))),
//!
//! so d* = 1 while σ ≤ σ₀, halves when σ exceeds σ₀ by 1/k of itself, and never falls below
//! d_min. Makers pull quotes at once — a target below the current depth is taken in the same
//! step — but come back slowly: a higher target is approached with a half-life (or at once when
//! no half-life is given). The venue applies the depth fraction to its impact curve
//! ([`crate::venue::Venue`]); since forced selling moves the venue's price, which raises its
//! realised volatility, which thins the book, which makes the next sale move the price further,
//! the rule closes a feedback loop that runs through the makers.

use crate::Seconds;
use crate::volatility::{RealisedVolatility, stress};

/// Within this distance of its target a refilling depth is taken to have arrived, so a refill
/// with a half-life ends in finite time instead of creeping towards the target forever.
pub const REFILL_TOLERANCE: f64 = 1e-6;

/// The market makers' rule (the scenario loader validates each field).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MarketMakerParams {
    /// σ₀: the daily realised volatility at and below which the makers quote the full book
    /// (> 0).
    pub calm_daily_volatility: f64,
    /// k ≥ 0: how strongly depth falls with stress; 0 never withdraws anything.
    pub sensitivity: f64,
    /// d_min in (0, 1]: the smallest fraction of the full book the makers keep quoting.
    pub min_depth: f64,
    /// The trailing window of realised volatility, seconds (whole observation intervals).
    pub window_seconds: Seconds,
    /// Half-life of the refill towards a higher target, seconds; `None` refills at once.
    pub refill_half_life: Option<Seconds>,
}

impl MarketMakerParams {
    /// The depth fraction the makers want at daily realised volatility `daily_volatility`:
    /// d* = max(d_min, 1 / (1 + k·(s − 1))) with s = max(1, σ/σ₀).
    pub fn target_depth(&self, daily_volatility: f64) -> f64 {
        let s = stress(daily_volatility, self.calm_daily_volatility);
        let pull = self.sensitivity * (s - 1.0);
        // k = 0 times an unbounded stress is no pull at all, not an undefined one.
        if pull.is_nan() || pull <= 0.0 {
            return 1.0;
        }
        (1.0 / (1.0 + pull)).max(self.min_depth)
    }

    /// The depth `dt` seconds after the makers, quoting `depth`, set their sights on `target`:
    /// the target at once when it is lower (quotes are pulled fast), or when it is higher and no
    /// half-life is given; otherwise target − (target − depth)·2^(−dt/h), arriving at the target
    /// once within [`REFILL_TOLERANCE`] of it.
    pub fn next_depth(&self, depth: f64, target: f64, dt: Seconds) -> f64 {
        if target <= depth {
            return target;
        }
        match self.refill_half_life {
            Some(h) => {
                let next = target - (target - depth) * 0.5f64.powf(dt as f64 / h.max(1) as f64);
                if target - next <= REFILL_TOLERANCE {
                    target
                } else {
                    next
                }
            }
            None => target,
        }
    }
}

/// The market makers of one venue: their rule and what they have seen of its price.
#[derive(Clone, Debug, PartialEq)]
pub struct MarketMakers {
    params: MarketMakerParams,
    /// Seconds between observations (the engine's step).
    interval: Seconds,
    volatility: RealisedVolatility,
}

impl MarketMakers {
    /// Makers following `params` who observe the venue's price every `interval` seconds. The
    /// window keeps `window_seconds / interval` returns (at least one); a caller that knows the
    /// run's length may cut a longer window to it, which changes nothing (no run observes more
    /// returns than it has steps).
    pub fn new(params: MarketMakerParams, interval: Seconds) -> Self {
        Self {
            params,
            interval,
            volatility: RealisedVolatility::new(params.window_seconds, interval),
        }
    }

    /// Their rule.
    pub fn params(&self) -> &MarketMakerParams {
        &self.params
    }

    /// The daily realised volatility of the prices seen so far over the window (0 until two
    /// prices are known).
    pub fn daily_volatility(&self) -> f64 {
        self.volatility.daily()
    }

    /// Records the venue's price `price`, then returns the depth to quote for the next `dt`
    /// seconds, coming from `depth` (see [`MarketMakerParams::next_depth`]).
    pub fn respond(&mut self, price: f64, depth: f64, dt: Seconds) -> f64 {
        self.volatility.observe(price);
        let target = self.params.target_depth(self.volatility.daily());
        self.params.next_depth(depth, target, dt)
    }

    /// Forgets every observation (a fresh run).
    pub fn reset(&mut self) {
        self.volatility = RealisedVolatility::new(self.params.window_seconds, self.interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    fn params(refill_half_life: Option<Seconds>) -> MarketMakerParams {
        MarketMakerParams {
            calm_daily_volatility: 0.05,
            sensitivity: 1.0,
            min_depth: 0.2,
            window_seconds: 3_600,
            refill_half_life,
        }
    }

    /// σ₀ = 5%, k = 1, d_min = 0.2: at or below calm the book is full; at σ = 10% (s = 2)
    /// d* = 1/2; at 15% (s = 3) 1/3; at 50% (s = 10) 1/10 is floored at 0.2. With k = 0.5 and
    /// σ = 10%, d* = 1/1.5. With k = 0 nothing is ever withdrawn. Tolerance 1e-15.
    #[test]
    fn target_depth_is_the_closed_form() {
        let p = params(None);
        assert_eq!(p.target_depth(0.0), 1.0);
        assert_eq!(p.target_depth(0.05), 1.0);
        assert!(close(p.target_depth(0.10), 0.5, 1e-15));
        assert!(close(p.target_depth(0.15), 1.0 / 3.0, 1e-15));
        assert_eq!(p.target_depth(0.50), 0.2);
        let half = MarketMakerParams {
            sensitivity: 0.5,
            ..p
        };
        assert!(close(half.target_depth(0.10), 1.0 / 1.5, 1e-15));
        let deaf = MarketMakerParams {
            sensitivity: 0.0,
            ..p
        };
        assert_eq!(deaf.target_depth(10.0), 1.0);
        assert_eq!(deaf.target_depth(f64::INFINITY), 1.0);
        assert_eq!(p.target_depth(f64::INFINITY), 0.2);
    }

    /// From depth 0.2 towards a target of 1 with a half-life of 1,800 s: after 1,800 s the gap
    /// 0.8 halves to 0.4 (depth 0.6), after 3,600 s more it is 0.1 (depth 0.9); without a
    /// half-life the target is reached at once. A lower target is taken at once either way.
    /// Tolerance 1e-12.
    #[test]
    fn refill_follows_the_half_life_and_withdrawal_is_immediate() {
        let slow = params(Some(1_800));
        assert!(close(slow.next_depth(0.2, 1.0, 1_800), 0.6, 1e-12));
        assert!(close(slow.next_depth(0.6, 1.0, 3_600), 0.9, 1e-12));
        // One step of 60 s: the gap shrinks by 2^(−1/30).
        let expected = 1.0 - 0.8 * 0.5f64.powf(60.0 / 1_800.0);
        assert!(close(slow.next_depth(0.2, 1.0, 60), expected, 1e-12));
        assert_eq!(params(None).next_depth(0.2, 1.0, 60), 1.0);
        assert_eq!(slow.next_depth(0.9, 0.3, 60), 0.3);
        assert_eq!(params(None).next_depth(0.9, 0.3, 60), 0.3);
        // Within the tolerance of the target, the refill completes.
        assert_eq!(slow.next_depth(1.0 - 1e-7, 1.0, 60), 1.0);
    }

    /// Alternating ±1% moves observed every 10 minutes have σ_daily = ln(1.01)·√144 = 0.1194
    /// (the volatility module's closed form), so with σ₀ = 5% and k = 1 the makers hold
    /// d* = 1/(1 + (σ/σ₀ − 1)) = σ₀/σ = 0.4188 once the window has returns in it; when the price
    /// then stays flat for a whole window, σ returns to 0 and, without a half-life, the book
    /// refills at once. Tolerance 1e-12.
    #[test]
    fn makers_respond_to_the_prices_they_watch() {
        let mut makers = MarketMakers::new(
            MarketMakerParams {
                window_seconds: 3_600,
                ..params(None)
            },
            600,
        );
        let mut depth = makers.respond(100.0, 1.0, 0);
        assert_eq!(depth, 1.0, "one price carries no volatility");
        let mut price = 100.0;
        for k in 0..10 {
            price = if k % 2 == 0 {
                price * 1.01
            } else {
                price / 1.01
            };
            depth = makers.respond(price, depth, 600);
        }
        let sigma = 1.01f64.ln() * 144f64.sqrt();
        assert!(close(makers.daily_volatility(), sigma, 1e-12));
        assert!(close(depth, 0.05 / sigma, 1e-12), "{depth}");
        for _ in 0..6 {
            depth = makers.respond(price, depth, 600);
        }
        assert_eq!(makers.daily_volatility(), 0.0);
        assert_eq!(depth, 1.0);
        makers.reset();
        assert_eq!(makers.daily_volatility(), 0.0);
    }
}
