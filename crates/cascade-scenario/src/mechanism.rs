//! Named liquidation mechanisms and counterfactuals that `cascade compare` applies to a
//! scenario, so the same book, prices and keepers can be run under each and measured side by
//! side.
//!
//! A *mechanism* switches every lending protocol's liquidation rule ([`apply`]). A protocol
//! already on the named mechanism keeps its own parameters. Otherwise the mechanism's defaults
//! apply, reusing the scenario's bonus and protocol fee where the mechanism takes them:
//!
//! | name | liquidation table |
//! |---|---|
//! | `as_is` | the scenario's own |
//! | `fixed_spread` | bonus (scenario's, else 0.05), close factor 0.5, whole debt at or below health factor 0.95, protocol fee (scenario's, else 0) |
//! | `aave_v3.2`, `aave_v3.3` | Aave v3 at that version, bonus and protocol fee as above |
//! | `compound_v2` | bonus (scenario's, else 0.08), close factor 0.5, protocol seize share 0.028 |
//! | `morpho_blue` | Morpho Blue (incentive from the liquidation threshold; per-collateral bonuses removed) |
//! | `euler_v2` | Euler v2, maximum discount (scenario's, else 0.15; per-collateral bonuses removed) |
//! | `insurance_fund` | the scenario's own liquidation rule, behind an insurance fund: the scenario's `insurance` table if it has one, else 10,000,000 USD fed by all protocol fees, with shortfalls socialised |
//! | `backstop` | liquidation via transfer: a vault with unlimited capital takes positions over at a penalty (the scenario's bonus, else 0.05) and sells 10% of its holdings per hour (per-collateral bonuses removed) |
//! | `english_auction` | Maker Liquidations 1.2 as on ETH-A in March 2020: penalty (the scenario's bonus, else 0.13), beg 3%, ttl 600 s, tau 6 h, lump 50 units (per-collateral bonuses removed) |
//! | `dutch_auction` | Maker Liquidations 2.0 with ETH-A-like parameters: penalty (the scenario's bonus, else 0.13), buf 1.2, 1% cut every 90 s, tail 8,400 s, cusp 0.4, tip 300 USD, chip 0.1% (per-collateral bonuses removed) |
//!
//! (Leaving Compound III, a protocol's per-collateral liquidation factors are removed too: only
//! `compound_v3` takes them.)
//!
//! A *counterfactual* changes one other thing about the day, so that a replay can be asked
//! what-if questions on the same prices ([`apply_variant`]):
//!
//! | name | what changes |
//! |---|---|
//! | `no_congestion` | the `[chain]` section is removed, with the keys that need one (keepers' `gas` and `gas_budget_usd`, positions' `borrowers.gas`): transactions cost nothing and get in at once. Keepers keep their latency, outages and sale delay; borrowers their behaviour |
//! | `faster_oracle` | every oracle with `update = "delayed"` (Maker's OSM) becomes `update = "every_read"`, same sources and aggregation, `delay_seconds` removed: it publishes what it reads at every step and re-reads inside the cascade (unless it is a TWAP), instead of one hop late and once per hop. Other oracles are unchanged |
//! | `stability_pool` | every lending protocol liquidates through a Liquity v1 Stability Pool (`liquity_v1`) with its own liquidation threshold (MCR = 1 / threshold): deposits = [`STABILITY_POOL_SHARE`] (25%) of the protocol's debt at the start, in its debt asset; CCR = MCR + [`RECOVERY_MARGIN`] (0.4, Liquity's 110% → 150%); Liquity's gas compensation; per-collateral bonuses and liquidation factors removed. A protocol already on `liquity_v1` keeps its pool and parameters; one that accepts several collateral assets is an error (a pool takes one) |
//!
//! A *variant* is a mechanism, a counterfactual, or several of them joined by `+`, applied left
//! to right (`dutch_auction+no_congestion`): comparing `as_is`, `no_congestion`, `dutch_auction`
//! and `dutch_auction+no_congestion` separates what the auction design and what congestion each
//! caused. A part given twice in one variant is an error. Perp exchanges are left alone by every
//! variant but `faster_oracle` (their index oracles change like the others).

