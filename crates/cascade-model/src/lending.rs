//! Pooled lending protocols (Aave / Compound style): multi-collateral accounts, the health
//! factor, fixed-spread liquidation with close factor, bonus and protocol fee, bad debt, and the
//! index that finds liquidatable accounts without scanning the book.
//!
//! References (docs/reference-math.md): Aave v3 `GenericLogic.calculateUserAccountData` (health
//! factor)
//! and `LiquidationLogic` (seizure, bonus, protocol fee on the bonus part, v3.2 and v3.3 close
//! factor, dust and deficit rules), §1; Compound v2 `liquidateCalculateSeizeTokens` and the
//! protocol seize share, §2; Morpho Blue `liquidate` and its incentive factor, §6; Euler v2's
//! health-based discount and debt socialisation, §7; Aave v4's Spoke `LiquidationLogic` (a
//! repayment sized to a target health factor, a bonus that rises as the health factor falls, its
//! dust rule and deficit), §1.6. Each is a [`LiquidationRule`].

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;
use std::ops::Bound;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::ids::{AccountId, AssetId};

/// Risk parameters of one collateral asset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CollateralParams {
    /// Maximum loan-to-value at borrowing time.
    pub ltv: f64,
    /// Weight of the collateral in the health factor; liquidatable when the weighted collateral
    /// falls below the debt.
    pub liquidation_threshold: f64,
    /// Liquidation bonus for seizing this collateral (0.05 = the liquidator receives 105% of the
    /// value repaid).
    pub liquidation_bonus: f64,
    /// Compound III's liquidation factor: the share of the collateral's value an absorbed
    /// account is credited with (1 for other rules, where it is unused).
    pub liquidation_factor: f64,
}

/// Fixed-spread liquidation parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FixedSpread {
    /// Fraction of the debt one liquidation may repay while the account is above the full-close
    /// threshold.
    pub close_factor: f64,
    /// Below this health factor a liquidation may repay the whole debt (Aave: 0.95).
    pub full_close_below_health_factor: Option<f64>,
    /// Share of the bonus part of the seized collateral that goes to the protocol treasury.
    pub protocol_fee: f64,
    /// Dynamic penalty: the bonus grows by this much per unit of health-factor shortfall below
    /// 1 (0 keeps it fixed).
    pub bonus_slope: f64,
    /// The most the dynamic bonus may reach.
    pub bonus_cap: f64,
    /// Volatility-driven penalty: the bonus grows by this much per unit of the collateral
    /// price's annualised realised volatility (0 keeps it independent of volatility).
    pub volatility_slope: f64,
    /// Window of the realised volatility, seconds.
    pub volatility_window: u64,
}

impl FixedSpread {
    /// The bonus at `health_factor` for a collateral whose own bonus is `base`:
    /// min(cap, base + slope × (1 − health factor)), never below `base`.
    pub fn bonus_at(&self, base: f64, health_factor: f64) -> f64 {
        self.bonus_in(base, health_factor, 0.0)
    }

    /// The bonus at `health_factor` when the collateral price's annualised realised volatility
    /// is `volatility`: min(cap, base + slope × (1 − HF) + volatility slope × volatility).
    pub fn bonus_in(&self, base: f64, health_factor: f64, volatility: f64) -> f64 {
        let extra = self.bonus_slope * (1.0 - health_factor).max(0.0)
            + self.volatility_slope * volatility.max(0.0);
        if extra == 0.0 {
            return base;
        }
        (base + extra).min(self.bonus_cap.max(base))
    }

    /// The close factor that applies at `health_factor`.
    pub fn close_factor_at(&self, health_factor: f64) -> f64 {
        match self.full_close_below_health_factor {
            Some(threshold) if health_factor <= threshold => 1.0,
            _ => self.close_factor,
        }
    }
}

/// Aave v3 versions whose liquidation rules differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AaveVersion {
    /// v3.0–v3.2: 50% close factor above health factor 0.95, residual debt stays on the account.
    V3_2,
    /// v3.3+: 100% by default, 50% of total debt only above 0.95 with both sides ≥ $2,000; no
    /// dust under $1,000; an account left without collateral has its debt written off (deficit).
    V3_3,
}

/// Aave v4's `DUST_LIQUIDATION_THRESHOLD` (aave-v4 `src/spoke/libraries/LiquidationLogic.sol`
/// L185, 1000e26 in USD with 26 decimals): a liquidation repays all of the debt, takes all of the
/// collateral, or leaves at least $1,000 of each (the comment at L576–579).
pub const AAVE_V4_DUST_LIQUIDATION_THRESHOLD: f64 = 1_000.0;

/// An Aave v4 Spoke's liquidation configuration (`ISpoke.LiquidationConfig`) and the liquidation
/// fee of its reserves (docs/reference-math.md §1.6). Each collateral's `liquidation_bonus` is
/// its `maxLiquidationBonus` − 100%.
///
/// Source: aave/aave-v4 at 1e8de8630dfeb26ad309d986eaec44c1ceb48a6d,
/// `src/spoke/libraries/LiquidationLogic.sol`: `calculateLiquidationBonus` L312–333,
/// `_calculateLiquidationAmounts` L563–703, `_calculateDebtToLiquidate` L735–791,
/// `_calculateDebtToTargetHealthFactor` L795–813, `_evaluateDeficit` L816–826.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AaveV4 {
    /// `targetHealthFactor` (≥ 1): a liquidation repays what restores the account's health
    /// factor to it, no more.
    pub target_health_factor: f64,
    /// `healthFactorForMaxBonus` (< 1): at or below it the bonus is the collateral's maximum.
    pub health_factor_for_max_bonus: f64,
    /// `liquidationBonusFactor` (0 … 1): the share of the maximum bonus paid just below health
    /// factor 1, where the bonus is lowest.
    pub liquidation_bonus_factor: f64,
    /// `liquidationFee` (0 … 1): the share of the bonus part of the seized collateral that goes
    /// to the treasury (per reserve in v4, one for the protocol here).
    pub liquidation_fee: f64,
}

impl AaveV4 {
    /// `calculateLiquidationBonus` as a fraction (0.05 = 105%): the maximum at or below
    /// `health_factor_for_max_bonus`, else interpolated linearly from the minimum,
    /// max × `liquidation_bonus_factor`, at health factor 1 to the maximum at
    /// `health_factor_for_max_bonus`.
    pub fn bonus_at(&self, max_bonus: f64, health_factor: f64) -> f64 {
        if health_factor <= self.health_factor_for_max_bonus {
            return max_bonus;
        }
        let min_bonus = max_bonus * self.liquidation_bonus_factor;
        let shortfall = ((1.0 - health_factor) / (1.0 - self.health_factor_for_max_bonus)).max(0.0);
        min_bonus + (max_bonus - min_bonus) * shortfall
    }

    /// `_calculateDebtToTargetHealthFactor`: the debt units whose repayment, seizing collateral
    /// of threshold `collateral_factor` at `bonus`, brings an account owing `debt_value` (USD)
    /// at `health_factor` to the target: debt value × (target − HF) / ((target − (1 + bonus) ×
    /// collateral factor) × debt price).
    pub fn debt_to_target(
        &self,
        debt_value: f64,
        health_factor: f64,
        bonus: f64,
        collateral_factor: f64,
        debt_price: f64,
    ) -> f64 {
        let penalty = (1.0 + bonus) * collateral_factor;
        let target = self.target_health_factor;
        (debt_value * (target - health_factor) / ((target - penalty) * debt_price)).max(0.0)
    }

    /// `_calculateDebtToLiquidate`: the debt the call takes from a liquidator covering
    /// `debt_to_cover` — the least of the debt, the cover and the debt to target, or the whole
    /// debt when that would leave less than the dust threshold of it (the target is bypassed).
    fn debt_to_liquidate(
        &self,
        account: &Account,
        debt_price: f64,
        to_target: f64,
        debt_to_cover: f64,
    ) -> f64 {
        let debt = account.debt;
        let repay = debt.min(debt_to_cover).min(to_target);
        let leaves_debt_dust =
            repay < debt && (debt - repay) * debt_price < AAVE_V4_DUST_LIQUIDATION_THRESHOLD;
        if leaves_debt_dust { debt } else { repay }
    }

    /// `_calculateLiquidationAmounts` on a call covering at most `debt_to_cover` debt units:
    /// the debt to liquidate, the collateral it buys at the bonus, all of the collateral
    /// instead when the balance is short or the call would leave collateral dust while debt
    /// remains (the repayment re-derived from it), and the liquidation fee on the bonus part.
    /// `None` where v4 reverts with `MustNotLeaveDust` (the cover is short of what the dust rule
    /// requires) or there is nothing to repay.
    #[allow(clippy::too_many_arguments)]
    fn seizure(
        &self,
        collateral: &CollateralParams,
        account: &Account,
        health_factor: f64,
        collateral_asset: AssetId,
        price: &impl Fn(AssetId) -> f64,
        debt_to_cover: f64,
    ) -> Option<Seizure> {
        let balance = account.collateral_of(collateral_asset);
        let (p_c, p_d) = (price(collateral_asset), price(account.debt_asset));
        let bonus = self.bonus_at(collateral.liquidation_bonus, health_factor);
        let multiplier = 1.0 + bonus;
        let to_target = self.debt_to_target(
            account.debt_value(price),
            health_factor,
            bonus,
            collateral.liquidation_threshold,
            p_d,
        );
        let mut repay = self.debt_to_liquidate(account, p_d, to_target, debt_to_cover);
        let mut seized = repay * p_d * multiplier / p_c;
        let leaves_collateral_dust =
            seized < balance && (balance - seized) * p_c < AAVE_V4_DUST_LIQUIDATION_THRESHOLD;
        if seized > balance || (leaves_collateral_dust && repay < account.debt) {
            seized = balance;
            repay = (balance * p_c / (p_d * multiplier)).min(account.debt);
        }
        // `require(debtToCover >= debtToLiquidate, MustNotLeaveDust())`, up to rounding.
        if repay > debt_to_cover * (1.0 + 1e-12) || repay <= 0.0 {
            return None;
        }
        let fee = seized * self.liquidation_fee * bonus / multiplier;
        Some(Seizure {
            debt_repaid: repay,
            collateral_seized: seized,
            to_liquidator: seized - fee,
            protocol_fee: fee,
        })
    }
}

