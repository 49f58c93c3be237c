//! Integration tests of the `cascade` command: only what needs the binary — exit codes, what it
//! prints, the files it writes, `compare`, `presets` and `--help`. What the engine, the scenario
//! library, the measures and the writers do is tested in their own crates. One test binary
//! (ripgrep style); each module owns one concern.

mod attribution;
mod bad_input;
mod calibrate;
mod common;
mod compare;
mod cover;
mod determinism;
mod drivers;
mod events;
mod examples;
mod indicator;
mod map;
mod market_makers;
mod montecarlo;
mod outputs;
mod replays;
mod report;
mod schema;
mod stress;
mod usage;

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
