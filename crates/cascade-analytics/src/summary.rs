//! The run summary (summary.json): its types, and [`SummaryFold`], which folds the audit events
//! into it one at a time.
//!
//! The fold is the composite of one fold per concern, each in its own module and fed every
//! event: prices (`prices`), liquidation totals (`liquidations`), protocols' shared figures
//! (`protocols`), their loss absorption (`losses`), their mechanisms' figures (`mechanisms`),
//! keepers (`keepers`), cascade rounds (`cascade`), the chain and borrowers ([`crate::chain`]),
//! perp exchanges ([`crate::perp`]), market makers' depth ([`crate::depth`]) and protocols'
//! stale oracle prices ([`crate::staleness`]). Finishing it
//! assembles the summary; figures across concerns (bad-debt totals, holdings marked at final
//! prices) are computed there.
//!
//! Key names are a public contract (docs/model.md §4): add, never rename.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use cascade_engine::{Event, EventKind, EventSink, World};
use cascade_model::loss::Shortfall;
use serde::Serialize;

use crate::cascade::CascadeFold;
use crate::chain::{BorrowerSummary, ChainFigures, ChainFold, ChainSummary, KeeperGasAuctions};
use crate::depth::{DepthFold, VenueSummary};
use crate::feedback::FeedbackGain;
use crate::keepers::KeeperFold;
use crate::liquidations::LiquidationFold;
use crate::losses::{LossFold, Losses};
use crate::mechanisms::{AuctionFold, BackstopFold, CometFold, PoolFold};
use crate::perp::{PerpFold, PerpSummary};
use crate::prices::PriceFold;
use crate::protocols::ProtocolFold;
use crate::staleness::{StalenessFold, StalenessSummary};

/// What the summary needs to know beyond the events.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// Scenario hash.
    pub hash: String,
    /// Scenario description.
    pub description: Option<String>,
    /// Validation warnings.
    pub warnings: Vec<String>,
    /// Whether `cascade.feedback_gain*` is computed (a pass over the initial book).
    pub feedback_gains: FeedbackGains,
    /// The path run (0, the scenario's own, unless a Monte Carlo path is replayed).
    pub path: u64,
}

/// Whether a summary computes the a-priori feedback gains of the initial world.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FeedbackGains {
    /// Computed: `cascade run`'s summary.
    #[default]
    Computed,
    /// Left empty: the paths of a Monte Carlo share one world, whose gains are reported once.
    Skipped,
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
    /// Who caused what: each source's share of the price falls and of the bad debt, by
    /// counterfactual runs (`cascade run --attribution`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribution: Option<crate::attribution::Attribution>,
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
    /// The path run, when it is not path 0 (`cascade run --path K`).
    #[serde(skip_serializing_if = "is_zero")]
    pub path: u64,
    /// SHA-256 of the scenario and its data files.
    pub hash: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Steps run.
    pub steps: u64,
    /// Seconds per step.
    pub step_seconds: u64,
    /// The run's time 0 as an RFC 3339 UTC date-time, when the scenario has a start time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
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
    /// The oracles that publish this asset's price, in file order (absent when none does): the
    /// `oracle_<NAME>` columns of timeline.csv that belong to it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub oracles: Vec<String>,
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
    /// Stale oracle prices and what they made the protocol do, for protocols that check their
    /// oracles' age.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oracle_staleness: Option<StalenessSummary>,
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
    /// Its part in priority gas auctions, and its profit net of gas (only when keepers bid in
    /// them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gas_auctions: Option<KeeperGasAuctions>,
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
    /// Feedback gain m at the start price, per asset with a venue: a 1% window only, so 0
    /// whenever no liquidation lies within 1% below the start, however large m is further down
    /// (kept as first defined; `feedback_gain_max` and `spiral_price` read the whole range).
    pub feedback_gain: BTreeMap<String, f64>,
    /// What each gain is made of.
    pub feedback_gain_detail: BTreeMap<String, FeedbackGain>,
    /// The largest m(p) over the book's range below the start (the liquidation map's 100
    /// buckets of 1%), and where; null when m is 0 everywhere. Per asset with a venue.
    pub feedback_gain_max: BTreeMap<String, Option<GainAt>>,
    /// The death-spiral threshold: the first price below the start at which m ≥ 1, null when
    /// there is none. Per asset with a venue.
    pub spiral_price: BTreeMap<String, Option<f64>>,
    /// The nearest liquidation wall below the start price (the liquidation map's definition),
    /// null when there is none. Per asset whose fall liquidates anything.
    pub nearest_wall: BTreeMap<String, Option<WallSummary>>,
    /// Feedback gain of a rise (perp shorts bought back per 1% rise over the depth that absorbs
    /// it), per asset with perp shorts.
    pub feedback_gain_up: BTreeMap<String, f64>,
    /// What each rise gain is made of.
    pub feedback_gain_up_detail: BTreeMap<String, FeedbackGain>,
    /// The largest m(p) of a rise over the range above the start, per asset with perp shorts.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub feedback_gain_max_up: BTreeMap<String, Option<GainAt>>,
    /// The first price above the start at which a rise's m ≥ 1, per asset with perp shorts.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub spiral_price_up: BTreeMap<String, Option<f64>>,
}

