//! `cascade compare`: the same scenario under several mechanisms, its outputs and its errors;
//! and the time-to-close measure it reports.

use std::fs;

use crate::common::{repo, run_cli, run_str};

fn wall() -> String {
    repo()
        .join("examples/uniform-wall.toml")
        .display()
        .to_string()
}

#[test]
fn compare_writes_one_row_per_mechanism_in_the_order_asked() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("cmp");
    let output = run_cli(&[
        "compare",
        &wall(),
        "--mechanisms",
        "morpho_blue,as_is,compound_v2",
        "--out",
        out.to_str().expect("utf-8 path"),
        "--quiet",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let csv = fs::read_to_string(out.join("compare.csv")).expect("compare.csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(cascade_analytics::compare::COLUMNS.join(",").as_str())
    );
    let names: Vec<&str> = lines
        .map(|l| l.split(',').next().expect("a name"))
        .collect();
    assert_eq!(names, ["morpho_blue", "as_is", "compound_v2"]);
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("compare.json")).expect("json"))
            .expect("valid JSON");
    assert_eq!(json["asset"], "ETH");
    assert_eq!(json["seed"], 7);
    // The as_is row is the scenario's own run: the same figures as `cascade run`.
    let run_dir = dir.path().join("run");
    let run = run_cli(&[
        "run",
        &wall(),
        "--out",
        run_dir.to_str().expect("utf-8"),
        "--quiet",
    ]);
    assert!(run.status.success());
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(run_dir.join("summary.json")).expect("summary"))
            .expect("valid JSON");
    let as_is = &json["rows"][1];
    assert_eq!(as_is["liquidations"], summary["liquidations"]["count"]);
    assert_eq!(as_is["total_drop"], summary["assets"]["ETH"]["total_drop"]);
    assert_eq!(
        fs::read(out.join("as_is/summary.json")).expect("per-mechanism summary"),
        fs::read(run_dir.join("summary.json")).expect("run summary")
    );
    // Compound's 50% close factor sells about half of what Morpho's full liquidation sells per
    // account liquidated (bonuses 5% and 4.7%).
    let per_account = |row: usize| {
        json["rows"][row]["collateral_sold_units"]
            .as_f64()
            .expect("units")
            / json["rows"][row]["accounts_liquidated"]
                .as_f64()
                .expect("accounts")
    };
    let (compound, morpho) = (per_account(2), per_account(0));
    assert!(
        compound < 0.7 * morpho,
        "compound {compound} vs morpho {morpho} per account"
    );
}

#[test]
fn compare_is_deterministic_whatever_the_threads() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let run = |name: &str, threads: &str| {
        let out = dir.path().join(name);
        let output = crate::common::cascade()
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "compare",
                &wall(),
                "--mechanisms",
                "fixed_spread,aave_v3.3,morpho_blue,euler_v2",
                "--out",
                out.to_str().expect("utf-8"),
                "--quiet",
            ])
            .output()
            .expect("cascade runs");
        assert!(output.status.success());
        (
            fs::read(out.join("compare.csv")).expect("csv"),
            fs::read(out.join("compare.json")).expect("json"),
        )
    };
    assert_eq!(run("one", "1"), run("four", "4"));
}

#[test]
fn compare_rejects_bad_flags_with_exit_code_2() {
    for (args, expected) in [
        (
            vec!["--mechanisms", "dutch_auctionn"],
            "--mechanisms = \"dutch_auctionn\": unknown mechanism; expected one of as_is",
        ),
        (
            vec!["--mechanisms", "as_is,as_is"],
            "--mechanisms = \"as_is\": listed twice",
        ),
        (
            vec!["--mechanisms", "as_is", "--asset", "DOGE"],
            "--asset = \"DOGE\": not an asset of the scenario; known: [ETH, USDC]",
        ),
    ] {
        let wall = wall();
        let mut all = vec!["compare", wall.as_str()];
        all.extend(args);
        let output = run_cli(&all);
        assert_eq!(output.status.code(), Some(2), "{all:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!stderr.contains("panicked"));
    }
    let output = run_cli(&["compare", "no-such-file.toml", "--mechanisms", "as_is"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no-such-file.toml"));
}

#[test]
fn time_to_close_counts_from_the_first_check_that_found_the_account_liquidatable() {
    // Two accounts become liquidatable at the 5% shock (t = 60 s). The oracle reads the
    // fundamental, the keeper sells on a venue whose impact is all transient (half-life 60 s):
    // the first liquidation at once pushes the venue so low that the second is unprofitable
    // until the venue has recovered for three steps (t = 240 s). Episodes: 0 s and 180 s.
    let text = r#"
[simulation]
name = "time-to-close"
seed = 1
steps = 8
step_seconds = 60

[[assets]]
symbol = "ETH"
price = 2000.0

[[assets]]
symbol = "USDC"
price = 1.0

[[venues]]
name = "spot"
base = "ETH"
quote = "USDC"
impact = { model = "linear", usd_per_unit = 15.0 }
permanent_fraction = 0.0
half_life_seconds = 60

[[oracles]]
name = "eth-usd"
asset = "ETH"
sources = ["fundamental"]

[[protocols]]
name = "lender"
kind = "lending"
liquidation = { mechanism = "fixed_spread", bonus = 0.05, close_factor = 1.0 }
oracles = { ETH = "eth-usd" }
collateral = { ETH = { ltv = 0.8, liquidation_threshold = 0.8 } }

[[positions]]
protocol = "lender"
count = 2
collateral = { asset = "ETH", total = 20.0 }
debt = { asset = "USDC" }
liquidation_price = { distribution = "even", low = 1980.0, high = 1990.0 }

[[keepers]]
name = "keeper"
protocols = ["lender"]
sell_on = "spot"

[[shocks]]
asset = "ETH"
step = 1
drop = 0.05
"#;
    let run = run_str(text);
    let close = &run.summary.liquidations.time_to_close_seconds;
    assert_eq!(close.episodes, 2);
    assert_eq!(
        (close.median, close.p90, close.max),
        (Some(0), Some(180), Some(180))
    );
}
