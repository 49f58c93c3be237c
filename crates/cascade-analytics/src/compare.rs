//! One row per mechanism for `cascade compare`: the essay's table of liquidation mechanisms
//! (execution speed, slippage impact, protocol safety), measured. Each row is read off the
//! summary of a run of the same scenario, seed and keepers under one mechanism; [`lone_bidder`]
//! tells when a row's bad debt is an artefact of a single keeper winning auctions for nothing.

use serde::Serialize;

use crate::summary::Summary;

/// The measures of one mechanism.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComparisonRow {
    /// Mechanism name.
    pub mechanism: String,
    /// Liquidation calls.
    pub liquidations: u64,
    /// Accounts liquidated at least once, all protocols.
    pub accounts_liquidated: u64,
    /// Median time from liquidatable to closed, seconds (null without episodes).
    pub time_to_close_median_seconds: Option<u64>,
    /// 90th percentile of that time, seconds.
    pub time_to_close_p90_seconds: Option<u64>,
    /// Units of the compared asset sold on venues.
    pub collateral_sold_units: f64,
    /// USD received for all collateral sold.
    pub sale_proceeds_usd: f64,
    /// Largest gap of the asset's primary venue below its fundamental (fraction).
    pub max_price_impact: f64,
    /// Largest drawdown of the asset's primary venue (fraction).
    pub total_drop: f64,
    /// total_drop / exogenous_drop (null without an exogenous drop).
    pub amplification: Option<f64>,
    /// Keepers' profit, holdings marked at final prices, USD.
    pub liquidator_profit_usd: f64,
    /// Bonus keepers captured at the protocols' prices, USD.
    pub bonus_usd: f64,
    /// Realised plus unrealised bad debt, USD.
    pub bad_debt_usd: f64,
    /// Debt written off, USD.
    pub bad_debt_realised_usd: f64,
    /// Underwater open accounts at the end, USD.
    pub bad_debt_unrealised_usd: f64,
    /// Bad debt covered by insurance funds, USD.
    pub insurance_drawn_usd: f64,
    /// Bad debt socialised onto suppliers, USD.
    pub socialised_loss_usd: f64,
    /// Backstop vaults' profit and loss, holdings marked at final prices, USD (0 without one).
    pub backstop_pnl_usd: f64,
    /// Auctions still running at the end, all protocols (0 without auctions).
    pub auctions_running_at_end: u64,
    /// Incentives paid to keepers beyond the bonus (auctions' tip and chip, Liquity's gas
    /// compensation), USD.
    pub incentives_usd: f64,
}

/// The column names of a comparison table, in order.
pub const COLUMNS: [&str; 20] = [
    "mechanism",
    "liquidations",
    "accounts_liquidated",
    "time_to_close_median_seconds",
    "time_to_close_p90_seconds",
    "collateral_sold_units",
    "sale_proceeds_usd",
    "max_price_impact",
    "total_drop",
    "amplification",
    "liquidator_profit_usd",
    "bonus_usd",
    "bad_debt_usd",
    "bad_debt_realised_usd",
    "bad_debt_unrealised_usd",
    "insurance_drawn_usd",
    "socialised_loss_usd",
    "backstop_pnl_usd",
    "auctions_running_at_end",
    "incentives_usd",
];

/// The row of `mechanism` from its run's summary, for the asset `asset`.
pub fn comparison_row(mechanism: &str, summary: &Summary, asset: &str) -> ComparisonRow {
    let prices = summary.assets.get(asset);
    let l = &summary.liquidations;
    ComparisonRow {
        mechanism: mechanism.to_string(),
        liquidations: l.count,
        accounts_liquidated: summary
            .protocols
            .values()
            .map(|p| p.accounts_liquidated)
            .sum(),
        time_to_close_median_seconds: l.time_to_close_seconds.median,
        time_to_close_p90_seconds: l.time_to_close_seconds.p90,
        collateral_sold_units: l.collateral_sold.get(asset).copied().unwrap_or(0.0),
        sale_proceeds_usd: l.sale_proceeds_usd,
        max_price_impact: prices.map_or(0.0, |a| a.max_price_impact),
        total_drop: prices.map_or(0.0, |a| a.total_drop),
        amplification: prices.and_then(|a| a.amplification),
        liquidator_profit_usd: summary.keepers.values().map(|k| k.marked_profit_usd).sum(),
        bonus_usd: l.bonus_usd,
        bad_debt_usd: summary.bad_debt_usd,
        bad_debt_realised_usd: summary.bad_debt_realised_usd,
        bad_debt_unrealised_usd: summary.bad_debt_unrealised_usd,
        insurance_drawn_usd: summary.insurance_drawn_usd,
        socialised_loss_usd: summary.socialised_loss_usd,
        backstop_pnl_usd: summary
            .protocols
            .values()
            .filter_map(|p| p.backstop.as_ref())
            .map(|b| b.marked_pnl_usd)
            .sum::<f64>()
            // An empty sum of floats is -0.0; a variant without a backstop made 0.
            + 0.0,
        auctions_running_at_end: summary
            .protocols
            .values()
            .filter_map(|p| p.auctions.as_ref())
            .map(|a| a.running_at_end)
            .sum(),
        incentives_usd: summary.keepers.values().map(|k| k.incentives_usd).sum(),
    }
}

/// Auctions a lone keeper won at (near) zero (see [`lone_bidder`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoneBidder {
    /// Takes and deals, all protocols.
    pub taken: u64,
    /// Of which won at (near) zero (`auctions.won_near_zero`).
    pub won_near_zero: u64,
    /// The collateral they won, at the protocols' prices when won, USD.
    pub collateral_won_near_zero_usd: f64,
    /// The run's bad debt, USD.
    pub bad_debt_usd: f64,
}

/// Whether a run's bad debt comes with auctions won at (near) zero by the one keeper that won
/// anything: with no rival bid, lots go for what the lone bidder offers, and the bad debt
/// measures the missing competition rather than the mechanism. `None` when more than one keeper
/// made a liquidation call, nothing was won at (near) zero, or there is no bad debt.
pub fn lone_bidder(summary: &Summary) -> Option<LoneBidder> {
    let winners = summary
        .keepers
        .values()
        .filter(|k| k.liquidations > 0)
        .count();
    let auctions = || {
        summary
            .protocols
            .values()
            .filter_map(|p| p.auctions.as_ref())
    };
    let lone = LoneBidder {
        taken: auctions().map(|a| a.taken).sum(),
        won_near_zero: auctions().map(|a| a.won_near_zero).sum(),
        collateral_won_near_zero_usd: auctions().map(|a| a.collateral_won_near_zero_usd).sum(),
        bad_debt_usd: summary.bad_debt_usd,
    };
    (winners == 1 && lone.won_near_zero > 0 && lone.bad_debt_usd > 0.0).then_some(lone)
}

/// compare.json.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// Scenario name.
    pub scenario: String,
    /// Master seed (the same for every mechanism).
    pub seed: u64,
    /// Scenario hash.
    pub hash: String,
    /// The asset whose prices and sales the rows report.
    pub asset: String,
    /// One row per mechanism, in the order asked.
    pub rows: Vec<ComparisonRow>,
}
