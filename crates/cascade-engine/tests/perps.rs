//! Perp exchanges through whole runs: docs/reference-math.md §8's worked examples at the
//! liquidation
//! engine (P1 under bankruptcy close-out, H1 under market close-out and the vault), the ADL
//! order, slices with a cooldown, funding, a short squeeze that cascades upward, a perp cascade
//! that triggers a lending protocol's liquidations through a shared venue, and the exchange's
//! total value conserved through all of it.

use cascade_engine::{EventKind, PerpCloseKind};
use proptest::prelude::*;

use cascade_test_support::{Run, load_str, run_str};

/// One BTC market on a deep linear book (0.001 USD per unit: fills within 0.001 of the price)
/// with a path for the fundamental, and the exchange section given.
fn btc(path: &str, exchange: &str, positions: &str) -> String {
    format!(
        r#"
[simulation]
name = "perp"
seed = 3
steps = 10
step_seconds = 60

[[assets]]
symbol = "BTC"
price = 20000.0
driver = {{ model = "path", points = {path} }}

[[assets]]
symbol = "USDC"
price = 1.0

[[venues]]
name = "btc-perp"
base = "BTC"
quote = "USDC"
impact = {{ model = "linear", usd_per_unit = 0.001 }}

[[protocols]]
name = "exchange"
kind = "perp"
{exchange}

[[protocols.markets]]
asset = "BTC"
venue = "btc-perp"
max_leverage = 50.0
maintenance = [[0.0, 0.004]]

{positions}
"#
    )
}

/// `count` positions of one side at 20,000 with the given leverage (even: all alike).
fn positions(side: &str, count: u32, notional: f64, leverage: f64) -> String {
    format!(
        r#"
[[positions]]
protocol = "exchange"
market = "BTC"
side = "{side}"
count = {count}
notional_usd = {notional}
leverage = {{ distribution = "even", low = {leverage}, high = {leverage} }}
"#
    )
}

fn perp_events(run: &Run) -> Vec<&EventKind> {
    run.events
        .iter()
        .map(|e| &e.kind)
        .filter(|k| {
            matches!(
                k,
                EventKind::PerpLiquidated(_)
                    | EventKind::PerpSettled(_)
                    | EventKind::PerpTakeover { .. }
                    | EventKind::PerpDeleveraged { .. }
            )
        })
        .collect()
}

/// The run's first `PerpSettled` record.
fn first_settlement(run: &Run) -> cascade_engine::PerpSettlement {
    run.events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::PerpSettled(s) => Some((**s).clone()),
            _ => None,
        })
        .expect("an account settled")
}

fn conserved(run: &Run) {
    let perp = run.summary.protocols["exchange"]
        .perp
        .as_ref()
        .expect("perp summary");
    let (start, end) = (perp.total_value_start_usd, perp.total_value_end_usd);
    assert!(
        (start - end).abs() <= 1e-9 * start.abs().max(1.0),
        "total value {start} → {end}"
    );
}

/// §8.1 P1 under bankruptcy close-out: the isolated long (1 BTC at 20,000, 1,000 margin, MMR
/// 0.4%) is left alone at 19,080 (above its liquidation price 19,076.31), closed at 19,050,
/// and the fund receives the fill's surplus over the bankruptcy price 19,000: 50 USD less the
/// book's impact (within 0.01 USD). The trader keeps nothing.
#[test]
fn p1_bankruptcy_close_out_pays_the_surplus_to_the_fund() {
    let text = btc(
        "[[0, 20000.0], [60, 19080.0], [120, 19050.0]]",
        "[protocols.perp]\nclose_out = \"bankruptcy\"\n[protocols.insurance]\nfund_usd = 1000.0",
        &positions("long", 1, 20_000.0, 20.0),
    );
    let run = run_str(&text);
    let closes: Vec<_> = run
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PerpLiquidated(l) => Some((e.step, l)),
            _ => None,
        })
        .collect();
    assert_eq!(closes.len(), 1, "{closes:?}");
    let (step, l) = closes[0];
    assert_eq!(step, 2, "liquidated at 19,050, not at 19,080");
    assert!((l.liquidation_price - 19_076.31).abs() < 0.01, "{l:?}");
    assert!((l.bankruptcy_price - 19_000.0).abs() < 1e-6, "{l:?}");
    assert!((l.fill_price - 19_050.0).abs() < 0.01, "{l:?}");
    let settled = first_settlement(&run);
    assert!((settled.fund_change - 50.0).abs() < 0.01, "{settled:?}");
    assert_eq!(settled.kept, 0.0);
    assert!((settled.fund_balance - 1_050.0).abs() < 0.01);
    conserved(&run);
}

