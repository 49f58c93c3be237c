//! The world: constant description of a simulation and its initial state.

use cascade_model::borrower::{BorrowerAction, BorrowerBehaviour};
use cascade_model::chain::ChainParams;
use cascade_model::fundamental::{Fundamental, Shock};
use cascade_model::ids::{AccountId, AssetId, OracleId, PerpId, ProtocolId, VenueId};
use cascade_model::keeper::{KeeperBook, KeeperSpec};
use cascade_model::lending::{Account, LendingParams, LiquidationIndex};
use cascade_model::loss::{InsuranceParams, LossAbsorber};
use cascade_model::oracle::{FeedChoice, Oracle, Staleness};
use cascade_model::perp::account::PerpAccount;
use cascade_model::perp::index::PerpIndex;
use cascade_model::perp::params::{PerpMarketParams, PerpParams, mark_price};
use cascade_model::venue::{LiquiditySchedule, Venue};
use rayon::prelude::*;
use std::sync::{Arc, OnceLock};

use crate::engine::mechanism::{ClosedBatch, MechanismState, ProtocolBatches};

/// Run-wide settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Simulation {
    /// Scenario name.
    pub name: String,
    /// Master seed.
    pub seed: u64,
    /// Number of steps after the initial instant.
    pub steps: u64,
    /// Length of a step in simulated seconds.
    pub step_seconds: u64,
    /// Maximum settle rounds of the cascade inside one step.
    pub max_rounds: u32,
    /// Maker's global `Hole`: the most tab (USD) in Dutch auctions of all protocols at once;
    /// `None` unlimited.
    pub auction_hole: Option<f64>,
    /// The run's time 0 as a Unix time (seconds since 1970-01-01T00:00:00 UTC), when the
    /// scenario dates it (`simulation.start_time`, a replay's day): outputs then give every
    /// time as a UTC date-time beside its seconds. Nothing in the run depends on it.
    pub start_time: Option<i64>,
}

/// An asset.
#[derive(Clone, Debug, PartialEq)]
pub struct AssetInfo {
    /// Ticker.
    pub symbol: String,
    /// Fundamental price at time 0.
    pub start_price: f64,
    /// The first venue listed for the asset, whose price defines its drop.
    pub primary_venue: Option<VenueId>,
}

/// A venue's identity.
#[derive(Clone, Debug, PartialEq)]
pub struct VenueInfo {
    /// Name.
    pub name: String,
    /// Base asset sold there.
    pub base: AssetId,
    /// Quote asset (the numeraire's stand-in, e.g. USDC).
    pub quote: AssetId,
    /// An AMM's liquidity over time, from a series of pool reserves (phase 2 sets it); `None`
    /// when L is constant.
    pub liquidity: Option<Arc<LiquiditySchedule>>,
}

/// Where an oracle reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OracleSource {
    /// A venue's best bid.
    Venue(VenueId),
    /// The asset's fundamental price.
    Fundamental(AssetId),
}

/// An oracle's identity and sources.
#[derive(Clone, Debug, PartialEq)]
pub struct OracleInfo {
    /// Name.
    pub name: String,
    /// Asset priced.
    pub asset: AssetId,
    /// Sources read, in order.
    pub sources: Vec<OracleSource>,
}

/// A lending protocol's identity and parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ProtocolInfo {
    /// Name.
    pub name: String,
    /// Risk parameters and liquidation rule.
    pub params: LendingParams,
    /// Oracle used for each asset; `None` values the asset at its fundamental price.
    pub oracle_for: Vec<Option<OracleId>>,
    /// Keepers serving this protocol, in priority order.
    pub keepers: Vec<cascade_model::ids::KeeperId>,
    /// External labels of accounts loaded from files (empty for generated accounts).
    pub account_labels: Vec<String>,
    /// Insurance fund and shortfall rule, if the protocol has one.
    pub insurance: Option<InsuranceParams>,
    /// How the owners of ranges of accounts act when their health falls, in account order
    /// (accounts outside every group never act).
    pub borrowers: Vec<BorrowerGroup>,
    /// The maximum age of its oracles' prices and what it does with an older one; `None`: a
    /// price of any age is used.
    pub staleness: Option<StalenessGuard>,
}

