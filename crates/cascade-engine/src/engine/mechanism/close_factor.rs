//! The close-factor family: keepers repay part or all of an unhealthy account's debt in one call
//! and seize its collateral at a bonus (docs/reference-math.md §1, §2, §6, §7).
//!
//! The rules of each protocol are the model's (`cascade_model::lending::LiquidationRule`:
//! `max_repay`, `call_in`, `repay_to_health`, `writes_off_bad_debt`); this file is the order in
//! which keepers call them.
//!
//! - **Fixed spread** (generic): at most `close_factor` of the debt per call (all of it at or
//!   below `full_close_below_health_factor`), collateral worth the repayment × (1 + bonus), a
//!   protocol fee on the bonus part; the bonus may rise with the health-factor shortfall or with
//!   the collateral's realised volatility over a window of step-end prices (kept here);
//!   debt left without collateral is written off.
//! - **Aave v3** (aave-v3-origin `LiquidationLogic.sol`, `executeLiquidationCall` and
//!   `_calculateAvailableCollateralToLiquidate`; `ValidationLogic.sol`,
//!   `validateLiquidationCall`): 50% close factor above health factor 0.95; v3.3 lifts it to
//!   100% for positions under $2,000, reverts a call that would leave less than $1,000 of debt
//!   or collateral, and writes off the debt of an account left without collateral (deficit).
//!   Keepers size each v3.3 call as the protocol's `LiquidationDataProvider` does: a call that
//!   would leave dust shrinks until it leaves $1,000 instead of reverting.
//! - **Aave v4** (aave-v4 `src/spoke/libraries/LiquidationLogic.sol`, `_calculateLiquidationAmounts`
//!   and `calculateLiquidationBonus`): a call repays what restores the Spoke's target health
//!   factor, at a bonus interpolated from a minimum just below health factor 1 to the
//!   collateral's maximum at `healthFactorForMaxBonus`; a call that would leave less than $1,000
//!   of the debt or of the collateral takes all of it instead, and reverts if the keeper's cover
//!   is short of that; debt left without collateral is written off (deficit).
//! - **Compound v2** (compound-protocol `Comptroller.sol`, `liquidateBorrowAllowed` and
//!   `liquidateCalculateSeizeTokens`; `CToken.sol`, `liquidateBorrowFresh` and
//!   `seizeInternal`): `closeFactor` of the borrow per call, seize repay × incentive, of which
//!   `protocolSeizeShare` goes to reserves; nothing is written off.
//! - **Morpho Blue** (morpho-blue `Morpho.sol`, `liquidate`): no close factor, incentive factor
//!   min(1.15, 1 / (1 − 0.3 · (1 − LLTV))), bad debt written off once the collateral is gone.
//! - **Euler v2** (euler-vault-kit `Liquidation.sol`, `calculateLiquidation`): the whole
//!   liability repayable at a discount 1 − max(health score, 1 − max discount).
//!
//! Keepers serving the protocol try in priority order (one whose call got into an earlier block
//! first). The first whose capital (and the protocol's rate limit) allows a call, and who values
//! the seized collateral at its venue's quote after the round's other sales (or at the
//! protocol's price when it holds) at least its minimum profit plus the expected gas above the
//! repayment, liquidates — if its transaction executes. A single-call keeper calls once; a
//! two-step keeper first repays just enough to leave the account barely liquidatable, then calls
//! again for the close factor of what is left, which yields more bonus than one call.
//!
//! When keepers bid in priority gas auctions (`Round::gas_auctions`), the keepers that want the
//! call first bid gas for it, each up to the call's value to it (its quote of the seized
//! collateral less the repayment and its minimum profit); they then try in block order, the
//! winner first, and the losers' included calls revert at the step's end.

use std::collections::VecDeque;

use cascade_model::Seconds;
use cascade_model::chain::{Target, TxKind};
use cascade_model::ids::{AccountId, AssetId, KeeperId};
use cascade_model::keeper::KeeperStrategy;
use cascade_model::lending::{Account, FixedSpread, LiquidationRule};

