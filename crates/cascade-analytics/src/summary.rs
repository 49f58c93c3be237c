//! The run summary (summary.json): a fold over the audit events.
//!
//! Key names are a public contract (MODEL.md §4): add, never rename.

use std::collections::BTreeMap;

use cascade_engine::{BookMark, Event, EventKind, World};
use cascade_model::ids::AssetId;
use cascade_model::lending::LiquidationRule;
use cascade_model::loss::Shortfall;
use serde::Serialize;

use crate::chain::{BorrowerSummary, ChainFold, ChainSummary, chain_fold};
use crate::depth::{VenueSummary, venue_summaries};
use crate::feedback::{FeedbackGain, feedback_gain, feedback_gain_up};
use crate::perp::{PerpSummary, perp_summaries};

/// What the summary needs to know beyond the events.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// Scenario hash.
    pub hash: String,
    /// Scenario description.
    pub description: Option<String>,
    /// Validation warnings.
    pub warnings: Vec<String>,
}

/// summary.json.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Scenario identity.
    pub scenario: ScenarioSummary,
    /// Per asset price measures.
    pub assets: BTreeMap<String, AssetSummary>,
    /// Liquidation totals.
    pub liquidations: LiquidationSummary,
    /// Realised plus unrealised bad debt, USD.
    pub bad_debt_usd: f64,
    /// Debt written off during the run, USD.
    pub bad_debt_realised_usd: f64,
    /// Σ max(0, debt − collateral) over open accounts at the end, USD.
    pub bad_debt_unrealised_usd: f64,
    /// Bad debt covered by insurance funds, USD.
    pub insurance_drawn_usd: f64,
    /// Bad debt socialised onto suppliers, USD.
    pub socialised_loss_usd: f64,
    /// Per protocol.
    pub protocols: BTreeMap<String, ProtocolSummary>,
    /// Per keeper.
    pub keepers: BTreeMap<String, KeeperSummary>,
    /// Cascade dynamics.
    pub cascade: CascadeSummary,
    /// Blocks, gas and the agents' transactions, when the scenario has a chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<ChainSummary>,
    /// Per venue with market makers, the depth they quoted (absent when no venue has any).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub venues: BTreeMap<String, VenueSummary>,
    /// Warnings about the scenario's parameters.
    pub warnings: Vec<String>,
}

/// `scenario.*`.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioSummary {
    /// Name.
    pub name: String,
    /// Master seed.
    pub seed: u64,
    /// SHA-256 of the scenario and its data files.
    pub hash: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Steps run.
    pub steps: u64,
    /// Seconds per step.
    pub step_seconds: u64,
}

/// `assets.<SYMBOL>.*`.
#[derive(Clone, Debug, Serialize)]
pub struct AssetSummary {
    /// Price of the primary venue (the fundamental if the asset has no venue) at the start.
    pub start_price: f64,
    /// Its minimum over the run (including prices inside cascade rounds).
    pub min_price: f64,
    /// Its final value.
    pub final_price: f64,
    /// The venue whose prices these are, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    /// Fundamental price at the start.
    pub fundamental_start_price: f64,
    /// Minimum fundamental price.
    pub fundamental_min_price: f64,
    /// Final fundamental price.
    pub fundamental_final_price: f64,
    /// Largest drawdown of the fundamental, a fraction.
    pub exogenous_drop: f64,
    /// Largest drawdown of the primary venue's price, a fraction.
    pub total_drop: f64,
    /// total_drop / exogenous_drop; null when there was no exogenous drop.
    pub amplification: Option<f64>,
    /// Largest gap of the primary venue's price below the fundamental, as a fraction of the
    /// fundamental, seen after a sale or at a step's end: the price impact forced selling caused.
    pub max_price_impact: f64,
    /// The primary venue's maximum price (including prices inside cascade rounds).
    pub max_price: f64,
    /// Largest run-up of the fundamental from a running trough, a fraction (rises mirror drops:
    /// short squeezes cascade upward).
    pub exogenous_rise: f64,
    /// Largest run-up of the primary venue's price, a fraction.
    pub total_rise: f64,
    /// total_rise / exogenous_rise; null when there was no exogenous rise.
    pub amplification_rise: Option<f64>,
    /// Largest gap of the primary venue's price above the fundamental, as a fraction of it: the
    /// price impact forced buying caused.
    pub max_price_impact_up: f64,
}

/// `liquidations.*`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LiquidationSummary {
    /// Liquidation calls.
    pub count: u64,
    /// Debt repaid, USD at the protocols' prices.
    pub debt_repaid_usd: f64,
    /// Collateral units seized, per asset.
    pub collateral_seized: BTreeMap<String, f64>,
    /// Collateral seized valued at the protocols' prices, USD.
    pub collateral_seized_usd: f64,
    /// Collateral units paid to protocol treasuries, per asset.
    pub protocol_fees: BTreeMap<String, f64>,
    /// Units sold on venues, per asset.
    pub collateral_sold: BTreeMap<String, f64>,
    /// Units offered on venues that found no bids, per asset.
    pub collateral_unsold: BTreeMap<String, f64>,
    /// USD received for collateral sold.
    pub sale_proceeds_usd: f64,
    /// Oracle value of the collateral sold minus the proceeds, USD.
    pub slippage_usd: f64,
    /// Liquidatable accounts skipped in a round because no keeper could or would act.
    pub missed: u64,
    /// Bonus captured by keepers: collateral received valued at the protocols' prices minus the
    /// debt repaid, USD.
    pub bonus_usd: f64,
    /// How long accounts stayed liquidatable before a call closed the episode.
    pub time_to_close_seconds: TimeToClose,
}

