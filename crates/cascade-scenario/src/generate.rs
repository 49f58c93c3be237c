//! Generated position populations: `count` single-collateral accounts sharing `total` collateral,
//! with debts set so that their liquidation prices (or health factors) follow a distribution.
//!
//! For a position with c units of collateral, liquidation threshold LT, collateral price P and
//! debt price D: a liquidation price p_L means debt = c · p_L · LT / D; a health factor h means
//! debt = c · P · LT / (h · D).
//!
//! Perp populations are `count` one-position accounts sharing a total notional: each opens at
//! its entry price with margin = notional / leverage, or with the margin that puts its
//! liquidation price (equity = tiered maintenance) where the distribution says.

use cascade_model::ids::{AssetId, MarketId};
use cascade_model::lending::Account;
use cascade_model::perp::MarginTable;
use cascade_model::perp::account::{MarginMode, PerpAccount, PerpPosition};
use cascade_model::rng::RngStream;
use rand::RngExt;
use rand_distr::{Distribution as _, LogNormal, Normal};
use rayon::prelude::*;
use smallvec::smallvec;
use std::sync::{Arc, Mutex, PoisonError};

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

/// The largest σ of log-normal position sizes: at 20 the largest of a million accounts is about
/// e^100 times the median one, and e^(σ·z) stays far from overflow; at 200 sizes overflow to
/// infinity and every account's collateral and debt became NaN.
pub const MAX_SIZE_SIGMA: f64 = 20.0;

/// A distribution ready to draw from: its parameters derived once, not per account.
enum Sampler {
    Uniform {
        low: f64,
        high: f64,
    },
    Even {
        low: f64,
        high: f64,
    },
    Normal {
        normal: Normal<f64>,
        bounds: (f64, f64),
        mean: f64,
    },
    LogNormal {
        lognormal: LogNormal<f64>,
        bounds: (f64, f64),
        mean: f64,
    },
}

impl Sampler {
    fn new(distribution: Distribution) -> Self {
        match distribution {
            Distribution::Uniform { low, high } => Self::Uniform { low, high },
            Distribution::Even { low, high } => Self::Even { low, high },
            Distribution::Normal { mean, std, bounds } => Self::Normal {
                normal: Normal::new(mean, std).expect("validated std"),
                bounds: (bounds.0.max(f64::MIN_POSITIVE), bounds.1),
                mean,
            },
            Distribution::LogNormal { mean, std, bounds } => {
                let sigma2 = (1.0 + (std / mean).powi(2)).ln();
                let mu = mean.ln() - sigma2 / 2.0;
                Self::LogNormal {
                    lognormal: LogNormal::new(mu, sigma2.sqrt()).expect("validated parameters"),
                    bounds,
                    mean,
                }
            }
        }
    }

    /// Draw `i` of `n`.
    fn draw(&self, i: usize, n: usize, rng: &mut RngStream) -> f64 {
        match *self {
            Self::Uniform { low, high } => low + (high - low) * rng.random::<f64>(),
            Self::Even { low, high } => low + (high - low) * (i as f64 + 0.5) / n as f64,
            Self::Normal {
                normal,
                bounds,
                mean,
            } => truncated(|| normal.sample(rng), bounds, mean),
            Self::LogNormal {
                lognormal,
                bounds,
                mean,
            } => truncated(|| lognormal.sample(rng), bounds, mean),
        }
    }
}

fn draw(distribution: Distribution, i: usize, n: usize, rng: &mut RngStream) -> f64 {
    Sampler::new(distribution).draw(i, n, rng)
}

/// The least share of a truncated distribution's draws that must fall within its bounds: at
/// 1 in 10,000, a million redraws (the most [`truncated`] makes) all miss with probability
/// about e⁻¹⁰⁰, and an account costs on average at most 10,000 draws.
pub const MIN_TRUNCATION_MASS: f64 = 1e-4;

