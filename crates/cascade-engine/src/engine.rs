//! The step loop and the settle-until-quiet cascade.

mod borrowers;
mod chain;
mod depth;
mod episodes;
pub(crate) mod mechanism;
mod perp;

use std::sync::Arc;

use cascade_model::fundamental::Fundamental;
use cascade_model::ids::{AccountId, AssetId, KeeperId, OracleId, PerpId, ProtocolId, VenueId};
use cascade_model::lending::Account;
use cascade_model::oracle::FeedChoice;
use cascade_model::rng::{RngStream, stream};
use rand_distr::{Distribution, StandardNormal};

use crate::event::{BookMark, Event, EventKind, SaleRecord};
use crate::sink::EventSink;
use crate::world::{BookTotals, OracleSource, ProtocolState, State, World};
use episodes::Episodes;
use mechanism::{BadDebt, MarkCx, Round, StepCx};

/// Collateral a keeper has seized this round and will sell at the round's end.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PendingSale {
    keeper: KeeperId,
    venue: VenueId,
    units: f64,
    oracle_value: f64,
    /// Whether the sale moves its venue: muted when the protocol it comes from is
    /// ([`Engine::mute_impact`]).
    impact: Impact,
}

/// Whether a source's forced trades move the venues they trade on: always, except in the
/// counterfactual runs of an attribution, where a muted source trades at the venue's current
/// price without moving it (as into infinite depth).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Impact {
    /// Its trades move the venue (every run but a counterfactual).
    #[default]
    Moves,
    /// Its trades fill at the venue's current price and leave the venue as it was.
    Muted,
}

/// What a watcher of a run ([`Engine::run_watched`]) may change between steps: the levers of an
/// adaptive policy. Every path starts without any (a reset clears them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Controls {
    /// A circuit breaker: each lending protocol liquidates at most this much debt (USD) per
    /// step, or its own `liquidation_limit_usd_per_step` if lower; the accounts beyond it wait
    /// for the next step. `None`: only the protocol's own limit.
    pub throttle_usd_per_step: Option<f64>,
}

/// Which sources of forced trades are muted ([`Impact::Muted`]): per lending protocol and per
/// perp exchange, in world order. Empty lists mute nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MutedImpact {
    /// Per lending protocol.
    pub protocols: Vec<bool>,
    /// Per perp exchange.
    pub perps: Vec<bool>,
}

impl MutedImpact {
    /// The impact of protocol `p`'s sales.
    pub(crate) fn protocol(&self, p: ProtocolId) -> Impact {
        Self::of(&self.protocols, p.index())
    }

    /// The impact of perp exchange `x`'s close-outs.
    pub(crate) fn perp(&self, x: PerpId) -> Impact {
        Self::of(&self.perps, x.index())
    }

    fn of(muted: &[bool], i: usize) -> Impact {
        if muted.get(i).copied().unwrap_or(false) {
            Impact::Muted
        } else {
            Impact::Moves
        }
    }
}

/// Seized collateral on its way to the venues.
#[derive(Clone, Debug)]
pub(crate) struct Sales {
    /// Sales at the end of this round, in seizure order.
    pending: Vec<PendingSale>,
    /// Units pending per venue: a keeper's quote sells after them.
    by_venue: Vec<f64>,
    /// Sales waiting out a keeper's sale delay, with the time they arrive, in seizure order.
    delayed: Vec<(u64, PendingSale)>,
}

impl Sales {
    fn new(venues: usize) -> Self {
        Self {
            pending: Vec::new(),
            by_venue: vec![0.0; venues],
            delayed: Vec::new(),
        }
    }

    /// No sale pending or on its way (the memory kept).
    fn clear(&mut self) {
        self.pending.clear();
        self.by_venue.fill(0.0);
        self.delayed.clear();
    }

    /// Queues `sale` for the end of the round, or for `delay` seconds after `now`.
    fn queue(&mut self, sale: PendingSale, delay: u64, now: u64) {
        if delay > 0 {
            self.delayed.push((now + delay, sale));
            return;
        }
        self.pending_now(sale);
    }

    /// `sale` sells at the end of this round; a muted sale does not count against the venue's
    /// depth in keepers' quotes.
    fn pending_now(&mut self, sale: PendingSale) {
        if sale.impact == Impact::Moves {
            self.by_venue[sale.venue.index()] += sale.units;
        }
        self.pending.push(sale);
    }
}

/// Buffers a step reuses, so that the step loop allocates nothing once a path has run: each is
/// taken, filled and put back. What they hold between uses means nothing (so `Debug` shows none
/// of it).
#[derive(Clone, Default)]
pub(crate) struct Scratch {
    /// A protocol's prices, per asset.
    prices: Vec<f64>,
    /// A protocol's paused assets (a stale feed), per asset.
    paused: Vec<bool>,
    /// The step's Gaussian innovations, per asset, and their independent draws.
    innovations: Vec<f64>,
    independent: Vec<f64>,
    /// An oracle's source readings.
    readings: Vec<f64>,
    /// Accounts the index names at the end-of-run prices.
    candidates: Vec<AccountId>,
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scratch")
    }
}

/// How many steps of driver prices are drawn at a time (`Cx::draw_ahead`).
const AHEAD: u64 = 64;

/// The drivers' prices of the coming steps, drawn ahead: per step, each asset's driven price
/// (before shocks), step-major, after a first row with the prices of when they were drawn.
/// `taken` of its `steps` are used.
#[derive(Clone, Debug, Default)]
struct Ahead {
    driven: Vec<f64>,
    steps: usize,
    taken: usize,
}

impl Ahead {
    fn clear(&mut self) {
        self.driven.clear();
        self.steps = 0;
        self.taken = 0;
    }
}

