//! The chain end to end: congestion keeps keepers out of English auctions, so lone bidders win
//! lots at (near) zero and the deficit grows with the gas price; without congestion the auctions
//! clear near the market. Owners' top-ups are stopped by gas they will not pay. Waiting
//! transactions expire as events; latency, absences and sale delays act as stated.

use cascade_engine::EventKind;
use cascade_model::chain::{DropReason, TxKind};

use cascade_test_support::{Run, run_str};

/// Maker-like vaults (150%) in English auctions (lump 50 ETH, beg 3%, ttl 10 min) after ETH falls
/// 2,000 → 1,500, with two keepers: one bidding at most 100 gwei and one at most 400, on a chain
/// whose clearing gas price is `gas` gwei. `extra` is appended (more keys or sections).
fn flips(gas: f64, extra: &str) -> String {
    format!(
        r#"
[simulation]
name = "flips"
seed = 4
steps = 48
step_seconds = 300

[[assets]]
symbol = "ETH"
price = 2000.0
driver = {{ model = "path", points = [[0, 2000.0], [1800, 1500.0]] }}

[[assets]]
symbol = "DAI"
price = 1.0

[[venues]]
name = "eth-dai"
base = "ETH"
quote = "DAI"
impact = {{ model = "square_root", coefficient = 1.0, daily_volatility = 0.05, daily_volume = 2000000.0 }}
permanent_fraction = 0.3
half_life_seconds = 900

[[oracles]]
name = "feed"
asset = "ETH"
sources = ["fundamental"]

[[protocols]]
name = "eth-a"
kind = "lending"
liquidation = {{ mechanism = "english_auction", penalty = 0.13, beg = 0.03, ttl_seconds = 600, tau_seconds = 21600, lump_units = 50.0 }}
oracles = {{ ETH = "feed" }}
collateral = {{ ETH = {{ ltv = 0.6, liquidation_threshold = 0.6666666666666666 }} }}
insurance = {{ fund_usd = 0.0, shortfall = "debt_auction" }}

[[positions]]
protocol = "eth-a"
count = 200
collateral = {{ asset = "ETH", total = 8000.0 }}
debt = {{ asset = "DAI" }}
liquidation_price = {{ distribution = "uniform", low = 1550.0, high = 1900.0 }}

[[keepers]]
name = "thrifty"
protocols = ["eth-a"]
sell_on = "eth-dai"
capital_usd = 50000000.0
gas = {{ strategy = "market", markup = 0.1, max_gwei = 100.0 }}

[[keepers]]
name = "bold"
protocols = ["eth-a"]
sell_on = "eth-dai"
capital_usd = 50000000.0
gas = {{ strategy = "market", markup = 0.1, max_gwei = 400.0 }}

[chain]
block_seconds = 13
gas = {{ model = "constant", gwei = {gas:?} }}
{extra}
"#
    )
}

/// (deals, deals won at near zero, mean price paid over the collateral's price, bad debt USD).
fn deals(run: &Run) -> (u64, u64, f64, f64) {
    let a = run.summary.protocols["eth-a"]
        .auctions
        .as_ref()
        .expect("auctions");
    let ratios: Vec<f64> = run
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::AuctionTaken {
                price,
                collateral_price,
                ..
            } => Some(price / collateral_price),
            _ => None,
        })
        .collect();
    let mean = ratios.iter().sum::<f64>() / ratios.len().max(1) as f64;
    (
        a.taken,
        a.won_near_zero,
        mean,
        run.summary.protocols["eth-a"].bad_debt_usd,
    )
}

#[test]
fn without_congestion_auctions_clear_near_the_market() {
    let run = run_str(&flips(20.0, ""));
    let (taken, zero, mean, bad_debt) = deals(&run);
    assert!(taken > 50, "{taken} deals");
    assert_eq!(zero, 0, "both keepers bid: no lot goes for nothing");
    // Two keepers who value the lot at what the venue pays bid it up to within beg of the
    // lower valuation, so lots sell near the market (the tab caps some below it).
    assert!(mean > 0.8, "mean price / collateral price {mean}");
    assert!(bad_debt < 0.01 * run.summary.protocols["eth-a"].initial_debt_usd);
    let chain = run.summary.chain.as_ref().expect("a chain");
    assert_eq!(chain.transactions.waited, 0, "nothing waits at 20 gwei");
}

