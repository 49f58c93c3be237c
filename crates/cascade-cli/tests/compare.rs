//! `cascade compare`: the same scenario under several mechanisms or counterfactuals, its outputs
//! and its errors. (The variants themselves are the scenario library's concern; the measures
//! compared, the analytics'.)

use std::fs;

use cascade_test_support::{Fixture, repo};

use crate::common::run_cli;

fn wall() -> String {
    repo()
        .join("examples/uniform-wall.toml")
        .display()
        .to_string()
}

#[test]
fn compare_writes_one_row_per_mechanism_in_the_order_asked() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("cmp");
    let output = run_cli(&[
        "compare",
        &wall(),
        "--mechanisms",
        "morpho_blue,as_is,compound_v2",
        "--out",
        out.to_str().expect("utf-8 path"),
        "--quiet",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let csv = fs::read_to_string(out.join("compare.csv")).expect("compare.csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(cascade_analytics::compare::COLUMNS.join(",").as_str())
    );
    let names: Vec<&str> = lines
        .map(|l| l.split(',').next().expect("a name"))
        .collect();
    assert_eq!(names, ["morpho_blue", "as_is", "compound_v2"]);
    let text = fs::read_to_string(out.join("compare.json")).expect("json");
    // No variant here has a backstop: its P&L is 0, not the -0 of an empty float sum.
    assert!(!text.contains("-0.0"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(json["asset"], "ETH");
    assert_eq!(json["seed"], 7);
    // The as_is row is the scenario's own run: the same figures as `cascade run`.
    let run_dir = dir.path().join("run");
    let run = run_cli(&[
        "run",
        &wall(),
        "--out",
        run_dir.to_str().expect("utf-8"),
        "--quiet",
    ]);
    assert!(run.status.success());
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(run_dir.join("summary.json")).expect("summary"))
            .expect("valid JSON");
    let as_is = &json["rows"][1];
    assert_eq!(as_is["liquidations"], summary["liquidations"]["count"]);
    assert_eq!(as_is["total_drop"], summary["assets"]["ETH"]["total_drop"]);
    assert_eq!(
        fs::read(out.join("as_is/summary.json")).expect("per-mechanism summary"),
        fs::read(run_dir.join("summary.json")).expect("run summary")
    );
    // Compound's 50% close factor sells about half of what Morpho's full liquidation sells per
    // account liquidated (bonuses 5% and 4.7%).
    let per_account = |row: usize| {
        json["rows"][row]["collateral_sold_units"]
            .as_f64()
            .expect("units")
            / json["rows"][row]["accounts_liquidated"]
                .as_f64()
                .expect("accounts")
    };
    let (compound, morpho) = (per_account(2), per_account(0));
    assert!(
        compound < 0.7 * morpho,
        "compound {compound} vs morpho {morpho} per account"
    );
}

#[test]
fn compare_shows_running_auctions_and_incentives_and_warns_of_a_lone_bidder() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("cmp");
    let crash = repo().join("examples/eth-crash.toml");
    let output = run_cli(&[
        "compare",
        crash.to_str().expect("utf-8"),
        "--mechanisms",
        "as_is,dutch_auction,english_auction",
        "--out",
        out.to_str().expect("utf-8"),
        "--quiet",
    ]);
    assert!(output.status.success());
    let csv = fs::read_to_string(out.join("compare.csv")).expect("compare.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let column = |name: &str| header.iter().position(|&c| c == name).expect(name);
    let (running, incentives) = (column("auctions_running_at_end"), column("incentives_usd"));
    let summary = |variant: &str| -> serde_json::Value {
        let path = out.join(variant).join("summary.json");
        serde_json::from_str(&fs::read_to_string(&path).expect("a summary")).expect("JSON")
    };
    let mut seen = Vec::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let s = summary(cells[0]);
        let auctions: u64 = s["protocols"]
            .as_object()
            .expect("protocols")
            .values()
            .filter_map(|p| p["auctions"]["running_at_end"].as_u64())
            .sum();
        let paid: f64 = s["keepers"]
            .as_object()
            .expect("keepers")
            .values()
            .map(|k| k["incentives_usd"].as_f64().expect("usd"))
            .sum();
        assert_eq!(cells[running], auctions.to_string(), "{line}");
        let written: f64 = cells[incentives].parse().expect("a number");
        assert!((written - paid).abs() <= 1e-9 * paid, "{line}");
        seen.push((cells[0].to_string(), auctions, paid));
    }
    // Dutch auctions pay a tip and chip per kick; the crash ends with some still running.
    let dutch = &seen[1];
    assert!(
        dutch.0 == "dutch_auction" && dutch.1 > 0 && dutch.2 > 0.0,
        "{seen:?}"
    );
    // The lone keeper wins English lots for nothing: warned, with --quiet too, naming the
    // variant and its figures; the others are not.
    let english = &summary("english_auction")["protocols"]["aave-like"]["auctions"];
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "warning: english_auction: one keeper won all {} lots, {} of them for under 1%",
            english["taken"], english["won_near_zero"]
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("as_is:") && !stderr.contains("dutch_auction:"),
        "{stderr}"
    );
}

