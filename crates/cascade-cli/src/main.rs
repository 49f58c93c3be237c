//! `cascade`: the command-line front end. The only crate that reads arguments, prints, writes
//! files and chooses exit codes: 0 success, 2 invalid input, 1 internal error.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use cascade_analytics::RunInfo;
use cascade_engine::World;
use cascade_report::{
    CompareContext, CompareError, EventsFormat, ManifestScenario, OutputFolder, PartialFile,
    Variants,
};
use cascade_scenario::{Scenario, ScenarioError, mechanism};
use clap::{Parser, Subcommand};

/// `println!` that returns an error (a closed pipe, a full disk) instead of panicking: a
/// closed pipe then ends the command quietly with exit 0, any other failure with exit 1.
macro_rules! say {
    ($($arg:tt)*) => {
        std::io::Write::write_fmt(&mut std::io::stdout().lock(), format_args!("{}\n", format_args!($($arg)*)))
            .context("cannot print")
    };
}

mod calibrate;
mod cover;
mod map;
mod montecarlo;
mod report;
mod schema;
mod stress;

/// The bundled default scenario: an ETH crash over a lending market with a liquidation wall and a
/// thin order book. Embedded so that `cascade run` works from any directory.
const DEFAULT_SCENARIO: &str = include_str!("../../../examples/eth-crash.toml");
const DEFAULT_NAME: &str = "examples/eth-crash.toml (bundled)";

/// What every command's help ends with.
const EXIT_CODES: &str = "Exit codes: 0 success; 2 invalid input (a scenario problem, named by file, \
line, field path and value; an argument out of range; an --out that cannot be a directory), \
before anything is written; 1 an internal error (a write that fails once the run is done).";

/// Examples in the help of each command (then the exit codes).
const RUN_HELP: &str = "Examples:
  cascade run                                        the bundled ETH crash
  cascade run examples/uniform-wall.toml --out out/wall
  cascade run examples/gbm-jump-stress.toml --path 163 --events parquet
  cascade run examples/lending-rules.toml --attribution --indicator
  cascade run examples/uniform-wall.toml --set shocks[0].drop=0.2

Exit codes: 0 success; 2 invalid input, before anything is written; 1 an internal error.";
const MONTECARLO_HELP: &str = "Examples:
  cascade montecarlo examples/gbm-jump-stress.toml --paths 10000
  cascade montecarlo SCENARIO --paths 5000 --paths-from 5000 --out shard-2   (then cascade merge)
  cascade montecarlo benches/mc-wall-100k.toml --paths 2000 --indicator 1 --throttle 1e6

Exit codes: 0 success; 2 invalid input, before anything is written; 1 an internal error.";
const STRESS_HELP: &str = "Examples:
  cascade stress examples/gbm-jump-stress.toml --grid protocols.aave-like.liquidation.bonus=0.05,0.1
  cascade stress SCENARIO --grid shocks[0].drop=0.1,0.2,0.3 --grid venues.spot.impact.usd_per_unit=0.001,0.002 --paths 500

Exit codes: 0 success; 2 invalid input, before anything is written; 1 an internal error.";
const CALIBRATE_HELP: &str = "Examples:
  cascade calibrate benches/mc-wall-100k.toml --parameter protocols.lender.collateral.ETH.liquidation_threshold \\
    --range 0.80:0.95:0.01 --risk 'var99(bad_debt_usd) <= 3e5'
  cascade calibrate SCENARIO --parameter venues.spot.half_life_seconds --range 60:600:60 \\
    --risk 'p(death_spiral) <= 0.01' --prefer low

Exit codes: 0 success; 2 invalid input, before anything is written; 1 an internal error.";
const COVER_HELP: &str = "Examples:
  cascade montecarlo examples/gbm-jump-stress.toml --paths 10000 --out mc
  cascade cover mc --attachment 1e6 --limit 1e7
  cascade cover mc --metric protocols.aave-like.bad_debt_usd --attachment 0 --limit 5e6 --wang-lambda 0.5

Exit codes: 0 success; 2 invalid input, before anything is written; 1 an internal error.";
const MAP_HELP: &str = "Examples:
  cascade map examples/eth-crash.toml
  cascade map examples/perp-short-squeeze.toml --buckets 200 --shocks 0.05,0.1,0.2

Exit codes: 0 success; 2 invalid input, before anything is written; 1 an internal error.";
const COMPARE_HELP: &str = "Examples:
  cascade compare examples/eth-crash.toml --mechanisms as_is,aave_v3.3,morpho_blue,dutch_auction
  cascade compare examples/black-thursday-2020.toml --mechanisms as_is,no_congestion,faster_oracle

Exit codes: 0 success; 2 invalid input, before anything is written; 1 an internal error.";
const MERGE_HELP: &str = "Examples:
  cascade merge shard-1 shard-2 shard-3 --out merged

Exit codes: 0 success; 2 shards of different runs, overlapping or with gaps; 1 an internal error.";
const REPORT_HELP: &str = "Examples:
  cascade report out/eth-crash                       writes out/eth-crash/report.html
  cascade report out/gbm-jump-stress-montecarlo --charts figures
  cascade run examples/eth-crash.toml --report        the same page, written by the run

Exit codes: 0 success; 2 a folder with no cascade outputs, or an output file that cannot be read \
(named, with the key or line); 1 an internal error.";
const VALIDATE_HELP: &str = "Examples:
  cascade validate my-scenario.toml

Exit codes: 0 valid (warnings on standard error); 2 every problem found, each with file, line, \
field path and value.";

