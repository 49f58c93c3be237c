//! Compound III (Comet, docs/reference-math.md §3): an unhealthy account is *absorbed* — the
//! protocol
//! takes all of its collateral and pays for it out of its reserves, the account's debt is cleared
//! and any value beyond it (at the liquidation factor) is credited to the user — and keepers
//! later *buy* the protocol's collateral at a store-front discount while reserves are below
//! their target. Nothing is sold at the moment of liquidation: a protocol-run form of
//! liquidation via transfer.

/// Comet's protocol-wide liquidation parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CometParams {
    /// Share of (1 − liquidation factor) given as discount to collateral buyers
    /// (`storeFrontPriceFactor`, ≤ 1).
    pub store_front_price_factor: f64,
    /// Reserves (USD) at or above which collateral is no longer sold (`targetReserves`).
    pub target_reserves_usd: f64,
    /// Reserves at the start, USD.
    pub initial_reserves_usd: f64,
}

/// The discounted price at which buyers get collateral: price × (1 − SFPF × (1 − LF)).
pub fn discounted_price(price: f64, store_front_price_factor: f64, liquidation_factor: f64) -> f64 {
    price * (1.0 - store_front_price_factor * (1.0 - liquidation_factor))
}

/// What absorbing an account does, USD.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Absorption {
    /// Σ collateral × price × liquidation factor (`deltaValue`).
    pub delta_value: f64,
    /// Value credited to the user as a base supply balance (delta − debt, if positive).
    pub credit: f64,
    /// Debt the collateral did not cover, absorbed by reserves (debt − delta, if positive).
    pub shortfall: f64,
    /// How much reserves fall: the debt cleared plus the credit.
    pub reserves_paid: f64,
}

/// Absorbs an account owing `debt_value` (USD) whose collateral is worth `delta_value` at the
/// liquidation factors: its base balance goes from −debt to max(0, delta − debt).
pub fn absorb(debt_value: f64, delta_value: f64) -> Absorption {
    let credit = (delta_value - debt_value).max(0.0);
    Absorption {
        delta_value,
        credit,
        shortfall: (debt_value - delta_value).max(0.0),
        reserves_paid: debt_value + credit,
    }
}

/// Comet's state during a run.
#[derive(Clone, Debug, PartialEq)]
pub struct CometState {
    /// Reserves, USD (negative when the protocol is insolvent).
    pub reserves_usd: f64,
    /// Collateral units the protocol holds, per asset.
    pub held: Vec<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/reference-math.md §3 M2: debt 16,700 USDC, 10 WETH absorbed at 1,980 with LF 0.90:
    /// deltaValue 17,820, the user is left with +1,120 USDC supplied; reserves pay 17,820.
    #[test]
    fn absorb_m2() {
        let a = absorb(16_700.0, 10.0 * 1_980.0 * 0.90);
        assert!((a.delta_value - 17_820.0).abs() < 1e-9);
        assert!((a.credit - 1_120.0).abs() < 1e-9);
        assert_eq!(a.shortfall, 0.0);
        assert!((a.reserves_paid - 17_820.0).abs() < 1e-9);
        // Under water the balance is floored at zero and reserves absorb the shortfall.
        let b = absorb(20_000.0, 17_820.0);
        assert_eq!((b.credit, b.reserves_paid), (0.0, 20_000.0));
        assert!((b.shortfall - 2_180.0).abs() < 1e-9);
    }

    /// §3 M3: SFPF 0.5, LF 0.90 → a 5% discount; 10,000 USDC at WETH 1,980 buys
    /// 10,000 / 1,881 = 5.316321 WETH.
    #[test]
    fn buy_collateral_m3() {
        let price = discounted_price(1_980.0, 0.5, 0.90);
        assert!((price - 1_881.0).abs() < 1e-9);
        assert!((10_000.0 / price - 5.316321).abs() < 1e-6);
    }
}
