//! Perp exchanges' measures (summary.json `protocols.<NAME>.perp`): long and short liquidations,
//! the insurance fund's path, vault takeovers and profit, auto-deleveraged notional and the
//! accounts hit, socialised loss, funding, and the exchange's total value at the start and end
//! (equal when money is conserved). A fold over the perp events.
//!
//! State: per exchange, its summary and fund so far, the fund's running peak, and one bit per
//! account for the two figures that count distinct accounts (`accounts_liquidated`,
//! `adl.accounts_hit`).

use std::collections::BTreeMap;

use cascade_engine::{Event, EventKind, PerpCloseKind, World};
use serde::Serialize;

use crate::summary::InsuranceSummary;
use crate::tally::AccountSet;

/// `protocols.<NAME>.perp.*`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PerpSummary {
    /// Accounts at the start.
    pub accounts: u64,
    /// Accounts with open positions at the end.
    pub open_accounts: u64,
    /// Long and short notional at the start, USD at the marks.
    pub long_notional_usd: f64,
    /// Short notional at the start.
    pub short_notional_usd: f64,
    /// Positions closed by the liquidation engine (slices, market closes and deleveraged
    /// closes each count once).
    pub liquidations: u64,
    /// Of which longs closed.
    pub liquidations_long: u64,
    /// Of which shorts closed.
    pub liquidations_short: u64,
    /// Notional of longs closed, USD at fill prices.
    pub liquidated_long_usd: f64,
    /// Notional of shorts closed, USD at fill prices.
    pub liquidated_short_usd: f64,
    /// First slices of large positions.
    pub slices: u64,
    /// Positions closed at the ADL price against opposite positions.
    pub deleveraged_closes: u64,
    /// Accounts liquidated at least once (including takeovers).
    pub accounts_liquidated: u64,
    /// Liquidation fees paid into the fund, USD.
    pub fees_usd: f64,
    /// Losses beyond liquidated accounts' margin (negative balances after the close), USD.
    pub deficit_usd: f64,
    /// Auto-deleveraging.
    pub adl: AdlSummary,
    /// The liquidator vault, if the exchange has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault: Option<VaultSummary>,
    /// Funding.
    pub funding: FundingSummary,
    /// Deficit charged to accounts in profit, USD.
    pub socialised_loss_usd: f64,
    /// Deficit left uncovered at the end, USD.
    pub uncovered_deficit_usd: f64,
    /// Liquidatable accounts left waiting by a slice cooldown or for liquidity, summed over
    /// rounds.
    pub cooldown_waits: u64,
    /// Everything the exchange's participants (accounts, vault, fund, outside counterparties)
    /// hold, less the uncovered deficit, at the start and at the end, USD: equal when money is
    /// conserved.
    pub total_value_start_usd: f64,
    /// At the end.
    pub total_value_end_usd: f64,
    /// Σ max(0, −equity) over accounts open at the end, USD: reported as the exchange's
    /// `bad_debt_unrealised_usd`, not under `perp`.
    #[serde(skip)]
    pub unrealised_bad_debt_usd: f64,
}

/// `protocols.<NAME>.perp.adl.*`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AdlSummary {
    /// Opposite positions reduced.
    pub events: u64,
    /// Notional deleveraged, USD at the bankruptcy prices.
    pub notional_usd: f64,
    /// Distinct accounts of the book hit.
    pub accounts_hit: u64,
    /// Units taken from the outside counterparties when the book's own opposite positions
    /// ran out.
    pub outside_units: f64,
    /// Σ over the accounts deleveraged of the shortfall their close into the book would have
    /// left beyond the insurance fund, USD: the least profit the opposite positions must give
    /// up to cover them.
    pub needed_usd: f64,
    /// The smallest notional of opposite positions in profit whose whole unrealised profit
    /// covers each deleveraged account's need, USD at the marks, summed over those accounts.
    pub min_notional_usd: f64,
    /// Notional of the book's positions closed by deleveraging that were in profit at the mark,
    /// USD at the marks.
    pub profitable_notional_usd: f64,
    /// Profit the book's deleveraged positions gave up against a close at the mark, USD.
    pub haircut_usd: f64,
}

