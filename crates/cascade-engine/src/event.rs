//! The audit trail: one closed enum of everything that changes state.
//!
//! Every measure cascade reports is a fold over these events (see `cascade-analytics`); nothing
//! downstream reads engine state. Events are totally ordered by their position in the run's
//! event vector, which follows (step, phase, round, insertion).

use cascade_model::borrower::BorrowerAction;
use cascade_model::chain::{DropReason, Sender, Target, TxKind};
use cascade_model::ids::{
    AccountId, AssetId, KeeperId, MarketId, OracleId, PerpId, ProtocolId, VenueId,
};

use crate::world::AdlLedger;

/// One audit record.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Step number (0 is the initial instant).
    pub step: u64,
    /// Simulated time, seconds.
    pub time: u64,
    /// Cascade round within the step (0 outside the cascade).
    pub round: u32,
    /// What happened.
    pub kind: EventKind,
}

/// A liquidation call.
#[derive(Clone, Debug, PartialEq)]
pub struct LiquidationRecord {
    /// Protocol.
    pub protocol: ProtocolId,
    /// Account liquidated.
    pub account: AccountId,
    /// Keeper that executed it.
    pub keeper: KeeperId,
    /// Health factor before the call.
    pub health_factor: f64,
    /// Collateral asset seized.
    pub collateral_asset: AssetId,
    /// Units taken from the account.
    pub collateral_seized: f64,
    /// Units received by the keeper.
    pub to_keeper: f64,
    /// Units received by the protocol treasury.
    pub protocol_fee: f64,
    /// Protocol's price of the collateral.
    pub collateral_price: f64,
    /// Debt asset.
    pub debt_asset: AssetId,
    /// Debt units repaid.
    pub debt_repaid: f64,
    /// Protocol's price of the debt asset.
    pub debt_price: f64,
    /// Time the account was first found liquidatable in its current episode, seconds.
    pub liquidatable_since: u64,
    /// Whether the account is no longer liquidatable after this call (healthy again, debt
    /// repaid, written off, or nothing left to seize): the episode closes here.
    pub closes: bool,
}

/// Accounts of one (collateral, debt) pair of a lending protocol liquidated in full in one round
/// by one keeper and reported as one record (batched liquidation, which a Monte Carlo asks for:
/// `Engine::batch_liquidations`). Each account repaid its whole debt, or lost all its
/// collateral and had the rest of its debt written off; the figures are the accounts' totals.
#[derive(Clone, Debug, PartialEq)]
pub struct LiquidationBatchRecord {
    /// Protocol.
    pub protocol: ProtocolId,
    /// Keeper that executed every call.
    pub keeper: KeeperId,
    /// Accounts liquidated (each once, each closed by it).
    pub accounts: u64,
    /// Of them, accounts whose collateral did not cover their debt and bonus: all of it was
    /// seized and the debt left was written off.
    pub written_off_accounts: u64,
    /// Collateral asset seized.
    pub collateral_asset: AssetId,
    /// Units taken from the accounts.
    pub collateral_seized: f64,
    /// Units received by the keeper.
    pub to_keeper: f64,
    /// Units received by the protocol treasury.
    pub protocol_fee: f64,
    /// Protocol's price of the collateral.
    pub collateral_price: f64,
    /// Debt asset.
    pub debt_asset: AssetId,
    /// Debt units repaid.
    pub debt_repaid: f64,
    /// Debt units written off (bad debt).
    pub written_off: f64,
    /// Protocol's price of the debt asset.
    pub debt_price: f64,
}

/// A keeper's sale on a venue.
#[derive(Clone, Debug, PartialEq)]
pub struct SaleRecord {
    /// Seller.
    pub keeper: KeeperId,
    /// Venue.
    pub venue: VenueId,
    /// Asset sold.
    pub asset: AssetId,
    /// Units offered.
    pub units: f64,
    /// Units filled.
    pub filled: f64,
    /// USD received.
    pub proceeds: f64,
    /// The filled units valued at the oracle prices at which they were seized, USD.
    pub oracle_value: f64,
    /// Best bid before the sale.
    pub price_before: f64,
    /// Best bid after the sale.
    pub price_after: f64,
}

