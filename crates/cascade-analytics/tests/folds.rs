//! The streaming folds at the crate's boundary: fed the events of a run one at a time, as an
//! event sink, in pieces or beside another sink, they give what `summarize` and `timeline` give
//! for the whole vector, on shipped examples (and a variant) covering every mechanism, perp
//! exchanges, a chain with borrowers and market makers.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use cascade_analytics::{
    RunFold, RunInfo, Summary, SummaryFold, Timeline, TimelineFold, summarize, timeline,
};
use cascade_engine::{Event, EventKind, EventSink, Tee, World};

/// Shipped examples, by name and text: between them every liquidation mechanism, perp
/// exchanges with a vault and ADL, a chain with borrowers, market makers, and a protocol that
/// pauses on stale oracle prices.
const EXAMPLES: [(&str, &str); 14] = [
    (
        "eth-crash",
        include_str!("../../../examples/eth-crash.toml"),
    ),
    (
        "lending-rules",
        include_str!("../../../examples/lending-rules.toml"),
    ),
    (
        "maker-dutch-auction",
        include_str!("../../../examples/maker-dutch-auction.toml"),
    ),
    (
        "maker-english-auction",
        include_str!("../../../examples/maker-english-auction.toml"),
    ),
    (
        "backstop-transfer",
        include_str!("../../../examples/backstop-transfer.toml"),
    ),
    (
        "compound-v3-absorb",
        include_str!("../../../examples/compound-v3-absorb.toml"),
    ),
    (
        "liquity-stability-pool",
        include_str!("../../../examples/liquity-stability-pool.toml"),
    ),
    (
        "perp-and-lending",
        include_str!("../../../examples/perp-and-lending.toml"),
    ),
    (
        "perp-long-cascade",
        include_str!("../../../examples/perp-long-cascade.toml"),
    ),
    (
        "perp-short-squeeze",
        include_str!("../../../examples/perp-short-squeeze.toml"),
    ),
    (
        "market-makers-thin",
        include_str!("../../../examples/market-makers-thin.toml"),
    ),
    (
        "amm-venue",
        include_str!("../../../examples/amm-venue.toml"),
    ),
    (
        "oracle-staleness",
        include_str!("../../../examples/oracle-staleness.toml"),
    ),
    (
        "black-thursday-2020",
        include_str!("../../../examples/black-thursday-2020.toml"),
    ),
];

/// Variants of shipped examples, by name, text and the edit that makes them: between them the
/// figures no shipped example's own rules produce. The squeeze's exchange with the accounts
/// waiting out each slice's cooldown (`perp_cooldowns`; Hyperliquid's own rule closes them
/// whole).
const VARIANTS: [(&str, &str, &str, &str); 1] = [(
    "perp-short-squeeze-waiting",
    include_str!("../../../examples/perp-short-squeeze.toml"),
    "vault_capital_usd = 5000000.0\n",
    "vault_capital_usd = 5000000.0\nduring_slice_cooldown = \"wait\"\n",
)];

/// One example's run.
struct Run {
    name: &'static str,
    world: Arc<World>,
    info: RunInfo,
    events: Vec<Event>,
}

/// Every example run once (the only place the engine is called), shared by the tests.
fn runs() -> &'static [Run] {
    static RUNS: OnceLock<Vec<Run>> = OnceLock::new();
    RUNS.get_or_init(|| {
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let variants = VARIANTS.iter().map(|&(name, text, from, to)| {
            assert!(text.contains(from), "{name}: {from:?} not in its example");
            (name, text.replacen(from, to, 1))
        });
        EXAMPLES
            .iter()
            .map(|&(name, text)| (name, text.to_owned()))
            .chain(variants)
            .map(|(name, text)| {
                let file = format!("{name}.toml");
                let scenario = cascade_scenario::from_str(&text, Path::new(&file), &examples)
                    .unwrap_or_else(|e| panic!("{name} does not validate:\n{e}"));
                let world = Arc::new(scenario.world);
                let events = cascade_engine::trail(&world, 0);
                let info = RunInfo {
                    hash: scenario.hash,
                    description: scenario.description,
                    warnings: scenario.warnings,
                    ..RunInfo::default()
                };
                Run {
                    name,
                    world,
                    info,
                    events,
                }
            })
            .collect()
    })
}

