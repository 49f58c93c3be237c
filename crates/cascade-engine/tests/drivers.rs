//! The price drivers read from files or with memory, end to end: a path ensemble's path k is the
//! file's path k at every step (between points as a replay reads it), and the long and wide
//! layouts of one ensemble build the same world; a bootstrap moves only by the historical
//! returns, in blocks; GARCH takes the correlated Gaussian of the gbm driver and its variance
//! reverts across paths as the closed form says.

use std::fs;
use std::sync::Arc;

use cascade_engine::{Engine, EventKind, World, trail};
use cascade_model::ids::AssetId;
use cascade_test_support::{Fixture, repo};

/// The fundamental of `asset` at every step of `path` (after the step's driver moved it).
fn fundamentals(world: &Arc<World>, path: u64, asset: AssetId) -> Vec<f64> {
    let mut prices = vec![world.assets[asset.index()].start_price];
    for event in trail(world, path) {
        match event.kind {
            EventKind::StepEnded => prices.push(*prices.last().expect("a price")),
            EventKind::FundamentalMoved { asset: a, price } if a == asset => {
                *prices.last_mut().expect("a price") = price;
            }
            _ => {}
        }
    }
    // The initial instant's StepEnded pushed step 1's slot … the last StepEnded one past the end.
    prices.pop();
    prices
}

/// examples/data/eth-ensemble.csv: its times and its paths' prices, column by column.
fn ensemble_file() -> (Vec<u64>, Vec<Vec<f64>>) {
    let text = fs::read_to_string(repo().join("examples/data/eth-ensemble.csv")).expect("file");
    let mut lines = text.lines();
    let paths = lines.next().expect("a header").split(',').count() - 1;
    let mut times = Vec::new();
    let mut columns = vec![Vec::new(); paths];
    for line in lines {
        let mut cells = line.split(',');
        times.push(cells.next().expect("a time").parse().expect("seconds"));
        for (column, cell) in columns.iter_mut().zip(cells) {
            column.push(cell.parse::<f64>().expect("a price"));
        }
    }
    (times, columns)
}

const ETH: AssetId = AssetId(0);

#[test]
fn path_k_of_an_ensemble_is_the_files_path_k_at_every_step() {
    let world = Fixture::example("ensemble-paths").world();
    let (_, columns) = ensemble_file();
    assert_eq!(world.path_limit().map(|l| l.paths), Some(100));
    for k in [0, 1, 42, 99] {
        assert_eq!(
            fundamentals(&world, k, ETH),
            columns[k as usize],
            "path {k}"
        );
    }
}

/// Between the file's points an ensemble reads as a replay does: `previous` holds the last
/// point, `linear` draws a line (the formula of `Series::value_at`, to 1e-12 relative).
#[test]
fn between_its_points_an_ensemble_reads_as_a_replay() {
    let (times, columns) = ensemble_file();
    let fine = |interpolation: &str| {
        Fixture::example("ensemble-paths")
            .set("simulation.step_seconds", 120)
            .set("simulation.steps", 720)
            .set("assets[0].driver.interpolation", interpolation)
            .world()
    };
    let (previous, linear) = (fine("previous"), fine("linear"));
    for k in [3, 77] {
        let column = &columns[k as usize];
        let held = fundamentals(&previous, k, ETH);
        let drawn = fundamentals(&linear, k, ETH);
        for step in 0..=720u64 {
            let t = step * 120;
            let i = times.partition_point(|&x| x <= t) - 1;
            assert_eq!(
                held[step as usize], column[i],
                "previous, path {k}, t = {t}"
            );
            let expected = match times.get(i + 1) {
                None => column[i],
                Some(&t1) => {
                    let t0 = times[i];
                    column[i] + (column[i + 1] - column[i]) * (t - t0) as f64 / (t1 - t0) as f64
                }
            };
            let got = drawn[step as usize];
            assert!(
                (got - expected).abs() <= 1e-12 * expected,
                "linear, path {k}, t = {t}: {got} vs {expected}"
            );
        }
    }
}

