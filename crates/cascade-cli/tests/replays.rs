//! The command and the library give the same figures on a replay. (The replays' figures
//! themselves are the engine's golden tests.)

use cascade_test_support::{load_example, repo, run};

/// The binary is built without the test build's dev-dependencies, whose features once changed
/// how exp/ln rounded (and with it the generated vault book in the last digits).
#[test]
fn the_command_reproduces_the_library_run() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = repo().join("examples").join("black-thursday-2020.toml");
    let out = crate::common::run_cli(&[
        "run",
        path.to_str().expect("utf-8 path"),
        "--out",
        dir.path().to_str().expect("utf-8 path"),
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Compared as text: parsing JSON floats back is not exact, writing them is.
    let written = std::fs::read_to_string(dir.path().join("summary.json")).expect("summary.json");
    let mut library = Vec::new();
    cascade_report::write_summary_json(
        &run(load_example("black-thursday-2020")).summary,
        &mut library,
    )
    .expect("written");
    let library = String::from_utf8(library).expect("utf-8");
    if written != library {
        let at = written
            .bytes()
            .zip(library.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "the command's summary differs from the library's at byte {at}:\n{}\n{}",
            &written[at.saturating_sub(200)..(at + 100).min(written.len())],
            &library[at.saturating_sub(200)..(at + 100).min(library.len())]
        );
    }
}

/// `perp.adl` and the other perp figures of one variant of a compare written under `dir`.
fn perp_of(dir: &std::path::Path, variant: &str, exchange: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(variant).join("summary.json"))
        .unwrap_or_else(|e| panic!("{variant}/summary.json: {e}"));
    let summary: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    summary["protocols"][exchange].clone()
}

/// `value` within `relative` of `stated` (a figure as docs/replays/ states it, rounded).
fn near(what: &str, value: &serde_json::Value, stated: f64, relative: f64) {
    let value = value.as_f64().unwrap_or_else(|| panic!("{what}: {value}"));
    assert!(
        (value - stated).abs() <= relative * stated.abs().max(1.0),
        "{what}: measured {value}, docs/replays/ state {stated}"
    );
}

