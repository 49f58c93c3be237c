//! The stationary bootstrap of a historical return series (Politis and Romano 1994).
//!
//! A recorded price series is cut into its one-step log-returns r_0 … r_{M−1} (on the run's own
//! step, [`Bootstrap::from_series`]); a path is then built return by return: each step either
//! continues the current block with the next historical return (wrapping from r_{M−1} to r_0) or,
//! with probability p = 1 / `block_steps`, starts a new block at a uniformly drawn index. Block
//! lengths are therefore geometric with mean `block_steps`, which keeps the volatility clusters
//! and short-range dependence of the data inside a block.
//!
//! Why this and not the moving-block bootstrap (Künsch 1989, fixed-length blocks at uniform
//! starts in 0 … M − b): with the wrap, every historical return is equally likely at every step,
//! so the resampled series is stationary and its expected mean return is exactly the historical
//! mean. Fixed blocks draw the returns near either end of the record less often (the first and
//! last ones b times less), which matters for a crash day whose crash sits near an end.

use std::sync::Arc;

use rand::RngExt;

use super::{Interpolation, Series};
use crate::Seconds;
use crate::rng::RngStream;

/// The one-step log-returns of a historical series and the mean length of the blocks drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct Bootstrap {
    /// Historical log-returns over one step, in their order in the series (at least one).
    returns: Arc<[f64]>,
    /// Mean block length in steps (≥ 1).
    block_steps: u64,
}

impl Bootstrap {
    /// Resamples `series` on a grid of `step` seconds from its first point, the price at each grid
    /// time being the last point at or before it (a price holds until the next print), and keeps
    /// the log-returns between consecutive grid times that the series covers:
    /// r_j = ln(P((j+1)·step) / P(j·step)) for j = 0 … ⌊(t_last − t_0) / step⌋ − 1. Returns
    /// `None` when the series covers less than one step.
    pub fn from_series(series: &Series, step: Seconds, block_steps: u64) -> Option<Self> {
        let (&first, &last) = (series.times.first()?, series.times.last()?);
        let count = (last - first).checked_div(step)?;
        if count == 0 {
            return None;
        }
        let price = |j: u64| series.value_at(first + j * step, Interpolation::Previous);
        let returns: Arc<[f64]> = (0..count).map(|j| (price(j + 1) / price(j)).ln()).collect();
        Some(Self {
            returns,
            block_steps: block_steps.max(1),
        })
    }

    /// A bootstrap of the given returns with mean block length `block_steps`; `None` without
    /// returns.
    pub fn of_returns(returns: Vec<f64>, block_steps: u64) -> Option<Self> {
        (!returns.is_empty()).then(|| Self {
            returns: returns.into(),
            block_steps: block_steps.max(1),
        })
    }

    /// The historical one-step log-returns.
    pub fn returns(&self) -> &[f64] {
        &self.returns
    }

    /// The mean block length in steps.
    pub fn block_steps(&self) -> u64 {
        self.block_steps
    }