/// A lending protocol's check of its oracles' age (docs/reference-math.md §9.4): the rule, and
/// per asset the second oracle it falls back to (under `OnStale::Fallback`; an asset without one
/// pauses).
#[derive(Clone, Debug, PartialEq)]
pub struct StalenessGuard {
    /// Maximum age and action.
    pub rule: Staleness,
    /// Per asset, the fallback oracle (all `None` under `OnStale::Pause`).
    pub fallback_for: Vec<Option<OracleId>>,
}

/// The owners of a contiguous range of a protocol's accounts (one `[[positions]]` population)
/// and how they behave.
#[derive(Clone, Debug, PartialEq)]
pub struct BorrowerGroup {
    /// First account of the range.
    pub first: u32,
    /// One past the last account.
    pub end: u32,
    /// Behaviour.
    pub behaviour: BorrowerBehaviour,
}

impl ProtocolInfo {
    /// The behaviour of the owner of account `id`, if it acts.
    pub fn borrower(&self, id: AccountId) -> Option<&BorrowerBehaviour> {
        let i = self.borrowers.partition_point(|g| g.end <= id.0);
        self.borrowers
            .get(i)
            .filter(|g| g.first <= id.0)
            .map(|g| &g.behaviour)
    }
}

/// A keeper's identity and behaviour.
#[derive(Clone, Debug, PartialEq)]
pub struct KeeperInfo {
    /// Name.
    pub name: String,
    /// Behaviour.
    pub spec: KeeperSpec,
}

/// The mutable state of a protocol.
#[derive(Clone, Debug)]
pub struct ProtocolState {
    /// Accounts, indexed by `AccountId`.
    pub accounts: Vec<Account>,
    /// Index of accounts by trigger price.
    pub index: LiquidationIndex,
    /// Collateral units collected as protocol fees, per asset.
    pub treasury: Vec<f64>,
    /// Insurance fund and shortfall state, if the protocol has one.
    pub losses: Option<LossAbsorber>,
    /// Per account, what its owner holds outside the protocol to act with: units of the account's
    /// first collateral asset (top-ups) or of its debt asset (repayments); empty when no owner of
    /// the protocol acts.
    pub wallets: Vec<f64>,
    /// The accounts (and wallets) this path has changed, so a reset restores only those.
    pub(crate) touched: Touched,
    /// Accounts this path closed in batches (`Engine::batch_liquidations`): out of the index,
    /// not written, and marked at the end from these totals.
    pub(crate) batches: Vec<ClosedBatch>,
}

impl ProtocolState {
    /// Account `id`, to change: every change of an account during a path goes through here (or
    /// setting `touched.all`), which records it for [`crate::Engine::reset`].
    pub(crate) fn account_mut(&mut self, id: AccountId) -> &mut Account {
        self.touched.mark(id.0, self.accounts.len());
        &mut self.accounts[id.index()]
    }

    /// Records that the path changed something of account `id` kept outside the account (when
    /// it was found liquidatable).
    pub(crate) fn touch(&mut self, id: AccountId) {
        self.touched.mark(id.0, self.accounts.len());
    }