use std::collections::BTreeMap;

use cascade_engine::World;

use crate::build::perp::{ProtocolKind, section_kind};
use crate::preset::{self, Preset, PresetKind};
use crate::schema::{InsuranceSection, LiquidationSection, ScenarioFile};

/// The mechanism names `apply` accepts.
pub const MECHANISMS: [&str; 11] = [
    "as_is",
    "fixed_spread",
    "aave_v3.2",
    "aave_v3.3",
    "compound_v2",
    "morpho_blue",
    "euler_v2",
    "dutch_auction",
    "english_auction",
    "backstop",
    "insurance_fund",
];

/// The counterfactuals [`apply_variant`] accepts besides the mechanisms.
pub const COUNTERFACTUALS: [&str; 3] = ["no_congestion", "faster_oracle", "stability_pool"];

/// Under `stability_pool`, the pool's deposits as a share of the protocol's debt at the start. (A
/// protocol already on `liquity_v1` keeps its own `stability_pool_usd`: the way to another size.)
pub const STABILITY_POOL_SHARE: f64 = 0.25;

/// Under `stability_pool`, CCR − MCR: Liquity v1's 150% − 110%.
pub const RECOVERY_MARGIN: f64 = 0.4;

/// What the counterfactuals need from the scenario as written and built: each lending
/// protocol's debt at the start and the liquidation thresholds of the collateral it accepts.
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    protocols: BTreeMap<String, ProtocolStart>,
}

#[derive(Clone, Debug)]
struct ProtocolStart {
    /// Debt at the start, in units of the debt asset of its first borrower (the asset a
    /// Stability Pool holds).
    debt: f64,
    /// Liquidation thresholds of the accepted collateral assets.
    thresholds: Vec<f64>,
}

impl Baseline {
    /// The baseline of a built world.
    pub fn of(world: &World) -> Self {
        let protocols = world
            .protocols
            .iter()
            .zip(&world.initial.protocols)
            .map(|(info, state)| {
                let debt_asset = state
                    .accounts
                    .iter()
                    .find(|a| a.debt > 0.0)
                    .map(|a| a.debt_asset);
                let debt = state
                    .accounts
                    .iter()
                    .filter(|a| Some(a.debt_asset) == debt_asset)
                    .map(|a| a.debt)
                    .sum();
                let thresholds = info
                    .params
                    .collateral
                    .iter()
                    .flatten()
                    .map(|c| c.liquidation_threshold)
                    .collect();
                (info.name.clone(), ProtocolStart { debt, thresholds })
            })
            .collect();
        Self { protocols }
    }
}

/// The parts of a variant (`a+b+…`), each a known mechanism or counterfactual, none twice.
///
/// # Errors
/// An unknown part, with the list of known names; a part given twice.
pub fn parts(variant: &str) -> Result<Vec<&str>, String> {
    let parts: Vec<&str> = variant.split('+').collect();
    let combined = parts.len() > 1;
    for (i, part) in parts.iter().enumerate() {
        if !MECHANISMS.contains(part) && !COUNTERFACTUALS.contains(part) {
            let known: Vec<&str> = MECHANISMS.iter().chain(&COUNTERFACTUALS).copied().collect();
            return Err(format!(
                "{}unknown mechanism; expected one of {} (or several joined by +)",
                if combined {
                    format!("part {part:?}: ")
                } else {
                    String::new()
                },
                known.join(", ")
            ));
        }
        if parts[..i].contains(part) {
            return Err(format!("part {part:?} is given twice"));
        }
    }
    Ok(parts)
}