/// The same long gapping through its bankruptcy price to 18,900: the fund pays the 100 USD the
/// fill falls short by.
#[test]
fn a_fill_worse_than_bankruptcy_is_paid_by_the_fund() {
    let text = btc(
        "[[0, 20000.0], [60, 18900.0]]",
        "[protocols.perp]\nclose_out = \"bankruptcy\"\n[protocols.insurance]\nfund_usd = 1000.0",
        &positions("long", 1, 20_000.0, 20.0),
    );
    let run = run_str(&text);
    let p = &run.summary.protocols["exchange"];
    let fund = p.insurance_fund.as_ref().expect("fund");
    assert!((fund.drawn_usd - 100.0).abs() < 0.01, "{fund:?}");
    assert!((fund.final_usd - 900.0).abs() < 0.01);
    assert!((p.bad_debt_realised_usd - 100.0).abs() < 0.01);
    conserved(&run);
}

/// §8.4 H1 on a Hyperliquid-style exchange (market close-out, maintenance half the initial
/// margin at 25×: 2%): the long of 1 ETH-equivalent at 20,000 with 2,000 margin liquidates at
/// 18,367.35; at 18,300 its equity (300) is above 2/3 of maintenance (244), so the book closes
/// it and the trader keeps 300 (within 0.01 USD). A second one at 18,200 (equity 200 < 2/3 ×
/// 364) goes to the vault with its 2,000 wallet: the vault's value is its capital plus 200.
#[test]
fn h1_market_close_out_and_the_vault() {
    let exchange = "preset = \"hyperliquid\"\n[protocols.perp]\nvault_capital_usd = 1000000.0";
    let text = btc(
        "[[0, 20000.0], [60, 18380.0], [120, 18300.0]]",
        exchange,
        &positions("long", 1, 20_000.0, 10.0),
    )
    .replace(
        "max_leverage = 50.0\nmaintenance = [[0.0, 0.004]]",
        "max_leverage = 25.0",
    );
    let run = run_str(&text);
    let settled = first_settlement(&run);
    assert!((settled.kept - 300.0).abs() < 0.01, "{settled:?}");
    assert_eq!(settled.fund_change, 0.0);
    conserved(&run);

    let text = btc(
        "[[0, 20000.0], [60, 18380.0], [120, 18200.0]]",
        exchange,
        &positions("long", 1, 20_000.0, 10.0),
    )
    .replace(
        "max_leverage = 50.0\nmaintenance = [[0.0, 0.004]]",
        "max_leverage = 25.0",
    );
    let run = run_str(&text);
    let kinds = perp_events(&run);
    assert!(
        matches!(kinds.as_slice(), [EventKind::PerpTakeover { equity, .. }] if (equity - 200.0).abs() < 1e-6),
        "{kinds:?}"
    );
    let vault = run.summary.protocols["exchange"]
        .perp
        .as_ref()
        .and_then(|p| p.vault.clone())
        .expect("vault");
    assert!((vault.pnl_usd - 200.0).abs() < 1e-6, "{vault:?}");
    assert_eq!(vault.holdings["BTC"], 1.0);
    conserved(&run);
}

/// §8.3's ranking at work: with an empty fund, a bankrupt long (40×, bankrupt at 19,500) that
/// gaps to 18,000 is closed at 19,500 against the shorts by rank. Short B (20×: bankrupt at
/// 21,000, rank 0.1 × 18,000 / 3,000 = 0.6) goes before short A (10×: bankrupt at 22,000,
/// rank 0.45); each takes the bankruptcy price, and the long ends with nothing.
#[test]
fn adl_closes_opposite_positions_by_rank_at_the_bankruptcy_price() {
    let book = format!(
        "{}{}{}",
        positions("long", 1, 20_000.0, 40.0),
        positions("short", 1, 10_000.0, 10.0),
        positions("short", 1, 10_000.0, 20.0)
    );
    let text = btc(
        "[[0, 20000.0], [60, 18000.0]]",
        "[protocols.insurance]\nfund_usd = 0.0\nshortfall = \"adl\"",
        &book,
    );
    let run = run_str(&text);
    let hits: Vec<(u32, f64, f64, f64)> = run
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PerpDeleveraged {
                account: Some(a),
                units,
                price,
                rank,
                ..
            } => Some((a.0, *units, *price, *rank)),
            _ => None,
        })
        .collect();
    assert_eq!(hits.len(), 2, "{hits:?}");
    // Account 2 is short B, account 1 short A; each short 0.5 BTC.
    assert_eq!(hits[0].0, 2);
    assert!((hits[0].3 - 0.6).abs() < 1e-9 && (hits[1].3 - 0.45).abs() < 1e-9);
    assert_eq!(hits[1].0, 1);
    for h in &hits {
        assert!((h.1 + 0.5).abs() < 1e-12, "{h:?}");
        assert!((h.2 - 19_500.0).abs() < 1e-6, "{h:?}");
    }
    let perp = run.summary.protocols["exchange"]
        .perp
        .clone()
        .expect("perp");
    assert_eq!(perp.deleveraged_closes, 1);
    assert_eq!(perp.adl.accounts_hit, 2);
    assert!((perp.adl.notional_usd - 19_500.0).abs() < 1e-6);
    assert!(
        perp.deficit_usd.abs() < 1e-6,
        "closed at bankruptcy: no deficit"
    );
    conserved(&run);
}

