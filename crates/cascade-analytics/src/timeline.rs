//! The timeline (timeline.csv): one row per step, folded from the audit events.
//!
//! [`TimelineFold`] takes the events one at a time and keeps the latest prices, fund balances and
//! depths, the current step's flows, and the rows of the steps ended: its state grows with the
//! steps, not with the events.

use cascade_engine::{Event, EventKind, EventSink, World};
use cascade_model::ids::VenueId;

use crate::depth::venues_with_market_makers;
use crate::view::LiquidationView;

/// A table with one row per step.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, one per step, values in column order.
    pub rows: Vec<Vec<f64>>,
    /// The Unix time of the run's time 0, when the scenario has a start time: timeline.csv then
    /// has a `time_utc` column beside `time_seconds` (a text column, not among `columns`).
    pub start_time: Option<i64>,
}

impl Timeline {
    /// Appends a column whose value at each row is `value(step)` of the row's step (NaN, an
    /// empty cell, where it has none).
    pub fn add_column(&mut self, name: String, value: impl Fn(u64) -> Option<f64>) {
        self.columns.push(name);
        for row in &mut self.rows {
            let step = row.first().copied().unwrap_or(0.0) as u64;
            row.push(value(step).unwrap_or(f64::NAN));
        }
    }
}

/// Number of leading columns that are integers (step, time, counts are formatted as such).
pub const FIXED_COLUMNS: [&str; 2] = ["step", "time_seconds"];

/// The timeline of a run, folded from its events one at a time.
///
/// Columns: `step`, `time_seconds`; `fundamental_<ASSET>` per asset; `venue_<NAME>` (best bid at
/// the end of the step) per venue; `oracle_<NAME>` per oracle; `insurance_<PROTOCOL>` (fund
/// balance, USD) per protocol with an insurance fund; then per-step flows `liquidations`,
/// `debt_repaid_usd`, `sold_<ASSET>` (units filled on venues) per asset, `sale_proceeds_usd`, `bad_debt_realised_usd` (this step), `missed`,
/// `rounds`; then the running total `bad_debt_realised_cumulative_usd`. Per perp exchange
/// `<X>` last: `insurance_<X>` (fund balance), `perp_liquidations_long_<X>` and
/// `perp_liquidations_short_<X>` (positions closed this step), `perp_liquidated_usd_<X>`,
/// `adl_usd_<X>` (notional auto-deleveraged this step) and `vault_takeovers_<X>`. Perp closes
/// and vault takeovers count in `liquidations`, deficits in `bad_debt_realised_usd`; a batch of
/// lending calls counts as its calls, and the debt it wrote off in `bad_debt_realised_usd`. With a
/// chain, last: `gas_gwei` (the step's clearing price), `txs_included`, `txs_waiting` (in the
/// mempool at the step's start), `txs_dropped`, and `borrower_actions` (top-ups and
/// repayments executed). Per venue `<V>` with market makers: `depth_<V>`, the
/// depth fraction its makers quoted at the end of the step (1 for the full book). Per lending
/// protocol `<P>` that checks its oracles' age, last of all: `stale_<P>` (1 when it found some
/// price stale this step, else 0) and `liquidations_paused_<P>` (accounts it left for a stale
/// price this step, summed over rounds).
pub struct TimelineFold {
    columns: Vec<String>,
    rows: Vec<Vec<f64>>,
    /// Protocols with an insurance fund, in world order.
    insured: Vec<usize>,
    /// Each perp exchange's market venues.
    perp_venues: Vec<Vec<VenueId>>,
    on_chain: bool,
    /// Venues with market makers.
    quoted: Vec<VenueId>,
    /// Latest depth fraction per venue.
    depth: Vec<f64>,
    /// Latest fundamental, venue and oracle prices.
    fundamental: Vec<f64>,
    venue: Vec<f64>,
    oracle: Vec<f64>,
    /// Liquidations, debt repaid, proceeds, bad debt, missed, rounds this step.
    flows: [f64; 6],
    /// Units sold per asset this step.
    sold: Vec<f64>,
    cumulative_bad_debt: f64,
    /// Latest fund balance per protocol.
    funds: Vec<f64>,
    /// Per exchange: fund, then long and short closes, notional closed, notional deleveraged and
    /// vault takeovers this step.
    perp: Vec<[f64; 6]>,
    /// Gas price, then included, waiting, dropped and borrower actions this step.
    chain: [f64; 5],
    /// Protocols that check their oracles' age, in world order.
    guarded: Vec<usize>,
    /// Per protocol: whether it found a price stale this step, and the accounts it paused.
    stale: Vec<[f64; 2]>,
    /// The Unix time of the run's time 0, if the scenario has one.
    start_time: Option<i64>,
}

