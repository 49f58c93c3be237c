//! Bad input: every class of mistake in a scenario or in a data file it reads is a
//! `ScenarioError` from `cascade_scenario::load` whose problems each name the file, the field
//! path, the offending value and the line — never a panic, never a silent default. (That
//! `cascade validate` and `cascade run` print this report and exit with code 2 is cascade-cli's
//! concern.)
//!
//! Each case edits the text of a valid base scenario (examples/uniform-wall.toml) and names what
//! one line of the report must contain; `at` derives the expected `file:line:` from the edited
//! text itself. The edits are of text, not of TOML values: the cases are about the exact text,
//! its syntax and its lines.

use std::fs;

use cascade_scenario::ScenarioError;
use cascade_test_support::Fixture;
use tempfile::TempDir;

/// The text of examples/uniform-wall.toml, the valid starting point of every case.
fn base() -> String {
    Fixture::example("uniform-wall").text()
}

/// The scenario file's name in every case.
const SCENARIO: &str = "bad.toml";

/// The generated population of [`base`], to swap for a positions file.
const GENERATED: &str = r#"count = 10000
collateral = { asset = "ETH", total = 50000.0 }
debt = { asset = "USDC" }
liquidation_price = { distribution = "uniform", low = 1500.0, high = 2000.0 }
"#;

const GOOD_POSITIONS: &str = "account,asset,collateral,debt\na,ETH,10,0\na,USDC,0,15000\n";
const GOOD_SERIES: &str = "time,price\n1584000000,2000\n1584000060,1990\n1584000120,1980\n";
const GOOD_BOOK: &str = "price,size\n1999,100\n1990,200\n";

/// [`base`] reading its positions from pos.csv.
fn with_positions_file() -> String {
    edit(GENERATED, "file = \"pos.csv\"\n")
}

/// [`base`] with ETH replayed from `file` (columns time and price, Unix seconds).
fn with_replay(file: &str) -> String {
    edit(
        "price = 2000.0",
        &format!(
            "driver = {{ model = \"replay\", file = \"{file}\", time_column = \"time\", \
             price_column = \"price\", time_unit = \"seconds\" }}"
        ),
    )
}

/// An overlay of `GOOD_SERIES`: two points inside its minute.
const GOOD_OVERLAY: &str = "time,price\n1584000030,1995\n1584000060,1985\n";
const GOOD_RESERVES: &str = "base,quote\n1000,2000000\n1100,2200000\n";

/// [`base`] with ETH replayed from eth.csv and one overlay, whose keys are `keys`.
fn with_overlay(keys: &str) -> String {
    edit_text(
        &with_replay("eth.csv"),
        "time_unit = \"seconds\" }",
        &format!("time_unit = \"seconds\", overlays = [{{ {keys} }}] }}"),
    )
}

/// The keys of a valid overlay read from `file`.
fn overlay_keys(file: &str) -> String {
    format!(
        "file = \"{file}\", time_column = \"time\", time_unit = \"seconds\", price_column = \"price\""
    )
}

/// [`base`] selling into a constant-product pool whose reserves table has the keys `keys`.
fn with_reserves(keys: &str) -> String {
    edit(
        r#"impact = { model = "linear", usd_per_unit = 0.002 }"#,
        &format!(
            "impact = {{ model = \"constant_product\", fee = 0.003, reserves = {{ {keys} }} }}"
        ),
    )
}

/// The keys of a valid reserves table read from `file`, a point a minute.
fn reserve_keys(file: &str) -> String {
    format!(
        "file = \"{file}\", base_column = \"base\", quote_column = \"quote\", interval_seconds = 60"
    )
}

/// [`base`] selling into an order book read from book.csv.
fn with_book_file() -> String {
    edit(
        r#"impact = { model = "linear", usd_per_unit = 0.002 }"#,
        r#"impact = { model = "order_book", file = "book.csv" }"#,
    )
}

/// `text` with `from`, which must occur exactly once, replaced by `to`.
fn edit_text(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "{from:?} must occur exactly once in the text to edit"
    );
    text.replacen(from, to, 1)
}

/// [`base`] with one edit.
fn edit(from: &str, to: &str) -> String {
    edit_text(&base(), from, to)
}

/// [`base`] with several edits, in order.
fn edits(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .fold(base(), |text, (from, to)| edit_text(&text, from, to))
}

/// `bad.toml:<n>:`, where n is the 1-based line of `text` containing `needle`, which must be on
/// exactly one line.
fn at(text: &str, needle: &str) -> String {
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(lines.len(), 1, "{needle:?} must be on exactly one line");
    format!("{SCENARIO}:{}:", lines[0])
}

/// Writes `toml` as bad.toml and the data `files` (a name ending in `/` is a directory) into a new
/// directory.
fn write_case(toml: &str, files: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new().expect("temporary directory");
    fs::write(dir.path().join(SCENARIO), toml).expect("write the scenario");
    for (name, text) in files {
        let path = dir.path().join(name);
        if name.ends_with('/') {
            fs::create_dir(path).expect("create a directory");
        } else {
            fs::write(path, text).expect("write a data file");
        }
    }
    dir
}

/// Writes `toml` with the data `files` beside it and loads it as `cascade` does
/// (`cascade_scenario::load`). It must be invalid; every line of the report must start with the
/// path of a file in the case's directory, and one problem line must contain every one of
/// `parts`. Returns the error.
fn check_files(toml: &str, files: &[(&str, &str)], parts: &[&str]) -> ScenarioError {
    let dir = write_case(toml, files);
    let error = match cascade_scenario::load(&dir.path().join(SCENARIO)) {
        Ok(_) => panic!("expected an invalid scenario:\n{toml}"),
        Err(error) => error,
    };
    assert!(!error.problems.is_empty(), "an error without a problem");
    let report = error.to_string();
    let prefix = dir.path().to_str().unwrap();
    for line in report.lines() {
        assert!(
            line.starts_with(prefix),
            "a problem that names no file of the case:\n{line}\nin:\n{report}"
        );
    }
    assert!(
        report.lines().any(|l| parts.iter().all(|p| l.contains(p))),
        "no problem line contains all of {parts:?}:\n{report}"
    );
    error
}

/// As [`check_files`], with no data files.
fn check(toml: &str, parts: &[&str]) -> ScenarioError {
    check_files(toml, &[], parts)
}

/// As [`check`], and the report has exactly one problem: no noise after the real mistake.
fn check_only(toml: &str, parts: &[&str]) {
    let error = check(toml, parts);
    assert_eq!(
        error.problems.len(),
        1,
        "expected exactly one problem:\n{error}"
    );
}

/// Runs one `check_only` per case of a table of `(from, to, field = value, message)`: the edit
/// `from` → `to` of [`base`], reported at the line of the last line of `to`.
fn check_edits(cases: &[(&str, &str, &str, &str)]) {
    for &(from, to, field, message) in cases {
        let text = edit(from, to);
        let line = at(&text, to.lines().last().unwrap());
        check_only(&text, &[&line, field, message]);
    }
}

/// `toml` with `files` beside it loads.
fn assert_valid(toml: &str, files: &[(&str, &str)]) {
    let dir = write_case(toml, files);
    if let Err(e) = cascade_scenario::load(&dir.path().join(SCENARIO)) {
        panic!("expected a valid scenario:\n{e}");
    }
}

#[test]
fn the_starting_points_are_valid() {
    // Every case below changes one thing in one of these, so each must be valid as it stands.
    assert_valid(&base(), &[]);
    assert_valid(&with_positions_file(), &[("pos.csv", GOOD_POSITIONS)]);
    assert_valid(&with_replay("eth.csv"), &[("eth.csv", GOOD_SERIES)]);
    assert_valid(&with_book_file(), &[("book.csv", GOOD_BOOK)]);
    assert_valid(
        &with_overlay(&overlay_keys("ov.csv")),
        &[("eth.csv", GOOD_SERIES), ("ov.csv", GOOD_OVERLAY)],
    );
    assert_valid(
        &with_reserves(&reserve_keys("res.csv")),
        &[("res.csv", GOOD_RESERVES)],
    );
}

#[test]
fn a_missing_scenario_file() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("no-such-scenario.toml");
    let error = cascade_scenario::load(&missing).expect_err("no such file");
    assert_eq!(error.problems.len(), 1, "{error}");
    assert!(
        error.to_string().starts_with(&format!(
            "{}: cannot read the scenario file",
            missing.display()
        )),
        "{error}"
    );
}

#[test]
fn toml_syntax_errors() {
    let t = edit("seed = 7", "seed = = 7");
    check_only(&t, &[&at(&t, "seed = = 7"), "seed = = 7: TOML syntax"]);
    let t = edit(r#"name = "uniform-wall""#, r#"name = "uniform-wall"#);
    check_only(
        &t,
        &[
            &at(&t, "uniform-wall"),
            "name = \"uniform-wall: TOML syntax",
        ],
    );
    let t = edit("seed = 7", "seed = 7\nseed = 8");
    check_only(&t, &[&at(&t, "seed = 8"), "TOML syntax", "duplicate key"]);
    let t = edit("[[keepers]]", "[[keepers]");
    check_only(&t, &[&at(&t, "[[keepers]"), "[[keepers]: TOML syntax"]);
}

#[test]
fn unknown_keys() {
    let t = format!("bogus = 1\n{}", base());
    check_only(
        &t,
        &[
            &at(&t, "bogus"),
            "bogus = 1: unknown field `bogus`",
            "`simulation`",
        ],
    );
    let t = edit("[simulation]", "[simulatio]");
    check_only(
        &t,
        &[
            &at(&t, "[simulatio]"),
            "simulatio: unknown field `simulatio`",
        ],
    );
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &str)] = &[
        ("seed = 7", "seed = 7\nseeds = 8", "simulation.seeds = 8", "unknown field `seeds`, expected one of `name`"),
        ("bonus = 0.05", "bonuss = 0.05", "protocols[0].liquidation.bonuss = 0.05", "unknown field `bonuss`, expected one of `mechanism`, `bonus`"),
        ("liquidation_threshold = 0.85 }", "liquidation_threshold = 0.85, bonus = 0.1 }", "protocols[0].collateral.ETH.bonus = 0.1", "`liquidation_bonus`"),
        ("sell_on = \"spot\"", "sell_on = \"spot\"\ncapital = 5.0", "keepers[0].capital = 5.0", "unknown field `capital`"),
        ("drop = 0.05", "drop = 0.05\nassets = \"ETH\"", "shocks[0].assets = \"ETH\"", "unknown field `assets`"),
    ];
    check_edits(cases);
}

#[test]
fn missing_required_fields() {
    // serde finds these; the path names the missing field, the line its table.
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str)] = &[
        (", close_factor = 1.0", "liquidation =", "protocols[0].liquidation.close_factor: missing"),
        ("seed = 7\n", "[simulation]", "simulation.seed: missing"),
        (", total = 50000.0", "collateral = { asset", "positions[0].collateral.total: missing"),
        (", liquidation_threshold = 0.85", "ETH = { ltv", "protocols[0].collateral.ETH.liquidation_threshold: missing"),
        ("impact = { model = \"linear\", usd_per_unit = 0.002 }\n", "[[venues]]", "venues[0].impact: missing"),
        ("protocols = [\"lender\"]\n", "[[keepers]]", "keepers[0].protocols: missing"),
        // The builder finds these.
        ("drop = 0.05", "[[shocks]]", "shocks[0].drop: missing: a shock needs drop or rise"),
        (", usd_per_unit = 0.002", "impact =", "venues[0].impact.usd_per_unit: missing: required for model \"linear\""),
        (", high = 2000.0", "liquidation_price =", "positions[0].liquidation_price.high: missing: required for distribution \"uniform\""),
        ("liquidation_price = { distribution = \"uniform\", low = 1500.0, high = 2000.0 }", "[[positions]]", "positions[0].liquidation_price: missing"),
    ];
    for &(from, line, field) in cases {
        let t = edit(from, "");
        check_only(&t, &[&at(&t, line), field]);
    }
    let t = edit(
        "[[assets]]\nsymbol = \"ETH\"\nprice = 2000.0\n",
        "[[assets]]  # ETH, no price\nsymbol = \"ETH\"\n",
    );
    check_only(&t, &[&at(&t, "no price"), "assets[0].price: missing"]);
    let t = "[[assets]]\nsymbol = \"ETH\"\nprice = 1.0\n";
    check(t, &["bad.toml", "simulation: missing"]);
}

