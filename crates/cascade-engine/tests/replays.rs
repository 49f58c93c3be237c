//! The historical replays: Black Thursday (examples/black-thursday-2020.toml) and the 19 May
//! 2021 replay (examples/may-2021-replay.toml) with their headline figures as golden snapshots;
//! overlays spliced into a replay; a constant-product venue whose liquidity follows a reserve
//! series.
//!
//! # Golden figures
//!
//! The headline figures are snapshots (`tests/snapshots/tests__replays__*.snap`, through
//! `insta`): counts exactly, money, units and prices to 9 significant digits. The runs are
//! deterministic, but the generated books and stochastic paths go through the platform's
//! `exp`/`ln`, whose last bits are not promised alike everywhere; 9 digits (1e-9 relative) keeps
//! the goldens far tighter than any change of behaviour while a last-bit difference cannot move
//! them. A change to the engine that moves a figure fails here: if it is meant, update the
//! snapshot and docs/replays/ together, with `cargo insta review` (cargo-insta), or without
//! cargo-insta by `INSTA_UPDATE=always cargo test -p cascade-engine --test tests replays` and
//! reviewing the diff of the `.snap` files before committing.

use std::collections::BTreeMap;
use std::fs;
use std::sync::Arc;

use cascade_engine::{Engine, EventKind};
use cascade_model::venue::ImpactCurve;
use cascade_test_support::{Fixture, load_example, load_str, repo, run, significant};
use serde_json::{Value, json};

/// A figure for a snapshot: money, units and prices to 9 significant digits.
fn figure(value: f64) -> Value {
    json!(significant(value, 9))
}

/// Black Thursday: auctions started, the share won at (near) zero, the collateral sold for zero,
/// the DAI deficit and the 50,000-DAI lots to cover it.
#[test]
fn black_thursday_2020_figures() {
    let run = run(load_example("black-thursday-2020"));
    let s = &run.summary;
    let p = &s.protocols["eth-a"];
    let a = p.auctions.as_ref().expect("auctions");
    let b = p.borrowers.as_ref().expect("owners act");
    let t = &s.chain.as_ref().expect("a chain").transactions;
    let figures = BTreeMap::from([
        ("auctions kicked", json!(a.kicked)),
        ("auctions won near zero", json!(a.won_near_zero)),
        (
            "ETH won near zero",
            figure(
                a.collateral_won_near_zero
                    .get("ETH")
                    .copied()
                    .unwrap_or(0.0),
            ),
        ),
        (
            "value won near zero, USD",
            figure(a.collateral_won_near_zero_usd),
        ),
        ("deficit, USD", figure(p.bad_debt_usd)),
        (
            "debt-auction lots needed",
            json!(p.debt_auction_lots_needed.expect("debt auctions")),
        ),
        ("owners' top-ups", json!(b.top_ups)),
        ("transactions sent", json!(t.sent)),
        ("transactions dropped", json!(t.dropped_expired)),
        ("ETH lowest venue price", figure(s.assets["ETH"].min_price)),
    ]);
    // If the change is meant, update docs/replays/black-thursday.md with the snapshot.
    insta::assert_json_snapshot!("black_thursday_2020", figures);
    // Near the public record (about 36%): a sanity bound independent of the snapshot.
    assert!(a.won_near_zero_share > 0.2 && a.won_near_zero_share < 0.6);
}

const MAY: &str = "may-2021-replay";

/// Seconds from 00:00 UTC on 19 May 2021 (Unix 1621382400).
const MAY_19: f64 = 1_621_382_400.0;

/// The StableSims reserve points of the Uniswap v2 DAI/WETH pair, (WETH, DAI), in file order.
fn reserves() -> Vec<(f64, f64)> {
    let text = fs::read_to_string(repo().join("data/eth_dai_liquidity_05-19-2021.json"))
        .expect("reserve data");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    json.as_array()
        .expect("an array of points")
        .iter()
        .map(|p| {
            (
                p["WETH"].as_f64().expect("WETH"),
                p["DAI"].as_f64().expect("DAI"),
            )
        })
        .collect()
}

