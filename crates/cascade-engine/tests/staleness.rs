//! Oracle staleness (docs/reference-math.md §9.4): a protocol that checks its oracles' age pauses
//! liquidations, or falls back to a second oracle, while a price is older than its maximum age;
//! the summary and the timeline count it. Worked example S2 by hand, and the shipped example
//! (examples/oracle-staleness.toml) end to end.
//!
//! S2: ETH 2,000 → 1,500 at t = 60 s and back to 2,000 at 120 s (a path), steps of 60 s to
//! 1,200 s. The feed reads the fundamental (0.5% deviation, one-hour heartbeat) and is out from
//! 120 s on, so its price is 1,500, published at 60 s; with a maximum age of 300 s it is stale
//! from 420 s (age 360 s > 300 s) to the end: 14 steps, 840 s, the oldest 1,140 s. One loan of
//! 10 ETH with liquidation price 1,700 (threshold 0.8: debt 13,600 USDC) is liquidatable at
//! 1,500 (health 0.882) and healthy at 2,000 (1.176). The keeper is away until 600 s.
//! - Without a check, the keeper liquidates it at 600 s at the stale 1,500: a full close seizes
//!   13,600 × 1.05 / 1,500 = 9.52 ETH, worth 19,040 USD at 2,000, for 13,600 of debt.
//! - Pausing, it is missed at 60–360 s (fresh price, no keeper) and paused at 420–1,200 s (14
//!   steps, one round each): never liquidated.
//! - Falling back to a fresh every-read oracle of the fundamental, the protocol prices ETH at
//!   2,000 from 420 s on: healthy, never liquidated, nothing paused, 840 s of fallback.
//! - Falling back to an oracle that is out too, both are stale: paused as without a fallback.

use cascade_engine::EventKind;
use cascade_test_support::{Fixture, Run, run_str};

/// Scenario S2 with `staleness` (a TOML line, or empty) on the protocol and `fallback_outage`
/// the fallback oracle's outages.
fn s2(staleness: &str, fallback_outages: &str) -> Run {
    run_str(&format!(
        r#"
[simulation]
name = "s2"
seed = 1
steps = 20
step_seconds = 60

[[assets]]
symbol = "ETH"
price = 2000.0
driver = {{ model = "path", points = [[0, 2000.0], [60, 1500.0], [120, 2000.0], [1200, 2000.0]] }}

[[assets]]
symbol = "USDC"
price = 1.0

[[venues]]
name = "spot"
base = "ETH"
quote = "USDC"
impact = {{ model = "linear", usd_per_unit = 0.01 }}

[[oracles]]
name = "feed"
asset = "ETH"
sources = ["fundamental"]
update = "deviation"
deviation_threshold = 0.005
heartbeat_seconds = 3600
outages = [{{ from_seconds = 120, to_seconds = 100000 }}]

[[oracles]]
name = "second"
asset = "ETH"
sources = ["fundamental"]
outages = [{fallback_outages}]

[[protocols]]
name = "lender"
kind = "lending"
liquidation = {{ mechanism = "fixed_spread", bonus = 0.05, close_factor = 1.0 }}
oracles = {{ ETH = "feed" }}
collateral = {{ ETH = {{ ltv = 0.75, liquidation_threshold = 0.8 }} }}
{staleness}

[[positions]]
protocol = "lender"
count = 1
collateral = {{ asset = "ETH", total = 10.0 }}
debt = {{ asset = "USDC" }}
liquidation_price = {{ distribution = "even", low = 1600.0, high = 1800.0 }}

[[keepers]]
name = "keeper"
protocols = ["lender"]
sell_on = "spot"
outages = [{{ from_seconds = 0, to_seconds = 600 }}]
"#
    ))
}

const PAUSE: &str = r#"oracle_staleness = { max_age_seconds = 300, on_stale = "pause" }"#;
const FALLBACK: &str = r#"oracle_staleness = { max_age_seconds = 300, on_stale = "fallback", fallback_oracles = { ETH = "second" } }"#;

/// Times of the events of `kind`'s name.
fn times(run: &Run, name: &str) -> Vec<u64> {
    run.events
        .iter()
        .filter(|e| e.kind.name() == name)
        .map(|e| e.time)
        .collect()
}

fn stale_steps() -> Vec<u64> {
    (7..=20).map(|k| k * 60).collect()
}

#[test]
fn without_a_check_the_stale_price_liquidates_a_healthy_loan_s2() {
    let run = s2("", "");
    let calls: Vec<_> = run
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Liquidation(l) => Some((e.time, l.collateral_seized, l.debt_repaid)),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let (time, seized, repaid) = calls[0];
    assert_eq!(time, 600);
    assert!((repaid - 13_600.0).abs() < 1e-6, "{repaid}");
    assert!((seized - 9.52).abs() < 1e-9, "{seized}");
    let lender = &run.summary.protocols["lender"];
    assert!(lender.oracle_staleness.is_none());
    assert!(times(&run, "feed_stale").is_empty());
    assert!(!run.timeline.columns.iter().any(|c| c.starts_with("stale_")));
}

