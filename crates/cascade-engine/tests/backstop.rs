//! Liquidation via transfer: a backstop vault takes positions over off the market and unwinds
//! them over time. Collateral, debt and money are conserved; a hedged vault never sells; the
//! vault's capital limits it; and on the same book, transfer moves the price less than selling.

use cascade_engine::EventKind;

use cascade_test_support::{Run, repo, run, run_str};

fn book(unwind: &str) -> String {
    format!(
        r#"
[simulation]
name = "backstop"
seed = 4
steps = 24
step_seconds = 300

[[assets]]
symbol = "ETH"
price = 2000.0
driver = {{ model = "path", points = [[0, 2000.0], [1800, 1700.0]] }}

[[assets]]
symbol = "USDC"
price = 1.0

[[venues]]
name = "spot"
base = "ETH"
quote = "USDC"
impact = {{ model = "linear", usd_per_unit = 0.05 }}

[[oracles]]
name = "eth"
asset = "ETH"
sources = ["spot"]
aggregation = "last"

[[protocols]]
name = "lender"
kind = "lending"
liquidation = {{ mechanism = "backstop", penalty = 0.05{unwind} }}
oracles = {{ ETH = "eth" }}
collateral = {{ ETH = {{ ltv = 0.8, liquidation_threshold = 0.85 }} }}

[[positions]]
protocol = "lender"
count = 400
collateral = {{ asset = "ETH", total = 2000.0 }}
debt = {{ asset = "USDC" }}
liquidation_price = {{ distribution = "even", low = 1600.0, high = 1990.0 }}

[[keepers]]
name = "keeper"
protocols = ["lender"]
sell_on = "spot"
"#
    )
}

fn check_conservation(run: &Run) {
    let (mut initial_collateral, mut initial_debt, mut taken, mut repaid) = (0.0, 0.0, 0.0, 0.0);
    let (mut sold, mut proceeds, mut marked_collateral, mut marked_debt) = (0.0, 0.0, 0.0, 0.0);
    let (mut inventory, mut received, mut spent) = (0.0, 0.0, 0.0);
    for event in &run.events {
        match &event.kind {
            EventKind::PositionsOpened {
                collateral, debt, ..
            } => {
                initial_collateral += collateral[0];
                initial_debt += debt[1];
            }
            EventKind::BackstopTakeover {
                units,
                debt,
                debt_price,
                ..
            } => {
                taken += units;
                repaid += debt * debt_price;
            }
            EventKind::BackstopSale {
                filled,
                proceeds: p,
                ..
            } => {
                sold += filled;
                proceeds += p;
            }
            EventKind::PositionsMarked(m) => {
                marked_collateral += m.collateral[0];
                marked_debt += m.debt[1];
            }
            EventKind::BackstopMarked {
                inventory: i,
                received: r,
                spent: s,
                ..
            } => {
                inventory += i[0];
                received += r;
                spent += s;
            }
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
        initial_collateral,
        marked_collateral + taken,
        "collateral: in accounts or taken over",
    );
    close(taken, inventory + sold, "taken over: held or sold");
    close(
        initial_debt,
        marked_debt + repaid,
        "debt: outstanding or repaid by the vault",
    );
    close(spent, repaid, "vault spent = debt repaid");
    close(received, proceeds, "vault received = sale proceeds");
}

#[test]
fn a_selling_backstop_conserves_everything_and_unwinds() {
    let run = run_str(&book(", unwind = \"sell\", unwind_fraction_per_hour = 0.5"));
    let b = run.summary.protocols["lender"]
        .backstop
        .as_ref()
        .expect("a vault");
    assert!(b.takeovers > 0);
    assert!(b.sold.get("ETH").is_some_and(|&u| u > 0.0));
    // No keeper is involved in a transfer.
    assert_eq!(run.summary.keepers["keeper"].liquidations, 0);
    check_conservation(&run);
}

#[test]
fn a_hedged_backstop_never_sells_and_is_valued_at_takeover_prices() {
    let run = run_str(&book(", unwind = \"hedge\""));
    let b = run.summary.protocols["lender"]
        .backstop
        .as_ref()
        .expect("a vault");
    assert!(b.takeovers > 0);
    assert!(b.sold.is_empty());
    assert_eq!(run.summary.liquidations.sale_proceeds_usd, 0.0);
    // With nothing sold and no impact, the venue follows the fundamental exactly.
    let eth = &run.summary.assets["ETH"];
    assert!((eth.total_drop - eth.exogenous_drop).abs() < 1e-12);
    // Taking over at a 5% penalty, the hedged vault gains what the penalty gave it.
    assert!(b.hedged_pnl_usd > 0.0);
    check_conservation(&run);
}

#[test]
fn the_vault_takes_over_only_what_its_capital_allows() {
    let run = run_str(&book(
        ", unwind = \"hedge\", backstop_capital_usd = 200000.0",
    ));
    let b = run.summary.protocols["lender"]
        .backstop
        .as_ref()
        .expect("a vault");
    assert!(b.spent_usd <= 200_000.0);
    assert!(run.summary.liquidations.missed > 0, "the rest waits");
    check_conservation(&run);
}

#[test]
fn transfer_moves_the_price_less_than_selling_on_the_bundled_scenario() {
    // The same book, prices and keepers under a fixed spread and under a backstop that sells
    // 10% of its holdings per hour: forced selling is spread out, so the venue falls less.
    let path = repo().join("examples/eth-crash.toml");
    let text = std::fs::read_to_string(&path).expect("the example");
    let drop = |mechanism: &str| {
        let mut file = cascade_scenario::parse(&text, &path).expect("parses");
        cascade_scenario::mechanism::apply(
            &mut file,
            mechanism,
            &cascade_scenario::mechanism::Baseline::default(),
        )
        .expect("known");
        let scenario = cascade_scenario::from_parsed(file, &text, &path, &repo().join("examples"))
            .expect("valid");
        run(scenario).summary.assets["ETH"].total_drop
    };
    let (fixed, transfer) = (drop("as_is"), drop("backstop"));
    assert!(
        transfer < fixed,
        "backstop {transfer} vs fixed spread {fixed}"
    );
}
