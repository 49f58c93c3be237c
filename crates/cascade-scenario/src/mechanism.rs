//! The liquidation mechanisms a lending protocol can name, in one registry, and what
//! `cascade compare` applies to a scenario: the same book, prices and keepers run under each
//! mechanism or counterfactual and measured side by side.
//!
//! [`MECHANISMS`] is the one list of mechanisms: each entry's name (`liquidation.mechanism` in a
//! scenario file), what it is, the keys its `liquidation` table takes, what it takes per
//! collateral asset, and how `cascade compare` switches a protocol to it (its compare targets
//! and their defaults). The scenario builder validates against it, `cascade compare` and its
//! `--help` list its targets, and `cascade presets` prints it.
//!
//! A *mechanism* variant switches every lending protocol's liquidation rule ([`apply`]). A
//! protocol already on the target mechanism (and version) keeps its own parameters. Otherwise
//! the target's defaults apply, reusing the scenario's bonus and protocol fee where the mechanism
//! takes them; per-collateral bonuses and liquidation factors are kept, set or removed by what
//! the mechanism takes ([`CollateralTerms`]):
//!
//! | variant | liquidation table |
//! |---|---|
//! | `as_is` | the scenario's own |
//! | `fixed_spread` | bonus (scenario's, else 0.05), close factor 0.5, whole debt at or below
//! health factor 0.95, protocol fee (scenario's, else 0) |
//! | `aave_v3.2`, `aave_v3.3` | Aave v3 at that version, bonus and protocol fee as above |
//! | `aave_v4` | Aave v4 with the liquidation configuration of aave-v4's test suite's first Spoke
//! (`tests/setup/Base.t.sol`): target health factor 1.05, maximum bonus at health factor 0.7, bonus
//! factor 20%; maximum bonus (scenario's, else 0.05: its WETH reserve's 105%), liquidation fee
//! (scenario's protocol fee, else 0.10: that reserve's 10%) |
//! | `compound_v2` | bonus (scenario's, else 0.08), close factor 0.5, protocol seize share 0.028 |
//! | `morpho_blue` | Morpho Blue (incentive from the liquidation threshold; per-collateral bonuses
//! removed) |
//! | `euler_v2` | Euler v2, maximum discount (scenario's, else 0.15; per-collateral bonuses
//! removed) |
//! | `dutch_auction` | Maker Liquidations 2.0 with ETH-A-like parameters: penalty (the scenario's
//! bonus, else 0.13), buf 1.2, 1% cut every 90 s, tail 8,400 s, cusp 0.4, tip 300 USD, chip 0.1%
//! (per-collateral bonuses removed) |
//! | `english_auction` | Maker Liquidations 1.2 as on ETH-A in March 2020: penalty (the scenario's
//! bonus, else 0.13), beg 3%, ttl 600 s, tau 6 h, lump 50 units (per-collateral bonuses removed) |
//! | `backstop` | liquidation via transfer: a vault with unlimited capital takes positions over at
//! a penalty (the scenario's bonus, else 0.05) and sells 10% of its holdings per hour
//! (per-collateral bonuses removed) |
//! | `compound_v3` | Compound III: store-front price factor 0.5 (as in docs/reference-math.md §3's
//! examples), reserves starting at 0 with a target of 0 (absorbed collateral is bought back by
//! keepers while reserves are below their start, i.e. until the protocol has recovered what its
//! absorbs paid out), each collateral's liquidation factor 1 − its bonus (its own, else the
//! scenario's, else 0.07: the 0.93 of `examples/compound-v3-absorb.toml`), per-collateral bonuses
//! removed |
//! | `liquity_v1` | a Liquity v1 Stability Pool, as the `stability_pool` counterfactual below |
//! | `insurance_fund` | the scenario's own liquidation rule, behind an insurance fund: the
//! scenario's `insurance` table if it has one, else 10,000,000 USD fed by all protocol fees, with
//! shortfalls socialised |
//!
//! (Leaving Compound III, a protocol's per-collateral liquidation factors are removed: only
//! `compound_v3` takes them.)
//!
//! A *counterfactual* changes one other thing about the day, so that a replay can be asked
//! what-if questions on the same prices ([`apply_variant`]):
//!
//! | name | what changes |
//! |---|---|
//! | `no_congestion` | the `[chain]` section is removed, with the keys that need one (keepers'
//! `gas` and `gas_budget_usd`, positions' `borrowers.gas`): transactions cost nothing and get in at
//! once. Keepers keep their latency, outages and sale delay; borrowers their behaviour |
//! | `faster_oracle` | every oracle with `update = "delayed"` (Maker's OSM) becomes `update =
//! "every_read"`, same sources and aggregation, `delay_seconds` removed: it publishes what it reads
//! at every step and re-reads inside the cascade (unless it is a TWAP), instead of one hop late and
//! once per hop. Other oracles are unchanged |
//! | `stability_pool` | every lending protocol liquidates through a Liquity v1 Stability Pool
//! (`liquity_v1`, the same as that mechanism variant) with its own liquidation threshold (MCR = 1 /
//! threshold): deposits = [`STABILITY_POOL_SHARE`] (25%) of the protocol's debt at the start, in
//! its debt asset; CCR = MCR + [`RECOVERY_MARGIN`] (0.4, Liquity's 110% → 150%); Liquity's gas
//! compensation; per-collateral bonuses and liquidation factors removed. A protocol already on
//! `liquity_v1` keeps its pool and parameters; one that accepts several collateral assets is an
//! error (a pool takes one) |
//!
//! | `gas_war` | every keeper's `gas` becomes `{ strategy = "priority_auction", price_bump = 0.1 }`:
//! keepers wanting the same liquidation call or take in a step outbid each other's gas by 10%,
//! each up to what it is worth to it, with no other cap; English-auction bids go at the clearing
//! price when the lot is worth it (gas budgets kept). Needs a `[chain]` |
//!
//! A *variant* is a mechanism, a counterfactual, or several of them joined by `+`, applied left
//! to right (`dutch_auction+no_congestion`): comparing `as_is`, `no_congestion`, `dutch_auction`
//! and `dutch_auction+no_congestion` separates what the auction design and what congestion each
//! caused. A part given twice in one variant is an error. Perp exchanges are left alone by every
//! variant but `faster_oracle` (their index oracles change like the others) and the ADL
//! policies, which change only perp exchanges ([`ADL_POLICIES`]):
//!
//! | name | what changes, on every perp exchange |
//! |---|---|
//! | `adl_hyperliquid` | `adl_ranking = "hyperliquid"`, `adl_price = "previous_oracle"` |
//! | `adl_binance` | `adl_ranking = "binance"`, `adl_price = "bankruptcy"` |
//! | `adl_bitmex` | `adl_ranking = "bitmex"`, `adl_price = "bankruptcy"` |
//! | `adl_whole_positions` | `adl_allocation = "whole_positions"` (ranking and price kept) |
//! | `adl_pro_rata` | `adl_allocation = "pro_rata"` (price kept) |
//! | `socialised_loss` | `insurance.shortfall = "socialise"` (a fund of 0 where none is given) |
//! | `no_vault` | `vault_capital_usd` and `vault_below_fraction` removed: no liquidator vault |
//!
//! A queue and an allocation combine: `adl_binance+adl_whole_positions`.

