//! Muted impact (`Engine::mute_impact`), the counterfactual of an attribution: a muted source's
//! forced trades fill at the venue's price and leave it as it was; muting nothing is the run
//! itself, event for event.

use std::sync::Arc;

use cascade_engine::{Engine, Event, EventKind, MutedImpact, World};
use cascade_test_support::Fixture;

fn trail(world: &Arc<World>, muted: Option<MutedImpact>) -> Vec<Event> {
    let mut engine = Engine::new(Arc::clone(world));
    if let Some(muted) = muted {
        engine.mute_impact(muted);
    }
    let mut events = Vec::new();
    engine.run(&mut events);
    events
}

#[test]
fn muting_nothing_is_the_run_itself() {
    for name in ["lending-rules", "perp-and-lending", "backstop-transfer"] {
        let world = Fixture::example(name).world();
        let muted = MutedImpact {
            protocols: vec![false; world.protocols.len()],
            perps: vec![false; world.perps.len()],
        };
        assert_eq!(trail(&world, None), trail(&world, Some(muted)), "{name}");
    }
}

#[test]
fn a_muted_source_trades_at_the_price_and_leaves_the_venue_as_it_was() {
    for name in ["lending-rules", "perp-and-lending", "backstop-transfer"] {
        let world = Fixture::example(name).world();
        let muted = MutedImpact {
            protocols: vec![true; world.protocols.len()],
            perps: vec![true; world.perps.len()],
        };
        let mut trades = 0;
        for e in trail(&world, Some(muted)) {
            let (before, after, filled, proceeds) = match &e.kind {
                EventKind::Sale(s) => (s.price_before, s.price_after, s.filled, s.proceeds),
                EventKind::BackstopSale {
                    price_before,
                    price_after,
                    filled,
                    proceeds,
                    ..
                } => (*price_before, *price_after, *filled, *proceeds),
                EventKind::PerpLiquidated(p) => (
                    p.price_before,
                    p.price_after,
                    p.units.abs(),
                    p.fill_price * p.units.abs(),
                ),
                _ => continue,
            };
            trades += 1;
            assert_eq!(before, after, "{name}: {e:?}");
            let scale = proceeds.abs().max(1.0);
            assert!(
                (proceeds - filled * before).abs() < 1e-9 * scale,
                "{name}: {e:?}"
            );
        }
        assert!(trades > 0, "{name}: no forced trade to check");
    }
}
