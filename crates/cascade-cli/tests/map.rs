//! `cascade map`: the files it writes and their keys, the positions export, and bad arguments
//! (exit 2, naming the argument and its value, nothing written).

use std::fs;
use std::path::Path;

use cascade_test_support::repo;

use crate::common;

fn example(name: &str) -> String {
    repo()
        .join("examples")
        .join(format!("{name}.toml"))
        .to_string_lossy()
        .into_owned()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(path).expect("a file")).expect("JSON")
}

#[test]
fn map_writes_the_walls_the_gain_the_spiral_and_the_curve() {
    let scenario = example("uniform-wall");
    let out = common::run_into_temp(&["map", &scenario, "--buckets", "40", "--shocks", "0.05,0.1"]);
    let map = json(&out.path().join("map.json"));
    let eth = &map["assets"]["ETH"];
    let gain = eth["feedback_gain"].as_array().expect("a list");
    assert_eq!(gain.len(), 40);
    assert_eq!(gain[0]["price"], 2000.0);
    // The wall of 1,500 … 2,000 under λ = 0.002: m = λκρ = 0.002 · 0.8925 · 100 inside it.
    let inside = gain[5]["m"].as_f64().expect("m");
    assert!((inside - 0.1785).abs() < 0.01, "m = {inside}");
    assert_eq!(gain[39]["m"], 0.0);
    assert!(eth["spiral_price"].is_null(), "m < 1 everywhere");
    let curve = eth["cascade_curve"].as_array().expect("a curve");
    assert_eq!(curve.len(), 2);
    for point in curve {
        let (map, run) = (
            point["final_price_map"].as_f64().expect("map"),
            point["final_price_run"].as_f64().expect("run"),
        );
        assert!(map < point["shocked_price"].as_f64().expect("shocked"));
        assert!((map - run).abs() / run < 0.002, "{point}");
    }
    let csv = fs::read_to_string(out.path().join("map.csv")).expect("map.csv");
    let mut lines = csv.lines();
    let header = lines.next().expect("a header");
    assert!(header.starts_with("asset,direction,holder,bucket,price_low,price_high,"));
    assert!(header.ends_with(",m_price,m") && header.contains(",sold_spot,"));
    // 40 buckets for the lender and 40 for the total.
    assert_eq!(lines.count(), 80);
    let positions = fs::read_to_string(out.path().join("positions.csv")).expect("positions");
    let mut rows = positions.lines();
    assert_eq!(
        rows.next(),
        Some(
            "owner,liquidation_price,collateral_asset,collateral_amount,protocol,kind,debt_asset,debt_amount"
        )
    );
    assert_eq!(rows.count(), 10_000);
    let listed = json(&out.path().join("positions.json"));
    assert_eq!(listed.as_array().expect("a list").len(), 10_000);
    let price = listed[0]["liquidation_price"].as_f64().expect("a price");
    assert!((1500.0..=2000.0).contains(&price));
}

#[test]
fn map_maps_the_rise_of_perp_shorts() {
    let scenario = example("perp-short-squeeze");
    let out = common::run_into_temp(&["map", &scenario, "--shocks", "0.05"]);
    let map = json(&out.path().join("map.json"));
    let asset = map["assets"]
        .as_object()
        .expect("assets")
        .values()
        .find(|a| a.get("feedback_gain_up").is_some())
        .expect("an asset with a rise");
    assert_eq!(
        asset["feedback_gain_up"].as_array().expect("a list").len(),
        100
    );
    let shorts = json(&out.path().join("positions.json"));
    assert!(
        shorts
            .as_array()
            .expect("a list")
            .iter()
            .any(|p| p["kind"] == "perp_short")
    );
}

#[test]
fn bad_map_arguments_exit_2_naming_them() {
    let scenario = example("uniform-wall");
    let out = tempfile::tempdir().expect("a directory");
    let dir = out.path().join("never");
    let d = dir.to_str().expect("UTF-8");
    common::assert_usage_error(
        &["map", &scenario, "--buckets", "0", "--out", d],
        "--buckets = 0",
    );
    common::assert_usage_error(
        &["map", &scenario, "--shocks", "1.5", "--out", d],
        "--shocks: 1.5",
    );
    common::assert_usage_error(
        &["map", &scenario, "--shocks=-0.1", "--out", d],
        "--shocks: -0.1",
    );
    common::assert_usage_error(
        &["map", &scenario, "--threads", "0", "--out", d],
        "--threads = 0",
    );
    common::assert_usage_error(
        &["map", &scenario, "--buckets", "x", "--out", d],
        "--buckets",
    );
    assert!(!dir.exists(), "nothing is written on bad arguments");
    let missing = repo().join("examples/no-such-file.toml");
    common::assert_usage_error(
        &["map", missing.to_str().expect("UTF-8"), "--out", d],
        "no-such-file.toml",
    );
}

#[test]
fn an_output_directory_that_cannot_be_made_is_reported() {
    let scenario = example("uniform-wall");
    let file = tempfile::NamedTempFile::new().expect("a file");
    let inside = file.path().join("map");
    let output = common::run_cli(&[
        "map",
        &scenario,
        "--out",
        inside.to_str().expect("UTF-8"),
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "--out {}: cannot create the output directory",
            inside.display()
        )),
        "{stderr}"
    );
}
