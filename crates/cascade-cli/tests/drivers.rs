//! `cascade montecarlo` and `cascade run --path K` over the GARCH, bootstrap and ensemble
//! drivers: a path's figures do not depend on the thread count or the shard, and a path beyond a
//! path ensemble exits 2 naming the asset, the file and the count, never wrapping to another
//! path. (The drivers' maths is tested in cascade-model and cascade-engine.)

use std::fs;

use cascade_test_support::repo;

use crate::common;
use common::{read, run_into_temp as cli};

const EXAMPLES: [&str; 3] = [
    "garch-clustering.toml",
    "bootstrap-black-thursday.toml",
    "ensemble-paths.toml",
];
const OUTPUTS: [&str; 3] = ["montecarlo.json", "paths.csv", "paths.parquet"];

fn example(name: &str) -> String {
    repo()
        .join("examples")
        .join(name)
        .to_str()
        .expect("UTF-8 path")
        .to_string()
}

#[test]
fn paths_of_the_new_drivers_are_the_same_on_one_and_two_threads_and_in_a_shard() {
    for name in EXAMPLES {
        let s = example(name);
        let one = cli(&["montecarlo", &s, "--paths", "24", "--threads", "1"]);
        let two = cli(&["montecarlo", &s, "--paths", "24", "--threads", "2"]);
        let head = cli(&["montecarlo", &s, "--paths", "10", "--threads", "2"]);
        let tail = cli(&["montecarlo", &s, "--paths", "14", "--paths-from", "10"]);
        let merged = tempfile::tempdir().expect("temporary directory");
        let output = common::run_cli(&[
            "merge",
            head.path().to_str().unwrap(),
            tail.path().to_str().unwrap(),
            "--out",
            merged.path().to_str().unwrap(),
            "--quiet",
        ]);
        assert!(output.status.success(), "{name}: merge");
        for file in OUTPUTS {
            let reference = read(one.path(), file);
            assert_eq!(
                reference,
                read(two.path(), file),
                "{name}: {file}, 1 vs 2 threads"
            );
            assert_eq!(
                reference,
                read(merged.path(), file),
                "{name}: {file}, merged"
            );
        }
        // The paths differ from one another: the drivers draw (or read) a path per number.
        let csv = String::from_utf8(read(one.path(), "paths.csv")).expect("UTF-8");
        let finals: Vec<&str> = csv
            .lines()
            .skip(1)
            .map(|row| {
                row.split(',')
                    .nth(csv_column(&csv, "assets.ETH.final_price"))
                    .unwrap()
            })
            .collect();
        assert!(
            finals.iter().any(|f| *f != finals[0]),
            "{name}: every path ends at {}",
            finals[0]
        );
    }
}

fn csv_column(csv: &str, name: &str) -> usize {
    csv.lines()
        .next()
        .and_then(|h| h.split(',').position(|c| c == name))
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn an_ensembles_last_path_runs_and_the_next_one_exits_2_naming_the_file() {
    let s = example("ensemble-paths.toml");
    let last = cli(&["run", &s, "--path", "99", "--events", "none"]);
    let summary: serde_json::Value =
        serde_json::from_slice(&read(last.path(), "summary.json")).expect("JSON");
    assert_eq!(summary["scenario"]["path"], 99);
    let out = tempfile::tempdir().expect("temporary directory");
    let out = out.path().to_str().expect("UTF-8");
    for (args, expected) in [
        (
            vec!["run", s.as_str(), "--path", "100", "--out", out],
            "--path 100: asset ETH reads its paths from the ensemble \"data/eth-ensemble.csv\", which has 100 paths (0 to 99)",
        ),
        (
            vec!["montecarlo", s.as_str(), "--paths", "101", "--out", out],
            "--paths-from = 0 with --paths = 101 runs paths 0 to 100, but asset ETH reads its paths from the ensemble \"data/eth-ensemble.csv\", which has 100 paths (0 to 99)",
        ),
        (
            vec![
                "montecarlo",
                s.as_str(),
                "--paths",
                "10",
                "--paths-from",
                "95",
                "--out",
                out,
            ],
            "runs paths 95 to 104, but asset ETH",
        ),
    ] {
        let output = common::run_cli(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    // Nothing was written for the refused runs.
    assert!(
        fs::read_dir(out).expect("the directory").next().is_none(),
        "a refused run wrote into {out}"
    );
}