#[test]
fn wrong_types() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &str)] = &[
        ("price = 2000.0", "price = \"2000\"", "assets[0].price = \"2000\"", "invalid type: string \"2000\", expected a number"),
        ("seed = 7", "seed = \"7\"", "simulation.seed = \"7\"", "expected a whole number ≥ 0"),
        ("seed = 7", "seed = -7", "simulation.seed = -7", "expected a whole number ≥ 0"),
        ("steps = 10", "steps = 10.5", "simulation.steps = 10.5", "expected a whole number ≥ 0"),
        ("steps = 10", "steps = 10\nmax_rounds = 5000000000", "simulation.max_rounds = 5000000000", "expected a whole number from 0 to 4294967295"),
        ("ltv = 0.80", "ltv = \"0.8\"", "protocols[0].collateral.ETH.ltv = \"0.8\"", "expected a number"),
        ("sources = [\"spot\"]", "sources = \"spot\"", "oracles[0].sources = \"spot\"", "expected an array"),
        ("sources = [\"spot\"]", "sources = [\"spot\", 2]", "oracles[0].sources[1] = 2", "expected a string"),
        ("sell_on = \"spot\"", "sell_on = 5", "keepers[0].sell_on = 5", "expected a venue name, or a table"),
        ("sell_on = \"spot\"", "sell_on = { ETH = 5 }", "keepers[0].sell_on.ETH = 5", "expected a string"),
        ("price = 2000.0", "price = 2000.0\ndriver = { model = \"path\", points = [[0, 2000.0], [60, \"x\"]] }", "assets[0].driver.points[1][1] = \"x\"", "expected a number"),
        // A pair with a third element is not silently truncated.
        ("price = 2000.0", "price = 2000.0\ndriver = { model = \"path\", points = [[0, 2000.0, 5]] }", "assets[0].driver.points[0] = [0, 2000.0, 5]", "invalid length 3, expected a pair"),
        ("usd_per_unit = 0.002 }", "usd_per_unit = 0.002 }\npermanent_fraction = \"all\"", "venues[0].permanent_fraction = \"all\"", "expected a number"),
    ];
    check_edits(cases);
}

/// `simulation.start_time` is an RFC 3339 date-time with its offset, in whole seconds, and the
/// whole run must be writable in RFC 3339; written quoted or as a bare TOML date-time.
#[test]
fn start_times() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &str)] = &[
        ("steps = 10", "steps = 10\nstart_time = \"12 March 2020\"", "simulation.start_time = \"12 March 2020\"", "expected an RFC 3339 date-time with its UTC offset, such as \"2020-03-12T00:00:00Z\""),
        ("steps = 10", "steps = 10\nstart_time = \"2020-03-12T00:00:00\"", "simulation.start_time = \"2020-03-12T00:00:00\"", "expected an RFC 3339 date-time with its UTC offset"),
        ("steps = 10", "steps = 10\nstart_time = \"2020-03-12\"", "simulation.start_time = \"2020-03-12\"", "expected an RFC 3339 date-time with its UTC offset"),
        ("steps = 10", "steps = 10\nstart_time = 2020-03-12", "simulation.start_time = \"2020-03-12\"", "expected an RFC 3339 date-time with its UTC offset"),
        ("steps = 10", "steps = 10\nstart_time = \"2020-03-12T00:00:00.5Z\"", "simulation.start_time = \"2020-03-12T00:00:00.5Z\"", "expected whole seconds"),
        ("steps = 10", "steps = 10\nstart_time = \"9999-12-31T23:55:00Z\"", "simulation.start_time = \"9999-12-31T23:55:00Z\"", "to lie within 0000-01-01T00:00:00Z … 9999-12-31T23:59:59Z"),
        ("steps = 10", "steps = 10\nstart_time = 1584000000", "simulation.start_time = 1584000000", "expected an RFC 3339 date-time such as \"2020-03-12T00:00:00Z\""),
    ];
    check_edits(cases);
    // Valid: quoted or bare, any offset.
    for written in [
        "\"2020-03-12T00:00:00Z\"",
        "2020-03-12T00:00:00Z",
        "\"2020-03-12T01:00:00+01:00\"",
        "2020-03-11T19:00:00-05:00",
    ] {
        let text = edit("steps = 10", &format!("steps = 10\nstart_time = {written}"));
        let dir = write_case(&text, &[]);
        let scenario = cascade_scenario::load(&dir.path().join(SCENARIO))
            .unwrap_or_else(|e| panic!("{written} is valid:\n{e}"));
        assert_eq!(
            scenario.world.simulation.start_time,
            Some(1_583_971_200),
            "{written}"
        );
    }
    let plain = write_case(&base(), &[]);
    let scenario = cascade_scenario::load(&plain.path().join(SCENARIO)).expect("valid");
    assert_eq!(scenario.world.simulation.start_time, None);
}

#[test]
fn out_of_range_values() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &str)] = &[
        ("price = 2000.0", "price = -2000.0", "assets[0].price = -2000", "expected a positive number"),
        ("price = 2000.0", "price = nan", "assets[0].price = NaN", "expected a positive number"),
        ("bonus = 0.05", "bonus = 1.0", "protocols[0].liquidation.bonus = 1", "expected a bonus fraction in [0, 1)"),
        ("bonus = 0.05", "bonus = -0.1", "protocols[0].liquidation.bonus = -0.1", "expected a bonus fraction in [0, 1)"),
        ("close_factor = 1.0", "close_factor = 0", "protocols[0].liquidation.close_factor = 0", "expected a fraction in (0, 1]"),
        ("close_factor = 1.0", "close_factor = 1.5", "protocols[0].liquidation.close_factor = 1.5", "expected a fraction in (0, 1]"),
        ("drop = 0.05", "drop = 1.0", "shocks[0].drop = 1", "expected a fall as a fraction in [0, 1)"),
        ("drop = 0.05", "drop = -0.2", "shocks[0].drop = -0.2", "expected a fall as a fraction in [0, 1)"),
        ("step = 1", "step = 11", "shocks[0].step = 11", "expected a step from 1 to 10"),
        ("step = 1", "step = 0", "shocks[0].step = 0", "expected a step from 1 to 10"),
        ("steps = 10", "steps = 0", "simulation.steps = 0", "expected at least 1 step"),
        ("step_seconds = 60", "step_seconds = 0", "simulation.step_seconds = 0", "expected at least 1 second"),
        ("ltv = 0.80", "ltv = 0.90", "protocols[0].collateral.ETH.ltv = 0.9", "exceeds the liquidation threshold 0.85"),
        ("ltv = 0.80", "ltv = -0.5", "protocols[0].collateral.ETH.ltv = -0.5", "expected a loan-to-value in [0, 1]"),
        ("liquidation_threshold = 0.85", "liquidation_threshold = 1.2", "protocols[0].collateral.ETH.liquidation_threshold = 1.2", "expected a liquidation threshold in (0, 1]"),
        ("liquidation_threshold = 0.85", "liquidation_threshold = 0", "protocols[0].collateral.ETH.liquidation_threshold = 0", "expected a liquidation threshold in (0, 1]"),
        ("count = 10000", "count = 0", "positions[0].count = 0", "expected from 1 to"),
        ("count = 10000", "count = 100000000000000", "positions[0].count = 100000000000000", "expected from 1 to"),
        ("total = 50000.0", "total = -1.0", "positions[0].collateral.total = -1", "expected a positive number"),
        ("high = 2000.0", "high = 1000.0", "positions[0].liquidation_price.high = 1000", "is below low = 1500"),
        ("usd_per_unit = 0.002", "usd_per_unit = -0.002", "venues[0].impact.usd_per_unit = -0.002", "expected a positive number"),
        ("usd_per_unit = 0.002 }", "usd_per_unit = 0.002 }\npermanent_fraction = 1.5", "venues[0].permanent_fraction = 1.5", "expected a fraction in [0, 1]"),
        ("sell_on = \"spot\"", "sell_on = \"spot\"\ncapital_usd = -5.0", "keepers[0].capital_usd = -5", "expected USD ≥ 0"),
        ("count = 10000", "count = 10000\nsize_sigma = inf", "positions[0].size_sigma = inf", "expected a log-normal size dispersion from 0 to 20"),
        ("aggregation = \"last\"", "aggregation = \"last\"\nupdate = \"deviation\"\nheartbeat_seconds = 60\ndeviation_threshold = 1.5", "oracles[0].deviation_threshold = 1.5", "expected a fraction in (0, 1)"),
    ];
    check_edits(cases);
    // A run longer than the clock can count is an error, not an overflow.
    let t = edit("step_seconds = 60", "step_seconds = 4000000000000000000");
    let parts = [
        &at(&t, "steps = 10"),
        "simulation.steps = 10",
        "more than the clock counts",
    ];
    check_only(&t, &parts);
    // An invalid price is reported once, not again through the pool priced against it.
    let t = edits(&[
        ("price = 2000.0", "price = -2000.0"),
        (
            "model = \"linear\", usd_per_unit = 0.002",
            "model = \"constant_product\", base_reserve = 1000.0, quote_reserve = 2000000.0",
        ),
    ]);
    check_only(&t, &[&at(&t, "-2000.0"), "assets[0].price = -2000"]);
}

