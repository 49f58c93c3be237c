//! The liquidation map against closed forms: m(p) of a uniform wall under linear impact, the
//! spiral threshold of a two-density wall, and the cascade curve against full runs.

use cascade_analytics::feedback::feedback_gain;
use cascade_analytics::map::{AssetMap, DirectionMap, LiquidationMap, MapOptions};
use cascade_engine::World;
use cascade_test_support::Fixture;

/// λ of the fixtures' linear venue, USD per unit.
const LAMBDA: f64 = 0.01;
/// κ of their fixed spread: close factor 1 × threshold 0.85 × (1 + 5% bonus), no protocol fee.
const KAPPA: f64 = 0.85 * 1.05;

/// ETH at 5,000 on a linear venue with λ = [`LAMBDA`], an instant oracle on it, a fixed spread
/// with close factor 1, and a keeper who sells at once; `positions` are the book's sections.
/// With 50 buckets the grid's prices are the multiples of 100 USD.
fn walls(positions: &str) -> Fixture {
    Fixture::from_text(&format!(
        r#"
[simulation]
name = "map-walls"
seed = 1
steps = 4
step_seconds = 60
max_rounds = 1000

[[assets]]
symbol = "ETH"
price = 5000.0

[[assets]]
symbol = "USDC"
price = 1.0

[[venues]]
name = "spot"
base = "ETH"
quote = "USDC"
impact = {{ model = "linear", usd_per_unit = {LAMBDA} }}

[[oracles]]
name = "eth-usd"
asset = "ETH"
sources = ["spot"]
aggregation = "last"

[[protocols]]
name = "lender"
kind = "lending"
liquidation = {{ mechanism = "fixed_spread", bonus = 0.05, close_factor = 1.0 }}
oracles = {{ ETH = "eth-usd" }}
collateral = {{ ETH = {{ ltv = 0.80, liquidation_threshold = 0.85 }} }}

{positions}

[[keepers]]
name = "keeper"
protocols = ["lender"]
sell_on = "spot"
min_profit_usd = -1e15
"#
    ))
}

/// A population of `count` equal accounts with liquidation prices evenly spaced on
/// [`low`, `high`] (at low + (i + ½)·(high − low)/count), `units` ETH each.
fn even(count: u32, low: f64, high: f64, units: f64) -> String {
    format!(
        r#"
[[positions]]
protocol = "lender"
count = {count}
collateral = {{ asset = "ETH", total = {total} }}
debt = {{ asset = "USDC" }}
liquidation_price = {{ distribution = "even", low = {low}, high = {high} }}
"#,
        total = f64::from(count) * units
    )
}

fn eth_fall(world: &World, buckets: usize) -> DirectionMap {
    let eth = world.asset("ETH").expect("ETH");
    let options = MapOptions {
        buckets,
        shocks: Vec::new(),
        ..MapOptions::default()
    };
    let map = AssetMap::of(world, eth, &options).expect("ETH is collateral");
    assert!(map.rise.is_none(), "no perp shorts, no rise");
    map.fall.expect("a fall")
}

fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

#[test]
fn a_uniform_wall_under_linear_impact_has_the_closed_form_gain_inside_and_none_outside() {
    // 1,000 accounts of 2 ETH, one per USD from 2,000.5 to 2,999.5: ρ = 2 ETH per USD.
    let units = 2.0;
    let world = walls(&even(1000, 2000.0, 3000.0, units)).world();
    let fall = eth_fall(&world, 50);
    let closed_form = LAMBDA * KAPPA * units;
    let (mut inside, mut outside) = (0, 0);
    for point in &fall.gain {
        let p = point.price;
        assert!(
            relative(p, 100.0 * (p / 100.0).round()) < 1e-12,
            "grid price {p}"
        );
        if 0.99 * p >= 2000.0 && p <= 3000.0 {
            // The window [0.99p, p) lies inside the wall.
            inside += 1;
            assert!(
                relative(point.m, closed_form) <= 1e-9,
                "m({p}) = {} against λκρ = {closed_form}",
                point.m
            );
        } else if p <= 2000.0 || 0.99 * p >= 3000.0 {
            outside += 1;
            assert_eq!(point.m, 0.0, "m({p}) outside the wall");
        }
    }
    assert_eq!(inside, 10, "2,100 … 3,000");
    assert!(outside >= 30);
    let max = fall.gain_max.expect("a largest m");
    assert!(relative(max.m, closed_form) <= 1e-9);
    assert!(closed_form < 1.0 && fall.spiral_price.is_none());
}