use std::collections::BTreeMap;

use cascade_engine::World;

use crate::build::perp::{ProtocolKind, section_kind};
use crate::preset::{self, Preset, PresetKind};
use crate::schema::{
    GasStrategySection, InsuranceSection, LiquidationSection, PerpSection, ScenarioFile,
};

/// A liquidation mechanism a lending protocol's `liquidation` table can name.
#[derive(Clone, Copy, Debug)]
pub struct Mechanism {
    /// `mechanism = "..."` in a scenario file.
    pub name: &'static str,
    /// Which mechanism it is.
    pub kind: MechanismKind,
    /// What it is, in one line.
    pub summary: &'static str,
    /// The keys its `liquidation` table takes besides `mechanism`; any other is an error.
    pub keys: &'static [&'static str],
    /// What it takes per collateral asset besides `ltv` and `liquidation_threshold`.
    pub collateral: CollateralTerms,
    /// How `cascade compare` switches a protocol to it.
    pub compare: &'static [CompareTarget],
}

/// The mechanisms, one per liquidation rule of the model (`cascade_model::lending::LiquidationRule`
/// has one variant per kind, the close-factor protocols included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MechanismKind {
    /// A generic fixed spread.
    FixedSpread,
    /// Aave v3, at version 3.2 or 3.3.
    AaveV3,
    /// Aave v4: target health factor, health-dependent bonus.
    AaveV4,
    /// Compound v2.
    CompoundV2,
    /// Morpho Blue.
    MorphoBlue,
    /// Euler v2.
    EulerV2,
    /// Maker Liquidations 2.0: Dutch auctions.
    DutchAuction,
    /// Maker Liquidations 1.2: English auctions.
    EnglishAuction,
    /// Liquidation via transfer to a backstop vault.
    Backstop,
    /// Compound III: absorb and buyCollateral.
    CompoundV3,
    /// Liquity v1: the Stability Pool.
    LiquityV1,
}

/// What a mechanism takes per collateral asset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollateralTerms {
    /// `liquidation_bonus`, defaulting to the `liquidation` table's `bonus`.
    Bonus,
    /// `liquidation_factor` (required): the share of the collateral's value an absorbed
    /// account is credited with.
    LiquidationFactor,
    /// Nothing: the incentive is set by the mechanism's own rule.
    OwnRule,
}

/// A `cascade compare` variant that switches every lending protocol to a mechanism.
#[derive(Clone, Copy, Debug)]
pub struct CompareTarget {
    /// The variant's name in `--mechanisms`.
    pub name: &'static str,
    /// What it sets where the scenario says nothing, in words.
    pub defaults: &'static str,
    /// The version the target names, if the mechanism has versions: a protocol on the
    /// mechanism at another version is switched.
    version: Option<&'static str>,
    /// The new `liquidation` table of a protocol switched to the target.
    liquidation: fn(&Switch<'_>) -> Result<LiquidationSection, String>,
}

/// What a protocol switched to a compare target starts from.
struct Switch<'a> {
    /// The protocol's name.
    protocol: &'a str,
    /// Its `liquidation` table (its preset's fixed spread when it has none).
    old: &'a LiquidationSection,
    /// Its figures at the start of the scenario as written, if known.
    start: Option<&'a ProtocolStart>,
}

