//! Bad input through the command: an invalid scenario makes `cascade validate` and `cascade run`
//! exit with code 2 and print, on stderr only, a count of the problems and then the library's
//! report (`ScenarioError`, whose every class of mistake cascade-scenario's tests cover) —
//! never a panic, never an output file. A missing scenario file is bad input too.

use std::fs;

use cascade_test_support::Fixture;
use tempfile::TempDir;

use crate::common::run_cli;

/// The text of examples/uniform-wall.toml with `from` (once) replaced by `to`.
fn edited(from: &str, to: &str) -> String {
    let text = Fixture::example("uniform-wall").text();
    assert_eq!(text.matches(from).count(), 1, "{from:?}");
    text.replacen(from, to, 1)
}

/// Writes the case (`bad.toml` and data files) into `dir`, runs `cascade validate` and
/// `cascade run` on it and checks both against the library's report.
fn check(dir: &TempDir, toml: &str, files: &[(&str, &str)], problems: usize) {
    let scenario = dir.path().join("bad.toml");
    fs::write(&scenario, toml).expect("write the scenario");
    for (name, text) in files {
        fs::write(dir.path().join(name), text).expect("write a data file");
    }
    let error = cascade_scenario::load(&scenario).expect_err("an invalid scenario");
    assert_eq!(error.problems.len(), problems, "{error}");
    let expected = format!(
        "error: invalid scenario ({problems} problem{})\n{error}\n",
        if problems == 1 { "" } else { "s" }
    );
    let out = dir.path().join("out");
    let (scenario, out_arg) = (scenario.to_str().unwrap(), out.to_str().unwrap());
    for args in [
        vec!["validate", scenario],
        vec!["run", scenario, "--out", out_arg, "--quiet"],
    ] {
        let output = run_cli(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let command = args[0];
        assert_eq!(
            output.status.code(),
            Some(2),
            "cascade {command} should exit with 2; stderr:\n{stderr}"
        );
        assert!(
            output.stdout.is_empty(),
            "cascade {command} printed to stdout:\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
        assert!(
            !out.exists(),
            "cascade run wrote outputs for an invalid scenario"
        );
        assert_eq!(stderr, expected, "cascade {command}");
    }
}

#[test]
fn invalid_scenarios_exit_with_code_2_and_the_library_report() {
    let dir = TempDir::new().expect("temporary directory");
    // TOML syntax.
    check(&dir, &edited("seed = 7", "seed = = 7"), &[], 1);
    // An unknown key.
    let text = format!("bogus = 1\n{}", Fixture::example("uniform-wall").text());
    check(&dir, &text, &[], 1);
    // Several problems at once: a value out of range and an unknown reference.
    let text = Fixture::example("uniform-wall")
        .set("protocols[0].collateral.ETH.liquidation_threshold", 1.5)
        .set("keepers[0].sell_on", "spott")
        .text();
    check(&dir, &text, &[], 2);
    // A malformed data file.
    let text = edited(
        "count = 10000\ncollateral = { asset = \"ETH\", total = 50000.0 }\ndebt = { asset = \"USDC\" }\nliquidation_price = { distribution = \"uniform\", low = 1500.0, high = 2000.0 }\n",
        "file = \"pos.csv\"\n",
    );
    let csv = "account,asset,collateral,debt\na,ETH,10,0\na,USDC,0,abc\n";
    check(&dir, &text, &[("pos.csv", csv)], 1);
}

#[test]
fn a_missing_scenario_file() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("no-such-scenario.toml");
    let missing = missing.to_str().unwrap();
    for args in [vec!["validate", missing], vec!["run", missing, "--quiet"]] {
        let output = run_cli(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "stderr:\n{stderr}");
        assert!(
            stderr.contains(&format!("{missing}: cannot read the scenario file")),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
