//! The printed summary's sections for the liquidation mechanisms that acted: Dutch and English
//! auctions (kicked, taken, still running, won at (near) zero, incentives), backstop vaults
//! (takeovers and profit and loss), Compound III absorbs (reserves and the collateral keepers
//! bought), Liquity Stability Pools (debt offset and redistributed, deposits) and perp exchanges
//! (closes, auto-deleveraging, the vault, funding). Each returns its lines, none when the
//! mechanism did nothing in the run.

use cascade_analytics::Summary;
use cascade_analytics::perp::PerpSummary;
use cascade_analytics::summary::{
    AuctionSummary, BackstopSummary, CometSummary, NEAR_ZERO_BID, StabilityPoolSummary,
};

use super::{Colour, grouped, percent, row, units, usd};

/// A line per protocol whose auctions were kicked: counts, wins at (near) zero, what the
/// auctions raised and the incentives they paid.
pub(super) fn auctions(summary: &Summary, colour: Colour) -> Vec<String> {
    summary
        .protocols
        .iter()
        .filter_map(|(name, p)| Some((name, p.auctions.as_ref()?)))
        .filter(|(_, a)| a.kicked > 0)
        .flat_map(|(name, a)| auction_lines(name, a, colour))
        .collect()
}

fn auction_lines(name: &str, a: &AuctionSummary, colour: Colour) -> Vec<String> {
    let bids = if a.bids > 0 {
        format!(" ({} bids)", a.bids)
    } else {
        String::new()
    };
    let resets = if a.resets > 0 {
        format!(", {} reset", a.resets)
    } else {
        String::new()
    };
    let mut lines = vec![row(
        name,
        &format!(
            "{} kicked, {} taken{bids}, {} ended, {} still running at the end{resets}",
            a.kicked, a.taken, a.ended, a.running_at_end
        ),
    )];
    if a.won_near_zero > 0 {
        let won = format!(
            "{} of {} takes ({}) paid under {:.0}% of value: {} worth {}",
            a.won_near_zero,
            a.taken,
            percent(a.won_near_zero_share),
            NEAR_ZERO_BID * 100.0,
            units(&a.collateral_won_near_zero),
            usd(a.collateral_won_near_zero_usd)
        );
        lines.push(row(&format!("{name} near zero"), &colour.alarm(&won, true)));
    }
    if a.penalty_raised_usd > 0.0 || !a.collateral_returned.is_empty() {
        lines.push(row(
            &format!("{name} raised"),
            &format!(
                "penalty {}; returned {} to vaults",
                usd(a.penalty_raised_usd),
                units(&a.collateral_returned)
            ),
        ));
    }
    if a.incentives_usd > 0.0 {
        lines.push(row(
            &format!("{name} incentives"),
            &format!("{} to keepers (tip and chip)", usd(a.incentives_usd)),
        ));
    }
    lines
}

/// A line per protocol whose backstop vault took positions over: what it repaid, sold and holds,
/// and its profit and loss.
pub(super) fn backstops(summary: &Summary, colour: Colour) -> Vec<String> {
    summary
        .protocols
        .iter()
        .filter_map(|(name, p)| Some((name, p.backstop.as_ref()?)))
        .filter(|(_, b)| b.takeovers > 0)
        .flat_map(|(name, b)| backstop_lines(name, b, colour))
        .collect()
}

fn backstop_lines(name: &str, b: &BackstopSummary, colour: Colour) -> Vec<String> {
    vec![
        row(
            name,
            &format!(
                "{} takeovers, repaid {}; sold {} for {}; holds {}",
                b.takeovers,
                usd(b.spent_usd),
                units(&b.sold),
                usd(b.received_usd),
                units(&b.inventory)
            ),
        ),
        row(
            &format!("{name} P&L"),
            &format!(
                "{} with holdings at final prices ({} at takeover prices)",
                colour.alarm(&usd(b.marked_pnl_usd), b.marked_pnl_usd < 0.0),
                usd(b.hedged_pnl_usd)
            ),
        ),
    ]
}

/// A line per Compound III protocol that absorbed accounts: absorbs, its reserves' path, and the
/// collateral keepers bought from it.
pub(super) fn comets(summary: &Summary) -> Vec<String> {
    summary
        .protocols
        .iter()
        .filter_map(|(name, p)| Some((name, p.comet.as_ref()?)))
        .filter(|(_, c)| c.absorbs > 0)
        .flat_map(|(name, c)| comet_lines(name, c))
        .collect()
}

