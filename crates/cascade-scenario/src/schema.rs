//! The serde types of the scenario file, one per TOML section (documented field by field in
//! docs/scenario.md). Unknown keys are rejected. Model choices (`model = "linear"`, ...) are plain
//! strings checked by the builder, so that a wrong or missing field gets a message naming the model
//! it belongs to rather than a generic enum error.
//!
//! The same types give the JSON Schema of the file ([`crate::json_schema`]): each field's doc
//! comment is its description there, so write it for a user hovering over the key in an editor.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// A whole scenario file.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// `[simulation]`: the run's name, seed, steps and step length.
    pub simulation: SimulationSection,
    #[serde(default)]
    /// `[[assets]]`: the assets and how their fundamental prices move (at least one).
    pub assets: Vec<AssetSection>,
    #[serde(default)]
    /// `[[correlations]]`: correlations between the shocks of two stochastic assets.
    pub correlations: Vec<CorrelationSection>,
    #[serde(default)]
    /// `[[venues]]`: where collateral is sold and perp positions are closed, with their price
    /// impact.
    pub venues: Vec<VenueSection>,
    #[serde(default)]
    /// `[[oracles]]`: the prices protocols see.
    pub oracles: Vec<OracleSection>,
    #[serde(default)]
    /// `[[protocols]]`: lending markets and perpetual-swap exchanges, and their liquidation rules.
    pub protocols: Vec<ProtocolSection>,
    #[serde(default)]
    /// `[[positions]]`: the accounts of a protocol, generated or read from a CSV file.
    pub positions: Vec<PositionsSection>,
    #[serde(default)]
    /// `[[keepers]]`: the liquidators of lending protocols.
    pub keepers: Vec<KeeperSection>,
    #[serde(default)]
    /// `[[shocks]]`: instant moves of a fundamental price at a step.
    pub shocks: Vec<ShockSection>,
    #[serde(default)]
    /// `[chain]`: blocks, the gas price and room for the agents' transactions; without it actions
    /// are instant and free.
    pub chain: Option<ChainSection>,
}

/// `[chain]`: blocks, the gas price and the agents' room in each block.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChainSection {
    /// Seconds between blocks (1 … `simulation.step_seconds`).
    pub block_seconds: u64,
    #[serde(default)]
    /// Transactions of the simulated agents that fit in one block (≥ 1; default unlimited).
    pub room_per_block: Option<u64>,
    /// Where the clearing gas price comes from (`model = "constant"`, `"series"` or
    /// `"volatility"`).
    pub gas: GasSection,
    #[serde(default)]
    /// The asset gas is paid in (default `"ETH"`).
    pub gas_asset: Option<String>,
    #[serde(default)]
    /// Gas units per kind of transaction (defaults: liquidation 500000, kick 300000, bid 200000,
    /// take 300000, top_up 100000, repay 150000).
    pub gas_used: Option<GasUsedSection>,
    #[serde(default)]
    /// Seconds after which a waiting transaction is dropped (≥ 1; default never).
    pub expiry_seconds: Option<u64>,
}

/// `chain.gas`: where the clearing gas price comes from.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GasSection {
    /// `"constant"` (`gwei`), `"series"` (a gas price file) or `"volatility"` (rises with an
    /// asset's realised volatility).
    pub model: String,
    /// The clearing gas price, gwei (`constant`).
    pub gwei: Option<f64>,
    /// Gas price series file, relative to the scenario (`series`).
    pub file: Option<String>,
    /// Column (CSV) or key (JSON) of the times (`series`).
    pub time_column: Option<String>,
    /// `"seconds"`, `"milliseconds"` or `"rfc3339"` (`series`).
    pub time_unit: Option<String>,
    /// Column or key of the gas prices (`series`).
    pub price_column: Option<String>,
    /// Unit of the series' prices: `"gwei"` (default) or `"wei"` (`series`).
    pub unit: Option<String>,
    /// Seconds of the series skipped before the run's time 0 (`series`; default 0).
    pub start_offset_seconds: Option<u64>,
    /// Gas price when the market is calm, gwei (`volatility`).
    pub base_gwei: Option<f64>,
    /// Daily realised volatility regarded as calm, a fraction (`volatility`).
    pub calm_daily_volatility: Option<f64>,
    /// How strongly the gas price follows volatility above calm (`volatility`; default 1, in
    /// proportion).
    pub elasticity: Option<f64>,
    /// Highest gas price, gwei (`volatility`; default unlimited).
    pub max_gwei: Option<f64>,
    /// Asset whose realised volatility drives the gas price (`volatility`).
    pub asset: Option<String>,
    /// Window of the realised volatility, seconds (`volatility`; default 3600).
    pub window_seconds: Option<u64>,
}

/// `chain.gas_used`: gas per kind of transaction.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GasUsedSection {
    /// Gas units of a liquidation call (default 500000).
    pub liquidation: Option<f64>,
    /// Gas units of starting an auction, a bark or a bite (default 300000).
    pub kick: Option<f64>,
    /// Gas units of a bid in an English auction (default 200000).
    pub bid: Option<f64>,
    /// Gas units of a take in a Dutch auction (default 300000).
    pub take: Option<f64>,
    /// Gas units of an owner adding collateral (default 100000).
    pub top_up: Option<f64>,
    /// Gas units of an owner repaying debt (default 150000).
    pub repay: Option<f64>,
}