/// The starter scenarios `cascade init` writes: name, what it is, the file (examples that read
/// no data file, so a copy runs anywhere).
const TEMPLATES: [(&str, &str, &str); 4] = [
    (
        "crash",
        "an ETH crash over an Aave-like market with a liquidation wall and a thin order book (the bundled default)",
        include_str!("../../../examples/eth-crash.toml"),
    ),
    (
        "wall",
        "a uniform liquidation wall under linear impact and a 5% shock: the closed-form case",
        include_str!("../../../examples/uniform-wall.toml"),
    ),
    (
        "perp",
        "a long liquidation cascade on a Binance-style perpetual-swap exchange",
        include_str!("../../../examples/perp-long-cascade.toml"),
    ),
    (
        "montecarlo",
        "the wall of 100,000 loans under a day of GBM prices, for cascade montecarlo",
        include_str!("../../../benches/mc-wall-100k.toml"),
    ),
];

/// Simulate and measure systemic liquidation risk: forced selling that feeds on its own price
/// impact.
#[derive(Parser, Debug)]
#[command(name = "cascade", version, about, long_about = None, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario (the bundled default when none is given), print a summary and write
    /// summary.json, timeline.csv and events.csv (or events.parquet, see --events).
    #[command(after_help = RUN_HELP)]
    Run {
        /// Scenario file (TOML). Omit to run the bundled ETH-crash scenario.
        scenario: Option<PathBuf>,
        /// Directory for the outputs (created if missing) [default: out/<scenario name>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Do not print the summary.
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        report: report::ReportArgs,
        /// The events file, written while the run goes: csv (events.csv), parquet
        /// (events.parquet, typed columns) or none. summary.json and timeline.csv are the same
        /// whatever the choice.
        #[arg(long, default_value_t = EventsFormat::Csv)]
        events: EventsFormat,
        /// Run path K of the scenario instead of its own path 0: the path a Monte Carlo
        /// numbered K (`cascade montecarlo`'s worst_paths), with its events and timeline.
        #[arg(long, value_name = "K", default_value_t = 0)]
        path: u64,
        /// Also attribute the price falls and the bad debt to the lending protocols and perp
        /// exchanges whose forced trades caused them: exact Shapley values over 2^n
        /// counterfactual runs of the path (at most 8 of them), in summary.json `attribution`
        /// and printed.
        #[arg(long)]
        attribution: bool,
        /// Also measure the leading indicator m(t): each asset's feedback gain at the end of
        /// every step, from the book as it stands and its venue's current depth, as the
        /// timeline's `m_<ASSET>` columns.
        #[arg(long)]
        indicator: bool,
        /// Override a value of the scenario: a field path as `cascade stress` takes it, then its
        /// value (`--set protocols.lender.liquidation.bonus=0.08`); repeat for more. The file is
        /// validated with the values written in.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// What the summary printed on standard output is: text for people, or json (summary.json
        /// itself) for scripts.
        #[arg(long, value_enum, default_value_t = PrintFormat::Text)]
        format: PrintFormat,
    },
    /// Run many paths of a scenario and report the distribution of its figures: VaR, expected
    /// shortfall and their standard errors of bad debt, liquidated debt and the rest, the
    /// probability of bad debt and of a death spiral, the worst paths. The book is drawn once;
    /// path K draws the scenario's stochastic drivers from the seed and K alone, so a path is
    /// the same in any batch, on any number of threads and in any shard. Writes
    /// montecarlo.json, paths.csv and paths.parquet.
    #[command(after_help = MONTECARLO_HELP)]
    Montecarlo {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Number of paths.
        #[arg(long, value_name = "N")]
        paths: u64,
        /// The first path's number (a shard of a larger run: `cascade merge` joins shards).
        #[arg(long, value_name = "K", default_value_t = 0)]
        paths_from: u64,
        /// Worker threads [default: one per core].
        #[arg(long, value_name = "T")]
        threads: Option<usize>,
        /// Directory for the outputs (created if missing) [default: out/<scenario name>-montecarlo].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print nothing, and no progress bar.
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        report: report::ReportArgs,
        /// Also measure how well the leading indicator m(t) forecasts the cascades, with an
        /// alarm when some asset's m reaches LEVEL before the path's first liquidation: hit
        /// rate, false alarms, lead time and AUC, in montecarlo.json `indicator`. Slower: m is
        /// measured after every step.
        #[arg(long, value_name = "LEVEL")]
        indicator: Option<f64>,
        /// With --indicator: run the same paths again under an adaptive policy — while some
        /// asset's m(t) is at or above LEVEL, every lending protocol liquidates at most USD of
        /// debt per step — and compare every figure with the static run, path by path, in
        /// montecarlo.json `adaptive`.
        #[arg(long, value_name = "USD")]
        throttle: Option<f64>,
        /// Override a value of the scenario (KEY=VALUE, as on `run`); repeat for more.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
    },
    /// Run a scenario over a grid of values of its fields — any value, by the field path
    /// validation messages print (`protocols.lender.liquidation.bonus`, `shocks[0].drop`,
    /// `venues.spot.impact.usd_per_unit`; sections by name or number) — every combination, in
    /// parallel, once each or as a Monte Carlo of N paths. Writes stress.csv and stress.json. Every
    /// point is validated before anything runs.
    #[command(after_help = STRESS_HELP)]
    Stress {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// A field and its values: KEY=V1,V2,… (repeat for more fields; the grid is every
        /// combination). Values are written as in the file (0.05, true, "last", or a bare word).
        #[arg(long = "grid", value_name = "KEY=V1,V2,…", required = true)]
        grid: Vec<String>,
        /// Run each point as a Monte Carlo of N paths [default: one run, path 0].
        #[arg(long, value_name = "N")]
        paths: Option<u64>,
        /// Worker threads [default: one per core].
        #[arg(long, value_name = "T")]
        threads: Option<usize>,
        /// Directory for the outputs (created if missing) [default: out/<scenario name>-stress].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Do not print the table.
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        report: report::ReportArgs,
    },
    /// Find the most capital-efficient value of one parameter whose risk stays in a budget: every
    /// value of the range is the scenario with that value written in, run over the same paths
    /// (common random numbers, so the frontier moves only with the parameter). Writes
    /// frontier.csv (each value's risk with its standard error, whether it is in budget, the book
    /// it gives) and calibration.json, and prints the frontier and the chosen value with its
    /// margin.
    #[command(after_help = CALIBRATE_HELP)]
    Calibrate {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// The parameter: a field path as `cascade stress --grid` takes it
        /// (`protocols.lender.collateral.ETH.liquidation_threshold`).
        #[arg(long, value_name = "KEY")]
        parameter: String,
        /// Its values: LO:HI:STEP, or LO:HI for ten steps.
        #[arg(long, value_name = "LO:HI[:STEP]")]
        range: String,
        /// The budget: STATISTIC(METRIC) <= BOUND, with STATISTIC mean, var95, var99, var999,
        /// es95, es99 or es999 and METRIC a column of paths.csv (`var99(bad_debt_usd) <= 1e6`),
        /// or p(bad_debt) / p(death_spiral) <= P.
        #[arg(long, value_name = "EXPRESSION")]
        risk: String,
        /// Paths per value.
        #[arg(long, value_name = "N", default_value_t = 1000)]
        paths: u64,
        /// Which end of the range is more capital-efficient [default: known for thresholds,
        /// LTVs and maximum leverage (high) and for bonuses, close factors, penalties and fees
        /// (low)].
        #[arg(long, value_name = "high|low")]
        prefer: Option<cascade_analytics::calibrate::Prefer>,
        /// Worker threads [default: one per core].
        #[arg(long, value_name = "T")]
        threads: Option<usize>,
        /// Directory for the outputs (created if missing) [default: out/<scenario name>-calibrate].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Do not print the frontier, and no progress bar.
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        report: report::ReportArgs,
    },
    /// Price a cover of bad debt (a protocol's "credit default swap") from the paths of a Monte
    /// Carlo already written: it pays the loss above an attachment up to a limit. Prints and
    /// writes (cover.json) the probability it pays, its expected loss, a Wang transform premium
    /// and a cost-of-capital premium over the horizon and per year, with standard errors.
    #[command(after_help = COVER_HELP)]
    Cover {
        /// The output directory of `cascade montecarlo` (or `cascade merge`): its
        /// montecarlo.json and paths.csv.
        montecarlo: PathBuf,
        /// The loss covered: a column of paths.csv (`protocols.lender.bad_debt_usd`).
        #[arg(long, value_name = "COLUMN", default_value = "bad_debt_usd")]
        metric: String,
        /// The cover pays the loss above this, USD.
        #[arg(long, value_name = "USD")]
        attachment: f64,
        /// The most it pays, USD.
        #[arg(long, value_name = "USD")]
        limit: f64,
        /// The Wang transform's λ: the premium is the payout's expectation under the survival
        /// function Φ(Φ⁻¹(S) + λ).
        #[arg(long, value_name = "λ", default_value_t = 0.25)]
        wang_lambda: f64,
        /// Annual cost of the capital held against the payout.
        #[arg(long, value_name = "RATE", default_value_t = 0.10)]
        cost_of_capital: f64,
        /// The capital is the payout's VaR at this level.
        #[arg(long, value_name = "Q", default_value_t = 0.99)]
        capital_level: f64,
        /// Bootstrap resamples for the premiums' standard errors.
        #[arg(long, value_name = "B", default_value_t = 1000)]
        resamples: u32,
        /// Directory for cover.json [default: the Monte Carlo's directory].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Do not print the price.
        #[arg(long)]
        quiet: bool,
    },
    /// Map where the walls are, from the initial book and venues: for every asset (a fall, and a
    /// rise where perp shorts sit above the price), the collateral, debt and units sold whose
    /// liquidation each price bucket triggers, per protocol and in total, and cumulative from the
    /// start price; the feedback gain m(p) over the whole range, its largest value and the
    /// death-spiral threshold (the first price with m ≥ 1); and the cascade curve, the price a
    /// cascade ends at after an instant shock, by the map and by a full run of the scenario
    /// shocked at step 1. Writes map.csv, map.json, positions.csv and positions.json.
    #[command(after_help = MAP_HELP)]
    Map {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Buckets per direction, each 1/N of the start price (a fall: from the start to 0; a
        /// rise: to twice the start).
        #[arg(long, value_name = "N", default_value_t = cascade_analytics::map::DEFAULT_BUCKETS)]
        buckets: usize,
        /// The instant shocks of the cascade curve, as fractions
        /// [default: 0.01,0.02,0.03,0.05,0.075,0.1,0.15,0.2,0.3,0.5].
        #[arg(long, value_name = "S1,S2,…", value_delimiter = ',')]
        shocks: Option<Vec<f64>>,
        /// Worker threads for the runs of the curve [default: one per core].
        #[arg(long, value_name = "T")]
        threads: Option<usize>,
        /// Directory for the outputs (created if missing) [default: out/<scenario name>-map].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Do not print the summary.
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        report: report::ReportArgs,
    },
    /// Merge the outputs of Monte Carlo shards of one scenario (`cascade montecarlo
    /// --paths-from K`) into the montecarlo.json, paths.csv and paths.parquet of one run of
    /// all their paths.
    #[command(after_help = MERGE_HELP)]
    Merge {
        /// The shards' output directories.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Directory for the merged outputs (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Do not print the summary.
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        report: report::ReportArgs,
    },
    /// Write report.html for an output folder already written by run, compare, montecarlo,
    /// merge, stress, map or calibrate: one self-contained page for a risk committee (the
    /// figures, charts and tables; no script, nothing fetched when it opens); with --charts,
    /// every chart also as an SVG file. The same page as the command's --report.
    #[command(after_help = REPORT_HELP)]
    Report {
        /// The output folder.
        dir: PathBuf,
        /// Also write every chart as an SVG file into DIR (created if missing).
        #[arg(long, value_name = "DIR")]
        charts: Option<PathBuf>,
    },
    /// Run one scenario under several liquidation mechanisms or counterfactuals — same seed,
    /// book, prices and keepers — and compare them: time to close, collateral sold, price
    /// impact, amplification, keeper profit, bad debt, insurance drawn, socialised loss. Writes
    /// compare.csv, compare.json and each run's summary.json and timeline.csv under
    /// <out>/<variant>/.
    #[command(after_help = COMPARE_HELP)]
    Compare {
        /// Scenario file (TOML).
        scenario: PathBuf,
        // The help lists every variant from the mechanism registry.
        #[arg(long, value_delimiter = ',', required = true, help = mechanism::variants_help())]
        mechanisms: Vec<String>,
        /// Asset whose prices and sales the table reports [default: the first asset with a venue].
        #[arg(long)]
        asset: Option<String>,
        /// Directory for the outputs (created if missing) [default: out/<scenario name>-compare].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Do not print the table.
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        report: report::ReportArgs,
    },
    /// List the named presets a `[[protocols]]` section can start from (`preset = "NAME"`):
    /// the essay's parameter table by protocol type and two perp venues' rules; then the
    /// liquidation mechanisms a lending protocol can name, with their keys and what a switch to
    /// each sets under `cascade compare`.
    Presets,
    /// Write a starter scenario to edit: `crash` (the bundled default), `wall`, `perp` or
    /// `montecarlo`; `--list` says what each is. Refuses to overwrite a file.
    #[command(after_help = "Examples:
  cascade init                       writes scenario.toml from the crash template
  cascade init perp --out my-perp.toml
  cascade init --list

Exit codes: 0 success; 2 an unknown template or a file already there.")]
    Init {
        /// The template [default: crash].
        template: Option<String>,
        /// The file to write.
        #[arg(long, default_value = "scenario.toml")]
        out: PathBuf,
        /// List the templates instead.
        #[arg(long)]
        list: bool,
    },
    /// Print the JSON Schema of the scenario file, for completion and checks in editors (Taplo,
    /// VS Code's Even Better TOML, Helix, Neovim: docs/scenario.md); the same as
    /// docs/scenario.schema.json.
    #[command(after_help = "Examples:
  cascade schema                                  prints it
  cascade schema --out scenario.schema.json       writes it (replacing the file)
  then, on a scenario's first line: #:schema ./scenario.schema.json

Exit codes: 0 success; 2 an --out that cannot be created, named; 1 a write that fails.")]
    Schema {
        /// Write it to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print a completion script for a shell, for example
    /// `cascade completions bash > ~/.local/share/bash-completion/completions/cascade` or
    /// `cascade completions zsh > "${fpath[1]}/_cascade"`.
    Completions {
        /// The shell: bash, elvish, fish, powershell or zsh.
        shell: clap_complete::Shell,
    },
    /// Check a scenario file without running it; lists every problem found.
    #[command(after_help = VALIDATE_HELP)]
    Validate {
        /// Scenario file (TOML).
        scenario: PathBuf,
    },
}

/// What `cascade run` prints on standard output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum PrintFormat {
    /// The summary for people.
    Text,
    /// summary.json, for scripts.
    Json,
}