#[test]
fn unknown_references() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &str)] = &[
        ("base = \"ETH\"", "base = \"BTC\"", "venues[0].base = \"BTC\"", "unknown asset; known: [ETH, USDC]"),
        ("quote = \"USDC\"", "quote = \"USD\"", "venues[0].quote = \"USD\"", "unknown asset; known: [ETH, USDC]"),
        ("sources = [\"spot\"]", "sources = [\"spott\"]", "oracles[0].sources[0] = \"spott\"", "unknown venue (or \"fundamental\"); known: [spot]"),
        ("asset = \"ETH\"\nsources", "asset = \"BTC\"\nsources", "oracles[0].asset = \"BTC\"", "unknown asset; known: [ETH, USDC]"),
        ("oracles = { ETH = \"eth-usd\" }", "oracles = { ETH = \"eth-usdx\" }", "protocols[0].oracles.ETH = \"eth-usdx\"", "unknown oracle; known: [eth-usd]"),
        ("oracles = { ETH = \"eth-usd\" }", "oracles = { BTC = \"eth-usd\" }", "protocols[0].oracles.BTC = \"BTC\"", "unknown asset; known: [ETH, USDC]"),
        ("oracles = { ETH = \"eth-usd\" }", "oracles = { USDC = \"eth-usd\" }", "protocols[0].oracles.USDC = \"eth-usd\"", "this oracle prices ETH, not USDC"),
        ("protocol = \"lender\"", "protocol = \"lendr\"", "positions[0].protocol = \"lendr\"", "unknown protocol; known: [lender]"),
        ("collateral = { asset = \"ETH\"", "collateral = { asset = \"WETH\"", "positions[0].collateral.asset = \"WETH\"", "unknown asset; known: [ETH, USDC]"),
        ("debt = { asset = \"USDC\" }", "debt = { asset = \"USDT\" }", "positions[0].debt.asset = \"USDT\"", "unknown asset; known: [ETH, USDC]"),
        ("sell_on = \"spot\"", "sell_on = \"spott\"", "keepers[0].sell_on = \"spott\"", "unknown venue; known: [spot]"),
        ("sell_on = \"spot\"", "sell_on = { ETH = \"spott\" }", "keepers[0].sell_on.ETH = \"spott\"", "unknown venue; known: [spot]"),
        ("protocols = [\"lender\"]", "protocols = [\"lendr\"]", "keepers[0].protocols[0] = \"lendr\"", "unknown protocol; known: [lender]"),
        ("asset = \"ETH\"\nstep", "asset = \"BTC\"\nstep", "shocks[0].asset = \"BTC\"", "unknown asset; known: [ETH, USDC]"),
    ];
    for &(from, to, field, message) in cases {
        let text = edit(from, to);
        let line = at(&text, to.lines().next().unwrap());
        check_only(&text, &[&line, field, message]);
    }
    // The population then has no collateral the protocol accepts: that is reported too.
    let t = edit("collateral = { ETH = {", "collateral = { BTC = {");
    let parts = [
        &at(&t, "BTC"),
        "protocols[0].collateral.BTC = \"BTC\"",
        "unknown asset",
    ];
    let report = check(&t, &parts).to_string();
    assert!(
        report.contains("does not accept this asset as collateral"),
        "{report}"
    );
    // An oracle of an unknown asset is reported once, not again where a protocol uses it.
    let t = edits(&[
        ("asset = \"ETH\"\nsources", "asset = \"BTC\"\nsources"),
        (
            "oracles = { ETH = \"eth-usd\" }",
            "oracles = { USDC = \"eth-usd\" }",
        ),
    ]);
    check_only(
        &t,
        &[
            &at(&t, "BTC"),
            "oracles[0].asset = \"BTC\"",
            "unknown asset",
        ],
    );
    // Names must be unique, or references would be ambiguous.
    let t = edit(
        "[[oracles]]",
        "[[venues]]\nname = \"spot\"  # again\nbase = \"ETH\"\nquote = \"USDC\"\n\
         impact = { model = \"linear\", usd_per_unit = 0.001 }\n\n[[oracles]]",
    );
    check_only(
        &t,
        &[
            &at(&t, "# again"),
            "venues[1].name = \"spot\"",
            "duplicate venue name",
        ],
    );
}

#[test]
fn unreadable_data_files() {
    let t = with_positions_file();
    check_only(
        &t,
        &[
            &at(&t, "pos.csv"),
            "positions[0].file = \"pos.csv\"",
            "cannot read",
        ],
    );
    let t = with_book_file();
    check_only(
        &t,
        &[
            &at(&t, "book.csv"),
            "venues[0].impact.file = \"book.csv\"",
            "cannot read",
        ],
    );
    // Only the file is reported: a replay that cannot be read still excuses the missing price.
    let t = with_replay("eth.csv");
    check_only(
        &t,
        &[
            &at(&t, "eth.csv"),
            "assets[0].driver.file = \"eth.csv\"",
            "cannot read",
        ],
    );
    // A directory is not a data file either.
    let t = with_replay("data");
    let parts = [
        &at(&t, "\"data\""),
        "assets[0].driver.file = \"data\"",
        "cannot read",
    ];
    check_files(&t, &[("data/", "")], &parts);
    // With the replay unreadable the start price is unknown: the venue's bids are not then
    // reported as above some made-up start price.
    let t = edit_text(
        &with_replay("eth.csv"),
        "model = \"linear\", usd_per_unit = 0.002",
        "model = \"order_book\", levels = [[1999, 10], [1990, 20]]",
    );
    check_only(
        &t,
        &[&at(&t, "eth.csv"), "assets[0].driver.file = \"eth.csv\""],
    );
}

#[test]
fn malformed_positions_csv() {
    let t = with_positions_file();
    #[rustfmt::skip]
    let cases: &[(&str, &[&str])] = &[
        ("account,asset,collateral,debt\na,ETH,10,0\na,USDC,0,abc\n", &["pos.csv:3: debt = \"abc\": expected an amount ≥ 0"]),
        ("account,asset,collateral,debt\na,ETH,-10,0\n", &["pos.csv:2: collateral = \"-10\": expected an amount ≥ 0"]),
        ("account,asset,collateral\na,ETH,10\n", &["pos.csv:1: debt: column not found; the header has: account, asset, collateral"]),
        ("account,asset,collateral,debt\na,ETH,10,0\nb,USDC,5\n", &["pos.csv:3: \"b,USDC,5\": row has 3 fields but the header has 4"]),
        ("account,asset,collateral,debt\na,ETH,10,0\na,BTC,0,100\n", &["pos.csv:3: asset = \"BTC\": unknown asset; known: [ETH, USDC]"]),
        ("account,asset,collateral,debt\na,BTC,10,0\n", &["pos.csv:2: asset = \"BTC\": unknown asset; known: [ETH, USDC]"]),
        ("account,asset,collateral,debt\na,USDC,10,0\n", &["pos.csv:2: asset = \"USDC\": protocol lender does not accept USDC as collateral"]),
        ("account,asset,collateral,debt\na,ETH,10,5\na,USDC,0,100\n", &["pos.csv:3: debt = \"100\": account a already owes ETH, so it cannot also owe USDC"]),
        ("account,asset,collateral,debt\n,ETH,10,0\n", &["pos.csv:2: account: expected a non-empty account label"]),
        ("account,asset,collateral,debt\na,ETH,10,2\n", &["pos.csv:2: asset = \"ETH\": account a borrows ETH, which it also holds as collateral"]),
        ("account,asset,collateral,debt\n", &["pos.csv: the positions file has no rows"]),
    ];
    for &(csv, parts) in cases {
        check_files(&t, &[("pos.csv", csv)], parts);
    }
    // A generated population's fields do not apply to a file.
    let t = edit(
        "protocol = \"lender\"",
        "protocol = \"lender\"\nfile = \"pos.csv\"",
    );
    let parts = [
        &at(&t, "count ="),
        "positions[0].count = 10000",
        "does not apply to positions loaded from a file",
    ];
    check_files(&t, &[("pos.csv", GOOD_POSITIONS)], &parts);
}

#[test]
fn malformed_price_series() {
    let t = with_replay("eth.csv");
    #[rustfmt::skip]
    let cases: &[(&str, &[&str])] = &[
        ("time,price\n1584000000,2000\n1584000060,1990\n1584000060,1980\n", &["eth.csv:4: time = \"1584000060\": times must increase"]),
        ("time,price\n1584000000,2000\n1584000060,1990\n1584000000,1980\n", &["eth.csv:4: time = \"1584000000\": times must increase"]),
        ("time,price\n1584000000,2000\n1584000060,x\n", &["eth.csv:3: price = \"x\": expected a positive price"]),
        ("time,price\n1584000000,2000\n1584000060,0\n", &["eth.csv:3: price = \"0\": expected a positive price"]),
        ("time,price\n1584000000,2000\nsoon,1990\n", &["eth.csv:3: time = \"soon\": expected a number of seconds"]),
        ("time,price\n1584000000,2000\n1584000060,1990,7\n", &["eth.csv:3: \"1584000060,1990,7\": row has 3 fields but the header has 2"]),
        ("t,price\n1584000000,2000\n", &["eth.csv:1: time: column not found; the header has: t, price"]),
        ("time,price\n", &["eth.csv: the series has no rows"]),
    ];
    for &(csv, parts) in cases {
        check_files(&t, &[("eth.csv", csv)], parts);
    }
    let t = with_replay("eth.json");
    let json = r#"[{"time": 1584000000, "price": 2000}, {"time": 1584000060, "price": -1}]"#;
    check_files(
        &t,
        &[("eth.json", json)],
        &["eth.json: [1].price = -1: expected a positive price"],
    );
    let json = r#"[{"time": 1584000000, "price": 2000}, {"time": 1584000060}]"#;
    check_files(&t, &[("eth.json", json)], &["eth.json: [1].price: missing"]);
    let json = "[{\"time\": 1584000000, \"price\": 2000},\n{\"time\": 1584000060,]";
    check_files(&t, &[("eth.json", json)], &["eth.json:2: not valid JSON"]);
    // The asset's price, when given, must match the replay.
    let t = edit_text(
        &with_replay("eth.csv"),
        "symbol = \"ETH\"",
        "symbol = \"ETH\"\nprice = 2100.0",
    );
    let parts = [
        &at(&t, "price = 2100.0"),
        "assets[0].price = 2100",
        "first price 2000",
    ];
    check_files(&t, &[("eth.csv", GOOD_SERIES)], &parts);
}

#[test]
fn malformed_order_books() {
    let t = with_book_file();
    #[rustfmt::skip]
    let cases: &[(&str, &[&str])] = &[
        ("price,size\n1999,100\n1990,abc\n", &["book.csv:3: size = \"abc\": expected a positive size"]),
        ("price,size\n1999,100\n-5,100\n", &["book.csv:3: price = \"-5\": expected a positive price"]),
        ("price,qty\n1999,100\n", &["book.csv:1: size: column not found; the header has: price, qty"]),
        ("price,size\n1999,100\n1990\n", &["book.csv:3: \"1990\": row has 1 field but the header has 2"]),
        ("price,size\n1999,100\n2001,5\n", &["book.csv:3: price = 2001: a bid above the asset's start price 2000"]),
        ("price,size\n1990,100\n1995,5\n", &["book.csv:3: price = 1995: bids must be listed best (highest price) first"]),
        ("price,size\n", &["book.csv: the order book has no levels"]),
    ];
    for &(csv, parts) in cases {
        check_files(&t, &[("book.csv", csv)], parts);
    }
    // Inline levels are checked the same way, at their line in the scenario.
    let t = edit(
        "model = \"linear\", usd_per_unit = 0.002",
        "model = \"order_book\", levels = [\n  [1999, 10],\n  [2001, 5],\n]",
    );
    let parts = [
        &at(&t, "[2001, 5]"),
        "venues[0].impact.levels[1] = [2001, 5]",
        "a bid above the asset's start price 2000",
    ];
    check_only(&t, &parts);
}

#[test]
fn malformed_order_book_asks() {
    // Inline asks must rise from the best (lowest) ask, each at or above the start price.
    let with_asks = |asks: &str| {
        edit(
            "model = \"linear\", usd_per_unit = 0.002",
            &format!("model = \"order_book\", levels = [[1999, 10], [1990, 20]],\n  asks = {asks}"),
        )
    };
    let valid = with_asks("[[2001, 10], [2010, 20]]");
    assert_valid(&valid, &[]);
    let t = with_asks("[\n  [2010, 10],\n  [2001, 5],\n]");
    let parts = [
        &at(&t, "[2001, 5]"),
        "venues[0].impact.asks[1] = [2001, 5]",
        "asks must be listed best (lowest price) first",
    ];
    check_only(&t, &parts);
    let t = with_asks("[\n  [1995, 10],\n]");
    let parts = [
        &at(&t, "[1995, 10]"),
        "venues[0].impact.asks[0] = [1995, 10]",
        "an ask below the asset's start price 2000",
    ];
    check_only(&t, &parts);
    let t = with_asks("[\n  [2001, 0],\n]");
    let parts = [
        &at(&t, "[2001, 0]"),
        "venues[0].impact.asks[0] = [2001, 0]",
        "expected a positive price and a positive size",
    ];
    check_only(&t, &parts);
    let t = with_asks("[]");
    let parts = [
        &at(&t, "asks = []"),
        "venues[0].impact.asks",
        "expected at least one [price, size] level",
    ];
    check_only(&t, &parts);
    // In a file, asks are the rows with side = ask, checked the same way at their lines.
    let t = with_book_file();
    assert_valid(
        &t,
        &[(
            "book.csv",
            "side,price,size\nbid,1999,100\nask,2001,100\nbid,1990,200\n",
        )],
    );
    #[rustfmt::skip]
    let cases: &[(&str, &[&str])] = &[
        ("side,price,size\nbid,1999,100\nask,2010,100\nask,2001,50\n", &["book.csv:4: price = 2001: asks must be listed best (lowest price) first"]),
        ("side,price,size\nbid,1999,100\nask,1998,100\n", &["book.csv:3: price = 1998: an ask below the asset's start price 2000"]),
        ("side,price,size\nbid,1999,100\noffer,2001,100\n", &["book.csv:3: side = \"offer\": expected bid or ask"]),
        ("side,price,size\nask,2001,100\n", &["book.csv: side: the order book has no bid levels; every row is an ask"]),
    ];
    for &(csv, parts) in cases {
        check_files(&t, &[("book.csv", csv)], parts);
    }
    // Asks come inline with the levels or from the file, not both.
    let t = edit(
        r#"impact = { model = "linear", usd_per_unit = 0.002 }"#,
        "impact = { model = \"order_book\", file = \"book.csv\",\n  asks = [[2001, 10]] }",
    );
    let parts = [
        &at(&t, "asks ="),
        "venues[0].impact.asks = [[2001, 10]]",
        "give the asks inline with `levels` or as `side = ask` rows of the file, not both",
    ];
    check_files(&t, &[("book.csv", GOOD_BOOK)], &parts);
}

