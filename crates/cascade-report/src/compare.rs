//! Sinks for `cascade compare`: compare.csv, compare.json, the printed table, and the warning of
//! a variant whose auctions a lone keeper won for nothing.

use std::io::{self, Write};

use cascade_analytics::compare::{COLUMNS, Comparison, LoneBidder};
use cascade_analytics::summary::NEAR_ZERO_BID;

use crate::float;
use crate::text::usd;

/// Writes compare.csv: one row per mechanism, columns as `cascade_analytics::compare::COLUMNS`.
///
/// # Errors
/// IO errors of the writer.
pub fn write_compare_csv(comparison: &Comparison, out: &mut impl Write) -> io::Result<()> {
    crate::write_header(COLUMNS, out)?;
    let mut buffer = ryu::Buffer::new();
    for r in &comparison.rows {
        let mut cells: Vec<String> = vec![
            crate::csv_cell(&r.mechanism),
            r.liquidations.to_string(),
            r.accounts_liquidated.to_string(),
            r.time_to_close_median_seconds
                .map_or(String::new(), |x| x.to_string()),
            r.time_to_close_p90_seconds
                .map_or(String::new(), |x| x.to_string()),
        ];
        for value in [
            Some(r.collateral_sold_units),
            Some(r.sale_proceeds_usd),
            Some(r.max_price_impact),
            Some(r.total_drop),
            r.amplification,
            Some(r.liquidator_profit_usd),
            Some(r.bonus_usd),
            Some(r.bad_debt_usd),
            Some(r.bad_debt_realised_usd),
            Some(r.bad_debt_unrealised_usd),
            Some(r.insurance_drawn_usd),
            Some(r.socialised_loss_usd),
            Some(r.backstop_pnl_usd),
        ] {
            cells.push(value.map_or(String::new(), |v| float(&mut buffer, v).to_string()));
        }
        cells.push(r.auctions_running_at_end.to_string());
        cells.push(float(&mut buffer, r.incentives_usd).to_string());
        writeln!(out, "{}", cells.join(","))?;
    }
    Ok(())
}

/// Writes compare.json.
///
/// # Errors
/// IO errors of the writer.
pub fn write_compare_json(comparison: &Comparison, out: &mut impl Write) -> io::Result<()> {
    crate::write_json(comparison, out)
}

/// Writes the comparison as a readable table.
///
/// # Errors
/// IO errors of the writer.
pub fn write_compare_text(comparison: &Comparison, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "cascade compare · {} (seed {}), prices and sales of {}",
        comparison.scenario, comparison.seed, comparison.asset
    )?;
    writeln!(out)?;
    // The name column fits the longest name (combined variants such as
    // `dutch_auction+no_congestion` are long).
    let width = comparison
        .rows
        .iter()
        .map(|r| r.mechanism.chars().count())
        .fold(16, usize::max);
    writeln!(
        out,
        "{:<width$} {:>8} {:>8} {:>9} {:>9} {:>12} {:>8} {:>8} {:>7} {:>13} {:>11} {:>13} {:>13} {:>13} {:>13}",
        "mechanism",
        "calls",
        "running",
        "close p50",
        "close p90",
        "sold units",
        "impact",
        "drop",
        "ampl.",
        "keeper P&L",
        "incentives",
        "bad debt",
        "insurance",
        "socialised",
        "backstop P&L"
    )?;
    let seconds = |s: Option<u64>| s.map_or("-".to_string(), |s| format!("{s} s"));
    // Adding 0.0 turns a negative zero into zero.
    let money = |x: f64| format!("{:.0}", x + 0.0);
    for r in &comparison.rows {
        writeln!(
            out,
            "{:<width$} {:>8} {:>8} {:>9} {:>9} {:>12.2} {:>7.2}% {:>7.2}% {:>7} {:>13} {:>11} {:>13} {:>13} {:>13} {:>13}",
            r.mechanism,
            r.liquidations,
            r.auctions_running_at_end,
            seconds(r.time_to_close_median_seconds),
            seconds(r.time_to_close_p90_seconds),
            r.collateral_sold_units,
            r.max_price_impact * 100.0,
            r.total_drop * 100.0,
            r.amplification
                .map_or("-".to_string(), |a| format!("{a:.2}×")),
            money(r.liquidator_profit_usd),
            money(r.incentives_usd),
            money(r.bad_debt_usd),
            money(r.insurance_drawn_usd),
            money(r.socialised_loss_usd),
            money(r.backstop_pnl_usd),
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "running: auctions still running at the end; close: time from liquidatable to closed; \
         impact: largest gap of the venue below the fundamental;"
    )?;
    writeln!(
        out,
        "keeper P&L: holdings marked at final prices; incentives: auction tips and chips, gas \
         compensation; bad debt: realised + unrealised (USD)"
    )
}

/// The warning for `variant`, whose auctions a lone keeper won at (near) zero: its bad debt
/// measures the missing competition, not the mechanism.
pub fn lone_bidder_warning(variant: &str, lone: &LoneBidder) -> String {
    format!(
        "{variant}: one keeper won all {} lots, {} of them for under {:.0}% of the collateral's \
         value ({} of collateral); its bad debt of {} reflects the lone bidder: add keepers to \
         the scenario to compare fairly",
        lone.taken,
        lone.won_near_zero,
        NEAR_ZERO_BID * 100.0,
        usd(lone.collateral_won_near_zero_usd),
        usd(lone.bad_debt_usd)
    )
}
