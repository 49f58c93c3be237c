//! Generated positions: truncated distributions stay within their bounds, accounts that start
//! liquidatable are announced, positions are sized at the protocol's own prices, and the seed
//! decides the book.

use cascade_model::ids::AssetId;
use cascade_model::lending::Account;
use cascade_test_support::Fixture;

/// The `lender` fixture with the positions' target `target` (a `health_factor` table) in place
/// of its liquidation prices.
fn lender_with_health_factors(target: &str) -> Fixture {
    Fixture::named("lender")
        .remove("positions[0].liquidation_price")
        .set_raw("positions[0].health_factor", target)
}

#[test]
fn truncated_health_factors_stay_within_their_bounds() {
    for kind in ["normal", "lognormal"] {
        let loaded = lender_with_health_factors(&format!(
            r#"{{ distribution = "{kind}", mean = 1.3, std = 0.5, low = 1.1, high = 1.6 }}"#
        ))
        .scenario();
        let world = &loaded.world;
        let price = |a: AssetId| if a.0 == 0 { 2000.0 } else { 1.0 };
        let params = &world.protocols[0].params;
        let factors: Vec<f64> = world.initial.protocols[0]
            .accounts
            .iter()
            .map(|a| a.health_factor(params, &price))
            .collect();
        let (min, max) = factors
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &h| (lo.min(h), hi.max(h)));
        assert!(
            min >= 1.1 - 1e-12 && max <= 1.6 + 1e-12,
            "{kind}: [{min}, {max}]"
        );
        // Without truncation the same distribution produces accounts below 1.1.
        assert!(
            loaded
                .warnings
                .iter()
                .all(|w| !w.contains("start liquidatable"))
        );
    }
}

#[test]
fn accounts_that_start_liquidatable_are_announced() {
    let loaded =
        lender_with_health_factors(r#"{ distribution = "normal", mean = 1.2, std = 0.3 }"#)
            .scenario();
    let warning = loaded
        .warnings
        .iter()
        .find(|w| w.contains("start liquidatable"));
    assert!(warning.is_some(), "{:?}", loaded.warnings);
}

#[test]
fn positions_are_sized_at_the_price_the_protocol_sees() {
    // An order book whose best bid is 1% under the fundamental: the oracle publishes 1,980, and a
    // health factor of 1.5 is meant at that price.
    let loaded = lender_with_health_factors(r#"{ distribution = "even", low = 1.5, high = 1.5 }"#)
        .set_raw(
            "venues[0].impact",
            r#"{ model = "order_book", levels = [[1980.0, 1000.0], [1900.0, 1000.0]] }"#,
        )
        .scenario();
    let world = &loaded.world;
    let price = |a: AssetId| if a.0 == 0 { 1980.0 } else { 1.0 };
    for account in &world.initial.protocols[0].accounts {
        let hf = account.health_factor(&world.protocols[0].params, &price);
        assert!((hf - 1.5).abs() < 1e-9, "{hf}");
    }
}

/// The accounts the `random-book` fixture generates with seed `seed`.
fn accounts(seed: u64) -> Vec<Account> {
    let scenario = Fixture::named("random-book")
        .set("simulation.seed", seed)
        .scenario();
    scenario.world.initial.protocols[0].accounts.clone()
}

#[test]
fn the_seed_decides_the_generated_book() {
    // The same seed generates the same book, account for account.
    assert_eq!(accounts(1), accounts(1));
    // Another seed generates another book, in every random population: each block of 500
    // accounts differs almost everywhere.
    let (a, b) = (accounts(1), accounts(2));
    assert_eq!(a.len(), 1500);
    assert_eq!(b.len(), 1500);
    for (block, name) in ["uniform", "normal + sizes", "lognormal"]
        .iter()
        .enumerate()
    {
        let range = block * 500..(block + 1) * 500;
        let differing = range.filter(|&i| a[i] != b[i]).count();
        assert!(
            differing >= 490,
            "{name}: only {differing} of 500 accounts differ between seeds 1 and 2"
        );
    }
    // Equal totals: the generator scales sizes to the population's collateral.
    let total = |book: &[Account]| -> f64 { book.iter().map(|x| x.collateral[0].1).sum() };
    assert!((total(&a) - 15_000.0).abs() < 1e-6 && (total(&b) - 15_000.0).abs() < 1e-6);
}
