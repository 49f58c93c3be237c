//! The shipped scenarios through the command: every `examples/*.toml` passes `cascade
//! validate`, one of them runs with the outputs documented in docs/outputs.md (the very bytes the
//! library's writers give), and the bundled default runs from any working directory. (That they
//! run through the library, and what the replays compute, is the engine's concern.)

use std::fs;
use std::path::PathBuf;

use cascade_test_support::{Fixture, repo};

use crate::common::{cascade, run_cli};

fn example(name: &str) -> PathBuf {
    repo().join("examples").join(name)
}

/// Every `examples/*.toml`, sorted by name.
fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(repo().join("examples"))
        .expect("examples/ is readable")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_passes_cascade_validate() {
    for path in examples() {
        let output = run_cli(&["validate", path.to_str().expect("UTF-8 path")]);
        assert!(
            output.status.success(),
            "cascade validate {} failed:\n{}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(String::from_utf8_lossy(&output.stdout).starts_with("ok: "));
    }
}

#[test]
fn an_example_runs_through_the_cli_with_the_documented_outputs() {
    let out = tempfile::tempdir().expect("temporary directory");
    let path = example("order-book-file.toml");
    let output = run_cli(&[
        "run",
        path.to_str().expect("UTF-8 path"),
        "--out",
        out.path().to_str().expect("UTF-8 path"),
        "--quiet",
    ]);
    assert!(
        output.status.success(),
        "run failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty(), "--quiet prints nothing");

    // The files are the library writers' bytes; what those bytes hold (the contract keys, the
    // columns, a row per step, the event kinds) is tested on the same example in
    // cascade-report's tests.
    let library = Fixture::example("order-book-file").run();
    let written =
        |name: &str| fs::read(out.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut expected = Vec::new();
    cascade_report::write_summary_json(&library.summary, &mut expected).expect("written");
    assert!(
        written("summary.json") == expected,
        "summary.json as the library writes it"
    );
    let mut expected = Vec::new();
    cascade_report::write_timeline(&library.timeline, &mut expected).expect("written");
    assert!(
        written("timeline.csv") == expected,
        "timeline.csv as the library writes it"
    );
    let mut expected = Vec::new();
    cascade_report::write_events(&library.world, &library.events, &mut expected).expect("written");
    assert!(
        written("events.csv") == expected,
        "events.csv as the library writes it"
    );
}

#[test]
fn the_bundled_default_runs_from_any_directory() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = cascade()
        .current_dir(dir.path())
        .args(["run", "--quiet"])
        .output()
        .expect("cascade runs");
    assert!(
        output.status.success(),
        "cascade run failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out = dir.path().join("out").join("eth-crash");
    for file in ["summary.json", "timeline.csv", "events.csv"] {
        let len = fs::metadata(out.join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .len();
        assert!(len > 0, "{file} is empty");
    }
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).expect("summary"))
            .expect("JSON");
    assert_eq!(json["scenario"]["name"], "eth-crash");
}

#[test]
fn the_readmes_scenario_snippet_validates_as_written() {
    let readme = fs::read_to_string(repo().join("README.md")).expect("README.md");
    let start = readme.find("```toml\n").expect("a TOML snippet") + "```toml\n".len();
    let end = start + readme[start..].find("```").expect("its end");
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("snippet.toml");
    fs::write(&file, &readme[start..end]).expect("written");
    let output = run_cli(&["validate", file.to_str().expect("UTF-8 path")]);
    assert!(
        output.status.success(),
        "the README's snippet does not validate:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