/// One trove liquidated against the Stability Pool (boxed in its event: it is large).
#[derive(Clone, Debug, PartialEq)]
pub struct TroveLiquidation {
    /// Protocol.
    pub protocol: ProtocolId,
    /// Trove.
    pub account: AccountId,
    /// Liquidator (paid the gas compensation).
    pub keeper: KeeperId,
    /// Collateral asset.
    pub collateral_asset: AssetId,
    /// The trove's collateral.
    pub collateral: f64,
    /// Debt asset.
    pub debt_asset: AssetId,
    /// The trove's debt.
    pub debt: f64,
    /// Its collateral ratio at the liquidation.
    pub collateral_ratio: f64,
    /// Whether the system was in recovery mode.
    pub recovery_mode: bool,
    /// Collateral paid to the liquidator.
    pub gas_collateral: f64,
    /// Debt-asset units paid to the liquidator from the gas pool.
    pub gas_debt: f64,
    /// Debt cancelled against the pool.
    pub debt_offset: f64,
    /// Collateral given to the pool.
    pub collateral_to_pool: f64,
    /// Debt redistributed to the other troves.
    pub debt_redistributed: f64,
    /// Collateral redistributed to the other troves.
    pub collateral_redistributed: f64,
    /// Collateral left to the owner (recovery mode's capped offset).
    pub surplus: f64,
    /// Protocol's collateral price.
    pub collateral_price: f64,
    /// Protocol's debt price.
    pub debt_price: f64,
    /// When the trove was first found liquidatable, seconds.
    pub liquidatable_since: u64,
}

/// A protocol's book at the end of a run, marked at its prices.
#[derive(Clone, Debug, PartialEq)]
pub struct BookMark {
    /// Protocol.
    pub protocol: ProtocolId,
    /// Accounts still owing debt.
    pub open_accounts: u64,
    /// Collateral units per asset.
    pub collateral: Vec<f64>,
    /// Debt units per asset.
    pub debt: Vec<f64>,
    /// Treasury units per asset.
    pub treasury: Vec<f64>,
    /// Σ debt value of open accounts, USD.
    pub debt_usd: f64,
    /// Σ collateral value of open accounts, USD.
    pub collateral_usd: f64,
    /// Σ max(0, debt − collateral) over open accounts and running auctions, USD.
    pub unrealised_bad_debt_usd: f64,
    /// Collateral units in running auctions, per asset.
    pub in_auction_collateral: Vec<f64>,
    /// Debt units running auctions have yet to cover (debt − raised), per asset.
    pub in_auction_debt: Vec<f64>,
}

/// How a perp liquidation closed a position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PerpCloseKind {
    /// The whole position was closed into the market's book.
    Market,
    /// A first slice of a large position was closed into the book; the rest waits a cooldown.
    Slice,
    /// The position was closed against opposite positions at its bankruptcy price
    /// (auto-deleveraging), off the book.
    Deleveraged,
}

/// One position closed by a perp exchange's liquidation engine (boxed in its event).
#[derive(Clone, Debug, PartialEq)]
pub struct PerpLiquidation {
    /// Exchange.
    pub exchange: PerpId,
    /// Account liquidated.
    pub account: AccountId,
    /// Market.
    pub market: MarketId,
    /// How it was closed.
    pub close: PerpCloseKind,
    /// Signed units closed (positive: a long was closed by selling).
    pub units: f64,
    /// Units the position keeps (signed; non-zero after a slice or a partial fill).
    pub remaining: f64,
    /// The position's entry price.
    pub entry: f64,
    /// Average fill price (the bankruptcy price when deleveraged).
    pub fill_price: f64,
    /// Mark price at the liquidation.
    pub mark: f64,
    /// The position's liquidation price before the close, at the marks.
    pub liquidation_price: f64,
    /// The position's bankruptcy price before the close, at the marks.
    pub bankruptcy_price: f64,
    /// The account's equity and maintenance margin before the close, USD.
    pub equity: f64,
    /// The account's maintenance margin before the close, USD.
    pub maintenance: f64,
    /// Liquidation fee paid into the insurance fund, USD.
    pub fee: f64,
    /// Venue price before and after the close (equal when deleveraged).
    pub price_before: f64,
    /// Venue price after the close.
    pub price_after: f64,
}

