//! A batch of liquidation calls (`EventKind::LiquidationBatch`) at the folds' boundary: a run
//! that reports some calls as batches has the summary and the timeline of the same run reporting
//! each call as a `Liquidation` event, followed by a `BadDebt` event for each account written
//! off. Counts agree exactly; sums of USD and units to a relative 1e-12 (they are added in
//! another order).

use std::sync::Arc;

use cascade_analytics::{RunFold, RunInfo, Summary, Timeline};
use cascade_engine::{Event, EventKind, LiquidationBatchRecord, LiquidationRecord, World};
use cascade_model::ids::{AccountId, AssetId, KeeperId, ProtocolId};
use cascade_test_support::Fixture;
use serde_json::Value;

/// Sums of USD and units may differ by this much, relatively.
const TOLERANCE: f64 = 1e-12;

/// One account's call in a batch: collateral units seized, of which to the keeper, debt units
/// repaid, and debt units written off (0 when its collateral covered its debt).
struct Call {
    seized: f64,
    to_keeper: f64,
    repaid: f64,
    written_off: f64,
}

/// A round's calls of one protocol, keeper and pair, at the protocol's prices.
struct Round {
    step: u64,
    first_account: u32,
    collateral_price: f64,
    debt_price: f64,
    calls: Vec<Call>,
}

const LENDER: ProtocolId = ProtocolId(0);
const KEEPER: KeeperId = KeeperId(0);
const ETH: AssetId = AssetId(0);
const USDC: AssetId = AssetId(1);

/// Two rounds in two steps, with accounts that repaid in full and accounts written off.
fn rounds() -> Vec<Round> {
    let call = |seized: f64, fee: f64, repaid: f64, written_off: f64| Call {
        seized,
        to_keeper: seized - fee,
        repaid,
        written_off,
    };
    vec![
        Round {
            step: 1,
            first_account: 1_900,
            collateral_price: 1_843.17,
            debt_price: 1.000_3,
            calls: vec![
                call(1.1, 0.011, 1_925.4, 0.0),
                call(0.73, 0.0073, 1_281.05, 0.0),
                call(2.0, 0.02, 3_300.9, 411.7),
                call(0.31, 0.0031, 544.2, 0.0),
                call(5.25, 0.0525, 8_700.0, 1_377.25),
            ],
        },
        Round {
            step: 3,
            first_account: 1_700,
            collateral_price: 1_611.9,
            debt_price: 0.999_1,
            calls: vec![
                call(0.9, 0.009, 1_382.1, 0.0),
                call(3.3, 0.033, 5_052.0, 13.5),
                call(1.7, 0.017, 2_610.3, 0.0),
            ],
        },
    ]
}

/// A round's calls one by one: each a liquidation that closes an episode opened at this check,
/// followed by the write-off of an account whose collateral ran out.
fn one_by_one(round: &Round, at: &Event) -> Vec<Event> {
    let mut events = Vec::new();
    for (i, call) in round.calls.iter().enumerate() {
        let account = AccountId(round.first_account + i as u32);
        events.push(in_round(
            at,
            EventKind::Liquidation(LiquidationRecord {
                protocol: LENDER,
                account,
                keeper: KEEPER,
                health_factor: 0.93,
                collateral_asset: ETH,
                collateral_seized: call.seized,
                to_keeper: call.to_keeper,
                protocol_fee: call.seized - call.to_keeper,
                collateral_price: round.collateral_price,
                debt_asset: USDC,
                debt_repaid: call.repaid,
                debt_price: round.debt_price,
                liquidatable_since: at.time,
                closes: true,
            }),
        ));
        if call.written_off > 0.0 {
            events.push(in_round(
                at,
                EventKind::BadDebt {
                    protocol: LENDER,
                    account,
                    debt_asset: USDC,
                    amount: call.written_off,
                    usd: call.written_off * round.debt_price,
                },
            ));
        }
    }
    events
}

/// The same round as one batch: the calls' totals.
fn batched(round: &Round, at: &Event) -> Vec<Event> {
    let total = |f: fn(&Call) -> f64| round.calls.iter().map(f).sum::<f64>();
    vec![in_round(
        at,
        EventKind::LiquidationBatch(LiquidationBatchRecord {
            protocol: LENDER,
            keeper: KEEPER,
            accounts: round.calls.len() as u64,
            written_off_accounts: round.calls.iter().filter(|c| c.written_off > 0.0).count() as u64,
            collateral_asset: ETH,
            collateral_seized: total(|c| c.seized),
            to_keeper: total(|c| c.to_keeper),
            protocol_fee: total(|c| c.seized - c.to_keeper),
            collateral_price: round.collateral_price,
            debt_asset: USDC,
            debt_repaid: total(|c| c.repaid),
            written_off: total(|c| c.written_off),
            debt_price: round.debt_price,
        }),
    )]
}

/// An event in the first cascade round of `at`'s step.
fn in_round(at: &Event, kind: EventKind) -> Event {
    Event {
        step: at.step,
        time: at.time,
        round: 1,
        kind,
    }
}