#[test]
fn fields_that_do_not_apply() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &str)] = &[
        ("usd_per_unit = 0.002 }", "usd_per_unit = 0.002, fee = 0.003 }", "venues[0].impact.fee = 0.003", "does not apply for model \"linear\""),
        ("usd_per_unit = 0.002 }", "usd_per_unit = 0.002, levels = [[1999, 10]] }", "venues[0].impact.levels = [[1999, 10]]", "does not apply for model \"linear\""),
        ("usd_per_unit = 0.002 }", "usd_per_unit = 0.002, asks = [[2001, 10]] }", "venues[0].impact.asks = [[2001, 10]]", "does not apply for model \"linear\""),
        ("usd_per_unit = 0.002 }", "usd_per_unit = 0.002, file = \"book.csv\" }", "venues[0].impact.file = \"book.csv\"", "does not apply for model \"linear\""),
        ("usd_per_unit = 0.002 }", "usd_per_unit = 0.002 }\nhalf_life_seconds = 60", "venues[0].half_life_seconds = 60", "does not apply when permanent_fraction = 1"),
        ("high = 2000.0 }", "high = 2000.0, std = 50.0 }", "positions[0].liquidation_price.std = 50.0", "does not apply for distribution \"uniform\""),
        ("price = 2000.0", "price = 2000.0\ndriver = { model = \"constant\", volatility = 0.5 }", "assets[0].driver.volatility = 0.5", "does not apply for model \"constant\""),
        ("price = 2000.0", "price = 2000.0\ndriver = { model = \"gbm\", volatility = 0.5, points = [[0, 2000]] }", "assets[0].driver.points = [[0, 2000]]", "does not apply for model \"gbm\""),
        ("aggregation = \"last\"", "aggregation = \"last\"\ntwap_window_seconds = 600", "oracles[0].twap_window_seconds = 600", "does not apply without aggregation \"twap\""),
        ("aggregation = \"last\"", "aggregation = \"last\"\ndelay_seconds = 3600", "oracles[0].delay_seconds = 3600", "does not apply without update \"delayed\""),
    ];
    check_edits(cases);
}

#[test]
fn unknown_model_names() {
    // Each is reported alone, without "does not apply" noise about the fields that came with it.
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &str)] = &[
        ("model = \"linear\"", "model = \"linearr\"", "venues[0].impact.model = \"linearr\"", "unknown impact model; expected one of linear, square_root"),
        ("distribution = \"uniform\"", "distribution = \"uniformm\"", "positions[0].liquidation_price.distribution = \"uniformm\"", "expected one of uniform, even, normal, lognormal"),
        ("price = 2000.0", "price = 2000.0\ndriver = { model = \"brownian\", volatility = 0.5 }", "assets[0].driver.model = \"brownian\"", "unknown driver; expected one of constant, path"),
        ("aggregation = \"last\"", "aggregation = \"mean\"", "oracles[0].aggregation = \"mean\"", "expected one of last, median, twap"),
        ("aggregation = \"last\"", "aggregation = \"last\"\nupdate = \"sometimes\"", "oracles[0].update = \"sometimes\"", "expected one of every_read, deviation, delayed"),
        ("kind = \"lending\"", "kind = \"dex\"", "protocols[0].kind = \"dex\"", "unknown protocol kind; expected lending"),
        ("mechanism = \"fixed_spread\"", "mechanism = \"english_auctionn\"", "protocols[0].liquidation.mechanism = \"english_auctionn\"", "unknown liquidation mechanism; expected one of fixed_spread, aave_v3, aave_v4, compound_v2, morpho_blue, euler_v2, dutch_auction, english_auction, backstop, compound_v3, liquity_v1"),
    ];
    check_edits(cases);
    let t = edit_text(&with_replay("eth.csv"), "\"seconds\"", "\"minutes\"");
    let parts = [
        &at(&t, "minutes"),
        "assets[0].driver.time_unit = \"minutes\"",
        "expected one of seconds, milliseconds, rfc3339",
    ];
    check_files(&t, &[("eth.csv", GOOD_SERIES)], &parts);
}

#[test]
fn several_problems_are_all_reported() {
    let t = edits(&[
        ("base = \"ETH\"", "base = \"BTC\""),
        ("bonus = 0.05", "bonus = 1.5"),
        ("ltv = 0.80", "ltv = 0.90"),
        ("sell_on = \"spot\"", "sell_on = \"spott\""),
        ("drop = 0.05", "drop = 2.0"),
    ]);
    let expected = [
        (at(&t, "base ="), "venues[0].base = \"BTC\": unknown asset"),
        (
            at(&t, "bonus ="),
            "protocols[0].liquidation.bonus = 1.5: expected",
        ),
        (
            at(&t, "ltv ="),
            "protocols[0].collateral.ETH.ltv = 0.9: exceeds",
        ),
        (
            at(&t, "sell_on ="),
            "keepers[0].sell_on = \"spott\": unknown venue",
        ),
        (at(&t, "drop ="), "shocks[0].drop = 2: expected"),
    ];
    let error = check(&t, &[&expected[0].0, expected[0].1]);
    let report = error.to_string();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(error.problems.len(), 5, "{report}");
    assert_eq!(lines.len(), expected.len(), "{report}");
    // One line each, in file order.
    for ((line, field), reported) in expected.iter().zip(&lines) {
        assert!(
            reported.contains(line.as_str()) && reported.contains(field),
            "expected {line} {field} in:\n{report}"
        );
    }
}

/// The text of a perp scenario (one of the examples) for the perp cases.
fn perp() -> String {
    Fixture::example("perp-long-cascade").text()
}

#[test]
fn perp_bad_input() {
    let market = "[[protocols.markets]]\nasset = \"ETH\"\nvenue = \"eth-perp-book\"\noracle = \"eth-index\"\n";
    #[rustfmt::skip]
    let cases: &[(&str, &str, &[&str])] = &[
        // Leverage above the market's maximum (the preset's 50x).
        ("leverage = { distribution = \"uniform\", low = 3.0, high = 40.0 }",
         "leverage = { distribution = \"uniform\", low = 3.0, high = 60.0 }",
         &["positions[0].leverage.high = 60", "above the market's maximum 50"]),
        // A bracket table whose floors do not increase.
        (market, &format!("{market}maintenance = [[0.0, 0.004], [0.0, 0.01]]\n"),
         &["protocols[0].markets[0].maintenance[1] = [0.0, 0.01]", "floors must increase"]),
        // Rates that fall from one bracket to the next.
        (market, &format!("{market}maintenance = [[0.0, 0.01], [50000.0, 0.005]]\n"),
         &["protocols[0].markets[0].maintenance[1]", "not decrease"]),
        // A maximum leverage whose initial margin is below maintenance.
        (market, &format!("{market}max_leverage = 300.0\n"),
         &["protocols[0].markets[0].max_leverage = 300", "liquidatable at once"]),
        // A lending-only shortfall rule.
        ("shortfall = \"adl\"", "shortfall = \"debt_auction\"",
         &["protocols[0].insurance.shortfall = \"debt_auction\"", "adl, socialise, none"]),
        // An unknown maintenance basis.
        ("\npreset = \"binance_usdm\"", "\npreset = \"binance_usdm\"\n[protocols.perp]\nmaintenance_on = \"index\"",
         &["protocols[0].perp.maintenance_on = \"index\"", "expected mark or entry"]),
        // An unknown cooldown rule.
        ("\npreset = \"binance_usdm\"", "\npreset = \"binance_usdm\"\n[protocols.perp]\nduring_slice_cooldown = \"skip\"",
         &["protocols[0].perp.during_slice_cooldown = \"skip\"", "expected wait or close_whole"]),
        // An unknown ADL ranking and price.
        ("\npreset = \"binance_usdm\"", "\npreset = \"binance_usdm\"\n[protocols.perp]\nadl_ranking = \"okx\"",
         &["protocols[0].perp.adl_ranking = \"okx\"", "expected bitmex, binance or hyperliquid"]),
        ("\npreset = \"binance_usdm\"", "\npreset = \"binance_usdm\"\n[protocols.perp]\nadl_price = \"mark\"",
         &["protocols[0].perp.adl_price = \"mark\"", "expected bankruptcy or previous_oracle"]),
        // An unknown ADL allocation.
        ("\npreset = \"binance_usdm\"", "\npreset = \"binance_usdm\"\n[protocols.perp]\nadl_allocation = \"lottery\"",
         &["protocols[0].perp.adl_allocation = \"lottery\"", "expected queue, whole_positions or pro_rata"]),
        // An open-interest cap that is not positive.
        (market, &format!("{market}open_interest_cap_usd = 0.0\n"),
         &["protocols[0].markets[0].open_interest_cap_usd = 0", "positive"]),
        // Lending keys on a perp exchange.
        ("\npreset = \"binance_usdm\"", "\npreset = \"binance_usdm\"\nepoch_seconds = 60",
         &["protocols[0].epoch_seconds = 60", "does not apply to kind = \"perp\""]),
        // Owners' behaviour on perp positions.
        ("market = \"ETH\"\nside = \"long\"", "market = \"ETH\"\nside = \"long\"\nborrowers = { trigger_health = 1.2, target_health = 1.5 }",
         &["positions[0].borrowers", "owners act on lending accounts only"]),
        // An unknown market.
        ("market = \"ETH\"\nside = \"long\"", "market = \"BTC\"\nside = \"long\"",
         &["positions[0].market = \"BTC\"", "unknown market of this exchange"]),
        // Liquidation prices above the entry prices of longs.
        ("leverage = { distribution = \"uniform\", low = 3.0, high = 40.0 }",
         "liquidation_price = { distribution = \"uniform\", low = 2890.0, high = 2899.0 }",
         &["positions[0].liquidation_price", "margin ≤ 0", "wrong side of the entry price"]),
        // Liquidation prices that need more leverage than allowed (entries at the mark, 3,000).
        ("entry_price = { distribution = \"normal\", mean = 2900.0, std = 50.0, low = 2700.0, high = 2990.0 }\nleverage = { distribution = \"uniform\", low = 3.0, high = 40.0 }",
         "liquidation_price = { distribution = \"uniform\", low = 2990.0, high = 2999.0 }",
         &["positions[0].liquidation_price", "above the market's maximum leverage 50"]),
    ];
    for (from, to, parts) in cases {
        check_only(&edit_text(&perp(), from, to), parts);
    }
    // A positions file whose account repeats a different wallet, and one naming no market.
    let from_file = edit_text(
        &perp(),
        "market = \"ETH\"\nside = \"short\"\ncount = 8000\nnotional_usd = 60000000.0\nsize_sigma = 1.0\nentry_price = { distribution = \"normal\", mean = 3100.0, std = 50.0, low = 3010.0, high = 3300.0 }\nleverage = { distribution = \"uniform\", low = 2.0, high = 20.0 }",
        "file = \"perp.csv\"",
    );
    check_files(
        &from_file,
        &[(
            "perp.csv",
            "account,market,size,entry_price,wallet\na,ETH,-2,3100,500\na,ETH,1,3000,600\n",
        )],
        &[
            "perp.csv:3: wallet = 600",
            "every row of an account repeats its wallet",
        ],
    );
    check_files(
        &from_file,
        &[(
            "perp.csv",
            "account,market,size,entry_price,wallet\na,BTC,-2,3100,500\n",
        )],
        &["perp.csv:2: market = \"BTC\"", "has no BTC market"],
    );
    // An unknown preset, and one of the wrong kind (the market then also lacks the maximum
    // leverage the preset gave).
    check(
        &edit_text(&perp(), "\npreset = \"binance_usdm\"", "\npreset = \"okx\""),
        &[
            "protocols[0].preset = \"okx\"",
            "unknown preset",
            "bitmex, hyperliquid",
        ],
    );
    check(
        &edit_text(
            &perp(),
            "\npreset = \"binance_usdm\"",
            "\npreset = \"lending\"",
        ),
        &[
            "protocols[0].preset = \"lending\"",
            "is a lending preset, and this protocol is kind = \"perp\"",
        ],
    );
}