/// How a lending protocol liquidates, each variant following its protocol's own rules.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LiquidationRule {
    /// A generic fixed spread: close factor (all of the debt below a health-factor threshold),
    /// bonus, protocol fee on the bonus part; debt left without collateral is written off.
    FixedSpread(FixedSpread),
    /// Aave v3 (docs/reference-math.md §1) at a version.
    AaveV3 {
        /// Rules of this version.
        version: AaveVersion,
        /// Share of the bonus part that goes to the treasury.
        protocol_fee: f64,
    },
    /// Aave v4 (§1.6): a call repays what restores the target health factor, at a bonus that
    /// rises as the health factor falls; no dust under $1,000 left of the debt or the
    /// collateral; debt left without collateral is written off (deficit).
    AaveV4(AaveV4),
    /// Compound v2 (§2): repay up to `close_factor` of the borrow; seize repay × incentive
    /// (1 + bonus) in collateral, of which `protocol_seize_share` goes to reserves; no write-off.
    CompoundV2 {
        /// Fraction of the borrow one call may repay.
        close_factor: f64,
        /// Share of the seized collateral added to reserves (2.8% on mainnet).
        protocol_seize_share: f64,
    },
    /// Morpho Blue (§6): no close factor, incentive factor min(1.15, 1 / (1 − 0.3 · (1 − LLTV))),
    /// bad debt written off as soon as the collateral is gone.
    MorphoBlue,
    /// Euler v2 (§7): discount 1 − max(health score, 1 − max_discount), the whole liability
    /// repayable, remaining debt socialised when no collateral is left.
    EulerV2 {
        /// The governor's maximum liquidation discount.
        max_discount: f64,
    },
    /// Maker Liquidations 2.0 (§4.2): unsafe vaults are barked into Dutch auctions, which
    /// keepers take over time (handled by the engine's auction phase, not by [`Self::call`]).
    DutchAuction(crate::auction::DutchAuctionParams),
    /// Maker Liquidations 1.2 (§4.1): unsafe vaults are bitten into English auctions (tend
    /// then dent), handled by the engine's auction phase.
    EnglishAuction(crate::auction::english::EnglishAuctionParams),
    /// Liquidation via transfer: a backstop vault takes the position over off-market and
    /// unwinds it over time (handled by the engine).
    Backstop(crate::backstop::BackstopParams),
    /// Compound III (§3): unhealthy accounts are absorbed into the protocol's reserves and
    /// keepers buy the collateral at a discount (handled by the engine).
    CometAbsorb(crate::comet::CometParams),
    /// Liquity v1 (§5): troves offset against the Stability Pool, redistributed to the other
    /// troves when it runs dry, with a recovery mode (handled by the engine).
    Liquity(crate::liquity::LiquityParams),
}

/// Aave v3.3 constants (docs/reference-math.md §1.2): the 50% cap needs both sides at or above
/// $2,000; a partial liquidation must leave at least $1,000 of debt and of collateral.
pub const AAVE_MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD: f64 = 2_000.0;
/// See [`AAVE_MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD`].
pub const AAVE_MIN_LEFTOVER_BASE: f64 = 1_000.0;
/// Aave's health factor below which the whole debt may be repaid.
pub const AAVE_CLOSE_FACTOR_HF_THRESHOLD: f64 = 0.95;

/// Whether a leftover worth `value` (USD) is under Aave v3.3's `MIN_LEFTOVER_BASE`. A leftover
/// within one part in 10⁹ of the threshold counts as at it: the helper sizes repayments to
/// leave exactly the threshold, which f64 arithmetic may miss by a rounding error.
fn below_leftover(value: f64) -> bool {
    value < AAVE_MIN_LEFTOVER_BASE * (1.0 - 1e-9)
}

/// Aave v3.3's `LiquidationDataProvider._adjustAmountsForGoodLeftovers` (v3.3.0, L191–276) on
/// the call that repays `cover`: the repayment unchanged when the call leaves nothing of one
/// side or at least `MIN_LEFTOVER_BASE` of both, otherwise shrunk so that the side further below
/// the threshold is left at it. The helper works on the collateral net of the protocol fee
/// (its `collateralAmountToLiquidate`) and re-derives the repayment from that net amount, so
/// with a fee it leaves the fee's value more collateral than the threshold; followed as written.
fn aave_good_leftover_repay(
    account: &Account,
    collateral_asset: AssetId,
    price: &impl Fn(AssetId) -> f64,
    cover: f64,
    bonus: f64,
    protocol_fee: f64,
) -> f64 {
    let balance = account.collateral_of(collateral_asset);
    let (p_c, p_d) = (price(collateral_asset), price(account.debt_asset));
    if cover <= 0.0 || balance <= 0.0 {
        return cover;
    }
    let s = fixed_spread_seizure(cover, p_d, balance, p_c, bonus, protocol_fee);
    if s.collateral_seized >= balance || s.debt_repaid >= account.debt {
        return s.debt_repaid;
    }
    let collateral_left = (balance - s.collateral_seized) * p_c;
    let debt_left = (account.debt - s.debt_repaid) * p_d;
    let collateral_short = (AAVE_MIN_LEFTOVER_BASE - collateral_left).max(0.0);
    let debt_short = (AAVE_MIN_LEFTOVER_BASE - debt_left).max(0.0);
    let repay = if collateral_short == 0.0 && debt_short == 0.0 {
        s.debt_repaid
    } else if collateral_short > debt_short {
        let net = s.to_liquidator - collateral_short / p_c;
        net * p_c / p_d / (1.0 + bonus)
    } else {
        s.debt_repaid - debt_short / p_d
    };
    repay.max(0.0)
}

/// Morpho Blue's incentive factor for a market with this liquidation LTV.
pub fn morpho_incentive_factor(lltv: f64) -> f64 {
    (1.0 / (1.0 - 0.3 * (1.0 - lltv))).min(1.15)
}

impl LiquidationRule {
    /// Whether debt left on an account with no collateral is written off (realised bad debt)
    /// rather than left on the account.
    pub fn writes_off_bad_debt(&self) -> bool {
        match self {
            Self::FixedSpread(_)
            | Self::MorphoBlue
            | Self::EulerV2 { .. }
            | Self::DutchAuction(_)
            | Self::EnglishAuction(_)
            | Self::Backstop(_)
            | Self::CometAbsorb(_)
            | Self::Liquity(_)
            | Self::AaveV4(_) => true,
            Self::AaveV3 { version, .. } => *version == AaveVersion::V3_3,
            Self::CompoundV2 { .. } => false,
        }
    }

    /// The liquidation bonus for seizing this collateral (the discount's equivalent for Euler is
    /// state-dependent and reported as 0 here; for Aave v4, whose bonus depends on the health
    /// factor, the maximum: [`AaveV4::bonus_at`] gives it at a health factor).
    pub fn bonus(&self, collateral: &CollateralParams) -> f64 {
        match self {
            Self::MorphoBlue => morpho_incentive_factor(collateral.liquidation_threshold) - 1.0,
            Self::EulerV2 { .. }
            | Self::DutchAuction(_)
            | Self::EnglishAuction(_)
            | Self::Backstop(_)
            | Self::CometAbsorb(_)
            | Self::Liquity(_) => 0.0,
            Self::FixedSpread(_)
            | Self::AaveV3 { .. }
            | Self::AaveV4(_)
            | Self::CompoundV2 { .. } => collateral.liquidation_bonus,
        }
    }

    /// Whether one call is capped below the whole debt at this health factor (where a keeper's
    /// two-step strategy can extract more).
    pub fn has_close_factor(&self) -> bool {
        !matches!(
            self,
            Self::MorphoBlue
                | Self::EulerV2 { .. }
                | Self::DutchAuction(_)
                | Self::EnglishAuction(_)
                | Self::Backstop(_)
                | Self::CometAbsorb(_)
                | Self::Liquity(_)
        )
    }

    /// The most debt (units) one call may repay, seizing `collateral_asset` (for Aave v4, the
    /// debt to its target health factor, or the whole debt where that would leave dust).
    pub fn max_repay(
        &self,
        params: &LendingParams,
        account: &Account,
        health_factor: f64,
        collateral_asset: AssetId,
        price: &impl Fn(AssetId) -> f64,
    ) -> f64 {
        let debt = account.debt;
        match self {
            Self::FixedSpread(rule) => rule.close_factor_at(health_factor) * debt,
            Self::AaveV3 {
                version: AaveVersion::V3_2,
                ..
            } => {
                if health_factor > AAVE_CLOSE_FACTOR_HF_THRESHOLD {
                    0.5 * debt
                } else {
                    debt
                }
            }
            Self::AaveV3 {
                version: AaveVersion::V3_3,
                ..
            } => {
                let collateral_value =
                    account.collateral_of(collateral_asset) * price(collateral_asset);
                let debt_value = account.debt_value(price);
                if health_factor > AAVE_CLOSE_FACTOR_HF_THRESHOLD
                    && collateral_value >= AAVE_MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD
                    && debt_value >= AAVE_MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD
                {
                    0.5 * debt
                } else {
                    debt
                }
            }
            Self::AaveV4(rule) => {
                let Some(collateral) = params.collateral[collateral_asset.index()] else {
                    return 0.0;
                };
                let p_d = price(account.debt_asset);
                let bonus = rule.bonus_at(collateral.liquidation_bonus, health_factor);
                let to_target = rule.debt_to_target(
                    account.debt_value(price),
                    health_factor,
                    bonus,
                    collateral.liquidation_threshold,
                    p_d,
                );
                rule.debt_to_liquidate(account, p_d, to_target, f64::INFINITY)
            }
            Self::CompoundV2 { close_factor, .. } => close_factor * debt,
            Self::MorphoBlue
            | Self::EulerV2 { .. }
            | Self::DutchAuction(_)
            | Self::EnglishAuction(_)
            | Self::Backstop(_)
            | Self::CometAbsorb(_)
            | Self::Liquity(_) => debt,
        }
    }