/// Applies a variant to `file`: each of its parts, left to right.
///
/// # Errors
/// What [`parts`] rejects; under `stability_pool`, a protocol missing from `baseline` or
/// accepting several collateral assets.
pub fn apply_variant(
    file: &mut ScenarioFile,
    variant: &str,
    baseline: &Baseline,
) -> Result<(), String> {
    for part in parts(variant)? {
        match part {
            "no_congestion" => no_congestion(file),
            "faster_oracle" => faster_oracle(file),
            "stability_pool" => stability_pool(file, baseline)?,
            mechanism => apply(file, mechanism)?,
        }
    }
    Ok(())
}

/// `no_congestion`: no chain, and none of the keys that need one.
fn no_congestion(file: &mut ScenarioFile) {
    file.chain = None;
    for keeper in &mut file.keepers {
        keeper.gas = None;
        keeper.gas_budget_usd = None;
    }
    for borrowers in file
        .positions
        .iter_mut()
        .filter_map(|p| p.borrowers.as_mut())
    {
        borrowers.gas = None;
    }
}

/// `faster_oracle`: delayed oracles publish what they read.
fn faster_oracle(file: &mut ScenarioFile) {
    for oracle in &mut file.oracles {
        if oracle.update.as_deref() == Some("delayed") {
            oracle.update = Some("every_read".to_string());
            oracle.delay_seconds = None;
        }
    }
}

/// `stability_pool`: every lending protocol on a Liquity v1 Stability Pool.
fn stability_pool(file: &mut ScenarioFile, baseline: &Baseline) -> Result<(), String> {
    for protocol in &mut file.protocols {
        if section_kind(protocol) == Some(ProtocolKind::Perp) {
            continue;
        }
        let preset = matches!(
            protocol.preset.as_deref().and_then(preset::find),
            Some(Preset {
                kind: PresetKind::Lending(_),
                ..
            })
        );
        match &protocol.liquidation {
            Some(old) if old.mechanism == "liquity_v1" => continue,
            None if !preset => continue,
            _ => {}
        }
        let name = &protocol.name;
        let start = baseline.protocols.get(name).ok_or_else(|| {
            format!("protocol {name:?} has no start figures (its debt at the start sizes the stability_pool)")
        })?;
        let [threshold] = start.thresholds[..] else {
            return Err(format!(
                "protocol {name:?} accepts {} collateral assets; a Liquity v1 Stability Pool (stability_pool) takes exactly one",
                start.thresholds.len()
            ));
        };
        protocol.liquidation = Some(LiquidationSection {
            mechanism: "liquity_v1".to_string(),
            stability_pool_usd: Some(STABILITY_POOL_SHARE * start.debt),
            ccr: Some(1.0 / threshold + RECOVERY_MARGIN),
            ..LiquidationSection::default()
        });
        for collateral in protocol.collateral.iter_mut().flat_map(|c| c.values_mut()) {
            collateral.liquidation_bonus = None;
            collateral.liquidation_factor = None;
        }
    }
    Ok(())
}

