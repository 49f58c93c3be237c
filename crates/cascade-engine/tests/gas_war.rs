//! Gas wars end to end: keepers with the `priority_auction` gas strategy contest the same
//! liquidation in a priority gas auction (Daian et al. 2019). The highest value wins and goes
//! first; the loser's call still gets in, pays its gas and reverts; a lone bot pays the clearing
//! price; the gas leaves the keepers' books exactly as the events and the summary count it; and
//! on English auctions the gas war lets the keeper whose fixed cap kept it out back in, so lots
//! no longer go for nothing.

use cascade_engine::{EventKind, GasAuctionRecord};
use cascade_model::chain::{Sender, TxKind};
use cascade_model::ids::KeeperId;
use cascade_test_support::{Run, run_str};

/// Fixed-spread vaults (10% bonus, close factor 1) after ETH falls 2,000 → 1,500 on a chain at
/// `gas` gwei (500,000 gas a call), with the keepers in `keepers` (TOML).
fn calls(gas: f64, keepers: &str) -> String {
    format!(
        r#"
[simulation]
name = "gas-war"
seed = 7
steps = 24
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

[[oracles]]
name = "feed"
asset = "ETH"
sources = ["fundamental"]

[[protocols]]
name = "lender"
kind = "lending"
liquidation = {{ mechanism = "fixed_spread", bonus = 0.1, close_factor = 1.0 }}
oracles = {{ ETH = "feed" }}
collateral = {{ ETH = {{ ltv = 0.75, liquidation_threshold = 0.8 }} }}

[[positions]]
protocol = "lender"
count = 40
collateral = {{ asset = "ETH", total = 400.0 }}
debt = {{ asset = "DAI" }}
liquidation_price = {{ distribution = "uniform", low = 1550.0, high = 1900.0 }}

{keepers}

[chain]
block_seconds = 12
gas = {{ model = "constant", gwei = {gas:?} }}
"#
    )
}

/// A keeper named `name` with gas strategy `gas` and minimum profit `min_profit` USD.
fn keeper(name: &str, gas: &str, min_profit: f64) -> String {
    format!(
        r#"
[[keepers]]
name = "{name}"
protocols = ["lender"]
sell_on = "eth-dai"
capital_usd = 100000000.0
min_profit_usd = {min_profit:?}
gas = {gas}
"#
    )
}

const BOT: &str = r#"{ strategy = "priority_auction" }"#;

fn auctions(run: &Run) -> Vec<&GasAuctionRecord> {
    run.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::GasAuction(a) => Some(&**a),
            _ => None,
        })
        .collect()
}

/// Two bots, one demanding 400 USD more profit per call: on every contested call the other wins,
/// paying within one 10% raise of what the call is worth to the loser, and never more than it is
/// worth to itself; the loser's call gets in, pays and reverts.
#[test]
fn the_keeper_valuing_the_call_more_wins_and_the_loser_pays_for_a_revert() {
    let run = run_str(&calls(
        30.0,
        &(keeper("eager", BOT, 0.0) + &keeper("picky", BOT, 400.0)),
    ));
    let contests = auctions(&run);
    assert!(contests.len() > 10, "{} contests", contests.len());
    let eager = KeeperId(0);
    let picky = KeeperId(1);
    for a in &contests {
        assert_eq!(a.kind, TxKind::Liquidate);
        assert_eq!(a.bidders, 2);
        assert_eq!(a.winner, Some(eager), "{a:?}");
        assert_eq!(a.outbid, [(picky, true)], "the loser's call gets in: {a:?}");
        // The loser stops within one raise of its value; the winner outbids its last bid by at
        // most 10% (or stops at its own value, 400 USD of gas above the loser's).
        assert!(a.winning_gwei > a.runner_up_gwei);
        assert!(
            a.winning_gwei <= a.runner_up_gwei * 1.1 * (1.0 + 1e-12),
            "{} vs {}",
            a.winning_gwei,
            a.runner_up_gwei
        );
        assert!(a.winning_gwei > a.base_gwei, "a war, not the base price");
    }
    // Every call was executed by the winner; every outbid call reverted, having paid its gas.
    let liquidations: Vec<KeeperId> = run
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Liquidation(l) => Some(l.keeper),
            _ => None,
        })
        .collect();
    assert!(liquidations.iter().all(|&k| k == eager));
    let reverted = run
        .events
        .iter()
        .filter(|e| {
            matches!(&e.kind, EventKind::TxReverted(tx)
            if tx.sender == Sender::Keeper(picky) && tx.gas_usd > 0.0)
        })
        .count();
    assert_eq!(reverted, contests.len());
    let picky_summary = &run.summary.keepers["picky"];
    let a = picky_summary.gas_auctions.as_ref().expect("gas auctions");
    assert_eq!(
        (a.won, a.lost, a.lost_included, a.reverted),
        (
            0,
            contests.len() as u64,
            contests.len() as u64,
            contests.len() as u64
        )
    );
    assert!(
        (a.gas_reverted_usd - picky_summary.gas_spent_usd.unwrap()).abs() < 1e-9,
        "all its gas went on reverts"
    );
    assert!(a.profit_net_of_gas_usd < 0.0, "it only paid");
    let chain = run.summary.chain.as_ref().expect("chain");
    let s = chain.gas_auctions.as_ref().expect("contests summarised");
    assert_eq!(s.contested, contests.len() as u64);
    assert_eq!(s.won, s.contested);
    assert_eq!(s.outbid_included, s.contested);
}

