//! Lending liquidation mechanisms as plug-ins: one trait, one file per mechanism, one closed enum
//! that dispatches to them, and one driver of a protocol's round that owns what they all share.
//!
//! - [`LiquidationMechanism`] is what a mechanism implements: its per-path state, and hooks for
//!   the start of a round (processes already under way), one liquidatable account, the end of a
//!   round, phase 6, the end of a step, and the end-of-run marks.
//! - Each mechanism lives in its own file, which opens with the protocol's rules it implements
//!   and the contracts it follows: `close_factor` (fixed spread, Aave v3, Compound v2, Morpho
//!   Blue, Euler v2), `dutch_auction` (Maker Liquidations 2.0), `english_auction` (Maker
//!   Liquidations 1.2), `backstop` (liquidation via transfer), `comet` (Compound III) and
//!   `liquity` (Liquity v1). A protocol's jargon stays in its file.
//! - [`MechanismState`] is a protocol's mechanism in one path, its rules with its state: a closed
//!   enum with one variant per mechanism, built from the model's `LiquidationRule` by one
//!   exhaustive match. Every dispatch matches it with one arm per variant and no wildcard, so a
//!   new variant breaks the build exactly where a decision is needed. Each arm calls a generic
//!   function, monomorphised per mechanism: one match per protocol and round, static calls in
//!   the per-account loop, no `Box<dyn>` and no engine generic over mechanisms.
//! - [`settle_round`] is the shared driver of a protocol's round: processes under way, the
//!   settlement schedule, pruning the index, candidates, confirmation, episodes (when an account
//!   was first found liquidatable), the rate limit, accounts left without collateral and
//!   `LiquidationsMissed`.
//!
//! A protocol's mechanism state lives beside its book (`State::mechanisms`), not inside
//! `ProtocolState`: a round borrows the book and the mechanism's state at once, and every change
//! of an account still goes through `ProtocolState::account_mut`. The initial states are built
//! once per world (`World::new`, from the initial book) and copied with the path's state.
//!
//! A mechanism sees a context, never the engine: [`Round`] in the cascade, [`StepCx`] in phase 6,
//! [`MarkCx`] at the end of the run (`context.rs`). Each is a handful of disjoint borrows of the
//! path's state, built once per protocol and round, so a mechanism's type says what it may touch
//! (its protocol's book through `ProtocolState::account_mut`, the keepers' books and pending
//! sales, the transaction gate, the limits, the sink) and the borrow checker enforces it. The
//! contexts are narrow where a narrower one says something (phase 6 may move venues, a mark only
//! records) and one `Round` otherwise: splitting the round further would only thread more
//! arguments through the same calls. Building a context is a few pointer copies and every call
//! through it is static, so the engine runs as fast as when mechanisms were methods of the engine
//! (the million-position benchmarks measure it).

mod backstop;
mod batch;
mod close_factor;
mod comet;
mod context;
mod dutch_auction;
mod english_auction;
mod liquity;

use cascade_model::ids::{AccountId, AssetId};
use cascade_model::lending::{Account, LiquidationIndex, LiquidationRule};

pub(crate) use batch::{ClosedBatch, ProtocolBatches};
pub(crate) use context::{AuctionClose, BadDebt, MarkCx, Round, StepCx};

use crate::event::{BookMark, EventKind};
use crate::world::World;

/// A lending liquidation mechanism: the rules of one design and what it does at each point of a
/// step. Hooks a mechanism does not need default to doing nothing.
pub(crate) trait LiquidationMechanism {
    /// What the mechanism keeps per path: running auctions, a pool's deposits, a vault's
    /// inventory, the prices its rules look back at.
    type State: Clone + std::fmt::Debug;
    /// What confirming a candidate finds: its health factor, or the mechanism's own measure.
    type Finding;

    /// The state at the start of a path, from the protocol's initial book and its prices at
    /// time 0.
    fn open(&self, accounts: &[Account], prices: &[f64]) -> Self::State;

    /// Whether debt left on an account with no collateral is written off (realised bad debt)
    /// rather than left on the account.
    fn writes_off_bad_debt(&self) -> bool;

    /// Whether the protocol's settlement schedule (`epoch_seconds`) gates new liquidations.
    fn follows_epochs(&self) -> bool {
        true
    }

    /// Whether the mechanism has nothing under way in `state`: no process to advance at the start
    /// of a round, nothing to do at its end or in phase 6. A round of a protocol at rest whose
    /// index finds no candidate changes nothing, so a step where every protocol is so skips its
    /// cascade (`Cx::is_quiet`). The default, never at rest, is always correct.
    fn at_rest(&self, _state: &Self::State) -> bool {
        false
    }

    /// Whether [`Self::step_ended`] reads the step-end prices (when not, the engine does not
    /// compute them).
    fn watches_step_ends(&self) -> bool {
        true
    }