/// `keepers[].gas` and `positions[].borrowers.gas`: how an agent prices gas.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GasStrategySection {
    /// `"fixed"` (always `gwei`), `"market"` (the clearing price plus `markup`, up to
    /// `max_gwei`) or, for keepers only, `"priority_auction"` (the clearing price; against other
    /// keepers wanting the same opportunity in the same step, outbid the leading bid by
    /// `price_bump`, up to the lower of `max_gwei` and the opportunity's value).
    pub strategy: String,
    /// The bid, gwei (`fixed`).
    pub gwei: Option<f64>,
    /// Fraction bid above the clearing price (`market`; default 0).
    pub markup: Option<f64>,
    /// Highest bid, gwei (`market`, `priority_auction`; default unlimited).
    pub max_gwei: Option<f64>,
    /// Fraction by which each raise exceeds the leading bid (`priority_auction`; > 0, default
    /// 0.1: geth's minimum price bump to replace a transaction).
    pub price_bump: Option<f64>,
}

/// `keepers[].outages[]`, `oracles[].outages[]`: a period when a keeper is absent, or when an
/// oracle posts nothing (its price ages).
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutageSection {
    /// Start of the absence, seconds from the run's start.
    pub from_seconds: u64,
    /// End of the absence, seconds (> `from_seconds`).
    pub to_seconds: u64,
}

/// `positions[].borrowers`: how the owners of a population act when their health falls.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BorrowersSection {
    /// Health factor below which an owner notices its account (> 0).
    pub trigger_health: f64,
    /// Health factor the owner restores (≥ `trigger_health`).
    pub target_health: f64,
    #[serde(default)]
    /// `"top_up"` (add collateral, the default) or `"repay"` (repay debt).
    pub action: Option<String>,
    #[serde(default)]
    /// Probability that an owner who notices acts (0 … 1; default 1).
    pub probability: Option<f64>,
    #[serde(default)]
    /// Seconds between noticing and acting (default 0).
    pub delay_seconds: Option<u64>,
    #[serde(default)]
    /// The owner's wallet outside the protocol, as a fraction of the account's first collateral
    /// (`top_up`) or of its debt (`repay`) at the start (≥ 0; default 1).
    pub reserve: Option<f64>,
    #[serde(default)]
    /// How the owners bid for gas (only with a `[chain]`; default the clearing price).
    pub gas: Option<GasStrategySection>,
}

/// `[simulation]`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulationSection {
    /// Names the run in the outputs and the default output directory `out/<name>`.
    pub name: String,
    #[serde(default)]
    /// Free text copied to summary.json and the printed summary.
    pub description: Option<String>,
    /// Master seed of every random draw (0 … 2⁶⁴−1).
    pub seed: u64,
    /// Steps after the initial instant (≥ 1): the run lasts `steps × step_seconds` seconds.
    pub steps: u64,
    /// Length of a step, seconds (≥ 1): oracles, venues and keepers act at step times.
    pub step_seconds: u64,
    #[serde(default)]
    /// Most cascade rounds within one step (1 … 4294967295; default 1000).
    pub max_rounds: Option<u32>,
    #[serde(default)]
    /// Maker's global `Hole`: the most tab in Dutch auctions of all protocols at once, USD (> 0;
    /// default unlimited).
    pub auction_hole_usd: Option<f64>,
    #[serde(default)]
    /// The date-time of the run's time 0, RFC 3339 with its offset in whole seconds
    /// (`"2020-03-12T00:00:00Z"`): outputs then give every time as a UTC date-time too. Changes
    /// nothing in the run.
    pub start_time: Option<StartTime>,
}

/// `simulation.start_time`: the date-time of the run's time 0, as written (a string, or a TOML
/// offset date-time written bare); the builder checks it is RFC 3339.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartTime(pub String);

/// A `date-time` string: editors check the quoted form, and take a bare TOML date-time as one.
impl JsonSchema for StartTime {
    fn schema_name() -> Cow<'static, str> {
        "StartTime".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "date-time",
            "examples": ["2020-03-12T00:00:00Z"]
        })
    }
}

// By hand: a bare TOML date-time reaches serde as a table with one private key, which a `String`
// field would reject with a message about tables.
impl<'de> Deserialize<'de> for StartTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StartTimeVisitor;

        impl<'de> Visitor<'de> for StartTimeVisitor {
            type Value = StartTime;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 date-time such as \"2020-03-12T00:00:00Z\"")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<StartTime, E> {
                Ok(StartTime(v.to_string()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<StartTime, A::Error> {
                toml::value::Datetime::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|t| StartTime(t.to_string()))
            }
        }

        deserializer.deserialize_any(StartTimeVisitor)
    }
}

/// `[[assets]]`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetSection {
    /// The asset's symbol (non-empty, unique).
    pub symbol: String,
    #[serde(default)]
    /// Fundamental price at time 0, USD (> 0); required unless the driver replays a series or reads
    /// an ensemble.
    pub price: Option<f64>,
    #[serde(default)]
    /// How the fundamental price moves (default constant).
    pub driver: Option<DriverSection>,
}