use super::context::KeeperOrder;
use super::{LiquidationMechanism, Round, richest_collateral};
use crate::event::{EventKind, LiquidationRecord};
use crate::world::World;

/// The health factor the two-step strategy's first call leaves behind: just below 1, so the
/// account stays liquidatable for the second call.
const TWO_STEP_TARGET: f64 = 1.0 - 1e-9;

/// A close-factor rule: the model's rule of one of the six protocols, with the window of
/// realised volatility a fixed spread's bonus follows, if it does.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CloseFactor {
    rule: LiquidationRule,
    volatility_window: Option<Seconds>,
}

impl CloseFactor {
    /// The keepers that want a single call on account `id` now, each with its value to them
    /// before gas: the seized collateral at its quote, less the repayment and its minimum
    /// profit (the call sized for its capital, as [`CloseFactor::call`] sizes it).
    fn wanting(
        &self,
        history: &PriceHistory,
        r: &mut Round<'_>,
        id: AccountId,
        health_factor: f64,
        collateral_asset: AssetId,
    ) -> smallvec::SmallVec<[(KeeperId, f64); 4]> {
        let (world, info, prices) = (r.world, r.info, r.prices);
        let price = |a: AssetId| prices[a.index()];
        let debt_price = price(r.account(id).debt_asset);
        let collateral_price = price(collateral_asset);
        let volatility = match self.volatility_window {
            Some(window) => {
                history.realised_volatility(collateral_asset, window, world.simulation.step_seconds)
            }
            None => 0.0,
        };
        let mut wanting = smallvec::SmallVec::new();
        for &k in &info.keepers {
            let keeper = &world.keepers[k.index()].spec;
            let budget = (r.keepers[k.index()].available(keeper.capital) / debt_price)
                .min(r.allowance_usd() / debt_price);
            if budget <= 0.0 {
                continue;
            }
            let Some(seizure) = self.rule.keeper_call(
                &info.params,
                r.account(id),
                health_factor,
                collateral_asset,
                &price,
                budget,
                volatility,
            ) else {
                continue;
            };
            let value =
                r.keeper_value(k, collateral_asset, seizure.to_liquidator, collateral_price)
                    - seizure.debt_repaid * debt_price
                    - keeper.min_profit;
            if value > 0.0 {
                wanting.push((k, value));
            }
        }
        wanting
    }

    /// A generic fixed spread.
    pub(super) fn fixed_spread(spread: FixedSpread) -> Self {
        Self {
            rule: LiquidationRule::FixedSpread(spread),
            volatility_window: (spread.volatility_slope > 0.0).then_some(spread.volatility_window),
        }
    }

    /// A protocol's own rule (Aave v3, Aave v4, Compound v2, Morpho Blue, Euler v2).
    pub(super) fn protocol(rule: LiquidationRule) -> Self {
        Self {
            rule,
            volatility_window: None,
        }
    }
}

/// The protocol's step-end prices per asset over the volatility window, newest last (empty
/// unless the bonus follows realised volatility).
#[derive(Clone, Debug)]
pub(crate) struct PriceHistory {
    prices: Vec<VecDeque<f64>>,
}

impl PriceHistory {
    /// Annualised realised volatility of the protocol's price of `asset` over the last `window`
    /// seconds of step-end prices (0 until three prices are known).
    fn realised_volatility(&self, asset: AssetId, window: Seconds, step: Seconds) -> f64 {
        let history = &self.prices[asset.index()];
        let keep = (window / step) as usize + 1;
        let prices: Vec<f64> = history.iter().rev().take(keep).copied().collect();
        if prices.len() < 3 {
            return 0.0;
        }
        let returns: Vec<f64> = prices.windows(2).map(|w| (w[0] / w[1]).ln()).collect();
        let mean = returns.iter().sum::<f64>() / returns.len() as f64;
        let variance =
            returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (returns.len() - 1) as f64;
        (variance * cascade_model::SECONDS_PER_YEAR / step as f64).sqrt()
    }
}

