//! Compound III (Comet): `absorb` and `buyCollateral` (docs/reference-math.md §3; comet
//! `contracts/Comet.sol`, `absorbInternal`, `buyCollateral`, `quoteCollateral`, `getReserves`),
//! a protocol-run liquidation via transfer. The formulas are the model's
//! (`cascade_model::comet`).
//!
//! - **absorb** (in the cascade, for each unhealthy account in key order, called by the first
//!   keeper serving the protocol): the protocol seizes **all** of the account's collateral;
//!   Δ = Σ units × price × liquidation factor. The account's debt is cleared out of reserves,
//!   and Δ beyond the debt is credited to it; a Δ short of the debt is absorbed by reserves and
//!   recorded as realised bad debt. Reserves fall by the debt plus the credit. The call is not
//!   gated by the chain (absorbers are paid off-chain).
//! - **buyCollateral** (at the start of every round, whatever the settlement schedule): while
//!   reserves are below their target, keepers in order buy the held collateral at the
//!   store-front price, price × (1 − storeFrontPriceFactor × (1 − liquidation factor)), as much
//!   as their capital allows and their valuation (their venue's quote after the round's other
//!   sales, or the protocol's price when they hold, less their minimum profit) makes worth it,
//!   halving the amount up to eight times to find a slice worth it; what they pay goes into
//!   reserves, and they sell what they buy like seized collateral.

use cascade_model::comet::{self, CometParams, CometState};
use cascade_model::ids::{AccountId, AssetId};
use cascade_model::lending::Account;

use super::{LiquidationMechanism, MarkCx, Round};
use crate::event::EventKind;

/// A Comet market's rules (the per-collateral liquidation factors are in the protocol's
/// collateral parameters).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Comet(pub(super) CometParams);

impl LiquidationMechanism for Comet {
    /// The reserves and the collateral the protocol holds.
    type State = CometState;
    /// The account's health factor.
    type Finding = f64;

    fn open(&self, _accounts: &[Account], prices: &[f64]) -> CometState {
        CometState {
            reserves_usd: self.0.initial_reserves_usd,
            held: vec![0.0; prices.len()],
        }
    }

    fn writes_off_bad_debt(&self) -> bool {
        true
    }

    /// buyCollateral: keepers buy the held collateral while reserves are below target.
    fn advance(&self, state: &mut CometState, r: &mut Round<'_>) -> u64 {
        let (world, info, prices) = (r.world, r.info, r.prices);
        let mut activity = 0;
        for (a, &asset_price) in prices.iter().enumerate().take(world.assets.len()) {
            let asset = AssetId(a as u32);
            let Some(collateral) = info.params.collateral[a] else {
                continue;
            };
            let price = comet::discounted_price(
                asset_price,
                self.0.store_front_price_factor,
                collateral.liquidation_factor,
            );
            for &k in &info.keepers {
                if state.reserves_usd >= self.0.target_reserves_usd || state.held[a] <= 0.0 {
                    break;
                }
                let keeper = &world.keepers[k.index()].spec;
                let budget = r.keepers[k.index()].available(keeper.capital);
                let mut units = state.held[a].min(budget / price);
                let mut bought = None;
                for _ in 0..8 {
                    if units <= 0.0 {
                        break;
                    }
                    let value = r.keeper_value(k, asset, units, asset_price);
                    if value - units * price >= keeper.min_profit {
                        bought = Some(units);
                        break;
                    }
                    units /= 2.0;
                }
                let Some(units) = bought else { continue };
                let paid = units * price;
                state.held[a] = (state.held[a] - units).max(0.0);
                state.reserves_usd += paid;
                let book = &mut r.keepers[k.index()];
                book.spent += paid;
                book.receive(asset, units);
                if let Some(v) = keeper.sell_on[a] {
                    r.queue_sale(k, v, units, asset_price);
                }
                let protocol = r.id;
                r.emit(EventKind::CollateralBought {
                    protocol,
                    keeper: k,
                    asset,
                    units,
                    price,
                    collateral_price: asset_price,
                    paid,
                });
                activity += 1;
            }
        }
        activity
    }

    fn confirm(&self, _state: &CometState, r: &Round<'_>, id: AccountId) -> Option<f64> {
        r.health_factor_below_one(id)
    }

    /// absorb: the protocol takes all of the account's collateral, clears its debt out of
    /// reserves and credits it with any value beyond the debt (at the liquidation factors); a
    /// shortfall is absorbed by reserves and recorded as bad debt. The first keeper serving
    /// the protocol calls it.
    fn liquidate(
        &self,
        state: &mut CometState,
        r: &mut Round<'_>,
        id: AccountId,
        _health_factor: f64,
    ) -> bool {
        let (world, info, prices) = (r.world, r.info, r.prices);
        if info.keepers.is_empty() {
            return false;
        }
        let account = r.account(id);
        let mut collateral = vec![0.0; world.assets.len()];
        let mut delta_value = 0.0;
        for &(asset, units) in &account.collateral {
            collateral[asset.index()] += units;
            let factor =
                info.params.collateral[asset.index()].map_or(0.0, |c| c.liquidation_factor);
            delta_value += units * prices[asset.index()] * factor;
        }
        let (debt_asset, debt) = (account.debt_asset, account.debt);
        let debt_price = prices[debt_asset.index()];
        let a = comet::absorb(debt * debt_price, delta_value);
        r.count_liquidated(debt * debt_price);
        let liquidatable_since = r.end_episode(id);
        let account = r.book.account_mut(id);
        account.debt = 0.0;
        account.collateral.iter_mut().for_each(|c| c.1 = 0.0);
        r.reindex(id);
        state.reserves_usd -= a.reserves_paid;
        for (held, units) in state.held.iter_mut().zip(&collateral) {
            *held += units;
        }
        let protocol = r.id;
        r.emit(EventKind::Absorbed {
            protocol,
            account: id,
            collateral,
            debt_asset,
            debt,
            debt_price,
            delta_value: a.delta_value,
            credit: a.credit,
            shortfall: a.shortfall,
            liquidatable_since,
        });
        if a.shortfall > 0.0 {
            let amount = a.shortfall / debt_price;
            r.book_bad_debt(id, debt_asset, amount, debt_price);
        }
        true
    }

    fn mark(&self, state: &CometState, cx: &mut MarkCx<'_>) {
        let protocol = cx.id;
        cx.emit(EventKind::CometMarked {
            protocol,
            reserves_usd: state.reserves_usd,
            held: state.held.clone(),
        });
    }
}