/// `assets[].driver`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DriverSection {
    /// `"constant"`, `"path"`, `"gbm"`, `"jump_diffusion"`, `"replay"`, `"garch"`, `"bootstrap"` or
    /// `"ensemble"`.
    pub model: String,
    /// Annual drift (`gbm`, `jump_diffusion`, `garch`; default 0).
    pub drift: Option<f64>,
    /// Annual volatility (`gbm`, `jump_diffusion`; ≥ 0).
    pub volatility: Option<f64>,
    /// Jumps per year (`jump_diffusion`; ≥ 0).
    pub jump_intensity: Option<f64>,
    /// Mean jump, in log-price (`jump_diffusion`).
    pub jump_mean: Option<f64>,
    /// Standard deviation of a jump, in log-price (`jump_diffusion`; ≥ 0).
    pub jump_std: Option<f64>,
    #[serde(default, deserialize_with = "pairs")]
    /// `[seconds, price]` points of the path, times increasing (`path`).
    pub points: Option<Vec<(f64, f64)>>,
    /// Data file, relative to the scenario: a price series (`replay`, `bootstrap`) or a CSV of
    /// paths (`ensemble`).
    pub file: Option<String>,
    /// Column (CSV) or key (JSON) of the times (`replay`, `bootstrap`, `ensemble`).
    pub time_column: Option<String>,
    /// Column or key of the prices (`replay`, `bootstrap`; `ensemble` with `format = "long"`).
    pub price_column: Option<String>,
    /// `"seconds"`, `"milliseconds"` or `"rfc3339"` (`replay`, `bootstrap`, `ensemble`).
    pub time_unit: Option<String>,
    /// `"previous"` (default: hold each point) or `"linear"` between points (`replay`, `ensemble`).
    pub interpolation: Option<String>,
    /// Scale the series to start at `price` (`replay`, `ensemble`; default false).
    pub rescale: Option<bool>,
    /// Seconds of the series skipped before the run's time 0 (`replay`; default 0).
    pub start_offset_seconds: Option<u64>,
    /// Series whose points replace the replayed series' inside their own time range, in order
    /// (`replay`).
    pub overlays: Option<Vec<OverlaySection>>,
    /// Annual long-run volatility (`garch`; ≥ 0).
    pub long_run_volatility: Option<f64>,
    /// Weight of the last squared shock, per step (`garch`; ≥ 0, alpha + beta < 1).
    pub alpha: Option<f64>,
    /// Weight of the last variance, per step (`garch`; ≥ 0, alpha + beta < 1).
    pub beta: Option<f64>,
    /// Annual volatility at time 0 (`garch`; default `long_run_volatility`).
    pub initial_volatility: Option<f64>,
    /// Mean block length of the resampled returns, steps (`bootstrap`; default 60).
    pub block_steps: Option<u64>,
    /// `"wide"` (a column per path) or `"long"` (time, path and price columns) (`ensemble`).
    pub format: Option<String>,
    /// Column of the path names (`ensemble` with `format = "long"`).
    pub path_column: Option<String>,
}

/// `assets[].driver.overlays[]`: a series whose points replace the replayed series' points
/// inside its own time range.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OverlaySection {
    /// Series file, relative to the scenario.
    pub file: String,
    /// Column (CSV) or key (JSON) of the times.
    pub time_column: String,
    /// `"seconds"`, `"milliseconds"` or `"rfc3339"`.
    pub time_unit: String,
    /// Column or key of the prices.
    pub price_column: String,
    /// Only the overlay's points from this time on, seconds from the run's start (default: its
    /// first point).
    pub from_seconds: Option<u64>,
    /// Only the overlay's points up to this time, seconds (> `from_seconds`; default: its last
    /// point).
    pub to_seconds: Option<u64>,
}

/// `[[correlations]]`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrelationSection {
    /// The two assets, each with a `gbm`, `jump_diffusion` or `garch` driver.
    pub assets: Vec<String>,
    /// Correlation of their shocks (−1 … 1).
    pub correlation: f64,
}

/// `[[venues]]`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VenueSection {
    /// The venue's name (non-empty, unique).
    pub name: String,
    /// The asset sold there.
    pub base: String,
    /// The asset it is sold for (≠ `base`).
    pub quote: String,
    /// The price impact of a sale (`model = "linear"`, `"square_root"`, `"constant_product"`,
    /// `"concentrated_liquidity"` or `"order_book"`).
    pub impact: ImpactSection,
    #[serde(default)]
    /// Fraction of a sale's impact that stays (0 … 1; default 1).
    pub permanent_fraction: Option<f64>,
    #[serde(default)]
    /// Half-life of the transient impact, seconds (≥ 1; required when `permanent_fraction` < 1).
    pub half_life_seconds: Option<u64>,
    #[serde(default)]
    /// Makers who thin the book as the venue's realised volatility rises (default: the full book
    /// always).
    pub market_makers: Option<MarketMakersSection>,
}

/// `venues[].market_makers`: makers who thin the venue's depth as its realised volatility rises.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketMakersSection {
    /// Daily realised volatility at which the makers quote the full book (> 0).
    pub calm_daily_volatility: f64,
    /// How fast they withdraw as volatility rises above calm (≥ 0).
    pub sensitivity: f64,
    /// The least fraction of the book they keep quoting (0 < x ≤ 1).
    pub min_depth: f64,
    /// Window of the realised volatility, seconds (≥ `simulation.step_seconds`).
    pub window_seconds: u64,
    #[serde(default)]
    /// Half-life of the refill as volatility falls, seconds (≥ 1; default at once).
    pub refill_half_life_seconds: Option<u64>,
}