    /// Back to `initial`, restoring only the accounts this path touched (all of them if it
    /// moved the whole book).
    fn restore_from(&mut self, initial: &ProtocolState) {
        match self.touched.ids() {
            Some(ids) if self.accounts.len() == initial.accounts.len() => {
                // Restoring accounts one by one visits them in the order they were touched, a
                // cache miss each; past an eighth of the book a sequential copy is faster.
                if ids.len() <= self.accounts.len() / 8 {
                    for &i in ids {
                        let i = i as usize;
                        self.accounts[i].clone_from(&initial.accounts[i]);
                        if let (Some(wallet), Some(start)) =
                            (self.wallets.get_mut(i), initial.wallets.get(i))
                        {
                            *wallet = *start;
                        }
                    }
                } else {
                    self.accounts.clone_from(&initial.accounts);
                    self.wallets.clone_from(&initial.wallets);
                }
                self.index.restore_from(&initial.index, ids);
            }
            _ => {
                // The whole book moved (a redistribution rebuilt the index too): copy it all.
                self.accounts.clone_from(&initial.accounts);
                self.wallets.clone_from(&initial.wallets);
                self.index.clone_from(&initial.index);
            }
        }
        self.touched.clear();
        self.batches.clear();
        self.treasury.clone_from(&initial.treasury);
        self.losses.clone_from(&initial.losses);
    }

    /// Account `id` and its owner's wallet, to change.
    pub(crate) fn account_and_wallet_mut(&mut self, id: AccountId) -> (&mut Account, &mut f64) {
        self.touched.mark(id.0, self.accounts.len());
        (
            &mut self.accounts[id.index()],
            &mut self.wallets[id.index()],
        )
    }
}

/// Which accounts of a protocol a path has changed: each listed once, or all of them.
#[derive(Clone, Default)]
pub(crate) struct Touched {
    list: Vec<u32>,
    seen: Vec<bool>,
    /// Every account may have changed (a redistribution moves them all).
    pub(crate) all: bool,
}

/// The changes, not the flags' memory (which a reset keeps, and a new state has not yet sized).
impl std::fmt::Debug for Touched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Touched")
            .field("list", &self.list)
            .field("all", &self.all)
            .finish()
    }
}

impl Touched {
    /// The accounts changed, each once; `None` when all may have.
    pub(crate) fn ids(&self) -> Option<&[u32]> {
        (!self.all).then_some(self.list.as_slice())
    }

    /// Whether account `id` may have changed.
    pub(crate) fn contains(&self, id: u32) -> bool {
        self.all || self.seen.get(id as usize).copied().unwrap_or(false)
    }

    /// Nothing changed: the list and flags emptied, their memory kept.
    fn clear(&mut self) {
        for &i in &self.list {
            self.seen[i as usize] = false;
        }
        self.list.clear();
        if self.all {
            self.seen.fill(false);
            self.all = false;
        }
    }

    /// Records a change of account `id` of `count`.
    fn mark(&mut self, id: u32, count: usize) {
        if self.all {
            return;
        }
        if self.seen.len() < count {
            // Sized on first use, and kept: a reset clears it without freeing it.
            self.seen.resize(count, false);
        }
        let seen = &mut self.seen[id as usize];
        if !*seen {
            *seen = true;
            self.list.push(id);
        }
    }
}

/// Where a market of a perpetual-swap exchange reads and trades.
#[derive(Clone, Debug, PartialEq)]
pub struct PerpMarketInfo {
    /// The base asset.
    pub asset: AssetId,
    /// The venue where close-outs trade (the market's book) and whose price enters the mark.
    pub venue: VenueId,
    /// The oracle publishing the index price; `None` reads the fundamental.
    pub index: Option<OracleId>,
}

/// A perpetual-swap exchange's identity and rules.
#[derive(Clone, Debug, PartialEq)]
pub struct PerpInfo {
    /// Name (unique among all protocols).
    pub name: String,
    /// Liquidation engine and loss absorption.
    pub params: PerpParams,
    /// Markets' wiring, indexed by `MarketId`.
    pub markets: Vec<PerpMarketInfo>,
    /// Markets' rules (margin brackets, leverage, mark, funding), indexed by `MarketId`.
    pub rules: Vec<PerpMarketParams>,
    /// External labels of accounts loaded from files (empty for generated accounts).
    pub account_labels: Vec<String>,
}

