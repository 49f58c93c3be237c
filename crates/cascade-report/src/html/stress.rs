//! The report of a stress test (`cascade stress`): the risk at every point of the grid as a
//! table, and as heatmaps over the first two parameters (a line over one parameter), for the
//! figures a committee budgets: VaR and mean of bad debt, the probability of bad debt, VaR of
//! liquidated debt.

use std::path::Path;

use super::ReportError;
use super::chart::{Heatmap, Mark, Plot, Series};
use super::format::{grouped, percent};
use super::page::{Block, Page, Row, Section, Shown, Table};
use super::read::Json;
use super::run::{producer, push_chart};

/// A figure of every point: its label, the keys under a point, its format.
struct Figure {
    label: &'static str,
    name: &'static str,
    keys: &'static [&'static str],
    format: fn(f64) -> String,
    /// How a heatmap's cell writes it (cells are small: 1.5M).
    compact: fn(f64) -> String,
}

fn money(v: f64) -> String {
    grouped(v, 0)
}

const FIGURES: [Figure; 6] = [
    Figure {
        label: "bad debt VaR 99% (USD)",
        name: "bad-debt-var99",
        keys: &["metrics", "bad_debt_usd", "var", "0.99"],
        format: money,
        compact: super::format::compact,
    },
    Figure {
        label: "bad debt ES 99% (USD)",
        name: "bad-debt-es99",
        keys: &["metrics", "bad_debt_usd", "es", "0.99"],
        format: money,
        compact: super::format::compact,
    },
    Figure {
        label: "bad debt mean (USD)",
        name: "bad-debt-mean",
        keys: &["metrics", "bad_debt_usd", "mean"],
        format: money,
        compact: super::format::compact,
    },
    Figure {
        label: "P(bad debt > 0)",
        name: "p-bad-debt",
        keys: &["probabilities", "bad_debt"],
        format: percent,
        compact: percent,
    },
    Figure {
        label: "P(death spiral)",
        name: "p-death-spiral",
        keys: &["probabilities", "death_spiral"],
        format: percent,
        compact: percent,
    },
    Figure {
        label: "liquidated debt VaR 99% (USD)",
        name: "liquidated-var99",
        keys: &["metrics", "liquidated_debt_usd", "var", "0.99"],
        format: money,
        compact: super::format::compact,
    },
];

struct Grid {
    keys: Vec<String>,
    values: Vec<Vec<String>>,
}

fn grid(stress: &Json) -> Grid {
    let axes = stress
        .get(&["grid"])
        .and_then(|g| g.as_array())
        .cloned()
        .unwrap_or_default();
    let mut keys = Vec::new();
    let mut values = Vec::new();
    for axis in axes {
        keys.push(
            axis.get("key")
                .and_then(|k| k.as_str())
                .unwrap_or("")
                .to_string(),
        );
        values.push(
            axis.get("values")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        );
    }
    Grid { keys, values }
}

/// The page.
pub(crate) fn page(dir: &Path) -> Result<Page, ReportError> {
    let stress = Json::read(dir, "stress.json")?;
    let grid = grid(&stress);
    let points = stress
        .get(&["points"])
        .and_then(|p| p.as_array())
        .map_or(0, Vec::len);
    let mut section = Section::new("stress", "Risk over the grid");
    section.push(Block::Text(format!(
        "{} points: {}. Every point runs the same paths (common random numbers), so differences \
         between points are the parameters', not the dice's.",
        points,
        grid.keys
            .iter()
            .zip(&grid.values)
            .map(|(k, v)| format!("{k} ∈ {{{}}}", v.join(", ")))
            .collect::<Vec<_>>()
            .join(" × ")
    )));
    for figure in &FIGURES {
        let chart = match grid.keys.len() {
            1 => line(&stress, &grid, points, figure),
            2 => heatmap(&stress, &grid, points, figure),
            _ => continue,
        };
        push_chart(
            &mut section,
            chart,
            &format!("{} at each point.", figure.label),
        )?;
    }
    if grid.keys.len() > 2 {
        section.push(Block::Text(
            "With more than two parameters the table below is the whole result.".into(),
        ));
    }
    section.push(Block::Table(table(&stress, &grid, points)));
    Ok(Page {
        title: stress.text(&["scenario", "name"])?,
        kind: "Stress test".into(),
        header: vec![
            (
                "Scenario".into(),
                Shown::text(stress.text(&["scenario", "name"])?),
            ),
            ("Seed".into(), stress.literal(&["seed"])),
            ("Paths per point".into(), stress.literal(&["paths"])),
            (
                "Horizon".into(),
                stress.shown_or_dash(&["horizon_seconds"], |v| format!("{v} s")),
            ),
            ("Written by".into(), Shown::text(producer(&stress))),
        ],
        sections: vec![section],
    })
}

