//! Validation of a parsed scenario and its conversion into an engine [`World`].
//!
//! Every rule reports through [`Builder::fail`] with the field path and the value, so one run of
//! `cascade validate` lists every problem in the file, not just the first.

mod chain;
mod drivers;
mod market_makers;
pub(crate) mod perp;
mod replay;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cascade_engine::{
    AssetInfo, BorrowerGroup, KeeperInfo, OracleInfo, OracleSource, ProtocolInfo, Simulation,
    StalenessGuard, VenueInfo, World,
};
use cascade_model::auction::english::EnglishAuctionParams;
use cascade_model::auction::{DutchAuctionParams, PriceCurve};
use cascade_model::backstop::{BackstopParams, Unwind};
use cascade_model::comet::CometParams;
use cascade_model::fundamental::{Fundamental, PriceDriver, Series, Shock};
use cascade_model::ids::{AssetId, KeeperId, OracleId, ProtocolId, VenueId};
use cascade_model::keeper::{KeeperSpec, KeeperStrategy};
use cascade_model::lending::{
    AaveV4, AaveVersion, Account, CollateralParams, FixedSpread, LendingParams, LiquidationRule,
};
use cascade_model::liquity::{EntryPoint, LiquityParams};
use cascade_model::loss::{InsuranceParams, Shortfall};
use cascade_model::oracle::{Aggregation, OnStale, Oracle, Staleness, TwapMean, UpdateRule};
use cascade_model::venue::{ImpactCurve, OrderBook, Venue};
use sha2::{Digest, Sha256};
use smallvec::smallvec;

use crate::data::{self, BookSide};
use crate::error::{InputError, ScenarioError};
use crate::generate;
use crate::mechanism::MechanismKind;
use crate::path::{FieldPath, Locator};
use crate::preset::PresetKind;
use crate::schema::*;
use perp::{PerpContext, ProtocolKind, section_kind};

/// Default bound on settle rounds inside one step.
pub const DEFAULT_MAX_ROUNDS: u32 = 1000;

/// Largest generated population in one `[[positions]]` section: bounds the memory a scenario can
/// ask for (about 60 bytes an account) so that a typo in `count` is an input error, not an abort.
const MAX_GENERATED_POSITIONS: u64 = 10_000_000;

/// A validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The world to run.
    pub world: World,
    /// SHA-256 of the scenario text and every data file it references, hex.
    pub hash: String,
    /// Description from `[simulation]`, if any.
    pub description: Option<String>,
    /// Warnings about parameters that are legal but probably not what was meant.
    pub warnings: Vec<String>,
}

/// A number as an error names it: as written for everyday magnitudes, in scientific notation
/// beyond 1e16 (so 1e308 is not three hundred digits long).
fn shown(value: f64) -> String {
    if value.is_finite() && value.abs() >= 1e16 {
        format!("{value:e}")
    } else {
        value.to_string()
    }
}

/// The largest move a price driver's drift may make over a run, in log price: e^100 is far
/// beyond any market and far below f64's overflow at e^709.
const MAX_LOG_MOVE: f64 = 100.0;

/// The largest standard deviation of one step's Gaussian move, and the largest mean or
/// standard deviation of one jump, in log price (10: a factor of 22,000).
const MAX_STEP_LOG_STD: f64 = 10.0;

/// The most jumps a step may expect: a jump-diffusion draws its jumps one by one, so a bound
/// on their number per step bounds a run's time.
const MAX_JUMPS_PER_STEP: f64 = 1_000.0;

pub(crate) struct Builder<'a> {
    file: &'a Path,
    base_dir: &'a Path,
    locator: Locator<'a>,
    problems: Vec<InputError>,
    warnings: Vec<String>,
    hasher: Sha256,
    /// Generated books to reuse, when several scenarios are built from one file's variants.
    books: Option<&'a generate::BookCache>,
}

fn root() -> FieldPath {
    FieldPath::root()
}

/// Whether the Unix time `t` is a date-time RFC 3339 writes (a year from 0000 to 9999 in UTC).
fn rfc3339_writes(t: i64) -> bool {
    chrono::DateTime::from_timestamp(t, 0)
        .is_some_and(|d| (0..=9999).contains(&chrono::Datelike::year(&d)))
}

impl<'a> Builder<'a> {
    pub(crate) fn new(text: &'a str, file: &'a Path, base_dir: &'a Path) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(text.as_bytes());
        Self {
            file,
            base_dir,
            locator: Locator::new(text),
            problems: Vec::new(),
            warnings: Vec::new(),
            hasher,
            books: None,
        }
    }

    /// Draws generated books through `cache`, reusing the ones it keeps.
    pub(crate) fn with_books(self, cache: &'a generate::BookCache) -> Self {
        Self {
            books: Some(cache),
            ..self
        }
    }

    fn fail(&mut self, field: &FieldPath, value: impl Display, message: impl Into<String>) {
        let line = self.locator.line(field);
        self.problems.push(
            InputError::new(self.file, field.to_string(), message)
                .value(value)
                .line(line),
        );
    }

    fn fail_bare(&mut self, field: &FieldPath, message: impl Into<String>) {
        let line = self.locator.line(field);
        self.problems
            .push(InputError::new(self.file, field.to_string(), message).line(line));
    }

    /// A problem with a field as a whole: its value is shown as written in the file.
    fn fail_written(&mut self, field: &FieldPath, message: impl Into<String>) {
        match self.locator.value_text(field) {
            Some(text) => self.fail(field, text, message),
            None => self.fail_bare(field, message),
        }
    }

    /// Checks a finite value against a predicate.
    fn check(&mut self, field: &FieldPath, value: f64, ok: bool, expected: &str) -> bool {
        if !value.is_finite() || !ok {
            self.fail(field, shown(value), format!("expected {expected}"));
            return false;
        }
        true
    }

    fn positive(&mut self, field: &FieldPath, value: f64) -> bool {
        self.check(field, value, value > 0.0, "a positive number")
    }

    fn required<T: Clone>(
        &mut self,
        field: &FieldPath,
        value: &Option<T>,
        context: &str,
    ) -> Option<T> {
        if value.is_none() {
            self.fail_bare(field, format!("missing: required {context}"));
        }
        value.clone()
    }

    fn forbid<T>(&mut self, field: &FieldPath, value: &Option<T>, context: &str) {
        if value.is_some() {
            self.fail_written(field, format!("does not apply {context}"));
        }
    }

    /// Reads a data file relative to the scenario's directory and adds it to the hash.
    fn read_data(&mut self, field: &FieldPath, name: &str) -> Option<(PathBuf, Vec<u8>)> {
        let path = self.base_dir.join(name);
        match std::fs::read(&path) {
            Ok(bytes) => {
                self.hasher.update(name.as_bytes());
                self.hasher.update(&bytes);
                Some((path, bytes))
            }
            Err(e) => {
                self.fail(
                    field,
                    format!("{name:?}"),
                    format!("cannot read {}: {e}", path.display()),
                );
                None
            }
        }
    }

    fn data_error(&mut self, error: InputError) {
        self.problems.push(error);
    }

    fn lookup<T: Copy>(
        &mut self,
        field: &FieldPath,
        map: &HashMap<String, T>,
        name: &str,
        what: &str,
    ) -> Option<T> {
        match map.get(name) {
            Some(&id) => Some(id),
            None => {
                let mut known: Vec<&String> = map.keys().collect();
                known.sort();
                let known = known
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                self.fail(
                    field,
                    format!("{name:?}"),
                    format!("unknown {what}; known: [{known}]"),
                );
                None
            }
        }
    }

    fn unique(
        &mut self,
        seen: &mut HashMap<String, usize>,
        field: &FieldPath,
        name: &str,
        what: &str,
    ) {
        if name.trim().is_empty() {
            self.fail(
                field,
                format!("{name:?}"),
                format!("a {what} needs a non-empty name"),
            );
        } else if seen.insert(name.to_string(), seen.len()).is_some() {
            self.fail(field, format!("{name:?}"), format!("duplicate {what} name"));
        }
    }

