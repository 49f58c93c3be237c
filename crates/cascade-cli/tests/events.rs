//! `cascade run --events csv|parquet|none`: the events file is chosen, the other outputs are not
//! touched by the choice, and a rerun in another format leaves no stale events file behind.

use std::fs;
use std::path::Path;

use cascade_test_support::repo;

use crate::common::run_cli;

fn run(dir: &Path, format: &str) {
    let scenario = repo().join("examples/perp-and-lending.toml");
    let out = run_cli(&[
        "run",
        scenario.to_str().expect("utf-8 path"),
        "--out",
        dir.to_str().expect("utf-8 path"),
        "--quiet",
        "--events",
        format,
    ]);
    assert!(
        out.status.success(),
        "--events {format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn the_events_format_changes_only_the_events_file() {
    let root = tempfile::tempdir().expect("temporary directory");
    let dirs: Vec<_> = ["csv", "parquet", "none"]
        .iter()
        .map(|f| {
            let dir = root.path().join(f);
            run(&dir, f);
            (f, dir)
        })
        .collect();
    for (format, dir) in &dirs {
        assert_eq!(
            read(dir, "summary.json"),
            read(&dirs[0].1, "summary.json"),
            "{format}"
        );
        assert_eq!(
            read(dir, "timeline.csv"),
            read(&dirs[0].1, "timeline.csv"),
            "{format}"
        );
        let csv = dir.join("events.csv").exists();
        let parquet = dir.join("events.parquet").exists();
        assert_eq!(
            (csv, parquet),
            (**format == "csv", **format == "parquet"),
            "{format}"
        );
    }
    let parquet = read(&dirs[1].1, "events.parquet");
    assert_eq!(&parquet[..4], b"PAR1", "a Parquet file");
    assert_eq!(
        &parquet[parquet.len() - 4..],
        b"PAR1",
        "a complete Parquet file"
    );
}

#[test]
fn a_rerun_in_another_format_removes_the_stale_events_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    run(dir.path(), "csv");
    assert!(dir.path().join("events.csv").exists());
    run(dir.path(), "parquet");
    assert!(!dir.path().join("events.csv").exists());
    assert!(dir.path().join("events.parquet").exists());
    run(dir.path(), "none");
    assert!(!dir.path().join("events.parquet").exists());
    assert!(dir.path().join("summary.json").exists());
}

#[test]
fn an_unknown_events_format_is_a_usage_error() {
    let out = run_cli(&["run", "--events", "xlsx", "--quiet"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("xlsx"), "{stderr}");
}
