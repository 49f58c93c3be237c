//! Dutch auctions (Maker Liquidations 2.0) end to end: collateral, debt and money are conserved
//! through kicks, takes, resets and returns; an auction priced down below every keeper's
//! valuation ends in bad debt rather than hanging; the hole limit and the circuit breaker hold.

use std::collections::BTreeMap;

use cascade_engine::EventKind;

use cascade_test_support::{Run, run_str};

/// Vaults (liquidation ratio 150%) of `count` positions over ETH falling along `path`, with a
/// Dutch auction of the given extra keys, keepers selling on a square-root venue.
fn vaults(count: u64, path: &str, auction: &str, keeper_capital: f64, venue_volume: f64) -> String {
    let liquidation = format!(
        "{{ mechanism = \"dutch_auction\", buf = 1.2, curve = \"linear\", tau_seconds = 3600, penalty = 0.13, tip_usd = 100.0, chip = 0.001{auction} }}"
    );
    vault_book(count, path, &liquidation, keeper_capital, venue_volume, "")
}

/// The same book under any liquidation table, with extra keeper sections appended.
fn vault_book(
    count: u64,
    path: &str,
    liquidation: &str,
    keeper_capital: f64,
    venue_volume: f64,
    extra_keepers: &str,
) -> String {
    format!(
        r#"
[simulation]
name = "vaults"
seed = 9
steps = 48
step_seconds = 300

[[assets]]
symbol = "ETH"
price = 2000.0
driver = {{ model = "path", points = {path} }}

[[assets]]
symbol = "DAI"
price = 1.0

[[venues]]
name = "eth-dai"
base = "ETH"
quote = "DAI"
impact = {{ model = "square_root", coefficient = 1.0, daily_volatility = 0.05, daily_volume = {venue_volume:?} }}
permanent_fraction = 0.5
half_life_seconds = 600

[[oracles]]
name = "eth"
asset = "ETH"
sources = ["fundamental"]

[[protocols]]
name = "cdp"
kind = "lending"
liquidation = {liquidation}
oracles = {{ ETH = "eth" }}
collateral = {{ ETH = {{ ltv = 0.6667, liquidation_threshold = 0.6667 }} }}

[[positions]]
protocol = "cdp"
count = {count}
collateral = {{ asset = "ETH", total = {total:?} }}
debt = {{ asset = "DAI" }}
liquidation_price = {{ distribution = "even", low = 1500.0, high = 1900.0 }}

[[keepers]]
name = "keeper"
protocols = ["cdp"]
sell_on = "eth-dai"
capital_usd = {keeper_capital:?}
{extra_keepers}
"#,
        total = count as f64 * 10.0,
    )
}

const CRASH: &str = "[[0, 2000.0], [3600, 1400.0]]";