/// `venues[0].market_makers` of a valid case: every field given.
const MAKERS: &str = "calm_daily_volatility = 0.05, sensitivity = 1.0, min_depth = 0.2, window_seconds = 600, refill_half_life_seconds = 1800";

/// [`base`] with market makers on its venue, their fields `fields`.
fn with_market_makers(fields: &str) -> String {
    edit(
        "usd_per_unit = 0.002 }",
        &format!("usd_per_unit = 0.002 }}\nmarket_makers = {{ {fields} }}"),
    )
}

#[test]
fn market_maker_bad_input() {
    assert_valid(&with_market_makers(MAKERS), &[]);
    // Without a half-life the book refills at once: still valid.
    assert_valid(
        &with_market_makers(&MAKERS.replace(", refill_half_life_seconds = 1800", "")),
        &[],
    );
    let path = "venues[0].market_makers";
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &str)] = &[
        ("calm_daily_volatility = 0.05", "calm_daily_volatility = 0", "calm_daily_volatility = 0", "expected a positive daily volatility"),
        ("calm_daily_volatility = 0.05", "calm_daily_volatility = nan", "calm_daily_volatility = NaN", "expected a positive daily volatility"),
        ("sensitivity = 1.0", "sensitivity = -0.5", "sensitivity = -0.5", "expected a sensitivity ≥ 0"),
        ("min_depth = 0.2", "min_depth = 0", "min_depth = 0", "expected a fraction of the full book in (0, 1]"),
        ("min_depth = 0.2", "min_depth = 1.5", "min_depth = 1.5", "expected a fraction of the full book in (0, 1]"),
        ("window_seconds = 600", "window_seconds = 30", "window_seconds = 30", "expected at least one step (step_seconds = 60)"),
        ("window_seconds = 600", "window_seconds = -600", "window_seconds = -600", "expected a whole number ≥ 0"),
        ("refill_half_life_seconds = 1800", "refill_half_life_seconds = 0", "refill_half_life_seconds = 0", "expected at least 1 second (leave it out to refill at once)"),
        ("min_depth = 0.2", "min_dpeth = 0.2", "min_dpeth = 0.2", "unknown field `min_dpeth`"),
        ("sensitivity = 1.0", "sensitivity = \"high\"", "sensitivity = \"high\"", "expected a number"),
    ];
    for &(from, to, field, message) in cases {
        let text = with_market_makers(&MAKERS.replace(from, to));
        let field = format!("{path}.{field}");
        check_only(&text, &[&at(&text, to), &field, message]);
    }
    let text = with_market_makers(&MAKERS.replace("sensitivity = 1.0, ", ""));
    check_only(
        &text,
        &[
            &at(&text, "market_makers"),
            "venues[0].market_makers.sensitivity: missing",
        ],
    );
    // Every bad field of one table is reported, not just the first.
    let text = with_market_makers(
        &MAKERS
            .replace("sensitivity = 1.0", "sensitivity = -1")
            .replace("min_depth = 0.2", "min_depth = 2"),
    );
    let report = check(&text, &["venues[0].market_makers.sensitivity = -1"]).to_string();
    assert!(
        report.contains("venues[0].market_makers.min_depth = 2"),
        "{report}"
    );
}

#[test]
fn malformed_overlays() {
    let t = with_overlay(&overlay_keys("ov.csv"));
    let series = ("eth.csv", GOOD_SERIES);
    #[rustfmt::skip]
    let cases: &[(&str, &[&str])] = &[
        // The overlay's file is read like the series: columns, prices, times.
        ("t,price\n1584000030,1995\n", &["ov.csv:1: time: column not found; the header has: t, price"]),
        ("time,close\n1584000030,1995\n", &["ov.csv:1: price: column not found; the header has: time, close"]),
        ("time,price\n1584000030,1995\n1584000060,0\n", &["ov.csv:3: price = \"0\": expected a positive price"]),
        ("time,price\n1584000060,1995\n1584000030,1985\n", &["ov.csv:3: time = \"1584000030\": times must increase"]),
        ("time,price\n", &["ov.csv: the series has no rows"]),
        // An overlay entirely outside the replayed series (a file of another day) is an error:
        // it would replace nothing.
        ("time,price\n1584090000,1900\n1584090060,1890\n", &[
            "assets[0].driver.overlays[0].file = \"ov.csv\"",
            "the overlay runs 2020-03-13T09:00:00Z → 2020-03-13T09:01:00Z, entirely outside the replayed series (2020-03-12T08:00:00Z → 2020-03-12T08:02:00Z)",
        ]),
    ];
    for &(csv, parts) in cases {
        let mut parts = parts.to_vec();
        let line = at(&t, "ov.csv");
        if parts[0].starts_with("assets") {
            parts.push(&line);
        }
        check_files(&t, &[series, ("ov.csv", csv)], &parts);
    }
    // Partly outside is allowed: the points beyond the series extend it.
    assert_valid(
        &t,
        &[
            series,
            ("ov.csv", "time,price\n1584000090,1990\n1584000300,1900\n"),
        ],
    );
    // The file must be readable.
    check_files(
        &t,
        &[series],
        &[
            &at(&t, "ov.csv"),
            "assets[0].driver.overlays[0].file = \"ov.csv\"",
            "cannot read",
        ],
    );
    // Keys: the unit, the window, unknown keys.
    let with = |extra: &str| with_overlay(&format!("{}{extra}", overlay_keys("ov.csv")));
    let files = [series, ("ov.csv", GOOD_OVERLAY)];
    let u = edit_text(&t, "\"seconds\", price_column", "\"minutes\", price_column");
    check_files(
        &u,
        &files,
        &[
            &at(&u, "minutes"),
            "assets[0].driver.overlays[0].time_unit = \"minutes\"",
            "expected one of seconds, milliseconds, rfc3339",
        ],
    );
    let u = with(", from_seconds = 60, to_seconds = 60");
    check_files(
        &u,
        &files,
        &[
            &at(&u, "to_seconds"),
            "assets[0].driver.overlays[0].to_seconds = 60",
            "expected a time after from_seconds = 60",
        ],
    );
    let u = with(", from_seconds = 100, to_seconds = 110");
    check_files(
        &u,
        &files,
        &[
            "assets[0].driver.overlays[0].file = \"ov.csv\"",
            "no point of the overlay lies between from_seconds and to_seconds (2020-03-12T08:01:40Z → 2020-03-12T08:01:50Z)",
        ],
    );
    assert_valid(&with(", from_seconds = 20, to_seconds = 50"), &files);
    let u = with(", colour = \"red\"");
    check_files(&u, &files, &[&at(&u, "colour"), "unknown field `colour`"]);
    let u = with_overlay("file = \"ov.csv\", time_column = \"time\", time_unit = \"seconds\"");
    check_files(
        &u,
        &files,
        &[
            &at(&u, "ov.csv"),
            "assets[0].driver.overlays[0].price_column: missing: required",
        ],
    );
    // Only a replay has overlays.
    let u = edit(
        "price = 2000.0",
        &format!(
            "price = 2000.0\ndriver = {{ model = \"constant\", overlays = [{{ {} }}] }}",
            overlay_keys("ov.csv")
        ),
    );
    check_only(
        &u,
        &[
            &at(&u, "overlays"),
            "assets[0].driver.overlays",
            "does not apply for model \"constant\"",
        ],
    );
}