/// With `shortfall = "socialise"` the same gap is closed on the book, and the deficit the
/// empty fund cannot pay is charged to the accounts in profit (the two shorts), pro rata.
#[test]
fn socialised_loss_charges_the_accounts_in_profit() {
    let book = format!(
        "{}{}",
        positions("long", 1, 20_000.0, 40.0),
        positions("short", 2, 20_000.0, 10.0),
    );
    let text = btc(
        "[[0, 20000.0], [60, 18000.0]]",
        "[protocols.insurance]\nfund_usd = 0.0\nshortfall = \"socialise\"",
        &book,
    );
    let run = run_str(&text);
    let p = &run.summary.protocols["exchange"];
    let perp = p.perp.as_ref().expect("perp");
    // The long loses 2,000 beyond its 500 margin, within the book's impact.
    assert!((perp.deficit_usd - 1_500.0).abs() < 0.01, "{perp:?}");
    assert!((perp.socialised_loss_usd - perp.deficit_usd).abs() < 1e-6);
    assert!(perp.uncovered_deficit_usd.abs() < 1e-6);
    conserved(&run);
}

/// A position above the slice threshold is closed 20% first, then — after the cooldown — the
/// rest; between the two the account waits.
#[test]
fn large_positions_close_in_a_slice_then_the_rest() {
    let text = btc(
        "[[0, 20000.0], [60, 19000.0], [600, 18900.0]]",
        "[protocols.perp]\nclose_out = \"market\"\nslice_above_usd = 100000.0\nslice_fraction = 0.2\nslice_cooldown_seconds = 90\n[protocols.insurance]\nfund_usd = 100000.0",
        &positions("long", 1, 400_000.0, 25.0),
    );
    let run = run_str(&text);
    let closes: Vec<(u64, PerpCloseKind, f64)> = run
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PerpLiquidated(l) => Some((e.time, l.close, l.units)),
            _ => None,
        })
        .collect();
    assert_eq!(closes.len(), 2, "{closes:?}");
    assert_eq!(closes[0].1, PerpCloseKind::Slice);
    assert!((closes[0].2 - 4.0).abs() < 1e-9, "20% of 20 BTC");
    assert_eq!(closes[1].1, PerpCloseKind::Market);
    assert!(closes[1].0 >= closes[0].0 + 90, "{closes:?}");
    assert!(
        run.summary.protocols["exchange"]
            .perp
            .as_ref()
            .unwrap()
            .cooldown_waits
            > 0
    );
    conserved(&run);
}

/// Funding with no premium pays the interest: a lone long of 1 BTC at 20,000 pays 0.01% per
/// interval, 2 USD each hour, to the counterparties short against it.
#[test]
fn funding_pays_the_interest_when_there_is_no_premium() {
    let text = btc(
        "[[0, 20000.0]]",
        "[protocols.insurance]\nfund_usd = 0.0",
        &positions("long", 1, 20_000.0, 5.0),
    )
    .replace("steps = 10", "steps = 180")
    .replace(
        "maintenance = [[0.0, 0.004]]",
        "maintenance = [[0.0, 0.004]]\nfunding_interval_seconds = 3600\nfunding_interest = 0.0001",
    );
    let run = run_str(&text);
    let funding = &run.summary.protocols["exchange"]
        .perp
        .as_ref()
        .unwrap()
        .funding;
    assert_eq!(funding.payments, 3);
    assert_eq!(funding.max_rate, Some(0.0001));
    assert!((funding.longs_paid_usd - 6.0).abs() < 1e-9, "{funding:?}");
    conserved(&run);
}

