//! Pricing a cover of a protocol's bad debt (the essay's "protocol credit default swaps") from
//! the paths of a Monte Carlo (`cascade cover`, docs/outputs.md "cover.json").
//!
//! The cover is a layer: on a path whose loss is x it pays `min(max(x − attachment, 0), limit)`,
//! the loss above the attachment up to the limit (the most it pays). Over the horizon of the
//! Monte Carlo:
//!
//! - the expected loss `EL` is the mean payout, with standard error `std / √n`;
//! - the **Wang transform** premium (Wang 2000) is the payout's expectation under the distorted
//!   survival function `g(S) = Φ(Φ⁻¹(S) + λ)`: `∫₀^∞ g(P(payout > t)) dt`, which weighs the tail
//!   more the larger λ (λ = 0 gives `EL`);
//! - the **cost-of-capital** premium is `EL + r_H · (VaR_q(payout) − EL)`: the capital that covers
//!   the payout at level q beyond what the premium itself brings, held for the horizon at the
//!   annual rate r (r_H = r · horizon / year).
//!
//! The standard errors of the two premiums (and of the payout's VaR) come from a bootstrap of
//! the paths: `resamples` resamples of the n payouts with replacement, drawn from a fixed stream
//! (so a cover is reproducible), each priced the same way; the standard error is their standard
//! deviation. Annual figures are those of a cover renewed every horizon, its limit restored each
//! time: a horizon's figure times the horizons in a year (365 days), as if each horizon of the
//! year were an independent draw of the same distribution. The rate on line is that annual
//! premium over the limit, so it exceeds 100% when a horizon's loss is likely enough: a cover
//! whose one limit serves the whole year is a different contract, bounded by its limit.

use cascade_model::rng;
use rand::RngExt;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

/// Seconds in the year the annual figures use (365 days).
pub const SECONDS_PER_YEAR: f64 = 365.0 * 86_400.0;

/// What is priced and how.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoverTerms {
    /// The loss that is covered: a column of paths.csv (`bad_debt_usd`,
    /// `protocols.lender.bad_debt_usd`).
    pub metric: String,
    /// The cover pays the loss above this, USD.
    pub attachment: f64,
    /// The most it pays, USD.
    pub limit: f64,
    /// The Wang transform's λ.
    pub wang_lambda: f64,
    /// The annual cost of capital r.
    pub cost_of_capital: f64,
    /// The level q of the capital, VaR_q of the payout.
    pub capital_level: f64,
    /// Bootstrap resamples for the standard errors.
    pub resamples: u32,
}

/// A figure and its standard error.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// The figure.
    pub value: f64,
    /// Its standard error.
    pub se: f64,
}

/// A cover's price over one horizon, and a year of them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoverPrice {
    /// Paths priced.
    pub paths: u64,
    /// The horizon, seconds.
    pub horizon_seconds: u64,
    /// The share of paths on which the cover pays anything.
    pub probability_of_attachment: Estimate,
    /// The share on which it pays its whole limit.
    pub probability_of_exhaustion: Estimate,
    /// The mean payout.
    pub expected_loss: Estimate,
    /// VaR at the capital level of the payout (order statistic ⌈n·q⌉).
    pub payout_var: Estimate,
    /// The Wang transform premium.
    pub wang_premium: Estimate,
    /// The cost-of-capital premium.
    pub cost_of_capital_premium: Estimate,
    /// Horizons in a year: the factor of the annual figures.
    pub horizons_per_year: f64,
    /// The probability that a cover renewed every horizon pays in some horizon of a year:
    /// 1 − (1 − p)^(horizons per year).
    pub annual_probability_of_attachment: f64,
    /// Expected loss, per year.
    pub annual_expected_loss: f64,
    /// Wang premium, per year.
    pub annual_wang_premium: f64,
    /// Cost-of-capital premium, per year.
    pub annual_cost_of_capital_premium: f64,
    /// Annual Wang premium over the limit.
    pub wang_rate_on_line: f64,
    /// Annual cost-of-capital premium over the limit.
    pub cost_of_capital_rate_on_line: f64,
}

