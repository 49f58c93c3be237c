//! `cascade calibrate`: the most capital-efficient value of one parameter whose risk stays in a
//! budget. Every value of the range is the scenario with that value written in (as `cascade
//! stress` writes a grid point), validated before anything runs, then run over the same paths
//! 0 … N − 1 — common random numbers, so the frontier is smooth in the parameter. The values
//! are built and run by `cascade_report::Candidates` (which the Python package calls too); this
//! module parses the flags, shows progress, and writes and prints the frontier.

use std::io;
use std::path::{Path, PathBuf};

use anyhow::Context;
use cascade_analytics::calibrate::{Prefer, RiskBudget};
use cascade_report::{CalibrateContext, CalibrateError, Candidates, ManifestScenario};

use super::montecarlo::progress;
use super::{Failure, default_out, load, on_threads, output_folder, seal, write_file};

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
    let failure = |e| failure(r, e);
    let (values, prefer) =
        cascade_report::question(r.parameter, r.range, r.prefer).map_err(failure)?;
    let base = load(Some(r.scenario))?;
    let text = cascade_scenario::read(r.scenario).map_err(Failure::Input)?;
    let ctx = CalibrateContext {
        name: r.scenario,
        base_dir: cascade_scenario::base_dir(r.scenario),
        text: &text,
        world: &base.world,
        hash: &base.hash,
        parameter: r.parameter,
        range: r.range,
        values: &values,
        prefer,
        budget: &budget,
        paths: r.paths,
    };
    let candidates = Candidates::build(&ctx).map_err(failure)?;
    let out = r
        .out
        .clone()
        .unwrap_or_else(|| default_out(&base.world, "-calibrate"));
    let mut folder = output_folder(&out)?;
    let bar = progress(candidates.total_paths(), r.quiet);
    let done = || bar.inc(1);
    let ran = on_threads(r.threads, || candidates.run(&done))?.map_err(failure)?;
    bar.finish_and_clear();
    let calibration = ran.document();
    write_file(&mut folder, "frontier.csv", |w| {
        cascade_report::write_frontier_csv(&calibration, w)
    })?;
    write_file(&mut folder, "calibration.json", |w| {
        cascade_report::write_calibration_json(&calibration, w)
    })?;
    r.report.write(&mut folder)?;
    let id = ManifestScenario {
        name: calibration.name.to_string(),
        hash: calibration.hash.to_string(),
        seed: calibration.seed,
    };
    seal(folder, "calibrate", id)?;
    if !r.quiet {
        let stdout = io::stdout();
        let mut lock = stdout.lock();
        cascade_report::write_calibration_text(&calibration, &mut lock).context("cannot print")?;
        say!("\noutputs: {}", out.display())?;
    }
    Ok(())
}

/// The message of a calibration that cannot be made, as the command line names it.
fn failure(r: &Request<'_>, e: CalibrateError) -> Failure {
    Failure::Usage(match e {
        CalibrateError::Range(e) => format!("--range {e}"),
        CalibrateError::Prefer(parameter) => format!(
            "--parameter {parameter}: which way is more capital-efficient is not known for this \
             key; say it with --prefer high or --prefer low"
        ),
        CalibrateError::Syntax(e) => format!("{}: {e}", r.scenario.display()),
        CalibrateError::Set { key, value, reason } => {
            format!("--parameter {key}={value}: {reason}")
        }
        CalibrateError::Invalid { value, error } => format!(
            "--parameter {} = {value}: invalid scenario:\n{error}",
            r.parameter
        ),
        CalibrateError::Metric {
            expression,
            metric,
            names,
        } => format!(
            "--risk {expression:?}: the scenario has no figure {metric:?}; its figures (the \
             columns of paths.csv) are {}",
            names.join(", ")
        ),
        CalibrateError::Columns { value, first } => format!(
            "--parameter {} = {value}: the scenario reports other figures than at {first} (the \
             edit renames or adds an asset, a protocol or a keeper)",
            r.parameter
        ),
        CalibrateError::PathLimit { file, paths } => format!(
            "--paths = {}: the scenario reads its paths from the ensemble {file:?}, which has \
             {paths} paths",
            r.paths
        ),
        CalibrateError::Paths(e) => format!("--paths = {}: {e}", r.paths),
        CalibrateError::Measure(e) => e,
    })
}
