//! `cascade calibrate`: the most capital-efficient value of one parameter whose risk stays in a
//! budget. Every value of the range is the scenario with that value written in (as `cascade
//! stress` writes a grid point), validated before anything runs, then run over the same paths
//! 0 … N − 1 — common random numbers, so the frontier is smooth in the parameter. Writes
//! frontier.csv and calibration.json and prints the frontier.

use std::io;
use std::path::{Path, PathBuf};

use anyhow::Context;
use cascade_analytics::calibrate::{FrontierPoint, Prefer, RiskBudget, choose, range_values};
use cascade_analytics::montecarlo::{MonteCarloHeader, MonteCarloSummary, Runner, ScenarioId};
use cascade_report::Calibration;
use cascade_scenario::edit::ScenarioText;
use cascade_scenario::generate::BookCache;
use rayon::prelude::*;

use super::montecarlo::progress;
use super::stress::{Flag, edited};
use super::{Failure, load, on_threads, output_dir, write_file};

/// The most values a range may have.
const MAX_VALUES: usize = 1_000;

/// What `cascade calibrate` was asked.
pub(crate) struct Request<'a> {
    pub(crate) scenario: &'a Path,
    pub(crate) parameter: &'a str,
    pub(crate) range: &'a str,
    pub(crate) risk: &'a str,
    pub(crate) paths: u64,
    pub(crate) prefer: Option<Prefer>,
    pub(crate) threads: Option<usize>,
    pub(crate) out: Option<PathBuf>,
    pub(crate) quiet: bool,
    /// `--report`, `--charts`.
    pub(crate) report: &'a super::report::ReportArgs,
}

/// One value of the range, built and validated.
struct Candidate {
    value: String,
    runner: Runner,
    hash: String,
}

/// Checks the arguments, builds every value's scenario, runs them and writes the outputs.
pub(crate) fn run(r: &Request<'_>) -> Result<(), Failure> {
    if r.paths == 0 {
        return Err(Failure::Usage("--paths = 0: at least one path".into()));
    }
    if r.threads == Some(0) {
        return Err(Failure::Usage("--threads = 0: at least one thread".into()));
    }
    let budget: RiskBudget = r
        .risk
        .parse()
        .map_err(|e| Failure::Usage(format!("--risk {e}")))?;
    let values =
        range_values(r.range, MAX_VALUES).map_err(|e| Failure::Usage(format!("--range {e}")))?;
    let prefer = r
        .prefer
        .or_else(|| Prefer::for_key(r.parameter))
        .ok_or_else(|| {
            Failure::Usage(format!(
                "--parameter {}: which way is more capital-efficient is not known for this key; \
                 say it with --prefer high or --prefer low",
                r.parameter
            ))
        })?;
    let base = load(Some(r.scenario))?;
    let text = cascade_scenario::read(r.scenario).map_err(Failure::Input)?;
    let text = ScenarioText::parse(&text)
        .map_err(|e| Failure::Usage(format!("{}: {e}", r.scenario.display())))?;
    let candidates = build_all(r, &text, values)?;
    check(r, &budget, &candidates)?;
    let name = base.world.simulation.name.clone();
    let out = r
        .out
        .clone()
        .unwrap_or_else(|| Path::new("out").join(format!("{name}-calibrate")));
    output_dir(&out)?;
    let bar = progress(r.paths * candidates.len() as u64, r.quiet);
    let done = || bar.inc(1);
    let frontier = on_threads(r.threads, || {
        candidates
            .iter()
            .map(|c| point(c, r.paths, &budget, &done))
            .collect::<Result<Vec<_>, _>>()
    })??;
    bar.finish_and_clear();
    let world = &base.world;
    let calibration = Calibration {
        name: &name,
        hash: &base.hash,
        seed: world.simulation.seed,
        horizon_seconds: world.simulation.steps * world.simulation.step_seconds,
        paths: r.paths,
        parameter: r.parameter,
        range: r.range,
        prefer,
        budget: &budget,
        chosen: choose(&frontier, prefer),
        frontier: &frontier,
    };
    write_file(&out.join("frontier.csv"), |w| {
        cascade_report::write_frontier_csv(&calibration, w)
    })?;
    write_file(&out.join("calibration.json"), |w| {
        cascade_report::write_calibration_json(&calibration, w)
    })?;
    r.report.write(&out)?;
    if !r.quiet {
        let stdout = io::stdout();
        let mut lock = stdout.lock();
        cascade_report::write_calibration_text(&calibration, &mut lock).context("cannot print")?;
        println!("\noutputs: {}", out.display());
    }
    Ok(())
}