/// `cascade.feedback_gain_max.<SYMBOL>`: a gain and the price it is at.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct GainAt {
    /// m.
    pub m: f64,
    /// The price p.
    pub price: f64,
}

/// `cascade.nearest_wall.<SYMBOL>`: the nearest liquidation wall and what it holds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct WallSummary {
    /// Its upper edge (in a fall, the edge nearest the start price).
    pub price_high: f64,
    /// Its lower edge.
    pub price_low: f64,
    /// Accounts (and perp positions) first liquidated in it.
    pub accounts: u64,
    /// Units of collateral (perp size) whose liquidation it triggers.
    pub collateral_units: f64,
    /// Their value at their trigger prices, USD.
    pub collateral_usd: f64,
    /// The debt of those accounts at the start prices, USD.
    pub debt_usd: f64,
}

/// The summary of a run, folded from its events one at a time.
///
/// `W` is how the fold holds the world: `&World` while the world outlives the fold, or
/// `Arc<World>` to own a share of it (a fold to move to another thread). Its state is sized by
/// the world (assets, venues, protocols, keepers, exchanges), one bit per account for the counts
/// of distinct accounts liquidated, the transactions waiting in the mempool and one count per
/// distinct episode duration; never by the number of events.
pub struct SummaryFold<W: Borrow<World>> {
    world: W,
    info: RunInfo,
    prices: PriceFold,
    liquidations: LiquidationFold,
    protocols: ProtocolFold,
    losses: LossFold,
    auctions: AuctionFold,
    backstops: BackstopFold,
    comets: CometFold,
    pools: PoolFold,
    keepers: KeeperFold,
    cascade: CascadeFold,
    chain: ChainFold,
    perps: PerpFold,
    depth: DepthFold,
    staleness: StalenessFold,
}

impl<W: Borrow<World>> SummaryFold<W> {
    /// A fold for a run of `world` (as it is before the run: the feedback gains are read off its
    /// initial book), described by `info`.
    pub fn new(world: W, info: RunInfo) -> Self {
        let w = world.borrow();
        Self {
            prices: PriceFold::new(w),
            liquidations: LiquidationFold::new(w),
            protocols: ProtocolFold::new(w),
            losses: LossFold::new(w),
            auctions: AuctionFold::new(w),
            backstops: BackstopFold::new(w),
            comets: CometFold::new(w),
            pools: PoolFold::new(w),
            keepers: KeeperFold::new(w),
            cascade: CascadeFold::new(),
            chain: ChainFold::new(w),
            perps: PerpFold::new(w),
            depth: DepthFold::new(w),
            staleness: StalenessFold::new(w),
            world,
            info,
        }
    }

    /// The world the fold was made for.
    pub fn world(&self) -> &World {
        self.world.borrow()
    }

    /// One event; events come in the order of the run.
    ///
    /// The kinds every step sends (prices moving, the cascade settling, the step's end) go
    /// straight to the one fold that reads them — the others have nothing to do with them — so a
    /// calm step costs a Monte Carlo path a few calls rather than a dozen per event.
    #[inline(always)]
    pub fn event(&mut self, event: &Event) {
        match event.kind {
            EventKind::FundamentalMoved { asset, price } => {
                self.prices.fundamental_moved(asset, price);
            }
            EventKind::VenuePriceMoved { venue, price } => self.prices.venue_moved(venue, price),
            EventKind::StepEnded => self.prices.gap(),
            EventKind::CascadeSettled {
                rounds,
                hit_round_limit,
            } => self.cascade.settled(rounds, hit_round_limit),
            EventKind::OraclePublished { .. } => {}
            _ => self.every_fold(event),
        }
    }