/// `liquidations.time_to_close_seconds.*`: from the first check that found an account
/// liquidatable to the call after which it no longer was.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TimeToClose {
    /// Episodes closed.
    pub episodes: u64,
    /// Median duration, seconds (null without episodes).
    pub median: Option<u64>,
    /// 90th percentile, seconds (nearest rank; null without episodes).
    pub p90: Option<u64>,
    /// Longest, seconds (null without episodes).
    pub max: Option<u64>,
}

/// `protocols.<NAME>.*`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ProtocolSummary {
    /// Liquidation calls.
    pub liquidations: u64,
    /// Accounts liquidated at least once.
    pub accounts_liquidated: u64,
    /// Accounts at the start.
    pub accounts: u64,
    /// Accounts still owing at the end.
    pub open_accounts: u64,
    /// Debt outstanding at the start, USD at start prices.
    pub initial_debt_usd: f64,
    /// Debt repaid by liquidations, USD.
    pub debt_repaid_usd: f64,
    /// Realised plus unrealised bad debt, USD.
    pub bad_debt_usd: f64,
    /// Debt written off, USD.
    pub bad_debt_realised_usd: f64,
    /// Underwater open accounts at the end, USD.
    pub bad_debt_unrealised_usd: f64,
    /// Collateral units seized, per asset.
    pub collateral_seized: BTreeMap<String, f64>,
    /// Treasury units from protocol fees, per asset.
    pub protocol_fees: BTreeMap<String, f64>,
    /// The insurance fund's path, when the protocol has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insurance_fund: Option<InsuranceSummary>,
    /// Bad debt socialised onto suppliers, USD.
    pub socialised_loss_usd: f64,
    /// Debt-auction lots kicked.
    pub debt_auction_lots: u64,
    /// USD raised by those lots.
    pub debt_auction_usd: f64,
    /// Lots needed to cover all the deficit the fund could not (whole lots, rounded up), when
    /// the shortfall rule is a debt auction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debt_auction_lots_needed: Option<u64>,
    /// Deficit left uncovered at the end (carried, or awaiting a whole lot), USD.
    pub uncovered_deficit_usd: f64,
    /// Dutch auctions, for protocols that liquidate by auction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auctions: Option<AuctionSummary>,
    /// The backstop vault, for protocols that liquidate by transfer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backstop: Option<BackstopSummary>,
    /// Reserves and absorbed collateral, for Compound III protocols.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comet: Option<CometSummary>,
    /// The Stability Pool, for Liquity protocols.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stability_pool: Option<StabilityPoolSummary>,
    /// Long and short liquidations, vault, auto-deleveraging and funding, for perp exchanges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub perp: Option<PerpSummary>,
    /// What the owners of accounts did, for protocols whose owners act.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub borrowers: Option<BorrowerSummary>,
}

/// `protocols.<NAME>.stability_pool.*`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StabilityPoolSummary {
    /// Troves liquidated.
    pub liquidations: u64,
    /// Of which in recovery mode.
    pub recovery_mode_liquidations: u64,
    /// Debt cancelled against the pool, units.
    pub debt_offset: f64,
    /// Debt redistributed to other troves, units.
    pub debt_redistributed: f64,
    /// Collateral redistributed to other troves, units per asset.
    pub collateral_redistributed: BTreeMap<String, f64>,
    /// End-of-round redistributions.
    pub redistributions: u64,
    /// Collateral left to owners by recovery mode's capped offsets, units per asset.
    pub surplus_to_owners: BTreeMap<String, f64>,
    /// Deposits at the start and at the end, debt-asset units.
    pub deposits_start: f64,
    /// Deposits at the end.
    pub deposits_end: f64,
    /// The product P: what a deposit from the start is worth per unit.
    pub product: f64,
    /// Collateral the pool gained, units per asset.
    pub gains: BTreeMap<String, f64>,
}

/// `protocols.<NAME>.comet.*`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CometSummary {
    /// Accounts absorbed.
    pub absorbs: u64,
    /// Value credited to absorbed users beyond their debt, USD.
    pub credits_usd: f64,
    /// Debt absorbed by reserves beyond the collateral's value, USD.
    pub shortfall_usd: f64,
    /// Reserves at the start, USD.
    pub reserves_start_usd: f64,
    /// Lowest reserves, USD.
    pub reserves_min_usd: f64,
    /// Reserves at the end, USD.
    pub reserves_final_usd: f64,
    /// Collateral bought by keepers, units per asset.
    pub bought: BTreeMap<String, f64>,
    /// USD keepers paid for it.
    pub paid_usd: f64,
    /// Collateral still held at the end, units per asset.
    pub held: BTreeMap<String, f64>,
}

/// `protocols.<NAME>.backstop.*`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BackstopSummary {
    /// Positions taken over.
    pub takeovers: u64,
    /// USD spent repaying debt.
    pub spent_usd: f64,
    /// USD received from unwinding sales.
    pub received_usd: f64,
    /// Collateral units sold while unwinding, per asset.
    pub sold: BTreeMap<String, f64>,
    /// Collateral units still held at the end, per asset.
    pub inventory: BTreeMap<String, f64>,
    /// received − spent + holdings at each asset's final price, USD.
    pub marked_pnl_usd: f64,
    /// received − spent + holdings at their takeover prices (the hedged valuation), USD.
    pub hedged_pnl_usd: f64,
}

