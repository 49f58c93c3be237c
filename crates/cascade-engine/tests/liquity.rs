//! Liquity v1 end to end: troves offset against the Stability Pool, redistributed when it runs
//! dry, and recovery mode's capped offsets; collateral and debt conserved throughout, and the
//! pool's product P equal to what is left of its deposits.

use cascade_engine::EventKind;

use cascade_test_support::{Fixture, Run, run_str};

fn troves(pool: f64, crash_to: f64, low: f64) -> Run {
    run_str(&format!(
        r#"
[simulation]
name = "liquity"
seed = 8
steps = 12
step_seconds = 300

[[assets]]
symbol = "ETH"
price = 2000.0
driver = {{ model = "path", points = [[0, 2000.0], [900, {crash_to:?}]] }}

[[assets]]
symbol = "LUSD"
price = 1.0

[[venues]]
name = "spot"
base = "ETH"
quote = "LUSD"
impact = {{ model = "linear", usd_per_unit = 0.01 }}

[[oracles]]
name = "eth"
asset = "ETH"
sources = ["fundamental"]

[[protocols]]
name = "liquity"
kind = "lending"
liquidation = {{ mechanism = "liquity_v1", stability_pool_usd = {pool:?} }}
oracles = {{ ETH = "eth" }}
collateral = {{ ETH = {{ ltv = 0.9090909090909091, liquidation_threshold = 0.9090909090909091 }} }}

[[positions]]
protocol = "liquity"
count = 300
collateral = {{ asset = "ETH", total = 3000.0 }}
debt = {{ asset = "LUSD" }}
liquidation_price = {{ distribution = "even", low = {low:?}, high = 1990.0 }}

[[keepers]]
name = "keeper"
protocols = ["liquity"]
sell_on = "spot"
"#
    ))
}

fn check_conservation(run: &Run) {
    let (mut initial_c, mut initial_d, mut marked_c, mut marked_d) = (0.0, 0.0, 0.0, 0.0);
    let (mut gains, mut gas, mut treasury, mut offset, mut orphaned) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut start, mut deposits, mut product) = (f64::NAN, f64::NAN, f64::NAN);
    for event in &run.events {
        match &event.kind {
            EventKind::PositionsOpened {
                collateral, debt, ..
            } => {
                initial_c += collateral[0];
                initial_d += debt[1];
            }
            EventKind::TroveLiquidated(t) => {
                gas += t.gas_collateral;
                offset += t.debt_offset;
                let split = t.gas_collateral
                    + t.collateral_to_pool
                    + t.collateral_redistributed
                    + t.surplus;
                assert!(
                    (split - t.collateral).abs() < 1e-9 * t.collateral,
                    "collateral split"
                );
                assert!(
                    (t.debt_offset + t.debt_redistributed - t.debt).abs() < 1e-9 * t.debt,
                    "debt split"
                );
            }
            EventKind::BadDebt { amount, .. } => orphaned += amount,
            EventKind::PositionsMarked(m) => {
                marked_c += m.collateral[0];
                marked_d += m.debt[1];
                treasury += m.treasury[0];
            }
            EventKind::StabilityPoolMarked {
                deposits: d,
                product: p,
                gains: g,
                ..
            } => {
                deposits = *d;
                product = *p;
                gains += g[0];
            }
            _ => {}
        }
    }
    if let cascade_model::lending::LiquidationRule::Liquity(l) =
        run.world.protocols[0].params.liquidation
    {
        start = l.stability_pool;
    }
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "{what}: {a} vs {b}"
        )
    };
    close(
        initial_c,
        marked_c + gains + gas + treasury,
        "collateral: troves, pool, liquidators",
    );
    close(
        initial_d,
        marked_d + offset + orphaned,
        "debt: troves, offset, written off",
    );
    close(deposits, start - offset, "deposits burned by offsets");
    if start > 0.0 {
        close(product, deposits / start, "P = what is left of a deposit");
    }
}

