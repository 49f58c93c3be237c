//! Realised volatility over a trailing window: what market makers watch before they pull depth,
//! and what pushes gas prices up when everyone rushes to the chain at once.
//!
//! The estimator is the usual realised one: the root mean square of the log returns between
//! consecutive observations in the window (no demeaning, as over short horizons the mean return is
//! noise), scaled to a day by the time between observations:
//! σ_daily = √(Σ r² / n · 86,400 / Δt).

use std::collections::VecDeque;

use crate::Seconds;

/// Seconds in a day, the unit of the volatilities this module reports.
pub const SECONDS_PER_DAY: f64 = 86_400.0;

/// Realised volatility of a price observed at a fixed interval, over a trailing window.
#[derive(Clone, Debug, PartialEq)]
pub struct RealisedVolatility {
    /// Returns kept: the window's length in observation intervals (at least 1).
    capacity: usize,
    /// Seconds between observations.
    interval: Seconds,
    /// Log returns in the window, oldest first.
    returns: VecDeque<f64>,
    /// The last price observed.
    last: Option<f64>,
}

/// Returns reserved up front; the window grows past it as observations arrive.
const PREALLOCATED: usize = 1_024;

impl RealisedVolatility {
    /// A tracker of prices observed every `interval` seconds over a trailing `window` of seconds
    /// (at least one interval).
    pub fn new(window: Seconds, interval: Seconds) -> Self {
        let interval = interval.max(1);
        let capacity = ((window / interval) as usize).max(1);
        Self {
            capacity,
            interval,
            // The window fills one observation at a time: reserve a little and grow, so a
            // window of 10¹² seconds costs only the observations a run makes, not 133 GB.
            returns: VecDeque::with_capacity((capacity + 1).min(PREALLOCATED)),
            last: None,
        }
    }

    /// Records the next observation. Non-positive prices carry no log return and are skipped.
    pub fn observe(&mut self, price: f64) {
        if !(price > 0.0 && price.is_finite()) {
            return;
        }
        if let Some(last) = self.last {
            self.returns.push_back((price / last).ln());
            while self.returns.len() > self.capacity {
                self.returns.pop_front();
            }
        }
        self.last = Some(price);
    }

    /// Daily realised volatility over the window (0 until two prices are known).
    pub fn daily(&self) -> f64 {
        if self.returns.is_empty() {
            return 0.0;
        }
        let mean_square =
            self.returns.iter().map(|r| r * r).sum::<f64>() / self.returns.len() as f64;
        (mean_square * SECONDS_PER_DAY / self.interval as f64).sqrt()
    }

    /// Returns in the window.
    pub fn len(&self) -> usize {
        self.returns.len()
    }

    /// Whether no return has been observed yet.
    pub fn is_empty(&self) -> bool {
        self.returns.is_empty()
    }
}

/// How far realised volatility `sigma` is above a calm level, as a ratio floored at 1: the
/// stress multiplier that gas prices and market makers respond to.
pub fn stress(sigma: f64, calm: f64) -> f64 {
    if calm > 0.0 {
        (sigma / calm).max(1.0)
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1.0)
    }

    /// Alternating ±1% moves every 10 minutes: each log return is ±ln(1.01) (in magnitude), so
    /// σ_daily = ln(1.01) · √144.
    #[test]
    fn alternating_moves_give_the_closed_form() {
        let mut v = RealisedVolatility::new(3_600, 600);
        let mut price = 100.0;
        v.observe(price);
        for k in 0..20 {
            price = if k % 2 == 0 {
                price * 1.01
            } else {
                price / 1.01
            };
            v.observe(price);
        }
        assert_eq!(v.len(), 6);
        assert!(close(v.daily(), 1.01f64.ln() * 144f64.sqrt(), 1e-12));
    }

    #[test]
    fn a_window_of_a_trillion_seconds_reserves_no_more_than_it_uses() {
        let mut v = RealisedVolatility::new(1_000_000_000_000, 1);
        for k in 0..3_000 {
            v.observe(100.0 + (k % 7) as f64);
        }
        assert_eq!(v.returns.len(), 2_999);
        assert!(v.returns.capacity() < 1 << 16, "{}", v.returns.capacity());
    }

    #[test]
    fn the_window_forgets_old_moves() {
        let mut v = RealisedVolatility::new(1_200, 600);
        v.observe(100.0);
        v.observe(50.0);
        assert!(v.daily() > 1.0);
        v.observe(50.0);
        v.observe(50.0);
        assert_eq!(
            v.daily(),
            0.0,
            "two flat returns fill the two-interval window"
        );
        assert_eq!(stress(0.0, 0.05), 1.0);
        assert!(close(stress(0.2, 0.05), 4.0, 1e-12));
    }

    #[test]
    fn nothing_is_known_before_two_prices() {
        let mut v = RealisedVolatility::new(600, 60);
        assert!(v.is_empty());
        v.observe(10.0);
        v.observe(-1.0);
        assert_eq!(v.daily(), 0.0);
    }
}