    /// The start of a round, whatever the settlement schedule: processes already under way
    /// (auction resets, takes and bids, purchases). Returns how many acted.
    fn advance(&self, _state: &mut Self::State, _round: &mut Round<'_>) -> u64 {
        0
    }

    /// Liquidates at once, before the round's candidates are looked up, the accounts the
    /// mechanism can close in one batch (`batch.rs`), when the engine batches and the round's
    /// context carries the protocol's batching sums. Returns the accounts liquidated.
    fn liquidate_batches(&self, _state: &mut Self::State, _round: &mut Round<'_>) -> u64 {
        0
    }

    /// The price of `asset` at which the protocol's index is asked for candidates.
    fn lookup_price(&self, _state: &Self::State, prices: &[f64], asset: AssetId) -> f64 {
        prices[asset.index()]
    }

    /// Whether candidate `id` is liquidatable now, and what was found.
    fn confirm(
        &self,
        state: &Self::State,
        round: &Round<'_>,
        id: AccountId,
    ) -> Option<Self::Finding>;

    /// Acts on liquidatable account `id`, which has collateral and fits the rate limit. Returns
    /// whether it did (if not, the account counts as missed).
    fn liquidate(
        &self,
        state: &mut Self::State,
        round: &mut Round<'_>,
        id: AccountId,
        found: Self::Finding,
    ) -> bool;