#[test]
fn a_deep_pool_offsets_every_trove() {
    let run = troves(1e9, 1800.0, 1850.0);
    let s = run.summary.protocols["liquity"]
        .stability_pool
        .as_ref()
        .expect("a pool");
    assert!(s.liquidations > 0);
    assert_eq!((s.redistributions, s.debt_redistributed), (0, 0.0));
    // Liquidators get 200 LUSD and 0.5% of each trove's collateral.
    let keeper = &run.summary.keepers["keeper"];
    assert!((keeper.incentives_usd - 200.0 * s.liquidations as f64).abs() < 1e-6);
    check_conservation(&run);
}

#[test]
fn a_dry_pool_redistributes_debt_and_collateral_to_the_other_troves() {
    let run = troves(50_000.0, 1800.0, 1500.0);
    let s = run.summary.protocols["liquity"]
        .stability_pool
        .as_ref()
        .expect("a pool");
    assert!(s.redistributions > 0);
    assert!(s.debt_redistributed > 0.0);
    assert_eq!(s.deposits_end, 0.0);
    check_conservation(&run);
}

#[test]
fn recovery_mode_liquidates_troves_above_mcr_with_a_capped_offset() {
    // A thin book near MCR: the crash takes the system's TCR below 150%, so troves between
    // 110% and TCR are liquidated too, the pool taking collateral worth 110% of their debt.
    let run = troves(1e9, 1820.0, 1700.0);
    let s = run.summary.protocols["liquity"]
        .stability_pool
        .as_ref()
        .expect("a pool");
    assert!(s.recovery_mode_liquidations > 0, "{s:?}");
    assert!(s.surplus_to_owners.get("ETH").is_some_and(|&u| u > 0.0));
    check_conservation(&run);
}

#[test]
fn redistribution_does_not_depend_on_the_order_of_assets() {
    // The debt asset listed first: every redistribution still carries debt or collateral, and
    // the figures match the run with ETH listed first.
    let text = |swap: bool| {
        let mut t = Fixture::example("liquity-stability-pool").text();
        if swap {
            let eth = "[[assets]]\nsymbol = \"ETH\"\nprice = 3000.0\ndriver = { model = \"path\", points = [[0, 3000.0], [3600, 2640.0]] }\n";
            assert!(t.contains(eth), "the example's ETH section");
            t = t.replace(eth, "").replace(
                "[[assets]]\nsymbol = \"USDC\"\nprice = 1.0\n",
                &format!("[[assets]]\nsymbol = \"USDC\"\nprice = 1.0\n\n{eth}"),
            );
        }
        t
    };
    let (first, swapped) = (run_str(&text(false)), run_str(&text(true)));
    for event in &swapped.events {
        if let EventKind::Redistributed {
            collateral, debt, ..
        } = &event.kind
        {
            assert!(*collateral > 0.0 || *debt > 0.0, "an empty redistribution");
        }
    }
    let pool = |run: &Run| {
        run.summary.protocols["aave-like"]
            .stability_pool
            .clone()
            .expect("a pool")
    };
    let (a, b) = (pool(&first), pool(&swapped));
    assert!(a.redistributions > 0);
    assert_eq!(a.redistributions, b.redistributions);
    assert!((a.debt_redistributed - b.debt_redistributed).abs() < 1e-6 * a.debt_redistributed);
}

