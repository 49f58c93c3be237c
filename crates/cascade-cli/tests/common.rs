//! Helpers shared by the integration tests: run the binary, load scenarios from text, run them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use cascade_analytics::{RunInfo, Summary, summarize};
use cascade_engine::{Event, World};
use cascade_scenario::{Scenario, ScenarioError};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// The `cascade` binary built for this test run.
pub fn cascade() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cascade"))
}

/// Runs `cascade` with `args` and returns its output.
pub fn run_cli(args: &[&str]) -> Output {
    cascade().args(args).output().expect("cascade runs")
}

/// Parses and validates scenario text (data files relative to the repository root).
pub fn load_str(text: &str) -> Result<Scenario, ScenarioError> {
    cascade_scenario::from_str(text, Path::new("test.toml"), &repo())
}

/// A completed run.
pub struct Run {
    pub world: Arc<World>,
    pub events: Vec<Event>,
    pub summary: Summary,
}

/// Runs a validated scenario on path 0.
pub fn run(scenario: Scenario) -> Run {
    let info = RunInfo {
        hash: scenario.hash.clone(),
        description: scenario.description.clone(),
        warnings: scenario.warnings.clone(),
    };
    let world = Arc::new(scenario.world);
    let events = cascade_engine::trail(&world, 0);
    let summary = summarize(&world, &info, &events);
    Run {
        world,
        events,
        summary,
    }
}

/// Loads scenario text and runs it, panicking with the validation message if it is invalid.
pub fn run_str(text: &str) -> Run {
    run(load_str(text).unwrap_or_else(|e| panic!("scenario invalid:\n{e}")))
}
