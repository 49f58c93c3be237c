//! events.csv: one row per audit event, a fixed set of columns, blank where a column does not
//! apply to the event kind.
//!
//! Rows are formatted in parallel, chunk by chunk, and written in event order, so the file is
//! byte-identical whatever the number of threads.

use std::io::{self, Write};

use cascade_engine::{BookMark, Event, EventKind, PerpCloseKind, TxRecord, World};
use cascade_model::chain::{Sender, Target};
use cascade_model::ids::{AccountId, AssetId, PerpId, ProtocolId};
use rayon::prelude::*;

use crate::float;

/// The columns of events.csv, in order.
pub const COLUMNS: [&str; 24] = [
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
    "liquidatable_since",
    "closes",
    "detail",
];

/// Events formatted per parallel task, and per batch written while the next one formats.
const CHUNK: usize = 8_192;
const BATCH: usize = 8 * CHUNK;

/// The cells of one row; `None`/empty cells are written blank.
#[derive(Default)]
struct Row<'a> {
    protocol: &'a str,
    account: Option<(ProtocolId, AccountId)>,
    perp_account: Option<(PerpId, AccountId)>,
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
    liquidatable_since: Option<u64>,
    closes: Option<bool>,
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

fn row<'a>(world: &'a World, kind: &EventKind) -> Row<'a> {
    let asset = |a: AssetId| world.assets[a.index()].symbol.as_str();
    let perp = |x: PerpId| world.perps[x.index()].name.as_str();
    match kind {
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
        EventKind::DepthChanged {
            venue,
            depth,
            volatility,
        } => Row {
            venue: &world.venues[venue.index()].name,
            asset: asset(world.venues[venue.index()].base),
            detail: format!("depth={depth} daily_volatility={volatility}"),
            ..Row::default()
        },
        EventKind::VenueLiquidityChanged { venue, liquidity } => Row {
            venue: &world.venues[venue.index()].name,
            asset: asset(world.venues[venue.index()].base),
            detail: format!("liquidity={liquidity}"),
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
            account: Some((l.protocol, l.account)),
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
            account,
            debt_asset,
            amount,
            usd,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            account: Some((*protocol, *account)),
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
            detail: format!(
                "paid_in={paid_in} drawn={drawn} socialised={socialised} lots={lots} auctioned={auctioned} uncovered={uncovered} fund_balance={fund_balance}"
            ),
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
            account: Some((*protocol, *account)),
            keeper: &world.keepers[keeper.index()].name,
            asset: asset(*collateral_asset),
            units: Some(*lot),
            price: Some(*collateral_price),
            usd: Some(*incentive),
            debt_asset: asset(*debt_asset),
            debt_units: Some(*debt),
            detail: format!("auction={auction} tab={tab} top={top}"),
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
            detail: format!("auction={auction}"),
            ..Row::default()
        },
        EventKind::TroveLiquidated(t) => Row {
            protocol: &world.protocols[t.protocol.index()].name,
            account: Some((t.protocol, t.account)),
            keeper: &world.keepers[t.keeper.index()].name,
            asset: asset(t.collateral_asset),
            units: Some(t.collateral),
            price: Some(t.collateral_price),
            usd: Some(t.debt_offset * t.debt_price),
            debt_asset: asset(t.debt_asset),
            debt_units: Some(t.debt),
            to_keeper: Some(t.gas_collateral),
            liquidatable_since: Some(t.liquidatable_since),
            detail: format!(
                "collateral_ratio={} recovery_mode={} debt_offset={} collateral_to_pool={} debt_redistributed={} collateral_redistributed={} surplus={} gas_debt={}",
                t.collateral_ratio,
                t.recovery_mode,
                t.debt_offset,
                t.collateral_to_pool,
                t.debt_redistributed,
                t.collateral_redistributed,
                t.surplus,
                t.gas_debt
            ),
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
            detail: format!("troves={troves}"),
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
            detail: format!("product={product} {}", per_asset(world, "gains", gains)),
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
            account: Some((*protocol, *account)),
            usd: Some(debt * debt_price),
            debt_asset: asset(*debt_asset),
            debt_units: Some(*debt),
            liquidatable_since: Some(*liquidatable_since),
            detail: format!(
                "delta_value={delta_value} credit={credit} shortfall={shortfall} {}",
                per_asset(world, "collateral", collateral)
            ),
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
            detail: format!("collateral_price={collateral_price}"),
            ..Row::default()
        },
        EventKind::CometMarked {
            protocol,
            reserves_usd,
            held,
        } => Row {
            protocol: &world.protocols[protocol.index()].name,
            usd: Some(*reserves_usd),
            detail: per_asset(world, "held", held),
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
            detail: format!(
                "accounts={accounts} long_usd={long_usd} short_usd={short_usd} total_value={total_value}"
            ),
            ..Row::default()
        },
        EventKind::PerpLiquidated(l) => {
            let market = &world.perps[l.exchange.index()].markets[l.market.index()];
            Row {
                protocol: perp(l.exchange),
                perp_account: Some((l.exchange, l.account)),
                venue: &world.venues[market.venue.index()].name,
                asset: asset(market.asset),
                units: Some(l.units),
                price: Some(l.fill_price),
                usd: Some(l.units.abs() * l.fill_price),
                price_after: Some(l.price_after),
                detail: format!(
                    "close={} remaining={} entry={} mark={} liquidation_price={} bankruptcy_price={} equity={} maintenance={} fee={} price_before={}",
                    match l.close {
                        PerpCloseKind::Market => "market",
                        PerpCloseKind::Slice => "slice",
                        PerpCloseKind::Deleveraged => "deleveraged",
                    },
                    l.remaining,
                    l.entry,
                    l.mark,
                    l.liquidation_price,
                    l.bankruptcy_price,
                    l.equity,
                    l.maintenance,
                    l.fee,
                    l.price_before
                ),
                ..Row::default()
            }
        }
        EventKind::PerpSettled(settlement) => Row {
            protocol: perp(settlement.exchange),
            perp_account: Some((settlement.exchange, settlement.account)),
            usd: Some(settlement.balance),
            detail: format!(
                "fund_change={} kept={} shortfall={} fund_balance={}",
                settlement.fund_change,
                settlement.kept,
                settlement.shortfall,
                settlement.fund_balance
            ),
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
            perp_account: Some((*exchange, *account)),
            usd: Some(*notional),
            units: Some(*net_units),
            detail: format!("equity={equity} maintenance={maintenance}"),
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
            let bankrupt = match info.account_labels.get(bankrupt.index()) {
                Some(label) if !label.is_empty() => label.clone(),
                _ => bankrupt.0.to_string(),
            };
            Row {
                protocol: perp(*exchange),
                perp_account: account.map(|a| (*exchange, a)),
                asset: asset(info.markets[market.index()].asset),
                units: Some(*units),
                price: Some(*price),
                usd: Some(units.abs() * price),
                detail: match account {
                    Some(_) => format!("bankrupt={bankrupt} rank={rank}"),
                    None => format!("bankrupt={bankrupt} counterparty=outside"),
                },
                ..Row::default()
            }
        }
        EventKind::PerpCooldowns { exchange, count } => Row {
            protocol: perp(*exchange),
            detail: format!("count={count}"),
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
            detail: format!("accounts={accounts} uncovered={uncovered}"),
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
            detail: format!("rate={rate}"),
            ..Row::default()
        },
        EventKind::PerpMarked(mark) => {
            let info = &world.perps[mark.exchange.index()];
            let per_market = |label: &str, values: &[f64]| {
                values
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| **v != 0.0)
                    .map(|(m, v)| format!("{label}.{}={v}", asset(info.markets[m].asset)))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            Row {
                protocol: perp(mark.exchange),
                usd: Some(mark.unrealised_bad_debt_usd),
                detail: format!(
                    "open_accounts={} fund={} vault_value={} vault_capital={} uncovered={} total_value={} {} {} {}",
                    mark.open_accounts,
                    mark.fund,
                    mark.vault_value,
                    mark.vault_capital,
                    mark.uncovered,
                    mark.total_value,
                    per_market("long", &mark.long_units),
                    per_market("short", &mark.short_units),
                    per_market("vault", &mark.vault_size)
                )
                .trim_end()
                .to_string(),
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
            account: Some((*protocol, *account)),
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
            detail: format!(
                "spent={spent} received={received} cost_basis_usd={cost_basis_usd} {}",
                per_asset(world, "inventory", inventory)
            ),
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
            detail: format!("auction={auction}"),
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
            account: Some((*protocol, *account)),
            keeper: &world.keepers[keeper.index()].name,
            asset: asset(*collateral_asset),
            units: Some(*slice),
            price: Some(*price),
            usd: Some(owe * debt_price),
            debt_asset: asset(*debt_asset),
            debt_units: Some(*owe),
            detail: format!("auction={auction} collateral_price={collateral_price}"),
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
            account: Some((*protocol, *account)),
            asset: asset(*collateral_asset),
            units: Some(*returned),
            usd: Some(raised * debt_price),
            debt_asset: asset(*debt_asset),
            debt_units: Some(*raised),
            liquidatable_since: Some(*liquidatable_since),
            detail: format!("auction={auction} debt={debt}"),
            ..Row::default()
        },
        EventKind::CascadeSettled {
            rounds,
            hit_round_limit,
        } => Row {
            detail: format!("rounds={rounds} hit_round_limit={hit_round_limit}"),
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
                detail: format!(
                    "open_accounts={open_accounts} debt_usd={debt_usd} collateral_usd={collateral_usd} {} {} {} {} {}",
                    per_asset(world, "collateral", collateral),
                    per_asset(world, "debt", debt),
                    per_asset(world, "treasury", treasury),
                    per_asset(world, "in_auction_collateral", in_auction_collateral),
                    per_asset(world, "in_auction_debt", in_auction_debt)
                ),
                ..Row::default()
            }
        }
        EventKind::BlocksProduced {
            blocks,
            gas_gwei,
            room,
            waiting,
        } => Row {
            detail: format!(
                "blocks={blocks} gas_gwei={gas_gwei} room={} waiting={waiting}",
                if *room == u64::MAX {
                    "unlimited".to_string()
                } else {
                    room.to_string()
                }
            ),
            ..Row::default()
        },
        EventKind::TxSubmitted(tx) | EventKind::TxIncluded(tx) | EventKind::TxReverted(tx) => {
            tx_row(world, tx, "")
        }
        EventKind::TxDropped(tx, reason) => tx_row(world, tx, reason.name()),
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
            detail: format!("acting={acting} declined={declined}"),
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
            account: Some((*protocol, *account)),
            asset: asset(*a),
            units: Some(*units),
            health_factor: Some(*health_before),
            liquidatable_since: Some(*noticed),
            detail: format!("action={} health_after={health_after}", action.name()),
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
            detail: format!(
                "spent={spent} received={received} incentives={incentives} {}",
                per_asset(world, "inventory", inventory)
            ),
            ..Row::default()
        },
    }
}

