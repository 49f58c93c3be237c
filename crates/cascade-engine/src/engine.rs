//! The step loop and the settle-until-quiet cascade.

mod borrowers;
mod chain;
mod depth;
pub(crate) mod mechanism;
mod perp;

use std::sync::Arc;

use cascade_model::auction::english::{self, EnglishAuctionParams, Flip};
use cascade_model::chain::{Sender, Target, TxKind};
use cascade_model::ids::{AccountId, AssetId, KeeperId, OracleId, ProtocolId, VenueId};
use cascade_model::lending::Account;
use cascade_model::lending::LiquidationRule;
use cascade_model::rng::{RngStream, stream};
use rand_distr::{Distribution, StandardNormal};

use crate::event::{BookMark, Event, EventKind, SaleRecord};
use crate::sink::EventSink;
use crate::world::{OracleSource, State, World};
use mechanism::{BadDebt, MarkCx, MechanismState, Round, StepCx};

/// Marks an account outside a liquidation episode.
const NOT_LIQUIDATABLE: u64 = u64::MAX;

/// Collateral a keeper has seized this round and will sell at the round's end.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PendingSale {
    keeper: KeeperId,
    venue: VenueId,
    units: f64,
    oracle_value: f64,
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

    /// Queues `sale` for the end of the round, or for `delay` seconds after `now`.
    fn queue(&mut self, sale: PendingSale, delay: u64, now: u64) {
        if delay > 0 {
            self.delayed.push((now + delay, sale));
            return;
        }
        self.by_venue[sale.venue.index()] += sale.units;
        self.pending.push(sale);
    }
}

/// How an auction, Dutch or English, closed: the fields of its `AuctionEnded` event.
struct AuctionClose {
    protocol: ProtocolId,
    auction: u32,
    account: AccountId,
    collateral_asset: AssetId,
    returned: f64,
    debt_asset: AssetId,
    raised: f64,
    debt: f64,
    debt_price: f64,
    liquidatable_since: u64,
}

/// Everything that changes in one path: the world's [`State`] as it evolves, the clock, the
/// random streams, and the engine's working records (sales waiting for the round's end, episodes,
/// rate limits, price histories, the mempool, the owners' episodes). Nothing else changes while a
/// path runs, so restoring this restores the path.
#[derive(Clone, Debug)]
pub(crate) struct PathState {
    /// The path's number (0 is the scenario's own run): with the seed, it names every stream.
    index: u64,
    state: State,
    step: u64,
    time: u64,
    innovations: RngStream,
    jumps: Vec<RngStream>,
    last_venue_price: Vec<f64>,
    sales: Sales,
    candidates: Vec<AccountId>,
    /// Per protocol and account: when the account was first found liquidatable in its current
    /// episode (`NOT_LIQUIDATABLE` outside one).
    liquidatable_since: Vec<Vec<u64>>,
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
}

impl PathState {
    /// Time 0 of path `path`: a copy of the world's initial state and fresh streams.
    fn new(world: &World, path: u64) -> Self {
        let state = world.initial.duplicate();
        let seed = world.simulation.seed;
        let jumps = world
            .assets
            .iter()
            .map(|a| stream(seed, path, &format!("jumps:{}", a.symbol)))
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
            .map(|p| vec![NOT_LIQUIDATABLE; p.accounts.len()])
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
            jumps,
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
        }
    }
}