/// Every liquidation mechanism, in the order they are listed (in error messages, `--help`,
/// `cascade presets` and the compare variants).
pub const MECHANISMS: &[Mechanism] = &[
    Mechanism {
        name: "fixed_spread",
        kind: MechanismKind::FixedSpread,
        summary: "a generic fixed spread: at most a close factor of the debt per call (all of it at or below a health-factor threshold), collateral at a bonus, a protocol fee on the bonus part",
        keys: &[
            "bonus",
            "close_factor",
            "full_close_below_health_factor",
            "protocol_fee",
            "bonus_slope",
            "bonus_cap",
            "volatility_slope",
            "volatility_window_seconds",
        ],
        collateral: CollateralTerms::Bonus,
        compare: &[CompareTarget {
            name: "fixed_spread",
            defaults: "bonus (the scenario's, else 0.05), close factor 0.5, the whole debt at or below health factor 0.95, protocol fee (the scenario's, else 0)",
            version: None,
            liquidation: to_fixed_spread,
        }],
    },
    Mechanism {
        name: "aave_v3",
        kind: MechanismKind::AaveV3,
        summary: "Aave v3 at version 3.2 or 3.3: 50% close factor above health factor 0.95; v3.3's dust rule and deficit write-off",
        keys: &["version", "bonus", "protocol_fee"],
        collateral: CollateralTerms::Bonus,
        compare: &[
            CompareTarget {
                name: "aave_v3.2",
                defaults: "version 3.2, bonus (the scenario's, else 0.05), protocol fee (the scenario's, else 0)",
                version: Some("3.2"),
                liquidation: to_aave_v3_2,
            },
            CompareTarget {
                name: "aave_v3.3",
                defaults: "version 3.3, bonus (the scenario's, else 0.05), protocol fee (the scenario's, else 0)",
                version: Some("3.3"),
                liquidation: to_aave_v3_3,
            },
        ],
    },
    Mechanism {
        name: "aave_v4",
        kind: MechanismKind::AaveV4,
        summary: "Aave v4 (Spoke LiquidationLogic): a call repays what restores the target health factor, at a bonus rising from a minimum just below health factor 1 to the maximum at health_factor_for_max_bonus; no debt or collateral left under $1,000; deficit written off",
        keys: &[
            "bonus",
            "protocol_fee",
            "target_health_factor",
            "health_factor_for_max_bonus",
            "liquidation_bonus_factor",
        ],
        collateral: CollateralTerms::Bonus,
        compare: &[CompareTarget {
            name: "aave_v4",
            defaults: "aave-v4's tests/setup/Base.t.sol first Spoke: target health factor 1.05, maximum bonus at health factor 0.7, bonus factor 0.2; maximum bonus (the scenario's, else 0.05), liquidation fee (the scenario's protocol fee, else 0.1)",
            version: None,
            liquidation: to_aave_v4,
        }],
    },
    Mechanism {
        name: "compound_v2",
        kind: MechanismKind::CompoundV2,
        summary: "Compound v2: a close factor of the borrow per call, collateral at the incentive, a share of it to reserves; nothing written off",
        keys: &["bonus", "close_factor", "protocol_seize_share"],
        collateral: CollateralTerms::Bonus,
        compare: &[CompareTarget {
            name: "compound_v2",
            defaults: "bonus (the scenario's, else 0.08), close factor 0.5, protocol seize share 0.028",
            version: None,
            liquidation: to_compound_v2,
        }],
    },
    Mechanism {
        name: "morpho_blue",
        kind: MechanismKind::MorphoBlue,
        summary: "Morpho Blue: no close factor, the incentive from the liquidation threshold, bad debt written off once the collateral is gone",
        keys: &[],
        collateral: CollateralTerms::OwnRule,
        compare: &[CompareTarget {
            name: "morpho_blue",
            defaults: "the incentive from the liquidation threshold; per-collateral bonuses removed",
            version: None,
            liquidation: to_morpho_blue,
        }],
    },
    Mechanism {
        name: "euler_v2",
        kind: MechanismKind::EulerV2,
        summary: "Euler v2: the whole liability repayable at a discount that grows with the shortfall, up to a maximum",
        keys: &["max_discount"],
        collateral: CollateralTerms::OwnRule,
        compare: &[CompareTarget {
            name: "euler_v2",
            defaults: "maximum discount (the scenario's, else 0.15); per-collateral bonuses removed",
            version: None,
            liquidation: to_euler_v2,
        }],
    },
    Mechanism {
        name: "dutch_auction",
        kind: MechanismKind::DutchAuction,
        summary: "Maker Liquidations 2.0 (Dog + Clipper): vaults sold in Dutch auctions whose price falls until keepers take",
        keys: &[
            "buf",
            "penalty",
            "curve",
            "tau_seconds",
            "step_seconds",
            "cut",
            "tail_seconds",
            "cusp",
            "tip_usd",
            "chip",
            "dust_usd",
            "hole_usd",
            "circuit_breaker",
        ],
        collateral: CollateralTerms::OwnRule,
        compare: &[CompareTarget {
            name: "dutch_auction",
            defaults: "ETH-A-like: penalty (the scenario's bonus, else 0.13), buf 1.2, 1% cut every 90 s, tail 8,400 s, cusp 0.4, tip 300 USD, chip 0.1%; per-collateral bonuses removed",
            version: None,
            liquidation: to_dutch_auction,
        }],
    },
    Mechanism {
        name: "english_auction",
        kind: MechanismKind::EnglishAuction,
        summary: "Maker Liquidations 1.2 (Cat + Flipper): vaults sold in English auctions, bids rising for the lot then lots falling for the tab",
        keys: &["penalty", "beg", "ttl_seconds", "tau_seconds", "lump_units"],
        collateral: CollateralTerms::OwnRule,
        compare: &[CompareTarget {
            name: "english_auction",
            defaults: "as on ETH-A in March 2020: penalty (the scenario's bonus, else 0.13), beg 3%, ttl 600 s, tau 6 h, lump 50 units; per-collateral bonuses removed",
            version: None,
            liquidation: to_english_auction,
        }],
    },
    Mechanism {
        name: "backstop",
        kind: MechanismKind::Backstop,
        summary: "liquidation via transfer: a backstop vault takes positions over off the market and unwinds them over time",
        keys: &[
            "penalty",
            "unwind",
            "unwind_fraction_per_hour",
            "backstop_capital_usd",
        ],
        collateral: CollateralTerms::OwnRule,
        compare: &[CompareTarget {
            name: "backstop",
            defaults: "unlimited capital, penalty (the scenario's bonus, else 0.05), selling 10% of its holdings per hour; per-collateral bonuses removed",
            version: None,
            liquidation: to_backstop,
        }],
    },
    Mechanism {
        name: "compound_v3",
        kind: MechanismKind::CompoundV3,
        summary: "Compound III: unhealthy accounts absorbed into the protocol's reserves, keepers buying the collateral at a discount while reserves are below target",
        keys: &[
            "store_front_price_factor",
            "target_reserves_usd",
            "initial_reserves_usd",
        ],
        collateral: CollateralTerms::LiquidationFactor,
        compare: &[CompareTarget {
            name: "compound_v3",
            defaults: "store-front price factor 0.5, reserves starting at 0 with a target of 0 (absorbed collateral is sold until the absorbs are paid back), each collateral's liquidation factor 1 − its bonus (its own, else the scenario's, else 0.07); per-collateral bonuses removed",
            version: None,
            liquidation: to_compound_v3,
        }],
    },
    Mechanism {
        name: "liquity_v1",
        kind: MechanismKind::LiquityV1,
        summary: "Liquity v1: troves offset against a Stability Pool, the rest redistributed to the other troves, with a recovery mode",
        keys: &[
            "stability_pool_usd",
            "ccr",
            "gas_compensation",
            "collateral_gas_share",
            "entry_point",
        ],
        collateral: CollateralTerms::OwnRule,
        compare: &[CompareTarget {
            name: "liquity_v1",
            defaults: "a Stability Pool of 25% of the protocol's debt at the start, MCR = 1 / the liquidation threshold, CCR = MCR + 0.4, Liquity's gas compensation; one collateral asset only (as stability_pool)",
            version: None,
            liquidation: to_liquity_v1,
        }],
    },
];