/// The traders outside the simulated book who hold the other side of its open interest, per
/// market: every position opened or closed in the book is matched here at the same price, and
/// funding is paid to or by them on their net size, so profit and loss sum to zero.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counterparty {
    /// Net size, units (minus the book's net size).
    pub size: f64,
    /// Σ size × price of their trades, USD.
    pub cost: f64,
    /// Funding received, USD.
    pub cash: f64,
}

impl Counterparty {
    /// Cash plus the position marked at `mark`.
    pub fn value(&self, mark: f64) -> f64 {
        self.cash + self.size * mark - self.cost
    }
}

/// The liquidator vault's book: cash (capital, margins taken over, realised profit, funding) and
/// per market a net size with its cost.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VaultBook {
    /// Cash, USD.
    pub cash: f64,
    /// Net size per market, units.
    pub size: Vec<f64>,
    /// Σ size × entry per market, USD.
    pub cost: Vec<f64>,
    /// Positions taken over so far.
    pub takeovers: u64,
    /// Its lowest value so far at the marks of each round (its capital at the start), USD.
    pub lowest_value: f64,
}

impl VaultBook {
    /// Cash plus the positions marked at `marks`.
    pub fn value(&self, marks: &[f64]) -> f64 {
        self.cash
            + self
                .size
                .iter()
                .zip(&self.cost)
                .zip(marks)
                .map(|((s, c), m)| s * m - c)
                .sum::<f64>()
    }
}

/// The mutable state of a perpetual-swap exchange.
#[derive(Clone, Debug)]
pub struct PerpState {
    /// Margin accounts.
    pub accounts: Vec<PerpAccount>,
    /// Insurance fund balance, USD.
    pub fund: f64,
    /// Liquidator vault, if the exchange has one.
    pub vault: Option<VaultBook>,
    /// The other side of the book's open interest, per market.
    pub counterparties: Vec<Counterparty>,
    /// Deficit no fund, vault, deleveraging or socialisation covered, USD.
    pub uncovered: f64,
    /// Mark price per market, as of the last round.
    pub marks: Vec<f64>,
    /// Index price per market, as of the last round.
    pub indices: Vec<f64>,
    /// The index price each market had before its last change: Hyperliquid's "previous oracle
    /// price", at which its auto-deleveraging closes positions.
    pub previous_indices: Vec<f64>,
    /// Σ of per-step premiums in the current funding interval, and their count, per market.
    pub premium: Vec<(f64, u32)>,
    /// Accounts by liquidation price, so a round looks only at those the marks may have made
    /// liquidatable.
    pub index: PerpIndex,
    /// What auto-deleveraging needed and took so far.
    pub adl: AdlLedger,
}

/// What auto-deleveraging needed and what it took from the book, USD, summed over the bankrupt
/// accounts deleveraged (docs/outputs.md, `perp.adl`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AdlLedger {
    /// Σ over the accounts deleveraged of the shortfall their close into the book would have
    /// left beyond the insurance fund: the least profit the opposite positions must give up.
    pub needed_usd: f64,
    /// The smallest notional of opposite positions in profit (at the marks) whose whole
    /// unrealised profit covers each account's need: positions by decreasing profit per unit of
    /// notional, the last one in part (all of them when their profit falls short).
    pub min_notional_usd: f64,
    /// Notional at the marks of the book's positions closed that were in profit.
    pub profitable_notional_usd: f64,
    /// Profit the book's closed positions gave up against a close at the mark:
    /// Σ closed units × (mark − ADL price), signed for the position's side.
    pub haircut_usd: f64,
}

impl PerpState {
    /// Everything the exchange's participants hold, USD: wallets and positions of the accounts,
    /// the vault, the counterparties, the fund, less the uncovered deficit. Constant through a
    /// run (fees are paid into the fund), which the conservation tests check.
    pub fn total_value(&self) -> f64 {
        let accounts: f64 = self.accounts.iter().map(|a| a.equity(&self.marks)).sum();
        let counterparties: f64 = self
            .counterparties
            .iter()
            .zip(&self.marks)
            .map(|(c, m)| c.value(*m))
            .sum();
        let vault = self.vault.as_ref().map_or(0.0, |v| v.value(&self.marks));
        accounts + counterparties + vault + self.fund - self.uncovered
    }
}