#[test]
fn malformed_reserve_series() {
    let t = with_reserves(&reserve_keys("res.csv"));
    #[rustfmt::skip]
    let cases: &[(&str, &[&str])] = &[
        ("base,q\n1000,2000000\n", &["res.csv:1: quote: column not found; the header has: base, q"]),
        ("base,quote\n1000,2000000\n0,5\n", &["res.csv:3: base = \"0\": expected a positive reserve"]),
        ("base,quote\n1000,2000000\n1000,-5\n", &["res.csv:3: quote = \"-5\": expected a positive reserve"]),
        ("base,quote\n1000,abc\n", &["res.csv:2: quote = \"abc\": expected a positive reserve"]),
        ("base,quote\n1000,2000000\n1000\n", &["res.csv:3: \"1000\": row has 1 field but the header has 2"]),
        ("base,quote\n", &["res.csv: the reserve series has no rows"]),
    ];
    for &(csv, parts) in cases {
        check_files(&t, &[("res.csv", csv)], parts);
    }
    // JSON, as in the StableSims reserves file: an array of objects.
    let j = with_reserves(&reserve_keys("res.json"));
    assert_valid(&j, &[("res.json", r#"[{"base": 1000, "quote": 2000000}]"#)]);
    check_files(
        &j,
        &[(
            "res.json",
            r#"[{"base": 1000, "quote": 2000000}, {"base": 1000}]"#,
        )],
        &["res.json: [1].quote: missing in this element"],
    );
    check_files(
        &j,
        &[("res.json", r#"{"base": 1000, "quote": 2000000}"#)],
        &["res.json: expected a JSON array of objects, one per reserve point"],
    );
    // A timed file: the column must exist and times must increase.
    let timed = with_reserves(
        "file = \"res.csv\", base_column = \"base\", quote_column = \"quote\", time_column = \"t\", time_unit = \"seconds\"",
    );
    assert_valid(
        &timed,
        &[(
            "res.csv",
            "t,base,quote\n100,1000,2000000\n160,1100,2200000\n",
        )],
    );
    check_files(
        &timed,
        &[(
            "res.csv",
            "t,base,quote\n100,1000,2000000\n100,1100,2200000\n",
        )],
        &["res.csv:3: t = \"100\": times must increase from one row to the next"],
    );
    check_files(
        &timed,
        &[("res.csv", GOOD_RESERVES)],
        &["res.csv:1: t: column not found; the header has: base, quote"],
    );
    check_files(
        &t,
        &[],
        &[
            &at(&t, "res.csv"),
            "venues[0].impact.reserves.file = \"res.csv\"",
            "cannot read",
        ],
    );
    // The keys of the table.
    #[rustfmt::skip]
    let cases: &[(&str, &[&str])] = &[
        ("file = \"res.csv\", base_column = \"base\", quote_column = \"quote\"",
         &["venues[0].impact.reserves.time_column: missing: a reserve series needs time_column (with time_unit) or interval_seconds"]),
        ("file = \"res.csv\", base_column = \"base\", quote_column = \"quote\", interval_seconds = 60, time_column = \"t\", time_unit = \"seconds\"",
         &["venues[0].impact.reserves.interval_seconds = 60: give time_column (with time_unit) or interval_seconds, not both"]),
        ("file = \"res.csv\", base_column = \"base\", quote_column = \"quote\", interval_seconds = 0",
         &["venues[0].impact.reserves.interval_seconds = 0: expected at least 1 second"]),
        ("file = \"res.csv\", base_column = \"base\", quote_column = \"quote\", interval_seconds = 60, time_unit = \"seconds\"",
         &["venues[0].impact.reserves.time_unit = \"seconds\": does not apply without time_column"]),
        ("file = \"res.csv\", base_column = \"base\", quote_column = \"quote\", time_column = \"t\"",
         &["venues[0].impact.reserves.time_unit: missing: required with time_column"]),
        ("file = \"res.csv\", base_column = \"base\", quote_column = \"quote\", time_column = \"t\", time_unit = \"hours\"",
         &["venues[0].impact.reserves.time_unit = \"hours\": expected one of seconds, milliseconds, rfc3339"]),
        ("file = \"res.csv\", base_column = \"base\", interval_seconds = 60",
         &["venues[0].impact.reserves.quote_column: missing: required"]),
    ];
    for &(keys, parts) in cases {
        let u = with_reserves(keys);
        let line = at(&u, "res.csv");
        let mut parts = parts.to_vec();
        parts.push(&line);
        check_files(&u, &[("res.csv", GOOD_RESERVES)], &parts);
    }
    // Inline reserves and a reserve series are exclusive; reserves belong to constant_product.
    let u = edit_text(&t, "fee = 0.003,", "fee = 0.003, base_reserve = 1000.0,");
    check_files(
        &u,
        &[("res.csv", GOOD_RESERVES)],
        &[
            "venues[0].impact.base_reserve = 1000.0",
            "does not apply with reserves (give base_reserve and quote_reserve, or reserves, not both)",
        ],
    );
    let u = edit(
        "usd_per_unit = 0.002 }",
        &format!(
            "usd_per_unit = 0.002, reserves = {{ {} }} }}",
            reserve_keys("res.csv")
        ),
    );
    check_only(
        &u,
        &[
            &at(&u, "reserves"),
            "venues[0].impact.reserves",
            "does not apply for model \"linear\"",
        ],
    );
}

/// [`base`] with a `[chain]` of the given keys appended (and `[[keepers]]` keys edited in).
fn with_chain(chain: &str, keeper: &str) -> String {
    let text = edit(
        "sell_on = \"spot\"               # sell seized collateral on this venue at once",
        &format!("sell_on = \"spot\"\n{keeper}"),
    );
    format!("{text}\n[chain]\n{chain}\n")
}

#[test]
fn chain_bad_input() {
    let good = "block_seconds = 12\nroom_per_block = 5\ngas_asset = \"ETH\"\nexpiry_seconds = 600\ngas = { model = \"constant\", gwei = 30.0 }";
    assert_valid(
        &with_chain(good, "gas = { strategy = \"fixed\", gwei = 20.0 }"),
        &[],
    );
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &[&str])] = &[
        ("block_seconds = 12", "block_seconds = 120", "", &["chain.block_seconds = 120", "a step must hold at least one block"]),
        ("block_seconds = 12", "block_seconds = 0", "", &["chain.block_seconds = 0", "at least 1 second"]),
        ("room_per_block = 5", "room_per_block = 0", "", &["chain.room_per_block = 0", "at least 1 transaction per block"]),
        ("gas_asset = \"ETH\"", "gas_asset = \"SOL\"", "", &["chain.gas_asset = \"SOL\"", "unknown asset"]),
        ("model = \"constant\"", "model = \"auction\"", "", &["chain.gas.model = \"auction\"", "expected one of constant, series, volatility"]),
        ("gwei = 30.0", "gwei = -1.0", "", &["chain.gas.gwei = -1", "gwei ≥ 0"]),
        ("gwei = 30.0 }", "gwei = 30.0, asset = \"ETH\" }", "", &["chain.gas.asset", "does not apply to gas model \"constant\""]),
        ("", "", "gas = { strategy = \"fixed\" }", &["keepers[0].gas.gwei", "missing: required for strategy \"fixed\""]),
        ("", "", "gas = { strategy = \"eager\" }", &["keepers[0].gas.strategy = \"eager\"", "expected fixed, market or priority_auction"]),
        ("", "", "gas = { strategy = \"priority_auction\", price_bump = 0.0 }", &["keepers[0].gas.price_bump = 0", "a fraction > 0"]),
        ("", "", "gas = { strategy = \"priority_auction\", max_gwei = -5.0 }", &["keepers[0].gas.max_gwei = -5", "gwei > 0"]),
        ("", "", "gas = { strategy = \"priority_auction\", markup = 0.1 }", &["keepers[0].gas.markup", "does not apply to strategy \"priority_auction\""]),
        ("", "", "gas = { strategy = \"market\", price_bump = 0.1 }", &["keepers[0].gas.price_bump", "does not apply to strategy \"market\""]),
        ("", "", "latency_seconds = 600", &["keepers[0].latency_seconds = 600", "less than chain.expiry_seconds (600)"]),
        ("", "", "outages = [{ from_seconds = 60, to_seconds = 60 }]", &["keepers[0].outages[0].to_seconds = 60", "after from_seconds"]),
    ];
    for &(from, to, keeper, parts) in cases {
        let chain = if from.is_empty() {
            good.to_string()
        } else {
            good.replacen(from, to, 1)
        };
        check_only(&with_chain(&chain, keeper), parts);
    }
    // Gas keys need a chain.
    let text = edit(
        "sell_on = \"spot\"               # sell seized collateral on this venue at once",
        "sell_on = \"spot\"\ngas_budget_usd = 100.0",
    );
    check_only(
        &text,
        &[
            "keepers[0].gas_budget_usd = 100",
            "without a [chain] section",
        ],
    );
    // Owners: a target below the trigger, a probability above 1, an unknown action.
    let population =
        "liquidation_price = { distribution = \"uniform\", low = 1500.0, high = 2000.0 }";
    #[rustfmt::skip]
    let owners: &[(&str, &[&str])] = &[
        ("trigger_health = 1.2, target_health = 1.1", &["positions[0].borrowers.target_health = 1.1", "at or above trigger_health"]),
        ("trigger_health = 1.2, target_health = 1.5, probability = 1.5", &["positions[0].borrowers.probability = 1.5", "a probability in [0, 1]"]),
        ("trigger_health = 1.2, target_health = 1.5, action = \"sell\"", &["positions[0].borrowers.action = \"sell\"", "expected top_up or repay"]),
    ];
    for &(keys, parts) in owners {
        check_only(
            &edit(
                population,
                &format!("{population}\nborrowers = {{ {keys} }}"),
            ),
            parts,
        );
    }
    // Only keepers bid in priority gas auctions.
    check_only(
        &edit_text(
            &with_chain(good, ""),
            population,
            &format!(
                "{population}\nborrowers = {{ trigger_health = 1.2, target_health = 1.5, \
                 gas = {{ strategy = \"priority_auction\" }} }}"
            ),
        ),
        &[
            "positions[0].borrowers.gas.strategy = \"priority_auction\"",
            "only keepers bid in priority gas auctions",
        ],
    );
}

/// [`base`] with ETH driven by the driver table whose keys are `keys` (ETH keeps its price).
fn with_driver(keys: &str) -> String {
    edit(
        "price = 2000.0",
        &format!("price = 2000.0\ndriver = {{ {keys} }}"),
    )
}

/// [`base`] with ETH driven by the driver table whose keys are `keys`, without a price.
fn with_driver_only(keys: &str) -> String {
    edit("price = 2000.0", &format!("driver = {{ {keys} }}"))
}

const GARCH: &str = "model = \"garch\", long_run_volatility = 0.8, alpha = 0.05, beta = 0.9";
/// A bootstrap of [`GOOD_SERIES`] (two one-minute returns).
const BOOTSTRAP: &str = "model = \"bootstrap\", file = \"eth.csv\", time_column = \"time\", \
    price_column = \"price\", time_unit = \"seconds\", block_steps = 2";
const WIDE: &str = "model = \"ensemble\", file = \"paths.csv\", format = \"wide\", \
    time_column = \"time\", time_unit = \"seconds\"";
const LONG: &str = "model = \"ensemble\", file = \"paths.csv\", format = \"long\", \
    time_column = \"time\", time_unit = \"seconds\", path_column = \"path\", price_column = \"price\"";
const GOOD_WIDE: &str = "time,a,b\n0,2000,2000\n60,1990,2010\n120,1980,2020\n";
const GOOD_LONG: &str = "time,path,price\n0,a,2000\n0,b,2000\n60,a,1990\n60,b,2010\n";

#[test]
fn the_new_drivers_starting_points_are_valid() {
    assert_valid(&with_driver(GARCH), &[]);
    assert_valid(&with_driver(BOOTSTRAP), &[("eth.csv", GOOD_SERIES)]);
    assert_valid(&with_driver(WIDE), &[("paths.csv", GOOD_WIDE)]);
    assert_valid(&with_driver_only(WIDE), &[("paths.csv", GOOD_WIDE)]);
    assert_valid(&with_driver(LONG), &[("paths.csv", GOOD_LONG)]);
    // With rescale, paths that start apart are each scaled to the asset's price.
    assert_valid(
        &with_driver(&format!("{WIDE}, rescale = true")),
        &[("paths.csv", "time,a,b\n0,1000,4000\n60,990,4010\n")],
    );
}

/// Runs `check_files` on [`with_driver`]`(keys)` with `files`, the report's line being the
/// driver's.
fn check_driver(keys: &str, files: &[(&str, &str)], parts: &[&str]) {
    let text = with_driver(keys);
    let line = at(&text, "driver = {");
    let mut all = vec![line.as_str()];
    all.extend(parts);
    let error = check_files(&text, files, &all);
    assert_eq!(error.problems.len(), 1, "one problem:\n{error}");
}

#[test]
fn invalid_garch_parameters() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str)] = &[
        ("model = \"garch\", long_run_volatility = -0.8, alpha = 0.05, beta = 0.9", "assets[0].driver.long_run_volatility = -0.8", "expected an annual volatility ≥ 0"),
        ("model = \"garch\", long_run_volatility = 0.8, alpha = -0.05, beta = 0.9", "assets[0].driver.alpha = -0.05", "expected a weight α ≥ 0 of the last squared shock"),
        ("model = \"garch\", long_run_volatility = 0.8, alpha = 0.05, beta = -0.9", "assets[0].driver.beta = -0.9", "expected a weight β ≥ 0 of the last variance"),
        ("model = \"garch\", long_run_volatility = 0.8, alpha = 0.1, beta = 0.9", "assets[0].driver.beta = 0.9", "expected alpha + beta < 1, a variance that reverts to the long-run one; alpha = 0.1, so alpha + beta = 1"),
        ("model = \"garch\", long_run_volatility = 0.8, alpha = 0.05, beta = 0.9, initial_volatility = -1.0", "assets[0].driver.initial_volatility = -1", "expected an annual volatility ≥ 0"),
        ("model = \"garch\", long_run_volatility = 0.8, alpha = 0.05, beta = 0.9, drift = nan", "assets[0].driver.drift = NaN", "expected a finite annual drift"),
        ("model = \"garch\", long_run_volatility = 0.8, beta = 0.9", "assets[0].driver.alpha", "missing: required for model \"garch\""),
        ("model = \"garch\", alpha = 0.05, beta = 0.9", "assets[0].driver.long_run_volatility", "missing: required for model \"garch\""),
        ("model = \"garch\", long_run_volatility = 0.8, alpha = 0.05, beta = 0.9, volatility = 0.8", "assets[0].driver.volatility = 0.8", "does not apply for model \"garch\""),
        ("model = \"gbm\", volatility = 0.8, alpha = 0.05", "assets[0].driver.alpha = 0.05", "does not apply for model \"gbm\""),
    ];
    for &(keys, field, message) in cases {
        check_driver(keys, &[], &[field, message]);
    }
}

