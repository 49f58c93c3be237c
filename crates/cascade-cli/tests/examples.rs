//! The shipped scenarios through the command: every `examples/*.toml` passes `cascade
//! validate`, one of them runs with the outputs documented in docs/outputs.md (the very bytes the
//! library's writers give), and the bundled default runs from any working directory. (That they
//! run through the library, and what the replays compute, is the engine's concern.)

use std::fs;
use std::path::PathBuf;

use cascade_test_support::{Fixture, repo};

use crate::common::{cascade, run_cli};

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
    // The docs/model.md §4 contract keys.
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

    let library = Fixture::example("order-book-file").run();
    let mut expected = Vec::new();
    cascade_report::write_summary_json(&library.summary, &mut expected).expect("written");
    assert_eq!(
        summary.as_bytes(),
        expected,
        "summary.json as the library writes it"
    );

    let timeline = fs::read_to_string(out.path().join("timeline.csv")).expect("timeline.csv");
    let mut expected = Vec::new();
    cascade_report::write_timeline(&library.timeline, &mut expected).expect("written");
    assert_eq!(
        timeline.as_bytes(),
        expected,
        "timeline.csv as the library writes it"
    );
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
    let mut expected = Vec::new();
    cascade_report::write_events(&library.world, &library.events, &mut expected).expect("written");
    assert!(
        events.as_bytes() == expected,
        "events.csv as the library writes it"
    );
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
