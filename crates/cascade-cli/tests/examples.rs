//! The shipped scenarios: every `examples/*.toml` validates and runs, one of them through the CLI
//! with the outputs documented in docs/outputs.md, the bundled default from any working
//! directory, and the replay examples' fundamentals follow their data files.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{self, cascade, repo, run_cli};

/// The example files this module expects to find (others are run too).
const EXPECTED: [&str; 8] = [
    "eth-crash.toml",
    "uniform-wall.toml",
    "black-thursday-replay.toml",
    "black-thursday-10min.toml",
    "gbm-jump-stress.toml",
    "amm-venue.toml",
    "order-book-file.toml",
    "may-2021-replay.toml",
];

/// The columns of events.csv, in order (docs/outputs.md).
const EVENT_COLUMNS: &str = "seq,step,time_seconds,round,kind,protocol,account,keeper,venue,oracle,asset,units,price,usd,debt_asset,debt_units,health_factor,to_keeper,protocol_fee,filled,price_after,liquidatable_since,closes,detail";

/// The per-step flow columns that end a timeline.csv row for assets ETH and USDC
/// (docs/outputs.md).
const TIMELINE_FLOWS: &str = "liquidations,debt_repaid_usd,sold_ETH,sold_USDC,sale_proceeds_usd,bad_debt_realised_usd,missed,rounds,bad_debt_realised_cumulative_usd";

fn example(name: &str) -> PathBuf {
    repo().join("examples").join(name)
}

/// Every `examples/*.toml`, sorted by name.
fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(repo().join("examples"))
        .expect("examples/ is readable")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> cascade_scenario::Scenario {
    cascade_scenario::load(path)
        .unwrap_or_else(|e| panic!("{} does not validate:\n{e}", path.display()))
}

/// The fundamental price of `symbol` at the end of each step, from the run's timeline.
fn fundamental_by_step(run: &common::Run, symbol: &str) -> Vec<f64> {
    let timeline = cascade_analytics::timeline(&run.world, &run.events);
    let column = format!("fundamental_{symbol}");
    let c = timeline
        .columns
        .iter()
        .position(|name| *name == column)
        .unwrap_or_else(|| panic!("no column {column}"));
    timeline.rows.iter().map(|row| row[c]).collect()
}

fn close(a: f64, b: f64, relative: f64) -> bool {
    (a - b).abs() <= relative * b.abs()
}

#[test]
fn every_example_validates_and_runs_through_the_library() {
    let files = examples();
    for name in EXPECTED {
        assert!(
            files
                .iter()
                .any(|f| f.file_name().is_some_and(|n| n == name)),
            "examples/{name} is missing"
        );
    }
    for path in &files {
        let text = fs::read_to_string(path).expect("example readable");
        assert!(
            text.starts_with("# "),
            "{} should open with a comment saying what it shows",
            path.display()
        );
        let run = common::run(load(path));
        let steps = run.world.simulation.steps;
        let ended = run
            .events
            .iter()
            .filter(|e| matches!(e.kind, cascade_engine::EventKind::StepEnded))
            .count() as u64;
        assert_eq!(
            ended,
            steps + 1,
            "{}: one step_ended per step",
            path.display()
        );
        assert_eq!(run.summary.scenario.name, run.world.simulation.name);
        assert_eq!(run.summary.scenario.hash.len(), 64, "{}", path.display());
        for (symbol, asset) in &run.summary.assets {
            assert!(
                asset.min_price.is_finite() && asset.fundamental_min_price > 0.0,
                "{}: {symbol} prices",
                path.display()
            );
        }
    }
}

#[test]
fn every_example_passes_cascade_validate() {
    for path in examples() {
        let output = run_cli(&["validate", path.to_str().expect("UTF-8 path")]);
        assert!(
            output.status.success(),
            "cascade validate {} failed:\n{}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(String::from_utf8_lossy(&output.stdout).starts_with("ok: "));
    }
}

#[test]
fn an_example_runs_through_the_cli_with_the_documented_outputs() {
    let out = tempfile::tempdir().expect("temporary directory");
    let path = example("order-book-file.toml");
    let output = run_cli(&[
        "run",
        path.to_str().expect("UTF-8 path"),
        "--out",
        out.path().to_str().expect("UTF-8 path"),
        "--quiet",
    ]);
    assert!(
        output.status.success(),
        "run failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty(), "--quiet prints nothing");

    let summary = fs::read_to_string(out.path().join("summary.json")).expect("summary.json");
    let json: serde_json::Value = serde_json::from_str(&summary).expect("summary.json is JSON");
    // The MODEL.md §4 contract keys.
    for pointer in [
        "/scenario/name",
        "/scenario/seed",
        "/scenario/hash",
        "/assets/ETH/start_price",
        "/assets/ETH/min_price",
        "/assets/ETH/final_price",
        "/assets/ETH/exogenous_drop",
        "/assets/ETH/total_drop",
        "/assets/ETH/amplification",
        "/liquidations/count",
        "/liquidations/debt_repaid_usd",
        "/liquidations/collateral_seized/ETH",
        "/bad_debt_usd",
        "/bad_debt_realised_usd",
        "/bad_debt_unrealised_usd",
        "/protocols/lender/liquidations",
        "/protocols/lender/bad_debt_usd",
        "/cascade/rounds_max",
        "/cascade/feedback_gain/ETH",
    ] {
        assert!(
            json.pointer(pointer).is_some(),
            "summary.json lacks {pointer}"
        );
    }
    assert_eq!(json["scenario"]["name"], "order-book-file");
    assert!(json["liquidations"]["count"].as_u64().expect("count") > 0);
    // USDC never moves: no exogenous drop, so no amplification.
    assert!(json["assets"]["USDC"]["amplification"].is_null());

    let timeline = fs::read_to_string(out.path().join("timeline.csv")).expect("timeline.csv");
    let mut lines = timeline.lines();
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "step,time_seconds,fundamental_ETH,fundamental_USDC,venue_eth-book,oracle_eth-usd,{TIMELINE_FLOWS}"
            )
            .as_str()
        )
    );
    assert_eq!(lines.count(), 25, "one row per step, step 0 included");

    let events = fs::read_to_string(out.path().join("events.csv")).expect("events.csv");
    let mut lines = events.lines();
    assert_eq!(lines.next(), Some(EVENT_COLUMNS));
    let kinds: Vec<&str> = lines
        .map(|line| line.split(',').nth(4).expect("a kind column"))
        .collect();
    for kind in [
        "run_started",
        "positions_opened",
        "shock_applied",
        "oracle_published",
        "liquidation",
        "sale",
        "cascade_settled",
        "step_ended",
        "positions_marked",
        "keeper_marked",
    ] {
        assert!(kinds.contains(&kind), "events.csv has no {kind} row");
    }
}

