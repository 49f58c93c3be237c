//! Market makers who thin a venue's depth as its realised volatility rises (MODEL.md §1, §2
//! phase 2): the same crash falls further and liquidates more when the makers pull quotes, the
//! book refills with its half-life once the venue calms, and makers who never react change no
//! output.

use std::fs;

use cascade_engine::EventKind;
use tempfile::TempDir;

use crate::common::{self, run_cli};

/// The makers' rule of the crash below: σ₀ = 5% a day, k = 1, at least a quarter of the book, a
/// 30-minute window, a 30-minute refill half-life.
const MAKERS: &str = "market_makers = { calm_daily_volatility = 0.05, sensitivity = 1.0, \
                      min_depth = 0.25, window_seconds = 1800, refill_half_life_seconds = 1800 }";

/// ETH falls 10% over 30 minutes of one-minute steps, then holds for two and a half hours, over a
/// wall of loans liquidatable between 1,600 and 1,850 USD; keepers sell into a linear venue half
/// of whose impact recovers with a 10-minute half-life. `makers` is the venue's last line.
fn crash(makers: &str) -> String {
    format!(
        r#"
[simulation]
name = "crash"
seed = 11
steps = 180
step_seconds = 60

[[assets]]
symbol = "ETH"
price = 2000.0
driver = {{ model = "path", points = [[0, 2000.0], [1800, 1800.0]] }}

[[assets]]
symbol = "USDC"
price = 1.0

[[venues]]
name = "spot"
base = "ETH"
quote = "USDC"
impact = {{ model = "linear", usd_per_unit = 0.002 }}
permanent_fraction = 0.5
half_life_seconds = 600
{makers}

[[oracles]]
name = "eth-usd"
asset = "ETH"
sources = ["spot"]
aggregation = "last"

[[protocols]]
name = "lender"
kind = "lending"
liquidation = {{ mechanism = "fixed_spread", bonus = 0.05, close_factor = 0.5 }}
oracles = {{ ETH = "eth-usd" }}
collateral = {{ ETH = {{ ltv = 0.80, liquidation_threshold = 0.85 }} }}

[[positions]]
protocol = "lender"
count = 5000
collateral = {{ asset = "ETH", total = 50000.0 }}
debt = {{ asset = "USDC" }}
liquidation_price = {{ distribution = "uniform", low = 1600.0, high = 1850.0 }}

[[keepers]]
name = "keeper"
protocols = ["lender"]
sell_on = "spot"
"#
    )
}

/// The column `name` of a run's timeline.
fn column(run: &common::Run, name: &str) -> Vec<f64> {
    let timeline = cascade_analytics::timeline(&run.world, &run.events);
    let c = timeline
        .columns
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", timeline.columns));
    timeline.rows.iter().map(|row| row[c]).collect()
}

/// With the makers the crash takes the venue further down and liquidates more: the venue's fall
/// beyond the exogenous 10% is more than four times as large and the total fall at least three
/// points deeper, the count of liquidations and the
/// collateral seized are more than 1.5 times as large, and the makers reach their floor.
#[test]
fn thinning_makers_deepen_the_fall_and_the_liquidations() {
    let without = common::run_str(&crash(""));
    let with = common::run_str(&crash(MAKERS));
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
    let run = common::run_str(&crash(MAKERS));
    let depth = column(&run, "depth_spot");
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

/// Makers with sensitivity 0 never withdraw anything: events.csv is byte-identical to the run
/// without makers, timeline.csv too but for its extra `depth_spot` column of ones, and
/// summary.json differs only in the scenario's hash and the `venues` object (full depth, no
/// change).
#[test]
fn insensitive_makers_change_no_output() {
    let dir = TempDir::new().expect("temporary directory");
    let deaf = MAKERS.replace("sensitivity = 1.0", "sensitivity = 0.0");
    let mut outputs = Vec::new();
    for (name, makers) in [("without", ""), ("deaf", deaf.as_str())] {
        let scenario = dir.path().join(format!("{name}.toml"));
        fs::write(&scenario, crash(makers)).expect("write the scenario");
        let out = dir.path().join(name);
        let output = run_cli(&[
            "run",
            scenario.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let read = |file: &str| fs::read_to_string(out.join(file)).expect("output written");
        outputs.push([
            read("events.csv"),
            read("timeline.csv"),
            read("summary.json"),
        ]);
    }
    let [events_a, timeline_a, summary_a] = &outputs[0];
    let [events_b, timeline_b, summary_b] = &outputs[1];
    assert_eq!(events_a, events_b);
    assert!(!events_b.contains("depth_changed"));
    let mut lines = timeline_b.lines();
    assert!(lines.next().unwrap().ends_with(",depth_spot"));
    let stripped: Vec<&str> = timeline_b
        .lines()
        .map(|line| {
            let (rest, last) = line.rsplit_once(',').expect("a column");
            assert!(last == "depth_spot" || last == "1", "{line}");
            rest
        })
        .collect();
    assert_eq!(timeline_a.lines().collect::<Vec<_>>(), stripped);
    let mut a: serde_json::Value = serde_json::from_str(summary_a).unwrap();
    let mut b: serde_json::Value = serde_json::from_str(summary_b).unwrap();
    assert_ne!(a["scenario"]["hash"], b["scenario"]["hash"]);
    assert_eq!(b["venues"]["spot"]["min_depth_fraction"], 1.0);
    assert_eq!(b["venues"]["spot"]["depth_changes"], 0);
    assert!(a.get("venues").is_none());
    for summary in [&mut a, &mut b] {
        let object = summary.as_object_mut().unwrap();
        object.remove("venues");
        object["scenario"].as_object_mut().unwrap().remove("hash");
    }
    assert_eq!(a, b);
}
