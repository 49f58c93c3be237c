//! Quiet steps (`Engine::skip_quiet_steps`) against the engine that runs every phase of every
//! step, their reference: on every example and on the Monte Carlo wall, path by path, liquidating
//! account by account or in batches, the trails are equal event for event, to the bit. A step is
//! skipped only when its cascade would find nothing, so a wrong test of quietness (a step skipped
//! while an account was liquidatable, a sale pending, an auction running) shows as a missing
//! event here.

use std::sync::Arc;

use cascade_engine::{Engine, Event, World};
use cascade_test_support::Fixture;

/// Path `path` of `world` with quiet steps skipped or not; the trail and the steps skipped.
fn trail(world: &Arc<World>, path: u64, batched: bool, skip: bool) -> (Vec<Event>, u64) {
    let mut engine = Engine::on_path(Arc::clone(world), path);
    engine.batch_liquidations(batched);
    engine.skip_quiet_steps(skip);
    let mut events = Vec::new();
    engine.run(&mut events);
    (events, engine.quiet_steps())
}

/// Every path of `paths` (within the world's own), both ways, equal; returns the steps skipped.
fn skipped_alike(name: &str, world: &Arc<World>, paths: u64, batched: bool) -> u64 {
    let paths = world.path_limit().map_or(paths, |l| paths.min(l.paths));
    let mut skipped = 0;
    for path in 0..paths {
        let (reference, none) = trail(world, path, batched, false);
        let (quick, quiet) = trail(world, path, batched, true);
        assert_eq!(none, 0, "{name}: the reference skipped steps");
        assert_eq!(
            reference.len(),
            quick.len(),
            "{name}, path {path}, batched {batched}: event counts differ"
        );
        for (a, b) in reference.iter().zip(&quick) {
            assert_eq!(a, b, "{name}, path {path}, batched {batched}");
        }
        skipped += quiet;
    }
    skipped
}

#[test]
fn every_example_runs_the_same_with_quiet_steps_skipped() {
    let mut files: Vec<_> = std::fs::read_dir(cascade_test_support::repo().join("examples"))
        .expect("examples/ is readable")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut skipped = Vec::new();
    for file in files {
        let name = file
            .file_stem()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let world = Fixture::example(&name).world();
        if world.chain.is_some() {
            // A step never skips while a mempool is in play (`Cx::is_quiet` asks first); the
            // chain's examples are also the slowest to run both ways.
            continue;
        }
        let quiet: u64 = [false, true]
            .into_iter()
            .map(|batched| skipped_alike(&name, &world, 3, batched))
            .sum();
        skipped.push((name, quiet));
    }
    let of = |name: &str| skipped.iter().find(|(n, _)| n == name).map(|x| x.1);
    // The check is not vacuous: calm stretches are skipped where nothing else runs, and never
    // while a perp exchange is in play.
    assert!(
        of("garch-clustering").is_some_and(|q| q > 1000),
        "{skipped:?}"
    );
    assert!(of("may-2021-replay").is_some_and(|q| q > 0), "{skipped:?}");
    assert_eq!(of("perp-long-cascade"), Some(0), "{skipped:?}");
}

#[test]
fn the_wall_runs_the_same_with_quiet_steps_skipped() {
    // 200% volatility over 480 steps: paths that break into the wall and calm stretches around.
    let world = Fixture::named("wall").world();
    for batched in [false, true] {
        let skipped = skipped_alike("wall", &world, 6, batched);
        assert!(skipped > 6 * 240, "only {skipped} quiet steps of 6 × 480");
    }
}