/// Everything that changes during a run.
#[derive(Clone, Debug)]
pub struct State {
    /// Fundamental price processes, per asset.
    pub fundamentals: Vec<Fundamental>,
    /// Venues.
    pub venues: Vec<Venue>,
    /// Oracles.
    pub oracles: Vec<Oracle>,
    /// Protocols.
    pub protocols: Vec<ProtocolState>,
    /// Keepers' balances.
    pub keepers: Vec<KeeperBook>,
    /// Perpetual-swap exchanges.
    pub perps: Vec<PerpState>,
    /// Per protocol: its liquidation mechanism's rules and state (running auctions, a pool, a
    /// vault, reserves, the prices its rules look back at), beside the protocol's book.
    pub(crate) mechanisms: Vec<MechanismState>,
}

impl State {
    /// Back to `initial` (a world's state at time 0) in place: the books restore only what
    /// changed, the rest is copied into the memory already held.
    pub(crate) fn restore_from(&mut self, initial: &State) {
        self.fundamentals.clone_from(&initial.fundamentals);
        self.venues.clone_from(&initial.venues);
        self.oracles.clone_from(&initial.oracles);
        for (protocol, start) in self.protocols.iter_mut().zip(&initial.protocols) {
            protocol.restore_from(start);
        }
        self.keepers.clone_from(&initial.keepers);
        self.perps.clone_from(&initial.perps);
        self.mechanisms.clone_from(&initial.mechanisms);
    }

    /// A copy for a new path. The account books, the bulk of it, are copied in parallel (in
    /// order, so the copy is the same whatever the number of threads).
    pub fn duplicate(&self) -> State {
        let protocols = self
            .protocols
            .iter()
            .map(|p| {
                let (accounts, index) = rayon::join(
                    || p.accounts.par_iter().cloned().collect(),
                    || p.index.clone(),
                );
                ProtocolState {
                    accounts,
                    index,
                    treasury: p.treasury.clone(),
                    losses: p.losses.clone(),
                    wallets: p.wallets.clone(),
                    touched: Touched::default(),
                    batches: p.batches.clone(),
                }
            })
            .collect();
        State {
            fundamentals: self.fundamentals.clone(),
            venues: self.venues.clone(),
            oracles: self.oracles.clone(),
            protocols,
            keepers: self.keepers.clone(),
            perps: self.perps.clone(),
            mechanisms: self.mechanisms.clone(),
        }
    }
}

/// The constant description of a simulation and its initial state.
#[derive(Clone, Debug)]
pub struct World {
    /// Run-wide settings.
    pub simulation: Simulation,
    /// Assets.
    pub assets: Vec<AssetInfo>,
    /// Venues.
    pub venues: Vec<VenueInfo>,
    /// Oracles.
    pub oracles: Vec<OracleInfo>,
    /// Protocols.
    pub protocols: Vec<ProtocolInfo>,
    /// Keepers.
    pub keepers: Vec<KeeperInfo>,
    /// Perpetual-swap exchanges.
    pub perps: Vec<PerpInfo>,
    /// Instant shocks, per asset.
    pub shocks: Vec<(AssetId, Shock)>,
    /// The chain agents' transactions go through; `None` acts at once, without gas.
    pub chain: Option<ChainParams>,
    /// Lower Cholesky factor of the correlation of the stochastic assets' innovations, with the
    /// assets it covers; `None` when innovations are independent.
    pub correlation: Option<(Vec<AssetId>, Vec<Vec<f64>>)>,
    /// State at time 0.
    pub initial: State,
    /// Per protocol, the totals of its book at time 0 (`PositionsOpened`), summed once for
    /// every path.
    pub opening: Vec<BookTotals>,
    /// Per protocol, what batched liquidation needs of it (where its rules allow it), built at
    /// the first use by an engine that batches and shared by every path.
    batching: OnceLock<Vec<Option<Arc<ProtocolBatches>>>>,
}