#[test]
fn the_spiral_threshold_of_a_two_density_wall_is_exact() {
    // Upper wall, 2,500.5 … 2,999.5: m₁ = 0.5. Lower wall, 2,000.5 … 2,499.5: m₂ = 50. The
    // first price from the start with m ≥ 1 is the one whose 1% window first takes in the
    // lower wall's top account: 2,499.5 / 0.99.
    let (m1, m2) = (0.5, 50.0);
    let upper = even(500, 2500.0, 3000.0, m1 / (LAMBDA * KAPPA));
    let lower = even(500, 2000.0, 2500.0, m2 / (LAMBDA * KAPPA));
    let world = walls(&format!("{upper}\n{lower}")).world();
    let fall = eth_fall(&world, 50);
    let at = |p: f64| {
        fall.gain
            .iter()
            .find(|g| relative(g.price, p) < 1e-12)
            .map(|g| g.m)
            .expect("a grid price")
    };
    assert!(relative(at(2800.0), m1) <= 1e-9);
    assert!(relative(at(2300.0), m2) <= 1e-9);
    let spiral = fall.spiral_price.expect("a spiral threshold");
    let expected = 2499.5 / 0.99;
    assert!(
        relative(spiral, expected) <= 1e-12,
        "spiral at {spiral}, expected {expected}"
    );
    // Below 1 just above it, at or above 1 at it.
    let eth = world.asset("ETH").expect("ETH");
    let map = AssetMap::of(&world, eth, &MapOptions::default()).expect("ETH");
    let spiral_fine = map.fall.expect("fall").spiral_price.expect("spiral");
    assert!(
        relative(spiral_fine, expected) <= 1e-12,
        "{spiral_fine} with 100 buckets"
    );
    let max = fall.gain_max.expect("a largest m");
    assert!(relative(max.m, m2) <= 1e-9 && max.price <= 2500.0);
}

#[test]
fn the_walls_hold_the_book_once_per_account_and_accumulate_from_the_start() {
    let world = walls(&format!(
        "{}\n{}",
        even(500, 2500.0, 3000.0, 1.0),
        even(200, 4000.0, 4100.0, 3.0)
    ))
    .world();
    let fall = eth_fall(&world, 50);
    let accounts: u64 = fall.walls.buckets.iter().map(|b| b.total.accounts).sum();
    assert_eq!(accounts, 700);
    let units: f64 = fall
        .walls
        .buckets
        .iter()
        .map(|b| b.total.collateral_units)
        .sum();
    assert!(relative(units, 500.0 + 600.0) < 1e-12);
    // 4,000 … 4,100 is the bucket [4,000, 4,100): the tenth from 5,000.
    let wall = &fall.walls.buckets[9];
    assert!(relative(wall.inner, 4100.0) < 1e-12 && relative(wall.outer, 4000.0) < 1e-12);
    assert_eq!(wall.total.accounts, 200);
    let cumulative = fall.walls.cumulative(None);
    assert!(relative(cumulative[9].collateral_units, 600.0) < 1e-12);
    assert!(relative(cumulative[49].collateral_units, 1100.0) < 1e-12);
    // Sold: κ of the collateral, on the one venue.
    let sold: f64 = fall
        .walls
        .buckets
        .iter()
        .map(|b| b.total.sold_units())
        .sum();
    assert!(relative(sold, KAPPA * 1100.0) < 1e-9);
    // The nearest wall is the bunched one, with what it holds.
    let nearest = fall.nearest_wall.expect("a wall");
    assert!(relative(nearest.inner, 4100.0) < 1e-12);
    assert!(relative(nearest.figures.collateral_units, 600.0) < 1e-12);
}

#[test]
fn the_map_gain_at_the_start_is_the_summary_feedback_gain() {
    for name in ["uniform-wall", "eth-crash", "perp-long-cascade"] {
        let world = Fixture::example(name).world();
        let eth = world.asset("ETH").expect("ETH");
        let old = feedback_gain(&world, eth).expect("a venue").gain;
        let map = AssetMap::of(&world, eth, &MapOptions::default()).expect("ETH");
        let new = map.fall.expect("fall").gain[0].m;
        assert!(
            (new - old).abs() <= 1e-6 * old.max(1e-9),
            "{name}: map m(p0) = {new}, feedback_gain = {old}"
        );
    }
}