/// The row of a transaction event: the sender (keeper, or the account's owner), its target, the
/// gas paid (`usd`) and, in `detail`, its id, kind, bid, submission time, bumps and any drop
/// reason.
fn tx_row<'a>(world: &'a World, tx: &TxRecord, reason: &str) -> Row<'a> {
    let (p, account, auction) = match tx.target {
        Target::Account(p, id) => (p, Some((p, id)), None),
        Target::Auction(p, a) => (p, None, Some(a)),
    };
    let keeper = match tx.sender {
        Sender::Keeper(k) => world.keepers[k.index()].name.as_str(),
        Sender::Borrower(..) => "",
    };
    let mut detail = format!(
        "tx={} tx_kind={} gas_bid_gwei={} submitted={} bumps={}",
        tx.tx,
        tx.kind.name(),
        tx.gas_bid,
        tx.submitted,
        tx.bumps
    );
    if let Some(a) = auction {
        detail.push_str(&format!(" auction={a}"));
    }
    if matches!(tx.sender, Sender::Borrower(..)) {
        detail.push_str(" sender=owner");
    }
    if !reason.is_empty() {
        detail.push_str(&format!(" reason={reason}"));
    }
    Row {
        protocol: &world.protocols[p.index()].name,
        account,
        keeper,
        usd: Some(tx.gas_usd),
        detail,
        ..Row::default()
    }
}