/// Checks every conservation law through auctions on a run's events.
fn check_conservation(run: &Run) {
    let (mut initial_collateral, mut initial_debt) = (0.0, 0.0);
    let (mut marked_collateral, mut marked_debt, mut in_auction_collateral) = (0.0, 0.0, 0.0);
    let (mut kicked_debt, mut kicked_lot, mut taken_slices, mut returned) = (0.0, 0.0, 0.0, 0.0);
    let mut raised: BTreeMap<u32, f64> = BTreeMap::new();
    let mut debts: BTreeMap<u32, f64> = BTreeMap::new();
    let mut ended: BTreeMap<u32, (f64, f64)> = BTreeMap::new();
    let (mut keeper_spent, mut owed, mut shortfalls, mut written_off) = (0.0, 0.0, 0.0, 0.0);
    let (mut proceeds, mut received) = (0.0, 0.0);
    for event in &run.events {
        match &event.kind {
            EventKind::PositionsOpened {
                collateral, debt, ..
            } => {
                initial_collateral += collateral[0];
                initial_debt += debt[1];
            }
            EventKind::AuctionKicked {
                auction,
                lot,
                debt,
                tab,
                ..
            } => {
                kicked_lot += lot;
                kicked_debt += debt;
                debts.insert(*auction, *debt);
                assert!((tab - debt * 1.13).abs() < 1e-9 * tab, "tab = debt × chop");
            }
            EventKind::AuctionTaken {
                auction,
                slice,
                owe,
                debt_price,
                ..
            } => {
                taken_slices += slice;
                *raised.entry(*auction).or_default() += owe;
                owed += owe * debt_price;
            }
            EventKind::AuctionEnded {
                auction,
                returned: r,
                raised: total,
                debt,
                ..
            } => {
                returned += r;
                let so_far = raised.get(auction).copied().unwrap_or(0.0);
                assert!(
                    (so_far - total).abs() < 1e-6 * total.max(1.0),
                    "raised = Σ owe"
                );
                ended.insert(*auction, (*total, *debt));
                shortfalls += (debt - total).max(0.0);
            }
            EventKind::BadDebt { amount, .. } => written_off += amount,
            EventKind::Sale(s) => proceeds += s.proceeds,
            EventKind::PositionsMarked(mark) => {
                let (collateral, debt, c) =
                    (&mark.collateral, &mark.debt, &mark.in_auction_collateral);
                marked_collateral += collateral[0];
                marked_debt += debt[1];
                in_auction_collateral += c[0];
            }
            EventKind::KeeperMarked {
                spent, received: r, ..
            } => {
                keeper_spent += spent;
                received += r;
            }
            _ => {}
        }
    }
    let close = |a: f64, b: f64, scale: f64, what: &str| {
        assert!((a - b).abs() <= 1e-9 * scale.max(1.0), "{what}: {a} vs {b}");
    };
    // Collateral: in vaults (returns included), in running auctions, or bought by keepers.
    close(
        kicked_lot,
        taken_slices + in_auction_collateral + returned,
        kicked_lot,
        "kicked lots",
    );
    close(
        initial_collateral,
        marked_collateral + in_auction_collateral + taken_slices,
        initial_collateral,
        "collateral",
    );
    // Debt: in vaults, or moved into auctions; an ended auction's debt is raised or written off.
    close(
        initial_debt,
        marked_debt + kicked_debt,
        initial_debt,
        "debt",
    );
    close(
        shortfalls,
        written_off,
        initial_debt,
        "shortfalls written off",
    );
    for (auction, (total, debt)) in &ended {
        assert!(
            *total <= debt * 1.13 * (1.0 + 1e-9),
            "auction {auction} raised more than its tab"
        );
        assert_eq!(debts.get(auction), Some(debt));
    }
    // Money: keepers paid exactly what the auctions raised, and received what venues paid.
    close(keeper_spent, owed, owed, "keeper spent = Σ owe");
    close(
        received,
        proceeds,
        proceeds,
        "keeper received = Σ sale proceeds",
    );
}

#[test]
fn auctions_conserve_collateral_debt_and_money() {
    for (auction, capital, volume) in [
        ("", 5e6, 200_000.0),
        (", hole_usd = 300000.0, dust_usd = 5000.0", 5e6, 200_000.0),
        (", tail_seconds = 900, cusp = 0.5", 1e6, 20_000.0),
        ("", 50_000.0, 200_000.0),
    ] {
        let run = run_str(&vaults(300, CRASH, auction, capital, volume));
        assert!(
            run.summary.protocols["cdp"]
                .auctions
                .as_ref()
                .expect("auctions")
                .kicked
                > 0
        );
        check_conservation(&run);
    }
}

