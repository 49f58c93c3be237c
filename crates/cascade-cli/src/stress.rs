//! `cascade stress`: a scenario over a grid of values of its fields — every point the file with
//! those values written in, validated before anything runs, then run once (or as a Monte Carlo
//! of N paths) in parallel. The grid is built and run by `cascade_report::StressPoints` (which
//! the Python package calls too); this module parses the flags, shows progress, and writes and
//! prints the results.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use cascade_report::{GridError, ManifestScenario, Outcome, Stress, StressContext, StressPoints};

use super::montecarlo::progress;
use super::{Failure, default_out, load, on_threads, output_folder, seal, split, write_file};

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

/// The message of a grid that cannot be built, as the command line names it.
fn grid_failure(scenario: &Path, e: GridError, paths: u64) -> Failure {
    Failure::Usage(match e {
        GridError::Syntax(e) => format!("{}: {e}", scenario.display()),
        GridError::Set { key, value, reason } => format!("--grid {key}={value}: {reason}"),
        GridError::Invalid { point, error } => {
            format!("--grid point {point}: invalid scenario:\n{error}")
        }
        GridError::Columns(point) => format!(
            "the grid point {point} reports other figures than the first (it renames or adds an \
             asset, a protocol or a keeper): stress those values in separate runs"
        ),
        GridError::PathLimit {
            point,
            file,
            paths: has,
        } => format!(
            "--paths = {paths}: the grid point {point} reads its paths from the ensemble \
             {file:?}, which has {has} paths"
        ),
    })
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
    let paths = r.paths.unwrap_or(1);
    let (base_world, base_info) = split(base);
    let ctx = StressContext {
        name: r.scenario,
        base_dir: cascade_scenario::base_dir(r.scenario),
        text: &text,
        world: &base_world,
        hash: &base_info.hash,
        grid: &grid,
        paths: r.paths,
    };
    let built = StressPoints::build(&ctx).map_err(|e| grid_failure(r.scenario, e, paths))?;
    let out = r
        .out
        .clone()
        .unwrap_or_else(|| default_out(&base_world, "-stress"));
    let mut folder = output_folder(&out)?;
    let bar = progress(built.total_paths(), r.quiet);
    let done = || bar.inc(1);
    let ran = on_threads(r.threads, || built.run(&done))?
        .map_err(|e| Failure::Usage(format!("--paths = {paths}: {e}")))?;
    bar.finish_and_clear();
    let rows = ran.rows();
    let stress = ran.document(&rows);
    write_file(&mut folder, "stress.csv", |w| {
        cascade_report::write_stress_csv(&stress, w)
    })?;
    write_file(&mut folder, "stress.json", |w| {
        cascade_report::write_stress_json(&stress, w)
    })?;
    r.report.write(&mut folder)?;
    let id = ManifestScenario {
        name: ran.name.clone(),
        hash: ran.hash.clone(),
        seed: ran.seed,
    };
    seal(folder, "stress", id)?;
    if !r.quiet {
        print_table(&stress).context("cannot print")?;
        say!("\noutputs: {}", out.display())?;
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
