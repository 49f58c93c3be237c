//! The command's own surface: `--help`, `--version`, `presets`, and usage mistakes (exit code 2).

use cascade_scenario::preset::PRESETS;

use crate::common::run_cli;

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
