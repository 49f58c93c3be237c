//! What each event kind puts in which column: one mapping for every events file.
//!
//! [`row`] turns an event into its cells: the columns every kind shares, and the kind's other
//! values as typed `(key, value)` pairs, each a column of its own (a per-asset value, a column
//! per asset: see [`super::layout`]).

use cascade_engine::{
    BookMark, Event, EventKind, GasAuctionRecord, PerpCloseKind, PerpInfo, TxRecord, World,
};
use cascade_model::chain::{Sender, Target};
use cascade_model::ids::{AccountId, AssetId, PerpId, ProtocolId};
use smallvec::{SmallVec, smallvec};

/// An account as the outputs name it: its label from a positions file, otherwise its index.
#[derive(Clone, Copy)]
pub(super) struct Account<'a> {
    labels: &'a [String],
    id: AccountId,
}

impl<'a> Account<'a> {
    /// The account's label, if it has a non-empty one.
    pub(super) fn label(self) -> Option<&'a str> {
        self.labels
            .get(self.id.index())
            .map(String::as_str)
            .filter(|label| !label.is_empty())
    }

    /// The account's index in its book.
    pub(super) fn index(self) -> u32 {
        self.id.0
    }
}

/// A value of an event's detail.
#[derive(Clone, Copy)]
pub(super) enum Value<'a> {
    /// A real number.
    Real(f64),
    /// A count, an id or a time in seconds.
    Int(u64),
    /// Yes or no.
    Flag(bool),
    /// One of a few names (a mode, a reason).
    Name(&'static str),
    /// An account.
    Account(Account<'a>),
    /// A number of transactions, `u64::MAX` for "unlimited".
    Room(u64),
    /// Units per asset, indexed like the world's assets.
    Assets(&'a [f64]),
    /// Units per market of a perp exchange, indexed like its markets.
    Markets(&'a PerpInfo, &'a [f64]),
}

/// What a [`Value`] is, so each key has one type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Type {
    /// [`Value::Real`].
    Real,
    /// [`Value::Int`].
    Int,
    /// [`Value::Flag`].
    Flag,
    /// [`Value::Name`].
    Name,
    /// [`Value::Account`].
    Account,
    /// [`Value::Room`].
    Room,
    /// [`Value::Assets`]: a column per asset of the world.
    PerAsset,
    /// [`Value::Markets`]: a column per asset some perp market trades.
    PerMarket,
}

impl Value<'_> {
    /// The value's type.
    pub(super) fn ty(&self) -> Type {
        match self {
            Self::Real(_) => Type::Real,
            Self::Int(_) => Type::Int,
            Self::Flag(_) => Type::Flag,
            Self::Name(_) => Type::Name,
            Self::Account(_) => Type::Account,
            Self::Room(_) => Type::Room,
            Self::Assets(_) => Type::PerAsset,
            Self::Markets(..) => Type::PerMarket,
        }
    }

    /// Whether a world without the key's columns loses nothing by leaving the value out: per-asset
    /// units that are all zero (the units in running auctions of a world without auctions).
    pub(super) fn is_zero(&self) -> bool {
        match self {
            Self::Assets(units) | Self::Markets(_, units) => units.iter().all(|&u| u == 0.0),
            Self::Real(_)
            | Self::Int(_)
            | Self::Flag(_)
            | Self::Name(_)
            | Self::Account(_)
            | Self::Room(_) => false,
        }
    }
}

