//! The printed summary's sections for the chain and the owners who act: blocks and gas prices,
//! what became of the agents' transactions (included, reverted, expired, still waiting) in all
//! and per kind, the gas paid; per protocol whose owners act, what they noticed and did and what
//! congestion stopped; the keepers' priority gas auctions when they bid in them.

use cascade_analytics::Summary;
use cascade_analytics::chain::{BorrowerSummary, ChainSummary, GasAuctionSummary, TxSummary};

use super::{Colour, row, usd};

/// The chain section, when the run has a chain.
pub(super) fn chain(summary: &Summary, colour: Colour) -> Vec<String> {
    let Some(c) = &summary.chain else {
        return Vec::new();
    };
    let mut lines = vec![
        row(
            "blocks",
            &format!(
                "{} of {} s; gas {:.1} gwei at the start, {:.1} at most, {:.1} on average",
                c.blocks, c.block_seconds, c.gas_gwei_start, c.gas_gwei_max, c.gas_gwei_mean
            ),
        ),
        row("transactions", &transactions(&c.transactions, colour)),
    ];
    lines.extend(
        c.by_kind
            .iter()
            .map(|(kind, t)| row(&format!("  {kind}"), &transactions(t, colour))),
    );
    lines.push(row("gas paid", &gas(c)));
    if let Some(a) = &c.gas_auctions {
        lines.push(row("gas auctions", &gas_auctions(a)));
    }
    lines
}

/// The priority gas auctions: how many, how contested, and what the winners paid beside the
/// clearing price.
fn gas_auctions(a: &GasAuctionSummary) -> String {
    format!(
        "{} contested ({} won), {:.1} keepers each, {} raises; winning bid {:.1} gwei on \
         average ({:.1} at most) against a clearing price of {:.1}; {} outbid, {} of them \
         included (gas paid)",
        a.contested,
        a.won,
        a.bidders_mean,
        a.raises,
        a.winning_gwei_mean,
        a.winning_gwei_max,
        a.base_gwei_mean,
        a.outbid,
        a.outbid_included
    )
}

/// What became of a set of transactions; those that expired (or that their sender could not
/// pay for) in red.
fn transactions(t: &TxSummary, colour: Colour) -> String {
    let mut dropped = format!("{} expired", t.dropped_expired);
    if t.dropped_gas_budget > 0 {
        dropped += &format!(", {} over gas budget", t.dropped_gas_budget);
    }
    let alarming = t.dropped_expired + t.dropped_gas_budget > 0;
    format!(
        "{} sent, {} included ({} reverted), {}, {} waiting, mean wait {:.0} s",
        t.sent,
        t.included,
        t.reverted,
        colour.alarm(&dropped, alarming),
        t.waiting_at_end,
        t.mean_wait_seconds
    )
}

/// The gas all agents paid, the longest queue, and the times keepers ran out of gas budget.
fn gas(c: &ChainSummary) -> String {
    let mut text = format!(
        "{} by all agents; at most {} transactions waiting",
        usd(c.gas_usd),
        c.max_waiting
    );
    if c.keepers_out_of_gas > 0 {
        text += &format!("; keepers out of gas {} times", c.keepers_out_of_gas);
    }
    text
}

/// A line per protocol whose owners noticed their accounts at risk: what they did, and what
/// became of it.
pub(super) fn owners(summary: &Summary, colour: Colour) -> Vec<String> {
    summary
        .protocols
        .iter()
        .filter_map(|(name, p)| Some((name, p.borrowers.as_ref()?)))
        .filter(|(_, b)| b.noticed > 0)
        .flat_map(|(name, b)| owner_lines(name, b, colour))
        .collect()
}

fn owner_lines(name: &str, b: &BorrowerSummary, colour: Colour) -> Vec<String> {
    let dropped = format!("{} transactions dropped", b.transactions_dropped);
    vec![
        row(
            name,
            &format!(
                "{} noticed, {} acted, {} declined: {} top-ups, {} repayments",
                b.noticed, b.decided_to_act, b.declined, b.top_ups, b.repayments
            ),
        ),
        row(
            &format!("{name} outcome"),
            &format!(
                "{}, {} still waiting; {} liquidated after acting; mean reaction {:.0} s",
                colour.alarm(&dropped, b.transactions_dropped > 0),
                b.transactions_waiting_at_end,
                b.liquidated_after_acting,
                b.mean_reaction_seconds
            ),
        ),
    ]
}