#[test]
fn congestion_lets_lone_bidders_win_at_zero_and_the_deficit_grows_with_gas() {
    let calm = deals(&run_str(&flips(20.0, "")));
    let congested = deals(&run_str(&flips(150.0, "")));
    // At 150 gwei the keeper capped at 100 gwei never gets a bid in: the other bids alone,
    // and a lone bidder's first bid, 1 wei, wins the lot when the ttl passes.
    assert!(congested.0 > 50);
    assert!(
        congested.1 as f64 > 0.9 * congested.0 as f64,
        "zero-bid wins {} of {}",
        congested.1,
        congested.0
    );
    assert!(
        congested.3 > 10.0 * calm.3.max(1.0),
        "bad debt {} vs {}",
        congested.3,
        calm.3
    );
    // Beyond both keepers' caps nobody even kicks: the unsafe vaults wait, missed.
    let jammed = run_str(&flips(500.0, ""));
    let a = jammed.summary.protocols["eth-a"].auctions.as_ref().unwrap();
    assert_eq!((a.kicked, a.taken), (0, 0));
    assert!(jammed.summary.liquidations.missed > 0);
    let waited = &jammed.summary.chain.as_ref().unwrap().transactions;
    assert!(waited.waiting_at_end > 0 && waited.included == waited.sent - waited.waiting_at_end);
}

#[test]
fn limited_room_delays_and_dropped_transactions_are_events() {
    // One agent transaction per block and an expiry of 10 minutes: a backlog forms and
    // transactions that wait too long leave the mempool as `tx_dropped` events.
    let run = run_str(&flips(20.0, "room_per_block = 1\nexpiry_seconds = 600"));
    let t = &run.summary.chain.as_ref().unwrap().transactions;
    assert!(t.waited > 0, "{t:?}");
    let dropped = run
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::TxDropped(_, DropReason::Expired)))
        .count() as u64;
    assert!(
        dropped > 0 && dropped == t.dropped_expired,
        "{dropped} vs {t:?}"
    );
    assert_eq!(
        t.sent,
        t.included + t.dropped_expired + t.dropped_gas_budget + t.waiting_at_end
    );
    // No step includes more agent transactions than its blocks hold.
    let mut per_step = std::collections::BTreeMap::<u64, (u64, u64)>::new();
    for e in &run.events {
        match &e.kind {
            EventKind::BlocksProduced { room, .. } => per_step.entry(e.step).or_default().0 = *room,
            EventKind::TxIncluded(_) => per_step.entry(e.step).or_default().1 += 1,
            _ => {}
        }
    }
    assert!(
        per_step.values().all(|&(room, used)| used <= room),
        "{per_step:?}"
    );
    assert!(
        per_step
            .values()
            .any(|&(room, used)| used == room && room > 0)
    );
}

/// Vaults whose owners top up below health 1.3 with a wallet gas price of 30 gwei.
fn owners(gas: f64) -> String {
    flips(
        gas,
        "",
    )
    .replace(
        "liquidation_price = { distribution = \"uniform\", low = 1550.0, high = 1900.0 }",
        "liquidation_price = { distribution = \"uniform\", low = 1550.0, high = 1900.0 }\n\
         borrowers = { trigger_health = 1.3, target_health = 1.6, probability = 1.0, delay_seconds = 0, reserve = 1.0, gas = { strategy = \"fixed\", gwei = 30.0 } }",
    )
}

