//! Runs are functions of the scenario and its seed (MODEL.md §2): the same scenario gives the
//! same bytes, the bundled default is examples/eth-crash.toml, and the seed reaches everything
//! random (generated books, stochastic price paths).

use std::fs;
use std::path::Path;

use cascade_engine::EventKind;
use tempfile::TempDir;

use crate::common;

const OUTPUTS: [&str; 3] = ["summary.json", "timeline.csv", "events.csv"];

/// A GBM + jump-diffusion market over a randomly generated book (seed `seed`): every random
/// stream of the engine and of the position generator is used.
fn stochastic(seed: u64) -> String {
    format!(
        r#"
[simulation]
name = "stochastic"
seed = {seed}
steps = 48
step_seconds = 300

[[assets]]
symbol = "ETH"
price = 3000.0
driver = {{ model = "gbm", drift = -0.5, volatility = 1.5 }}

[[assets]]
symbol = "BTC"
price = 60000.0
driver = {{ model = "jump_diffusion", drift = 0.0, volatility = 0.8, jump_intensity = 500.0, jump_mean = -0.02, jump_std = 0.03 }}

[[assets]]
symbol = "USDC"
price = 1.0

[[correlations]]
assets = ["ETH", "BTC"]
correlation = 0.7

[[venues]]
name = "eth-spot"
base = "ETH"
quote = "USDC"
impact = {{ model = "square_root", daily_volatility = 0.05, daily_volume = 200000.0 }}
permanent_fraction = 0.5
half_life_seconds = 900

[[venues]]
name = "btc-pool"
base = "BTC"
quote = "USDC"
impact = {{ model = "constant_product", base_reserve = 500.0, quote_reserve = 30000000.0 }}

[[oracles]]
name = "eth-usd"
asset = "ETH"
sources = ["eth-spot"]
update = "deviation"
deviation_threshold = 0.005
heartbeat_seconds = 3600

[[oracles]]
name = "btc-usd"
asset = "BTC"
sources = ["btc-pool"]

[[protocols]]
name = "lender"
kind = "lending"
liquidation = {{ mechanism = "fixed_spread", bonus = 0.06, close_factor = 0.5, full_close_below_health_factor = 0.95, protocol_fee = 0.1 }}
oracles = {{ ETH = "eth-usd", BTC = "btc-usd" }}
collateral = {{ ETH = {{ ltv = 0.8, liquidation_threshold = 0.83 }}, BTC = {{ ltv = 0.7, liquidation_threshold = 0.78 }} }}

[[positions]]
protocol = "lender"
count = 3000
collateral = {{ asset = "ETH", total = 30000.0 }}
debt = {{ asset = "USDC" }}
health_factor = {{ distribution = "lognormal", mean = 1.25, std = 0.2 }}
size_sigma = 1.0

[[positions]]
protocol = "lender"
count = 1000
collateral = {{ asset = "ETH", total = 10000.0 }}
debt = {{ asset = "USDC" }}
liquidation_price = {{ distribution = "uniform", low = 2500.0, high = 2950.0 }}

[[positions]]
protocol = "lender"
count = 1000
collateral = {{ asset = "BTC", total = 500.0 }}
debt = {{ asset = "USDC" }}
health_factor = {{ distribution = "normal", mean = 1.2, std = 0.15 }}
size_sigma = 0.5

[[keepers]]
name = "keeper"
protocols = ["lender"]
sell_on = {{ ETH = "eth-spot", BTC = "btc-pool" }}
capital_usd = 20000000.0
min_profit_usd = 1.0
"#
    )
}

