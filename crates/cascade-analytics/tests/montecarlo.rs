//! The Monte Carlo runner and its estimators end to end, against a closed form: the terminal
//! price of a GBM driver is log-normal, so over many paths the value at risk of the price's fall
//! must match S₀ − S₀·exp((μ − σ²/2)T − σ√T·z_q) within its standard error, and the mean
//! S₀·e^{μT} within its own. Paths are the same on any number of threads.

use std::sync::Arc;

use cascade_analytics::RunInfo;
use cascade_analytics::montecarlo::{
    LEVELS, MonteCarloHeader, MonteCarloSummary, Runner, ScenarioId,
};
use cascade_test_support::load_str;

const SCENARIO: &str = r#"
[simulation]
name = "gbm-only"
seed = 5
steps = 288
step_seconds = 300

[[assets]]
symbol = "ETH"
price = 2000.0
driver = { model = "gbm", drift = 0.5, volatility = 0.8 }
"#;

/// Standard normal quantiles at 0.95, 0.99 and 0.999.
const Z: [f64; 3] = [
    1.644_853_626_951_472,
    2.326_347_874_040_841,
    3.090_232_306_167_813,
];

fn runner() -> Runner {
    let scenario = load_str(SCENARIO).expect("a valid scenario");
    Runner::new(Arc::new(scenario.world), RunInfo::default())
}

#[test]
fn terminal_prices_of_gbm_paths_are_log_normal() {
    let runner = runner();
    let paths = 4_000;
    let rows = runner.run(0..paths, &|| {}).expect("paths the world has");
    let names = runner.metrics().names();
    let final_price = names
        .iter()
        .position(|n| n == "assets.ETH.final_price")
        .expect("the asset's final price");
    // The fall from the start price, a loss: its VaR is the upper tail.
    let falls: Vec<f64> = rows
        .iter()
        .map(|r| 2000.0 - r.values[final_price].expect("a price"))
        .collect();
    let d = cascade_analytics::montecarlo::Distribution::of(&falls).expect("paths");
    let (s0, mu, sigma) = (2000.0_f64, 0.5_f64, 0.8_f64);
    let t = 288.0 * 300.0 / (365.0 * 86_400.0);
    let mean = s0 - s0 * (mu * t).exp();
    assert!(
        (d.mean - mean).abs() < 4.0 * d.mean_se,
        "mean fall {} against {mean} ± {}",
        d.mean,
        d.mean_se
    );
    for ((_, key), z) in LEVELS.into_iter().zip(Z) {
        let exact = s0 - s0 * ((mu - sigma * sigma / 2.0) * t - sigma * t.sqrt() * z).exp();
        let se = d.var_se[key].max(1e-9);
        assert!(
            (d.var[key] - exact).abs() < 4.0 * se,
            "VaR {key} of the fall: {} against {exact} ± {se}",
            d.var[key]
        );
    }
}

#[test]
fn a_summary_does_not_depend_on_the_thread_count() {
    let runner = runner();
    let names = runner.metrics().names().to_vec();
    let header = MonteCarloHeader {
        paths: 64,
        paths_from: 0,
        seed: 5,
        horizon_seconds: 288 * 300,
        scenario: ScenarioId {
            name: "gbm-only".into(),
            hash: String::new(),
        },
    };
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a pool");
        let rows = pool
            .install(|| runner.run(0..64, &|| {}))
            .expect("paths the world has");
        MonteCarloSummary::of(header.clone(), &names, &rows)
    };
    assert_eq!(on(1), on(2));
    assert_eq!(on(2), on(3));
}

#[test]
fn paths_beyond_an_ensemble_are_refused_before_any_runs() {
    let scenario =
        cascade_scenario::load(&cascade_test_support::repo().join("examples/ensemble-paths.toml"))
            .expect("the example");
    let runner = Runner::new(Arc::new(scenario.world), RunInfo::default());
    let ran = std::sync::atomic::AtomicU64::new(0);
    let done = || {
        ran.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    };
    let error = runner.run(95..105, &done).expect_err("beyond the ensemble");
    assert_eq!((error.limit.paths, error.end), (100, 105));
    assert!(
        error.to_string().contains("has 100 paths (0 to 99)"),
        "{error}"
    );
    assert_eq!(ran.load(std::sync::atomic::Ordering::Relaxed), 0);
    assert_eq!(runner.run(95..100, &done).expect("within it").len(), 5);
}
