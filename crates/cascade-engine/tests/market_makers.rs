//! Market makers who thin a venue's depth as its realised volatility rises (docs/model.md §1, §2
//! phase 2): the same crash falls further and liquidates more when the makers pull quotes, the
//! book refills with its half-life once the venue calms. (Makers who never react change no
//! output: cascade-cli compares the files.)

use cascade_engine::EventKind;
use cascade_test_support::{Fixture, Run};

/// The makers' rule of the crash: σ₀ = 5% a day, k = 1, at least a quarter of the book, a
/// 30-minute window, a 30-minute refill half-life.
const MAKERS: &str = "{ calm_daily_volatility = 0.05, sensitivity = 1.0, min_depth = 0.25, \
                      window_seconds = 1800, refill_half_life_seconds = 1800 }";

/// The `thinning-crash` fixture (ETH −10% over 30 minutes, then flat for two and a half hours,
/// over a wall of loans between 1,600 and 1,850 USD), with the makers or without.
fn crash(makers: bool) -> Run {
    let crash = Fixture::named("thinning-crash");
    if makers {
        crash.set_raw("venues[0].market_makers", MAKERS)
    } else {
        crash
    }
    .run()
}

/// With the makers the crash takes the venue further down and liquidates more: the venue's fall
/// beyond the exogenous 10% is more than four times as large and the total fall at least three
/// points deeper, the count of liquidations and the
/// collateral seized are more than 1.5 times as large, and the makers reach their floor.
#[test]
fn thinning_makers_deepen_the_fall_and_the_liquidations() {
    let without = crash(false);
    let with = crash(true);
    let (a, b) = (&without.summary, &with.summary);
    let drop = |s: &cascade_analytics::Summary| s.assets["ETH"].total_drop;
    assert_eq!(
        a.assets["ETH"].exogenous_drop, b.assets["ETH"].exogenous_drop,
        "the same crash"
    );
    let beyond = |s: &cascade_analytics::Summary| drop(s) - s.assets["ETH"].exogenous_drop;
    assert!(
        beyond(b) > 4.0 * beyond(a) && drop(b) > drop(a) + 0.03,
        "drop with makers {} vs without {}",
        drop(b),
        drop(a)
    );
    assert!(
        b.liquidations.count as f64 > 1.5 * a.liquidations.count as f64,
        "liquidations with makers {} vs without {}",
        b.liquidations.count,
        a.liquidations.count
    );
    let seized = |s: &cascade_analytics::Summary| s.liquidations.collateral_seized["ETH"];
    assert!(seized(b) > 1.5 * seized(a));
    let venue = &b.venues["spot"];
    assert_eq!(venue.min_depth_fraction, 0.25, "{venue:?}");
    assert!(venue.max_daily_volatility > 0.05 * 3.0, "{venue:?}");
    assert!(a.venues.is_empty(), "no makers, no venues object");
}

/// The depth falls while the price moves and refills after it holds still: the timeline's
/// `depth_spot` starts at 1, sits at the floor 0.25 at the end of the fall (step 30), and ends
/// above 0.9. Once the window holds only calm returns the target is the full book, so each step
/// closes the gap 1 − d by 2^(−60/1800), the refill half-life (tolerance 1e-9), and every
/// `DepthChanged` of the refill raises the depth.
#[test]
fn the_book_refills_with_its_half_life_after_the_shock_calms() {
    let run = crash(true);
    let depth = run.column("depth_spot");
    assert_eq!(depth.len(), 181);
    assert_eq!(depth[0], 1.0);
    assert!(
        depth[1] < 0.5,
        "the fall is already stressful: {}",
        depth[1]
    );
    assert_eq!(depth[30], 0.25);
    assert!(depth[180] > 0.9, "refilled to {}", depth[180]);
    let changes: Vec<(u64, f64, f64)> = run
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::DepthChanged {
                depth, volatility, ..
            } => Some((e.step, depth, volatility)),
            _ => None,
        })
        .collect();
    // The refill: from the first change that raises the depth with calm volatility on.
    let calm = changes
        .iter()
        .position(|&(_, _, sigma)| sigma <= 0.05)
        .expect("the venue calms down");
    let factor = 0.5f64.powf(60.0 / 1800.0);
    for pair in changes[calm..].windows(2) {
        let ((s0, d0, _), (s1, d1, sigma)) = (pair[0], pair[1]);
        assert_eq!(s1, s0 + 1, "one change a step while refilling");
        assert!(d1 > d0, "the refill only raises the depth");
        assert!(sigma <= 0.05);
        assert!(
            ((1.0 - d1) - (1.0 - d0) * factor).abs() < 1e-9,
            "step {s1}: gap {} after {}",
            1.0 - d1,
            1.0 - d0
        );
    }
    assert!(changes.len() - calm > 100, "the refill runs to the end");
    // While the price falls, depth only falls (the makers pull quotes within the step).
    let falling: Vec<f64> = changes.iter().filter(|c| c.0 <= 30).map(|c| c.1).collect();
    assert!(falling.windows(2).all(|w| w[1] < w[0]), "{falling:?}");
}