/// A short squeeze: a 4% exogenous rise liquidates the most leveraged shorts, whose buying
/// lifts the book into the next ones; the venue rises more than the fundamental.
#[test]
fn a_short_squeeze_cascades_upward() {
    let text = btc(
        "[[0, 20000.0], [60, 20800.0]]",
        "[protocols.perp]\nclose_out = \"bankruptcy\"\n[protocols.insurance]\nfund_usd = 10000000.0",
        "[[positions]]\nprotocol = \"exchange\"\nmarket = \"BTC\"\nside = \"short\"\ncount = 500\nnotional_usd = 200000000.0\nleverage = { distribution = \"even\", low = 5.0, high = 40.0 }",
    )
    .replace("usd_per_unit = 0.001", "usd_per_unit = 0.2")
    .replace("[[0.0, 0.004]]", "[[0.0, 0.005]]\nmark = \"venue\"");
    let run = run_str(&text);
    let perp = run.summary.protocols["exchange"].perp.clone().unwrap();
    assert!(perp.liquidations_short > 0 && perp.liquidations_long == 0);
    let btc = &run.summary.assets["BTC"];
    assert!((btc.exogenous_rise - 0.04).abs() < 1e-12);
    assert!(
        btc.total_rise > 1.5 * btc.exogenous_rise,
        "squeeze amplified: {btc:?}"
    );
    assert!(btc.amplification_rise.unwrap() > 1.5);
    assert!(btc.max_price_impact_up > 0.0);
    // More shorts liquidate than the exogenous rise alone reaches.
    let direct = 500.0 * (40.0 - 1.0 / (0.04 + 0.005)) / 35.0;
    assert!(perp.liquidations_short as f64 > direct, "{perp:?}");
    conserved(&run);
}

/// One engine for all: a perp exchange and a lending protocol share the ETH venue and its
/// oracle. A 3% shock alone liquidates no loan (the loan wall starts 6% down); with the perp
/// longs on the same book their forced selling drags the price into the wall.
#[test]
fn a_perp_cascade_triggers_lending_liquidations() {
    let scenario = |with_perps: bool| {
        let perps = if with_perps {
            "[[positions]]\nprotocol = \"perp\"\nmarket = \"ETH\"\nside = \"long\"\ncount = 1000\nnotional_usd = 40000000.0\nleverage = { distribution = \"even\", low = 20.0, high = 40.0 }\n"
        } else {
            ""
        };
        format!(
            r#"
[simulation]
name = "shared"
seed = 5
steps = 5
step_seconds = 60

[[assets]]
symbol = "ETH"
price = 2000.0

[[assets]]
symbol = "USDC"
price = 1.0

[[venues]]
name = "eth"
base = "ETH"
quote = "USDC"
impact = {{ model = "linear", usd_per_unit = 0.01 }}

[[oracles]]
name = "eth-usd"
asset = "ETH"
sources = ["eth"]
aggregation = "last"

[[protocols]]
name = "lender"
kind = "lending"
liquidation = {{ mechanism = "fixed_spread", bonus = 0.05, close_factor = 0.5 }}
oracles = {{ ETH = "eth-usd" }}
collateral = {{ ETH = {{ ltv = 0.75, liquidation_threshold = 0.8 }} }}

[[protocols]]
name = "perp"
kind = "perp"
[protocols.insurance]
fund_usd = 50000000.0
[[protocols.markets]]
asset = "ETH"
venue = "eth"
oracle = "eth-usd"
max_leverage = 50.0
maintenance = [[0.0, 0.005]]

[[positions]]
protocol = "lender"
count = 500
collateral = {{ asset = "ETH", total = 5000.0 }}
debt = {{ asset = "USDC" }}
liquidation_price = {{ distribution = "even", low = 1700.0, high = 1880.0 }}

{perps}
[[keepers]]
name = "keeper"
protocols = ["lender"]
sell_on = "eth"

[[shocks]]
asset = "ETH"
step = 1
drop = 0.03
"#
        )
    };
    let alone = run_str(&scenario(false));
    assert_eq!(alone.summary.protocols["lender"].liquidations, 0);
    let shared = run_str(&scenario(true));
    let perp = shared.summary.protocols["perp"].perp.clone().unwrap();
    assert!(perp.liquidations_long > 0);
    assert!(
        shared.summary.protocols["lender"].liquidations > 0,
        "{:?}",
        shared.summary.assets["ETH"]
    );
}