/// The troves of [`troves`] (a deep pool, ETH 2,000 → 1,700 over 15 minutes, every trove
/// liquidatable by the end), with `keeper` keys for the keeper and `chain` appended.
fn troves_through(keeper: &str, chain: &str) -> Run {
    let text = format!(
        r#"
[simulation]
name = "liquity-gated"
seed = 8
steps = 12
step_seconds = 300

[[assets]]
symbol = "ETH"
price = 2000.0
driver = {{ model = "path", points = [[0, 2000.0], [900, 1700.0]] }}

[[assets]]
symbol = "LUSD"
price = 1.0

[[venues]]
name = "spot"
base = "ETH"
quote = "LUSD"
impact = {{ model = "linear", usd_per_unit = 0.01 }}

[[oracles]]
name = "eth"
asset = "ETH"
sources = ["fundamental"]

[[protocols]]
name = "liquity"
kind = "lending"
liquidation = {{ mechanism = "liquity_v1", stability_pool_usd = 1e9 }}
oracles = {{ ETH = "eth" }}
collateral = {{ ETH = {{ ltv = 0.9090909090909091, liquidation_threshold = 0.9090909090909091 }} }}

[[positions]]
protocol = "liquity"
count = 300
collateral = {{ asset = "ETH", total = 3000.0 }}
debt = {{ asset = "LUSD" }}
liquidation_price = {{ distribution = "even", low = 1750.0, high = 1990.0 }}

[[keepers]]
name = "keeper"
protocols = ["liquity"]
sell_on = "spot"
{keeper}
{chain}
"#
    );
    run_str(&text)
}

fn trove_times(run: &Run) -> Vec<u64> {
    run.events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::TroveLiquidated(_)))
        .map(|e| e.time)
        .collect()
}

#[test]
fn each_trove_liquidation_is_a_keepers_transaction() {
    use cascade_model::chain::TxKind;
    let at_once = troves_through("", "");
    let times = trove_times(&at_once);
    assert!(times.len() > 250, "{} troves", times.len());
    // A keeper whose bid never clears liquidates nothing: the troves wait.
    let stuck = troves_through(
        "gas = { strategy = \"fixed\", gwei = 1.0 }",
        "[chain]\nblock_seconds = 12\ngas = { model = \"constant\", gwei = 50.0 }",
    );
    assert!(trove_times(&stuck).is_empty());
    let chain = stuck.summary.chain.as_ref().expect("a chain");
    assert!(
        chain.by_kind["kick"].sent >= 100 && chain.by_kind["kick"].included == 0,
        "{:?}",
        chain.by_kind
    );
    assert!(
        stuck.summary.protocols["liquity"]
            .stability_pool
            .as_ref()
            .expect("a pool")
            .liquidations
            == 0
    );
    // Room for one agent transaction a minute: at most five troves a step, one per kick
    // included and executed.
    let congested = troves_through(
        "",
        "[chain]\nblock_seconds = 60\nroom_per_block = 1\ngas = { model = \"constant\", gwei = 50.0 }",
    );
    let times = trove_times(&congested);
    assert!(!times.is_empty());
    for t in &times {
        assert!(times.iter().filter(|&u| u == t).count() <= 5, "at {t}");
    }
    let kicks = &congested.summary.chain.as_ref().expect("a chain").by_kind["kick"];
    assert_eq!(kicks.executed, times.len() as u64);
    assert!(kicks.waited > 0);
    let included = congested
        .events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::TxIncluded(tx) if tx.kind == TxKind::Kick))
        .count();
    assert_eq!(included, times.len());
    check_conservation(&congested);
    // Without a chain a keeper's latency delays every liquidation by that much.
    let late = troves_through("latency_seconds = 600", "");
    let first = |run: &Run| trove_times(run).first().copied().expect("a liquidation");
    assert_eq!(first(&late), first(&at_once) + 600);
    check_conservation(&late);
}