fn comet_lines(name: &str, c: &CometSummary) -> Vec<String> {
    vec![
        row(
            name,
            &format!(
                "{} absorbs, credited {} to owners, shortfall {}",
                c.absorbs,
                usd(c.credits_usd),
                usd(c.shortfall_usd)
            ),
        ),
        row(
            &format!("{name} reserves"),
            &format!(
                "{} → {} (lowest {})",
                usd(c.reserves_start_usd),
                usd(c.reserves_final_usd),
                usd(c.reserves_min_usd)
            ),
        ),
        row(
            &format!("{name} bought"),
            &format!(
                "{} for {} by keepers; {} still held",
                units(&c.bought),
                usd(c.paid_usd),
                units(&c.held)
            ),
        ),
    ]
}

/// A line per Liquity protocol that liquidated troves: how many, the debt its pool offset and
/// the debt redistributed to other troves, and its deposits.
pub(super) fn stability_pools(summary: &Summary) -> Vec<String> {
    summary
        .protocols
        .iter()
        .filter_map(|(name, p)| Some((name, p.stability_pool.as_ref()?)))
        .filter(|(_, s)| s.liquidations > 0)
        .flat_map(|(name, s)| pool_lines(name, s))
        .collect()
}

fn pool_lines(name: &str, s: &StabilityPoolSummary) -> Vec<String> {
    vec![
        row(
            name,
            &format!(
                "{} troves liquidated ({} in recovery mode), {} redistributions",
                s.liquidations, s.recovery_mode_liquidations, s.redistributions
            ),
        ),
        row(
            &format!("{name} debt"),
            &format!(
                "{} units offset by the pool, {} redistributed to troves with {}",
                grouped(s.debt_offset),
                grouped(s.debt_redistributed),
                units(&s.collateral_redistributed)
            ),
        ),
        row(
            &format!("{name} deposits"),
            &format!(
                "{} → {} units (P {:.4}); the pool gained {}",
                grouped(s.deposits_start),
                grouped(s.deposits_end),
                s.product,
                units(&s.gains)
            ),
        ),
    ]
}

/// Lines per perp exchange that acted: longs and shorts closed, and when they happened,
/// auto-deleveraging, the vault's takeovers and profit and loss, and funding.
pub(super) fn perps(summary: &Summary, colour: Colour) -> Vec<String> {
    summary
        .protocols
        .iter()
        .filter_map(|(name, p)| Some((name, p.perp.as_ref()?)))
        .filter(|(_, perp)| acted(perp))
        .flat_map(|(name, perp)| perp_lines(name, perp, colour))
        .collect()
}

/// Whether an exchange closed, deleveraged, took over or paid funding.
fn acted(perp: &PerpSummary) -> bool {
    perp.liquidations > 0
        || perp.adl.events > 0
        || perp.vault.as_ref().is_some_and(|v| v.takeovers > 0)
        || perp.funding.payments > 0
}

fn perp_lines(name: &str, perp: &PerpSummary, colour: Colour) -> Vec<String> {
    let mut lines = vec![row(
        name,
        &format!(
            "{} longs ({}) and {} shorts ({}) closed, {} slices, {} deleveraged",
            perp.liquidations_long,
            usd(perp.liquidated_long_usd),
            perp.liquidations_short,
            usd(perp.liquidated_short_usd),
            perp.slices,
            perp.deleveraged_closes
        ),
    )];
    if perp.adl.events > 0 {
        let outside = if perp.adl.outside_units > 0.0 {
            format!(", {:.1} units from outside", perp.adl.outside_units)
        } else {
            String::new()
        };
        lines.push(row(
            &format!("{name} ADL"),
            &format!(
                "{} across {} accounts{outside}",
                usd(perp.adl.notional_usd),
                perp.adl.accounts_hit
            ),
        ));
    }
    if let Some(v) = perp.vault.as_ref().filter(|v| v.takeovers > 0) {
        lines.push(row(
            &format!("{name} vault"),
            &format!(
                "{} takeovers ({}), profit and loss {}",
                v.takeovers,
                usd(v.notional_usd),
                colour.alarm(&usd(v.pnl_usd), v.pnl_usd < 0.0)
            ),
        ));
    }
    if perp.funding.payments > 0 {
        lines.push(row(
            &format!("{name} funding"),
            &format!(
                "{} payments, longs paid {}",
                perp.funding.payments,
                usd(perp.funding.longs_paid_usd)
            ),
        ));
    }
    lines
}
