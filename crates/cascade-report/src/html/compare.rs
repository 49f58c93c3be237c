//! The report of a comparison (`cascade compare`): the table of every mechanism's figures, bar
//! charts of bad debt, liquidations and the fall side by side, and each variant's price path and
//! cumulative bad debt over the same time axis (read from its own run folder).

use std::path::Path;

use serde_json::Value;

use super::ReportError;
use super::chart::{Bar, Bars, Mark, Plot, Series};
use super::format::{count, grouped, percent};
use super::page::{Block, Page, Row, Section, Shown, Table};
use super::read::{Csv, Json};
use super::run::{Clock, producer, push_chart};

/// A column of compare.json: its key, its label and how it is written.
type Column = (&'static str, &'static str, fn(f64) -> String);

/// compare.json's columns the table shows.
const COLUMNS: [Column; 14] = [
    ("liquidations", "liquidations", count),
    ("accounts_liquidated", "accounts liquidated", count),
    ("collateral_sold_units", "collateral sold (units)", units),
    ("sale_proceeds_usd", "sale proceeds (USD)", money),
    ("total_drop", "fall", percent),
    ("amplification", "amplification", ratio),
    ("max_price_impact", "largest impact", percent),
    ("liquidator_profit_usd", "liquidators' profit (USD)", money),
    ("bonus_usd", "bonus (USD)", money),
    ("incentives_usd", "incentives paid (USD)", money),
    (
        "auctions_running_at_end",
        "auctions running at the end",
        count,
    ),
    ("bad_debt_usd", "bad debt (USD)", money),
    ("insurance_drawn_usd", "insurance drew (USD)", money),
    ("backstop_pnl_usd", "backstop P&L (USD)", money),
];

fn money(v: f64) -> String {
    grouped(v, 0)
}

fn units(v: f64) -> String {
    grouped(v, 1)
}

fn ratio(v: f64) -> String {
    format!("{}×", grouped(v, 3))
}

/// The page.
pub(crate) fn page(dir: &Path) -> Result<Page, ReportError> {
    let compare = Json::read(dir, "compare.json")?;
    let rows = compare
        .get(&["rows"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mechanisms: Vec<String> = rows
        .iter()
        .map(|r| {
            r.get("mechanism")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        })
        .collect();
    let mut section = Section::new("compare", "Mechanisms side by side");
    section.push(Block::Table(table(&compare, &mechanisms)));
    for (key, label, name) in [
        ("bad_debt_usd", "Bad debt (USD)", "compare-bad-debt"),
        ("liquidations", "Liquidation calls", "compare-liquidations"),
        ("total_drop", "Fall of the market price", "compare-fall"),
        (
            "sale_proceeds_usd",
            "Sale proceeds (USD)",
            "compare-proceeds",
        ),
    ] {
        let bars: Vec<Bar> = rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let v = r.get(key).and_then(Value::as_f64)?;
                Some(Bar {
                    x0: i as f64 - 0.35,
                    x1: i as f64 + 0.35,
                    y0: 0.0,
                    y1: v,
                })
            })
            .collect();
        let chart = Plot {
            title: label.into(),
            x_label: "mechanism".into(),
            y_label: label.into(),
            bars: vec![Bars {
                label: String::new(),
                bars,
                colour: 0,
            }],
            x_categories: Some(mechanisms.clone()),
            y_from_zero: true,
            ..Plot::default()
        }
        .render(name);
        push_chart(
            &mut section,
            chart,
            &format!("{label} under each mechanism."),
        )?;
    }
    let mut sections = vec![section];
    sections.push(paths(dir, &compare, &mechanisms)?);
    Ok(Page {
        title: compare.text(&["scenario"])?,
        kind: "Comparison of liquidation mechanisms".into(),
        header: vec![
            ("Scenario".into(), Shown::text(compare.text(&["scenario"])?)),
            ("Seed".into(), compare.literal(&["seed"])),
            (
                "Scenario hash".into(),
                Shown::text(compare.text(&["hash"])?),
            ),
            ("Asset".into(), Shown::text(compare.text(&["asset"])?)),
            ("Mechanisms".into(), Shown::text(mechanisms.join(", "))),
            ("Written by".into(), Shown::text(producer(&compare))),
        ],
        sections,
    })
}

fn table(compare: &Json, mechanisms: &[String]) -> Table {
    let mut head = vec!["mechanism".to_string()];
    head.extend(COLUMNS.iter().map(|(_, l, _)| l.to_string()));
    let mut table = Table {
        head,
        rows: Vec::new(),
    };
    for (i, mechanism) in mechanisms.iter().enumerate() {
        let index = i.to_string();
        let mut cells = vec![Shown::text(mechanism.clone())];
        cells.extend(
            COLUMNS
                .iter()
                .map(|(key, _, format)| compare.shown_or_dash(&["rows", &index, key], *format)),
        );
        table.rows.push(Row {
            id: Some(format!("mechanism-{mechanism}")),
            cells,
        });
    }
    table
}

/// Each variant's venue price and cumulative bad debt from its own folder, when it is there.
fn paths(dir: &Path, compare: &Json, mechanisms: &[String]) -> Result<Section, ReportError> {
    let mut section = Section::new("compare-paths", "Paths under each mechanism");
    let asset = compare.text(&["asset"])?;
    let mut prices = Vec::new();
    let mut losses = Vec::new();
    let mut unit = "";
    for (i, mechanism) in mechanisms.iter().enumerate() {
        let folder = dir.join(mechanism);
        if !folder.join("timeline.csv").is_file() || !folder.join("summary.json").is_file() {
            continue;
        }
        let summary = Json::read(&folder, "summary.json")?;
        let timeline = Csv::read(&folder, "timeline.csv")?;
        let clock = Clock::of(&timeline)?;
        unit = clock.unit;
        let venue = summary
            .get(&["assets", &asset, "venue"])
            .and_then(Value::as_str)
            .map_or_else(|| format!("fundamental_{asset}"), |v| format!("venue_{v}"));
        if let Some(p) = timeline.column(&venue)? {
            prices.push(Series::new(
                mechanism.clone(),
                clock.points(&p),
                Mark::Line,
                i,
            ));
        }
        let cumulative = timeline.require("bad_debt_realised_cumulative_usd")?;
        losses.push(Series::new(
            mechanism.clone(),
            clock.points(&cumulative),
            Mark::Line,
            i,
        ));
    }
    if prices.is_empty() && losses.is_empty() {
        section.push(Block::Text(
            "The variants' run folders are not here: only the table above.".into(),
        ));
        return Ok(section);
    }
    let chart = Plot {
        title: format!("{asset}: market price under each mechanism"),
        x_label: unit.into(),
        y_label: "USD".into(),
        series: prices,
        ..Plot::default()
    }
    .render("compare-prices");
    push_chart(
        &mut section,
        chart,
        "The primary venue's price at the end of each step, one line per mechanism: the same \
         shock, different forced selling.",
    )?;
    let chart = Plot {
        title: "Cumulative bad debt under each mechanism".into(),
        x_label: unit.into(),
        y_label: "USD".into(),
        series: losses,
        y_from_zero: true,
        ..Plot::default()
    }
    .render("compare-bad-debt-paths");
    push_chart(
        &mut section,
        chart,
        "Debt written off up to each step, one line per mechanism.",
    )?;
    Ok(section)
}
