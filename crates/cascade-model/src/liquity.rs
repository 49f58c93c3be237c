//! Liquity v1 (docs/reference-math.md §5): troves liquidated against the Stability Pool — LUSD
//! deposits
//! that are burned to cancel the trove's debt and receive its collateral — with the rest
//! redistributed to the other troves when the pool runs dry, and a recovery mode when the
//! system's total collateral ratio falls below 150%. Liquidators are paid gas compensation:
//! 200 LUSD and 0.5% of the trove's collateral.

/// Liquity's constants and the pool's starting deposits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LiquityParams {
    /// Minimum collateral ratio (110%): a trove below it is liquidatable in normal mode.
    pub mcr: f64,
    /// Critical collateral ratio (150%): below it the system is in recovery mode.
    pub ccr: f64,
    /// Debt-asset units paid to the liquidator from the gas pool (200 LUSD).
    pub gas_compensation: f64,
    /// Share of the trove's collateral paid to the liquidator (0.5%).
    pub collateral_gas_share: f64,
    /// Debt-asset units deposited in the Stability Pool at the start.
    pub stability_pool: f64,
    /// The `TroveManager` entry point keepers call.
    pub entry_point: EntryPoint,
}

/// The `TroveManager` entry point a keeper liquidates through (liquity/dev
/// packages/contracts/contracts/TroveManager.sol at the deployed commit `bf638ecb`; lines
/// below are that file's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EntryPoint {
    /// `batchLiquidateTroves(address[])` (L640–679) over the troves found liquidatable, the
    /// lowest collateral ratio first: one price, one recovery-mode test at the start; in a
    /// sequence that starts in recovery mode the TCR is re-measured after every trove from the
    /// running totals (`_getTotalFromBatchLiquidate_RecoveryMode`, L685–739, the test at L727) and once it is back
    /// at or above CCR only troves below MCR are liquidated, in normal mode; what the pool cannot
    /// take is redistributed once, at the end. Liquity's own keeper (packages/examples/src/
    /// liqbot.js L60–79) calls it with up to 40 troves below MCR.
    #[default]
    Batch,
    /// `liquidate(address)` (L303–309), one transaction per trove: each is a batch of one, so
    /// each sees the recovery mode and TCR left by the previous one and the previous trove's
    /// redistribution.
    Single,
}

/// How one trove is liquidated, by the band of its collateral ratio (`_liquidateNormalMode`,
/// `_liquidateRecoveryMode`, TroveManager.sol L314–426).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Band {
    /// Offset against the pool as far as it goes, the rest redistributed (normal mode below MCR;
    /// recovery mode with 100% < ICR < MCR).
    Offset,
    /// Everything redistributed (recovery mode, ICR ≤ 100%).
    RedistributeAll,
    /// The pool takes collateral worth debt × MCR, the rest is the owner's surplus (recovery
    /// mode, MCR ≤ ICR < TCR, the pool covering the whole debt).
    CappedOffset,
}

/// The band a trove with collateral ratio `icr` and `debt` falls in, or `None` when it is not
/// liquidatable: in normal mode only below MCR; in recovery mode (with the system's `tcr` and
/// the pool's `deposits` at that point of the sequence) as `_liquidateRecoveryMode` decides.
pub fn band(
    params: &LiquityParams,
    recovery: bool,
    icr: f64,
    tcr: f64,
    deposits: f64,
    debt: f64,
) -> Option<Band> {
    if !recovery {
        (icr < params.mcr).then_some(Band::Offset)
    } else if icr <= 1.0 {
        Some(Band::RedistributeAll)
    } else if icr < params.mcr {
        Some(Band::Offset)
    } else if icr < tcr && deposits >= debt {
        Some(Band::CappedOffset)
    } else {
        None
    }
}

/// The total collateral ratio of `collateral_value` against `debt_value` (∞ without debt).
pub fn total_collateral_ratio(collateral_value: f64, debt_value: f64) -> f64 {
    if debt_value > 0.0 {
        collateral_value / debt_value
    } else {
        f64::INFINITY
    }
}