/// The largest |map − run| of the cascade curve, as a fraction of the run's price.
fn curve_gap(world: &World, shocks: &[f64]) -> f64 {
    let mut map = LiquidationMap::of(
        world,
        &MapOptions {
            buckets: 100,
            shocks: shocks.to_vec(),
            ..MapOptions::default()
        },
    );
    map.run_curves(world);
    let fall = map.assets[0].fall.as_ref().expect("fall");
    assert_eq!(fall.curve.len(), shocks.len());
    fall.curve
        .iter()
        .map(|p| {
            assert!(p.final_price_map <= p.shocked_price);
            p.relative_difference().expect("a run").abs()
        })
        .fold(0.0, f64::max)
}

#[test]
fn the_cascade_curve_of_a_wall_matches_full_runs() {
    // The example wall: 50,000 ETH over 1,500 … 2,000 on λ = 0.002, m = 0.18. The map prices
    // each call at its trigger; in a run a call comes at the (lower) price the shock and the
    // earlier rounds left, and the bonus, paid at that price, takes more collateral — after a
    // deep jump the whole balance (κ = 1 instead of 0.89). The run therefore ends lower, by
    // 0.001% of the price after a 1% shock, 0.14% after 10%, 0.56% after 20% and 0.83% after
    // 30% (measured); the tolerances are 0.2% up to 10% and 1% beyond.
    let world = Fixture::example("uniform-wall").world();
    let small = curve_gap(&world, &[0.01, 0.05, 0.1]);
    assert!(
        small < 0.002,
        "the map is {:.3}% from the runs",
        small * 100.0
    );
    let large = curve_gap(&world, &[0.2, 0.3]);
    assert!(
        large < 0.01,
        "the map is {:.3}% from the runs",
        large * 100.0
    );
    // A curve that moves: the 10% shock ends below 2,000 · 0.9 by the map.
    let map = LiquidationMap::of(
        &world,
        &MapOptions {
            buckets: 100,
            shocks: vec![0.1],
            ..MapOptions::default()
        },
    );
    let point = map.assets[0].fall.as_ref().expect("fall").curve[0];
    assert!(point.final_price_map < 0.99 * point.shocked_price);
}

#[test]
fn the_summary_reports_the_largest_gain_the_spiral_and_the_nearest_wall() {
    // The bundled default: a wall of 60,000 ETH with liquidation prices 2,550 … 2,750 below a
    // start of 2,998.5. Nothing lies within 1% of the start, so the old key is 0.
    let run = Fixture::example("eth-crash").run();
    let c = &run.summary.cascade;
    assert_eq!(c.feedback_gain["ETH"], 0.0);
    let max = c.feedback_gain_max["ETH"].expect("a largest m");
    assert!(
        max.m > 1.0 && (2550.0..2760.0).contains(&max.price),
        "{max:?}"
    );
    let spiral = c.spiral_price["ETH"].expect("a spiral price");
    assert!(spiral > max.price && spiral < 2800.0, "spiral at {spiral}");
    let wall = c.nearest_wall["ETH"].expect("a wall");
    assert!(
        wall.price_high > 2750.0 && wall.price_high < 2800.0,
        "{wall:?}"
    );
    assert!(
        wall.price_low > 2500.0 && wall.price_low < 2560.0,
        "{wall:?}"
    );
    // The wall's 60,000 ETH and the broad population's share of the same prices.
    assert!(wall.collateral_units > 60_000.0 && wall.collateral_units < 80_000.0);
    assert!(wall.accounts >= 6_000);
    // USDC has a venue of its own nowhere: no gain reported.
    assert!(!c.feedback_gain_max.contains_key("USDC"));
    // The same figures as the map's of first calls.
    let world = Fixture::example("eth-crash").world();
    let eth = world.asset("ETH").expect("ETH");
    let first_calls = MapOptions {
        calls: 1,
        ..MapOptions::default()
    };
    let fall = AssetMap::of(&world, eth, &first_calls)
        .expect("ETH")
        .fall
        .expect("fall");
    assert_eq!(fall.spiral_price, Some(spiral));
    assert_eq!(fall.gain_max.map(|g| g.m), Some(max.m));
}