/// Why the command failed, which decides the exit code.
enum Failure {
    Input(ScenarioError),
    /// A command-line value that is not valid (exit 2), with its message.
    Usage(String),
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self::Internal(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(e)) => {
            let count = e.problems.len();
            eprintln!(
                "error: invalid scenario ({count} problem{})",
                if count == 1 { "" } else { "s" }
            );
            eprintln!("{e}");
            ExitCode::from(2)
        }
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        // A reader that stops reading (`| head`) is not a failure of the command.
        Err(Failure::Internal(e)) if broken_pipe(&e) => ExitCode::SUCCESS,
        Err(Failure::Internal(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Loads and validates the scenario (the bundled default without a path), and prints its
/// validation warnings on standard error — whatever `--quiet` says, since they qualify every
/// figure of the run (summary.json keeps them too).
fn load(path: Option<&Path>) -> Result<Scenario, Failure> {
    load_with(path, &[])
}

/// [`load`] with `--set KEY=VALUE` edits written into the file's text first (the field paths
/// `cascade stress` takes), the rest of the file as written.
fn load_with(path: Option<&Path>, sets: &[String]) -> Result<Scenario, Failure> {
    let (name, base_dir, text) = match path {
        Some(path) => (
            path,
            cascade_scenario::base_dir(path),
            cascade_scenario::read(path).map_err(Failure::Input)?,
        ),
        None => (
            Path::new(DEFAULT_NAME),
            Path::new("."),
            DEFAULT_SCENARIO.to_string(),
        ),
    };
    let text = if sets.is_empty() {
        text
    } else {
        edited_text(&text, name, sets)?
    };
    let scenario = cascade_scenario::from_str(&text, name, base_dir).map_err(Failure::Input)?;
    for warning in &scenario.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(scenario)
}

/// The scenario text with each `KEY=VALUE` of `sets` written in, in order.
fn edited_text(text: &str, name: &Path, sets: &[String]) -> Result<String, Failure> {
    use cascade_scenario::edit::SetError;
    cascade_scenario::edit::with_sets(text, sets).map_err(|e| match e {
        SetError::Syntax(e) => Failure::Usage(format!("{}: {e}", name.display())),
        other => Failure::Usage(other.to_string()),
    })
}

/// A folder that holds an earlier compare's outputs (its compare.csv) with variants this run
/// would not rewrite is refused: their folders would sit beside this run's, looking current.
fn refuse_stale_variants(out: &Path, mechanisms: &[String]) -> Result<(), Failure> {
    let Ok(text) = fs::read_to_string(out.join("compare.csv")) else {
        return Ok(());
    };
    // Its first column: the variants' names (registry names, which need no quoting).
    let stale: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|line| line.split(',').next().map(str::to_string))
        .filter(|name| !mechanisms.contains(name) && out.join(name).is_dir())
        .collect();
    if stale.is_empty() {
        return Ok(());
    }
    Err(Failure::Usage(format!(
        "--out {}: holds an earlier compare's variants {} that this run would not rewrite; \
         remove them or choose another folder",
        out.display(),
        stale.join(", ")
    )))
}

/// `cascade init`: writes a template, never over an existing file.
fn init(template: Option<&str>, out: &Path, list: bool) -> Result<(), Failure> {
    if list {
        for (name, what, _) in TEMPLATES {
            say!("{name:<12} {what}")?;
        }
        return Ok(());
    }
    let name = template.unwrap_or("crash");
    let Some((_, _, text)) = TEMPLATES.iter().find(|(n, ..)| *n == name) else {
        let known: Vec<&str> = TEMPLATES.iter().map(|(n, ..)| *n).collect();
        return Err(Failure::Usage(format!(
            "init {name:?}: no such template; known: {}",
            known.join(", ")
        )));
    };
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .map_err(|e| {
            Failure::Usage(format!(
                "--out {}: cannot create the file: {e}",
                out.display()
            ))
        })?;
    let mut writer = BufWriter::new(file);
    writer
        .write_all(text.as_bytes())
        .and_then(|()| writer.flush())
        .with_context(|| format!("cannot write {}", out.display()))?;
    say!(
        "wrote {} (template {name}): check it with `cascade validate {}`, run it with `cascade run {}`",
        out.display(),
        out.display(),
        out.display()
    )?;
    Ok(())
}

/// Colour on a terminal, unless `NO_COLOR` is set to anything (no-color.org).
fn colour() -> cascade_report::Colour {
    use std::io::IsTerminal;
    let asked_not = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if io::stdout().is_terminal() && !asked_not {
        cascade_report::Colour::Always
    } else {
        cascade_report::Colour::Never
    }
}

/// Whether `e` comes from writing to a pipe whose reader has gone.
fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

impl Command {
    /// The report options of a command that writes an output folder.
    fn report_args(&self) -> Option<&report::ReportArgs> {
        match self {
            Command::Run { report, .. }
            | Command::Montecarlo { report, .. }
            | Command::Stress { report, .. }
            | Command::Calibrate { report, .. }
            | Command::Map { report, .. }
            | Command::Merge { report, .. }
            | Command::Compare { report, .. } => Some(report),
            Command::Cover { .. }
            | Command::Report { .. }
            | Command::Schema { .. }
            | Command::Presets
            | Command::Init { .. }
            | Command::Completions { .. }
            | Command::Validate { .. } => None,
        }
    }
}

fn execute(command: Command) -> Result<(), Failure> {
    if let Some(report) = command.report_args() {
        report.check()?;
    }
    match command {
        Command::Report { dir, charts } => report::command(&dir, charts.as_deref()),
        Command::Init {
            template,
            out,
            list,
        } => init(template.as_deref(), &out, list),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "cascade", &mut script);
            io::stdout()
                .lock()
                .write_all(&script)
                .context("cannot print")?;
            Ok(())
        }
        Command::Schema { out } => schema::run(out.as_deref()),
        Command::Presets => {
            write!(io::stdout().lock(), "{}", presets_text()).context("cannot print")?;
            Ok(())
        }
        Command::Validate { scenario: path } => {
            let scenario = load(Some(&path))?;
            let world = &scenario.world;
            let accounts: usize = world
                .initial
                .protocols
                .iter()
                .map(|p| p.accounts.len())
                .sum();
            say!(
                "ok: {} — {} assets, {} venues, {} oracles, {} protocols, {} accounts, {} keepers, {} steps of {} s",
                world.simulation.name,
                world.assets.len(),
                world.venues.len(),
                world.oracles.len(),
                world.protocols.len(),
                accounts,
                world.keepers.len(),
                world.simulation.steps,
                world.simulation.step_seconds
            )?;
            if !world.perps.is_empty() {
                let accounts: usize = world.initial.perps.iter().map(|p| p.accounts.len()).sum();
                let markets: usize = world.perps.iter().map(|p| p.markets.len()).sum();
                say!(
                    "    {} perp exchanges, {markets} markets, {accounts} margin accounts",
                    world.perps.len()
                )?;
            }
            Ok(())
        }
        Command::Montecarlo {
            scenario,
            paths,
            paths_from,
            threads,
            out,
            quiet,
            report,
            indicator,
            throttle,
            sets,
        } => montecarlo::run(&montecarlo::Request {
            scenario: &scenario,
            sets: &sets,
            paths,
            paths_from,
            threads,
            out,
            quiet,
            report: &report,
            indicator,
            throttle,
        }),
        Command::Stress {
            scenario,
            grid,
            paths,
            threads,
            out,
            quiet,
            report,
        } => stress::run(&stress::Request {
            scenario: &scenario,
            grid: &grid,
            paths,
            threads,
            out,
            quiet,
            report: &report,
        }),
        Command::Calibrate {
            scenario,
            parameter,
            range,
            risk,
            paths,
            prefer,
            threads,
            out,
            quiet,
            report,
        } => calibrate::run(&calibrate::Request {
            scenario: &scenario,
            parameter: &parameter,
            range: &range,
            risk: &risk,
            paths,
            prefer,
            threads,
            out,
            quiet,
            report: &report,
        }),
        Command::Map {
            scenario,
            buckets,
            shocks,
            threads,
            out,
            quiet,
            report,
        } => map::run(&map::Request {
            scenario: &scenario,
            buckets,
            shocks: shocks.as_deref(),
            threads,
            out,
            quiet,
            report: &report,
        }),
        Command::Cover {
            montecarlo,
            metric,
            attachment,
            limit,
            wang_lambda,
            cost_of_capital,
            capital_level,
            resamples,
            out,
            quiet,
        } => cover::run(cover::Request {
            montecarlo: &montecarlo,
            terms: cascade_analytics::cover::CoverTerms {
                metric,
                attachment,
                limit,
                wang_lambda,
                cost_of_capital,
                capital_level,
                resamples,
            },
            out,
            quiet,
        }),
        Command::Merge {
            shards,
            out,
            quiet,
            report,
        } => montecarlo::merge(&shards, &out, quiet, &report),
        Command::Compare {
            scenario,
            mechanisms,
            asset,
            out,
            quiet,
            report,
        } => compare(&scenario, &mechanisms, asset, out, quiet, &report),
        Command::Run {
            scenario: path,
            out,
            quiet,
            events,
            path: path_index,
            attribution,
            indicator,
            sets,
            format,
            report,
        } => {
            let scenario = load_with(path.as_deref(), &sets)?;
            let sources = cascade_analytics::attribution::sources(&scenario.world).len();
            if attribution && sources > cascade_analytics::attribution::MAX_SOURCES {
                return Err(Failure::Usage(format!(
                    "--attribution: {}",
                    cascade_analytics::attribution::TooManySources { sources }
                )));
            }
            beyond_path_limit(&scenario.world, path_index.saturating_add(1))
                .map_or(Ok(()), |limit| {
                    Err(Failure::Usage(format!("--path {path_index}: {limit}")))
                })?;
            let out = out.unwrap_or_else(|| default_out(&scenario.world, ""));
            let mut folder = output_folder(&out)?;
            let asked = RunAsked {
                format: events,
                path: path_index,
                attribution,
                indicator,
            };
            let id = ManifestScenario {
                name: scenario.world.simulation.name.clone(),
                hash: scenario.hash.clone(),
                seed: scenario.world.simulation.seed,
            };
            let summary = run(scenario, &mut folder, &asked)?;
            report.write(&mut folder)?;
            seal(folder, "run", id)?;
            if !quiet {
                let stdout = io::stdout();
                let mut lock = stdout.lock();
                match format {
                    PrintFormat::Text => {
                        cascade_report::write_text_in(&summary, &mut lock, colour())
                            .context("cannot print the summary")?;
                        writeln!(lock, "\noutputs: {}", out.display()).context("cannot print")?;
                    }
                    PrintFormat::Json => cascade_report::write_summary_json(&summary, &mut lock)
                        .context("cannot print the summary")?,
                }
            }
            Ok(())
        }
    }
}

