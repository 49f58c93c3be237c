//! The leading indicator m(t) on whole runs: at the start it is `cascade.feedback_gain` on every
//! example (the index finds the same accounts a pass over the book does; the sums agree to
//! 1e-12, their order of additions differing), and inside a uniform
//! wall under linear impact it is the closed form λ·κ·ρ whatever the step.

use std::sync::Arc;

use cascade_analytics::feedback_gain;
use cascade_analytics::indicator::GainNow;
use cascade_engine::{Engine, World};
use cascade_model::ids::AssetId;
use cascade_test_support::{Fixture, repo};

#[test]
fn at_the_start_it_is_the_feedback_gain_of_every_example() {
    let mut files: Vec<_> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut positive = 0;
    for file in files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let world = Fixture::example(&name).world();
        let mut gain = GainNow::new(&world);
        for a in 0..world.assets.len() {
            let asset = AssetId(a as u32);
            let now = gain.of(&world.initial, asset);
            let start = feedback_gain(&world, asset).map(|g| g.gain);
            // The same accounts, summed in index order rather than book order.
            match (now, start) {
                (Some(x), Some(y)) => assert!(
                    (x - y).abs() <= 1e-12 * y.abs(),
                    "{name}, {}: {x} against {y}",
                    world.assets[a].symbol
                ),
                (x, y) => assert_eq!(x, y, "{name}, {}", world.assets[a].symbol),
            }
            positive += usize::from(now.is_some_and(|m| m > 0.0));
        }
    }
    assert!(
        positive >= 2,
        "only {positive} assets with a positive gain: the test checks little"
    );
}

/// m(t) after each step of `world`'s path 0, per asset.
fn along(world: &Arc<World>) -> Vec<(u64, f64)> {
    let mut gain = GainNow::new(world);
    let mut out = Vec::new();
    let mut watch = |step: u64, state: &cascade_engine::State, _: &mut cascade_engine::Controls| {
        out.push((step, gain.of(state, AssetId(0)).unwrap()));
    };
    Engine::new(Arc::clone(world)).run_watched(&mut Vec::new(), &mut watch);
    out
}

#[test]
fn inside_a_uniform_wall_it_is_the_closed_form_at_every_step() {
    // The `lender` fixture's wall: 10,000 ETH liquidatable evenly between 1,500 and 2,000 USD
    // (ρ = 20 ETH per USD), κ = 0.85 · 1.05 of each account's collateral to the keeper, λ = 0.01
    // USD per ETH, so m = 0.01 · 20 · 0.8925 = 0.1785 while the 1% window lies inside the wall.
    // A shock of 10% at step 1 leaves the price inside it; the wall's accounts above the price
    // are liquidated, the ones below untouched, so the window is still uniform.
    let world = Fixture::named("lender")
        .append("[[shocks]]\nasset = \"ETH\"\nstep = 1\ndrop = 0.1")
        .world();
    let m = along(&world);
    assert_eq!(m.len(), 5, "{m:?}");
    let expected = 0.01 * 20.0 * 0.85 * 1.05;
    // Before the shock the price (2,000) is at the wall's top: the window [1,980, 2,000) is
    // inside it. After, the venue has recovered none of its impact (no half-life): the window
    // below the price is inside the wall still. The even spacing of the keys (every 0.05 USD)
    // puts 396 or 397 accounts in a window of 19.x USD: within a quarter of a percent.
    for (step, value) in &m {
        assert!(
            (value / expected - 1.0).abs() < 3e-3,
            "step {step}: m = {value}, closed form {expected}"
        );
    }
    // The price moved: the steps after the shock measure another window than step 0's.
    let price = |s: &cascade_engine::State| s.venues[0].price(s.fundamentals[0].price());
    let mut engine = Engine::new(Arc::clone(&world));
    let mut prices = Vec::new();
    engine.run_watched(&mut Vec::new(), &mut |_, s, _| prices.push(price(s)));
    assert!(prices[0] > prices[2] + 100.0, "{prices:?}");
}