/// Every figure of a summary, to the last bit (`Summary` has no `PartialEq`; its `Debug` prints
/// each float exactly, and fields summary.json leaves out).
fn figures(summary: &Summary) -> String {
    format!("{summary:#?}")
}

/// The summary and timeline of `run` from the whole vector.
fn whole(run: &Run) -> (String, Timeline) {
    (
        figures(&summarize(&run.world, &run.info, &run.events)),
        timeline(&run.world, &run.events),
    )
}

fn assert_same(run: &Run, (summary, table): (Summary, Timeline), how: &str) {
    let (expected_summary, expected_table) = whole(run);
    assert!(
        figures(&summary) == expected_summary,
        "{}: the summary {how} differs from summarize's",
        run.name
    );
    assert!(
        table == expected_table,
        "{}: the timeline {how} differs from timeline's",
        run.name
    );
}

#[test]
fn the_examples_cover_every_kind_of_figure() {
    let kinds = |name: &str| -> usize {
        runs()
            .iter()
            .map(|run| run.events.iter().filter(|e| e.kind.name() == name).count())
            .sum()
    };
    for kind in [
        "liquidation",
        "auction_kicked",
        "auction_taken",
        "auction_bid",
        "auction_ended",
        "trove_liquidated",
        "redistributed",
        "absorbed",
        "collateral_bought",
        "backstop_takeover",
        "backstop_sale",
        "perp_liquidated",
        "perp_takeover",
        "perp_deleveraged",
        "perp_cooldowns",
        "funding_paid",
        "losses_settled",
        "tx_submitted",
        "tx_included",
        "tx_reverted",
        "tx_dropped",
        "borrower_acted",
        "depth_changed",
        "sale",
        "bad_debt",
    ] {
        assert!(kinds(kind) > 0, "no example emits {kind}");
    }
}

#[test]
fn a_fold_fed_one_event_at_a_time_as_a_sink_equals_the_whole_vector_functions() {
    for run in runs() {
        let mut fold = RunFold::new(Arc::clone(&run.world), run.info.clone());
        for event in &run.events {
            fold.record(event);
        }
        assert_same(run, fold.finish(), "of a sink");
    }
}

#[test]
fn a_fold_fed_in_two_halves_equals_one_fed_at_once() {
    for run in runs() {
        let (first, second) = run.events.split_at(run.events.len() / 2);
        let mut fold = RunFold::new(&*run.world, run.info.clone());
        for event in first {
            fold.event(event);
        }
        for event in second {
            fold.event(event);
        }
        assert_same(run, fold.finish(), "fed in two halves");
    }
}

#[test]
fn a_fold_teed_with_the_trail_gives_the_same_figures_and_the_trail_every_event() {
    for run in runs() {
        let mut sink = Tee(
            RunFold::new(&*run.world, run.info.clone()),
            Vec::<Event>::new(),
        );
        for event in &run.events {
            sink.record(event);
        }
        let Tee(fold, trail) = sink;
        assert!(trail == run.events, "{}: the trail differs", run.name);
        assert_same(run, fold.finish(), "teed with the trail");
    }
}

#[test]
fn the_summary_and_timeline_folds_alone_equal_the_run_fold() {
    for run in runs() {
        let mut both = RunFold::new(&*run.world, run.info.clone());
        let mut summary = SummaryFold::new(&*run.world, run.info.clone());
        let mut table = TimelineFold::new(&run.world);
        for event in &run.events {
            both.event(event);
            summary.record(event);
            table.record(event);
        }
        let (expected_summary, expected_table) = both.finish();
        assert_eq!(figures(&summary.finish()), figures(&expected_summary));
        assert_eq!(table.finish(), expected_table);
    }
}