/// Why terms cannot be priced.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field} = {value}: {reason}")]
pub struct TermsError {
    /// The term.
    pub field: &'static str,
    /// Its value, as given.
    pub value: String,
    /// What is wrong.
    pub reason: &'static str,
}

impl CoverTerms {
    /// Checks every term.
    ///
    /// # Errors
    /// The first term out of its range, named.
    pub fn check(&self) -> Result<(), TermsError> {
        let fail = |field, value: f64, reason| {
            Err(TermsError {
                field,
                value: value.to_string(),
                reason,
            })
        };
        if !(self.attachment.is_finite() && self.attachment >= 0.0) {
            return fail("attachment", self.attachment, "expected USD ≥ 0");
        }
        if !(self.limit.is_finite() && self.limit > 0.0) {
            return fail("limit", self.limit, "expected USD > 0");
        }
        if !(self.wang_lambda.is_finite() && (0.0..=10.0).contains(&self.wang_lambda)) {
            return fail("wang_lambda", self.wang_lambda, "expected λ in [0, 10]");
        }
        if !(self.cost_of_capital.is_finite() && (0.0..=10.0).contains(&self.cost_of_capital)) {
            return fail(
                "cost_of_capital",
                self.cost_of_capital,
                "expected an annual rate in [0, 10]",
            );
        }
        if !(self.capital_level > 0.0 && self.capital_level < 1.0) {
            return fail(
                "capital_level",
                self.capital_level,
                "expected a level in (0, 1)",
            );
        }
        if self.resamples < 2 {
            return Err(TermsError {
                field: "resamples",
                value: self.resamples.to_string(),
                reason: "expected at least 2",
            });
        }
        Ok(())
    }

    /// The payout of a loss.
    pub fn payout(&self, loss: f64) -> f64 {
        (loss - self.attachment).clamp(0.0, self.limit)
    }
}

/// The payouts, sorted, as distinct values and their counts: what each price is computed from.
struct Sample<'a> {
    values: &'a [f64],
    counts: &'a [u64],
    n: u64,
}

impl Sample<'_> {
    fn mean(&self) -> f64 {
        let sum: f64 = self
            .values
            .iter()
            .zip(self.counts)
            .map(|(v, &c)| v * c as f64)
            .sum();
        sum / self.n as f64
    }

    /// VaR_q: the order statistic ⌈n·q⌉.
    fn var(&self, q: f64) -> f64 {
        let rank = ((self.n as f64 * q).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        for (v, &c) in self.values.iter().zip(self.counts) {
            seen += c;
            if seen >= rank {
                return *v;
            }
        }
        self.values.last().copied().unwrap_or(0.0)
    }

    /// ∫₀^∞ g(P(payout > t)) dt for payouts ≥ 0: on [v_{k−1}, v_k) the survival is the share of
    /// payouts at or above v_k, k/n for some k, and `g[k]` is g(k/n).
    fn distorted(&self, g: &[f64]) -> f64 {
        let mut at_or_above = self.n;
        let mut previous = 0.0;
        let mut total = 0.0;
        for (v, &c) in self.values.iter().zip(self.counts) {
            if c == 0 {
                continue;
            }
            total += (v - previous) * g[at_or_above as usize];
            previous = *v;
            at_or_above -= c;
        }
        total
    }
}

/// The Wang distortion `g(S) = Φ(Φ⁻¹(S) + λ)` at S = k/n for k = 0 … n (identity at λ = 0; 0
/// and 1 kept): the only survival values a sample of n payouts, or a resample of it, has.
fn wang(lambda: f64, n: usize) -> Vec<f64> {
    let normal = Normal::standard();
    (0..=n)
        .map(|k| {
            let s = k as f64 / n as f64;
            if k == 0 || k == n || lambda == 0.0 {
                s
            } else {
                normal.cdf(normal.inverse_cdf(s) + lambda)
            }
        })
        .collect()
}

/// The three prices of one sample.
fn prices(sample: &Sample<'_>, terms: &CoverTerms, g: &[f64], r_h: f64) -> [f64; 4] {
    let el = sample.mean();
    let var = sample.var(terms.capital_level);
    [el, var, sample.distorted(g), el + r_h * (var - el).max(0.0)]
}

