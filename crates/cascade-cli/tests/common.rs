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