/// The most paths a world can run: an asset whose driver reads a path ensemble runs path k on
/// the ensemble's k-th path, so paths 0 … `paths` − 1 exist and no others.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathLimit {
    /// The asset with the smallest ensemble.
    pub asset: AssetId,
    /// How many paths its ensemble holds.
    pub paths: u64,
    /// The ensemble's file, as the scenario names it.
    pub file: String,
}

/// Collateral and debt units of a book, per asset, summed in account order: of all its
/// accounts, and of its open ones (those owing something), which the end-of-run mark starts from
/// when a path touched few accounts.
#[derive(Clone, Debug, PartialEq)]
pub struct BookTotals {
    /// Accounts in the book.
    pub accounts: u64,
    /// Collateral units per asset.
    pub collateral: Vec<f64>,
    /// Debt units per asset.
    pub debt: Vec<f64>,
    /// Accounts owing something (debt > 0).
    pub open_accounts: u64,
    /// Collateral units per asset of the open accounts.
    pub open_collateral: Vec<f64>,
    /// Debt units per asset of the open accounts.
    pub open_debt: Vec<f64>,
}

impl BookTotals {
    /// The totals of `accounts`, over `assets` assets.
    pub fn of(accounts: &[Account], assets: usize) -> Self {
        let mut collateral = vec![0.0; assets];
        let mut debt = vec![0.0; assets];
        let mut open_collateral = vec![0.0; assets];
        let mut open_debt = vec![0.0; assets];
        let mut open_accounts = 0;
        for account in accounts {
            for &(asset, units) in &account.collateral {
                collateral[asset.index()] += units;
            }
            debt[account.debt_asset.index()] += account.debt;
            if account.debt > 0.0 {
                open_accounts += 1;
                for &(asset, units) in &account.collateral {
                    open_collateral[asset.index()] += units;
                }
                open_debt[account.debt_asset.index()] += account.debt;
            }
        }
        Self {
            accounts: accounts.len() as u64,
            collateral,
            debt,
            open_accounts,
            open_collateral,
            open_debt,
        }
    }
}

