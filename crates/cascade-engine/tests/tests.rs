//! Integration tests of the engine, through scenarios: each mechanism end to end, the closed
//! forms, conservation of collateral, debt and money, determinism, the many-paths contract and
//! the historical replays. One test binary (ripgrep style); each module owns one concern.
//!
//! Scenarios come from `cascade-test-support` (examples or named fixtures with small edits).
//! Golden figures are `insta` snapshots under `tests/snapshots/`; see [`replays`] for what they
//! hold and how to update them.

mod allocations;
mod auctions;
mod backstop;
mod batches;
mod chain;
mod closed_form;
mod comet;
mod conservation;
mod controls;
mod determinism;
mod drivers;
mod examples;
mod gas_war;
mod impact;
mod liquity;
mod market_makers;
mod marks;
mod mechanisms;
mod paths;
mod perps;
mod quiet;
mod replays;
mod semantics;
mod staleness;

/// Every file of tests/ is a module of this binary: automatic test targets are off, so a file
/// left out here would never be compiled or run.
#[test]
fn every_test_file_is_a_module() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let this = include_str!("tests.rs");
    for entry in std::fs::read_dir(&dir).expect("tests/") {
        let path = entry.expect("an entry").path();
        let stem = path.file_stem().expect("a name").to_string_lossy();
        if path.extension().is_some_and(|e| e == "rs") && stem != "tests" {
            assert!(
                this.contains(&format!("\nmod {stem};")),
                "tests/{stem}.rs is not a module of tests/tests.rs"
            );
        }
    }
}
