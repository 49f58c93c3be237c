//! Fundamental prices: the exogenous value of each asset, driven from outside the model.
//!
//! A [`Fundamental`] combines a [`PriceDriver`] (constant, piecewise-linear path, geometric
//! Brownian motion, Merton jump-diffusion, GARCH(1,1), a replayed series, a block bootstrap of a
//! recorded series, or one path of an ensemble) with instant shocks that multiply the driven price
//! from their step onwards. Drivers that take a Gaussian innovation (gbm, jump_diffusion, garch)
//! take it from the caller, so the engine can correlate assets; jumps and bootstrap blocks come
//! from the asset's own stream. Each driver with its own maths has a module: [`garch`],
//! [`bootstrap`], [`ensemble`].

pub mod bootstrap;
pub mod ensemble;
pub mod garch;

use std::sync::Arc;

use rand::RngExt;
use rand_distr::{Distribution, Normal, Poisson};

use crate::rng::RngStream;
use crate::{SECONDS_PER_YEAR, Seconds};
pub use bootstrap::Bootstrap;
pub use ensemble::Ensemble;
pub use garch::Garch;

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
    /// GARCH(1,1) log-returns: volatility that clusters ([`garch`]).
    Garch(Garch),
    /// Stationary block bootstrap of a recorded series' one-step returns ([`bootstrap`]).
    Bootstrap(Arc<Bootstrap>),
    /// Path k of a run follows the ensemble's k-th path ([`ensemble`]).
    Ensemble(Arc<Ensemble>),
}

impl PriceDriver {
    /// Whether the driver consumes a Gaussian innovation each step (and so can be correlated).
    pub fn is_stochastic(&self) -> bool {
        match self {
            Self::Gbm { .. } | Self::JumpDiffusion { .. } | Self::Garch(_) => true,
            Self::Constant
            | Self::Path(_)
            | Self::Replay { .. }
            | Self::Bootstrap(_)
            | Self::Ensemble(_) => false,
        }
    }

    /// Whether two paths of a run may move this price differently: a stochastic process, a
    /// bootstrap or an ensemble, not a fixed path or a replay.
    pub fn varies_by_path(&self) -> bool {
        match self {
            Self::Gbm { .. }
            | Self::JumpDiffusion { .. }
            | Self::Garch(_)
            | Self::Bootstrap(_)
            | Self::Ensemble(_) => true,
            Self::Constant | Self::Path(_) | Self::Replay { .. } => false,
        }
    }

    /// The label of the asset's own random stream, `<label>:<ASSET>`: `jumps` (the jumps of a
    /// jump-diffusion; drivers that draw nothing of their own keep this label too) or
    /// `bootstrap` (the blocks of a bootstrap).
    pub fn stream_label(&self) -> &'static str {
        match self {
            Self::Bootstrap(_) => "bootstrap",
            Self::Constant
            | Self::Path(_)
            | Self::Gbm { .. }
            | Self::JumpDiffusion { .. }
            | Self::Replay { .. }
            | Self::Garch(_)
            | Self::Ensemble(_) => "jumps",
        }
    }

    /// The ensemble an `ensemble` driver reads, which bounds the paths a run can have.
    pub fn ensemble(&self) -> Option<&Ensemble> {
        match self {
            Self::Ensemble(ensemble) => Some(ensemble),
            Self::Constant
            | Self::Path(_)
            | Self::Gbm { .. }
            | Self::JumpDiffusion { .. }
            | Self::Replay { .. }
            | Self::Garch(_)
            | Self::Bootstrap(_) => None,
        }
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
    /// What the driver carries from one step to the next.
    memory: Memory,
    /// The step length last advanced by, in seconds, and that step in years with its square
    /// root: computed once rather than every step (the same values, so the same prices).
    clock: (Seconds, f64, f64),
}

