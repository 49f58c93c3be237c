//! `cascade montecarlo`, `cascade merge` and `cascade run --path K`, through the files they
//! write: a path's figures do not depend on the thread count or the shard it ran in, merged
//! shards are one run of all their paths, the worst path replays, and bad arguments exit 2
//! naming the value. (The estimators are tested against closed forms in cascade-analytics.)

use std::path::Path;

use cascade_test_support::repo;
use tempfile::TempDir;

use crate::common;
use common::{read, run_into_temp as cli};

const SCENARIO: &str = "examples/gbm-jump-stress.toml";
const OUTPUTS: [&str; 3] = ["montecarlo.json", "paths.csv", "paths.parquet"];

fn scenario() -> String {
    repo()
        .join(SCENARIO)
        .to_str()
        .expect("UTF-8 path")
        .to_string()
}

fn json(dir: &Path, name: &str) -> serde_json::Value {
    serde_json::from_slice(&read(dir, name)).expect("JSON")
}

#[test]
fn paths_are_the_same_on_any_thread_count_and_in_any_shard() {
    let s = scenario();
    let one = cli(&["montecarlo", &s, "--paths", "48", "--threads", "1"]);
    let two = cli(&["montecarlo", &s, "--paths", "48", "--threads", "2"]);
    let head = cli(&["montecarlo", &s, "--paths", "20", "--threads", "2"]);
    let tail = cli(&["montecarlo", &s, "--paths", "28", "--paths-from", "20"]);
    let merged = tempfile::tempdir().expect("temporary directory");
    let output = common::run_cli(&[
        "merge",
        tail.path().to_str().unwrap(),
        head.path().to_str().unwrap(),
        "--out",
        merged.path().to_str().unwrap(),
        "--quiet",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for name in OUTPUTS {
        assert_eq!(
            read(one.path(), name),
            read(two.path(), name),
            "{name}: 1 vs 2 threads"
        );
        assert_eq!(
            read(one.path(), name),
            read(merged.path(), name),
            "{name}: merged"
        );
    }
    let tail_json = json(tail.path(), "montecarlo.json");
    assert_eq!(tail_json["paths_from"], 20);
    assert_eq!(tail_json["paths"], 28);
}

#[test]
fn montecarlo_json_has_the_keys_scripts_rely_on() {
    let out = cli(&["montecarlo", &scenario(), "--paths", "40"]);
    let j = json(out.path(), "montecarlo.json");
    assert_eq!(j["paths"], 40);
    assert_eq!(j["seed"], 3);
    assert_eq!(j["horizon_seconds"], 1440 * 60);
    assert_eq!(j["scenario"]["name"], "gbm-jump-stress");
    assert_eq!(j["scenario"]["hash"].as_str().map(str::len), Some(64));
    for metric in [
        "bad_debt_usd",
        "liquidated_debt_usd",
        "keepers.searcher.pnl_usd",
    ] {
        let m = &j["metrics"][metric];
        for key in ["mean", "std", "min", "max"] {
            assert!(m[key].is_number(), "{metric}.{key}");
        }
        for key in ["var", "es", "var_se"] {
            for q in ["0.95", "0.99", "0.999"] {
                assert!(m[key][q].is_number(), "{metric}.{key}.{q}");
            }
        }
        assert!(m["var"]["0.95"].as_f64() <= m["var"]["0.99"].as_f64());
        assert!(m["var"]["0.99"].as_f64() <= m["es"]["0.99"].as_f64());
        assert!(m["max"].as_f64() >= m["es"]["0.999"].as_f64());
    }
    for p in ["bad_debt", "death_spiral"] {
        let v = j["probabilities"][p].as_f64().expect("a probability");
        assert!((0.0..=1.0).contains(&v), "{p} = {v}");
    }
    let worst = j["worst_paths"].as_array().expect("worst_paths");
    assert_eq!(worst.len(), 10);
    let paths: Vec<u64> = worst.iter().map(|w| w["path"].as_u64().unwrap()).collect();
    assert!(paths.iter().all(|p| *p < 40));
    let csv = String::from_utf8(read(out.path(), "paths.csv")).unwrap();
    assert_eq!(csv.lines().count(), 41, "a header and a row per path");
    assert!(csv.starts_with("path,death_spiral,bad_debt_usd,"));
}

#[test]
fn run_path_k_replays_path_k_of_a_monte_carlo() {
    let s = scenario();
    let mc = cli(&["montecarlo", &s, "--paths", "12"]);
    let j = json(mc.path(), "montecarlo.json");
    // The worst path other than 0 (path 0 is the scenario's own run).
    let worst = j["worst_paths"]
        .as_array()
        .expect("worst_paths")
        .iter()
        .filter_map(|w| w["path"].as_u64())
        .find(|&p| p != 0)
        .expect("a worst path other than 0");
    let k = worst.to_string();
    let run = cli(&["run", &s, "--path", &k, "--events", "none"]);
    let summary = json(run.path(), "summary.json");
    assert_eq!(summary["scenario"]["path"], worst);
    let (names, rows) =
        cascade_report::read_paths_csv(&read(mc.path(), "paths.csv")[..]).expect("paths.csv");
    let row = rows
        .iter()
        .find(|r| r.path == worst)
        .expect("the row of path k");
    let figure = |name: &str| row.values[names.iter().position(|n| n == name).unwrap()];
    assert_eq!(figure("bad_debt_usd"), summary["bad_debt_usd"].as_f64());
    assert_eq!(
        figure("liquidated_debt_usd"),
        summary["liquidations"]["debt_repaid_usd"].as_f64()
    );
    assert_eq!(
        figure("assets.ETH.total_drop"),
        summary["assets"]["ETH"]["total_drop"].as_f64()
    );
    // Path 0 is the scenario's own run, whose summary does not name a path.
    let zero = cli(&["run", &s, "--events", "none"]);
    assert!(
        json(zero.path(), "summary.json")["scenario"]
            .get("path")
            .is_none()
    );
}

#[test]
fn run_path_k_agrees_with_a_batched_monte_carlo_path() {
    // The wall model, whose breaking paths the Monte Carlo liquidates in batches while `run`
    // goes account by account: the figures agree up to the order of additions.
    let dir = TempDir::new().expect("temporary directory");
    let file = dir.path().join("wall.toml");
    cascade_test_support::Fixture::named("wall").write_to(&file);
    let s = file.to_str().expect("UTF-8 path").to_string();
    let mc = cli(&["montecarlo", &s, "--paths", "8"]);
    let (names, rows) =
        cascade_report::read_paths_csv(&read(mc.path(), "paths.csv")[..]).expect("paths.csv");
    let column = |name: &str| names.iter().position(|n| n == name).unwrap();
    let broke: Vec<_> = rows
        .iter()
        .filter(|r| r.values[column("liquidations")].is_some_and(|x| x > 0.0))
        .collect();
    assert!(!broke.is_empty(), "no path broke into the wall");
    for row in broke {
        let k = row.path.to_string();
        let run = cli(&["run", &s, "--path", &k, "--events", "none"]);
        let summary = json(run.path(), "summary.json");
        let pairs = [
            ("bad_debt_usd", &summary["bad_debt_usd"]),
            (
                "liquidated_debt_usd",
                &summary["liquidations"]["debt_repaid_usd"],
            ),
            ("liquidations", &summary["liquidations"]["count"]),
            (
                "assets.ETH.total_drop",
                &summary["assets"]["ETH"]["total_drop"],
            ),
            (
                "keepers.keeper.pnl_usd",
                &summary["keepers"]["keeper"]["marked_profit_usd"],
            ),
        ];
        for (name, value) in pairs {
            let (a, b) = (row.values[column(name)].unwrap(), value.as_f64().unwrap());
            let scale = a.abs().max(b.abs()).max(1.0);
            assert!(
                (a - b).abs() <= 1e-9 * scale,
                "path {k}, {name}: Monte Carlo {a}, run {b}"
            );
        }
    }
}

#[test]
fn bad_arguments_exit_2_naming_the_value() {
    let s = scenario();
    for (args, expected) in [
        (
            vec!["montecarlo", s.as_str(), "--paths", "0"],
            "--paths = 0",
        ),
        (
            vec!["montecarlo", s.as_str(), "--paths", "2", "--threads", "0"],
            "--threads = 0",
        ),
        (
            vec![
                "montecarlo",
                s.as_str(),
                "--paths",
                "2",
                "--paths-from",
                "18446744073709551615",
            ],
            "overflows",
        ),
    ] {
        common::assert_usage_error(&args, expected);
    }
}

#[test]
fn merge_refuses_overlaps_gaps_and_other_runs() {
    let s = scenario();
    let a = cli(&["montecarlo", &s, "--paths", "4"]);
    let b = cli(&["montecarlo", &s, "--paths", "4", "--paths-from", "6"]);
    let c = cli(&[
        "montecarlo",
        &repo().join("examples/eth-crash.toml").to_string_lossy(),
        "--paths",
        "2",
        "--paths-from",
        "4",
    ]);
    let dir = |d: &TempDir| d.path().to_str().unwrap().to_string();
    let out = tempfile::tempdir().unwrap();
    for (shards, expected) in [
        (vec![dir(&a), dir(&a)], "path 0 is in more than one shard"),
        (vec![dir(&a), dir(&b)], "paths 4 to 5 are in no shard"),
        (vec![dir(&a), dir(&c)], "shards of different runs"),
        (
            vec![out.path().join("missing").to_string_lossy().into_owned()],
            "cannot open",
        ),
    ] {
        let mut args = vec!["merge".to_string()];
        args.extend(shards);
        args.extend(["--out".into(), dir(&out), "--quiet".into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        common::assert_usage_error(&args, expected);
    }
}

#[test]
fn a_scenario_whose_paths_cannot_differ_is_warned_about() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let fixed = repo().join("examples/eth-crash.toml");
    let output = common::run_cli(&[
        "montecarlo",
        fixed.to_str().unwrap(),
        "--paths",
        "3",
        "--out",
        dir,
        "--quiet",
    ]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("every path is the same"), "{stderr}");
    // And it is true: the three rows differ only by their path number.
    let csv = String::from_utf8(read(out.path(), "paths.csv")).unwrap();
    let rows: std::collections::BTreeSet<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split_once(',').unwrap().1)
        .collect();
    assert_eq!(rows.len(), 1);
    let output = common::run_cli(&[
        "montecarlo",
        &scenario(),
        "--paths",
        "3",
        "--out",
        dir,
        "--quiet",
    ]);
    assert!(output.status.success());
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn merge_refuses_a_shard_without_paths() {
    let shard = cli(&["montecarlo", &scenario(), "--paths", "2"]);
    // A shard edited by hand: without its manifest (which would refuse the changed files), so
    // that what is checked is the figures.
    std::fs::remove_file(shard.path().join("manifest.json")).unwrap();
    let json_path = shard.path().join("montecarlo.json");
    let mut j = json(shard.path(), "montecarlo.json");
    j["paths"] = 0.into();
    std::fs::write(&json_path, serde_json::to_vec(&j).unwrap()).unwrap();
    let csv = String::from_utf8(read(shard.path(), "paths.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    std::fs::write(shard.path().join("paths.csv"), format!("{header}\n")).unwrap();
    let out = tempfile::tempdir().unwrap();
    common::assert_usage_error(
        &[
            "merge",
            shard.path().to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
        ],
        "paths = 0: a shard has at least one path",
    );
}

#[test]
fn the_indicator_changes_no_figure_and_forecasts_the_wall() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_wall(dir.path());
    let file = file.as_str();
    let plain = cli(&["montecarlo", file, "--paths", "300"]);
    let watched = cli(&["montecarlo", file, "--paths", "300", "--indicator", "0.5"]);
    assert_eq!(
        read(plain.path(), "paths.csv"),
        read(watched.path(), "paths.csv")
    );
    assert!(
        json(plain.path(), "montecarlo.json")
            .get("indicator")
            .is_none()
    );
    let f = &json(watched.path(), "montecarlo.json")["indicator"];
    let (cascades, calm) = (f["cascades"].as_u64().unwrap(), f["calm"].as_u64().unwrap());
    assert_eq!(cascades + calm, 300);
    assert!(cascades > 30 && calm > 30, "{f}");
    // A wall the price must come near before it breaks: m rises first.
    assert!(f["auc"].as_f64().unwrap() > 0.9, "{f}");
    assert!(f["hit_rate"].as_f64().unwrap() > 0.9, "{f}");
    assert!(f["median_lead_steps"].as_f64().unwrap() >= 1.0, "{f}");
    common::assert_usage_error(
        &["montecarlo", file, "--paths", "3", "--indicator=-1"],
        "--indicator = -1: expected a level of m ≥ 0",
    );
}

#[test]
fn a_throttle_is_compared_with_the_static_parameters_over_the_same_paths() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_wall(dir.path());
    let file = file.as_str();
    let run = |throttle: &str| {
        let out = cli(&[
            "montecarlo",
            file,
            "--paths",
            "200",
            "--indicator",
            "1",
            "--throttle",
            throttle,
        ]);
        json(out.path(), "montecarlo.json")["adaptive"].clone()
    };
    // A throttle no cascade reaches changes nothing but the order of additions (the throttled
    // steps liquidate account by account rather than in batches).
    let loose = run("1e15");
    let bad = &loose["figures"]["bad_debt_usd"];
    let (s, a) = (
        bad["static_mean"].as_f64().unwrap(),
        bad["adaptive_mean"].as_f64().unwrap(),
    );
    assert!(s > 0.0 && (a - s).abs() <= 1e-9 * s, "{bad}");
    // A tight one spreads the wall's liquidations over more steps: less debt liquidated within
    // the day, fewer death spirals.
    let tight = run("1e6");
    let f = &tight["figures"];
    assert!(
        f["liquidated_debt_usd"]["difference_mean"]
            .as_f64()
            .unwrap()
            < 0.0,
        "{f}"
    );
    assert!(
        f["death_spiral"]["difference_mean"].as_f64().unwrap() < 0.0,
        "{f}"
    );
    assert_eq!(tight["paths"], 200);
    common::assert_usage_error(
        &["montecarlo", file, "--paths", "3", "--throttle", "1e6"],
        "--throttle needs --indicator LEVEL",
    );
}

/// The benchmark's wall, smaller, written into `dir`: 10,000 loans liquidatable between 1,000 and
/// 1,900 on a venue of linear impact, ETH on a GBM of 100% a year from 2,000 over a day.
fn small_wall(dir: &Path) -> String {
    let text = std::fs::read_to_string(repo().join("benches/mc-wall-100k.toml"))
        .unwrap()
        .replace("count = 100000", "count = 10000");
    let file = dir.join("wall.toml");
    std::fs::write(&file, text).unwrap();
    file.to_str().unwrap().to_string()
}