/// The exchange's total value (accounts, vault, fund, outside counterparties, less the
/// uncovered deficit) is the same at the end as at the start, whatever the close-out, the
/// shortfall rule, the vault, slicing and the direction of the move. Relative tolerance 1e-9.
mod conservation {
    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn total_value_is_conserved(
            market_close in any::<bool>(),
            shortfall in 0usize..3,
            vault in any::<bool>(),
            slices in any::<bool>(),
            fund in prop_oneof![Just(0.0), Just(50_000.0), Just(5_000_000.0)],
            up in any::<bool>(),
            size in 0.03f64..0.25,
            long_share in 0.2f64..0.8,
            impact in prop_oneof![Just(0.01), Just(1.0)],
            on_entry in any::<bool>(),
            close_whole in any::<bool>(),
            adl_rule in 0usize..4,
        ) {
            let end = if up { 20_000.0 * (1.0 + size) } else { 20_000.0 * (1.0 - size) };
            let mut exchange = format!(
                "[protocols.perp]\nclose_out = \"{}\"\nliquidation_fee = 0.01\n",
                if market_close { "market" } else { "bankruptcy" }
            );
            if vault {
                exchange.push_str("vault_capital_usd = 1000000.0\n");
            }
            if slices {
                exchange.push_str("slice_above_usd = 50000.0\nslice_cooldown_seconds = 60\n");
                if close_whole {
                    exchange.push_str("during_slice_cooldown = \"close_whole\"\n");
                }
            }
            if on_entry {
                exchange.push_str("maintenance_on = \"entry\"\n");
            }
            exchange.push_str([
                "adl_ranking = \"bitmex\"\n",
                "adl_ranking = \"binance\"\n",
                "adl_ranking = \"hyperliquid\"\n",
                "adl_ranking = \"hyperliquid\"\nadl_price = \"previous_oracle\"\n",
            ][adl_rule]);
            exchange.push_str(&format!(
                "[protocols.insurance]\nfund_usd = {fund}\nshortfall = \"{}\"\n",
                ["adl", "socialise", "none"][shortfall]
            ));
            let book = format!(
                "[[positions]]\nprotocol = \"exchange\"\nmarket = \"BTC\"\nside = \"long\"\ncount = 60\nnotional_usd = {}\nsize_sigma = 1.0\nleverage = {{ distribution = \"uniform\", low = 2.0, high = 45.0 }}\n\
                 [[positions]]\nprotocol = \"exchange\"\nmarket = \"BTC\"\nside = \"short\"\ncount = 60\nnotional_usd = {}\nsize_sigma = 1.0\nleverage = {{ distribution = \"uniform\", low = 2.0, high = 45.0 }}\n",
                20_000_000.0 * long_share,
                20_000_000.0 * (1.0 - long_share)
            );
            let text = btc(&format!("[[0, 20000.0], [120, {end}], [600, 20000.0]]"), &exchange, &book)
                .replace("usd_per_unit = 0.001", &format!("usd_per_unit = {impact}"))
                .replace("maintenance = [[0.0, 0.004]]", "maintenance = [[0.0, 0.004], [100000.0, 0.01]]\nfunding_interval_seconds = 120\nfunding_interest = 0.0001\nmark = \"median\"");
            let scenario = load_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let run = cascade_test_support::run(scenario);
            let perp = run.summary.protocols["exchange"].perp.clone().unwrap();
            let (start, end) = (perp.total_value_start_usd, perp.total_value_end_usd);
            prop_assert!(
                (start - end).abs() <= 1e-9 * start.abs().max(1.0),
                "total value {} → {} ({:?})", start, end, perp
            );
            // Funding is zero-sum and the fund never goes negative.
            let fund = run.summary.protocols["exchange"].insurance_fund.clone().unwrap();
            prop_assert!(fund.min_usd >= 0.0);
        }
    }
}

/// The feedback gain counts perp walls both ways: 100 BTC of longs whose liquidation prices lie
/// within 1% below the start, on a linear book where 200 BTC move the price 1% (λ = 1 USD per
/// BTC), give m = 0.5; 50 BTC of shorts within 1% above give a rise gain of 0.25 (tolerance
/// 1e-9). Margins are set from the liquidation prices drawn.
#[test]
fn feedback_gain_counts_perp_walls_both_ways() {
    let book = "[[positions]]\nprotocol = \"exchange\"\nmarket = \"BTC\"\nside = \"long\"\ncount = 50\nnotional_usd = 2000000.0\nliquidation_price = { distribution = \"even\", low = 19810.0, high = 19850.0 }\n\
                [[positions]]\nprotocol = \"exchange\"\nmarket = \"BTC\"\nside = \"short\"\ncount = 50\nnotional_usd = 1000000.0\nliquidation_price = { distribution = \"even\", low = 20150.0, high = 20190.0 }\n";
    let text = btc("[[0, 20000.0]]", "", book)
        .replace("usd_per_unit = 0.001", "usd_per_unit = 1.0")
        .replace("max_leverage = 50.0", "max_leverage = 100.0")
        .replace("steps = 10", "steps = 1");
    let run = run_str(&text);
    let cascade = &run.summary.cascade;
    assert!(
        (cascade.feedback_gain["BTC"] - 0.5).abs() < 1e-9,
        "{cascade:?}"
    );
    assert!(
        (cascade.feedback_gain_up["BTC"] - 0.25).abs() < 1e-9,
        "{cascade:?}"
    );
    // The drawn liquidation prices are where equity meets maintenance (tolerance 1e-6 USD).
    let state = &run.world.initial.perps[0];
    let rules = &run.world.perps[0].rules;
    for account in &state.accounts {
        let lp = account.liquidation_price(0, rules, &state.marks);
        let at = [lp];
        assert!((account.equity(&at) - account.maintenance(rules, &at)).abs() < 1e-6);
        assert!((19_810.0..=19_850.0).contains(&lp) || (20_150.0..=20_190.0).contains(&lp));
    }
}