/// Uniswap v2 `getAmountOut` (docs/reference-math.md §10.1): `amount_in` base sold into reserves
/// (`reserve_in` base, `reserve_out` quote) with a 0.3% fee.
fn get_amount_out(amount_in: f64, reserve_in: f64, reserve_out: f64) -> f64 {
    let in_with_fee = amount_in * 997.0;
    in_with_fee * reserve_out / (reserve_in * 1000.0 + in_with_fee)
}

fn close(a: f64, b: f64, relative: f64) -> bool {
    (a - b).abs() <= relative * b.abs()
}

/// The liquidity of an AMM venue's curve.
fn liquidity(curve: &ImpactCurve) -> f64 {
    match curve {
        ImpactCurve::ConstantProduct { liquidity, .. } => *liquidity,
        other => panic!("not a constant-product pool: {other:?}"),
    }
}

/// A pool driven by the real reserves, one point every 10 minutes from time 0, with ETH's
/// fundamental on the pool's own price at each point (a path through DAI / WETH): at a point's
/// time the re-centred pool holds exactly the recorded reserves, so a sale from rest must be
/// Uniswap v2's `getAmountOut` on them. Between points (5-minute steps) the point in force
/// still sets L, re-centred on the interpolated fundamental: reserves L/√F and L·√F.
#[test]
fn a_sale_into_the_pool_is_get_amount_out_on_the_reserves_in_force() {
    let points = reserves();
    let path: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, (weth, dai))| format!("[{}, {}]", i * 600, dai / weth))
        .collect();
    let text = format!(
        r#"
[simulation]
name = "reserve-pool"
seed = 1
steps = 286
step_seconds = 300

[[assets]]
symbol = "ETH"
price = {start}
driver = {{ model = "path", points = [{path}] }}

[[assets]]
symbol = "DAI"
price = 1.0

[[venues]]
name = "pool"
base = "ETH"
quote = "DAI"
impact = {{ model = "constant_product", fee = 0.003, reserves = {{ file = "data/eth_dai_liquidity_05-19-2021.json", base_column = "WETH", quote_column = "DAI", interval_seconds = 600 }} }}
"#,
        start = points[0].1 / points[0].0,
        path = path.join(", "),
    );
    let scenario = load_str(&text).unwrap_or_else(|e| panic!("invalid:\n{e}"));
    let world = Arc::new(scenario.world);
    let mut engine = Engine::new(Arc::clone(&world));
    let mut events = Vec::new();
    let mut checked = 0;
    while !engine.finished() {
        engine.step(&mut events);
        let t = engine.current_step() * 300;
        let (weth, dai) = points[(t / 600) as usize];
        let venue = &engine.state().venues[0];
        let fundamental = engine.state().fundamentals[0].price();
        assert!(
            close(liquidity(venue.curve()), (weth * dai).sqrt(), 1e-12),
            "L at {t} s"
        );
        let (x, y) = if t % 600 == 0 {
            assert!(close(fundamental, dai / weth, 1e-12));
            (weth, dai)
        } else {
            let l = (weth * dai).sqrt();
            (l / fundamental.sqrt(), l * fundamental.sqrt())
        };
        for units in [1.0, 10.0, 100.0, 1000.0] {
            let fill = venue.quote(fundamental, units);
            let expected = get_amount_out(units, x, y);
            assert!(
                close(fill.proceeds, expected, 1e-9),
                "{units} ETH at {t} s: {} vs getAmountOut {expected}",
                fill.proceeds
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 287, "step 0 and 286 steps");
    // One event per change of L, none at points whose L repeats the previous one.
    let changes = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::VenueLiquidityChanged { .. }))
        .count();
    let distinct = points
        .windows(2)
        .filter(|w| (w[0].0 * w[0].1).sqrt() != (w[1].0 * w[1].1).sqrt())
        .count();
    assert_eq!(changes, distinct);
}