#[test]
fn invalid_bootstraps() {
    let series = [("eth.csv", GOOD_SERIES)];
    #[rustfmt::skip]
    let cases: &[(String, &str, &str)] = &[
        (BOOTSTRAP.replace("block_steps = 2", "block_steps = 0"), "assets[0].driver.block_steps = 0", "expected a mean block length of at least 1 step"),
        (BOOTSTRAP.replace("block_steps = 2", "block_steps = 3"), "assets[0].driver.block_steps = 3", "expected at most the series' 2 one-step returns (of 60 s)"),
        // The default, 60 steps, is longer than this series.
        (BOOTSTRAP.replace(", block_steps = 2", ""), "assets[0].driver.block_steps", "expected at most the series' 2 one-step returns"),
        (BOOTSTRAP.replace("\"seconds\"", "\"minutes\""), "assets[0].driver.time_unit = \"minutes\"", "expected one of seconds, milliseconds, rfc3339"),
        (BOOTSTRAP.replace(", time_unit = \"seconds\"", ""), "assets[0].driver.time_unit", "missing: required for model \"bootstrap\""),
        (format!("{BOOTSTRAP}, interpolation = \"linear\""), "assets[0].driver.interpolation = \"linear\"", "does not apply for model \"bootstrap\""),
        (format!("{BOOTSTRAP}, rescale = true"), "assets[0].driver.rescale = true", "does not apply for model \"bootstrap\""),
    ];
    for (keys, field, message) in cases {
        check_driver(keys, &series, &[field, message]);
    }
    // A series shorter than a step has no return to draw.
    check_driver(
        BOOTSTRAP,
        &[("eth.csv", "time,price\n1584000000,2000\n1584000030,1990\n")],
        &[
            "assets[0].driver.file = \"eth.csv\"",
            "the series covers 30 s, less than one step of 60 s",
        ],
    );
    // Its file is read as a replay's is, errors naming the file, the line, the column, the value.
    check_files(
        &with_driver(BOOTSTRAP),
        &[("eth.csv", "time,price\n1584000000,2000\n1584000060,x\n")],
        &["eth.csv:3: price = \"x\": expected a positive price"],
    );
    // The start price is the asset's: required (reported at the asset's table).
    let t = with_driver_only(BOOTSTRAP);
    let line = format!(
        "{SCENARIO}:{}:",
        t.lines().position(|l| l == "[[assets]]").unwrap() + 1
    );
    check_files(
        &t,
        &series,
        &[
            &line,
            "assets[0].price: missing: required unless the driver replays a series or reads a path ensemble",
        ],
    );
    // A replay takes no bootstrap key.
    let replay = "model = \"replay\", file = \"eth.csv\", time_column = \"time\", \
        price_column = \"price\", time_unit = \"seconds\", block_steps = 5";
    check_files(
        &with_driver_only(replay),
        &series,
        &[
            "assets[0].driver.block_steps = 5",
            "does not apply for model \"replay\"",
        ],
    );
}

#[test]
fn invalid_ensemble_keys() {
    let wide = [("paths.csv", GOOD_WIDE)];
    #[rustfmt::skip]
    let cases: &[(String, &str, &str)] = &[
        (WIDE.replace("\"wide\"", "\"columns\""), "assets[0].driver.format = \"columns\"", "expected wide (a column per path) or long (time, path and price columns)"),
        (WIDE.replace(", format = \"wide\"", ""), "assets[0].driver.format", "missing: required for model \"ensemble\""),
        (format!("{WIDE}, price_column = \"a\""), "assets[0].driver.price_column = \"a\"", "does not apply for format \"wide\""),
        (LONG.replace(", path_column = \"path\"", ""), "assets[0].driver.path_column", "missing: required for format \"long\""),
        (format!("{WIDE}, interpolation = \"cubic\""), "assets[0].driver.interpolation = \"cubic\"", "expected previous or linear"),
        (format!("{WIDE}, block_steps = 3"), "assets[0].driver.block_steps = 3", "does not apply for model \"ensemble\""),
        (WIDE.replace("paths.csv", "paths.json"), "assets[0].driver.file = \"paths.json\"", "expected a CSV file: an ensemble is read from CSV only"),
        (WIDE.replace("paths.csv", "nowhere.csv"), "assets[0].driver.file = \"nowhere.csv\"", "cannot read"),
    ];
    for (keys, field, message) in cases {
        check_driver(keys, &wide, &[field, message]);
    }
    // The asset's price, when given, is the paths' start; rescale needs it.
    let t = edit_text(&with_driver(WIDE), "price = 2000.0", "price = 2100.0");
    check_files(
        &t,
        &wide,
        &[
            &at(&t, "price = 2100.0"),
            "assets[0].price = 2100",
            "differs from the ensemble's start price 2000",
        ],
    );
    let t = with_driver_only(&format!("{WIDE}, rescale = true"));
    check_files(
        &t,
        &wide,
        &[
            &at(&t, "driver = {"),
            "assets[0].driver.rescale",
            "rescale needs the asset's price",
        ],
    );
}

#[test]
fn malformed_ensemble_files() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &[&str])] = &[
        (WIDE, "time,a,b\n0,2000,2000\n60,1990,x\n", &["paths.csv:3: b = \"x\": expected a positive price"]),
        (WIDE, "time,a,b\n0,2000,2000\n60,1990,-5\n", &["paths.csv:3: b = \"-5\": expected a positive price"]),
        (WIDE, "time,a,b\n0,2000,2000\n0,1990,2010\n", &["paths.csv:3: time = \"0\": times must increase from one row to the next"]),
        (WIDE, "time,a,b\n0,2000,2000\nsoon,1990,2010\n", &["paths.csv:3: time = \"soon\": expected a number of seconds"]),
        (WIDE, "time,a,b\n0,2000,2000\n60,1990\n", &["paths.csv:3: \"60,1990\": row has 2 fields but the header has 3"]),
        (WIDE, "t,a\n0,2000\n", &["paths.csv:1: time: column not found; the header has: t, a"]),
        (WIDE, "time\n0\n", &["paths.csv:1: time: no path column"]),
        (WIDE, "time,a\n", &["paths.csv: the ensemble has no rows"]),
        (WIDE, "time,a,b,c\n0,2000,1990,1980\n60,1990,2010,2000\n", &["paths.csv:2: b = 1990: path 1 (\"b\") starts at 1990 where path 0 starts at 2000 (and 1 more paths)", "set driver.rescale = true"]),
        (LONG, "time,path,price\n0,a,2000\n0,b,1990\n", &["paths.csv:3: price = 1990: path 1 (\"b\") starts at 1990 where path 0 starts at 2000"]),
        (LONG, "time,path,price\n0,a,2000\n60,a,1990\n30,a,1980\n", &["paths.csv:4: time = \"30\": the times of path \"a\" must increase from one of its rows to the next"]),
        (LONG, "time,path,price\n0,a,2000\n0,,2000\n", &["paths.csv:3: path = \"\": expected a path's label"]),
        (LONG, "time,scenario,price\n0,a,2000\n", &["paths.csv:1: path: column not found; the header has: time, scenario, price"]),
        (LONG, "time,path,price\n0,a,zero\n", &["paths.csv:2: price = \"zero\": expected a positive price"]),
        (LONG, "time,path,price\n", &["paths.csv: the ensemble has no rows"]),
    ];
    for &(keys, csv, parts) in cases {
        check_files(&with_driver(keys), &[("paths.csv", csv)], parts);
    }
}

/// The warnings of `toml` with `files` beside it, which must load.
fn warnings(toml: &str, files: &[(&str, &str)]) -> Vec<String> {
    let dir = write_case(toml, files);
    match cascade_scenario::load(&dir.path().join(SCENARIO)) {
        Ok(scenario) => scenario.warnings,
        Err(e) => panic!("expected a valid scenario:\n{e}"),
    }
}

#[test]
fn legal_but_doubtful_drivers_are_warned_about() {
    // Ten-minute bars bootstrapped in one-minute steps: most minute returns are 0.
    let bars = "time,price\n1584000000,2000\n1584000600,1990\n1584001200,1980\n";
    let w = warnings(&with_driver(BOOTSTRAP), &[("eth.csv", bars)]);
    assert!(
        w.iter().any(|w| w
            == "asset ETH: the bootstrapped series has a point every 600 s but a step is 60 s: most one-step returns are 0"),
        "{w:?}"
    );
    assert!(warnings(&with_driver(BOOTSTRAP), &[("eth.csv", GOOD_SERIES)]).is_empty());
    // An ensemble shorter than the run (10 steps of 60 s): its last price is held.
    let w = warnings(&with_driver(WIDE), &[("paths.csv", GOOD_WIDE)]);
    assert!(
        w.iter().any(|w| w
            == "asset ETH: a path of the ensemble covers 120 s but the run lasts 600 s; its last price is held"),
        "{w:?}"
    );
}

