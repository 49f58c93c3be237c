//! The shipped scenarios through the library: every `examples/*.toml` validates and runs, with
//! every perp exchange's money conserved, and the replay examples' fundamentals follow their
//! data files. (That the command validates and runs
//! them too is cascade-cli's concern.)

use std::fs;
use std::path::PathBuf;

use cascade_test_support::{load_example, repo, run};

/// The example files this module expects to find (others are run too).
const EXPECTED: [&str; 9] = [
    "eth-crash.toml",
    "uniform-wall.toml",
    "black-thursday-replay.toml",
    "black-thursday-10min.toml",
    "gbm-jump-stress.toml",
    "amm-venue.toml",
    "order-book-file.toml",
    "may-2021-replay.toml",
    "hyperliquid-oct-2025.toml",
];

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
        let scenario = cascade_scenario::load(path)
            .unwrap_or_else(|e| panic!("{} does not validate:\n{e}", path.display()));
        let run = run(scenario);
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
        // Every perp exchange's money is conserved: its total value ends where it started.
        for (name, protocol) in &run.summary.protocols {
            if let Some(perp) = &protocol.perp {
                let (start, end) = (perp.total_value_start_usd, perp.total_value_end_usd);
                assert!(
                    (start - end).abs() <= 1e-9 * start.abs().max(1.0),
                    "{}: {name} total value {start} → {end}",
                    path.display()
                );
            }
        }
    }
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

    let scenario = load_example("black-thursday-replay");
    assert!(scenario.warnings.is_empty(), "{:?}", scenario.warnings);
    let run = run(scenario);
    let sim = &run.world.simulation;
    let window = (sim.steps * sim.step_seconds) as f64;
    let replayed: Vec<f64> = points
        .iter()
        .filter(|(time, _)| time - points[0].0 <= window)
        .map(|&(_, price)| price)
        .collect();
    assert_eq!(replayed.len() as u64, sim.steps + 1, "one bar per step");
    assert_eq!(run.column("fundamental_ETH"), replayed);

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

    let scenario = load_example("black-thursday-10min");
    assert!(scenario.warnings.is_empty(), "{:?}", scenario.warnings);
    let run = run(scenario);
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
    assert_eq!(run.column("fundamental_ETH"), replayed);

    let eth = &run.summary.assets["ETH"];
    let lowest = replayed.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(close(eth.fundamental_min_price, lowest, 1e-9));
    assert!(close(eth.fundamental_start_price, replayed[0], 1e-9));
}
