//! The command's own surface: `--help`, `--version`, `presets`, and usage mistakes (exit code 2).

use cascade_scenario::preset::PRESETS;

use crate::common::{self, run_cli};

#[test]
fn help_lists_the_commands() {
    let output = run_cli(&["--help"]);
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    for command in ["run", "compare", "presets", "validate"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{command} "))),
            "--help lacks {command}:\n{stdout}"
        );
    }
    let version = run_cli(&["--version"]);
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("cascade {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn presets_prints_every_preset() {
    let output = run_cli(&["presets"]);
    assert!(output.status.success());
    assert!(output.stderr.is_empty());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("Presets for [[protocols]] (preset = \"NAME\")"));
    for preset in PRESETS {
        assert!(
            stdout.contains(&format!("\n{} (", preset.name)) && stdout.contains(preset.summary),
            "presets lacks {}:\n{stdout}",
            preset.name
        );
    }
}

#[test]
fn usage_mistakes_exit_with_code_2() {
    for args in [
        vec!["no-such-command"],
        vec!["run", "--no-such-flag"],
        vec!["compare", "examples/uniform-wall.toml"],
    ] {
        let output = run_cli(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).starts_with("error: "),
            "{args:?}"
        );
    }
}

#[test]
fn an_output_directory_that_cannot_be_made_exits_2_naming_it_before_anything_runs() {
    // A path under a regular file cannot be a directory.
    let file = tempfile::NamedTempFile::new().expect("a file");
    let out = file.path().join("out");
    let out = out.to_str().expect("UTF-8");
    let scenario = cascade_test_support::repo().join("examples/uniform-wall.toml");
    let s = scenario.to_str().expect("UTF-8");
    let expected = format!("--out {out}: cannot create the output directory");
    for args in [
        vec!["run", s, "--out", out],
        vec!["montecarlo", s, "--paths", "2", "--out", out],
        vec![
            "stress",
            s,
            "--grid",
            "shocks[0].drop=0.1,0.2",
            "--out",
            out,
        ],
        vec![
            "compare",
            s,
            "--mechanisms",
            "as_is,aave_v3.3",
            "--out",
            out,
        ],
        vec![
            "calibrate",
            s,
            "--parameter",
            "protocols.lender.liquidation.bonus",
            "--range",
            "0.04:0.06:0.01",
            "--risk",
            "mean(bad_debt_usd) <= 1",
            "--paths",
            "2",
            "--out",
            out,
        ],
    ] {
        common::assert_usage_error(&args, &expected);
    }
}

#[test]
fn warnings_go_to_standard_error_even_when_quiet() {
    let scenario = cascade_test_support::repo().join("examples/black-thursday-2020.toml");
    let out = tempfile::tempdir().expect("a directory");
    let output = run_cli(&[
        "run",
        scenario.to_str().expect("UTF-8"),
        "--quiet",
        "--events",
        "none",
        "--out",
        out.path().to_str().expect("UTF-8"),
    ]);
    assert!(output.status.success());
    assert!(output.stdout.is_empty(), "--quiet printed on stdout");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: asset ETH: the replayed series covers 85800 s"),
        "{stderr}"
    );
    // summary.json keeps them.
    let summary = std::fs::read_to_string(out.path().join("summary.json")).expect("summary");
    assert!(summary.contains("the replayed series covers 85800 s"));
}

