//! The timeline (timeline.csv): one row per step, folded from the audit events.

use cascade_engine::{Event, EventKind, World};

use crate::depth::venues_with_market_makers;

/// A table with one row per step.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, one per step, values in column order.
    pub rows: Vec<Vec<f64>>,
}

/// Number of leading columns that are integers (step, time, counts are formatted as such).
pub const FIXED_COLUMNS: [&str; 2] = ["step", "time_seconds"];

/// Folds events into the timeline. Columns: `step`, `time_seconds`; `fundamental_<ASSET>` per
/// asset; `venue_<NAME>` (best bid at the end of the step) per venue; `oracle_<NAME>` per
/// oracle; `insurance_<PROTOCOL>` (fund balance, USD) per protocol with an insurance fund; then
/// per-step flows `liquidations`, `debt_repaid_usd`, `sold_<ASSET>` (units filled
/// on venues) per asset, `sale_proceeds_usd`, `bad_debt_realised_usd` (this step), `missed`,
/// `rounds`; then the running total `bad_debt_realised_cumulative_usd`. Per perp exchange
/// `<X>` last: `insurance_<X>` (fund balance), `perp_liquidations_long_<X>` and
/// `perp_liquidations_short_<X>` (positions closed this step), `perp_liquidated_usd_<X>`,
/// `adl_usd_<X>` (notional auto-deleveraged this step) and `vault_takeovers_<X>`. Perp closes
/// and vault takeovers count in `liquidations`, deficits in `bad_debt_realised_usd`. With a
/// chain, last: `gas_gwei` (the step's clearing price), `txs_included`, `txs_waiting` (in the
/// mempool at the step's start), `txs_dropped`, and `borrower_actions` (top-ups and
/// repayments executed). Per venue `<V>` with market makers, last of all: `depth_<V>`, the
/// depth fraction its makers quoted at the end of the step (1 for the full book).
pub fn timeline(world: &World, events: &[Event]) -> Timeline {
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
    // Gas price, then included, waiting, dropped and borrower actions this step.
    let mut chain = [0.0f64; 5];
    let quoted = venues_with_market_makers(world);
    columns.extend(
        quoted
            .iter()
            .map(|v| format!("depth_{}", world.venues[v.index()].name)),
    );
    let mut depth = vec![1.0f64; world.venues.len()];
    // Per exchange: fund, then the five flows above.
    let mut perp: Vec<[f64; 6]> = world
        .perps
        .iter()
        .map(|x| [x.params.insurance_fund_usd, 0.0, 0.0, 0.0, 0.0, 0.0])
        .collect();
    let (na, nv, no) = (world.assets.len(), world.venues.len(), world.oracles.len());
    let mut fundamental: Vec<f64> = world.assets.iter().map(|a| a.start_price).collect();
    let mut venue = vec![f64::NAN; nv];
    let mut oracle = vec![f64::NAN; no];
    // liquidations, debt repaid, proceeds, bad debt, missed, rounds; then units sold per asset.
    let mut flows = [0.0f64; 6];
    let mut sold = vec![0.0f64; na];
    let mut cumulative_bad_debt = 0.0;
    let mut funds: Vec<f64> = world
        .protocols
        .iter()
        .map(|p| p.insurance.map_or(0.0, |i| i.initial_usd))
        .collect();
    let mut rows = Vec::new();
    for event in events {
        match &event.kind {
            EventKind::FundamentalMoved { asset, price }
            | EventKind::ShockApplied { asset, price, .. } => fundamental[asset.index()] = *price,
            EventKind::VenuePriceMoved { venue: v, price } => venue[v.index()] = *price,
            EventKind::DepthChanged {
                venue: v, depth: d, ..
            } => depth[v.index()] = *d,
            EventKind::OraclePublished { oracle: o, price } => oracle[o.index()] = *price,
            EventKind::Liquidation(l) => {
                flows[0] += 1.0;
                flows[1] += l.debt_repaid * l.debt_price;
            }
            EventKind::AuctionKicked { .. } => flows[0] += 1.0,
            EventKind::TroveLiquidated(t) => {
                flows[0] += 1.0;
                flows[1] += t.debt_offset * t.debt_price;
            }
            EventKind::Absorbed {
                debt, debt_price, ..
            } => {
                flows[0] += 1.0;
                flows[1] += debt * debt_price;
            }
            EventKind::BackstopTakeover {
                debt, debt_price, ..
            } => {
                flows[0] += 1.0;
                flows[1] += debt * debt_price;
            }
            EventKind::BackstopSale {
                venue: v,
                asset,
                filled,
                proceeds,
                price_after,
                ..
            } => {
                sold[asset.index()] += filled;
                flows[2] += proceeds;
                venue[v.index()] = *price_after;
            }
            EventKind::AuctionTaken {
                owe, debt_price, ..
            } => flows[1] += owe * debt_price,
            EventKind::Sale(s) => {
                sold[s.asset.index()] += s.filled;
                flows[2] += s.proceeds;
                venue[s.venue.index()] = s.price_after;
            }
            EventKind::BadDebt { usd, .. } => {
                flows[3] += usd;
                cumulative_bad_debt += usd;
            }
            EventKind::LiquidationsMissed { count, .. } => flows[4] += *count as f64,
            EventKind::CascadeSettled { rounds, .. } => flows[5] = f64::from(*rounds),
            EventKind::LossesSettled {
                protocol,
                fund_balance,
                ..
            } => funds[protocol.index()] = *fund_balance,
            EventKind::PerpLiquidated(l) => {
                flows[0] += 1.0;
                let x = &mut perp[l.exchange.index()];
                x[if l.units > 0.0 { 1 } else { 2 }] += 1.0;
                x[3] += l.units.abs() * l.fill_price;
                x[0] += l.fee;
                let v = world.perps[l.exchange.index()].markets[l.market.index()].venue;
                venue[v.index()] = l.price_after;
            }
            EventKind::PerpSettled(settlement) => {
                let deficit = (-settlement.balance).max(0.0);
                flows[3] += deficit;
                cumulative_bad_debt += deficit;
                perp[settlement.exchange.index()][0] = settlement.fund_balance;
            }
            EventKind::PerpDeleveraged {
                exchange,
                units,
                price,
                ..
            } => perp[exchange.index()][4] += units.abs() * price,
            EventKind::PerpTakeover { exchange, .. } => {
                flows[0] += 1.0;
                perp[exchange.index()][5] += 1.0;
            }
            EventKind::BlocksProduced {
                gas_gwei, waiting, ..
            } => {
                chain[0] = *gas_gwei;
                chain[2] = *waiting as f64;
            }
            EventKind::TxIncluded(_) => chain[1] += 1.0,
            EventKind::TxDropped(..) => chain[3] += 1.0,
            EventKind::BorrowerActed { .. } => chain[4] += 1.0,
            EventKind::StepEnded => {
                let mut row = Vec::with_capacity(columns.len());
                row.push(event.step as f64);
                row.push(event.time as f64);
                row.extend_from_slice(&fundamental[..na]);
                row.extend_from_slice(&venue);
                row.extend_from_slice(&oracle);
                row.extend(insured.iter().map(|&p| funds[p]));
                row.extend_from_slice(&flows[..2]);
                row.extend_from_slice(&sold);
                row.extend_from_slice(&flows[2..]);
                row.push(cumulative_bad_debt);
                for x in &mut perp {
                    row.extend_from_slice(&x[..]);
                    x[1..].iter_mut().for_each(|f| *f = 0.0);
                }
                if on_chain {
                    row.extend_from_slice(&chain);
                    chain[1..].iter_mut().for_each(|f| *f = 0.0);
                }
                row.extend(quoted.iter().map(|v| depth[v.index()]));
                rows.push(row);
                flows = [0.0; 6];
                sold.iter_mut().for_each(|x| *x = 0.0);
            }
            _ => {}
        }
    }
    Timeline { columns, rows }
}