/// Everything that changes in one path: the world's [`State`] as it evolves (with each
/// protocol's mechanism state), the clock, the random streams, and the engine's working records
/// (sales waiting for the round's end, episodes, rate limits and auction limits, the mempool,
/// the owners' episodes). Nothing else changes while a path runs, so restoring this restores the
/// path.
#[derive(Clone, Debug)]
pub(crate) struct PathState {
    /// The path's number (0 is the scenario's own run): with the seed, it names every stream.
    index: u64,
    state: State,
    step: u64,
    time: u64,
    innovations: RngStream,
    /// Per asset, its own stream: a jump-diffusion's jumps, a bootstrap's blocks.
    own_streams: Vec<RngStream>,
    /// The drivers' prices drawn ahead of the steps that take them.
    ahead: Ahead,
    last_venue_price: Vec<f64>,
    sales: Sales,
    candidates: Vec<AccountId>,
    /// Per protocol and account: when the account was first found liquidatable in its current
    /// episode, if one is under way.
    liquidatable_since: Vec<Episodes>,
    /// Per protocol: debt (USD) liquidated so far this step, against its rate limit.
    step_liquidated: Vec<f64>,
    /// Per protocol: USD of tab in its running Dutch auctions, against its own limit and,
    /// summed over the protocols, the world's `auction_hole`.
    auction_tab_usd: Vec<f64>,
    /// Per perp exchange: deficit of this step to charge to accounts in profit at its end.
    perp_to_socialise: Vec<f64>,
    /// Per perp exchange, market and side (0 longs, 1 shorts): this round's ADL order.
    adl_queues: Vec<Vec<[perp::AdlQueue; 2]>>,
    /// Scratch list of perp accounts to check in a round.
    perp_candidates: Vec<AccountId>,
    /// Per perp exchange: accounts whose liquidation has sent a first slice.
    perp_sliced: Vec<Vec<u32>>,
    /// The mempool, when the world has a chain or keepers that wait.
    chain: Option<chain::ChainRun>,
    /// Per protocol: the owners who act on their accounts, if any do.
    owners: Vec<Option<borrowers::Owners>>,
    started: bool,
    /// Whether rounds liquidate in batches where the rules allow (`Engine::batch_liquidations`).
    batched: bool,
    /// Whether quiet steps skip their cascade (`Engine::skip_quiet_steps`).
    skip_quiet: bool,
    /// The sources whose forced trades do not move the venues (`Engine::mute_impact`).
    muted: MutedImpact,
    /// What a watcher set between steps (`Engine::run_watched`).
    controls: Controls,
    /// Steps of the path so far that did.
    quiet_steps: u64,
    /// Buffers reused from step to step.
    scratch: Scratch,
}

impl PathState {
    /// Time 0 of path `path`: a copy of the world's initial state and fresh streams.
    fn new(world: &World, path: u64) -> Self {
        let mut state = world.initial.duplicate();
        start_fundamentals(&mut state, path);
        let seed = world.simulation.seed;
        let own_streams = (0..world.assets.len())
            .map(|a| own_stream(world, path, a))
            .collect();
        let last_venue_price = world
            .venues
            .iter()
            .zip(&state.venues)
            .map(|(info, venue)| venue.price(state.fundamentals[info.base.index()].price()))
            .collect();
        let liquidatable_since = state
            .protocols
            .iter()
            .map(|p| Episodes::new(p.accounts.len()))
            .collect();
        let adl_queues = world
            .perps
            .iter()
            .map(|p| vec![Default::default(); p.markets.len()])
            .collect();
        Self {
            index: path,
            chain: chain::ChainRun::for_world(world),
            owners: borrowers::Owners::for_world(world, path),
            innovations: stream(seed, path, "fundamental"),
            own_streams,
            ahead: Ahead::default(),
            state,
            step: 0,
            time: 0,
            last_venue_price,
            sales: Sales::new(world.venues.len()),
            candidates: Vec::new(),
            liquidatable_since,
            auction_tab_usd: vec![0.0; world.protocols.len()],
            step_liquidated: vec![0.0; world.protocols.len()],
            perp_to_socialise: vec![0.0; world.perps.len()],
            adl_queues,
            perp_candidates: Vec::new(),
            perp_sliced: vec![Vec::new(); world.perps.len()],
            started: false,
            batched: false,
            skip_quiet: true,
            muted: MutedImpact::default(),
            controls: Controls::default(),
            quiet_steps: 0,
            scratch: Scratch::default(),
        }
    }
}

impl PathState {
    /// Back to time 0 of path `path`, restoring only what changed since the path began.
    fn restore(&mut self, world: &World, path: u64) {
        let seed = world.simulation.seed;
        self.index = path;
        for (p, protocol) in self.state.protocols.iter().enumerate() {
            let since = &mut self.liquidatable_since[p];
            match protocol.touched.ids() {
                Some(ids) => ids.iter().for_each(|&i| {
                    since.end(AccountId(i));
                }),
                None => since.end_all(),
            }
        }
        self.state.restore_from(&world.initial);
        start_fundamentals(&mut self.state, path);
        self.step = 0;
        self.time = 0;
        self.started = false;
        self.quiet_steps = 0;
        self.controls = Controls::default();
        self.innovations = stream(seed, path, "fundamental");
        for (a, own) in self.own_streams.iter_mut().enumerate() {
            *own = own_stream(world, path, a);
        }
        self.ahead.clear();
        for ((last, info), venue) in self
            .last_venue_price
            .iter_mut()
            .zip(&world.venues)
            .zip(&self.state.venues)
        {
            *last = venue.price(self.state.fundamentals[info.base.index()].price());
        }
        self.sales.clear();
        self.candidates.clear();
        self.step_liquidated.fill(0.0);
        self.auction_tab_usd.fill(0.0);
        self.perp_to_socialise.fill(0.0);
        for queue in self.adl_queues.iter_mut().flatten().flatten() {
            queue.clear();
        }
        self.perp_candidates.clear();
        self.perp_sliced.iter_mut().for_each(Vec::clear);
        if self.chain.is_some() {
            self.chain = chain::ChainRun::for_world(world);
        }
        for (owners, info) in self.owners.iter_mut().zip(&world.protocols) {
            if let Some(owners) = owners {
                owners.restore(stream(seed, path, &format!("borrowers:{}", info.name)));
            }
        }
    }
}

/// Sets every fundamental to the start of path `path` (an ensemble driver follows its path).
fn start_fundamentals(state: &mut State, path: u64) {
    for fundamental in &mut state.fundamentals {
        fundamental.start_path(path);
    }
}

