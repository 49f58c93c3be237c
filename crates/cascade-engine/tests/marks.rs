//! The end-of-run mark of a lending book (`positions_marked`) equals a whole pass over the book
//! at the protocol's final prices, whichever way the engine computed it: from the opening totals
//! and the accounts the path touched (few touched), or in full. Checked against a sum written
//! here over `Engine::state`, to a relative 1e-9 (the two add in different orders).

use std::sync::Arc;

use cascade_engine::{BookMark, Engine, Event, EventKind, EventSink, World};
use cascade_model::ids::{AssetId, ProtocolId};
use cascade_test_support::Fixture;

/// Keeps the marks of the lending books.
#[derive(Default)]
struct Marks(Vec<BookMark>);

impl EventSink for Marks {
    fn record(&mut self, event: &Event) {
        if let EventKind::PositionsMarked(mark) = &event.kind {
            self.0.push((**mark).clone());
        }
    }
}

fn close(a: f64, b: f64, what: &str) {
    let scale = a.abs().max(b.abs()).max(1.0);
    assert!((a - b).abs() <= 1e-9 * scale, "{what}: {a} vs {b}");
}

/// Runs `path` of `world` and checks each protocol's mark against the book as it ends.
fn check(world: &Arc<World>, path: u64, what: &str) {
    let mut engine = Engine::on_path(Arc::clone(world), path);
    let mut marks = Marks::default();
    engine.run(&mut marks);
    assert_eq!(marks.0.len(), world.protocols.len(), "{what}");
    for mark in &marks.0 {
        let p = mark.protocol;
        let state = engine.state();
        let price = |a: AssetId| world.protocol_price(state, ProtocolId(p.0), a);
        let accounts = &state.protocols[p.index()].accounts;
        let open: Vec<_> = accounts.iter().filter(|a| a.debt > 0.0).collect();
        assert_eq!(mark.open_accounts, open.len() as u64, "{what}");
        let debt_usd: f64 = open.iter().map(|a| a.debt_value(&price)).sum();
        let collateral_usd: f64 = open.iter().map(|a| a.collateral_value(&price)).sum();
        let unrealised: f64 = open
            .iter()
            .map(|a| (a.debt_value(&price) - a.collateral_value(&price)).max(0.0))
            .sum();
        close(mark.debt_usd, debt_usd, &format!("{what}: debt_usd"));
        close(
            mark.collateral_usd,
            collateral_usd,
            &format!("{what}: collateral_usd"),
        );
        close(
            mark.unrealised_bad_debt_usd,
            unrealised,
            &format!("{what}: unrealised"),
        );
        for (a, asset) in world.assets.iter().enumerate() {
            let units: f64 = accounts
                .iter()
                .map(|x| x.collateral_of(AssetId(a as u32)))
                .sum();
            close(
                mark.collateral[a],
                units,
                &format!("{what}: collateral {}", asset.symbol),
            );
            let debt: f64 = accounts
                .iter()
                .filter(|x| x.debt_asset.index() == a)
                .map(|x| x.debt)
                .sum();
            close(
                mark.debt[a],
                debt,
                &format!("{what}: debt {}", asset.symbol),
            );
        }
    }
}

#[test]
fn marks_equal_a_whole_pass_on_calm_and_breaking_paths() {
    for example in [
        "gbm-jump-stress.toml",
        "perp-and-lending.toml",
        "eth-crash.toml",
        "lending-rules.toml",
        "maker-dutch-auction.toml",
    ] {
        let world = Fixture::example(example).world();
        for path in 0..4 {
            check(&world, path, &format!("{example} path {path}"));
        }
    }
}

#[test]
fn untouched_accounts_under_water_at_the_end_count_as_unrealised_bad_debt() {
    // Accounts are checked only every hour (an epoch: at time 0 only in this ten-minute run),
    // and a 40% fall at minute 9 leaves the least healthy accounts under water, never checked,
    // so untouched by the path.
    let world = Fixture::example("uniform-wall.toml")
        .set("protocols[0].epoch_seconds", 3600)
        .set("shocks[0].drop", 0.4)
        .set("shocks[0].step", 9)
        .world();
    let mut engine = Engine::new(Arc::clone(&world));
    let mut marks = Marks::default();
    engine.run(&mut marks);
    assert!(
        marks.0[0].unrealised_bad_debt_usd > 0.0,
        "the fall leaves accounts under water"
    );
    check(&world, 0, "uniform wall, no keeper, 40% fall");
}
