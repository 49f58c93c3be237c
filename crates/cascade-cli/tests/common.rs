//! Helpers of the command's tests: run the `cascade` binary built for this test run. Scenario
//! fixtures and library runs come from `cascade-test-support`.

use std::process::{Command, Output};

/// The `cascade` binary built for this test run.
pub fn cascade() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cascade"))
}

/// Runs `cascade` with `args` and returns its output.
pub fn run_cli(args: &[&str]) -> Output {
    cascade().args(args).output().expect("cascade runs")
}

/// Runs `cascade` with `args` plus `--out <new temp dir> --quiet`, expecting success; returns
/// the directory.
pub fn run_into_temp(args: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().expect("temporary directory");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--out", out.path().to_str().expect("UTF-8"), "--quiet"]);
    let output = run_cli(&all);
    assert!(
        output.status.success(),
        "cascade {all:?} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

/// The bytes of file `name` in `dir`.
pub fn read(dir: &std::path::Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("cannot read {name}: {e}"))
}

/// Runs `cascade` with `args`, expecting exit status 2 and `expected` in what it prints on
/// standard error.
pub fn assert_usage_error(args: &[&str], expected: &str) {
    let output = run_cli(args);
    assert_eq!(output.status.code(), Some(2), "{args:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(expected), "{args:?}: {stderr}");
}
