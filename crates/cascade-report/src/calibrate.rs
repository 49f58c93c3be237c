//! `cascade calibrate` outputs: frontier.csv (a row per value of the parameter) and
//! calibration.json (the question, the frontier and the chosen value), the printed frontier, and
//! the frontier as Arrow for Python.
//! docs/outputs.md lists the columns and keys.

use std::io::{self, Write};
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray};
use arrow_schema::ArrowError;
use cascade_analytics::calibrate::{FrontierPoint, Prefer, RiskBudget, Z_ONE_SIDED_95};
use serde_json::{Value, json};

use crate::float;

/// A calibration: the scenario, the parameter and its range, the budget, and the frontier in
/// ascending order of value.
pub struct Calibration<'a> {
    /// The scenario's name.
    pub name: &'a str,
    /// The unedited scenario's hash.
    pub hash: &'a str,
    /// Its seed.
    pub seed: u64,
    /// Simulated time of each path, seconds.
    pub horizon_seconds: u64,
    /// Paths per value (the same paths for every value).
    pub paths: u64,
    /// The parameter's field path.
    pub parameter: &'a str,
    /// The range as given.
    pub range: &'a str,
    /// Which way is capital-efficient.
    pub prefer: Prefer,
    /// The risk budget.
    pub budget: &'a RiskBudget,
    /// The frontier, ascending by value.
    pub frontier: &'a [FrontierPoint],
    /// The chosen point, if any value is in budget.
    pub chosen: Option<usize>,
}

/// The columns of frontier.csv.
const COLUMNS: [&str; 15] = [
    "value",
    "risk",
    "risk_se",
    "risk_upper_95",
    "in_budget",
    "in_budget_upper_95",
    "margin",
    "book_debt_usd",
    "book_collateral_usd",
    "book_ltv",
    "book_perp_notional_usd",
    "book_perp_leverage",
    "bad_debt_mean_usd",
    "bad_debt_var99_usd",
    "liquidated_debt_mean_usd",
];

/// Writes frontier.csv: one row per value, ascending, with the columns of [`COLUMNS`] and
/// `scenario_hash`; an absent ratio (no collateral, no margin) is an empty cell.
///
/// # Errors
/// IO errors of the writer.
pub fn write_frontier_csv(c: &Calibration<'_>, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{},scenario_hash", COLUMNS.join(","))?;
    let mut buffer = ryu::Buffer::new();
    for p in c.frontier {
        let mut cells = vec![p.value.clone()];
        let numbers = [
            p.risk.value,
            p.risk.se,
            upper(p),
            f64::NAN,
            f64::NAN,
            p.margin(c.budget),
            p.book.debt_usd,
            p.book.collateral_usd,
            p.book.ltv.unwrap_or(f64::NAN),
            p.book.perp_notional_usd,
            p.book.leverage.unwrap_or(f64::NAN),
            p.bad_debt_mean_usd,
            p.bad_debt_var99_usd,
            p.liquidated_debt_mean_usd,
        ];
        for (i, v) in numbers.into_iter().enumerate() {
            cells.push(match i {
                3 => p.in_budget.to_string(),
                4 => p.in_budget_upper_95.to_string(),
                _ => float(&mut buffer, v).to_string(),
            });
        }
        cells.push(p.scenario_hash.clone());
        writeln!(out, "{}", cells.join(","))?;
    }
    Ok(())
}

/// frontier.csv's columns as one Arrow record batch, a row per value: `value` and
/// `scenario_hash` as text, `in_budget` and `in_budget_upper_95` as booleans, the rest float64,
/// null where frontier.csv's cell is empty.
///
/// # Errors
/// None in practice (every column has a row per value).
pub fn frontier_batch(c: &Calibration<'_>) -> Result<RecordBatch, ArrowError> {
    let points = c.frontier;
    let text = |f: fn(&FrontierPoint) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(points.iter().map(f)))
    };
    let flag = |f: fn(&FrontierPoint) -> bool| -> ArrayRef {
        Arc::new(BooleanArray::from_iter(points.iter().map(|p| Some(f(p)))))
    };
    let number = |f: &dyn Fn(&FrontierPoint) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter(
            points.iter().map(|p| Some(f(p)).filter(|v| !v.is_nan())),
        ))
    };
    let columns: [(&str, ArrayRef); COLUMNS.len() + 1] = [
        ("value", text(|p| &p.value)),
        ("risk", number(&|p| p.risk.value)),
        ("risk_se", number(&|p| p.risk.se)),
        ("risk_upper_95", number(&upper)),
        ("in_budget", flag(|p| p.in_budget)),
        ("in_budget_upper_95", flag(|p| p.in_budget_upper_95)),
        ("margin", number(&|p| p.margin(c.budget))),
        ("book_debt_usd", number(&|p| p.book.debt_usd)),
        ("book_collateral_usd", number(&|p| p.book.collateral_usd)),
        ("book_ltv", number(&|p| p.book.ltv.unwrap_or(f64::NAN))),
        (
            "book_perp_notional_usd",
            number(&|p| p.book.perp_notional_usd),
        ),
        (
            "book_perp_leverage",
            number(&|p| p.book.leverage.unwrap_or(f64::NAN)),
        ),
        ("bad_debt_mean_usd", number(&|p| p.bad_debt_mean_usd)),
        ("bad_debt_var99_usd", number(&|p| p.bad_debt_var99_usd)),
        (
            "liquidated_debt_mean_usd",
            number(&|p| p.liquidated_debt_mean_usd),
        ),
        ("scenario_hash", text(|p| &p.scenario_hash)),
    ];
    crate::batch_of(columns)
}