/// One liquidation call: keeper `keeper` asks to repay at most `requested` debt units of
/// account `id` (at `health_factor`), seizing `collateral_asset`.
#[derive(Clone, Copy, Debug)]
struct Call {
    id: AccountId,
    keeper: KeeperId,
    health_factor: f64,
    collateral_asset: AssetId,
    requested: f64,
}

impl LiquidationMechanism for CloseFactor {
    type State = PriceHistory;
    /// The account's health factor.
    type Finding = f64;

    fn open(&self, _accounts: &[Account], prices: &[f64]) -> PriceHistory {
        let tracked = if self.volatility_window.is_some() {
            prices.len()
        } else {
            0
        };
        PriceHistory {
            prices: vec![VecDeque::new(); tracked],
        }
    }

    fn writes_off_bad_debt(&self) -> bool {
        self.rule.writes_off_bad_debt()
    }

    /// One call per account, nothing kept running between rounds.
    fn at_rest(&self, _history: &PriceHistory) -> bool {
        true
    }

    /// Only a bonus that grows with realised volatility keeps the step-end prices.
    fn watches_step_ends(&self) -> bool {
        self.volatility_window.is_some()
    }

    fn liquidate_batches(&self, _history: &mut PriceHistory, r: &mut Round<'_>) -> u64 {
        match r.batches {
            Some(plan) => super::batch::liquidate_batches(plan, r),
            None => 0,
        }
    }

    fn confirm(&self, _history: &PriceHistory, r: &Round<'_>, id: AccountId) -> Option<f64> {
        r.health_factor_below_one(id)
    }

    /// Tries the protocol's keepers in order; the first with capital and a profitable trade
    /// liquidates (with its strategy: one call, or two).
    fn liquidate(
        &self,
        history: &mut PriceHistory,
        r: &mut Round<'_>,
        id: AccountId,
        health_factor: f64,
    ) -> bool {
        let (world, info, prices) = (r.world, r.info, r.prices);
        let account = r.account(id);
        // Keepers seize the collateral worth the most first.
        let Some((collateral_asset, _)) = richest_collateral(account, prices) else {
            return false;
        };
        let price = |a: AssetId| prices[a.index()];
        let debt_price = prices[account.debt_asset.index()];
        let target = Target::Account(r.id, id);
        // A keeper whose call got into an earlier block goes first; in a gas war, the
        // auction's winner next.
        let order = if r.gas_auctions() {
            let wanting = self.wanting(history, r, id, health_factor, collateral_asset);
            KeeperOrder::Reordered(r.contest(TxKind::Liquidate, target, &wanting).into_iter())
        } else {
            r.keepers_in_order(TxKind::Liquidate, target)
        };
        for k in order {
            let keeper = &world.keepers[k.index()].spec;
            let budget = (r.keepers[k.index()].available(keeper.capital) / debt_price)
                .min(r.allowance_usd() / debt_price);
            if budget <= 0.0 {
                continue;
            }
            let call = |health_factor, requested| Call {
                id,
                keeper: k,
                health_factor,
                collateral_asset,
                requested,
            };
            if keeper.strategy == KeeperStrategy::TwoStep && self.rule.has_close_factor() {
                // First repay just enough to leave the account barely liquidatable, then call
                // again for the close factor of what is left: more bonus than one call.
                let account = r.account(id);
                let cap = self.rule.max_repay(
                    &info.params,
                    account,
                    health_factor,
                    collateral_asset,
                    &price,
                );
                let first = self
                    .rule
                    .repay_to_health(
                        &info.params,
                        account,
                        collateral_asset,
                        &price,
                        TWO_STEP_TARGET,
                    )
                    .filter(|&r| r < cap);
                if let Some(first) = first {
                    if self.call(history, r, call(health_factor, first.min(budget))) {
                        let account = r.account(id);
                        let health = account.health_factor(&info.params, &price);
                        let budget = (r.keepers[k.index()].available(keeper.capital) / debt_price)
                            .min(r.allowance_usd() / debt_price);
                        if health < 1.0
                            && budget > 0.0
                            && account.collateral_of(collateral_asset) > 0.0
                        {
                            self.call(history, r, call(health, budget));
                        }
                        return true;
                    }
                    continue;
                }
            }
            if self.call(history, r, call(health_factor, budget)) {
                return true;
            }
        }
        false
    }