/// `venues[].impact`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactSection {
    /// `"linear"`, `"square_root"`, `"constant_product"`, `"concentrated_liquidity"` or
    /// `"order_book"`.
    pub model: String,
    /// Fall of the price per unit sold, USD (`linear`; > 0).
    pub usd_per_unit: Option<f64>,
    /// Scale of the impact (`square_root`; default 1).
    pub coefficient: Option<f64>,
    /// Daily volatility of the asset, a fraction (`square_root`; > 0).
    pub daily_volatility: Option<f64>,
    /// Units traded per day (`square_root`; > 0).
    pub daily_volume: Option<f64>,
    /// The pool's base reserve, units (`constant_product`; unless `reserves`).
    pub base_reserve: Option<f64>,
    /// The pool's quote reserve, units (`constant_product`; unless `reserves`).
    pub quote_reserve: Option<f64>,
    /// Swap fee, a fraction (`constant_product`, default 0.003; `concentrated_liquidity`,
    /// required).
    pub fee: Option<f64>,
    /// Liquidity L = √(base · quote) in range (`concentrated_liquidity`; > 0).
    pub liquidity: Option<f64>,
    /// Lower end of the range, USD (`concentrated_liquidity`; default no bound).
    pub lower_price: Option<f64>,
    /// The pool's reserves over time, from a file (`constant_product`; instead of `base_reserve`
    /// and `quote_reserve`).
    pub reserves: Option<ReservesSection>,
    #[serde(default, deserialize_with = "pairs")]
    /// Bids as `[price, size]`, best (highest) first (`order_book`; unless `file`).
    pub levels: Option<Vec<(f64, f64)>>,
    #[serde(default, deserialize_with = "pairs")]
    /// Asks as `[price, size]`, best (lowest) first (`order_book`; default the bids mirrored).
    pub asks: Option<Vec<(f64, f64)>>,
    /// A `price,size` CSV of the book, with an optional `side` column (`order_book`; unless
    /// `levels`).
    pub file: Option<String>,
}

/// `venues[].impact.reserves`: a constant-product pool's reserves over time.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReservesSection {
    /// Reserve series file, relative to the scenario: CSV, or JSON if the name ends in `.json`.
    pub file: String,
    /// Column (CSV) or key (JSON) of the base reserve, units.
    pub base_column: String,
    /// Column or key of the quote reserve, units.
    pub quote_column: String,
    /// Column or key of the times (or give `interval_seconds`).
    pub time_column: Option<String>,
    /// `"seconds"`, `"milliseconds"` or `"rfc3339"` (with `time_column`).
    pub time_unit: Option<String>,
    /// Seconds between points when the file has no times (≥ 1).
    pub interval_seconds: Option<u64>,
    /// Run time of the first point, seconds (default 0).
    pub first_point_seconds: Option<u64>,
}

/// `[[oracles]]`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OracleSection {
    /// The oracle's name (non-empty, unique).
    pub name: String,
    /// The asset it prices.
    pub asset: String,
    /// Venue names (trading `asset`) or `"fundamental"` (at least one).
    pub sources: Vec<String>,
    #[serde(default)]
    /// `"last"` (one source, the default), `"median"` or `"twap"`.
    pub aggregation: Option<String>,
    #[serde(default)]
    /// Window of the time-weighted average, seconds (`twap`; ≥ 1).
    pub twap_window_seconds: Option<u64>,
    #[serde(default)]
    /// `"arithmetic"` (default), `"geometric"` or `"uniswap_v3_ticks"` (`twap`).
    pub twap_mean: Option<String>,
    #[serde(default)]
    /// `"every_read"` (default), `"deviation"` (Chainlink-like push) or `"delayed"` (Maker's OSM).
    pub update: Option<String>,
    #[serde(default)]
    /// Relative move that triggers a publication, a fraction (`deviation`; 0 < x < 1).
    pub deviation_threshold: Option<f64>,
    #[serde(default)]
    /// Longest time between publications, seconds (`deviation`; ≥ 1).
    pub heartbeat_seconds: Option<u64>,
    #[serde(default)]
    /// Delay of the published price, seconds (`delayed`; ≥ 1).
    pub delay_seconds: Option<u64>,
    #[serde(default)]
    /// Periods in which the oracle posts nothing (its nodes halted, or their updates not getting
    /// on chain): it reads its sources but neither publishes nor pokes, so its price ages (default
    /// none).
    pub outages: Vec<OutageSection>,
}

