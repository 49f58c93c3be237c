//! The writers' formats on a whole run, as docs/outputs.md documents them: summary.json's
//! contract keys, timeline.csv's columns and rows, events.csv's columns and kinds. (That the
//! command writes these files is cascade-cli's concern.)

use cascade_test_support::{Fixture, Run};

/// The columns of events.csv every run has, in order (docs/outputs.md).
const EVENT_COLUMNS: &str = "seq,step,time_seconds,round,kind,protocol,account,keeper,venue,oracle,asset,units,price,usd,debt_asset,debt_units,health_factor,to_keeper,protocol_fee,filled,price_after,liquidatable_since,closes";

/// The detail columns of a lending run without auctions, insurance, chain or owners who act,
/// with assets ETH and USDC (docs/outputs.md).
const LENDING_DETAIL_COLUMNS: &str = "accounts,open_accounts,count,factor,oracle_value,shortfall,spent,received,incentives,debt_usd,collateral_usd,rounds,hit_round_limit,collateral.ETH,collateral.USDC,debt.ETH,debt.USDC,treasury.ETH,treasury.USDC,inventory.ETH,inventory.USDC";

/// The per-step flow columns that end a timeline.csv row for assets ETH and USDC
/// (docs/outputs.md).
const TIMELINE_FLOWS: &str = "liquidations,debt_repaid_usd,sold_ETH,sold_USDC,sale_proceeds_usd,bad_debt_realised_usd,missed,rounds,bad_debt_realised_cumulative_usd";

/// examples/order-book-file.toml, run.
fn order_book_file() -> Run {
    Fixture::example("order-book-file").run()
}

fn written(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    write(&mut out).expect("written to memory");
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn summary_json_has_the_contract_keys() {
    let run = order_book_file();
    let text = written(|out| cascade_report::write_summary_json(&run.summary, out));
    assert!(text.ends_with("}\n"), "newline-terminated");
    let json: serde_json::Value = serde_json::from_str(&text).expect("summary.json is JSON");
    // The docs/model.md §4 contract keys.
    for pointer in [
        "/scenario/name",
        "/scenario/seed",
        "/scenario/hash",
        "/assets/ETH/start_price",
        "/assets/ETH/min_price",
        "/assets/ETH/final_price",
        "/assets/ETH/exogenous_drop",
        "/assets/ETH/total_drop",
        "/assets/ETH/amplification",
        "/liquidations/count",
        "/liquidations/debt_repaid_usd",
        "/liquidations/collateral_seized/ETH",
        "/bad_debt_usd",
        "/bad_debt_realised_usd",
        "/bad_debt_unrealised_usd",
        "/protocols/lender/liquidations",
        "/protocols/lender/bad_debt_usd",
        "/cascade/rounds_max",
        "/cascade/feedback_gain/ETH",
    ] {
        assert!(
            json.pointer(pointer).is_some(),
            "summary.json lacks {pointer}"
        );
    }
    assert_eq!(json["scenario"]["name"], "order-book-file");
    assert!(json["liquidations"]["count"].as_u64().expect("count") > 0);
    // USDC never moves: no exogenous drop, so no amplification.
    assert!(json["assets"]["USDC"]["amplification"].is_null());
}

#[test]
fn timeline_csv_has_the_documented_columns_and_a_row_per_step() {
    let run = order_book_file();
    let text = written(|out| cascade_report::write_timeline(&run.timeline, out));
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "step,time_seconds,fundamental_ETH,fundamental_USDC,venue_eth-book,oracle_eth-usd,{TIMELINE_FLOWS}"
            )
            .as_str()
        )
    );
    assert_eq!(lines.count(), 25, "one row per step, step 0 included");
}

#[test]
fn events_csv_has_the_documented_columns_and_every_kind_of_the_run() {
    let run = order_book_file();
    let text = written(|out| cascade_report::write_events(&run.world, &run.events, out));
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(format!("{EVENT_COLUMNS},{LENDING_DETAIL_COLUMNS}").as_str())
    );
    let kinds: Vec<&str> = lines
        .map(|line| line.split(',').nth(4).expect("a kind column"))
        .collect();
    assert_eq!(kinds.len(), run.events.len(), "one row per event");
    for kind in [
        "run_started",
        "positions_opened",
        "shock_applied",
        "oracle_published",
        "liquidation",
        "sale",
        "cascade_settled",
        "step_ended",
        "positions_marked",
        "keeper_marked",
    ] {
        assert!(kinds.contains(&kind), "events.csv has no {kind} row");
    }
}