    /// One liquidation call on `account` at `health_factor`, seizing `collateral_asset`, by a
    /// liquidator asking to repay at most `requested` debt units (capped by [`Self::max_repay`]).
    /// `None` when the protocol would revert (Aave v3.3's and v4's dust rules) or there is
    /// nothing to do.
    pub fn call(
        &self,
        params: &LendingParams,
        account: &Account,
        health_factor: f64,
        collateral_asset: AssetId,
        price: &impl Fn(AssetId) -> f64,
        requested: f64,
    ) -> Option<Seizure> {
        self.call_in(
            params,
            account,
            health_factor,
            collateral_asset,
            price,
            requested,
            0.0,
        )
    }

    /// [`Self::call`] when the collateral price's annualised realised volatility is
    /// `volatility` (it matters only to a fixed spread with a volatility-driven penalty).
    #[allow(clippy::too_many_arguments)]
    pub fn call_in(
        &self,
        params: &LendingParams,
        account: &Account,
        health_factor: f64,
        collateral_asset: AssetId,
        price: &impl Fn(AssetId) -> f64,
        requested: f64,
        volatility: f64,
    ) -> Option<Seizure> {
        let collateral = params.collateral[collateral_asset.index()]?;
        let balance = account.collateral_of(collateral_asset);
        let (p_c, p_d) = (price(collateral_asset), price(account.debt_asset));
        let cover =
            requested.min(self.max_repay(params, account, health_factor, collateral_asset, price));
        if cover <= 0.0 || balance <= 0.0 {
            return None;
        }
        let seizure = match *self {
            Self::FixedSpread(rule) => fixed_spread_seizure(
                cover,
                p_d,
                balance,
                p_c,
                rule.bonus_in(collateral.liquidation_bonus, health_factor, volatility),
                rule.protocol_fee,
            ),
            Self::AaveV3 {
                version,
                protocol_fee,
            } => {
                let s = fixed_spread_seizure(
                    cover,
                    p_d,
                    balance,
                    p_c,
                    collateral.liquidation_bonus,
                    protocol_fee,
                );
                if version == AaveVersion::V3_3 {
                    let debt_left = account.debt - s.debt_repaid;
                    let collateral_left = balance - s.collateral_seized;
                    let leaves_both =
                        debt_left > 1e-9 * account.debt && collateral_left > 1e-12 * balance;
                    if leaves_both
                        && (below_leftover(debt_left * p_d)
                            || below_leftover(collateral_left * p_c))
                    {
                        return None;
                    }
                }
                s
            }
            // v4 takes the request as its `debtToCover`: a request short of what the dust rule
            // requires reverts rather than being cut to the cap.
            Self::AaveV4(rule) => rule.seizure(
                &collateral,
                account,
                health_factor,
                collateral_asset,
                price,
                requested,
            )?,
            Self::CompoundV2 {
                protocol_seize_share,
                ..
            } => {
                let incentive = 1.0 + collateral.liquidation_bonus;
                // A seize above the balance reverts; the liquidator repays what the balance covers.
                let repaid = cover.min(balance * p_c / (incentive * p_d));
                let seized = (repaid * incentive * p_d / p_c).min(balance);
                let to_reserves = seized * protocol_seize_share;
                Seizure {
                    debt_repaid: repaid,
                    collateral_seized: seized,
                    to_liquidator: seized - to_reserves,
                    protocol_fee: to_reserves,
                }
            }
            Self::MorphoBlue => {
                let bonus = morpho_incentive_factor(collateral.liquidation_threshold) - 1.0;
                fixed_spread_seizure(cover, p_d, balance, p_c, bonus, 0.0)
            }
            Self::DutchAuction(_)
            | Self::EnglishAuction(_)
            | Self::Backstop(_)
            | Self::CometAbsorb(_)
            | Self::Liquity(_) => return None,
            Self::EulerV2 { max_discount } => {
                let discount_factor = health_factor.max(1.0 - max_discount);
                let repay_value = cover * p_d;
                let collateral_value = balance * p_c;
                let (repay_value, yield_value) = if collateral_value < repay_value / discount_factor
                {
                    (collateral_value * discount_factor, collateral_value)
                } else {
                    (repay_value, repay_value / discount_factor)
                };
                let seized = (yield_value / p_c).min(balance);
                Seizure {
                    debt_repaid: repay_value / p_d,
                    collateral_seized: seized,
                    to_liquidator: seized,
                    protocol_fee: 0.0,
                }
            }
        };
        (seizure.debt_repaid > 0.0).then_some(seizure)
    }

    /// The repayment a keeper able to repay at most `requested` debt units asks for: what the
    /// protocol's own helper returns, so that the call does not revert. For Aave v3.3 this is
    /// `LiquidationDataProvider.getLiquidationInfo` (aave-v3-origin v3.3.0,
    /// src/contracts/helpers/LiquidationDataProvider.sol, `_getMaxDebtToLiquidate` L320–346,
    /// `_getAvailableCollateralAndDebtToLiquidate` L278–318, `_adjustAmountsForGoodLeftovers`
    /// L191–276): when the close factor's amount would leave less than `MIN_LEFTOVER_BASE` of the
    /// collateral or of the debt (a call `LiquidationLogic.sol` L319–343 reverts with
    /// `MUST_NOT_LEAVE_DUST`), the side further below the threshold is brought back up to it and
    /// the repayment shrinks to match. Every other rule takes the request as it is (capped by
    /// [`Self::max_repay`] in [`Self::call`]); Aave v4 has no such helper contract, so a keeper
    /// short of the capital the dust rule requires sees its call revert.
    pub fn helper_repay(
        &self,
        params: &LendingParams,
        account: &Account,
        health_factor: f64,
        collateral_asset: AssetId,
        price: &impl Fn(AssetId) -> f64,
        requested: f64,
    ) -> f64 {
        match self {
            Self::AaveV3 {
                version: AaveVersion::V3_3,
                protocol_fee,
            } => {
                let Some(collateral) = params.collateral[collateral_asset.index()] else {
                    return requested;
                };
                let cover = requested.min(self.max_repay(
                    params,
                    account,
                    health_factor,
                    collateral_asset,
                    price,
                ));
                aave_good_leftover_repay(
                    account,
                    collateral_asset,
                    price,
                    cover,
                    collateral.liquidation_bonus,
                    *protocol_fee,
                )
            }
            Self::AaveV3 {
                version: AaveVersion::V3_2,
                ..
            }
            | Self::FixedSpread(_)
            | Self::AaveV4(_)
            | Self::CompoundV2 { .. }
            | Self::MorphoBlue
            | Self::EulerV2 { .. }
            | Self::DutchAuction(_)
            | Self::EnglishAuction(_)
            | Self::Backstop(_)
            | Self::CometAbsorb(_)
            | Self::Liquity(_) => requested,
        }
    }

    /// The call a keeper able to repay at most `requested` makes: its repayment sized by
    /// [`Self::helper_repay`], then [`Self::call_in`].
    #[allow(clippy::too_many_arguments)]
    pub fn keeper_call(
        &self,
        params: &LendingParams,
        account: &Account,
        health_factor: f64,
        collateral_asset: AssetId,
        price: &impl Fn(AssetId) -> f64,
        requested: f64,
        volatility: f64,
    ) -> Option<Seizure> {
        let sized = self.helper_repay(
            params,
            account,
            health_factor,
            collateral_asset,
            price,
            requested,
        );
        self.call_in(
            params,
            account,
            health_factor,
            collateral_asset,
            price,
            sized,
            volatility,
        )
    }

    /// The repayment that leaves the account's health factor at `target` (just below 1) when
    /// seizing `collateral_asset`: the first call of the two-step strategy, which keeps the
    /// account liquidatable for a second call. `None` when no such repayment exists (the
    /// account is at or above the target, or liquidations are toxic so every call lowers the
    /// health factor).
    pub fn repay_to_health(
        &self,
        params: &LendingParams,
        account: &Account,
        collateral_asset: AssetId,
        price: &impl Fn(AssetId) -> f64,
        target: f64,
    ) -> Option<f64> {
        let collateral = params.collateral[collateral_asset.index()]?;
        let p_d = price(account.debt_asset);
        let weighted = account.weighted_collateral(params, price);
        let bonus = match self {
            // The call's bonus is the one at the account's health factor before it.
            Self::AaveV4(rule) => rule.bonus_at(
                collateral.liquidation_bonus,
                account.health_factor(params, price),
            ),
            _ => self.bonus(&collateral),
        };
        let seized_weight = (1.0 + bonus) * collateral.liquidation_threshold;
        let numerator = target * account.debt * p_d - weighted;
        let denominator = p_d * (target - seized_weight);
        (numerator > 0.0 && denominator > 0.0).then(|| numerator / denominator)
    }
}

/// The parameters of a lending protocol.
#[derive(Clone, Debug, PartialEq)]
pub struct LendingParams {
    /// Collateral parameters indexed by asset; `None` if the asset is not accepted as collateral.
    pub collateral: Vec<Option<CollateralParams>>,
    /// The liquidation rule.
    pub liquidation: LiquidationRule,
    /// If set, accounts are checked only at multiples of this many seconds (epoch settlement).
    pub epoch_seconds: Option<u64>,
    /// If set, at most this much debt (USD) is liquidated per step: calls are cut to the
    /// allowance left and the rest waits for the next step (tiered liquidation).
    pub step_limit_usd: Option<f64>,
}

/// An account: collateral balances in one or more assets and a debt in one asset.
#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    /// Collateral balances (asset, units), each asset at most once; one is held inline, more
    /// on the heap (most books have one collateral per account).
    pub collateral: SmallVec<[(AssetId, f64); 1]>,
    /// The borrowed asset.
    pub debt_asset: AssetId,
    /// Units of the borrowed asset owed.
    pub debt: f64,
}

impl Account {
    /// Σ collateral · price · liquidation threshold, USD.
    pub fn weighted_collateral(
        &self,
        params: &LendingParams,
        price: &impl Fn(AssetId) -> f64,
    ) -> f64 {
        self.collateral
            .iter()
            .map(|&(asset, units)| {
                let lt = params.collateral[asset.index()].map_or(0.0, |c| c.liquidation_threshold);
                units * price(asset) * lt
            })
            .sum()
    }