/// `[[protocols]]`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProtocolSection {
    /// The protocol's name (non-empty, unique among all protocols and perp exchanges).
    pub name: String,
    #[serde(default)]
    /// `"lending"` or `"perp"` (unless `preset` gives it).
    pub kind: Option<String>,
    #[serde(default)]
    /// A named preset: `lending`, `options_vault` (lending); `perpetual_swap`, `binance_usdm`,
    /// `hyperliquid` (perp). `cascade presets` lists them.
    pub preset: Option<String>,
    #[serde(default)]
    /// The liquidation mechanism and its parameters (lending; unless a preset gives it).
    pub liquidation: Option<LiquidationSection>,
    #[serde(default)]
    /// The oracle each asset is priced by, `ASSET = "oracle"` (lending; an asset without one is
    /// valued at its fundamental).
    pub oracles: BTreeMap<String, String>,
    #[serde(default)]
    /// The accepted collateral, `ASSET = { ltv, liquidation_threshold, ... }` (lending).
    pub collateral: Option<BTreeMap<String, CollateralSection>>,
    #[serde(default)]
    /// The liquidation engine of a perp exchange.
    pub perp: Option<PerpSection>,
    #[serde(default)]
    /// The markets of a perp exchange (at least one).
    pub markets: Vec<MarketSection>,
    #[serde(default)]
    /// Accounts are checked only at multiples of this many seconds (lending; ≥ 1; default every
    /// step).
    pub epoch_seconds: Option<u64>,
    #[serde(default)]
    /// Insurance fund and what happens to a shortfall.
    pub insurance: Option<InsuranceSection>,
    #[serde(default)]
    /// Most debt liquidated per step, USD (lending; > 0; default unlimited).
    pub liquidation_limit_usd_per_step: Option<f64>,
    #[serde(default)]
    /// The oldest oracle price the protocol uses, and what it does with an older one (lending;
    /// default none: a price of any age is used).
    pub oracle_staleness: Option<StalenessSection>,
}

/// `protocols[].oracle_staleness`: a lending protocol's check of its oracles' age, as protocols
/// check a Chainlink round's `updatedAt` against a maximum age.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StalenessSection {
    /// A price older than this many seconds since its oracle's last publication is stale (≥ 1).
    pub max_age_seconds: u64,
    /// `"pause"` (no liquidation that needs a stale price) or `"fallback"` (price the asset by
    /// its `fallback_oracles` entry while that one is fresh; pause otherwise).
    pub on_stale: String,
    #[serde(default)]
    /// The second oracle per asset, `ASSET = "oracle"` (`fallback`; at least one; each asset
    /// one the protocol prices by an oracle, each oracle another of that asset).
    pub fallback_oracles: BTreeMap<String, String>,
}

/// `protocols[].perp`: a perp exchange's liquidation engine.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PerpSection {
    #[serde(default)]
    /// `"bankruptcy"` (default) or `"market"`: the price a liquidated position is closed at.
    pub close_out: Option<String>,
    #[serde(default)]
    /// Fee into the insurance fund, a fraction of the notional closed (0 ≤ x < 0.5; default 0).
    pub liquidation_fee: Option<f64>,
    #[serde(default)]
    /// Positions above this notional, USD, are closed in slices (> 0; default 100000).
    pub slice_above_usd: Option<f64>,
    #[serde(default)]
    /// Fraction of a large position closed per slice (0 < x < 1; default 0.2).
    pub slice_fraction: Option<f64>,
    #[serde(default)]
    /// Seconds between slices (default 30).
    pub slice_cooldown_seconds: Option<u64>,
    #[serde(default)]
    /// Capital of the liquidator vault, USD (≥ 0; default no vault).
    pub vault_capital_usd: Option<f64>,
    #[serde(default)]
    /// The vault takes over accounts whose equity is below this fraction of maintenance (0 … 1;
    /// default 2/3).
    pub vault_below_fraction: Option<f64>,
    #[serde(default)]
    /// What the maintenance brackets apply to: `"mark"` (the notional at the mark; Binance,
    /// Hyperliquid) or `"entry"` (the value at entry; BitMEX). Default the preset's, else
    /// `"mark"`.
    pub maintenance_on: Option<String>,
    #[serde(default)]
    /// A liquidation during a slice cooldown: `"wait"` for it to end, or `"close_whole"`
    /// (Hyperliquid's rule). Default the preset's, else `"wait"`.
    pub during_slice_cooldown: Option<String>,
    #[serde(default)]
    /// The auto-deleveraging queue's order: `"bitmex"`, `"binance"` or `"hyperliquid"`.
    /// Default the preset's, else `"bitmex"`.
    pub adl_ranking: Option<String>,
    #[serde(default)]
    /// The price auto-deleveraging closes at: `"bankruptcy"` or `"previous_oracle"`
    /// (Hyperliquid). Default the preset's, else `"bankruptcy"`.
    pub adl_price: Option<String>,
    #[serde(default)]
    /// How a bankrupt position is spread over the opposite positions: `"queue"` (by rank, each
    /// closed only as far as needed; every venue's rule), `"whole_positions"` (by rank, each
    /// reached closed entirely, the excess to the outside counterparties) or `"pro_rata"`
    /// (every opposite position in profit closed by the same fraction). Default `"queue"`.
    pub adl_allocation: Option<String>,
}

/// `protocols[].markets[]`: a perp market.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketSection {
    /// The market's asset (once per exchange).
    pub asset: String,
    /// The venue whose base is `asset`: where close-outs trade.
    pub venue: String,
    #[serde(default)]
    /// The oracle of the index price (default the fundamental).
    pub oracle: Option<String>,
    #[serde(default)]
    /// `"index"` (default), `"venue"` or `"median"`: how the mark price is formed.
    pub mark: Option<String>,
    #[serde(default)]
    /// Highest leverage a position opens at (≥ 1; unless a perp preset gives it).
    pub max_leverage: Option<f64>,
    #[serde(default, deserialize_with = "pairs")]
    /// Maintenance margin brackets `[floor_usd, rate]`, floors increasing from 0 (default `[[0, 1 /
    /// (2 · max_leverage)]]`).
    pub maintenance: Option<Vec<(f64, f64)>>,
    #[serde(default)]
    /// Seconds between funding payments (≥ 1; default no funding).
    pub funding_interval_seconds: Option<u64>,
    #[serde(default)]
    /// Interest rate per interval (−1 < x < 1; default 0).
    pub funding_interest: Option<f64>,
    #[serde(default)]
    /// Clamp of the premium around the interest, per interval (0 ≤ x < 1; default 0.0005).
    pub funding_clamp: Option<f64>,
    #[serde(default)]
    /// Cap of the funding rate per interval (0 ≤ x < 1; default 0.0075).
    pub funding_cap: Option<f64>,
    #[serde(default)]
    /// Open-interest cap, USD at entry prices, per side (> 0; default none): the book's
    /// positions are opened in file order, and an account whose position would take its side's
    /// open interest in this market above the cap is refused (not opened), with a warning.
    pub open_interest_cap_usd: Option<f64>,
}