    /// The index of the return a step uses after the one at `previous` (`None` at a path's first
    /// step, which always starts a block): a new block at a uniform index with probability
    /// 1 / `block_steps`, else the next index, wrapping at the end.
    pub fn next_index(&self, previous: Option<usize>, rng: &mut RngStream) -> usize {
        let n = self.returns.len();
        if let Some(i) = previous {
            // A new block with probability 1 / b: u · b < 1 for u uniform on [0, 1).
            let new_block = rng.random::<f64>() * (self.block_steps as f64) < 1.0;
            if !new_block {
                return (i + 1) % n;
            }
        }
        rng.random_range(0..n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    /// `steps` indices of one path, from the start.
    fn indices(b: &Bootstrap, steps: usize, path: u64) -> Vec<usize> {
        let mut rng = stream(7, path, "bootstrap:TEST");
        let mut previous = None;
        (0..steps)
            .map(|_| {
                let i = b.next_index(previous, &mut rng);
                previous = Some(i);
                i
            })
            .collect()
    }

    #[test]
    fn returns_are_taken_on_the_run_grid_with_the_last_print_in_force() {
        let series = Series {
            times: vec![0, 60, 90, 180, 250],
            prices: vec![100.0, 110.0, 120.0, 90.0, 99.0],
        };
        // Grid 0, 120, 240 (250 − 0 covers two steps): prices 100, 120 (the 90 s print), 90.
        let b = Bootstrap::from_series(&series, 120, 5).expect("two steps");
        let expected = [(120.0f64 / 100.0).ln(), (90.0f64 / 120.0).ln()];
        assert_eq!(b.returns(), expected);
        assert_eq!(b.block_steps(), 5);
        // A grid point on a print takes that print.
        let b = Bootstrap::from_series(&series, 60, 1).expect("four steps");
        assert_eq!(b.returns().len(), 4);
        assert_eq!(b.returns()[0], (110.0f64 / 100.0).ln());
        assert_eq!(b.returns()[3], (90.0f64 / 90.0).ln());
        // Less than a step of data has no return.
        assert_eq!(Bootstrap::from_series(&series, 251, 1), None);
        assert_eq!(Bootstrap::of_returns(Vec::new(), 3), None);
    }

    /// Each step uses one historical return; within a block the next return in the series
    /// (wrapping), and new blocks start with probability 1/b: over 200,000 steps with b = 20 and
    /// n = 50 the share of steps that do not continue is 1/b·(1 − 1/n) = 0.049 (a new block at
    /// i + 1 continues by chance), its standard error 0.0005; tolerance 0.003.
    #[test]
    fn blocks_are_consecutive_in_the_series_with_geometric_lengths() {
        let n = 50;
        let b = Bootstrap::of_returns((0..n).map(|i| i as f64).collect(), 20).expect("returns");
        let path = indices(&b, 200_000, 1);
        assert!(path.iter().all(|&i| i < n));
        let breaks = path.windows(2).filter(|w| w[1] != (w[0] + 1) % n).count();
        let share = breaks as f64 / (path.len() - 1) as f64;
        let expected = (1.0 / 20.0) * (1.0 - 1.0 / n as f64);
        assert!((share - expected).abs() < 0.003, "{share} vs {expected}");
        // Blocks of length 1: every step draws afresh, uniformly.
        let iid = Bootstrap::of_returns((0..n).map(|i| i as f64).collect(), 1).expect("returns");
        let path = indices(&iid, 200_000, 2);
        let continuing = path.windows(2).filter(|w| w[1] == (w[0] + 1) % n).count();
        let share = continuing as f64 / (path.len() - 1) as f64;
        assert!((share - 1.0 / n as f64).abs() < 0.003, "{share}");
    }

    /// The stationary bootstrap draws every historical return with probability 1/n at every step,
    /// so a path's mean return is the historical mean in expectation. The returns here rise
    /// linearly through the series (r_i = i), where a moving-block bootstrap would under-weight
    /// both ends. 4,000 paths of 100 steps with b = 30: the grand mean is within four standard
    /// errors (from the spread of the paths' means) of the historical mean, 24.5, and so is the
    /// mean return of the first step and of the last.
    #[test]
    fn the_mean_return_is_the_historical_mean_in_expectation() {
        let n = 50;
        let returns: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let historical = returns.iter().sum::<f64>() / n as f64;
        let b = Bootstrap::of_returns(returns.clone(), 30).expect("returns");
        let paths = 4_000;
        let mut means = Vec::with_capacity(paths);
        let mut first = Vec::with_capacity(paths);
        let mut last = Vec::with_capacity(paths);
        for path in 0..paths as u64 {
            let drawn: Vec<f64> = indices(&b, 100, path).iter().map(|&i| returns[i]).collect();
            means.push(drawn.iter().sum::<f64>() / drawn.len() as f64);
            first.push(drawn[0]);
            last.push(drawn[99]);
        }
        for (what, values) in [("mean", &means), ("first", &first), ("last", &last)] {
            let m = values.iter().sum::<f64>() / paths as f64;
            let var = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (paths - 1) as f64;
            let se = (var / paths as f64).sqrt();
            assert!(
                (m - historical).abs() < 4.0 * se,
                "{what}: {m} vs {historical} ± {se}"
            );
        }
    }
}