/// `protocols.<NAME>.auctions.*`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AuctionSummary {
    /// Auctions kicked (vaults barked).
    pub kicked: u64,
    /// Takes by keepers (Dutch), or deals to the winning bidder (English).
    pub taken: u64,
    /// Bids placed (English auctions: tends and dents).
    pub bids: u64,
    /// Resets (redo) of auctions too old or too cheap.
    pub resets: u64,
    /// Auctions ended.
    pub ended: u64,
    /// Auctions still running at the end.
    pub running_at_end: u64,
    /// Keeper incentives paid (tip + chip), USD.
    pub incentives_usd: f64,
    /// Raised beyond the debt (the liquidation penalty collected), USD.
    pub penalty_raised_usd: f64,
    /// Collateral units returned to vaults, per asset.
    pub collateral_returned: BTreeMap<String, f64>,
    /// Takes or deals won at (near) zero: paying less than 1% of the collateral's value at the
    /// protocol's price.
    pub won_near_zero: u64,
    /// Their share of all takes and deals.
    pub won_near_zero_share: f64,
    /// Collateral units won at (near) zero, per asset.
    pub collateral_won_near_zero: BTreeMap<String, f64>,
    /// Its value at the protocol's price when won, USD.
    pub collateral_won_near_zero_usd: f64,
}

/// A take or deal paying less than this fraction of the collateral's value counts as won at
/// (near) zero.
pub const NEAR_ZERO_BID: f64 = 0.01;

/// `protocols.<NAME>.insurance_fund.*`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct InsuranceSummary {
    /// Balance at the start, USD.
    pub start_usd: f64,
    /// Balance at the end, USD.
    pub final_usd: f64,
    /// Lowest balance, USD.
    pub min_usd: f64,
    /// Fee income paid in, USD.
    pub paid_in_usd: f64,
    /// Bad debt covered, USD.
    pub drawn_usd: f64,
    /// Largest fall from a running peak of the balance, USD.
    pub max_drawdown_usd: f64,
}

/// `keepers.<NAME>.*`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct KeeperSummary {
    /// Liquidation calls executed.
    pub liquidations: u64,
    /// USD spent repaying debt.
    pub spent_usd: f64,
    /// USD received from sales.
    pub received_usd: f64,
    /// received − spent, USD (collateral still held not included).
    pub realised_profit_usd: f64,
    /// Auction incentives received (tip + chip), USD.
    pub incentives_usd: f64,
    /// realised profit plus incentives plus the collateral still held, valued at each asset's
    /// final price (primary venue, else fundamental), USD.
    pub marked_profit_usd: f64,
    /// Units held at the end, per asset.
    pub inventory: BTreeMap<String, f64>,
    /// Gas paid, USD (on a chain; counted in neither profit above).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gas_spent_usd: Option<f64>,
}

/// `cascade.*`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CascadeSummary {
    /// Most settle rounds with activity in one step.
    pub rounds_max: u32,
    /// Total settle rounds with activity.
    pub rounds_total: u64,
    /// Steps in which anything was liquidated.
    pub steps_with_liquidations: u64,
    /// Steps whose cascade hit the round limit.
    pub round_limit_hits: u64,
    /// Feedback gain m at the start price, per asset with a venue.
    pub feedback_gain: BTreeMap<String, f64>,
    /// What each gain is made of.
    pub feedback_gain_detail: BTreeMap<String, FeedbackGain>,
    /// Feedback gain of a rise (perp shorts bought back per 1% rise over the depth that absorbs
    /// it), per asset with perp shorts.
    pub feedback_gain_up: BTreeMap<String, f64>,
    /// What each rise gain is made of.
    pub feedback_gain_up_detail: BTreeMap<String, FeedbackGain>,
}

/// Tracks the largest drawdown, minimum and last value of a price path.
#[derive(Clone, Copy, Debug)]
struct PricePath {
    start: f64,
    min: f64,
    max: f64,
    last: f64,
    peak: f64,
    drawdown: f64,
    trough: f64,
    drawup: f64,
}

impl PricePath {
    fn new(start: f64) -> Self {
        Self {
            start,
            min: start,
            max: start,
            last: start,
            peak: start,
            drawdown: 0.0,
            trough: start,
            drawup: 0.0,
        }
    }

    fn push(&mut self, price: f64) {
        self.last = price;
        self.min = self.min.min(price);
        self.peak = self.peak.max(price);
        self.max = self.max.max(price);
        if self.peak > 0.0 {
            self.drawdown = self.drawdown.max((self.peak - price) / self.peak);
        }
        self.trough = self.trough.min(price);
        if self.trough > 0.0 {
            self.drawup = self.drawup.max((price - self.trough) / self.trough);
        }
    }
}

fn add(map: &mut BTreeMap<String, f64>, key: &str, value: f64) {
    *map.entry(key.to_string()).or_insert(0.0) += value;
}

