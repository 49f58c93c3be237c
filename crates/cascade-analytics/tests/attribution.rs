//! Contagion attribution on whole runs: the shares add up to what forced selling added, the
//! run with no source muted is the run itself, and a protocol that liquidates nothing causes
//! nothing.

use std::sync::Arc;

use cascade_analytics::RunInfo;
use cascade_analytics::attribution::{Shares, attribute};
use cascade_test_support::Fixture;

fn check_efficiency(what: &str, s: &Shares) {
    let sum: f64 = s.by_source.values().sum();
    let scale = s.total.abs().max(s.without_forced_trades.abs()).max(1.0);
    assert!(
        (s.without_forced_trades + sum - s.total).abs() < 1e-9 * scale,
        "{what}: {} + {sum} != {}",
        s.without_forced_trades,
        s.total
    );
}

#[test]
fn shares_add_up_to_the_run_itself() {
    let fixture = Fixture::example("lending-rules");
    let run = fixture.run();
    let world = fixture.world();
    let a = attribute(&world, &RunInfo::default(), 0).unwrap();
    assert_eq!(a.sources.len(), 4);
    assert_eq!(a.runs, 16);
    // The counterfactual with every source's trades moving the venues is the run.
    assert_eq!(a.bad_debt_usd.total, run.summary.bad_debt_usd);
    for (symbol, shares) in &a.total_drop {
        assert_eq!(
            shares.total, run.summary.assets[symbol].total_drop,
            "{symbol}"
        );
        check_efficiency(symbol, shares);
    }
    check_efficiency("bad debt", &a.bad_debt_usd);
    for (name, shares) in &a.protocols {
        assert_eq!(
            shares.total, run.summary.protocols[name].bad_debt_usd,
            "{name}"
        );
        check_efficiency(name, shares);
    }
    // Forced selling deepened the fall: muting every source leaves the exogenous 25% shock.
    let eth = &a.total_drop["ETH"];
    assert!((eth.without_forced_trades - 0.25).abs() < 1e-9, "{eth:?}");
    assert!(eth.by_source.values().all(|s| *s > 0.0), "{eth:?}");
}

#[test]
fn a_protocol_that_liquidates_nothing_causes_nothing() {
    // The lender's wall of loans (liquidatable between 1,500 and 2,000) and an idle protocol whose
    // loans are liquidatable below 200, on the same venue and keeper; a 20% shock.
    let fixture = Fixture::named("lender")
        .set_raw("keepers[0].protocols", "[\"lender\", \"idle\"]")
        .append(
            r#"
[[protocols]]
name = "idle"
kind = "lending"
liquidation = { mechanism = "fixed_spread", bonus = 0.05, close_factor = 1.0 }
oracles = { ETH = "eth-usd" }
collateral = { ETH = { ltv = 0.5, liquidation_threshold = 0.6 } }

[[positions]]
protocol = "idle"
count = 100
collateral = { asset = "ETH", total = 1000.0 }
debt = { asset = "USDC" }
liquidation_price = { distribution = "even", low = 100.0, high = 200.0 }

[[shocks]]
asset = "ETH"
step = 1
drop = 0.2
"#,
        );
    let world: Arc<_> = fixture.world();
    let a = attribute(&world, &RunInfo::default(), 0).unwrap();
    let eth = &a.total_drop["ETH"];
    assert_eq!(eth.by_source["idle"], 0.0, "{eth:?}");
    assert!(eth.by_source["lender"] > 0.01, "{eth:?}");
    assert!((eth.without_forced_trades - 0.2).abs() < 1e-9, "{eth:?}");
    check_efficiency("ETH", eth);
}
