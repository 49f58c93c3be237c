//! Maker Liquidations 2.0 (`dog.sol`, `clip.sol`, `abaci.sol`; REFERENCE-MATH §4.2): a vault
//! that is unsafe is *barked* — its collateral and debt move into a Dutch auction whose price
//! starts at the oracle price × `buf` and decays along an Abacus curve; keepers *take* slices
//! at the current price; the auction is *reset* (`redo`) when too old (`tail`) or too cheap
//! (`cusp`); it ends when its tab (debt × penalty) is raised, the leftover collateral going back
//! to the vault, or when its lot is gone.

/// The Abacus price curves, as functions of seconds since the auction's (re)start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PriceCurve {
    /// price = top · (tau − dur) / tau, zero from tau on.
    Linear {
        /// Seconds to reach zero.
        tau: f64,
    },
    /// price = top · cut^floor(dur / step).
    StairstepExponential {
        /// Seconds between cuts.
        step: f64,
        /// Multiplier applied at each step.
        cut: f64,
    },
    /// price = top · cut^dur (cut per second).
    Exponential {
        /// Per-second multiplier.
        cut: f64,
    },
}

impl PriceCurve {
    /// The auction price `dur` seconds after a (re)start at `top`.
    pub fn price(&self, top: f64, dur: f64) -> f64 {
        match *self {
            Self::Linear { tau } => {
                if dur >= tau {
                    0.0
                } else {
                    top * (tau - dur) / tau
                }
            }
            Self::StairstepExponential { step, cut } => top * cut.powf((dur / step).floor()),
            Self::Exponential { cut } => top * cut.powf(dur),
        }
    }
}

/// Liquidations 2.0 parameters of one collateral type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DutchAuctionParams {
    /// Starting price multiplier over the oracle price (`buf`, e.g. 1.20).
    pub buf: f64,
    /// Price curve.
    pub curve: PriceCurve,
    /// Seconds after which an auction needs a reset (`tail`).
    pub tail: f64,
    /// Price / top ratio below which an auction needs a reset (`cusp`).
    pub cusp: f64,
    /// Liquidation penalty: tab = debt · (1 + penalty) (`chop` − 1).
    pub penalty: f64,
    /// Flat keeper incentive per kick or reset, USD (`tip`).
    pub tip: f64,
    /// Proportional keeper incentive, fraction of tab (`chip`).
    pub chip: f64,
    /// Minimum debt a vault may keep, USD (`dust`); chost = dust · (1 + penalty).
    pub dust: f64,
    /// Most tab (USD) in auctions of this protocol at once (`hole`/`ilk.hole`); `None` unlimited.
    pub hole: Option<f64>,
    /// Halt new auctions in a step when the protocol's collateral price fell by more than this
    /// fraction since the previous step (a circuit breaker, as `ClipperMom` trips on a large OSM
    /// drop); `None` never halts.
    pub circuit_breaker: Option<f64>,
}

impl DutchAuctionParams {
    /// chost = dust · chop: below it a partial take may not leave a tab.
    pub fn chost(&self) -> f64 {
        self.dust * (1.0 + self.penalty)
    }

    /// Keeper reward for a kick or a paid reset: tip + chip · tab.
    pub fn incentive(&self, tab: f64) -> f64 {
        self.tip + self.chip * tab
    }

    /// Whether an auction started at `top`, `dur` seconds ago, needs a reset (`status`).
    pub fn needs_reset(&self, top: f64, dur: f64) -> bool {
        dur > self.tail || self.curve.price(top, dur) / top < self.cusp
    }
}

/// A running auction.
#[derive(Clone, Debug, PartialEq)]
pub struct Auction {
    /// Sequence number within the protocol.
    pub id: u32,
    /// The vault it came from (leftover collateral returns there).
    pub account: crate::ids::AccountId,
    /// Collateral asset sold.
    pub collateral_asset: crate::ids::AssetId,
    /// Debt asset raised.
    pub debt_asset: crate::ids::AssetId,
    /// Collateral units left to sell (`lot`).
    pub lot: f64,
    /// Debt-asset units left to raise, penalty included (`tab`).
    pub tab: f64,
    /// Debt units moved out of the vault at the kick (`dart`).
    pub debt: f64,
    /// Debt-asset units raised so far.
    pub raised: f64,
    /// Starting price of the current run of the curve (`top`).
    pub top: f64,
    /// Time of the kick or the last reset (`tic`), seconds.
    pub tic: u64,
    /// When the vault was first found unsafe, seconds.
    pub liquidatable_since: u64,
}

/// One take (`clip.take`): what the keeper pays and receives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Take {
    /// Collateral units the keeper receives.
    pub slice: f64,
    /// Debt-asset units (DAI) the keeper pays.
    pub owe: f64,
}