/// Where a liquidation sequence stands (`LocalVariables_LiquidationSequence`): whether it
/// started in recovery mode, and whether it has since brought the system back to normal mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sequence {
    /// Recovery mode when the sequence started (`recoveryModeAtStart`).
    pub recovery_at_start: bool,
    /// The running TCR has reached CCR (`backToNormalMode`): normal mode from here on.
    pub back_to_normal: bool,
}

impl Sequence {
    /// A sequence starting at this total collateral ratio.
    pub fn start(params: &LiquityParams, tcr: f64) -> Self {
        Self {
            recovery_at_start: tcr < params.ccr,
            back_to_normal: false,
        }
    }

    /// Whether the next trove is judged by recovery mode's rules.
    pub fn in_recovery(&self) -> bool {
        self.recovery_at_start && !self.back_to_normal
    }

    /// After a trove liquidated in recovery mode, with the running TCR `tcr`: back to normal
    /// once it is at or above CCR (`!_checkPotentialRecoveryMode`). A sequence that started in
    /// normal mode never re-tests it.
    pub fn after_trove(&mut self, params: &LiquityParams, tcr: f64) {
        if self.in_recovery() && tcr >= params.ccr {
            self.back_to_normal = true;
        }
    }
}

/// How one trove's liquidation splits (units of collateral and debt asset).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Offset {
    /// Collateral paid to the liquidator.
    pub gas_collateral: f64,
    /// Debt cancelled against Stability Pool deposits.
    pub debt_offset: f64,
    /// Collateral given to the Stability Pool.
    pub collateral_to_pool: f64,
    /// Debt redistributed to the other troves.
    pub debt_redistributed: f64,
    /// Collateral redistributed to the other troves.
    pub collateral_redistributed: f64,
    /// Collateral left for the trove's owner (recovery mode's capped offset).
    pub surplus: f64,
}

/// Normal-mode liquidation (and recovery mode with ICR below MCR): the pool offsets what it
/// can, the rest is redistributed. With `redistribute_all` (ICR ≤ 100% in recovery mode) the
/// pool offsets nothing.
pub fn offset(
    params: &LiquityParams,
    collateral: f64,
    debt: f64,
    pool: f64,
    redistribute_all: bool,
) -> Offset {
    let gas_collateral = collateral * params.collateral_gas_share;
    let to_liquidate = collateral - gas_collateral;
    let debt_offset = if redistribute_all {
        0.0
    } else {
        debt.min(pool)
    };
    let collateral_to_pool = if debt > 0.0 {
        to_liquidate * debt_offset / debt
    } else {
        0.0
    };
    Offset {
        gas_collateral,
        debt_offset,
        collateral_to_pool,
        debt_redistributed: debt - debt_offset,
        collateral_redistributed: to_liquidate - collateral_to_pool,
        surplus: 0.0,
    }
}

/// Recovery mode's capped offset (MCR ≤ ICR < TCR, pool ≥ debt): the pool takes collateral
/// worth debt × MCR (less the liquidator's 0.5% of it); the rest stays for the owner.
pub fn capped_offset(params: &LiquityParams, collateral: f64, debt: f64, price: f64) -> Offset {
    let capped = (debt * params.mcr / price).min(collateral);
    let gas_collateral = capped * params.collateral_gas_share;
    Offset {
        gas_collateral,
        debt_offset: debt,
        collateral_to_pool: capped - gas_collateral,
        debt_redistributed: 0.0,
        collateral_redistributed: 0.0,
        surplus: collateral - capped,
    }
}