/// The values events.csv once packed in `detail` are columns of their own, typed: a number
/// in its column, a per-asset value in a column per asset, every row as long as the header.
#[test]
fn detail_values_are_columns_of_their_own() {
    let run = order_book_file();
    let text = written(|out| cascade_report::write_events(&run.world, &run.events, out));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("a header").clone();
    let at = |name: &str| header.iter().position(|h| h == name).expect(name);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
    assert!(rows.iter().all(|r| r.len() == header.len()));
    let kind = |r: &csv::StringRecord| r[at("kind")].to_string();
    let shock = rows
        .iter()
        .find(|r| kind(r) == "shock_applied")
        .expect("a shock");
    assert_eq!(&shock[at("factor")], "0.96");
    assert_eq!(&shock[at("price")], "2400");
    assert_eq!(&shock[at("oracle_value")], "");
    let sale = rows.iter().find(|r| kind(r) == "sale").expect("a sale");
    let oracle_value: f64 = sale[at("oracle_value")].parse().expect("a number");
    assert!(oracle_value > 0.0);
    assert_eq!(&sale[at("factor")], "");
    let marked = rows
        .iter()
        .find(|r| kind(r) == "positions_marked")
        .expect("the book's mark");
    let open: u64 = marked[at("open_accounts")].parse().expect("a count");
    assert_eq!(open, run.summary.protocols["lender"].open_accounts);
    // Per-asset units: every asset's column filled, zeros included.
    let collateral: f64 = marked[at("collateral.ETH")].parse().expect("units");
    assert!(collateral > 0.0);
    assert_eq!(&marked[at("collateral.USDC")], "0");
    let settled = rows
        .iter()
        .find(|r| kind(r) == "cascade_settled")
        .expect("a cascade");
    assert!(matches!(&settled[at("hit_round_limit")], "true" | "false"));
    assert!(!header.iter().any(|h| h == "detail"));
}

/// With `simulation.start_time`, timeline.csv and events.csv carry the UTC date-time of every
/// row beside its seconds, and summary.json the start; without it, neither has the column.
#[test]
fn a_start_time_dates_every_row() {
    let dated = Fixture::named("lender")
        .set("simulation.start_time", "2020-03-12T10:00:00+01:00")
        .run();
    let timeline = written(|out| cascade_report::write_timeline(&dated.timeline, out));
    let mut lines = timeline.lines();
    assert!(
        lines
            .next()
            .expect("a header")
            .starts_with("step,time_seconds,time_utc,fundamental_ETH,")
    );
    assert!(
        lines
            .next()
            .expect("step 0")
            .starts_with("0,0,2020-03-12T09:00:00Z,")
    );
    let step_seconds = dated.world.simulation.step_seconds;
    assert!(lines.next().expect("step 1").starts_with(&format!(
        "1,{step_seconds},{},",
        cascade_analytics::clock::utc(1_584_003_600, step_seconds)
    )));
    let events = written(|out| cascade_report::write_events(&dated.world, &dated.events, out));
    let mut lines = events.lines();
    assert!(
        lines
            .next()
            .expect("a header")
            .starts_with("seq,step,time_seconds,time_utc,round,kind,")
    );
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "0,0,0,2020-03-12T09:00:00Z,0,run_started{}",
                ",".repeat(
                    EVENT_COLUMNS.split(',').count() - 5
                        + LENDING_DETAIL_COLUMNS.split(',').count()
                )
            )
            .as_str()
        )
    );
    let summary = written(|out| cascade_report::write_summary_json(&dated.summary, out));
    let json: serde_json::Value = serde_json::from_str(&summary).expect("JSON");
    assert_eq!(json["scenario"]["start_time"], "2020-03-12T09:00:00Z");

    let plain = Fixture::named("lender").run();
    let summary = written(|out| cascade_report::write_summary_json(&plain.summary, out));
    assert!(!summary.contains("start_time"));
    let timeline = written(|out| cascade_report::write_timeline(&plain.timeline, out));
    assert!(!timeline.contains("time_utc"));
}

#[test]
fn a_name_with_a_comma_is_quoted_and_no_column_shifts() {
    // The lender fixture's venue renamed `spot,1` (oracle and keeper follow it); a shock so
    // that rows carry liquidations.
    let run = Fixture::named("lender")
        .set("venues[0].name", "spot,1")
        .set_raw("oracles[0].sources", "[\"spot,1\"]")
        .set("keepers[0].sell_on", "spot,1")
        .append("[[shocks]]\nasset = \"ETH\"\nstep = 1\ndrop = 0.1")
        .run();
    let text = written(|out| cascade_report::write_timeline(&run.timeline, out));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("a header").clone();
    assert!(header.iter().any(|h| h == "venue_spot,1"), "{header:?}");
    let mut rows = 0;
    for record in reader.records() {
        let record = record.expect("a row");
        assert_eq!(record.len(), header.len());
        rows += 1;
    }
    assert_eq!(rows, run.timeline.rows.len());
}

