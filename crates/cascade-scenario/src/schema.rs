//! The serde types of the scenario file, one per TOML section (documented field by field in
//! docs/scenario.md). Unknown keys are rejected. Model choices (`model = "linear"`, ...) are plain
//! strings checked by the builder, so that a wrong or missing field gets a message naming the model
//! it belongs to rather than a generic enum error.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// A whole scenario file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ScenarioFile {
    pub simulation: SimulationSection,
    #[serde(default)]
    pub assets: Vec<AssetSection>,
    #[serde(default)]
    pub correlations: Vec<CorrelationSection>,
    #[serde(default)]
    pub venues: Vec<VenueSection>,
    #[serde(default)]
    pub oracles: Vec<OracleSection>,
    #[serde(default)]
    pub protocols: Vec<ProtocolSection>,
    #[serde(default)]
    pub positions: Vec<PositionsSection>,
    #[serde(default)]
    pub keepers: Vec<KeeperSection>,
    #[serde(default)]
    pub shocks: Vec<ShockSection>,
    #[serde(default)]
    pub chain: Option<ChainSection>,
}

/// `[chain]`: blocks, the gas price and the agents' room in each block.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ChainSection {
    pub block_seconds: u64,
    #[serde(default)]
    pub room_per_block: Option<u64>,
    pub gas: GasSection,
    #[serde(default)]
    pub gas_asset: Option<String>,
    #[serde(default)]
    pub gas_used: Option<GasUsedSection>,
    #[serde(default)]
    pub expiry_seconds: Option<u64>,
}

/// `chain.gas`: where the clearing gas price comes from.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct GasSection {
    pub model: String,
    pub gwei: Option<f64>,
    pub file: Option<String>,
    pub time_column: Option<String>,
    pub time_unit: Option<String>,
    pub price_column: Option<String>,
    pub unit: Option<String>,
    pub start_offset_seconds: Option<u64>,
    pub base_gwei: Option<f64>,
    pub calm_daily_volatility: Option<f64>,
    pub elasticity: Option<f64>,
    pub max_gwei: Option<f64>,
    pub asset: Option<String>,
    pub window_seconds: Option<u64>,
}

/// `chain.gas_used`: gas per kind of transaction.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct GasUsedSection {
    pub liquidation: Option<f64>,
    pub kick: Option<f64>,
    pub bid: Option<f64>,
    pub take: Option<f64>,
    pub top_up: Option<f64>,
    pub repay: Option<f64>,
}

/// `keepers[].gas` and `positions[].borrowers.gas`: how an agent prices gas.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct GasStrategySection {
    pub strategy: String,
    pub gwei: Option<f64>,
    pub markup: Option<f64>,
    pub max_gwei: Option<f64>,
}

/// `keepers[].outages[]`: a period when a keeper is absent.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct OutageSection {
    pub from_seconds: u64,
    pub to_seconds: u64,
}

/// `positions[].borrowers`: how the owners of a population act when their health falls.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct BorrowersSection {
    pub trigger_health: f64,
    pub target_health: f64,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub probability: Option<f64>,
    #[serde(default)]
    pub delay_seconds: Option<u64>,
    #[serde(default)]
    pub reserve: Option<f64>,
    #[serde(default)]
    pub gas: Option<GasStrategySection>,
}

/// `[simulation]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct SimulationSection {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub seed: u64,
    pub steps: u64,
    pub step_seconds: u64,
    #[serde(default)]
    pub max_rounds: Option<u32>,
    #[serde(default)]
    pub auction_hole_usd: Option<f64>,
}

/// `[[assets]]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct AssetSection {
    pub symbol: String,
    #[serde(default)]
    pub price: Option<f64>,
    #[serde(default)]
    pub driver: Option<DriverSection>,
}

/// `assets[].driver`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct DriverSection {
    pub model: String,
    pub drift: Option<f64>,
    pub volatility: Option<f64>,
    pub jump_intensity: Option<f64>,
    pub jump_mean: Option<f64>,
    pub jump_std: Option<f64>,
    #[serde(default, deserialize_with = "pairs")]
    pub points: Option<Vec<(f64, f64)>>,
    pub file: Option<String>,
    pub time_column: Option<String>,
    pub price_column: Option<String>,
    pub time_unit: Option<String>,
    pub interpolation: Option<String>,
    pub rescale: Option<bool>,
    pub start_offset_seconds: Option<u64>,
    pub overlays: Option<Vec<OverlaySection>>,
    pub long_run_volatility: Option<f64>,
    pub alpha: Option<f64>,
    pub beta: Option<f64>,
    pub initial_volatility: Option<f64>,
    pub block_steps: Option<u64>,
    pub format: Option<String>,
    pub path_column: Option<String>,
}