/// Asset `a`'s own random stream on path `path`, `<label>:<SYMBOL>`, the label named by its
/// driver (`jumps`, or `bootstrap`).
fn own_stream(world: &World, path: u64, a: usize) -> RngStream {
    let label = world.initial.fundamentals[a].driver().stream_label();
    let symbol = &world.assets[a].symbol;
    stream(world.simulation.seed, path, &format!("{label}:{symbol}"))
}

/// Runs paths of a world, one at a time.
///
/// The world (parameters, the initial book and its index) is shared; the engine owns one
/// [`PathState`] and advances it step by step, handing every event to the caller's
/// [`EventSink`]; it keeps no events itself. [`Engine::reset`] starts another path on the same
/// engine, which is how a Monte Carlo driver reuses one engine per worker.
///
/// Each [`Engine::step`] runs the phases of docs/model.md §2 in order:
/// 1. fundamental prices advance, then shocks of the step apply;
/// 2. venues driven by a reserve series take the liquidity in force, recover transient impact,
///    their market makers set their depth, and they follow the fundamental;
/// 3. oracles read their sources and publish by their rules; the chain produces the step's
///    blocks (gas price, room, waiting transactions that now get in);
/// 4. borrowers act: top-ups and repayments, through the chain;
/// 5. the cascade (`settle`): liquidate what is liquidatable at published prices, sell, let
///    oracles that may re-read do so, and repeat until quiet or `max_rounds`;
/// 6. time-driven mechanisms (backstop unwinds, perp funding and socialised loss), insurance
///    funds; transactions included and not executed revert;
/// 7. the step ends (one timeline row).
#[derive(Clone, Debug)]
pub struct Engine {
    world: Arc<World>,
    path: PathState,
}

impl Engine {
    /// An engine at time 0 of path 0, the scenario's own run.
    pub fn new(world: Arc<World>) -> Self {
        Self::on_path(world, 0)
    }

    /// An engine at time 0 of path `path`.
    ///
    /// # Panics
    /// When `path` is at or beyond [`World::path_limit`] (a path ensemble has no such path).
    pub fn on_path(world: Arc<World>, path: u64) -> Self {
        let path = PathState::new(&world, path);
        Self { world, path }
    }

    /// Restarts at time 0 of path `path` (the same or another): the state is what a new engine
    /// on that path would have. Only what the last path changed is restored — the accounts it
    /// touched, the index entries it moved, the small per-path records — so a reset after a calm
    /// path costs next to nothing whatever the size of the book. The lending books are restored
    /// into the memory they hold; the mempool, perp books, the mechanisms' small states and the
    /// random streams' labels are rebuilt or copied, which allocates a little.
    ///
    /// # Panics
    /// When `path` is at or beyond [`World::path_limit`] (a path ensemble has no such path).
    pub fn reset(&mut self, path: u64) {
        self.path.restore(&self.world, path);
    }

    /// Liquidates in batches where the rules allow it (or not, the default), from the next
    /// round on and across resets: a round of a fixed-spread protocol with close factor 1 closes
    /// every liquidatable account that its path has not touched in one closed-form step per
    /// (collateral, debt) pair, reported by one `LiquidationBatch` event instead of a
    /// `Liquidation` (and `BadDebt`) per account (`engine/mechanism/batch.rs` says when and how).
    /// A Monte Carlo whose paths nobody audits account by account asks for it: a path that
    /// breaks into a wall of loans then costs about what a calm one does. Every figure of the
    /// path equals the per-account run's up to the order of additions, and the accounts closed
    /// in a batch are not written: [`Engine::state`] shows them as they opened.
    pub fn batch_liquidations(&mut self, on: bool) {
        self.path.batched = on;
    }

    /// Skips the cascade of a quiet step (the default), or runs every phase of every step:
    /// the reference the tests hold the skipping engine to. A step is quiet when, its prices
    /// moved, nothing could act in it: no mempool, owner, perp exchange, pending sale or loss,
    /// and every protocol's mechanism at rest with no candidate in its index. Its cascade would
    /// find nothing, so skipping it changes no event and no figure; a calm path then costs its
    /// price moves and little else.
    pub fn skip_quiet_steps(&mut self, on: bool) {
        self.path.skip_quiet = on;
    }

    /// Mutes the price impact of some sources of forced trades, from the next trade on and
    /// across resets: the sales of a muted lending protocol's liquidations (its keepers' sales
    /// of what they seized from it, its backstop vault's unwind) and the close-outs of a muted
    /// perp exchange fill at the venue's current price and leave the venue as it was, as if
    /// into infinite depth; keepers quote them so. Everything else runs as usual. This is the
    /// counterfactual an attribution of price impact and bad debt compares against
    /// (`cascade_analytics::attribution`); no ordinary run mutes anything.
    pub fn mute_impact(&mut self, muted: MutedImpact) {
        self.path.muted = muted;
    }

    /// How many steps of this path so far were quiet and skipped their cascade.
    pub fn quiet_steps(&self) -> u64 {
        self.path.quiet_steps
    }

    /// The world.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The path being run.
    pub fn path(&self) -> u64 {
        self.path.index
    }

    /// The current state.
    pub fn state(&self) -> &State {
        &self.path.state
    }

    /// The current step (0 until the first call to [`Engine::step`] after the initial instant).
    pub fn current_step(&self) -> u64 {
        self.path.step
    }

    /// Whether every step has run.
    pub fn finished(&self) -> bool {
        self.path.started && self.path.step >= self.world.simulation.steps
    }

    /// Advances one step (the first call runs the initial instant, step 0), sending its events
    /// to `sink`.
    pub fn step(&mut self, mut sink: &mut dyn EventSink) {
        self.cx(&mut sink).step();
    }

    /// Runs every remaining step and marks the books at the end (each protocol's open book,
    /// each perp exchange's, each keeper's balances), sending every event to `sink`.
    pub fn run(&mut self, mut sink: &mut dyn EventSink) {
        self.run_into(&mut sink);
    }

    /// [`Engine::run`], showing `after_step` the state after each step with the step's number,
    /// and letting it set the [`Controls`] of the steps that follow: what a measure taken along
    /// the run reads (the leading indicator m(t) of `cascade run --indicator`) and what an
    /// adaptive policy changes. A watcher that changes no control leaves the events `run`'s.
    pub fn run_watched(
        &mut self,
        mut sink: &mut dyn EventSink,
        after_step: &mut dyn FnMut(u64, &State, &mut Controls),
    ) {
        while !self.finished() {
            self.cx(&mut sink).step();
            let path = &mut self.path;
            after_step(path.step, &path.state, &mut path.controls);
        }
        self.cx(&mut sink).mark();
    }