/// An account's liquidation settled against the insurance fund (after all its positions are
/// closed), USD.
#[derive(Clone, Debug, PartialEq)]
pub struct PerpSettlement {
    /// Exchange.
    pub exchange: PerpId,
    /// Account.
    pub account: AccountId,
    /// What the account had left after the fills and fees (negative: a deficit).
    pub balance: f64,
    /// Paid into the fund (positive: the surplus of a bankruptcy close-out) or drawn from it
    /// (negative) for this account.
    pub fund_change: f64,
    /// What the trader keeps (market close-out).
    pub kept: f64,
    /// Deficit the fund could not cover: to socialise at the end of the step, or uncovered.
    pub shortfall: f64,
    /// Fund balance afterwards.
    pub fund_balance: f64,
}

/// A perp exchange at the end of a run, marked at its marks.
#[derive(Clone, Debug, PartialEq)]
pub struct PerpMark {
    /// Exchange.
    pub exchange: PerpId,
    /// Accounts with open positions.
    pub open_accounts: u64,
    /// Long and short units open per market (the book's, without the vault).
    pub long_units: Vec<f64>,
    /// Short units open per market (positive).
    pub short_units: Vec<f64>,
    /// Mark price per market.
    pub marks: Vec<f64>,
    /// Σ max(0, −equity) over open accounts: losses beyond their margin not yet realised, USD.
    pub unrealised_bad_debt_usd: f64,
    /// Insurance fund, USD.
    pub fund: f64,
    /// Vault value (cash plus positions at the marks) and its capital, USD.
    pub vault_value: f64,
    /// The vault's starting capital, USD.
    pub vault_capital: f64,
    /// Net size the vault holds per market.
    pub vault_size: Vec<f64>,
    /// The vault's lowest value at the marks of any round of the run, USD.
    pub vault_lowest_value: f64,
    /// The uncovered deficit, USD.
    pub uncovered: f64,
    /// Everything the exchange's participants hold (see `PerpState::total_value`), USD.
    pub total_value: f64,
    /// What auto-deleveraging needed and took over the run.
    pub adl: AdlLedger,
}

/// A transaction of a simulated agent, as it waits, is included, reverts or is dropped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TxRecord {
    /// Sequence number, unique in the run.
    pub tx: u64,
    /// Who sent it.
    pub sender: Sender,
    /// What it does.
    pub kind: TxKind,
    /// What it acts on.
    pub target: Target,
    /// Gas bid, gwei.
    pub gas_bid: f64,
    /// Gas paid, USD (0 until included).
    pub gas_usd: f64,
    /// When it was sent, seconds.
    pub submitted: u64,
    /// Times its bid was raised while it waited.
    pub bumps: u32,
}

/// A priority gas auction: keepers with the `priority_auction` gas strategy (and any others
/// that wanted the same opportunity) bid gas against each other for it in one step
/// (`cascade_model::chain::priority_gas_auction`). Sent only when two or more took part.
#[derive(Clone, Debug, PartialEq)]
pub struct GasAuctionRecord {
    /// What the transactions do.
    pub kind: TxKind,
    /// What they act on.
    pub target: Target,
    /// Keepers that bid.
    pub bidders: u32,
    /// The first in the block: the highest bid that got in (none if no bid cleared or found
    /// room).
    pub winner: Option<KeeperId>,
    /// The highest bid, gwei: the contest's clearing price.
    pub winning_gwei: f64,
    /// The second-highest bid, gwei.
    pub runner_up_gwei: f64,
    /// The chain's clearing price when the contest began, gwei.
    pub base_gwei: f64,
    /// Raises in all.
    pub raises: u32,
    /// The keepers outbid, each with whether its transaction still got in (its gas paid; for a
    /// liquidation or a take it reverts once the winner has gone first).
    pub outbid: Vec<(KeeperId, bool)>,
}

