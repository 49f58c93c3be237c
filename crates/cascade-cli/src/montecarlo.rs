//! `cascade montecarlo` (many paths of one scenario, their distribution) and `cascade merge`
//! (shards of one Monte Carlo joined into the outputs of one run of all their paths).

use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use cascade_analytics::indicator::{Forecast, PathSignal, PolicyComparison, Throttle};
use cascade_analytics::montecarlo::{
    self, BeyondPaths, MergeError, MonteCarloHeader, MonteCarloSummary, PathFigures, Runner,
    ScenarioId, Shard,
};
use cascade_report::{ManifestScenario, OutputFolder, Verified};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{
    Failure, beyond_path_limit, default_out, load_with, on_threads, output_folder, seal, split,
    write_file,
};

/// What `cascade montecarlo` was asked.
pub(crate) struct Request<'a> {
    pub(crate) scenario: &'a Path,
    /// `--set KEY=VALUE` overrides.
    pub(crate) sets: &'a [String],
    pub(crate) paths: u64,
    pub(crate) paths_from: u64,
    pub(crate) threads: Option<usize>,
    pub(crate) out: Option<PathBuf>,
    pub(crate) quiet: bool,
    /// `--report`, `--charts`.
    pub(crate) report: &'a super::report::ReportArgs,
    /// Measure the leading indicator with an alarm at this level.
    pub(crate) indicator: Option<f64>,
    /// Also run the paths with liquidations throttled to this (USD per step and protocol)
    /// while the indicator is at or above its level.
    pub(crate) throttle: Option<f64>,
}

/// Runs the paths, then writes and prints their distribution.
pub(crate) fn run(r: &Request<'_>) -> Result<(), Failure> {
    if r.paths == 0 {
        return Err(Failure::Usage("--paths = 0: at least one path".into()));
    }
    let Some(end) = r.paths_from.checked_add(r.paths) else {
        return Err(Failure::Usage(format!(
            "--paths-from = {} with --paths = {}: the last path's number overflows",
            r.paths_from, r.paths
        )));
    };
    if r.threads == Some(0) {
        return Err(Failure::Usage("--threads = 0: at least one thread".into()));
    }
    if let Some(level) = r.indicator.filter(|l| !(l.is_finite() && *l >= 0.0)) {
        return Err(Failure::Usage(format!(
            "--indicator = {level}: expected a level of m ≥ 0"
        )));
    }
    let policy = match (r.indicator, r.throttle) {
        (_, None) => None,
        (None, Some(_)) => {
            return Err(Failure::Usage(
                "--throttle needs --indicator LEVEL: the throttle is on while m(t) is at or \
                 above the level"
                    .into(),
            ));
        }
        (Some(level), Some(usd)) if usd.is_finite() && usd >= 0.0 => Some(Throttle {
            level,
            throttle_usd_per_step: usd,
        }),
        (Some(_), Some(usd)) => {
            return Err(Failure::Usage(format!(
                "--throttle = {usd}: expected USD per step ≥ 0"
            )));
        }
    };
    let scenario = load_with(Some(r.scenario), r.sets)?;
    if let Some(limit) = beyond_path_limit(&scenario.world, end) {
        return Err(Failure::Usage(format!(
            "--paths-from = {} with --paths = {} runs paths {} to {}, but {limit}",
            r.paths_from,
            r.paths,
            r.paths_from,
            end - 1
        )));
    }
    let name = scenario.world.simulation.name.clone();
    let out = r
        .out
        .clone()
        .unwrap_or_else(|| default_out(&scenario.world, "-montecarlo"));
    let folder = output_folder(&out)?;
    let (world, info) = split(scenario);
    let header = MonteCarloHeader {
        paths: r.paths,
        paths_from: r.paths_from,
        seed: world.simulation.seed,
        horizon_seconds: world.simulation.steps * world.simulation.step_seconds,
        scenario: ScenarioId {
            name,
            hash: info.hash.clone(),
        },
    };
    if !varies_by_path(&world) {
        eprintln!(
            "warning: {}: no asset has a price driver that varies by path (gbm, jump_diffusion, \
             garch, bootstrap, ensemble) and no owners act, so every path is the same",
            r.scenario.display()
        );
    }
    let runner = Runner::new(world, info);
    let bar = progress(r.paths * if policy.is_some() { 2 } else { 1 }, r.quiet);
    let done = || bar.inc(1);
    let beyond = |e: BeyondPaths| Failure::Usage(format!("{}: {e}", r.scenario.display()));
    let (rows, forecast) = match r.indicator {
        None => (
            on_threads(r.threads, || runner.run(r.paths_from..end, &done))?.map_err(beyond)?,
            None,
        ),
        Some(level) => {
            let watched = on_threads(r.threads, || {
                runner.run_with_indicator(r.paths_from..end, level, &done)
            })?
            .map_err(beyond)?;
            let signals: Vec<PathSignal> = watched.iter().map(|(_, s)| *s).collect();
            let rows = watched.into_iter().map(|(f, _)| f).collect();
            (rows, Some(Forecast::of(level, &signals)))
        }
    };
    let adaptive = match policy {
        Some(policy) => {
            let throttled = on_threads(r.threads, || {
                runner.run_adaptive(r.paths_from..end, policy, &done)
            })?
            .map_err(beyond)?;
            Some(PolicyComparison::of(
                policy,
                runner.metrics().names(),
                &rows,
                &throttled,
            ))
        }
        None => None,
    };
    bar.finish_and_clear();
    let outputs = Outputs {
        header,
        names: runner.metrics().names(),
        rows: &rows,
        forecast,
        adaptive,
    };
    write_outputs(folder, "montecarlo", outputs, r.quiet, r.report)
}