#[test]
fn a_pausing_protocol_leaves_the_loan_while_its_price_is_stale_s2() {
    let run = s2(PAUSE, "");
    assert!(times(&run, "liquidation").is_empty());
    assert_eq!(times(&run, "feed_stale"), stale_steps());
    assert_eq!(times(&run, "liquidations_paused"), stale_steps());
    // Missed while the price was fresh and the keeper away.
    assert_eq!(
        times(&run, "liquidations_missed"),
        [60, 120, 180, 240, 300, 360]
    );
    let ages: Vec<u64> = run
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::FeedStale { age, fallback, .. } => {
                assert_eq!(fallback, None);
                Some(age)
            }
            _ => None,
        })
        .collect();
    assert_eq!(ages.first(), Some(&360));
    assert_eq!(ages.last(), Some(&1140));
    let s = run.summary.protocols["lender"]
        .oracle_staleness
        .clone()
        .expect("a check");
    assert_eq!(s.max_age_seconds, 300);
    assert_eq!(s.on_stale, "pause");
    assert_eq!(s.stale_seconds, 840);
    assert_eq!(s.paused_seconds, 840);
    assert_eq!(s.fallback_seconds, 0);
    assert_eq!(s.liquidations_paused, 14);
    assert_eq!(s.oldest_price_seconds, 1140);
    assert_eq!(s.first_stale_seconds, Some(420));
    assert_eq!(run.summary.liquidations.missed, 6);
    // The timeline's flag and count, a row per step from 0.
    let flag = run.column("stale_lender");
    let paused = run.column("liquidations_paused_lender");
    assert_eq!(flag.len(), 21);
    for (k, (f, p)) in flag.iter().zip(&paused).enumerate() {
        let stale = k >= 7;
        assert_eq!(*f, f64::from(u8::from(stale)), "step {k}");
        assert_eq!(*p, f64::from(u8::from(stale)), "step {k}");
    }
}

#[test]
fn a_fresh_fallback_prices_the_loan_healthy_s2() {
    let run = s2(FALLBACK, "");
    assert!(times(&run, "liquidation").is_empty());
    assert!(times(&run, "liquidations_paused").is_empty());
    assert_eq!(times(&run, "feed_stale"), stale_steps());
    let s = run.summary.protocols["lender"]
        .oracle_staleness
        .clone()
        .expect("a check");
    assert_eq!(s.on_stale, "fallback");
    assert_eq!(
        (s.stale_seconds, s.paused_seconds, s.fallback_seconds),
        (840, 0, 840)
    );
    assert_eq!(s.liquidations_paused, 0);
    // The protocol's price is the fallback's: the loan's end mark is at 2,000, healthy.
    assert_eq!(run.summary.protocols["lender"].bad_debt_usd, 0.0);
    assert_eq!(run.summary.liquidations.missed, 6);
}

#[test]
fn a_stale_fallback_pauses_s2() {
    let run = s2(FALLBACK, "{ from_seconds = 120, to_seconds = 100000 }");
    assert!(times(&run, "liquidation").is_empty());
    assert_eq!(times(&run, "liquidations_paused"), stale_steps());
    let s = run.summary.protocols["lender"]
        .oracle_staleness
        .clone()
        .expect("a check");
    assert_eq!(
        (s.stale_seconds, s.paused_seconds, s.fallback_seconds),
        (840, 840, 0)
    );
}

/// The shipped example: the pause holds liquidations while the feed is stale and the summary,
/// the events and the timeline agree; falling back to the TWAP liquidates through the outage
/// and leaves less bad debt.
#[test]
fn the_example_pauses_and_its_fallback_leaves_less_bad_debt() {
    let pause = Fixture::example("oracle-staleness").run();
    let s = pause.summary.protocols["lender"]
        .oracle_staleness
        .clone()
        .expect("a check");
    let dt = pause.world.simulation.step_seconds;
    assert!(s.stale_seconds > 0);
    assert_eq!(s.paused_seconds, s.stale_seconds);
    assert_eq!(s.fallback_seconds, 0);
    assert!(s.liquidations_paused > 0);
    let paused_events: u64 = pause
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::LiquidationsPaused { count, .. } => Some(count),
            _ => None,
        })
        .sum();
    assert_eq!(paused_events, s.liquidations_paused);
    let flagged: f64 = pause.column("stale_lender").iter().sum();
    assert_eq!(flagged as u64 * dt, s.stale_seconds);
    let paused_rows: f64 = pause.column("liquidations_paused_lender").iter().sum();
    assert_eq!(paused_rows as u64, s.liquidations_paused);
    // No liquidation of the protocol while its price is stale.
    let stale: Vec<u64> = times(&pause, "feed_stale");
    assert!(
        pause
            .events
            .iter()
            .all(|e| !matches!(e.kind, EventKind::Liquidation(_)) || !stale.contains(&e.time))
    );

    let fallback = Fixture::example("oracle-staleness")
        .set("protocols[0].oracle_staleness.on_stale", "fallback")
        .set_raw(
            "protocols[0].oracle_staleness.fallback_oracles",
            r#"{ ETH = "eth-twap" }"#,
        )
        .run();
    let f = fallback.summary.protocols["lender"]
        .oracle_staleness
        .clone()
        .expect("a check");
    assert_eq!(f.stale_seconds, s.stale_seconds);
    assert_eq!(f.fallback_seconds, f.stale_seconds);
    assert_eq!((f.paused_seconds, f.liquidations_paused), (0, 0));
    let liquidated_while_stale = fallback
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Liquidation(_)) && stale.contains(&e.time))
        .count();
    assert!(liquidated_while_stale > 0);
    let (paused_debt, fallback_debt) = (pause.summary.bad_debt_usd, fallback.summary.bad_debt_usd);
    assert!(
        fallback_debt < paused_debt,
        "fallback {fallback_debt} ≥ pause {paused_debt}"
    );
}