/// The mechanism named `name` in a scenario file.
pub fn find(name: &str) -> Option<&'static Mechanism> {
    MECHANISMS.iter().find(|m| m.name == name)
}

/// The mechanism names, for messages: `fixed_spread, aave_v3, …`.
pub fn names() -> String {
    MECHANISMS
        .iter()
        .map(|m| m.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The variant that leaves the scenario as written.
const AS_IS: &str = "as_is";

/// The variant that puts every lending protocol behind an insurance fund.
const INSURANCE_FUND: &str = "insurance_fund";

/// The counterfactuals [`apply_variant`] accepts besides the mechanism variants.
pub const COUNTERFACTUALS: [&str; 4] = [
    "no_congestion",
    "faster_oracle",
    "stability_pool",
    "gas_war",
];

/// The auto-deleveraging policies [`apply_variant`] accepts, for perp exchanges: the three
/// venues' queues, each at its own price (`adl_hyperliquid` at the previous oracle price,
/// `adl_binance` and `adl_bitmex` at the bankruptcy price), the two other allocations
/// (`adl_whole_positions`, `adl_pro_rata`) and, instead of deleveraging, a haircut of every
/// account in profit pro rata to its profit (`socialised_loss`); and `no_vault`, no liquidator
/// vault, so that a bankrupt account is deleveraged instead of taken over.
pub const ADL_POLICIES: [&str; 7] = [
    "adl_hyperliquid",
    "adl_binance",
    "adl_bitmex",
    "adl_whole_positions",
    "adl_pro_rata",
    "socialised_loss",
    "no_vault",
];

/// The mechanism variants [`apply`] accepts, in order: `as_is`, every mechanism's compare
/// targets, `insurance_fund`.
pub fn mechanism_variants() -> Vec<&'static str> {
    std::iter::once(AS_IS)
        .chain(
            MECHANISMS
                .iter()
                .flat_map(|m| m.compare.iter().map(|t| t.name)),
        )
        .chain(std::iter::once(INSURANCE_FUND))
        .collect()
}

/// The mechanism and compare target of variant `name`.
fn target(name: &str) -> Option<(&'static Mechanism, &'static CompareTarget)> {
    MECHANISMS
        .iter()
        .find_map(|m| m.compare.iter().find(|t| t.name == name).map(|t| (m, t)))
}

/// The help of `cascade compare --mechanisms`: every variant it accepts.
pub fn variants_help() -> String {
    let mechanisms = mechanism_variants()
        .into_iter()
        .map(|name| match name {
            AS_IS => "as_is (the scenario unchanged)".to_string(),
            INSURANCE_FUND => {
                "insurance_fund (the scenario's own rule behind an insurance fund)".to_string()
            }
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "Comma-separated variants. Mechanisms: {mechanisms}. Counterfactuals: no_congestion (no [chain]), faster_oracle (delayed oracles publish what they read), stability_pool (as liquity_v1: a Liquity v1 Stability Pool of 25% of each protocol's debt), gas_war (every keeper bids gas in priority gas auctions, up to each opportunity's value; needs a [chain]). ADL policies of perp exchanges: adl_hyperliquid, adl_binance, adl_bitmex (that venue's queue and price), adl_whole_positions (ranked positions closed whole), adl_pro_rata (positions in profit closed by the same fraction), socialised_loss (a haircut pro rata to profit instead of ADL), no_vault (no liquidator vault: bankrupt accounts are deleveraged). Join several with + to apply them left to right, e.g. dutch_auction+no_congestion. `cascade presets` lists each mechanism with the defaults a switch to it sets."
    )
}

/// Under `stability_pool`, the pool's deposits as a share of the protocol's debt at the start. (A
/// protocol already on `liquity_v1` keeps its own `stability_pool_usd`: the way to another size.)
pub const STABILITY_POOL_SHARE: f64 = 0.25;

/// Under `stability_pool`, CCR − MCR: Liquity v1's 150% − 110%.
pub const RECOVERY_MARGIN: f64 = 0.4;

/// Under `compound_v3`, the penalty (1 − liquidation factor) of a collateral whose bonus the
/// scenario does not give: the 0.93 liquidation factor of `examples/compound-v3-absorb.toml`.
pub const COMET_PENALTY: f64 = 0.07;

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
    let mechanisms = mechanism_variants();
    let parts: Vec<&str> = variant.split('+').collect();
    let combined = parts.len() > 1;
    for (i, part) in parts.iter().enumerate() {
        if !mechanisms.contains(part)
            && !COUNTERFACTUALS.contains(part)
            && !ADL_POLICIES.contains(part)
        {
            let known: Vec<&str> = mechanisms
                .iter()
                .chain(&COUNTERFACTUALS)
                .chain(&ADL_POLICIES)
                .copied()
                .collect();
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
/// What [`parts`] rejects; what [`apply`] rejects.
pub fn apply_variant(
    file: &mut ScenarioFile,
    variant: &str,
    baseline: &Baseline,
) -> Result<(), String> {
    for part in parts(variant)? {
        match part {
            "no_congestion" => no_congestion(file),
            "faster_oracle" => faster_oracle(file),
            "stability_pool" => apply(file, "liquity_v1", baseline)?,
            "gas_war" => gas_war(file)?,
            "adl_hyperliquid" => adl_queue(file, "hyperliquid", "previous_oracle"),
            "adl_binance" => adl_queue(file, "binance", "bankruptcy"),
            "adl_bitmex" => adl_queue(file, "bitmex", "bankruptcy"),
            "adl_whole_positions" => adl_allocation(file, "whole_positions"),
            "adl_pro_rata" => adl_allocation(file, "pro_rata"),
            "socialised_loss" => socialised_loss(file),
            "no_vault" => no_vault(file),
            mechanism => apply(file, mechanism, baseline)?,
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

/// `gas_war`: every keeper bids gas in priority gas auctions (`strategy = "priority_auction"`,
/// price bump 10%, no cap: only each opportunity's value bounds its bids); gas budgets are kept.
///
/// # Errors
/// A scenario without a `[chain]`: there is no gas to bid.
fn gas_war(file: &mut ScenarioFile) -> Result<(), String> {
    if file.chain.is_none() {
        return Err(
            "variant part \"gas_war\" needs a [chain] section: without one there is no gas to bid"
                .to_string(),
        );
    }
    for keeper in &mut file.keepers {
        keeper.gas = Some(GasStrategySection {
            strategy: "priority_auction".to_string(),
            gwei: None,
            markup: None,
            max_gwei: None,
            price_bump: Some(0.1),
        });
    }
    Ok(())
}

/// Every perp exchange's `[protocols.perp]` table, created empty where there is none.
fn perp_sections(file: &mut ScenarioFile) -> impl Iterator<Item = &mut PerpSection> {
    file.protocols
        .iter_mut()
        .filter(|p| section_kind(p) == Some(ProtocolKind::Perp))
        .map(|p| p.perp.get_or_insert_with(PerpSection::default))
}

/// `adl_hyperliquid`, `adl_binance`, `adl_bitmex`: every perp exchange deleverages by that
/// venue's queue at that venue's price.
fn adl_queue(file: &mut ScenarioFile, ranking: &str, price: &str) {
    for perp in perp_sections(file) {
        perp.adl_ranking = Some(ranking.to_string());
        perp.adl_price = Some(price.to_string());
    }
}

/// `adl_whole_positions`, `adl_pro_rata`: every perp exchange spreads a bankrupt position so.
fn adl_allocation(file: &mut ScenarioFile, allocation: &str) {
    for perp in perp_sections(file) {
        perp.adl_allocation = Some(allocation.to_string());
    }
}

/// `socialised_loss`: every perp exchange charges what its fund cannot pay to the accounts in
/// profit, pro rata to their profit, instead of deleveraging (fund as written, else none).
fn socialised_loss(file: &mut ScenarioFile) {
    for protocol in &mut file.protocols {
        if section_kind(protocol) != Some(ProtocolKind::Perp) {
            continue;
        }
        let insurance = protocol.insurance.get_or_insert(InsuranceSection {
            fund_usd: 0.0,
            fee_share: None,
            shortfall: None,
            debt_auction_lot_usd: None,
        });
        insurance.shortfall = Some("socialise".to_string());
    }
}

/// `no_vault`: no perp exchange has a liquidator vault (Hyperliquid's rule after JELLY, "ADL
/// will be triggered if the Liquidator loses above a certain threshold", with a threshold of 0).
fn no_vault(file: &mut ScenarioFile) {
    for protocol in &mut file.protocols {
        if section_kind(protocol) != Some(ProtocolKind::Perp) {
            continue;
        }
        if let Some(perp) = protocol.perp.as_mut() {
            perp.vault_capital_usd = None;
            perp.vault_below_fraction = None;
        }
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

/// `insurance_fund`: every lending protocol without one gets an insurance fund.
fn insurance_fund(file: &mut ScenarioFile) {
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
}

/// Applies mechanism variant `name` to every lending protocol of `file` ([`mechanism_variants`]):
/// `as_is`, `insurance_fund`, or a switch to a mechanism's compare target (`baseline` gives the
/// start figures a Stability Pool is sized from).
///
/// # Errors
/// An unknown name, with the list of known ones; under `liquity_v1`, a protocol missing from
/// `baseline` or accepting several collateral assets.
pub fn apply(file: &mut ScenarioFile, name: &str, baseline: &Baseline) -> Result<(), String> {
    if name == AS_IS {
        return Ok(());
    }
    if name == INSURANCE_FUND {
        insurance_fund(file);
        return Ok(());
    }
    let Some((mechanism, target)) = target(name) else {
        return Err(format!(
            "unknown mechanism; expected one of {}",
            mechanism_variants().join(", ")
        ));
    };
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
        if old.mechanism == mechanism.name
            && (target.version.is_none() || old.version.as_deref() == target.version)
        {
            continue;
        }
        let new = (target.liquidation)(&Switch {
            protocol: &protocol.name,
            old,
            start: baseline.protocols.get(&protocol.name),
        })?;
        let scenario_bonus = old.bonus;
        for collateral in protocol.collateral.iter_mut().flat_map(|c| c.values_mut()) {
            match mechanism.collateral {
                CollateralTerms::Bonus => collateral.liquidation_factor = None,
                CollateralTerms::LiquidationFactor => {
                    let penalty = collateral
                        .liquidation_bonus
                        .or(scenario_bonus)
                        .unwrap_or(COMET_PENALTY);
                    collateral.liquidation_factor = Some(1.0 - penalty);
                    collateral.liquidation_bonus = None;
                }
                CollateralTerms::OwnRule => {
                    collateral.liquidation_bonus = None;
                    collateral.liquidation_factor = None;
                }
            }
        }
        protocol.liquidation = Some(new);
    }
    Ok(())
}

/// A `liquidation` table naming `mechanism` and nothing else yet.
fn section(mechanism: &str) -> LiquidationSection {
    LiquidationSection {
        mechanism: mechanism.to_string(),
        ..LiquidationSection::default()
    }
}

fn to_fixed_spread(s: &Switch<'_>) -> Result<LiquidationSection, String> {
    Ok(LiquidationSection {
        bonus: Some(s.old.bonus.unwrap_or(0.05)),
        close_factor: Some(0.5),
        full_close_below_health_factor: Some(0.95),
        protocol_fee: s.old.protocol_fee,
        ..section("fixed_spread")
    })
}

fn to_aave_v3(s: &Switch<'_>, version: &str) -> LiquidationSection {
    LiquidationSection {
        version: Some(version.to_string()),
        bonus: Some(s.old.bonus.unwrap_or(0.05)),
        protocol_fee: s.old.protocol_fee,
        ..section("aave_v3")
    }
}

fn to_aave_v3_2(s: &Switch<'_>) -> Result<LiquidationSection, String> {
    Ok(to_aave_v3(s, "3.2"))
}

fn to_aave_v3_3(s: &Switch<'_>) -> Result<LiquidationSection, String> {
    Ok(to_aave_v3(s, "3.3"))
}

/// Aave v4 with the liquidation configuration its test suite gives its first Spoke and WETH
/// reserve (aave/aave-v4 at 1e8de8630dfeb26ad309d986eaec44c1ceb48a6d, `tests/setup/Base.t.sol`
/// L559–597: `targetHealthFactor: 1.05e18, healthFactorForMaxBonus: 0.7e18,
/// liquidationBonusFactor: 20_00`; WETH `maxLiquidationBonus: 105_00, liquidationFee: 10_00`);
/// docs/reference-math.md §1.6.
fn to_aave_v4(s: &Switch<'_>) -> Result<LiquidationSection, String> {
    Ok(LiquidationSection {
        bonus: Some(s.old.bonus.unwrap_or(0.05)),
        protocol_fee: Some(s.old.protocol_fee.unwrap_or(0.10)),
        target_health_factor: Some(1.05),
        health_factor_for_max_bonus: Some(0.7),
        liquidation_bonus_factor: Some(0.2),
        ..section("aave_v4")
    })
}

fn to_compound_v2(s: &Switch<'_>) -> Result<LiquidationSection, String> {
    Ok(LiquidationSection {
        bonus: Some(s.old.bonus.unwrap_or(0.08)),
        close_factor: Some(0.5),
        protocol_seize_share: Some(0.028),
        ..section("compound_v2")
    })
}

fn to_morpho_blue(_: &Switch<'_>) -> Result<LiquidationSection, String> {
    Ok(section("morpho_blue"))
}

fn to_euler_v2(s: &Switch<'_>) -> Result<LiquidationSection, String> {
    Ok(LiquidationSection {
        max_discount: Some(s.old.max_discount.unwrap_or(0.15)),
        ..section("euler_v2")
    })
}

fn to_dutch_auction(s: &Switch<'_>) -> Result<LiquidationSection, String> {
    Ok(LiquidationSection {
        penalty: Some(s.old.bonus.unwrap_or(0.13)),
        buf: Some(1.2),
        curve: Some("stairstep_exponential".to_string()),
        step_seconds: Some(90.0),
        cut: Some(0.99),
        tail_seconds: Some(8_400.0),
        cusp: Some(0.4),
        tip_usd: Some(300.0),
        chip: Some(0.001),
        ..section("dutch_auction")
    })
}

fn to_english_auction(s: &Switch<'_>) -> Result<LiquidationSection, String> {
    Ok(LiquidationSection {
        penalty: Some(s.old.bonus.unwrap_or(0.13)),
        beg: Some(0.03),
        ttl_seconds: Some(600),
        tau_seconds: Some(21_600.0),
        lump_units: Some(50.0),
        ..section("english_auction")
    })
}

fn to_backstop(s: &Switch<'_>) -> Result<LiquidationSection, String> {
    Ok(LiquidationSection {
        penalty: Some(s.old.bonus.unwrap_or(0.05)),
        unwind: Some("sell".to_string()),
        unwind_fraction_per_hour: Some(0.1),
        ..section("backstop")
    })
}

fn to_compound_v3(_: &Switch<'_>) -> Result<LiquidationSection, String> {
    Ok(LiquidationSection {
        store_front_price_factor: Some(0.5),
        target_reserves_usd: Some(0.0),
        ..section("compound_v3")
    })
}

/// A Stability Pool sized from the protocol's debt at the start, with its own liquidation
/// threshold as MCR.
fn to_liquity_v1(s: &Switch<'_>) -> Result<LiquidationSection, String> {
    let name = s.protocol;
    let start = s.start.ok_or_else(|| {
        format!("protocol {name:?} has no start figures (its debt at the start sizes the stability_pool)")
    })?;
    let [threshold] = start.thresholds[..] else {
        return Err(format!(
            "protocol {name:?} accepts {} collateral assets; a Liquity v1 Stability Pool (stability_pool) takes exactly one",
            start.thresholds.len()
        ));
    };
    Ok(LiquidationSection {
        stability_pool_usd: Some(STABILITY_POOL_SHARE * start.debt),
        ccr: Some(1.0 / threshold + RECOVERY_MARGIN),
        ..section("liquity_v1")
    })
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
        apply(&mut file, "fixed_spread", &Baseline::default()).expect("known");
        assert_eq!(
            file.protocols[0].liquidation.as_ref().unwrap().close_factor,
            Some(0.3)
        );
        apply(&mut file, "as_is", &Baseline::default()).expect("known");
        assert_eq!(
            file.protocols[0].liquidation.as_ref().unwrap().bonus,
            Some(0.07)
        );
    }

    #[test]
    fn other_mechanisms_reuse_the_bonus_and_fee_where_they_take_them() {
        let mut file = parsed();
        apply(&mut file, "aave_v3.3", &Baseline::default()).expect("known");
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
        apply(&mut file, "morpho_blue", &Baseline::default()).expect("known");
        assert_eq!(
            file.protocols[0].collateral.as_ref().unwrap()["ETH"].liquidation_bonus,
            None
        );
        assert_eq!(file.protocols[0].liquidation.as_ref().unwrap().bonus, None);
        assert!(apply(&mut parsed(), "dutch", &Baseline::default()).is_err());
    }

    #[test]
    fn insurance_fund_adds_a_fund_only_where_there_is_none() {
        let mut file = parsed();
        apply(&mut file, "insurance_fund", &Baseline::default()).expect("known");
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
        apply(&mut file, "insurance_fund", &Baseline::default()).expect("known");
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
    fn gas_war_makes_every_keeper_a_priority_auction_bot_and_needs_a_chain() {
        let mut file = chained();
        let start = baseline(&file);
        let budget = file.keepers[0].gas_budget_usd;
        apply_variant(&mut file, "gas_war", &start).expect("known");
        for k in &file.keepers {
            let g = k.gas.as_ref().expect("a strategy");
            assert_eq!(
                (g.strategy.as_str(), g.max_gwei, g.price_bump),
                ("priority_auction", None, Some(0.1))
            );
        }
        assert_eq!(file.keepers[0].gas_budget_usd, budget, "budget kept");
        let world = builds(file.clone()).world;
        assert_eq!(
            world.keepers[0].spec.gas,
            cascade_model::chain::GasStrategy::PriorityAuction {
                price_bump: 0.1,
                max_gwei: f64::INFINITY
            }
        );
        apply_variant(&mut file, "no_congestion", &start).expect("known");
        let e = apply_variant(&mut file, "gas_war", &start).expect_err("no chain");
        assert!(e.contains("needs a [chain] section"), "{e}");
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

    /// A Hyperliquid-preset exchange and a lending protocol: each ADL policy changes the
    /// exchange's rule as documented and leaves the lending protocol alone.
    #[test]
    fn adl_policies_switch_every_perp_exchange_and_nothing_else() {
        use cascade_model::perp::params::{AdlAllocation, AdlPrice, AdlRanking, DeficitRule};
        let text = TEXT.to_string()
            + "\n[[assets]]\nsymbol = \"USDC\"\nprice = 1.0\n\n[[venues]]\nname = \"perp-book\"\nbase = \"ETH\"\nquote = \"USDC\"\nimpact = { model = \"linear\", usd_per_unit = 0.001 }\n\n[[protocols]]\nname = \"x\"\nkind = \"perp\"\npreset = \"hyperliquid\"\n\n[[protocols.markets]]\nasset = \"ETH\"\nvenue = \"perp-book\"\n";
        let file = crate::parse(&text, Path::new("t.toml")).expect("parses");
        let rule = |variant: &str| {
            let mut edited = file.clone();
            apply_variant(&mut edited, variant, &Baseline::default()).expect("known");
            assert_eq!(
                edited.protocols[0], file.protocols[0],
                "{variant}: lending kept"
            );
            let built = crate::from_parsed(edited, &text, Path::new("t.toml"), Path::new("."))
                .unwrap_or_else(|e| panic!("{variant}: valid:\n{e}"));
            built.world.perps[0].params
        };
        let as_is = rule("as_is");
        assert_eq!(as_is.adl.ranking, AdlRanking::Hyperliquid);
        assert_eq!(as_is.adl.price, AdlPrice::PreviousOracle);
        assert_eq!(as_is.adl.allocation, AdlAllocation::Queue);
        for (variant, ranking, price) in [
            ("adl_binance", AdlRanking::Binance, AdlPrice::Bankruptcy),
            ("adl_bitmex", AdlRanking::Bitmex, AdlPrice::Bankruptcy),
            (
                "adl_hyperliquid",
                AdlRanking::Hyperliquid,
                AdlPrice::PreviousOracle,
            ),
        ] {
            let p = rule(variant);
            assert_eq!((p.adl.ranking, p.adl.price), (ranking, price), "{variant}");
            assert_eq!(p.adl.allocation, AdlAllocation::Queue, "{variant}");
        }
        let p = rule("adl_binance+adl_whole_positions");
        assert_eq!(p.adl.ranking, AdlRanking::Binance);
        assert_eq!(p.adl.allocation, AdlAllocation::WholePositions);
        let p = rule("adl_pro_rata");
        assert_eq!(p.adl.ranking, AdlRanking::Hyperliquid);
        assert_eq!(p.adl.allocation, AdlAllocation::ProRata);
        let p = rule("socialised_loss");
        assert_eq!(p.deficit, DeficitRule::Socialise);
        assert_eq!(p.insurance_fund_usd, 0.0);
        assert_eq!(as_is.deficit, DeficitRule::AutoDeleverage);
        let mut vaulted = text.replace(
            "preset = \"hyperliquid\"\n",
            "preset = \"hyperliquid\"\nperp = { vault_capital_usd = 5.0 }\n",
        );
        vaulted.push('\n');
        let mut file = crate::parse(&vaulted, Path::new("t.toml")).expect("parses");
        apply_variant(&mut file, "no_vault", &Baseline::default()).expect("known");
        let built = crate::from_parsed(file, &vaulted, Path::new("t.toml"), Path::new("."))
            .unwrap_or_else(|e| panic!("valid:\n{e}"));
        assert!(built.world.perps[0].params.vault.is_none());
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
        assert!(apply(&mut chained(), "no_congestion", &Baseline::default()).is_err());
    }

    #[test]
    fn leaving_compound_iii_drops_the_liquidation_factors() {
        let text = TEXT.replace(
            "liquidation = { mechanism = \"fixed_spread\", bonus = 0.07, close_factor = 0.3, protocol_fee = 0.2 }\ncollateral = { ETH = { ltv = 0.8, liquidation_threshold = 0.85, liquidation_bonus = 0.06 } }",
            "liquidation = { mechanism = \"compound_v3\", store_front_price_factor = 0.5, target_reserves_usd = 1.0 }\ncollateral = { ETH = { ltv = 0.8, liquidation_threshold = 0.85, liquidation_factor = 0.93 } }",
        );
        let mut file = crate::parse(&text, Path::new("t.toml")).expect("parses");
        apply(&mut file, "dutch_auction", &Baseline::default()).expect("known");
        assert_eq!(
            file.protocols[0].collateral.as_ref().unwrap()["ETH"].liquidation_factor,
            None
        );
        crate::from_parsed(file, &text, Path::new("t.toml"), Path::new("."))
            .unwrap_or_else(|e| panic!("valid:\n{e}"));
    }

    /// A lending protocol with one collateral asset and a book, so that every variant (a
    /// Stability Pool included) can be applied and built.
    fn with_positions() -> String {
        TEXT.replace(
            "[[protocols]]",
            "[[assets]]\nsymbol = \"USDC\"\nprice = 1.0\n\n[[protocols]]",
        ) + "\n[[positions]]\nprotocol = \"p\"\ncount = 4\ncollateral = { asset = \"ETH\", total = 4.0 }\ndebt = { asset = \"USDC\" }\nhealth_factor = { distribution = \"even\", low = 1.1, high = 1.5 }\n\n[[keepers]]\nname = \"k\"\nprotocols = [\"p\"]\n"
    }

    /// The mechanism a built rule is, by the registry's kinds.
    fn kind_of(rule: &cascade_model::lending::LiquidationRule) -> MechanismKind {
        use cascade_model::lending::LiquidationRule;
        match rule {
            LiquidationRule::FixedSpread(_) => MechanismKind::FixedSpread,
            LiquidationRule::AaveV3 { .. } => MechanismKind::AaveV3,
            LiquidationRule::AaveV4(_) => MechanismKind::AaveV4,
            LiquidationRule::CompoundV2 { .. } => MechanismKind::CompoundV2,
            LiquidationRule::MorphoBlue => MechanismKind::MorphoBlue,
            LiquidationRule::EulerV2 { .. } => MechanismKind::EulerV2,
            LiquidationRule::DutchAuction(_) => MechanismKind::DutchAuction,
            LiquidationRule::EnglishAuction(_) => MechanismKind::EnglishAuction,
            LiquidationRule::Backstop(_) => MechanismKind::Backstop,
            LiquidationRule::CometAbsorb(_) => MechanismKind::CompoundV3,
            LiquidationRule::Liquity(_) => MechanismKind::LiquityV1,
        }
    }

    #[test]
    fn every_mechanism_variant_builds_on_its_mechanism() {
        let text = with_positions();
        let build = |file: ScenarioFile| {
            crate::from_parsed(file, &text, Path::new("t.toml"), Path::new("."))
        };
        let file = crate::parse(&text, Path::new("t.toml")).expect("parses");
        let start = Baseline::of(&build(file.clone()).expect("valid as written").world);
        for name in mechanism_variants() {
            let mut switched = file.clone();
            apply(&mut switched, name, &start).unwrap_or_else(|e| panic!("{name}: {e}"));
            let world = build(switched)
                .unwrap_or_else(|e| panic!("valid under {name}:\n{e}"))
                .world;
            let rule = &world.protocols[0].params.liquidation;
            match target(name) {
                Some((mechanism, _)) => assert_eq!(kind_of(rule), mechanism.kind, "{name}"),
                None => assert_eq!(kind_of(rule), MechanismKind::FixedSpread, "{name} keeps"),
            }
        }
    }

    #[test]
    fn the_registry_names_each_mechanism_once_with_consistent_terms() {
        let kinds = [
            MechanismKind::FixedSpread,
            MechanismKind::AaveV3,
            MechanismKind::AaveV4,
            MechanismKind::CompoundV2,
            MechanismKind::MorphoBlue,
            MechanismKind::EulerV2,
            MechanismKind::DutchAuction,
            MechanismKind::EnglishAuction,
            MechanismKind::Backstop,
            MechanismKind::CompoundV3,
            MechanismKind::LiquityV1,
        ];
        for kind in kinds {
            let named: Vec<&str> = MECHANISMS
                .iter()
                .filter(|m| m.kind == kind)
                .map(|m| m.name)
                .collect();
            assert_eq!(named.len(), 1, "{kind:?}: {named:?}");
        }
        assert_eq!(MECHANISMS.len(), kinds.len());
        for m in MECHANISMS {
            assert_eq!(find(m.name).map(|f| f.kind), Some(m.kind));
            // A mechanism takes per-collateral bonuses exactly when its table takes a bonus.
            assert_eq!(
                m.collateral == CollateralTerms::Bonus,
                m.keys.contains(&"bonus"),
                "{}",
                m.name
            );
            assert!(!m.compare.is_empty(), "{} can be compared", m.name);
        }
        let variants = mechanism_variants();
        for (i, v) in variants.iter().enumerate() {
            assert!(!variants[..i].contains(v), "{v} twice");
            assert!(!COUNTERFACTUALS.contains(v), "{v} is also a counterfactual");
        }
    }

    #[test]
    fn an_unknown_mechanism_in_a_scenario_is_reported_with_the_registry_names() {
        let text =
            with_positions().replace("mechanism = \"fixed_spread\"", "mechanism = \"dutch\"");
        let Err(e) = crate::from_str(&text, Path::new("t.toml"), Path::new(".")) else {
            panic!("an unknown mechanism is rejected");
        };
        let e = e.to_string();
        assert!(
            e.contains(&format!(
                "unknown liquidation mechanism; expected one of {}",
                names()
            )),
            "{e}"
        );
        for m in MECHANISMS {
            assert!(names().contains(m.name));
        }
    }

    #[test]
    fn the_compare_help_lists_every_variant() {
        let help = variants_help();
        for name in mechanism_variants().into_iter().chain(COUNTERFACTUALS) {
            assert!(help.contains(name), "{name} missing from: {help}");
        }
    }

    #[test]
    fn switching_to_compound_iii_sets_liquidation_factors_from_the_bonus() {
        let text = with_positions();
        let mut file = crate::parse(&text, Path::new("t.toml")).expect("parses");
        apply(&mut file, "compound_v3", &Baseline::default()).expect("known");
        let eth = &file.protocols[0].collateral.as_ref().unwrap()["ETH"];
        assert_eq!(eth.liquidation_bonus, None);
        assert!((eth.liquidation_factor.expect("set") - 0.94).abs() < 1e-12);
        let l = file.protocols[0].liquidation.as_ref().expect("a section");
        assert_eq!(
            (l.store_front_price_factor, l.target_reserves_usd, l.bonus),
            (Some(0.5), Some(0.0), None)
        );
        // Leaving it drops the factors again.
        apply(&mut file, "fixed_spread", &Baseline::default()).expect("known");
        assert_eq!(
            file.protocols[0].collateral.as_ref().unwrap()["ETH"].liquidation_factor,
            None
        );
    }
}
