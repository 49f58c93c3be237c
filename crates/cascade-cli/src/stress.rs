//! `cascade stress`: a scenario over a grid of values of its fields — every point the file with
//! those values written in, validated before anything runs, then run once (or as a Monte Carlo
//! of N paths) in parallel.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use cascade_analytics::montecarlo::{
    BeyondPaths, MonteCarloHeader, MonteCarloSummary, PathFigures, Runner, ScenarioId,
};
use cascade_report::{Outcome, Stress, StressRow};
use cascade_scenario::edit::ScenarioText;
use cascade_scenario::generate::BookCache;
use rayon::prelude::*;

use super::montecarlo::progress;
use super::{Failure, load, on_threads, output_dir, split, write_file};

/// What `cascade stress` was asked.
pub(crate) struct Request<'a> {
    pub(crate) scenario: &'a Path,
    pub(crate) grid: &'a [String],
    pub(crate) paths: Option<u64>,
    pub(crate) threads: Option<usize>,
    pub(crate) out: Option<PathBuf>,
    pub(crate) quiet: bool,
    /// `--report`, `--charts`.
    pub(crate) report: &'a super::report::ReportArgs,
}

/// A point of the grid, built and validated.
struct Point {
    values: Vec<String>,
    runner: Runner,
    hash: String,
}

/// What a point gave.
enum PointResult {
    Run(PathFigures),
    MonteCarlo(Box<MonteCarloSummary>),
}

/// Parses `KEY=V1,V2,…` arguments, in order; a key given twice, or without values, is refused.
fn parse_grid(args: &[String]) -> Result<Vec<(String, Vec<String>)>, Failure> {
    let mut grid: Vec<(String, Vec<String>)> = Vec::new();
    for arg in args {
        let Some((key, values)) = arg.split_once('=') else {
            return Err(Failure::Usage(format!(
                "--grid {arg:?}: expected KEY=V1,V2,… (a field path, then its values)"
            )));
        };
        let key = key.trim().to_string();
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
        if key.is_empty() || values.iter().any(String::is_empty) {
            return Err(Failure::Usage(format!(
                "--grid {arg:?}: a key and one or more non-empty values are needed"
            )));
        }
        if grid.iter().any(|(k, _)| *k == key) {
            return Err(Failure::Usage(format!("--grid {key}: given twice")));
        }
        grid.push((key, values));
    }
    Ok(grid)
}

/// Every combination of the grid's values, the last key varying fastest.
fn points(grid: &[(String, Vec<String>)]) -> Vec<Vec<String>> {
    grid.iter().fold(vec![Vec::new()], |acc, (_, values)| {
        acc.into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push(v.clone());
                    p
                })
            })
            .collect()
    })
}

/// Builds the scenario of one point: the file with the point's values written in, validated.
fn build(
    path: &Path,
    text: &ScenarioText,
    grid: &[(String, Vec<String>)],
    values: Vec<String>,
    books: &BookCache,
) -> Result<Point, Failure> {
    let edits: Vec<(&str, &str)> = grid
        .iter()
        .zip(&values)
        .map(|((k, _), v)| (k.as_str(), v.as_str()))
        .collect();
    let label = edits
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ");
    let (runner, hash) = edited(
        path,
        text,
        &edits,
        books,
        &Flag {
            name: "--grid",
            point: &format!("--grid point {label}"),
        },
    )?;
    Ok(Point {
        values,
        runner,
        hash,
    })
}

/// How errors of an edited scenario name what the command line asked.
pub(crate) struct Flag<'a> {
    /// The flag that gave the edits (`--grid`).
    pub(crate) name: &'a str,
    /// The point, as the message names it (`--grid point bonus=0.1`).
    pub(crate) point: &'a str,
}