/// `protocols[].insurance`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InsuranceSection {
    /// The fund's starting balance, USD (≥ 0).
    pub fund_usd: f64,
    #[serde(default)]
    /// Fraction of liquidation fees paid into the fund (lending; 0 … 1; default 0).
    pub fee_share: Option<f64>,
    #[serde(default)]
    /// What happens to bad debt the fund cannot cover: `"none"`, `"socialise"` or `"debt_auction"`
    /// (lending; default `"none"`); `"adl"` (default), `"socialise"` or `"none"` (perp).
    pub shortfall: Option<String>,
    #[serde(default)]
    /// USD one debt-auction lot raises (with `"debt_auction"`; > 0; default 50000).
    pub debt_auction_lot_usd: Option<f64>,
}

/// `protocols[].liquidation`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LiquidationSection {
    /// `"fixed_spread"`, `"aave_v3"`, `"aave_v4"`, `"compound_v2"`, `"morpho_blue"`,
    /// `"euler_v2"`, `"dutch_auction"`, `"english_auction"`, `"backstop"`, `"compound_v3"` or
    /// `"liquity_v1"`.
    pub mechanism: String,
    #[serde(default)]
    /// Liquidation bonus, a fraction (0 ≤ x < 1; `fixed_spread`, `aave_v3`, `compound_v2`; the
    /// maximum bonus for `aave_v4`, its `maxLiquidationBonus` − 100%).
    pub bonus: Option<f64>,
    #[serde(default)]
    /// Fraction of the debt one call may repay (0 < x ≤ 1; `fixed_spread`, `compound_v2`).
    pub close_factor: Option<f64>,
    #[serde(default)]
    /// Below this health factor a call may repay all the debt (0 < x ≤ 1; `fixed_spread`).
    pub full_close_below_health_factor: Option<f64>,
    #[serde(default)]
    /// Share of the bonus part that goes to the treasury (0 … 1; default 0; `fixed_spread`,
    /// `aave_v3`, `aave_v4` (its `liquidationFee`)).
    pub protocol_fee: Option<f64>,
    #[serde(default)]
    /// The health factor a liquidation restores, no more (≥ 1; `aave_v4`'s
    /// `targetHealthFactor`).
    pub target_health_factor: Option<f64>,
    #[serde(default)]
    /// At or below this health factor the bonus is the maximum (0 ≤ x < 1; `aave_v4`'s
    /// `healthFactorForMaxBonus`).
    pub health_factor_for_max_bonus: Option<f64>,
    #[serde(default)]
    /// The share of the maximum bonus paid just below health factor 1, where the bonus is
    /// lowest (0 … 1; `aave_v4`'s `liquidationBonusFactor`).
    pub liquidation_bonus_factor: Option<f64>,
    #[serde(default)]
    /// `"3.2"` or `"3.3"` (`aave_v3`).
    pub version: Option<String>,
    #[serde(default)]
    /// Share of the seized collateral added to reserves (0 ≤ x < 1; default 0.028; `compound_v2`).
    pub protocol_seize_share: Option<f64>,
    #[serde(default)]
    /// The governor's maximum liquidation discount (0 < x < 1; `euler_v2`).
    pub max_discount: Option<f64>,
    #[serde(default)]
    /// Starting price of an auction over the oracle price, a ratio (> 0; `dutch_auction`).
    pub buf: Option<f64>,
    #[serde(default)]
    /// Price curve of a Dutch auction: `"linear"`, `"stairstep_exponential"` or `"exponential"`.
    pub curve: Option<String>,
    #[serde(default)]
    /// Seconds until the price reaches 0 (`dutch_auction` with `linear`), or an auction's longest
    /// life (`english_auction`).
    pub tau_seconds: Option<f64>,
    #[serde(default)]
    /// Seconds between price cuts (`dutch_auction` with `stairstep_exponential`; > 0).
    pub step_seconds: Option<f64>,
    #[serde(default)]
    /// Price multiplier per step or per second (`dutch_auction` with the exponential curves; 0 < x
    /// ≤ 1).
    pub cut: Option<f64>,
    #[serde(default)]
    /// Seconds after which an auction may be reset (`dutch_auction`; > 0).
    pub tail_seconds: Option<f64>,
    #[serde(default)]
    /// Fraction of the top below which an auction may be reset (`dutch_auction`; 0 ≤ x < 1; default
    /// 0).
    pub cusp: Option<f64>,
    #[serde(default)]
    /// Liquidation penalty on the debt, a fraction (0 ≤ x < 1; `dutch_auction`, `english_auction`,
    /// `backstop`).
    pub penalty: Option<f64>,
    #[serde(default)]
    /// Flat keeper incentive per kick, USD (`dutch_auction`; ≥ 0; default 0).
    pub tip_usd: Option<f64>,
    #[serde(default)]
    /// Keeper incentive per kick as a fraction of the tab (`dutch_auction`; 0 ≤ x < 1; default 0).
    pub chip: Option<f64>,
    #[serde(default)]
    /// Smallest debt left in a vault or auction, USD (`dutch_auction`; ≥ 0; default 0).
    pub dust_usd: Option<f64>,
    #[serde(default)]
    /// Most tab in this protocol's auctions at once, USD (`dutch_auction`; > 0; default unlimited).
    pub hole_usd: Option<f64>,
    #[serde(default)]
    /// Stop kicking when the price fell more than this fraction (`dutch_auction`; 0 < x < 1;
    /// default none).
    pub circuit_breaker: Option<f64>,
    #[serde(default)]
    /// Least relative increase of a new bid (`english_auction`; 0 < x < 1).
    pub beg: Option<f64>,
    #[serde(default)]
    /// Seconds a bid stands before the lot is dealt (`english_auction`; ≥ 1).
    pub ttl_seconds: Option<u64>,
    #[serde(default)]
    /// Most collateral units per auction (`english_auction`; > 0; default the whole vault).
    pub lump_units: Option<f64>,
    #[serde(default)]
    /// `"sell"` (sell the holdings over time) or `"hedge"` (keep them) (`backstop`).
    pub unwind: Option<String>,
    #[serde(default)]
    /// Fraction of the holdings sold per hour (`backstop` with `"sell"`; 0 < x ≤ 1).
    pub unwind_fraction_per_hour: Option<f64>,
    #[serde(default)]
    /// The backstop vault's capital, USD (`backstop`; ≥ 0; default unlimited).
    pub backstop_capital_usd: Option<f64>,
    #[serde(default)]
    /// Bonus added per unit of health-factor shortfall (≥ 0; default 0; with `bonus_cap`).
    pub bonus_slope: Option<f64>,
    #[serde(default)]
    /// Highest bonus with `bonus_slope` or `volatility_slope` (bonus ≤ x < 1).
    pub bonus_cap: Option<f64>,
    #[serde(default)]
    /// Bonus added per unit of annualised volatility (≥ 0; default 0; with `bonus_cap`).
    pub volatility_slope: Option<f64>,
    #[serde(default)]
    /// Window of that volatility, seconds (≥ 1; with `volatility_slope`).
    pub volatility_window_seconds: Option<u64>,
    #[serde(default)]
    /// Share of the liquidation discount a buyer gets (0 … 1; `compound_v3`).
    pub store_front_price_factor: Option<f64>,
    #[serde(default)]
    /// Reserves above which collateral is no longer sold, USD (≥ 0; `compound_v3`).
    pub target_reserves_usd: Option<f64>,
    #[serde(default)]
    /// Reserves at time 0, USD (`compound_v3`; default 0).
    pub initial_reserves_usd: Option<f64>,
    #[serde(default)]
    /// Debt-asset units deposited in the Stability Pool (≥ 0; `liquity_v1`).
    pub stability_pool_usd: Option<f64>,
    #[serde(default)]
    /// Critical collateral ratio of recovery mode (`liquity_v1`; default 1.5).
    pub ccr: Option<f64>,
    #[serde(default)]
    /// Debt-asset units paid to the liquidator from the gas pool (`liquity_v1`; default 200).
    pub gas_compensation: Option<f64>,
    #[serde(default)]
    /// Share of the collateral paid to the liquidator (`liquity_v1`; 0 … 1; default 0.005).
    pub collateral_gas_share: Option<f64>,
    #[serde(default)]
    /// The `TroveManager` function keepers call (`liquity_v1`): `"batch"`
    /// (`batchLiquidateTroves`, default) or `"single"` (`liquidate(address)` per trove).
    pub entry_point: Option<String>,
}

