//! `cascade stress` outputs: stress.csv and stress.json, a row per point of the grid with the
//! values the point set and its figures (one run) or their distribution (a Monte Carlo of each
//! point). docs/outputs.md lists the columns.

use std::io::{self, Write};
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, StringBuilder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use cascade_analytics::montecarlo::{MonteCarloSummary, PathFigures};
use serde_json::{Map, Value, json};

use crate::csv_cell as quoted;
use crate::float;

/// What a point of the grid gave.
pub enum Outcome<'a> {
    /// One run (path 0): the figures of that path.
    Run(&'a PathFigures),
    /// A Monte Carlo of the point.
    MonteCarlo(&'a MonteCarloSummary),
}

/// One point of the grid.
pub struct StressRow<'a> {
    /// The value of each grid key at this point, as given on the command line.
    pub values: &'a [String],
    /// The edited scenario's hash.
    pub hash: &'a str,
    /// What it gave.
    pub outcome: Outcome<'a>,
}

/// A stress test: the scenario, the grid and its points in grid order (the last key varying
/// fastest).
pub struct Stress<'a> {
    /// The scenario's name.
    pub name: &'a str,
    /// The unedited scenario's hash.
    pub hash: &'a str,
    /// Its seed.
    pub seed: u64,
    /// Simulated time of a run.
    pub horizon_seconds: u64,
    /// Paths per point (1: a single run).
    pub paths: u64,
    /// The grid's keys (field paths) and their values, as given.
    pub grid: &'a [(String, Vec<String>)],
    /// The metrics' names (the figures of a run, in paths.csv order).
    pub names: &'a [String],
    /// The points.
    pub rows: &'a [StressRow<'a>],
}

/// The summary columns a Monte Carlo point reports per metric.
const MC_COLUMNS: [(&str, &str, &str); 4] = [
    ("mean", "mean", ""),
    ("var_0.95", "var", "0.95"),
    ("var_0.99", "var", "0.99"),
    ("es_0.99", "es", "0.99"),
];

/// Writes stress.csv: the grid keys, `scenario_hash`, then for a single run `death_spiral` and
/// every metric; for a Monte Carlo `paths`, `p_bad_debt`, `p_death_spiral` and per metric its
/// mean, VaR 95% and 99% and ES 99% (`<metric>.mean`, `<metric>.var_0.95`, …).
///
/// # Errors
/// IO errors of the writer.
pub fn write_stress_csv(stress: &Stress<'_>, out: &mut impl Write) -> io::Result<()> {
    let mut header: Vec<String> = stress.grid.iter().map(|(k, _)| k.clone()).collect();
    header.push("scenario_hash".into());
    if stress.paths == 1 {
        header.push("death_spiral".into());
        header.extend(stress.names.iter().cloned());
    } else {
        header.extend(["paths", "p_bad_debt", "p_death_spiral"].map(String::from));
        for name in stress.names {
            header.extend(MC_COLUMNS.iter().map(|(c, ..)| format!("{name}.{c}")));
        }
    }
    writeln!(
        out,
        "{}",
        header
            .iter()
            .map(|h| quoted(h))
            .collect::<Vec<_>>()
            .join(",")
    )?;
    let mut buffer = ryu::Buffer::new();
    for row in stress.rows {
        let mut cells: Vec<String> = row.values.iter().map(|v| quoted(v)).collect();
        cells.push(row.hash.to_string());
        match row.outcome {
            Outcome::Run(figures) => {
                cells.push(figures.death_spiral.to_string());
                cells.extend(
                    figures
                        .values
                        .iter()
                        .map(|v| float(&mut buffer, v.unwrap_or(f64::NAN)).to_string()),
                );
            }
            Outcome::MonteCarlo(mc) => {
                cells.push(mc.header.paths.to_string());
                cells.push(float(&mut buffer, mc.probabilities.bad_debt).to_string());
                cells.push(float(&mut buffer, mc.probabilities.death_spiral).to_string());
                for name in stress.names {
                    let d = mc.metrics.get(name);
                    for (_, field, q) in MC_COLUMNS {
                        let v = d.map_or(f64::NAN, |d| match field {
                            "mean" => d.mean,
                            "var" => d.var[q],
                            _ => d.es[q],
                        });
                        cells.push(float(&mut buffer, v).to_string());
                    }
                }
            }
        }
        writeln!(out, "{}", cells.join(","))?;
    }
    Ok(())
}