#[test]
fn every_json_output_opens_with_its_producer() {
    let run = order_book_file();
    let text = written(|out| cascade_report::write_summary_json(&run.summary, out));
    let expected = format!(
        "{{\n  \"producer\": {{\n    \"tool\": \"cascade\",\n    \"version\": \"{}\",\n    \"schema\": {}\n  }},\n  \"scenario\": {{",
        env!("CARGO_PKG_VERSION"),
        cascade_report::SCHEMA_VERSION
    );
    assert!(text.starts_with(&expected), "{}", &text[..200]);
}

#[test]
fn the_printed_summary_shows_only_what_applies_and_bad_debt_net_of_insurance() {
    let perp = Fixture::example("perp-long-cascade").run();
    let text = written(|out| cascade_report::write_text(&perp.summary, out));
    assert!(!text.contains("debt repaid"), "{text}");
    assert!(!text.contains("slippage"), "{text}");
    let drawn = perp.summary.insurance_drawn_usd;
    assert!(drawn > 0.0);
    let net = (perp.summary.bad_debt_usd - drawn).max(0.0);
    assert!(
        text.contains(&format!("  net of insurance   {} USD", net.round())),
        "{text}"
    );
    let lending = order_book_file();
    let text = written(|out| cascade_report::write_text(&lending.summary, out));
    assert!(text.contains("debt repaid"), "{text}");
    assert!(!text.contains("net of insurance"), "{text}");
}

#[test]
fn colour_is_only_where_it_is_asked_for() {
    let run = Fixture::named("lender")
        .set("protocols[0].collateral.ETH.liquidation_threshold", 0.96)
        .append("[[shocks]]\nasset = \"ETH\"\nstep = 1\ndrop = 0.3")
        .run();
    assert!(run.summary.bad_debt_usd > 0.0);
    let plain = written(|out| cascade_report::write_text(&run.summary, out));
    assert!(!plain.contains('\x1b'), "{plain}");
    let coloured = written(|out| {
        cascade_report::write_text_in(&run.summary, out, cascade_report::Colour::Always)
    });
    assert!(
        coloured.contains("\x1b[1mLiquidations\x1b[0m"),
        "{coloured}"
    );
    assert!(
        coloured.contains("\x1b[1;31m"),
        "bad debt in red: {coloured}"
    );
    // The same text once the styles are taken out.
    let stripped = coloured
        .replace("\x1b[1;31m", "")
        .replace("\x1b[1m", "")
        .replace("\x1b[0m", "");
    assert_eq!(stripped, plain);
}

/// The lines of the printed section headed `heading`, up to the blank line that ends it.
fn section<'a>(text: &'a str, heading: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|line| *line != heading)
        .skip(1)
        .take_while(|line| !line.is_empty())
        .collect()
}

/// The one line of `lines` that starts with `label` in the label column.
fn labelled<'a>(lines: &[&'a str], label: &str) -> &'a str {
    let prefix = format!("  {label:<19} ");
    let found: Vec<&&str> = lines.iter().filter(|l| l.starts_with(&prefix)).collect();
    assert_eq!(found.len(), 1, "one {label:?} line in {lines:#?}");
    found[0]
}

#[test]
fn the_printed_summary_tells_what_the_auctions_did() {
    // English auctions behind a one-hour OSM, on a chain one keeper will not pay for.
    let run = Fixture::named("congested-flips").run();
    let text = written(|out| cascade_report::write_text(&run.summary, out));
    let a = run.summary.protocols["eth-a"]
        .auctions
        .as_ref()
        .expect("auctions");
    assert!(a.running_at_end > 0 && a.won_near_zero > 0, "{a:?}");
    let lines = section(&text, "Auctions");
    assert!(
        labelled(&lines, "eth-a").ends_with(&format!(
            "{} kicked, {} taken ({} bids), {} ended, {} still running at the end",
            a.kicked, a.taken, a.bids, a.ended, a.running_at_end
        )),
        "{text}"
    );
    let near_zero = labelled(&lines, "eth-a near zero");
    assert!(
        near_zero.contains(&format!(
            "{} of {} takes ({:.2}%) paid under 1% of value: {:.1} ETH worth ",
            a.won_near_zero,
            a.taken,
            a.won_near_zero_share * 100.0,
            a.collateral_won_near_zero["ETH"]
        )),
        "{near_zero}"
    );
    // Nothing of the mechanisms that did not act.
    for heading in ["Backstop vaults", "Perp exchanges", "Stability Pools"] {
        assert!(!text.contains(heading), "{text}");
    }
    let lending = order_book_file();
    let text = written(|out| cascade_report::write_text(&lending.summary, out));
    assert!(!text.contains("\nAuctions\n"), "{text}");
    assert!(!text.contains("\nChain\n"), "{text}");
}