/// The scenario at `path` (its text `text`) with `edits` (field path, value) written in and
/// validated, as a runner of its paths, and its hash. Populations the edits leave as they are
/// share their books through `books`.
pub(crate) fn edited(
    path: &Path,
    text: &ScenarioText,
    edits: &[(&str, &str)],
    books: &BookCache,
    flag: &Flag<'_>,
) -> Result<(Runner, String), Failure> {
    let mut edited = text.clone();
    for (key, value) in edits {
        edited
            .set(key, value)
            .map_err(|e| Failure::Usage(format!("{} {key}={value}: {}", flag.name, e.reason)))?;
    }
    let base_dir = cascade_scenario::base_dir(path);
    let scenario = cascade_scenario::from_str_with_books(&edited.text(), path, base_dir, books)
        .map_err(|e| Failure::Usage(format!("{}: invalid scenario:\n{e}", flag.point)))?;
    let hash = scenario.hash.clone();
    let (world, info) = split(scenario);
    Ok((Runner::new(world, info), hash))
}

/// Runs the grid and writes stress.csv and stress.json.
pub(crate) fn run(r: &Request<'_>) -> Result<(), Failure> {
    if r.paths == Some(0) {
        return Err(Failure::Usage("--paths = 0: at least one path".into()));
    }
    if r.threads == Some(0) {
        return Err(Failure::Usage("--threads = 0: at least one thread".into()));
    }
    let grid = parse_grid(r.grid)?;
    let base = load(Some(r.scenario))?;
    let text = cascade_scenario::read(r.scenario).map_err(Failure::Input)?;
    let text = ScenarioText::parse(&text)
        .map_err(|e| Failure::Usage(format!("{}: {e}", r.scenario.display())))?;
    // Every point is built and validated before anything runs. Points that leave a population
    // of positions as it is share its book: the first point draws the books, the others reuse
    // them (or draw the ones they change).
    let books = BookCache::new();
    let mut values = points(&grid).into_iter();
    let first = values
        .next()
        .map(|v| build(r.scenario, &text, &grid, v, &books));
    let rest: Vec<Point> = values
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|values| build(r.scenario, &text, &grid, values, &books))
        .collect::<Result<_, _>>()?;
    let built: Vec<Point> = first
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .chain(rest)
        .collect();
    check_columns(&built)?;
    let paths = r.paths.unwrap_or(1);
    for point in &built {
        if let Some(limit) = point
            .runner
            .world()
            .path_limit()
            .filter(|l| paths > l.paths)
        {
            return Err(Failure::Usage(format!(
                "--paths = {paths}: the grid point {} reads its paths from the ensemble {:?}, \
                 which has {} paths",
                point.values.join(", "),
                limit.file,
                limit.paths
            )));
        }
    }
    let name = base.world.simulation.name.clone();
    let out = r
        .out
        .clone()
        .unwrap_or_else(|| Path::new("out").join(format!("{name}-stress")));
    output_dir(&out)?;
    let (base_world, base_info) = split(base);
    let bar = progress(paths * built.len() as u64, r.quiet);
    let done = || bar.inc(1);
    let work = || {
        built
            .par_iter()
            .map(|point| outcome(point, r.paths, &done))
            .collect::<Vec<_>>()
    };
    let results = on_threads(r.threads, work)?
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::Usage(format!("--paths = {paths}: {e}")))?;
    bar.finish_and_clear();
    let names: Vec<String> = built
        .first()
        .map(|p| p.runner.metrics().names().to_vec())
        .unwrap_or_default();
    let rows: Vec<StressRow<'_>> = built
        .iter()
        .zip(&results)
        .map(|(point, result)| StressRow {
            values: &point.values,
            hash: &point.hash,
            outcome: match result {
                PointResult::Run(figures) => Outcome::Run(figures),
                PointResult::MonteCarlo(mc) => Outcome::MonteCarlo(mc),
            },
        })
        .collect();
    let stress = Stress {
        name: &name,
        hash: &base_info.hash,
        seed: base_world.simulation.seed,
        horizon_seconds: base_world.simulation.steps * base_world.simulation.step_seconds,
        paths,
        grid: &grid,
        names: &names,
        rows: &rows,
    };
    write_file(&out.join("stress.csv"), |w| {
        cascade_report::write_stress_csv(&stress, w)
    })?;
    write_file(&out.join("stress.json"), |w| {
        cascade_report::write_stress_json(&stress, w)
    })?;
    r.report.write(&out)?;
    if !r.quiet {
        print_table(&stress).context("cannot print")?;
        println!("\noutputs: {}", out.display());
    }
    Ok(())
}