    /// Any other event, to every fold.
    #[inline(never)]
    fn every_fold(&mut self, event: &Event) {
        self.prices.event(event);
        self.liquidations.event(event);
        self.protocols.event(event);
        self.losses.event(event);
        self.auctions.event(event);
        self.backstops.event(event);
        self.comets.event(event);
        self.pools.event(event);
        self.keepers.event(event);
        self.cascade.event(event);
        self.chain.event(event);
        self.perps.event(event);
        self.depth.event(event);
        self.staleness.event(event);
    }

    /// The summary of the events seen.
    pub fn finish(self) -> Summary {
        let world = self.world.borrow();
        let assets = self.prices.finish(world);
        let ChainFigures {
            chain,
            borrowers,
            keeper_gas,
            keeper_auctions,
        } = self.chain.finish(world);
        let mut keepers = self.keepers.finish(world, &assets);
        for ((keeper, gas), auctions) in keepers.iter_mut().zip(keeper_gas).zip(keeper_auctions) {
            keeper.gas_spent_usd = gas;
            keeper.gas_auctions = auctions.map(|mut a| {
                a.profit_net_of_gas_usd = keeper.marked_profit_usd - gas.unwrap_or(0.0);
                a
            });
        }
        let lending = self
            .protocols
            .finish(world)
            .into_iter()
            .zip(self.losses.finish())
            .zip(self.auctions.finish(world))
            .zip(self.backstops.finish(world, &assets))
            .zip(self.comets.finish(world))
            .zip(self.pools.finish(world))
            .zip(borrowers)
            .zip(self.staleness.finish());
        let mut protocol_map = BTreeMap::new();
        let (mut realised, mut unrealised, mut drawn, mut socialised) = (0.0, 0.0, 0.0, 0.0);
        for (
            info,
            (((((((mut p, losses), auctions), backstop), comet), pool), borrowers), stale),
        ) in world.protocols.iter().zip(lending)
        {
            p.oracle_staleness = stale;
            let Losses {
                fund,
                socialised_usd,
                lots,
                auctioned_usd,
                uncovered_usd,
            } = losses;
            p.socialised_loss_usd = socialised_usd;
            p.debt_auction_lots = lots;
            p.debt_auction_usd = auctioned_usd;
            p.uncovered_deficit_usd = uncovered_usd;
            p.comet = comet;
            p.stability_pool = pool;
            p.backstop = backstop;
            p.bad_debt_usd = p.bad_debt_realised_usd + p.bad_debt_unrealised_usd;
            p.borrowers = borrowers;
            p.auctions = auctions;
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
        for (info, (perp, fund)) in world.perps.iter().zip(self.perps.finish()) {
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
            protocol_map.insert(info.name.clone(), p);
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
                path: self.info.path,
                hash: self.info.hash,
                description: self.info.description,
                steps: world.simulation.steps,
                step_seconds: world.simulation.step_seconds,
                start_time: world
                    .simulation
                    .start_time
                    .map(|start| crate::clock::utc(start, 0)),
            },
            assets,
            liquidations: self.liquidations.finish(world),
            bad_debt_usd: realised + unrealised,
            bad_debt_realised_usd: realised,
            bad_debt_unrealised_usd: unrealised,
            insurance_drawn_usd: drawn,
            socialised_loss_usd: socialised,
            protocols: protocol_map,
            keepers: keeper_map,
            cascade: self.cascade.finish(world, self.info.feedback_gains),
            chain,
            venues: self.depth.finish(world),
            attribution: None,
            warnings: self.info.warnings,
        }
    }
}

impl<W: Borrow<World>> EventSink for SummaryFold<W> {
    #[inline(always)]
    fn record(&mut self, event: &Event) {
        self.event(event);
    }
}

/// Folds a run's events into its summary (see [`SummaryFold`]).
pub fn summarize(world: &World, info: &RunInfo, events: &[Event]) -> Summary {
    let mut fold = SummaryFold::new(world, info.clone());
    events.iter().for_each(|e| fold.event(e));
    fold.finish()
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