/// `protocols.<NAME>.perp.vault.*`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VaultSummary {
    /// Accounts taken over.
    pub takeovers: u64,
    /// Notional taken over, USD at the marks.
    pub notional_usd: f64,
    /// Margin received with the positions (the accounts' equity), USD.
    pub margin_usd: f64,
    /// Starting capital, USD.
    pub capital_usd: f64,
    /// Cash plus positions at the final marks, USD.
    pub final_value_usd: f64,
    /// final value − capital, USD.
    pub pnl_usd: f64,
    /// Its lowest value at the marks of any round of the run, USD.
    pub lowest_value_usd: f64,
    /// lowest value − capital: its largest loss, realised or not, USD.
    pub worst_pnl_usd: f64,
    /// Net units still held, per market asset.
    pub holdings: BTreeMap<String, f64>,
}

/// `protocols.<NAME>.perp.funding.*`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FundingSummary {
    /// Payments (one per market and interval).
    pub payments: u64,
    /// USD paid by longs to shorts, summed (negative: shorts paid).
    pub longs_paid_usd: f64,
    /// Highest and lowest rate per interval.
    pub max_rate: Option<f64>,
    /// Lowest rate per interval.
    pub min_rate: Option<f64>,
}

/// One exchange so far.
struct PerpTally {
    summary: PerpSummary,
    fund: InsuranceSummary,
    /// The fund's running peak.
    peak: f64,
    /// Accounts liquidated or taken over.
    liquidated: AccountSet,
    /// Accounts of the book auto-deleveraged.
    hit: AccountSet,
    /// Each market's asset symbol, naming the vault's holdings.
    market_symbols: Vec<String>,
}

/// The fold of perp exchanges' `protocols.<NAME>` (their `perp` part and insurance fund).
pub(crate) struct PerpFold {
    exchanges: Vec<PerpTally>,
}

impl PerpFold {
    pub(crate) fn new(world: &World) -> Self {
        Self {
            exchanges: world
                .perps
                .iter()
                .map(|p| {
                    let start = p.params.insurance_fund_usd;
                    let vault = p.params.vault.map(|v| VaultSummary {
                        capital_usd: v.capital_usd,
                        ..VaultSummary::default()
                    });
                    PerpTally {
                        summary: PerpSummary {
                            vault,
                            ..PerpSummary::default()
                        },
                        fund: InsuranceSummary {
                            start_usd: start,
                            final_usd: start,
                            min_usd: start,
                            ..InsuranceSummary::default()
                        },
                        peak: start,
                        liquidated: AccountSet::growing(),
                        hit: AccountSet::growing(),
                        market_symbols: p
                            .markets
                            .iter()
                            .map(|m| world.assets[m.asset.index()].symbol.clone())
                            .collect(),
                    }
                })
                .collect(),
        }
    }