#[test]
fn congestion_stops_owners_from_saving_their_vaults() {
    let calm = run_str(&owners(20.0));
    let b = calm.summary.protocols["eth-a"].borrowers.as_ref().unwrap();
    // Every owner falls below 1.3 (some twice: once at the start, once as ETH falls after the
    // first top-up) and tops up at once at 20 gwei.
    assert!(b.noticed >= 200, "{b:?}");
    assert_eq!(b.top_ups, b.noticed, "{b:?}");
    assert_eq!(
        calm.summary.protocols["eth-a"].liquidations, 0,
        "so no vault is bitten"
    );
    let added = b.collateral_added["ETH"];
    assert!(added > 0.0);
    // At 60 gwei the owners' 30-gwei top-ups wait: the vaults are bitten instead.
    let congested = run_str(&owners(60.0));
    let b = congested.summary.protocols["eth-a"]
        .borrowers
        .as_ref()
        .unwrap();
    assert_eq!(b.top_ups, 0);
    assert!(b.transactions_waiting_at_end > 0);
    assert!(congested.summary.protocols["eth-a"].liquidations > 100);
    // The kinds line up: owners' transactions are top-ups.
    let kinds = &congested.summary.chain.as_ref().unwrap().by_kind;
    assert!(kinds[TxKind::TopUp.name()].waited > 0);
}

#[test]
fn latency_outages_and_sale_delays_act_as_stated() {
    // Without a chain: one keeper, first liquidation as soon as the price falls.
    let first_kick = |run: &Run| {
        run.events
            .iter()
            .find(|e| matches!(e.kind, EventKind::AuctionKicked { .. }))
            .map(|e| e.time)
    };
    let flips = flips(20.0, "");
    let base = flips[..flips.find("[chain]").expect("a chain section")].to_string();
    let solo = base.replace(
        "gas = { strategy = \"market\", markup = 0.1, max_gwei = 100.0 }\n",
        "",
    );
    let solo = solo.replace(
        "gas = { strategy = \"market\", markup = 0.1, max_gwei = 400.0 }\n",
        "",
    );
    let t0 = first_kick(&run_str(&solo)).expect("kicks");
    let late = solo.replace(
        "name = \"thrifty\"",
        "name = \"thrifty\"\nlatency_seconds = 900",
    );
    let late = late.replace("name = \"bold\"", "name = \"bold\"\nlatency_seconds = 900");
    assert_eq!(first_kick(&run_str(&late)), Some(t0 + 900));
    let absent = solo
        .replace(
            "name = \"thrifty\"",
            "name = \"thrifty\"\noutages = [{ from_seconds = 0, to_seconds = 3000 }]",
        )
        .replace(
            "name = \"bold\"",
            "name = \"bold\"\noutages = [{ from_seconds = 0, to_seconds = 3000 }]",
        );
    assert_eq!(first_kick(&run_str(&absent)), Some(t0.max(3000)));
    // A sale delay holds the seized ETH off the venue: the first sale comes that much later.
    let first_sale = |run: &Run| {
        run.events
            .iter()
            .find(|e| matches!(e.kind, EventKind::Sale(_)))
            .map(|e| e.time)
    };
    let t_sale = first_sale(&run_str(&solo)).expect("sales");
    let delayed = solo
        .replace(
            "name = \"thrifty\"",
            "name = \"thrifty\"\nsale_delay_seconds = 1800",
        )
        .replace(
            "name = \"bold\"",
            "name = \"bold\"\nsale_delay_seconds = 1800",
        );
    assert_eq!(first_sale(&run_str(&delayed)), Some(t_sale + 1800));
}

#[test]
fn gas_rises_with_volatility() {
    let run = run_str(&flips(20.0, "").replace(
        "gas = { model = \"constant\", gwei = 20.0 }",
        "gas = { model = \"volatility\", base_gwei = 20.0, calm_daily_volatility = 0.05, elasticity = 1.0, max_gwei = 1000.0, asset = \"ETH\", window_seconds = 3600 }",
    ));
    let chain = run.summary.chain.as_ref().unwrap();
    assert_eq!(chain.gas_gwei_start, 20.0);
    // The fall of 25% over 30 minutes is a daily volatility far above 5%: gas rises with it,
    // then returns to the base once the hour-long window has forgotten the fall.
    assert!(chain.gas_gwei_max > 100.0, "{}", chain.gas_gwei_max);
    let last = run
        .events
        .iter()
        .rev()
        .find_map(|e| match e.kind {
            EventKind::BlocksProduced { gas_gwei, .. } => Some(gas_gwei),
            _ => None,
        })
        .unwrap();
    assert_eq!(last, 20.0);
}