/// `protocols[].collateral.<ASSET>`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollateralSection {
    #[serde(default)]
    /// Largest loan-to-value of a new loan (0 … 1, ≤ `liquidation_threshold`; unless a preset gives
    /// it).
    pub ltv: Option<f64>,
    #[serde(default)]
    /// Loan-to-value at which an account becomes liquidatable (0 < x ≤ 1; unless a preset gives
    /// it).
    pub liquidation_threshold: Option<f64>,
    #[serde(default)]
    /// This asset's bonus, a fraction (0 ≤ x < 1; default `liquidation.bonus`).
    pub liquidation_bonus: Option<f64>,
    #[serde(default)]
    /// Share of the collateral's value credited when absorbed (0 < x ≤ 1; `compound_v3`).
    pub liquidation_factor: Option<f64>,
}

/// `[[positions]]`: a generated population or a file.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionsSection {
    /// The protocol or perp exchange the accounts belong to.
    pub protocol: String,
    #[serde(default)]
    /// A positions CSV, relative to the scenario (then only `protocol` and `borrowers` may be
    /// given).
    pub file: Option<String>,
    #[serde(default)]
    /// Accounts to generate (1 … 10000000).
    pub count: Option<u64>,
    #[serde(default)]
    /// Collateral of a generated lending population: `{ asset, total }`.
    pub collateral: Option<PositionCollateral>,
    #[serde(default)]
    /// Debt of a generated lending population: `{ asset }`.
    pub debt: Option<PositionDebt>,
    #[serde(default)]
    /// Distribution of the accounts' liquidation prices, USD (or give `health_factor`; for perps,
    /// or `leverage`).
    pub liquidation_price: Option<DistributionSection>,
    #[serde(default)]
    /// Distribution of the accounts' health factors at time 0 (lending; or give
    /// `liquidation_price`).
    pub health_factor: Option<DistributionSection>,
    #[serde(default)]
    /// Dispersion of the accounts' sizes, log-normal σ (≥ 0; default 0: equal sizes).
    pub size_sigma: Option<f64>,
    #[serde(default)]
    /// The market of a generated perp population (the `asset` of one of the exchange's markets).
    pub market: Option<String>,
    #[serde(default)]
    /// `"long"` or `"short"` (perp).
    pub side: Option<String>,
    #[serde(default)]
    /// Total notional of a generated perp population, USD (> 0).
    pub notional_usd: Option<f64>,
    #[serde(default)]
    /// Distribution of the positions' leverage (perp; or give `liquidation_price`).
    pub leverage: Option<DistributionSection>,
    #[serde(default)]
    /// Distribution of the entry prices, USD (perp; default the market's index at time 0).
    pub entry_price: Option<DistributionSection>,
    #[serde(default)]
    /// `"isolated"` (default) or `"cross"` (perp).
    pub margin_mode: Option<String>,
    #[serde(default)]
    /// Extra wallet of a cross-margin account, a fraction of its margin (≥ 0; default 0).
    pub cross_buffer: Option<f64>,
    #[serde(default)]
    /// How the owners act when their health falls (lending; default they never act).
    pub borrowers: Option<BorrowersSection>,
}

