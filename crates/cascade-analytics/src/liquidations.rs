//! Liquidation totals (summary.json `liquidations`): calls of every mechanism, debt repaid,
//! collateral seized and paid to treasuries, what keepers and backstop vaults sold and for how
//! much, the bonus keepers captured, missed accounts, and how long accounts stayed liquidatable.
//!
//! A batch of calls counts as its calls: its accounts' liquidations, and as many episodes of 0
//! seconds (each account was found liquidatable and liquidated at the same check).
//!
//! State: sums per asset, and the episode durations as counts per distinct duration (at most one
//! per step), from which the percentiles are exact.

use cascade_engine::{Event, EventKind, World};

use crate::summary::{LiquidationSummary, TimeToClose};
use crate::tally::{Durations, PerAsset};
use crate::view::{LiquidationView, Seized};

/// The fold of `liquidations.*`.
pub(crate) struct LiquidationFold {
    /// Every figure but the per-asset maps and the time to close.
    totals: LiquidationSummary,
    seized: PerAsset,
    fees: PerAsset,
    sold: PerAsset,
    unsold: PerAsset,
    durations: Durations,
}

impl LiquidationFold {
    pub(crate) fn new(world: &World) -> Self {
        let n = world.assets.len();
        Self {
            totals: LiquidationSummary::default(),
            seized: PerAsset::new(n),
            fees: PerAsset::new(n),
            sold: PerAsset::new(n),
            unsold: PerAsset::new(n),
            durations: Durations::default(),
        }
    }

    pub(crate) fn event(&mut self, event: &Event) {
        let totals = &mut self.totals;
        if let Some(view) = LiquidationView::of(event) {
            totals.count += u64::from(view.call.is_some()) * view.count;
            if let Some(usd) = view.repaid_usd {
                totals.debt_repaid_usd += usd;
            }
            view.each_seized(|asset, units| self.seized.add(asset, units));
            if let Seized::One { usd, .. } = view.seized {
                totals.collateral_seized_usd += usd;
            }
            if let Some((asset, units)) = view.fee {
                self.fees.add(asset, units);
            }
            if let Some(usd) = view.bonus_usd {
                totals.bonus_usd += usd;
            }
            if let Some(seconds) = view.closed_after {
                self.durations.push(seconds, view.count);
            }
            return;
        }
        match &event.kind {
            EventKind::Sale(s) => {
                self.sold.add(s.asset, s.filled);
                if s.units > s.filled {
                    self.unsold.add(s.asset, s.units - s.filled);
                }
                totals.sale_proceeds_usd += s.proceeds;
                totals.slippage_usd += s.oracle_value - s.proceeds;
            }
            EventKind::BackstopSale {
                asset,
                units,
                filled,
                proceeds,
                ..
            } => {
                self.sold.add(*asset, *filled);
                if units > filled {
                    self.unsold.add(*asset, units - filled);
                }
                totals.sale_proceeds_usd += proceeds;
            }
            EventKind::LiquidationsMissed { count, .. } => totals.missed += count,
            _ => {}
        }
    }

    pub(crate) fn finish(self, world: &World) -> LiquidationSummary {
        let d = &self.durations;
        LiquidationSummary {
            collateral_seized: self.seized.into_map(world),
            protocol_fees: self.fees.into_map(world),
            collateral_sold: self.sold.into_map(world),
            collateral_unsold: self.unsold.into_map(world),
            time_to_close_seconds: TimeToClose {
                episodes: d.len(),
                median: d.nearest_rank(0.5),
                p90: d.nearest_rank(0.9),
                max: d.max(),
            },
            ..self.totals
        }
    }
}