/// The same ensemble written long — rows by time then path, or path after path — builds the
/// world the wide file builds: the same paths, the same events.
#[test]
fn long_and_wide_layouts_build_the_same_world() {
    let (times, columns) = ensemble_file();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let by_time: String = std::iter::once("t,scenario,eth\n".to_string())
        .chain(times.iter().enumerate().flat_map(|(i, t)| {
            columns
                .iter()
                .enumerate()
                .map(move |(k, c)| format!("{t},path{k:03},{}\n", c[i]))
        }))
        .collect();
    let by_path: String = std::iter::once("scenario,eth,t\n".to_string())
        .chain(columns.iter().enumerate().flat_map(|(k, c)| {
            times
                .iter()
                .zip(c)
                .map(move |(t, p)| format!("path{k:03},{p},{t}\n"))
        }))
        .collect();
    fs::write(dir.path().join("by-time.csv"), by_time).expect("write");
    fs::write(dir.path().join("by-path.csv"), by_path).expect("write");
    fs::copy(
        repo().join("examples/data/eth-ensemble.csv"),
        dir.path().join("wide.csv"),
    )
    .expect("copy");
    let world = |driver: &str| {
        let file = dir.path().join("ensemble.toml");
        Fixture::example("ensemble-paths")
            .set_raw("assets[0].driver", driver)
            .write_to(&file);
        Arc::new(cascade_scenario::load(&file).expect("valid").world)
    };
    let wide = world(
        r#"{ model = "ensemble", file = "wide.csv", format = "wide", time_column = "time", time_unit = "seconds" }"#,
    );
    let long = |file: &str| {
        world(&format!(
            r#"{{ model = "ensemble", file = "{file}", format = "long", time_column = "t", time_unit = "seconds", path_column = "scenario", price_column = "eth" }}"#
        ))
    };
    let ensemble = |w: &World| {
        w.initial.fundamentals[0]
            .driver()
            .ensemble()
            .expect("an ensemble")
            .paths()
            .to_vec()
    };
    for long in [long("by-time.csv"), long("by-path.csv")] {
        assert_eq!(ensemble(&long), ensemble(&wide));
        for k in [0, 9, 99] {
            assert_eq!(trail(&long, k), trail(&wide, k), "path {k}");
        }
    }
}

/// The one-minute log-returns of 12 March 2020's closes (data/ETHUSDT-1m-2020-03-12.csv).
fn black_thursday_returns() -> Vec<f64> {
    let text = fs::read_to_string(repo().join("data/ETHUSDT-1m-2020-03-12.csv")).expect("file");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let close = header.iter().position(|&h| h == "close").expect("close");
    let closes: Vec<f64> = lines
        .map(|l| {
            l.split(',')
                .nth(close)
                .expect("a close")
                .parse()
                .expect("a number")
        })
        .collect();
    closes.windows(2).map(|w| (w[1] / w[0]).ln()).collect()
}

/// Every step of a bootstrap path moves by one of the day's 1,439 minute returns (to 1e-9, the
/// rounding of exp and ln over a path), and blocks are consecutive in the day: with a mean block
/// of 60 steps, 59 in 60 steps continue their block. Over 4 paths of 360 steps the share of
/// steps whose return follows the previous one in the day is 0.983 expected (more where equal
/// returns make a new block look like a continuation), standard deviation 0.0034; it must
/// exceed 0.96.
#[test]
fn a_bootstrap_moves_by_the_days_returns_in_blocks() {
    let world = Fixture::example("bootstrap-black-thursday").world();
    let history = black_thursday_returns();
    assert_eq!(history.len(), 1439);
    let (mut steps, mut continued) = (0, 0);
    for k in 0..4 {
        let prices = fundamentals(&world, k, ETH);
        let drawn: Vec<Vec<usize>> = prices
            .windows(2)
            .map(|w| (w[1] / w[0]).ln())
            .enumerate()
            .map(|(step, r)| {
                let at: Vec<usize> = (0..history.len())
                    .filter(|&i| (history[i] - r).abs() < 1e-9)
                    .collect();
                assert!(
                    !at.is_empty(),
                    "path {k}, step {}: {r} is no minute return of the day",
                    step + 1
                );
                at
            })
            .collect();
        for pair in drawn.windows(2) {
            steps += 1;
            if pair[0].iter().any(|i| pair[1].contains(&(i + 1))) {
                continued += 1;
            }
        }
    }
    let share = f64::from(continued) / f64::from(steps);
    assert!(
        share > 0.96,
        "{continued} of {steps} steps continue their block"
    );
}