/// Sets every protocol of `file` to the named mechanism.
///
/// # Errors
/// An unknown name, with the list of known ones.
pub fn apply(file: &mut ScenarioFile, mechanism: &str) -> Result<(), String> {
    if !MECHANISMS.contains(&mechanism) {
        return Err(format!(
            "unknown mechanism; expected one of {}",
            MECHANISMS.join(", ")
        ));
    }
    if mechanism == "as_is" {
        return Ok(());
    }
    if mechanism == "insurance_fund" {
        for protocol in &mut file.protocols {
            if section_kind(protocol) == Some(ProtocolKind::Perp) {
                continue;
            }
            protocol.insurance.get_or_insert(InsuranceSection {
                fund_usd: 10_000_000.0,
                fee_share: Some(1.0),
                shortfall: Some("socialise".to_string()),
                debt_auction_lot_usd: None,
            });
        }
        return Ok(());
    }
    for protocol in &mut file.protocols {
        if section_kind(protocol) == Some(ProtocolKind::Perp) {
            continue;
        }
        // A lending preset without its own section liquidates by the preset's fixed spread.
        let preset = match protocol.preset.as_deref().and_then(preset::find) {
            Some(Preset {
                kind: PresetKind::Lending(l),
                ..
            }) => Some(LiquidationSection::fixed_spread(l.bonus, l.close_factor)),
            _ => None,
        };
        let Some(old) = protocol.liquidation.as_ref().or(preset.as_ref()) else {
            continue;
        };
        let (kind, version) = match mechanism.split_once('.') {
            Some((_, minor)) => ("aave_v3", Some(format!("3.{minor}"))),
            None => (mechanism, None),
        };
        if old.mechanism == kind && (version.is_none() || old.version == version) {
            continue;
        }
        let bonus = old.bonus;
        let fee = old.protocol_fee;
        let mut new = LiquidationSection {
            mechanism: kind.to_string(),
            bonus: None,
            close_factor: None,
            full_close_below_health_factor: None,
            protocol_fee: None,
            version,
            protocol_seize_share: None,
            max_discount: None,
            buf: None,
            curve: None,
            tau_seconds: None,
            step_seconds: None,
            cut: None,
            tail_seconds: None,
            cusp: None,
            penalty: None,
            tip_usd: None,
            chip: None,
            dust_usd: None,
            hole_usd: None,
            circuit_breaker: None,
            beg: None,
            ttl_seconds: None,
            lump_units: None,
            unwind: None,
            unwind_fraction_per_hour: None,
            backstop_capital_usd: None,
            bonus_slope: None,
            bonus_cap: None,
            volatility_slope: None,
            volatility_window_seconds: None,
            store_front_price_factor: None,
            target_reserves_usd: None,
            initial_reserves_usd: None,
            stability_pool_usd: None,
            ccr: None,
            gas_compensation: None,
            collateral_gas_share: None,
        };
        match kind {
            "fixed_spread" => {
                new.bonus = Some(bonus.unwrap_or(0.05));
                new.close_factor = Some(0.5);
                new.full_close_below_health_factor = Some(0.95);
                new.protocol_fee = fee;
            }
            "aave_v3" => {
                new.bonus = Some(bonus.unwrap_or(0.05));
                new.protocol_fee = fee;
            }
            "compound_v2" => {
                new.bonus = Some(bonus.unwrap_or(0.08));
                new.close_factor = Some(0.5);
                new.protocol_seize_share = Some(0.028);
            }
            "euler_v2" => new.max_discount = Some(old.max_discount.unwrap_or(0.15)),
            "backstop" => {
                new.penalty = Some(bonus.unwrap_or(0.05));
                new.unwind = Some("sell".to_string());
                new.unwind_fraction_per_hour = Some(0.1);
            }
            "english_auction" => {
                new.penalty = Some(bonus.unwrap_or(0.13));
                new.beg = Some(0.03);
                new.ttl_seconds = Some(600);
                new.tau_seconds = Some(21_600.0);
                new.lump_units = Some(50.0);
            }
            "dutch_auction" => {
                new.penalty = Some(bonus.unwrap_or(0.13));
                new.buf = Some(1.2);
                new.curve = Some("stairstep_exponential".to_string());
                new.step_seconds = Some(90.0);
                new.cut = Some(0.99);
                new.tail_seconds = Some(8_400.0);
                new.cusp = Some(0.4);
                new.tip_usd = Some(300.0);
                new.chip = Some(0.001);
            }
            _ => {}
        }
        let drop_bonus = matches!(
            kind,
            "morpho_blue" | "euler_v2" | "dutch_auction" | "english_auction" | "backstop"
        );
        for collateral in protocol.collateral.iter_mut().flat_map(|c| c.values_mut()) {
            if drop_bonus {
                collateral.liquidation_bonus = None;
            }
            // Only Compound III credits absorbed collateral by a liquidation factor.
            collateral.liquidation_factor = None;
        }
        protocol.liquidation = Some(new);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const TEXT: &str = r#"
[simulation]
name = "t"
seed = 1
steps = 1
step_seconds = 60

[[assets]]
symbol = "ETH"
price = 2000.0

[[protocols]]
name = "p"
kind = "lending"
liquidation = { mechanism = "fixed_spread", bonus = 0.07, close_factor = 0.3, protocol_fee = 0.2 }
collateral = { ETH = { ltv = 0.8, liquidation_threshold = 0.85, liquidation_bonus = 0.06 } }
"#;

    fn parsed() -> ScenarioFile {
        crate::parse(TEXT, Path::new("t.toml")).expect("parses")
    }

    #[test]
    fn a_protocol_already_on_the_mechanism_keeps_its_parameters() {
        let mut file = parsed();
        apply(&mut file, "fixed_spread").expect("known");
        assert_eq!(
            file.protocols[0].liquidation.as_ref().unwrap().close_factor,
            Some(0.3)
        );
        apply(&mut file, "as_is").expect("known");
        assert_eq!(
            file.protocols[0].liquidation.as_ref().unwrap().bonus,
            Some(0.07)
        );
    }

    #[test]
    fn other_mechanisms_reuse_the_bonus_and_fee_where_they_take_them() {
        let mut file = parsed();
        apply(&mut file, "aave_v3.3").expect("known");
        let l = file.protocols[0].liquidation.as_ref().unwrap();
        assert_eq!(
            (l.mechanism.as_str(), l.version.as_deref()),
            ("aave_v3", Some("3.3"))
        );
        assert_eq!(
            (l.bonus, l.protocol_fee, l.close_factor),
            (Some(0.07), Some(0.2), None)
        );
        let mut file = parsed();
        apply(&mut file, "morpho_blue").expect("known");
        assert_eq!(
            file.protocols[0].collateral.as_ref().unwrap()["ETH"].liquidation_bonus,
            None
        );
        assert_eq!(file.protocols[0].liquidation.as_ref().unwrap().bonus, None);
        assert!(apply(&mut parsed(), "dutch").is_err());
    }

    #[test]
    fn insurance_fund_adds_a_fund_only_where_there_is_none() {
        let mut file = parsed();
        apply(&mut file, "insurance_fund").expect("known");
        let fund = file.protocols[0].insurance.as_ref().expect("a fund");
        assert_eq!(
            (fund.fund_usd, fund.shortfall.as_deref()),
            (10_000_000.0, Some("socialise"))
        );
        assert_eq!(
            file.protocols[0].liquidation.as_ref().unwrap().close_factor,
            Some(0.3),
            "rule unchanged"
        );
        let text = TEXT.replace(
            "[[protocols]]\nname = \"p\"",
            "[[protocols]]\nname = \"p\"\ninsurance = { fund_usd = 5.0 }",
        );
        let mut file = crate::parse(&text, Path::new("t.toml")).expect("parses");
        apply(&mut file, "insurance_fund").expect("known");
        assert_eq!(
            file.protocols[0].insurance.as_ref().expect("kept").fund_usd,
            5.0
        );
    }

    /// Maker-like vaults behind a one-hour OSM, on a congested chain, with keepers and owners
    /// who pay gas; a second, push-feed oracle that no variant should touch.
    const CHAINED: &str = r#"
[simulation]
name = "c"
seed = 1
steps = 4
step_seconds = 300

[[assets]]
symbol = "ETH"
price = 2000.0

[[assets]]
symbol = "DAI"
price = 1.0

[[oracles]]
name = "osm"
asset = "ETH"
sources = ["fundamental"]
update = "delayed"
delay_seconds = 3600

[[oracles]]
name = "push"
asset = "ETH"
sources = ["fundamental"]
update = "deviation"
deviation_threshold = 0.01
heartbeat_seconds = 3600

[[protocols]]
name = "eth-a"
kind = "lending"
liquidation = { mechanism = "english_auction", penalty = 0.13, beg = 0.03, ttl_seconds = 600, tau_seconds = 21600, lump_units = 50.0 }
oracles = { ETH = "osm" }
collateral = { ETH = { ltv = 0.6, liquidation_threshold = 0.625 } }

[[positions]]
protocol = "eth-a"
count = 10
collateral = { asset = "ETH", total = 100.0 }
debt = { asset = "DAI" }
health_factor = { distribution = "even", low = 1.2, high = 2.0 }
borrowers = { trigger_health = 1.1, target_health = 1.3, gas = { strategy = "fixed", gwei = 5.0 } }

[[keepers]]
name = "k"
protocols = ["eth-a"]
capital_usd = 1000000.0
latency_seconds = 30
sale_delay_seconds = 60
outages = [{ from_seconds = 600, to_seconds = 900 }]
gas = { strategy = "market", markup = 0.1, max_gwei = 100.0 }
gas_budget_usd = 500.0

[chain]
block_seconds = 12
room_per_block = 1
gas = { model = "constant", gwei = 200.0 }
"#;

    fn chained() -> ScenarioFile {
        crate::parse(CHAINED, Path::new("c.toml")).expect("parses")
    }

    /// The scenario as built, and its baseline.
    fn baseline(file: &ScenarioFile) -> Baseline {
        let built = crate::from_parsed(file.clone(), CHAINED, Path::new("c.toml"), Path::new("."))
            .unwrap_or_else(|e| panic!("valid:\n{e}"));
        Baseline::of(&built.world)
    }

    fn builds(file: ScenarioFile) -> crate::Scenario {
        crate::from_parsed(file, CHAINED, Path::new("c.toml"), Path::new("."))
            .unwrap_or_else(|e| panic!("the variant is valid:\n{e}"))
    }

    #[test]
    fn no_congestion_removes_the_chain_and_what_needs_it_and_nothing_else() {
        let mut file = chained();
        let start = baseline(&file);
        // The chain alone cannot go: the gas keys would be invalid.
        let mut bare = file.clone();
        bare.chain = None;
        let Err(e) = crate::from_parsed(bare, CHAINED, Path::new("c.toml"), Path::new(".")) else {
            panic!("gas keys without a chain are rejected");
        };
        let e = e.to_string();
        assert!(e.contains("without a [chain] section"), "{e}");
        apply_variant(&mut file, "no_congestion", &start).expect("known");
        assert!(file.chain.is_none());
        let k = &file.keepers[0];
        assert!(k.gas.is_none() && k.gas_budget_usd.is_none());
        assert_eq!(
            (k.latency_seconds, k.sale_delay_seconds, k.outages.len()),
            (Some(30), Some(60), 1),
            "latency, sale delay and outages kept"
        );
        let b = file.positions[0]
            .borrowers
            .as_ref()
            .expect("borrowers kept");
        assert!(b.gas.is_none());
        assert_eq!((b.trigger_health, b.target_health), (1.1, 1.3));
        assert_eq!(file.oracles[0].update.as_deref(), Some("delayed"));
        assert_eq!(
            file.protocols[0].liquidation.as_ref().unwrap().mechanism,
            "english_auction"
        );
        let world = builds(file).world;
        assert!(world.chain.is_none());
        assert_eq!(world.keepers[0].spec.latency, 30);
    }

    #[test]
    fn faster_oracle_makes_delayed_oracles_publish_what_they_read() {
        let mut file = chained();
        let start = baseline(&file);
        apply_variant(&mut file, "faster_oracle", &start).expect("known");
        let osm = &file.oracles[0];
        assert_eq!(
            (osm.update.as_deref(), osm.delay_seconds),
            (Some("every_read"), None)
        );
        assert_eq!(
            (osm.sources.as_slice(), osm.aggregation.as_deref()),
            (["fundamental".to_string()].as_slice(), None),
            "same sources and aggregation"
        );
        let push = &file.oracles[1];
        assert_eq!(
            (push.update.as_deref(), push.heartbeat_seconds),
            (Some("deviation"), Some(3600)),
            "other rules unchanged"
        );
        assert!(file.chain.is_some());
        let world = builds(file).world;
        assert_eq!(
            world.initial.oracles[0].rule(),
            cascade_model::oracle::UpdateRule::EveryRead
        );
    }

    #[test]
    fn stability_pool_puts_every_lending_protocol_on_a_pool_sized_by_its_debt() {
        let mut file = chained();
        let start = baseline(&file);
        let debt: f64 = builds(file.clone()).world.initial.protocols[0]
            .accounts
            .iter()
            .map(|a| a.debt)
            .sum();
        assert!(debt > 0.0);
        apply_variant(&mut file, "stability_pool", &start).expect("known");
        let l = file.protocols[0].liquidation.as_ref().expect("a section");
        assert_eq!(l.mechanism, "liquity_v1");
        assert_eq!(l.stability_pool_usd, Some(STABILITY_POOL_SHARE * debt));
        assert!((l.ccr.expect("ccr") - (1.0 / 0.625 + RECOVERY_MARGIN)).abs() < 1e-12);
        assert_eq!((l.penalty, l.lump_units), (None, None));
        let world = builds(file.clone()).world;
        match world.protocols[0].params.liquidation {
            cascade_model::lending::LiquidationRule::Liquity(p) => {
                assert!((p.mcr - 1.6).abs() < 1e-12, "threshold kept: MCR {}", p.mcr);
                assert_eq!(p.stability_pool, STABILITY_POOL_SHARE * debt);
            }
            other => panic!("not on a stability pool: {other:?}"),
        }
        // Already on a pool: kept, however the baseline would size it.
        let l = file.protocols[0].liquidation.as_mut().expect("a section");
        l.stability_pool_usd = Some(7.0);
        apply_variant(&mut file, "stability_pool", &Baseline::default()).expect("kept");
        assert_eq!(
            file.protocols[0]
                .liquidation
                .as_ref()
                .unwrap()
                .stability_pool_usd,
            Some(7.0)
        );
    }

    #[test]
    fn stability_pool_removes_bonuses_and_rejects_what_a_pool_cannot_take() {
        // TEXT's protocol has a per-collateral bonus, which liquity_v1 rejects.
        let text = TEXT.replace(
            "[[protocols]]",
            "[[assets]]\nsymbol = \"USDC\"\nprice = 1.0\n\n[[protocols]]",
        ) + "\n[[positions]]\nprotocol = \"p\"\ncount = 4\ncollateral = { asset = \"ETH\", total = 4.0 }\ndebt = { asset = \"USDC\" }\nhealth_factor = { distribution = \"even\", low = 1.1, high = 1.5 }\n";
        let build = |file: ScenarioFile| {
            crate::from_parsed(file, &text, Path::new("t.toml"), Path::new("."))
        };
        let file = crate::parse(&text, Path::new("t.toml")).expect("parses");
        let start = Baseline::of(&build(file.clone()).expect("valid").world);
        let mut pooled = file.clone();
        apply_variant(&mut pooled, "stability_pool", &start).expect("known");
        assert_eq!(
            pooled.protocols[0].collateral.as_ref().unwrap()["ETH"].liquidation_bonus,
            None
        );
        build(pooled).unwrap_or_else(|e| panic!("valid under a pool:\n{e}"));
        // Without the start figures the pool cannot be sized.
        let e = apply_variant(&mut file.clone(), "stability_pool", &Baseline::default())
            .expect_err("no baseline");
        assert!(e.contains("\"p\" has no start figures"), "{e}");
        // Two collateral assets: a pool takes one.
        let two = text.replace(
            "collateral = { ETH = { ltv = 0.8, liquidation_threshold = 0.85, liquidation_bonus = 0.06 } }",
            "collateral = { ETH = { ltv = 0.8, liquidation_threshold = 0.85 }, BTC = { ltv = 0.7, liquidation_threshold = 0.75 } }",
        ) + "\n[[assets]]\nsymbol = \"BTC\"\nprice = 30000.0\n";
        let file = crate::parse(&two, Path::new("t.toml")).expect("parses");
        let built = crate::from_parsed(file.clone(), &two, Path::new("t.toml"), Path::new("."))
            .unwrap_or_else(|e| panic!("valid:\n{e}"));
        let e = apply_variant(
            &mut file.clone(),
            "stability_pool",
            &Baseline::of(&built.world),
        )
        .expect_err("two collateral assets");
        assert!(e.contains("accepts 2 collateral assets"), "{e}");
    }

    #[test]
    fn combinations_apply_their_parts_left_to_right() {
        let file = chained();
        let start = baseline(&file);
        let mut both = file.clone();
        apply_variant(&mut both, "dutch_auction+no_congestion", &start).expect("known");
        assert!(both.chain.is_none());
        assert_eq!(
            both.protocols[0].liquidation.as_ref().unwrap().mechanism,
            "dutch_auction"
        );
        builds(both);
        let mechanism_after = |variant: &str| {
            let mut f = file.clone();
            apply_variant(&mut f, variant, &start).expect("known");
            f.protocols[0].liquidation.clone().unwrap().mechanism
        };
        assert_eq!(
            mechanism_after("dutch_auction+stability_pool"),
            "liquity_v1"
        );
        assert_eq!(
            mechanism_after("stability_pool+dutch_auction"),
            "dutch_auction"
        );
        let mut all = file.clone();
        apply_variant(
            &mut all,
            "as_is+faster_oracle+no_congestion+stability_pool",
            &start,
        )
        .expect("known");
        assert!(all.chain.is_none());
        assert_eq!(all.oracles[0].update.as_deref(), Some("every_read"));
        builds(all);
    }

    #[test]
    fn unknown_and_repeated_parts_are_rejected_naming_the_part() {
        let e = parts("dutch").expect_err("unknown");
        assert!(
            e.starts_with("unknown mechanism; expected one of as_is, fixed_spread"),
            "{e}"
        );
        assert!(e.contains("insurance_fund, no_congestion, faster_oracle, stability_pool"));
        let e = parts("dutch_auction+slow_oracle").expect_err("unknown part");
        assert!(
            e.starts_with("part \"slow_oracle\": unknown mechanism; expected one of"),
            "{e}"
        );
        assert!(parts("dutch_auction+").is_err(), "an empty part");
        let e = parts("no_congestion+as_is+no_congestion").expect_err("twice");
        assert_eq!(e, "part \"no_congestion\" is given twice");
        assert_eq!(
            parts("backstop+no_congestion").expect("known"),
            ["backstop", "no_congestion"]
        );
        // The mechanism switch alone takes no counterfactual.
        assert!(apply(&mut chained(), "no_congestion").is_err());
    }

    #[test]
    fn leaving_compound_iii_drops_the_liquidation_factors() {
        let text = TEXT.replace(
            "liquidation = { mechanism = \"fixed_spread\", bonus = 0.07, close_factor = 0.3, protocol_fee = 0.2 }\ncollateral = { ETH = { ltv = 0.8, liquidation_threshold = 0.85, liquidation_bonus = 0.06 } }",
            "liquidation = { mechanism = \"compound_v3\", store_front_price_factor = 0.5, target_reserves_usd = 1.0 }\ncollateral = { ETH = { ltv = 0.8, liquidation_threshold = 0.85, liquidation_factor = 0.93 } }",
        );
        let mut file = crate::parse(&text, Path::new("t.toml")).expect("parses");
        apply(&mut file, "dutch_auction").expect("known");
        assert_eq!(
            file.protocols[0].collateral.as_ref().unwrap()["ETH"].liquidation_factor,
            None
        );
        crate::from_parsed(file, &text, Path::new("t.toml"), Path::new("."))
            .unwrap_or_else(|e| panic!("valid:\n{e}"));
    }
}