/// `positions[].collateral`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionCollateral {
    /// The collateral asset.
    pub asset: String,
    /// Total collateral of the population, units (> 0).
    pub total: f64,
}

/// `positions[].debt`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionDebt {
    /// The borrowed asset (≠ the collateral asset).
    pub asset: String,
}

/// A distribution of liquidation prices or health factors.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DistributionSection {
    /// `"uniform"`, `"even"` (evenly spaced), `"normal"` or `"lognormal"`.
    pub distribution: String,
    /// Lowest value (`uniform`, `even`; a truncation bound of `normal`, `lognormal`).
    pub low: Option<f64>,
    /// Highest value (`uniform`, `even`; a truncation bound of `normal`, `lognormal`).
    pub high: Option<f64>,
    /// Mean (`normal`, `lognormal`).
    pub mean: Option<f64>,
    /// Standard deviation (`normal`, `lognormal`).
    pub std: Option<f64>,
}

/// `[[keepers]]`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeeperSection {
    /// The keeper's name (non-empty, unique).
    pub name: String,
    /// The lending protocols it liquidates (at least one).
    pub protocols: Vec<String>,
    #[serde(default)]
    /// Where it sells seized collateral: a venue name, or `ASSET = "venue"` per asset (default:
    /// holds everything).
    pub sell_on: Option<SellOn>,
    #[serde(default)]
    /// Capital to repay debt with, USD (≥ 0; default unlimited).
    pub capital_usd: Option<f64>,
    #[serde(default)]
    /// Least profit a call must give, USD (default 0).
    pub min_profit_usd: Option<f64>,
    #[serde(default)]
    /// `"single_call"` (default) or `"two_step"`.
    pub strategy: Option<String>,
    #[serde(default)]
    /// How it bids for gas (only with a `[chain]`; default the clearing price).
    pub gas: Option<GasStrategySection>,
    #[serde(default)]
    /// Most gas it pays in the run, USD (≥ 0; only with a `[chain]`; default unlimited).
    pub gas_budget_usd: Option<f64>,
    #[serde(default)]
    /// Seconds between seeing an account and acting (default 0).
    pub latency_seconds: Option<u64>,
    #[serde(default)]
    /// Seconds between seizing collateral and selling it (default 0).
    pub sale_delay_seconds: Option<u64>,
    #[serde(default)]
    /// Periods when the keeper is absent.
    pub outages: Vec<OutageSection>,
}

/// `keepers[].sell_on`: one venue name, or a venue per collateral asset.
#[derive(Clone, Debug, PartialEq)]
pub enum SellOn {
    /// Every asset on this venue.
    One(String),
    /// `ASSET = "venue"`: each asset on its venue; assets not named are held.
    PerAsset(BTreeMap<String, String>),
}

impl JsonSchema for SellOn {
    fn schema_name() -> Cow<'static, str> {
        "SellOn".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "string", "description": "A venue: every asset is sold there." },
                {
                    "type": "object",
                    "description": "ASSET = \"venue\": each asset on its venue; assets not named are held.",
                    "additionalProperties": { "type": "string" }
                }
            ]
        })
    }
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
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShockSection {
    /// The asset whose fundamental price moves.
    pub asset: String,
    /// The step at whose start it moves (1 … `simulation.steps`).
    pub step: u64,
    #[serde(default)]
    /// A fall, a fraction (0 ≤ x < 1); or give `rise`.
    pub drop: Option<f64>,
    #[serde(default)]
    /// A rise, a fraction (≥ 0); or give `drop`.
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