#[test]
fn compare_is_deterministic_whatever_the_threads() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let run = |name: &str, threads: &str| {
        let out = dir.path().join(name);
        let output = crate::common::cascade()
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "compare",
                &wall(),
                "--mechanisms",
                "fixed_spread,aave_v3.3,morpho_blue,euler_v2",
                "--out",
                out.to_str().expect("utf-8"),
                "--quiet",
            ])
            .output()
            .expect("cascade runs");
        assert!(output.status.success());
        (
            fs::read(out.join("compare.csv")).expect("csv"),
            fs::read(out.join("compare.json")).expect("json"),
        )
    };
    assert_eq!(run("one", "1"), run("four", "4"));
}

#[test]
fn compare_rejects_bad_flags_with_exit_code_2() {
    for (args, expected) in [
        (
            vec!["--mechanisms", "dutch_auctionn"],
            "--mechanisms = \"dutch_auctionn\": unknown mechanism; expected one of as_is",
        ),
        (
            vec!["--mechanisms", "as_is,as_is"],
            "--mechanisms = \"as_is\": listed twice",
        ),
        (
            vec!["--mechanisms", "as_is", "--asset", "DOGE"],
            "--asset = \"DOGE\": not an asset of the scenario; known: [ETH, USDC]",
        ),
    ] {
        let wall = wall();
        let mut all = vec!["compare", wall.as_str()];
        all.extend(args);
        let output = run_cli(&all);
        assert_eq!(output.status.code(), Some(2), "{all:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!stderr.contains("panicked"));
    }
    let output = run_cli(&["compare", "no-such-file.toml", "--mechanisms", "as_is"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no-such-file.toml"));
}

#[test]
fn counterfactual_variants_change_what_they_say_and_combine() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let scenario = dir.path().join("congested.toml");
    // The `congested-flips` fixture: English auctions behind a one-hour OSM on a congested chain.
    Fixture::named("congested-flips").write_to(&scenario);
    let out = dir.path().join("cmp");
    let variants = "as_is,no_congestion,faster_oracle,stability_pool,dutch_auction+no_congestion";
    let output = run_cli(&[
        "compare",
        scenario.to_str().expect("utf-8"),
        "--mechanisms",
        variants,
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The printed table's columns stay aligned under long combined names.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let header = stdout
        .lines()
        .find(|l| l.starts_with("mechanism "))
        .expect("a table");
    let end = header.find("calls").expect("a calls column") + "calls".len();
    for name in variants.split(',') {
        let row = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("a row for {name}:\n{stdout}"));
        assert!(
            row[..end].ends_with(|c: char| c.is_ascii_digit()) && row[end..].starts_with(' '),
            "misaligned:\n{stdout}"
        );
    }
    let csv = fs::read_to_string(out.join("compare.csv")).expect("compare.csv");
    let names: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().expect("a name"))
        .collect();
    assert_eq!(names, variants.split(',').collect::<Vec<_>>());
    let summary = |variant: &str| -> serde_json::Value {
        let path = out.join(variant).join("summary.json");
        serde_json::from_str(&fs::read_to_string(&path).expect("a summary per variant"))
            .expect("valid JSON")
    };
    let timeline = |variant: &str| -> Vec<(f64, f64)> {
        let text = fs::read_to_string(out.join(variant).join("timeline.csv")).expect("timeline");
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
        let column = |name: &str| header.iter().position(|&c| c == name).expect(name);
        let (f, o) = (column("fundamental_ETH"), column("oracle_osm"));
        lines
            .map(|l| {
                let cells: Vec<f64> = l
                    .split(',')
                    .map(|c| c.parse().unwrap_or(f64::NAN))
                    .collect();
                (cells[f], cells[o])
            })
            .collect()
    };
    let (as_is, calm) = (summary("as_is"), summary("no_congestion"));
    // The scenario as written is congested: transactions wait, lots go for nothing.
    let chain = &as_is["chain"];
    assert!(chain["transactions"]["waited"].as_u64().expect("waited") > 0);
    let english = &as_is["protocols"]["eth-a"]["auctions"];
    assert!(english["bids"].as_u64().expect("bids") > 0);
    assert!(as_is["protocols"]["eth-a"].get("stability_pool").is_none());
    // no_congestion: no chain, the same auctions, and none of the zero bids congestion caused.
    assert!(calm.get("chain").is_none(), "{}", calm["chain"]);
    assert!(
        calm["protocols"]["eth-a"]["auctions"]["bids"]
            .as_u64()
            .expect("bids")
            > 0
    );
    assert!(
        calm["protocols"]["eth-a"]["bad_debt_usd"]
            .as_f64()
            .expect("usd")
            < as_is["protocols"]["eth-a"]["bad_debt_usd"]
                .as_f64()
                .expect("usd"),
        "congestion caused bad debt"
    );
    // faster_oracle: the OSM publishes the price of the step; as written it lags an hour.
    let lagging = timeline("as_is");
    assert!(lagging.iter().any(|(f, o)| (f - o).abs() > 1.0));
    let fast = timeline("faster_oracle");
    assert_eq!(fast.len(), lagging.len());
    for (step, (f, o)) in fast.iter().enumerate() {
        assert_eq!(f, o, "step {step}");
    }
    assert!(
        summary("faster_oracle").get("chain").is_some(),
        "the chain stays"
    );
    // stability_pool: the pool liquidates, sized at a quarter of the debt at the start.
    let pooled = summary("stability_pool");
    let eth_a = &pooled["protocols"]["eth-a"];
    let pool = &eth_a["stability_pool"];
    assert!(pool["liquidations"].as_u64().expect("count") > 0);
    let initial_debt = eth_a["initial_debt_usd"].as_f64().expect("usd");
    let deposits = pool["deposits_start"].as_f64().expect("usd");
    assert!(
        (deposits - 0.25 * initial_debt).abs() < 1e-6 * initial_debt,
        "{deposits} vs {initial_debt}"
    );
    assert!(eth_a.get("auctions").is_none_or(|a| a.is_null()));
    assert!(pooled.get("chain").is_some(), "the chain stays");
    // dutch_auction+no_congestion: both — Dutch auctions (takes, no bids) and no chain.
    let both = summary("dutch_auction+no_congestion");
    assert!(both.get("chain").is_none());
    let dutch = &both["protocols"]["eth-a"]["auctions"];
    assert!(dutch["taken"].as_u64().expect("takes") > 0);
    assert_eq!(dutch["bids"], 0);
}

#[test]
fn unknown_or_repeated_parts_of_a_variant_exit_with_code_2() {
    for (variants, expected) in [
        (
            "as_is,dutch_auction+slow_oracle",
            "--mechanisms = \"dutch_auction+slow_oracle\": part \"slow_oracle\": unknown mechanism; expected one of as_is,",
        ),
        (
            "faster_oracles",
            "--mechanisms = \"faster_oracles\": unknown mechanism; expected one of as_is,",
        ),
        (
            "no_congestion+no_congestion",
            "--mechanisms = \"no_congestion+no_congestion\": part \"no_congestion\" is given twice",
        ),
        ("stability_pool+", "part \"\": unknown mechanism"),
    ] {
        let output = run_cli(&["compare", &wall(), "--mechanisms", variants]);
        assert_eq!(output.status.code(), Some(2), "{variants}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{stderr}");
        if expected.contains("unknown") {
            assert!(
                stderr.contains("no_congestion, faster_oracle, stability_pool"),
                "{stderr}"
            );
        }
        assert!(!stderr.contains("panicked"));
    }
    // A pool takes one collateral asset; the multi-collateral protocol is named, and nothing
    // is written, not even the valid variant's run.
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("cmp");
    let stress = repo().join("examples/gbm-jump-stress.toml");
    let output = run_cli(&[
        "compare",
        stress.to_str().expect("utf-8"),
        "--mechanisms",
        "as_is,stability_pool+no_congestion",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(!out.exists(), "nothing written");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--mechanisms = \"stability_pool+no_congestion\": protocol \"aave-like\" accepts 2 collateral assets"),
        "{stderr}"
    );
}

#[test]
fn help_and_presets_list_every_mechanism_of_the_registry() {
    use cascade_scenario::mechanism::{
        ADL_POLICIES, COUNTERFACTUALS, MECHANISMS, mechanism_variants,
    };
    let help = run_cli(&["compare", "--help"]);
    assert!(help.status.success());
    // Clap wraps long help; compare on the words alone.
    let help = String::from_utf8_lossy(&help.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for name in mechanism_variants()
        .into_iter()
        .chain(COUNTERFACTUALS)
        .chain(ADL_POLICIES)
    {
        assert!(help.contains(name), "{name} missing from --help: {help}");
    }
    let presets = run_cli(&["presets"]);
    assert!(presets.status.success());
    let presets = String::from_utf8_lossy(&presets.stdout);
    for m in MECHANISMS {
        assert!(
            presets.contains(&format!("\n{}\n", m.name)),
            "{} missing",
            m.name
        );
        for t in m.compare {
            assert!(presets.contains(&format!("compare {}: {}", t.name, t.defaults)));
        }
    }
}

#[test]
fn compound_iii_and_liquity_are_compare_targets() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("cmp");
    let output = run_cli(&[
        "compare",
        &wall(),
        "--mechanisms",
        "compound_v3,liquity_v1,stability_pool",
        "--out",
        out.to_str().expect("utf-8 path"),
        "--quiet",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = |variant: &str| {
        fs::read_to_string(out.join(variant).join("summary.json")).expect("summary.json")
    };
    assert!(summary("compound_v3").contains("\"comet\""));
    // liquity_v1 is the stability_pool counterfactual under its mechanism's name.
    assert_eq!(summary("liquity_v1"), summary("stability_pool"));
}

#[test]
fn a_part_that_changes_nothing_is_warned_and_stale_variants_are_refused() {
    let perp = repo().join("examples/perp-long-cascade.toml");
    let p = perp.to_str().expect("utf-8");
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("cmp");
    let o = out.to_str().expect("utf-8");
    // A perp-only scenario: a lending mechanism has nothing to apply to, and there is no chain.
    let output = run_cli(&[
        "compare",
        p,
        "--mechanisms",
        "as_is,aave_v3.3,no_congestion",
        "--quiet",
        "--out",
        o,
    ]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for part in ["aave_v3.3", "no_congestion"] {
        assert!(
            stderr.contains(&format!(
                "warning: --mechanisms {part}: {part} changes nothing in this scenario"
            )),
            "{stderr}"
        );
    }
    assert!(!stderr.contains("--mechanisms as_is"), "{stderr}");
    // The same folder again with fewer variants: the earlier ones would look current.
    let output = run_cli(&["compare", p, "--mechanisms", "as_is", "--quiet", "--out", o]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("holds an earlier compare's variants aave_v3.3, no_congestion"),
        "{stderr}"
    );
    // The same variants again: allowed, every folder rewritten.
    let output = run_cli(&[
        "compare",
        p,
        "--mechanisms",
        "as_is,aave_v3.3,no_congestion",
        "--quiet",
        "--out",
        o,
    ]);
    assert!(output.status.success());
}
