//! Estimators of a loss distribution from the figures of independent paths: mean, spread,
//! value at risk, expected shortfall and their standard errors (docs/model.md, "Risk over many
//! paths").
//!
//! Losses are the upper tail: VaR_q is the q-quantile of the per-path figure, ES_q the mean of
//! the worst 1 − q of it. The definitions, all of the empirical distribution of n paths
//! x_(1) ≤ … ≤ x_(n):
//!
//! - `VaR_q = x_(⌈n·q⌉)`, the smallest value whose empirical distribution function reaches q;
//! - `ES_q = VaR_q + Σ max(0, x_i − VaR_q) / (n · (1 − q))`, the expected shortfall of the
//!   empirical distribution (Rockafellar and Uryasev 2002, Acerbi and Tasche 2002): the mean of
//!   the worst n·(1 − q) paths, with the path at the boundary counted in part;
//! - the standard error of `VaR_q` from the distribution-free interval of order statistics: the
//!   number of paths below the true quantile is Binomial(n, q), so `[x_(l), x_(u)]` with
//!   `l, u = n·q ∓ 1.96·√(n·q·(1 − q))` (rounded outwards, clamped to the sample) covers it with
//!   about 95% probability, and `var_se = (x_(u) − x_(l)) / (2 · 1.96)`;
//! - the standard error of `ES_q` from its influence function (Manistre and Hancock 2005):
//!   ES_q is the mean of `y_i = VaR_q + max(0, x_i − VaR_q) / (1 − q)`, so its standard error is
//!   the standard deviation of the `y_i` over √n;
//! - the standard error of the mean, `std / √n` (`std` with n − 1).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The tail probabilities reported, with their keys in montecarlo.json.
pub const LEVELS: [(f64, &str); 3] = [(0.95, "0.95"), (0.99, "0.99"), (0.999, "0.999")];

/// The two-sided 95% normal quantile the order-statistic interval uses.
const Z95: f64 = 1.959_963_984_540_054;

/// A quantile, its expected shortfall and their standard errors.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tail {
    /// Value at risk: the q-quantile.
    pub var: f64,
    /// Expected shortfall beyond it.
    pub es: f64,
    /// Standard error of `var` (order-statistic interval).
    pub var_se: f64,
    /// The interval of order statistics covering the true quantile with about 95% probability.
    pub var_interval: (f64, f64),
    /// Standard error of `es` (influence function).
    pub es_se: f64,
}

/// The distribution of one figure over the paths that have it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// Paths with a value (a figure that does not exist on a path, such as the amplification of
    /// a path without an exogenous fall, is left out).
    pub paths: u64,
    /// Mean.
    pub mean: f64,
    /// Standard error of the mean.
    pub mean_se: f64,
    /// Standard deviation (n − 1 in the denominator; 0 for one path).
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Value at risk per level.
    pub var: BTreeMap<String, f64>,
    /// Expected shortfall per level.
    pub es: BTreeMap<String, f64>,
    /// Standard error of the value at risk per level.
    pub var_se: BTreeMap<String, f64>,
    /// The ~95% interval of order statistics around each value at risk, `[low, high]`.
    pub var_interval: BTreeMap<String, [f64; 2]>,
    /// Standard error of the expected shortfall per level.
    pub es_se: BTreeMap<String, f64>,
}

impl Distribution {
    /// The distribution of `values` (any order; none may be NaN). `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len() as f64;
        // Sums in sorted order: the same whatever order the paths arrived in.
        let mean = sorted.iter().sum::<f64>() / n;
        let std = if sorted.len() > 1 {
            (sorted.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        let mut d = Self {
            paths: sorted.len() as u64,
            mean,
            mean_se: std / n.sqrt(),
            std,
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            var: BTreeMap::new(),
            es: BTreeMap::new(),
            var_se: BTreeMap::new(),
            var_interval: BTreeMap::new(),
            es_se: BTreeMap::new(),
        };
        for (q, key) in LEVELS {
            let t = tail(&sorted, q);
            d.var.insert(key.to_string(), t.var);
            d.es.insert(key.to_string(), t.es);
            d.var_se.insert(key.to_string(), t.var_se);
            d.var_interval
                .insert(key.to_string(), [t.var_interval.0, t.var_interval.1]);
            d.es_se.insert(key.to_string(), t.es_se);
        }
        Some(d)
    }
}

/// The tail at level `q` (0 < q < 1) of `sorted` (ascending, not empty).
pub fn tail(sorted: &[f64], q: f64) -> Tail {
    let n = sorted.len();
    let nf = n as f64;
    let var = sorted[rank(n, nf * q)];
    let weight = 1.0 / (nf * (1.0 - q));
    let ys = || sorted.iter().map(|&x| var + (x - var).max(0.0) / (1.0 - q));
    let es = var + sorted.iter().map(|&x| (x - var).max(0.0)).sum::<f64>() * weight;
    let es_se = if n > 1 {
        let spread = ys().map(|y| (y - es).powi(2)).sum::<f64>() / (nf - 1.0);
        (spread / nf).sqrt()
    } else {
        0.0
    };
    let half = Z95 * (nf * q * (1.0 - q)).sqrt();
    let low = sorted[rank(n, (nf * q - half).floor())];
    let high = sorted[rank(n, (nf * q + half).ceil())];
    Tail {
        var,
        es,
        var_se: (high - low) / (2.0 * Z95),
        var_interval: (low, high),
        es_se,
    }
}

/// The 0-based index of order statistic `⌈r⌉` (1-based), clamped to the sample.
fn rank(n: usize, r: f64) -> usize {
    (r.ceil().max(1.0) as usize).min(n) - 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution as _, StandardNormal};