/// The share of a normal (or, with `lognormal`, log-normal) distribution of `mean` and `std`
/// that falls within `bounds`, as [`Sampler`] draws it.
///
/// # Errors
/// A share below [`MIN_TRUNCATION_MASS`], or a log-normal whose `std / mean` has no finite σ,
/// with what is wrong in words.
pub fn truncation_mass(
    lognormal: bool,
    mean: f64,
    std: f64,
    (low, high): (f64, f64),
) -> Result<f64, String> {
    use statrs::distribution::{ContinuousCDF, Normal as Gauss};
    if std == 0.0 {
        return Ok(1.0);
    }
    let (centre, spread, from, to) = if lognormal {
        let sigma2 = (1.0 + (std / mean).powi(2)).ln();
        if !sigma2.is_finite() {
            return Err(format!(
                "expected a std a log-normal can have: std / mean = {:e} gives no finite σ² = \
                 ln(1 + (std/mean)²)",
                std / mean
            ));
        }
        (mean.ln() - sigma2 / 2.0, sigma2.sqrt(), low.ln(), high.ln())
    } else {
        (mean, std, low.max(f64::MIN_POSITIVE), high)
    };
    let gauss = Gauss::new(centre, spread).map_err(|e| format!("expected a usable std: {e}"))?;
    let mass = gauss.cdf(to) - gauss.cdf(from);
    if mass.is_finite() && mass >= MIN_TRUNCATION_MASS {
        Ok(mass)
    } else {
        Err(format!(
            "expected a std whose draws fall within the bounds [{low}, {high}] at least 1 time in \
             {:.0}: only {mass:e} of them do, so drawing would be redrawing",
            1.0 / MIN_TRUNCATION_MASS
        ))
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

/// Generated books kept for reuse: scenarios built from variants of one file (a stress grid's
/// points) that draw the same population from the same seed get the same accounts, so each
/// distinct population is drawn once. Shared between threads; a population two threads draw
/// at once is drawn twice, identically.
#[derive(Debug, Default)]
pub struct BookCache {
    books: Mutex<Vec<(CacheKey, Arc<Vec<Account>>)>>,
}

/// What a generated book depends on: the population, the seed and the population's number.
#[derive(Clone, Debug, PartialEq)]
struct CacheKey {
    population: Population,
    seed: u64,
    index: usize,
}

impl BookCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The accounts of population number `index` drawn from `seed`: kept ones, or drawn now
    /// (and kept).
    pub fn generate(&self, population: &Population, seed: u64, index: usize) -> Vec<Account> {
        let key = CacheKey {
            population: *population,
            seed,
            index,
        };
        let books = || self.books.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, book)) = books().iter().find(|(k, _)| *k == key) {
            return book.as_ref().clone();
        }
        let book = self::population(population, seed, index);
        books().push((key, Arc::new(book.clone())));
        book
    }

    /// How many distinct books are kept.
    pub fn len(&self) -> usize {
        self.books
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The accounts of population number `index` of a scenario with master seed `seed`.
pub fn population(population: &Population, seed: u64, index: usize) -> Vec<Account> {
    let mut rng = cascade_model::rng::stream(seed, 0, &format!("positions:{index}"));
    generate(population, &mut rng)
}

/// Generates the accounts of a population, numbered from the least healthy.
///
/// Each account's size and liquidation price (or health factor) are drawn in turn; the accounts
/// are then ordered by their trigger ratio debt / collateral, highest first (ties keep the order
/// of the draws). Account 0 is the first to become liquidatable, and a cascade, which visits
/// accounts least healthy first, reads the book front to back instead of at random: at a
/// million accounts this makes the engine about twice as fast (BENCHMARKS.md).
pub fn generate(p: &Population, rng: &mut RngStream) -> Vec<Account> {
    let n = p.count;
    // Log-normal sizes are drawn first, all of them, to scale them to the total; equal sizes
    // need no memory.
    let sizes: Option<Vec<f64>> = (p.size_sigma > 0.0).then(|| {
        let lognormal = LogNormal::new(0.0, p.size_sigma).expect("validated sigma");
        let raw: Vec<f64> = (0..n).map(|_| lognormal.sample(rng)).collect();
        let sum: f64 = raw.iter().sum();
        raw.iter().map(|x| x / sum * p.total_collateral).collect()
    });
    let equal_size = p.total_collateral / n as f64;
    let (distribution, is_price) = match p.target {
        Target::LiquidationPrice(d) => (d, true),
        Target::HealthFactor(d) => (d, false),
    };
    // (collateral units, debt units) of each draw, in draw order.
    let sampler = Sampler::new(distribution);
    let drawn: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let units = sizes.as_ref().map_or(equal_size, |sizes| sizes[i]);
            let x = sampler.draw(i, n, rng);
            let debt_value = if is_price {
                units * x * p.liquidation_threshold
            } else {
                units * p.collateral_price * p.liquidation_threshold / x
            };
            (units, debt_value / p.debt_price)
        })
        .collect();
    least_healthy_first(&drawn)
        .par_iter()
        .map(|&(_, i)| {
            let (units, debt) = drawn[i as usize];
            Account {
                collateral: smallvec![(p.collateral_asset, units)],
                debt_asset: p.debt_asset,
                debt,
            }
        })
        .collect()
}