/// docs/replays/hyperliquid-oct-2025.md: the ADL policies compared in one command, each
/// figure as the page states it (millions of USD to the 0.01, or 4 significant digits:
/// relative tolerance 1e-3; counts exactly). A change that moves one fails here: rerun the
/// command and update the page with the test.
#[test]
fn hyperliquid_october_2025_adl_policies_match_the_replay_page() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = repo().join("examples").join("hyperliquid-oct-2025.toml");
    let out = crate::common::run_cli(&[
        "compare",
        path.to_str().expect("utf-8 path"),
        "--out",
        dir.path().to_str().expect("utf-8 path"),
        "--mechanisms",
        "as_is,adl_binance,adl_bitmex,adl_whole_positions,adl_pro_rata,socialised_loss",
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = 1e6;
    // (variant, ADL notional, profitable notional closed, least notional needed, shortfall,
    // profit given up, accounts hit), USD.
    let rows = [
        ("as_is", 2106.97, 2096.36, 8.856, 2.672, 10.61, 1913),
        ("adl_binance", 2066.58, 2096.36, 8.926, 2.672, -29.77, 1813),
        ("adl_bitmex", 2066.58, 2096.36, 8.981, 2.672, -29.77, 1900),
        (
            "adl_whole_positions",
            5400.73,
            5157.48,
            7.876,
            2.672,
            26.70,
            3572,
        ),
        ("adl_pro_rata", 2106.97, 2096.36, 8.859, 2.672, 10.61, 5000),
    ];
    for (variant, notional, profitable, least, needed, haircut, hit) in rows {
        let p = perp_of(dir.path(), variant, "hl-like");
        let adl = &p["perp"]["adl"];
        near(
            &format!("{variant} notional"),
            &adl["notional_usd"],
            notional * m,
            1e-3,
        );
        near(
            &format!("{variant} profitable notional"),
            &adl["profitable_notional_usd"],
            profitable * m,
            1e-3,
        );
        near(
            &format!("{variant} least"),
            &adl["min_notional_usd"],
            least * m,
            1e-3,
        );
        near(
            &format!("{variant} needed"),
            &adl["needed_usd"],
            needed * m,
            1e-3,
        );
        near(
            &format!("{variant} haircut"),
            &adl["haircut_usd"],
            haircut * m,
            1e-3,
        );
        assert_eq!(adl["accounts_hit"], hit, "{variant}");
        let (start, end) = (
            p["perp"]["total_value_start_usd"].as_f64().expect("start"),
            p["perp"]["total_value_end_usd"].as_f64().expect("end"),
        );
        assert!(
            (start - end).abs() <= 1e-9 * start,
            "{variant}: {start} → {end}"
        );
    }
    let as_is = perp_of(dir.path(), "as_is", "hl-like");
    near(
        "liquidated",
        &as_is["perp"]["liquidated_long_usd"],
        11028.3 * m,
        1e-4,
    );
    assert_eq!(as_is["perp"]["accounts_liquidated"], 6769);
    assert_eq!(as_is["perp"]["adl"]["events"], 3239);
    let socialised = perp_of(dir.path(), "socialised_loss", "hl-like");
    near(
        "socialised",
        &socialised["perp"]["socialised_loss_usd"],
        6.783 * m,
        1e-3,
    );
    assert_eq!(socialised["perp"]["adl"]["events"], 0);
}

/// docs/replays/jelly-2025.md: the vault, ADL and an open-interest cap on the JELLY replay,
/// each figure as the page states it (relative tolerance 1e-3; counts exactly).
#[test]
fn jelly_2025_vault_adl_and_cap_match_the_replay_page() {
    let path = repo().join("examples").join("jelly-2025.toml");
    let path = path.to_str().expect("utf-8 path");
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = crate::common::run_cli(&[
        "compare",
        path,
        "--out",
        dir.path().to_str().expect("utf-8 path"),
        "--mechanisms",
        "as_is,no_vault",
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = 1e6;
    let as_is = perp_of(dir.path(), "as_is", "hl-like");
    let vault = &as_is["perp"]["vault"];
    assert_eq!(vault["takeovers"], 1);
    near("worst", &vault["worst_pnl_usd"], -13.91 * m, 1e-3);
    near("at the close", &vault["pnl_usd"], -11.61 * m, 1e-3);
    near("margin", &vault["margin_usd"], -35_088.0, 1e-3);
    near("holdings", &vault["holdings"]["JELLY"], -421.05 * m, 1e-4);
    assert_eq!(as_is["perp"]["adl"]["events"], 0);
    let no_vault = perp_of(dir.path(), "no_vault", "hl-like");
    let adl = &no_vault["perp"]["adl"];
    assert!(no_vault["perp"].get("vault").is_none());
    assert_eq!(adl["accounts_hit"], 163);
    near("deleveraged", &adl["notional_usd"], 3.2 * m, 1e-3);
    near("haircut", &adl["haircut_usd"], 0.188 * m, 1e-3);
    near("needed", &adl["needed_usd"], 0.854 * m, 1e-3);
    near(
        "slice",
        &no_vault["perp"]["liquidated_short_usd"],
        4.12 * m,
        1e-3,
    );
    for p in [&as_is, &no_vault] {
        let (start, end) = (
            p["perp"]["total_value_start_usd"].as_f64().expect("start"),
            p["perp"]["total_value_end_usd"].as_f64().expect("end"),
        );
        assert!((start - end).abs() <= 1e-9 * start, "{start} → {end}");
    }
    // The cap: the whale's positions refused, so no takeover.
    let capped = tempfile::tempdir().expect("temporary directory");
    let out = crate::common::run_cli(&[
        "run",
        path,
        "--set",
        "protocols[0].markets[0].open_interest_cap_usd=2000000",
        "--out",
        capped.path().to_str().expect("utf-8 path"),
        "--events",
        "none",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("2 accounts (8000000 USD at entry) refused") && stderr.contains("refused"),
        "{stderr}"
    );
    let text = std::fs::read_to_string(capped.path().join("summary.json")).expect("summary");
    let summary: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let vault = &summary["protocols"]["hl-like"]["perp"]["vault"];
    assert_eq!(vault["takeovers"], 0);
    assert_eq!(vault["worst_pnl_usd"], 0.0);
}
