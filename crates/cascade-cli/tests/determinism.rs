//! Runs are functions of the scenario and its seed (docs/model.md §2), seen through the command's
//! files: the same scenario gives the same bytes, the bundled default is examples/eth-crash.toml,
//! and another seed gives other files. (That the seed reaches every random draw is the engine's
//! and the scenario library's concern.)

use std::fs;
use std::path::Path;

use cascade_test_support::{Fixture, repo};
use tempfile::TempDir;

use crate::common;

const OUTPUTS: [&str; 3] = ["summary.json", "timeline.csv", "events.csv"];

/// Runs `cascade run [scenario] --out <new temp dir> --quiet` and returns the directory.
fn cli_run(scenario: Option<&Path>) -> TempDir {
    let out = tempfile::tempdir().expect("temporary directory");
    let out_arg = out.path().to_str().expect("UTF-8 temp path");
    let mut args = vec!["run"];
    if let Some(path) = scenario {
        args.push(path.to_str().expect("UTF-8 path"));
    }
    args.extend(["--out", out_arg, "--quiet"]);
    let output = common::run_cli(&args);
    assert!(
        output.status.success(),
        "cascade {args:?} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

fn read(dir: &TempDir, name: &str) -> Vec<u8> {
    fs::read(dir.path().join(name)).unwrap_or_else(|e| panic!("cannot read {name}: {e}"))
}

fn summary(dir: &TempDir) -> serde_json::Value {
    serde_json::from_slice(&read(dir, "summary.json")).expect("summary.json is JSON")
}

fn assert_same_outputs(a: &TempDir, b: &TempDir, what: &str) {
    for name in OUTPUTS {
        let (x, y) = (read(a, name), read(b, name));
        assert!(!x.is_empty(), "{what}: {name} is empty");
        if x != y {
            let line = x
                .split(|&c| c == b'\n')
                .zip(y.split(|&c| c == b'\n'))
                .position(|(l, r)| l != r);
            panic!(
                "{what}: {name} differs between two runs ({} vs {} bytes, first differing line {line:?})",
                x.len(),
                y.len()
            );
        }
    }
}

#[test]
fn the_same_scenario_gives_the_same_bytes() {
    let scenarios = tempfile::tempdir().expect("temporary directory");
    let eth_crash = repo().join("examples/eth-crash.toml");
    let stochastic = scenarios.path().join("stochastic.toml");
    Fixture::named("stochastic").write_to(&stochastic);
    for (what, scenario) in [
        ("examples/eth-crash.toml", Some(eth_crash.as_path())),
        ("the bundled default", None),
        ("a GBM/jump-diffusion scenario", Some(stochastic.as_path())),
    ] {
        let first = cli_run(scenario);
        let second = cli_run(scenario);
        assert_same_outputs(&first, &second, what);
        // Something happened worth comparing.
        let s = summary(&first);
        assert!(
            s["liquidations"]["count"].as_u64().unwrap_or(0) > 0,
            "{what}: no liquidations"
        );
    }
}

#[test]
fn the_bundled_default_is_examples_eth_crash() {
    let bundled = cli_run(None);
    let file = cli_run(Some(&repo().join("examples/eth-crash.toml")));
    let (a, b) = (summary(&bundled), summary(&file));
    let hash = a["scenario"]["hash"].as_str().expect("scenario.hash");
    assert_eq!(hash.len(), 64, "a SHA-256 in hex: {hash}");
    assert_eq!(
        a["scenario"]["hash"], b["scenario"]["hash"],
        "the bundled scenario is parsed from the same text, so its hash must match"
    );
    assert_eq!(a["scenario"]["name"], "eth-crash");
    assert_same_outputs(
        &bundled,
        &file,
        "bundled default vs examples/eth-crash.toml",
    );
}

#[test]
fn the_seed_reaches_the_command_outputs() {
    // Through the command: different events, the seed in the summary, different hashes.
    let dir = tempfile::tempdir().expect("temporary directory");
    let runs: Vec<TempDir> = [1, 2]
        .into_iter()
        .map(|seed| {
            let path = dir.path().join(format!("s{seed}.toml"));
            Fixture::named("random-book")
                .set("simulation.seed", seed)
                .write_to(&path);
            cli_run(Some(&path))
        })
        .collect();
    assert_ne!(read(&runs[0], "events.csv"), read(&runs[1], "events.csv"));
    let (s1, s2) = (summary(&runs[0]), summary(&runs[1]));
    assert_eq!(s1["scenario"]["seed"], 1);
    assert_eq!(s2["scenario"]["seed"], 2);
    assert_ne!(s1["scenario"]["hash"], s2["scenario"]["hash"]);
}
