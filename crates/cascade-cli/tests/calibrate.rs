//! `cascade calibrate`: the chosen value of a case built to have a known answer; each value's
//! risk is the Monte Carlo of the edited file over the same paths (common random numbers); bad
//! `--range`, `--risk`, `--parameter` and `--prefer` input exits 2 before anything runs or is
//! written.

use std::fs;
use std::path::Path;

use cascade_test_support::Fixture;

use crate::common;

const THRESHOLD: &str = "protocols.lender.collateral.ETH.liquidation_threshold";
/// The same field as the fixtures' editor names it.
const THRESHOLD_AT: &str = "protocols[0].collateral.ETH.liquidation_threshold";

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(path).expect("a file")).expect("JSON")
}

/// One loan of 1 ETH whose liquidation price is 1,500 USD at every threshold (its debt is
/// LT × 1,500), a 5% bonus with close factor 1, and a 30% shock to 1,400 at step 1. The loan
/// is liquidated at 1,400: the bonus asks for LT × 1,500 × 1.05 / 1,400 ETH, more than the one
/// it has when LT > 1,400 / 1,575, and then the whole ETH repays 1,400 / 1.05 of the debt and
/// the rest is bad debt: 1,500 · LT − 1,333.33. A budget of 50 USD allows LT ≤ 0.92222.
fn one_loan() -> Fixture {
    Fixture::named("lender")
        .set("positions[0].count", 1)
        .set("positions[0].collateral.total", 1.0)
        .set("positions[0].liquidation_price.low", 1500.0)
        .set("positions[0].liquidation_price.high", 1500.0)
        .append("[[shocks]]\nasset = \"ETH\"\nstep = 1\ndrop = 0.3")
}

fn calibrate(file: &Path, args: &[&str], out: &Path) -> std::process::Output {
    let mut all = vec!["calibrate", file.to_str().unwrap()];
    all.extend(args);
    all.extend(["--out", out.to_str().unwrap(), "--quiet"]);
    common::run_cli(&all)
}

#[test]
fn the_known_answer_is_found_with_the_closed_form_risk_of_every_value() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one-loan.toml");
    one_loan().write_to(&file);
    let out = dir.path().join("out");
    let output = calibrate(
        &file,
        &[
            "--parameter",
            THRESHOLD,
            "--range",
            "0.85:0.99:0.01",
            "--risk",
            "mean(bad_debt_usd) <= 50",
            "--paths",
            "2",
        ],
        &out,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let j = json(&out.join("calibration.json"));
    assert_eq!(j["chosen"]["value"], "0.92");
    assert_eq!(j["prefer"], "high");
    assert_eq!(j["risk"]["statistic"], "mean");
    assert_eq!(j["risk"]["metric"], "bad_debt_usd");
    let frontier = j["frontier"].as_array().unwrap();
    assert_eq!(frontier.len(), 15);
    for point in frontier {
        let lt: f64 = point["value"].as_str().unwrap().parse().unwrap();
        let expected = (1500.0 * lt - 1400.0 / 1.05).max(0.0);
        let risk = point["risk"].as_f64().unwrap();
        assert!(
            (risk - expected).abs() < 1e-6,
            "LT {lt}: bad debt {risk}, closed form {expected}"
        );
        assert_eq!(point["in_budget"], expected <= 50.0, "LT {lt}");
        // The book's debt is LT × 1,500 on 2,000 USD of collateral.
        let ltv = point["book"]["ltv"].as_f64().unwrap();
        assert!((ltv - lt * 1500.0 / 2000.0).abs() < 1e-12, "LT {lt}: {ltv}");
    }
    let csv = fs::read_to_string(out.join("frontier.csv")).unwrap();
    assert!(csv.starts_with("value,risk,risk_se,"), "{csv}");
    assert_eq!(csv.lines().count(), 16);
    assert!(
        csv.lines()
            .nth(8)
            .unwrap()
            .starts_with("0.92,46.66666666666")
    );
}