/// What a Monte Carlo writes: its paths' identity, figures and, when measured, the indicator's
/// forecast.
struct Outputs<'a> {
    header: MonteCarloHeader,
    names: &'a [String],
    rows: &'a [PathFigures],
    forecast: Option<Forecast>,
    adaptive: Option<PolicyComparison>,
}

/// Whether two paths of `world` can differ: a price driver that draws per path, or owners who
/// draw whether and when to act.
fn varies_by_path(world: &cascade_engine::World) -> bool {
    world
        .initial
        .fundamentals
        .iter()
        .any(|f| f.driver().varies_by_path())
        || world.protocols.iter().any(|p| !p.borrowers.is_empty())
}

/// A progress bar with the paths done and the time left, on standard error when it is a
/// terminal and the command is not quiet; hidden otherwise.
pub(crate) fn progress(paths: u64, quiet: bool) -> ProgressBar {
    progress_of(paths, "paths", quiet)
}

/// [`progress`] over `len` pieces of work named `what` (`paths`, `runs`, `variants`).
pub(crate) fn progress_of(len: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let template = format!("{{bar:40}} {{pos}}/{{len}} {what}, {{per_sec}}, {{eta}} left");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

/// Writes montecarlo.json, paths.csv and paths.parquet into `folder`, then its report and
/// manifest, and prints the summary.
fn write_outputs(
    mut folder: OutputFolder,
    command: &str,
    outputs: Outputs<'_>,
    quiet: bool,
    report: &super::report::ReportArgs,
) -> Result<(), Failure> {
    let Outputs {
        header,
        names,
        rows,
        forecast,
        adaptive,
    } = outputs;
    let mut summary = MonteCarloSummary::of(header, names, rows);
    summary.indicator = forecast;
    summary.adaptive = adaptive;
    write_file(&mut folder, "montecarlo.json", |w| {
        cascade_report::write_montecarlo_json(&summary, w)
    })?;
    write_file(&mut folder, "paths.csv", |w| {
        cascade_report::write_paths_csv(names, rows, w)
    })?;
    write_file(&mut folder, "paths.parquet", |w| {
        cascade_report::write_paths_parquet(names, rows, w).map(|_| ())
    })?;
    report.write(&mut folder)?;
    let out = folder.dir().to_path_buf();
    let id = ManifestScenario {
        name: summary.header.scenario.name.clone(),
        hash: summary.header.scenario.hash.clone(),
        seed: summary.header.seed,
    };
    seal(folder, command, id)?;
    if !quiet {
        let stdout = io::stdout();
        let mut lock = stdout.lock();
        cascade_report::write_montecarlo_text(&summary, &mut lock).context("cannot print")?;
        writeln!(lock, "\noutputs: {}", out.display()).context("cannot print")?;
    }
    Ok(())
}

/// The outputs of a Monte Carlo (or of one shard of it), read back: refused when its files are
/// not those its manifest lists; a folder without a manifest (a run that did not finish) is
/// read with a warning.
pub(crate) fn read_shard(dir: &Path) -> Result<Shard, Failure> {
    match cascade_report::verify(dir).map_err(Failure::Usage)? {
        Verified::Complete(_) => {}
        Verified::NoManifest => eprintln!(
            "warning: {}: no {}, so nothing says the Monte Carlo that wrote it finished",
            dir.display(),
            cascade_report::MANIFEST
        ),
    }
    let json = dir.join("montecarlo.json");
    let file = fs::File::open(&json)
        .map_err(|e| Failure::Usage(format!("{}: cannot open: {e}", json.display())))?;
    let header = cascade_report::read_montecarlo_header(io::BufReader::new(file))
        .map_err(|e| Failure::Usage(format!("{}: {e}", json.display())))?;
    let csv = dir.join("paths.csv");
    let file = fs::File::open(&csv)
        .map_err(|e| Failure::Usage(format!("{}: cannot open: {e}", csv.display())))?;
    let (names, rows) = cascade_report::read_paths_csv(io::BufReader::new(file))
        .map_err(|e| Failure::Usage(format!("{}: {e}", csv.display())))?;
    if header.paths == 0 {
        return Err(Failure::Usage(format!(
            "{}: paths = 0: a shard has at least one path",
            json.display()
        )));
    }
    if rows.len() as u64 != header.paths {
        return Err(Failure::Usage(format!(
            "{}: {} rows where montecarlo.json says paths = {}",
            csv.display(),
            rows.len(),
            header.paths
        )));
    }
    Ok(Shard {
        header,
        names,
        rows,
    })
}

/// Joins shards of one scenario's Monte Carlo ([`montecarlo::merge`]), naming the shards'
/// folders in its errors.
pub(crate) fn merge(
    dirs: &[PathBuf],
    out: &Path,
    quiet: bool,
    report: &super::report::ReportArgs,
) -> Result<(), Failure> {
    let mut shards = Vec::with_capacity(dirs.len());
    for dir in dirs {
        shards.push(read_shard(dir)?);
    }
    let merged = montecarlo::merge(shards).map_err(|e| match e {
        MergeError::Differs {
            shard,
            what,
            first,
            this,
        } => Failure::Usage(format!(
            "{}: {what} = {this}, but {} has {what} = {first}: shards of different runs",
            dirs[shard].display(),
            dirs[0].display()
        )),
        other => Failure::Usage(other.to_string()),
    })?;
    let folder = output_folder(out)?;
    let outputs = Outputs {
        header: merged.header,
        names: &merged.names,
        rows: &merged.rows,
        forecast: None,
        adaptive: None,
    };
    write_outputs(folder, "merge", outputs, quiet, report)
}