/// What happened.
#[derive(Clone, Debug, PartialEq)]
pub enum EventKind {
    /// The run starts; carries nothing but marks step 0.
    RunStarted,
    /// A protocol's book at the start: totals per asset.
    PositionsOpened {
        /// Protocol.
        protocol: ProtocolId,
        /// Accounts in the book.
        accounts: u64,
        /// Collateral units per asset.
        collateral: Vec<f64>,
        /// Debt units per asset.
        debt: Vec<f64>,
    },
    /// The fundamental price moved (driver step).
    FundamentalMoved {
        /// Asset.
        asset: AssetId,
        /// New price.
        price: f64,
    },
    /// An instant shock applied to a fundamental price.
    ShockApplied {
        /// Asset.
        asset: AssetId,
        /// Multiplier.
        factor: f64,
        /// Price after the shock.
        price: f64,
    },
    /// A venue's best bid changed without a trade (fundamental move or transient recovery).
    VenuePriceMoved {
        /// Venue.
        venue: VenueId,
        /// New best bid.
        price: f64,
    },
    /// A venue's market makers changed its depth fraction (phase 2): they pulled quotes as its
    /// realised volatility rose, or refilled them as it calmed. Never emitted for venues without
    /// market makers.
    DepthChanged {
        /// Venue.
        venue: VenueId,
        /// The new depth fraction, in (0, 1]: the share of the full book quoted.
        depth: f64,
        /// Daily realised volatility of the venue's price that the makers responded to.
        volatility: f64,
    },
    /// An AMM venue's liquidity L changed, following its reserve series (phase 2). The venue's
    /// price does not move with it (liquidity is added or removed at the pool's price).
    VenueLiquidityChanged {
        /// Venue.
        venue: VenueId,
        /// New L = √(base · quote).
        liquidity: f64,
    },
    /// An oracle published a new price.
    OraclePublished {
        /// Oracle.
        oracle: OracleId,
        /// Published price.
        price: f64,
    },
    /// A liquidation call executed.
    Liquidation(LiquidationRecord),
    /// Accounts liquidated in full in one batch (the calls' totals, and the debt written off).
    LiquidationBatch(LiquidationBatchRecord),
    /// A keeper sold collateral.
    Sale(SaleRecord),
    /// Debt written off because the account has no collateral left.
    BadDebt {
        /// Protocol.
        protocol: ProtocolId,
        /// Account.
        account: AccountId,
        /// Debt asset.
        debt_asset: AssetId,
        /// Units written off.
        amount: f64,
        /// USD value written off at the protocol's price.
        usd: f64,
    },
    /// Liquidatable accounts that no keeper took this round (no capital, or not profitable).
    LiquidationsMissed {
        /// Protocol.
        protocol: ProtocolId,
        /// Number of accounts.
        count: u64,
    },
    /// A lending protocol that checks its oracles' age found an asset's price older than its
    /// maximum age, after the step's reads (one event per step and asset while it lasts;
    /// docs/reference-math.md §9.4).
    FeedStale {
        /// Protocol.
        protocol: ProtocolId,
        /// Asset priced.
        asset: AssetId,
        /// The asset's oracle.
        oracle: OracleId,
        /// Seconds since the oracle's last publication.
        age: u64,
        /// The fallback oracle the protocol prices the asset by this step; `None`: liquidations
        /// that need the asset's price pause.
        fallback: Option<OracleId>,
    },
    /// Liquidatable accounts a protocol left this round because a price they need is stale and
    /// the protocol pauses.
    LiquidationsPaused {
        /// Protocol.
        protocol: ProtocolId,
        /// Number of accounts.
        count: u64,
    },
    /// The cascade of a step settled.
    CascadeSettled {
        /// Rounds in which something was liquidated or written off.
        rounds: u32,
        /// Whether the last allowed round still liquidated something, so the cascade may have
        /// continued (it resumes at the next step).
        hit_round_limit: bool,
    },
    /// An unsafe vault was barked: its collateral and debt moved into a Dutch auction.
    AuctionKicked {
        /// Protocol.
        protocol: ProtocolId,
        /// Vault.
        account: AccountId,
        /// Auction number within the protocol.
        auction: u32,
        /// Keeper that barked (and received the incentive).
        keeper: KeeperId,
        /// Collateral asset auctioned.
        collateral_asset: AssetId,
        /// Collateral units moved into the auction (`dink`).
        lot: f64,
        /// Protocol's collateral price at the kick.
        collateral_price: f64,
        /// Debt asset.
        debt_asset: AssetId,
        /// Debt units moved out of the vault (`dart`).
        debt: f64,
        /// Debt-asset units to raise, penalty included (`tab`).
        tab: f64,
        /// Starting auction price.
        top: f64,
        /// Keeper incentive paid by the protocol, USD (tip + chip · tab).
        incentive: f64,
    },
    /// An auction that was too old or too cheap restarted from a new top (`redo`).
    AuctionReset {
        /// Protocol.
        protocol: ProtocolId,
        /// Auction number.
        auction: u32,
        /// New starting price.
        top: f64,
        /// Keeper paid the incentive, if the auction was large enough to pay one.
        keeper: Option<KeeperId>,
        /// Incentive paid, USD.
        incentive: f64,
    },
    /// A keeper placed the standing bid of an English auction: a higher bid for the lot (tend),
    /// or, once the bid is the whole tab, a smaller lot for it (dent).
    AuctionBid {
        /// Protocol.
        protocol: ProtocolId,
        /// Auction number.
        auction: u32,
        /// Bidder.
        keeper: KeeperId,
        /// Standing bid, debt-asset units.
        bid: f64,
        /// Lot the bid is for, collateral units.
        lot: f64,
    },
    /// A keeper bought part of an auction's lot (`take`), or won an English auction (`deal`).
    AuctionTaken {
        /// Protocol.
        protocol: ProtocolId,
        /// Auction number.
        auction: u32,
        /// Vault the auction came from.
        account: AccountId,
        /// Buyer.
        keeper: KeeperId,
        /// Collateral asset.
        collateral_asset: AssetId,
        /// Collateral units bought.
        slice: f64,
        /// Auction price paid per unit, in the debt asset.
        price: f64,
        /// Protocol's collateral price at the take.
        collateral_price: f64,
        /// Debt asset.
        debt_asset: AssetId,
        /// Debt-asset units paid.
        owe: f64,
        /// Protocol's price of the debt asset.
        debt_price: f64,
    },
    /// An auction ended: its tab was raised (leftover collateral returned to the vault) or its
    /// lot was sold out. A shortfall of the raised amount under the debt follows as `BadDebt`.
    AuctionEnded {
        /// Protocol.
        protocol: ProtocolId,
        /// Auction number.
        auction: u32,
        /// Vault.
        account: AccountId,
        /// Collateral asset.
        collateral_asset: AssetId,
        /// Collateral units returned to the vault.
        returned: f64,
        /// Debt asset.
        debt_asset: AssetId,
        /// Debt-asset units raised.
        raised: f64,
        /// Debt units the auction had to cover (without the penalty).
        debt: f64,
        /// Protocol's price of the debt asset at the end.
        debt_price: f64,
        /// When the vault was first found unsafe, seconds.
        liquidatable_since: u64,
    },
    /// A Liquity trove liquidated against the Stability Pool.
    TroveLiquidated(Box<TroveLiquidation>),
    /// Debt and collateral the pool could not take, spread over the active troves in proportion
    /// to their collateral at the end of a round.
    Redistributed {
        /// Protocol.
        protocol: ProtocolId,
        /// Collateral asset.
        collateral_asset: AssetId,
        /// Collateral units spread.
        collateral: f64,
        /// Debt units spread.
        debt: f64,
        /// Troves that received a share.
        troves: u64,
    },
    /// A Liquity Stability Pool at the end.
    StabilityPoolMarked {
        /// Protocol.
        protocol: ProtocolId,
        /// Debt-asset units still deposited.
        deposits: f64,
        /// The product P (what a deposit from the start is worth, per unit).
        product: f64,
        /// Collateral gained, per asset.
        gains: Vec<f64>,
    },
    /// Compound III absorbed an account: all its collateral into the protocol, its debt cleared
    /// out of reserves, any value beyond the debt credited to the user.
    Absorbed {
        /// Protocol.
        protocol: ProtocolId,
        /// Account.
        account: AccountId,
        /// Collateral units taken, per asset.
        collateral: Vec<f64>,
        /// Debt asset.
        debt_asset: AssetId,
        /// Debt units cleared.
        debt: f64,
        /// Protocol's debt price.
        debt_price: f64,
        /// Σ collateral × price × liquidation factor, USD.
        delta_value: f64,
        /// Credited to the user, USD.
        credit: f64,
        /// Debt the collateral did not cover, absorbed by reserves, USD.
        shortfall: f64,
        /// When the account was first found liquidatable, seconds.
        liquidatable_since: u64,
    },
    /// A keeper bought collateral from a Compound III protocol at the store-front discount.
    CollateralBought {
        /// Protocol.
        protocol: ProtocolId,
        /// Buyer.
        keeper: KeeperId,
        /// Asset bought.
        asset: AssetId,
        /// Units bought.
        units: f64,
        /// Discounted price paid per unit.
        price: f64,
        /// Protocol's price of the asset.
        collateral_price: f64,
        /// USD paid into reserves.
        paid: f64,
    },
    /// A Compound III protocol's reserves and held collateral at the end.
    CometMarked {
        /// Protocol.
        protocol: ProtocolId,
        /// Reserves, USD.
        reserves_usd: f64,
        /// Collateral units still held, per asset.
        held: Vec<f64>,
    },
    /// A backstop vault took a position over: it repaid the whole debt and took collateral
    /// worth the debt plus its penalty (or all of it), off the market.
    BackstopTakeover {
        /// Protocol.
        protocol: ProtocolId,
        /// Account taken over.
        account: AccountId,
        /// Collateral asset taken.
        collateral_asset: AssetId,
        /// Collateral units taken.
        units: f64,
        /// Protocol's collateral price.
        collateral_price: f64,
        /// Debt asset.
        debt_asset: AssetId,
        /// Debt units repaid by the vault.
        debt: f64,
        /// Protocol's debt price.
        debt_price: f64,
        /// When the account was first found liquidatable, seconds.
        liquidatable_since: u64,
    },
    /// A backstop vault sold part of its holdings while unwinding.
    BackstopSale {
        /// Protocol whose vault sold.
        protocol: ProtocolId,
        /// Venue.
        venue: VenueId,
        /// Asset sold.
        asset: AssetId,
        /// Units offered.
        units: f64,
        /// Units filled.
        filled: f64,
        /// USD received.
        proceeds: f64,
        /// Best bid before the sale.
        price_before: f64,
        /// Best bid after the sale.
        price_after: f64,
    },
    /// A backstop vault's balances at the end.
    BackstopMarked {
        /// Protocol.
        protocol: ProtocolId,
        /// USD spent repaying debt.
        spent: f64,
        /// USD received from sales.
        received: f64,
        /// Units held per asset.
        inventory: Vec<f64>,
        /// The holdings valued at their takeover prices, USD (the hedged valuation).
        cost_basis_usd: f64,
    },
    /// A protocol's loss absorption settled the step: fee income into its insurance fund, bad
    /// debt drawn from it, and what the shortfall rule did with the rest (USD).
    LossesSettled {
        /// Protocol.
        protocol: ProtocolId,
        /// Fee income paid into the fund.
        paid_in: f64,
        /// Bad debt covered by the fund.
        drawn: f64,
        /// Bad debt socialised (suppliers' haircut).
        socialised: f64,
        /// Debt-auction lots kicked.
        lots: u64,
        /// USD those lots raise.
        auctioned: f64,
        /// Deficit still uncovered after the settlement (a level).
        uncovered: f64,
        /// Fund balance after the settlement.
        fund_balance: f64,
    },
    /// A perp exchange's book at the start.
    PerpsOpened {
        /// Exchange.
        exchange: PerpId,
        /// Accounts.
        accounts: u64,
        /// Long notional at the marks, USD.
        long_usd: f64,
        /// Short notional at the marks, USD.
        short_usd: f64,
        /// Everything the exchange's participants hold, USD.
        total_value: f64,
    },
    /// A perp position closed by the liquidation engine.
    PerpLiquidated(Box<PerpLiquidation>),
    /// A liquidated account settled against the insurance fund.
    PerpSettled(Box<PerpSettlement>),
    /// The liquidator vault took an account's positions and margin over.
    PerpTakeover {
        /// Exchange.
        exchange: PerpId,
        /// Account.
        account: AccountId,
        /// Notional taken over at the marks, USD (longs and shorts added).
        notional: f64,
        /// The account's equity (the margin the vault receives with the positions), USD.
        equity: f64,
        /// The account's maintenance margin, USD.
        maintenance: f64,
        /// Long units minus short units taken over, summed over markets.
        net_units: f64,
    },
    /// Auto-deleveraging closed part of an opposite position at a bankrupt position's
    /// bankruptcy price.
    PerpDeleveraged {
        /// Exchange.
        exchange: PerpId,
        /// Market.
        market: MarketId,
        /// Position deleveraged; `None` for the counterparties outside the simulated book.
        account: Option<AccountId>,
        /// The bankrupt account.
        bankrupt: AccountId,
        /// Signed units taken from the deleveraged position.
        units: f64,
        /// Price.
        price: f64,
        /// Its ADL rank (NaN for the outside counterparties).
        rank: f64,
    },
    /// Liquidatable accounts of a perp exchange left alone this round because they wait out a
    /// slice cooldown or their close found no liquidity in the book.
    PerpCooldowns {
        /// Exchange.
        exchange: PerpId,
        /// Accounts waiting.
        count: u64,
    },
    /// A deficit charged to accounts in profit at the end of a step.
    PerpSocialised {
        /// Exchange.
        exchange: PerpId,
        /// USD charged.
        usd: f64,
        /// Accounts charged.
        accounts: u64,
        /// Deficit still uncovered afterwards (a level).
        uncovered: f64,
    },
    /// Funding paid at the end of an interval.
    FundingPaid {
        /// Exchange.
        exchange: PerpId,
        /// Market.
        market: MarketId,
        /// Rate for the interval (positive: longs pay shorts).
        rate: f64,
        /// Mark price it was paid at.
        mark: f64,
        /// USD paid by every long position — the book's, the vault's and the outside
        /// counterparties' — to everyone short (negative: received).
        longs_paid: f64,
    },
    /// A perp exchange's book at the end.
    PerpMarked(Box<PerpMark>),
    /// The blocks of a step on a chain: how many, the clearing gas price and the agents' room.
    BlocksProduced {
        /// Blocks in the step.
        blocks: u64,
        /// Clearing gas price, gwei.
        gas_gwei: f64,
        /// Transactions of the simulated agents that fit (`u64::MAX` without a limit).
        room: u64,
        /// Transactions waiting in the mempool at the start of the step.
        waiting: u64,
    },
    /// A transaction was sent and did not get in at once: it waits in the mempool.
    TxSubmitted(Box<TxRecord>),
    /// A transaction got into a block and its gas was paid.
    TxIncluded(Box<TxRecord>),
    /// A transaction included at the start of a step whose action was no longer possible (the
    /// account was safe or already liquidated, the auction over): its gas is spent for nothing.
    TxReverted(Box<TxRecord>),
    /// A waiting transaction left the mempool without being included.
    TxDropped(Box<TxRecord>, DropReason),
    /// Keepers bid gas against each other for the same opportunity.
    GasAuction(Box<GasAuctionRecord>),
    /// A keeper's gas budget cannot pay for another transaction; it sends nothing more until
    /// gas is cheap enough again.
    KeeperOutOfGas {
        /// Keeper.
        keeper: KeeperId,
        /// USD spent on gas so far.
        gas_spent: f64,
    },
    /// Owners of accounts whose health fell below their trigger this step decided whether to act.
    BorrowersNoticed {
        /// Protocol.
        protocol: ProtocolId,
        /// Owners who will act (after their delay).
        acting: u64,
        /// Owners who will not.
        declined: u64,
    },
    /// A borrower's top-up or repayment executed.
    BorrowerActed {
        /// Protocol.
        protocol: ProtocolId,
        /// Account.
        account: AccountId,
        /// Top-up or repayment.
        action: BorrowerAction,
        /// The asset added (collateral) or repaid (debt).
        asset: AssetId,
        /// Units added or repaid.
        units: f64,
        /// Health factor before.
        health_before: f64,
        /// Health factor after.
        health_after: f64,
        /// When the owner noticed, seconds.
        noticed: u64,
    },
    /// End of a step (one timeline row).
    StepEnded,
    /// A protocol's book at the end, marked at its prices (boxed: it is rare and large, and
    /// every event is as large as the largest kind).
    PositionsMarked(Box<BookMark>),
    /// A keeper's balances at the end.
    KeeperMarked {
        /// Keeper.
        keeper: KeeperId,
        /// USD spent repaying debt.
        spent: f64,
        /// USD received from sales.
        received: f64,
        /// USD received as auction incentives.
        incentives: f64,
        /// Units held per asset.
        inventory: Vec<f64>,
    },
}