/// stress.csv's columns as an Arrow batch, typed: the grid keys and `scenario_hash` strings,
/// `death_spiral` boolean and each metric a nullable float64 (a single run), or `paths` uint64
/// and the probabilities and summary columns float64 (a Monte Carlo).
///
/// # Errors
/// Rows whose figures do not match the names.
pub fn stress_batch(stress: &Stress<'_>) -> Result<RecordBatch, ArrowError> {
    let mut fields: Vec<Field> = stress
        .grid
        .iter()
        .map(|(k, _)| Field::new(k, DataType::Utf8, false))
        .collect();
    fields.push(Field::new("scenario_hash", DataType::Utf8, false));
    let mut keys: Vec<StringBuilder> = stress.grid.iter().map(|_| StringBuilder::new()).collect();
    let mut hash = StringBuilder::new();
    let mut spiral = BooleanBuilder::new();
    let mut paths = UInt64Builder::new();
    let mut numbers: Vec<(String, Float64Builder)> = Vec::new();
    let single = stress.paths == 1;
    if single {
        fields.push(Field::new("death_spiral", DataType::Boolean, false));
        numbers.extend(
            stress
                .names
                .iter()
                .map(|n| (n.clone(), Float64Builder::new())),
        );
    } else {
        fields.push(Field::new("paths", DataType::UInt64, false));
        numbers.extend(
            ["p_bad_debt", "p_death_spiral"].map(|n| (n.to_string(), Float64Builder::new())),
        );
        for name in stress.names {
            numbers.extend(
                MC_COLUMNS
                    .iter()
                    .map(|(c, ..)| (format!("{name}.{c}"), Float64Builder::new())),
            );
        }
    }
    fields.extend(
        numbers
            .iter()
            .map(|(n, _)| Field::new(n, DataType::Float64, true)),
    );
    for row in stress.rows {
        for (column, value) in keys.iter_mut().zip(row.values) {
            column.append_value(value);
        }
        hash.append_value(row.hash);
        let mut column = numbers.iter_mut().map(|(_, b)| b);
        match row.outcome {
            Outcome::Run(figures) => {
                spiral.append_value(figures.death_spiral);
                for (b, v) in column.zip(&figures.values) {
                    b.append_option(*v);
                }
            }
            Outcome::MonteCarlo(mc) => {
                paths.append_value(mc.header.paths);
                let mut put = |v: f64| {
                    if let Some(b) = column.next() {
                        b.append_value(v);
                    }
                };
                put(mc.probabilities.bad_debt);
                put(mc.probabilities.death_spiral);
                for name in stress.names {
                    let d = mc.metrics.get(name);
                    for (_, field, q) in MC_COLUMNS {
                        put(d.map_or(f64::NAN, |d| match field {
                            "mean" => d.mean,
                            "var" => d.var[q],
                            _ => d.es[q],
                        }));
                    }
                }
            }
        }
    }
    let mut arrays: Vec<ArrayRef> = keys
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    arrays.push(Arc::new(hash.finish()));
    if single {
        arrays.push(Arc::new(spiral.finish()));
    } else {
        arrays.push(Arc::new(paths.finish()));
    }
    arrays.extend(
        numbers
            .iter_mut()
            .map(|(_, b)| Arc::new(b.finish()) as ArrayRef),
    );
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
}

/// Writes stress.json: `scenario`, `seed`, `horizon_seconds`, `paths`, `grid` (each key with its
/// values) and `points`, each with its `values` by key, its `scenario_hash`, and its `figures`
/// and `death_spiral` (a single run) or its `metrics`, `probabilities` and `probabilities_se`
/// (a Monte Carlo, as in montecarlo.json).
///
/// # Errors
/// IO errors of the writer.
pub fn write_stress_json(stress: &Stress<'_>, out: &mut impl Write) -> io::Result<()> {
    let grid: Vec<Value> = stress
        .grid
        .iter()
        .map(|(key, values)| json!({ "key": key, "values": values }))
        .collect();
    let points: Vec<Value> = stress.rows.iter().map(|row| point(stress, row)).collect();
    let document = json!({
        "scenario": { "name": stress.name, "hash": stress.hash },
        "seed": stress.seed,
        "horizon_seconds": stress.horizon_seconds,
        "paths": stress.paths,
        "grid": grid,
        "points": points,
    });
    crate::write_json(&document, out)
}

fn point(stress: &Stress<'_>, row: &StressRow<'_>) -> Value {
    let values: Map<String, Value> = stress
        .grid
        .iter()
        .zip(row.values)
        .map(|((key, _), v)| (key.clone(), Value::String(v.clone())))
        .collect();
    let mut point = Map::new();
    point.insert("values".into(), Value::Object(values));
    point.insert("scenario_hash".into(), Value::String(row.hash.to_string()));
    match row.outcome {
        Outcome::Run(figures) => {
            let named: Map<String, Value> = stress
                .names
                .iter()
                .zip(&figures.values)
                .filter_map(|(n, v)| v.map(|v| (n.clone(), json!(v))))
                .collect();
            point.insert("death_spiral".into(), Value::Bool(figures.death_spiral));
            point.insert("figures".into(), Value::Object(named));
        }
        Outcome::MonteCarlo(mc) => {
            point.insert("metrics".into(), json!(mc.metrics));
            point.insert("probabilities".into(), json!(mc.probabilities));
            point.insert("probabilities_se".into(), json!(mc.probabilities_se));
        }
    }
    Value::Object(point)
}