#[test]
fn a_low_preference_takes_the_lowest_value_in_budget_and_none_may_be() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one-loan.toml");
    // At LT 0.95 the bad debt falls as the bonus does: 1,425 − 1,400 / (1 + bonus).
    one_loan().set(THRESHOLD_AT, 0.95).write_to(&file);
    let out = dir.path().join("out");
    let args = |risk: &'static str| {
        [
            "--parameter",
            "protocols.lender.liquidation.bonus",
            "--range",
            "0.00:0.10:0.02",
            "--risk",
            risk,
            "--paths",
            "1",
        ]
    };
    let output = calibrate(&file, &args("mean(bad_debt_usd) < 60"), &out);
    assert!(output.status.success());
    let j = json(&out.join("calibration.json"));
    assert_eq!(j["prefer"], "low");
    // Every bonus takes the whole ETH (1,425 · (1 + bonus) / 1,400 > 1): bonus 0 leaves 25 of
    // bad debt, 0.02 leaves 52.45, 0.04 leaves 78.85; the lowest in budget is 0.
    assert_eq!(j["chosen"]["value"], "0.00");
    let output = calibrate(&file, &args("mean(bad_debt_usd) <= 1"), &out);
    assert!(output.status.success());
    let j = json(&out.join("calibration.json"));
    assert!(j["chosen"].is_null(), "{}", j["chosen"]);
}

#[test]
fn each_value_is_the_monte_carlo_of_the_edited_file_over_the_same_paths() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wall.toml");
    let wall = Fixture::named("lender")
        .set("simulation.steps", 30)
        .set_raw(
            "assets[0].driver",
            "{ model = \"gbm\", drift = 0.0, volatility = 3.0 }",
        );
    wall.write_to(&file);
    let out = dir.path().join("out");
    let output = calibrate(
        &file,
        &[
            "--parameter",
            THRESHOLD,
            "--range",
            "0.80:0.95:0.05",
            "--risk",
            "var95(liquidated_debt_usd) <= 1e12",
            "--paths",
            "60",
        ],
        &out,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let frontier = json(&out.join("calibration.json"))["frontier"].clone();
    let mut last = f64::NEG_INFINITY;
    for point in frontier.as_array().unwrap() {
        let value = point["value"].as_str().unwrap();
        let edited = dir.path().join(format!("wall-{value}.toml"));
        wall.clone()
            .set(THRESHOLD_AT, value.parse::<f64>().unwrap())
            .write_to(&edited);
        let mc = common::run_into_temp(&["montecarlo", edited.to_str().unwrap(), "--paths", "60"]);
        let m = json(&mc.path().join("montecarlo.json"));
        let d = &m["metrics"]["liquidated_debt_usd"];
        assert_eq!(point["risk"], d["var"]["0.95"], "LT {value}");
        assert_eq!(point["risk_se"], d["var_se"]["0.95"], "LT {value}");
        // The same paths at every value: a higher threshold liquidates more debt on each.
        let risk = point["risk"].as_f64().unwrap();
        assert!(risk > last, "LT {value}: {risk} after {last}");
        last = risk;
    }
}

#[test]
fn bad_arguments_exit_2_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one-loan.toml");
    one_loan().write_to(&file);
    let out = dir.path().join("never");
    let cases: [(&[&str], &str); 7] = [
        (
            &[
                "--parameter",
                THRESHOLD,
                "--range",
                "0.9:0.8",
                "--risk",
                "mean(bad_debt_usd) <= 1",
            ],
            "--range \"0.9:0.8\": LO = 0.9 is above HI = 0.8",
        ),
        (
            &[
                "--parameter",
                THRESHOLD,
                "--range",
                "0.8:0.9:0",
                "--risk",
                "mean(bad_debt_usd) <= 1",
            ],
            "STEP must be above 0",
        ),
        (
            &[
                "--parameter",
                THRESHOLD,
                "--range",
                "0.8:0.9",
                "--risk",
                "var98(bad_debt_usd) <= 1",
            ],
            "the level must be 95, 99 or 999",
        ),
        (
            &[
                "--parameter",
                THRESHOLD,
                "--range",
                "0.8:0.9",
                "--risk",
                "var99(bad_dept_usd) <= 1",
            ],
            "the scenario has no figure \"bad_dept_usd\"",
        ),
        (
            &[
                "--parameter",
                "venues.spot.half_life_seconds",
                "--range",
                "60:600:60",
                "--risk",
                "mean(bad_debt_usd) <= 1",
            ],
            "say it with --prefer high or --prefer low",
        ),
        (
            &[
                "--parameter",
                "protocols.nobody.liquidation.bonus",
                "--range",
                "0:0.1",
                "--risk",
                "mean(bad_debt_usd) <= 1",
            ],
            "--parameter protocols.nobody.liquidation.bonus=0.00",
        ),
        (
            &[
                "--parameter",
                THRESHOLD,
                "--range",
                "0.9:1.5:0.3",
                "--risk",
                "mean(bad_debt_usd) <= 1",
            ],
            "--parameter protocols.lender.collateral.ETH.liquidation_threshold = 1.",
        ),
    ];
    for (args, expected) in cases {
        let output = calibrate(&file, args, &out);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
}