/// Runs `cascade run [scenario] --out <new temp dir> --quiet` and returns the directory.
fn cli_run(scenario: Option<&Path>) -> TempDir {
    let out = tempfile::tempdir().expect("temporary directory");
    let out_arg = out.path().to_str().expect("UTF-8 temp path");
    let mut args = vec!["run"];
    if let Some(path) = scenario {
        args.push(path.to_str().expect("UTF-8 path"));
    }
    args.extend(["--out", out_arg, "--quiet"]);
    let output = common::run_cli(&args);
    assert!(
        output.status.success(),
        "cascade {args:?} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

fn read(dir: &TempDir, name: &str) -> Vec<u8> {
    fs::read(dir.path().join(name)).unwrap_or_else(|e| panic!("cannot read {name}: {e}"))
}

fn summary(dir: &TempDir) -> serde_json::Value {
    serde_json::from_slice(&read(dir, "summary.json")).expect("summary.json is JSON")
}

fn assert_same_outputs(a: &TempDir, b: &TempDir, what: &str) {
    for name in OUTPUTS {
        let (x, y) = (read(a, name), read(b, name));
        assert!(!x.is_empty(), "{what}: {name} is empty");
        if x != y {
            let line = x
                .split(|&c| c == b'\n')
                .zip(y.split(|&c| c == b'\n'))
                .position(|(l, r)| l != r);
            panic!(
                "{what}: {name} differs between two runs ({} vs {} bytes, first differing line {line:?})",
                x.len(),
                y.len()
            );
        }
    }
}

fn write_scenario(dir: &TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    fs::write(&path, text).expect("write scenario");
    path
}

#[test]
fn the_same_scenario_gives_the_same_bytes() {
    let scenarios = tempfile::tempdir().expect("temporary directory");
    let eth_crash = common::repo().join("examples/eth-crash.toml");
    let stochastic = write_scenario(&scenarios, "stochastic.toml", &stochastic(11));
    for (what, scenario) in [
        ("examples/eth-crash.toml", Some(eth_crash.as_path())),
        ("the bundled default", None),
        ("a GBM/jump-diffusion scenario", Some(stochastic.as_path())),
    ] {
        let first = cli_run(scenario);
        let second = cli_run(scenario);
        assert_same_outputs(&first, &second, what);
        // Something happened worth comparing.
        let s = summary(&first);
        assert!(
            s["liquidations"]["count"].as_u64().unwrap_or(0) > 0,
            "{what}: no liquidations"
        );
    }
}

#[test]
fn the_bundled_default_is_examples_eth_crash() {
    let bundled = cli_run(None);
    let file = cli_run(Some(&common::repo().join("examples/eth-crash.toml")));
    let (a, b) = (summary(&bundled), summary(&file));
    let hash = a["scenario"]["hash"].as_str().expect("scenario.hash");
    assert_eq!(hash.len(), 64, "a SHA-256 in hex: {hash}");
    assert_eq!(
        a["scenario"]["hash"], b["scenario"]["hash"],
        "the bundled scenario is parsed from the same text, so its hash must match"
    );
    assert_eq!(a["scenario"]["name"], "eth-crash");
    assert_same_outputs(
        &bundled,
        &file,
        "bundled default vs examples/eth-crash.toml",
    );
}

/// Positions whose generation draws random numbers: uniform, normal and log-normal targets and
/// log-normal sizes.
fn random_book(seed: u64) -> String {
    format!(
        r#"
[simulation]
name = "random-book"
seed = {seed}
steps = 5
step_seconds = 60

[[assets]]
symbol = "ETH"
price = 2000.0

[[assets]]
symbol = "USDC"
price = 1.0

[[venues]]
name = "spot"
base = "ETH"
quote = "USDC"
impact = {{ model = "linear", usd_per_unit = 0.005 }}

[[oracles]]
name = "eth-usd"
asset = "ETH"
sources = ["spot"]
aggregation = "last"

[[protocols]]
name = "lender"
kind = "lending"
liquidation = {{ mechanism = "fixed_spread", bonus = 0.05, close_factor = 1.0 }}
oracles = {{ ETH = "eth-usd" }}
collateral = {{ ETH = {{ ltv = 0.8, liquidation_threshold = 0.85 }} }}

[[positions]]
protocol = "lender"
count = 500
collateral = {{ asset = "ETH", total = 5000.0 }}
debt = {{ asset = "USDC" }}
liquidation_price = {{ distribution = "uniform", low = 1700.0, high = 2000.0 }}

[[positions]]
protocol = "lender"
count = 500
collateral = {{ asset = "ETH", total = 5000.0 }}
debt = {{ asset = "USDC" }}
liquidation_price = {{ distribution = "normal", mean = 1850.0, std = 60.0 }}
size_sigma = 0.8

[[positions]]
protocol = "lender"
count = 500
collateral = {{ asset = "ETH", total = 5000.0 }}
debt = {{ asset = "USDC" }}
health_factor = {{ distribution = "lognormal", mean = 1.1, std = 0.08 }}

[[keepers]]
name = "keeper"
protocols = ["lender"]
sell_on = "spot"

[[shocks]]
asset = "ETH"
step = 1
drop = 0.08
"#
    )
}

fn accounts(text: &str) -> Vec<cascade_model::lending::Account> {
    let scenario = common::load_str(text).unwrap_or_else(|e| panic!("scenario invalid:\n{e}"));
    scenario.world.initial.protocols[0].accounts.clone()
}

#[test]
fn the_seed_decides_the_generated_book() {
    let (one, two) = (random_book(1), random_book(2));
    // The same seed generates the same book, account for account.
    assert_eq!(accounts(&one), accounts(&one));
    // Another seed generates another book, in every random population: each block of 500
    // accounts differs almost everywhere.
    let (a, b) = (accounts(&one), accounts(&two));
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
    let total = |book: &[cascade_model::lending::Account]| -> f64 {
        book.iter().map(|x| x.collateral[0].1).sum()
    };
    assert!((total(&a) - 15_000.0).abs() < 1e-6 && (total(&b) - 15_000.0).abs() < 1e-6);

    // Through the CLI: different events and different liquidations.
    let dir = tempfile::tempdir().expect("temporary directory");
    let runs: Vec<TempDir> = [(1, &one), (2, &two)]
        .into_iter()
        .map(|(seed, text)| cli_run(Some(&write_scenario(&dir, &format!("s{seed}.toml"), text))))
        .collect();
    assert_ne!(read(&runs[0], "events.csv"), read(&runs[1], "events.csv"));
    let (s1, s2) = (summary(&runs[0]), summary(&runs[1]));
    assert_eq!(s1["scenario"]["seed"], 1);
    assert_eq!(s2["scenario"]["seed"], 2);
    assert_ne!(s1["scenario"]["hash"], s2["scenario"]["hash"]);
    let liquidated = |text: &str| -> Vec<(u32, u64)> {
        let run = common::run_str(text);
        run.events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Liquidation(l) => Some((l.account.0, l.collateral_seized.to_bits())),
                _ => None,
            })
            .collect()
    };
    let (l1, l2) = (liquidated(&one), liquidated(&two));
    assert!(!l1.is_empty() && !l2.is_empty(), "the shock liquidates");
    assert_ne!(
        l1, l2,
        "seeds 1 and 2 liquidated the same accounts for the same amounts"
    );
    assert_eq!(l1, liquidated(&one), "seed 1 twice liquidated differently");
}

#[test]
fn the_seed_decides_the_price_path() {
    let path = |seed: u64| -> Vec<(u64, u64)> {
        common::run_str(&stochastic(seed))
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
