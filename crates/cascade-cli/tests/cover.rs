//! `cascade cover`: the price read from a Monte Carlo's own paths.csv (the expected loss and
//! the probability of attachment recomputed here from the file), and bad input exiting 2 with
//! the value named, nothing written.

use std::fs;

use cascade_test_support::{Fixture, repo};

use crate::common;

fn json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(path).expect("a file")).expect("JSON")
}

#[test]
fn the_price_is_read_off_the_paths_of_the_monte_carlo() {
    // A wall of loans under a volatile GBM whose threshold times (1 + bonus) exceeds 1: every
    // liquidation leaves bad debt, more on the paths that fall further into the wall.
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("toxic-wall.toml");
    Fixture::named("lender")
        .set("simulation.steps", 30)
        .set("protocols[0].collateral.ETH.liquidation_threshold", 0.96)
        .set_raw(
            "assets[0].driver",
            "{ model = \"gbm\", drift = 0.0, volatility = 3.0 }",
        )
        .write_to(&scenario);
    let mc = common::run_into_temp(&["montecarlo", scenario.to_str().unwrap(), "--paths", "200"]);
    let dir = mc.path().to_str().unwrap();
    let csv = fs::read_to_string(mc.path().join("paths.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = header.iter().position(|h| *h == "bad_debt_usd").unwrap();
    let losses: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(column).unwrap().parse().unwrap())
        .collect();
    assert_eq!(losses.len(), 200);
    // An attachment and a limit inside the distribution, so the layer is neither empty nor
    // always exhausted.
    let mut sorted = losses.clone();
    sorted.sort_by(f64::total_cmp);
    let (attachment, limit) = (sorted[100], sorted[190] - sorted[100]);
    assert!(limit > 0.0, "the example's bad debt varies: {sorted:?}");
    let output = common::run_cli(&[
        "cover",
        dir,
        "--attachment",
        &attachment.to_string(),
        "--limit",
        &limit.to_string(),
        "--quiet",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let j = json(&mc.path().join("cover.json"));
    let payout = |x: f64| (x - attachment).clamp(0.0, limit);
    let el = losses.iter().map(|&x| payout(x)).sum::<f64>() / 200.0;
    let p = &j["price"];
    assert!((p["expected_loss"]["value"].as_f64().unwrap() - el).abs() < 1e-9 * el.max(1.0));
    let pays = losses.iter().filter(|&&x| payout(x) > 0.0).count() as f64 / 200.0;
    assert_eq!(
        p["probability_of_attachment"]["value"].as_f64().unwrap(),
        pays
    );
    assert!(p["wang_premium"]["value"].as_f64().unwrap() > el);
    assert!(p["wang_premium"]["se"].as_f64().unwrap() > 0.0);
    assert_eq!(j["terms"]["metric"], "bad_debt_usd");
    assert_eq!(j["source"]["paths"], 200);
    assert_eq!(
        p["horizons_per_year"].as_f64().unwrap() * p["horizon_seconds"].as_f64().unwrap(),
        365.0 * 86_400.0
    );
}

#[test]
fn bad_terms_and_files_exit_2_naming_the_value() {
    let scenario = repo().join("examples/gbm-jump-stress.toml");
    let mc = common::run_into_temp(&["montecarlo", scenario.to_str().unwrap(), "--paths", "5"]);
    let dir = mc.path().to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--attachment", "0", "--limit", "0"],
            "--limit = 0: expected USD > 0",
        ),
        (
            &["--attachment", "0", "--limit", "1", "--wang-lambda", "11"],
            "--wang-lambda = 11",
        ),
        (
            &["--attachment", "0", "--limit", "1", "--capital-level", "1"],
            "--capital-level = 1",
        ),
        (
            &[
                "--attachment",
                "0",
                "--limit",
                "1",
                "--metric",
                "bad_dept_usd",
            ],
            "--metric bad_dept_usd:",
        ),
        (
            &["--attachment", "0", "--limit", "1", "--resamples", "1"],
            "--resamples = 1",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["cover", dir];
        all.extend(args);
        common::assert_usage_error(&all, expected);
        assert!(!mc.path().join("cover.json").exists(), "{args:?}");
    }
    common::assert_usage_error(
        &["cover", "no-such-dir", "--attachment", "0", "--limit", "1"],
        "no-such-dir/montecarlo.json: cannot open",
    );
}