#[test]
fn an_auction_priced_below_every_keepers_valuation_ends_in_bad_debt_not_a_hang() {
    // ETH gaps from 2,000 to 900 in one step: every vault (liquidation prices 1,500–1,900) is
    // worth less than its debt. Auctions start at 1.2 × 900 and decay linearly; keepers buy once
    // the price is below what their venue pays, the lot runs out before the tab is raised, and
    // the difference is written off. Every auction ends within the run.
    let run = run_str(&vaults(
        50,
        "[[0, 2000.0], [300, 900.0]]",
        "",
        1e9,
        2_000_000.0,
    ));
    let s = &run.summary;
    let a = s.protocols["cdp"].auctions.as_ref().expect("auctions");
    assert_eq!((a.kicked, a.ended, a.running_at_end), (50, 50, 0));
    assert!(s.bad_debt_realised_usd > 0.0);
    assert!(a.collateral_returned.is_empty(), "no tab was fully raised");
    check_conservation(&run);

    // With a venue that has almost no depth, no keeper values the lot at anything: the auctions
    // reset and run on to the end of the run, where their debt is marked as unrealised bad debt.
    let run = run_str(&vaults(
        10,
        "[[0, 2000.0], [300, 900.0]]",
        ", cusp = 0.5",
        1e9,
        1e-6,
    ));
    let s = &run.summary;
    let a = s.protocols["cdp"].auctions.as_ref().expect("auctions");
    assert_eq!(a.kicked, 10);
    assert_eq!(a.running_at_end, 10);
    assert!(a.resets > 0);
    assert!(s.bad_debt_unrealised_usd > 0.0);
    check_conservation(&run);
}

#[test]
fn the_hole_limits_the_tab_in_auction_at_once() {
    let hole = 200_000.0;
    let run = run_str(&vaults(
        200,
        CRASH,
        &format!(", hole_usd = {hole:?}"),
        1e9,
        2_000_000.0,
    ));
    // Replay the tab in running auctions: kicks add tab, takes and ends remove it.
    let mut tabs: BTreeMap<u32, f64> = BTreeMap::new();
    let mut peak: f64 = 0.0;
    for event in &run.events {
        match &event.kind {
            EventKind::AuctionKicked { auction, tab, .. } => {
                tabs.insert(*auction, *tab);
            }
            EventKind::AuctionTaken { auction, owe, .. } => {
                *tabs.get_mut(auction).expect("running") -= owe;
            }
            EventKind::AuctionEnded { auction, .. } => {
                tabs.remove(auction);
            }
            _ => {}
        }
        peak = peak.max(tabs.values().sum());
    }
    assert!(
        peak <= hole * (1.0 + 1e-9),
        "tab in auction peaked at {peak}"
    );
    assert!(
        run.summary.liquidations.missed > 0,
        "vaults waited for room"
    );
}

#[test]
fn the_circuit_breaker_halts_new_auctions_after_a_large_fall() {
    // ETH falls 25% in one step: with a 20% breaker no vault is barked in that step; once the
    // price holds for a step, auctions start.
    let path = "[[0, 2000.0], [300, 1500.0]]";
    let kick_times = |auction: &str| -> Vec<u64> {
        let run = run_str(&vaults(50, path, auction, 1e9, 2_000_000.0));
        let mut times: Vec<u64> = run
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::AuctionKicked { .. }))
            .map(|e| e.time)
            .collect();
        times.dedup();
        times
    };
    assert_eq!(kick_times("").first(), Some(&300));
    assert_eq!(kick_times(", circuit_breaker = 0.2").first(), Some(&600));
}

const FLIP: &str = "{ mechanism = \"english_auction\", penalty = 0.13, beg = 0.03, ttl_seconds = 600, tau_seconds = 21600, lump_units = 50.0 }";

#[test]
fn a_lone_bidder_wins_english_auctions_for_nothing() {
    // One keeper, no competition: its first bid only has to be above zero, nobody outbids it,
    // and when the bid's ttl passes it wins the lot for 1 wei — Black Thursday's failure mode.
    let run = run_str(&vault_book(40, CRASH, FLIP, 1e9, 2_000_000.0, ""));
    let s = &run.summary;
    let a = s.protocols["cdp"].auctions.as_ref().expect("auctions");
    assert_eq!(a.kicked, 40);
    assert_eq!(a.ended, 40);
    assert!(
        s.liquidations.debt_repaid_usd < 1e-9,
        "{}",
        s.liquidations.debt_repaid_usd
    );
    let debt: f64 = s.protocols["cdp"].initial_debt_usd;
    assert!(
        s.bad_debt_realised_usd > 0.999 * debt,
        "{} of {debt}",
        s.bad_debt_realised_usd
    );
    check_conservation(&run);
}

