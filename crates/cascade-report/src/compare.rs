//! Sinks for `cascade compare`: compare.csv, compare.json, the printed table, the warning of a
//! variant whose auctions a lone keeper won for nothing, and the table as Arrow for Python.

use std::io::{self, Write};
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::ArrowError;
use cascade_analytics::compare::{COLUMNS, Comparison, ComparisonRow, LoneBidder};
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

/// A column of an Arrow table built from rows: its name and array.
type Column = (&'static str, ArrayRef);

/// compare.csv's columns as one Arrow record batch, a row per variant: `mechanism` as text,
/// counts as uint64, figures as float64, null where compare.csv's cell is empty.
///
/// # Errors
/// None in practice (every column has a row per variant).
pub fn compare_batch(comparison: &Comparison) -> Result<RecordBatch, ArrowError> {
    let rows = &comparison.rows;
    let count = |f: fn(&ComparisonRow) -> Option<u64>| -> ArrayRef {
        Arc::new(UInt64Array::from_iter(rows.iter().map(f)))
    };
    let number = |f: fn(&ComparisonRow) -> Option<f64>| -> ArrayRef {
        Arc::new(Float64Array::from_iter(rows.iter().map(f)))
    };
    let columns: [Column; COLUMNS.len()] = [
        (
            "mechanism",
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| &r.mechanism),
            )),
        ),
        ("liquidations", count(|r| Some(r.liquidations))),
        (
            "accounts_liquidated",
            count(|r| Some(r.accounts_liquidated)),
        ),
        (
            "time_to_close_median_seconds",
            count(|r| r.time_to_close_median_seconds),
        ),
        (
            "time_to_close_p90_seconds",
            count(|r| r.time_to_close_p90_seconds),
        ),
        (
            "collateral_sold_units",
            number(|r| Some(r.collateral_sold_units)),
        ),
        ("sale_proceeds_usd", number(|r| Some(r.sale_proceeds_usd))),
        ("max_price_impact", number(|r| Some(r.max_price_impact))),
        ("total_drop", number(|r| Some(r.total_drop))),
        ("amplification", number(|r| r.amplification)),
        (
            "liquidator_profit_usd",
            number(|r| Some(r.liquidator_profit_usd)),
        ),
        ("bonus_usd", number(|r| Some(r.bonus_usd))),
        ("bad_debt_usd", number(|r| Some(r.bad_debt_usd))),
        (
            "bad_debt_realised_usd",
            number(|r| Some(r.bad_debt_realised_usd)),
        ),
        (
            "bad_debt_unrealised_usd",
            number(|r| Some(r.bad_debt_unrealised_usd)),
        ),
        (
            "insurance_drawn_usd",
            number(|r| Some(r.insurance_drawn_usd)),
        ),
        (
            "socialised_loss_usd",
            number(|r| Some(r.socialised_loss_usd)),
        ),
        ("backstop_pnl_usd", number(|r| Some(r.backstop_pnl_usd))),
        (
            "auctions_running_at_end",
            count(|r| Some(r.auctions_running_at_end)),
        ),
        ("incentives_usd", number(|r| Some(r.incentives_usd))),
    ];
    crate::batch_of(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arrow_table_has_compare_csvs_columns_and_cells() {
        let row = ComparisonRow {
            mechanism: "aave_v3.3+no_congestion".into(),
            liquidations: 7,
            accounts_liquidated: 3,
            time_to_close_median_seconds: Some(12),
            time_to_close_p90_seconds: None,
            collateral_sold_units: 0.25,
            sale_proceeds_usd: 1e7,
            max_price_impact: 0.125,
            total_drop: 0.5,
            amplification: None,
            liquidator_profit_usd: -3.5,
            bonus_usd: 4.0,
            bad_debt_usd: 1.5,
            bad_debt_realised_usd: 1.0,
            bad_debt_unrealised_usd: 0.5,
            insurance_drawn_usd: 0.0,
            socialised_loss_usd: 2.0,
            backstop_pnl_usd: 0.0,
            auctions_running_at_end: 2,
            incentives_usd: 6.0,
        };
        let comparison = Comparison {
            scenario: "s".into(),
            seed: 1,
            hash: "h".into(),
            asset: "ETH".into(),
            rows: vec![row],
        };
        let batch = compare_batch(&comparison).unwrap();
        let names: Vec<&str> = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(names, COLUMNS);
        let mut csv = Vec::new();
        write_compare_csv(&comparison, &mut csv).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        let cells: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
        for (c, cell) in cells.iter().enumerate() {
            let column = batch.column(c);
            let shown = if column.is_null(0) {
                String::new()
            } else if let Some(a) = column.as_any().downcast_ref::<StringArray>() {
                a.value(0).to_string()
            } else if let Some(a) = column.as_any().downcast_ref::<UInt64Array>() {
                a.value(0).to_string()
            } else {
                let a = column.as_any().downcast_ref::<Float64Array>().unwrap();
                float(&mut ryu::Buffer::new(), a.value(0)).to_string()
            };
            assert_eq!(shown, *cell, "column {}", COLUMNS[c]);
        }
    }
}