/// The May 2021 replay: at every step the pool's L is √(WETH · DAI) of the reserve point in
/// force (a point every 10 minutes from 07:00 UTC, the first one's before), and events.csv's
/// `venue_liquidity_changed` rows say so.
#[test]
fn the_may_2021_pool_follows_the_reserves() {
    let points = reserves();
    let world = Arc::new(load_example(MAY).world);
    let mut engine = Engine::new(Arc::clone(&world));
    let mut events = Vec::new();
    let in_force = |t: u64| {
        let (weth, dai) = points[(t.saturating_sub(25_200) / 600) as usize];
        (weth * dai).sqrt()
    };
    while !engine.finished() {
        engine.step(&mut events);
        let t = engine.current_step() * 60;
        let l = liquidity(engine.state().venues[0].curve());
        assert!(close(l, in_force(t), 1e-12), "L at {t} s: {l}");
    }
    let changed: Vec<(u64, f64)> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::VenueLiquidityChanged { liquidity, .. } => Some((e.time, liquidity)),
            _ => None,
        })
        .collect();
    // Points 1 … 101 take effect at 07:10 … 23:50 UTC.
    assert_eq!(changed.len(), 101);
    for (i, &(time, l)) in changed.iter().enumerate() {
        assert_eq!(time, 25_200 + 600 * (i as u64 + 1));
        assert!(close(l, in_force(time), 1e-12));
    }
}

/// Opens (time, price) of the StableSims 10-minute bars of 19 May 2021, in seconds of the day.
fn ten_minute_opens() -> Vec<(f64, f64)> {
    let text = fs::read_to_string(repo().join("data/eth_05-19-2021.json")).expect("data");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    json.as_array()
        .expect("bars")
        .iter()
        .enumerate()
        .map(|(i, bar)| {
            let start = bar["time_period_start"].as_str().expect("start");
            assert!(start.starts_with("2021-05-19T"), "{start}");
            (i as f64 * 600.0, bar["price_open"].as_f64().expect("open"))
        })
        .collect()
}

/// Opens (time, price) of the Binance 1-minute bars of 19 May 2021, in seconds of the day.
fn minute_opens() -> Vec<(f64, f64)> {
    let text = fs::read_to_string(repo().join("data/ETHUSDT-1m-2021-05-19.csv")).expect("data");
    text.lines()
        .skip(1)
        .map(|row| {
            let cells: Vec<&str> = row.split(',').collect();
            let ms: f64 = cells[0].parse().expect("open_time_ms");
            (ms / 1000.0 - MAY_19, cells[1].parse().expect("open"))
        })
        .collect()
}

/// Linear interpolation of increasing (time, price) points at `t`, held flat at the ends.
fn linear(points: &[(f64, f64)], t: f64) -> f64 {
    let i = points.partition_point(|p| p.0 <= t);
    if i == 0 {
        return points[0].1;
    }
    if i == points.len() {
        return points[i - 1].1;
    }
    let ((t0, p0), (t1, p1)) = (points[i - 1], points[i]);
    p0 + (p1 - p0) * (t - t0) / (t1 - t0)
}

/// The fundamental is the 10-minute opens read linearly, with the Binance minute opens in
/// place of them from 12:00 to 14:30 UTC (the overlay's window, bounds included).
#[test]
fn the_may_2021_fundamental_is_the_spliced_series() {
    let (core_start, core_end) = (43_200.0, 52_200.0);
    let mut expected: Vec<(f64, f64)> = ten_minute_opens()
        .into_iter()
        .filter(|&(t, _)| t < core_start || t > core_end)
        .collect();
    expected.extend(
        minute_opens()
            .into_iter()
            .filter(|&(t, _)| (core_start..=core_end).contains(&t)),
    );
    expected.sort_by(|a, b| a.0.total_cmp(&b.0));

    let run = run(load_example(MAY));
    let fundamental = run.column("fundamental_ETH");
    for (t, price) in run.column("time_seconds").into_iter().zip(&fundamental) {
        let want = linear(&expected, t);
        assert!(close(*price, want, 1e-12), "{t} s: {price} vs {want}");
    }
    // The overlay's minutes: 13:10 opens at 1,603.54, 13:11 at 1,508.98, the replay's low; the
    // 10-minute bars alone never go below 1,878.58.
    let at = |t: f64| fundamental[(t / 60.0) as usize];
    assert_eq!(at(47_400.0), 1603.54);
    assert_eq!(at(47_460.0), 1508.98);
    let ten_minute_low = ten_minute_opens()
        .iter()
        .map(|p| p.1)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(ten_minute_low, 1878.58);
    assert_eq!(run.summary.assets["ETH"].fundamental_min_price, 1508.98);
}