    /// Standard normal quantiles at 0.95, 0.99 and 0.999.
    const Z: [f64; 3] = [
        1.644_853_626_951_472,
        2.326_347_874_040_841,
        3.090_232_306_167_813,
    ];

    fn phi(z: f64) -> f64 {
        (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt()
    }

    fn normals(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| StandardNormal.sample(&mut rng)).collect()
    }

    #[test]
    fn order_statistics_by_hand() {
        // 1..=10: VaR_0.95 = x_(⌈9.5⌉) = 10; ES = 10 + 0 = 10.
        let xs: Vec<f64> = (1..=10).map(f64::from).collect();
        let t = tail(&xs, 0.95);
        assert_eq!(t.var, 10.0);
        assert_eq!(t.es, 10.0);
        // 1..=100 at 0.9: VaR = x_(90) = 90; ES = 90 + (1 + 2 + … + 10) / 10 = 95.5, the mean
        // of 91..=100 less nothing (the boundary path counts with weight 0).
        let xs: Vec<f64> = (1..=100).map(f64::from).collect();
        let t = tail(&xs, 0.9);
        assert_eq!(t.var, 90.0);
        assert!((t.es - 95.5).abs() < 1e-12, "{}", t.es);
        assert!(t.var_interval.0 < 90.0 && t.var_interval.1 > 90.0);
    }

    #[test]
    fn normal_quantiles_and_shortfalls_match_closed_forms() {
        let n = 400_000;
        let d = Distribution::of(&normals(n, 11)).unwrap();
        assert!(d.mean.abs() < 4.0 * d.mean_se, "{}", d.mean);
        assert!((d.std - 1.0).abs() < 0.01, "{}", d.std);
        for ((q, key), z) in LEVELS.into_iter().zip(Z) {
            let var = d.var[key];
            let es = d.es[key];
            let es_true = phi(z) / (1.0 - q);
            // Within four standard errors of the closed form, and the errors themselves of the
            // size the asymptotic formulas give.
            assert!(
                (var - z).abs() < 4.0 * d.var_se[key],
                "VaR {q}: {var} vs {z}"
            );
            assert!(
                (es - es_true).abs() < 4.0 * d.es_se[key],
                "ES {q}: {es} vs {es_true}"
            );
            let se_asymptotic = (q * (1.0 - q) / n as f64).sqrt() / phi(z);
            let ratio = d.var_se[key] / se_asymptotic;
            assert!((0.8..1.25).contains(&ratio), "VaR se {q}: ratio {ratio}");
            assert!(es > var);
        }
    }

    #[test]
    fn the_order_statistic_interval_covers_the_quantile_about_95_percent_of_the_time() {
        // 400 samples of 2,000 standard normals: the interval at 0.95 should cover z_0.95 in
        // about 380 of them (binomial sd ≈ 4.4).
        let covered = (0..400)
            .filter(|&s| {
                let mut xs = normals(2_000, 1_000 + s);
                xs.sort_by(f64::total_cmp);
                let t = tail(&xs, 0.95);
                t.var_interval.0 <= Z[0] && Z[0] <= t.var_interval.1
            })
            .count();
        assert!((362..=396).contains(&covered), "{covered} of 400");
    }

    #[test]
    fn log_normal_terminal_prices_of_gbm() {
        // GBM over T: S_T = S_0 exp((μ − σ²/2)T + σ√T Z). The loss S_0 − S_T has
        // VaR_q = S_0 (1 − exp((μ − σ²/2)T − σ√T z_q)).
        let (s0, mu, sigma, t): (f64, f64, f64, f64) = (2000.0, 0.0, 0.8, 1.0 / 365.0);
        let drift = (mu - sigma * sigma / 2.0) * t;
        let losses: Vec<f64> = normals(200_000, 5)
            .into_iter()
            .map(|z| s0 - s0 * (drift + sigma * t.sqrt() * z).exp())
            .collect();
        let d = Distribution::of(&losses).unwrap();
        for ((_, key), z) in LEVELS.into_iter().zip(Z) {
            let exact = s0 * (1.0 - (drift - sigma * t.sqrt() * z).exp());
            assert!(
                (d.var[key] - exact).abs() < 4.0 * d.var_se[key],
                "{key}: {} vs {exact}",
                d.var[key]
            );
        }
    }

    #[test]
    fn uniform_shortfall_is_the_midpoint_of_the_tail() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let xs: Vec<f64> = (0..200_000).map(|_| rng.random::<f64>()).collect();
        let d = Distribution::of(&xs).unwrap();
        for (q, key) in LEVELS {
            assert!((d.var[key] - q).abs() < 4.0 * d.var_se[key] + 1e-9);
            assert!((d.es[key] - (1.0 + q) / 2.0).abs() < 4.0 * d.es_se[key] + 1e-9);
        }
    }

    #[test]
    fn one_path_and_none() {
        assert_eq!(Distribution::of(&[]), None);
        let d = Distribution::of(&[7.0]).unwrap();
        assert_eq!((d.mean, d.std, d.min, d.max), (7.0, 0.0, 7.0, 7.0));
        assert_eq!(d.var["0.99"], 7.0);
        assert_eq!(d.es["0.99"], 7.0);
        assert_eq!(d.var_se["0.99"], 0.0);
    }

    #[test]
    fn order_of_the_paths_does_not_matter() {
        let xs = normals(1_001, 9);
        let mut reversed = xs.clone();
        reversed.reverse();
        assert_eq!(Distribution::of(&xs), Distribution::of(&reversed));
    }
}