/// Declares the detail keys: each its column's name in the events files (for a per-asset key,
/// the prefix of its `key.SYMBOL` columns) and its type.
macro_rules! keys {
    ($($(#[$doc:meta])* $key:ident = $name:literal, $ty:ident;)*) => {
        /// A key of an event's detail: a column of the events files (or, per asset, a group of
        /// them) beyond the fixed ones.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
        pub(super) enum Key {
            $($(#[$doc])* $key,)*
        }

        impl Key {
            /// Every key, in the order of their columns.
            pub(super) const ALL: &[Key] = &[$(Key::$key,)*];

            /// The key's column (`key`), or the prefix of its per-asset columns (`key.SYMBOL`).
            pub(super) fn name(self) -> &'static str {
                match self {
                    $(Key::$key => $name,)*
                }
            }

            /// The type of the key's values.
            pub(super) fn ty(self) -> Type {
                match self {
                    $(Key::$key => Type::$ty,)*
                }
            }
        }
    };
}

keys! {
    /// Accounts in a book, accounts charged, or a batch's accounts written off.
    Accounts = "accounts", Int;
    /// Accounts still open.
    OpenAccounts = "open_accounts", Int;
    /// Accounts left alone, not taken, or liquidated in a batch.
    Count = "count", Int;
    /// A shock's multiplier.
    Factor = "factor", Real;
    /// Market makers' depth fraction.
    Depth = "depth", Real;
    /// Realised volatility the makers acted on.
    DailyVolatility = "daily_volatility", Real;
    /// An AMM's liquidity.
    Liquidity = "liquidity", Real;
    /// Filled units at the protocol's prices.
    OracleValue = "oracle_value", Real;
    /// Fee income into a fund.
    PaidIn = "paid_in", Real;
    /// Bad debt drawn from a fund.
    Drawn = "drawn", Real;
    /// Bad debt socialised.
    Socialised = "socialised", Real;
    /// Debt-auction lots.
    Lots = "lots", Int;
    /// USD the lots raise.
    Auctioned = "auctioned", Real;
    /// A deficit still uncovered.
    Uncovered = "uncovered", Real;
    /// An insurance fund's balance afterwards.
    FundBalance = "fund_balance", Real;
    /// Auction number.
    Auction = "auction", Int;
    /// Debt an auction raises, penalty included.
    Tab = "tab", Real;
    /// An auction's starting price.
    Top = "top", Real;
    /// Debt an auction had to cover.
    Debt = "debt", Real;
    /// A protocol's collateral price.
    CollateralPrice = "collateral_price", Real;
    /// A trove's collateral ratio.
    CollateralRatio = "collateral_ratio", Real;
    /// Whether Liquity was in recovery mode.
    RecoveryMode = "recovery_mode", Flag;
    /// Debt cancelled against the Stability Pool.
    DebtOffset = "debt_offset", Real;
    /// Collateral given to the pool.
    CollateralToPool = "collateral_to_pool", Real;
    /// Debt redistributed to the other troves.
    DebtRedistributed = "debt_redistributed", Real;
    /// Collateral redistributed to the other troves.
    CollateralRedistributed = "collateral_redistributed", Real;
    /// Collateral left to the owner.
    Surplus = "surplus", Real;
    /// Debt-asset units paid to the liquidator.
    GasDebt = "gas_debt", Real;
    /// Troves that received a share.
    Troves = "troves", Int;
    /// The Stability Pool's product P.
    Product = "product", Real;
    /// Σ collateral × price × liquidation factor.
    DeltaValue = "delta_value", Real;
    /// Credited to the user.
    Credit = "credit", Real;
    /// A deficit not covered, or debt written off.
    Shortfall = "shortfall", Real;
    /// Long notional.
    LongUsd = "long_usd", Real;
    /// Short notional.
    ShortUsd = "short_usd", Real;
    /// An exchange's total value.
    TotalValue = "total_value", Real;
    /// How a perp position was closed.
    Close = "close", Name;
    /// Units the position keeps.
    Remaining = "remaining", Real;
    /// Entry price.
    Entry = "entry", Real;
    /// Mark price.
    Mark = "mark", Real;
    /// Liquidation price.
    LiquidationPrice = "liquidation_price", Real;
    /// Bankruptcy price.
    BankruptcyPrice = "bankruptcy_price", Real;
    /// An account's equity.
    Equity = "equity", Real;
    /// An account's maintenance margin.
    Maintenance = "maintenance", Real;
    /// Liquidation fee into the fund.
    Fee = "fee", Real;
    /// Venue price before a close.
    PriceBefore = "price_before", Real;
    /// Paid into (or drawn from) the fund.
    FundChange = "fund_change", Real;
    /// What the trader keeps.
    Kept = "kept", Real;
    /// The bankrupt account of a deleveraging.
    Bankrupt = "bankrupt", Account;
    /// ADL rank.
    Rank = "rank", Real;
    /// `outside` for a counterparty outside the book.
    Counterparty = "counterparty", Name;
    /// Funding rate.
    Rate = "rate", Real;
    /// Insurance fund.
    Fund = "fund", Real;
    /// Vault value.
    VaultValue = "vault_value", Real;
    /// Vault capital.
    VaultCapital = "vault_capital", Real;
    /// USD spent.
    Spent = "spent", Real;
    /// USD received.
    Received = "received", Real;
    /// USD of auction incentives.
    Incentives = "incentives", Real;
    /// Holdings at their takeover prices.
    CostBasisUsd = "cost_basis_usd", Real;
    /// Open accounts' debt.
    DebtUsd = "debt_usd", Real;
    /// Open accounts' collateral.
    CollateralUsd = "collateral_usd", Real;
    /// Active cascade rounds.
    Rounds = "rounds", Int;
    /// Whether the round limit was hit.
    HitRoundLimit = "hit_round_limit", Flag;
    /// Blocks in a step.
    Blocks = "blocks", Int;
    /// Clearing gas price.
    GasGwei = "gas_gwei", Real;
    /// Agents' room in the blocks.
    Room = "room", Room;
    /// Transactions waiting.
    Waiting = "waiting", Int;
    /// Transaction id.
    Tx = "tx", Int;
    /// Transaction kind.
    TxKind = "tx_kind", Name;
    /// Gas bid.
    GasBidGwei = "gas_bid_gwei", Real;
    /// Time a transaction was sent.
    Submitted = "submitted", Int;
    /// Times a bid was raised.
    Bumps = "bumps", Int;
    /// `owner` for an owner's transaction.
    Sender = "sender", Name;
    /// Why a transaction was dropped.
    Reason = "reason", Name;
    /// Keepers bidding in a priority gas auction.
    Bidders = "bidders", Int;
    /// The second-highest bid of a priority gas auction, gwei.
    RunnerUpGwei = "runner_up_gwei", Real;
    /// Keepers outbid in a priority gas auction.
    Outbid = "outbid", Int;
    /// Of those, the ones whose transactions still got in (their gas paid).
    OutbidIncluded = "outbid_included", Int;
    /// Owners who will act.
    Acting = "acting", Int;
    /// Owners who will not.
    Declined = "declined", Int;
    /// An owner's action.
    Action = "action", Name;
    /// Health factor after an owner's action.
    HealthAfter = "health_after", Real;
    /// Seconds since a stale oracle's last publication.
    AgeSeconds = "age_seconds", Int;
    /// What a protocol does with a stale price: `paused` or `fallback`.
    Feed = "feed", Name;
    /// Collateral units per asset.
    Collateral = "collateral", PerAsset;
    /// Debt units per asset.
    DebtByAsset = "debt", PerAsset;
    /// Treasury units per asset.
    Treasury = "treasury", PerAsset;
    /// Collateral in running auctions per asset.
    InAuctionCollateral = "in_auction_collateral", PerAsset;
    /// Debt running auctions have yet to cover per asset.
    InAuctionDebt = "in_auction_debt", PerAsset;
    /// Stability Pool gains per asset.
    Gains = "gains", PerAsset;
    /// Collateral a Compound III protocol holds per asset.
    Held = "held", PerAsset;
    /// Units held per asset.
    Inventory = "inventory", PerAsset;
    /// Long units open per market.
    Long = "long", PerMarket;
    /// Short units open per market.
    Short = "short", PerMarket;
    /// The vault's net units per market.
    Vault = "vault", PerMarket;
}

/// The `(key, value)` pairs of a row beyond its fixed columns, each key at most once, in any
/// order: the writers put each value in its key's column.
pub(super) type Detail<'a> = SmallVec<[(Key, Value<'a>); 10]>;

/// The cells of one row; `None`/empty cells are blank (events.csv) or null (events.parquet).
#[derive(Default)]
pub(super) struct Row<'a> {
    pub(super) protocol: &'a str,
    pub(super) account: Option<Account<'a>>,
    pub(super) keeper: &'a str,
    pub(super) venue: &'a str,
    pub(super) oracle: &'a str,
    pub(super) asset: &'a str,
    pub(super) units: Option<f64>,
    pub(super) price: Option<f64>,
    pub(super) usd: Option<f64>,
    pub(super) debt_asset: &'a str,
    pub(super) debt_units: Option<f64>,
    pub(super) health_factor: Option<f64>,
    pub(super) to_keeper: Option<f64>,
    pub(super) protocol_fee: Option<f64>,
    pub(super) filled: Option<f64>,
    pub(super) price_after: Option<f64>,
    pub(super) liquidatable_since: Option<u64>,
    pub(super) closes: Option<bool>,
    pub(super) detail: Detail<'a>,
}

