//! Scenario semantics that are easy to get subtly wrong: path ramps, truncated distributions,
//! positions sized at the protocol's own prices, warnings, the feedback gain's fee share and the
//! timeline's per-asset columns.

use cascade_analytics::timeline;
use cascade_model::ids::AssetId;

use crate::common::{load_str, run_str};

const BASE: &str = r#"
[simulation]
name = "semantics"
seed = 3
steps = 4
step_seconds = 60

[[assets]]
symbol = "ETH"
price = 2000.0
DRIVER

[[assets]]
symbol = "USDC"
price = 1.0

[[venues]]
name = "spot"
base = "ETH"
quote = "USDC"
IMPACT

[[oracles]]
name = "eth-usd"
asset = "ETH"
sources = ["spot"]
aggregation = "last"

[[protocols]]
name = "lender"
kind = "lending"
liquidation = { mechanism = "fixed_spread", bonus = 0.05, close_factor = 1.0, protocol_fee = FEE }
oracles = { ETH = "eth-usd" }
collateral = { ETH = { ltv = 0.80, liquidation_threshold = 0.85 } }

[[positions]]
protocol = "lender"
count = 2000
collateral = { asset = "ETH", total = 10000.0 }
debt = { asset = "USDC" }
TARGET

[[keepers]]
name = "keeper"
protocols = ["lender"]
sell_on = "spot"
"#;

fn scenario(driver: &str, impact: &str, fee: &str, target: &str) -> String {
    BASE.replace("DRIVER", driver)
        .replace("IMPACT", impact)
        .replace("FEE", fee)
        .replace("TARGET", target)
}

const LINEAR: &str = r#"impact = { model = "linear", usd_per_unit = 0.01 }"#;
const WALL: &str = r#"liquidation_price = { distribution = "even", low = 1500.0, high = 2000.0 }"#;

#[test]
fn a_path_whose_first_point_is_later_ramps_from_the_asset_price() {
    let text = scenario(
        r#"driver = { model = "path", points = [[120, 1800.0], [240, 1800.0]] }"#,
        LINEAR,
        "0.0",
        r#"health_factor = { distribution = "even", low = 2.0, high = 3.0 }"#,
    );
    let run = run_str(&text);
    let table = timeline(&run.world, &run.events);
    let fundamental: Vec<f64> = table.rows.iter().map(|row| row[2]).collect();
    // Steps at 0, 60, 120, 180, 240 s: 2000 → 1900 → 1800 and flat.
    assert_eq!(fundamental, vec![2000.0, 1900.0, 1800.0, 1800.0, 1800.0]);
}

#[test]
fn truncated_health_factors_stay_within_their_bounds() {
    for kind in ["normal", "lognormal"] {
        let text = scenario(
            "",
            LINEAR,
            "0.0",
            &format!(
                r#"health_factor = {{ distribution = "{kind}", mean = 1.3, std = 0.5, low = 1.1, high = 1.6 }}"#
            ),
        );
        let loaded = load_str(&text).expect("valid");
        let world = &loaded.world;
        let price = |a: AssetId| if a.0 == 0 { 2000.0 } else { 1.0 };
        let params = &world.protocols[0].params;
        let factors: Vec<f64> = world.initial.protocols[0]
            .accounts
            .iter()
            .map(|a| a.health_factor(params, &price))
            .collect();
        let (min, max) = factors
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &h| (lo.min(h), hi.max(h)));
        assert!(
            min >= 1.1 - 1e-12 && max <= 1.6 + 1e-12,
            "{kind}: [{min}, {max}]"
        );
        // Without truncation the same distribution produces accounts below 1.1.
        assert!(
            loaded
                .warnings
                .iter()
                .all(|w| !w.contains("start liquidatable"))
        );
    }
}

#[test]
fn accounts_that_start_liquidatable_are_announced() {
    let text = scenario(
        "",
        LINEAR,
        "0.0",
        r#"health_factor = { distribution = "normal", mean = 1.2, std = 0.3 }"#,
    );
    let loaded = load_str(&text).expect("valid");
    let warning = loaded
        .warnings
        .iter()
        .find(|w| w.contains("start liquidatable"));
    assert!(warning.is_some(), "{:?}", loaded.warnings);
}