/// Runs paths of a world, one at a time.
///
/// The world (parameters, the initial book and its index) is shared; the engine owns one
/// [`PathState`] and advances it step by step, handing every event to the caller's
/// [`EventSink`]; it keeps no events itself. [`Engine::reset`] starts another path on the same
/// engine, which is how a Monte Carlo driver reuses one engine per worker.
///
/// Each [`Engine::step`] runs the phases of MODEL.md §2 in order:
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
    pub fn on_path(world: Arc<World>, path: u64) -> Self {
        let path = PathState::new(&world, path);
        Self { world, path }
    }

    /// Restarts at time 0 of path `path` (the same or another): the state is what a new engine
    /// on that path would have.
    pub fn reset(&mut self, path: u64) {
        self.path = PathState::new(&self.world, path);
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
    pub fn step(&mut self, sink: &mut dyn EventSink) {
        self.cx(sink).step();
    }

    /// Runs every remaining step and marks the books at the end (each protocol's open book,
    /// each perp exchange's, each keeper's balances), sending every event to `sink`.
    pub fn run(&mut self, sink: &mut dyn EventSink) {
        let mut cx = self.cx(sink);
        while !(cx.path.started && cx.path.step >= cx.world.simulation.steps) {
            cx.step();
        }
        cx.mark();
    }

    fn cx<'a>(&'a mut self, sink: &'a mut dyn EventSink) -> Cx<'a> {
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
/// phase and mechanism is a method of this context, never of the [`Engine`].
struct Cx<'a> {
    world: &'a World,
    path: &'a mut PathState,
    sink: &'a mut dyn EventSink,
}

impl Cx<'_> {
    /// Advances one step (the first call runs the initial instant, step 0).
    fn step(&mut self) {
        self.path.step_liquidated.iter_mut().for_each(|x| *x = 0.0);
        if !self.path.started {
            self.path.started = true;
            self.initial_instant();
        } else {
            self.path.step += 1;
            self.path.time = self.path.step * self.world.simulation.step_seconds;
            self.advance_fundamentals();
            self.move_venues(self.world.simulation.step_seconds);
            self.read_oracles(0);
            self.release_delayed_sales();
        }
        self.gate().begin_blocks();
        self.borrowers_act();
        self.settle();
        self.lending_time_driven();
        self.perp_time_driven();
        self.settle_losses();
        self.gate().end_blocks();
        let world = self.world;
        for p in 0..world.protocols.len() {
            let prices = self.protocol_prices(ProtocolId(p as u32));
            self.path.state.mechanisms[p].step_ended(world, &prices);
        }
        self.emit(0, EventKind::StepEnded);
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

    fn transact(
        &mut self,
        sender: Sender,
        kind: TxKind,
        target: Target,
        amount: f64,
        round: u32,
    ) -> Option<f64> {
        self.gate().transact(sender, kind, target, amount, round)
    }

    fn expected_gas_usd(&self, k: KeeperId, kind: TxKind) -> f64 {
        chain::expected_gas_usd(
            self.world,
            self.path.chain.as_ref(),
            &self.path.state.fundamentals,
            k,
            kind,
        )
    }

    fn holds_included(&self, sender: Sender, kind: TxKind, target: Target) -> bool {
        chain::holds_included(self.path.chain.as_ref(), sender, kind, target)
    }

    fn emit(&mut self, round: u32, kind: EventKind) {
        self.sink.record(&Event {
            step: self.path.step,
            time: self.path.time,
            round,
            kind,
        });
    }

    fn initial_instant(&mut self) {
        self.emit(0, EventKind::RunStarted);
        let world = self.world;
        for (p, protocol) in self.path.state.protocols.iter().enumerate() {
            let mut collateral = vec![0.0; world.assets.len()];
            let mut debt = vec![0.0; world.assets.len()];
            for account in &protocol.accounts {
                for &(asset, units) in &account.collateral {
                    collateral[asset.index()] += units;
                }
                debt[account.debt_asset.index()] += account.debt;
            }
            self.sink.record(&Event {
                step: 0,
                time: 0,
                round: 0,
                kind: EventKind::PositionsOpened {
                    protocol: ProtocolId(p as u32),
                    accounts: protocol.accounts.len() as u64,
                    collateral,
                    debt,
                },
            });
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
    fn advance_fundamentals(&mut self) {
        let world = self.world;
        let dt = world.simulation.step_seconds;
        let n = world.assets.len();
        let mut z = vec![0.0; n];
        for (a, value) in z.iter_mut().enumerate() {
            if self.path.state.fundamentals[a].driver().is_stochastic() {
                *value = StandardNormal.sample(&mut self.path.innovations);
            }
        }
        if let Some((assets, factor)) = &world.correlation {
            let independent: Vec<f64> = assets.iter().map(|a| z[a.index()]).collect();
            for (row, asset) in assets.iter().enumerate() {
                z[asset.index()] = (0..=row)
                    .map(|col| factor[row][col] * independent[col])
                    .sum();
            }
        }
        for (a, &innovation) in z.iter().enumerate() {
            let before = self.path.state.fundamentals[a].price();
            self.path.state.fundamentals[a].advance(
                self.path.time,
                dt,
                innovation,
                &mut self.path.jumps[a],
            );
            let price = self.path.state.fundamentals[a].price();
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
        let mut readings = Vec::new();
        for (o, info) in world.oracles.iter().enumerate() {
            if within_instant && !self.path.state.oracles[o].rereads_within_an_instant() {
                continue;
            }
            readings.clear();
            readings.extend(info.sources.iter().map(|source| match *source {
                OracleSource::Venue(v) => self.path.last_venue_price[v.index()],
                OracleSource::Fundamental(a) => self.path.state.fundamentals[a.index()].price(),
            }));
            if let Some(price) = self.path.state.oracles[o].read(self.path.time, &readings) {
                self.emit(
                    round,
                    EventKind::OraclePublished {
                        oracle: OracleId(o as u32),
                        price,
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

    /// The protocol's prices now, per asset.
    fn protocol_prices(&self, p: ProtocolId) -> Vec<f64> {
        (0..self.world.assets.len())
            .map(|a| {
                self.world
                    .protocol_price(&self.path.state, p, AssetId(a as u32))
            })
            .collect()
    }

    /// One round of one protocol, through its mechanism and the shared driver
    /// (`mechanism::settle_round`). Returns the number of liquidations, write-offs and other
    /// actions.
    fn liquidate_protocol(&mut self, p: ProtocolId, round: u32) -> u64 {
        let prices = self.protocol_prices(p);
        if !matches!(
            self.path.state.mechanisms[p.index()],
            MechanismState::Unmoved
        ) {
            return self.mechanism_round(p, round, &prices);
        }
        self.legacy_round(p, round, prices)
    }

    /// What a mechanism works with in protocol `p`'s part of a round: disjoint parts of the
    /// path's state, then its round.
    fn mechanism_round(&mut self, p: ProtocolId, round: u32, prices: &[f64]) -> u64 {
        let world = self.world;
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
            prices,
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
        };
        mechanism.settle_round(&mut r)
    }

    fn legacy_round(&mut self, p: ProtocolId, round: u32, prices: Vec<f64>) -> u64 {
        let world = self.world;
        let info = &world.protocols[p.index()];
        let rule = info.params.liquidation;
        let mut activity = 0;
        // Running auctions go on whatever the settlement schedule.
        match &rule {
            LiquidationRule::EnglishAuction(params) => {
                activity += self.run_flips(p, params, &prices, round)
            }
            _ => {}
        }
        if let Some(epoch) = info.params.epoch_seconds {
            if self.path.time % epoch != 0 {
                return activity;
            }
        }
        let price = |a: AssetId| prices[a.index()];
        let mut candidates = std::mem::take(&mut self.path.candidates);
        candidates.clear();
        let index = &mut self.path.state.protocols[p.index()].index;
        index.prune();
        index.candidates(&price, &mut candidates);
        let mut missed = 0;
        for &id in &candidates {
            let account = &self.path.state.protocols[p.index()].accounts[id.index()];
            let health_factor = account.health_factor(&info.params, &price);
            if health_factor >= 1.0 {
                continue;
            }
            let since = &mut self.path.liquidatable_since[p.index()][id.index()];
            if *since == NOT_LIQUIDATABLE {
                *since = self.path.time;
            }
            if self.allowance_usd(p) <= 0.0 {
                // The protocol's rate limit for this step is used up: the account waits.
                missed += 1;
                continue;
            }
            if !account.has_collateral() {
                // Debt with nothing to seize: written off, or left on the account, by the rule.
                let writes_off = info.params.liquidation.writes_off_bad_debt();
                self.settle_account(p, id, &prices, round);
                activity += u64::from(writes_off);
                continue;
            }
            let acted = match &rule {
                LiquidationRule::EnglishAuction(params) => self.bite(p, id, params, &prices, round),
                _ => false,
            };
            if acted {
                activity += 1;
            } else {
                missed += 1;
            }
        }
        self.path.candidates = candidates;
        if missed > 0 {
            self.emit(
                round,
                EventKind::LiquidationsMissed {
                    protocol: p,
                    count: missed,
                },
            );
        }
        activity
    }

    /// Bites an unsafe vault into an English auction (Cat.bite + Flipper.kick): at most `lump`
    /// collateral and the same share of the debt; tab = debt × (1 + penalty). Returns whether
    /// it did.
    fn bite(
        &mut self,
        p: ProtocolId,
        id: AccountId,
        params: &EnglishAuctionParams,
        prices: &[f64],
        round: u32,
    ) -> bool {
        let world = self.world;
        let info = &world.protocols[p.index()];
        if info.keepers.is_empty() {
            return false;
        }
        let account = &self.path.state.protocols[p.index()].accounts[id.index()];
        let Some((collateral_asset, balance)) = richest_collateral(account, prices) else {
            return false;
        };
        let Some(keeper) = self.kicker(p, id, round) else {
            return false;
        };
        let account = &self.path.state.protocols[p.index()].accounts[id.index()];
        let (debt_asset, debt) = (account.debt_asset, account.debt);
        let whole = params.lump.is_none_or(|lump| lump >= balance);
        let lot = if whole {
            balance
        } else {
            params.lump.unwrap_or(balance)
        };
        let art = if whole { debt } else { debt * lot / balance };
        let tab = art * (1.0 + params.penalty);
        self.path.step_liquidated[p.index()] += art * prices[debt_asset.index()];
        let since = std::mem::replace(
            &mut self.path.liquidatable_since[p.index()][id.index()],
            NOT_LIQUIDATABLE,
        );
        let protocol = &mut self.path.state.protocols[p.index()];
        let account = protocol.account_mut(id);
        account.debt = if whole { 0.0 } else { debt - art };
        if let Some(slot) = account
            .collateral
            .iter_mut()
            .find(|c| c.0 == collateral_asset)
        {
            slot.1 = if whole { 0.0 } else { (slot.1 - lot).max(0.0) };
        }
        protocol
            .index
            .update(&info.params, id, &protocol.accounts[id.index()]);
        let auction = protocol.auctions_kicked;
        protocol.auctions_kicked += 1;
        protocol.flips.push(Flip {
            id: auction,
            account: id,
            collateral_asset,
            debt_asset,
            lot,
            tab,
            debt: art,
            bid: 0.0,
            winner: None,
            expires: 0,
            end: self.path.time + params.tau,
            returned: 0.0,
            liquidatable_since: if since == NOT_LIQUIDATABLE {
                self.path.time
            } else {
                since
            },
        });
        self.emit(
            round,
            EventKind::AuctionKicked {
                protocol: p,
                account: id,
                auction,
                keeper,
                collateral_asset,
                lot,
                collateral_price: prices[collateral_asset.index()],
                debt_asset,
                debt: art,
                tab,
                top: 0.0,
                incentive: 0.0,
            },
        );
        true
    }

    /// The keeper that starts an auction on account `id`: the first of the protocol's keepers
    /// (one whose kick got into an earlier block first) whose kick transaction gets in.
    fn kicker(&mut self, p: ProtocolId, id: AccountId, round: u32) -> Option<KeeperId> {
        let world = self.world;
        let target = Target::Account(p, id);
        let mut keepers = world.protocols[p.index()].keepers.clone();
        keepers.sort_by_key(|&k| !self.holds_included(Sender::Keeper(k), TxKind::Kick, target));
        for k in keepers {
            let sent = self.transact(Sender::Keeper(k), TxKind::Kick, target, 0.0, round);
            if sent.is_some() {
                return Some(k);
            }
        }
        None
    }

    /// What keeper `k` would get for `units` of the asset now: its venue's quote after the
    /// other sales pending this round, or the protocol's price when it holds.
    fn keeper_value(&self, k: KeeperId, asset: AssetId, units: f64, protocol_price: f64) -> f64 {
        match self.world.keepers[k.index()].spec.sell_on[asset.index()] {
            Some(v) => {
                let fundamental = self.path.state.fundamentals[asset.index()].price();
                let venue = &self.path.state.venues[v.index()];
                let already = self.path.sales.by_venue[v.index()];
                let (_, before) = venue.sale_from(fundamental, 0.0, already);
                let (_, after) = venue.sale_from(fundamental, 0.0, already + units);
                after - before
            }
            None => units * protocol_price,
        }
    }

    /// One round of a protocol's English auctions: deal those whose standing bid expired (or
    /// whose end passed with a bid), restart those that ended without one (`tick`), and let the
    /// keepers bid — tend while the bid is below the tab, dent once it is the tab. Returns the
    /// number of deals, restarts and bids.
    fn run_flips(
        &mut self,
        p: ProtocolId,
        params: &EnglishAuctionParams,
        prices: &[f64],
        round: u32,
    ) -> u64 {
        let world = self.world;
        let keepers = &world.protocols[p.index()].keepers;
        let now = self.path.time;
        let mut activity = 0;
        let mut i = 0;
        while i < self.path.state.protocols[p.index()].flips.len() {
            let flip = self.path.state.protocols[p.index()].flips[i].clone();
            let (collateral_price, debt_price) = (
                prices[flip.collateral_asset.index()],
                prices[flip.debt_asset.index()],
            );
            if let Some(w) = flip.winner {
                if now > flip.expires || now > flip.end {
                    self.deal(p, i, keepers[w], prices, round);
                    activity += 1;
                    continue;
                }
            } else if now > flip.end {
                self.path.state.protocols[p.index()].flips[i].end = now + params.tau;
                self.emit(
                    round,
                    EventKind::AuctionReset {
                        protocol: p,
                        auction: flip.id,
                        top: 0.0,
                        keeper: None,
                        incentive: 0.0,
                    },
                );
                activity += 1;
            }
            let budget = |engine: &Self, j: usize| {
                let k = keepers[j];
                let own = if flip.winner == Some(j) {
                    flip.bid
                } else {
                    0.0
                };
                engine.path.state.keepers[k.index()]
                    .available(world.keepers[k.index()].spec.capital)
                    / debt_price
                    + own
            };
            let target = Target::Auction(p, flip.id);
            let outcome = if flip.bid < flip.tab {
                let mut maxima: Vec<f64> = (0..keepers.len())
                    .map(|j| {
                        let k = keepers[j];
                        let value =
                            self.keeper_value(k, flip.collateral_asset, flip.lot, collateral_price);
                        let min_profit = world.keepers[k.index()].spec.min_profit
                            + self.expected_gas_usd(k, TxKind::Bid);
                        ((value - min_profit) / debt_price)
                            .min(budget(self, j))
                            .min(flip.tab)
                            .max(0.0)
                    })
                    .collect();
                let floor = english::min_next_bid(flip.bid, flip.tab, params.beg);
                // Only the bidders whose bid transactions get in take part; the standing bidder
                // raises only if it gets a transaction in too.
                let mut rival = false;
                for (j, maximum) in maxima.iter_mut().enumerate() {
                    if Some(j) == flip.winner || *maximum < floor {
                        continue;
                    }
                    let sent =
                        self.transact(Sender::Keeper(keepers[j]), TxKind::Bid, target, 0.0, round);
                    match sent {
                        Some(_) => rival = true,
                        None => *maximum = 0.0,
                    }
                }
                if let Some(w) = flip.winner {
                    if rival
                        && maxima[w] > flip.bid
                        && self
                            .transact(Sender::Keeper(keepers[w]), TxKind::Bid, target, 0.0, round)
                            .is_none()
                    {
                        maxima[w] = flip.bid;
                    }
                }
                english::tend(flip.bid, flip.tab, params.beg, flip.winner, &maxima)
                    .map(|(j, bid)| (j, bid, flip.lot))
            } else {
                // Dent: the smallest lot each keeper would pay the whole tab for, valued at its
                // per-unit value for the current lot.
                let mut minima: Vec<f64> = (0..keepers.len())
                    .map(|j| {
                        let k = keepers[j];
                        let value =
                            self.keeper_value(k, flip.collateral_asset, flip.lot, collateral_price);
                        let min_profit = world.keepers[k.index()].spec.min_profit
                            + self.expected_gas_usd(k, TxKind::Bid);
                        if budget(self, j) < flip.tab || value <= 0.0 {
                            f64::INFINITY
                        } else {
                            (flip.tab * debt_price + min_profit) / (value / flip.lot)
                        }
                    })
                    .collect();
                let ceiling = english::max_next_lot(flip.lot, params.beg);
                let mut rival = false;
                for (j, minimum) in minima.iter_mut().enumerate() {
                    if Some(j) == flip.winner || *minimum > ceiling {
                        continue;
                    }
                    let sent =
                        self.transact(Sender::Keeper(keepers[j]), TxKind::Bid, target, 0.0, round);
                    match sent {
                        Some(_) => rival = true,
                        None => *minimum = f64::INFINITY,
                    }
                }
                if let Some(w) = flip.winner {
                    if rival
                        && minima[w] < flip.lot
                        && self
                            .transact(Sender::Keeper(keepers[w]), TxKind::Bid, target, 0.0, round)
                            .is_none()
                    {
                        minima[w] = flip.lot;
                    }
                }
                english::dent(flip.lot, params.beg, flip.winner, &minima)
                    .map(|(j, lot)| (j, flip.tab, lot))
            };
            if let Some((j, bid, lot)) = outcome {
                let k = keepers[j];
                if let Some(w) = flip.winner {
                    self.path.state.keepers[keepers[w].index()].locked -= flip.bid * debt_price;
                }
                self.path.state.keepers[k.index()].locked += bid * debt_price;
                let protocol = &mut self.path.state.protocols[p.index()];
                let returned = flip.lot - lot;
                if returned > 0.0 {
                    let account = protocol.account_mut(flip.account);
                    match account
                        .collateral
                        .iter_mut()
                        .find(|c| c.0 == flip.collateral_asset)
                    {
                        Some(slot) => slot.1 += returned,
                        None => account.collateral.push((flip.collateral_asset, returned)),
                    }
                    let info = &world.protocols[p.index()];
                    protocol.index.update(
                        &info.params,
                        flip.account,
                        &protocol.accounts[flip.account.index()],
                    );
                }
                let live = &mut protocol.flips[i];
                live.bid = bid;
                live.lot = lot;
                live.returned += returned.max(0.0);
                live.winner = Some(j);
                live.expires = now + params.ttl;
                self.emit(
                    round,
                    EventKind::AuctionBid {
                        protocol: p,
                        auction: flip.id,
                        keeper: k,
                        bid,
                        lot,
                    },
                );
                activity += 1;
            }
            i += 1;
        }
        activity
    }

    /// Deals English auction `i` to its standing bidder: the keeper pays its bid and receives
    /// the lot; the auction ends as a Dutch one does (shortfall written off, penalty income).
    fn deal(&mut self, p: ProtocolId, i: usize, keeper: KeeperId, prices: &[f64], round: u32) {
        let world = self.world;
        let protocol = &mut self.path.state.protocols[p.index()];
        let flip = protocol.flips.remove(i);
        let (collateral_price, debt_price) = (
            prices[flip.collateral_asset.index()],
            prices[flip.debt_asset.index()],
        );
        let book = &mut self.path.state.keepers[keeper.index()];
        book.locked -= flip.bid * debt_price;
        book.spent += flip.bid * debt_price;
        book.receive(flip.collateral_asset, flip.lot);
        if let Some(v) = world.keepers[keeper.index()].spec.sell_on[flip.collateral_asset.index()] {
            self.queue_sale(keeper, v, flip.lot, collateral_price);
        }
        self.emit(
            round,
            EventKind::AuctionTaken {
                protocol: p,
                auction: flip.id,
                account: flip.account,
                keeper,
                collateral_asset: flip.collateral_asset,
                slice: flip.lot,
                price: if flip.lot > 0.0 {
                    flip.bid / flip.lot
                } else {
                    0.0
                },
                collateral_price,
                debt_asset: flip.debt_asset,
                owe: flip.bid,
                debt_price,
            },
        );
        self.close_auction_books(
            round,
            AuctionClose {
                protocol: p,
                auction: flip.id,
                account: flip.account,
                collateral_asset: flip.collateral_asset,
                returned: flip.returned,
                debt_asset: flip.debt_asset,
                raised: flip.bid,
                debt: flip.debt,
                debt_price,
                liquidatable_since: flip.liquidatable_since,
            },
        );
    }

    /// The end of any auction, Dutch or English: what was raised beyond the debt (the penalty)
    /// is income, fed to the insurance fund by its fee share; an `AuctionEnded` event records
    /// the close; what was raised short of the debt is bad debt.
    fn close_auction_books(&mut self, round: u32, close: AuctionClose) {
        let p = close.protocol;
        let surplus = (close.raised - close.debt).max(0.0);
        if let Some(losses) = self.path.state.protocols[p.index()].losses.as_mut() {
            losses.record_fees(surplus * close.debt_price);
        }
        self.emit(
            round,
            EventKind::AuctionEnded {
                protocol: p,
                auction: close.auction,
                account: close.account,
                collateral_asset: close.collateral_asset,
                returned: close.returned,
                debt_asset: close.debt_asset,
                raised: close.raised,
                debt: close.debt,
                debt_price: close.debt_price,
                liquidatable_since: close.liquidatable_since,
            },
        );
        let shortfall = close.debt - close.raised;
        if shortfall > 0.0 {
            self.book_bad_debt(
                p,
                close.account,
                close.debt_asset,
                shortfall,
                close.debt_price,
                round,
            );
        }
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
                sink: &mut *self.sink,
            };
            path.state.mechanisms[p].time_driven(&mut cx);
        }
    }

    /// Queues `units` that keeper `k` will sell on venue `v` at the end of the round, valued at
    /// `oracle_price` for the slippage measure.
    fn queue_sale(&mut self, k: KeeperId, v: VenueId, units: f64, oracle_price: f64) {
        let sale = PendingSale {
            keeper: k,
            venue: v,
            units,
            oracle_value: units * oracle_price,
        };
        let delay = self.world.keepers[k.index()].spec.sale_delay;
        self.path.sales.queue(sale, delay, self.path.time);
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
                sales.by_venue[sale.venue.index()] += sale.units;
                sales.pending.push(sale);
            } else {
                kept.push((due, sale));
            }
        }
        sales.delayed = kept;
    }

    /// USD of debt the protocol may still liquidate this step under its rate limit.
    fn allowance_usd(&self, p: ProtocolId) -> f64 {
        self.world.protocols[p.index()]
            .params
            .step_limit_usd
            .map_or(f64::INFINITY, |limit| {
                (limit - self.path.step_liquidated[p.index()]).max(0.0)
            })
    }

    /// After a call: an account left owing with no collateral has its debt written off if the
    /// protocol's rule says so, and otherwise leaves the index (nothing more can be seized);
    /// any other account is re-indexed at its new trigger.
    fn settle_account(&mut self, p: ProtocolId, id: AccountId, prices: &[f64], round: u32) {
        let world = self.world;
        let info = &world.protocols[p.index()];
        let protocol = &mut self.path.state.protocols[p.index()];
        let account = &protocol.accounts[id.index()];
        if !account.has_collateral() && account.debt > 0.0 {
            if info.params.liquidation.writes_off_bad_debt() {
                self.write_off(p, id, prices, round);
            } else {
                protocol.index.forget(id);
            }
        } else {
            protocol.index.update(&info.params, id, account);
        }
    }

    /// Writes off the debt of an account with no collateral left.
    fn write_off(&mut self, p: ProtocolId, id: AccountId, prices: &[f64], round: u32) {
        let world = self.world;
        let protocol = &mut self.path.state.protocols[p.index()];
        let account = protocol.account_mut(id);
        let amount = account.debt;
        let debt_asset = account.debt_asset;
        account.debt = 0.0;
        protocol.index.update(
            &world.protocols[p.index()].params,
            id,
            &protocol.accounts[id.index()],
        );
        self.book_bad_debt(p, id, debt_asset, amount, prices[debt_asset.index()], round);
    }

    /// Books debt that will not be repaid: the protocol's insurance fund (if any) takes it at
    /// the end of the step, and a `BadDebt` event records it.
    fn book_bad_debt(
        &mut self,
        p: ProtocolId,
        account: AccountId,
        debt_asset: AssetId,
        amount: f64,
        debt_price: f64,
        round: u32,
    ) {
        let usd = amount * debt_price;
        if let Some(losses) = self.path.state.protocols[p.index()].losses.as_mut() {
            losses.record_bad_debt(usd);
        }
        let kind = EventKind::BadDebt {
            protocol: p,
            account,
            debt_asset,
            amount,
            usd,
        };
        self.emit(round, kind);
    }

    /// Sells what keepers seized this round, one sale per keeper and venue, in keeper order.
    fn flush_sales(&mut self, round: u32) {
        if self.path.sales.pending.is_empty() {
            return;
        }
        let mut pending = std::mem::take(&mut self.path.sales.pending);
        pending.sort_by_key(|s| (s.keeper, s.venue));
        let mut i = 0;
        while i < pending.len() {
            let (keeper, venue) = (pending[i].keeper, pending[i].venue);
            let mut units = 0.0;
            let mut oracle_value = 0.0;
            while i < pending.len() && pending[i].keeper == keeper && pending[i].venue == venue {
                units += pending[i].units;
                oracle_value += pending[i].oracle_value;
                i += 1;
            }
            let asset = self.world.venues[venue.index()].base;
            let fundamental = self.path.state.fundamentals[asset.index()].price();
            let fill = self.path.state.venues[venue.index()].sell(fundamental, units);
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

    /// End of run: mark every protocol's open book and every keeper's balances.
    fn mark(&mut self) {
        let world = self.world;
        let n = world.assets.len();
        for p in 0..world.protocols.len() {
            let id = ProtocolId(p as u32);
            let prices: Vec<f64> = (0..n)
                .map(|a| world.protocol_price(&self.path.state, id, AssetId(a as u32)))
                .collect();
            let price = |a: AssetId| prices[a.index()];
            let protocol = &self.path.state.protocols[p];
            let mut collateral = vec![0.0; n];
            let mut debt = vec![0.0; n];
            let (mut open, mut debt_usd, mut collateral_usd, mut unrealised) = (0, 0.0, 0.0, 0.0);
            for account in &protocol.accounts {
                for &(asset, units) in &account.collateral {
                    collateral[asset.index()] += units;
                }
                debt[account.debt_asset.index()] += account.debt;
                if account.debt > 0.0 {
                    open += 1;
                    let d = account.debt_value(&price);
                    let c = account.collateral_value(&price);
                    debt_usd += d;
                    collateral_usd += c;
                    unrealised += (d - c).max(0.0);
                }
            }
            let mut in_auction_collateral = vec![0.0; n];
            let mut in_auction_debt = vec![0.0; n];
            for flip in &protocol.flips {
                // Nothing is raised before the deal: the whole debt is still owed.
                in_auction_collateral[flip.collateral_asset.index()] += flip.lot;
                in_auction_debt[flip.debt_asset.index()] += flip.debt;
                unrealised += (flip.debt * price(flip.debt_asset)
                    - flip.lot * price(flip.collateral_asset))
                .max(0.0);
            }
            let mut mark = BookMark {
                protocol: id,
                open_accounts: open,
                collateral,
                debt,
                treasury: protocol.treasury.clone(),
                debt_usd,
                collateral_usd,
                unrealised_bad_debt_usd: unrealised,
                in_auction_collateral,
                in_auction_debt,
            };
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

/// The account's collateral worth the most at `prices`, which liquidators seize first.
fn richest_collateral(account: &Account, prices: &[f64]) -> Option<(AssetId, f64)> {
    account
        .collateral
        .iter()
        .filter(|c| c.1 > 0.0)
        .max_by(|a, b| (a.1 * prices[a.0.index()]).total_cmp(&(b.1 * prices[b.0.index()])))
        .copied()
}