/// The row of an event.
pub(super) fn row<'a>(world: &'a World, event: &'a Event) -> Row<'a> {
    let asset = |a: AssetId| world.assets[a.index()].symbol.as_str();
    let perp = |x: PerpId| world.perps[x.index()].name.as_str();
    let lending = |p: ProtocolId, id: AccountId| {
        Some(Account {
            labels: &world.protocols[p.index()].account_labels,
            id,
        })
    };
    let trader = |x: PerpId, id: AccountId| Account {
        labels: &world.perps[x.index()].account_labels,
        id,
    };
    use Value::{Assets, Flag, Int, Markets, Name, Real};
    match &event.kind {
        EventKind::RunStarted | EventKind::StepEnded => Row::default(),
        EventKind::PositionsOpened {
            protocol,
            accounts,
            collateral,
            debt,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            detail: smallvec![
                (Key::Accounts, Int(*accounts)),
                (Key::Collateral, Assets(collateral)),
                (Key::DebtByAsset, Assets(debt)),
            ],
            ..Row::default()
        },
        EventKind::FundamentalMoved { asset: a, price } => Row {
            asset: asset(*a),
            price: Some(*price),
            ..Row::default()
        },
        EventKind::ShockApplied {
            asset: a,
            factor,
            price,
        } => Row {
            asset: asset(*a),
            price: Some(*price),
            detail: smallvec![(Key::Factor, Real(*factor))],
            ..Row::default()
        },
        EventKind::VenuePriceMoved { venue, price } => Row {
            venue: &world.venues[venue.index()].name,
            asset: asset(world.venues[venue.index()].base),
            price: Some(*price),
            ..Row::default()
        },
        EventKind::DepthChanged {
            venue,
            depth,
            volatility,
        } => Row {
            venue: &world.venues[venue.index()].name,
            asset: asset(world.venues[venue.index()].base),
            detail: smallvec![
                (Key::Depth, Real(*depth)),
                (Key::DailyVolatility, Real(*volatility)),
            ],
            ..Row::default()
        },
        EventKind::VenueLiquidityChanged { venue, liquidity } => Row {
            venue: &world.venues[venue.index()].name,
            asset: asset(world.venues[venue.index()].base),
            detail: smallvec![(Key::Liquidity, Real(*liquidity))],
            ..Row::default()
        },
        EventKind::OraclePublished { oracle, price } => Row {
            oracle: &world.oracles[oracle.index()].name,
            asset: asset(world.oracles[oracle.index()].asset),
            price: Some(*price),
            ..Row::default()
        },
        EventKind::Liquidation(l) => Row {
            protocol: &world.protocols[l.protocol.index()].name,
            account: lending(l.protocol, l.account),
            keeper: &world.keepers[l.keeper.index()].name,
            asset: asset(l.collateral_asset),
            units: Some(l.collateral_seized),
            price: Some(l.collateral_price),
            usd: Some(l.debt_repaid * l.debt_price),
            debt_asset: asset(l.debt_asset),
            debt_units: Some(l.debt_repaid),
            health_factor: Some(l.health_factor),
            to_keeper: Some(l.to_keeper),
            protocol_fee: Some(l.protocol_fee),
            liquidatable_since: Some(l.liquidatable_since),
            closes: Some(l.closes),
            ..Row::default()
        },
        // As its calls' rows would be, totalled, and their write-offs' rows in the detail.
        EventKind::LiquidationBatch(b) => Row {
            protocol: &world.protocols[b.protocol.index()].name,
            keeper: &world.keepers[b.keeper.index()].name,
            asset: asset(b.collateral_asset),
            units: Some(b.collateral_seized),
            price: Some(b.collateral_price),
            usd: Some(b.debt_repaid * b.debt_price),
            debt_asset: asset(b.debt_asset),
            debt_units: Some(b.debt_repaid),
            to_keeper: Some(b.to_keeper),
            protocol_fee: Some(b.protocol_fee),
            liquidatable_since: Some(event.time),
            closes: Some(true),
            detail: smallvec![
                (Key::Count, Int(b.accounts)),
                (Key::Accounts, Int(b.written_off_accounts)),
                (Key::Shortfall, Real(b.written_off * b.debt_price)),
            ],
            ..Row::default()
        },
        EventKind::Sale(s) => Row {
            keeper: &world.keepers[s.keeper.index()].name,
            venue: &world.venues[s.venue.index()].name,
            asset: asset(s.asset),
            units: Some(s.units),
            price: Some(s.price_before),
            usd: Some(s.proceeds),
            filled: Some(s.filled),
            price_after: Some(s.price_after),
            detail: smallvec![(Key::OracleValue, Real(s.oracle_value))],
            ..Row::default()
        },
        EventKind::BadDebt {
            protocol,
            account,
            debt_asset,
            amount,
            usd,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            account: lending(*protocol, *account),
            usd: Some(*usd),
            debt_asset: asset(*debt_asset),
            debt_units: Some(*amount),
            ..Row::default()
        },
        EventKind::LiquidationsMissed { protocol, count } => Row {
            protocol: &world.protocols[protocol.index()].name,
            detail: smallvec![(Key::Count, Int(*count))],
            ..Row::default()
        },
        EventKind::FeedStale {
            protocol,
            asset: a,
            oracle,
            age,
            fallback,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            oracle: &world.oracles[oracle.index()].name,
            asset: asset(*a),
            detail: smallvec![
                (Key::AgeSeconds, Int(*age)),
                (
                    Key::Feed,
                    Name(if fallback.is_some() {
                        "fallback"
                    } else {
                        "paused"
                    })
                ),
            ],
            ..Row::default()
        },
        EventKind::LiquidationsPaused { protocol, count } => Row {
            protocol: &world.protocols[protocol.index()].name,
            detail: smallvec![(Key::Count, Int(*count))],
            ..Row::default()
        },
        EventKind::LossesSettled {
            protocol,
            paid_in,
            drawn,
            socialised,
            lots,
            auctioned,
            uncovered,
            fund_balance,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            usd: Some(*drawn),
            detail: smallvec![
                (Key::PaidIn, Real(*paid_in)),
                (Key::Drawn, Real(*drawn)),
                (Key::Socialised, Real(*socialised)),
                (Key::Lots, Int(*lots)),
                (Key::Auctioned, Real(*auctioned)),
                (Key::Uncovered, Real(*uncovered)),
                (Key::FundBalance, Real(*fund_balance)),
            ],
            ..Row::default()
        },
        EventKind::AuctionKicked {
            protocol,
            account,
            auction,
            keeper,
            collateral_asset,
            lot,
            collateral_price,
            debt_asset,
            debt,
            tab,
            top,
            incentive,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            account: lending(*protocol, *account),
            keeper: &world.keepers[keeper.index()].name,
            asset: asset(*collateral_asset),
            units: Some(*lot),
            price: Some(*collateral_price),
            usd: Some(*incentive),
            debt_asset: asset(*debt_asset),
            debt_units: Some(*debt),
            detail: smallvec![
                (Key::Auction, Int(u64::from(*auction))),
                (Key::Tab, Real(*tab)),
                (Key::Top, Real(*top)),
            ],
            ..Row::default()
        },
        EventKind::AuctionReset {
            protocol,
            auction,
            top,
            keeper,
            incentive,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            keeper: keeper.map_or("", |k| world.keepers[k.index()].name.as_str()),
            price: Some(*top),
            usd: Some(*incentive),
            detail: smallvec![(Key::Auction, Int(u64::from(*auction)))],
            ..Row::default()
        },
        EventKind::TroveLiquidated(t) => Row {
            protocol: &world.protocols[t.protocol.index()].name,
            account: lending(t.protocol, t.account),
            keeper: &world.keepers[t.keeper.index()].name,
            asset: asset(t.collateral_asset),
            units: Some(t.collateral),
            price: Some(t.collateral_price),
            usd: Some(t.debt_offset * t.debt_price),
            debt_asset: asset(t.debt_asset),
            debt_units: Some(t.debt),
            to_keeper: Some(t.gas_collateral),
            liquidatable_since: Some(t.liquidatable_since),
            detail: smallvec![
                (Key::CollateralRatio, Real(t.collateral_ratio)),
                (Key::RecoveryMode, Flag(t.recovery_mode)),
                (Key::DebtOffset, Real(t.debt_offset)),
                (Key::CollateralToPool, Real(t.collateral_to_pool)),
                (Key::DebtRedistributed, Real(t.debt_redistributed)),
                (
                    Key::CollateralRedistributed,
                    Real(t.collateral_redistributed)
                ),
                (Key::Surplus, Real(t.surplus)),
                (Key::GasDebt, Real(t.gas_debt)),
            ],
            ..Row::default()
        },
        EventKind::Redistributed {
            protocol,
            collateral_asset,
            collateral,
            debt,
            troves,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            asset: asset(*collateral_asset),
            units: Some(*collateral),
            debt_units: Some(*debt),
            detail: smallvec![(Key::Troves, Int(*troves))],
            ..Row::default()
        },
        EventKind::StabilityPoolMarked {
            protocol,
            deposits,
            product,
            gains,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            debt_units: Some(*deposits),
            detail: smallvec![(Key::Product, Real(*product)), (Key::Gains, Assets(gains))],
            ..Row::default()
        },
        EventKind::Absorbed {
            protocol,
            account,
            collateral,
            debt_asset,
            debt,
            debt_price,
            delta_value,
            credit,
            shortfall,
            liquidatable_since,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            account: lending(*protocol, *account),
            usd: Some(debt * debt_price),
            debt_asset: asset(*debt_asset),
            debt_units: Some(*debt),
            liquidatable_since: Some(*liquidatable_since),
            detail: smallvec![
                (Key::DeltaValue, Real(*delta_value)),
                (Key::Credit, Real(*credit)),
                (Key::Shortfall, Real(*shortfall)),
                (Key::Collateral, Assets(collateral)),
            ],
            ..Row::default()
        },
        EventKind::CollateralBought {
            protocol,
            keeper,
            asset: a,
            units,
            price,
            collateral_price,
            paid,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            keeper: &world.keepers[keeper.index()].name,
            asset: asset(*a),
            units: Some(*units),
            price: Some(*price),
            usd: Some(*paid),
            detail: smallvec![(Key::CollateralPrice, Real(*collateral_price))],
            ..Row::default()
        },
        EventKind::CometMarked {
            protocol,
            reserves_usd,
            held,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            usd: Some(*reserves_usd),
            detail: smallvec![(Key::Held, Assets(held))],
            ..Row::default()
        },
        EventKind::PerpsOpened {
            exchange,
            accounts,
            long_usd,
            short_usd,
            total_value,
        } => Row {
            protocol: perp(*exchange),
            detail: smallvec![
                (Key::Accounts, Int(*accounts)),
                (Key::LongUsd, Real(*long_usd)),
                (Key::ShortUsd, Real(*short_usd)),
                (Key::TotalValue, Real(*total_value)),
            ],
            ..Row::default()
        },
        EventKind::PerpLiquidated(l) => {
            let market = &world.perps[l.exchange.index()].markets[l.market.index()];
            Row {
                protocol: perp(l.exchange),
                account: Some(trader(l.exchange, l.account)),
                venue: &world.venues[market.venue.index()].name,
                asset: asset(market.asset),
                units: Some(l.units),
                price: Some(l.fill_price),
                usd: Some(l.units.abs() * l.fill_price),
                price_after: Some(l.price_after),
                detail: smallvec![
                    (
                        Key::Close,
                        Name(match l.close {
                            PerpCloseKind::Market => "market",
                            PerpCloseKind::Slice => "slice",
                            PerpCloseKind::Deleveraged => "deleveraged",
                        }),
                    ),
                    (Key::Remaining, Real(l.remaining)),
                    (Key::Entry, Real(l.entry)),
                    (Key::Mark, Real(l.mark)),
                    (Key::LiquidationPrice, Real(l.liquidation_price)),
                    (Key::BankruptcyPrice, Real(l.bankruptcy_price)),
                    (Key::Equity, Real(l.equity)),
                    (Key::Maintenance, Real(l.maintenance)),
                    (Key::Fee, Real(l.fee)),
                    (Key::PriceBefore, Real(l.price_before)),
                ],
                ..Row::default()
            }
        }
        EventKind::PerpSettled(settlement) => Row {
            protocol: perp(settlement.exchange),
            account: Some(trader(settlement.exchange, settlement.account)),
            usd: Some(settlement.balance),
            detail: smallvec![
                (Key::FundChange, Real(settlement.fund_change)),
                (Key::Kept, Real(settlement.kept)),
                (Key::Shortfall, Real(settlement.shortfall)),
                (Key::FundBalance, Real(settlement.fund_balance)),
            ],
            ..Row::default()
        },
        EventKind::PerpTakeover {
            exchange,
            account,
            notional,
            equity,
            maintenance,
            net_units,
        } => Row {
            protocol: perp(*exchange),
            account: Some(trader(*exchange, *account)),
            usd: Some(*notional),
            units: Some(*net_units),
            detail: smallvec![
                (Key::Equity, Real(*equity)),
                (Key::Maintenance, Real(*maintenance)),
            ],
            ..Row::default()
        },
        EventKind::PerpDeleveraged {
            exchange,
            market,
            account,
            bankrupt,
            units,
            price,
            rank,
        } => {
            let info = &world.perps[exchange.index()];
            let bankrupt = (Key::Bankrupt, Value::Account(trader(*exchange, *bankrupt)));
            Row {
                protocol: perp(*exchange),
                account: account.map(|a| trader(*exchange, a)),
                asset: asset(info.markets[market.index()].asset),
                units: Some(*units),
                price: Some(*price),
                usd: Some(units.abs() * price),
                detail: match account {
                    Some(_) => smallvec![bankrupt, (Key::Rank, Real(*rank))],
                    None => smallvec![bankrupt, (Key::Counterparty, Name("outside"))],
                },
                ..Row::default()
            }
        }
        EventKind::PerpCooldowns { exchange, count } => Row {
            protocol: perp(*exchange),
            detail: smallvec![(Key::Count, Int(*count))],
            ..Row::default()
        },
        EventKind::PerpSocialised {
            exchange,
            usd,
            accounts,
            uncovered,
        } => Row {
            protocol: perp(*exchange),
            usd: Some(*usd),
            detail: smallvec![
                (Key::Accounts, Int(*accounts)),
                (Key::Uncovered, Real(*uncovered)),
            ],
            ..Row::default()
        },
        EventKind::FundingPaid {
            exchange,
            market,
            rate,
            mark,
            longs_paid,
        } => Row {
            protocol: perp(*exchange),
            asset: asset(world.perps[exchange.index()].markets[market.index()].asset),
            price: Some(*mark),
            usd: Some(*longs_paid),
            detail: smallvec![(Key::Rate, Real(*rate))],
            ..Row::default()
        },
        EventKind::PerpMarked(mark) => {
            let info = &world.perps[mark.exchange.index()];
            Row {
                protocol: perp(mark.exchange),
                usd: Some(mark.unrealised_bad_debt_usd),
                detail: smallvec![
                    (Key::OpenAccounts, Int(mark.open_accounts)),
                    (Key::Fund, Real(mark.fund)),
                    (Key::VaultValue, Real(mark.vault_value)),
                    (Key::VaultCapital, Real(mark.vault_capital)),
                    (Key::Uncovered, Real(mark.uncovered)),
                    (Key::TotalValue, Real(mark.total_value)),
                    (Key::Long, Markets(info, &mark.long_units)),
                    (Key::Short, Markets(info, &mark.short_units)),
                    (Key::Vault, Markets(info, &mark.vault_size)),
                ],
                ..Row::default()
            }
        }
        EventKind::BackstopTakeover {
            protocol,
            account,
            collateral_asset,
            units,
            collateral_price,
            debt_asset,
            debt,
            debt_price,
            liquidatable_since,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            account: lending(*protocol, *account),
            asset: asset(*collateral_asset),
            units: Some(*units),
            price: Some(*collateral_price),
            usd: Some(debt * debt_price),
            debt_asset: asset(*debt_asset),
            debt_units: Some(*debt),
            liquidatable_since: Some(*liquidatable_since),
            ..Row::default()
        },
        EventKind::BackstopSale {
            protocol,
            venue,
            asset: a,
            units,
            filled,
            proceeds,
            price_before,
            price_after,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            venue: &world.venues[venue.index()].name,
            asset: asset(*a),
            units: Some(*units),
            price: Some(*price_before),
            usd: Some(*proceeds),
            filled: Some(*filled),
            price_after: Some(*price_after),
            ..Row::default()
        },
        EventKind::BackstopMarked {
            protocol,
            spent,
            received,
            inventory,
            cost_basis_usd,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            usd: Some(received - spent),
            detail: smallvec![
                (Key::Spent, Real(*spent)),
                (Key::Received, Real(*received)),
                (Key::CostBasisUsd, Real(*cost_basis_usd)),
                (Key::Inventory, Assets(inventory)),
            ],
            ..Row::default()
        },
        EventKind::AuctionBid {
            protocol,
            auction,
            keeper,
            bid,
            lot,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            keeper: &world.keepers[keeper.index()].name,
            units: Some(*lot),
            debt_units: Some(*bid),
            detail: smallvec![(Key::Auction, Int(u64::from(*auction)))],
            ..Row::default()
        },
        EventKind::AuctionTaken {
            protocol,
            auction,
            account,
            keeper,
            collateral_asset,
            slice,
            price,
            collateral_price,
            debt_asset,
            owe,
            debt_price,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            account: lending(*protocol, *account),
            keeper: &world.keepers[keeper.index()].name,
            asset: asset(*collateral_asset),
            units: Some(*slice),
            price: Some(*price),
            usd: Some(owe * debt_price),
            debt_asset: asset(*debt_asset),
            debt_units: Some(*owe),
            detail: smallvec![
                (Key::Auction, Int(u64::from(*auction))),
                (Key::CollateralPrice, Real(*collateral_price)),
            ],
            ..Row::default()
        },
        EventKind::AuctionEnded {
            protocol,
            auction,
            account,
            collateral_asset,
            returned,
            debt_asset,
            raised,
            debt,
            debt_price,
            liquidatable_since,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            account: lending(*protocol, *account),
            asset: asset(*collateral_asset),
            units: Some(*returned),
            usd: Some(raised * debt_price),
            debt_asset: asset(*debt_asset),
            debt_units: Some(*raised),
            liquidatable_since: Some(*liquidatable_since),
            detail: smallvec![
                (Key::Auction, Int(u64::from(*auction))),
                (Key::Debt, Real(*debt)),
            ],
            ..Row::default()
        },
        EventKind::CascadeSettled {
            rounds,
            hit_round_limit,
        } => Row {
            detail: smallvec![
                (Key::Rounds, Int(u64::from(*rounds))),
                (Key::HitRoundLimit, Flag(*hit_round_limit)),
            ],
            ..Row::default()
        },
        EventKind::PositionsMarked(mark) => {
            let BookMark {
                protocol,
                open_accounts,
                collateral,
                debt,
                treasury,
                debt_usd,
                collateral_usd,
                unrealised_bad_debt_usd,
                in_auction_collateral,
                in_auction_debt,
            } = &**mark;
            Row {
                protocol: &world.protocols[protocol.index()].name,
                usd: Some(*unrealised_bad_debt_usd),
                detail: smallvec![
                    (Key::OpenAccounts, Int(*open_accounts)),
                    (Key::DebtUsd, Real(*debt_usd)),
                    (Key::CollateralUsd, Real(*collateral_usd)),
                    (Key::Collateral, Assets(collateral)),
                    (Key::DebtByAsset, Assets(debt)),
                    (Key::Treasury, Assets(treasury)),
                    (Key::InAuctionCollateral, Assets(in_auction_collateral)),
                    (Key::InAuctionDebt, Assets(in_auction_debt)),
                ],
                ..Row::default()
            }
        }
        EventKind::BlocksProduced {
            blocks,
            gas_gwei,
            room,
            waiting,
        } => Row {
            detail: smallvec![
                (Key::Blocks, Int(*blocks)),
                (Key::GasGwei, Real(*gas_gwei)),
                (Key::Room, Value::Room(*room)),
                (Key::Waiting, Int(*waiting)),
            ],
            ..Row::default()
        },
        EventKind::TxSubmitted(tx) | EventKind::TxIncluded(tx) | EventKind::TxReverted(tx) => {
            tx_row(world, tx, None)
        }
        EventKind::TxDropped(tx, reason) => tx_row(world, tx, Some(reason.name())),
        EventKind::GasAuction(auction) => gas_auction_row(world, auction),
        EventKind::KeeperOutOfGas { keeper, gas_spent } => Row {
            keeper: &world.keepers[keeper.index()].name,
            usd: Some(*gas_spent),
            ..Row::default()
        },
        EventKind::BorrowersNoticed {
            protocol,
            acting,
            declined,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            detail: smallvec![(Key::Acting, Int(*acting)), (Key::Declined, Int(*declined)),],
            ..Row::default()
        },
        EventKind::BorrowerActed {
            protocol,
            account,
            action,
            asset: a,
            units,
            health_before,
            health_after,
            noticed,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            account: lending(*protocol, *account),
            asset: asset(*a),
            units: Some(*units),
            health_factor: Some(*health_before),
            liquidatable_since: Some(*noticed),
            detail: smallvec![
                (Key::Action, Name(action.name())),
                (Key::HealthAfter, Real(*health_after)),
            ],
            ..Row::default()
        },
        EventKind::KeeperMarked {
            keeper,
            spent,
            received,
            incentives,
            inventory,
        } => Row {
            keeper: &world.keepers[keeper.index()].name,
            usd: Some(received - spent),
            detail: smallvec![
                (Key::Spent, Real(*spent)),
                (Key::Received, Real(*received)),
                (Key::Incentives, Real(*incentives)),
                (Key::Inventory, Assets(inventory)),
            ],
            ..Row::default()
        },
    }
}

