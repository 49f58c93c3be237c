//! The historical replays' headline figures, pinned (golden tests). A change to the engine that
//! moves them must update these figures and docs/replays/ together, deliberately.
//!
//! Tolerances: counts exactly; money and units to 1e-6 relative — the runs are deterministic,
//! so any drift beyond floating-point reassociation is a change of behaviour.

#![allow(clippy::print_stderr)] // the figures are printed for `--nocapture`

use crate::common::{repo, run};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

fn replay(name: &str) -> crate::common::Run {
    let path = repo().join("examples").join(name);
    run(cascade_scenario::load(&path).unwrap_or_else(|e| panic!("{name}: {e}")))
}

/// Black Thursday (examples/black-thursday-2020.toml): auctions started, the share won at (near)
/// zero, the collateral sold for zero, the DAI deficit and the 50,000-DAI lots to cover it.
#[test]
fn black_thursday_2020_figures() {
    let run = replay("black-thursday-2020.toml");
    let s = &run.summary;
    let p = &s.protocols["eth-a"];
    let a = p.auctions.as_ref().expect("auctions");
    let b = p.borrowers.as_ref().expect("owners act");
    let t = &s.chain.as_ref().expect("a chain").transactions;
    let figures = [
        ("auctions kicked", a.kicked as f64),
        ("auctions won near zero", a.won_near_zero as f64),
        (
            "ETH won near zero",
            a.collateral_won_near_zero
                .get("ETH")
                .copied()
                .unwrap_or(0.0),
        ),
        ("value won near zero, USD", a.collateral_won_near_zero_usd),
        ("deficit, USD", p.bad_debt_usd),
        (
            "debt-auction lots needed",
            p.debt_auction_lots_needed.expect("debt auctions") as f64,
        ),
        ("owners' top-ups", b.top_ups as f64),
        ("transactions sent", t.sent as f64),
        ("transactions dropped", t.dropped_expired as f64),
        ("ETH lowest venue price", s.assets["ETH"].min_price),
    ];
    let printed: Vec<String> = figures.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    eprintln!("{}", printed.join("\n"));
    let pinned = GOLDEN_BLACK_THURSDAY;
    assert_eq!(figures.len(), pinned.len());
    for ((name, value), (pinned_name, expected)) in figures.iter().zip(pinned) {
        assert_eq!(*name, pinned_name);
        assert!(
            close(*value, expected),
            "{name}: {value} (pinned {expected}); if the change is meant, update this test and docs/replays/black-thursday.md"
        );
    }
    // Near the public record (about 36%): a sanity bound independent of the pinned figures.
    assert!(a.won_near_zero_share > 0.2 && a.won_near_zero_share < 0.6);
}

/// Measured with `cargo run --release --bin cascade -- run examples/black-thursday-2020.toml`.
const GOLDEN_BLACK_THURSDAY: [(&str, f64); 10] = [
    ("auctions kicked", 4197.0),
    ("auctions won near zero", 1142.0),
    ("ETH won near zero", 53564.42768446903),
    ("value won near zero, USD", 6712158.433140815),
    ("deficit, USD", 6888729.260607095),
    ("debt-auction lots needed", 113.0),
    ("owners' top-ups", 1067.0),
    ("transactions sent", 59051.0),
    ("transactions dropped", 5989.0),
    ("ETH lowest venue price", 100.28291336275267),
];

/// The command and the library give the same figures: the binary is built without the test
/// build's dev-dependencies, whose features once changed how exp/ln rounded (and with it the
/// generated vault book in the last digits).
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
    cascade_report::write_summary_json(&replay("black-thursday-2020.toml").summary, &mut library)
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