/// `assets[].driver.overlays[]`: a series whose points replace the replayed series' points
/// inside its own time range.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct OverlaySection {
    pub file: String,
    pub time_column: String,
    pub time_unit: String,
    pub price_column: String,
    pub from_seconds: Option<u64>,
    pub to_seconds: Option<u64>,
}

/// `[[correlations]]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct CorrelationSection {
    pub assets: Vec<String>,
    pub correlation: f64,
}

/// `[[venues]]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct VenueSection {
    pub name: String,
    pub base: String,
    pub quote: String,
    pub impact: ImpactSection,
    #[serde(default)]
    pub permanent_fraction: Option<f64>,
    #[serde(default)]
    pub half_life_seconds: Option<u64>,
    #[serde(default)]
    pub market_makers: Option<MarketMakersSection>,
}

/// `venues[].market_makers`: makers who thin the venue's depth as its realised volatility rises.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct MarketMakersSection {
    pub calm_daily_volatility: f64,
    pub sensitivity: f64,
    pub min_depth: f64,
    pub window_seconds: u64,
    #[serde(default)]
    pub refill_half_life_seconds: Option<u64>,
}

/// `venues[].impact`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ImpactSection {
    pub model: String,
    pub usd_per_unit: Option<f64>,
    pub coefficient: Option<f64>,
    pub daily_volatility: Option<f64>,
    pub daily_volume: Option<f64>,
    pub base_reserve: Option<f64>,
    pub quote_reserve: Option<f64>,
    pub fee: Option<f64>,
    pub liquidity: Option<f64>,
    pub lower_price: Option<f64>,
    pub reserves: Option<ReservesSection>,
    #[serde(default, deserialize_with = "pairs")]
    pub levels: Option<Vec<(f64, f64)>>,
    #[serde(default, deserialize_with = "pairs")]
    pub asks: Option<Vec<(f64, f64)>>,
    pub file: Option<String>,
}

/// `venues[].impact.reserves`: a constant-product pool's reserves over time.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ReservesSection {
    pub file: String,
    pub base_column: String,
    pub quote_column: String,
    pub time_column: Option<String>,
    pub time_unit: Option<String>,
    pub interval_seconds: Option<u64>,
    pub first_point_seconds: Option<u64>,
}

/// `[[oracles]]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct OracleSection {
    pub name: String,
    pub asset: String,
    pub sources: Vec<String>,
    #[serde(default)]
    pub aggregation: Option<String>,
    #[serde(default)]
    pub twap_window_seconds: Option<u64>,
    #[serde(default)]
    pub twap_mean: Option<String>,
    #[serde(default)]
    pub update: Option<String>,
    #[serde(default)]
    pub deviation_threshold: Option<f64>,
    #[serde(default)]
    pub heartbeat_seconds: Option<u64>,
    #[serde(default)]
    pub delay_seconds: Option<u64>,
}

/// `[[protocols]]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ProtocolSection {
    pub name: String,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub preset: Option<String>,
    #[serde(default)]
    pub liquidation: Option<LiquidationSection>,
    #[serde(default)]
    pub oracles: BTreeMap<String, String>,
    #[serde(default)]
    pub collateral: Option<BTreeMap<String, CollateralSection>>,
    #[serde(default)]
    pub perp: Option<PerpSection>,
    #[serde(default)]
    pub markets: Vec<MarketSection>,
    #[serde(default)]
    pub epoch_seconds: Option<u64>,
    #[serde(default)]
    pub insurance: Option<InsuranceSection>,
    #[serde(default)]
    pub liquidation_limit_usd_per_step: Option<f64>,
}

/// `protocols[].perp`: a perp exchange's liquidation engine.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PerpSection {
    #[serde(default)]
    pub close_out: Option<String>,
    #[serde(default)]
    pub liquidation_fee: Option<f64>,
    #[serde(default)]
    pub slice_above_usd: Option<f64>,
    #[serde(default)]
    pub slice_fraction: Option<f64>,
    #[serde(default)]
    pub slice_cooldown_seconds: Option<u64>,
    #[serde(default)]
    pub vault_capital_usd: Option<f64>,
    #[serde(default)]
    pub vault_below_fraction: Option<f64>,
    #[serde(default)]
    pub maintenance_on: Option<String>,
    #[serde(default)]
    pub during_slice_cooldown: Option<String>,
    #[serde(default)]
    pub adl_ranking: Option<String>,
    #[serde(default)]
    pub adl_price: Option<String>,
}