    /// Σ collateral · price, USD.
    pub fn collateral_value(&self, price: &impl Fn(AssetId) -> f64) -> f64 {
        self.collateral
            .iter()
            .map(|&(asset, units)| units * price(asset))
            .sum()
    }

    /// Debt value, USD.
    pub fn debt_value(&self, price: &impl Fn(AssetId) -> f64) -> f64 {
        self.debt * price(self.debt_asset)
    }

    /// Health factor = weighted collateral / debt value; infinite without debt.
    pub fn health_factor(&self, params: &LendingParams, price: &impl Fn(AssetId) -> f64) -> f64 {
        let debt = self.debt_value(price);
        if debt <= 0.0 {
            return f64::INFINITY;
        }
        self.weighted_collateral(params, price) / debt
    }

    /// Whether any collateral is left.
    pub fn has_collateral(&self) -> bool {
        self.collateral.iter().any(|&(_, units)| units > 0.0)
    }

    /// Units of `asset` held as collateral.
    pub fn collateral_of(&self, asset: AssetId) -> f64 {
        self.collateral
            .iter()
            .find(|c| c.0 == asset)
            .map_or(0.0, |c| c.1)
    }

    /// The collateral ratio that triggers liquidation for a single-collateral account:
    /// liquidatable when price(collateral) / price(debt) < debt / (collateral · threshold).
    fn trigger_ratio(&self, params: &LendingParams) -> Option<(AssetId, f64)> {
        match self.collateral.as_slice() {
            [(asset, units)] if *units > 0.0 && self.debt > 0.0 => {
                let lt = params.collateral[asset.index()]?.liquidation_threshold;
                (lt > 0.0).then(|| (*asset, self.debt / (units * lt)))
            }
            _ => None,
        }
    }
}

/// The outcome of one fixed-spread liquidation call (docs/reference-math.md §1.3).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Seizure {
    /// Debt units repaid by the liquidator.
    pub debt_repaid: f64,
    /// Collateral units taken from the borrower (liquidator share plus protocol fee).
    pub collateral_seized: f64,
    /// Collateral units the liquidator receives.
    pub to_liquidator: f64,
    /// Collateral units the protocol treasury receives.
    pub protocol_fee: f64,
}

/// Aave v3's seizure rule: repaying `debt_to_cover` seizes its value plus `bonus` in collateral;
/// if the balance is short, all of it is seized and the repayment shrinks to match. The protocol
/// takes `protocol_fee` of the bonus part.
pub fn fixed_spread_seizure(
    debt_to_cover: f64,
    debt_price: f64,
    collateral_balance: f64,
    collateral_price: f64,
    bonus: f64,
    protocol_fee: f64,
) -> Seizure {
    let multiplier = 1.0 + bonus;
    let wanted = debt_to_cover * debt_price / collateral_price * multiplier;
    let (collateral_seized, debt_repaid) = if wanted > collateral_balance {
        (
            collateral_balance,
            collateral_balance * collateral_price / debt_price / multiplier,
        )
    } else {
        (wanted, debt_to_cover)
    };
    let bonus_part = collateral_seized - collateral_seized / multiplier;
    let fee = bonus_part * protocol_fee;
    Seizure {
        debt_repaid,
        collateral_seized,
        to_liquidator: collateral_seized - fee,
        protocol_fee: fee,
    }
}

/// The partition point of `entries` under `below` (true of a prefix, false of the rest), found
/// from the top: galloping down from the last entry, then a binary search in the last gallop's
/// span. O(log k) for a point k entries below the top, where a liquidation index's rounds find
/// it (few accounts above the price, none in most rounds), touching memory near the top only.
pub fn partition_from_top<T>(entries: &[T], below: impl Fn(&T) -> bool) -> usize {
    // Invariant: no entry from `above` up is below.
    let mut above = entries.len();
    let mut step = 1;
    while above > 0 {
        let probe = above.saturating_sub(step);
        if below(&entries[probe]) {
            return probe + 1 + entries[probe + 1..above].partition_point(&below);
        }
        above = probe;
        step *= 2;
    }
    0
}

/// Finds liquidatable accounts in O(log N + found).
///
/// Single-collateral accounts are keyed by their trigger ratio debt / (collateral · threshold),
/// one key space per (collateral, debt) pair: the liquidatable ones are exactly those whose key
/// exceeds the current price ratio. Each pair keeps the keys of the initial book in a sorted
/// vector (built once and shared by every copy of the index: a copy for a new path costs the
/// bits below, not the keys) and the keys of accounts re-indexed since in a small ordered
/// overlay.
/// An entry of the sorted vector whose account has been re-indexed or closed since is stale and
/// skipped; stale entries at the top of the vector are pruned. Accounts with several collaterals
/// (or none) cannot be keyed by one price and are kept in a set that is checked in full.
///
/// Whether a sorted entry is stale is one bit per account (`moved`): 128 KB for a million
/// accounts, which stays in cache while a round walks the vector, where a key per account would
/// cost a cache miss per visit. Only the accounts in the overlay have their key stored
/// (`rekeyed`). A reset ([`LiquidationIndex::restore_from`]) clears the bits of the accounts that
/// moved and brings back what pruning dropped.
#[derive(Clone, Debug, Default)]
pub struct LiquidationIndex {
    pairs: Vec<PairIndex>,
    pair_of: BTreeMap<(AssetId, AssetId), u32>,
    /// One bit per account: set once the account is re-indexed or forgotten, so that its entry
    /// in a sorted vector, if it has one, no longer counts.
    moved: Vec<u64>,
    /// One bit per account: set while the account is in an overlay (so most accounts are
    /// never looked up in `rekeyed`).
    in_overlay: Vec<u64>,
    /// The key (pair, key bits) of each account in an overlay.
    rekeyed: FxHashMap<u32, (u32, u64)>,
    general: BTreeSet<u32>,
}

#[derive(Clone, Debug)]
struct PairIndex {
    assets: (AssetId, AssetId),
    /// The initial book's keys in ascending order, shared by every copy of the index (a path
    /// never adds to it, and pruning only shortens `live`).
    sorted: Arc<Vec<(u64, u32)>>,
    /// How many entries of `sorted`, from the bottom, are still in play.
    live: usize,
    overlay: BTreeSet<(u64, u32)>,
}

impl PairIndex {
    /// The entries of the sorted keys still in play, ascending.
    fn sorted(&self) -> &[(u64, u32)] {
        &self.sorted[..self.live]
    }
}

impl LiquidationIndex {
    /// Indexes every account.
    pub fn build(params: &LendingParams, accounts: &[Account]) -> Self {
        let mut index = Self {
            moved: vec![0; accounts.len().div_ceil(64)],
            in_overlay: vec![0; accounts.len().div_ceil(64)],
            ..Self::default()
        };
        let mut keys: Vec<Vec<(u64, u32)>> = Vec::new();
        for (i, account) in accounts.iter().enumerate() {
            if account.debt <= 0.0 {
                continue;
            }
            match account.trigger_ratio(params) {
                Some((asset, ratio)) => {
                    let pair = index.pair((asset, account.debt_asset)) as usize;
                    keys.resize_with(keys.len().max(pair + 1), Vec::new);
                    keys[pair].push((ratio.to_bits(), i as u32));
                }
                None => {
                    index.general.insert(i as u32);
                }
            }
        }
        for (pair, mut keys) in index.pairs.iter_mut().zip(keys) {
            keys.sort_unstable();
            pair.live = keys.len();
            pair.sorted = Arc::new(keys);
        }
        index
    }

    fn pair(&mut self, assets: (AssetId, AssetId)) -> u32 {
        if let Some(&p) = self.pair_of.get(&assets) {
            return p;
        }
        let p = self.pairs.len() as u32;
        self.pairs.push(PairIndex {
            assets,
            sorted: Arc::default(),
            live: 0,
            overlay: BTreeSet::new(),
        });
        self.pair_of.insert(assets, p);
        p
    }

    fn has_moved(&self, i: u32) -> bool {
        self.moved[i as usize / 64] & (1 << (i % 64)) != 0
    }

    /// Takes account `i` out of the index: its sorted entry stale, its overlay entry removed.
    fn take_out(&mut self, i: u32) {
        let (word, bit) = (i as usize / 64, 1 << (i % 64));
        self.moved[word] |= bit;
        if self.in_overlay[word] & bit != 0 {
            self.in_overlay[word] &= !bit;
            if let Some((pair, bits)) = self.rekeyed.remove(&i) {
                self.pairs[pair as usize].overlay.remove(&(bits, i));
            }
        }
        if !self.general.is_empty() {
            self.general.remove(&i);
        }
    }

    /// Re-indexes an account after its balances changed.
    pub fn update(&mut self, params: &LendingParams, id: AccountId, account: &Account) {
        let i = id.0;
        self.take_out(i);
        if account.debt <= 0.0 {
            return;
        }
        match account.trigger_ratio(params) {
            Some((asset, ratio)) => {
                let pair = self.pair((asset, account.debt_asset));
                let bits = ratio.to_bits();
                self.pairs[pair as usize].overlay.insert((bits, i));
                self.rekeyed.insert(i, (pair, bits));
                self.in_overlay[i as usize / 64] |= 1 << (i % 64);
            }
            None => {
                self.general.insert(i);
            }
        }
    }

    /// Removes an account from the index (nothing left to liquidate, debt left in place).
    pub fn forget(&mut self, id: AccountId) {
        self.take_out(id.0);
    }

    /// Drops stale entries from the top of each sorted vector, where liquidated accounts were.
    pub fn prune(&mut self) {
        for p in 0..self.pairs.len() {
            while let Some(&(_, i)) = self.pairs[p].sorted().last() {
                if !self.has_moved(i) {
                    break;
                }
                self.pairs[p].live -= 1;
            }
        }
    }