/// risk + 1.645 · se.
fn upper(p: &FrontierPoint) -> f64 {
    p.risk.value + Z_ONE_SIDED_95 * p.risk.se
}

fn finite(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

fn point_json(c: &Calibration<'_>, p: &FrontierPoint) -> Value {
    json!({
        "value": p.value,
        "risk": finite(p.risk.value),
        "risk_se": finite(p.risk.se),
        "risk_upper_95": finite(upper(p)),
        "in_budget": p.in_budget,
        "in_budget_upper_95": p.in_budget_upper_95,
        "margin": finite(p.margin(c.budget)),
        "book": {
            "debt_usd": finite(p.book.debt_usd),
            "collateral_usd": finite(p.book.collateral_usd),
            "ltv": p.book.ltv,
            "perp_notional_usd": finite(p.book.perp_notional_usd),
            "perp_margin_usd": finite(p.book.perp_margin_usd),
            "perp_leverage": p.book.leverage,
        },
        "bad_debt_mean_usd": finite(p.bad_debt_mean_usd),
        "bad_debt_var99_usd": finite(p.bad_debt_var99_usd),
        "liquidated_debt_mean_usd": finite(p.liquidated_debt_mean_usd),
        "scenario_hash": p.scenario_hash,
    })
}

/// Writes calibration.json: `scenario`, `seed`, `horizon_seconds`, `paths`, `parameter`,
/// `range`, `prefer`, `risk` (the budget: `expression`, `statistic`, `level`, `metric`,
/// `operator`, `bound`), `frontier` (the rows of frontier.csv) and `chosen` (the chosen row
/// with its `margin` in standard errors, or null when no value is in budget).
///
/// # Errors
/// IO errors of the writer.
pub fn write_calibration_json(c: &Calibration<'_>, out: &mut impl Write) -> io::Result<()> {
    let (statistic, level) = c.budget.statistic_name();
    let frontier: Vec<Value> = c.frontier.iter().map(|p| point_json(c, p)).collect();
    let chosen = c.chosen.map_or(Value::Null, |i| {
        let p = &c.frontier[i];
        let mut v = point_json(c, p);
        v["margin_in_se"] = margin_in_se(c, p).map_or(Value::Null, finite);
        v
    });
    let document = json!({
        "scenario": { "name": c.name, "hash": c.hash },
        "seed": c.seed,
        "horizon_seconds": c.horizon_seconds,
        "paths": c.paths,
        "parameter": c.parameter,
        "range": c.range,
        "prefer": c.prefer.to_string(),
        "risk": {
            "expression": c.budget.expression,
            "statistic": statistic,
            "level": level,
            "metric": c.budget.subject(),
            "operator": c.budget.operator(),
            "bound": c.budget.bound,
        },
        "frontier": frontier,
        "chosen": chosen,
    });
    crate::write_json(&document, out)
}

/// The margin over the standard error, when the standard error is not zero.
fn margin_in_se(c: &Calibration<'_>, p: &FrontierPoint) -> Option<f64> {
    (p.risk.se > 0.0).then(|| p.margin(c.budget) / p.risk.se)
}

/// Prints the frontier and the choice.
///
/// # Errors
/// IO errors of the writer.
pub fn write_calibration_text(c: &Calibration<'_>, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "cascade calibrate: {} — {} over {}, {} paths per value (the same paths for each), \
         budget {}",
        c.name, c.parameter, c.range, c.paths, c.budget.expression
    )?;
    writeln!(
        out,
        "  {:>14}  {:>16}  {:>12}  {:>9}  {:>8}",
        "value", "risk", "± se", "in budget", "book LTV"
    )?;
    for (i, p) in c.frontier.iter().enumerate() {
        let mark = if Some(i) == c.chosen {
            "◀ chosen"
        } else {
            ""
        };
        let budget = match (p.in_budget, p.in_budget_upper_95) {
            (true, true) => "yes",
            (true, false) => "yes (not at 95%)",
            (false, _) => "no",
        };
        let line = format!(
            "  {:>14}  {:>16}  {:>12}  {:>9}  {:>8}  {mark}",
            p.value,
            number(p.risk.value),
            number(p.risk.se),
            budget,
            p.book.ltv.map_or("—".to_string(), |l| format!("{l:.4}")),
        );
        writeln!(out, "{}", line.trim_end())?;
    }
    match c.chosen {
        Some(i) => {
            let p = &c.frontier[i];
            let se =
                margin_in_se(c, p).map_or(String::new(), |m| format!(" ({m:.1} standard errors)"));
            writeln!(
                out,
                "chosen: {} = {} ({} is more capital-efficient): risk {} ± {} against {}, \
                 margin {}{se}{}",
                c.parameter,
                p.value,
                c.prefer,
                number(p.risk.value),
                number(p.risk.se),
                c.budget.bound,
                number(p.margin(c.budget)),
                if p.in_budget_upper_95 {
                    ""
                } else {
                    "; its one-sided 95% upper bound is over budget: more paths would tell"
                }
            )
        }
        None => writeln!(
            out,
            "chosen: none — no value of {} in {} keeps {}",
            c.parameter, c.range, c.budget.expression
        ),
    }
}

/// A figure for reading: whole units from 100 up, four decimals below.
fn number(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.4}")
    }
}
