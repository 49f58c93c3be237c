//! The measures' semantics on whole runs: what the feedback gain counts, the timeline's per-asset
//! columns, when time to close starts. One test binary for these; each section one measure.

use cascade_test_support::{Fixture, run_str};

/// The `lender` fixture: a wall of loans liquidatable evenly between 1,500 and 2,000 USD on a
/// linear venue (0.01 USD per ETH sold), 10,000 ETH in all.
fn lender() -> Fixture {
    Fixture::named("lender")
}

#[test]
fn the_feedback_gain_counts_only_what_keepers_sell() {
    // Uniform wall, 1% window: ρ = 10,000 / 500 per USD, κ = 0.85 · 1.05, λ = 0.01. The protocol's
    // fee share of the seized collateral (fee · bonus / (1 + bonus)) stays in its treasury.
    let gain = |fee: f64| {
        let run = lender()
            .set("protocols[0].liquidation.protocol_fee", fee)
            .run();
        run.summary.cascade.feedback_gain["ETH"]
    };
    let expected = 0.01 * (10_000.0 / 500.0) * (0.85 * 1.05);
    let without = gain(0.0);
    assert!(
        (without - expected).abs() < 0.01 * 0.85 * 1.05 * 5.0 / 20.0 + 1e-12,
        "{without}"
    );
    let with = gain(0.5);
    let share = 1.0 - 0.5 * 0.05 / 1.05;
    assert!((with / without - share).abs() < 1e-12, "{with} / {without}");
}

#[test]
fn the_timeline_reports_units_sold_per_asset() {
    let run = lender()
        .append("[[shocks]]\nasset = \"ETH\"\nstep = 1\ndrop = 0.05")
        .run();
    let sold: f64 = run.column("sold_ETH").iter().sum();
    assert!((sold - run.summary.liquidations.collateral_sold["ETH"]).abs() < 1e-6);
    assert!(run.column("sold_USDC").iter().all(|&units| units == 0.0));
}

#[test]
fn time_to_close_counts_from_the_first_check_that_found_the_account_liquidatable() {
    // Two accounts become liquidatable at the 5% shock (t = 60 s). The oracle reads the
    // fundamental, the keeper sells on a venue whose impact is all transient (half-life 60 s):
    // the first liquidation at once pushes the venue so low that the second is unprofitable
    // until the venue has recovered for three steps (t = 240 s). Episodes: 0 s and 180 s.
    // Written out whole: every figure below takes part in that timing.
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

#[test]
fn a_lone_bidder_is_told_by_the_keepers_that_won_lots() {
    use cascade_analytics::compare::lone_bidder;
    // Two keepers, but one never pays the chain's gas price: the other wins every lot.
    let lone = Fixture::named("congested-flips").run();
    let a = lone.summary.protocols["eth-a"]
        .auctions
        .as_ref()
        .expect("auctions");
    let found = lone_bidder(&lone.summary).expect("a lone bidder");
    assert_eq!(
        (found.taken, found.won_near_zero, found.bad_debt_usd),
        (a.taken, a.won_near_zero, lone.summary.bad_debt_usd)
    );
    assert!(found.won_near_zero > 0 && found.bad_debt_usd > 0.0);
    // Two keepers who both win lots: lots still go for nothing, but not for want of a rival.
    let rivals = Fixture::example("maker-english-auction").run();
    let winners = rivals
        .summary
        .keepers
        .values()
        .filter(|k| k.liquidations > 0)
        .count();
    let a = rivals.summary.protocols["eth-a"]
        .auctions
        .as_ref()
        .expect("auctions");
    assert!(winners > 1 && a.won_near_zero > 0 && rivals.summary.bad_debt_usd > 0.0);
    assert_eq!(lone_bidder(&rivals.summary), None);
}
