//! Criterion benchmarks on real units of work: building the 1,000,000-position book, cloning it
//! for a new path, a full run on it, its shock step and a quiet step, the summary and timeline
//! of its events, and whole small runs.
//! Inputs are the committed scenarios under benches/ and examples/.

// criterion_group! defines undocumented public items.
#![allow(missing_docs)]

use std::path::Path;
use std::sync::Arc;

use cascade_engine::{Discard, Engine};
use criterion::{Criterion, criterion_group, criterion_main};

fn scenario(relative: &str) -> cascade_scenario::Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative);
    cascade_scenario::load(&path).expect("benchmark scenario is valid")
}

fn million(c: &mut Criterion) {
    let mut group = c.benchmark_group("million_positions");
    group.sample_size(10);
    group.bench_function("load_generate_index", |b| {
        b.iter(|| scenario("benches/million-positions.toml"))
    });
    let world = Arc::new(scenario("benches/million-positions.toml").world);
    group.bench_function("engine_new_clone_book", |b| {
        b.iter(|| Engine::new(Arc::clone(&world)))
    });
    group.bench_function("full_cascade_run", |b| {
        b.iter_batched(
            || Engine::new(Arc::clone(&world)),
            |mut engine| {
                let mut events = Vec::new();
                engine.run(&mut events);
                events
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.bench_function("full_cascade_run_discard", |b| {
        b.iter_batched(
            || Engine::new(Arc::clone(&world)),
            |mut engine| {
                engine.run(&mut Discard);
                engine
            },
            criterion::BatchSize::PerIteration,
        )
    });
    // The step that carries the 30% shock: its whole cascade, about 500,000 liquidations.
    group.bench_function("shock_step", |b| {
        b.iter_batched(
            || {
                let mut engine = Engine::new(Arc::clone(&world));
                engine.step(&mut Discard);
                engine
            },
            |mut engine| {
                engine.step(&mut Discard);
                engine
            },
            criterion::BatchSize::PerIteration,
        )
    });
    // A step after the cascade has settled: the cost of checking a full book with nothing
    // liquidatable.
    group.bench_function("quiet_step", |b| {
        b.iter_batched(
            || {
                let mut engine = Engine::new(Arc::clone(&world));
                engine.step(&mut Discard);
                engine.step(&mut Discard);
                engine
            },
            |mut engine| {
                engine.step(&mut Discard);
                engine
            },
            criterion::BatchSize::PerIteration,
        )
    });
    // summary.json's and timeline.csv's figures from the full run's events (about 710,000).
    let events = cascade_engine::trail(&world, 0);
    let info = cascade_analytics::RunInfo::default();
    group.bench_function("summary_and_timeline", |b| {
        b.iter(|| {
            (
                cascade_analytics::summarize(&world, &info, &events),
                cascade_analytics::timeline(&world, &events),
            )
        })
    });
    // The same figures in one pass, as a sink the engine could feed during the run.
    group.bench_function("run_fold", |b| {
        b.iter(|| {
            let mut fold = cascade_analytics::RunFold::new(&*world, info.clone());
            events.iter().for_each(|e| fold.event(e));
            fold.finish()
        })
    });
    group.finish();
}

fn small(c: &mut Criterion) {
    let world = Arc::new(scenario("examples/uniform-wall.toml").world);
    c.bench_function("uniform_wall_run", |b| {
        b.iter(|| cascade_engine::trail(&world, 0))
    });
    let world = Arc::new(scenario("examples/eth-crash.toml").world);
    c.bench_function("eth_crash_run", |b| {
        b.iter(|| cascade_engine::trail(&world, 0))
    });
}

/// Many paths of one world: the Monte Carlo peers' wall model (benches/mc-wall-100k.toml,
/// 100,000 loans, 1,440 one-minute steps). Path 0 is calm (nothing liquidated); paths 5 and 6
/// break into the wall.
fn paths(c: &mut Criterion) {
    let mut group = c.benchmark_group("mc_wall_100k");
    group.sample_size(20);
    let world = Arc::new(scenario("benches/mc-wall-100k.toml").world);
    let mut engine = Engine::new(Arc::clone(&world));
    group.bench_function("calm_path_after_reset", |b| {
        b.iter(|| {
            engine.reset(0);
            engine.run(&mut Discard);
        })
    });
    group.bench_function("reset_after_a_calm_path", |b| b.iter(|| engine.reset(0)));
    group.bench_function("breaking_path_after_reset", |b| {
        b.iter(|| {
            engine.reset(5);
            engine.run(&mut Discard);
        })
    });
    group.bench_function("reset_after_a_breaking_path", |b| {
        b.iter_batched(
            || {
                let mut engine = Engine::new(Arc::clone(&world));
                engine.reset(5);
                engine.run(&mut Discard);
                engine
            },
            |mut engine| {
                engine.reset(6);
                engine
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.bench_function("paths_0_to_19", |b| {
        b.iter(|| {
            for k in 0..20 {
                engine.reset(k);
                engine.run(&mut Discard);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, million, small, paths);
criterion_main!(benches);
