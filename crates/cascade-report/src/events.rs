//! events.csv: one row per audit event, a fixed set of columns, blank where a column does not
//! apply to the event kind.

use std::io::{self, Write};

use cascade_engine::{Event, EventKind, World};

use crate::float;

/// The columns of events.csv, in order.
pub const COLUMNS: [&str; 22] = [
    "seq",
    "step",
    "time_seconds",
    "round",
    "kind",
    "protocol",
    "account",
    "keeper",
    "venue",
    "oracle",
    "asset",
    "units",
    "price",
    "usd",
    "debt_asset",
    "debt_units",
    "health_factor",
    "to_keeper",
    "protocol_fee",
    "filled",
    "price_after",
    "detail",
];

#[derive(Default)]
struct Row<'a> {
    protocol: &'a str,
    account: String,
    keeper: &'a str,
    venue: &'a str,
    oracle: &'a str,
    asset: &'a str,
    units: Option<f64>,
    price: Option<f64>,
    usd: Option<f64>,
    debt_asset: &'a str,
    debt_units: Option<f64>,
    health_factor: Option<f64>,
    to_keeper: Option<f64>,
    protocol_fee: Option<f64>,
    filled: Option<f64>,
    price_after: Option<f64>,
    detail: String,
}

fn per_asset(world: &World, label: &str, values: &[f64]) -> String {
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| **v != 0.0)
        .map(|(a, v)| format!("{label}.{}={v}", world.assets[a].symbol))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes events.csv.
///
/// # Errors
/// IO errors of the writer.
pub fn write_events(world: &World, events: &[Event], out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{}", COLUMNS.join(","))?;
    let asset = |a: cascade_model::ids::AssetId| world.assets[a.index()].symbol.as_str();
    let account = |p: cascade_model::ids::ProtocolId, a: cascade_model::ids::AccountId| match world
        .protocols[p.index()]
    .account_labels
    .get(a.index())
    {
        Some(label) if !label.is_empty() => label.clone(),
        _ => a.0.to_string(),
    };
    let mut buffer = ryu::Buffer::new();
    let mut line = String::with_capacity(256);
    for (seq, event) in events.iter().enumerate() {
        let row = match &event.kind {
            EventKind::RunStarted | EventKind::StepEnded => Row::default(),
            EventKind::PositionsOpened {
                protocol,
                accounts,
                collateral,
                debt,
            } => Row {
                protocol: &world.protocols[protocol.index()].name,
                detail: format!(
                    "accounts={accounts} {} {}",
                    per_asset(world, "collateral", collateral),
                    per_asset(world, "debt", debt)
                ),
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
                detail: format!("factor={factor}"),
                ..Row::default()
            },
            EventKind::VenuePriceMoved { venue, price } => Row {
                venue: &world.venues[venue.index()].name,
                asset: asset(world.venues[venue.index()].base),
                price: Some(*price),
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
                account: account(l.protocol, l.account),
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
                detail: format!("oracle_value={}", s.oracle_value),
                ..Row::default()
            },
            EventKind::BadDebt {
                protocol,
                account: a,
                debt_asset,
                amount,
                usd,
            } => Row {
                protocol: &world.protocols[protocol.index()].name,
                account: account(*protocol, *a),
                usd: Some(*usd),
                debt_asset: asset(*debt_asset),
                debt_units: Some(*amount),
                ..Row::default()
            },
            EventKind::LiquidationsMissed { protocol, count } => Row {
                protocol: &world.protocols[protocol.index()].name,
                detail: format!("count={count}"),
                ..Row::default()
            },
            EventKind::CascadeSettled {
                rounds,
                hit_round_limit,
            } => Row {
                detail: format!("rounds={rounds} hit_round_limit={hit_round_limit}"),
                ..Row::default()
            },
            EventKind::PositionsMarked {
                protocol,
                open_accounts,
                collateral,
                debt,
                treasury,
                debt_usd,
                collateral_usd,
                unrealised_bad_debt_usd,
            } => Row {
                protocol: &world.protocols[protocol.index()].name,
                usd: Some(*unrealised_bad_debt_usd),
                detail: format!(
                    "open_accounts={open_accounts} debt_usd={debt_usd} collateral_usd={collateral_usd} {} {} {}",
                    per_asset(world, "collateral", collateral),
                    per_asset(world, "debt", debt),
                    per_asset(world, "treasury", treasury)
                ),
                ..Row::default()
            },
            EventKind::KeeperMarked {
                keeper,
                spent,
                received,
                inventory,
            } => Row {
                keeper: &world.keepers[keeper.index()].name,
                usd: Some(received - spent),
                detail: format!(
                    "spent={spent} received={received} {}",
                    per_asset(world, "inventory", inventory)
                ),
                ..Row::default()
            },
        };
        line.clear();
        use std::fmt::Write as _;
        let _ = write!(
            line,
            "{seq},{},{},{},{}",
            event.step,
            event.time,
            event.round,
            event.kind.name()
        );
        for text in [
            row.protocol,
            &row.account,
            row.keeper,
            row.venue,
            row.oracle,
            row.asset,
        ] {
            line.push(',');
            push_text(&mut line, text);
        }
        for value in [row.units, row.price, row.usd] {
            line.push(',');
            if let Some(v) = value {
                line.push_str(float(&mut buffer, v));
            }
        }
        line.push(',');
        push_text(&mut line, row.debt_asset);
        for value in [
            row.debt_units,
            row.health_factor,
            row.to_keeper,
            row.protocol_fee,
            row.filled,
            row.price_after,
        ] {
            line.push(',');
            if let Some(v) = value {
                line.push_str(float(&mut buffer, v));
            }
        }
        line.push(',');
        push_text(&mut line, row.detail.trim());
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// Appends a CSV field, quoting it when it holds a comma, quote or newline.
fn push_text(line: &mut String, text: &str) {
    if text.contains([',', '"', '\n']) {
        line.push('"');
        line.push_str(&text.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(text);
    }
}