    /// [`Engine::run`] into a sink whose type is known here: the engine is compiled for it, so
    /// its calls are static and inline into the step loop, and the events a calm step sends
    /// cost about what the sink does with them. The Monte Carlo's per-path folds run so;
    /// `run` is this with a `dyn` sink.
    pub fn run_into<S: EventSink>(&mut self, sink: &mut S) {
        let mut cx = self.cx(sink);
        while !(cx.path.started && cx.path.step >= cx.world.simulation.steps) {
            cx.step();
        }
        cx.mark();
    }

    fn cx<'a, S: EventSink>(&'a mut self, sink: &'a mut S) -> Cx<'a, S> {
        Cx {
            world: &self.world,
            path: &mut self.path,
            sink,
        }
    }
}

/// Runs path `path` of `world` to the end and returns its whole audit trail: the convenience
/// for tests and small runs (large runs send events to a streaming sink instead).
pub fn trail(world: &Arc<World>, path: u64) -> Vec<Event> {
    let mut events = Vec::new();
    Engine::on_path(Arc::clone(world), path).run(&mut events);
    events
}

/// What a step's phases work with: the world (read only), the path's state and the sink. Every
/// phase is a method of this context, never of the [`Engine`]; a lending mechanism works on a
/// narrower context built from it for one protocol (`mechanism.rs`).
struct Cx<'a, S: EventSink> {
    world: &'a World,
    path: &'a mut PathState,
    sink: &'a mut S,
}

