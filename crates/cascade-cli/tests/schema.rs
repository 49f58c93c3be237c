//! `cascade schema`: prints the scenario file's JSON Schema, the same as
//! docs/scenario.schema.json, or writes it with `--out`; an `--out` that cannot be created exits 2
//! naming it. (What the schema holds is tested in cascade-scenario.)

use std::fs;

use crate::common::{self, run_cli};

fn committed() -> String {
    fs::read_to_string(cascade_test_support::repo().join("docs/scenario.schema.json"))
        .expect("docs/scenario.schema.json")
}

#[test]
fn schema_prints_the_committed_schema() {
    let output = run_cli(&["schema"]);
    assert!(output.status.success());
    assert!(output.stderr.is_empty());
    let printed = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(
        printed == committed(),
        "cascade schema differs from the docs' copy"
    );
    let schema: serde_json::Value = serde_json::from_str(&printed).expect("JSON");
    assert_eq!(schema["title"], "cascade scenario");
}

#[test]
fn schema_writes_it_with_out() {
    let dir = tempfile::tempdir().expect("a directory");
    let out = dir.path().join("scenario.schema.json");
    fs::write(&out, "stale").expect("an old file");
    let output = run_cli(&["schema", "--out", out.to_str().expect("UTF-8")]);
    assert!(output.status.success());
    assert!(output.stdout.is_empty());
    assert!(fs::read_to_string(&out).expect("written") == committed());
    let missing = dir.path().join("no/such/dir/schema.json");
    let missing = missing.to_str().expect("UTF-8");
    common::assert_usage_error(&["schema", "--out", missing], missing);
}

#[test]
fn schema_help_has_examples_and_exit_codes() {
    let output = run_cli(&["schema", "--help"]);
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("Examples:\n  cascade schema "), "{help}");
    assert!(help.contains("#:schema"), "{help}");
    assert!(help.contains("Exit codes: 0"), "{help}");
}