/// `take(amt, max)` at auction price `price` on an auction with `lot` collateral and `tab` to
/// raise: `None` if `max` < price. A take that would leave less than `chost` of tab takes
/// tab − chost instead (and nothing if that is not positive).
pub fn take(lot: f64, tab: f64, amt: f64, max: f64, price: f64, chost: f64) -> Option<Take> {
    if max < price || price <= 0.0 {
        return None;
    }
    let mut slice = lot.min(amt);
    let mut owe = slice * price;
    if owe > tab {
        owe = tab;
        slice = owe / price;
    } else if owe < tab && slice < lot && tab - owe < chost {
        owe = tab - chost;
        if owe <= 0.0 {
            return None;
        }
        slice = owe / price;
    }
    Some(Take { slice, owe })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// REFERENCE-MATH §4.2 K1: feed 2,000, buf 1.20 → top 2,400; linear (tau 3,600) at 900 s
    /// → 1,800; stairstep (cut 0.99, step 90 s) and exponential (0.99^(1/90) per second) at
    /// 900 s → 2,170.516980. Tolerance 1e-6.
    #[test]
    fn abacus_curves_k1() {
        let top = 2000.0 * 1.20;
        assert!(close(top, 2400.0, 1e-12));
        assert!(close(
            PriceCurve::Linear { tau: 3600.0 }.price(top, 900.0),
            1800.0,
            1e-9
        ));
        let stair = PriceCurve::StairstepExponential {
            step: 90.0,
            cut: 0.99,
        };
        assert!(close(stair.price(top, 900.0), 2170.516980, 1e-6));
        let exp = PriceCurve::Exponential {
            cut: 0.99f64.powf(1.0 / 90.0),
        };
        assert!(close(exp.price(top, 900.0), 2170.516980, 1e-6));
        assert_eq!(PriceCurve::Linear { tau: 3600.0 }.price(top, 4000.0), 0.0);
    }

    /// §4.2 K2: cusp 0.40 on a linear 3,600 s curve needs a reset after 2,160 s; a 1,800 s tail
    /// triggers first.
    #[test]
    fn reset_on_cusp_or_tail_k2() {
        let mut params = DutchAuctionParams {
            buf: 1.2,
            curve: PriceCurve::Linear { tau: 3600.0 },
            tail: f64::INFINITY,
            cusp: 0.40,
            penalty: 0.13,
            tip: 0.0,
            chip: 0.0,
            dust: 0.0,
            hole: None,
            circuit_breaker: None,
        };
        assert!(!params.needs_reset(2400.0, 2160.0));
        assert!(params.needs_reset(2400.0, 2161.0));
        params.tail = 1800.0;
        assert!(!params.needs_reset(2400.0, 1800.0));
        assert!(params.needs_reset(2400.0, 1801.0));
    }

    /// §4.2 K3: tab = 10,000 · 1.13 = 11,300; tip 300 + chip 0.1% → 311.3 to the keeper.
    /// take(10 ETH, max ≥ 1,800) at 1,800 with lot 10 owes 11,300 for 6.277778 ETH; 3.722222
    /// ETH go back to the vault.
    #[test]
    fn incentives_and_take_k3() {
        let params = DutchAuctionParams {
            buf: 1.2,
            curve: PriceCurve::Linear { tau: 3600.0 },
            tail: 1800.0,
            cusp: 0.4,
            penalty: 0.13,
            tip: 300.0,
            chip: 0.001,
            dust: 0.0,
            hole: None,
            circuit_breaker: None,
        };
        let tab = 10_000.0 * 1.13;
        assert!(close(params.incentive(tab), 311.3, 1e-9));
        let t = take(10.0, tab, 10.0, 1800.0, 1800.0, params.chost()).expect("price ≤ max");
        assert!(close(t.owe, 11_300.0, 1e-9));
        assert!(close(t.slice, 6.277778, 1e-6));
        assert!(close(10.0 - t.slice, 3.722222, 1e-6));
        assert_eq!(take(10.0, tab, 10.0, 1799.0, 1800.0, 0.0), None);
    }

    /// A partial take that would leave less than chost of tab takes tab − chost instead.
    #[test]
    fn partial_takes_respect_chost() {
        // tab 1,000, chost 100: asking for 0.95 units at 1,000 would leave 50 < 100.
        let t = take(2.0, 1_000.0, 0.95, 1_000.0, 1_000.0, 100.0).expect("allowed");
        assert!(close(t.owe, 900.0, 1e-9) && close(t.slice, 0.9, 1e-12));
        // A take of the whole tab is always allowed.
        let t = take(2.0, 1_000.0, 2.0, 1_000.0, 1_000.0, 100.0).expect("allowed");
        assert!(close(t.owe, 1_000.0, 1e-9) && close(t.slice, 1.0, 1e-12));
    }
}
