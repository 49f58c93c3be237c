//! `cascade cover` outputs: cover.json (the Monte Carlo priced, the terms and the price) and the
//! printed price. docs/outputs.md lists the keys.

use std::io::{self, Write};

use cascade_analytics::cover::{CoverPrice, CoverTerms};
use cascade_analytics::montecarlo::MonteCarloHeader;
use serde_json::json;

/// A priced cover: what it was priced on, its terms and its price.
pub struct Cover<'a> {
    /// The Monte Carlo whose paths were priced.
    pub source: &'a MonteCarloHeader,
    /// The terms.
    pub terms: &'a CoverTerms,
    /// The price.
    pub price: &'a CoverPrice,
}

/// Writes cover.json: `source` (the Monte Carlo's `scenario`, `seed`, `paths`, `paths_from`,
/// `horizon_seconds`), `terms` and `price`.
///
/// # Errors
/// IO errors of the writer.
pub fn write_cover_json(c: &Cover<'_>, out: &mut impl Write) -> io::Result<()> {
    let document = json!({
        "source": c.source,
        "terms": c.terms,
        "price": c.price,
    });
    crate::write_json(&document, out)
}

/// Prints the price.
///
/// # Errors
/// IO errors of the writer.
pub fn write_cover_text(c: &Cover<'_>, out: &mut impl Write) -> io::Result<()> {
    let (t, p) = (c.terms, c.price);
    writeln!(
        out,
        "cascade cover: {} — {} above {} USD up to {} USD, over {} paths of {} s (seed {})",
        c.source.scenario.name,
        t.metric,
        t.attachment,
        t.limit,
        p.paths,
        p.horizon_seconds,
        c.source.seed
    )?;
    writeln!(
        out,
        "  pays on {:.2}% of paths (± {:.2}), its whole limit on {:.2}% (± {:.2})",
        100.0 * p.probability_of_attachment.value,
        100.0 * p.probability_of_attachment.se,
        100.0 * p.probability_of_exhaustion.value,
        100.0 * p.probability_of_exhaustion.se
    )?;
    writeln!(
        out,
        "  renewed every horizon, it pays in some horizon of a year with probability {:.2}%",
        100.0 * p.annual_probability_of_attachment
    )?;
    writeln!(
        out,
        "  {:<32} {:>16} {:>12} {:>16} {:>13}",
        "per horizon", "USD", "± se", "per year, USD", "rate on line"
    )?;
    let row = |out: &mut dyn Write, name: &str, value: f64, se: f64, rol: Option<f64>| {
        writeln!(
            out,
            "  {:<32} {:>16.2} {:>12.2} {:>16.2} {:>13}",
            name,
            value,
            se,
            value * p.horizons_per_year,
            rol.map_or(String::new(), |r| format!("{:.4}%", 100.0 * r))
        )
    };
    row(
        out,
        "expected loss",
        p.expected_loss.value,
        p.expected_loss.se,
        Some(p.annual_expected_loss / t.limit),
    )?;
    row(
        out,
        &format!("Wang premium (λ = {})", t.wang_lambda),
        p.wang_premium.value,
        p.wang_premium.se,
        Some(p.wang_rate_on_line),
    )?;
    row(
        out,
        &format!(
            "cost-of-capital premium ({}%/yr)",
            100.0 * t.cost_of_capital
        ),
        p.cost_of_capital_premium.value,
        p.cost_of_capital_premium.se,
        Some(p.cost_of_capital_rate_on_line),
    )?;
    writeln!(
        out,
        "  (capital: VaR {} of the payout, {:.2} ± {:.2} USD; standard errors of the premiums from \
         {} bootstrap resamples)",
        t.capital_level, p.payout_var.value, p.payout_var.se, t.resamples
    )
}