impl<S: EventSink> Cx<'_, S> {
    /// Advances one step (the first call runs the initial instant, step 0).
    fn step(&mut self) {
        // Written only where a protocol liquidated: most steps, none did.
        for liquidated in &mut self.path.step_liquidated {
            if *liquidated != 0.0 {
                *liquidated = 0.0;
            }
        }
        if !self.path.started {
            self.path.started = true;
            self.initial_instant();
        } else {
            self.path.step += 1;
            self.path.time = self.path.step * self.world.simulation.step_seconds;
            self.advance_fundamentals();
            self.move_venues(self.world.simulation.step_seconds);
            self.read_oracles(0);
            self.watch_feeds();
            self.release_delayed_sales();
        }
        if self.path.skip_quiet && self.is_quiet() {
            self.path.quiet_steps += 1;
            self.emit(
                0,
                EventKind::CascadeSettled {
                    rounds: 0,
                    hit_round_limit: false,
                },
            );
        } else {
            self.act();
        }
        let world = self.world;
        let mut prices = std::mem::take(&mut self.path.scratch.prices);
        for p in 0..world.protocols.len() {
            if self.path.state.mechanisms[p].watches_step_ends() {
                self.protocol_prices(ProtocolId(p as u32), &mut prices);
                self.path.state.mechanisms[p].step_ended(world, &prices);
            }
        }
        self.path.scratch.prices = prices;
        self.emit(0, EventKind::StepEnded);
    }

    /// Phases 4 to 6 of a step that is not quiet. Kept out of line: most steps of a Monte Carlo
    /// path are quiet, and the step they run stays small.
    #[inline(never)]
    fn act(&mut self) {
        self.gate().begin_blocks();
        self.borrowers_act();
        self.settle();
        self.lending_time_driven();
        self.perp_time_driven();
        self.settle_losses();
        self.gate().end_blocks();
    }

    /// Whether the rest of this step, its prices moved, would change nothing and emit nothing
    /// but a cascade settled after no round: no mempool and no keeper waiting on one, no owner
    /// acting, no perp exchange, no sale pending or delayed, no losses to settle, and every
    /// protocol's mechanism at rest with no candidate in its index at its prices. Phases 4 to 6
    /// then each do nothing (the cascade's first round finds no account and sells nothing), so
    /// the step skips them and a calm step costs little more than its price moves: the path, its
    /// events and every output are exactly what the full step gives.
    fn is_quiet(&mut self) -> bool {
        let path = &*self.path;
        let busy = path.chain.is_some()
            || !self.world.perps.is_empty()
            || path.owners.iter().any(Option::is_some)
            || !path.sales.pending.is_empty()
            || !path.sales.delayed.is_empty();
        if busy {
            return false;
        }
        let mut prices = std::mem::take(&mut self.path.scratch.prices);
        let mut quiet = true;
        for p in 0..self.world.protocols.len() {
            let book = &self.path.state.protocols[p];
            if book.losses.as_ref().is_some_and(|l| l.has_pending()) {
                quiet = false;
                break;
            }
            self.protocol_prices(ProtocolId(p as u32), &mut prices);
            if !self.path.state.mechanisms[p].is_idle(&book.index, &prices) {
                quiet = false;
                break;
            }
        }
        self.path.scratch.prices = prices;
        quiet
    }

    /// Phase 6: each protocol's insurance fund takes its fee income and covers the step's bad
    /// debt; the shortfall rule takes the rest.
    fn settle_losses(&mut self) {
        for p in 0..self.path.state.protocols.len() {
            let Some(losses) = self.path.state.protocols[p].losses.as_mut() else {
                continue;
            };
            if !losses.has_pending() {
                continue;
            }
            let s = losses.settle();
            self.emit(
                0,
                EventKind::LossesSettled {
                    protocol: ProtocolId(p as u32),
                    paid_in: s.paid_in,
                    drawn: s.drawn,
                    socialised: s.socialised,
                    lots: s.lots,
                    auctioned: s.auctioned,
                    uncovered: s.uncovered,
                    fund_balance: s.balance,
                },
            );
        }
    }

    /// The chain's gate, on this path's mempool, keepers' books and clock.
    fn gate(&mut self) -> chain::Gate<'_> {
        chain::Gate {
            world: self.world,
            run: &mut self.path.chain,
            keepers: &mut self.path.state.keepers,
            fundamentals: &self.path.state.fundamentals,
            step: self.path.step,
            time: self.path.time,
            sink: &mut *self.sink,
        }
    }

    /// Sends an event to the sink. Inlined everywhere, so that the per-step kinds of a calm
    /// step (price moves, a cascade of no rounds, the step's end) reach a sink compiled into the
    /// engine as straight-line code; those kinds own nothing, so they are not dropped after.
    #[inline(always)]
    fn emit(&mut self, round: u32, kind: EventKind) {
        // The time from the step rather than read beside it: the two were just stored apart,
        // and reading them as one would wait on both stores.
        let step = self.path.step;
        let time = step * self.world.simulation.step_seconds;
        debug_assert_eq!(time, self.path.time);
        let event = Event {
            step,
            time,
            round,
            kind,
        };
        self.sink.record(&event);
        let owns_nothing = matches!(
            event.kind,
            EventKind::FundamentalMoved { .. }
                | EventKind::VenuePriceMoved { .. }
                | EventKind::OraclePublished { .. }
                | EventKind::CascadeSettled { .. }
                | EventKind::StepEnded
        );
        if owns_nothing {
            std::mem::forget(event);
        }
    }

    #[cold]
    fn initial_instant(&mut self) {
        self.emit(0, EventKind::RunStarted);
        let world = self.world;
        for (p, totals) in world.opening.iter().enumerate() {
            self.emit(
                0,
                EventKind::PositionsOpened {
                    protocol: ProtocolId(p as u32),
                    accounts: totals.accounts,
                    collateral: totals.collateral.clone(),
                    debt: totals.debt.clone(),
                },
            );
        }
        self.open_perps();
        self.watch_opening_prices();
        for a in 0..world.assets.len() {
            let price = self.path.state.fundamentals[a].price();
            self.emit(
                0,
                EventKind::FundamentalMoved {
                    asset: AssetId(a as u32),
                    price,
                },
            );
        }
        for v in 0..world.venues.len() {
            let price = self.path.last_venue_price[v];
            self.emit(
                0,
                EventKind::VenuePriceMoved {
                    venue: VenueId(v as u32),
                    price,
                },
            );
        }
        for o in 0..world.oracles.len() {
            let price = self.path.state.oracles[o].published();
            self.emit(
                0,
                EventKind::OraclePublished {
                    oracle: OracleId(o as u32),
                    price,
                },
            );
        }
    }

    /// Phase 1: drivers advance with (possibly correlated) Gaussian innovations, then shocks.
    /// The drivers' prices are drawn some steps ahead ([`Ahead`]); each step takes its own.
    fn advance_fundamentals(&mut self) {
        let world = self.world;
        let n = world.assets.len();
        if self.path.ahead.taken == self.path.ahead.steps {
            self.draw_ahead();
        }
        self.path.ahead.taken += 1;
        let row = self.path.ahead.taken * n;
        for a in 0..n {
            let fundamental = &mut self.path.state.fundamentals[a];
            let before = fundamental.price();
            fundamental.set_driven(self.path.ahead.driven[row + a]);
            let price = fundamental.price();
            if price != before {
                self.emit(
                    0,
                    EventKind::FundamentalMoved {
                        asset: AssetId(a as u32),
                        price,
                    },
                );
            }
        }
        for &(asset, shock) in &world.shocks {
            if shock.step == self.path.step {
                let fundamental = &mut self.path.state.fundamentals[asset.index()];
                fundamental.apply_shock(shock.factor);
                let price = fundamental.price();
                self.emit(
                    0,
                    EventKind::ShockApplied {
                        asset,
                        factor: shock.factor,
                        price,
                    },
                );
            }
        }
    }

    /// Draws the drivers' prices of the next steps, up to [`AHEAD`] and never past the last
    /// step, exactly as step-by-step advancing would (the same draws from the same streams in
    /// the same order: each step's innovations in asset order, correlated, then each asset's
    /// driver with its own stream), and keeps them in `PathState::ahead`. The drivers depend on
    /// nothing the cascade changes, so drawing them ahead changes no price; what it changes is
    /// speed: a driver's exponentials no longer wait on the step before.
    fn draw_ahead(&mut self) {
        let world = self.world;
        let dt = world.simulation.step_seconds;
        let n = world.assets.len();
        // One at a time for a caller stepping past the last step.
        let steps = (world.simulation.steps + 1)
            .saturating_sub(self.path.step)
            .clamp(1, AHEAD);
        let mut z = std::mem::take(&mut self.path.scratch.innovations);
        let ahead = &mut self.path.ahead;
        ahead.driven.clear();
        ahead.taken = 0;
        ahead.steps = steps as usize;
        // The prices of now, which the fundamentals show again once the steps are drawn.
        ahead
            .driven
            .extend(self.path.state.fundamentals.iter().map(Fundamental::driven));
        for j in 0..steps {
            let time = (self.path.step + j) * dt;
            z.clear();
            for a in 0..n {
                z.push(
                    if self.path.state.fundamentals[a].driver().is_stochastic() {
                        StandardNormal.sample(&mut self.path.innovations)
                    } else {
                        0.0
                    },
                );
            }
            if let Some((assets, factor)) = &world.correlation {
                let independent = &mut self.path.scratch.independent;
                independent.clear();
                independent.extend(assets.iter().map(|a| z[a.index()]));
                for (row, asset) in assets.iter().enumerate() {
                    z[asset.index()] = (0..=row)
                        .map(|col| factor[row][col] * independent[col])
                        .sum();
                }
            }
            for (a, &innovation) in z.iter().enumerate() {
                let fundamental = &mut self.path.state.fundamentals[a];
                fundamental.advance(time, dt, innovation, &mut self.path.own_streams[a]);
                self.path.ahead.driven.push(fundamental.driven());
            }
        }
        self.path.scratch.innovations = z;
        for (fundamental, &now) in self
            .path
            .state
            .fundamentals
            .iter_mut()
            .zip(&self.path.ahead.driven)
        {
            fundamental.set_driven(now);
        }
    }

    /// Phase 2: AMMs driven by reserves take the liquidity in force; transient impact recovers;
    /// market makers set the depth (`engine/depth.rs`);
    /// venue prices follow their fundamentals.
    fn move_venues(&mut self, dt: u64) {
        for v in 0..self.world.venues.len() {
            let base = self.world.venues[v].base;
            let liquidity = self.world.venues[v].liquidity.as_ref();
            if let Some(liquidity) = liquidity.map(|schedule| schedule.at(self.path.time)) {
                if self.path.state.venues[v].set_liquidity(liquidity) {
                    let venue = VenueId(v as u32);
                    self.emit(0, EventKind::VenueLiquidityChanged { venue, liquidity });
                }
            }
            self.path.state.venues[v].recover(dt);
            self.adjust_depth(VenueId(v as u32), dt);
            let price =
                self.path.state.venues[v].price(self.path.state.fundamentals[base.index()].price());
            if price != self.path.last_venue_price[v] {
                self.path.last_venue_price[v] = price;
                self.emit(
                    0,
                    EventKind::VenuePriceMoved {
                        venue: VenueId(v as u32),
                        price,
                    },
                );
            }
        }
    }

    /// Phase 3 when `round` is 0; a re-read inside the cascade otherwise, where only oracles whose
    /// rule allows it read again.
    fn read_oracles(&mut self, round: u32) {
        let world = self.world;
        let within_instant = round > 0;
        let mut readings = std::mem::take(&mut self.path.scratch.readings);
        for (o, info) in world.oracles.iter().enumerate() {
            if within_instant && !self.path.state.oracles[o].rereads_within_an_instant() {
                continue;
            }
            let reading = |source: &OracleSource| match *source {
                OracleSource::Venue(v) => self.path.last_venue_price[v.index()],
                OracleSource::Fundamental(a) => self.path.state.fundamentals[a.index()].price(),
            };
            let read = match info.sources.as_slice() {
                [source] => {
                    let one = [reading(source)];
                    self.path.state.oracles[o].read(self.path.time, &one)
                }
                sources => {
                    readings.clear();
                    readings.extend(sources.iter().map(reading));
                    self.path.state.oracles[o].read(self.path.time, &readings)
                }
            };
            if let Some(price) = read {
                self.emit(
                    round,
                    EventKind::OraclePublished {
                        oracle: OracleId(o as u32),
                        price,
                    },
                );
            }
        }
        self.path.scratch.readings = readings;
    }

    /// Phase 3, after the reads: each asset price a protocol that checks its oracles' age finds
    /// stale (`FeedStale`, with the fallback it uses, if any). Nothing ages at the initial
    /// instant, whose prices are all just published.
    fn watch_feeds(&mut self) {
        let world = self.world;
        for (p, info) in world.protocols.iter().enumerate() {
            let Some(guard) = &info.staleness else {
                continue;
            };
            let protocol = ProtocolId(p as u32);
            for (a, primary) in info.oracle_for.iter().enumerate() {
                let Some(oracle) = *primary else {
                    continue;
                };
                let age = self.path.state.oracles[oracle.index()].age();
                if !guard.rule.is_stale(age) {
                    continue;
                }
                let asset = AssetId(a as u32);
                let fallback = match world.feed_choice(&self.path.state, protocol, asset) {
                    Some((FeedChoice::Fallback, fallback)) => fallback,
                    Some((FeedChoice::Primary | FeedChoice::Paused, _)) | None => None,
                };
                self.emit(
                    0,
                    EventKind::FeedStale {
                        protocol,
                        asset,
                        oracle,
                        age,
                        fallback,
                    },
                );
            }
        }
    }

    /// Phase 5: the settle-until-quiet cascade of one instant. Each round finds the accounts that
    /// are liquidatable at the published prices, lets keepers liquidate them (one call per account
    /// per round), sells what the keepers seized, and lets instant oracles re-read. It stops when a
    /// round changes nothing or at `max_rounds`; the number of active rounds is recorded.
    fn settle(&mut self) {
        let max_rounds = self.world.simulation.max_rounds;
        let mut active_rounds = 0;
        let mut hit_round_limit = false;
        for round in 1..=max_rounds {
            if round > 1 {
                self.read_oracles(round);
            }
            let mut activity = 0;
            for p in 0..self.world.protocols.len() {
                activity += self.liquidate_protocol(ProtocolId(p as u32), round);
            }
            activity += self.liquidate_perps(round);
            self.flush_sales(round);
            if activity == 0 {
                break;
            }
            active_rounds = round;
            if round == max_rounds {
                hit_round_limit = true;
            }
        }
        self.emit(
            0,
            EventKind::CascadeSettled {
                rounds: active_rounds,
                hit_round_limit,
            },
        );
    }

    /// The protocol's prices now, per asset, into `out`.
    fn protocol_prices(&self, p: ProtocolId, out: &mut Vec<f64>) {
        out.clear();
        out.extend((0..self.world.assets.len()).map(|a| {
            self.world
                .protocol_price(&self.path.state, p, AssetId(a as u32))
        }));
    }

    /// One round of one protocol, through its mechanism and the shared driver of a round
    /// (`mechanism.rs`): disjoint parts of the path's state make the mechanism's context.
    /// Returns the number of liquidations, write-offs and other actions.
    fn liquidate_protocol(&mut self, p: ProtocolId, round: u32) -> u64 {
        let mut prices = std::mem::take(&mut self.path.scratch.prices);
        self.protocol_prices(p, &mut prices);
        let world = self.world;
        let mut paused = std::mem::take(&mut self.path.scratch.paused);
        world.paused_assets(&self.path.state, p, &mut paused);
        let path = &mut *self.path;
        let State {
            fundamentals,
            venues,
            protocols,
            keepers,
            mechanisms,
            ..
        } = &mut path.state;
        let mechanism = &mut mechanisms[p.index()];
        let bad_debt = if mechanism.writes_off_bad_debt() {
            BadDebt::WrittenOff
        } else {
            BadDebt::LeftOnAccount
        };
        let mut r = Round {
            world,
            id: p,
            info: &world.protocols[p.index()],
            number: round,
            step: path.step,
            time: path.time,
            prices: &prices,
            paused: &paused,
            book: &mut protocols[p.index()],
            fundamentals,
            venues,
            keepers,
            sales: &mut path.sales,
            chain: &mut path.chain,
            liquidatable_since: &mut path.liquidatable_since[p.index()],
            liquidated_usd: &mut path.step_liquidated[p.index()],
            auction_tab_usd: &mut path.auction_tab_usd,
            candidates: &mut path.candidates,
            sink: &mut *self.sink,
            bad_debt,
            impact: path.muted.protocol(p),
            limit_usd: match (
                world.protocols[p.index()].params.step_limit_usd,
                path.controls.throttle_usd_per_step,
            ) {
                (Some(own), Some(throttle)) => Some(own.min(throttle)),
                (own, throttle) => own.or(throttle),
            },
            last_quote: None,
            // A throttle is a rate limit, which batches do not follow.
            batches: if path.batched && path.controls.throttle_usd_per_step.is_none() {
                world.batching()[p.index()].as_deref()
            } else {
                None
            },
        };
        let activity = mechanism.settle_round(&mut r);
        self.path.scratch.prices = prices;
        self.path.scratch.paused = paused;
        activity
    }

    /// Phase 6 for the lending protocols: what each mechanism does as time passes (a backstop
    /// vault's unwind).
    fn lending_time_driven(&mut self) {
        let world = self.world;
        for p in 0..world.protocols.len() {
            let path = &mut *self.path;
            let mut cx = StepCx {
                world,
                id: ProtocolId(p as u32),
                step: path.step,
                time: path.time,
                fundamentals: &path.state.fundamentals,
                venues: &mut path.state.venues,
                last_venue_price: &mut path.last_venue_price,
                impact: path.muted.protocol(ProtocolId(p as u32)),
                sink: &mut *self.sink,
            };
            path.state.mechanisms[p].time_driven(&mut cx);
        }
    }

    /// Seized collateral whose delay has passed reaches its venue: it is sold at the end of the
    /// step's first cascade round.
    fn release_delayed_sales(&mut self) {
        let sales = &mut self.path.sales;
        if sales.delayed.is_empty() {
            return;
        }
        let now = self.path.time;
        let mut kept = Vec::with_capacity(sales.delayed.len());
        for (due, sale) in std::mem::take(&mut sales.delayed) {
            if due <= now {
                sales.pending_now(sale);
            } else {
                kept.push((due, sale));
            }
        }
        sales.delayed = kept;
    }

    /// Sells what keepers seized this round, one sale per keeper and venue, in keeper order (a
    /// keeper's muted sales, in a counterfactual, after its others on the same venue).
    fn flush_sales(&mut self, round: u32) {
        if self.path.sales.pending.is_empty() {
            return;
        }
        let mut pending = std::mem::take(&mut self.path.sales.pending);
        pending.sort_by_key(|s| (s.keeper, s.venue, s.impact));
        let mut i = 0;
        while i < pending.len() {
            let (keeper, venue, impact) = (pending[i].keeper, pending[i].venue, pending[i].impact);
            let mut units = 0.0;
            let mut oracle_value = 0.0;
            while i < pending.len()
                && pending[i].keeper == keeper
                && pending[i].venue == venue
                && pending[i].impact == impact
            {
                units += pending[i].units;
                oracle_value += pending[i].oracle_value;
                i += 1;
            }
            let asset = self.world.venues[venue.index()].base;
            let fundamental = self.path.state.fundamentals[asset.index()].price();
            let v = &mut self.path.state.venues[venue.index()];
            let fill = match impact {
                Impact::Moves => v.sell(fundamental, units),
                Impact::Muted => v.sell_at_price(fundamental, units),
            };
            let book = &mut self.path.state.keepers[keeper.index()];
            book.received += fill.proceeds;
            book.inventory[asset.index()] -= fill.filled;
            self.path.last_venue_price[venue.index()] = fill.price_after;
            let filled_value = if units > 0.0 {
                oracle_value * fill.filled / units
            } else {
                0.0
            };
            self.emit(
                round,
                EventKind::Sale(SaleRecord {
                    keeper,
                    venue,
                    asset,
                    units,
                    filled: fill.filled,
                    proceeds: fill.proceeds,
                    oracle_value: filled_value,
                    price_before: fill.price_before,
                    price_after: fill.price_after,
                }),
            );
        }
        pending.clear();
        self.path.sales.pending = pending;
        self.path.sales.by_venue.iter_mut().for_each(|x| *x = 0.0);
    }

    /// End of run: mark every protocol's open book (with what its mechanism holds of it), each
    /// mechanism's own balances, every perp exchange's book and every keeper's balances.
    fn mark(&mut self) {
        let world = self.world;
        let n = world.assets.len();
        for p in 0..world.protocols.len() {
            let id = ProtocolId(p as u32);
            let mut prices = Vec::new();
            self.protocol_prices(id, &mut prices);
            let price = |a: AssetId| prices[a.index()];
            let protocol = &self.path.state.protocols[p];
            let initial = &world.initial.protocols[p];
            let totals = match protocol.touched.ids() {
                Some(ids)
                    if (ids.len() <= protocol.accounts.len() / TOUCHED_SHARE
                        || !protocol.batches.is_empty())
                        && protocol.accounts.len() == initial.accounts.len() =>
                {
                    BookAtPrices::around(
                        &world.opening[p],
                        &initial.accounts,
                        protocol,
                        n,
                        &price,
                        &mut self.path.scratch.candidates,
                    )
                }
                _ => BookAtPrices::of(&protocol.accounts, n, &price),
            };
            let mut mark = BookMark {
                protocol: id,
                open_accounts: totals.open,
                collateral: totals.collateral,
                debt: totals.debt,
                treasury: protocol.treasury.clone(),
                debt_usd: totals.debt_usd,
                collateral_usd: totals.collateral_usd,
                unrealised_bad_debt_usd: totals.unrealised,
                in_auction_collateral: vec![0.0; n],
                in_auction_debt: vec![0.0; n],
            };
            // Running auctions, where the mechanism has them.
            self.path.state.mechanisms[p].mark_book(&prices, &mut mark);
            self.emit(0, EventKind::PositionsMarked(Box::new(mark)));
        }
        for p in 0..world.protocols.len() {
            let mut cx = MarkCx {
                id: ProtocolId(p as u32),
                step: self.path.step,
                time: self.path.time,
                sink: &mut *self.sink,
            };
            self.path.state.mechanisms[p].mark(&mut cx);
        }
        self.mark_perps();
        for k in 0..world.keepers.len() {
            let book = self.path.state.keepers[k].clone();
            self.emit(
                0,
                EventKind::KeeperMarked {
                    keeper: KeeperId(k as u32),
                    spent: book.spent,
                    received: book.received,
                    incentives: book.incentives,
                    inventory: book.inventory,
                },
            );
        }
    }
}