/// A keeper never bids above the call's value to it: the gas of every executed call is at most
/// the call's profit before gas (its collateral at the round's price less the repayment; the
/// keeper's own quote after slippage, which bounds its bid, is lower still).
#[test]
fn no_keeper_pays_more_gas_than_the_call_is_worth_to_it() {
    let run = run_str(&calls(
        30.0,
        &(keeper("eager", BOT, 0.0) + &keeper("picky", BOT, 400.0)),
    ));
    let mut checked = 0;
    for e in &run.events {
        let EventKind::Liquidation(l) = &e.kind else {
            continue;
        };
        // The call's value before gas, at the round's prices: collateral to the keeper at the
        // collateral price (the sale's slippage only lowers it) less the repayment.
        let value = l.to_keeper * l.collateral_price - l.debt_repaid * l.debt_price;
        let paid = run
            .events
            .iter()
            .filter(|t| t.step == e.step)
            .find_map(|t| match &t.kind {
                EventKind::TxIncluded(tx)
                    if tx.sender == Sender::Keeper(l.keeper)
                        && tx.target
                            == cascade_model::chain::Target::Account(l.protocol, l.account) =>
                {
                    Some(tx.gas_usd)
                }
                _ => None,
            })
            .expect("the call's transaction");
        assert!(paid <= value, "gas {paid} above the call's value {value}");
        checked += 1;
    }
    assert!(checked > 10);
}

/// A bot alone pays the clearing price, and nothing is contested.
#[test]
fn a_lone_bot_pays_the_clearing_price() {
    let run = run_str(&calls(30.0, &keeper("alone", BOT, 0.0)));
    assert!(auctions(&run).is_empty());
    let mut included = 0;
    for e in &run.events {
        if let EventKind::TxIncluded(tx) = &e.kind {
            assert_eq!(tx.gas_bid, 30.0);
            assert_eq!(tx.bumps, 0);
            included += 1;
        }
    }
    assert!(included > 10);
    let k = &run.summary.keepers["alone"];
    let a = k.gas_auctions.as_ref().expect("a bot's summary");
    assert_eq!((a.won, a.lost, a.reverted), (0, 0, 0));
    assert!(
        (a.profit_net_of_gas_usd - (k.marked_profit_usd - k.gas_spent_usd.unwrap())).abs() < 1e-6
    );
}