impl World {
    /// Assembles a world. Accounts are indexed here; oracles publish their sources' values at
    /// time 0.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        simulation: Simulation,
        assets: Vec<AssetInfo>,
        fundamentals: Vec<Fundamental>,
        venues: Vec<(VenueInfo, Venue)>,
        oracles: Vec<(OracleInfo, Oracle)>,
        protocols: Vec<(ProtocolInfo, Vec<Account>)>,
        keepers: Vec<KeeperInfo>,
        perps: Vec<(PerpInfo, Vec<PerpAccount>)>,
        shocks: Vec<(AssetId, Shock)>,
        correlation: Option<(Vec<AssetId>, Vec<Vec<f64>>)>,
    ) -> Self {
        let asset_count = assets.len();
        let (venue_info, venue_state): (Vec<_>, Vec<_>) = venues.into_iter().unzip();
        let (oracle_info, oracle_state): (Vec<_>, Vec<_>) = oracles.into_iter().unzip();
        let mut protocol_info = Vec::with_capacity(protocols.len());
        let mut protocol_state = Vec::with_capacity(protocols.len());
        let mut mechanisms = Vec::with_capacity(protocols.len());
        for (info, accounts) in protocols {
            let index = LiquidationIndex::build(&info.params, &accounts);
            let prices: Vec<f64> = (0..asset_count)
                .map(|a| {
                    price_seen(
                        &info.oracle_for,
                        &oracle_state,
                        &fundamentals,
                        AssetId(a as u32),
                    )
                })
                .collect();
            mechanisms.push(MechanismState::open(
                &info.params.liquidation,
                &accounts,
                &prices,
            ));
            let wallets = if info.borrowers.is_empty() {
                Vec::new()
            } else {
                (0..accounts.len() as u32)
                    .map(|i| {
                        let account = &accounts[i as usize];
                        info.borrower(AccountId(i)).map_or(0.0, |b| {
                            b.reserve
                                * match b.action {
                                    BorrowerAction::TopUp => {
                                        account.collateral.first().map_or(0.0, |c| c.1)
                                    }
                                    BorrowerAction::Repay => account.debt,
                                }
                        })
                    })
                    .collect()
            };
            protocol_state.push(ProtocolState {
                touched: Touched::default(),
                batches: Vec::new(),
                wallets,
                accounts,
                index,
                treasury: vec![0.0; asset_count],
                losses: info.insurance.map(LossAbsorber::new),
            });
            protocol_info.push(info);
        }
        let (perp_info, perp_state) = perps
            .into_iter()
            .map(|(info, accounts)| {
                let state =
                    PerpState::open(&info, accounts, &fundamentals, &oracle_state, &venue_state);
                (info, state)
            })
            .unzip();
        let keeper_books = keepers
            .iter()
            .map(|_| KeeperBook::new(asset_count))
            .collect();
        Self {
            simulation,
            assets,
            venues: venue_info,
            oracles: oracle_info,
            protocols: protocol_info,
            keepers,
            perps: perp_info,
            shocks,
            chain: None,
            correlation,
            opening: protocol_state
                .iter()
                .map(|p| BookTotals::of(&p.accounts, asset_count))
                .collect(),
            initial: State {
                fundamentals,
                venues: venue_state,
                oracles: oracle_state,
                protocols: protocol_state,
                keepers: keeper_books,
                perps: perp_state,
                mechanisms,
            },
            batching: OnceLock::new(),
        }
    }

    /// Per protocol, what batched liquidation needs of it, if its rules allow batching.
    pub(crate) fn batching(&self) -> &[Option<Arc<ProtocolBatches>>] {
        self.batching
            .get_or_init(|| ProtocolBatches::for_world(self))
    }

    /// Index of an asset by symbol.
    pub fn asset(&self, symbol: &str) -> Option<AssetId> {
        self.assets
            .iter()
            .position(|a| a.symbol == symbol)
            .map(|i| AssetId(i as u32))
    }

    /// The most paths the world can run (the smallest ensemble over its assets, the first such
    /// asset on a tie), or `None` when no driver bounds them.
    pub fn path_limit(&self) -> Option<PathLimit> {
        self.initial
            .fundamentals
            .iter()
            .enumerate()
            .filter_map(|(a, f)| {
                f.driver().ensemble().map(|ensemble| PathLimit {
                    asset: AssetId(a as u32),
                    paths: ensemble.count(),
                    file: ensemble.source().to_string(),
                })
            })
            .min_by_key(|limit| limit.paths)
    }

    /// Index of a perpetual-swap exchange by name.
    pub fn perp(&self, name: &str) -> Option<PerpId> {
        self.perps
            .iter()
            .position(|p| p.name == name)
            .map(|i| PerpId(i as u32))
    }

    /// Index of a protocol by name.
    pub fn protocol(&self, name: &str) -> Option<ProtocolId> {
        self.protocols
            .iter()
            .position(|p| p.name == name)
            .map(|i| ProtocolId(i as u32))
    }

    /// The price a protocol sees for `asset` in `state`: its oracle's published price, or the
    /// fundamental when the protocol names no oracle for the asset; the fallback oracle's price
    /// while the protocol falls back for the asset ([`World::feed_choice`]).
    pub fn protocol_price(&self, state: &State, protocol: ProtocolId, asset: AssetId) -> f64 {
        let info = &self.protocols[protocol.index()];
        if info.staleness.is_some() {
            if let Some((FeedChoice::Fallback, Some(fallback))) =
                self.feed_choice(state, protocol, asset)
            {
                return state.oracles[fallback.index()].published();
            }
        }
        price_seen(&info.oracle_for, &state.oracles, &state.fundamentals, asset)
    }

    /// Which feed a protocol with a staleness check uses for `asset` in `state`, with the
    /// asset's fallback oracle; `None` when the protocol has no check or prices the asset at its
    /// fundamental (which never ages).
    pub fn feed_choice(
        &self,
        state: &State,
        protocol: ProtocolId,
        asset: AssetId,
    ) -> Option<(FeedChoice, Option<OracleId>)> {
        let info = &self.protocols[protocol.index()];
        let guard = info.staleness.as_ref()?;
        let primary = info.oracle_for[asset.index()]?;
        let fallback = guard.fallback_for[asset.index()];
        let choice = guard.rule.choose(
            state.oracles[primary.index()].age(),
            fallback.map(|o| state.oracles[o.index()].age()),
        );
        Some((choice, fallback))
    }

    /// Whether protocol `protocol` pauses for some asset in `state`; if so, `paused` holds a
    /// flag per asset (cleared otherwise).
    pub fn paused_assets(
        &self,
        state: &State,
        protocol: ProtocolId,
        paused: &mut Vec<bool>,
    ) -> bool {
        paused.clear();
        if self.protocols[protocol.index()].staleness.is_none() {
            return false;
        }
        paused.extend((0..self.assets.len()).map(|a| {
            matches!(
                self.feed_choice(state, protocol, AssetId(a as u32)),
                Some((FeedChoice::Paused, _))
            )
        }));
        if paused.iter().any(|&p| p) {
            true
        } else {
            paused.clear();
            false
        }
    }
}