/// The order of the draws (collateral units, debt units) of one population (one collateral
/// asset, one threshold, one debt asset) by debt / collateral, highest first, equal ratios in
/// draw order: (sort key, draw number) pairs. Sorted on every core: the pairs are distinct, so
/// the order does not depend on the number of threads.
fn least_healthy_first(drawn: &[(f64, f64)]) -> Vec<(u64, u32)> {
    // Ratios are positive, so their bit patterns order like their values: the complement sorts
    // them highest first as integers.
    let mut order: Vec<(u64, u32)> = drawn
        .iter()
        .enumerate()
        .map(|(i, &(units, debt))| (!(debt / units).to_bits(), i as u32))
        .collect();
    order.par_sort_unstable();
    order
}

/// How a generated perp population sets each position's margin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PerpTarget {
    /// Opening leverage (notional / margin) follows the distribution.
    Leverage(Distribution),
    /// Liquidation prices follow the distribution: the margin is what makes equity meet
    /// maintenance there.
    LiquidationPrice(Distribution),
}

/// A population of isolated (or single-market cross) perp positions to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct PerpPopulation {
    /// Number of accounts, one position each.
    pub count: usize,
    /// The market.
    pub market: MarketId,
    /// +1 long, −1 short.
    pub side: f64,
    /// Total notional at entry, USD.
    pub total_notional: f64,
    /// Entry prices: a distribution, or every position at `mark`.
    pub entry: Option<Distribution>,
    /// The market's mark at time 0.
    pub mark: f64,
    /// How margins are set.
    pub target: PerpTarget,
    /// The market's maintenance brackets.
    pub margin: MarginTable,
    /// Margin mode; cross accounts hold `1 + cross_buffer` times the margin in their wallet.
    pub mode: MarginMode,
    /// Extra wallet of cross accounts, as a fraction of the margin.
    pub cross_buffer: f64,
    /// σ of log-normal position sizes (0 = equal sizes); sizes are scaled to the total.
    pub size_sigma: f64,
}

/// Generates the accounts of a perp population.
pub fn generate_perps(p: &PerpPopulation, rng: &mut RngStream) -> Vec<PerpAccount> {
    let n = p.count;
    let weights: Vec<f64> = if p.size_sigma > 0.0 {
        let lognormal = LogNormal::new(0.0, p.size_sigma).expect("validated sigma");
        let raw: Vec<f64> = (0..n).map(|_| lognormal.sample(rng)).collect();
        let sum: f64 = raw.iter().sum();
        raw.iter().map(|x| x / sum).collect()
    } else {
        vec![1.0 / n as f64; n]
    };
    weights
        .into_iter()
        .enumerate()
        .map(|(i, w)| {
            let notional = p.total_notional * w;
            let entry = p.entry.map_or(p.mark, |d| draw(d, i, n, rng));
            let size = p.side * notional / entry;
            let margin = match p.target {
                PerpTarget::Leverage(d) => notional / draw(d, i, n, rng),
                PerpTarget::LiquidationPrice(d) => {
                    let price = draw(d, i, n, rng);
                    p.margin.maintenance(size.abs() * price) - size * (price - entry)
                }
            };
            let wallet = match p.mode {
                MarginMode::Isolated => margin,
                MarginMode::Cross => margin * (1.0 + p.cross_buffer),
            };
            PerpAccount {
                wallet,
                positions: vec![PerpPosition {
                    market: p.market,
                    size,
                    entry,
                }],
                mode: p.mode,
                sliced: false,
                cooldown_until: 0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn population(total: f64) -> Population {
        Population {
            count: 500,
            collateral_asset: AssetId(0),
            total_collateral: total,
            debt_asset: AssetId(1),
            liquidation_threshold: 0.8,
            collateral_price: 2000.0,
            debt_price: 1.0,
            target: Target::LiquidationPrice(Distribution::Uniform {
                low: 1000.0,
                high: 1900.0,
            }),
            size_sigma: 0.5,
        }
    }

    #[test]
    fn the_cache_draws_each_distinct_population_once_and_gives_what_a_draw_gives() {
        let cache = BookCache::new();
        let drawn = super::population(&population(100.0), 7, 0);
        assert_eq!(cache.generate(&population(100.0), 7, 0), drawn);
        assert_eq!(cache.generate(&population(100.0), 7, 0), drawn);
        assert_eq!(cache.len(), 1);
        // Another seed, number or population is another book.
        assert_ne!(cache.generate(&population(100.0), 8, 0), drawn);
        assert_ne!(cache.generate(&population(100.0), 7, 1), drawn);
        assert_ne!(cache.generate(&population(200.0), 7, 0), drawn);
        assert_eq!(cache.len(), 4);
    }
}
