//! `cascade run --indicator`: timeline.csv gains the leading indicator `m_<ASSET>` per asset with
//! a venue, its first row the summary's `cascade.feedback_gain`; nothing else changes.

use std::fs;

use cascade_test_support::repo;

use crate::common;

#[test]
fn the_timeline_gains_m_and_nothing_else_changes() {
    let scenario = repo().join("examples/uniform-wall.toml");
    let s = scenario.to_str().unwrap();
    let plain = common::run_into_temp(&["run", s]);
    let watched = common::run_into_temp(&["run", s, "--indicator"]);
    for file in ["summary.json", "events.csv"] {
        assert_eq!(
            common::read(plain.path(), file),
            common::read(watched.path(), file),
            "{file}"
        );
    }
    let before = fs::read_to_string(plain.path().join("timeline.csv")).unwrap();
    let after = fs::read_to_string(watched.path().join("timeline.csv")).unwrap();
    let summary: serde_json::Value =
        serde_json::from_slice(&common::read(plain.path(), "summary.json")).unwrap();
    let start = summary["cascade"]["feedback_gain"]["ETH"].as_f64().unwrap();
    assert_eq!(before.lines().count(), after.lines().count());
    for (i, (b, a)) in before.lines().zip(after.lines()).enumerate() {
        let (kept, added) = a.rsplit_once(',').unwrap();
        assert_eq!(kept, b, "row {i}");
        if i == 0 {
            assert_eq!(added, "m_ETH");
        } else if i == 1 {
            let m: f64 = added.parse().unwrap();
            assert!((m - start).abs() <= 1e-12 * start, "{m} against {start}");
        }
    }
}
