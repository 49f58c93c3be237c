//! Fundamental prices: the exogenous value of each asset, driven from outside the model.
//!
//! A [`Fundamental`] combines a [`PriceDriver`] (constant, piecewise-linear path, geometric
//! Brownian motion, Merton jump-diffusion, or a replayed series) with instant shocks that multiply
//! the driven price from their step onwards. Stochastic drivers take their Gaussian innovation from
//! the caller (so the engine can correlate assets) and their jumps from their own stream.

use std::sync::Arc;

use rand::RngExt;
use rand_distr::{Distribution, Normal, Poisson};

use crate::rng::RngStream;
use crate::{SECONDS_PER_YEAR, Seconds};

/// How a replayed series is read between two of its points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interpolation {
    /// The last point at or before the time (a price holds until the next print).
    Previous,
    /// Straight line between the surrounding points.
    Linear,
}

/// A price series: times (seconds from the start of the run, increasing) and prices.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Increasing times in seconds from the start of the run.
    pub times: Vec<Seconds>,
    /// Prices at those times (USD), all positive.
    pub prices: Vec<f64>,
}

impl Series {
    /// The value of the series at time `t`; before the first point it is the first price, after the
    /// last it holds the last price.
    pub fn value_at(&self, t: Seconds, interpolation: Interpolation) -> f64 {
        let i = self.times.partition_point(|&x| x <= t);
        if i == 0 {
            return self.prices[0];
        }
        if i == self.times.len() {
            return self.prices[i - 1];
        }
        match interpolation {
            Interpolation::Previous => self.prices[i - 1],
            Interpolation::Linear => {
                let (t0, t1) = (self.times[i - 1] as f64, self.times[i] as f64);
                let (p0, p1) = (self.prices[i - 1], self.prices[i]);
                p0 + (p1 - p0) * (t as f64 - t0) / (t1 - t0)
            }
        }
    }
}

/// The process that drives an asset's fundamental price. Drift and volatility are annualised
/// (365-day year), jumps are in log-price.
#[derive(Clone, Debug, PartialEq)]
pub enum PriceDriver {
    /// The price stays at its start value (shocks still apply).
    Constant,
    /// A piecewise-linear path through (time, price) points, held flat after the last point.
    Path(Arc<Series>),
    /// Geometric Brownian motion, simulated exactly: S ← S·exp((μ − σ²/2)·dt + σ·√dt·Z).
    Gbm {
        /// Annual drift μ.
        drift: f64,
        /// Annual volatility σ.
        volatility: f64,
    },
    /// Merton jump-diffusion: GBM plus Poisson jumps with log-size ~ N(jump_mean, jump_std²).
    /// The drift is compensated so that `drift` is the expected total return rate.
    JumpDiffusion {
        /// Annual drift μ (total expected return, jumps included).
        drift: f64,
        /// Annual diffusion volatility σ.
        volatility: f64,
        /// Expected jumps per year λ.
        jump_intensity: f64,
        /// Mean of the log jump size.
        jump_mean: f64,
        /// Standard deviation of the log jump size.
        jump_std: f64,
    },
    /// Replay of a real series (times relative to the run start).
    Replay {
        /// The series, shared between paths.
        series: Arc<Series>,
        /// How to read between points.
        interpolation: Interpolation,
    },
}

impl PriceDriver {
    /// Whether the driver consumes a Gaussian innovation each step.
    pub fn is_stochastic(&self) -> bool {
        matches!(self, Self::Gbm { .. } | Self::JumpDiffusion { .. })
    }
}

/// An instant shock: from the start of `step` the fundamental is multiplied by `factor`
/// (0.95 for a 5% drop, 1.10 for a 10% rise).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shock {
    /// The step at whose start the shock applies.
    pub step: u64,
    /// Multiplier applied to the price.
    pub factor: f64,
}

/// The fundamental price process of one asset and its current state.
#[derive(Clone, Debug)]
pub struct Fundamental {
    start_price: f64,
    driver: PriceDriver,
    /// Driven price before shocks.
    driven: f64,
    /// Product of the factors of all shocks applied so far.
    shock_factor: f64,
}

impl Fundamental {
    /// A fundamental starting at `start_price` (> 0) and driven by `driver`.
    pub fn new(start_price: f64, driver: PriceDriver) -> Self {
        Self {
            start_price,
            driver,
            driven: start_price,
            shock_factor: 1.0,
        }
    }

    /// The driver.
    pub fn driver(&self) -> &PriceDriver {
        &self.driver
    }

    /// The current fundamental price (USD).
    pub fn price(&self) -> f64 {
        self.driven * self.shock_factor
    }