/// Accounts from a file: rows sharing a label form one cross-margin account. The whale (long 10
/// BTC at 20,000 and short 100 ETH at 2,000 on a 30,000 wallet) survives BTC's 10% fall alone
/// (equity 10,000) but not with ETH 5% up as well (equity 0): both its positions are closed in
/// the same round, while the isolated long (liquidation price 19,076.31) went at the BTC fall.
#[test]
fn cross_accounts_from_a_file_are_liquidated_as_a_whole() {
    let text = r#"
[simulation]
name = "cross"
seed = 1
steps = 3
step_seconds = 60

[[assets]]
symbol = "BTC"
price = 20000.0
driver = { model = "path", points = [[0, 20000.0], [60, 18000.0]] }

[[assets]]
symbol = "ETH"
price = 2000.0
driver = { model = "path", points = [[0, 2000.0], [60, 2000.0], [120, 2100.0]] }

[[assets]]
symbol = "USDC"
price = 1.0

[[venues]]
name = "btc"
base = "BTC"
quote = "USDC"
impact = { model = "linear", usd_per_unit = 0.001 }

[[venues]]
name = "eth"
base = "ETH"
quote = "USDC"
impact = { model = "linear", usd_per_unit = 0.0001 }

[[protocols]]
name = "exchange"
kind = "perp"
[protocols.insurance]
fund_usd = 100000.0

[[protocols.markets]]
asset = "BTC"
venue = "btc"
max_leverage = 50.0
maintenance = [[0.0, 0.004]]

[[protocols.markets]]
asset = "ETH"
venue = "eth"
max_leverage = 50.0
maintenance = [[0.0, 0.004]]

[[positions]]
protocol = "exchange"
file = "crates/cascade-engine/tests/data/perp-accounts.csv"
"#;
    let run = run_str(text);
    let labels = &run.world.perps[0].account_labels;
    assert_eq!(labels, &["whale", "iso"]);
    let modes: Vec<_> = run.world.initial.perps[0]
        .accounts
        .iter()
        .map(|a| a.mode)
        .collect();
    use cascade_model::perp::account::MarginMode;
    assert_eq!(modes, [MarginMode::Cross, MarginMode::Isolated]);
    let closes: Vec<(u64, u32, u32)> = run
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PerpLiquidated(l) => Some((e.step, l.account.0, l.market.0)),
            _ => None,
        })
        .collect();
    assert_eq!(closes, [(1, 1, 0), (2, 0, 0), (2, 0, 1)], "{closes:?}");
    conserved(&run);
}

/// A close the book cannot fill: with one bid level of 0.5 BTC (no refill) and no vault, the
/// first round closes half of a 1 BTC long and the rest waits for liquidity, counted as
/// waiting, without running the cascade to its round limit.
#[test]
fn a_close_without_liquidity_waits_instead_of_spinning() {
    let text = btc(
        "[[0, 20000.0], [60, 18900.0]]",
        "[protocols.insurance]\nfund_usd = 10000.0",
        &positions("long", 1, 20_000.0, 20.0),
    )
    .replace(
        "impact = { model = \"linear\", usd_per_unit = 0.001 }",
        "impact = { model = \"order_book\", levels = [[19900.0, 0.5]] }",
    );
    let run = run_str(&text);
    assert_eq!(run.summary.cascade.round_limit_hits, 0);
    let perp = run.summary.protocols["exchange"].perp.clone().unwrap();
    assert_eq!(perp.liquidations, 1, "{perp:?}");
    assert!(perp.cooldown_waits > 0);
    let state_units: Vec<f64> = run
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PerpLiquidated(l) => Some(l.remaining),
            _ => None,
        })
        .collect();
    assert_eq!(state_units, [0.5]);
    conserved(&run);
}