#[test]
fn an_unknown_liquity_entry_point() {
    // Named with the two it could be; and the key is Liquity's alone.
    let from = r#"liquidation = { mechanism = "fixed_spread", bonus = 0.05, close_factor = 1.0 }"#;
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &str)] = &[
        (from, r#"liquidation = { mechanism = "liquity_v1", stability_pool_usd = 1000000.0, entry_point = "bulk" }"#, "protocols[0].liquidation.entry_point = \"bulk\"", "expected batch (batchLiquidateTroves) or single (liquidate)"),
        (from, r#"liquidation = { mechanism = "fixed_spread", bonus = 0.05, close_factor = 1.0, entry_point = "single" }"#, "protocols[0].liquidation.entry_point", "does not apply for mechanism \"fixed_spread\""),
    ];
    check_edits(cases);
}

/// `protocols[].oracle_staleness` and `oracles[].outages` (docs/reference-math.md §9.4): a
/// maximum age of 0, an unknown action, a fallback missing, unknown, of another asset or the
/// protocol's own oracle, a fallback under `pause`, a check on a protocol whose prices are all
/// fundamentals, a negative age and an outage that ends before it starts.
#[test]
fn oracle_staleness_and_outages() {
    let priced = "oracles = { ETH = \"eth-usd\" }\n";
    let second = "[[oracles]]\nname = \"eth-twap\"\nasset = \"ETH\"\nsources = [\"spot\"]\naggregation = \"twap\"\ntwap_window_seconds = 600\n\n[[oracles]]\nname = \"usdc-usd\"\nasset = \"USDC\"\nsources = [\"fundamental\"]\n\n[[protocols]]";
    let with = |staleness: &str| {
        edits(&[
            ("[[protocols]]", second),
            (priced, &format!("{priced}{staleness}\n")),
        ])
    };
    let cases: &[(&str, &[&str])] = &[
        (
            "oracle_staleness = { max_age_seconds = 0, on_stale = \"pause\" }",
            &[
                "protocols[0].oracle_staleness.max_age_seconds = 0",
                "at least 1 second",
            ],
        ),
        (
            "oracle_staleness = { max_age_seconds = 3600, on_stale = \"revert\" }",
            &[
                "protocols[0].oracle_staleness.on_stale = \"revert\"",
                "expected one of pause, fallback",
            ],
        ),
        (
            "oracle_staleness = { max_age_seconds = 3600, on_stale = \"fallback\" }",
            &[
                "protocols[0].oracle_staleness.fallback_oracles",
                "missing: on_stale = \"fallback\" needs a second oracle",
            ],
        ),
        (
            "oracle_staleness = { max_age_seconds = 3600, on_stale = \"fallback\", fallback_oracles = { ETH = \"tellor\" } }",
            &[
                "protocols[0].oracle_staleness.fallback_oracles.ETH = \"tellor\"",
                "unknown oracle",
            ],
        ),
        (
            "oracle_staleness = { max_age_seconds = 3600, on_stale = \"fallback\", fallback_oracles = { ETH = \"usdc-usd\" } }",
            &[
                "protocols[0].oracle_staleness.fallback_oracles.ETH = \"usdc-usd\"",
                "this oracle prices USDC, not ETH",
            ],
        ),
        (
            "oracle_staleness = { max_age_seconds = 3600, on_stale = \"fallback\", fallback_oracles = { ETH = \"eth-usd\" } }",
            &[
                "protocols[0].oracle_staleness.fallback_oracles.ETH = \"eth-usd\"",
                "a fallback must be another",
            ],
        ),
        (
            "oracle_staleness = { max_age_seconds = 3600, on_stale = \"fallback\", fallback_oracles = { USDC = \"usdc-usd\" } }",
            &[
                "protocols[0].oracle_staleness.fallback_oracles.USDC = \"usdc-usd\"",
                "prices USDC at its fundamental",
            ],
        ),
        (
            "oracle_staleness = { max_age_seconds = 3600, on_stale = \"pause\", fallback_oracles = { ETH = \"eth-twap\" } }",
            &[
                "protocols[0].oracle_staleness.fallback_oracles",
                "does not apply with on_stale = \"pause\"",
            ],
        ),
    ];
    for &(staleness, parts) in cases {
        let text = with(staleness);
        let line = at(&text, "oracle_staleness");
        let mut all = vec![line.as_str()];
        all.extend_from_slice(parts);
        check_only(&text, &all);
    }
    // A negative age is not a number of seconds: the parser names the field.
    let text = with("oracle_staleness = { max_age_seconds = -60, on_stale = \"pause\" }");
    check(&text, &[&at(&text, "oracle_staleness"), "max_age_seconds"]);
    // A protocol that prices nothing by an oracle has nothing that ages.
    let text = edit(
        priced,
        "oracle_staleness = { max_age_seconds = 3600, on_stale = \"pause\" }\n",
    );
    check_only(
        &text,
        &[
            &at(&text, "oracle_staleness"),
            "protocols[0].oracle_staleness",
            "fundamentals never age",
        ],
    );
    // An oracle's outage must end after it starts.
    let text = edit(
        "aggregation = \"last\"",
        "aggregation = \"last\"\noutages = [{ from_seconds = 600, to_seconds = 300 }]",
    );
    check_only(
        &text,
        &[
            &at(&text, "outages = "),
            "oracles[0].outages[0].to_seconds = 300",
            "after from_seconds (600)",
        ],
    );
    // The valid forms load.
    assert_valid(
        &with(
            "oracle_staleness = { max_age_seconds = 3600, on_stale = \"fallback\", fallback_oracles = { ETH = \"eth-twap\" } }",
        ),
        &[],
    );
    assert_valid(
        &with("oracle_staleness = { max_age_seconds = 3600, on_stale = \"pause\" }"),
        &[],
    );
}

#[test]
fn an_aave_v4_configuration_out_of_v4s_bounds() {
    // Spoke.sol's `updateLiquidationConfig` and `_validateDynamicReserveConfig` bounds, each
    // named with the key and the value.
    let from = r#"liquidation = { mechanism = "fixed_spread", bonus = 0.05, close_factor = 1.0 }"#;
    let v4 =
        |keys: &str| format!("liquidation = {{ mechanism = \"aave_v4\", bonus = 0.05, {keys} }}");
    let good = "target_health_factor = 1.05, health_factor_for_max_bonus = 0.7, liquidation_bonus_factor = 0.2";
    assert_valid(&edit(from, &v4(good)), &[]);
    let target = v4(
        "target_health_factor = 0.99, health_factor_for_max_bonus = 0.7, liquidation_bonus_factor = 0.2",
    );
    let for_max = v4(
        "target_health_factor = 1.05, health_factor_for_max_bonus = 1.0, liquidation_bonus_factor = 0.2",
    );
    let factor = v4(
        "target_health_factor = 1.05, health_factor_for_max_bonus = 0.7, liquidation_bonus_factor = 1.2",
    );
    let missing = v4("health_factor_for_max_bonus = 0.7, liquidation_bonus_factor = 0.2");
    let foreign = v4(&format!("{good}, close_factor = 0.5"));
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &str)] = &[
        (from, &target, "protocols[0].liquidation.target_health_factor = 0.99", "expected a finite health factor ≥ 1 (Aave v4's targetHealthFactor)"),
        (from, &for_max, "protocols[0].liquidation.health_factor_for_max_bonus = 1", "expected a health factor in [0, 1) (Aave v4's healthFactorForMaxBonus)"),
        (from, &factor, "protocols[0].liquidation.liquidation_bonus_factor = 1.2", "expected a fraction of the maximum bonus in [0, 1]"),
        (from, &missing, "protocols[0].liquidation.target_health_factor", "missing"),
        (from, &foreign, "protocols[0].liquidation.close_factor", "does not apply for mechanism \"aave_v4\""),
    ];
    check_edits(cases);
    // Threshold 0.85 × (1 + 0.2) ≥ 1: v4 rejects the reserve's configuration.
    let t = edit(from, &v4(good).replace("bonus = 0.05", "bonus = 0.2"));
    check_only(
        &t,
        &[
            &at(&t, "liquidation_threshold = 0.85"),
            "protocols[0].collateral.ETH.liquidation_threshold = 0.85",
            "× (1 + bonus 0.2) = 1.0200 ≥ 1: Aave v4 requires the maximum bonus times the collateral factor below 100%",
        ],
    );
}

/// A normal or log-normal draw whose bounds hold almost none of its mass would redraw up to a
/// million times per account, and a log-normal whose std / mean overflows σ² has no draw at
/// all: both are refused at `std`, naming the bounds or the ratio.
#[test]
fn truncated_draws_that_would_mostly_redraw() {
    let from = r#"liquidation_price = { distribution = "uniform", low = 1500.0, high = 2000.0 }"#;
    let cases: &[(&str, &[&str])] = &[
        (
            r#"liquidation_price = { distribution = "normal", mean = 1750.0, std = 1e9, low = 1749.0, high = 1751.0 }"#,
            &[
                "positions[0].liquidation_price.std = 1000000000",
                "at least 1 time in 10000",
            ],
        ),
        (
            r#"liquidation_price = { distribution = "lognormal", mean = 1750.0, std = 1e200 }"#,
            &["positions[0].liquidation_price.std", "gives no finite σ²"],
        ),
    ];
    for &(to, parts) in cases {
        let text = edit(from, to);
        let line = at(&text, "liquidation_price");
        let mut all = vec![line.as_str()];
        all.extend_from_slice(parts);
        check_only(&text, &all);
    }
    // A wide but usable spread still loads.
    assert_valid(
        &edit(
            from,
            r#"liquidation_price = { distribution = "lognormal", mean = 1750.0, std = 3000.0, low = 1000.0 }"#,
        ),
        &[],
    );
}

/// The `bitmex` preset sets BitMEX's rules where venues differ: maintenance on the entry value,
/// its ADL queue at the bankruptcy price, the bankruptcy close-out and 100x with 0.4% base
/// maintenance; a key the file gives overrides it.
#[test]
fn the_bitmex_preset_sets_bitmexs_rules() {
    use cascade_model::perp::params::{AdlPrice, AdlRanking, CloseOut, MaintenanceBasis};
    let text = edit_text(
        &perp(),
        "\npreset = \"binance_usdm\"",
        "\npreset = \"bitmex\"",
    );
    let dir = write_case(&text, &[]);
    let scenario = cascade_scenario::load(&dir.path().join(SCENARIO)).expect("valid");
    let exchange = &scenario.world.perps[0];
    assert_eq!(exchange.params.adl.ranking, AdlRanking::Bitmex);
    assert_eq!(exchange.params.adl.price, AdlPrice::Bankruptcy);
    assert_eq!(exchange.params.close_out, CloseOut::Bankruptcy);
    for rule in &exchange.rules {
        assert_eq!(rule.maintenance_on, MaintenanceBasis::Entry);
    }
}

/// Price drivers whose parameters would overflow prices or make a step unbounded in time are
/// refused, naming the field, the value (in scientific notation when huge) and what fits: a
/// drift that would move the log price by more than 100 over the run, jumps beyond 1,000 per
/// step on average, a jump or step deviation beyond 10 in log price.
#[test]
fn price_drivers_that_would_overflow_or_never_finish() {
    let from = "price = 2000.0";
    let driver = |d: &str| format!("price = 2000.0\ndriver = {{ {d} }}");
    #[rustfmt::skip]
    let cases: &[(&str, &[&str])] = &[
        ("model = \"gbm\", drift = 1e308, volatility = 0.5",
         &["assets[0].driver.drift = 1e308", "at most 100 in log price"]),
        ("model = \"gbm\", volatility = 1e9",
         &["assets[0].driver.volatility = 1000000000", "at most 10 in log price"]),
        ("model = \"jump_diffusion\", volatility = 0.5, jump_intensity = 1e308, jump_mean = -0.05, jump_std = 0.02",
         &["assets[0].driver.jump_intensity = 1e308", "at most 1000 per step on average"]),
        ("model = \"jump_diffusion\", volatility = 0.5, jump_intensity = 10, jump_mean = -1e300, jump_std = 0.02",
         &["assets[0].driver.jump_mean = -1e300", "at most 10 either way"]),
        ("model = \"jump_diffusion\", volatility = 0.5, jump_intensity = 10, jump_mean = -0.05, jump_std = 50",
         &["assets[0].driver.jump_std = 50", "at most 10"]),
    ];
    for &(d, parts) in cases {
        let text = edit(from, &driver(d));
        check_only(&text, parts);
    }
    assert_valid(
        &edit(
            from,
            &driver(
                "model = \"jump_diffusion\", drift = 0.5, volatility = 1.5, jump_intensity = 1000, jump_mean = -0.2, jump_std = 0.1",
            ),
        ),
        &[],
    );
}

/// A file without `[[assets]]` is refused at `assets` (with venues naming an asset, this
/// panicked with an index out of bounds in validation).
#[test]
fn a_scenario_without_assets() {
    let text: String = base()
        .split("\n[")
        .filter(|section| !section.starts_with("[assets]]"))
        .collect::<Vec<_>>()
        .join("\n[");
    assert!(text.contains("[[venues]]") && !text.contains("[[assets]]"));
    check_only(
        &text,
        &["assets: missing: a scenario needs at least one [[assets]]"],
    );
}

/// `size_sigma` beyond 20 overflows log-normal sizes (at 200 every account's collateral and debt
/// was NaN and the run spun its round limit every step): refused, for lending and perp books.
#[test]
fn a_size_dispersion_that_overflows() {
    let text = edit(
        "liquidation_price = { distribution = \"uniform\", low = 1500.0, high = 2000.0 }",
        "liquidation_price = { distribution = \"uniform\", low = 1500.0, high = 2000.0 }\nsize_sigma = 200.0",
    );
    check_only(
        &text,
        &[
            &at(&text, "size_sigma"),
            "positions[0].size_sigma = 200",
            "from 0 to 20",
        ],
    );
    let perp = perp();
    let line = perp
        .lines()
        .find(|l| l.trim_start().starts_with("size_sigma"))
        .expect("the perp example draws log-normal sizes");
    let text = perp.replacen(line, "size_sigma = 200.0", 1);
    check_only(&text, &["size_sigma = 200", "from 0 to 20"]);
}