    pub(crate) fn event(&mut self, event: &Event) {
        match &event.kind {
            EventKind::PerpsOpened {
                exchange,
                accounts,
                long_usd,
                short_usd,
                total_value,
            } => {
                let s = &mut self.exchanges[exchange.index()].summary;
                s.accounts = *accounts;
                s.long_notional_usd = *long_usd;
                s.short_notional_usd = *short_usd;
                s.total_value_start_usd = *total_value;
            }
            EventKind::PerpLiquidated(l) => {
                let x = &mut self.exchanges[l.exchange.index()];
                let s = &mut x.summary;
                s.liquidations += 1;
                let usd = l.units.abs() * l.fill_price;
                if l.units > 0.0 {
                    s.liquidations_long += 1;
                    s.liquidated_long_usd += usd;
                } else {
                    s.liquidations_short += 1;
                    s.liquidated_short_usd += usd;
                }
                match l.close {
                    PerpCloseKind::Slice => s.slices += 1,
                    PerpCloseKind::Deleveraged => s.deleveraged_closes += 1,
                    PerpCloseKind::Market => {}
                }
                s.fees_usd += l.fee;
                x.liquidated.insert(l.account.0);
                if l.fee > 0.0 {
                    x.fund.paid_in_usd += l.fee;
                    x.fund.final_usd += l.fee;
                    x.peak = x.peak.max(x.fund.final_usd);
                }
            }
            EventKind::PerpSettled(settlement) => {
                let x = &mut self.exchanges[settlement.exchange.index()];
                let fund = &mut x.fund;
                x.summary.deficit_usd += (-settlement.balance).max(0.0);
                if settlement.fund_change > 0.0 {
                    fund.paid_in_usd += settlement.fund_change;
                } else {
                    fund.drawn_usd -= settlement.fund_change;
                }
                fund.final_usd = settlement.fund_balance;
                fund.min_usd = fund.min_usd.min(fund.final_usd);
                x.peak = x.peak.max(fund.final_usd);
                fund.max_drawdown_usd = fund.max_drawdown_usd.max(x.peak - fund.final_usd);
            }
            EventKind::PerpTakeover {
                exchange,
                account,
                notional,
                equity,
                ..
            } => {
                let x = &mut self.exchanges[exchange.index()];
                x.liquidated.insert(account.0);
                if let Some(v) = &mut x.summary.vault {
                    v.takeovers += 1;
                    v.notional_usd += notional;
                    v.margin_usd += equity;
                }
            }
            EventKind::PerpDeleveraged {
                exchange,
                account,
                units,
                price,
                ..
            } => {
                let x = &mut self.exchanges[exchange.index()];
                let adl = &mut x.summary.adl;
                adl.events += 1;
                adl.notional_usd += units.abs() * price;
                match account {
                    Some(a) => {
                        x.hit.insert(a.0);
                    }
                    None => adl.outside_units += units.abs(),
                }
            }
            EventKind::PerpSocialised {
                exchange,
                usd,
                uncovered,
                ..
            } => {
                let s = &mut self.exchanges[exchange.index()].summary;
                s.socialised_loss_usd += usd;
                s.uncovered_deficit_usd = *uncovered;
            }
            EventKind::PerpCooldowns { exchange, count } => {
                self.exchanges[exchange.index()].summary.cooldown_waits += count;
            }
            EventKind::FundingPaid {
                exchange,
                rate,
                longs_paid,
                ..
            } => {
                let f = &mut self.exchanges[exchange.index()].summary.funding;
                f.payments += 1;
                f.longs_paid_usd += longs_paid;
                f.max_rate = Some(f.max_rate.map_or(*rate, |r| r.max(*rate)));
                f.min_rate = Some(f.min_rate.map_or(*rate, |r| r.min(*rate)));
            }
            EventKind::PerpMarked(mark) => {
                let x = &mut self.exchanges[mark.exchange.index()];
                let s = &mut x.summary;
                s.open_accounts = mark.open_accounts;
                s.unrealised_bad_debt_usd = mark.unrealised_bad_debt_usd;
                s.uncovered_deficit_usd = mark.uncovered;
                s.total_value_end_usd = mark.total_value;
                s.adl.needed_usd = mark.adl.needed_usd;
                s.adl.min_notional_usd = mark.adl.min_notional_usd;
                s.adl.profitable_notional_usd = mark.adl.profitable_notional_usd;
                s.adl.haircut_usd = mark.adl.haircut_usd;
                x.fund.final_usd = mark.fund;
                if let Some(v) = &mut s.vault {
                    v.final_value_usd = mark.vault_value;
                    v.pnl_usd = mark.vault_value - mark.vault_capital;
                    v.lowest_value_usd = mark.vault_lowest_value;
                    v.worst_pnl_usd = mark.vault_lowest_value - mark.vault_capital;
                    for (m, units) in mark.vault_size.iter().enumerate() {
                        if *units != 0.0 {
                            v.holdings.insert(x.market_symbols[m].clone(), *units);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// Each exchange's summary with its insurance fund's path, in world order.
    pub(crate) fn finish(self) -> Vec<(PerpSummary, InsuranceSummary)> {
        self.exchanges
            .into_iter()
            .map(|x| {
                let mut s = x.summary;
                s.accounts_liquidated = x.liquidated.len();
                s.adl.accounts_hit = x.hit.len();
                (s, x.fund)
            })
            .collect()
    }
}