/// The trail of a calm run of `world` (no liquidations of its own), with each round's events
/// from `report` in its step's cascade, before the step's `cascade_settled`.
fn with_rounds(world: &Arc<World>, report: fn(&Round, &Event) -> Vec<Event>) -> Vec<Event> {
    let calm = cascade_engine::trail(world, 0);
    let rounds = rounds();
    let mut events = Vec::with_capacity(calm.len() + 16);
    for event in calm {
        if matches!(event.kind, EventKind::CascadeSettled { .. }) {
            for round in rounds.iter().filter(|r| r.step == event.step) {
                events.extend(report(round, &event));
            }
        }
        events.push(event);
    }
    events
}

/// The summary and timeline of `events`, folded one event at a time.
fn fold(world: &World, events: &[Event]) -> (Summary, Timeline) {
    let mut fold = RunFold::new(world, RunInfo::default());
    events.iter().for_each(|e| fold.event(e));
    fold.finish()
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= TOLERANCE * a.abs().max(b.abs())
}

/// Asserts that every figure of `actual` equals `expected`'s: the same keys, the same
/// integers, floats to [`TOLERANCE`].
fn assert_same_figures(path: &str, expected: &Value, actual: &Value) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let keys = |m: &serde_json::Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(e), keys(a), "{path}: keys");
            for (key, value) in e {
                assert_same_figures(&format!("{path}.{key}"), value, &a[key]);
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            assert_eq!(e.len(), a.len(), "{path}: length");
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                assert_same_figures(&format!("{path}[{i}]"), e, a);
            }
        }
        (Value::Number(e), Value::Number(a)) if e.is_f64() || a.is_f64() => {
            let (e, a) = (e.as_f64().unwrap(), a.as_f64().unwrap());
            assert!(close(e, a), "{path}: {a} where one by one gives {e}");
        }
        _ => assert_eq!(expected, actual, "{path}"),
    }
}

#[test]
fn a_batch_folds_as_its_calls_and_their_write_offs() {
    let world = Fixture::named("lender").world();
    let (each, each_table) = fold(&world, &with_rounds(&world, one_by_one));
    let (batch, batch_table) = fold(&world, &with_rounds(&world, batched));

    // The calls are all there, one by one: 8 calls closing 8 episodes of 0 s, 3 write-offs.
    assert_eq!(each.liquidations.count, 8);
    assert_eq!(each.liquidations.time_to_close_seconds.episodes, 8);
    assert_eq!(each.liquidations.time_to_close_seconds.max, Some(0));
    let lender = &each.protocols["lender"];
    assert_eq!((lender.liquidations, lender.accounts_liquidated), (8, 8));
    assert_eq!(each.keepers["keeper"].liquidations, 8);
    let written_off: f64 = rounds()
        .iter()
        .flat_map(|r| r.calls.iter().map(|c| c.written_off * r.debt_price))
        .sum();
    assert!(close(each.bad_debt_realised_usd, written_off));
    assert_eq!(each.cascade.steps_with_liquidations, 2);

    // ... and the batches count as they do, figure by figure.
    let json = |s: &Summary| serde_json::to_value(s).expect("a summary serializes");
    assert_same_figures("summary", &json(&each), &json(&batch));
    assert_eq!(batch_table.columns, each_table.columns);
    assert_eq!(batch_table.rows.len(), each_table.rows.len());
    for (step, (e, b)) in each_table.rows.iter().zip(&batch_table.rows).enumerate() {
        for ((column, e), b) in each_table.columns.iter().zip(e).zip(b) {
            assert!(
                close(*e, *b) || (e.is_nan() && b.is_nan()),
                "timeline step {step} {column}: {b} where one by one gives {e}"
            );
        }
    }
    let c = |name: &str| each_table.columns.iter().position(|n| n == name).unwrap();
    let (liquidations, bad_debt) = (c("liquidations"), c("bad_debt_realised_cumulative_usd"));
    let at = |table: &Timeline, column: usize| -> Vec<f64> {
        table.rows.iter().map(|row| row[column]).collect()
    };
    assert_eq!(at(&batch_table, liquidations), [0.0, 5.0, 0.0, 3.0, 0.0]);
    assert_eq!(
        at(&batch_table, liquidations),
        at(&each_table, liquidations)
    );
    assert!(at(&batch_table, bad_debt)[4] > 0.0);
}

#[test]
fn an_empty_batch_counts_for_nothing() {
    let world = Fixture::named("lender").world();
    let calm = cascade_engine::trail(&world, 0);
    let mut events = calm.clone();
    let at = events
        .iter()
        .position(|e| matches!(e.kind, EventKind::CascadeSettled { .. }) && e.step == 1)
        .expect("step 1 settles");
    let empty = in_round(
        &events[at],
        EventKind::LiquidationBatch(LiquidationBatchRecord {
            protocol: LENDER,
            keeper: KEEPER,
            accounts: 0,
            written_off_accounts: 0,
            collateral_asset: ETH,
            collateral_seized: 0.0,
            to_keeper: 0.0,
            protocol_fee: 0.0,
            collateral_price: 1_900.0,
            debt_asset: USDC,
            debt_repaid: 0.0,
            written_off: 0.0,
            debt_price: 1.0,
        }),
    );
    events.insert(at, empty);
    let (summary, table) = fold(&world, &events);
    let (calm_summary, calm_table) = fold(&world, &calm);
    assert_eq!(format!("{summary:#?}"), format!("{calm_summary:#?}"));
    assert!(table == calm_table);
}
