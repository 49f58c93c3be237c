//! Batched liquidation (`Engine::batch_liquidations`) against the per-account run, its reference:
//! on the wall model, path by path, every total of the trail — liquidations, debt repaid,
//! collateral seized, treasury fees, bad debt, sales, insurance, the keepers' and the books'
//! end-of-run marks, the prices — agrees to a relative 1e-9 (the two add in different orders),
//! and the number of rounds exactly. Where the rules or the keeper do not allow a batch, the
//! batched engine's trail is the per-account one to the bit.

use std::sync::Arc;

use cascade_engine::{Engine, Event, EventKind, World};
use cascade_test_support::Fixture;

/// What a trail adds up to, whether its liquidations come one by one or in batches.
#[derive(Debug, Default, PartialEq)]
struct Totals {
    liquidations: u64,
    written_off_accounts: u64,
    rounds: u64,
    batches: u64,
    /// Per-account liquidation events.
    single_calls: u64,
    /// Units the books opened with, all assets: the scale of the end-of-run marks, which are
    /// the opening totals less what the path took.
    opening_units: f64,
    /// Per figure, its sum: repaid USD, seized units, to keepers, fees, bad debt USD, sold,
    /// proceeds, insurance drawn, socialised, min venue price, final prices, keeper marks, book
    /// marks.
    figures: Vec<(&'static str, f64)>,
}

fn totals(events: &[Event]) -> Totals {
    let mut t = Totals::default();
    let mut sums = std::collections::BTreeMap::<&'static str, f64>::new();
    let mut add = |name: &'static str, x: f64| *sums.entry(name).or_default() += x;
    let mut min_venue = f64::INFINITY;
    let mut last_fundamental = 0.0;
    for event in events {
        match &event.kind {
            EventKind::PositionsOpened {
                collateral, debt, ..
            } => t.opening_units += collateral.iter().chain(debt).sum::<f64>(),
            EventKind::Liquidation(l) => {
                t.liquidations += 1;
                t.single_calls += 1;
                add("repaid_usd", l.debt_repaid * l.debt_price);
                add("seized", l.collateral_seized);
                add("to_keeper", l.to_keeper);
                add("fee", l.protocol_fee);
            }
            EventKind::LiquidationBatch(b) => {
                t.liquidations += b.accounts;
                t.written_off_accounts += b.written_off_accounts;
                t.batches += 1;
                add("repaid_usd", b.debt_repaid * b.debt_price);
                add("seized", b.collateral_seized);
                add("to_keeper", b.to_keeper);
                add("fee", b.protocol_fee);
                add("bad_debt_usd", b.written_off * b.debt_price);
            }
            EventKind::BadDebt { usd, .. } => {
                t.written_off_accounts += 1;
                add("bad_debt_usd", *usd);
            }
            EventKind::Sale(s) => {
                add("sold", s.filled);
                add("proceeds", s.proceeds);
                add("slippage", s.oracle_value - s.proceeds);
            }
            EventKind::LossesSettled {
                drawn,
                socialised,
                paid_in,
                fund_balance,
                ..
            } => {
                add("drawn", *drawn);
                add("socialised", *socialised);
                add("paid_in", *paid_in);
                add("fund_balance", *fund_balance);
            }
            EventKind::CascadeSettled { rounds, .. } => t.rounds += u64::from(*rounds),
            EventKind::VenuePriceMoved { price, .. } => min_venue = min_venue.min(*price),
            EventKind::FundamentalMoved { price, .. } => last_fundamental = *price,
            EventKind::KeeperMarked {
                spent,
                received,
                inventory,
                ..
            } => {
                add("keeper_spent", *spent);
                add("keeper_received", *received);
                add("keeper_inventory", inventory.iter().sum());
            }
            EventKind::PositionsMarked(mark) => {
                add("open_accounts", mark.open_accounts as f64);
                add("book_collateral", mark.collateral.iter().sum());
                add("book_debt", mark.debt.iter().sum());
                add("book_debt_usd", mark.debt_usd);
                add("book_collateral_usd", mark.collateral_usd);
                add("unrealised_usd", mark.unrealised_bad_debt_usd);
                add("treasury", mark.treasury.iter().sum());
            }
            _ => {}
        }
    }
    sums.insert("min_venue_price", min_venue);
    sums.insert("last_fundamental", last_fundamental);
    t.figures = sums.into_iter().collect();
    t
}

/// Path `path` of `world`, one account at a time.
fn per_account(world: &Arc<World>, path: u64) -> Vec<Event> {
    cascade_engine::trail(world, path)
}

/// Path `path` on `engine`, reset to it, batching.
fn batched(engine: &mut Engine, path: u64) -> Vec<Event> {
    engine.reset(path);
    let mut events = Vec::new();
    engine.run(&mut events);
    events
}

/// Whether the numbers of calls must agree.
#[derive(Clone, Copy, PartialEq)]
enum Calls {
    /// They must.
    Agree,
    /// They may not: a keeper at the end of its capital makes partial calls, whose number turns
    /// on the last bits of its balance (the money they move does not).
    MayDiffer,
}

fn assert_agree(batched: &Totals, reference: &Totals, calls: Calls, what: &str) {
    if calls == Calls::Agree {
        assert_eq!(
            batched.liquidations, reference.liquidations,
            "{what}: liquidations"
        );
        assert_eq!(
            batched.written_off_accounts, reference.written_off_accounts,
            "{what}: accounts written off"
        );
    }
    assert_eq!(batched.rounds, reference.rounds, "{what}: rounds");
    let names = |t: &Totals| t.figures.iter().map(|f| f.0).collect::<Vec<_>>();
    assert_eq!(names(batched), names(reference), "{what}: figures present");
    for (&(name, x), &(_, y)) in batched.figures.iter().zip(&reference.figures) {
        let mut scale = x.abs().max(y.abs()).max(1.0);
        if name.starts_with("book_") {
            scale = scale.max(reference.opening_units);
        }
        assert!(
            (x - y).abs() <= 1e-9 * scale,
            "{what}: {name} batched {x} against {y} one by one"
        );
    }
}

/// Runs paths 0 … `paths` − 1 both ways (the batched ones on one engine, reset between paths)
/// and checks they agree; returns the batched paths' totals of batches and of single calls.
fn compare(fixture: Fixture, paths: u64, calls: Calls, what: &str) -> (u64, u64) {
    let world = fixture.world();
    let mut engine = Engine::new(Arc::clone(&world));
    engine.batch_liquidations(true);
    let (mut batches, mut single_calls) = (0, 0);
    for path in 0..paths {
        let b = totals(&batched(&mut engine, path));
        let r = totals(&per_account(&world, path));
        assert_eq!(r.batches, 0);
        assert_agree(&b, &r, calls, &format!("{what}, path {path}"));
        batches += b.batches;
        single_calls += b.single_calls;
    }
    (batches, single_calls)
}

#[test]
fn batched_paths_add_up_to_the_per_account_paths() {
    let (batches, _) = compare(Fixture::named("wall"), 24, Calls::Agree, "wall");
    assert!(
        batches > 0,
        "no path of the wall broke: the test compares nothing"
    );
}

#[test]
fn treasury_fees_and_an_insurance_fund_add_up_too() {
    let fixture = Fixture::named("wall")
        .set("protocols[0].liquidation.protocol_fee", 0.1)
        .set_raw(
            "protocols[0].insurance",
            "{ fund_usd = 100000.0, fee_share = 0.5, shortfall = \"socialise\" }",
        );
    assert!(compare(fixture, 12, Calls::Agree, "fees and insurance").0 > 0);
}

#[test]
fn a_shock_through_the_whole_wall_adds_up() {
    // Deep enough that the accounts at the top end under water (debt written off).
    let fixture = Fixture::named("wall")
        .remove("assets[0].driver")
        .set_raw("shocks", "[{ asset = \"ETH\", step = 2, drop = 0.6 }]");
    let world = fixture.world();
    let mut engine = Engine::new(Arc::clone(&world));
    engine.batch_liquidations(true);
    let b = totals(&batched(&mut engine, 0));
    let r = totals(&per_account(&world, 0));
    assert!(b.written_off_accounts > 0, "nothing went under water");
    assert!(b.batches > 0);
    assert_agree(&b, &r, Calls::Agree, "shock");
}

#[test]
fn a_batched_path_is_the_same_alone_or_after_others() {
    let world = Fixture::named("wall").world();
    let mut engine = Engine::new(Arc::clone(&world));
    engine.batch_liquidations(true);
    let after_others: Vec<Vec<Event>> = (0..6).map(|k| batched(&mut engine, k)).collect();
    for (k, events) in after_others.iter().enumerate() {
        let mut alone = Engine::on_path(Arc::clone(&world), k as u64);
        alone.batch_liquidations(true);
        let mut fresh = Vec::new();
        alone.run(&mut fresh);
        assert_eq!(&fresh, events, "path {k}");
    }
}

/// Where a batch is not allowed, the batched engine runs one account at a time: its trail is
/// the reference's to the bit.
fn runs_per_account(fixture: Fixture, paths: u64, what: &str) {
    let world = fixture.world();
    let mut engine = Engine::new(Arc::clone(&world));
    engine.batch_liquidations(true);
    let mut liquidations = 0;
    for path in 0..paths {
        let events = batched(&mut engine, path);
        assert_eq!(events, per_account(&world, path), "{what}, path {path}");
        liquidations += totals(&events).liquidations;
    }
    assert!(liquidations > 0, "{what}: nothing was liquidated");
}

#[test]
fn a_keeper_who_wants_a_profit_is_asked_account_by_account() {
    runs_per_account(
        Fixture::named("wall").set("keepers[0].min_profit_usd", 0.0),
        8,
        "minimum profit",
    );
}

#[test]
fn a_close_factor_below_one_is_liquidated_account_by_account() {
    runs_per_account(
        Fixture::named("wall").set("protocols[0].liquidation.close_factor", 0.5),
        8,
        "close factor 0.5",
    );
}

#[test]
fn a_keeper_short_of_capital_for_a_batch_falls_back_to_single_calls() {
    // Capital for a few accounts, not for a wave: a batch it can pay for goes through, the
    // first it cannot goes account by account, which touches accounts, and the rest of the path
    // stays per account. The money still agrees.
    let fixture = Fixture::named("wall").set("keepers[0].capital_usd", 20_000.0);
    let (batches, single_calls) = compare(fixture, 24, Calls::MayDiffer, "capital");
    assert!(single_calls > 0, "the keeper never fell back");
    assert!(batches > 0, "the keeper never batched");
}
