//! Liquidation rules end to end: toxic parameters drain, healthy ones heal; the two-step keeper
//! strategy extracts more bonus than one call; each protocol's rule decides whether debt left
//! without collateral is written off (realised) or stays on the account (unrealised).

use cascade_engine::EventKind;

use cascade_test_support::{Fixture, Run, run_str};

/// One account of 10 ETH owing DEBT USDC; the ETH fundamental steps to PRICE at step 1 and
/// stays. The oracle reads the fundamental and the keeper holds what it seizes, so nothing but
/// the rule moves the account.
fn one_account(liquidation: &str, threshold: f64, debt: f64, price: f64, strategy: &str) -> Run {
    run_str(&one_account_text(
        liquidation,
        threshold,
        debt,
        price,
        strategy,
    ))
}

/// The text of [`one_account`]'s scenario; a `# more protocol keys` comment marks where protocol keys go.
fn one_account_text(
    liquidation: &str,
    threshold: f64,
    debt: f64,
    price: f64,
    strategy: &str,
) -> String {
    format!(
        r#"
[simulation]
name = "one-account"
seed = 1
steps = 3
step_seconds = 60

[[assets]]
symbol = "ETH"
price = 2000.0
driver = {{ model = "path", points = [[0, 2000.0], [60, {price}]] }}

[[assets]]
symbol = "USDC"
price = 1.0

[[oracles]]
name = "eth-usd"
asset = "ETH"
sources = ["fundamental"]

[[protocols]]
name = "lender"
kind = "lending"
liquidation = {liquidation}
oracles = {{ ETH = "eth-usd" }}
collateral = {{ ETH = {{ ltv = {threshold}, liquidation_threshold = {threshold} }} }}
# more protocol keys

[[positions]]
protocol = "lender"
count = 1
collateral = {{ asset = "ETH", total = 10.0 }}
debt = {{ asset = "USDC" }}
liquidation_price = {{ distribution = "even", low = {trigger}, high = {trigger} }}

[[keepers]]
name = "keeper"
protocols = ["lender"]
strategy = "{strategy}"
"#,
        trigger = debt / (10.0 * threshold),
    )
}

fn calls(run: &Run) -> usize {
    run.events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Liquidation(_)))
        .count()
}

/// Bonus the keeper earned: collateral received at the oracle price minus debt repaid.
fn bonus_earned(run: &Run) -> f64 {
    run.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Liquidation(l) => {
                Some(l.to_keeper * l.collateral_price - l.debt_repaid * l.debt_price)
            }
            _ => None,
        })
        .sum()
}

const HALF_CLOSE: &str = r#"{ mechanism = "fixed_spread", bonus = 0.05, close_factor = 0.5 }"#;

/// Aave v4 with the reference configuration of `cascade compare`'s `aave_v4` and a 4% maximum
/// bonus.
const AAVE_V4_BONUS_4: &str = r#"{ mechanism = "aave_v4", bonus = 0.04, protocol_fee = 0.1, target_health_factor = 1.05, health_factor_for_max_bonus = 0.7, liquidation_bonus_factor = 0.2 }"#;

#[test]
fn toxic_parameters_drain_a_position_into_bad_debt() {
    // LT 0.96 · 1.05 = 1.008 ≥ 1: each 50% liquidation lowers the health factor further, so
    // the account is liquidated round after round until its collateral is gone.
    let run = one_account(HALF_CLOSE, 0.96, 19_000.0, 1_970.0, "single_call");
    assert!(run.summary.warnings.iter().any(|w| w.contains("toxic")));
    assert!(calls(&run) >= 3, "{} calls", calls(&run));
    assert!(run.summary.bad_debt_realised_usd > 0.0);
    assert_eq!(run.summary.protocols["lender"].open_accounts, 0);
}

#[test]
fn healthy_parameters_heal_a_position_in_one_call() {
    // LT 0.80 · 1.05 = 0.84 < 1: one 50% liquidation lifts the health factor above 1.
    let run = one_account(HALF_CLOSE, 0.80, 15_700.0, 1_950.0, "single_call");
    assert_eq!(calls(&run), 1);
    assert_eq!(run.summary.bad_debt_usd, 0.0);
    assert_eq!(run.summary.protocols["lender"].open_accounts, 1);
}

