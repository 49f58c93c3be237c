//! Generated position populations: `count` single-collateral accounts sharing `total` collateral,
//! with debts set so that their liquidation prices (or health factors) follow a distribution.
//!
//! For a position with c units of collateral, liquidation threshold LT, collateral price P and
//! debt price D: a liquidation price p_L means debt = c · p_L · LT / D; a health factor h means
//! debt = c · P · LT / (h · D).

use cascade_model::ids::AssetId;
use cascade_model::lending::Account;
use cascade_model::rng::RngStream;
use rand::RngExt;
use rand_distr::{Distribution as _, LogNormal, Normal};
use smallvec::smallvec;

/// A distribution of a positive quantity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Distribution {
    /// Independent uniform draws in [low, high].
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Evenly spaced values (low + (i + ½)/n · (high − low)), no randomness.
    Even {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Normal with this mean and standard deviation, truncated to `bounds` (and to positive
    /// values) by redrawing.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
        /// Draws outside [low, high] are redrawn.
        bounds: (f64, f64),
    },
    /// Log-normal with this mean and standard deviation of the variable itself, truncated to
    /// `bounds` by redrawing.
    LogNormal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
        /// Draws outside [low, high] are redrawn.
        bounds: (f64, f64),
    },
}

/// What the distribution describes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// Liquidation prices, USD.
    LiquidationPrice(Distribution),
    /// Health factors at the start prices.
    HealthFactor(Distribution),
}

/// A population to generate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Population {
    /// Number of accounts.
    pub count: usize,
    /// Collateral asset.
    pub collateral_asset: AssetId,
    /// Total collateral units over the population.
    pub total_collateral: f64,
    /// Debt asset.
    pub debt_asset: AssetId,
    /// Liquidation threshold of the collateral.
    pub liquidation_threshold: f64,
    /// Collateral start price.
    pub collateral_price: f64,
    /// Debt start price.
    pub debt_price: f64,
    /// Distribution of liquidation prices or health factors.
    pub target: Target,
    /// σ of log-normal position sizes (0 = equal sizes); sizes are scaled to the total.
    pub size_sigma: f64,
}

fn draw(distribution: Distribution, i: usize, n: usize, rng: &mut RngStream) -> f64 {
    match distribution {
        Distribution::Uniform { low, high } => low + (high - low) * rng.random::<f64>(),
        Distribution::Even { low, high } => low + (high - low) * (i as f64 + 0.5) / n as f64,
        Distribution::Normal { mean, std, bounds } => {
            let normal = Normal::new(mean, std).expect("validated std");
            let low = bounds.0.max(f64::MIN_POSITIVE);
            truncated(|| normal.sample(rng), (low, bounds.1), mean)
        }
        Distribution::LogNormal { mean, std, bounds } => {
            let sigma2 = (1.0 + (std / mean).powi(2)).ln();
            let mu = mean.ln() - sigma2 / 2.0;
            let lognormal = LogNormal::new(mu, sigma2.sqrt()).expect("validated parameters");
            truncated(|| lognormal.sample(rng), bounds, mean)
        }
    }
}

/// Redraws until a value falls in [low, high]. The validator keeps the mean inside the bounds,
/// so acceptance is likely; after a million misses the mean is used rather than looping on.
fn truncated(mut sample: impl FnMut() -> f64, (low, high): (f64, f64), mean: f64) -> f64 {
    for _ in 0..1_000_000 {
        let x = sample();
        if x >= low && x <= high {
            return x;
        }
    }
    mean
}

/// Generates the accounts of a population.
pub fn generate(p: &Population, rng: &mut RngStream) -> Vec<Account> {
    let n = p.count;
    let sizes: Vec<f64> = if p.size_sigma > 0.0 {
        let lognormal = LogNormal::new(0.0, p.size_sigma).expect("validated sigma");
        let raw: Vec<f64> = (0..n).map(|_| lognormal.sample(rng)).collect();
        let sum: f64 = raw.iter().sum();
        raw.iter().map(|x| x / sum * p.total_collateral).collect()
    } else {
        vec![p.total_collateral / n as f64; n]
    };
    let (distribution, is_price) = match p.target {
        Target::LiquidationPrice(d) => (d, true),
        Target::HealthFactor(d) => (d, false),
    };
    sizes
        .into_iter()
        .enumerate()
        .map(|(i, units)| {
            let x = draw(distribution, i, n, rng);
            let debt_value = if is_price {
                units * x * p.liquidation_threshold
            } else {
                units * p.collateral_price * p.liquidation_threshold / x
            };
            Account {
                collateral: smallvec![(p.collateral_asset, units)],
                debt_asset: p.debt_asset,
                debt: debt_value / p.debt_price,
            }
        })
        .collect()
}