#[test]
fn completions_cover_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let output = run_cli(&["completions", shell]);
        assert!(output.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&output.stdout);
        for command in [
            "run",
            "montecarlo",
            "calibrate",
            "cover",
            "map",
            "stress",
            "init",
        ] {
            assert!(script.contains(command), "{shell}: {command}");
        }
    }
    assert_eq!(run_cli(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn set_overrides_a_value_as_the_edited_file_would() {
    let scenario = cascade_test_support::repo().join("examples/uniform-wall.toml");
    let s = scenario.to_str().expect("UTF-8");
    let dir = tempfile::tempdir().expect("a directory");
    let text = std::fs::read_to_string(&scenario).expect("the example");
    let mut edited = cascade_scenario::edit::ScenarioText::parse(&text).expect("TOML");
    edited.set("shocks[0].drop", "0.2").expect("an edit");
    edited
        .set("protocols.lender.liquidation.bonus", "0.08")
        .expect("an edit");
    let file = dir.path().join("uniform-wall.toml");
    std::fs::write(&file, edited.text()).expect("written");
    let by_file =
        common::run_into_temp(&["run", file.to_str().expect("UTF-8"), "--events", "none"]);
    let by_set = common::run_into_temp(&[
        "run",
        s,
        "--events",
        "none",
        "--set",
        "shocks[0].drop=0.2",
        "--set",
        "protocols.lender.liquidation.bonus=0.08",
    ]);
    let plain = common::run_into_temp(&["run", s, "--events", "none"]);
    let summary = |d: &tempfile::TempDir| common::read(d.path(), "summary.json");
    assert_eq!(summary(&by_file), summary(&by_set));
    assert_ne!(
        summary(&plain),
        summary(&by_set),
        "the overrides changed nothing"
    );
    common::assert_usage_error(
        &["run", s, "--set", "shocks[0].drop"],
        "--set \"shocks[0].drop\": expected KEY=VALUE",
    );
    common::assert_usage_error(
        &["run", s, "--set", "shocks[0].nope.x=1"],
        "--set shocks[0].nope.x=1:",
    );
    common::assert_usage_error(&["run", s, "--set", "shocks[0].drop=7"], "shocks[0].drop");
    common::assert_usage_error(
        &[
            "montecarlo",
            s,
            "--paths",
            "2",
            "--set",
            "venues.nowhere.impact.usd_per_unit=1",
        ],
        "--set venues.nowhere.impact.usd_per_unit=1:",
    );
}

#[test]
fn every_commands_help_has_examples_and_exit_codes() {
    for command in [
        "run",
        "montecarlo",
        "stress",
        "calibrate",
        "cover",
        "map",
        "merge",
        "compare",
        "validate",
    ] {
        let output = run_cli(&[command, "--help"]);
        assert!(output.status.success(), "{command}");
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(help.contains("Examples:\n  cascade "), "{command}: {help}");
        assert!(
            help.contains(&format!("\n  cascade {command} ")),
            "{command}: {help}"
        );
        assert!(help.contains("Exit codes: 0"), "{command}: {help}");
    }
    let output = run_cli(&["--help"]);
    assert!(String::from_utf8_lossy(&output.stdout).contains("Exit codes: 0 success"));
}

#[test]
fn format_json_prints_summary_json_itself() {
    let out = tempfile::tempdir().expect("a directory");
    let output = run_cli(&[
        "run",
        "--format",
        "json",
        "--events",
        "none",
        "--out",
        out.path().to_str().expect("UTF-8"),
    ]);
    assert!(output.status.success());
    assert_eq!(output.stdout, common::read(out.path(), "summary.json"));
}

#[test]
fn init_writes_every_template_valid_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("a directory");
    for template in ["crash", "wall", "perp", "montecarlo"] {
        let file = dir.path().join(format!("{template}.toml"));
        let f = file.to_str().expect("UTF-8");
        let output = run_cli(&["init", template, "--out", f]);
        assert!(output.status.success(), "{template}");
        let check = run_cli(&["validate", f]);
        assert!(
            check.status.success(),
            "{template}: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let before = std::fs::read(&file).expect("written");
        common::assert_usage_error(&["init", "wall", "--out", f], "cannot create the file");
        assert_eq!(
            std::fs::read(&file).expect("kept"),
            before,
            "{template} overwritten"
        );
    }
    common::assert_usage_error(
        &["init", "nope"],
        "init \"nope\": no such template; known: crash, wall, perp, montecarlo",
    );
}