/// Prices `terms` on `losses` (one per path, any order, all finite) over a horizon of
/// `horizon_seconds`.
///
/// # Errors
/// Terms out of range ([`CoverTerms::check`]); no losses, or a horizon of zero.
pub fn price(
    terms: &CoverTerms,
    losses: &[f64],
    horizon_seconds: u64,
) -> Result<CoverPrice, TermsError> {
    terms.check()?;
    if losses.is_empty() {
        return Err(TermsError {
            field: "paths",
            value: "0".into(),
            reason: "expected at least one path",
        });
    }
    if horizon_seconds == 0 {
        return Err(TermsError {
            field: "horizon_seconds",
            value: "0".into(),
            reason: "expected a horizon of at least a second",
        });
    }
    let mut payouts: Vec<f64> = losses.iter().map(|&x| terms.payout(x)).collect();
    payouts.sort_by(f64::total_cmp);
    let n = payouts.len();
    let nf = n as f64;
    let horizons_per_year = SECONDS_PER_YEAR / horizon_seconds as f64;
    let r_h = terms.cost_of_capital / horizons_per_year;
    let g = wang(terms.wang_lambda, n);
    let ones = vec![1; n];
    let whole = Sample {
        values: &payouts,
        counts: &ones,
        n: n as u64,
    };
    let [el, var, wang_premium, coc_premium] = prices(&whole, terms, &g, r_h);
    // Bootstrap: resample indices into the sorted payouts; counting them keeps the resample
    // sorted without sorting it.
    let mut stream = rng::stream(0, 0, "cover-bootstrap");
    let mut replicas: Vec<[f64; 4]> = Vec::with_capacity(terms.resamples as usize);
    let mut counts = vec![0u64; n];
    for _ in 0..terms.resamples {
        counts.iter_mut().for_each(|c| *c = 0);
        for _ in 0..n {
            counts[stream.random_range(0..n)] += 1;
        }
        let sample = Sample {
            values: &payouts,
            counts: &counts,
            n: n as u64,
        };
        replicas.push(prices(&sample, terms, &g, r_h));
    }
    let spread = |k: usize| {
        let mean = replicas.iter().map(|r| r[k]).sum::<f64>() / replicas.len() as f64;
        let squares: f64 = replicas.iter().map(|r| (r[k] - mean).powi(2)).sum();
        (squares / (replicas.len() - 1) as f64).sqrt()
    };
    let share = |f: &dyn Fn(f64) -> bool| {
        let p = payouts.iter().filter(|&&y| f(y)).count() as f64 / nf;
        Estimate {
            value: p,
            se: (p * (1.0 - p) / nf).sqrt(),
        }
    };
    let std = if n > 1 {
        (payouts.iter().map(|y| (y - el).powi(2)).sum::<f64>() / (nf - 1.0)).sqrt()
    } else {
        0.0
    };
    let annual = |x: f64| x * horizons_per_year;
    let attachment = share(&|y| y > 0.0);
    Ok(CoverPrice {
        paths: n as u64,
        horizon_seconds,
        probability_of_attachment: attachment,
        probability_of_exhaustion: share(&|y| y >= terms.limit),
        expected_loss: Estimate {
            value: el,
            se: std / nf.sqrt(),
        },
        payout_var: Estimate {
            value: var,
            se: spread(1),
        },
        wang_premium: Estimate {
            value: wang_premium,
            se: spread(2),
        },
        cost_of_capital_premium: Estimate {
            value: coc_premium,
            se: spread(3),
        },
        horizons_per_year,
        annual_probability_of_attachment: 1.0 - (1.0 - attachment.value).powf(horizons_per_year),
        annual_expected_loss: annual(el),
        annual_wang_premium: annual(wang_premium),
        annual_cost_of_capital_premium: annual(coc_premium),
        wang_rate_on_line: annual(wang_premium) / terms.limit,
        cost_of_capital_rate_on_line: annual(coc_premium) / terms.limit,
    })
}
