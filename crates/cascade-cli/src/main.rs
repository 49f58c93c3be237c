//! `cascade`: the command-line front end. The only crate that reads arguments, prints, writes
//! files and chooses exit codes: 0 success, 2 invalid input, 1 internal error.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use cascade_analytics::{Comparison, RunInfo, comparison_row, summarize, timeline};
use cascade_engine::{Engine, Event, EventSink, World};
use cascade_scenario::{Scenario, ScenarioError, mechanism};
use clap::{Parser, Subcommand};
use rayon::prelude::*;

/// The bundled default scenario: an ETH crash over a lending market with a liquidation wall and a
/// thin order book. Embedded so that `cascade run` works from any directory.
const DEFAULT_SCENARIO: &str = include_str!("../../../examples/eth-crash.toml");
const DEFAULT_NAME: &str = "examples/eth-crash.toml (bundled)";

/// Simulate and measure systemic liquidation risk: forced selling that feeds on its own price
/// impact.
#[derive(Parser, Debug)]
#[command(name = "cascade", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario (the bundled default when none is given), print a summary and write
    /// summary.json, timeline.csv and events.csv (or events.parquet, see --events).
    Run {
        /// Scenario file (TOML). Omit to run the bundled ETH-crash scenario.
        scenario: Option<PathBuf>,
        /// Directory for the outputs (created if missing) [default: out/<scenario name>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Do not print the summary.
        #[arg(long)]
        quiet: bool,
        /// The events file: csv (events.csv), parquet (events.parquet, typed columns) or none.
        #[arg(long, default_value_t = cascade_report::EventsFormat::Csv)]
        events: cascade_report::EventsFormat,
    },
    /// Run one scenario under several liquidation mechanisms or counterfactuals — same seed,
    /// book, prices and keepers — and compare them: time to close, collateral sold, price
    /// impact, amplification, keeper profit, bad debt, insurance drawn, socialised loss. Writes
    /// compare.csv, compare.json and each run's summary.json and timeline.csv under
    /// <out>/<variant>/.
    Compare {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Comma-separated variants. Mechanisms: as_is, fixed_spread, aave_v3.2, aave_v3.3,
        /// compound_v2, morpho_blue, euler_v2, dutch_auction, english_auction, backstop,
        /// insurance_fund. Counterfactuals: no_congestion (no [chain]), faster_oracle (delayed
        /// oracles publish what they read), stability_pool (a Liquity v1 Stability Pool of 25%
        /// of each protocol's debt). Join several with + to apply them left to right, e.g.
        /// dutch_auction+no_congestion.
        #[arg(long, value_delimiter = ',', required = true)]
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
    },
    /// List the named presets a `[[protocols]]` section can start from (`preset = "NAME"`):
    /// the essay's parameter table by protocol type and two perp venues' rules.
    Presets,
    /// Check a scenario file without running it; lists every problem found.
    Validate {
        /// Scenario file (TOML).
        scenario: PathBuf,
    },
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
        Err(Failure::Internal(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn load(path: Option<&Path>) -> Result<Scenario, Failure> {
    match path {
        Some(path) => cascade_scenario::load(path).map_err(Failure::Input),
        None => {
            cascade_scenario::from_str(DEFAULT_SCENARIO, Path::new(DEFAULT_NAME), Path::new("."))
                .map_err(Failure::Input)
        }
    }
}

fn execute(command: Command) -> Result<(), Failure> {
    match command {
        Command::Presets => {
            print!("{}", presets_text());
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
            println!(
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
            );
            if !world.perps.is_empty() {
                let accounts: usize = world.initial.perps.iter().map(|p| p.accounts.len()).sum();
                let markets: usize = world.perps.iter().map(|p| p.markets.len()).sum();
                println!(
                    "    {} perp exchanges, {markets} markets, {accounts} margin accounts",
                    world.perps.len()
                );
            }
            for warning in &scenario.warnings {
                println!("warning: {warning}");
            }
            Ok(())
        }
        Command::Compare {
            scenario,
            mechanisms,
            asset,
            out,
            quiet,
        } => compare(&scenario, &mechanisms, asset, out, quiet),
        Command::Run {
            scenario: path,
            out,
            quiet,
            events: format,
        } => {
            let scenario = load(path.as_deref())?;
            let out = out.unwrap_or_else(|| Path::new("out").join(&scenario.world.simulation.name));
            let (world, info, events) = run_scenario(scenario);
            fs::create_dir_all(&out)
                .with_context(|| format!("cannot create the output directory {}", out.display()))?;
            // The events file is the large one; fold and write the rest meanwhile.
            let (events_written, summary) = rayon::join(
                || match format {
                    cascade_report::EventsFormat::Csv => write_file(&out.join("events.csv"), |w| {
                        cascade_report::write_events(&world, &events, w)
                    }),
                    _ => {
                        let mut sink = format
                            .create(&out, Arc::clone(&world))
                            .with_context(|| format!("cannot create the {format} events file"))?;
                        events.iter().for_each(|e| sink.record(e));
                        sink.finish()
                            .with_context(|| format!("cannot write the {format} events file"))
                    }
                },
                || -> anyhow::Result<_> {
                    let summary = summarize(&world, &info, &events);
                    write_summary_and_timeline(&out, &summary, &timeline(&world, &events))?;
                    Ok(summary)
                },
            );
            events_written?;
            let summary = summary?;
            if !quiet {
                let stdout = io::stdout();
                let mut lock = stdout.lock();
                cascade_report::write_text(&summary, &mut lock)
                    .context("cannot print the summary")?;
                writeln!(lock, "\noutputs: {}", out.display()).context("cannot print")?;
            }
            Ok(())
        }
    }
}

/// `cascade compare`: the scenario under each variant (a mechanism, a counterfactual, or several
/// joined by `+`), in parallel, reported in the order asked.
fn compare(
    path: &Path,
    mechanisms: &[String],
    asset: Option<String>,
    out: Option<PathBuf>,
    quiet: bool,
) -> Result<(), Failure> {
    let mut seen = std::collections::BTreeSet::new();
    for m in mechanisms {
        if let Err(e) = mechanism::parts(m) {
            return Err(Failure::Usage(format!("--mechanisms = {m:?}: {e}")));
        }
        if !seen.insert(m) {
            return Err(Failure::Usage(format!(
                "--mechanisms = {m:?}: listed twice"
            )));
        }
    }
    let text = cascade_scenario::read(path).map_err(Failure::Input)?;
    let base = cascade_scenario::base_dir(path);
    let parsed = cascade_scenario::parse(&text, path).map_err(Failure::Input)?;
    // Validate the scenario as written before running variants of it.
    let baseline =
        cascade_scenario::from_parsed(parsed.clone(), &text, path, base).map_err(Failure::Input)?;
    let world = &baseline.world;
    let start = mechanism::Baseline::of(world);
    let asset = match asset {
        Some(symbol) if world.asset(&symbol).is_some() => symbol,
        Some(symbol) => {
            let known: Vec<&str> = world.assets.iter().map(|a| a.symbol.as_str()).collect();
            return Err(Failure::Usage(format!(
                "--asset = {symbol:?}: not an asset of the scenario; known: [{}]",
                known.join(", ")
            )));
        }
        None => match world.assets.iter().find(|a| a.primary_venue.is_some()) {
            Some(a) => a.symbol.clone(),
            None => world.assets[0].symbol.clone(),
        },
    };
    let out =
        out.unwrap_or_else(|| Path::new("out").join(format!("{}-compare", world.simulation.name)));
    type Outcome = (
        String,
        cascade_analytics::Summary,
        cascade_analytics::Timeline,
    );
    let runs: Vec<Result<Outcome, Failure>> = mechanisms
        .par_iter()
        .map(|name| {
            let mut file = parsed.clone();
            mechanism::apply_variant(&mut file, name, &start)
                .map_err(|e| Failure::Usage(format!("--mechanisms = {name:?}: {e}")))?;
            let scenario = cascade_scenario::from_parsed(file, &text, path, base).map_err(|e| {
                Failure::Usage(format!(
                    "under mechanism {name}, the scenario is invalid:\n{e}"
                ))
            })?;
            let (world, info, events) = run_scenario(scenario);
            Ok((
                name.clone(),
                summarize(&world, &info, &events),
                timeline(&world, &events),
            ))
        })
        .collect();
    // A variant under which the scenario is invalid fails the command before anything is
    // written.
    let runs = runs
        .into_iter()
        .collect::<Result<Vec<Outcome>, Failure>>()?;
    let mut rows = Vec::new();
    for (name, summary, table) in runs {
        let dir = out.join(&name);
        fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the output directory {}", dir.display()))?;
        write_summary_and_timeline(&dir, &summary, &table)?;
        rows.push(comparison_row(&name, &summary, &asset));
    }
    let comparison = Comparison {
        scenario: world.simulation.name.clone(),
        seed: world.simulation.seed,
        hash: baseline.hash.clone(),
        asset,
        rows,
    };
    write_file(&out.join("compare.csv"), |w| {
        cascade_report::write_compare_csv(&comparison, w)
    })?;
    write_file(&out.join("compare.json"), |w| {
        cascade_report::write_compare_json(&comparison, w)
    })?;
    if !quiet {
        let stdout = io::stdout();
        let mut lock = stdout.lock();
        cascade_report::write_compare_text(&comparison, &mut lock).context("cannot print")?;
        writeln!(lock, "\noutputs: {}", out.display()).context("cannot print")?;
    }
    Ok(())
}

/// Runs a validated scenario on path 0: its world, what the summary needs beyond the events,
/// and the events.
fn run_scenario(scenario: Scenario) -> (Arc<World>, RunInfo, Vec<Event>) {
    let Scenario {
        world,
        hash,
        description,
        warnings,
    } = scenario;
    let world = Arc::new(world);
    let events = Engine::new(Arc::clone(&world), 0).run();
    (
        world,
        RunInfo {
            hash,
            description,
            warnings,
        },
        events,
    )
}

/// Writes `summary.json` and `timeline.csv` into `dir`, as `run` and each `compare` variant do.
fn write_summary_and_timeline(
    dir: &Path,
    summary: &cascade_analytics::Summary,
    timeline: &cascade_analytics::Timeline,
) -> anyhow::Result<()> {
    write_file(&dir.join("summary.json"), |w| {
        cascade_report::write_summary_json(summary, w)
    })?;
    write_file(&dir.join("timeline.csv"), |w| {
        cascade_report::write_timeline(timeline, w)
    })
}

fn write_file(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<fs::File>) -> io::Result<()>,
) -> anyhow::Result<()> {
    let file =
        fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    write(&mut writer).with_context(|| format!("cannot write {}", path.display()))?;
    writer
        .flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
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
    out
}