/// The row of a transaction event: the sender (keeper, or the account's owner), its target, the
/// gas paid (`usd`) and, in `detail`, its id, kind, bid, submission time, bumps and any drop
/// reason.
fn tx_row<'a>(world: &'a World, tx: &TxRecord, reason: Option<&'static str>) -> Row<'a> {
    let (p, account, auction) = match tx.target {
        Target::Account(p, id) => (p, Some(id), None),
        Target::Auction(p, a) => (p, None, Some(a)),
    };
    let keeper = match tx.sender {
        Sender::Keeper(k) => world.keepers[k.index()].name.as_str(),
        Sender::Borrower(..) => "",
    };
    let mut detail: Detail<'a> = smallvec![
        (Key::Tx, Value::Int(tx.tx)),
        (Key::TxKind, Value::Name(tx.kind.name())),
        (Key::GasBidGwei, Value::Real(tx.gas_bid)),
        (Key::Submitted, Value::Int(tx.submitted)),
        (Key::Bumps, Value::Int(u64::from(tx.bumps))),
    ];
    if let Some(a) = auction {
        detail.push((Key::Auction, Value::Int(u64::from(a))));
    }
    if matches!(tx.sender, Sender::Borrower(..)) {
        detail.push((Key::Sender, Value::Name("owner")));
    }
    if let Some(reason) = reason {
        detail.push((Key::Reason, Value::Name(reason)));
    }
    Row {
        protocol: &world.protocols[p.index()].name,
        account: account.map(|id| Account {
            labels: &world.protocols[p.index()].account_labels,
            id,
        }),
        keeper,
        usd: Some(tx.gas_usd),
        detail,
        ..Row::default()
    }
}