/// A minimal world of two correlated assets driven by `eth` and `btc` (driver tables).
fn pair(eth: &str, btc: &str) -> Arc<World> {
    Fixture::from_text(&format!(
        "[simulation]\nname = \"pair\"\nseed = 5\nsteps = 288\nstep_seconds = 300\n\n\
         [[assets]]\nsymbol = \"ETH\"\nprice = 2000.0\ndriver = {eth}\n\n\
         [[assets]]\nsymbol = \"BTC\"\nprice = 60000.0\ndriver = {btc}\n\n\
         [[correlations]]\nassets = [\"ETH\", \"BTC\"]\ncorrelation = 0.8\n"
    ))
    .world()
}

/// With α = β = 0 the variance stays at the long-run one and GARCH is the gbm driver, draw for
/// draw: both assets, correlated, match a gbm world's prices at every step to 1e-9 relative
/// (the two formulas round differently).
#[test]
fn garch_without_its_terms_is_gbm_correlations_included() {
    let gbm = pair(
        r#"{ model = "gbm", drift = 0.1, volatility = 0.7 }"#,
        r#"{ model = "gbm", volatility = 0.5 }"#,
    );
    let garch = pair(
        r#"{ model = "garch", drift = 0.1, long_run_volatility = 0.7, alpha = 0.0, beta = 0.0 }"#,
        r#"{ model = "garch", long_run_volatility = 0.5, alpha = 0.0, beta = 0.0 }"#,
    );
    for path in [0, 1] {
        for asset in [AssetId(0), AssetId(1)] {
            let (a, b) = (
                fundamentals(&gbm, path, asset),
                fundamentals(&garch, path, asset),
            );
            assert_eq!(a.len(), 289);
            for (step, (x, y)) in a.iter().zip(&b).enumerate() {
                assert!(
                    (x - y).abs() <= 1e-9 * x,
                    "path {path}, step {step}: {x} vs {y}"
                );
            }
        }
    }
}

/// Across paths the mean squared log-return of step t is the mean conditional variance,
/// E[h_t] = h_LR + (α + β)^(t−1)·(h_1 − h_LR) per step (the −h/2 drift adds h²/4, below 1e-5 of
/// h here). From a storm (200% a year) to a long run of 70% with α + β = 0.98, over 3,000
/// paths: at steps 1, 35 (the half-life) and 288 the sample mean is within four standard errors
/// of the closed form.
#[test]
fn garch_variance_reverts_across_paths_as_the_closed_form_says() {
    let world = pair(
        r#"{ model = "garch", long_run_volatility = 0.7, alpha = 0.06, beta = 0.92, initial_volatility = 2.0 }"#,
        r#"{ model = "gbm", volatility = 0.5 }"#,
    );
    let years = 300.0 / cascade_model::SECONDS_PER_YEAR;
    let (h_lr, h_1) = (0.49 * years, 4.0 * years);
    let checked = [1usize, 35, 288];
    let paths = 3_000;
    let mut squares = vec![Vec::with_capacity(paths); checked.len()];
    let mut engine = Engine::new(Arc::clone(&world));
    for k in 0..paths as u64 {
        engine.reset(k);
        let mut events = Vec::new();
        engine.run(&mut events);
        let mut prices = vec![2000.0];
        for e in &events {
            if let EventKind::FundamentalMoved { asset, price } = e.kind {
                if asset == ETH && e.step > 0 {
                    prices.push(price);
                }
            }
        }
        assert_eq!(prices.len(), 289, "a move every step");
        for (slot, &t) in squares.iter_mut().zip(&checked) {
            slot.push((prices[t] / prices[t - 1]).ln().powi(2));
        }
    }
    for (values, &t) in squares.iter().zip(&checked) {
        let expected = h_lr + 0.98f64.powi(t as i32 - 1) * (h_1 - h_lr);
        let mean = values.iter().sum::<f64>() / paths as f64;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (paths - 1) as f64;
        let se = (var / paths as f64).sqrt();
        assert!(
            (mean - expected).abs() < 4.0 * se,
            "step {t}: {mean} vs {expected} ± {se}"
        );
    }
}