    pub(crate) fn build(mut self, file: ScenarioFile) -> Result<Scenario, ScenarioError> {
        let simulation = self.simulation(&file.simulation);
        if file.assets.is_empty() {
            // Everything else names assets: without one, nothing more can be checked.
            self.fail_bare(
                &root().key("assets"),
                "missing: a scenario needs at least one [[assets]] (an asset with a start price)",
            );
            return Err(ScenarioError {
                problems: self.problems,
            });
        }
        let (assets, fundamentals, asset_ids) = self.assets(&file.assets, &simulation);
        let (venues, venue_ids) = self.venues(&file.venues, &asset_ids, &assets);
        let venues = self.with_market_makers(&file.venues, venues, &simulation);
        let mut assets = assets;
        for (i, (info, _)) in venues.iter().enumerate() {
            let asset = &mut assets[info.base.index()];
            if asset.primary_venue.is_none() {
                asset.primary_venue = Some(VenueId(i as u32));
            }
        }
        let oracles = self.oracles(
            &file.oracles,
            &asset_ids,
            &venue_ids,
            &venues,
            &fundamentals,
        );
        let oracle_ids: HashMap<String, OracleId> = file
            .oracles
            .iter()
            .enumerate()
            .map(|(i, o)| (o.name.clone(), OracleId(i as u32)))
            .collect();
        let mut protocols = self.protocols(
            &file.protocols,
            &asset_ids,
            &oracle_ids,
            &file.oracles,
            assets.len(),
        );
        // Lending protocols and perp exchanges are numbered apart, each in file order.
        let protocol_ids: HashMap<String, ProtocolId> = file
            .protocols
            .iter()
            .filter(|p| section_kind(p) != Some(ProtocolKind::Perp))
            .enumerate()
            .map(|(i, p)| (p.name.clone(), ProtocolId(i as u32)))
            .collect();
        let start_prices: Vec<f64> = assets.iter().map(|a| a.start_price).collect();
        let perp_cx = PerpContext {
            asset_ids: &asset_ids,
            venue_ids: &venue_ids,
            venues: &venues,
            oracle_ids: &oracle_ids,
            oracles: &oracles,
            start_prices: &start_prices,
            seed: file.simulation.seed,
        };
        let (mut perps, perp_ids) = self.perps(&file.protocols, &perp_cx);
        let mut perp_books: Vec<Vec<_>> = vec![Vec::new(); perps.len()];
        for (i, s) in file.positions.iter().enumerate() {
            if let Some(&x) = perp_ids.get(&s.protocol) {
                let market_names: Vec<String> = file
                    .protocols
                    .iter()
                    .find(|p| p.name == s.protocol)
                    .map(|p| p.markets.iter().map(|m| m.asset.clone()).collect())
                    .unwrap_or_default();
                let (accounts, labels) =
                    self.perp_positions(s, &perps[x.index()], &market_names, &perp_cx, i);
                let book = &mut perp_books[x.index()];
                let all_labels = &mut perps[x.index()].account_labels;
                if !labels.is_empty() {
                    all_labels.resize(book.len(), String::new());
                    all_labels.extend(labels);
                }
                book.extend(accounts);
            }
        }
        for (info, book) in perps.iter_mut().zip(&mut perp_books) {
            if !info.account_labels.is_empty() {
                info.account_labels.resize(book.len(), String::new());
            }
            if let Some((k, section)) = file
                .protocols
                .iter()
                .enumerate()
                .find(|(_, p)| p.name == info.name)
            {
                let at = root().key("protocols").at(k);
                self.cap_open_interest(&at, section, book, &mut info.account_labels);
            }
        }
        let keepers = self.keepers(
            &file.keepers,
            &protocol_ids,
            &venue_ids,
            &venues,
            &asset_ids,
            &mut protocols,
            file.chain.is_some(),
        );
        let oracle_prices: Vec<f64> = oracles.iter().map(|(_, o)| o.published()).collect();
        let accounts = self.positions(
            &file,
            &protocol_ids,
            &asset_ids,
            &assets,
            &oracle_prices,
            &mut protocols,
        );
        let chain = self.chain(file.chain.as_ref(), &asset_ids, simulation.step_seconds);
        if let Some(expiry) = chain.as_ref().and_then(|c| c.expiry) {
            for (i, k) in keepers.iter().enumerate() {
                if k.spec.latency >= expiry {
                    self.fail(
                        &root().key("keepers").at(i).key("latency_seconds"),
                        k.spec.latency,
                        format!(
                            "expected less than chain.expiry_seconds ({expiry}): every transaction of this keeper would expire before it could be included"
                        ),
                    );
                }
            }
        }
        let shocks = self.shocks(&file.shocks, &asset_ids, simulation.steps);
        let correlation = self.correlations(&file.correlations, &asset_ids, &fundamentals);
        self.protocol_warnings(&protocols, &assets);
        if !self.problems.is_empty() {
            let mut problems = self.problems;
            problems.sort_by_key(|p| (p.file.clone(), p.line.unwrap_or(usize::MAX)));
            return Err(ScenarioError { problems });
        }
        let mut world = World::new(
            simulation,
            assets,
            fundamentals,
            venues,
            oracles,
            protocols.into_iter().zip(accounts).collect(),
            keepers,
            perps.into_iter().zip(perp_books).collect(),
            shocks,
            correlation,
        );
        world.chain = chain;
        // Perp accounts are marked as the engine marks them at time 0.
        for (info, state) in world.perps.iter().zip(&world.initial.perps) {
            let unhealthy = state
                .accounts
                .iter()
                .filter(|a| a.liquidatable(&info.rules, &state.marks))
                .count();
            if unhealthy > 0 {
                self.warnings.push(format!(
                    "perp exchange {}: {unhealthy} accounts start liquidatable (equity below maintenance at the start marks) and are liquidated at step 0",
                    info.name
                ));
            }
        }
        let hash = self
            .hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Scenario {
            world,
            hash,
            description: file.simulation.description,
            warnings: self.warnings,
        })
    }

    fn simulation(&mut self, s: &SimulationSection) -> Simulation {
        let at = root().key("simulation");
        if s.name.trim().is_empty() {
            self.fail(
                &at.key("name"),
                format!("{:?}", s.name),
                "expected a non-empty name",
            );
        }
        if s.steps == 0 {
            self.fail(&at.key("steps"), s.steps, "expected at least 1 step");
        }
        if s.step_seconds == 0 {
            self.fail(
                &at.key("step_seconds"),
                s.step_seconds,
                "expected at least 1 second",
            );
        }
        if s.steps.checked_mul(s.step_seconds).is_none() {
            self.fail(
                &at.key("steps"),
                s.steps,
                format!(
                    "the run would last steps × step_seconds = {} × {} seconds, more than the clock counts (2^64 − 1 seconds)",
                    s.steps, s.step_seconds
                ),
            );
        }
        if s.max_rounds == Some(0) {
            self.fail(&at.key("max_rounds"), 0, "expected at least 1 round");
        }
        if let Some(hole) = s.auction_hole_usd {
            self.check(
                &at.key("auction_hole_usd"),
                hole,
                hole > 0.0,
                "a positive USD amount",
            );
        }
        let start_time = s
            .start_time
            .as_ref()
            .and_then(|t| self.start_time(&at.key("start_time"), &t.0, s));
        Simulation {
            name: s.name.clone(),
            seed: s.seed,
            steps: s.steps,
            step_seconds: s.step_seconds.max(1),
            max_rounds: s.max_rounds.unwrap_or(DEFAULT_MAX_ROUNDS).max(1),
            auction_hole: s.auction_hole_usd,
            start_time,
        }
    }

    /// `simulation.start_time` as a Unix time: an RFC 3339 date-time with its offset, in whole
    /// seconds, such that every time of the run is a date-time RFC 3339 writes (up to
    /// 9999-12-31T23:59:59Z). `None` when it is not (reported).
    fn start_time(&mut self, field: &FieldPath, text: &str, s: &SimulationSection) -> Option<i64> {
        let written = format!("{text:?}");
        let Ok(t) = chrono::DateTime::parse_from_rfc3339(text.trim()) else {
            self.fail(
                field,
                written,
                "expected an RFC 3339 date-time with its UTC offset, such as \"2020-03-12T00:00:00Z\"",
            );
            return None;
        };
        if t.timestamp_subsec_nanos() != 0 {
            self.fail(
                field,
                written,
                "expected whole seconds: times in the outputs are whole seconds",
            );
            return None;
        }
        let start = t.timestamp();
        let run = s.steps.saturating_mul(s.step_seconds);
        let end = i64::try_from(run).ok().and_then(|r| start.checked_add(r));
        if !rfc3339_writes(start) || !end.is_some_and(rfc3339_writes) {
            self.fail(
                field,
                written,
                format!(
                    "expected the run ({run} seconds from its start) to lie within 0000-01-01T00:00:00Z … 9999-12-31T23:59:59Z, the times RFC 3339 writes"
                ),
            );
            return None;
        }
        Some(start)
    }

    fn assets(
        &mut self,
        sections: &[AssetSection],
        simulation: &Simulation,
    ) -> (Vec<AssetInfo>, Vec<Fundamental>, HashMap<String, AssetId>) {
        let mut ids = HashMap::new();
        let mut infos = Vec::new();
        let mut fundamentals = Vec::new();
        if sections.is_empty() {
            self.fail_bare(
                &root().key("assets"),
                "missing: a scenario needs at least one [[assets]]",
            );
        }
        for (i, a) in sections.iter().enumerate() {
            let at = root().key("assets").at(i);
            let mut seen = ids
                .iter()
                .map(|(k, v): (&String, &AssetId)| (k.clone(), v.index()))
                .collect();
            self.unique(&mut seen, &at.key("symbol"), &a.symbol, "asset");
            ids.insert(a.symbol.clone(), AssetId(i as u32));
            if let Some(price) = a.price {
                self.positive(&at.key("price"), price);
            }
            let (driver, start) = self.driver(&at, a, simulation);
            // NaN when the start price is unknown (missing, invalid, or an unreadable replay, each
            // reported already): comparisons with it are false, so checks against the start price
            // (order-book bids, pool prices) add no follow-on noise.
            let start = start
                .or(a.price)
                .filter(|p| p.is_finite() && *p > 0.0)
                .unwrap_or(f64::NAN);
            let from_file = a
                .driver
                .as_ref()
                .is_some_and(|d| matches!(d.model.as_str(), "replay" | "ensemble"));
            if a.price.is_none() && !from_file {
                self.fail_bare(
                    &at.key("price"),
                    "missing: required unless the driver replays a series or reads a path ensemble",
                );
            }
            infos.push(AssetInfo {
                symbol: a.symbol.clone(),
                start_price: start,
                primary_venue: None,
            });
            fundamentals.push(Fundamental::new(start, driver));
        }
        (infos, fundamentals, ids)
    }

    /// The driver of an asset, and its start price when the driver fixes it (a replay, an
    /// ensemble).
    fn driver(
        &mut self,
        at: &FieldPath,
        a: &AssetSection,
        simulation: &Simulation,
    ) -> (PriceDriver, Option<f64>) {
        let Some(d) = &a.driver else {
            return (PriceDriver::Constant, None);
        };
        let run_seconds = simulation.step_seconds.saturating_mul(simulation.steps);
        let asset_at = at;
        let at = at.key("driver");
        let model = d.model.as_str();
        let ctx = format!("for model {model:?}");
        self.forbid_other_keys(&at, d, model);
        let driver = match model {
            "constant" => PriceDriver::Constant,
            "gbm" | "jump_diffusion" => {
                let run_years = run_seconds as f64 / cascade_model::SECONDS_PER_YEAR;
                let step_years = simulation.step_seconds as f64 / cascade_model::SECONDS_PER_YEAR;
                let drift = d.drift.unwrap_or(0.0);
                self.check(
                    &at.key("drift"),
                    drift,
                    drift.abs() * run_years <= MAX_LOG_MOVE,
                    &format!(
                        "a finite annual drift whose move over the run, |drift| × {run_years:.3e} \
                         years, is at most {MAX_LOG_MOVE} in log price (beyond it prices \
                         overflow)"
                    ),
                );
                let volatility = self
                    .required(&at.key("volatility"), &d.volatility, &ctx)
                    .unwrap_or(0.0);
                self.check(
                    &at.key("volatility"),
                    volatility,
                    volatility >= 0.0 && volatility * step_years.sqrt() <= MAX_STEP_LOG_STD,
                    &format!(
                        "an annual volatility ≥ 0 whose standard deviation in one step, \
                         volatility × √{step_years:.3e}, is at most {MAX_STEP_LOG_STD} in log price"
                    ),
                );
                if model == "gbm" {
                    PriceDriver::Gbm { drift, volatility }
                } else {
                    let intensity = self
                        .required(&at.key("jump_intensity"), &d.jump_intensity, &ctx)
                        .unwrap_or(0.0);
                    self.check(
                        &at.key("jump_intensity"),
                        intensity,
                        intensity >= 0.0 && intensity * step_years <= MAX_JUMPS_PER_STEP,
                        &format!(
                            "jumps per year ≥ 0, at most {MAX_JUMPS_PER_STEP} per step on \
                             average (jump_intensity × {step_years:.3e} years a step): at most \
                             {:.4e} with this step_seconds",
                            MAX_JUMPS_PER_STEP / step_years
                        ),
                    );
                    let mean = self
                        .required(&at.key("jump_mean"), &d.jump_mean, &ctx)
                        .unwrap_or(0.0);
                    self.check(
                        &at.key("jump_mean"),
                        mean,
                        mean.abs() <= MAX_STEP_LOG_STD,
                        &format!("a mean log jump of at most {MAX_STEP_LOG_STD} either way"),
                    );
                    let std = self
                        .required(&at.key("jump_std"), &d.jump_std, &ctx)
                        .unwrap_or(0.0);
                    self.check(
                        &at.key("jump_std"),
                        std,
                        (0.0..=MAX_STEP_LOG_STD).contains(&std),
                        &format!("a standard deviation ≥ 0 and at most {MAX_STEP_LOG_STD}"),
                    );
                    PriceDriver::JumpDiffusion {
                        drift,
                        volatility,
                        jump_intensity: intensity,
                        jump_mean: mean,
                        jump_std: std,
                    }
                }
            }
            "path" => {
                let points = self
                    .required(&at.key("points"), &d.points, &ctx)
                    .unwrap_or_default();
                let mut times = Vec::new();
                let mut prices = Vec::new();
                for (i, &(t, p)) in points.iter().enumerate() {
                    let field = at.key("points").at(i);
                    if !(t.is_finite() && t >= 0.0 && t.fract() == 0.0) {
                        self.fail(
                            &field,
                            format!("[{t}, {p}]"),
                            "expected [seconds, price] with whole seconds ≥ 0",
                        );
                        continue;
                    }
                    if !(p.is_finite() && p > 0.0) {
                        self.fail(&field, format!("[{t}, {p}]"), "expected a positive price");
                        continue;
                    }
                    if times.last().is_some_and(|&last| t as u64 <= last) {
                        self.fail(&field, format!("[{t}, {p}]"), "times must increase");
                        continue;
                    }
                    times.push(t as u64);
                    prices.push(p);
                }
                if points.is_empty() && d.points.is_some() {
                    self.fail_bare(
                        &at.key("points"),
                        "expected at least one [seconds, price] point",
                    );
                }
                if times.is_empty() {
                    return (PriceDriver::Constant, None);
                }
                if let Some(price) = a.price {
                    if times[0] == 0 && (prices[0] - price).abs() > 1e-9 * price {
                        self.fail(&at.key("points").at(0), format!("[0, {}]", prices[0]),
                            format!("the path starts at a different price from the asset's price {price}"));
                    } else if times[0] > 0 {
                        // The path ramps from the asset's price at time 0 to its first point.
                        times.insert(0, 0);
                        prices.insert(0, price);
                    }
                }
                PriceDriver::Path(Arc::new(Series { times, prices }))
            }
            "replay" => return self.replay(asset_at, &at, a, d, run_seconds),
            "garch" => self.garch(&at, d),
            "bootstrap" => self.bootstrap(&at, a, d, simulation.step_seconds),
            "ensemble" => return self.ensemble(asset_at, &at, a, d, run_seconds),
            other => {
                self.fail(
                    &at.key("model"),
                    format!("{other:?}"),
                    format!("unknown driver; expected one of {}", drivers::model_names()),
                );
                PriceDriver::Constant
            }
        };
        (driver, None)
    }

    fn replay(
        &mut self,
        asset_at: &FieldPath,
        at: &FieldPath,
        a: &AssetSection,
        d: &DriverSection,
        run_seconds: u64,
    ) -> (PriceDriver, Option<f64>) {
        let ctx = "for model \"replay\"";
        let keys = self.series_keys(at, d, ctx);
        let interpolation = self.interpolation(at, d);
        let fallback = (PriceDriver::Constant, None);
        let Some(keys) = keys else {
            return fallback;
        };
        let Some(points) = self.read_series(at, &keys) else {
            return fallback;
        };
        let origin = points[0].0 + d.start_offset_seconds.unwrap_or(0) as f64;
        let Some(points) = self.overlays(at, d, points, origin) else {
            return fallback;
        };
        let Series { times, mut prices } = drivers::relative_series(&points, origin);
        let first = prices[0];
        let mut start = first;
        if d.rescale == Some(true) {
            match a.price {
                Some(price) => {
                    let factor = price / first;
                    prices.iter_mut().for_each(|p| *p *= factor);
                    start = price;
                }
                None => self.fail_bare(
                    &at.key("rescale"),
                    "rescale needs the asset's price to rescale to",
                ),
            }
        } else if let Some(price) = a.price {
            if (price - first).abs() > 1e-9 * first {
                self.fail(&asset_at.key("price"), price, format!(
                    "differs from the replayed series' first price {first}; remove `price` or set driver.rescale = true"));
            }
        }
        if let Some(&last) = times.last() {
            if last < run_seconds {
                self.warnings.push(format!(
                    "asset {}: the replayed series covers {last} s but the run lasts {run_seconds} s; the last price is held",
                    a.symbol
                ));
            }
        }
        (
            PriceDriver::Replay {
                series: Arc::new(Series { times, prices }),
                interpolation,
            },
            Some(start),
        )
    }

    fn venues(
        &mut self,
        sections: &[VenueSection],
        asset_ids: &HashMap<String, AssetId>,
        assets: &[AssetInfo],
    ) -> (Vec<(VenueInfo, Venue)>, HashMap<String, VenueId>) {
        let mut seen = HashMap::new();
        let mut out = Vec::new();
        let mut ids = HashMap::new();
        for (i, v) in sections.iter().enumerate() {
            let at = root().key("venues").at(i);
            self.unique(&mut seen, &at.key("name"), &v.name, "venue");
            ids.insert(v.name.clone(), VenueId(i as u32));
            let base = self.lookup(&at.key("base"), asset_ids, &v.base, "asset");
            let quote = self.lookup(&at.key("quote"), asset_ids, &v.quote, "asset");
            if base.is_some() && base == quote {
                self.fail(
                    &at.key("quote"),
                    format!("{:?}", v.quote),
                    "the quote asset must differ from the base asset",
                );
            }
            let permanent = v.permanent_fraction.unwrap_or(1.0);
            self.check(
                &at.key("permanent_fraction"),
                permanent,
                (0.0..=1.0).contains(&permanent),
                "a fraction in [0, 1]",
            );
            let half_life = v.half_life_seconds;
            if permanent < 1.0 && half_life.is_none() {
                self.fail_bare(&at.key("half_life_seconds"), "missing: required when permanent_fraction < 1 (how fast transient impact recovers)");
            }
            if half_life == Some(0) {
                self.fail(
                    &at.key("half_life_seconds"),
                    0,
                    "expected at least 1 second",
                );
            } else if permanent == 1.0 {
                self.forbid(
                    &at.key("half_life_seconds"),
                    &half_life,
                    "when permanent_fraction = 1 (no impact is transient, so none recovers)",
                );
            }
            let start = base.map_or(1.0, |b| assets[b.index()].start_price);
            let liquidity = match &v.impact.reserves {
                Some(r) if v.impact.model == "constant_product" => {
                    self.reserves(&at.key("impact"), r)
                }
                _ => None,
            };
            let curve = self.impact(
                &at.key("impact"),
                &v.impact,
                start,
                liquidity.as_ref().map(|l| l.at(0)),
            );
            if let (Some(base), Some(quote), Some(curve)) = (base, quote, curve) {
                out.push((
                    VenueInfo {
                        name: v.name.clone(),
                        base,
                        quote,
                        liquidity,
                    },
                    Venue::new(base, curve, permanent, half_life),
                ));
            } else {
                // Keep indices aligned with the file even when this venue is invalid.
                out.push((
                    VenueInfo {
                        name: v.name.clone(),
                        base: AssetId(0),
                        quote: AssetId(0),
                        liquidity: None,
                    },
                    Venue::new(
                        AssetId(0),
                        ImpactCurve::Linear { usd_per_unit: 1.0 },
                        1.0,
                        None,
                    ),
                ));
            }
        }
        (out, ids)
    }

    /// The impact curve of a venue. `reserve_liquidity` is the L at time 0 of a constant-product
    /// pool driven by `reserves`, when they were read (they are read by [`Builder::reserves`]).
    fn impact(
        &mut self,
        at: &FieldPath,
        s: &ImpactSection,
        start_price: f64,
        reserve_liquidity: Option<f64>,
    ) -> Option<ImpactCurve> {
        let model = s.model.as_str();
        let ctx = format!("for model {model:?}");
        let fields: [(&str, bool, &[&str]); 12] = [
            ("usd_per_unit", s.usd_per_unit.is_some(), &["linear"]),
            ("coefficient", s.coefficient.is_some(), &["square_root"]),
            (
                "daily_volatility",
                s.daily_volatility.is_some(),
                &["square_root"],
            ),
            ("daily_volume", s.daily_volume.is_some(), &["square_root"]),
            (
                "base_reserve",
                s.base_reserve.is_some(),
                &["constant_product"],
            ),
            (
                "quote_reserve",
                s.quote_reserve.is_some(),
                &["constant_product"],
            ),
            (
                "fee",
                s.fee.is_some(),
                &["constant_product", "concentrated_liquidity"],
            ),
            (
                "liquidity",
                s.liquidity.is_some(),
                &["concentrated_liquidity"],
            ),
            (
                "lower_price",
                s.lower_price.is_some(),
                &["concentrated_liquidity"],
            ),
            ("reserves", s.reserves.is_some(), &["constant_product"]),
            ("levels", s.levels.is_some(), &["order_book"]),
            ("asks", s.asks.is_some(), &["order_book"]),
        ];
        let known = matches!(
            model,
            "linear" | "square_root" | "constant_product" | "concentrated_liquidity" | "order_book"
        );
        // With an unknown model, which fields apply is unknown: report the model alone.
        for (name, present, models) in fields {
            if known && present && !models.contains(&model) {
                self.fail_written(&at.key(name), format!("does not apply {ctx}"));
            }
        }
        if known && s.file.is_some() && model != "order_book" {
            self.fail_written(&at.key("file"), format!("does not apply {ctx}"));
        }
        match model {
            "linear" => {
                let lambda = self.required(&at.key("usd_per_unit"), &s.usd_per_unit, &ctx)?;
                self.positive(&at.key("usd_per_unit"), lambda)
                    .then_some(ImpactCurve::Linear {
                        usd_per_unit: lambda,
                    })
            }
            "square_root" => {
                let coefficient = s.coefficient.unwrap_or(1.0);
                let ok_c = self.positive(&at.key("coefficient"), coefficient);
                let sigma =
                    self.required(&at.key("daily_volatility"), &s.daily_volatility, &ctx)?;
                let ok_s = self.positive(&at.key("daily_volatility"), sigma);
                let volume = self.required(&at.key("daily_volume"), &s.daily_volume, &ctx)?;
                let ok_v = self.positive(&at.key("daily_volume"), volume);
                (ok_c && ok_s && ok_v).then_some(ImpactCurve::SquareRoot {
                    coefficient,
                    daily_volatility: sigma,
                    daily_volume: volume,
                })
            }
            "constant_product" if s.reserves.is_some() => {
                // L follows the reserve series; the pool price of its points is not compared
                // with the asset's price (only L is kept, re-centred on the fundamental).
                for (name, value) in [
                    ("base_reserve", s.base_reserve),
                    ("quote_reserve", s.quote_reserve),
                ] {
                    self.forbid(&at.key(name), &value, "with reserves (give base_reserve and quote_reserve, or reserves, not both)");
                }
                let fee = s.fee.unwrap_or(0.003);
                let ok = self.check(
                    &at.key("fee"),
                    fee,
                    (0.0..1.0).contains(&fee),
                    "a fee fraction in [0, 1)",
                );
                let liquidity = reserve_liquidity?;
                (ok && s.base_reserve.is_none() && s.quote_reserve.is_none())
                    .then_some(ImpactCurve::ConstantProduct { liquidity, fee })
            }
            "constant_product" => {
                let x = self.required(&at.key("base_reserve"), &s.base_reserve, &ctx)?;
                let y = self.required(&at.key("quote_reserve"), &s.quote_reserve, &ctx)?;
                let fee = s.fee.unwrap_or(0.003);
                let ok = self.positive(&at.key("base_reserve"), x)
                    & self.positive(&at.key("quote_reserve"), y)
                    & self.check(
                        &at.key("fee"),
                        fee,
                        (0.0..1.0).contains(&fee),
                        "a fee fraction in [0, 1)",
                    );
                if !ok {
                    return None;
                }
                let pool_price = y / x;
                if (pool_price - start_price).abs() > 0.01 * start_price {
                    self.fail(&at.key("quote_reserve"), y, format!(
                        "the pool price quote_reserve / base_reserve = {pool_price} is more than 1% away from the asset's start price {start_price}"));
                    return None;
                }
                Some(ImpactCurve::ConstantProduct {
                    liquidity: (x * y).sqrt(),
                    fee,
                })
            }
            "concentrated_liquidity" => {
                let liquidity = self.required(&at.key("liquidity"), &s.liquidity, &ctx)?;
                let fee = self.required(&at.key("fee"), &s.fee, &ctx)?;
                let mut ok = self.positive(&at.key("liquidity"), liquidity)
                    & self.check(
                        &at.key("fee"),
                        fee,
                        (0.0..1.0).contains(&fee),
                        "a fee fraction in [0, 1)",
                    );
                let range_depth = match s.lower_price {
                    None => 1.0,
                    Some(lower) => {
                        ok &= self.check(
                            &at.key("lower_price"),
                            lower,
                            lower > 0.0 && lower < start_price,
                            &format!(
                                "a price above 0 and below the asset's start price {start_price}"
                            ),
                        );
                        1.0 - lower / start_price
                    }
                };
                ok.then_some(ImpactCurve::ConcentratedLiquidity {
                    liquidity,
                    fee,
                    range_depth,
                })
            }
            "order_book" => {
                // Levels read from a file are reported against the file and its lines (bids, asks).
                let mut book_file: Option<(PathBuf, Vec<usize>, Vec<usize>)> = None;
                let (levels, asks) = match (&s.levels, &s.file) {
                    (Some(_), Some(_)) => {
                        self.fail_bare(
                            &at.key("file"),
                            "give the levels inline or in a file, not both",
                        );
                        return None;
                    }
                    (None, None) => {
                        self.fail_bare(&at.key("levels"), "missing: an order book needs `levels = [[price, size], ...]` or `file`");
                        return None;
                    }
                    (Some(levels), None) => (levels.clone(), s.asks.clone()),
                    (None, Some(name)) => {
                        if s.asks.is_some() {
                            self.fail_written(&at.key("asks"), "give the asks inline with `levels` or as `side = ask` rows of the file, not both");
                            return None;
                        }
                        let (path, bytes) = self.read_data(&at.key("file"), name)?;
                        match data::read_order_book_rows(&path, &bytes) {
                            Ok(rows) => {
                                let (mut bids, mut asks) = (Vec::new(), Vec::new());
                                let (mut bid_lines, mut ask_lines) = (Vec::new(), Vec::new());
                                for (side, price, size, line) in rows {
                                    let (levels, lines) = match side {
                                        BookSide::Bid => (&mut bids, &mut bid_lines),
                                        BookSide::Ask => (&mut asks, &mut ask_lines),
                                    };
                                    levels.push((price, size));
                                    lines.push(line);
                                }
                                book_file = Some((path, bid_lines, ask_lines));
                                (bids, (!asks.is_empty()).then_some(asks))
                            }
                            Err(e) => {
                                self.data_error(e);
                                return None;
                            }
                        }
                    }
                };
                let mut ok = !levels.is_empty();
                if levels.is_empty() {
                    self.fail_bare(
                        &at.key("levels"),
                        "expected at least one [price, size] level",
                    );
                }
                let file = book_file.as_ref();
                ok &= self.book_levels(
                    &at.key("levels"),
                    &levels,
                    file.map(|(path, lines, _)| (path.as_path(), lines.as_slice())),
                    |price, previous| {
                        if price > start_price * (1.0 + 1e-9) {
                            Some(format!("a bid above the asset's start price {start_price}"))
                        } else if previous.is_some_and(|p| price > p) {
                            Some("bids must be listed best (highest price) first".to_string())
                        } else {
                            None
                        }
                    },
                );
                if let Some(asks) = &asks {
                    if asks.is_empty() {
                        ok = false;
                        self.fail_bare(
                            &at.key("asks"),
                            "expected at least one [price, size] level (leave `asks` out to mirror the bids)",
                        );
                    }
                    ok &= self.book_levels(
                        &at.key("asks"),
                        asks,
                        file.map(|(path, _, lines)| (path.as_path(), lines.as_slice())),
                        |price, previous| {
                            if price < start_price * (1.0 - 1e-9) {
                                Some(format!(
                                    "an ask below the asset's start price {start_price}"
                                ))
                            } else if previous.is_some_and(|p| price < p) {
                                Some("asks must be listed best (lowest price) first".to_string())
                            } else {
                                None
                            }
                        },
                    );
                }
                ok.then(|| {
                    ImpactCurve::OrderBook(match &asks {
                        // Without asks the book mirrors its bids above the start price.
                        None => OrderBook::from_levels(start_price, &levels),
                        Some(asks) => OrderBook::from_bids_and_asks(start_price, &levels, asks),
                    })
                })
            }
            other => {
                self.fail(&at.key("model"), format!("{other:?}"), "unknown impact model; expected one of linear, square_root, constant_product, concentrated_liquidity, order_book");
                None
            }
        }
    }

    /// Checks one side of an order book: every level needs a positive price and size, and
    /// `problem(price, previous price)` names what else is wrong with it. Levels from a file are
    /// reported against the file and their lines (`file`), inline levels against `at[i]`. Returns
    /// whether every level is valid.
    fn book_levels(
        &mut self,
        at: &FieldPath,
        levels: &[(f64, f64)],
        file: Option<(&Path, &[usize])>,
        problem: impl Fn(f64, Option<f64>) -> Option<String>,
    ) -> bool {
        let mut ok = true;
        for (i, &(price, size)) in levels.iter().enumerate() {
            let problem = if !(price.is_finite() && price > 0.0 && size.is_finite() && size > 0.0) {
                "expected a positive price and a positive size".to_string()
            } else {
                match problem(price, i.checked_sub(1).map(|j| levels[j].0)) {
                    Some(problem) => problem,
                    None => continue,
                }
            };
            ok = false;
            match file {
                Some((path, lines)) => self.data_error(
                    InputError::new(path, "price", problem)
                        .value(price)
                        .line(Some(lines[i])),
                ),
                None => self.fail(&at.at(i), format!("[{price}, {size}]"), problem),
            }
        }
        ok
    }

    fn oracles(
        &mut self,
        sections: &[OracleSection],
        asset_ids: &HashMap<String, AssetId>,
        venue_ids: &HashMap<String, VenueId>,
        venues: &[(VenueInfo, Venue)],
        fundamentals: &[Fundamental],
    ) -> Vec<(OracleInfo, Oracle)> {
        let mut seen = HashMap::new();
        let mut out = Vec::new();
        for (i, o) in sections.iter().enumerate() {
            let at = root().key("oracles").at(i);
            self.unique(&mut seen, &at.key("name"), &o.name, "oracle");
            let asset = self.lookup(&at.key("asset"), asset_ids, &o.asset, "asset");
            let mut sources = Vec::new();
            if o.sources.is_empty() {
                self.fail(
                    &at.key("sources"),
                    "[]",
                    "expected at least one source (a venue name or \"fundamental\")",
                );
            }
            for (j, name) in o.sources.iter().enumerate() {
                let field = at.key("sources").at(j);
                if name == "fundamental" {
                    if let Some(a) = asset {
                        sources.push(OracleSource::Fundamental(a));
                    }
                } else if let Some(v) =
                    self.lookup(&field, venue_ids, name, "venue (or \"fundamental\")")
                {
                    if asset.is_some_and(|a| venues[v.index()].0.base != a) {
                        self.fail(
                            &field,
                            format!("{name:?}"),
                            format!("this venue does not trade {}", o.asset),
                        );
                    }
                    sources.push(OracleSource::Venue(v));
                }
            }
            let ctx = |what: &str| format!("for {what}");
            let aggregation = match o.aggregation.as_deref() {
                None if o.sources.len() > 1 => {
                    self.fail_bare(
                        &at.key("aggregation"),
                        "missing: required with several sources (median or twap)",
                    );
                    Aggregation::Median
                }
                None | Some("last") => {
                    if o.sources.len() > 1 {
                        self.fail(
                            &at.key("aggregation"),
                            "\"last\"",
                            "takes exactly one source; use median or twap for several",
                        );
                    }
                    Aggregation::Last
                }
                Some("median") => Aggregation::Median,
                Some("twap") => {
                    let window = self
                        .required(
                            &at.key("twap_window_seconds"),
                            &o.twap_window_seconds,
                            &ctx("aggregation \"twap\""),
                        )
                        .unwrap_or(1);
                    if window == 0 {
                        self.fail(
                            &at.key("twap_window_seconds"),
                            0,
                            "expected at least 1 second",
                        );
                    }
                    let mean = match o.twap_mean.as_deref() {
                        None | Some("arithmetic") => TwapMean::Arithmetic,
                        Some("geometric") => TwapMean::Geometric,
                        Some("uniswap_v3_ticks") => TwapMean::UniswapV3Ticks,
                        Some(other) => {
                            self.fail(
                                &at.key("twap_mean"),
                                format!("{other:?}"),
                                "expected arithmetic, geometric or uniswap_v3_ticks",
                            );
                            TwapMean::Arithmetic
                        }
                    };
                    Aggregation::Twap {
                        window: window.max(1),
                        mean,
                    }
                }
                Some(other) => {
                    self.fail(
                        &at.key("aggregation"),
                        format!("{other:?}"),
                        "expected one of last, median, twap",
                    );
                    Aggregation::Last
                }
            };
            if !matches!(aggregation, Aggregation::Twap { .. }) {
                self.forbid(
                    &at.key("twap_window_seconds"),
                    &o.twap_window_seconds,
                    "without aggregation \"twap\"",
                );
                self.forbid(
                    &at.key("twap_mean"),
                    &o.twap_mean,
                    "without aggregation \"twap\"",
                );
            }
            let update = o.update.as_deref().unwrap_or("every_read");
            if update != "deviation" {
                self.forbid(
                    &at.key("deviation_threshold"),
                    &o.deviation_threshold,
                    "without update \"deviation\"",
                );
                self.forbid(
                    &at.key("heartbeat_seconds"),
                    &o.heartbeat_seconds,
                    "without update \"deviation\"",
                );
            }
            if update != "delayed" {
                self.forbid(
                    &at.key("delay_seconds"),
                    &o.delay_seconds,
                    "without update \"delayed\"",
                );
            }
            let rule = match update {
                "every_read" => UpdateRule::EveryRead,
                "deviation" => {
                    let threshold = self
                        .required(
                            &at.key("deviation_threshold"),
                            &o.deviation_threshold,
                            &ctx("update \"deviation\""),
                        )
                        .unwrap_or(0.01);
                    self.check(
                        &at.key("deviation_threshold"),
                        threshold,
                        threshold > 0.0 && threshold < 1.0,
                        "a fraction in (0, 1)",
                    );
                    let heartbeat = self
                        .required(
                            &at.key("heartbeat_seconds"),
                            &o.heartbeat_seconds,
                            &ctx("update \"deviation\""),
                        )
                        .unwrap_or(1);
                    if heartbeat == 0 {
                        self.fail(
                            &at.key("heartbeat_seconds"),
                            0,
                            "expected at least 1 second",
                        );
                    }
                    UpdateRule::Deviation {
                        threshold,
                        heartbeat: heartbeat.max(1),
                    }
                }
                "delayed" => {
                    let period = self
                        .required(
                            &at.key("delay_seconds"),
                            &o.delay_seconds,
                            &ctx("update \"delayed\""),
                        )
                        .unwrap_or(1);
                    if period == 0 {
                        self.fail(&at.key("delay_seconds"), 0, "expected at least 1 second");
                    }
                    UpdateRule::Delayed {
                        period: period.max(1),
                    }
                }
                other => {
                    self.fail(
                        &at.key("update"),
                        format!("{other:?}"),
                        "expected one of every_read, deviation, delayed",
                    );
                    UpdateRule::EveryRead
                }
            };
            let readings: Vec<f64> = sources
                .iter()
                .map(|s| match *s {
                    OracleSource::Venue(v) => {
                        let (info, venue) = &venues[v.index()];
                        venue.price(fundamentals[info.base.index()].price())
                    }
                    OracleSource::Fundamental(a) => fundamentals[a.index()].price(),
                })
                .collect();
            let initial = if readings.is_empty() {
                1.0
            } else {
                cascade_model::oracle::median(&readings)
            };
            let asset = asset.unwrap_or(AssetId(0));
            out.push((
                OracleInfo {
                    name: o.name.clone(),
                    asset,
                    sources,
                },
                Oracle::new(aggregation, rule, initial)
                    .with_outages(self.oracle_outages(&at, &o.outages)),
            ));
        }
        out
    }

    /// An oracle's outages, each ending after it starts, in time order.
    fn oracle_outages(&mut self, at: &FieldPath, outages: &[OutageSection]) -> Vec<(u64, u64)> {
        let mut out = Vec::with_capacity(outages.len());
        for (i, o) in outages.iter().enumerate() {
            if o.to_seconds <= o.from_seconds {
                self.fail(
                    &at.key("outages").at(i).key("to_seconds"),
                    o.to_seconds,
                    format!("expected a time after from_seconds ({})", o.from_seconds),
                );
            } else {
                out.push((o.from_seconds, o.to_seconds));
            }
        }
        out.sort_unstable();
        out
    }

    /// A lending protocol's `oracle_staleness`: the maximum age, the action and, for
    /// `fallback`, each asset's second oracle (an asset the protocol prices by an oracle, an
    /// oracle of that asset other than its own).
    fn staleness(
        &mut self,
        at: &FieldPath,
        section: &StalenessSection,
        oracle_for: &[Option<OracleId>],
        asset_ids: &HashMap<String, AssetId>,
        oracle_ids: &HashMap<String, OracleId>,
        oracles: &[OracleSection],
    ) -> StalenessGuard {
        if section.max_age_seconds == 0 {
            self.fail(&at.key("max_age_seconds"), 0, "expected at least 1 second");
        }
        let mut fallback_for = vec![None; oracle_for.len()];
        let on_stale = match section.on_stale.as_str() {
            "pause" => {
                if !section.fallback_oracles.is_empty() {
                    self.fail_written(
                        &at.key("fallback_oracles"),
                        "does not apply with on_stale = \"pause\"",
                    );
                }
                OnStale::Pause
            }
            "fallback" => {
                if section.fallback_oracles.is_empty() {
                    self.fail_bare(
                        &at.key("fallback_oracles"),
                        "missing: on_stale = \"fallback\" needs a second oracle for at least one asset",
                    );
                }
                for (symbol, name) in &section.fallback_oracles {
                    let fat = at.key("fallback_oracles").key(symbol);
                    let Some(asset) = self.lookup(&fat, asset_ids, symbol, "asset") else {
                        continue;
                    };
                    let Some(fallback) = self.lookup(&fat, oracle_ids, name, "oracle") else {
                        continue;
                    };
                    let priced = &oracles[fallback.index()].asset;
                    if asset_ids.get(priced).is_some_and(|&a| a != asset) {
                        self.fail(
                            &fat,
                            format!("{name:?}"),
                            format!("this oracle prices {priced}, not {symbol}"),
                        );
                        continue;
                    }
                    match oracle_for[asset.index()] {
                        None => self.fail(
                            &fat,
                            format!("{name:?}"),
                            format!("the protocol prices {symbol} at its fundamental, which never ages: name its oracle in the protocol's oracles first"),
                        ),
                        Some(primary) if primary == fallback => self.fail(
                            &fat,
                            format!("{name:?}"),
                            format!("is the protocol's own oracle for {symbol}: a fallback must be another"),
                        ),
                        Some(_) => fallback_for[asset.index()] = Some(fallback),
                    }
                }
                OnStale::Fallback
            }
            other => {
                self.fail(
                    &at.key("on_stale"),
                    format!("{other:?}"),
                    "expected one of pause, fallback",
                );
                OnStale::Pause
            }
        };
        if oracle_for.iter().all(Option::is_none) {
            self.fail_written(
                at,
                "applies to a protocol that prices some asset by an oracle (protocols[].oracles); fundamentals never age",
            );
        }
        StalenessGuard {
            rule: Staleness {
                max_age: section.max_age_seconds.max(1),
                on_stale,
            },
            fallback_for,
        }
    }

    fn protocols(
        &mut self,
        sections: &[ProtocolSection],
        asset_ids: &HashMap<String, AssetId>,
        oracle_ids: &HashMap<String, OracleId>,
        oracles: &[OracleSection],
        asset_count: usize,
    ) -> Vec<ProtocolInfo> {
        let mut seen = HashMap::new();
        let mut out = Vec::new();
        for (i, p) in sections.iter().enumerate() {
            let at = root().key("protocols").at(i);
            self.unique(&mut seen, &at.key("name"), &p.name, "protocol");
            let (kind, preset) = self.protocol_kind(&at, p);
            let preset = match preset.map(|p| p.kind) {
                Some(PresetKind::Lending(l)) => Some(l),
                _ => None,
            };
            // Perp exchanges are built apart; any other section (an unknown kind included,
            // reported above) keeps its place among the lending protocols.
            if kind == Some(ProtocolKind::Perp) {
                continue;
            }
            for (field, present) in [
                ("perp", p.perp.is_some()),
                ("markets", !p.markets.is_empty()),
            ] {
                if present {
                    self.fail_written(&at.key(field), "applies to kind = \"perp\" only");
                }
            }
            let lat = at.key("liquidation");
            let from_preset;
            let liquidation = match (&p.liquidation, preset) {
                (Some(l), _) => l,
                (None, Some(l)) => {
                    from_preset = LiquidationSection::fixed_spread(l.bonus, l.close_factor);
                    &from_preset
                }
                (None, None) => {
                    self.fail_bare(
                        &lat,
                        "missing: a lending protocol needs a liquidation mechanism (or a preset)",
                    );
                    // A stand-in keeps the protocol's place; the problem is reported.
                    from_preset = LiquidationSection::fixed_spread(0.05, 0.5);
                    &from_preset
                }
            };
            let (rule, default_bonus) = self.liquidation_rule(&lat, liquidation);
            if p.epoch_seconds == Some(0) {
                self.fail(&at.key("epoch_seconds"), 0, "expected at least 1 second");
            }
            let epoch_seconds = p.epoch_seconds.or(preset.and_then(|l| l.epoch_seconds));
            let mut collateral = vec![None; asset_count];
            let no_collateral = BTreeMap::new();
            let sections_collateral = p.collateral.as_ref().unwrap_or(&no_collateral);
            if sections_collateral.is_empty() {
                self.fail_bare(
                    &at.key("collateral"),
                    "expected at least one collateral asset",
                );
            }
            let ctx = "(or a preset)";
            for (symbol, c) in sections_collateral {
                let cat = at.key("collateral").key(symbol);
                let Some(asset) = self.lookup(&cat, asset_ids, symbol, "asset") else {
                    continue;
                };
                let ltv = c.ltv.or(preset.map(|l| l.ltv));
                let threshold = c
                    .liquidation_threshold
                    .or(preset.map(|l| l.liquidation_threshold));
                let (Some(ltv), Some(threshold)) = (
                    self.required(&cat.key("ltv"), &ltv, ctx),
                    self.required(&cat.key("liquidation_threshold"), &threshold, ctx),
                ) else {
                    // Reported; the asset stays accepted so positions in it are not reported
                    // again.
                    collateral[asset.index()] = Some(CollateralParams {
                        ltv: 0.0,
                        liquidation_threshold: 1.0,
                        liquidation_bonus: 0.0,
                        liquidation_factor: 1.0,
                    });
                    continue;
                };
                let ok = self.check(
                    &cat.key("ltv"),
                    ltv,
                    (0.0..=1.0).contains(&ltv),
                    "a loan-to-value in [0, 1]",
                ) & self.check(
                    &cat.key("liquidation_threshold"),
                    threshold,
                    threshold > 0.0 && threshold <= 1.0,
                    "a liquidation threshold in (0, 1]",
                );
                if ok && ltv > threshold {
                    self.fail(&cat.key("ltv"), ltv, format!("exceeds the liquidation threshold {threshold}: a new loan would be liquidatable at once"));
                }
                let bonus = match (c.liquidation_bonus, default_bonus) {
                    (Some(b), Some(_)) => b,
                    (None, Some(b)) => b,
                    (Some(b), None) => {
                        self.fail(&cat.key("liquidation_bonus"), b, format!("does not apply for mechanism {:?}, whose incentive is set by its own rule", liquidation.mechanism));
                        0.0
                    }
                    (None, None) => 0.0,
                };
                if let (Some(b), Some(_)) = (c.liquidation_bonus, default_bonus) {
                    self.check(
                        &cat.key("liquidation_bonus"),
                        b,
                        (0.0..1.0).contains(&b),
                        "a bonus fraction in [0, 1)",
                    );
                }
                let comet = matches!(rule, LiquidationRule::CometAbsorb(_));
                let liquidation_factor = match (comet, c.liquidation_factor) {
                    (true, Some(lf)) => {
                        self.check(
                            &cat.key("liquidation_factor"),
                            lf,
                            lf > 0.0 && lf <= 1.0,
                            "a liquidation factor in (0, 1]",
                        );
                        lf
                    }
                    (true, None) => {
                        self.fail_bare(&cat.key("liquidation_factor"), "missing: required for mechanism \"compound_v3\" (the share of the collateral's value an absorbed account is credited with)");
                        1.0
                    }
                    (false, Some(lf)) => {
                        self.fail(
                            &cat.key("liquidation_factor"),
                            lf,
                            "does not apply without mechanism \"compound_v3\"",
                        );
                        1.0
                    }
                    (false, None) => 1.0,
                };
                // Aave v4's `_validateDynamicReserveConfig` (src/spoke/Spoke.sol): the maximum
                // bonus times the collateral factor stays below 100%, so that a liquidation
                // always raises the health factor.
                if ok
                    && matches!(rule, LiquidationRule::AaveV4(_))
                    && threshold * (1.0 + bonus) >= 1.0
                {
                    let key = if c.liquidation_bonus.is_some() {
                        "liquidation_bonus"
                    } else {
                        "liquidation_threshold"
                    };
                    let value = if c.liquidation_bonus.is_some() {
                        bonus
                    } else {
                        threshold
                    };
                    self.fail(&cat.key(key), value, format!("liquidation threshold {threshold} × (1 + bonus {bonus}) = {:.4} ≥ 1: Aave v4 requires the maximum bonus times the collateral factor below 100%", threshold * (1.0 + bonus)));
                }
                collateral[asset.index()] = Some(CollateralParams {
                    ltv,
                    liquidation_threshold: threshold,
                    liquidation_bonus: bonus,
                    liquidation_factor,
                });
            }
            // Liquity's MCR is 1 / the collateral's liquidation threshold (a single collateral).
            let mut rule = rule;
            if let LiquidationRule::Liquity(params) = &mut rule {
                let accepted: Vec<f64> = collateral
                    .iter()
                    .flatten()
                    .map(|c| c.liquidation_threshold)
                    .collect();
                match accepted.as_slice() {
                    [lt] => params.mcr = 1.0 / lt,
                    _ => self.fail(
                        &at.key("collateral"),
                        format!("{} assets", accepted.len()),
                        "mechanism \"liquity_v1\" takes exactly one collateral asset (MCR = 1 / its liquidation_threshold)",
                    ),
                }
                if params.ccr <= params.mcr {
                    self.fail(
                        &lat.key("ccr"),
                        params.ccr,
                        format!(
                            "must exceed MCR = 1 / liquidation_threshold = {}",
                            params.mcr
                        ),
                    );
                }
            }
            let mut oracle_for = vec![None; asset_count];
            for (symbol, name) in &p.oracles {
                let oat = at.key("oracles").key(symbol);
                let Some(asset) = self.lookup(&oat, asset_ids, symbol, "asset") else {
                    continue;
                };
                if let Some(o) = self.lookup(&oat, oracle_ids, name, "oracle") {
                    // An oracle of an unknown asset is reported with the oracle.
                    let priced = &oracles[o.index()].asset;
                    if asset_ids.get(priced).is_some_and(|&a| a != asset) {
                        self.fail(
                            &oat,
                            format!("{name:?}"),
                            format!("this oracle prices {priced}, not {symbol}"),
                        );
                    }
                    oracle_for[asset.index()] = Some(o);
                }
            }
            let insurance = p
                .insurance
                .as_ref()
                .map(|i| self.insurance(&at.key("insurance"), i));
            let staleness = p.oracle_staleness.as_ref().map(|section| {
                self.staleness(
                    &at.key("oracle_staleness"),
                    section,
                    &oracle_for,
                    asset_ids,
                    oracle_ids,
                    oracles,
                )
            });
            if let Some(limit) = p.liquidation_limit_usd_per_step {
                self.check(
                    &at.key("liquidation_limit_usd_per_step"),
                    limit,
                    limit > 0.0,
                    "a positive USD amount per step",
                );
            }
            out.push(ProtocolInfo {
                insurance,
                name: p.name.clone(),
                params: LendingParams {
                    collateral,
                    liquidation: rule,
                    epoch_seconds,
                    step_limit_usd: p.liquidation_limit_usd_per_step,
                },
                oracle_for,
                keepers: Vec::new(),
                account_labels: Vec::new(),
                borrowers: Vec::new(),
                staleness,
            });
        }
        out
    }

    fn insurance(&mut self, at: &FieldPath, i: &InsuranceSection) -> InsuranceParams {
        self.check(
            &at.key("fund_usd"),
            i.fund_usd,
            i.fund_usd >= 0.0,
            "USD ≥ 0",
        );
        let fee_share = i.fee_share.unwrap_or(0.0);
        self.check(
            &at.key("fee_share"),
            fee_share,
            (0.0..=1.0).contains(&fee_share),
            "a fraction in [0, 1]",
        );
        let shortfall = match i.shortfall.as_deref() {
            None | Some("none") => Shortfall::Unabsorbed,
            Some("socialise") => Shortfall::Socialise,
            Some("debt_auction") => {
                let lot_usd = i.debt_auction_lot_usd.unwrap_or(50_000.0);
                self.check(
                    &at.key("debt_auction_lot_usd"),
                    lot_usd,
                    lot_usd > 0.0,
                    "a positive USD amount per lot",
                );
                Shortfall::DebtAuction {
                    lot_usd: lot_usd.max(f64::MIN_POSITIVE),
                }
            }
            Some(other) => {
                self.fail(
                    &at.key("shortfall"),
                    format!("{other:?}"),
                    "expected one of none, socialise, debt_auction",
                );
                Shortfall::Unabsorbed
            }
        };
        if i.debt_auction_lot_usd.is_some() && i.shortfall.as_deref() != Some("debt_auction") {
            self.fail_written(
                &at.key("debt_auction_lot_usd"),
                "does not apply without shortfall = \"debt_auction\"",
            );
        }
        InsuranceParams {
            initial_usd: i.fund_usd,
            fee_share,
            shortfall,
        }
    }

    /// A backstop vault: penalty, capital and how it unwinds.
    fn backstop(&mut self, at: &FieldPath, l: &LiquidationSection) -> BackstopParams {
        let ctx = "for mechanism \"backstop\"";
        let penalty = self
            .required(&at.key("penalty"), &l.penalty, ctx)
            .unwrap_or(0.0);
        self.check(
            &at.key("penalty"),
            penalty,
            (0.0..1.0).contains(&penalty),
            "a penalty fraction in [0, 1)",
        );
        if let Some(c) = l.backstop_capital_usd {
            self.check(&at.key("backstop_capital_usd"), c, c >= 0.0, "USD ≥ 0");
        }
        let unwind = match self.required(&at.key("unwind"), &l.unwind, ctx).as_deref() {
            Some("sell") => {
                let f = self
                    .required(
                        &at.key("unwind_fraction_per_hour"),
                        &l.unwind_fraction_per_hour,
                        "for unwind \"sell\"",
                    )
                    .unwrap_or(1.0);
                self.check(
                    &at.key("unwind_fraction_per_hour"),
                    f,
                    f > 0.0 && f <= 1.0,
                    "a fraction of the holdings per hour in (0, 1]",
                );
                Unwind::Sell {
                    fraction_per_hour: f,
                }
            }
            Some("hedge") => {
                self.forbid(
                    &at.key("unwind_fraction_per_hour"),
                    &l.unwind_fraction_per_hour,
                    "to unwind \"hedge\"",
                );
                Unwind::Hedge
            }
            Some(other) => {
                self.fail(
                    &at.key("unwind"),
                    format!("{other:?}"),
                    "expected sell or hedge",
                );
                Unwind::Hedge
            }
            None => Unwind::Hedge,
        };
        BackstopParams {
            penalty,
            capital: l.backstop_capital_usd,
            unwind,
        }
    }

    /// Liquidations 1.2 parameters (`chop`, `lump`, `beg`, `ttl`, `tau`).
    fn english_auction(&mut self, at: &FieldPath, l: &LiquidationSection) -> EnglishAuctionParams {
        let ctx = "for mechanism \"english_auction\"";
        let penalty = self
            .required(&at.key("penalty"), &l.penalty, ctx)
            .unwrap_or(0.0);
        self.check(
            &at.key("penalty"),
            penalty,
            (0.0..1.0).contains(&penalty),
            "a penalty fraction in [0, 1) (chop − 1)",
        );
        let beg = self.required(&at.key("beg"), &l.beg, ctx).unwrap_or(0.0);
        self.check(
            &at.key("beg"),
            beg,
            beg > 0.0 && beg < 1.0,
            "a minimum bid increase in (0, 1) (beg − 1, e.g. 0.03)",
        );
        let ttl = self
            .required(&at.key("ttl_seconds"), &l.ttl_seconds, ctx)
            .unwrap_or(1);
        if ttl == 0 {
            self.fail(&at.key("ttl_seconds"), 0, "expected at least 1 second");
        }
        let tau = self
            .required(&at.key("tau_seconds"), &l.tau_seconds, ctx)
            .unwrap_or(1.0);
        let tau_ok = self.check(
            &at.key("tau_seconds"),
            tau,
            tau >= 1.0 && tau.fract() == 0.0,
            "a whole number of seconds ≥ 1 (the auction's duration)",
        );
        if let Some(lump) = l.lump_units {
            self.check(
                &at.key("lump_units"),
                lump,
                lump > 0.0,
                "a positive number of collateral units",
            );
        }
        EnglishAuctionParams {
            penalty,
            lump: l.lump_units,
            beg,
            ttl: ttl.max(1),
            tau: if tau_ok { tau as u64 } else { 1 },
        }
    }

    /// Liquidations 2.0 parameters (`buf`, the Abacus curve, `tail`, `cusp`, `chop`, `tip`,
    /// `chip`, `dust`, `hole`) and an optional circuit breaker.
    fn dutch_auction(&mut self, at: &FieldPath, l: &LiquidationSection) -> DutchAuctionParams {
        let ctx = "for mechanism \"dutch_auction\"";
        let buf = self.required(&at.key("buf"), &l.buf, ctx).unwrap_or(1.0);
        self.check(
            &at.key("buf"),
            buf,
            buf > 0.0,
            "a positive starting-price multiplier (e.g. 1.2)",
        );
        let penalty = self
            .required(&at.key("penalty"), &l.penalty, ctx)
            .unwrap_or(0.0);
        self.check(
            &at.key("penalty"),
            penalty,
            (0.0..1.0).contains(&penalty),
            "a penalty fraction in [0, 1) (chop − 1)",
        );
        let curve_name = self.required(&at.key("curve"), &l.curve, ctx);
        let uses = |name: &str| match curve_name.as_deref() {
            Some("linear") => name == "tau_seconds",
            Some("stairstep_exponential") => name == "step_seconds" || name == "cut",
            Some("exponential") => name == "cut",
            _ => true,
        };
        for (name, present) in [
            ("tau_seconds", l.tau_seconds.is_some()),
            ("step_seconds", l.step_seconds.is_some()),
            ("cut", l.cut.is_some()),
        ] {
            if present && !uses(name) {
                let curve = curve_name.as_deref().unwrap_or("");
                self.fail_written(&at.key(name), format!("does not apply to curve {curve:?}"));
            }
        }
        let curve_ctx = format!("for curve {:?}", curve_name.as_deref().unwrap_or(""));
        let curve = match curve_name.as_deref() {
            Some("linear") => {
                let tau = self
                    .required(&at.key("tau_seconds"), &l.tau_seconds, &curve_ctx)
                    .unwrap_or(1.0);
                self.check(
                    &at.key("tau_seconds"),
                    tau,
                    tau > 0.0,
                    "a positive number of seconds",
                );
                PriceCurve::Linear {
                    tau: tau.max(f64::MIN_POSITIVE),
                }
            }
            Some("stairstep_exponential") => {
                let step = self
                    .required(&at.key("step_seconds"), &l.step_seconds, &curve_ctx)
                    .unwrap_or(1.0);
                self.check(
                    &at.key("step_seconds"),
                    step,
                    step > 0.0,
                    "a positive number of seconds",
                );
                let cut = self
                    .required(&at.key("cut"), &l.cut, &curve_ctx)
                    .unwrap_or(1.0);
                self.check(
                    &at.key("cut"),
                    cut,
                    cut > 0.0 && cut <= 1.0,
                    "a multiplier in (0, 1]",
                );
                PriceCurve::StairstepExponential {
                    step: step.max(f64::MIN_POSITIVE),
                    cut,
                }
            }
            Some("exponential") => {
                let cut = self
                    .required(&at.key("cut"), &l.cut, &curve_ctx)
                    .unwrap_or(1.0);
                self.check(
                    &at.key("cut"),
                    cut,
                    cut > 0.0 && cut <= 1.0,
                    "a per-second multiplier in (0, 1]",
                );
                PriceCurve::Exponential { cut }
            }
            Some(other) => {
                self.fail(
                    &at.key("curve"),
                    format!("{other:?}"),
                    "expected one of linear, stairstep_exponential, exponential",
                );
                PriceCurve::Linear { tau: 1.0 }
            }
            None => PriceCurve::Linear { tau: 1.0 },
        };
        let tail = l.tail_seconds.unwrap_or(f64::INFINITY);
        if let Some(t) = l.tail_seconds {
            self.check(
                &at.key("tail_seconds"),
                t,
                t > 0.0,
                "a positive number of seconds",
            );
        }
        let cusp = l.cusp.unwrap_or(0.0);
        self.check(
            &at.key("cusp"),
            cusp,
            (0.0..1.0).contains(&cusp),
            "a fraction of the top price in [0, 1)",
        );
        let tip = l.tip_usd.unwrap_or(0.0);
        self.check(&at.key("tip_usd"), tip, tip >= 0.0, "USD ≥ 0");
        let chip = l.chip.unwrap_or(0.0);
        self.check(
            &at.key("chip"),
            chip,
            (0.0..1.0).contains(&chip),
            "a fraction of the tab in [0, 1)",
        );
        let dust = l.dust_usd.unwrap_or(0.0);
        self.check(&at.key("dust_usd"), dust, dust >= 0.0, "USD ≥ 0");
        if let Some(h) = l.hole_usd {
            self.check(&at.key("hole_usd"), h, h > 0.0, "a positive USD amount");
        }
        if let Some(c) = l.circuit_breaker {
            self.check(
                &at.key("circuit_breaker"),
                c,
                c > 0.0 && c < 1.0,
                "a price fall as a fraction in (0, 1)",
            );
        }
        DutchAuctionParams {
            buf,
            curve,
            tail,
            cusp,
            penalty,
            tip,
            chip,
            dust,
            hole: l.hole_usd,
            circuit_breaker: l.circuit_breaker,
        }
    }

    /// The liquidation rule, and the bonus each collateral gets unless it sets its own (`None`
    /// for mechanisms whose incentive is set by their own rule).
    fn liquidation_rule(
        &mut self,
        at: &FieldPath,
        l: &LiquidationSection,
    ) -> (LiquidationRule, Option<f64>) {
        let mechanism = l.mechanism.as_str();
        let ctx = format!("for mechanism {mechanism:?}");
        let Some(entry) = crate::mechanism::find(mechanism) else {
            self.fail(
                &at.key("mechanism"),
                format!("{mechanism:?}"),
                format!(
                    "unknown liquidation mechanism; expected one of {}",
                    crate::mechanism::names()
                ),
            );
            return (LiquidationRule::MorphoBlue, Some(0.0));
        };
        // The keys given; any the mechanism does not take (its registry entry's) is an error.
        let given: [(&str, bool); 41] = [
            ("target_health_factor", l.target_health_factor.is_some()),
            (
                "health_factor_for_max_bonus",
                l.health_factor_for_max_bonus.is_some(),
            ),
            (
                "liquidation_bonus_factor",
                l.liquidation_bonus_factor.is_some(),
            ),
            ("volatility_slope", l.volatility_slope.is_some()),
            (
                "volatility_window_seconds",
                l.volatility_window_seconds.is_some(),
            ),
            ("stability_pool_usd", l.stability_pool_usd.is_some()),
            ("ccr", l.ccr.is_some()),
            ("gas_compensation", l.gas_compensation.is_some()),
            ("collateral_gas_share", l.collateral_gas_share.is_some()),
            ("entry_point", l.entry_point.is_some()),
            (
                "store_front_price_factor",
                l.store_front_price_factor.is_some(),
            ),
            ("target_reserves_usd", l.target_reserves_usd.is_some()),
            ("initial_reserves_usd", l.initial_reserves_usd.is_some()),
            ("bonus_slope", l.bonus_slope.is_some()),
            ("bonus_cap", l.bonus_cap.is_some()),
            ("unwind", l.unwind.is_some()),
            (
                "unwind_fraction_per_hour",
                l.unwind_fraction_per_hour.is_some(),
            ),
            ("backstop_capital_usd", l.backstop_capital_usd.is_some()),
            ("beg", l.beg.is_some()),
            ("ttl_seconds", l.ttl_seconds.is_some()),
            ("lump_units", l.lump_units.is_some()),
            ("buf", l.buf.is_some()),
            ("curve", l.curve.is_some()),
            ("tau_seconds", l.tau_seconds.is_some()),
            ("step_seconds", l.step_seconds.is_some()),
            ("cut", l.cut.is_some()),
            ("tail_seconds", l.tail_seconds.is_some()),
            ("cusp", l.cusp.is_some()),
            ("penalty", l.penalty.is_some()),
            ("tip_usd", l.tip_usd.is_some()),
            ("chip", l.chip.is_some()),
            ("dust_usd", l.dust_usd.is_some()),
            ("hole_usd", l.hole_usd.is_some()),
            ("circuit_breaker", l.circuit_breaker.is_some()),
            ("bonus", l.bonus.is_some()),
            ("close_factor", l.close_factor.is_some()),
            (
                "full_close_below_health_factor",
                l.full_close_below_health_factor.is_some(),
            ),
            ("protocol_fee", l.protocol_fee.is_some()),
            ("version", l.version.is_some()),
            ("protocol_seize_share", l.protocol_seize_share.is_some()),
            ("max_discount", l.max_discount.is_some()),
        ];
        for (name, present) in given {
            if present && !entry.keys.contains(&name) {
                self.fail_written(&at.key(name), format!("does not apply {ctx}"));
            }
        }
        let bonus = |this: &mut Self| {
            let bonus = this
                .required(&at.key("bonus"), &l.bonus, &ctx)
                .unwrap_or(0.0);
            this.check(
                &at.key("bonus"),
                bonus,
                (0.0..1.0).contains(&bonus),
                "a bonus fraction in [0, 1)",
            );
            bonus
        };
        let protocol_fee = |this: &mut Self| {
            let fee = l.protocol_fee.unwrap_or(0.0);
            this.check(
                &at.key("protocol_fee"),
                fee,
                (0.0..=1.0).contains(&fee),
                "a fraction of the bonus in [0, 1]",
            );
            fee
        };
        match entry.kind {
            MechanismKind::FixedSpread => {
                let bonus = bonus(self);
                let close_factor = self
                    .required(&at.key("close_factor"), &l.close_factor, &ctx)
                    .unwrap_or(1.0);
                self.check(
                    &at.key("close_factor"),
                    close_factor,
                    close_factor > 0.0 && close_factor <= 1.0,
                    "a fraction in (0, 1]",
                );
                if let Some(t) = l.full_close_below_health_factor {
                    self.check(
                        &at.key("full_close_below_health_factor"),
                        t,
                        t > 0.0 && t <= 1.0,
                        "a health factor in (0, 1]",
                    );
                }
                let protocol_fee = protocol_fee(self);
                let bonus_slope = l.bonus_slope.unwrap_or(0.0);
                self.check(
                    &at.key("bonus_slope"),
                    bonus_slope,
                    bonus_slope >= 0.0,
                    "a bonus increase per unit of health-factor shortfall ≥ 0",
                );
                let volatility_slope = l.volatility_slope.unwrap_or(0.0);
                self.check(
                    &at.key("volatility_slope"),
                    volatility_slope,
                    volatility_slope >= 0.0,
                    "a bonus increase per unit of annualised volatility ≥ 0",
                );
                let volatility_window = match (l.volatility_slope, l.volatility_window_seconds) {
                    (Some(_), Some(w)) if w > 0 => w,
                    (Some(_), Some(w)) => {
                        self.fail(
                            &at.key("volatility_window_seconds"),
                            w,
                            "expected at least 1 second",
                        );
                        1
                    }
                    (Some(_), None) => {
                        self.fail_bare(&at.key("volatility_window_seconds"), "missing: required with volatility_slope (the realised-volatility window)");
                        1
                    }
                    (None, Some(w)) => {
                        self.fail(
                            &at.key("volatility_window_seconds"),
                            w,
                            "does not apply without volatility_slope",
                        );
                        1
                    }
                    (None, None) => 0,
                };
                let dynamic =
                    (l.bonus_slope.is_some() || l.volatility_slope.is_some()).then_some(());
                let bonus_cap = match (dynamic, l.bonus_cap) {
                    (Some(_), Some(cap)) => {
                        self.check(
                            &at.key("bonus_cap"),
                            cap,
                            cap >= bonus && cap < 1.0,
                            &format!("a bonus cap in [bonus = {bonus}, 1)"),
                        );
                        cap
                    }
                    (Some(_), None) => {
                        self.fail_bare(
                            &at.key("bonus_cap"),
                            "missing: required with bonus_slope or volatility_slope (the most the bonus may reach)",
                        );
                        bonus
                    }
                    (None, Some(cap)) => {
                        self.fail(
                            &at.key("bonus_cap"),
                            cap,
                            "does not apply without bonus_slope or volatility_slope",
                        );
                        bonus
                    }
                    (None, None) => bonus,
                };
                let rule = FixedSpread {
                    close_factor,
                    full_close_below_health_factor: l.full_close_below_health_factor,
                    protocol_fee,
                    bonus_slope,
                    bonus_cap,
                    volatility_slope,
                    volatility_window,
                };
                (LiquidationRule::FixedSpread(rule), Some(bonus))
            }
            MechanismKind::AaveV3 => {
                let bonus = bonus(self);
                let protocol_fee = protocol_fee(self);
                let version = match self
                    .required(&at.key("version"), &l.version, &ctx)
                    .as_deref()
                {
                    Some("3.2") | None => AaveVersion::V3_2,
                    Some("3.3") => AaveVersion::V3_3,
                    Some(other) => {
                        self.fail(
                            &at.key("version"),
                            format!("{other:?}"),
                            "expected \"3.2\" (v3.0–v3.2 rules) or \"3.3\" (v3.3 and later)",
                        );
                        AaveVersion::V3_3
                    }
                };
                (
                    LiquidationRule::AaveV3 {
                        version,
                        protocol_fee,
                    },
                    Some(bonus),
                )
            }
            MechanismKind::AaveV4 => {
                let bonus = bonus(self);
                let liquidation_fee = protocol_fee(self);
                (
                    LiquidationRule::AaveV4(self.aave_v4(at, l, liquidation_fee, &ctx)),
                    Some(bonus),
                )
            }
            MechanismKind::CompoundV2 => {
                let bonus = bonus(self);
                let close_factor = self
                    .required(&at.key("close_factor"), &l.close_factor, &ctx)
                    .unwrap_or(0.5);
                self.check(
                    &at.key("close_factor"),
                    close_factor,
                    close_factor > 0.05 && close_factor <= 0.9,
                    "a close factor in (0.05, 0.9], Compound's governance bounds",
                );
                let share = l.protocol_seize_share.unwrap_or(0.028);
                self.check(
                    &at.key("protocol_seize_share"),
                    share,
                    (0.0..1.0).contains(&share),
                    "a fraction in [0, 1)",
                );
                (
                    LiquidationRule::CompoundV2 {
                        close_factor,
                        protocol_seize_share: share,
                    },
                    Some(bonus),
                )
            }
            MechanismKind::MorphoBlue => (LiquidationRule::MorphoBlue, None),
            MechanismKind::DutchAuction => (
                LiquidationRule::DutchAuction(self.dutch_auction(at, l)),
                None,
            ),
            MechanismKind::EnglishAuction => (
                LiquidationRule::EnglishAuction(self.english_auction(at, l)),
                None,
            ),
            MechanismKind::Backstop => (LiquidationRule::Backstop(self.backstop(at, l)), None),
            MechanismKind::LiquityV1 => {
                let ctx = "for mechanism \"liquity_v1\"";
                let pool = self
                    .required(&at.key("stability_pool_usd"), &l.stability_pool_usd, ctx)
                    .unwrap_or(0.0);
                self.check(
                    &at.key("stability_pool_usd"),
                    pool,
                    pool >= 0.0,
                    "debt-asset units ≥ 0",
                );
                let ccr = l.ccr.unwrap_or(1.5);
                self.check(
                    &at.key("ccr"),
                    ccr,
                    ccr > 1.0,
                    "a critical collateral ratio above 1 (1.5 in Liquity)",
                );
                let gas = l.gas_compensation.unwrap_or(200.0);
                self.check(
                    &at.key("gas_compensation"),
                    gas,
                    gas >= 0.0,
                    "debt-asset units ≥ 0",
                );
                let share = l.collateral_gas_share.unwrap_or(0.005);
                self.check(
                    &at.key("collateral_gas_share"),
                    share,
                    (0.0..1.0).contains(&share),
                    "a fraction in [0, 1)",
                );
                let entry_point = match l.entry_point.as_deref() {
                    None | Some("batch") => EntryPoint::Batch,
                    Some("single") => EntryPoint::Single,
                    Some(other) => {
                        self.fail(
                            &at.key("entry_point"),
                            format!("{other:?}"),
                            "expected batch (batchLiquidateTroves) or single (liquidate)",
                        );
                        EntryPoint::Batch
                    }
                };
                // MCR is set from the collateral's liquidation threshold once it is read.
                let params = LiquityParams {
                    mcr: 1.1,
                    ccr,
                    gas_compensation: gas,
                    collateral_gas_share: share,
                    stability_pool: pool,
                    entry_point,
                };
                (LiquidationRule::Liquity(params), None)
            }
            MechanismKind::CompoundV3 => {
                let ctx = "for mechanism \"compound_v3\"";
                let sfpf = self
                    .required(
                        &at.key("store_front_price_factor"),
                        &l.store_front_price_factor,
                        ctx,
                    )
                    .unwrap_or(0.0);
                self.check(
                    &at.key("store_front_price_factor"),
                    sfpf,
                    (0.0..=1.0).contains(&sfpf),
                    "a fraction in [0, 1]",
                );
                let target = self
                    .required(&at.key("target_reserves_usd"), &l.target_reserves_usd, ctx)
                    .unwrap_or(0.0);
                self.check(
                    &at.key("target_reserves_usd"),
                    target,
                    target >= 0.0,
                    "USD ≥ 0",
                );
                let initial = l.initial_reserves_usd.unwrap_or(0.0);
                self.check(
                    &at.key("initial_reserves_usd"),
                    initial,
                    initial.is_finite(),
                    "a finite USD amount",
                );
                let params = CometParams {
                    store_front_price_factor: sfpf,
                    target_reserves_usd: target,
                    initial_reserves_usd: initial,
                };
                (LiquidationRule::CometAbsorb(params), None)
            }
            MechanismKind::EulerV2 => {
                let max_discount = self
                    .required(&at.key("max_discount"), &l.max_discount, &ctx)
                    .unwrap_or(0.1);
                self.check(
                    &at.key("max_discount"),
                    max_discount,
                    max_discount > 0.0 && max_discount < 1.0,
                    "a discount fraction in (0, 1)",
                );
                (LiquidationRule::EulerV2 { max_discount }, None)
            }
        }
    }

    /// An Aave v4 Spoke's liquidation configuration, checked as v4's `updateLiquidationConfig`
    /// does (aave-v4 `src/spoke/Spoke.sol`: target ≥ 1, bonus factor ≤ 100%, health factor for
    /// the maximum bonus < 1).
    fn aave_v4(
        &mut self,
        at: &FieldPath,
        l: &LiquidationSection,
        liquidation_fee: f64,
        ctx: &str,
    ) -> AaveV4 {
        let target = self
            .required(
                &at.key("target_health_factor"),
                &l.target_health_factor,
                ctx,
            )
            .unwrap_or(1.0);
        self.check(
            &at.key("target_health_factor"),
            target,
            (1.0..f64::INFINITY).contains(&target),
            "a finite health factor ≥ 1 (Aave v4's targetHealthFactor)",
        );
        let for_max = self
            .required(
                &at.key("health_factor_for_max_bonus"),
                &l.health_factor_for_max_bonus,
                ctx,
            )
            .unwrap_or(0.0);
        self.check(
            &at.key("health_factor_for_max_bonus"),
            for_max,
            (0.0..1.0).contains(&for_max),
            "a health factor in [0, 1) (Aave v4's healthFactorForMaxBonus)",
        );
        let factor = self
            .required(
                &at.key("liquidation_bonus_factor"),
                &l.liquidation_bonus_factor,
                ctx,
            )
            .unwrap_or(0.0);
        self.check(
            &at.key("liquidation_bonus_factor"),
            factor,
            (0.0..=1.0).contains(&factor),
            "a fraction of the maximum bonus in [0, 1] (Aave v4's liquidationBonusFactor)",
        );
        AaveV4 {
            target_health_factor: target,
            health_factor_for_max_bonus: for_max,
            liquidation_bonus_factor: factor,
            liquidation_fee,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn keepers(
        &mut self,
        sections: &[KeeperSection],
        protocol_ids: &HashMap<String, ProtocolId>,
        venue_ids: &HashMap<String, VenueId>,
        venues: &[(VenueInfo, Venue)],
        asset_ids: &HashMap<String, AssetId>,
        protocols: &mut [ProtocolInfo],
        has_chain: bool,
    ) -> Vec<KeeperInfo> {
        let mut seen = HashMap::new();
        let mut out = Vec::new();
        for (i, k) in sections.iter().enumerate() {
            let at = root().key("keepers").at(i);
            self.unique(&mut seen, &at.key("name"), &k.name, "keeper");
            let id = KeeperId(i as u32);
            let mut served = Vec::new();
            if k.protocols.is_empty() {
                self.fail(
                    &at.key("protocols"),
                    "[]",
                    "expected at least one protocol to serve",
                );
            }
            for (j, name) in k.protocols.iter().enumerate() {
                if let Some(p) =
                    self.lookup(&at.key("protocols").at(j), protocol_ids, name, "protocol")
                {
                    served.push(p);
                    protocols[p.index()].keepers.push(id);
                }
            }
            let mut sell_on = vec![None; asset_ids.len()];
            match &k.sell_on {
                None => {}
                Some(SellOn::One(name)) => {
                    if let Some(v) = self.lookup(&at.key("sell_on"), venue_ids, name, "venue") {
                        sell_on[venues[v.index()].0.base.index()] = Some(v);
                    }
                }
                Some(SellOn::PerAsset(map)) => {
                    for (symbol, name) in map {
                        let field = at.key("sell_on").key(symbol);
                        let asset = self.lookup(&field, asset_ids, symbol, "asset");
                        let venue = self.lookup(&field, venue_ids, name, "venue");
                        if let (Some(a), Some(v)) = (asset, venue) {
                            if venues[v.index()].0.base != a {
                                self.fail(
                                    &field,
                                    format!("{name:?}"),
                                    format!("this venue does not trade {symbol}"),
                                );
                            }
                            sell_on[a.index()] = Some(v);
                        }
                    }
                }
            }
            if let Some(c) = k.capital_usd {
                self.check(&at.key("capital_usd"), c, c >= 0.0, "USD ≥ 0");
            }
            let min_profit = k.min_profit_usd.unwrap_or(0.0);
            self.check(
                &at.key("min_profit_usd"),
                min_profit,
                true,
                "a finite USD amount",
            );
            let strategy = match k.strategy.as_deref() {
                None | Some("single_call") => KeeperStrategy::SingleCall,
                Some("two_step") => KeeperStrategy::TwoStep,
                Some(other) => {
                    self.fail(
                        &at.key("strategy"),
                        format!("{other:?}"),
                        "expected single_call or two_step",
                    );
                    KeeperStrategy::SingleCall
                }
            };
            let mut spec = KeeperSpec::new(served, sell_on, k.capital_usd, min_profit);
            spec.strategy = strategy;
            self.keeper_on_chain(&at, k, has_chain, &mut spec);
            out.push(KeeperInfo {
                name: k.name.clone(),
                spec,
            });
        }
        out
    }

    fn positions(
        &mut self,
        file: &ScenarioFile,
        protocol_ids: &HashMap<String, ProtocolId>,
        asset_ids: &HashMap<String, AssetId>,
        assets: &[AssetInfo],
        oracle_prices: &[f64],
        protocols: &mut [ProtocolInfo],
    ) -> Vec<Vec<Account>> {
        let mut books: Vec<Vec<Account>> = vec![Vec::new(); protocols.len()];
        // Positions are sized at the prices the protocol sees at time 0.
        let protocol_price = |protocol: &ProtocolInfo, a: AssetId| {
            protocol.oracle_for[a.index()]
                .map_or(assets[a.index()].start_price, |o| oracle_prices[o.index()])
        };
        // Where each population starts in its protocol's book, for the borrowers' behaviour.
        let mut starts: Vec<(ProtocolId, usize, u32)> = Vec::new();
        for (i, s) in file.positions.iter().enumerate() {
            let at = root().key("positions").at(i);
            if let Some(&p) = protocol_ids.get(&s.protocol) {
                starts.push((p, i, books[p.index()].len() as u32));
            }
            let aims_at_perp = file
                .protocols
                .iter()
                .any(|p| p.name == s.protocol && section_kind(p) == Some(ProtocolKind::Perp));
            if aims_at_perp {
                // Built with the perp exchanges.
                continue;
            }
            let Some(p) = self.lookup(&at.key("protocol"), protocol_ids, &s.protocol, "protocol")
            else {
                continue;
            };
            for (field, present) in [
                ("market", s.market.is_some()),
                ("side", s.side.is_some()),
                ("notional_usd", s.notional_usd.is_some()),
                ("leverage", s.leverage.is_some()),
                ("entry_price", s.entry_price.is_some()),
                ("margin_mode", s.margin_mode.is_some()),
                ("cross_buffer", s.cross_buffer.is_some()),
            ] {
                if present {
                    self.fail_written(
                        &at.key(field),
                        "applies to a perp exchange's positions only",
                    );
                }
            }
            let params = protocols[p.index()].params.clone();
            if let Some(name) = &s.file {
                for (field, present) in [
                    ("count", s.count.is_some()),
                    ("collateral", s.collateral.is_some()),
                    ("debt", s.debt.is_some()),
                    ("liquidation_price", s.liquidation_price.is_some()),
                    ("health_factor", s.health_factor.is_some()),
                    ("size_sigma", s.size_sigma.is_some()),
                ] {
                    if present {
                        self.fail_written(
                            &at.key(field),
                            "does not apply to positions loaded from a file",
                        );
                    }
                }
                let Some((path, bytes)) = self.read_data(&at.key("file"), name) else {
                    continue;
                };
                let accounts = match data::read_positions(&path, &bytes) {
                    Ok(accounts) => accounts,
                    Err(e) => {
                        self.data_error(e);
                        continue;
                    }
                };
                for account in accounts {
                    let mut collateral = smallvec![];
                    for (symbol, units, line) in &account.collateral {
                        match asset_ids.get(symbol) {
                            Some(&a) if params.collateral[a.index()].is_some() => {
                                collateral.push((a, *units))
                            }
                            Some(_) => self.data_error(
                                InputError::new(
                                    &path,
                                    "asset",
                                    format!(
                                        "protocol {} does not accept {symbol} as collateral",
                                        s.protocol
                                    ),
                                )
                                .value(format!("{symbol:?}"))
                                .line(Some(*line)),
                            ),
                            None => {
                                let error = unknown_asset(&path, asset_ids, symbol, *line);
                                self.data_error(error);
                            }
                        }
                    }
                    let (debt_asset, debt) = match &account.debt {
                        Some((symbol, units, line)) => match asset_ids.get(symbol) {
                            Some(&a) => (a, *units),
                            None => {
                                let error = unknown_asset(&path, asset_ids, symbol, *line);
                                self.data_error(error);
                                continue;
                            }
                        },
                        None => (AssetId(0), 0.0),
                    };
                    if debt > 0.0
                        && collateral
                            .iter()
                            .any(|c: &(AssetId, f64)| c.0 == debt_asset)
                    {
                        let (symbol, _, line) = account.debt.as_ref().expect("debt > 0");
                        self.data_error(
                            InputError::new(
                                &path,
                                "asset",
                                format!(
                                    "account {} borrows {symbol}, which it also holds as collateral; the debt asset must differ from the collateral assets",
                                    account.label
                                ),
                            )
                            .value(format!("{symbol:?}"))
                            .line(Some(*line)),
                        );
                        continue;
                    }
                    books[p.index()].push(Account {
                        collateral,
                        debt_asset,
                        debt,
                    });
                    let labels = &mut protocols[p.index()].account_labels;
                    labels.resize(books[p.index()].len() - 1, String::new());
                    labels.push(account.label);
                }
                continue;
            }
            let ctx = "for a generated population (or give `file`)";
            let count = self.required(&at.key("count"), &s.count, ctx);
            if let Some(n) = count {
                if !(1..=MAX_GENERATED_POSITIONS).contains(&n) {
                    self.fail(
                        &at.key("count"),
                        n,
                        format!(
                            "expected from 1 to {MAX_GENERATED_POSITIONS} positions (split a larger population over several [[positions]])"
                        ),
                    );
                }
            }
            let collateral = self.required(&at.key("collateral"), &s.collateral, ctx);
            let debt = self.required(&at.key("debt"), &s.debt, ctx);
            let collateral_asset = collateral.as_ref().and_then(|c| {
                self.lookup(
                    &at.key("collateral").key("asset"),
                    asset_ids,
                    &c.asset,
                    "asset",
                )
            });
            if let Some(c) = &collateral {
                self.positive(&at.key("collateral").key("total"), c.total);
            }
            let debt_asset = debt.as_ref().and_then(|d| {
                self.lookup(&at.key("debt").key("asset"), asset_ids, &d.asset, "asset")
            });
            if let (Some(c), Some(d)) = (collateral_asset, debt_asset) {
                if c == d {
                    self.fail(
                        &at.key("debt").key("asset"),
                        format!("{:?}", assets[d.index()].symbol),
                        "the debt asset must differ from the collateral asset",
                    );
                }
            }
            let threshold = collateral_asset
                .and_then(|c| params.collateral[c.index()])
                .map(|c| c.liquidation_threshold);
            if collateral_asset.is_some() && threshold.is_none() {
                let symbol = &collateral.as_ref().unwrap().asset;
                self.fail(
                    &at.key("collateral").key("asset"),
                    format!("{symbol:?}"),
                    format!(
                        "protocol {} does not accept this asset as collateral",
                        s.protocol
                    ),
                );
            }
            let target = match (&s.liquidation_price, &s.health_factor) {
                (Some(d), None) => self
                    .distribution(&at.key("liquidation_price"), d)
                    .map(generate::Target::LiquidationPrice),
                (None, Some(d)) => self
                    .distribution(&at.key("health_factor"), d)
                    .map(generate::Target::HealthFactor),
                (Some(_), Some(_)) => {
                    self.fail_bare(
                        &at.key("health_factor"),
                        "give liquidation_price or health_factor, not both",
                    );
                    None
                }
                (None, None) => {
                    self.fail_bare(
                        &at.key("liquidation_price"),
                        "missing: a generated population needs liquidation_price or health_factor",
                    );
                    None
                }
            };
            let size_sigma = s.size_sigma.unwrap_or(0.0);
            let sigma_ok = self.check(
                &at.key("size_sigma"),
                size_sigma,
                (0.0..=crate::generate::MAX_SIZE_SIGMA).contains(&size_sigma),
                &format!(
                    "a log-normal size dispersion from 0 to {} (beyond it sizes overflow)",
                    crate::generate::MAX_SIZE_SIGMA
                ),
            );
            let (Some(count), Some(collateral), Some(c), Some(d), Some(lt), Some(target)) = (
                count,
                collateral,
                collateral_asset,
                debt_asset,
                threshold,
                target,
            ) else {
                continue;
            };
            // Generate only from valid parameters (anything else is reported already).
            let generable = (1..=MAX_GENERATED_POSITIONS).contains(&count)
                && sigma_ok
                && collateral.total.is_finite()
                && collateral.total > 0.0
                && c != d
                && assets[c.index()].start_price.is_finite()
                && assets[d.index()].start_price.is_finite();
            if !generable {
                continue;
            }
            let population = generate::Population {
                count: count as usize,
                collateral_asset: c,
                total_collateral: collateral.total,
                debt_asset: d,
                liquidation_threshold: lt,
                collateral_price: protocol_price(&protocols[p.index()], c),
                debt_price: protocol_price(&protocols[p.index()], d),
                target,
                size_sigma,
            };
            let seed = file.simulation.seed;
            let generated = match self.books {
                Some(cache) => cache.generate(&population, seed, i),
                None => generate::population(&population, seed, i),
            };
            let book = &mut books[p.index()];
            if book.is_empty() {
                *book = generated;
            } else {
                book.extend(generated);
            }
            if !protocols[p.index()].account_labels.is_empty() {
                protocols[p.index()]
                    .account_labels
                    .resize(book.len(), String::new());
            }
        }
        let has_chain = file.chain.is_some();
        for (j, &(p, i, first)) in starts.iter().enumerate() {
            let Some(b) = &file.positions[i].borrowers else {
                continue;
            };
            let at = root().key("positions").at(i).key("borrowers");
            let end = starts[j + 1..]
                .iter()
                .find(|s| s.0 == p)
                .map_or(books[p.index()].len() as u32, |s| s.2);
            if let Some(behaviour) = self.borrower_behaviour(&at, b, has_chain) {
                if end > first {
                    protocols[p.index()].borrowers.push(BorrowerGroup {
                        first,
                        end,
                        behaviour,
                    });
                }
            }
        }
        for (p, book) in books.iter().enumerate() {
            let labels = &mut protocols[p].account_labels;
            if !labels.is_empty() {
                labels.resize(book.len(), String::new());
            }
            let info = &protocols[p];
            let price = |a: AssetId| protocol_price(info, a);
            let unhealthy = book
                .iter()
                .filter(|a| a.health_factor(&info.params, &price) < 1.0)
                .count();
            if unhealthy > 0 {
                self.warnings.push(format!(
                    "protocol {}: {unhealthy} accounts start liquidatable (health factor < 1 at the start prices) and are liquidated at step 0",
                    info.name
                ));
            }
        }
        books
    }

    fn distribution(
        &mut self,
        at: &FieldPath,
        d: &DistributionSection,
    ) -> Option<generate::Distribution> {
        let kind = d.distribution.as_str();
        let ctx = format!("for distribution {kind:?}");
        let bounded = matches!(kind, "uniform" | "even");
        // With an unknown distribution, which fields apply is unknown: report the name alone.
        if bounded {
            self.forbid(&at.key("mean"), &d.mean, &ctx);
            self.forbid(&at.key("std"), &d.std, &ctx);
        }
        match kind {
            "uniform" | "even" => {
                let low = self.required(&at.key("low"), &d.low, &ctx)?;
                let high = self.required(&at.key("high"), &d.high, &ctx)?;
                let ok = self.positive(&at.key("low"), low) & self.positive(&at.key("high"), high);
                if ok && high < low {
                    self.fail(&at.key("high"), high, format!("is below low = {low}"));
                    return None;
                }
                ok.then_some(if kind == "uniform" {
                    generate::Distribution::Uniform { low, high }
                } else {
                    generate::Distribution::Even { low, high }
                })
            }
            "normal" | "lognormal" => {
                let mean = self.required(&at.key("mean"), &d.mean, &ctx)?;
                let std = self.required(&at.key("std"), &d.std, &ctx)?;
                let mut ok = self.positive(&at.key("mean"), mean)
                    & self.check(&at.key("std"), std, std >= 0.0, "a standard deviation ≥ 0");
                // Optional truncation bounds: draws outside [low, high] are redrawn.
                let low = d.low.unwrap_or(0.0);
                let high = d.high.unwrap_or(f64::INFINITY);
                if let Some(l) = d.low {
                    ok &= self.check(
                        &at.key("low"),
                        l,
                        l >= 0.0 && l < mean,
                        &format!("a truncation bound ≥ 0 and below mean = {mean}"),
                    );
                }
                if let Some(h) = d.high {
                    ok &= self.check(
                        &at.key("high"),
                        h,
                        h > mean,
                        &format!("a truncation bound above mean = {mean}"),
                    );
                }
                let bounds = (low, high);
                if ok {
                    let lognormal = kind == "lognormal";
                    if let Err(why) = generate::truncation_mass(lognormal, mean, std, bounds) {
                        self.fail(&at.key("std"), shown(std), why);
                        return None;
                    }
                }
                ok.then_some(if kind == "normal" {
                    generate::Distribution::Normal { mean, std, bounds }
                } else {
                    generate::Distribution::LogNormal { mean, std, bounds }
                })
            }
            other => {
                self.fail(
                    &at.key("distribution"),
                    format!("{other:?}"),
                    "expected one of uniform, even, normal, lognormal",
                );
                None
            }
        }
    }

    fn shocks(
        &mut self,
        sections: &[ShockSection],
        asset_ids: &HashMap<String, AssetId>,
        steps: u64,
    ) -> Vec<(AssetId, Shock)> {
        let mut out = Vec::new();
        for (i, s) in sections.iter().enumerate() {
            let at = root().key("shocks").at(i);
            let asset = self.lookup(&at.key("asset"), asset_ids, &s.asset, "asset");
            // With no steps at all, `simulation.steps` is the problem, reported there.
            if s.step == 0 || (steps > 0 && s.step > steps) {
                self.fail(
                    &at.key("step"),
                    s.step,
                    format!(
                        "expected a step from 1 to {steps} (shocks apply at the start of a step)"
                    ),
                );
            }
            let factor = match (s.drop, s.rise) {
                (Some(drop), None) => self
                    .check(
                        &at.key("drop"),
                        drop,
                        (0.0..1.0).contains(&drop),
                        "a fall as a fraction in [0, 1)",
                    )
                    .then_some(1.0 - drop),
                (None, Some(rise)) => self
                    .check(
                        &at.key("rise"),
                        rise,
                        rise >= 0.0,
                        "a rise as a fraction ≥ 0",
                    )
                    .then_some(1.0 + rise),
                (Some(_), Some(_)) => {
                    self.fail_bare(&at.key("rise"), "give drop or rise, not both");
                    None
                }
                (None, None) => {
                    self.fail_bare(&at.key("drop"), "missing: a shock needs drop or rise");
                    None
                }
            };
            if let (Some(a), Some(factor)) = (asset, factor) {
                out.push((
                    a,
                    Shock {
                        step: s.step,
                        factor,
                    },
                ));
            }
        }
        out
    }

    fn correlations(
        &mut self,
        sections: &[CorrelationSection],
        asset_ids: &HashMap<String, AssetId>,
        fundamentals: &[Fundamental],
    ) -> Option<(Vec<AssetId>, Vec<Vec<f64>>)> {
        if sections.is_empty() {
            return None;
        }
        let mut covered: Vec<AssetId> = Vec::new();
        let mut pairs = BTreeMap::new();
        for (i, c) in sections.iter().enumerate() {
            let at = root().key("correlations").at(i);
            if c.assets.len() != 2 {
                self.fail(
                    &at.key("assets"),
                    format!("{:?}", c.assets),
                    "expected exactly two asset symbols",
                );
                continue;
            }
            let a = self.lookup(&at.key("assets").at(0), asset_ids, &c.assets[0], "asset");
            let b = self.lookup(&at.key("assets").at(1), asset_ids, &c.assets[1], "asset");
            self.check(
                &at.key("correlation"),
                c.correlation,
                (-1.0..=1.0).contains(&c.correlation),
                "a correlation in [-1, 1]",
            );
            let (Some(a), Some(b)) = (a, b) else { continue };
            if a == b {
                self.fail(
                    &at.key("assets"),
                    format!("{:?}", c.assets),
                    "expected two different assets",
                );
                continue;
            }
            for (j, x) in [a, b].into_iter().enumerate() {
                if !fundamentals[x.index()].driver().is_stochastic() {
                    self.fail(
                        &at.key("assets").at(j),
                        format!("{:?}", c.assets[j]),
                        "correlation needs a gbm, jump_diffusion or garch driver on this asset",
                    );
                }
                if !covered.contains(&x) {
                    covered.push(x);
                }
            }
            pairs.insert((a.min(b), a.max(b)), (c.correlation, at));
        }
        covered.sort();
        let n = covered.len();
        let mut matrix = vec![vec![0.0; n]; n];
        for (i, row) in matrix.iter_mut().enumerate() {
            row[i] = 1.0;
        }
        for (&(a, b), (rho, _)) in &pairs {
            let (i, j) = (
                covered.iter().position(|&x| x == a)?,
                covered.iter().position(|&x| x == b)?,
            );
            matrix[i][j] = *rho;
            matrix[j][i] = *rho;
        }
        match cholesky(&matrix) {
            Some(factor) => Some((covered, factor)),
            None => {
                let at = root().key("correlations");
                self.fail_bare(
                    &at,
                    "the correlations do not form a positive-definite matrix",
                );
                None
            }
        }
    }

    fn protocol_warnings(&mut self, protocols: &[ProtocolInfo], assets: &[AssetInfo]) {
        for p in protocols {
            for (a, c) in p.params.collateral.iter().enumerate() {
                if let Some(c) = c {
                    let product = c.liquidation_threshold * (1.0 + c.liquidation_bonus);
                    if product >= 1.0 {
                        self.warnings.push(format!(
                            "protocol {}: {} liquidation threshold × (1 + bonus) = {:.4} ≥ 1: liquidations are toxic (each partial liquidation raises the loan-to-value)",
                            p.name, assets[a].symbol, product
                        ));
                    }
                }
            }
            if p.keepers.is_empty() {
                self.warnings.push(format!(
                    "protocol {}: no keeper serves it, so nothing will be liquidated",
                    p.name
                ));
            }
        }
    }
}

/// A row of a positions file naming an asset the scenario does not define.
fn unknown_asset(
    file: &Path,
    asset_ids: &HashMap<String, AssetId>,
    symbol: &str,
    line: usize,
) -> InputError {
    let mut known: Vec<&str> = asset_ids.keys().map(String::as_str).collect();
    known.sort_unstable();
    InputError::new(
        file,
        "asset",
        format!("unknown asset; known: [{}]", known.join(", ")),
    )
    .value(format!("{symbol:?}"))
    .line(Some(line))
}

/// Lower-triangular L with L·Lᵀ = m, or `None` if m is not positive definite.
fn cholesky(m: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = m.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = m[i][i] - sum;
                if d <= 1e-12 {
                    return None;
                }
                l[i][j] = d.sqrt();
            } else {
                l[i][j] = (m[i][j] - sum) / l[j][j];
            }
        }
    }
    Some(l)
}
