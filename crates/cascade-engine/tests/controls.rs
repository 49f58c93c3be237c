//! A watcher's controls (`Engine::run_watched`): a throttle caps the debt each protocol
//! liquidates per step, the accounts beyond it waiting; a watcher that changes nothing leaves
//! the run as it was; a reset clears the controls.

use std::collections::BTreeMap;
use std::sync::Arc;

use cascade_engine::{Controls, Engine, Event, EventKind, World};
use cascade_test_support::Fixture;

/// The `lender` wall with a 10% shock: 10,000 ETH of loans liquidatable between 1,500 and 2,000.
fn wall() -> Arc<World> {
    Fixture::named("lender")
        .set("simulation.steps", 12)
        .append("[[shocks]]\nasset = \"ETH\"\nstep = 1\ndrop = 0.1")
        .world()
}

/// Debt repaid (USD) per step.
fn repaid_by_step(events: &[Event]) -> BTreeMap<u64, f64> {
    let mut by_step = BTreeMap::new();
    for e in events {
        if let EventKind::Liquidation(l) = &e.kind {
            *by_step.entry(e.step).or_insert(0.0) += l.debt_repaid * l.debt_price;
        }
    }
    by_step
}

fn watched(world: &Arc<World>, throttle: Option<f64>) -> Vec<Event> {
    let mut events = Vec::new();
    Engine::new(Arc::clone(world)).run_watched(&mut events, &mut |_, _, controls| {
        controls.throttle_usd_per_step = throttle;
    });
    events
}

#[test]
fn a_throttle_caps_each_steps_liquidations_and_the_rest_wait() {
    let world = wall();
    let free = repaid_by_step(&watched(&world, None));
    let limit = 2_000_000.0;
    let throttled = repaid_by_step(&watched(&world, Some(limit)));
    let free_peak = free.values().copied().fold(0.0, f64::max);
    assert!(
        free_peak > 3.0 * limit,
        "the unthrottled cascade is not larger: {free:?}"
    );
    for (step, usd) in &throttled {
        assert!(*usd <= limit * (1.0 + 1e-9), "step {step}: {usd}");
    }
    // The accounts beyond the cap are liquidated in the steps after.
    let busy = throttled.values().filter(|&&usd| usd > 0.5 * limit).count();
    assert!(busy >= 3, "{throttled:?}");
}

#[test]
fn no_control_is_the_run_and_a_reset_clears_them() {
    let world = wall();
    let mut plain = Vec::new();
    Engine::new(Arc::clone(&world)).run(&mut plain);
    assert_eq!(watched(&world, None), plain);
    // A throttled path, then a reset: the next run has no throttle.
    let mut engine = Engine::new(Arc::clone(&world));
    engine.run_watched(&mut Vec::new(), &mut |_, _, c: &mut Controls| {
        c.throttle_usd_per_step = Some(1.0);
    });
    engine.reset(0);
    let mut again = Vec::new();
    engine.run(&mut again);
    assert_eq!(again, plain);
}