/// docs/reference-math.md §8.2, maintenance on the entry value (BitMEX): P1's long (1 BTC at
/// 20,000, 1,000 margin, 0.4%) needs 80 USD whatever the mark, so it is liquidated at
/// 20,000 − (1,000 − 80) = 19,080 — at 19,079 already, where maintenance on the mark (LP
/// 19,076.31) leaves it open. Tolerance 1e-6 USD.
#[test]
fn maintenance_on_the_entry_value_liquidates_at_bitmex_s_price() {
    let run_with = |perp: &str| {
        run_str(&btc(
            "[[0, 20000.0], [60, 19079.0]]",
            &format!(
                "[protocols.perp]\nclose_out = \"bankruptcy\"\n{perp}\n[protocols.insurance]\nfund_usd = 1000.0"
            ),
            &positions("long", 1, 20_000.0, 20.0),
        ))
    };
    let on_entry = run_with("maintenance_on = \"entry\"");
    let closes: Vec<_> = on_entry
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PerpLiquidated(l) => Some((e.step, l.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(closes.len(), 1, "{closes:?}");
    assert_eq!(closes[0].0, 1);
    assert!(
        (closes[0].1.liquidation_price - 19_080.0).abs() < 1e-6,
        "{closes:?}"
    );
    assert!((closes[0].1.maintenance - 80.0).abs() < 1e-6);
    conserved(&on_entry);
    let on_mark = run_with("maintenance_on = \"mark\"");
    assert!(perp_events(&on_mark).is_empty());
}

/// Hyperliquid's cooldown (docs/reference-math.md §8.4): the slice of the 400,000 USD long goes
/// first (4 of 20 BTC), and, the account still below maintenance during the 90 s cooldown, the
/// next liquidation — in the next round of the same step — closes the whole remaining 16 BTC
/// at once: no account waits. (Under `"wait"` the rest waits out the cooldown: the test above.)
#[test]
fn during_a_slice_cooldown_hyperliquid_closes_the_whole_position() {
    let text = btc(
        "[[0, 20000.0], [60, 19000.0], [600, 18900.0]]",
        "[protocols.perp]\nclose_out = \"market\"\nslice_above_usd = 100000.0\nslice_fraction = 0.2\nslice_cooldown_seconds = 90\nduring_slice_cooldown = \"close_whole\"\n[protocols.insurance]\nfund_usd = 100000.0",
        &positions("long", 1, 400_000.0, 25.0),
    );
    let run = run_str(&text);
    let closes: Vec<(u64, PerpCloseKind, f64)> = run
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PerpLiquidated(l) => Some((e.time, l.close, l.units)),
            _ => None,
        })
        .collect();
    assert_eq!(closes.len(), 2, "{closes:?}");
    assert_eq!(closes[0].1, PerpCloseKind::Slice);
    assert!((closes[0].2 - 4.0).abs() < 1e-9, "20% of 20 BTC");
    assert_eq!(closes[1].1, PerpCloseKind::Market);
    assert!((closes[1].2 - 16.0).abs() < 1e-9, "the whole rest");
    assert_eq!(closes[1].0, closes[0].0, "within the cooldown: {closes:?}");
    let perp = run.summary.protocols["exchange"]
        .perp
        .clone()
        .expect("perp");
    assert_eq!(perp.cooldown_waits, 0);
    conserved(&run);
}

/// One short of 1 BTC entered at `entry` with `leverage`.
fn short_at(entry: f64, leverage: f64) -> String {
    format!(
        r#"
[[positions]]
protocol = "exchange"
market = "BTC"
side = "short"
count = 1
notional_usd = {entry:?}
entry_price = {{ distribution = "even", low = {entry:?}, high = {entry:?} }}
leverage = {{ distribution = "even", low = {leverage:?}, high = {leverage:?} }}
"#
    )
}