/// The price of `asset` for a protocol reading `oracle_for`: its oracle's published price, or
/// the fundamental when it names no oracle for the asset.
fn price_seen(
    oracle_for: &[Option<OracleId>],
    oracles: &[Oracle],
    fundamentals: &[Fundamental],
    asset: AssetId,
) -> f64 {
    match oracle_for[asset.index()] {
        Some(oracle) => oracles[oracle.index()].published(),
        None => fundamentals[asset.index()].price(),
    }
}

impl PerpState {
    /// The state at time 0: marks by each market's rule (no premium yet), the counterparties
    /// holding the other side of every position at its entry price, the fund and vault at their
    /// starting balances.
    fn open(
        info: &PerpInfo,
        accounts: Vec<PerpAccount>,
        fundamentals: &[Fundamental],
        oracles: &[Oracle],
        venues: &[Venue],
    ) -> Self {
        let indices: Vec<f64> = info
            .markets
            .iter()
            .map(|m| match m.index {
                Some(o) => oracles[o.index()].published(),
                None => fundamentals[m.asset.index()].price(),
            })
            .collect();
        let mut counterparties = vec![Counterparty::default(); info.markets.len()];
        for account in &accounts {
            for p in &account.positions {
                let c = &mut counterparties[p.market.index()];
                c.size -= p.size;
                c.cost -= p.size * p.entry;
            }
        }
        let marks: Vec<f64> = info
            .markets
            .iter()
            .zip(&info.rules)
            .zip(&indices)
            .map(|((m, rule), &index)| {
                let venue = venues[m.venue.index()].price(fundamentals[m.asset.index()].price());
                mark_price(rule.mark, index, venue, 0.0)
            })
            .collect();
        let markets = info.markets.len();
        let index = PerpIndex::build(&accounts, &info.rules, &marks);
        Self {
            index,
            accounts,
            fund: info.params.insurance_fund_usd,
            vault: info.params.vault.map(|v| VaultBook {
                cash: v.capital_usd,
                size: vec![0.0; markets],
                cost: vec![0.0; markets],
                takeovers: 0,
                lowest_value: v.capital_usd,
            }),
            counterparties,
            uncovered: 0.0,
            marks,
            previous_indices: indices.clone(),
            indices,
            premium: vec![(0.0, 0); markets],
            adl: AdlLedger::default(),
        }
    }
}