impl TimelineFold {
    /// A fold for runs of `world`, with its columns and no rows.
    pub fn new(world: &World) -> Self {
        let mut columns: Vec<String> = FIXED_COLUMNS.iter().map(|s| s.to_string()).collect();
        columns.extend(
            world
                .assets
                .iter()
                .map(|a| format!("fundamental_{}", a.symbol)),
        );
        columns.extend(world.venues.iter().map(|v| format!("venue_{}", v.name)));
        columns.extend(world.oracles.iter().map(|o| format!("oracle_{}", o.name)));
        let insured: Vec<usize> = (0..world.protocols.len())
            .filter(|&p| world.protocols[p].insurance.is_some())
            .collect();
        columns.extend(
            insured
                .iter()
                .map(|&p| format!("insurance_{}", world.protocols[p].name)),
        );
        columns.push("liquidations".to_string());
        columns.push("debt_repaid_usd".to_string());
        columns.extend(world.assets.iter().map(|a| format!("sold_{}", a.symbol)));
        for flow in [
            "sale_proceeds_usd",
            "bad_debt_realised_usd",
            "missed",
            "rounds",
            "bad_debt_realised_cumulative_usd",
        ] {
            columns.push(flow.to_string());
        }
        for x in &world.perps {
            for column in [
                "insurance",
                "perp_liquidations_long",
                "perp_liquidations_short",
                "perp_liquidated_usd",
                "adl_usd",
                "vault_takeovers",
            ] {
                columns.push(format!("{column}_{}", x.name));
            }
        }
        let on_chain = world.chain.is_some();
        if on_chain {
            for column in [
                "gas_gwei",
                "txs_included",
                "txs_waiting",
                "txs_dropped",
                "borrower_actions",
            ] {
                columns.push(column.to_string());
            }
        }
        let quoted = venues_with_market_makers(world);
        columns.extend(
            quoted
                .iter()
                .map(|v| format!("depth_{}", world.venues[v.index()].name)),
        );
        let guarded: Vec<usize> = (0..world.protocols.len())
            .filter(|&p| world.protocols[p].staleness.is_some())
            .collect();
        for &p in &guarded {
            let name = &world.protocols[p].name;
            columns.push(format!("stale_{name}"));
            columns.push(format!("liquidations_paused_{name}"));
        }
        Self {
            guarded,
            stale: vec![[0.0; 2]; world.protocols.len()],
            columns,
            rows: Vec::with_capacity(world.simulation.steps as usize + 1),
            start_time: world.simulation.start_time,
            insured,
            perp_venues: world
                .perps
                .iter()
                .map(|x| x.markets.iter().map(|m| m.venue).collect())
                .collect(),
            on_chain,
            quoted,
            depth: vec![1.0; world.venues.len()],
            fundamental: world.assets.iter().map(|a| a.start_price).collect(),
            venue: vec![f64::NAN; world.venues.len()],
            oracle: vec![f64::NAN; world.oracles.len()],
            flows: [0.0; 6],
            sold: vec![0.0; world.assets.len()],
            cumulative_bad_debt: 0.0,
            funds: world
                .protocols
                .iter()
                .map(|p| p.insurance.map_or(0.0, |i| i.initial_usd))
                .collect(),
            perp: world
                .perps
                .iter()
                .map(|x| [x.params.insurance_fund_usd, 0.0, 0.0, 0.0, 0.0, 0.0])
                .collect(),
            chain: [0.0; 5],
        }
    }