    fn step_ended(&self, history: &mut PriceHistory, world: &World, prices: &[f64]) {
        let Some(window) = self.volatility_window else {
            return;
        };
        let keep = (window / world.simulation.step_seconds) as usize + 1;
        for (kept, &price) in history.prices.iter_mut().zip(prices) {
            kept.push_back(price);
            while kept.len() > keep {
                kept.pop_front();
            }
        }
    }
}

impl CloseFactor {
    /// One liquidation call, if the protocol allows it, the keeper finds it worth its minimum
    /// profit and its transaction executes. Returns whether it did.
    fn call(&self, history: &PriceHistory, r: &mut Round<'_>, c: Call) -> bool {
        let (world, info, prices) = (r.world, r.info, r.prices);
        let (id, k, collateral_asset) = (c.id, c.keeper, c.collateral_asset);
        let keeper = &world.keepers[k.index()].spec;
        let price = |a: AssetId| prices[a.index()];
        let account = r.account(id);
        let debt_asset = account.debt_asset;
        let (debt_price, collateral_price) = (price(debt_asset), price(collateral_asset));
        let volatility = match self.volatility_window {
            Some(window) => {
                history.realised_volatility(collateral_asset, window, world.simulation.step_seconds)
            }
            None => 0.0,
        };
        // The keeper sizes its request as the protocol's own helper does, so that it does not
        // revert (Aave v3.3's leftover rule; `LiquidationRule::helper_repay`). An Aave v4 call
        // whose cover is short of what its dust rule requires reverts (`None`).
        let Some(seizure) = self.rule.keeper_call(
            &info.params,
            account,
            c.health_factor,
            collateral_asset,
            &price,
            c.requested,
            volatility,
        ) else {
            return false;
        };
        let value = r.keeper_value(k, collateral_asset, seizure.to_liquidator, collateral_price);
        let cost = seizure.debt_repaid * debt_price;
        if value - cost - r.expected_gas_usd(k, TxKind::Liquidate) < keeper.min_profit {
            return false;
        }
        if !r.transact(k, TxKind::Liquidate, Target::Account(r.id, id)) {
            return false;
        }
        r.count_liquidated(cost);
        let account = r.book.account_mut(id);
        account.debt -= seizure.debt_repaid;
        if let Some(slot) = account
            .collateral
            .iter_mut()
            .find(|c| c.0 == collateral_asset)
        {
            slot.1 = (slot.1 - seizure.collateral_seized).max(0.0);
        }
        let account = r.account(id);
        let closes = account.debt <= 0.0
            || !account.has_collateral()
            || account.health_factor(&info.params, &price) >= 1.0;
        let liquidatable_since = r.episode_start(id);
        if closes {
            r.end_episode(id);
        }
        r.book.treasury[collateral_asset.index()] += seizure.protocol_fee;
        if let Some(losses) = r.book.losses.as_mut() {
            losses.record_fees(seizure.protocol_fee * collateral_price);
        }
        let book = &mut r.keepers[k.index()];
        book.spent += cost;
        book.receive(collateral_asset, seizure.to_liquidator);
        if let Some(v) = keeper.sell_on[collateral_asset.index()] {
            r.queue_sale(k, v, seizure.to_liquidator, collateral_price);
        }
        let protocol = r.id;
        r.emit(EventKind::Liquidation(LiquidationRecord {
            protocol,
            account: id,
            keeper: k,
            health_factor: c.health_factor,
            collateral_asset,
            collateral_seized: seizure.collateral_seized,
            to_keeper: seizure.to_liquidator,
            protocol_fee: seizure.protocol_fee,
            collateral_price,
            debt_asset,
            debt_repaid: seizure.debt_repaid,
            debt_price,
            liquidatable_since,
            closes,
        }));
        r.settle_account(id);
        true
    }
}