/// The ADL queue and price by venue (docs/reference-math.md §8.3 D2, §8.4): BTC gaps from 18,100
/// to 17,900; a long of 1 BTC from 18,400 at 40× (460 of margin) is bankrupt at 17,940 with an
/// empty fund. Against it: A, short 1 BTC from 20,000 at 2× (account 1), and B, short 1 BTC from
/// 17,950 at 50× (account 2). BitMEX's rank puts A first (0.155 against 0.122); Binance's
/// (0.00124 against 0.0244) and Hyperliquid's (1.65 against 43.9) put B first. Each takes the
/// whole 1 BTC, at the bankruptcy price 17,940 — or, at Hyperliquid's previous oracle price, at
/// 18,100. Tolerance 1e-6.
#[test]
fn each_venue_ranks_and_prices_its_adl_queue_by_its_own_rule() {
    let book = format!(
        "{}{}{}",
        positions("long", 1, 18_400.0, 40.0).replace(
            "count = 1\n",
            "count = 1\nentry_price = { distribution = \"even\", low = 18400.0, high = 18400.0 }\n"
        ),
        short_at(20_000.0, 2.0),
        short_at(17_950.0, 50.0)
    );
    let hits = |perp: &str| {
        let text = btc(
            "[[0, 18100.0], [60, 17900.0]]",
            &format!("[protocols.perp]\n{perp}\n[protocols.insurance]\nfund_usd = 0.0\nshortfall = \"adl\""),
            &book,
        )
        .replace("price = 20000.0", "price = 18100.0");
        let run = run_str(&text);
        conserved(&run);
        run.events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::PerpDeleveraged {
                    account: Some(a),
                    units,
                    price,
                    ..
                } => Some((a.0, *units, *price)),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    for (rule, first, price) in [
        ("adl_ranking = \"bitmex\"", 1, 17_940.0),
        ("adl_ranking = \"binance\"", 2, 17_940.0),
        ("adl_ranking = \"hyperliquid\"", 2, 17_940.0),
        (
            "adl_ranking = \"hyperliquid\"\nadl_price = \"previous_oracle\"",
            2,
            18_100.0,
        ),
    ] {
        let h = hits(rule);
        assert_eq!(h.len(), 1, "{rule}: {h:?}");
        assert_eq!(h[0].0, first, "{rule}: {h:?}");
        assert!((h[0].1 + 1.0).abs() < 1e-9, "{rule}: {h:?}");
        assert!((h[0].2 - price).abs() < 1e-6, "{rule}: {h:?}");
    }
}

/// One short of `units` BTC entered at `entry` with `leverage`.
fn shorts_at(units: f64, entry: f64, leverage: f64) -> String {
    short_at(entry, leverage).replace(
        &format!("notional_usd = {entry:?}"),
        &format!("notional_usd = {:?}", units * entry),
    )
}

/// How each allocation spreads the bankrupt long of the test above (1 BTC from 18,400 at 40×)
/// over two shorts of 2 BTC each, A from 20,000 at 2× and B from 17,950 at 50× (Hyperliquid's
/// rank puts B first), at the bankruptcy price 17,940, the mark 17,900: the queue closes 1 BTC
/// of B; whole positions close all 2 BTC of B, the second against the outside counterparties;
/// pro rata closes 0.25 of each (0.5 BTC). The need is the close's shortfall into the book,
/// 460 + (17,900 − 18,400) = −40 USD (within 0.01 for the book's impact); the queue gives up
/// exactly that ((17,940 − 17,900) × 1), whole positions twice it; the least notional whose
/// profit covers 40 is A's (profit 4,200 on 35,800 of notional): 40 / 4,200 × 35,800 = 340.95.
#[test]
fn each_allocation_spreads_the_bankrupt_size_its_own_way() {
    let book = format!(
        "{}{}{}",
        positions("long", 1, 18_400.0, 40.0).replace(
            "count = 1\n",
            "count = 1\nentry_price = { distribution = \"even\", low = 18400.0, high = 18400.0 }\n"
        ),
        shorts_at(2.0, 20_000.0, 2.0),
        shorts_at(2.0, 17_950.0, 50.0)
    );
    for (allocation, hits, haircut) in [
        ("queue", vec![(2, -1.0)], 40.0),
        ("whole_positions", vec![(2, -2.0)], 80.0),
        ("pro_rata", vec![(1, -0.5), (2, -0.5)], 40.0),
    ] {
        let text = btc(
            "[[0, 18100.0], [60, 17900.0]]",
            &format!(
                "[protocols.perp]\nadl_ranking = \"hyperliquid\"\nadl_allocation = \"{allocation}\"\n\
                 [protocols.insurance]\nfund_usd = 0.0\nshortfall = \"adl\""
            ),
            &book,
        )
        .replace("price = 20000.0", "price = 18100.0");
        let run = run_str(&text);
        conserved(&run);
        let mut got: Vec<(u32, f64)> = run
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::PerpDeleveraged {
                    account: Some(a),
                    units,
                    ..
                } => Some((a.0, *units)),
                _ => None,
            })
            .collect();
        got.sort_by_key(|h| h.0);
        assert_eq!(got.len(), hits.len(), "{allocation}: {got:?}");
        for ((a, u), (want_a, want_u)) in got.iter().zip(&hits) {
            assert_eq!(a, want_a, "{allocation}: {got:?}");
            assert!((u - want_u).abs() < 1e-9, "{allocation}: {got:?}");
        }
        let adl = &run.summary.protocols["exchange"]
            .perp
            .as_ref()
            .expect("perp")
            .adl;
        assert!(
            (adl.needed_usd - 40.0).abs() < 0.01,
            "{allocation}: {adl:?}"
        );
        assert!(
            (adl.haircut_usd - haircut).abs() < 1e-6,
            "{allocation}: {adl:?}"
        );
        assert!(
            (adl.min_notional_usd - 40.0 / 4_200.0 * 35_800.0).abs() < 0.01,
            "{allocation}: {adl:?}"
        );
        let closed: f64 = hits.iter().map(|h| -h.1).sum();
        assert!(
            (adl.profitable_notional_usd - closed * 17_900.0).abs() < 1e-6,
            "{allocation}: {adl:?}"
        );
    }
}
