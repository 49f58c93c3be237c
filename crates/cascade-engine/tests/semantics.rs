//! Engine semantics that are easy to get subtly wrong: path ramps, keepers at the end of a
//! concentrated range, protocols that check positions only at epoch boundaries.

use cascade_engine::EventKind;
use cascade_test_support::Fixture;

/// The `lender` fixture: a wall of loans liquidatable evenly between 1,500 and 2,000 USD.
fn lender() -> Fixture {
    Fixture::named("lender")
}

const SHOCK: &str = "[[shocks]]\nasset = \"ETH\"\nstep = 1\ndrop = ";

#[test]
fn a_path_whose_first_point_is_later_ramps_from_the_asset_price() {
    let run = lender()
        .set_raw(
            "assets[0].driver",
            r#"{ model = "path", points = [[120, 1800.0], [240, 1800.0]] }"#,
        )
        .remove("positions[0].liquidation_price")
        .set_raw(
            "positions[0].health_factor",
            r#"{ distribution = "even", low = 2.0, high = 3.0 }"#,
        )
        .run();
    // Steps at 0, 60, 120, 180, 240 s: 2000 → 1900 → 1800 and flat.
    assert_eq!(
        run.column("fundamental_ETH"),
        vec![2000.0, 1900.0, 1800.0, 1800.0, 1800.0]
    );
}

#[test]
fn keepers_stop_where_a_concentrated_range_runs_out_of_bids() {
    let run = lender()
        .set_raw(
            "venues[0].impact",
            r#"{ model = "concentrated_liquidity", liquidity = 20000.0, fee = 0.003, lower_price = 1900.0 }"#,
        )
        .append(&format!("{SHOCK}0.02"))
        .run();
    // The range ends 5% below the fundamental (1,960 after the shock). Its bids hold
    // L·(1/√1862 − 1/√1960)/(1 − fee) units; selling beyond pays nothing, so keepers stop there
    // and the rest of the wall stays liquidatable (missed), the venue never below the range.
    let curve = cascade_model::venue::ImpactCurve::ConcentratedLiquidity {
        liquidity: 20_000.0,
        fee: 0.003,
        range_depth: 0.05,
    };
    let capacity = curve.capacity(1960.0, 0.0);
    let sold = run.summary.liquidations.collateral_sold["ETH"];
    assert!(
        sold > 0.0 && sold <= capacity + 1e-9,
        "sold {sold} of {capacity}"
    );
    assert!(run.summary.assets["ETH"].min_price >= 1960.0 * 0.95 - 1e-9);
    assert!(run.summary.liquidations.missed > 0);
}

#[test]
fn an_epoch_protocol_checks_positions_only_at_epoch_boundaries() {
    let run = lender()
        .set("protocols[0].epoch_seconds", 180)
        .append(&format!("{SHOCK}0.05"))
        .run();
    let times: std::collections::BTreeSet<u64> = run
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Liquidation(_)))
        .map(|e| e.time)
        .collect();
    // The shock lands at 60 s; the first epoch boundary after it is 180 s.
    assert_eq!(times.into_iter().collect::<Vec<_>>(), vec![180]);
}