/// The replay's headline figures, a snapshot (see the module doc): a change to the engine that
/// moves them is noticed, and the example's comments and docs/replays/may-2021.md are updated
/// with the snapshot. The fundamental's low and drop are data, asserted exactly.
#[test]
fn the_may_2021_replay_headline_figures() {
    let scenario = load_example(MAY);
    assert!(scenario.warnings.is_empty(), "{:?}", scenario.warnings);
    let run = run(scenario);
    let s = &run.summary;
    let eth = &s.assets["ETH"];
    let figures = BTreeMap::from([
        ("liquidations", json!(s.liquidations.count)),
        ("debt repaid, USD", figure(s.liquidations.debt_repaid_usd)),
        ("ETH lowest venue price", figure(eth.min_price)),
        ("ETH total drop", figure(eth.total_drop)),
        ("ETH largest price impact", figure(eth.max_price_impact)),
        ("bad debt, USD", figure(s.bad_debt_usd)),
    ]);
    insta::assert_json_snapshot!("may_2021", figures);
    assert_eq!(eth.fundamental_start_price, 3375.69);
    assert_eq!(eth.fundamental_min_price, 1508.98);
    assert!(close(eth.exogenous_drop, 1.0 - 1508.98 / 3420.91, 1e-12));
    // The venue ends below the fundamental's low only through the keepers' sales, by less than
    // the bonus plus the pool's fee.
    assert!(eth.min_price < eth.fundamental_min_price);
    assert!(eth.max_price_impact < 0.06, "{}", eth.max_price_impact);
    assert!(s.bad_debt_usd < 0.01 * s.liquidations.debt_repaid_usd);
}

/// The Black Thursday crash core (Binance 1-minute closes, 10:27 → 12:53 UTC) spliced over the
/// StableSims 10-minute bars of the day: a millisecond overlay on an RFC 3339 series.
#[test]
fn the_black_thursday_core_overlays_the_ten_minute_bars() {
    let run = Fixture::example("black-thursday-10min")
        .set_raw(
            "assets[0].driver.overlays",
            r#"[{ file = "../data/ETHUSDT-1m-2020-03-12_1027-1253.csv", time_column = "open_time_ms", time_unit = "milliseconds", price_column = "close" }]"#,
        )
        .set("simulation.step_seconds", 60)
        .set("simulation.steps", 1430)
        .run();
    let fundamental = run.column("fundamental_ETH");
    let at = |t: u64| fundamental[(t / 60) as usize];
    let minute = |row: &str| -> f64 {
        let csv = fs::read_to_string(repo().join("data/ETHUSDT-1m-2020-03-12_1027-1253.csv"))
            .expect("core data");
        let line = csv.lines().find(|l| l.starts_with(row)).expect("a row");
        line.split(',')
            .nth(4)
            .expect("close")
            .parse()
            .expect("a number")
    };
    // Inside the core, the minute closes: 11:01 has the lowest, 121.99; the 10-minute bar
    // stamped 10:50 (133.75) is replaced by the 10:50 minute.
    assert_eq!(at(11 * 3600 + 60), 121.99);
    assert_eq!(at(10 * 3600 + 3000), minute("1584010200000"));
    assert_ne!(at(10 * 3600 + 3000), 133.75);
    // Outside it, the 10-minute bars (previous-value): 10:20 before, 13:00 after; from 12:53 to
    // 12:59 the core's last close holds.
    assert_eq!(at(10 * 3600 + 1200), 163.11);
    assert_eq!(at(10 * 3600 + 1560), 163.11);
    assert_eq!(at(12 * 3600 + 3540), minute("1584017580000"));
    assert_eq!(at(13 * 3600), 136.7);
}