/// Folds a run's events into its summary.
pub fn summarize(world: &World, info: &RunInfo, events: &[Event]) -> Summary {
    let symbol = |a: AssetId| world.assets[a.index()].symbol.as_str();
    let mut fundamentals: Vec<Option<PricePath>> = vec![None; world.assets.len()];
    let mut venues: Vec<Option<PricePath>> = vec![None; world.venues.len()];
    let mut liquidations = LiquidationSummary::default();
    let mut protocols: Vec<ProtocolSummary> = world
        .protocols
        .iter()
        .map(|_| ProtocolSummary::default())
        .collect();
    let mut keepers: Vec<KeeperSummary> = world
        .keepers
        .iter()
        .map(|_| KeeperSummary::default())
        .collect();
    let mut liquidated: Vec<Vec<bool>> = world.protocols.iter().map(|_| Vec::new()).collect();
    let mut cascade = CascadeSummary::default();
    let mut funds: Vec<InsuranceSummary> = world
        .protocols
        .iter()
        .map(|p| {
            let start = p.insurance.map_or(0.0, |i| i.initial_usd);
            InsuranceSummary {
                start_usd: start,
                final_usd: start,
                min_usd: start,
                ..Default::default()
            }
        })
        .collect();
    let mut peaks: Vec<f64> = funds.iter().map(|f| f.start_usd).collect();
    let mut step_had_liquidation = false;
    let mut durations: Vec<u64> = Vec::new();
    let mut auctions: Vec<Option<AuctionSummary>> = vec![None; world.protocols.len()];
    let mut backstops: Vec<Option<BackstopSummary>> = vec![None; world.protocols.len()];
    let mut pools: Vec<Option<StabilityPoolSummary>> = world
        .protocols
        .iter()
        .map(|p| match p.params.liquidation {
            LiquidationRule::Liquity(l) => Some(StabilityPoolSummary {
                deposits_start: l.stability_pool,
                deposits_end: l.stability_pool,
                product: 1.0,
                ..StabilityPoolSummary::default()
            }),
            _ => None,
        })
        .collect();
    let mut comets: Vec<Option<CometSummary>> = world
        .protocols
        .iter()
        .map(|p| match p.params.liquidation {
            LiquidationRule::CometAbsorb(c) => Some(CometSummary {
                reserves_start_usd: c.initial_reserves_usd,
                reserves_min_usd: c.initial_reserves_usd,
                reserves_final_usd: c.initial_reserves_usd,
                ..CometSummary::default()
            }),
            _ => None,
        })
        .collect();
    // Latest fundamental and venue prices, for the price-impact gap.
    let mut fundamental_now: Vec<f64> = world.assets.iter().map(|a| a.start_price).collect();
    let mut venue_now: Vec<f64> = vec![f64::NAN; world.venues.len()];
    let mut impact: Vec<(f64, f64)> = vec![(0.0, 0.0); world.assets.len()];
    let gap = |fundamental_now: &[f64], venue_now: &[f64], impact: &mut [(f64, f64)]| {
        for (a, asset) in world.assets.iter().enumerate() {
            if let Some(v) = asset.primary_venue {
                let (f, p) = (fundamental_now[a], venue_now[v.index()]);
                if f > 0.0 && p.is_finite() {
                    impact[a].0 = impact[a].0.max((f - p) / f);
                    impact[a].1 = impact[a].1.max((p - f) / f);
                }
            }
        }
    };
    for event in events {
        match &event.kind {
            EventKind::PositionsOpened {
                protocol,
                accounts,
                debt,
                ..
            } => {
                let p = &mut protocols[protocol.index()];
                p.accounts = *accounts;
                p.initial_debt_usd = debt
                    .iter()
                    .enumerate()
                    .map(|(a, units)| units * world.assets[a].start_price)
                    .sum();
                liquidated[protocol.index()] = vec![false; *accounts as usize];
            }
            EventKind::FundamentalMoved { asset, price }
            | EventKind::ShockApplied { asset, price, .. } => {
                fundamental_now[asset.index()] = *price;
                let path = &mut fundamentals[asset.index()];
                match path {
                    Some(p) => p.push(*price),
                    None => *path = Some(PricePath::new(*price)),
                }
            }
            // Folded by `depth::venue_summaries`.
            EventKind::DepthChanged { .. } => {}
            EventKind::VenuePriceMoved { venue, price } => {
                venue_now[venue.index()] = *price;
                let path = &mut venues[venue.index()];
                match path {
                    Some(p) => p.push(*price),
                    None => *path = Some(PricePath::new(*price)),
                }
            }
            EventKind::Liquidation(l) => {
                step_had_liquidation = true;
                liquidations.count += 1;
                let repaid = l.debt_repaid * l.debt_price;
                liquidations.debt_repaid_usd += repaid;
                let sym = symbol(l.collateral_asset);
                add(
                    &mut liquidations.collateral_seized,
                    sym,
                    l.collateral_seized,
                );
                add(&mut liquidations.protocol_fees, sym, l.protocol_fee);
                liquidations.collateral_seized_usd += l.collateral_seized * l.collateral_price;
                let p = &mut protocols[l.protocol.index()];
                p.liquidations += 1;
                p.debt_repaid_usd += repaid;
                add(&mut p.collateral_seized, sym, l.collateral_seized);
                add(&mut p.protocol_fees, sym, l.protocol_fee);
                if let Some(seen) = liquidated[l.protocol.index()].get_mut(l.account.index()) {
                    if !*seen {
                        *seen = true;
                        p.accounts_liquidated += 1;
                    }
                }
                keepers[l.keeper.index()].liquidations += 1;
                liquidations.bonus_usd += l.to_keeper * l.collateral_price - repaid;
                if l.closes {
                    durations.push(event.time - l.liquidatable_since.min(event.time));
                }
            }
            EventKind::Sale(s) => {
                let sym = symbol(s.asset);
                add(&mut liquidations.collateral_sold, sym, s.filled);
                if s.units > s.filled {
                    add(&mut liquidations.collateral_unsold, sym, s.units - s.filled);
                }
                liquidations.sale_proceeds_usd += s.proceeds;
                liquidations.slippage_usd += s.oracle_value - s.proceeds;
                if let Some(p) = &mut venues[s.venue.index()] {
                    p.push(s.price_after);
                }
                venue_now[s.venue.index()] = s.price_after;
                gap(&fundamental_now, &venue_now, &mut impact);
            }
            EventKind::BadDebt { protocol, usd, .. } => {
                protocols[protocol.index()].bad_debt_realised_usd += usd;
            }
            EventKind::LiquidationsMissed { count, .. } => liquidations.missed += count,
            EventKind::AuctionKicked {
                protocol,
                account,
                collateral_asset,
                lot,
                collateral_price,
                incentive,
                ..
            } => {
                step_had_liquidation = true;
                liquidations.count += 1;
                let sym = symbol(*collateral_asset);
                add(&mut liquidations.collateral_seized, sym, *lot);
                liquidations.collateral_seized_usd += lot * collateral_price;
                let p = &mut protocols[protocol.index()];
                p.liquidations += 1;
                add(&mut p.collateral_seized, sym, *lot);
                if let Some(seen) = liquidated[protocol.index()].get_mut(account.index()) {
                    if !*seen {
                        *seen = true;
                        p.accounts_liquidated += 1;
                    }
                }
                let a = auctions[protocol.index()].get_or_insert_with(AuctionSummary::default);
                a.kicked += 1;
                a.incentives_usd += incentive;
            }
            EventKind::TroveLiquidated(t) => {
                step_had_liquidation = true;
                liquidations.count += 1;
                let sym = symbol(t.collateral_asset);
                let seized = t.collateral - t.surplus;
                add(&mut liquidations.collateral_seized, sym, seized);
                liquidations.collateral_seized_usd += seized * t.collateral_price;
                liquidations.debt_repaid_usd += t.debt_offset * t.debt_price;
                let p = &mut protocols[t.protocol.index()];
                p.liquidations += 1;
                p.debt_repaid_usd += t.debt_offset * t.debt_price;
                add(&mut p.collateral_seized, sym, seized);
                if let Some(seen) = liquidated[t.protocol.index()].get_mut(t.account.index()) {
                    if !*seen {
                        *seen = true;
                        p.accounts_liquidated += 1;
                    }
                }
                keepers[t.keeper.index()].liquidations += 1;
                let s = pools[t.protocol.index()]
                    .as_mut()
                    .expect("a Liquity protocol");
                s.liquidations += 1;
                s.recovery_mode_liquidations += u64::from(t.recovery_mode);
                s.debt_offset += t.debt_offset;
                s.debt_redistributed += t.debt_redistributed;
                add(
                    &mut s.collateral_redistributed,
                    sym,
                    t.collateral_redistributed,
                );
                if t.surplus > 0.0 {
                    add(&mut s.surplus_to_owners, sym, t.surplus);
                }
                durations.push(event.time - t.liquidatable_since.min(event.time));
            }
            EventKind::Redistributed { protocol, .. } => {
                pools[protocol.index()]
                    .as_mut()
                    .expect("a Liquity protocol")
                    .redistributions += 1;
            }
            EventKind::StabilityPoolMarked {
                protocol,
                deposits,
                product,
                gains,
            } => {
                let s = pools[protocol.index()]
                    .as_mut()
                    .expect("a Liquity protocol");
                s.deposits_end = *deposits;
                s.product = *product;
                for (a, units) in gains.iter().enumerate() {
                    if *units > 0.0 {
                        s.gains.insert(world.assets[a].symbol.clone(), *units);
                    }
                }
            }
            EventKind::Absorbed {
                protocol,
                account,
                collateral,
                debt,
                debt_price,
                credit,
                shortfall,
                liquidatable_since,
                ..
            } => {
                step_had_liquidation = true;
                liquidations.count += 1;
                liquidations.debt_repaid_usd += debt * debt_price;
                let p = &mut protocols[protocol.index()];
                p.liquidations += 1;
                p.debt_repaid_usd += debt * debt_price;
                for (a, units) in collateral.iter().enumerate() {
                    if *units > 0.0 {
                        let sym = symbol(AssetId(a as u32));
                        add(&mut liquidations.collateral_seized, sym, *units);
                        add(&mut p.collateral_seized, sym, *units);
                    }
                }
                if let Some(seen) = liquidated[protocol.index()].get_mut(account.index()) {
                    if !*seen {
                        *seen = true;
                        p.accounts_liquidated += 1;
                    }
                }
                let c = comets[protocol.index()]
                    .as_mut()
                    .expect("a Compound III protocol");
                c.absorbs += 1;
                c.credits_usd += credit;
                c.shortfall_usd += shortfall;
                c.reserves_final_usd -= debt * debt_price + credit;
                c.reserves_min_usd = c.reserves_min_usd.min(c.reserves_final_usd);
                durations.push(event.time - (*liquidatable_since).min(event.time));
            }
            EventKind::CollateralBought {
                protocol,
                keeper,
                asset,
                units,
                collateral_price,
                paid,
                ..
            } => {
                keepers[keeper.index()].liquidations += 1;
                liquidations.bonus_usd += units * collateral_price - paid;
                let c = comets[protocol.index()]
                    .as_mut()
                    .expect("a Compound III protocol");
                add(&mut c.bought, symbol(*asset), *units);
                c.paid_usd += paid;
                c.reserves_final_usd += paid;
            }
            EventKind::CometMarked {
                protocol,
                reserves_usd,
                held,
            } => {
                let c = comets[protocol.index()]
                    .as_mut()
                    .expect("a Compound III protocol");
                c.reserves_final_usd = *reserves_usd;
                for (a, units) in held.iter().enumerate() {
                    if *units > 0.0 {
                        c.held.insert(world.assets[a].symbol.clone(), *units);
                    }
                }
            }
            EventKind::BackstopTakeover {
                protocol,
                account,
                collateral_asset,
                units,
                collateral_price,
                debt,
                debt_price,
                liquidatable_since,
                ..
            } => {
                step_had_liquidation = true;
                liquidations.count += 1;
                let sym = symbol(*collateral_asset);
                add(&mut liquidations.collateral_seized, sym, *units);
                liquidations.collateral_seized_usd += units * collateral_price;
                liquidations.debt_repaid_usd += debt * debt_price;
                let p = &mut protocols[protocol.index()];
                p.liquidations += 1;
                p.debt_repaid_usd += debt * debt_price;
                add(&mut p.collateral_seized, sym, *units);
                if let Some(seen) = liquidated[protocol.index()].get_mut(account.index()) {
                    if !*seen {
                        *seen = true;
                        p.accounts_liquidated += 1;
                    }
                }
                backstops[protocol.index()]
                    .get_or_insert_with(BackstopSummary::default)
                    .takeovers += 1;
                durations.push(event.time - (*liquidatable_since).min(event.time));
            }
            EventKind::BackstopSale {
                protocol,
                venue,
                asset,
                units,
                filled,
                proceeds,
                price_after,
                ..
            } => {
                let sym = symbol(*asset);
                add(&mut liquidations.collateral_sold, sym, *filled);
                if units > filled {
                    add(&mut liquidations.collateral_unsold, sym, units - filled);
                }
                liquidations.sale_proceeds_usd += proceeds;
                if let Some(path) = &mut venues[venue.index()] {
                    path.push(*price_after);
                }
                venue_now[venue.index()] = *price_after;
                gap(&fundamental_now, &venue_now, &mut impact);
                add(
                    &mut backstops[protocol.index()]
                        .get_or_insert_with(BackstopSummary::default)
                        .sold,
                    sym,
                    *filled,
                );
            }
            EventKind::BackstopMarked {
                protocol,
                spent,
                received,
                inventory,
                cost_basis_usd,
            } => {
                let b = backstops[protocol.index()].get_or_insert_with(BackstopSummary::default);
                b.spent_usd = *spent;
                b.received_usd = *received;
                b.hedged_pnl_usd = received - spent + cost_basis_usd;
                for (a, units) in inventory.iter().enumerate() {
                    if *units > 0.0 {
                        b.inventory.insert(world.assets[a].symbol.clone(), *units);
                    }
                }
            }
            EventKind::AuctionBid { protocol, .. } => {
                auctions[protocol.index()]
                    .get_or_insert_with(AuctionSummary::default)
                    .bids += 1;
            }
            EventKind::AuctionReset {
                protocol,
                incentive,
                ..
            } => {
                let a = auctions[protocol.index()].get_or_insert_with(AuctionSummary::default);
                a.resets += 1;
                a.incentives_usd += incentive;
            }
            EventKind::AuctionTaken {
                protocol,
                keeper,
                collateral_asset,
                slice,
                collateral_price,
                owe,
                debt_price,
                ..
            } => {
                let paid = owe * debt_price;
                liquidations.debt_repaid_usd += paid;
                liquidations.bonus_usd += slice * collateral_price - paid;
                protocols[protocol.index()].debt_repaid_usd += paid;
                keepers[keeper.index()].liquidations += 1;
                let a = auctions[protocol.index()].get_or_insert_with(AuctionSummary::default);
                a.taken += 1;
                let value = slice * collateral_price;
                if value > 0.0 && paid < NEAR_ZERO_BID * value {
                    a.won_near_zero += 1;
                    add(
                        &mut a.collateral_won_near_zero,
                        symbol(*collateral_asset),
                        *slice,
                    );
                    a.collateral_won_near_zero_usd += value;
                }
            }
            EventKind::AuctionEnded {
                protocol,
                collateral_asset,
                returned,
                raised,
                debt,
                debt_price,
                liquidatable_since,
                ..
            } => {
                let a = auctions[protocol.index()].get_or_insert_with(AuctionSummary::default);
                a.ended += 1;
                a.penalty_raised_usd += (raised - debt).max(0.0) * debt_price;
                if *returned > 0.0 {
                    add(
                        &mut a.collateral_returned,
                        symbol(*collateral_asset),
                        *returned,
                    );
                }
                durations.push(event.time - (*liquidatable_since).min(event.time));
            }
            EventKind::LossesSettled {
                protocol,
                paid_in,
                drawn,
                socialised,
                lots,
                auctioned,
                uncovered,
                fund_balance,
            } => {
                let p = &mut protocols[protocol.index()];
                p.socialised_loss_usd += socialised;
                p.debt_auction_lots += lots;
                p.debt_auction_usd += auctioned;
                p.uncovered_deficit_usd = *uncovered;
                let fund = &mut funds[protocol.index()];
                fund.paid_in_usd += paid_in;
                fund.drawn_usd += drawn;
                fund.final_usd = *fund_balance;
                fund.min_usd = fund.min_usd.min(*fund_balance);
                peaks[protocol.index()] = peaks[protocol.index()].max(fund.final_usd + drawn);
                fund.max_drawdown_usd = fund
                    .max_drawdown_usd
                    .max(peaks[protocol.index()] - fund_balance);
            }
            EventKind::CascadeSettled {
                rounds,
                hit_round_limit,
            } => {
                cascade.rounds_max = cascade.rounds_max.max(*rounds);
                cascade.rounds_total += u64::from(*rounds);
                cascade.round_limit_hits += u64::from(*hit_round_limit);
                cascade.steps_with_liquidations += u64::from(step_had_liquidation);
                step_had_liquidation = false;
            }
            EventKind::PositionsMarked(mark) => {
                let BookMark {
                    protocol,
                    open_accounts,
                    unrealised_bad_debt_usd,
                    ..
                } = &**mark;
                let p = &mut protocols[protocol.index()];
                p.open_accounts = *open_accounts;
                p.bad_debt_unrealised_usd = *unrealised_bad_debt_usd;
            }
            EventKind::KeeperMarked {
                keeper,
                spent,
                received,
                incentives,
                inventory,
            } => {
                let k = &mut keepers[keeper.index()];
                k.incentives_usd = *incentives;
                k.spent_usd = *spent;
                k.received_usd = *received;
                k.realised_profit_usd = received - spent;
                for (a, units) in inventory.iter().enumerate() {
                    if units.abs() > 0.0 {
                        k.inventory.insert(world.assets[a].symbol.clone(), *units);
                    }
                }
            }
            EventKind::PerpLiquidated(l) => {
                step_had_liquidation = true;
                liquidations.count += 1;
                let v = world.perps[l.exchange.index()].markets[l.market.index()].venue;
                if let Some(p) = &mut venues[v.index()] {
                    p.push(l.price_after);
                }
                venue_now[v.index()] = l.price_after;
                gap(&fundamental_now, &venue_now, &mut impact);
            }
            EventKind::PerpTakeover { .. } => {
                // Like a lending backstop's takeover, a vault takeover is a liquidation.
                step_had_liquidation = true;
                liquidations.count += 1;
            }
            EventKind::PerpsOpened { .. }
            | EventKind::PerpSettled(_)
            | EventKind::PerpDeleveraged { .. }
            | EventKind::PerpCooldowns { .. }
            | EventKind::PerpSocialised { .. }
            | EventKind::FundingPaid { .. }
            | EventKind::PerpMarked(_) => {}
            EventKind::StepEnded => gap(&fundamental_now, &venue_now, &mut impact),
            EventKind::RunStarted
            | EventKind::OraclePublished { .. }
            | EventKind::VenueLiquidityChanged { .. } => {}
            // Folded by `chain_fold`.
            EventKind::BlocksProduced { .. }
            | EventKind::TxSubmitted(_)
            | EventKind::TxIncluded(_)
            | EventKind::TxReverted(_)
            | EventKind::TxDropped(..)
            | EventKind::KeeperOutOfGas { .. }
            | EventKind::BorrowersNoticed { .. }
            | EventKind::BorrowerActed { .. } => {}
        }
    }
    let mut assets = BTreeMap::new();
    let mut feedback = BTreeMap::new();
    let mut feedback_detail = BTreeMap::new();
    for (a, asset) in world.assets.iter().enumerate() {
        let fundamental = fundamentals[a].unwrap_or_else(|| PricePath::new(asset.start_price));
        let (venue_name, market) = match asset.primary_venue {
            Some(v) => (
                Some(world.venues[v.index()].name.clone()),
                venues[v.index()].unwrap_or_else(|| PricePath::new(asset.start_price)),
            ),
            None => (None, fundamental),
        };
        let exogenous = fundamental.drawdown;
        assets.insert(
            asset.symbol.clone(),
            AssetSummary {
                start_price: market.start,
                min_price: market.min,
                final_price: market.last,
                venue: venue_name,
                fundamental_start_price: fundamental.start,
                fundamental_min_price: fundamental.min,
                fundamental_final_price: fundamental.last,
                exogenous_drop: exogenous,
                total_drop: market.drawdown,
                amplification: (exogenous > 0.0).then(|| market.drawdown / exogenous),
                max_price_impact: impact[a].0,
                max_price: market.max,
                exogenous_rise: fundamental.drawup,
                total_rise: market.drawup,
                amplification_rise: (fundamental.drawup > 0.0)
                    .then(|| market.drawup / fundamental.drawup),
                max_price_impact_up: impact[a].1,
            },
        );
        if let Some(gain) = feedback_gain(world, AssetId(a as u32)) {
            feedback.insert(asset.symbol.clone(), gain.gain);
            feedback_detail.insert(asset.symbol.clone(), gain);
        }
        if let Some(gain) = feedback_gain_up(world, AssetId(a as u32)) {
            cascade
                .feedback_gain_up
                .insert(asset.symbol.clone(), gain.gain);
            cascade
                .feedback_gain_up_detail
                .insert(asset.symbol.clone(), gain);
        }
    }
    durations.sort_unstable();
    let rank = |q: f64| {
        (!durations.is_empty()).then(|| {
            let i = ((q * durations.len() as f64).ceil() as usize).clamp(1, durations.len());
            durations[i - 1]
        })
    };
    liquidations.time_to_close_seconds = TimeToClose {
        episodes: durations.len() as u64,
        median: rank(0.5),
        p90: rank(0.9),
        max: durations.last().copied(),
    };
    // Keepers' holdings marked at each asset's final price.
    for keeper in &mut keepers {
        let held: f64 = keeper
            .inventory
            .iter()
            .map(|(symbol, units)| {
                units
                    * assets
                        .get(symbol)
                        .map_or(0.0, |a: &AssetSummary| a.final_price)
            })
            .sum();
        keeper.marked_profit_usd = keeper.realised_profit_usd + keeper.incentives_usd + held;
    }
    cascade.feedback_gain = feedback;
    cascade.feedback_gain_detail = feedback_detail;
    let ChainFold {
        chain,
        borrowers: borrower_summaries,
        keeper_gas,
    } = chain_fold(world, events);
    let mut borrower_summaries = borrower_summaries.into_iter();
    for (keeper, gas) in keepers.iter_mut().zip(keeper_gas) {
        keeper.gas_spent_usd = gas;
    }
    let mut comets = comets.into_iter();
    let mut pools = pools.into_iter();
    let mut protocol_map = BTreeMap::new();
    let (mut realised, mut unrealised, mut drawn, mut socialised) = (0.0, 0.0, 0.0, 0.0);
    for ((((info, mut p), fund), auction), backstop) in world
        .protocols
        .iter()
        .zip(protocols)
        .zip(funds)
        .zip(auctions)
        .zip(backstops)
    {
        p.comet = comets.next().flatten();
        p.stability_pool = pools.next().flatten();
        if let Some(mut b) = backstop {
            let held: f64 = b
                .inventory
                .iter()
                .map(|(symbol, units)| units * assets.get(symbol).map_or(0.0, |a| a.final_price))
                .sum();
            b.marked_pnl_usd = b.received_usd - b.spent_usd + held;
            p.backstop = Some(b);
        }
        p.bad_debt_usd = p.bad_debt_realised_usd + p.bad_debt_unrealised_usd;
        p.borrowers = borrower_summaries.next().flatten();
        if let Some(mut a) = auction {
            a.running_at_end = a.kicked - a.ended;
            if a.taken > 0 {
                a.won_near_zero_share = a.won_near_zero as f64 / a.taken as f64;
            }
            p.auctions = Some(a);
        } else if matches!(
            info.params.liquidation,
            LiquidationRule::DutchAuction(_) | LiquidationRule::EnglishAuction(_)
        ) {
            p.auctions = Some(AuctionSummary::default());
        }
        if let Some(insurance) = info.insurance {
            drawn += fund.drawn_usd;
            socialised += p.socialised_loss_usd;
            if let Shortfall::DebtAuction { lot_usd } = insurance.shortfall {
                let needed = ((p.debt_auction_usd + p.uncovered_deficit_usd) / lot_usd).ceil();
                p.debt_auction_lots_needed = Some(needed as u64);
            }
            p.insurance_fund = Some(fund);
        }
        realised += p.bad_debt_realised_usd;
        unrealised += p.bad_debt_unrealised_usd;
        protocol_map.insert(info.name.clone(), p);
    }
    for (x, (perp, fund)) in perp_summaries(world, events).into_iter().enumerate() {
        let unrealised_perp = perp.unrealised_bad_debt_usd;
        let takeovers = perp.vault.as_ref().map_or(0, |v| v.takeovers);
        let p = ProtocolSummary {
            liquidations: perp.liquidations + takeovers,
            accounts_liquidated: perp.accounts_liquidated,
            accounts: perp.accounts,
            open_accounts: perp.open_accounts,
            bad_debt_realised_usd: perp.deficit_usd,
            bad_debt_unrealised_usd: unrealised_perp,
            bad_debt_usd: perp.deficit_usd + unrealised_perp,
            socialised_loss_usd: perp.socialised_loss_usd,
            uncovered_deficit_usd: perp.uncovered_deficit_usd,
            insurance_fund: Some(fund.clone()),
            perp: Some(perp),
            ..ProtocolSummary::default()
        };
        realised += p.bad_debt_realised_usd;
        unrealised += p.bad_debt_unrealised_usd;
        drawn += fund.drawn_usd;
        socialised += p.socialised_loss_usd;
        protocol_map.insert(world.perps[x].name.clone(), p);
    }
    let keeper_map = world
        .keepers
        .iter()
        .map(|k| k.name.clone())
        .zip(keepers)
        .collect();
    Summary {
        scenario: ScenarioSummary {
            name: world.simulation.name.clone(),
            seed: world.simulation.seed,
            hash: info.hash.clone(),
            description: info.description.clone(),
            steps: world.simulation.steps,
            step_seconds: world.simulation.step_seconds,
        },
        assets,
        liquidations,
        bad_debt_usd: realised + unrealised,
        bad_debt_realised_usd: realised,
        bad_debt_unrealised_usd: unrealised,
        insurance_drawn_usd: drawn,
        socialised_loss_usd: socialised,
        protocols: protocol_map,
        keepers: keeper_map,
        cascade,
        chain,
        venues: venue_summaries(world, events),
        warnings: info.warnings.clone(),
    }
}