#[test]
fn the_two_step_strategy_earns_more_bonus_than_one_call() {
    // Under a 50% close factor one call repays cf·D. The two-step keeper first repays
    // r1 = (h·D − W) / (h − (1 + b)·LT), which leaves the health factor at h just below 1, then
    // cf·(D − r1): the bonus grows by the factor (r1 + cf·(D − r1)) / (cf·D).
    let (debt, weighted, cf, lt) = (15_700.0, 10.0 * 1_950.0 * 0.80, 0.5, 0.80);
    for (liquidation, bonus) in [
        (HALF_CLOSE, 0.05),
        (
            r#"{ mechanism = "aave_v3", version = "3.2", bonus = 0.05 }"#,
            0.05,
        ),
        (
            r#"{ mechanism = "compound_v2", bonus = 0.08, close_factor = 0.5 }"#,
            0.08,
        ),
    ] {
        let single = one_account(liquidation, lt, debt, 1_950.0, "single_call");
        let two = one_account(liquidation, lt, debt, 1_950.0, "two_step");
        assert_eq!(calls(&single), 1);
        assert_eq!(calls(&two), 2, "{liquidation}");
        let h = 1.0 - 1e-9;
        let first = (h * debt - weighted) / (h - (1.0 + bonus) * lt);
        let expected = (first + cf * (debt - first)) / (cf * debt);
        let (b1, b2) = (bonus_earned(&single), bonus_earned(&two));
        assert!(b2 > b1, "{liquidation}: two-step {b2} vs single {b1}");
        assert!(
            (b2 / b1 - expected).abs() < 1e-6,
            "{liquidation}: {} vs {expected}",
            b2 / b1
        );
    }
}

