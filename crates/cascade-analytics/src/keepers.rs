//! Keepers' figures (summary.json `keepers.<NAME>`): the liquidations each carried out (calls,
//! each call of a batch among them, troves, auction takes, purchases of absorbed collateral), and
//! the balances of its end-of-run mark, with its holdings valued at the assets' final prices. Gas
//! is the chain fold's.
//!
//! State: per keeper, a count, its mark and its holdings per asset.

use std::collections::BTreeMap;

use cascade_engine::{Event, EventKind, World};

use crate::summary::{AssetSummary, KeeperSummary};
use crate::tally::PerAsset;
use crate::view::LiquidationView;

/// The fold of `keepers.<NAME>.*`.
pub(crate) struct KeeperFold {
    /// Counts and balances (inventory and marked profit filled at the end).
    keepers: Vec<(KeeperSummary, PerAsset)>,
}

impl KeeperFold {
    pub(crate) fn new(world: &World) -> Self {
        Self {
            keepers: world
                .keepers
                .iter()
                .map(|_| (KeeperSummary::default(), PerAsset::new(world.assets.len())))
                .collect(),
        }
    }

    pub(crate) fn event(&mut self, event: &Event) {
        if let Some(view) = LiquidationView::of(event) {
            if let Some(k) = view.keeper {
                self.keepers[k.index()].0.liquidations += view.count;
            }
            return;
        }
        if let EventKind::KeeperMarked {
            keeper,
            spent,
            received,
            incentives,
            inventory,
        } = &event.kind
        {
            let (k, held) = &mut self.keepers[keeper.index()];
            k.incentives_usd = *incentives;
            k.spent_usd = *spent;
            k.received_usd = *received;
            k.realised_profit_usd = received - spent;
            for (a, units) in inventory.iter().enumerate() {
                if units.abs() > 0.0 {
                    held.set(a, *units);
                }
            }
        }
    }

    /// Each keeper's summary in world order, its gas still to fill in; holdings are marked at
    /// `assets`' final prices.
    pub(crate) fn finish(
        self,
        world: &World,
        assets: &BTreeMap<String, AssetSummary>,
    ) -> Vec<KeeperSummary> {
        self.keepers
            .into_iter()
            .map(|(mut keeper, held)| {
                keeper.inventory = held.into_map(world);
                let held: f64 = keeper
                    .inventory
                    .iter()
                    .map(|(symbol, units)| {
                        units
                            * assets
                                .get(symbol)
                                .map_or(0.0, |a: &AssetSummary| a.final_price)
                    })
                    .sum();
                keeper.marked_profit_usd =
                    keeper.realised_profit_usd + keeper.incentives_usd + held;
                keeper
            })
            .collect()
    }
}
