//! `cascade run --attribution`: summary.json gains `attribution` and the printed summary its
//! section; a world with more sources than an attribution runs exits 2 before anything is
//! written.

use std::fs;

use cascade_test_support::{Fixture, repo};

use crate::common;

#[test]
fn the_attribution_is_written_and_printed() {
    let scenario = repo().join("examples/perp-and-lending.toml");
    let out = tempfile::tempdir().unwrap();
    let output = common::run_cli(&[
        "run",
        scenario.to_str().unwrap(),
        "--attribution",
        "--events",
        "none",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Who caused what (Shapley shares over 4 counterfactual runs"),
        "{stdout}"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(out.path().join("summary.json")).unwrap()).unwrap();
    let a = &summary["attribution"];
    assert_eq!(a["sources"], serde_json::json!(["lender", "perp-dex"]));
    assert_eq!(a["bad_debt_usd"]["total"], summary["bad_debt_usd"]);
    assert_eq!(
        a["total_drop"]["ETH"]["total"],
        summary["assets"]["ETH"]["total_drop"]
    );
    // Without the flag, no key.
    let plain = common::run_into_temp(&["run", scenario.to_str().unwrap(), "--events", "none"]);
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(plain.path().join("summary.json")).unwrap()).unwrap();
    assert!(summary.get("attribution").is_none());
}

#[test]
fn more_sources_than_it_runs_exit_2_before_anything_is_written() {
    let mut fixture = Fixture::named("lender");
    for i in 0..8 {
        fixture = fixture.append(&format!(
            "[[protocols]]\nname = \"copy-{i}\"\nkind = \"lending\"\n\
             liquidation = {{ mechanism = \"fixed_spread\", bonus = 0.05, close_factor = 1.0 }}\n\
             oracles = {{ ETH = \"eth-usd\" }}\n\
             collateral = {{ ETH = {{ ltv = 0.80, liquidation_threshold = 0.85 }} }}"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nine.toml");
    fixture.write_to(&file);
    let out = dir.path().join("out");
    common::assert_usage_error(
        &[
            "run",
            file.to_str().unwrap(),
            "--attribution",
            "--out",
            out.to_str().unwrap(),
        ],
        "--attribution: 9 lending protocols and perp exchanges",
    );
    assert!(!out.exists());
}