#[test]
fn competing_bidders_raise_the_tab_and_dent_the_lot() {
    // A second keeper with a deep venue: bids climb past the rival's valuation to the tab, then
    // keepers accept less collateral for it, which goes back to the vaults.
    let second = "[[keepers]]\nname = \"rival\"\nprotocols = [\"cdp\"]\nsell_on = \"eth-dai\"\ncapital_usd = 1e9\nmin_profit_usd = 10.0\n";
    let run = run_str(&vault_book(40, CRASH, FLIP, 1e9, 2_000_000.0, second));
    let s = &run.summary;
    let a = s.protocols["cdp"].auctions.as_ref().expect("auctions");
    assert_eq!(a.ended, 40);
    assert!(a.bids > 40, "{} bids", a.bids);
    assert!(
        a.collateral_returned.get("ETH").is_some_and(|&u| u > 0.0),
        "dents returned collateral"
    );
    assert!(a.penalty_raised_usd > 0.0);
    assert_eq!(s.bad_debt_realised_usd, 0.0);
    check_conservation(&run);
}

#[test]
fn english_auctions_without_bids_restart_and_the_run_ends() {
    // The only keeper has no capital: nobody can bid (any positive bid would win, see above);
    // each auction restarts at its end (tick) and is still running when the run ends, marked
    // as unrealised bad debt.
    let short = FLIP.replace("tau_seconds = 21600", "tau_seconds = 1800");
    let book = vault_book(
        10,
        "[[0, 2000.0], [300, 900.0]]",
        &short,
        0.0,
        2_000_000.0,
        "",
    );
    let run = run_str(&book);
    let s = &run.summary;
    let a = s.protocols["cdp"].auctions.as_ref().expect("auctions");
    assert_eq!((a.kicked, a.running_at_end), (10, 10));
    assert!(a.resets >= 10);
    assert!(s.bad_debt_unrealised_usd > 0.0);
    check_conservation(&run);
}

#[test]
fn the_global_hole_limits_the_tab_across_protocols() {
    // Two Dutch-auction protocols over the same vaults, each with its own large hole, under a
    // global Hole of 300,000 USD: their running tab together never exceeds it.
    let one = vaults(150, CRASH, ", hole_usd = 10000000.0", 1e9, 2_000_000.0);
    let start = one.find("[[protocols]]").expect("a protocol");
    let end = one.find("[[keepers]]").expect("a keeper");
    let second = one[start..end]
        .replace("name = \"cdp\"", "name = \"cdp-b\"")
        .replace("protocol = \"cdp\"", "protocol = \"cdp-b\"");
    let text = one
        .replace(
            "step_seconds = 300\n",
            "step_seconds = 300\nauction_hole_usd = 300000.0\n",
        )
        .replace("[[keepers]]", &format!("{second}[[keepers]]"))
        .replace("protocols = [\"cdp\"]", "protocols = [\"cdp\", \"cdp-b\"]");
    let run = run_str(&text);
    let mut tabs: BTreeMap<(u32, u32), f64> = BTreeMap::new();
    let mut peak: f64 = 0.0;
    for event in &run.events {
        match &event.kind {
            EventKind::AuctionKicked {
                protocol,
                auction,
                tab,
                ..
            } => {
                tabs.insert((protocol.0, *auction), *tab);
            }
            EventKind::AuctionTaken {
                protocol,
                auction,
                owe,
                ..
            } => {
                *tabs.get_mut(&(protocol.0, *auction)).expect("running") -= owe;
            }
            EventKind::AuctionEnded {
                protocol, auction, ..
            } => {
                tabs.remove(&(protocol.0, *auction));
            }
            _ => {}
        }
        peak = peak.max(tabs.values().sum());
    }
    assert!(
        peak <= 300_000.0 * (1.0 + 1e-9),
        "tab in auction peaked at {peak}"
    );
    assert!(
        run.summary.protocols["cdp-b"]
            .auctions
            .as_ref()
            .expect("auctions")
            .kicked
            > 0
    );
}