/// A priority gas auction: its winner in the keeper column, the clearing price in `gas_gwei`,
/// the winning bid in `gas_bid_gwei`, the raises in `bumps`.
fn gas_auction_row<'a>(world: &'a World, a: &GasAuctionRecord) -> Row<'a> {
    let (p, account, auction) = match a.target {
        Target::Account(p, id) => (p, Some(id), None),
        Target::Auction(p, id) => (p, None, Some(id)),
    };
    let included = a.outbid.iter().filter(|(_, got_in)| *got_in).count();
    let mut detail: Detail<'a> = smallvec![
        (Key::TxKind, Value::Name(a.kind.name())),
        (Key::GasGwei, Value::Real(a.base_gwei)),
        (Key::GasBidGwei, Value::Real(a.winning_gwei)),
        (Key::RunnerUpGwei, Value::Real(a.runner_up_gwei)),
        (Key::Bumps, Value::Int(u64::from(a.raises))),
        (Key::Bidders, Value::Int(u64::from(a.bidders))),
        (Key::Outbid, Value::Int(a.outbid.len() as u64)),
        (Key::OutbidIncluded, Value::Int(included as u64)),
    ];
    if let Some(id) = auction {
        detail.push((Key::Auction, Value::Int(u64::from(id))));
    }
    Row {
        protocol: &world.protocols[p.index()].name,
        account: account.map(|id| Account {
            labels: &world.protocols[p.index()].account_labels,
            id,
        }),
        keeper: a
            .winner
            .map_or("", |k| world.keepers[k.index()].name.as_str()),
        detail,
        ..Row::default()
    }
}

#[cfg(test)]
mod tests {
    use super::{Key, Type};

    #[test]
    fn keys_are_indexed_in_order_with_distinct_columns() {
        for (i, key) in Key::ALL.iter().enumerate() {
            assert_eq!(*key as usize, i, "{key:?}");
        }
        // A per-asset key's columns are `name.SYMBOL`: its name may be another key's.
        for per_asset in [false, true] {
            let mut columns: Vec<&str> = Key::ALL
                .iter()
                .filter(|k| matches!(k.ty(), Type::PerAsset | Type::PerMarket) == per_asset)
                .map(|k| k.name())
                .collect();
            let keys = columns.len();
            columns.sort_unstable();
            columns.dedup();
            assert_eq!(columns.len(), keys);
        }
    }
}
