//! Named liquidation mechanisms that `cascade compare` applies to every lending protocol of a
//! scenario, so the same book, prices and keepers can be run under each and measured side by
//! side.
//!
//! A protocol already on the named mechanism keeps its own parameters. Otherwise the mechanism's
//! defaults apply, reusing the scenario's bonus and protocol fee where the mechanism takes them:
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
        if matches!(
            kind,
            "morpho_blue" | "euler_v2" | "dutch_auction" | "english_auction" | "backstop"
        ) {
            for collateral in protocol.collateral.iter_mut().flat_map(|c| c.values_mut()) {
                collateral.liquidation_bonus = None;
            }
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
}