/// Troves of `(ETH, LUSD debt)` at ETH 2,500, which steps to 2,000 at the first step and stays;
/// a pool of `pool` LUSD and keepers calling `entry_point`. Liquity's 110% MCR.
fn sequence(troves: &[(f64, f64)], pool: f64, entry_point: &str) -> Run {
    let mut text = format!(
        r#"
[simulation]
name = "liquity-sequence"
seed = 1
steps = 3
step_seconds = 60

[[assets]]
symbol = "ETH"
price = 2500.0
driver = {{ model = "path", points = [[0, 2500.0], [60, 2000.0]] }}

[[assets]]
symbol = "LUSD"
price = 1.0

[[oracles]]
name = "eth"
asset = "ETH"
sources = ["fundamental"]

[[protocols]]
name = "liquity"
kind = "lending"
liquidation = {{ mechanism = "liquity_v1", stability_pool_usd = {pool:?}, entry_point = "{entry_point}" }}
oracles = {{ ETH = "eth" }}
collateral = {{ ETH = {{ ltv = 0.9090909090909091, liquidation_threshold = 0.9090909090909091 }} }}

[[keepers]]
name = "keeper"
protocols = ["liquity"]
"#
    );
    for &(units, debt) in troves {
        // The trigger price of a trove owing `debt` on `units` ETH at MCR 110%.
        let trigger = debt * 1.1 / units;
        text.push_str(&format!(
            r#"
[[positions]]
protocol = "liquity"
count = 1
collateral = {{ asset = "ETH", total = {units:?} }}
debt = {{ asset = "LUSD" }}
liquidation_price = {{ distribution = "even", low = {trigger:?}, high = {trigger:?} }}
"#
        ));
    }
    run_str(&text)
}

fn liquidated(run: &Run) -> Vec<cascade_engine::TroveLiquidation> {
    run.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::TroveLiquidated(t) => Some((**t).clone()),
            _ => None,
        })
        .collect()
}

/// docs/reference-math.md §5 L4: at 2,000 the troves (10, 15,000), (10, 14,500) and
/// (30, 37,500) put the TCR at 149.25%, recovery mode. The first trove's capped offset lifts the
/// running TCR to 153.85% ≥ CCR, so the second (ICR 137.9% ≥ MCR) is not liquidated, by either
/// entry point. Tolerance 1e-6.
#[test]
fn a_recovery_sequence_stops_once_the_system_is_back_above_ccr() {
    let troves = [(10.0, 15_000.0), (10.0, 14_500.0), (30.0, 37_500.0)];
    for entry_point in ["batch", "single"] {
        let run = sequence(&troves, 100_000.0, entry_point);
        let done = liquidated(&run);
        assert_eq!(done.len(), 1, "{entry_point}: {done:?}");
        let t = &done[0];
        assert!(t.recovery_mode);
        assert!((t.debt - 15_000.0).abs() < 1e-6 && (t.surplus - 1.75).abs() < 1e-6);
        check_conservation(&run);
    }
}

/// §5 L5: an empty pool, troves (10, 19,800) and (10, 18,500) below MCR at 2,000 beside
/// (10, 10,000) and (50, 20,000). Called one by one, the second trove has received a seventh of
/// the first's redistribution (1.421429 ETH, 2,828.571429 LUSD) when it is liquidated: its debt
/// is 21,328.571429 and the keeper's collateral 0.5% of 11.421429 ETH. In a batch it is
/// liquidated as it stood (18,500; 0.05 ETH). Tolerance 1e-6.
#[test]
fn single_calls_see_the_previous_troves_redistribution_and_a_batch_does_not() {
    let troves = [
        (10.0, 19_800.0),
        (10.0, 18_500.0),
        (10.0, 10_000.0),
        (50.0, 20_000.0),
    ];
    let close = |a: f64, b: f64| (a - b).abs() < 1e-6 * b.abs().max(1.0);
    let batch = liquidated(&sequence(&troves, 0.0, "batch"));
    let single = liquidated(&sequence(&troves, 0.0, "single"));
    assert_eq!((batch.len(), single.len()), (2, 2));
    assert!(close(batch[0].debt, 19_800.0) && close(single[0].debt, 19_800.0));
    assert!(close(batch[1].debt, 18_500.0), "{}", batch[1].debt);
    assert!(close(batch[1].gas_collateral, 0.05));
    assert!(
        close(single[1].debt, 18_500.0 + 19_800.0 / 7.0),
        "{}",
        single[1].debt
    );
    assert!(close(single[1].collateral, 10.0 + 9.95 / 7.0));
    assert!(close(single[1].gas_collateral, 0.005 * (10.0 + 9.95 / 7.0)));
    for entry_point in ["batch", "single"] {
        check_conservation(&sequence(&troves, 0.0, entry_point));
    }
}
