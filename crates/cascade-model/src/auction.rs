//! Maker Liquidations 2.0 (`dog.sol`, `clip.sol`, `abaci.sol`; docs/reference-math.md §4.2): a
//! vault
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

    /// docs/reference-math.md §4.2 K1: feed 2,000, buf 1.20 → top 2,400; linear (tau 3,600) at 900
    /// s
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

/// Maker Liquidations 1.2 (`cat.sol` + `flip.sol`, the Black Thursday design;
/// docs/reference-math.md
/// §4.1): English auctions with a rising-bid phase (tend) and a falling-lot phase (dent).
pub mod english {
    /// Parameters of one collateral type.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct EnglishAuctionParams {
        /// Liquidation penalty: tab = debt · (1 + penalty) (`chop` − 1).
        pub penalty: f64,
        /// Most collateral units per auction (`lump`); `None` puts the whole vault in one.
        pub lump: Option<f64>,
        /// Minimum relative bid increase, and lot decrease (`beg` − 1, e.g. 0.03).
        pub beg: f64,
        /// Seconds a bid stands before the auction can be dealt (`ttl`).
        pub ttl: u64,
        /// Seconds from the kick to the auction's end (`tau`).
        pub tau: u64,
    }

    /// The smallest positive bid: the first tend only has to be above zero (1 wei of DAI).
    pub const MIN_FIRST_BID: f64 = 1e-18;

    /// The smallest valid next bid over `bid` toward `tab` (tend): above the bid by `beg`, or
    /// the whole tab.
    pub fn min_next_bid(bid: f64, tab: f64, beg: f64) -> f64 {
        if bid <= 0.0 {
            MIN_FIRST_BID
        } else {
            (bid * (1.0 + beg)).min(tab)
        }
    }

    /// The largest valid next lot below `lot` (dent): at least `beg` smaller.
    pub fn max_next_lot(lot: f64, beg: f64) -> f64 {
        lot / (1.0 + beg)
    }

    /// Where a round of bidding ends in the tend phase. `maxima` are the bidders' highest bids
    /// (valuation and capital limited), in priority order; `winner` holds `bid`. The bidder with
    /// the highest maximum ends holding the lowest valid bid that beats every other maximum: at
    /// least `beg` above the second-highest maximum and above the standing bid, capped by its
    /// own maximum and by the tab. Returns the new (bidder, bid), or `None` if nobody outbids.
    pub fn tend(
        bid: f64,
        tab: f64,
        beg: f64,
        winner: Option<usize>,
        maxima: &[f64],
    ) -> Option<(usize, f64)> {
        let floor = min_next_bid(bid, tab, beg);
        let mut order: Vec<usize> = (0..maxima.len())
            .filter(|&k| maxima[k] >= floor || Some(k) == winner)
            .collect();
        order.sort_by(|&a, &b| maxima[b].total_cmp(&maxima[a]).then(a.cmp(&b)));
        let &top = order.first()?;
        let second = order
            .iter()
            .skip(1)
            .map(|&k| maxima[k])
            .find(|&m| m >= floor);
        let target = match second {
            Some(m) => (m * (1.0 + beg)).max(floor),
            None => floor,
        };
        let new_bid = target.min(maxima[top]).min(tab);
        if Some(top) == winner {
            // The standing winner only raises when someone else can outbid it.
            return (second.is_some() && new_bid > bid).then_some((top, new_bid));
        }
        (new_bid >= floor).then_some((top, new_bid))
    }

    /// Where a round of bidding ends in the dent phase (the bid is the whole tab and bidders
    /// compete by accepting less collateral). `minima` are the smallest lots each bidder would
    /// pay the tab for (infinite if it cannot); the bidder accepting the least ends holding the
    /// largest valid lot that beats every other: `beg` below the second-smallest acceptance and
    /// below the standing lot, floored by its own acceptance. Returns the new (bidder, lot).
    pub fn dent(lot: f64, beg: f64, winner: Option<usize>, minima: &[f64]) -> Option<(usize, f64)> {
        let ceiling = max_next_lot(lot, beg);
        let mut order: Vec<usize> = (0..minima.len())
            .filter(|&k| minima[k] <= ceiling || Some(k) == winner)
            .collect();
        order.sort_by(|&a, &b| minima[a].total_cmp(&minima[b]).then(a.cmp(&b)));
        let &top = order.first()?;
        let second = order
            .iter()
            .skip(1)
            .map(|&k| minima[k])
            .find(|&m| m <= ceiling);
        let target = match second {
            Some(m) => (m / (1.0 + beg)).min(ceiling),
            None => ceiling,
        };
        let new_lot = target.max(minima[top]);
        if Some(top) == winner {
            return (second.is_some() && new_lot < lot).then_some((top, new_lot));
        }
        (new_lot <= ceiling).then_some((top, new_lot))
    }

    /// A running English auction.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Flip {
        /// Sequence number within the protocol.
        pub id: u32,
        /// The vault it came from.
        pub account: crate::ids::AccountId,
        /// Collateral asset.
        pub collateral_asset: crate::ids::AssetId,
        /// Debt asset.
        pub debt_asset: crate::ids::AssetId,
        /// Collateral units on offer (`lot`).
        pub lot: f64,
        /// Debt-asset units to raise, penalty included (`tab`).
        pub tab: f64,
        /// Debt units moved out of the vault (`art`).
        pub debt: f64,
        /// Standing bid, debt-asset units.
        pub bid: f64,
        /// Standing bidder (index into the protocol's keepers).
        pub winner: Option<usize>,
        /// Time the standing bid expires (`tic`), seconds.
        pub expires: u64,
        /// Time the auction ends (`end`), seconds.
        pub end: u64,
        /// Collateral units returned to the vault by dents so far.
        pub returned: f64,
        /// When the vault was first found unsafe, seconds.
        pub liquidatable_since: u64,
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn dent_takes_the_lot_just_below_the_second_acceptance() {
            // Lot 10, beg 3%: acceptances 6 and 8 → the first holds 8 / 1.03.
            let (k, lot) = dent(10.0, 0.03, None, &[6.0, 8.0]).expect("a dent");
            assert_eq!(k, 0);
            assert!((lot - 8.0 / 1.03).abs() < 1e-12);
            // Alone, a bidder dents only by the minimum decrease.
            let (_, lot) = dent(10.0, 0.03, None, &[6.0]).expect("a dent");
            assert!((lot - 10.0 / 1.03).abs() < 1e-12);
            assert_eq!(dent(10.0 / 1.03, 0.03, Some(0), &[6.0]), None);
        }

        /// docs/reference-math.md §4.1 F1 and F2: beg 3%.
        #[test]
        fn flip_increments_f1_f2() {
            assert!((min_next_bid(1_000.0, 1e9, 0.03) - 1_030.0).abs() < 1e-9);
            assert_eq!(min_next_bid(1_000.0, 1_010.0, 0.03), 1_010.0);
            assert!((max_next_lot(10.0, 0.03) - 9.708738).abs() < 1e-6);
        }

        #[test]
        fn a_lone_bidder_wins_at_the_smallest_bid() {
            assert_eq!(
                tend(0.0, 11_300.0, 0.03, None, &[10_000.0]),
                Some((0, MIN_FIRST_BID))
            );
            // Holding the auction alone, it does not raise its own bid.
            assert_eq!(
                tend(MIN_FIRST_BID, 11_300.0, 0.03, Some(0), &[10_000.0]),
                None
            );
        }

        #[test]
        fn competition_takes_the_bid_just_past_the_second_maximum() {
            // Maxima 9,000 and 6,000: the first holds 6,000 · 1.03 = 6,180.
            let (k, bid) = tend(0.0, 11_300.0, 0.03, None, &[9_000.0, 6_000.0]).expect("a bid");
            assert_eq!(k, 0);
            assert!((bid - 6_180.0).abs() < 1e-9);
            // A richer rival outbids it by beg over its 9,000 maximum.
            let (k, bid) =
                tend(6_180.0, 11_300.0, 0.03, Some(0), &[9_000.0, 20_000.0]).expect("a bid");
            assert_eq!((k, bid), (1, 9_270.0));
        }
    }
}
