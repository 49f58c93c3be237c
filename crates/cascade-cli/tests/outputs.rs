//! Output folders that cannot lie: every command's folder ends with a manifest listing each
//! file with its size and SHA-256; a rerun clears what the earlier run listed; a run that fails
//! while writing leaves no manifest and no half-written file under a real name; names from the
//! scenario stay inside `out/`; `cascade report` and `cascade cover` add their file to the
//! folder's manifest; `cascade merge` refuses a shard whose files changed after it was written.

use std::fs;
use std::path::Path;

use cascade_test_support::repo;
use sha2::{Digest, Sha256};

use crate::common::{self, cascade, run_cli, run_into_temp as cli};

fn example(name: &str) -> String {
    repo()
        .join("examples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&common::read(dir, "manifest.json")).expect("manifest.json is JSON")
}

/// Every file the manifest lists, as (name, bytes, sha256) read from the disk.
fn listed(dir: &Path) -> Vec<String> {
    let m = manifest(dir);
    let files = m["files"].as_array().expect("files");
    files
        .iter()
        .map(|f| {
            let name = f["name"].as_str().unwrap();
            let bytes = fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(f["bytes"], bytes.len() as u64, "{name}");
            let hash: String = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(f["sha256"], hash.as_str(), "{name}");
            name.to_string()
        })
        .collect()
}

/// Every file under `dir` but the manifest, `/`-separated, sorted.
fn on_disk(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in walk(dir) {
        let name = entry
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if name != "manifest.json" {
            names.push(name);
        }
    }
    names.sort();
    names
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut all = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all.extend(walk(&path));
        } else {
            all.push(path);
        }
    }
    all
}

#[test]
fn every_command_lists_each_file_it_wrote_with_its_size_and_hash() {
    let crash = example("eth-crash.toml");
    let stochastic = example("gbm-jump-stress.toml");
    let bonus = "protocols.aave-like.liquidation.bonus";
    let grid = format!("{bonus}=0.05,0.1");
    let cases: [(&str, Vec<&str>); 6] = [
        ("run", vec!["run", &crash, "--report"]),
        (
            "compare",
            vec!["compare", &crash, "--mechanisms", "as_is,backstop"],
        ),
        (
            "montecarlo",
            vec!["montecarlo", &stochastic, "--paths", "3"],
        ),
        ("map", vec!["map", &crash]),
        ("stress", vec!["stress", &stochastic, "--grid", &grid]),
        (
            "calibrate",
            vec![
                "calibrate",
                &stochastic,
                "--parameter",
                bonus,
                "--range",
                "0.05:0.1",
                "--risk",
                "mean(bad_debt_usd) <= 1e9",
                "--paths",
                "2",
            ],
        ),
    ];
    for (command, args) in cases {
        let out = cli(&args);
        let m = manifest(out.path());
        assert_eq!(m["command"], command);
        assert_eq!(m["producer"]["tool"], "cascade");
        assert!(
            m["scenario"]["hash"].as_str().unwrap().len() == 64,
            "{command}"
        );
        assert!(
            m["finished_utc"].as_str().unwrap().ends_with('Z'),
            "{command}"
        );
        let mut names = listed(out.path());
        names.sort();
        assert_eq!(
            names,
            on_disk(out.path()),
            "{command}: the manifest lists every file"
        );
        if command == "compare" {
            assert!(
                names.contains(&"backstop/summary.json".to_string()),
                "{names:?}"
            );
        }
        if command == "run" {
            assert!(names.contains(&"report.html".to_string()), "{names:?}");
        }
    }
}

#[test]
fn a_rerun_leaves_none_of_the_earlier_runs_files_but_the_users_own() {
    let crash = example("eth-crash.toml");
    let out = cli(&["run", &crash, "--report"]);
    fs::write(out.path().join("notes.md"), "mine").unwrap();
    let dir = out.path().to_str().unwrap();
    let rerun = run_cli(&["run", &crash, "--events", "none", "--out", dir, "--quiet"]);
    assert!(rerun.status.success());
    assert!(!out.path().join("events.csv").exists());
    assert!(!out.path().join("report.html").exists());
    assert_eq!(
        fs::read_to_string(out.path().join("notes.md")).unwrap(),
        "mine"
    );
    let names = listed(out.path());
    assert_eq!(names, ["summary.json", "timeline.csv"]);
}