/// Runs one point: path 0, or paths 0 … N−1.
fn outcome(
    point: &Point,
    paths: Option<u64>,
    done: &(dyn Fn() + Sync),
) -> Result<PointResult, BeyondPaths> {
    match paths {
        None => {
            let mut figures = point.runner.run(0..1, done)?;
            Ok(PointResult::Run(figures.remove(0)))
        }
        Some(n) => {
            let rows = point.runner.run(0..n, done)?;
            let world = point.runner.world();
            let header = MonteCarloHeader {
                paths: n,
                paths_from: 0,
                seed: world.simulation.seed,
                horizon_seconds: world.simulation.steps * world.simulation.step_seconds,
                scenario: ScenarioId {
                    name: world.simulation.name.clone(),
                    hash: point.hash.clone(),
                },
            };
            Ok(PointResult::MonteCarlo(Box::new(MonteCarloSummary::of(
                header,
                point.runner.metrics().names(),
                &rows,
            ))))
        }
    }
}

/// Every point must report the same figures (a grid that renames an asset, a protocol or a
/// keeper, or adds one, would change the columns).
fn check_columns(points: &[Point]) -> Result<(), Failure> {
    let Some(first) = points.first() else {
        return Ok(());
    };
    for point in &points[1..] {
        if point.runner.metrics() != first.runner.metrics() {
            return Err(Failure::Usage(format!(
                "the grid point {} reports other figures than the first (it renames or adds an \
                 asset, a protocol or a keeper): stress those values in separate runs",
                point.values.join(", ")
            )));
        }
    }
    Ok(())
}

/// The grid's values and each point's bad debt and liquidated debt (their mean and VaR 99% for
/// a Monte Carlo).
fn print_table(stress: &Stress<'_>) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    writeln!(
        out,
        "cascade stress: {} — {} points{}",
        stress.name,
        stress.rows.len(),
        if stress.paths > 1 {
            format!(", {} paths each", stress.paths)
        } else {
            String::new()
        }
    )?;
    let position = |n: &str| stress.names.iter().position(|m| m == n);
    let (bad, liquidated) = (position("bad_debt_usd"), position("liquidated_debt_usd"));
    for row in stress.rows {
        let values: Vec<String> = stress
            .grid
            .iter()
            .zip(row.values)
            .map(|((k, _), v)| format!("{k}={v}"))
            .collect();
        let figures = match row.outcome {
            Outcome::Run(f) => {
                let get = |i: Option<usize>| i.and_then(|i| f.values[i]).unwrap_or(0.0);
                format!(
                    "bad debt {:.0} USD, liquidated {:.0} USD",
                    get(bad),
                    get(liquidated)
                )
            }
            Outcome::MonteCarlo(mc) => {
                let d = |n: &str| {
                    mc.metrics
                        .get(n)
                        .map_or((0.0, 0.0), |d| (d.mean, d.var["0.99"]))
                };
                let (b, bv) = d("bad_debt_usd");
                let (l, lv) = d("liquidated_debt_usd");
                format!(
                    "bad debt mean {b:.0} / VaR99 {bv:.0} USD, liquidated mean {l:.0} / VaR99 {lv:.0} USD"
                )
            }
        };
        writeln!(out, "  {}: {figures}", values.join(" "))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_every_combination_last_key_fastest() {
        let grid = vec![
            ("a".to_string(), vec!["1".to_string(), "2".to_string()]),
            (
                "b".to_string(),
                vec!["x".to_string(), "y".to_string(), "z".to_string()],
            ),
        ];
        let p = points(&grid);
        assert_eq!(p.len(), 6);
        assert_eq!(p[0], ["1", "x"]);
        assert_eq!(p[1], ["1", "y"]);
        assert_eq!(p[5], ["2", "z"]);
    }
}