/// Every value's scenario, in range order: the first draws the books, the others reuse the ones
/// they leave as they are.
fn build_all(
    r: &Request<'_>,
    text: &ScenarioText,
    values: Vec<String>,
) -> Result<Vec<Candidate>, Failure> {
    let books = BookCache::new();
    let build = |value: String| -> Result<Candidate, Failure> {
        let point = format!("--parameter {} = {value}", r.parameter);
        let (runner, hash) = edited(
            r.scenario,
            text,
            &[(r.parameter, &value)],
            &books,
            &Flag {
                name: "--parameter",
                point: &point,
            },
        )?;
        Ok(Candidate {
            value,
            runner,
            hash,
        })
    };
    let mut values = values.into_iter();
    let first = values.next().map(build).transpose()?;
    let rest: Vec<Candidate> = values
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(build)
        .collect::<Result<_, _>>()?;
    Ok(first.into_iter().chain(rest).collect())
}

/// Before anything runs: every value reports the same figures, the budget's metric is one of
/// them, and the paths exist.
fn check(r: &Request<'_>, budget: &RiskBudget, candidates: &[Candidate]) -> Result<(), Failure> {
    let Some(first) = candidates.first() else {
        return Ok(());
    };
    let names = first.runner.metrics().names();
    let missing = budget.metric().filter(|m| !names.iter().any(|n| n == m));
    if let Some(metric) = missing {
        return Err(Failure::Usage(format!(
            "--risk {:?}: the scenario has no figure {metric:?}; its figures (the columns of \
             paths.csv) are {}",
            budget.expression,
            names.join(", ")
        )));
    }
    for c in candidates {
        if c.runner.metrics() != first.runner.metrics() {
            return Err(Failure::Usage(format!(
                "--parameter {} = {}: the scenario reports other figures than at {} (the edit \
                 renames or adds an asset, a protocol or a keeper)",
                r.parameter, c.value, first.value
            )));
        }
        if let Some(limit) = c.runner.world().path_limit().filter(|l| r.paths > l.paths) {
            return Err(Failure::Usage(format!(
                "--paths = {}: the scenario reads its paths from the ensemble {:?}, which has {} \
                 paths",
                r.paths, limit.file, limit.paths
            )));
        }
    }
    Ok(())
}

/// Runs one value over paths 0 … `paths` − 1 and measures its risk.
fn point(
    c: &Candidate,
    paths: u64,
    budget: &RiskBudget,
    done: &(dyn Fn() + Sync),
) -> Result<FrontierPoint, Failure> {
    let rows = c
        .runner
        .run(0..paths, done)
        .map_err(|e| Failure::Usage(format!("--paths = {paths}: {e}")))?;
    let world = c.runner.world();
    let header = MonteCarloHeader {
        paths,
        paths_from: 0,
        seed: world.simulation.seed,
        horizon_seconds: world.simulation.steps * world.simulation.step_seconds,
        scenario: ScenarioId {
            name: world.simulation.name.clone(),
            hash: c.hash.clone(),
        },
    };
    let mc = MonteCarloSummary::of(header, c.runner.metrics().names(), &rows);
    FrontierPoint::new(c.value.clone(), budget, &mc, world).map_err(Failure::Usage)
}