    /// Accounts that may be liquidatable at these prices, least healthy first within each
    /// (collateral, debt) pair, then the multi-collateral accounts. Callers confirm with the
    /// health factor; the index never misses a liquidatable account.
    pub fn candidates(&self, price: &impl Fn(AssetId) -> f64, out: &mut Vec<AccountId>) {
        for pair in &self.pairs {
            let (collateral, debt) = pair.assets;
            let ratio = price(collateral) / price(debt);
            // Keys are positive floats, whose bit patterns order like the values. Step one ulp
            // below the ratio so that rounding at the boundary is left to the health factor.
            let floor = if ratio > 0.0 {
                ratio.to_bits().saturating_sub(1)
            } else {
                0
            };
            let sorted = pair.sorted();
            let start = partition_from_top(sorted, |&(bits, _)| bits <= floor);
            let mut sorted = sorted[start..]
                .iter()
                .rev()
                .filter(|&&(_, i)| !self.has_moved(i))
                .peekable();
            let mut overlay = pair
                .overlay
                .range((Bound::Excluded((floor, u32::MAX)), Bound::Unbounded))
                .rev()
                .peekable();
            // Merge the two descending sequences (an account is in at most one of them).
            loop {
                let next = match (sorted.peek(), overlay.peek()) {
                    (Some(a), Some(b)) if a >= b => sorted.next(),
                    (Some(_), Some(_)) | (None, Some(_)) => overlay.next(),
                    (Some(_), None) => sorted.next(),
                    (None, None) => break,
                };
                if let Some(&(_, i)) = next {
                    out.push(AccountId(i));
                }
            }
        }
        out.extend(self.general.iter().map(|&i| AccountId(i)));
    }

    /// Whether [`Self::candidates`] could find any account at these prices: false only when it
    /// would find none. O(pairs): the top entry of each sorted vector (stale or not) and of each
    /// overlay, and whether any multi-collateral account is kept.
    pub fn may_have_candidates(&self, price: &impl Fn(AssetId) -> f64) -> bool {
        if !self.general.is_empty() {
            return true;
        }
        self.pairs.iter().any(|pair| {
            let top = match (pair.sorted().last(), pair.overlay.last()) {
                (Some(a), Some(b)) => a.0.max(b.0),
                (Some(a), None) | (None, Some(a)) => a.0,
                (None, None) => return false,
            };
            let (collateral, debt) = pair.assets;
            let (p, q) = (price(collateral), price(debt));
            // Without dividing: a top key below p / q by a relative 1e-12 is below the floor
            // `candidates` takes (one ulp below the rounded ratio), rounding of either product
            // being a few 1e-16. A normal key keeps p / q normal, where rounding is relative.
            // Anything closer, or not normal and positive, is decided as `candidates` does.
            let key = f64::from_bits(top);
            let (left, right) = (key * q, p * (1.0 - 1e-12));
            let clearly_below =
                key.is_normal() && q > 0.0 && left.is_normal() && right.is_normal() && left < right;
            if clearly_below {
                return false;
            }
            let ratio = p / q;
            // The floor of `candidates`; a NaN ratio is left to it.
            if ratio.is_nan() || ratio <= 0.0 {
                return true;
            }
            top > ratio.to_bits() - 1
        })
    }

    /// Back to `initial`, the index this one started from, given every account re-indexed or
    /// forgotten since: their bits are cleared, the entries pruned from the top of each sorted
    /// vector come back (pruning only shortens the part in play), and the overlay is emptied.
    /// Costs O(changed accounts), not O(book).
    pub fn restore_from(&mut self, initial: &LiquidationIndex, changed: &[u32]) {
        if self.pairs.len() != initial.pairs.len() || self.moved.len() != initial.moved.len() {
            // The path opened a (collateral, debt) pair the book did not have: copy it all.
            self.clone_from(initial);
            return;
        }
        for &i in changed {
            self.moved[i as usize / 64] &= !(1 << (i % 64));
            self.in_overlay[i as usize / 64] &= !(1 << (i % 64));
        }
        for (pair, start) in self.pairs.iter_mut().zip(&initial.pairs) {
            pair.live = start.live;
            pair.overlay.clear();
        }
        self.rekeyed.clear();
        if self.general != initial.general {
            self.general.clone_from(&initial.general);
        }
    }

