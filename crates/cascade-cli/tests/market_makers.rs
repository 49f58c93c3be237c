//! Market makers who never react change no output file: the command's files with and without
//! them compared. (What reacting makers do is the engine's concern.)

use std::fs;

use cascade_test_support::Fixture;
use tempfile::TempDir;

use crate::common::run_cli;

/// Makers with sensitivity 0 never withdraw anything: events.csv is the run without makers but
/// for its extra `depth` and `daily_volatility` columns, blank, timeline.csv too but for its
/// extra `depth_spot` column of ones, and
/// summary.json differs only in the scenario's hash and the `venues` object (full depth, no
/// change).
#[test]
fn insensitive_makers_change_no_output() {
    let dir = TempDir::new().expect("temporary directory");
    let deaf = "{ calm_daily_volatility = 0.05, sensitivity = 0.0, min_depth = 0.25, \
                window_seconds = 1800, refill_half_life_seconds = 1800 }";
    let crash = Fixture::named("thinning-crash");
    let mut outputs = Vec::new();
    for (name, fixture) in [
        ("without", crash.clone()),
        ("deaf", crash.set_raw("venues[0].market_makers", deaf)),
    ] {
        let scenario = dir.path().join(format!("{name}.toml"));
        fixture.write_to(&scenario);
        let out = dir.path().join(name);
        let output = run_cli(&[
            "run",
            scenario.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let read = |file: &str| fs::read_to_string(out.join(file)).expect("output written");
        outputs.push([
            read("events.csv"),
            read("timeline.csv"),
            read("summary.json"),
        ]);
    }
    let [events_a, timeline_a, summary_a] = &outputs[0];
    let [events_b, timeline_b, summary_b] = &outputs[1];
    assert!(!events_b.contains("depth_changed"));
    assert_eq!(events_a, &without_makers_columns(events_b));
    let mut lines = timeline_b.lines();
    assert!(lines.next().unwrap().ends_with(",depth_spot"));
    let stripped: Vec<&str> = timeline_b
        .lines()
        .map(|line| {
            let (rest, last) = line.rsplit_once(',').expect("a column");
            assert!(last == "depth_spot" || last == "1", "{line}");
            rest
        })
        .collect();
    assert_eq!(timeline_a.lines().collect::<Vec<_>>(), stripped);
    let mut a: serde_json::Value = serde_json::from_str(summary_a).unwrap();
    let mut b: serde_json::Value = serde_json::from_str(summary_b).unwrap();
    assert_ne!(a["scenario"]["hash"], b["scenario"]["hash"]);
    assert_eq!(b["venues"]["spot"]["min_depth_fraction"], 1.0);
    assert_eq!(b["venues"]["spot"]["depth_changes"], 0);
    assert!(a.get("venues").is_none());
    for summary in [&mut a, &mut b] {
        let object = summary.as_object_mut().unwrap();
        object.remove("venues");
        object["scenario"].as_object_mut().unwrap().remove("hash");
    }
    assert_eq!(a, b);
}

/// events.csv without the columns of market makers, `depth` and `daily_volatility`, which must be
/// blank in every row.
fn without_makers_columns(events: &str) -> String {
    let mut reader = csv::Reader::from_reader(events.as_bytes());
    let header = reader.headers().expect("a header").clone();
    let makers: Vec<usize> = header
        .iter()
        .enumerate()
        .filter(|(_, name)| matches!(*name, "depth" | "daily_volatility"))
        .map(|(c, _)| c)
        .collect();
    assert_eq!(makers.len(), 2, "{header:?}");
    let keep = |record: &csv::StringRecord| -> String {
        record
            .iter()
            .enumerate()
            .filter(|(c, _)| !makers.contains(c))
            .map(|(_, cell)| cell)
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut text = keep(&header) + "\n";
    for record in reader.records() {
        let record = record.expect("a row");
        assert!(makers.iter().all(|&c| record[c].is_empty()), "{record:?}");
        text += &keep(&record);
        text.push('\n');
    }
    text
}
