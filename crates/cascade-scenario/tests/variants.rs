//! Counterfactual variants applied to a parsed scenario (`mechanism::apply_variant`): what each
//! says it removes is gone from the run. (The `compare` command that applies them is
//! cascade-cli's concern.)

use std::path::Path;

use cascade_engine::EventKind;
use cascade_test_support::{Fixture, repo, run};

#[test]
fn no_congestion_sends_no_transaction() {
    let text = Fixture::named("congested-flips").text();
    let path = Path::new("congested.toml");
    let file = cascade_scenario::parse(&text, path).expect("parses");
    let build = |file| {
        cascade_scenario::from_parsed(file, &text, path, &repo())
            .unwrap_or_else(|e| panic!("valid:\n{e}"))
    };
    let baseline = build(file.clone());
    let start = cascade_scenario::mechanism::Baseline::of(&baseline.world);
    let is_tx = |kind: &EventKind| {
        matches!(
            kind,
            EventKind::TxSubmitted(_)
                | EventKind::TxIncluded(_)
                | EventKind::TxReverted(_)
                | EventKind::TxDropped(..)
                | EventKind::BlocksProduced { .. }
        )
    };
    let as_is = run(baseline);
    assert!(as_is.events.iter().any(|e| is_tx(&e.kind)));
    let mut calm = file;
    cascade_scenario::mechanism::apply_variant(&mut calm, "no_congestion", &start).expect("known");
    let calm = run(build(calm));
    assert!(!calm.events.iter().any(|e| is_tx(&e.kind)));
    assert!(calm.summary.chain.is_none());
    assert!(calm.summary.liquidations.count > 0);
}

/// `gas_war` on congested flips: keepers are no longer held out by their gas caps, so fewer lots
/// go for nothing and nothing is contested (bids are not exclusive); on Dutch auctions takes are
/// contested, and the raised bids get in above the clearing price.
#[test]
fn gas_war_lets_keepers_in_and_contests_takes() {
    let text = Fixture::named("congested-flips").text();
    let path = Path::new("congested.toml");
    let file = cascade_scenario::parse(&text, path).expect("parses");
    let build = |file| {
        cascade_scenario::from_parsed(file, &text, path, &repo())
            .unwrap_or_else(|e| panic!("valid:\n{e}"))
    };
    let baseline = build(file.clone());
    let start = cascade_scenario::mechanism::Baseline::of(&baseline.world);
    let variant = |name: &str| {
        let mut f = file.clone();
        cascade_scenario::mechanism::apply_variant(&mut f, name, &start).expect("known");
        run(build(f))
    };
    let zero = |r: &cascade_test_support::Run| {
        r.summary
            .protocols
            .values()
            .next()
            .unwrap()
            .auctions
            .as_ref()
            .unwrap()
            .won_near_zero
    };
    let as_is = run(baseline);
    let war = variant("gas_war");
    assert!(zero(&as_is) > 0, "the fixture's lone bidders win at zero");
    assert!(
        zero(&war) < zero(&as_is),
        "{} vs {}",
        zero(&war),
        zero(&as_is)
    );
    let contests = war
        .summary
        .chain
        .as_ref()
        .unwrap()
        .gas_auctions
        .as_ref()
        .unwrap();
    assert_eq!(contests.contested, 0, "flip bids are not contested");
    let takes = variant("dutch_auction+gas_war");
    let contests = takes
        .summary
        .chain
        .as_ref()
        .unwrap()
        .gas_auctions
        .clone()
        .unwrap();
    assert!(contests.contested > 0);
    assert_eq!(contests.by_kind.keys().collect::<Vec<_>>(), ["take"]);
    assert!(contests.raises > 0, "{contests:?}");
    // One agent transaction per block: the contests' bids wait for room, and get in at the next
    // step's start, highest first, above the clearing price.
    let outbid_clearing = takes.events.iter().any(|e| {
        matches!(&e.kind, EventKind::TxIncluded(tx)
            if tx.kind == cascade_model::chain::TxKind::Take && tx.gas_bid > contests.base_gwei_mean)
    });
    assert!(outbid_clearing, "a take got in above the clearing price");
}