    /// The (collateral, debt) pairs keyed in sorted vectors, numbered as [`Self::in_play`]
    /// and [`Self::close_top`] take them.
    pub fn pairs(&self) -> impl Iterator<Item = (AssetId, AssetId)> + '_ {
        self.pairs.iter().map(|p| p.assets)
    }

    /// Pair `pair`'s sorted entries still in play, ascending: (key bits, account), the key being
    /// the trigger ratio debt / (collateral · threshold). An entry may be stale (its account
    /// re-indexed or forgotten since the book opened); none is while no account has changed.
    /// Positions are those of the initial book's vector, which pruning and [`Self::close_top`]
    /// only shorten from the top.
    pub fn in_play(&self, pair: usize) -> &[(u64, u32)] {
        self.pairs[pair].sorted()
    }

    /// Whether no account of pair `pair` has been re-indexed since the book opened.
    pub fn overlay_is_empty(&self, pair: usize) -> bool {
        self.pairs[pair].overlay.is_empty()
    }

    /// Takes pair `pair`'s sorted entries from position `from` up out of play at once, without
    /// a bit per account: the accounts were closed in one batch. A reset brings them back.
    pub fn close_top(&mut self, pair: usize, from: usize) {
        let pair = &mut self.pairs[pair];
        pair.live = pair.live.min(from);
    }

    /// Number of accounts with debt in the index.
    pub fn len(&self) -> usize {
        let sorted: usize = self
            .pairs
            .iter()
            .map(|p| {
                p.sorted()
                    .iter()
                    .filter(|&&(_, i)| !self.has_moved(i))
                    .count()
            })
            .sum();
        sorted + self.rekeyed.len() + self.general.len()
    }

    /// Whether no account with debt is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smallvec::smallvec;

    #[test]
    fn partition_from_the_top_is_the_partition_point() {
        let keys: Vec<u32> = (0..300).map(|i| i * 2).collect();
        for cut in 0..=601 {
            let below = |k: &u32| *k < cut;
            for len in [0, 1, 2, 3, 7, 64, 300] {
                let keys = &keys[..len];
                assert_eq!(
                    partition_from_top(keys, below),
                    keys.partition_point(below),
                    "cut {cut}, {len} keys"
                );
            }
        }
    }

    const WETH: AssetId = AssetId(0);
    const USDC: AssetId = AssetId(1);

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    fn aave_params(lt: f64, close_factor: f64, full_close: Option<f64>, fee: f64) -> LendingParams {
        LendingParams {
            collateral: vec![
                Some(CollateralParams {
                    ltv: 0.8,
                    liquidation_threshold: lt,
                    liquidation_bonus: 0.05,
                    liquidation_factor: 1.0,
                }),
                None,
            ],
            liquidation: LiquidationRule::FixedSpread(FixedSpread {
                close_factor,
                full_close_below_health_factor: full_close,
                protocol_fee: fee,
                bonus_slope: 0.0,
                bonus_cap: 0.0,
                volatility_slope: 0.0,
                volatility_window: 0,
            }),
            epoch_seconds: None,
            step_limit_usd: None,
        }
    }

    fn account(weth: f64, usdc_debt: f64) -> Account {
        Account {
            collateral: smallvec![(WETH, weth)],
            debt_asset: USDC,
            debt: usdc_debt,
        }
    }

    fn with_rule(mut params: LendingParams, rule: LiquidationRule) -> LendingParams {
        params.liquidation = rule;
        params
    }

    fn prices_at(weth: f64) -> impl Fn(AssetId) -> f64 {
        move |asset: AssetId| if asset == WETH { weth } else { 1.0 }
    }

    /// docs/reference-math.md §1.5 A1–A3 (10 WETH, LT 0.83, bonus 5%, fee 10% of bonus, debt 17,000
    /// USDC), under both the generic fixed spread with Aave's close factor and Aave v3.3's own
    /// rule. Tolerance 1e-6 in the asset's units.
    #[test]
    fn aave_worked_examples_a1_a2_a3() {
        let generic = aave_params(0.83, 0.5, Some(0.95), 0.10);
        let aave = with_rule(
            generic.clone(),
            LiquidationRule::AaveV3 {
                version: AaveVersion::V3_3,
                protocol_fee: 0.10,
            },
        );
        let a = account(10.0, 17_000.0);
        for params in [&generic, &aave] {
            for (price, hf, repay, seized, fee, to_liquidator) in [
                (2000.0, 0.976471, 8_500.0, 4.4625, 0.02125, 4.44125),
                (1900.0, 0.927647, 17_000.0, 9.394737, 0.044737, 9.350000),
                (1500.0, 0.732353, 14_285.714286, 10.0, 0.047619, 9.952381),
            ] {
                let prices = prices_at(price);
                let health = a.health_factor(params, &prices);
                assert!(close(health, hf, 1e-6), "{price}: hf {health}");
                let s = params
                    .liquidation
                    .call(params, &a, health, WETH, &prices, f64::INFINITY)
                    .expect("liquidatable");
                assert!(
                    close(s.debt_repaid, repay, 1e-6),
                    "{price}: repaid {}",
                    s.debt_repaid
                );
                assert!(close(s.collateral_seized, seized, 1e-6));
                assert!(close(s.protocol_fee, fee, 1e-6));
                assert!(close(s.to_liquidator, to_liquidator, 1e-6));
            }
        }
        // A1 leaves HF 1.081441; A3 leaves 2,714.285714 USDC of debt with no collateral, which
        // v3.3 writes off (deficit) and v3.2 leaves on the account.
        let after = account(10.0 - 4.4625, 8_500.0);
        assert!(close(
            after.health_factor(&generic, &prices_at(2000.0)),
            1.081441,
            1e-6
        ));
        assert!(close(17_000.0 - 10.0 * 1500.0 / 1.05, 2_714.285714, 1e-6));
        assert!(aave.liquidation.writes_off_bad_debt());
        let v32 = LiquidationRule::AaveV3 {
            version: AaveVersion::V3_2,
            protocol_fee: 0.1,
        };
        assert!(!v32.writes_off_bad_debt());
    }

    /// §1.5 A4: $2,500 of WETH against $1,900 of USDC, HF < 1 (LT 0.7). Repaying 1,500 would
    /// leave $400 of debt beside collateral: v3.3 reverts; repaying the whole 1,900 works.
    #[test]
    fn aave_v3_3_dust_rule_a4() {
        let params = with_rule(
            aave_params(0.7, 1.0, None, 0.0),
            LiquidationRule::AaveV3 {
                version: AaveVersion::V3_3,
                protocol_fee: 0.0,
            },
        );
        let a = account(1.25, 1_900.0);
        let prices = prices_at(2000.0);
        let hf = a.health_factor(&params, &prices);
        assert!(hf < 1.0);
        assert_eq!(
            params
                .liquidation
                .call(&params, &a, hf, WETH, &prices, 1_500.0),
            None
        );
        let full = params
            .liquidation
            .call(&params, &a, hf, WETH, &prices, 1_900.0)
            .expect("allowed");
        assert!(close(full.debt_repaid, 1_900.0, 1e-9));
        // v3.2 has no dust rule.
        let v32 = LiquidationRule::AaveV3 {
            version: AaveVersion::V3_2,
            protocol_fee: 0.0,
        };
        assert!(v32.call(&params, &a, hf, WETH, &prices, 1_500.0).is_some());
    }

    /// §1.5 A4, the helper's answer: a keeper able to repay 1,500 of the 1,900 asks
    /// LiquidationDataProvider, which leaves the debt at the $1,000 threshold (600 short: the
    /// debt side is further below it than the collateral's 75) and returns 900; that call
    /// succeeds, seizing 0.4725 WETH. Tolerance 1e-9 USDC.
    #[test]
    fn aave_v3_3_helper_sizes_a_capital_limited_call_a4() {
        let params = with_rule(
            aave_params(0.7, 1.0, None, 0.0),
            LiquidationRule::AaveV3 {
                version: AaveVersion::V3_3,
                protocol_fee: 0.0,
            },
        );
        let a = account(1.25, 1_900.0);
        let prices = prices_at(2000.0);
        let rule = params.liquidation;
        let hf = a.health_factor(&params, &prices);
        let sized = rule.helper_repay(&params, &a, hf, WETH, &prices, 1_500.0);
        assert!(close(sized, 900.0, 1e-9), "{sized}");
        let s = rule
            .keeper_call(&params, &a, hf, WETH, &prices, 1_500.0, 0.0)
            .expect("valid");
        assert!(close(s.debt_repaid, 900.0, 1e-9));
        assert!(close(s.collateral_seized, 0.4725, 1e-12));
        // The whole debt needs no adjustment.
        assert!(close(
            rule.helper_repay(&params, &a, hf, WETH, &prices, f64::INFINITY),
            1_900.0,
            1e-9
        ));
    }

    /// §1.5 A6 (a multi-collateral account, as in aave-v3-origin's
    /// `test_liquidationdataprovider_edge_range_reverse`): 2.25 WETH at 2,000 ($4,500) and
    /// 0.1 WBTC at 40,000 ($4,000), LT 0.85, bonus 5%, fee 10% of the bonus, 7,400 USDC of debt:
    /// HF 0.976351, so 50% = 3,700 may be repaid, seizing 1.9425 WETH and leaving $615 of it:
    /// that call reverts. The helper takes the $385 shortfall off its net collateral
    /// (1.93325 − 0.1925 = 1.74075 WETH) and repays 1.74075 · 2,000 / 1.05 = 3,315.714286; the
    /// pool then seizes 1.74075 WETH (fee 0.008289), leaving $1,018.50 = $1,000 + the first
    /// fee's $18.50. Tolerance 1e-6 USDC, 1e-9 WETH.
    #[test]
    fn aave_v3_3_helper_leaves_the_collateral_threshold_a6() {
        const WBTC: AssetId = AssetId(2);
        let side = Some(CollateralParams {
            ltv: 0.8,
            liquidation_threshold: 0.85,
            liquidation_bonus: 0.05,
            liquidation_factor: 1.0,
        });
        let rule = LiquidationRule::AaveV3 {
            version: AaveVersion::V3_3,
            protocol_fee: 0.10,
        };
        let params = LendingParams {
            collateral: vec![side, None, side],
            ..with_rule(aave_params(0.85, 0.5, None, 0.1), rule)
        };
        let a = Account {
            collateral: smallvec![(WETH, 2.25), (WBTC, 0.1)],
            debt_asset: USDC,
            debt: 7_400.0,
        };
        let prices = |asset: AssetId| match asset.0 {
            0 => 2_000.0,
            2 => 40_000.0,
            _ => 1.0,
        };
        let hf = a.health_factor(&params, &prices);
        assert!(close(hf, 0.976351, 1e-6), "{hf}");
        assert!(close(
            rule.max_repay(&params, &a, hf, WETH, &prices),
            3_700.0,
            1e-9
        ));
        assert_eq!(
            rule.call(&params, &a, hf, WETH, &prices, f64::INFINITY),
            None
        );
        let sized = rule.helper_repay(&params, &a, hf, WETH, &prices, f64::INFINITY);
        assert!(close(sized, 3_315.714286, 1e-6), "{sized}");
        let s = rule
            .keeper_call(&params, &a, hf, WETH, &prices, f64::INFINITY, 0.0)
            .expect("valid");
        assert!(close(s.collateral_seized, 1.74075, 1e-9));
        assert!(close(s.protocol_fee, 0.008289286, 1e-9));
        assert!(close((2.25 - s.collateral_seized) * 2_000.0, 1_018.5, 1e-6));
    }

    /// §1.5 A7 (one collateral with a high threshold): 1.02 WETH at 2,000 ($2,040), LT 0.98,
    /// bonus 5%, no fee, 2,010 USDC of debt: HF 0.994627, 50% = 1,005 seizes $1,055.25 and leaves
    /// $984.75: reverts. The helper repays (1,055.25 − 15.25) / 1.05 = 990.476190, which leaves
    /// exactly $1,000 of WETH and the call succeeds. Tolerance 1e-6 USDC.
    #[test]
    fn aave_v3_3_helper_sizes_a_high_threshold_account_a7() {
        let rule = LiquidationRule::AaveV3 {
            version: AaveVersion::V3_3,
            protocol_fee: 0.0,
        };
        let params = with_rule(aave_params(0.98, 0.5, None, 0.0), rule);
        let a = account(1.02, 2_010.0);
        let prices = prices_at(2000.0);
        let hf = a.health_factor(&params, &prices);
        assert!(close(hf, 0.994627, 1e-6), "{hf}");
        assert_eq!(
            rule.call(&params, &a, hf, WETH, &prices, f64::INFINITY),
            None
        );
        let s = rule
            .keeper_call(&params, &a, hf, WETH, &prices, f64::INFINITY, 0.0)
            .expect("valid");
        assert!(close(s.debt_repaid, 990.476190, 1e-6), "{}", s.debt_repaid);
        assert!(close((1.02 - s.collateral_seized) * 2_000.0, 1_000.0, 1e-6));
        // v3.2 has no dust rule: its keeper repays the 50% as asked.
        let v32 = LiquidationRule::AaveV3 {
            version: AaveVersion::V3_2,
            protocol_fee: 0.0,
        };
        assert_eq!(
            v32.helper_repay(&params, &a, hf, WETH, &prices, 1_005.0),
            1_005.0
        );
    }

    /// §1.5 A5 and §1.2: v3.2 caps at 50% above HF 0.95; v3.3 caps at 50% only when both sides
    /// are worth at least $2,000, and repays everything otherwise.
    #[test]
    fn aave_close_factor_by_version_a5() {
        let params = aave_params(0.83, 1.0, None, 0.0);
        let prices = prices_at(2000.0);
        let v32 = LiquidationRule::AaveV3 {
            version: AaveVersion::V3_2,
            protocol_fee: 0.0,
        };
        let v33 = LiquidationRule::AaveV3 {
            version: AaveVersion::V3_3,
            protocol_fee: 0.0,
        };
        let a = account(10.0, 17_000.0);
        let hf = a.health_factor(&params, &prices);
        assert!(close(
            v32.max_repay(&params, &a, hf, WETH, &prices),
            8_500.0,
            1e-9
        ));
        assert!(close(
            v33.max_repay(&params, &a, hf, WETH, &prices),
            8_500.0,
            1e-9
        ));
        // A small account ($1,900 of collateral): v3.3 lets the whole debt go at HF 0.97.
        let small = account(0.95, 1_625.0);
        let hf = small.health_factor(&params, &prices);
        assert!(hf > 0.95 && hf < 1.0, "{hf}");
        assert!(close(
            v32.max_repay(&params, &small, hf, WETH, &prices),
            812.5,
            1e-9
        ));
        assert!(close(
            v33.max_repay(&params, &small, hf, WETH, &prices),
            1_625.0,
            1e-9
        ));
    }

    /// §2 C1 and C2: close factor 0.5 of a 5,000 DAI borrow; repaying 1,000 DAI at ETH 2,000
    /// with incentive 1.08 seizes 27 cETH = 0.54 ETH (exchange rate 0.02), 0.756 cETH =
    /// 0.01512 ETH to reserves and 26.244 cETH = 0.52488 ETH to the liquidator.
    #[test]
    fn compound_v2_c1_c2() {
        let rule = LiquidationRule::CompoundV2 {
            close_factor: 0.5,
            protocol_seize_share: 0.028,
        };
        let mut params = aave_params(0.5, 1.0, None, 0.0);
        params.collateral[0] = Some(CollateralParams {
            ltv: 0.5,
            liquidation_threshold: 0.5,
            liquidation_bonus: 0.08,
            liquidation_factor: 1.0,
        });
        let params = with_rule(params, rule);
        let a = account(4.0, 5_000.0);
        let prices = prices_at(2000.0);
        let hf = a.health_factor(&params, &prices);
        assert!(close(
            rule.max_repay(&params, &a, hf, WETH, &prices),
            2_500.0,
            1e-9
        ));
        let s = rule
            .call(&params, &a, hf, WETH, &prices, 1_000.0)
            .expect("liquidatable");
        assert!(close(s.collateral_seized, 27.0 * 0.02, 1e-12));
        assert!(close(s.protocol_fee, 0.756 * 0.02, 1e-12));
        assert!(close(s.to_liquidator, 26.244 * 0.02, 1e-12));
        assert!(!rule.writes_off_bad_debt());
    }

    /// §6 B1 and B2: Morpho Blue's incentive factor, and a 1,000 USDC repayment at LLTV 86%.
    #[test]
    fn morpho_blue_b1_b2() {
        for (lltv, lif) in [
            (0.945, 1.016777),
            (0.86, 1.043841),
            (0.77, 1.074114),
            (0.625, 1.126761),
            (0.5, 1.15),
            (0.3, 1.15),
        ] {
            assert!(close(morpho_incentive_factor(lltv), lif, 1e-6), "{lltv}");
        }
        let params = with_rule(
            aave_params(0.86, 1.0, None, 0.0),
            LiquidationRule::MorphoBlue,
        );
        let a = account(1.0, 1_800.0);
        let prices = prices_at(2000.0);
        let hf = a.health_factor(&params, &prices);
        let s = params
            .liquidation
            .call(&params, &a, hf, WETH, &prices, 1_000.0)
            .expect("liquidatable");
        assert!(close(s.collateral_seized, 0.521921, 1e-6));
        // No close factor: the whole debt in one call.
        assert!(close(
            params.liquidation.max_repay(&params, &a, hf, WETH, &prices),
            1_800.0,
            1e-9
        ));
    }

    /// §7 E1 and E2: liability 1,000; collateral worth 1,200 (LT 0.8) gives HS 0.96, a 4%
    /// discount and 1,041.67 of collateral for the whole liability; worth 1,000 gives HS 0.80,
    /// capped at a 15% discount: all 1,000 taken for 850, the other 150 left to socialise.
    #[test]
    fn euler_v2_e1_e2() {
        let rule = LiquidationRule::EulerV2 { max_discount: 0.15 };
        let params = with_rule(aave_params(0.8, 1.0, None, 0.0), rule);
        let prices = prices_at(1.0);
        let a = account(1_200.0, 1_000.0);
        let hf = a.health_factor(&params, &prices);
        assert!(close(hf, 0.96, 1e-12));
        let s = rule
            .call(&params, &a, hf, WETH, &prices, f64::INFINITY)
            .expect("liquidatable");
        assert!(close(s.debt_repaid, 1_000.0, 1e-9));
        assert!(close(s.collateral_seized, 1_041.666667, 1e-6));
        let b = account(1_000.0, 1_000.0);
        let hf = b.health_factor(&params, &prices);
        let s = rule
            .call(&params, &b, hf, WETH, &prices, f64::INFINITY)
            .expect("liquidatable");
        assert!(close(s.collateral_seized, 1_000.0, 1e-9));
        assert!(close(s.debt_repaid, 850.0, 1e-9));
        assert!(rule.writes_off_bad_debt());
    }

    /// The two-step strategy's first repayment leaves the health factor at the target exactly.
    /// An Aave v4 rule (§1.6) with this configuration and liquidation fee.
    fn aave_v4(target: f64, for_max: f64, factor: f64, fee: f64) -> AaveV4 {
        AaveV4 {
            target_health_factor: target,
            health_factor_for_max_bonus: for_max,
            liquidation_bonus_factor: factor,
            liquidation_fee: fee,
        }
    }

    /// Params over three assets: a $1 collateral (index 0, factor `cf_0`), the debt asset
    /// (index 1, not collateral) and a second collateral (index 2, factor `cf_2`), every
    /// collateral with maximum bonus `max_bonus`.
    fn v4_params(rule: AaveV4, cf_0: f64, cf_2: f64, max_bonus: f64) -> LendingParams {
        let collateral = |cf| {
            Some(CollateralParams {
                ltv: cf,
                liquidation_threshold: cf,
                liquidation_bonus: max_bonus,
                liquidation_factor: 1.0,
            })
        };
        LendingParams {
            collateral: vec![collateral(cf_0), None, collateral(cf_2)],
            liquidation: LiquidationRule::AaveV4(rule),
            epoch_seconds: None,
            step_limit_usd: None,
        }
    }

    /// §1.6 V4-1: aave-v4 `tests/contracts/spoke/libraries/liquidation-logic/
    /// LiquidationLogic.LiquidationBonus.t.sol` L10–28 (1e8de863), maximum 110%, factor 50%,
    /// maximum at health factor 0.8: the minimum is 105%, health factor 0.96 gives 106%, just
    /// below 1 the minimum, at or below 0.8 the maximum. Tolerance 1e-12.
    #[test]
    fn aave_v4_bonus_rises_as_the_health_factor_falls_v4_1() {
        let rule = aave_v4(1.0, 0.8, 0.5, 0.0);
        assert!(close(rule.bonus_at(0.10, 0.96), 0.06, 1e-12));
        assert!(close(rule.bonus_at(0.10, 1.0 - 1e-15), 0.05, 1e-12));
        assert!(close(rule.bonus_at(0.10, 0.8), 0.10, 1e-12));
        assert!(close(rule.bonus_at(0.10, 0.5), 0.10, 1e-12));
        // A factor of 100% keeps the bonus at its maximum (`..._fuzz_ConstantBonus`).
        assert!(close(
            aave_v4(1.0, 0.8, 1.0, 0.0).bonus_at(0.10, 0.97),
            0.10,
            1e-12
        ));
    }

    /// §1.6 V4-2: aave-v4 `.../LiquidationLogic.DebtToTargetHealthFactor.t.sol` L54–94
    /// (1e8de863): debt worth $10,000 at health factor 0.8, collateral factor 50%, bonus 150%: to
    /// target 1.25 at $1 a unit, 9,000 units; to target 1 at $2,000 a unit, 4 units. Tolerance
    /// 1e-9 units.
    #[test]
    fn aave_v4_debt_to_target_health_factor_v4_2() {
        let to_125 = aave_v4(1.25, 0.8, 0.5, 0.0).debt_to_target(10_000.0, 0.8, 0.5, 0.5, 1.0);
        assert!(close(to_125, 9_000.0, 1e-9), "{to_125}");
        let to_1 = aave_v4(1.0, 0.8, 0.5, 0.0).debt_to_target(10_000.0, 0.8, 0.5, 0.5, 2_000.0);
        assert!(close(to_1, 4.0, 1e-9), "{to_1}");
    }

    /// §1.6 V4-3 and V4-4: aave-v4 `.../LiquidationLogic.LiquidationAmounts.t.sol`,
    /// `test_calculateLiquidationAmounts_EnoughCollateral` and `_InsufficientCollateral` (in
    /// assets at 1168687515, in shares at 1e8de863 L169–285): debt of 5 units at $2,000 ($10,000,
    /// the whole debt), health factor 0.8, target 1, maximum bonus 120% (reached: maximum at
    /// 0.8), collateral factor 50%, liquidation fee 10%, cover 3 units. The seized reserve holds
    /// 11,000, then 3,000 (1168687515), then 5,625 (1e8de863: 4,500 shares at the comments'
    /// share price 1.25) units at $1; a second collateral makes up the health factor. Tolerance
    /// 1e-9 units.
    #[test]
    fn aave_v4_liquidation_amounts_v4_3_v4_4() {
        let rule = aave_v4(1.0, 0.8, 0.5, 0.10);
        let params = v4_params(rule, 0.5, 0.5, 0.20);
        let prices = |asset: AssetId| [1.0, 2_000.0, 1.0][asset.index()];
        for (balance, repaid, seized, to_liquidator) in [
            (11_000.0, 2.5, 6_000.0, 5_900.0),
            (3_000.0, 1.25, 3_000.0, 2_950.0),
            (5_625.0, 2.34375, 5_625.0, 5_531.25),
        ] {
            // Weighted collateral 8,000 against debt worth 10,000.
            let other = (8_000.0 - 0.5 * balance) / 0.5;
            let a = Account {
                collateral: smallvec![(AssetId(0), balance), (AssetId(2), other)],
                debt_asset: AssetId(1),
                debt: 5.0,
            };
            let hf = a.health_factor(&params, &prices);
            assert!(close(hf, 0.8, 1e-12), "{hf}");
            let s = params
                .liquidation
                .call(&params, &a, hf, AssetId(0), &prices, 3.0)
                .expect("liquidatable");
            assert!(close(s.debt_repaid, repaid, 1e-9), "{s:?}");
            assert!(close(s.collateral_seized, seized, 1e-9), "{s:?}");
            assert!(close(s.to_liquidator, to_liquidator, 1e-9), "{s:?}");
            assert!(close(s.protocol_fee, seized - to_liquidator, 1e-9), "{s:?}");
        }
    }

    /// §1.6 V4-5: 10 WETH at $2,000, collateral factor 0.8, 17,000 USDC of debt (health factor
    /// 0.941176) under the reference configuration (target 1.05, maximum at 0.7, factor 20%,
    /// maximum bonus 5%, fee 10%): bonus 1.784314%, repay 7,848.111795 USDC, seize 3.994073
    /// WETH, and the account is left at health factor 1.05 exactly. Aave v3.3 repays all
    /// 17,000 at this health factor. Tolerance 1e-6 in the asset's units.
    #[test]
    fn aave_v4_repays_to_the_target_health_factor_v4_5() {
        let rule = aave_v4(1.05, 0.7, 0.2, 0.10);
        let params = with_rule(
            aave_params(0.8, 1.0, None, 0.10),
            LiquidationRule::AaveV4(rule),
        );
        let prices = prices_at(2_000.0);
        let a = account(10.0, 17_000.0);
        let hf = a.health_factor(&params, &prices);
        assert!(close(hf, 0.941176, 1e-6), "{hf}");
        assert!(close(rule.bonus_at(0.05, hf), 0.01784314, 1e-8));
        assert!(close(
            params.liquidation.max_repay(&params, &a, hf, WETH, &prices),
            7_848.111795,
            1e-6
        ));
        let s = params
            .liquidation
            .call(&params, &a, hf, WETH, &prices, f64::INFINITY)
            .expect("liquidatable");
        assert!(close(s.debt_repaid, 7_848.111795, 1e-6), "{s:?}");
        assert!(close(s.collateral_seized, 3.994073, 1e-6), "{s:?}");
        assert!(close(s.protocol_fee, 0.007002, 1e-6), "{s:?}");
        let after = account(10.0 - s.collateral_seized, 17_000.0 - s.debt_repaid);
        assert!(close(after.health_factor(&params, &prices), 1.05, 1e-9));
        // A keeper covering less repays what it covers: no dust is left either way.
        let part = params
            .liquidation
            .call(&params, &a, hf, WETH, &prices, 3_000.0)
            .expect("liquidatable");
        assert!(close(part.debt_repaid, 3_000.0, 1e-9), "{part:?}");
        // The two-step keeper's first call, at the bonus of the health factor before it, leaves
        // the account just below 1.
        let first = params
            .liquidation
            .repay_to_health(&params, &a, WETH, &prices, 0.999)
            .expect("exists");
        let s1 = params
            .liquidation
            .call(&params, &a, hf, WETH, &prices, first)
            .expect("liquidatable");
        let after = account(10.0 - s1.collateral_seized, 17_000.0 - s1.debt_repaid);
        assert!(close(after.health_factor(&params, &prices), 0.999, 1e-12));
        let v33 = LiquidationRule::AaveV3 {
            version: AaveVersion::V3_3,
            protocol_fee: 0.10,
        };
        assert!(close(
            v33.max_repay(&params, &a, hf, WETH, &prices),
            17_000.0,
            1e-9
        ));
    }

    /// §1.6 V4-6, the debt-dust rule: 1 WETH at $2,000 owing 1,700 USDC (health factor
    /// 0.941176). The debt to target, 784.811180, would leave $915 of debt: the call takes the
    /// whole 1,700 (seizing 0.865167 WETH, leaving $269.67 of collateral and no debt), and a
    /// keeper covering only 1,000 reverts (`MustNotLeaveDust`). Tolerance 1e-6.
    #[test]
    fn aave_v4_takes_the_whole_debt_rather_than_leave_dust_v4_6() {
        let rule = aave_v4(1.05, 0.7, 0.2, 0.10);
        let params = with_rule(
            aave_params(0.8, 1.0, None, 0.10),
            LiquidationRule::AaveV4(rule),
        );
        let prices = prices_at(2_000.0);
        let a = account(1.0, 1_700.0);
        let hf = a.health_factor(&params, &prices);
        let bonus = rule.bonus_at(0.05, hf);
        let to_target = rule.debt_to_target(1_700.0, hf, bonus, 0.8, 1.0);
        assert!(close(to_target, 784.811180, 1e-6), "{to_target}");
        assert!(close(
            params.liquidation.max_repay(&params, &a, hf, WETH, &prices),
            1_700.0,
            1e-9
        ));
        let s = params
            .liquidation
            .call(&params, &a, hf, WETH, &prices, f64::INFINITY)
            .expect("liquidatable");
        assert!(close(s.debt_repaid, 1_700.0, 1e-9), "{s:?}");
        assert!(close(s.collateral_seized, 0.865167, 1e-6), "{s:?}");
        assert_eq!(
            params
                .liquidation
                .call(&params, &a, hf, WETH, &prices, 1_000.0),
            None
        );
    }

    /// §1.6 V4-7, the collateral-dust rule: 3 WETH at $2,000 and 0.1 WBTC at $55,000 (both
    /// factor 0.8) owing 10,000 USDC (health factor 0.92). The debt to target, 5,568.246716,
    /// would seize WETH worth $5,683.33 and leave $316.67 of it: the call seizes all 3 WETH and
    /// repays 5,878.510777, past the target (the account ends at 1.067575); a keeper covering
    /// 5,600 reverts. Tolerance 1e-6.
    #[test]
    fn aave_v4_takes_the_whole_collateral_rather_than_leave_dust_v4_7() {
        let rule = aave_v4(1.05, 0.7, 0.2, 0.10);
        let params = v4_params(rule, 0.8, 0.8, 0.05);
        let prices = |asset: AssetId| [2_000.0, 1.0, 55_000.0][asset.index()];
        let a = Account {
            collateral: smallvec![(AssetId(0), 3.0), (AssetId(2), 0.1)],
            debt_asset: AssetId(1),
            debt: 10_000.0,
        };
        let hf = a.health_factor(&params, &prices);
        assert!(close(hf, 0.92, 1e-12), "{hf}");
        assert!(close(
            params
                .liquidation
                .max_repay(&params, &a, hf, AssetId(0), &prices),
            5_568.246716,
            1e-6
        ));
        let s = params
            .liquidation
            .call(&params, &a, hf, AssetId(0), &prices, f64::INFINITY)
            .expect("liquidatable");
        assert_eq!(s.collateral_seized, 3.0);
        assert!(close(s.debt_repaid, 5_878.510777, 1e-6), "{s:?}");
        assert!(close(s.to_liquidator, 2.993926, 1e-6), "{s:?}");
        let after = Account {
            collateral: smallvec![(AssetId(0), 0.0), (AssetId(2), 0.1)],
            debt_asset: AssetId(1),
            debt: 10_000.0 - s.debt_repaid,
        };
        assert!(close(after.health_factor(&params, &prices), 1.067575, 1e-6));
        assert_eq!(
            params
                .liquidation
                .call(&params, &a, hf, AssetId(0), &prices, 5_600.0),
            None
        );
    }

    #[test]
    fn repay_to_health_hits_its_target() {
        let params = aave_params(0.83, 0.5, Some(0.95), 0.10);
        let prices = prices_at(2000.0);
        let a = account(10.0, 17_000.0);
        let target = 1.0 - 1e-6;
        let repay = params
            .liquidation
            .repay_to_health(&params, &a, WETH, &prices, target)
            .expect("exists");
        let seized = repay / 2000.0 * 1.05;
        let after = account(10.0 - seized, 17_000.0 - repay);
        assert!(close(after.health_factor(&params, &prices), target, 1e-12));
        // With toxic parameters (LT · (1 + bonus) ≥ 1) no repayment raises the health factor.
        let toxic = aave_params(0.96, 0.5, None, 0.0);
        let b = account(10.0, 19_500.0);
        assert_eq!(
            toxic
                .liquidation
                .repay_to_health(&toxic, &b, WETH, &prices, target),
            None
        );
    }

    /// The index's candidates at a WETH price, those of them confirmed liquidatable, and the
    /// liquidatable accounts found by checking every one.
    fn candidates_at(
        index: &LiquidationIndex,
        params: &LendingParams,
        accounts: &[Account],
        price: f64,
    ) -> (Vec<AccountId>, BTreeSet<u32>, BTreeSet<u32>) {
        let prices = |asset: AssetId| if asset == WETH { price } else { 1.0 };
        let mut found = Vec::new();
        index.candidates(&prices, &mut found);
        let confirmed = found
            .iter()
            .filter(|id| accounts[id.index()].health_factor(params, &prices) < 1.0)
            .map(|id| id.0)
            .collect();
        let expected = (0..accounts.len() as u32)
            .filter(|&i| accounts[i as usize].health_factor(params, &prices) < 1.0)
            .collect();
        (found, confirmed, expected)
    }

    #[test]
    fn index_finds_exactly_the_liquidatable_accounts() {
        let params = aave_params(0.8, 1.0, None, 0.0);
        let accounts: Vec<Account> = (1..=100).map(|i| account(1.0, 10.0 * i as f64)).collect();
        let index = LiquidationIndex::build(&params, &accounts);
        for price in [0.0, 1.0, 500.0, 625.0, 626.0, 1250.0, 2000.0] {
            let (found, confirmed, expected) = candidates_at(&index, &params, &accounts, price);
            assert_eq!(confirmed, expected, "price {price}");
            assert!(
                found.len() <= expected.len() + 1,
                "the index returned more than one extra"
            );
            let prices = |asset: AssetId| if asset == WETH { price } else { 1.0 };
            assert_eq!(
                index.may_have_candidates(&prices),
                !found.is_empty(),
                "price {price}"
            );
        }
    }

    proptest::proptest! {
        /// After arbitrary partial liquidations, closures and re-borrowing, the index still
        /// returns every liquidatable account (and confirmed candidates are exactly those).
        #[test]
        fn index_stays_exact_under_updates(
            debts in proptest::collection::vec(1.0f64..2000.0, 1..60),
            changes in proptest::collection::vec((0usize..60, 0.0f64..2500.0), 0..80),
            prices in proptest::collection::vec(1.0f64..3000.0, 1..6),
        ) {
            let params = aave_params(0.8, 1.0, None, 0.0);
            let mut accounts: Vec<Account> = debts.iter().map(|&d| account(1.0, d)).collect();
            let mut index = LiquidationIndex::build(&params, &accounts);
            for (k, &(which, debt)) in changes.iter().enumerate() {
                let id = which % accounts.len();
                accounts[id].debt = if k % 7 == 0 { 0.0 } else { debt };
                index.update(&params, AccountId(id as u32), &accounts[id]);
                if k % 5 == 0 {
                    index.prune();
                }
                for &price in &prices {
                    let (found, confirmed, expected) =
                        candidates_at(&index, &params, &accounts, price);
                    proptest::prop_assert_eq!(&confirmed, &expected);
                    let prices = |asset: AssetId| if asset == WETH { price } else { 1.0 };
                    if !index.may_have_candidates(&prices) {
                        proptest::prop_assert!(found.is_empty(), "a candidate at {}", price);
                    }
                    let unique: BTreeSet<AccountId> = found.iter().copied().collect();
                    proptest::prop_assert_eq!(unique.len(), found.len(), "no account twice");
                }
            }
        }
    }
}

#[cfg(test)]
mod layout {
    use super::Account;

    /// A book of millions of accounts is read front to back in every cascade and copied for
    /// every path: an account is kept to 40 bytes (one collateral inline, more on the heap).
    #[test]
    fn an_account_is_forty_bytes() {
        assert_eq!(std::mem::size_of::<Account>(), 40);
    }
}
