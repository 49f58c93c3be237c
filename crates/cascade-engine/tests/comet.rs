//! Compound III (Comet): absorb and buyCollateral end to end. docs/reference-math.md §3 M1 through
//! the
//! health factor; collateral and reserves conserved; no purchases once reserves reach target.

use cascade_engine::EventKind;
use cascade_model::ids::AssetId;
use cascade_model::lending::{
    Account, CollateralParams, FixedSpread, LendingParams, LiquidationRule,
};
use smallvec::smallvec;

use cascade_test_support::{Run, run_str};

/// §3 M1: 16,700 USDC of debt against 10 WETH at 2,000 with liquidateCollateralFactor 0.83:
/// liquidity = −16,700 + 16,600 = −100, so the account is liquidatable (health factor < 1).
#[test]
fn comet_liquidity_m1() {
    let params = LendingParams {
        collateral: vec![
            Some(CollateralParams {
                ltv: 0.8,
                liquidation_threshold: 0.83,
                liquidation_bonus: 0.0,
                liquidation_factor: 0.9,
            }),
            None,
        ],
        liquidation: LiquidationRule::FixedSpread(FixedSpread {
            close_factor: 1.0,
            full_close_below_health_factor: None,
            protocol_fee: 0.0,
            bonus_slope: 0.0,
            bonus_cap: 0.0,
            volatility_slope: 0.0,
            volatility_window: 0,
        }),
        epoch_seconds: None,
        step_limit_usd: None,
    };
    let account = Account {
        collateral: smallvec![(AssetId(0), 10.0)],
        debt_asset: AssetId(1),
        debt: 16_700.0,
    };
    let price = |a: AssetId| if a.0 == 0 { 2000.0 } else { 1.0 };
    let liquidity = account.weighted_collateral(&params, &price) - account.debt_value(&price);
    assert!((liquidity + 100.0).abs() < 1e-9);
    assert!(account.health_factor(&params, &price) < 1.0);
}

fn comet(target: f64, initial: f64, crash_to: f64) -> Run {
    run_str(&format!(
        r#"
[simulation]
name = "comet"
seed = 2
steps = 12
step_seconds = 300

[[assets]]
symbol = "ETH"
price = 2000.0
driver = {{ model = "path", points = [[0, 2000.0], [600, {crash_to:?}]] }}

[[assets]]
symbol = "USDC"
price = 1.0

[[venues]]
name = "spot"
base = "ETH"
quote = "USDC"
impact = {{ model = "linear", usd_per_unit = 0.02 }}

[[oracles]]
name = "eth"
asset = "ETH"
sources = ["fundamental"]

[[protocols]]
name = "comet"
kind = "lending"
liquidation = {{ mechanism = "compound_v3", store_front_price_factor = 0.5, target_reserves_usd = {target:?}, initial_reserves_usd = {initial:?} }}
oracles = {{ ETH = "eth" }}
collateral = {{ ETH = {{ ltv = 0.8, liquidation_threshold = 0.83, liquidation_factor = 0.9 }} }}

[[positions]]
protocol = "comet"
count = 200
collateral = {{ asset = "ETH", total = 1000.0 }}
debt = {{ asset = "USDC" }}
liquidation_price = {{ distribution = "even", low = 1500.0, high = 1990.0 }}

[[keepers]]
name = "keeper"
protocols = ["comet"]
sell_on = "spot"
"#
    ))
}

fn check_conservation(run: &Run, initial_reserves: f64) {
    let (mut initial, mut marked, mut absorbed, mut bought, mut held) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut reserves, mut final_reserves) = (initial_reserves, f64::NAN);
    let (mut paid, mut spent) = (0.0, 0.0);
    for event in &run.events {
        match &event.kind {
            EventKind::PositionsOpened { collateral, .. } => initial += collateral[0],
            EventKind::Absorbed {
                collateral,
                debt,
                debt_price,
                credit,
                shortfall,
                delta_value,
                ..
            } => {
                absorbed += collateral[0];
                reserves -= debt * debt_price + credit;
                assert!(*credit >= 0.0 && *shortfall >= 0.0);
                assert!((delta_value - credit + shortfall - debt * debt_price).abs() < 1e-6);
            }
            EventKind::CollateralBought {
                units,
                paid: p,
                price,
                ..
            } => {
                bought += units;
                reserves += p;
                paid += p;
                assert!((units * price - p).abs() < 1e-6);
            }
            EventKind::PositionsMarked(m) => marked += m.collateral[0],
            EventKind::CometMarked {
                reserves_usd,
                held: h,
                ..
            } => {
                final_reserves = *reserves_usd;
                held += h[0];
            }
            EventKind::KeeperMarked { spent: s, .. } => spent += s,
            _ => {}
        }
    }
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "{what}: {a} vs {b}"
        )
    };
    close(
        initial,
        marked + absorbed,
        "collateral: in accounts or absorbed",
    );
    close(absorbed, held + bought, "absorbed: held or bought");
    close(
        final_reserves,
        reserves,
        "reserves: initial − absorbs + purchases",
    );
    close(spent, paid, "keepers spent = paid for collateral");
}

#[test]
fn absorbed_collateral_is_bought_while_reserves_are_below_target() {
    let run = comet(1e9, 0.0, 1700.0);
    let c = run.summary.protocols["comet"]
        .comet
        .as_ref()
        .expect("comet");
    assert!(c.absorbs > 0);
    assert!(c.bought.get("ETH").is_some_and(|&u| u > 0.0));
    // Nothing is sold at the moment of an absorb: the first sale follows a purchase.
    let first_absorb = run
        .events
        .iter()
        .position(|e| matches!(e.kind, EventKind::Absorbed { .. }));
    let first_sale = run
        .events
        .iter()
        .position(|e| matches!(e.kind, EventKind::Sale(_)));
    let first_buy = run
        .events
        .iter()
        .position(|e| matches!(e.kind, EventKind::CollateralBought { .. }));
    assert!(first_absorb < first_buy && first_buy < first_sale);
    check_conservation(&run, 0.0);
}

#[test]
fn no_collateral_is_sold_once_reserves_reach_their_target() {
    // Reserves far above target: the protocol keeps all the collateral it absorbs.
    let run = comet(1_000.0, 1e9, 1700.0);
    let c = run.summary.protocols["comet"]
        .comet
        .as_ref()
        .expect("comet");
    assert!(c.absorbs > 0);
    assert!(c.bought.is_empty());
    assert!(c.held.get("ETH").is_some_and(|&u| u > 0.0));
    check_conservation(&run, 1e9);
}

#[test]
fn an_absorb_under_water_is_absorbed_by_reserves_as_bad_debt() {
    // ETH gaps to 1,000: collateral at LF 0.9 covers far less than the debt.
    let run = comet(1e9, 0.0, 1000.0);
    let c = run.summary.protocols["comet"]
        .comet
        .as_ref()
        .expect("comet");
    assert!(c.shortfall_usd > 0.0);
    assert!((run.summary.bad_debt_realised_usd - c.shortfall_usd).abs() < 1e-6);
    check_conservation(&run, 0.0);
}