/// The end-of-run mark starts from the opening totals when a path touched at most one account
/// in this many; otherwise it sums the whole book.
const TOUCHED_SHARE: usize = 8;

/// A lending book's totals at the end of a run: units per asset, and at the protocol's prices,
/// the open accounts' debt, collateral and the debt their collateral does not cover.
struct BookAtPrices {
    open: u64,
    collateral: Vec<f64>,
    debt: Vec<f64>,
    debt_usd: f64,
    collateral_usd: f64,
    unrealised: f64,
}

impl BookAtPrices {
    /// The totals of a book of which the path touched only the accounts `protocol.touched`
    /// lists, in O(touched + underwater) rather than O(book): the opening totals, less the
    /// touched accounts as they opened, plus them as they are; values at the prices are units
    /// per asset times the asset's price. Of the untouched accounts, only the ones the index
    /// names at these prices can be under water: under water means collateral worth less than
    /// the debt, so (every liquidation threshold being at most 1) a health factor below 1, which
    /// the index never misses. The figures equal the whole pass's up to the order of additions.
    fn around(
        opening: &BookTotals,
        initial: &[Account],
        protocol: &ProtocolState,
        assets: usize,
        price: &impl Fn(AssetId) -> f64,
        candidates: &mut Vec<AccountId>,
    ) -> Self {
        let mut collateral = opening.collateral.clone();
        let mut debt = opening.debt.clone();
        let mut open_collateral = opening.open_collateral.clone();
        let mut open_debt = opening.open_debt.clone();
        let mut open = opening.open_accounts;
        let mut unrealised = 0.0;
        let touched = protocol.touched.ids().unwrap_or_default();
        for &i in touched {
            let (before, after) = (&initial[i as usize], &protocol.accounts[i as usize]);
            for &(asset, units) in &before.collateral {
                collateral[asset.index()] -= units;
                if before.debt > 0.0 {
                    open_collateral[asset.index()] -= units;
                }
            }
            debt[before.debt_asset.index()] -= before.debt;
            if before.debt > 0.0 {
                open -= 1;
                open_debt[before.debt_asset.index()] -= before.debt;
            }
            for &(asset, units) in &after.collateral {
                collateral[asset.index()] += units;
                if after.debt > 0.0 {
                    open_collateral[asset.index()] += units;
                }
            }
            debt[after.debt_asset.index()] += after.debt;
            if after.debt > 0.0 {
                open += 1;
                open_debt[after.debt_asset.index()] += after.debt;
                unrealised += (after.debt_value(price) - after.collateral_value(price)).max(0.0);
            }
        }
        for batch in &protocol.batches {
            // Every account of a batch was open and is closed now, with the collateral left
            // that was not seized.
            let (c, d) = (batch.collateral_asset.index(), batch.debt_asset.index());
            collateral[c] -= batch.seized;
            open_collateral[c] -= batch.collateral;
            debt[d] -= batch.debt;
            open_debt[d] -= batch.debt;
            open -= batch.accounts;
        }
        candidates.clear();
        protocol.index.candidates(price, candidates);
        for id in candidates.iter() {
            let account = &protocol.accounts[id.index()];
            if !protocol.touched.contains(id.0) && account.debt > 0.0 {
                unrealised +=
                    (account.debt_value(price) - account.collateral_value(price)).max(0.0);
            }
        }
        // Sums of non-negative units, taken apart and put back in another order: where a path
        // took all of an asset, rounding can leave a few 1e-16 below zero, which the whole pass
        // never gives. Such a total is zero.
        for units in [
            &mut collateral,
            &mut debt,
            &mut open_collateral,
            &mut open_debt,
        ] {
            units.iter_mut().for_each(|x| *x = x.max(0.0));
        }
        let value = |units: &[f64]| -> f64 {
            (0..assets)
                .filter(|&a| units[a] != 0.0)
                .map(|a| units[a] * price(AssetId(a as u32)))
                .sum()
        };
        Self {
            open,
            debt_usd: value(&open_debt),
            collateral_usd: value(&open_collateral),
            collateral,
            debt,
            unrealised,
        }
    }

