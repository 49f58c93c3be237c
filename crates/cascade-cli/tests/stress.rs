//! `cascade stress`: a point of the grid is the run of the file with the point's values written
//! in; keys by section name or number; a Monte Carlo per point; bad `--grid` input exits 2
//! naming the key and the value, before anything runs or is written.

use std::fs;
use std::path::Path;

use cascade_test_support::{Fixture, repo};

use crate::common;

const SCENARIO: &str = "examples/gbm-jump-stress.toml";

fn scenario() -> String {
    repo().join(SCENARIO).to_string_lossy().into_owned()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(path).expect("a file")).expect("JSON")
}

fn stress(args: &[&str], out: &Path) -> std::process::Output {
    let s = scenario();
    let mut all = vec!["stress", s.as_str()];
    all.extend(args);
    all.extend(["--out", out.to_str().unwrap(), "--quiet"]);
    common::run_cli(&all)
}

/// Runs `cascade stress` as `stress` does, expecting success.
fn stress_ok(args: &[&str], out: &Path) {
    let output = stress(args, out);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_point_is_a_run_of_the_edited_file() {
    let out = tempfile::tempdir().unwrap();
    stress_ok(
        &[
            "--grid",
            "protocols.aave-like.liquidation.bonus=0.05,0.09",
            "--grid",
            "assets[0].driver.volatility=0.8,1.5",
        ],
        out.path(),
    );
    let j = json(&out.path().join("stress.json"));
    let points = j["points"].as_array().expect("points");
    assert_eq!(points.len(), 4);
    // The last point: bonus 0.09, volatility 1.5 (the last key varies fastest).
    let point = &points[3];
    assert_eq!(
        point["values"]["protocols.aave-like.liquidation.bonus"],
        "0.09"
    );
    assert_eq!(point["values"]["assets[0].driver.volatility"], "1.5");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("edited.toml");
    // The example reads its positions from data/ beside it.
    fs::create_dir(dir.path().join("data")).unwrap();
    fs::copy(
        repo().join("examples/data/stress-positions.csv"),
        dir.path().join("data/stress-positions.csv"),
    )
    .unwrap();
    Fixture::example("gbm-jump-stress.toml")
        .set("protocols[0].liquidation.bonus", 0.09)
        .set("assets[0].driver.volatility", 1.5)
        .write_to(&file);
    let run = dir.path().join("run");
    let output = common::run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
        "--events",
        "none",
        "--quiet",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = json(&run.join("summary.json"));
    assert_eq!(point["scenario_hash"], summary["scenario"]["hash"]);
    let figures = &point["figures"];
    assert_eq!(figures["bad_debt_usd"], summary["bad_debt_usd"]);
    assert_eq!(
        figures["liquidated_debt_usd"],
        summary["liquidations"]["debt_repaid_usd"]
    );
    assert_eq!(
        figures["liquidations"].as_f64(),
        summary["liquidations"]["count"].as_f64()
    );
    assert_eq!(
        figures["assets.ETH.total_drop"],
        summary["assets"]["ETH"]["total_drop"]
    );
    // The points differ where the values matter: the higher volatility liquidates more.
    assert_ne!(points[0]["figures"], points[1]["figures"]);
    let csv = fs::read_to_string(out.path().join("stress.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5);
    assert!(csv.starts_with(
        "protocols.aave-like.liquidation.bonus,assets[0].driver.volatility,scenario_hash,death_spiral,bad_debt_usd,"
    ));
}

#[test]
fn a_monte_carlo_per_point_reports_its_distribution() {
    let out = tempfile::tempdir().unwrap();
    stress_ok(
        &[
            "--grid",
            "venues.btc-spot.impact.usd_per_unit=3,30",
            "--paths",
            "16",
        ],
        out.path(),
    );
    let j = json(&out.path().join("stress.json"));
    assert_eq!(j["paths"], 16);
    for point in j["points"].as_array().unwrap() {
        let m = &point["metrics"]["liquidated_debt_usd"];
        assert_eq!(m["paths"], 16);
        assert!(m["var"]["0.99"].is_number());
        assert!(point["probabilities"]["bad_debt"].is_number());
    }
    let csv = fs::read_to_string(out.path().join("stress.csv")).unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .contains(",paths,p_bad_debt,p_death_spiral,bad_debt_usd.mean,")
    );
}

#[test]
fn bad_grids_exit_2_naming_the_key_and_value_and_write_nothing() {
    for (grid, expected) in [
        (
            "protocols.aave-like.liquidation.bonus",
            "expected KEY=V1,V2",
        ),
        ("protocols.aave-like.liquidation.bonus=", "non-empty values"),
        (
            "protocols.nope.liquidation.bonus=0.1",
            "no element named \"nope\"",
        ),
        ("simulaton.seed=1", "no key \"simulaton\""),
        (
            "protocols.aave-like.liquidation.bonus=0.05,1.5",
            "protocols[0].liquidation.bonus = 1.5",
        ),
        ("protocols.aave-like.liquidation.bonnus=0.1", "bonnus"),
        (
            "keepers[0].name=searcher,other",
            "reports other figures than the first",
        ),
    ] {
        let out = tempfile::tempdir().unwrap();
        let output = stress(&["--grid", grid], out.path());
        assert_eq!(output.status.code(), Some(2), "{grid}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{grid}: {stderr}");
        assert!(
            !out.path().join("stress.csv").exists(),
            "{grid}: nothing is written"
        );
    }
}

#[test]
fn more_paths_than_an_ensemble_holds_exit_2_before_anything_runs() {
    let out = tempfile::tempdir().unwrap();
    let scenario = repo().join("examples/ensemble-paths.toml");
    let output = common::run_cli(&[
        "stress",
        scenario.to_str().unwrap(),
        "--grid",
        "simulation.seed=1,2",
        "--paths",
        "101",
        "--out",
        out.path().to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("which has 100 paths"), "{stderr}");
    assert!(!out.path().join("stress.csv").exists());
}