#[test]
fn the_printed_summary_tells_what_became_of_the_chains_transactions() {
    // Transactions that wait 15 minutes expire.
    let run = Fixture::named("congested-flips")
        .set("chain.expiry_seconds", 900)
        .run();
    let chain = run.summary.chain.as_ref().expect("a chain");
    let t = &chain.transactions;
    assert!(t.dropped_expired > 0, "{t:?}");
    let text = written(|out| cascade_report::write_text(&run.summary, out));
    let lines = section(&text, "Chain");
    let told = |t: &cascade_analytics::chain::TxSummary| {
        format!(
            "{} sent, {} included ({} reverted), {} expired, {} waiting, mean wait {:.0} s",
            t.sent,
            t.included,
            t.reverted,
            t.dropped_expired,
            t.waiting_at_end,
            t.mean_wait_seconds
        )
    };
    assert!(
        labelled(&lines, "transactions").ends_with(&told(t)),
        "{text}"
    );
    for (kind, t) in &chain.by_kind {
        assert!(
            labelled(&lines, &format!("  {kind}")).ends_with(&told(t)),
            "{text}"
        );
    }
    assert!(
        labelled(&lines, "blocks")
            .contains(&format!("{} of {} s", chain.blocks, chain.block_seconds)),
        "{text}"
    );
    let owners = run.summary.protocols["eth-a"]
        .borrowers
        .as_ref()
        .expect("owners act");
    assert!(owners.transactions_dropped > 0);
    assert!(
        labelled(&section(&text, "Owners"), "eth-a outcome").contains(&format!(
            "{} transactions dropped, {} still waiting",
            owners.transactions_dropped, owners.transactions_waiting_at_end
        )),
        "{text}"
    );
    // Each keeper's gas, with its calls.
    let keepers = section(&text, "Keepers");
    for (name, k) in &run.summary.keepers {
        assert!(
            labelled(&keepers, name).starts_with(&format!(
                "  {name:<19} {} calls, realised profit ",
                k.liquidations
            )),
            "{text}"
        );
        assert!(labelled(&keepers, name).contains(", gas "), "{text}");
    }
}

#[test]
fn the_printed_summary_tells_what_a_perp_exchange_did() {
    let run = Fixture::example("perp-long-cascade").run();
    let perp = run.summary.protocols["binance-like"]
        .perp
        .as_ref()
        .expect("a perp exchange");
    assert!(
        perp.adl.events > 0 && perp.liquidations_long > 0,
        "{perp:?}"
    );
    let text = written(|out| cascade_report::write_text(&run.summary, out));
    let lines = section(&text, "Perp exchanges");
    assert!(
        labelled(&lines, "binance-like").contains(&format!("{} longs (", perp.liquidations_long))
            && labelled(&lines, "binance-like").ends_with(&format!(
                "{} slices, {} deleveraged",
                perp.slices, perp.deleveraged_closes
            )),
        "{text}"
    );
    assert!(
        labelled(&lines, "binance-like ADL")
            .ends_with(&format!("across {} accounts", perp.adl.accounts_hit)),
        "{text}"
    );
    // No vault, no funding, no keepers, no lending mechanism: no lines for them.
    assert_eq!(lines.len(), 2, "{text}");
    for heading in ["Keepers", "Auctions", "Chain", "Backstop vaults"] {
        assert!(!text.contains(&format!("\n{heading}\n")), "{text}");
    }
}

#[test]
fn the_printed_summary_tells_a_backstop_vaults_loss_in_red() {
    let run = Fixture::example("backstop-transfer").run();
    let b = run.summary.protocols["aave-like"]
        .backstop
        .as_ref()
        .expect("a backstop");
    assert!(b.marked_pnl_usd < 0.0, "{b:?}");
    let text = written(|out| cascade_report::write_text(&run.summary, out));
    // Whole dollars; the figure's thousands separators aside.
    let pnl = labelled(&section(&text, "Backstop vaults"), "aave-like P&L").replace(',', "");
    let figure = format!("{:.0} USD", b.marked_pnl_usd);
    assert!(
        pnl.contains(&format!(" {figure} with holdings at final prices")),
        "{pnl}"
    );
    let coloured = written(|out| {
        cascade_report::write_text_in(&run.summary, out, cascade_report::Colour::Always)
    });
    assert!(
        coloured
            .replace(',', "")
            .contains(&format!("\x1b[1;31m{figure}\x1b[0m")),
        "{coloured}"
    );
    assert!(
        labelled(&section(&text, "Backstop vaults"), "aave-like")
            .starts_with(&format!("  aave-like           {} takeovers", b.takeovers)),
        "{text}"
    );
}