#[test]
fn distinct_accounts_and_episode_times_match_a_direct_count() {
    use std::collections::BTreeSet;
    for run in runs() {
        let summary = summarize(&run.world, &run.info, &run.events);
        for (p, info) in run.world.protocols.iter().enumerate() {
            let mut accounts = BTreeSet::new();
            for event in &run.events {
                let account = match &event.kind {
                    EventKind::Liquidation(l) if l.protocol.index() == p => l.account,
                    EventKind::TroveLiquidated(t) if t.protocol.index() == p => t.account,
                    EventKind::AuctionKicked {
                        protocol, account, ..
                    }
                    | EventKind::Absorbed {
                        protocol, account, ..
                    }
                    | EventKind::BackstopTakeover {
                        protocol, account, ..
                    } if protocol.index() == p => *account,
                    _ => continue,
                };
                accounts.insert(account);
            }
            assert_eq!(
                summary.protocols[&info.name].accounts_liquidated,
                accounts.len() as u64,
                "{}: {}",
                run.name,
                info.name
            );
        }
        for (x, info) in run.world.perps.iter().enumerate() {
            let accounts: BTreeSet<_> = run
                .events
                .iter()
                .filter_map(|e| match &e.kind {
                    EventKind::PerpLiquidated(l) if l.exchange.index() == x => Some(l.account),
                    EventKind::PerpTakeover {
                        exchange, account, ..
                    } if exchange.index() == x => Some(*account),
                    _ => None,
                })
                .collect();
            let perp = summary.protocols[&info.name].perp.as_ref().expect("perp");
            assert_eq!(
                perp.accounts_liquidated,
                accounts.len() as u64,
                "{}",
                run.name
            );
        }
        // Episode durations, sorted, and their nearest-rank percentiles.
        let mut durations: Vec<u64> = run
            .events
            .iter()
            .filter_map(|e| {
                let since = match &e.kind {
                    EventKind::Liquidation(l) if l.closes => l.liquidatable_since,
                    EventKind::TroveLiquidated(t) => t.liquidatable_since,
                    EventKind::AuctionEnded {
                        liquidatable_since, ..
                    }
                    | EventKind::Absorbed {
                        liquidatable_since, ..
                    }
                    | EventKind::BackstopTakeover {
                        liquidatable_since, ..
                    } => *liquidatable_since,
                    _ => return None,
                };
                Some(e.time - since.min(e.time))
            })
            .collect();
        durations.sort_unstable();
        let t = &summary.liquidations.time_to_close_seconds;
        assert_eq!(t.episodes, durations.len() as u64, "{}", run.name);
        let rank = |q: f64| {
            (!durations.is_empty()).then(|| {
                durations
                    [((q * durations.len() as f64).ceil() as usize).clamp(1, durations.len()) - 1]
            })
        };
        assert_eq!(t.median, rank(0.5), "{}", run.name);
        assert_eq!(t.p90, rank(0.9), "{}", run.name);
        assert_eq!(t.max, durations.last().copied(), "{}", run.name);
    }
}

#[test]
fn no_events_give_the_figures_of_the_initial_world() {
    let run = &runs()[0];
    let (summary, table) = RunFold::new(&*run.world, run.info.clone()).finish();
    assert_eq!(
        figures(&summary),
        figures(&summarize(&run.world, &run.info, &[]))
    );
    assert!(table.rows.is_empty());
    assert_eq!(summary.liquidations.count, 0);
    assert_eq!(summary.liquidations.time_to_close_seconds.median, None);
}

#[test]
fn a_fold_owning_its_world_can_move_to_another_thread() {
    fn sendable<T: Send + 'static>(_: &T) {}
    let run = &runs()[0];
    let fold = RunFold::new(Arc::clone(&run.world), run.info.clone());
    sendable(&fold);
    let events = run.events.clone();
    let (summary, table) = std::thread::spawn(move || {
        let mut fold = fold;
        events.iter().for_each(|e| fold.record(e));
        fold.finish()
    })
    .join()
    .expect("the fold's thread");
    assert_same(run, (summary, table), "folded on another thread");
}