impl EventKind {
    /// A stable snake-case name for outputs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::RunStarted => "run_started",
            Self::PositionsOpened { .. } => "positions_opened",
            Self::FundamentalMoved { .. } => "fundamental_moved",
            Self::ShockApplied { .. } => "shock_applied",
            Self::VenuePriceMoved { .. } => "venue_price_moved",
            Self::DepthChanged { .. } => "depth_changed",
            Self::VenueLiquidityChanged { .. } => "venue_liquidity_changed",
            Self::OraclePublished { .. } => "oracle_published",
            Self::Liquidation(_) => "liquidation",
            Self::LiquidationBatch(_) => "liquidation_batch",
            Self::Sale(_) => "sale",
            Self::BadDebt { .. } => "bad_debt",
            Self::LiquidationsMissed { .. } => "liquidations_missed",
            Self::FeedStale { .. } => "feed_stale",
            Self::LiquidationsPaused { .. } => "liquidations_paused",
            Self::CascadeSettled { .. } => "cascade_settled",
            Self::LossesSettled { .. } => "losses_settled",
            Self::AuctionKicked { .. } => "auction_kicked",
            Self::AuctionReset { .. } => "auction_reset",
            Self::AuctionTaken { .. } => "auction_taken",
            Self::AuctionBid { .. } => "auction_bid",
            Self::BackstopTakeover { .. } => "backstop_takeover",
            Self::Absorbed { .. } => "absorbed",
            Self::TroveLiquidated(_) => "trove_liquidated",
            Self::Redistributed { .. } => "redistributed",
            Self::StabilityPoolMarked { .. } => "stability_pool_marked",
            Self::CollateralBought { .. } => "collateral_bought",
            Self::CometMarked { .. } => "comet_marked",
            Self::BackstopSale { .. } => "backstop_sale",
            Self::BackstopMarked { .. } => "backstop_marked",
            Self::AuctionEnded { .. } => "auction_ended",
            Self::PerpsOpened { .. } => "perps_opened",
            Self::PerpLiquidated(_) => "perp_liquidated",
            Self::PerpSettled(_) => "perp_settled",
            Self::PerpTakeover { .. } => "perp_takeover",
            Self::PerpDeleveraged { .. } => "perp_deleveraged",
            Self::PerpCooldowns { .. } => "perp_cooldowns",
            Self::PerpSocialised { .. } => "perp_socialised",
            Self::FundingPaid { .. } => "funding_paid",
            Self::PerpMarked(_) => "perp_marked",
            Self::BlocksProduced { .. } => "blocks_produced",
            Self::TxSubmitted(_) => "tx_submitted",
            Self::TxIncluded(_) => "tx_included",
            Self::TxReverted(_) => "tx_reverted",
            Self::TxDropped(..) => "tx_dropped",
            Self::GasAuction(..) => "gas_auction",
            Self::KeeperOutOfGas { .. } => "keeper_out_of_gas",
            Self::BorrowersNoticed { .. } => "borrowers_noticed",
            Self::BorrowerActed { .. } => "borrower_acted",
            Self::StepEnded => "step_ended",
            Self::PositionsMarked { .. } => "positions_marked",
            Self::KeeperMarked { .. } => "keeper_marked",
        }
    }
}