/// The value of `figure` at point `i`, as shown.
fn value(stress: &Json, i: usize, figure: &Figure) -> Option<Shown> {
    let index = i.to_string();
    let mut keys = vec!["points", index.as_str()];
    keys.extend_from_slice(figure.keys);
    stress.shown(&keys, figure.format)
}

/// Point `i`'s value of grid key `key`.
fn coordinate(stress: &Json, i: usize, key: &str) -> Option<String> {
    stress
        .get(&["points", &i.to_string(), "values", key])
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

fn heatmap(
    stress: &Json,
    grid: &Grid,
    points: usize,
    figure: &Figure,
) -> Result<super::Chart, super::ChartError> {
    let (xs, ys) = (&grid.values[0], &grid.values[1]);
    let mut cells = vec![vec![None; xs.len()]; ys.len()];
    for i in 0..points {
        let (Some(x), Some(y)) = (
            coordinate(stress, i, &grid.keys[0]),
            coordinate(stress, i, &grid.keys[1]),
        ) else {
            continue;
        };
        let (Some(column), Some(row)) = (
            xs.iter().position(|v| *v == x),
            ys.iter().position(|v| *v == y),
        ) else {
            continue;
        };
        cells[row][column] = value(stress, i, figure)
            .and_then(|s| s.source)
            .map(|s| s.value);
    }
    Heatmap {
        title: figure.label.into(),
        x_label: grid.keys[0].clone(),
        y_label: grid.keys[1].clone(),
        x_ticks: xs.clone(),
        y_ticks: ys.clone(),
        cells,
        format: figure.compact,
    }
    .render(&format!("stress-{}", figure.name))
}

fn line(
    stress: &Json,
    grid: &Grid,
    points: usize,
    figure: &Figure,
) -> Result<super::Chart, super::ChartError> {
    let numeric: Option<Vec<f64>> = grid.values[0].iter().map(|v| v.parse().ok()).collect();
    let mut data = Vec::new();
    for i in 0..points {
        let Some(x) = coordinate(stress, i, &grid.keys[0]) else {
            continue;
        };
        let Some(position) = grid.values[0].iter().position(|v| *v == x) else {
            continue;
        };
        let at = numeric.as_ref().map_or(position as f64, |n| n[position]);
        if let Some(v) = value(stress, i, figure).and_then(|s| s.source) {
            data.push((at, v.value));
        }
    }
    data.sort_by(|a, b| a.0.total_cmp(&b.0));
    Plot {
        title: figure.label.into(),
        x_label: grid.keys[0].clone(),
        y_label: figure.label.into(),
        series: vec![
            Series::new("", data.clone(), Mark::Line, 0),
            Series::new("", data, Mark::Points, 0),
        ],
        x_categories: numeric.is_none().then(|| grid.values[0].clone()),
        y_from_zero: true,
        ..Plot::default()
    }
    .render(&format!("stress-{}", figure.name))
}

fn table(stress: &Json, grid: &Grid, points: usize) -> Table {
    let mut head = grid.keys.clone();
    head.extend(FIGURES.iter().map(|f| f.label.to_string()));
    let mut table = Table {
        head,
        rows: Vec::new(),
    };
    for i in 0..points {
        let mut cells: Vec<Shown> = grid
            .keys
            .iter()
            .map(|k| Shown::text(coordinate(stress, i, k).unwrap_or_default()))
            .collect();
        cells.extend(
            FIGURES
                .iter()
                .map(|f| value(stress, i, f).unwrap_or_else(|| Shown::text("–"))),
        );
        table.rows.push(Row { id: None, cells });
    }
    table
}