/// Appends one event's row to `out`.
fn format_event(world: &World, seq: usize, event: &Event, out: &mut Vec<u8>) {
    let mut integer = itoa::Buffer::new();
    let mut real = ryu::Buffer::new();
    let row = row(world, &event.kind);
    for (i, n) in [seq as u64, event.step, event.time, u64::from(event.round)]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(integer.format(n).as_bytes());
    }
    out.push(b',');
    out.extend_from_slice(event.kind.name().as_bytes());
    out.push(b',');
    push_text(out, row.protocol);
    out.push(b',');
    let labelled = match (row.account, row.perp_account) {
        (Some((p, a)), _) => Some((&world.protocols[p.index()].account_labels, a)),
        (None, Some((x, a))) => Some((&world.perps[x.index()].account_labels, a)),
        (None, None) => None,
    };
    if let Some((labels, a)) = labelled {
        match labels.get(a.index()) {
            Some(label) if !label.is_empty() => push_text(out, label),
            _ => out.extend_from_slice(integer.format(a.0).as_bytes()),
        }
    }
    for text in [row.keeper, row.venue, row.oracle, row.asset] {
        out.push(b',');
        push_text(out, text);
    }
    let mut number = |out: &mut Vec<u8>, value: Option<f64>| {
        out.push(b',');
        if let Some(v) = value {
            out.extend_from_slice(float(&mut real, v).as_bytes());
        }
    };
    number(out, row.units);
    number(out, row.price);
    number(out, row.usd);
    out.push(b',');
    push_text(out, row.debt_asset);
    for value in [
        row.debt_units,
        row.health_factor,
        row.to_keeper,
        row.protocol_fee,
        row.filled,
        row.price_after,
    ] {
        number(out, value);
    }
    out.push(b',');
    if let Some(since) = row.liquidatable_since {
        out.extend_from_slice(integer.format(since).as_bytes());
    }
    out.push(b',');
    if let Some(closes) = row.closes {
        out.extend_from_slice(if closes { b"true" } else { b"false" });
    }
    out.push(b',');
    push_text(out, row.detail.trim());
    out.push(b'\n');
}