#[test]
fn a_run_that_cannot_write_a_file_leaves_no_manifest_and_no_half_file() {
    let crash = example("eth-crash.toml");
    let out = tempfile::tempdir().unwrap();
    // timeline.csv cannot be put in place: a non-empty folder holds its name.
    fs::create_dir(out.path().join("timeline.csv")).unwrap();
    fs::write(out.path().join("timeline.csv/keep"), "x").unwrap();
    let dir = out.path().to_str().unwrap();
    let failed = run_cli(&["run", &crash, "--out", dir, "--quiet"]);
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("timeline.csv"), "{stderr}");
    assert!(!out.path().join("manifest.json").exists());
    assert_eq!(
        on_disk(out.path()),
        ["events.csv", "summary.json", "timeline.csv/keep"],
        "the files put in place before the failure, and no partial one"
    );
}

#[test]
fn a_scenario_name_cannot_write_outside_out() {
    let root = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(example("eth-crash.toml")).unwrap();
    let escaping = text.replacen("name = \"eth-crash\"", "name = \"../../escape\"", 1);
    assert_ne!(escaping, text, "the example's name line");
    fs::write(root.path().join("s.toml"), escaping).unwrap();
    let done = cascade()
        .args(["run", "s.toml", "--quiet"])
        .current_dir(root.path())
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let made: Vec<String> = fs::read_dir(root.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(made, ["_.._.._escape"]);
    assert!(!root.path().join("escape").exists());
    assert!(!root.path().parent().unwrap().join("escape").exists());
}

#[test]
fn report_and_cover_add_their_file_to_the_folders_manifest() {
    let out = cli(&[
        "montecarlo",
        &example("gbm-jump-stress.toml"),
        "--paths",
        "4",
    ]);
    let dir = out.path().to_str().unwrap();
    let before = manifest(out.path());
    assert!(run_cli(&["report", dir]).status.success());
    let cover = run_cli(&[
        "cover",
        dir,
        "--attachment",
        "0",
        "--limit",
        "1e6",
        "--quiet",
    ]);
    assert!(
        cover.status.success(),
        "{}",
        String::from_utf8_lossy(&cover.stderr)
    );
    let after = manifest(out.path());
    assert_eq!(after["command"], "montecarlo");
    assert_eq!(after["scenario"], before["scenario"]);
    let names = listed(out.path());
    for name in ["cover.json", "montecarlo.json", "paths.csv", "report.html"] {
        assert!(names.contains(&name.to_string()), "{name}: {names:?}");
    }
}

#[test]
fn merge_refuses_a_shard_whose_files_changed_and_warns_of_one_without_a_manifest() {
    let shard = cli(&[
        "montecarlo",
        &example("gbm-jump-stress.toml"),
        "--paths",
        "3",
    ]);
    let dir = shard.path().to_str().unwrap();
    let out = tempfile::tempdir().unwrap();
    let merged = out.path().join("m");
    let merged = merged.to_str().unwrap();
    let csv = shard.path().join("paths.csv");
    let text = fs::read_to_string(&csv).unwrap();
    fs::write(&csv, text.replacen('\n', "\n\n", 1)).unwrap();
    common::assert_usage_error(
        &["merge", dir, "--out", merged, "--quiet"],
        "the file changed after the run wrote it",
    );
    fs::write(&csv, &text).unwrap();
    fs::remove_file(shard.path().join("manifest.json")).unwrap();
    let done = run_cli(&["merge", dir, "--out", merged, "--quiet"]);
    assert!(done.status.success());
    assert!(String::from_utf8_lossy(&done.stderr).contains("no manifest.json"));
}

/// Linux's /dev/full fails every write with "No space left on device".
#[cfg(target_os = "linux")]
#[test]
fn printing_to_a_full_disk_is_an_error_not_a_panic() {
    let full = Path::new("/dev/full");
    let crash = example("eth-crash.toml");
    for args in [
        vec!["presets"],
        vec!["validate", &crash],
        vec!["init", "--list"],
        vec!["completions", "bash"],
        vec!["schema"],
    ] {
        let stdout = fs::OpenOptions::new().write(true).open(full).unwrap();
        let done = cascade().args(&args).stdout(stdout).output().unwrap();
        assert_eq!(done.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert!(
            stderr.contains("No space left on device") && !stderr.contains("panicked"),
            "{args:?}: {stderr}"
        );
    }
}