/// When paths 0 … `end` − 1 are more than the world has (an asset's driver reads a path
/// ensemble with fewer paths), what bounds them: the asset, the file and its path count.
fn beyond_path_limit(world: &World, end: u64) -> Option<String> {
    let limit = world.path_limit().filter(|limit| end > limit.paths)?;
    Some(format!(
        "asset {} reads its paths from the ensemble {:?}, which has {} paths (0 to {})",
        world.assets[limit.asset.index()].symbol,
        limit.file,
        limit.paths,
        limit.paths - 1
    ))
}

/// `cascade run` into `out`: the engine sends every event at once to the summary and timeline
/// folds and to the events writer (which formats and writes on a thread of its own), so no
/// event is held in memory. An events file of another format left by an earlier run is removed.
/// What `cascade run` was asked beyond the scenario and the output directory.
struct RunAsked {
    format: EventsFormat,
    path: u64,
    attribution: bool,
    indicator: bool,
}

fn run(
    scenario: Scenario,
    folder: &mut OutputFolder,
    asked: &RunAsked,
) -> Result<cascade_analytics::Summary, Failure> {
    let format = asked.format;
    let (world, info) = split(scenario);
    let out = folder.dir().to_path_buf();
    let mut writer = format.create(&out, Arc::clone(&world)).with_context(|| {
        format!(
            "cannot create the {format} events file in {}",
            out.display()
        )
    })?;
    for other in EventsFormat::ALL.iter().filter(|f| **f != format) {
        if let Some(name) = other.file_name() {
            remove_stale(&out.join(name))?;
        }
    }
    let measured = cascade_report::RunAsked {
        path: asked.path,
        attribution: asked.attribution,
        indicator: asked.indicator,
    };
    let (summary, timeline) = cascade_report::run_path(&world, info, measured, &mut writer)
        .map_err(|e| match e {
            cascade_report::RunError::Attribution(e) => {
                Failure::Usage(format!("--attribution: {e}"))
            }
            other => Failure::Internal(other.into()),
        })?;
    let events = writer
        .finish()
        .with_context(|| format!("cannot write the {format} events file in {}", out.display()))?;
    if let Some(entry) = events {
        folder.add(entry);
    }
    write_summary_and_timeline(folder, "", &summary, &timeline)?;
    Ok(summary)
}

