//! The many-paths contract of the engine: a path's events depend only on the world, the seed and
//! the path's number — not on what the engine ran before, how paths are batched, or how many
//! threads run them. `Engine::reset` must leave exactly the state of a new engine on that path.

use std::path::Path;
use std::sync::Arc;

use cascade_engine::{Count, Discard, Engine, Event, EventSink, Tee, World, trail};
use rayon::prelude::*;

/// An example scenario of the repository, built.
fn world(example: &str) -> Arc<World> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(example);
    let scenario = cascade_scenario::load(&path)
        .unwrap_or_else(|e| panic!("{example} is a valid example:\n{e}"));
    Arc::new(scenario.world)
}

/// Examples covering every mechanism, perp exchanges, a chain with owners who act, market makers,
/// stochastic prices with jumps, GARCH, a bootstrap and a path ensemble.
const EXAMPLES: &[&str] = &[
    "gbm-jump-stress.toml",
    "eth-crash.toml",
    "maker-dutch-auction.toml",
    "maker-english-auction.toml",
    "backstop-transfer.toml",
    "compound-v3-absorb.toml",
    "liquity-stability-pool.toml",
    "lending-rules.toml",
    "perp-and-lending.toml",
    "market-makers-thin.toml",
    "black-thursday-10min.toml",
    "garch-clustering.toml",
    "bootstrap-black-thursday.toml",
    "ensemble-paths.toml",
];

/// Examples whose paths differ: jump-diffusion, GARCH, a bootstrap, a path ensemble.
const RANDOM: &[&str] = &[
    "gbm-jump-stress.toml",
    "garch-clustering.toml",
    "bootstrap-black-thursday.toml",
    "ensemble-paths.toml",
];

/// The events of `path` run by an engine that first ran `before` (each to its end).
fn after(world: &Arc<World>, before: &[u64], path: u64) -> Vec<Event> {
    let mut engine = Engine::new(Arc::clone(world));
    for &p in before {
        engine.reset(p);
        engine.run(&mut Discard);
    }
    engine.reset(path);
    let mut events = Vec::new();
    engine.run(&mut events);
    events
}

#[test]
fn a_reset_engine_runs_a_path_as_a_new_engine_does() {
    for example in EXAMPLES {
        let world = world(example);
        for path in [0, 3] {
            let fresh = trail(&world, path);
            assert!(!fresh.is_empty());
            assert_eq!(
                after(&world, &[path], path),
                fresh,
                "{example}: path {path} run again after itself"
            );
            assert_eq!(
                after(&world, &[7, 1, 0], path),
                fresh,
                "{example}: path {path} run after paths 7, 1 and 0"
            );
        }
    }
}

#[test]
fn a_reset_leaves_the_state_of_a_new_engine() {
    for example in EXAMPLES {
        let world = world(example);
        let mut engine = Engine::new(Arc::clone(&world));
        engine.run(&mut Discard);
        engine.reset(5);
        let fresh = Engine::on_path(Arc::clone(&world), 5);
        assert_eq!(engine.path(), 5);
        assert_eq!(engine.current_step(), 0);
        assert!(!engine.finished());
        // Everything the engine holds: the world it shares, the state, the clock, the random
        // streams, episodes, pending sales, the mempool, the owners.
        assert_eq!(
            format!("{engine:?}"),
            format!("{fresh:?}"),
            "{example}: the engine after reset(5)"
        );
    }
}

#[test]
fn paths_differ_where_prices_are_random_and_not_elsewhere() {
    for example in RANDOM {
        let stochastic = world(example);
        assert_ne!(trail(&stochastic, 0), trail(&stochastic, 1), "{example}");
    }
    let deterministic = world("uniform-wall.toml");
    assert_eq!(trail(&deterministic, 0), trail(&deterministic, 1));
}

#[test]
fn a_path_is_the_same_alone_in_a_batch_and_on_any_number_of_threads() {
    for example in RANDOM {
        same_alone_in_a_batch_and_on_any_number_of_threads(example);
    }
}

fn same_alone_in_a_batch_and_on_any_number_of_threads(example: &str) {
    let world = world(example);
    let paths: Vec<u64> = (0..8).collect();
    let alone: Vec<Vec<Event>> = paths.iter().map(|&k| trail(&world, k)).collect();
    let batched = |threads: usize| -> Vec<Vec<Event>> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        pool.install(|| {
            paths
                .par_iter()
                .map_init(
                    || Engine::new(Arc::clone(&world)),
                    |engine, &k| {
                        engine.reset(k);
                        let mut events = Vec::new();
                        engine.run(&mut events);
                        events
                    },
                )
                .collect()
        })
    };
    assert_eq!(batched(1), alone, "{example}: one thread");
    assert_eq!(batched(2), alone, "{example}: two threads");
    assert_eq!(batched(3), alone, "{example}: three threads");
    // A shard of the paths (4..8) run on its own gives the same paths.
    let shard: Vec<Vec<Event>> = (4..8).map(|k| after(&world, &[], k)).collect();
    assert_eq!(shard, alone[4..], "{example}: a shard");
}

#[test]
fn stepping_sends_the_events_run_sends() {
    let world = world("eth-crash.toml");
    let whole = trail(&world, 0);
    let mut engine = Engine::new(Arc::clone(&world));
    let mut stepped = Vec::new();
    while !engine.finished() {
        engine.step(&mut stepped);
    }
    // `run` also marks the books at the end.
    let marks = {
        let mut rest = Vec::new();
        engine.run(&mut rest);
        rest
    };
    stepped.extend(marks);
    assert_eq!(stepped, whole);
}

#[test]
fn a_tee_gives_both_sinks_every_event() {
    let world = world("perp-and-lending.toml");
    let mut sink = Tee(Vec::new(), Count::default());
    Engine::new(Arc::clone(&world)).run(&mut sink);
    let Tee(events, count) = sink;
    assert_eq!(events.len() as u64, count.0);
    assert_eq!(events, trail(&world, 0));
    let dyn_sink: &mut dyn EventSink = &mut Count::default();
    Engine::new(world).run(dyn_sink);
}
