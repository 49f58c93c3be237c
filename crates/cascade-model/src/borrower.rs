//! Borrowers under stress: when an account's health factor falls below its owner's trigger, the
//! owner may (with some probability, after a reaction delay) add collateral or repay debt to bring
//! it back to a target — through a transaction that must get into a block, which is how
//! congestion stops them (docs/model.md §2, phase 4).
//!
//! The amounts are exact for the health factor H = Σ cᵢ·pᵢ·LTᵢ / (d·p_d): adding x units of a
//! collateral a moves H by x·p_a·LT_a / (d·p_d); repaying r units of debt leaves
//! H = Σ cᵢ·pᵢ·LTᵢ / ((d − r)·p_d).

use crate::Seconds;
use crate::chain::GasStrategy;
use crate::ids::AssetId;
use crate::lending::{Account, LendingParams};

/// What a borrower does when its account is at risk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BorrowerAction {
    /// Add collateral of the account's first collateral asset from the owner's wallet.
    TopUp,
    /// Repay debt from the owner's wallet.
    Repay,
}

impl BorrowerAction {
    /// The name used in scenario files and outputs.
    pub fn name(self) -> &'static str {
        match self {
            Self::TopUp => "top_up",
            Self::Repay => "repay",
        }
    }
}

/// How the owners of a population of accounts behave.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BorrowerBehaviour {
    /// Health factor below which the owner considers acting.
    pub trigger_health: f64,
    /// Health factor the owner restores.
    pub target_health: f64,
    /// What the owner does.
    pub action: BorrowerAction,
    /// Chance that the owner acts at all in an episode below the trigger.
    pub probability: f64,
    /// Seconds between noticing and sending the transaction.
    pub delay: Seconds,
    /// The owner's wallet at the start, as a fraction of the account's collateral units (top-up)
    /// or of its debt units (repay).
    pub reserve: f64,
    /// How the owner prices gas.
    pub gas: GasStrategy,
}

/// Units of `asset` to add so that the account's health factor reaches `target` (0 when it is
/// already there, or when the asset counts for nothing).
pub fn top_up_units(
    account: &Account,
    params: &LendingParams,
    price: &impl Fn(AssetId) -> f64,
    asset: AssetId,
    target: f64,
) -> f64 {
    let debt = account.debt_value(price);
    let lt = params.collateral[asset.index()].map_or(0.0, |c| c.liquidation_threshold);
    let per_unit = price(asset) * lt;
    if debt <= 0.0 || per_unit <= 0.0 {
        return 0.0;
    }
    ((target * debt - account.weighted_collateral(params, price)) / per_unit).max(0.0)
}

/// Debt units to repay so that the account's health factor reaches `target` (at most the whole
/// debt; 0 when it is already there).
pub fn repay_units(
    account: &Account,
    params: &LendingParams,
    price: &impl Fn(AssetId) -> f64,
    target: f64,
) -> f64 {
    let debt_price = price(account.debt_asset);
    if account.debt <= 0.0 || debt_price <= 0.0 || target <= 0.0 {
        return 0.0;
    }
    let allowed = account.weighted_collateral(params, price) / (target * debt_price);
    (account.debt - allowed).clamp(0.0, account.debt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lending::{CollateralParams, FixedSpread, LiquidationRule};
    use smallvec::smallvec;

    const ETH: AssetId = AssetId(0);
    const DAI: AssetId = AssetId(1);

    fn params() -> LendingParams {
        LendingParams {
            collateral: vec![
                Some(CollateralParams {
                    ltv: 0.6,
                    liquidation_threshold: 1.0 / 1.5,
                    liquidation_bonus: 0.13,
                    liquidation_factor: 1.0,
                }),
                None,
            ],
            liquidation: LiquidationRule::FixedSpread(FixedSpread {
                close_factor: 1.0,
                full_close_below_health_factor: None,
                protocol_fee: 0.0,
                bonus_slope: 0.0,
                bonus_cap: 0.0,
                volatility_slope: 0.0,
                volatility_window: 0,
            }),
            epoch_seconds: None,
            step_limit_usd: None,
        }
    }

    /// A Maker vault: 10 ETH at 150 USD against 900 DAI at a 150% liquidation ratio has health
    /// 10·150/1.5/900 = 1.111. Back to 1.5 takes 1.5·900·1.5/150 − 10 = 3.5 ETH, or repaying
    /// 900 − 1,000/1.5 = 233.33 DAI.
    #[test]
    fn amounts_restore_the_target_exactly() {
        let account = Account {
            collateral: smallvec![(ETH, 10.0)],
            debt_asset: DAI,
            debt: 900.0,
        };
        let p = params();
        let price = |a: AssetId| if a == ETH { 150.0 } else { 1.0 };
        assert!((account.health_factor(&p, &price) - 1.0 / 0.9).abs() < 1e-12);
        let add = top_up_units(&account, &p, &price, ETH, 1.5);
        assert!((add - 3.5).abs() < 1e-9, "{add}");
        let repay = repay_units(&account, &p, &price, 1.5);
        assert!((repay - (900.0 - 1_000.0 / 1.5)).abs() < 1e-9, "{repay}");
        let mut topped = account.clone();
        topped.collateral[0].1 += add;
        assert!((topped.health_factor(&p, &price) - 1.5).abs() < 1e-12);
        let mut repaid = account.clone();
        repaid.debt -= repay;
        assert!((repaid.health_factor(&p, &price) - 1.5).abs() < 1e-12);
        assert_eq!(top_up_units(&account, &p, &price, ETH, 1.0), 0.0);
        assert_eq!(
            top_up_units(&account, &p, &price, DAI, 1.5),
            0.0,
            "DAI counts for nothing"
        );
    }
}
