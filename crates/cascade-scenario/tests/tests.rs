//! Integration tests of the scenario library: bad input and its messages, generated positions,
//! counterfactual variants. One test binary (ripgrep style); each module owns one concern.

mod bad_input;
mod generation;
mod json_schema;
mod variants;

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