/// Every asset's `FundamentalMoved` prices on `path` when its drivers are advanced one step at a
/// time, as the engine did before it drew prices ahead: each step's innovations in asset order
/// from the path's `fundamental` stream (correlated as the world says), each driver with its own
/// stream, a move recorded where the price changed, then the step's shocks.
fn moves_step_by_step(world: &World, path: u64) -> Vec<Vec<f64>> {
    use cascade_model::rng::stream;
    use rand_distr::{Distribution, StandardNormal};
    let seed = world.simulation.seed;
    let dt = world.simulation.step_seconds;
    let mut fundamentals = world.initial.fundamentals.clone();
    fundamentals.iter_mut().for_each(|f| f.start_path(path));
    let mut innovations = stream(seed, path, "fundamental");
    let mut own: Vec<_> = fundamentals
        .iter()
        .zip(&world.assets)
        .map(|(f, asset)| {
            let label = f.driver().stream_label();
            stream(seed, path, &format!("{label}:{}", asset.symbol))
        })
        .collect();
    let mut moves: Vec<Vec<f64>> = fundamentals.iter().map(|f| vec![f.price()]).collect();
    for step in 1..=world.simulation.steps {
        let mut z: Vec<f64> = fundamentals
            .iter()
            .map(|f| {
                if f.driver().is_stochastic() {
                    StandardNormal.sample(&mut innovations)
                } else {
                    0.0
                }
            })
            .collect();
        if let Some((assets, factor)) = &world.correlation {
            let independent: Vec<f64> = assets.iter().map(|a| z[a.index()]).collect();
            for (row, asset) in assets.iter().enumerate() {
                z[asset.index()] = (0..=row)
                    .map(|col| factor[row][col] * independent[col])
                    .sum();
            }
        }
        for (a, f) in fundamentals.iter_mut().enumerate() {
            let before = f.price();
            f.advance(step * dt, dt, z[a], &mut own[a]);
            if f.price() != before {
                moves[a].push(f.price());
            }
        }
        for &(asset, shock) in &world.shocks {
            if shock.step == step {
                fundamentals[asset.index()].apply_shock(shock.factor);
            }
        }
    }
    moves
}

/// The engine draws its drivers' prices some steps ahead (`Cx::draw_ahead`); on every kind of
/// driver, correlated or not, with shocks, each asset's `FundamentalMoved` events on a few paths
/// are still the step-by-step advance's, the same moves to the bit.
#[test]
fn drawing_prices_ahead_changes_no_price() {
    let worlds = [
        "gbm-jump-stress",
        "garch-clustering",
        "bootstrap-black-thursday",
        "ensemble-paths",
        "black-thursday-replay",
        "black-thursday-10min",
        "may-2021-replay",
        "eth-crash",
    ]
    .map(|name| (name, Fixture::example(name).world()));
    let stochastic = ("stochastic", Fixture::named("stochastic").world());
    assert!(
        stochastic.1.correlation.is_some(),
        "the fixture correlates its assets"
    );
    // Flat over the first draw and moving in the second: a step that starts a draw with the
    // price unchanged since the last step must not be reported as a move.
    let flat_then_falling = (
        "flat-then-falling",
        Fixture::example("eth-crash")
            .set("simulation.steps", 200)
            .set("simulation.step_seconds", 60)
            .set_raw(
                "assets[0].driver",
                "{ model = \"path\", points = [[0, 3000.0], [4800, 3000.0], [9000, 2700.0]] }",
            )
            .world(),
    );
    for (name, world) in worlds.iter().chain([&stochastic, &flat_then_falling]) {
        let paths = world.path_limit().map_or(3, |l| l.paths.min(3));
        for path in 0..paths {
            let expected = moves_step_by_step(world, path);
            let mut got = vec![Vec::new(); world.assets.len()];
            for event in trail(world, path) {
                if let EventKind::FundamentalMoved { asset, price } = event.kind {
                    got[asset.index()].push(price);
                }
            }
            for (a, (got, want)) in got.iter().zip(&expected).enumerate() {
                let bits = |x: &Vec<f64>| x.iter().map(|p| p.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(got), bits(want), "{name}, path {path}, asset {a}");
            }
        }
    }
}
