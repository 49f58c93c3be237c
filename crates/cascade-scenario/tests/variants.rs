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