    /// One pass over the book, in account order. The units of the first account's collateral
    /// and debt assets (a generated book's only ones) are summed in registers rather than in
    /// the per-asset vectors: the same additions in the same order, without a store and a load
    /// between one account and the next.
    fn of(accounts: &[Account], assets: usize, price: &impl Fn(AssetId) -> f64) -> Self {
        let mut collateral = vec![0.0; assets];
        let mut debt = vec![0.0; assets];
        let (main_collateral, main_debt) = accounts.first().map_or((None, None), |a| {
            (a.collateral.first().map(|c| c.0), Some(a.debt_asset))
        });
        let (mut main_collateral_units, mut main_debt_units) = (0.0, 0.0);
        let (mut open, mut debt_usd, mut collateral_usd, mut unrealised) = (0, 0.0, 0.0, 0.0);
        for account in accounts {
            for &(asset, units) in &account.collateral {
                if Some(asset) == main_collateral {
                    main_collateral_units += units;
                } else {
                    collateral[asset.index()] += units;
                }
            }
            if Some(account.debt_asset) == main_debt {
                main_debt_units += account.debt;
            } else {
                debt[account.debt_asset.index()] += account.debt;
            }
            if account.debt > 0.0 {
                open += 1;
                let d = account.debt_value(price);
                let c = account.collateral_value(price);
                debt_usd += d;
                collateral_usd += c;
                unrealised += (d - c).max(0.0);
            }
        }
        if let Some(asset) = main_collateral {
            collateral[asset.index()] = main_collateral_units;
        }
        if let Some(asset) = main_debt {
            debt[asset.index()] = main_debt_units;
        }
        Self {
            open,
            collateral,
            debt,
            debt_usd,
            collateral_usd,
            unrealised,
        }
    }
}
