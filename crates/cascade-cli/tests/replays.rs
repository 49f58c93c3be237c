//! The command and the library give the same figures on a replay. (The replays' figures
//! themselves are the engine's golden tests.)

use cascade_test_support::{load_example, repo, run};

/// The binary is built without the test build's dev-dependencies, whose features once changed
/// how exp/ln rounded (and with it the generated vault book in the last digits).
#[test]
fn the_command_reproduces_the_library_run() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = repo().join("examples").join("black-thursday-2020.toml");
    let out = crate::common::run_cli(&[
        "run",
        path.to_str().expect("utf-8 path"),
        "--out",
        dir.path().to_str().expect("utf-8 path"),
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Compared as text: parsing JSON floats back is not exact, writing them is.
    let written = std::fs::read_to_string(dir.path().join("summary.json")).expect("summary.json");
    let mut library = Vec::new();
    cascade_report::write_summary_json(
        &run(load_example("black-thursday-2020")).summary,
        &mut library,
    )
    .expect("written");
    let library = String::from_utf8(library).expect("utf-8");
    if written != library {
        let at = written
            .bytes()
            .zip(library.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "the command's summary differs from the library's at byte {at}:\n{}\n{}",
            &written[at.saturating_sub(200)..(at + 100).min(written.len())],
            &library[at.saturating_sub(200)..(at + 100).min(library.len())]
        );
    }
}
