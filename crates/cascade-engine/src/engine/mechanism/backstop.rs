//! Liquidation via transfer: a pre-funded backstop vault takes liquidatable positions over, off
//! the market, and unwinds what it took over time (the essay's closing proposal; Liquity's
//! Stability Pool, Hyperliquid's HLP and Compound III's absorb are protocol-specific forms of
//! it). The formulas are the model's (`cascade_model::backstop`).
//!
//! - **Transfer** (in the cascade, for each liquidatable account in key order): if the vault's
//!   capital (its starting capital, less what it spent, plus what its sales returned) covers the
//!   account's debt, the vault repays **all** of it and takes collateral worth
//!   debt × (1 + penalty) of the account's most valuable collateral, or all of that collateral
//!   if it is worth less (the vault, not the protocol, takes the loss then). No keeper and no
//!   transaction is involved; nothing is sold then and there. An account the vault cannot
//!   afford is missed.
//! - **Unwind** (phase 6, every step): a vault that sells sells its share of the step
//!   (`fraction_per_hour` × step / 1 h) of its holdings of each asset on the asset's primary
//!   venue; a hedged vault never sells and values its holdings at their takeover prices.

use cascade_model::backstop::{self, BackstopParams, BackstopVault, Unwind};
use cascade_model::ids::{AccountId, AssetId};
use cascade_model::lending::Account;

use super::super::Impact;
use super::{LiquidationMechanism, MarkCx, Round, StepCx, richest_collateral};
use crate::event::EventKind;

/// A backstop vault's rules.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Backstop(pub(super) BackstopParams);

impl LiquidationMechanism for Backstop {
    type State = BackstopVault;
    /// The account's health factor.
    type Finding = f64;

    fn open(&self, _accounts: &[Account], prices: &[f64]) -> BackstopVault {
        BackstopVault::new(prices.len())
    }

    fn writes_off_bad_debt(&self) -> bool {
        true
    }

    fn confirm(&self, _vault: &BackstopVault, r: &Round<'_>, id: AccountId) -> Option<f64> {
        r.health_factor_below_one(id)
    }

    /// The transfer: the vault repays the account's whole debt and takes collateral worth the
    /// debt plus its penalty (or all of it), if its capital allows.
    fn liquidate(
        &self,
        vault: &mut BackstopVault,
        r: &mut Round<'_>,
        id: AccountId,
        _health_factor: f64,
    ) -> bool {
        let prices = r.prices;
        let account = r.account(id);
        let Some((collateral_asset, balance)) = richest_collateral(account, prices) else {
            return false;
        };
        let (debt_asset, debt) = (account.debt_asset, account.debt);
        let (collateral_price, debt_price) =
            (prices[collateral_asset.index()], prices[debt_asset.index()]);
        if vault.available(self.0.capital) < debt * debt_price {
            return false;
        }
        let t = backstop::takeover(debt, debt_price, balance, collateral_price, self.0.penalty);
        r.count_liquidated(debt * debt_price);
        let liquidatable_since = r.end_episode(id);
        let account = r.book.account_mut(id);
        account.debt = 0.0;
        if let Some(slot) = account
            .collateral
            .iter_mut()
            .find(|c| c.0 == collateral_asset)
        {
            slot.1 = if t.collateral_taken >= slot.1 {
                0.0
            } else {
                slot.1 - t.collateral_taken
            };
        }
        r.reindex(id);
        vault.spent += t.debt_repaid * debt_price;
        vault.inventory[collateral_asset.index()] += t.collateral_taken;
        vault.cost_basis[collateral_asset.index()] += t.collateral_taken * collateral_price;
        let protocol = r.id;
        r.emit(EventKind::BackstopTakeover {
            protocol,
            account: id,
            collateral_asset,
            units: t.collateral_taken,
            collateral_price,
            debt_asset,
            debt: t.debt_repaid,
            debt_price,
            liquidatable_since,
        });
        true
    }

    /// The unwind: a vault that sells sells its share of the step on each asset's primary
    /// venue.
    fn time_driven(&self, vault: &mut BackstopVault, cx: &mut StepCx<'_>) {
        let fraction_per_hour = match self.0.unwind {
            Unwind::Sell { fraction_per_hour } => fraction_per_hour,
            Unwind::Hedge => return,
        };
        let world = cx.world;
        let dt = world.simulation.step_seconds as f64;
        let share = (fraction_per_hour * dt / 3600.0).min(1.0);
        for (a, asset) in world.assets.iter().enumerate() {
            let Some(v) = asset.primary_venue else {
                continue;
            };
            let units = vault.inventory[a] * share;
            if units <= 0.0 {
                continue;
            }
            let fundamental = cx.fundamentals[a].price();
            let venue = &mut cx.venues[v.index()];
            let fill = match cx.impact {
                Impact::Moves => venue.sell(fundamental, units),
                Impact::Muted => venue.sell_at_price(fundamental, units),
            };
            cx.last_venue_price[v.index()] = fill.price_after;
            let held = vault.inventory[a];
            vault.cost_basis[a] *= if held > 0.0 {
                (held - fill.filled) / held
            } else {
                0.0
            };
            vault.inventory[a] -= fill.filled;
            vault.received += fill.proceeds;
            let protocol = cx.id;
            cx.emit(EventKind::BackstopSale {
                protocol,
                venue: v,
                asset: AssetId(a as u32),
                units,
                filled: fill.filled,
                proceeds: fill.proceeds,
                price_before: fill.price_before,
                price_after: fill.price_after,
            });
        }
    }

    fn mark(&self, vault: &BackstopVault, cx: &mut MarkCx<'_>) {
        let protocol = cx.id;
        cx.emit(EventKind::BackstopMarked {
            protocol,
            spent: vault.spent,
            received: vault.received,
            cost_basis_usd: vault.cost_basis.iter().sum(),
            inventory: vault.inventory.clone(),
        });
    }
}