/// Writes events.csv. Formatting of the next batch overlaps with writing the previous one;
/// two sets of chunk buffers are reused throughout, so the output is not allocated afresh.
///
/// # Errors
/// IO errors of the writer.
pub fn write_events(
    world: &World,
    events: &[Event],
    out: &mut (impl Write + Send),
) -> io::Result<()> {
    writeln!(out, "{}", COLUMNS.join(","))?;
    let fresh = || -> Vec<Vec<u8>> {
        (0..BATCH / CHUNK)
            .map(|_| Vec::with_capacity(CHUNK * 200))
            .collect()
    };
    let (mut formatting, mut written) = (fresh(), fresh());
    let format_batch = |b: usize, batch: &[Event], buffers: &mut Vec<Vec<u8>>| {
        buffers
            .par_iter_mut()
            .zip(batch.par_chunks(CHUNK))
            .enumerate()
            .for_each(|(c, (buffer, chunk))| {
                buffer.clear();
                for (i, event) in chunk.iter().enumerate() {
                    format_event(world, b * BATCH + c * CHUNK + i, event, buffer);
                }
            });
        batch.len().div_ceil(CHUNK)
    };
    let write_all = |out: &mut (dyn Write + Send), buffers: &[Vec<u8>], used: usize| {
        buffers[..used]
            .iter()
            .try_for_each(|buffer| out.write_all(buffer))
    };
    let mut pending = 0;
    for (b, batch) in events.chunks(BATCH).enumerate() {
        std::mem::swap(&mut formatting, &mut written);
        let (done, used) = rayon::join(
            || write_all(&mut *out, &written, pending),
            || format_batch(b, batch, &mut formatting),
        );
        done?;
        pending = used;
    }
    std::mem::swap(&mut formatting, &mut written);
    write_all(out, &written, pending)
}

/// Appends a CSV field, quoting it when it holds a comma, quote or newline.
fn push_text(out: &mut Vec<u8>, text: &str) {
    if text.contains([',', '"', '\n']) {
        out.push(b'"');
        out.extend_from_slice(text.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}