/// `protocols[].markets[]`: a perp market.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct MarketSection {
    pub asset: String,
    pub venue: String,
    #[serde(default)]
    pub oracle: Option<String>,
    #[serde(default)]
    pub mark: Option<String>,
    #[serde(default)]
    pub max_leverage: Option<f64>,
    #[serde(default, deserialize_with = "pairs")]
    pub maintenance: Option<Vec<(f64, f64)>>,
    #[serde(default)]
    pub funding_interval_seconds: Option<u64>,
    #[serde(default)]
    pub funding_interest: Option<f64>,
    #[serde(default)]
    pub funding_clamp: Option<f64>,
    #[serde(default)]
    pub funding_cap: Option<f64>,
}

/// `protocols[].insurance`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct InsuranceSection {
    pub fund_usd: f64,
    #[serde(default)]
    pub fee_share: Option<f64>,
    #[serde(default)]
    pub shortfall: Option<String>,
    #[serde(default)]
    pub debt_auction_lot_usd: Option<f64>,
}

/// `protocols[].liquidation`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct LiquidationSection {
    pub mechanism: String,
    #[serde(default)]
    pub bonus: Option<f64>,
    #[serde(default)]
    pub close_factor: Option<f64>,
    #[serde(default)]
    pub full_close_below_health_factor: Option<f64>,
    #[serde(default)]
    pub protocol_fee: Option<f64>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub protocol_seize_share: Option<f64>,
    #[serde(default)]
    pub max_discount: Option<f64>,
    #[serde(default)]
    pub buf: Option<f64>,
    #[serde(default)]
    pub curve: Option<String>,
    #[serde(default)]
    pub tau_seconds: Option<f64>,
    #[serde(default)]
    pub step_seconds: Option<f64>,
    #[serde(default)]
    pub cut: Option<f64>,
    #[serde(default)]
    pub tail_seconds: Option<f64>,
    #[serde(default)]
    pub cusp: Option<f64>,
    #[serde(default)]
    pub penalty: Option<f64>,
    #[serde(default)]
    pub tip_usd: Option<f64>,
    #[serde(default)]
    pub chip: Option<f64>,
    #[serde(default)]
    pub dust_usd: Option<f64>,
    #[serde(default)]
    pub hole_usd: Option<f64>,
    #[serde(default)]
    pub circuit_breaker: Option<f64>,
    #[serde(default)]
    pub beg: Option<f64>,
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
    #[serde(default)]
    pub lump_units: Option<f64>,
    #[serde(default)]
    pub unwind: Option<String>,
    #[serde(default)]
    pub unwind_fraction_per_hour: Option<f64>,
    #[serde(default)]
    pub backstop_capital_usd: Option<f64>,
    #[serde(default)]
    pub bonus_slope: Option<f64>,
    #[serde(default)]
    pub bonus_cap: Option<f64>,
    #[serde(default)]
    pub volatility_slope: Option<f64>,
    #[serde(default)]
    pub volatility_window_seconds: Option<u64>,
    #[serde(default)]
    pub store_front_price_factor: Option<f64>,
    #[serde(default)]
    pub target_reserves_usd: Option<f64>,
    #[serde(default)]
    pub initial_reserves_usd: Option<f64>,
    #[serde(default)]
    pub stability_pool_usd: Option<f64>,
    #[serde(default)]
    pub ccr: Option<f64>,
    #[serde(default)]
    pub gas_compensation: Option<f64>,
    #[serde(default)]
    pub collateral_gas_share: Option<f64>,
    #[serde(default)]
    pub entry_point: Option<String>,
}

/// `protocols[].collateral.<ASSET>`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct CollateralSection {
    #[serde(default)]
    pub ltv: Option<f64>,
    #[serde(default)]
    pub liquidation_threshold: Option<f64>,
    #[serde(default)]
    pub liquidation_bonus: Option<f64>,
    #[serde(default)]
    pub liquidation_factor: Option<f64>,
}