/// Removes a file an earlier run left, if there is one.
fn remove_stale(path: &Path) -> anyhow::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove the stale {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// `cascade compare`: the scenario under each variant (a mechanism, a counterfactual, or several
/// joined by `+`), in parallel, reported in the order asked. The variants are checked and run by
/// `cascade_report::Variants` (which the Python package calls too); this function checks the
/// output folder, shows progress, and writes and prints the results.
fn compare(
    path: &Path,
    mechanisms: &[String],
    asset: Option<String>,
    out: Option<PathBuf>,
    quiet: bool,
    report: &report::ReportArgs,
) -> Result<(), Failure> {
    cascade_report::check_variants(mechanisms).map_err(compare_failure)?;
    let text = cascade_scenario::read(path).map_err(Failure::Input)?;
    let ctx = CompareContext {
        name: path,
        base_dir: cascade_scenario::base_dir(path),
        text: &text,
        mechanisms,
        asset: asset.as_deref(),
    };
    let variants = Variants::plan(&ctx).map_err(compare_failure)?;
    let out = out.unwrap_or_else(|| default_out(variants.world(), "-compare"));
    // Checked now, made once every variant has run: a variant that is invalid writes nothing.
    check_output_dir(&out)?;
    refuse_stale_variants(&out, mechanisms)?;
    for warning in variants.inert_parts() {
        eprintln!("warning: --mechanisms {warning}");
    }
    let bar = montecarlo::progress_of(mechanisms.len() as u64, "variants", quiet);
    let ran = variants.run(&|| bar.inc(1));
    bar.finish_and_clear();
    // A variant under which the scenario is invalid fails the command before anything is
    // written.
    let ran = ran.map_err(compare_failure)?;
    let mut folder = output_folder(&out)?;
    for variant in &ran.variants {
        let prefix = format!("{}/", variant.name);
        write_summary_and_timeline(&mut folder, &prefix, &variant.summary, &variant.timeline)?;
    }
    for warning in ran.lone_bidder_warnings() {
        eprintln!("warning: {warning}");
    }
    let comparison = &ran.comparison;
    write_file(&mut folder, "compare.csv", |w| {
        cascade_report::write_compare_csv(comparison, w)
    })?;
    write_file(&mut folder, "compare.json", |w| {
        cascade_report::write_compare_json(comparison, w)
    })?;
    report.write(&mut folder)?;
    let id = ManifestScenario {
        name: comparison.scenario.clone(),
        hash: comparison.hash.clone(),
        seed: comparison.seed,
    };
    seal(folder, "compare", id)?;
    if !quiet {
        let stdout = io::stdout();
        let mut lock = stdout.lock();
        cascade_report::write_compare_text(comparison, &mut lock).context("cannot print")?;
        writeln!(lock, "\noutputs: {}", out.display()).context("cannot print")?;
    }
    Ok(())
}

/// The message and exit code of a compare that cannot be made, as the command line names it.
fn compare_failure(e: CompareError) -> Failure {
    match e {
        CompareError::Mechanism { name, reason } => {
            Failure::Usage(format!("--mechanisms = {name:?}: {reason}"))
        }
        CompareError::Twice(name) => {
            Failure::Usage(format!("--mechanisms = {name:?}: listed twice"))
        }
        CompareError::Scenario(e) => Failure::Input(e),
        CompareError::Asset { symbol, known } => Failure::Usage(format!(
            "--asset = {symbol:?}: not an asset of the scenario; known: [{}]",
            known.join(", ")
        )),
        CompareError::Variant { name, reason } => {
            Failure::Usage(format!("--mechanisms = {name:?}: {reason}"))
        }
        CompareError::Invalid { name, error } => Failure::Usage(format!(
            "under mechanism {name}, the scenario is invalid:\n{error}"
        )),
    }
}

/// A validated scenario's world, shared, and what the summary needs beyond the events.
fn split(scenario: Scenario) -> (Arc<World>, RunInfo) {
    let Scenario {
        world,
        hash,
        description,
        warnings,
    } = scenario;
    (
        Arc::new(world),
        RunInfo {
            hash,
            description,
            warnings,
            ..RunInfo::default()
        },
    )
}

/// Writes `summary.json` and `timeline.csv` into `folder`, their names after `prefix` (`` for
/// `run`, `VARIANT/` for each `compare` variant).
fn write_summary_and_timeline(
    folder: &mut OutputFolder,
    prefix: &str,
    summary: &cascade_analytics::Summary,
    timeline: &cascade_analytics::Timeline,
) -> anyhow::Result<()> {
    write_file(folder, &format!("{prefix}summary.json"), |w| {
        cascade_report::write_summary_json(summary, w)
    })?;
    write_file(folder, &format!("{prefix}timeline.csv"), |w| {
        cascade_report::write_timeline(timeline, w)
    })
}

/// The output folder of a command without `--out`: `out/<scenario name><suffix>`, the name
/// made safe as a folder name (see [`folder_name`]), so no name can write outside `out/`.
fn default_out(world: &World, suffix: &str) -> PathBuf {
    Path::new("out").join(format!("{}{suffix}", folder_name(&world.simulation.name)))
}

/// Writes the manifest of a folder reopened to add files, when it had one.
fn reseal(folder: OutputFolder) -> anyhow::Result<()> {
    let path = folder.dir().join(cascade_report::MANIFEST);
    folder
        .finish_reopened()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// A scenario name as one folder name: every character but letters, digits, `-`, `_` and `.`
/// becomes `_`, and a name that is empty or starts with `.` is prefixed with `_` (so `..`, `/`,
/// `C:` and an absolute path stay one folder inside `out/`).
fn folder_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() || safe.starts_with('.') {
        format!("_{safe}")
    } else {
        safe
    }
}

/// Runs `work` on a pool of `threads` worker threads, or on rayon's global pool (one per core)
/// when no count is given.
fn on_threads<T: Send>(
    threads: Option<usize>,
    work: impl FnOnce() -> T + Send,
) -> anyhow::Result<T> {
    Ok(match threads {
        Some(threads) => rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .context("cannot start the worker threads")?
            .install(work),
        None => work(),
    })
}

/// Makes the output folder `out` (with its parents) before anything runs, so that a path
/// which cannot be one fails at once, with exit 2 naming it, rather than after the simulation;
/// and clears what an earlier run left there (its manifest, then the files it listed), so a
/// rerun never leaves old files beside new ones looking current.
fn output_folder(out: &Path) -> Result<OutputFolder, Failure> {
    OutputFolder::prepare(out).map_err(|e| {
        Failure::Usage(format!(
            "--out {}: cannot create the output directory: {e}",
            out.display()
        ))
    })
}

/// Writes the file `name` of `folder` through `write`: under a temporary name, renamed into
/// place once complete.
fn write_file(
    folder: &mut OutputFolder,
    name: &str,
    write: impl FnOnce(&mut PartialFile) -> io::Result<()>,
) -> anyhow::Result<()> {
    folder
        .write(name, write)
        .with_context(|| format!("cannot write {}", folder.dir().join(name).display()))
}

/// Writes the folder's manifest, last: what wrote it, of which scenario, every file with its
/// size and hash.
fn seal(folder: OutputFolder, command: &str, scenario: ManifestScenario) -> anyhow::Result<()> {
    let path = folder.dir().join(cascade_report::MANIFEST);
    folder
        .finish(command, Some(scenario))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Whether `out` could be made a directory, without making it: the closest part of it that
/// exists must be a directory.
fn check_output_dir(out: &Path) -> Result<(), Failure> {
    check_dir("--out", out)
}

/// Whether `dir`, given as `flag`, could be made a directory, without making it.
fn check_dir(flag: &str, out: &Path) -> Result<(), Failure> {
    let existing = out
        .ancestors()
        .find(|p| p.as_os_str().is_empty() || p.exists());
    match existing {
        Some(p) if !p.as_os_str().is_empty() && !p.is_dir() => Err(Failure::Usage(format!(
            "{flag} {}: cannot create the output directory: {} is not a directory",
            out.display(),
            p.display()
        ))),
        _ => Ok(()),
    }
}

/// The `cascade presets` listing: each preset's name, kind, what it is and the values it sets.
fn presets_text() -> String {
    use cascade_scenario::preset::{PRESETS, PresetKind};
    let mut out = String::from(
        "Presets for [[protocols]] (preset = \"NAME\"); keys the section gives override them.\n",
    );
    for p in PRESETS {
        let (kind, values) = match p.kind {
            PresetKind::Lending(l) => (
                "lending",
                format!(
                    "ltv = {}, liquidation_threshold = {}, bonus = {}, close_factor = {}, {}",
                    l.ltv,
                    l.liquidation_threshold,
                    l.bonus,
                    l.close_factor,
                    l.epoch_seconds
                        .map_or("settled every step".to_string(), |e| format!(
                            "epoch_seconds = {e}"
                        ))
                ),
            ),
            PresetKind::Perp(x) => (
                "perp",
                format!(
                    "close_out = {}, liquidation_fee = {}, max_leverage = {}, maintenance = {}, mark = {}, funding every {} s (interest {}, clamp {}, cap {}){}",
                    x.close_out,
                    x.liquidation_fee,
                    x.max_leverage,
                    if x.maintenance.is_empty() {
                        format!(
                            "{} (half the initial margin at max leverage)",
                            0.5 / x.max_leverage
                        )
                    } else {
                        let brackets: Vec<String> = x
                            .maintenance
                            .iter()
                            .map(|(floor, rate)| format!("[{floor}, {rate}]"))
                            .collect();
                        format!("[{}]", brackets.join(", "))
                    },
                    x.mark,
                    x.funding_interval_seconds,
                    x.funding_interest,
                    x.funding_clamp,
                    x.funding_cap,
                    x.slicing
                        .map_or(String::new(), |(above, fraction, cooldown)| format!(
                            ", slices of {fraction} above {above} USD every {cooldown} s"
                        ))
                ),
            ),
        };
        out.push_str(&format!(
            "\n{} ({kind})\n  {}\n  {values}\n",
            p.name, p.summary
        ));
    }
    out.push_str(&mechanisms_text());
    out
}

/// The mechanism registry as `cascade presets` prints it: each mechanism's name, what it is,
/// its keys, what it takes per collateral asset, and its `cascade compare` variants with their
/// defaults.
fn mechanisms_text() -> String {
    use cascade_scenario::mechanism::{CollateralTerms, MECHANISMS};
    let mut out = String::from(
        "\nLiquidation mechanisms for a lending protocol (liquidation = { mechanism = \"NAME\", ... });\n`cascade compare --mechanisms VARIANT` switches every lending protocol to one.\n",
    );
    for m in MECHANISMS {
        let keys = if m.keys.is_empty() {
            "none".to_string()
        } else {
            m.keys.join(", ")
        };
        let collateral = match m.collateral {
            CollateralTerms::Bonus => "liquidation_bonus",
            CollateralTerms::LiquidationFactor => "liquidation_factor (required)",
            CollateralTerms::OwnRule => "nothing beyond ltv and liquidation_threshold",
        };
        out.push_str(&format!(
            "\n{}\n  {}\n  keys: {keys}; per collateral: {collateral}\n",
            m.name, m.summary
        ));
        for t in m.compare {
            out.push_str(&format!("  compare {}: {}\n", t.name, t.defaults));
        }
    }
    out
}