/// Gas leaves the keepers and nothing else: each keeper's gas is the sum of its included
/// transactions' gas, the chain's total their sum, and the keepers' spent and received are those
/// of the run without any gas war (gas is counted in neither).
#[test]
fn gas_paid_is_conserved() {
    let run = run_str(&calls(
        30.0,
        &(keeper("eager", BOT, 0.0)
            + &keeper("picky", BOT, 400.0)
            + &keeper("fixed", r#"{ strategy = "fixed", gwei = 45.0 }"#, 0.0)),
    ));
    let mut per_keeper = [0.0f64; 3];
    for e in &run.events {
        if let EventKind::TxIncluded(tx) = &e.kind {
            if let Sender::Keeper(k) = tx.sender {
                per_keeper[k.index()] += tx.gas_usd;
            }
        }
    }
    let mut total = 0.0;
    for (name, expected) in ["eager", "picky", "fixed"].iter().zip(per_keeper) {
        let spent = run.summary.keepers[*name]
            .gas_spent_usd
            .expect("on a chain");
        assert!(
            (spent - expected).abs() <= 1e-9 * expected.max(1.0),
            "{name}"
        );
        total += spent;
    }
    let chain = run.summary.chain.as_ref().expect("chain");
    assert!((chain.gas_usd - total).abs() <= 1e-9 * total.max(1.0));
    assert!(total > 0.0);
    // The fixed bidder's 45 gwei is outbid by a raise: the bots' contests include it.
    assert!(auctions(&run).iter().any(|a| a.bidders == 3));
}

/// Without any bot the run is the same as before gas wars existed: no contests, no summary.
#[test]
fn without_bots_nothing_is_contested() {
    let market = r#"{ strategy = "market", markup = 0.1, max_gwei = 100.0 }"#;
    let run = run_str(&calls(
        30.0,
        &(keeper("a", market, 0.0) + &keeper("b", market, 0.0)),
    ));
    assert!(auctions(&run).is_empty());
    assert!(run.summary.chain.as_ref().unwrap().gas_auctions.is_none());
    assert!(run.summary.keepers["a"].gas_auctions.is_none());
}

/// English auctions (lump 50 ETH, beg 3%, ttl 10 min) at 150 gwei with two keepers: `gas` is
/// the first keeper's strategy, the second bids at most 400 gwei.
fn flips(gas: &str) -> String {
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

[[positions]]
protocol = "eth-a"
count = 100
collateral = {{ asset = "ETH", total = 4000.0 }}
debt = {{ asset = "DAI" }}
liquidation_price = {{ distribution = "uniform", low = 1550.0, high = 1900.0 }}

[[keepers]]
name = "capped"
protocols = ["eth-a"]
sell_on = "eth-dai"
capital_usd = 50000000.0
gas = {gas}

[[keepers]]
name = "bold"
protocols = ["eth-a"]
sell_on = "eth-dai"
capital_usd = 50000000.0
gas = {{ strategy = "market", markup = 0.1, max_gwei = 400.0 }}

[chain]
block_seconds = 13
gas = {{ model = "constant", gwei = 150.0 }}
"#
    )
}

/// At 150 gwei a keeper capped at 100 never bids, and the other wins lots for nothing; as a
/// priority-auction bot it bids whenever the lot is worth the gas, so lots no longer go for
/// nothing. Bids are not exclusive: nothing is contested, and the bot pays the clearing price.
#[test]
fn on_english_auctions_a_bot_gets_back_in_and_zero_bids_vanish() {
    let capped = run_str(&flips(
        r#"{ strategy = "market", markup = 0.1, max_gwei = 100.0 }"#,
    ));
    let bot = run_str(&flips(BOT));
    let zero = |run: &Run| {
        let a = run.summary.protocols["eth-a"].auctions.as_ref().unwrap();
        (a.taken, a.won_near_zero)
    };
    let (taken, won_at_zero) = zero(&capped);
    assert!(
        taken > 20 && won_at_zero as f64 > 0.9 * taken as f64,
        "{taken} {won_at_zero}"
    );
    let (taken, won_at_zero) = zero(&bot);
    assert!(taken > 20, "{taken}");
    assert_eq!(won_at_zero, 0, "two bidders in every auction");
    assert!(auctions(&bot).is_empty(), "bids are not contested");
    let bot_bids = bot
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::TxIncluded(tx) if tx.sender == Sender::Keeper(KeeperId(0)) => {
                Some(tx.gas_bid)
            }
            _ => None,
        })
        .collect::<Vec<_>>();
    assert!(!bot_bids.is_empty());
    assert!(bot_bids.iter().all(|&g| g == 150.0), "the clearing price");
    assert!(
        bot.summary.protocols["eth-a"].bad_debt_usd
            < capped.summary.protocols["eth-a"].bad_debt_usd
    );
}