    /// One event.
    pub fn event(&mut self, event: &Event) {
        if let Some(view) = LiquidationView::of(event) {
            if view.call.is_some() {
                self.flows[0] += view.count as f64;
            }
            if let Some(usd) = view.repaid_usd {
                self.flows[1] += usd;
            }
            if let Some(usd) = view.written_off_usd {
                self.flows[3] += usd;
                self.cumulative_bad_debt += usd;
            }
        }
        let flows = &mut self.flows;
        match &event.kind {
            EventKind::FundamentalMoved { asset, price }
            | EventKind::ShockApplied { asset, price, .. } => {
                self.fundamental[asset.index()] = *price;
            }
            EventKind::VenuePriceMoved { venue: v, price } => self.venue[v.index()] = *price,
            EventKind::DepthChanged {
                venue: v, depth: d, ..
            } => self.depth[v.index()] = *d,
            EventKind::OraclePublished { oracle: o, price } => self.oracle[o.index()] = *price,
            EventKind::BackstopSale {
                venue: v,
                asset,
                filled,
                proceeds,
                price_after,
                ..
            } => {
                self.sold[asset.index()] += filled;
                flows[2] += proceeds;
                self.venue[v.index()] = *price_after;
            }
            EventKind::Sale(s) => {
                self.sold[s.asset.index()] += s.filled;
                flows[2] += s.proceeds;
                self.venue[s.venue.index()] = s.price_after;
            }
            EventKind::BadDebt { usd, .. } => {
                flows[3] += usd;
                self.cumulative_bad_debt += usd;
            }
            EventKind::LiquidationsMissed { count, .. } => flows[4] += *count as f64,
            EventKind::FeedStale { protocol, .. } => self.stale[protocol.index()][0] = 1.0,
            EventKind::LiquidationsPaused { protocol, count } => {
                self.stale[protocol.index()][1] += *count as f64;
            }
            EventKind::CascadeSettled { rounds, .. } => flows[5] = f64::from(*rounds),
            EventKind::LossesSettled {
                protocol,
                fund_balance,
                ..
            } => self.funds[protocol.index()] = *fund_balance,
            EventKind::PerpLiquidated(l) => {
                let x = &mut self.perp[l.exchange.index()];
                x[if l.units > 0.0 { 1 } else { 2 }] += 1.0;
                x[3] += l.units.abs() * l.fill_price;
                x[0] += l.fee;
                let v = self.perp_venues[l.exchange.index()][l.market.index()];
                self.venue[v.index()] = l.price_after;
            }
            EventKind::PerpSettled(settlement) => {
                let deficit = (-settlement.balance).max(0.0);
                flows[3] += deficit;
                self.cumulative_bad_debt += deficit;
                self.perp[settlement.exchange.index()][0] = settlement.fund_balance;
            }
            EventKind::PerpDeleveraged {
                exchange,
                units,
                price,
                ..
            } => self.perp[exchange.index()][4] += units.abs() * price,
            EventKind::PerpTakeover { exchange, .. } => self.perp[exchange.index()][5] += 1.0,
            EventKind::BlocksProduced {
                gas_gwei, waiting, ..
            } => {
                self.chain[0] = *gas_gwei;
                self.chain[2] = *waiting as f64;
            }
            EventKind::TxIncluded(_) => self.chain[1] += 1.0,
            EventKind::TxDropped(..) => self.chain[3] += 1.0,
            EventKind::BorrowerActed { .. } => self.chain[4] += 1.0,
            EventKind::StepEnded => self.end_step(event),
            _ => {}
        }
    }

    /// The row of the step that `event` ends; the step's flows start again from zero.
    fn end_step(&mut self, event: &Event) {
        let mut row = Vec::with_capacity(self.columns.len());
        row.push(event.step as f64);
        row.push(event.time as f64);
        row.extend_from_slice(&self.fundamental);
        row.extend_from_slice(&self.venue);
        row.extend_from_slice(&self.oracle);
        row.extend(self.insured.iter().map(|&p| self.funds[p]));
        row.extend_from_slice(&self.flows[..2]);
        row.extend_from_slice(&self.sold);
        row.extend_from_slice(&self.flows[2..]);
        row.push(self.cumulative_bad_debt);
        for x in &mut self.perp {
            row.extend_from_slice(&x[..]);
            x[1..].iter_mut().for_each(|f| *f = 0.0);
        }
        if self.on_chain {
            row.extend_from_slice(&self.chain);
            self.chain[1..].iter_mut().for_each(|f| *f = 0.0);
        }
        row.extend(self.quoted.iter().map(|v| self.depth[v.index()]));
        for &p in &self.guarded {
            row.extend_from_slice(&self.stale[p]);
            self.stale[p] = [0.0; 2];
        }
        self.rows.push(row);
        self.flows = [0.0; 6];
        self.sold.iter_mut().for_each(|x| *x = 0.0);
    }

    /// The timeline: the columns and a row per step ended.
    pub fn finish(self) -> Timeline {
        Timeline {
            columns: self.columns,
            rows: self.rows,
            start_time: self.start_time,
        }
    }
}

impl EventSink for TimelineFold {
    fn record(&mut self, event: &Event) {
        self.event(event);
    }
}

/// Folds a run's events into its timeline (see [`TimelineFold`] for the columns).
pub fn timeline(world: &World, events: &[Event]) -> Timeline {
    let mut fold = TimelineFold::new(world);
    events.iter().for_each(|e| fold.event(e));
    fold.finish()
}