    /// Restores the start state.
    pub fn reset(&mut self) {
        self.driven = self.start_price;
        self.shock_factor = 1.0;
    }

    /// Applies an instant shock.
    pub fn apply_shock(&mut self, factor: f64) {
        self.shock_factor *= factor;
    }

    /// Advances the driven price from time `t - dt` to `t`. `z` is a standard normal innovation for
    /// stochastic drivers (ignored by the others); jump counts and sizes come from `jumps`.
    pub fn advance(&mut self, t: Seconds, dt: Seconds, z: f64, jumps: &mut RngStream) {
        let years = dt as f64 / SECONDS_PER_YEAR;
        match &self.driver {
            PriceDriver::Constant => {}
            PriceDriver::Path(series) => self.driven = series.value_at(t, Interpolation::Linear),
            PriceDriver::Replay {
                series,
                interpolation,
            } => self.driven = series.value_at(t, *interpolation),
            PriceDriver::Gbm { drift, volatility } => {
                let s = *volatility;
                self.driven *= ((drift - 0.5 * s * s) * years + s * years.sqrt() * z).exp();
            }
            PriceDriver::JumpDiffusion {
                drift,
                volatility,
                jump_intensity,
                jump_mean,
                jump_std,
            } => {
                let s = *volatility;
                let k = (jump_mean + 0.5 * jump_std * jump_std).exp() - 1.0;
                let mut log_return =
                    (drift - jump_intensity * k - 0.5 * s * s) * years + s * years.sqrt() * z;
                let lambda = jump_intensity * years;
                if lambda > 0.0 {
                    let count = sample_poisson(lambda, jumps);
                    if count > 0 {
                        let size = Normal::new(*jump_mean, *jump_std).expect("validated jump_std");
                        for _ in 0..count {
                            log_return += size.sample(jumps);
                        }
                    }
                }
                self.driven *= log_return.exp();
            }
        }
    }
}

fn sample_poisson(lambda: f64, rng: &mut RngStream) -> u64 {
    // Small intensities per step are the norm; the inversion loop is exact and cheap there.
    if lambda < 30.0 {
        let limit = (-lambda).exp();
        let mut product: f64 = rng.random();
        let mut count = 0;
        while product > limit {
            product *= rng.random::<f64>();
            count += 1;
        }
        count
    } else {
        Poisson::new(lambda)
            .expect("positive intensity")
            .sample(rng) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    #[test]
    fn series_interpolates_and_holds() {
        let s = Series {
            times: vec![0, 100, 200],
            prices: vec![10.0, 20.0, 0.5],
        };
        assert_eq!(s.value_at(50, Interpolation::Previous), 10.0);
        assert_eq!(s.value_at(50, Interpolation::Linear), 15.0);
        assert_eq!(s.value_at(100, Interpolation::Linear), 20.0);
        assert_eq!(s.value_at(1_000, Interpolation::Linear), 0.5);
    }

    #[test]
    fn shocks_multiply_the_driven_price() {
        let mut f = Fundamental::new(2000.0, PriceDriver::Constant);
        f.apply_shock(0.95);
        assert!((f.price() - 1900.0).abs() < 1e-9);
        f.reset();
        assert_eq!(f.price(), 2000.0);
    }

    /// E[S_T] = S_0·exp(μT) for GBM and for the compensated Merton process; the sample mean of
    /// 20,000 one-year paths must match within 4 standard errors.
    #[test]
    fn gbm_and_merton_have_the_stated_mean() {
        for driver in [
            PriceDriver::Gbm {
                drift: 0.1,
                volatility: 0.5,
            },
            PriceDriver::JumpDiffusion {
                drift: 0.1,
                volatility: 0.3,
                jump_intensity: 4.0,
                jump_mean: -0.1,
                jump_std: 0.1,
            },
        ] {
            let mut normals = stream(1, 0, "z");
            let mut jumps = stream(1, 0, "jumps");
            let n = 20_000;
            let mut values = Vec::with_capacity(n);
            for _ in 0..n {
                let mut f = Fundamental::new(100.0, driver.clone());
                for day in 1..=12u64 {
                    let z: f64 = Normal::new(0.0, 1.0).unwrap().sample(&mut normals);
                    f.advance(day * 2_628_000, 2_628_000, z, &mut jumps);
                }
                values.push(f.price());
            }
            let mean = values.iter().sum::<f64>() / n as f64;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let se = (var / n as f64).sqrt();
            let expected = 100.0 * 0.1f64.exp();
            assert!(
                (mean - expected).abs() < 4.0 * se,
                "{driver:?}: {mean} vs {expected} ± {se}"
            );
        }
    }
}
