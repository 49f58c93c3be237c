//! Runs are functions of the scenario and its seed (docs/model.md §2): the seed reaches everything
//! random the engine draws — stochastic price paths, and through the generated book the
//! liquidations. (The book itself is cascade-scenario's; byte-identical outputs of the command,
//! cascade-cli's.)

use cascade_engine::EventKind;
use cascade_test_support::Fixture;

/// The `stochastic` fixture (GBM and jump-diffusion over a generated book) with seed `seed`.
fn stochastic(seed: u64) -> Fixture {
    Fixture::named("stochastic").set("simulation.seed", seed)
}

#[test]
fn the_seed_decides_the_price_path() {
    let path = |seed: u64| -> Vec<(u64, u64)> {
        stochastic(seed)
            .run()
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::FundamentalMoved { asset, price } if e.step > 0 => {
                    Some((u64::from(asset.0), price.to_bits()))
                }
                _ => None,
            })
            .collect()
    };
    let (a, b) = (path(11), path(12));
    // Both stochastic assets move at every step after the start.
    assert_eq!(a.len(), 2 * 48);
    assert_eq!(a, path(11), "the same seed gave another path");
    let differing = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    assert_eq!(differing, a.len(), "seeds 11 and 12 share price points");
}

#[test]
fn the_seed_decides_which_accounts_are_liquidated() {
    let liquidated = |seed: u64| -> Vec<(u32, u64)> {
        Fixture::named("random-book")
            .set("simulation.seed", seed)
            .run()
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Liquidation(l) => Some((l.account.0, l.collateral_seized.to_bits())),
                _ => None,
            })
            .collect()
    };
    let (l1, l2) = (liquidated(1), liquidated(2));
    assert!(!l1.is_empty() && !l2.is_empty(), "the shock liquidates");
    assert_ne!(
        l1, l2,
        "seeds 1 and 2 liquidated the same accounts for the same amounts"
    );
    assert_eq!(l1, liquidated(1), "seed 1 twice liquidated differently");
}
