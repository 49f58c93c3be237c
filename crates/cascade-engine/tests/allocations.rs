//! The step loop allocates nothing: once an engine has run a path, the steps of the next path
//! (after `reset`) make no heap allocation, so a Monte Carlo worker's cost is the simulation
//! alone. Checked with a counting allocator that counts only on the thread that asks (other
//! tests of this binary run on other threads).

use std::path::Path;
use std::sync::Arc;

use cascade_engine::{Discard, Engine};

/// Allocations made by `f` on this thread (the `allocation-counter` crate's global allocator
/// counts per thread).
fn allocations(f: impl FnOnce()) -> u64 {
    allocation_counter::measure(f).count_total
}

fn world(relative: &str) -> Arc<cascade_engine::World> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative);
    Arc::new(
        cascade_scenario::load(&path)
            .expect("a valid scenario")
            .world,
    )
}

/// Steps of path `path` after a first run of it, the initial instant excepted (its events carry
/// the books' opening totals).
fn step_allocations(world: &Arc<cascade_engine::World>, path: u64) -> u64 {
    let mut engine = Engine::new(Arc::clone(world));
    engine.reset(path);
    engine.run(&mut Discard);
    engine.reset(path);
    engine.step(&mut Discard);
    allocations(|| {
        while !engine.finished() {
            engine.step(&mut Discard);
        }
    })
}

#[test]
fn a_calm_path_after_reset_steps_without_allocating() {
    // The Monte Carlo wall model: path 0 is calm, 1,440 one-minute steps over 100,000 loans.
    let world = world("benches/mc-wall-100k.toml");
    assert_eq!(step_allocations(&world, 0), 0);
}

#[test]
fn a_stochastic_path_with_jumps_steps_without_allocating_before_it_liquidates() {
    // Two correlated jump-diffusions, two lending protocols: the steps before the first
    // liquidation allocate nothing either.
    let world = world("examples/gbm-jump-stress.toml");
    let mut engine = Engine::new(Arc::clone(&world));
    engine.run(&mut Discard);
    engine.reset(0);
    engine.step(&mut Discard);
    let n = allocations(|| {
        for _ in 0..5 {
            engine.step(&mut Discard);
        }
    });
    assert_eq!(n, 0);
}