#[test]
fn positions_are_sized_at_the_price_the_protocol_sees() {
    // An order book whose best bid is 1% under the fundamental: the oracle publishes 1,980, and a
    // health factor of 1.5 is meant at that price.
    let text = scenario(
        "",
        r#"impact = { model = "order_book", levels = [[1980.0, 1000.0], [1900.0, 1000.0]] }"#,
        "0.0",
        r#"health_factor = { distribution = "even", low = 1.5, high = 1.5 }"#,
    );
    let loaded = load_str(&text).expect("valid");
    let world = &loaded.world;
    let price = |a: AssetId| if a.0 == 0 { 1980.0 } else { 1.0 };
    for account in &world.initial.protocols[0].accounts {
        let hf = account.health_factor(&world.protocols[0].params, &price);
        assert!((hf - 1.5).abs() < 1e-9, "{hf}");
    }
}

#[test]
fn the_feedback_gain_counts_only_what_keepers_sell() {
    // Uniform wall, 1% window: ρ = 10,000 / 500 per USD, κ = 0.85 · 1.05, λ = 0.01. The protocol's
    // fee share of the seized collateral (fee · bonus / (1 + bonus)) stays in its treasury.
    let gain = |fee: &str| {
        let run = run_str(&scenario("", LINEAR, fee, WALL));
        run.summary.cascade.feedback_gain["ETH"]
    };
    let expected = 0.01 * (10_000.0 / 500.0) * (0.85 * 1.05);
    let without = gain("0.0");
    assert!(
        (without - expected).abs() < 0.01 * 0.85 * 1.05 * 5.0 / 20.0 + 1e-12,
        "{without}"
    );
    let with = gain("0.5");
    let share = 1.0 - 0.5 * 0.05 / 1.05;
    assert!((with / without - share).abs() < 1e-12, "{with} / {without}");
}

#[test]
fn the_timeline_reports_units_sold_per_asset() {
    let text = scenario("", LINEAR, "0.0", WALL)
        + "\n[[shocks]]\nasset = \"ETH\"\nstep = 1\ndrop = 0.05\n";
    let run = run_str(&text);
    let table = timeline(&run.world, &run.events);
    let eth = table
        .columns
        .iter()
        .position(|c| c == "sold_ETH")
        .expect("sold_ETH");
    let usdc = table
        .columns
        .iter()
        .position(|c| c == "sold_USDC")
        .expect("sold_USDC");
    let sold: f64 = table.rows.iter().map(|row| row[eth]).sum();
    assert!((sold - run.summary.liquidations.collateral_sold["ETH"]).abs() < 1e-6);
    assert!(table.rows.iter().all(|row| row[usdc] == 0.0));
}

#[test]
fn keepers_stop_where_a_concentrated_range_runs_out_of_bids() {
    let text = scenario(
        "",
        r#"impact = { model = "concentrated_liquidity", liquidity = 20000.0, fee = 0.003, lower_price = 1900.0 }"#,
        "0.0",
        WALL,
    ) + "\n[[shocks]]\nasset = \"ETH\"\nstep = 1\ndrop = 0.02\n";
    let run = run_str(&text);
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
    let text = scenario("", LINEAR, "0.0", WALL).replace(
        "collateral = { ETH = { ltv = 0.80, liquidation_threshold = 0.85 } }",
        "collateral = { ETH = { ltv = 0.80, liquidation_threshold = 0.85 } }\nepoch_seconds = 180",
    ) + "\n[[shocks]]\nasset = \"ETH\"\nstep = 1\ndrop = 0.05\n";
    let run = run_str(&text);
    let times: std::collections::BTreeSet<u64> = run
        .events
        .iter()
        .filter(|e| matches!(e.kind, cascade_engine::EventKind::Liquidation(_)))
        .map(|e| e.time)
        .collect();
    // The shock lands at 60 s; the first epoch boundary after it is 180 s.
    assert_eq!(times.into_iter().collect::<Vec<_>>(), vec![180]);
}