/// What a driver carries from one step to the next within a path, beyond the price. Only
/// `garch`, `bootstrap` and `ensemble` have any; each reads its own field.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Memory {
    /// GARCH: the annualised conditional variance of the coming step.
    variance: f64,
    /// Bootstrap: the index of the return the last step used; none before the first step.
    cursor: Option<usize>,
    /// Ensemble: the ensemble's path this path follows (the path's number).
    member: usize,
}

impl Memory {
    /// The memory at time 0 of path 0.
    fn start(driver: &PriceDriver) -> Self {
        let variance = match driver {
            PriceDriver::Garch(garch) => garch.initial_variance(),
            PriceDriver::Constant
            | PriceDriver::Path(_)
            | PriceDriver::Gbm { .. }
            | PriceDriver::JumpDiffusion { .. }
            | PriceDriver::Replay { .. }
            | PriceDriver::Bootstrap(_)
            | PriceDriver::Ensemble(_) => 0.0,
        };
        Self {
            variance,
            cursor: None,
            member: 0,
        }
    }
}

impl Fundamental {
    /// A fundamental starting at `start_price` (> 0) and driven by `driver`.
    pub fn new(start_price: f64, driver: PriceDriver) -> Self {
        Self {
            start_price,
            memory: Memory::start(&driver),
            driver,
            driven: start_price,
            shock_factor: 1.0,
            clock: (0, 0.0, 0.0),
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

    /// Restores the start state (of path 0; [`Fundamental::start_path`] chooses another).
    pub fn reset(&mut self) {
        self.driven = self.start_price;
        self.shock_factor = 1.0;
        self.memory = Memory::start(&self.driver);
    }

    /// Sets the start state, whose only difference from path to path is the path an ensemble
    /// follows, for Monte Carlo path `path`.
    ///
    /// # Panics
    /// With an ensemble driver, when `path` is beyond the ensemble's paths (check
    /// [`Ensemble::count`] first: a path number past the file is the caller's mistake,
    /// never wrapped to another path).
    pub fn start_path(&mut self, path: u64) {
        self.reset();
        if let PriceDriver::Ensemble(ensemble) = &self.driver {
            assert!(
                path < ensemble.count(),
                "path {path} is beyond the {} paths of the ensemble {}",
                ensemble.count(),
                ensemble.source()
            );
            self.memory.member = path as usize;
        }
    }

    /// The driven price, before shocks.
    pub fn driven(&self) -> f64 {
        self.driven
    }

    /// Sets the driven price to one this fundamental's driver reached: a caller that advances
    /// the driver ahead of time ([`Fundamental::advance`] for the coming steps, keeping each
    /// step's [`Fundamental::driven`]) brings each step's price back when the step comes. The
    /// driver's memory stays where the advancing left it; only the driver reads it.
    pub fn set_driven(&mut self, driven: f64) {
        self.driven = driven;
    }

    /// Applies an instant shock.
    pub fn apply_shock(&mut self, factor: f64) {
        self.shock_factor *= factor;
    }

    /// Advances the driven price from time `t - dt` to `t`. `z` is a standard normal innovation for
    /// stochastic drivers (ignored by the others); jump counts and sizes, and bootstrap blocks,
    /// come from `own`, the asset's own stream.
    pub fn advance(&mut self, t: Seconds, dt: Seconds, z: f64, own: &mut RngStream) {
        if self.clock.0 != dt {
            let years = dt as f64 / SECONDS_PER_YEAR;
            self.clock = (dt, years, years.sqrt());
        }
        let (_, years, root_years) = self.clock;
        match &self.driver {
            PriceDriver::Constant => {}
            PriceDriver::Path(series) => self.driven = series.value_at(t, Interpolation::Linear),
            PriceDriver::Replay {
                series,
                interpolation,
            } => self.driven = series.value_at(t, *interpolation),
            PriceDriver::Gbm { drift, volatility } => {
                let s = *volatility;
                self.driven *= ((drift - 0.5 * s * s) * years + s * root_years * z).exp();
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
                    (drift - jump_intensity * k - 0.5 * s * s) * years + s * root_years * z;
                let lambda = jump_intensity * years;
                if lambda > 0.0 {
                    let count = sample_poisson(lambda, own);
                    if count > 0 {
                        let size = Normal::new(*jump_mean, *jump_std).expect("validated jump_std");
                        for _ in 0..count {
                            log_return += size.sample(own);
                        }
                    }
                }
                self.driven *= log_return.exp();
            }
            PriceDriver::Garch(garch) => {
                let step = garch.step(self.memory.variance, years, z);
                self.memory.variance = step.next_variance;
                self.driven *= step.log_return.exp();
            }
            PriceDriver::Bootstrap(bootstrap) => {
                let i = bootstrap.next_index(self.memory.cursor, own);
                self.memory.cursor = Some(i);
                self.driven *= bootstrap.returns()[i].exp();
            }
            PriceDriver::Ensemble(ensemble) => {
                self.driven = ensemble.price(self.memory.member, t);
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

    /// E[S_T] = S_0·exp(μT) for GBM, for the compensated Merton process and for GARCH (its
    /// −h_t/2 term makes each step's expected gross return exp(μ·Δt)); the sample mean of 20,000
    /// one-year paths must match within 4 standard errors.
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
            PriceDriver::Garch(Garch {
                drift: 0.1,
                long_run_volatility: 0.4,
                alpha: 0.15,
                beta: 0.8,
                initial_volatility: 0.7,
            }),
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

    /// A bootstrap path moves by historical returns only: each step's log-return is one of the
    /// series' (to 1e-12, the rounding of exp and ln), the next one in the series within a
    /// block; a path's first step starts a block; a new path starts afresh.
    #[test]
    fn a_bootstrap_path_is_made_of_historical_returns() {
        let returns: Vec<f64> = (0..40).map(|i| 0.001 * (i as f64 - 17.5)).collect();
        let bootstrap = Bootstrap::of_returns(returns.clone(), 8).expect("returns");
        let mut f = Fundamental::new(100.0, PriceDriver::Bootstrap(Arc::new(bootstrap)));
        let mut own = stream(5, 0, "bootstrap:ETH");
        let mut drawn = Vec::new();
        for step in 1..=2_000u64 {
            let before = f.price();
            f.advance(step * 60, 60, 0.0, &mut own);
            let r = (f.price() / before).ln();
            let i = returns
                .iter()
                .position(|h| (h - r).abs() < 1e-12)
                .unwrap_or_else(|| panic!("step {step}: {r} is no historical return"));
            drawn.push(i);
        }
        let continued = drawn.windows(2).filter(|w| w[1] == (w[0] + 1) % 40).count();
        // Blocks of mean length 8: about 7 in 8 steps continue theirs.
        assert!(continued > 1_600 && continued < 1_900, "{continued}");
        f.start_path(1);
        assert_eq!(f.price(), 100.0);
        assert_eq!(f.memory.cursor, None);
    }

    #[test]
    fn an_ensemble_path_follows_its_member_and_refuses_a_path_beyond_it() {
        let paths = vec![
            Series {
                times: vec![0, 60, 120],
                prices: vec![10.0, 11.0, 12.0],
            },
            Series {
                times: vec![0, 60, 120],
                prices: vec![10.0, 9.0, 8.0],
            },
        ];
        let ensemble = Ensemble::new(paths, Interpolation::Previous, "e.csv".into()).expect("two");
        let driver = PriceDriver::Ensemble(Arc::new(ensemble));
        let mut f = Fundamental::new(10.0, driver);
        let mut own = stream(1, 0, "jumps:ETH");
        f.start_path(1);
        f.advance(60, 60, 0.0, &mut own);
        assert_eq!(f.price(), 9.0);
        f.advance(90, 30, 0.0, &mut own);
        assert_eq!(f.price(), 9.0);
        f.start_path(0);
        assert_eq!(f.price(), 10.0);
        f.advance(120, 60, 0.0, &mut own);
        assert_eq!(f.price(), 12.0);
        let beyond = std::panic::catch_unwind(move || f.start_path(2));
        assert!(beyond.is_err(), "path 2 of a two-path ensemble");
    }
}