#[test]
fn the_bundled_default_runs_from_any_directory() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = cascade()
        .current_dir(dir.path())
        .args(["run", "--quiet"])
        .output()
        .expect("cascade runs");
    assert!(
        output.status.success(),
        "cascade run failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out = dir.path().join("out").join("eth-crash");
    for file in ["summary.json", "timeline.csv", "events.csv"] {
        let len = fs::metadata(out.join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .len();
        assert!(len > 0, "{file} is empty");
    }
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).expect("summary"))
            .expect("JSON");
    assert_eq!(json["scenario"]["name"], "eth-crash");
}

/// Black Thursday, 1-minute bars: the fundamental at step k is the close of minute k.
#[test]
fn the_minute_replay_follows_the_binance_closes() {
    let csv = fs::read_to_string(repo().join("data/ETHUSDT-1m-2020-03-12.csv")).expect("data");
    let mut rows = csv.lines();
    let header: Vec<&str> = rows.next().expect("header").split(',').collect();
    let (t, c) = (
        header
            .iter()
            .position(|h| *h == "open_time_ms")
            .expect("open_time_ms"),
        header.iter().position(|h| *h == "close").expect("close"),
    );
    let points: Vec<(f64, f64)> = rows
        .map(|row| {
            let cells: Vec<&str> = row.split(',').collect();
            (
                cells[t].parse::<f64>().expect("time") / 1000.0,
                cells[c].parse().expect("close"),
            )
        })
        .collect();

    let scenario = load(&example("black-thursday-replay.toml"));
    assert!(scenario.warnings.is_empty(), "{:?}", scenario.warnings);
    let run = common::run(scenario);
    let sim = &run.world.simulation;
    let window = (sim.steps * sim.step_seconds) as f64;
    let replayed: Vec<f64> = points
        .iter()
        .filter(|(time, _)| time - points[0].0 <= window)
        .map(|&(_, price)| price)
        .collect();
    assert_eq!(replayed.len() as u64, sim.steps + 1, "one bar per step");
    assert_eq!(fundamental_by_step(&run, "ETH"), replayed);

    let eth = &run.summary.assets["ETH"];
    let lowest = replayed.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(close(eth.fundamental_min_price, lowest, 1e-9));
    assert!(close(eth.fundamental_start_price, replayed[0], 1e-9));
    assert!(close(
        eth.fundamental_final_price,
        replayed[replayed.len() - 1],
        1e-9
    ));
    assert!(
        eth.exogenous_drop > 0.45,
        "the day's fall: {}",
        eth.exogenous_drop
    );
}

/// Seconds since midnight of an RFC 3339 time on 2020-03-12 (`2020-03-12T00:10:00.0000000Z`).
fn seconds_of_day(time: &str) -> f64 {
    let clock = time
        .strip_prefix("2020-03-12T")
        .unwrap_or_else(|| panic!("{time} is not on 12 March 2020"));
    let parts: Vec<f64> = clock
        .trim_end_matches('Z')
        .split(':')
        .map(|p| p.parse().expect("a number"))
        .collect();
    parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
}

/// Black Thursday, 10-minute JSON bars: the fundamental at step k is the close of bar k.
#[test]
fn the_ten_minute_replay_follows_the_stablesims_closes() {
    let json: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(repo().join("data/eth_03-12-2020.json")).expect("data"),
    )
    .expect("JSON");
    let bars = json.as_array().expect("an array of bars");

    let scenario = load(&example("black-thursday-10min.toml"));
    assert!(scenario.warnings.is_empty(), "{:?}", scenario.warnings);
    let run = common::run(scenario);
    let sim = &run.world.simulation;
    let window = (sim.steps * sim.step_seconds) as f64;
    let first = seconds_of_day(bars[0]["time_period_start"].as_str().expect("time"));
    let replayed: Vec<f64> = bars
        .iter()
        .filter(|bar| {
            seconds_of_day(bar["time_period_start"].as_str().expect("time")) - first <= window
        })
        .map(|bar| bar["price_close"].as_f64().expect("price_close"))
        .collect();
    assert_eq!(replayed.len() as u64, sim.steps + 1, "one bar per step");
    assert_eq!(fundamental_by_step(&run, "ETH"), replayed);

    let eth = &run.summary.assets["ETH"];
    let lowest = replayed.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(close(eth.fundamental_min_price, lowest, 1e-9));
    assert!(close(eth.fundamental_start_price, replayed[0], 1e-9));
}