/// `[[positions]]`: a generated population or a file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PositionsSection {
    pub protocol: String,
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub collateral: Option<PositionCollateral>,
    #[serde(default)]
    pub debt: Option<PositionDebt>,
    #[serde(default)]
    pub liquidation_price: Option<DistributionSection>,
    #[serde(default)]
    pub health_factor: Option<DistributionSection>,
    #[serde(default)]
    pub size_sigma: Option<f64>,
    #[serde(default)]
    pub market: Option<String>,
    #[serde(default)]
    pub side: Option<String>,
    #[serde(default)]
    pub notional_usd: Option<f64>,
    #[serde(default)]
    pub leverage: Option<DistributionSection>,
    #[serde(default)]
    pub entry_price: Option<DistributionSection>,
    #[serde(default)]
    pub margin_mode: Option<String>,
    #[serde(default)]
    pub cross_buffer: Option<f64>,
    #[serde(default)]
    pub borrowers: Option<BorrowersSection>,
}

/// `positions[].collateral`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PositionCollateral {
    pub asset: String,
    pub total: f64,
}

/// `positions[].debt`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PositionDebt {
    pub asset: String,
}

/// A distribution of liquidation prices or health factors.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct DistributionSection {
    pub distribution: String,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub mean: Option<f64>,
    pub std: Option<f64>,
}

/// `[[keepers]]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct KeeperSection {
    pub name: String,
    pub protocols: Vec<String>,
    #[serde(default)]
    pub sell_on: Option<SellOn>,
    #[serde(default)]
    pub capital_usd: Option<f64>,
    #[serde(default)]
    pub min_profit_usd: Option<f64>,
    #[serde(default)]
    pub strategy: Option<String>,
    #[serde(default)]
    pub gas: Option<GasStrategySection>,
    #[serde(default)]
    pub gas_budget_usd: Option<f64>,
    #[serde(default)]
    pub latency_seconds: Option<u64>,
    #[serde(default)]
    pub sale_delay_seconds: Option<u64>,
    #[serde(default)]
    pub outages: Vec<OutageSection>,
}

/// `keepers[].sell_on`: one venue name, or a venue per collateral asset.
#[derive(Clone, Debug, PartialEq)]
#[allow(missing_docs)]
pub enum SellOn {
    One(String),
    PerAsset(BTreeMap<String, String>),
}

// By hand rather than `#[serde(untagged)]`, whose error ("data did not match any variant") names
// neither what was expected nor, inside the table, which key was wrong.
impl<'de> Deserialize<'de> for SellOn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SellOnVisitor;

        impl<'de> Visitor<'de> for SellOnVisitor {
            type Value = SellOn;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a venue name, or a table of ASSET = \"venue\"")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<SellOn, E> {
                Ok(SellOn::One(v.to_string()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SellOn, A::Error> {
                BTreeMap::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(SellOn::PerAsset)
            }
        }

        deserializer.deserialize_any(SellOnVisitor)
    }
}

/// A `[x, y]` pair that, unlike a tuple, rejects arrays of any other length instead of ignoring
/// the extra elements.
struct Pair(f64, f64);

impl<'de> Deserialize<'de> for Pair {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairVisitor;

        impl<'de> Visitor<'de> for PairVisitor {
            type Value = Pair;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a pair of numbers [x, y]")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Pair, A::Error> {
                let x = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let y = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                let mut len = 2;
                while seq.next_element::<de::IgnoredAny>()?.is_some() {
                    len += 1;
                }
                if len != 2 {
                    return Err(de::Error::invalid_length(len, &self));
                }
                Ok(Pair(x, y))
            }
        }

        deserializer.deserialize_seq(PairVisitor)
    }
}

/// An optional list of `[x, y]` pairs (path points, order-book levels and asks).
fn pairs<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<(f64, f64)>>, D::Error> {
    let pairs: Option<Vec<Pair>> = Option::deserialize(deserializer)?;
    Ok(pairs.map(|v| v.into_iter().map(|Pair(x, y)| (x, y)).collect()))
}

/// `[[shocks]]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ShockSection {
    pub asset: String,
    pub step: u64,
    #[serde(default)]
    pub drop: Option<f64>,
    #[serde(default)]
    pub rise: Option<f64>,
}

impl LiquidationSection {
    /// A fixed-spread section with this bonus and close factor (what a lending preset gives).
    pub fn fixed_spread(bonus: f64, close_factor: f64) -> Self {
        Self {
            mechanism: "fixed_spread".to_string(),
            bonus: Some(bonus),
            close_factor: Some(close_factor),
            ..Self::default()
        }
    }
}