#[test]
fn each_rule_decides_what_happens_to_debt_left_without_collateral() {
    // 10 ETH owing 19,000 USDC; ETH gaps from 2,000 to 1,500: collateral worth 15,000 cannot
    // cover the debt plus any incentive, so a liquidation takes all of it and debt remains.
    for (liquidation, threshold, written_off) in [
        (
            r#"{ mechanism = "fixed_spread", bonus = 0.05, close_factor = 1.0 }"#,
            0.96,
            true,
        ),
        (
            r#"{ mechanism = "aave_v3", version = "3.3", bonus = 0.05 }"#,
            0.96,
            true,
        ),
        (
            r#"{ mechanism = "aave_v3", version = "3.2", bonus = 0.05 }"#,
            0.96,
            false,
        ),
        (
            r#"{ mechanism = "compound_v2", bonus = 0.08, close_factor = 0.5 }"#,
            0.96,
            false,
        ),
        (r#"{ mechanism = "morpho_blue" }"#, 0.96, true),
        // Aave v4 requires threshold × (1 + maximum bonus) < 1; its deficit is written off.
        (AAVE_V4_BONUS_4, 0.96, true),
        (
            r#"{ mechanism = "euler_v2", max_discount = 0.15 }"#,
            0.96,
            true,
        ),
    ] {
        let run = one_account(liquidation, threshold, 19_000.0, 1_500.0, "single_call");
        let s = &run.summary;
        assert!(calls(&run) >= 1, "{liquidation}");
        if written_off {
            assert!(s.bad_debt_realised_usd > 0.0, "{liquidation}");
            assert_eq!(s.bad_debt_unrealised_usd, 0.0, "{liquidation}");
        } else {
            assert_eq!(s.bad_debt_realised_usd, 0.0, "{liquidation}");
            assert!(s.bad_debt_unrealised_usd > 0.0, "{liquidation}");
            assert_eq!(s.protocols["lender"].open_accounts, 1, "{liquidation}");
        }
        // Either way the loss is the same size: the debt the collateral could not cover.
        assert!(s.bad_debt_usd > 0.0, "{liquidation}");
    }
}

#[test]
fn the_insurance_fund_pays_first_then_the_shortfall_rule() {
    // 10 ETH owing 19,000 USDC, ETH gaps to 1,500: the keeper repays 10 · 1,500 / 1.05 =
    // 14,285.71 for all the collateral and 4,714.29 is written off. A 3,000 USD fund covers
    // part of it; the shortfall rule takes the rest.
    let written_off = 19_000.0 - 10.0 * 1_500.0 / 1.05;
    let full = r#"{ mechanism = "fixed_spread", bonus = 0.05, close_factor = 1.0 }"#;
    let with = |insurance: &str| {
        let text = one_account_text(full, 0.96, 19_000.0, 1_500.0, "single_call").replace(
            "# more protocol keys\n",
            &format!("insurance = {insurance}\n"),
        );
        run_str(&text)
    };
    let socialised = with(r#"{ fund_usd = 3000.0, shortfall = "socialise" }"#);
    let s = &socialised.summary;
    assert!((s.bad_debt_realised_usd - written_off).abs() < 1e-6);
    assert!((s.insurance_drawn_usd - 3_000.0).abs() < 1e-9);
    assert!((s.socialised_loss_usd - (written_off - 3_000.0)).abs() < 1e-6);
    let fund = s.protocols["lender"]
        .insurance_fund
        .as_ref()
        .expect("a fund");
    assert_eq!(
        (fund.start_usd, fund.final_usd, fund.min_usd),
        (3_000.0, 0.0, 0.0)
    );
    assert!((fund.max_drawdown_usd - 3_000.0).abs() < 1e-9);

    // Debt auctions of 1,000 USD lots: 1,714.29 left over kicks one whole lot, 714.29 waits,
    // and two lots are needed in all.
    let auction =
        with(r#"{ fund_usd = 3000.0, shortfall = "debt_auction", debt_auction_lot_usd = 1000.0 }"#);
    let p = &auction.summary.protocols["lender"];
    assert_eq!(
        (p.debt_auction_lots, p.debt_auction_lots_needed),
        (1, Some(2))
    );
    assert!((p.uncovered_deficit_usd - (written_off - 4_000.0)).abs() < 1e-6);
    assert_eq!(p.socialised_loss_usd, 0.0);

    // With no shortfall rule the protocol carries what the fund could not cover.
    let carried = with(r#"{ fund_usd = 3000.0 }"#);
    let p = &carried.summary.protocols["lender"];
    assert!((p.uncovered_deficit_usd - (written_off - 3_000.0)).abs() < 1e-6);
}

/// The uniform wall on a venue ten times as thin, under `liquidation`, with the protocol's
/// per-step liquidation limit if one is given.
fn wall_with(limit_usd_per_step: Option<f64>, liquidation: &str) -> Run {
    let wall = Fixture::example("uniform-wall")
        .set_raw("protocols[0].liquidation", liquidation)
        .set("venues[0].impact.usd_per_unit", 0.02);
    match limit_usd_per_step {
        Some(limit) => wall.set("protocols[0].liquidation_limit_usd_per_step", limit),
        None => wall,
    }
    .run()
}

#[test]
fn a_per_step_limit_spreads_liquidations_over_time_and_softens_the_fall() {
    let full = r#"{ mechanism = "fixed_spread", bonus = 0.05, close_factor = 1.0 }"#;
    let free = wall_with(None, full);
    let limit = 2_000_000.0;
    let capped = wall_with(Some(limit), full);
    // Debt repaid in any step stays within the limit.
    for (step, repaid) in capped.column("debt_repaid_usd").into_iter().enumerate() {
        assert!(repaid <= limit * (1.0 + 1e-9), "step {step}: {repaid}");
    }
    assert!(
        capped.summary.cascade.steps_with_liquidations
            > free.summary.cascade.steps_with_liquidations
    );
    assert!(capped.summary.liquidations.missed > 0);
    let (free_drop, capped_drop) = (
        free.summary.assets["ETH"].total_drop,
        capped.summary.assets["ETH"].total_drop,
    );
    assert!(
        capped_drop < free_drop,
        "capped {capped_drop} vs free {free_drop}"
    );
}

#[test]
fn a_dynamic_bonus_grows_with_the_health_factor_shortfall() {
    // bonus = min(0.15, 0.05 + 0.5 × (1 − HF)) at each call's health factor.
    let dynamic = r#"{ mechanism = "fixed_spread", bonus = 0.05, close_factor = 1.0, bonus_slope = 0.5, bonus_cap = 0.15 }"#;
    let run = wall_with(None, dynamic);
    let mut checked = 0;
    for event in &run.events {
        if let EventKind::Liquidation(l) = &event.kind {
            if l.to_keeper < l.collateral_seized || l.collateral_seized == 0.0 {
                continue;
            }
            let expected = (0.05 + 0.5 * (1.0 - l.health_factor)).min(0.15);
            let bonus =
                l.collateral_seized * l.collateral_price / (l.debt_repaid * l.debt_price) - 1.0;
            // Calls capped by the account's collateral seize less; check the uncapped ones.
            if bonus < expected - 1e-9 {
                continue;
            }
            assert!(
                (bonus - expected).abs() < 1e-9,
                "HF {}: bonus {bonus} vs {expected}",
                l.health_factor
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked} liquidations checked");
}

#[test]
fn a_volatility_driven_bonus_follows_the_realised_volatility() {
    // A volatile ETH (GBM, 150% a year) with an instant oracle: each call's bonus is
    // min(cap, 0.05 + 0.1 × σ), σ the annualised volatility of the step-end prices over the
    // last hour before the call's step.
    let run = Fixture::example("uniform-wall")
        .set("protocols[0].liquidation.volatility_slope", 0.1)
        .set("protocols[0].liquidation.volatility_window_seconds", 3600)
        .set("protocols[0].liquidation.bonus_cap", 0.3)
        .set("simulation.steps", 240)
        .set_raw(
            "assets[0].driver",
            r#"{ model = "gbm", drift = 0.0, volatility = 1.5 }"#,
        )
        .run();
    let prices = run.column("oracle_eth-usd");
    let sigma = |step: usize| {
        // Step-end prices of steps ≤ step − 1, the last 61 of them (3,600 s / 60 s + 1).
        let end = step;
        let start = end.saturating_sub(61);
        let window = &prices[start..end];
        if window.len() < 3 {
            return 0.0;
        }
        let returns: Vec<f64> = window.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
        let mean = returns.iter().sum::<f64>() / returns.len() as f64;
        let var =
            returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (returns.len() - 1) as f64;
        (var * 365.0 * 24.0 * 60.0).sqrt()
    };
    let mut checked = 0;
    for event in &run.events {
        if let EventKind::Liquidation(l) = &event.kind {
            let expected = (0.05 + 0.1 * sigma(event.step as usize)).min(0.3);
            let bonus =
                l.collateral_seized * l.collateral_price / (l.debt_repaid * l.debt_price) - 1.0;
            if bonus < expected - 1e-9 {
                continue; // capped by the account's collateral
            }
            assert!(
                (bonus - expected).abs() < 1e-9,
                "step {}: {bonus} vs {expected}",
                event.step
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked} liquidations checked");
}

/// docs/reference-math.md §1.5 A7 end to end: 10 ETH at 204 ($2,040), LT 0.98, 2,010 USDC of
/// debt (HF 0.994627). Aave v3.3's 50% call would leave $984.75 of collateral and revert; the
/// keeper sizes its call as `LiquidationDataProvider` does and repays 990.476190, leaving
/// exactly $1,000 of ETH. Tolerance 1e-6 USDC.
#[test]
fn an_aave_v3_3_keeper_sizes_its_call_to_leave_no_dust() {
    let run = one_account(
        r#"{ mechanism = "aave_v3", version = "3.3", bonus = 0.05 }"#,
        0.98,
        2_010.0,
        204.0,
        "single_call",
    );
    let first = run
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Liquidation(l) => Some(l.clone()),
            _ => None,
        })
        .expect("the account is liquidated");
    assert!((first.health_factor - 0.994627).abs() < 1e-6);
    assert!(
        (first.debt_repaid - 990.476190).abs() < 1e-6,
        "{}",
        first.debt_repaid
    );
    assert!(((10.0 - first.collateral_seized) * 204.0 - 1_000.0).abs() < 1e-6);
}

/// docs/reference-math.md §1.6 end to end: 10 ETH falling to $1,950, threshold 0.8, 15,700 USDC
/// of debt (health factor 0.993631). One Aave v4 call (maximum bonus 4%, factor 20%, maximum at
/// 0.7, target 1.05) pays the bonus of that health factor, 0.8 + 3.2 × 0.006369 / 0.3 =
/// 0.867941%, repays debt × (1.05 − HF) / (1.05 − (1 + bonus) × 0.8) and leaves the account open
/// at health factor 1.05. Tolerance 1e-9 relative.
#[test]
fn an_aave_v4_call_restores_the_target_health_factor() {
    let run = one_account(AAVE_V4_BONUS_4, 0.8, 15_700.0, 1_950.0, "single_call");
    assert_eq!(calls(&run), 1);
    let call = run
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Liquidation(l) => Some(l.clone()),
            _ => None,
        })
        .expect("the account is liquidated");
    let hf = 10.0 * 1_950.0 * 0.8 / 15_700.0;
    assert!((call.health_factor - hf).abs() < 1e-9);
    let bonus = 0.008 + 0.032 * (1.0 - hf) / 0.3;
    let repay = 15_700.0 * (1.05 - hf) / (1.05 - (1.0 + bonus) * 0.8);
    assert!(
        (call.debt_repaid / repay - 1.0).abs() < 1e-9,
        "{}",
        call.debt_repaid
    );
    let seized = repay * (1.0 + bonus) / 1_950.0;
    assert!((call.collateral_seized / seized - 1.0).abs() < 1e-9);
    let after = (10.0 - seized) * 1_950.0 * 0.8 / (15_700.0 - repay);
    assert!((after - 1.05).abs() < 1e-9, "{after}");
    assert_eq!(run.summary.protocols["lender"].open_accounts, 1);
    // Aave v3.3 at this health factor (above 0.95, position above $2,000) repays half the debt.
    let v33 = one_account(
        r#"{ mechanism = "aave_v3", version = "3.3", bonus = 0.04 }"#,
        0.8,
        15_700.0,
        1_950.0,
        "single_call",
    );
    let repaid_v33: f64 = v33
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Liquidation(l) => Some(l.debt_repaid),
            _ => None,
        })
        .sum();
    assert!((repaid_v33 - 7_850.0).abs() < 1e-6, "{repaid_v33}");
    // v4 repays 3,641.13 of it: what restores 1.05, under half of v3.3's call.
    assert!(call.debt_repaid < 0.5 * repaid_v33, "{}", call.debt_repaid);
}