/// The Stability Pool's product–sum accounting for an offset: a deposit's LUSD is scaled by P,
/// its collateral gain grows by S. Returns the new (P, S) after `debt_offset` of `deposits` is
/// burned for `collateral` (docs/reference-math.md §5).
pub fn pool_after_offset(
    p: f64,
    s: f64,
    deposits: f64,
    debt_offset: f64,
    collateral: f64,
) -> (f64, f64) {
    let loss_per_unit = debt_offset / deposits;
    let gain_per_unit = collateral / deposits;
    (p * (1.0 - loss_per_unit), s + gain_per_unit * p)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARAMS: LiquityParams = LiquityParams {
        mcr: 1.1,
        ccr: 1.5,
        gas_compensation: 200.0,
        collateral_gas_share: 0.005,
        stability_pool: 0.0,
        entry_point: EntryPoint::Batch,
    };

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// §5 L1: 10 ETH owing 18,000 at 1,950 (ICR 108.3%), pool 30,000: offset 18,000, 9.95 ETH to
    /// the pool, P → 0.4; a 3,000-LUSD depositor has 1,200 LUSD + 0.995 ETH.
    #[test]
    fn full_offset_l1() {
        let o = offset(&PARAMS, 10.0, 18_000.0, 30_000.0, false);
        assert!(close(o.gas_collateral, 0.05, 1e-12));
        assert!(close(o.debt_offset, 18_000.0, 1e-9) && close(o.collateral_to_pool, 9.95, 1e-12));
        assert_eq!(
            (o.debt_redistributed, o.collateral_redistributed),
            (0.0, 0.0)
        );
        let (p, s) = pool_after_offset(1.0, 0.0, 30_000.0, o.debt_offset, o.collateral_to_pool);
        assert!(close(p, 0.4, 1e-12) && close(s, 9.95 / 30_000.0, 1e-15));
        assert!(close(3_000.0 * p, 1_200.0, 1e-9) && close(3_000.0 * s, 0.995, 1e-12));
    }

    /// §5 L2: the same trove against a pool of 12,000: 6.633333 ETH to the pool, 6,000 LUSD and
    /// 3.316667 ETH redistributed; a trove with stake 20 of 1,000 gets 0.066333 ETH and 120 LUSD.
    #[test]
    fn partial_offset_and_redistribution_l2() {
        let o = offset(&PARAMS, 10.0, 18_000.0, 12_000.0, false);
        assert!(close(o.collateral_to_pool, 6.633333, 1e-6));
        assert!(close(o.debt_redistributed, 6_000.0, 1e-9));
        assert!(close(o.collateral_redistributed, 3.316667, 1e-6));
        assert!(close(
            20.0 * o.collateral_redistributed / 1_000.0,
            0.066333,
            1e-6
        ));
        assert!(close(20.0 * o.debt_redistributed / 1_000.0, 120.0, 1e-9));
    }

    /// §5 L3: recovery mode, 10 ETH owing 15,000 at 2,000 (ICR 133%, between MCR and TCR):
    /// the pool takes 8.25 ETH less 0.04125 gas compensation = 8.20875 ETH; 1.75 ETH surplus.
    #[test]
    fn recovery_mode_capped_offset_l3() {
        let o = capped_offset(&PARAMS, 10.0, 15_000.0, 2_000.0);
        assert!(close(o.gas_collateral, 0.04125, 1e-12));
        assert!(close(o.collateral_to_pool, 8.20875, 1e-12));
        assert!(close(o.surplus, 1.75, 1e-12));
        assert!(close(o.debt_offset, 15_000.0, 1e-9));
    }

    /// §5 L4: a sequence that starts in recovery mode and leaves it. At 2,000: T1 10 ETH owing
    /// 15,000 (ICR 133.3%), T2 10 ETH owing 14,500 (137.9%), T3 30 ETH owing 37,500 (160%); TCR
    /// 100,000 / 67,000 = 149.25% < CCR; pool 100,000. T1 (MCR ≤ ICR < TCR, pool ≥ debt) takes a
    /// capped offset: 8.25 ETH leave the system (0.04125 gas, 8.20875 to the pool) and 1.75 ETH
    /// of surplus, so the running totals are 40 ETH = 80,000 against 52,000: TCR 153.85% ≥ CCR,
    /// back to normal mode, and T2 (ICR ≥ MCR) is not liquidated. Judged by the TCR at the
    /// start, as before, T2 would have been. Tolerance 1e-9.
    #[test]
    fn a_recovery_sequence_stops_once_back_above_ccr_l4() {
        let price = 2_000.0;
        let (mut collateral, mut debt, mut deposits) = (50.0, 67_000.0, 100_000.0);
        let tcr = |c: f64, d: f64| total_collateral_ratio(c * price, d);
        assert!(close(tcr(collateral, debt), 100_000.0 / 67_000.0, 1e-12));
        let mut sequence = Sequence::start(&PARAMS, tcr(collateral, debt));
        assert!(sequence.in_recovery());
        let t1 = (10.0, 15_000.0);
        let icr1 = t1.0 * price / t1.1;
        let band1 = band(&PARAMS, true, icr1, tcr(collateral, debt), deposits, t1.1);
        assert_eq!(band1, Some(Band::CappedOffset));
        let o = capped_offset(&PARAMS, t1.0, t1.1, price);
        // The running totals of `_getTotalFromBatchLiquidate_RecoveryMode`.
        debt -= o.debt_offset;
        collateral -= o.collateral_to_pool + o.gas_collateral + o.surplus;
        deposits -= o.debt_offset;
        assert!(close(collateral, 40.0, 1e-12) && close(debt, 52_000.0, 1e-9));
        sequence.after_trove(&PARAMS, tcr(collateral, debt));
        assert!(close(tcr(collateral, debt), 1.538462, 1e-6));
        assert!(!sequence.in_recovery());
        let icr2 = 10.0 * price / 14_500.0;
        assert_eq!(
            band(
                &PARAMS,
                sequence.in_recovery(),
                icr2,
                tcr(collateral, debt),
                deposits,
                14_500.0
            ),
            None
        );
        // Judged once for the whole round (the TCR at the start), T2 would be liquidated.
        assert_eq!(
            band(
                &PARAMS,
                true,
                icr2,
                100_000.0 / 67_000.0,
                100_000.0,
                14_500.0
            ),
            Some(Band::CappedOffset)
        );
    }

    /// A sequence that starts in normal mode stays in it (`_getTotalsFromBatchLiquidate_
    /// NormalMode` never re-tests), and the bands of recovery mode: ICR ≤ 100% redistributes
    /// everything, 100–110% offsets, MCR ≤ ICR < TCR needs the pool to cover the whole debt.
    #[test]
    fn bands_and_a_normal_sequence() {
        let mut sequence = Sequence::start(&PARAMS, 1.6);
        sequence.after_trove(&PARAMS, 1.2);
        assert!(!sequence.in_recovery() && !sequence.back_to_normal);
        assert_eq!(
            band(&PARAMS, false, 1.09, 1.2, 0.0, 1.0),
            Some(Band::Offset)
        );
        assert_eq!(band(&PARAMS, false, 1.1, 1.2, 1e9, 1.0), None);
        assert_eq!(
            band(&PARAMS, true, 1.0, 1.2, 1e9, 1.0),
            Some(Band::RedistributeAll)
        );
        assert_eq!(band(&PARAMS, true, 1.05, 1.2, 0.0, 1.0), Some(Band::Offset));
        assert_eq!(
            band(&PARAMS, true, 1.15, 1.2, 1.0, 1.0),
            Some(Band::CappedOffset)
        );
        assert_eq!(band(&PARAMS, true, 1.15, 1.2, 0.5, 1.0), None);
        assert_eq!(band(&PARAMS, true, 1.25, 1.2, 1e9, 1.0), None);
    }
}

/// The Stability Pool and the system totals during a run.
#[derive(Clone, Debug, PartialEq)]
pub struct StabilityPool {
    /// Debt-asset units deposited.
    pub deposits: f64,
    /// The product P: a deposit made at the start is now worth `P` of itself.
    pub product: f64,
    /// Collateral gained by the pool, per asset.
    pub gains: Vec<f64>,
    /// Collateral of active troves, per asset (for the total collateral ratio).
    pub system_collateral: Vec<f64>,
    /// Debt of active troves.
    pub system_debt: f64,
    /// Collateral waiting to be redistributed at the end of the round, per asset.
    pub pending_collateral: Vec<f64>,
    /// Debt waiting to be redistributed at the end of the round.
    pub pending_debt: f64,
    /// The troves' debt asset.
    pub debt_asset: crate::ids::AssetId,
    /// Troves still owing debt.
    pub active_troves: u64,
}
