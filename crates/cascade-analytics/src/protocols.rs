//! Each lending protocol's own figures (summary.json `protocols.<NAME>`, the part every
//! mechanism shares): its book at the start and the end, its liquidations and the distinct
//! accounts they hit, debt repaid, collateral seized and paid to its treasury, bad debt written
//! off and left unrealised.
//!
//! A batch of calls counts as its calls and the write-offs they left; its accounts had not been
//! touched before, so each is one more account liquidated.
//!
//! State: per protocol a few sums and per-asset sums, and one bit per account of its book for
//! `accounts_liquidated` (the only figure here that needs per-account state: 125 KB for a
//! million accounts).

use cascade_engine::{BookMark, Event, EventKind, World};

use crate::summary::ProtocolSummary;
use crate::tally::{AccountSet, PerAsset};
use crate::view::{Call, LiquidationView};

/// One protocol's running figures.
struct ProtocolTally {
    /// Counts and sums (the per-asset maps are filled at the end).
    summary: ProtocolSummary,
    seized: PerAsset,
    fees: PerAsset,
    /// Accounts liquidated at least once (none counted before the book opens).
    liquidated: AccountSet,
}

/// The fold of the shared part of `protocols.<NAME>.*`.
pub(crate) struct ProtocolFold {
    protocols: Vec<ProtocolTally>,
    start_prices: Vec<f64>,
}

impl ProtocolFold {
    pub(crate) fn new(world: &World) -> Self {
        Self {
            protocols: world
                .protocols
                .iter()
                .map(|_| ProtocolTally {
                    summary: ProtocolSummary::default(),
                    seized: PerAsset::new(world.assets.len()),
                    fees: PerAsset::new(world.assets.len()),
                    liquidated: AccountSet::bounded(0),
                })
                .collect(),
            start_prices: world.assets.iter().map(|a| a.start_price).collect(),
        }
    }

    pub(crate) fn event(&mut self, event: &Event) {
        if let Some(view) = LiquidationView::of(event) {
            let Some(protocol) = view.protocol else {
                return;
            };
            let p = &mut self.protocols[protocol.index()];
            match view.call {
                Some(Call::Lending(account)) => {
                    p.summary.liquidations += 1;
                    if p.liquidated.insert(account.0) {
                        p.summary.accounts_liquidated += 1;
                    }
                }
                // Accounts no call had reached: each is liquidated for the first time.
                Some(Call::Untouched) => {
                    p.summary.liquidations += view.count;
                    p.summary.accounts_liquidated += view.count;
                }
                Some(Call::Perp) | None => {}
            }
            if let Some(usd) = view.repaid_usd {
                p.summary.debt_repaid_usd += usd;
            }
            view.each_seized(|asset, units| p.seized.add(asset, units));
            if let Some((asset, units)) = view.fee {
                p.fees.add(asset, units);
            }
            if let Some(usd) = view.written_off_usd {
                p.summary.bad_debt_realised_usd += usd;
            }
            return;
        }
        match &event.kind {
            EventKind::PositionsOpened {
                protocol,
                accounts,
                debt,
                ..
            } => {
                let p = &mut self.protocols[protocol.index()];
                p.summary.accounts = *accounts;
                p.summary.initial_debt_usd = debt
                    .iter()
                    .enumerate()
                    .map(|(a, units)| units * self.start_prices[a])
                    .sum();
                p.liquidated = AccountSet::bounded(*accounts as usize);
            }
            EventKind::BadDebt { protocol, usd, .. } => {
                self.protocols[protocol.index()]
                    .summary
                    .bad_debt_realised_usd += usd;
            }
            EventKind::PositionsMarked(mark) => {
                let BookMark {
                    protocol,
                    open_accounts,
                    unrealised_bad_debt_usd,
                    ..
                } = &**mark;
                let p = &mut self.protocols[protocol.index()].summary;
                p.open_accounts = *open_accounts;
                p.bad_debt_unrealised_usd = *unrealised_bad_debt_usd;
            }
            _ => {}
        }
    }

    /// Each protocol's summary in world order, the mechanism's parts, losses and borrowers still
    /// to fill in.
    pub(crate) fn finish(self, world: &World) -> Vec<ProtocolSummary> {
        self.protocols
            .into_iter()
            .map(|p| ProtocolSummary {
                collateral_seized: p.seized.into_map(world),
                protocol_fees: p.fees.into_map(world),
                ..p.summary
            })
            .collect()
    }
}
