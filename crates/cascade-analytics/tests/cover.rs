//! The price of a cover against known loss distributions: an exponential loss has closed forms
//! for the layer's expected loss and its quantiles, and the Wang premium is a one-dimensional
//! integral computed here by Simpson's rule. The sample is the distribution's quantiles at
//! (i − ½)/n, so the sample figures differ from the closed forms by the discretisation alone.

use cascade_analytics::cover::{CoverTerms, price};
use statrs::distribution::{ContinuousCDF, Normal};

const MEAN: f64 = 1_000.0;
const DAY: u64 = 86_400;

/// The exponential distribution's quantiles at (i − ½)/n.
fn exponential(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| -MEAN * (1.0 - (i as f64 + 0.5) / n as f64).ln())
        .collect()
}

fn terms(attachment: f64, limit: f64, lambda: f64) -> CoverTerms {
    CoverTerms {
        metric: "bad_debt_usd".into(),
        attachment,
        limit,
        wang_lambda: lambda,
        cost_of_capital: 0.1,
        capital_level: 0.99,
        resamples: 20,
    }
}

/// ∫_a^{a+l} g(e^{−x/μ}) dx with g(S) = Φ(Φ⁻¹(S) + λ), by Simpson's rule.
fn wang_layer(a: f64, l: f64, lambda: f64) -> f64 {
    let normal = Normal::standard();
    let g = |x: f64| normal.cdf(normal.inverse_cdf((-x / MEAN).exp()) + lambda);
    let steps = 20_000;
    let h = l / steps as f64;
    let sum: f64 = (0..=steps)
        .map(|i| {
            let w = if i == 0 || i == steps {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
            w * g(a + h * i as f64)
        })
        .sum();
    sum * h / 3.0
}

#[test]
fn an_exponential_loss_is_priced_as_its_closed_forms() {
    let losses = exponential(200_000);
    let (a, l) = (500.0, 5_000.0);
    let p = price(&terms(a, l, 0.3), &losses, DAY).unwrap();
    let rel = |x: f64, y: f64| (x - y).abs() / y.abs();
    // E[min((X − a)⁺, l)] = μ e^{−a/μ} (1 − e^{−l/μ}).
    let el = MEAN * (-a / MEAN).exp() * (1.0 - (-l / MEAN).exp());
    assert!(
        rel(p.expected_loss.value, el) < 1e-4,
        "{} {el}",
        p.expected_loss.value
    );
    // P(X > a) = e^{−a/μ}; P(X ≥ a + l) = e^{−(a+l)/μ}.
    assert!(rel(p.probability_of_attachment.value, (-a / MEAN).exp()) < 1e-4);
    assert!(rel(p.probability_of_exhaustion.value, (-(a + l) / MEAN).exp()) < 1e-2);
    // VaR 99% of the payout: μ ln 100 − a (below the limit).
    let var = MEAN * 100f64.ln() - a;
    assert!(
        rel(p.payout_var.value, var) < 1e-3,
        "{} {var}",
        p.payout_var.value
    );
    let wang = wang_layer(a, l, 0.3);
    assert!(
        rel(p.wang_premium.value, wang) < 1e-3,
        "{} {wang}",
        p.wang_premium.value
    );
    assert!(
        p.wang_premium.value > 1.2 * el,
        "a load: {} on {el}",
        p.wang_premium.value
    );
    // Cost of capital over a day at 10% a year: EL + 0.1 / 365 · (VaR − EL).
    let coc = el + 0.1 / 365.0 * (var - el);
    assert!(rel(p.cost_of_capital_premium.value, coc) < 1e-3);
    assert!(rel(p.annual_expected_loss, 365.0 * el) < 1e-4);
    assert!(rel(p.wang_rate_on_line, 365.0 * wang / l) < 1e-3);
}

#[test]
fn without_a_load_the_wang_premium_is_the_expected_loss_and_it_rises_with_lambda() {
    let losses = exponential(10_000);
    let at = |lambda| price(&terms(200.0, 1_000.0, lambda), &losses, DAY).unwrap();
    let zero = at(0.0);
    assert!((zero.wang_premium.value - zero.expected_loss.value).abs() < 1e-9);
    let mut last = zero.wang_premium.value;
    for lambda in [0.1, 0.25, 0.5, 1.0] {
        let p = at(lambda).wang_premium.value;
        assert!(p > last, "λ {lambda}: {p} after {last}");
        last = p;
    }
}

#[test]
fn the_bootstrap_standard_error_of_the_expected_loss_matches_its_formula() {
    // With λ = 0 the Wang premium is the mean, whose bootstrap spread must agree with std / √n
    // (within the 200 resamples' own error, about 5%).
    let losses = exponential(20_000);
    let terms = CoverTerms {
        resamples: 200,
        ..terms(0.0, 1e9, 0.0)
    };
    let p = price(&terms, &losses, DAY).unwrap();
    let ratio = p.wang_premium.se / p.expected_loss.se;
    assert!(
        (ratio - 1.0).abs() < 0.2,
        "bootstrap {} formula {}",
        p.wang_premium.se,
        p.expected_loss.se
    );
    // Reproducible: the bootstrap draws from a fixed stream.
    assert_eq!(p, price(&terms, &losses, DAY).unwrap());
}

#[test]
fn terms_out_of_range_are_refused_by_name() {
    let losses = [1.0, 2.0];
    for (t, field) in [
        (terms(-1.0, 1.0, 0.1), "attachment"),
        (terms(0.0, 0.0, 0.1), "limit"),
        (terms(0.0, f64::INFINITY, 0.1), "limit"),
        (terms(0.0, 1.0, -0.5), "wang_lambda"),
        (terms(0.0, 1.0, f64::NAN), "wang_lambda"),
        (
            CoverTerms {
                capital_level: 1.0,
                ..terms(0.0, 1.0, 0.1)
            },
            "capital_level",
        ),
        (
            CoverTerms {
                resamples: 1,
                ..terms(0.0, 1.0, 0.1)
            },
            "resamples",
        ),
    ] {
        let e = price(&t, &losses, DAY).unwrap_err();
        assert_eq!(e.field, field, "{e}");
    }
    assert_eq!(
        price(&terms(0.0, 1.0, 0.1), &[], DAY).unwrap_err().field,
        "paths"
    );
    assert_eq!(
        price(&terms(0.0, 1.0, 0.1), &losses, 0).unwrap_err().field,
        "horizon_seconds"
    );
}