    /// The end of the protocol's part of a round.
    fn end_round(&self, _state: &mut Self::State, _round: &mut Round<'_>) {}

    /// Phase 6: what the mechanism does as time passes (a vault's unwind).
    fn time_driven(&self, _state: &mut Self::State, _cx: &mut StepCx<'_>) {}

    /// The end of a step, at the protocol's step-end `prices`.
    fn step_ended(&self, _state: &mut Self::State, _world: &World, _prices: &[f64]) {}

    /// Adds what the mechanism holds of the protocol's book (running auctions) to its end-of-run
    /// mark, at `prices`.
    fn mark_book(&self, _state: &Self::State, _prices: &[f64], _mark: &mut BookMark) {}

    /// The mechanism's own end-of-run mark (a pool's, reserves', a vault's).
    fn mark(&self, _state: &Self::State, _cx: &mut MarkCx<'_>) {}
}

/// A mechanism's rules with its state in one path.
#[derive(Clone, Debug)]
pub(crate) struct Running<M: LiquidationMechanism> {
    rules: M,
    state: M::State,
}

impl<M: LiquidationMechanism> Running<M> {
    fn open(rules: M, accounts: &[Account], prices: &[f64]) -> Self {
        let state = rules.open(accounts, prices);
        Self { rules, state }
    }
}

/// A protocol's liquidation mechanism in one path: its rules and its state.
#[derive(Clone, Debug)]
pub(crate) enum MechanismState {
    /// One call per account by keepers (fixed spread and the protocol rules with a close
    /// factor).
    CloseFactor(Running<close_factor::CloseFactor>),
    /// Dutch auctions (Maker Liquidations 2.0).
    DutchAuction(Running<dutch_auction::DutchAuction>),
    /// English auctions (Maker Liquidations 1.2).
    EnglishAuction(Running<english_auction::EnglishAuction>),
    /// Liquidation via transfer to a backstop vault.
    Backstop(Running<backstop::Backstop>),
    /// Compound III absorb and buyCollateral.
    Comet(Running<comet::Comet>),
    /// Liquity v1's Stability Pool and redistribution.
    Liquity(Running<liquity::Liquity>),
}

impl MechanismState {
    /// The mechanism of `rule` at the start of a path, from the protocol's initial book and its
    /// prices at time 0.
    pub(crate) fn open(rule: &LiquidationRule, accounts: &[Account], prices: &[f64]) -> Self {
        use close_factor::CloseFactor;
        match *rule {
            LiquidationRule::FixedSpread(spread) => Self::CloseFactor(Running::open(
                CloseFactor::fixed_spread(spread),
                accounts,
                prices,
            )),
            LiquidationRule::AaveV3 { .. } => Self::CloseFactor(Running::open(
                CloseFactor::protocol(*rule),
                accounts,
                prices,
            )),
            LiquidationRule::AaveV4(_) => Self::CloseFactor(Running::open(
                CloseFactor::protocol(*rule),
                accounts,
                prices,
            )),
            LiquidationRule::CompoundV2 { .. } => Self::CloseFactor(Running::open(
                CloseFactor::protocol(*rule),
                accounts,
                prices,
            )),
            LiquidationRule::MorphoBlue => Self::CloseFactor(Running::open(
                CloseFactor::protocol(*rule),
                accounts,
                prices,
            )),
            LiquidationRule::EulerV2 { .. } => Self::CloseFactor(Running::open(
                CloseFactor::protocol(*rule),
                accounts,
                prices,
            )),
            LiquidationRule::DutchAuction(params) => Self::DutchAuction(Running::open(
                dutch_auction::DutchAuction(params),
                accounts,
                prices,
            )),
            LiquidationRule::EnglishAuction(params) => Self::EnglishAuction(Running::open(
                english_auction::EnglishAuction(params),
                accounts,
                prices,
            )),
            LiquidationRule::Backstop(params) => {
                Self::Backstop(Running::open(backstop::Backstop(params), accounts, prices))
            }
            LiquidationRule::CometAbsorb(params) => {
                Self::Comet(Running::open(comet::Comet(params), accounts, prices))
            }
            LiquidationRule::Liquity(params) => {
                Self::Liquity(Running::open(liquity::Liquity(params), accounts, prices))
            }
        }
    }

    /// Whether debt left on an account with no collateral is written off.
    pub(crate) fn writes_off_bad_debt(&self) -> bool {
        match self {
            Self::CloseFactor(m) => m.rules.writes_off_bad_debt(),
            Self::DutchAuction(m) => m.rules.writes_off_bad_debt(),
            Self::EnglishAuction(m) => m.rules.writes_off_bad_debt(),
            Self::Backstop(m) => m.rules.writes_off_bad_debt(),
            Self::Comet(m) => m.rules.writes_off_bad_debt(),
            Self::Liquity(m) => m.rules.writes_off_bad_debt(),
        }
    }

    /// The protocol's part of a cascade round. Returns the number of liquidations, write-offs
    /// and other actions.
    pub(crate) fn settle_round(&mut self, round: &mut Round<'_>) -> u64 {
        match self {
            Self::CloseFactor(m) => settle_round(m, round),
            Self::DutchAuction(m) => settle_round(m, round),
            Self::EnglishAuction(m) => settle_round(m, round),
            Self::Backstop(m) => settle_round(m, round),
            Self::Comet(m) => settle_round(m, round),
            Self::Liquity(m) => settle_round(m, round),
        }
    }

    /// Phase 6.
    pub(crate) fn time_driven(&mut self, cx: &mut StepCx<'_>) {
        match self {
            Self::CloseFactor(m) => m.rules.time_driven(&mut m.state, cx),
            Self::DutchAuction(m) => m.rules.time_driven(&mut m.state, cx),
            Self::EnglishAuction(m) => m.rules.time_driven(&mut m.state, cx),
            Self::Backstop(m) => m.rules.time_driven(&mut m.state, cx),
            Self::Comet(m) => m.rules.time_driven(&mut m.state, cx),
            Self::Liquity(m) => m.rules.time_driven(&mut m.state, cx),
        }
    }

    /// Whether the mechanism is at rest and the protocol's `index` finds no candidate at its
    /// lookup prices: its round would change nothing.
    pub(crate) fn is_idle(&self, index: &LiquidationIndex, prices: &[f64]) -> bool {
        match self {
            Self::CloseFactor(m) => is_idle(m, index, prices),
            Self::DutchAuction(m) => is_idle(m, index, prices),
            Self::EnglishAuction(m) => is_idle(m, index, prices),
            Self::Backstop(m) => is_idle(m, index, prices),
            Self::Comet(m) => is_idle(m, index, prices),
            Self::Liquity(m) => is_idle(m, index, prices),
        }
    }

    /// Whether the mechanism reads the step-end prices.
    pub(crate) fn watches_step_ends(&self) -> bool {
        match self {
            Self::CloseFactor(m) => m.rules.watches_step_ends(),
            Self::DutchAuction(m) => m.rules.watches_step_ends(),
            Self::EnglishAuction(m) => m.rules.watches_step_ends(),
            Self::Backstop(m) => m.rules.watches_step_ends(),
            Self::Comet(m) => m.rules.watches_step_ends(),
            Self::Liquity(m) => m.rules.watches_step_ends(),
        }
    }

    /// The end of a step, at the protocol's step-end prices.
    pub(crate) fn step_ended(&mut self, world: &World, prices: &[f64]) {
        match self {
            Self::CloseFactor(m) => m.rules.step_ended(&mut m.state, world, prices),
            Self::DutchAuction(m) => m.rules.step_ended(&mut m.state, world, prices),
            Self::EnglishAuction(m) => m.rules.step_ended(&mut m.state, world, prices),
            Self::Backstop(m) => m.rules.step_ended(&mut m.state, world, prices),
            Self::Comet(m) => m.rules.step_ended(&mut m.state, world, prices),
            Self::Liquity(m) => m.rules.step_ended(&mut m.state, world, prices),
        }
    }

    /// Adds what the mechanism holds of the book to its end-of-run mark.
    pub(crate) fn mark_book(&self, prices: &[f64], mark: &mut BookMark) {
        match self {
            Self::CloseFactor(m) => m.rules.mark_book(&m.state, prices, mark),
            Self::DutchAuction(m) => m.rules.mark_book(&m.state, prices, mark),
            Self::EnglishAuction(m) => m.rules.mark_book(&m.state, prices, mark),
            Self::Backstop(m) => m.rules.mark_book(&m.state, prices, mark),
            Self::Comet(m) => m.rules.mark_book(&m.state, prices, mark),
            Self::Liquity(m) => m.rules.mark_book(&m.state, prices, mark),
        }
    }

    /// The mechanism's own end-of-run mark.
    pub(crate) fn mark(&self, cx: &mut MarkCx<'_>) {
        match self {
            Self::CloseFactor(m) => m.rules.mark(&m.state, cx),
            Self::DutchAuction(m) => m.rules.mark(&m.state, cx),
            Self::EnglishAuction(m) => m.rules.mark(&m.state, cx),
            Self::Backstop(m) => m.rules.mark(&m.state, cx),
            Self::Comet(m) => m.rules.mark(&m.state, cx),
            Self::Liquity(m) => m.rules.mark(&m.state, cx),
        }
    }
}

fn is_idle<M: LiquidationMechanism>(
    m: &Running<M>,
    index: &LiquidationIndex,
    prices: &[f64],
) -> bool {
    m.rules.at_rest(&m.state)
        && !index.may_have_candidates(&|a: AssetId| m.rules.lookup_price(&m.state, prices, a))
}

/// One round of one protocol, the same for every mechanism: processes already under way go on
/// whatever the settlement schedule; then, when the schedule allows, the index (pruned) gives the
/// candidates at the mechanism's lookup prices, in key order, and each candidate the mechanism
/// confirms starts an episode (if none is under way) and is liquidated, unless the protocol's
/// rate limit for the step is used up or the mechanism does not act (it is missed then); an
/// account without collateral is settled instead (its debt written off or left, by the rule).
/// An account that needs a price the protocol pauses on (a stale feed) waits, and no batch runs
/// while any price is paused. Paused and missed accounts are recorded (`LiquidationsPaused`,
/// `LiquidationsMissed`) before the round ends. Returns the number
/// of actions, liquidations and write-offs.
fn settle_round<M: LiquidationMechanism>(m: &mut Running<M>, r: &mut Round<'_>) -> u64 {
    let Running { rules, state } = m;
    let mut activity = rules.advance(state, r);
    let scheduled = !rules.follows_epochs()
        || r.info
            .params
            .epoch_seconds
            .is_none_or(|epoch| r.time % epoch == 0);
    if scheduled {
        if r.paused.is_empty() {
            // A batch reads no account's assets: it runs only while no price is paused.
            activity += rules.liquidate_batches(state, r);
        }
        let mut candidates = std::mem::take(r.candidates);
        candidates.clear();
        r.book.index.prune();
        let prices = r.prices;
        let lookup = |a: AssetId| rules.lookup_price(state, prices, a);
        r.book.index.candidates(&lookup, &mut candidates);
        let (mut missed, mut paused) = (0, 0);
        for &id in &candidates {
            let Some(found) = rules.confirm(state, r, id) else {
                continue;
            };
            r.start_episode(id);
            if r.is_paused(id) {
                // A price it needs is stale and the protocol pauses: the account waits.
                paused += 1;
                continue;
            }
            if r.allowance_usd() <= 0.0 {
                // The protocol's rate limit for this step is used up: the account waits.
                missed += 1;
                continue;
            }
            if !r.account(id).has_collateral() {
                // Debt with nothing to seize: written off, or left on the account, by the rule.
                r.settle_account(id);
                activity += u64::from(r.bad_debt == BadDebt::WrittenOff);
                continue;
            }
            if rules.liquidate(state, r, id, found) {
                activity += 1;
            } else {
                missed += 1;
            }
        }
        *r.candidates = candidates;
        if paused > 0 {
            let protocol = r.id;
            r.emit(EventKind::LiquidationsPaused {
                protocol,
                count: paused,
            });
        }
        if missed > 0 {
            let protocol = r.id;
            r.emit(EventKind::LiquidationsMissed {
                protocol,
                count: missed,
            });
        }
    }
    rules.end_round(state, r);
    activity
}

/// The account's collateral worth the most at `prices`, which liquidators seize first.
fn richest_collateral(account: &Account, prices: &[f64]) -> Option<(AssetId, f64)> {
    account
        .collateral
        .iter()
        .filter(|c| c.1 > 0.0)
        .max_by(|a, b| (a.1 * prices[a.0.index()]).total_cmp(&(b.1 * prices[b.0.index()])))
        .copied()
}
