//! Prices, drops and rises (summary.json `assets.<SYMBOL>`): each asset's fundamental path, its
//! primary venue's path (moves, keepers' and vaults' sales, perp closes, inside cascade rounds
//! too), their largest drawdowns and run-ups, and the largest gaps of the venue below and above
//! the fundamental.
//!
//! State: one path per asset and per venue, and the latest price of each.

use std::collections::BTreeMap;

use cascade_engine::{Event, EventKind, World};
use cascade_model::ids::{AssetId, VenueId};

use crate::summary::AssetSummary;

/// Tracks the largest drawdown and run-up, the extremes and the last value of a price path.
///
/// A push divides only when it may set a record: the drawdown (peak − price) / peak can grow only
/// below `fall_guard`, the run-up (price − trough) / trough only above `rise_guard`. Each guard
/// sits a relative 1e-9 inside the price where its ratio would equal the record, far more than
/// the rounding of either division (a few 1e-16), so a push the guard lets through computes
/// exactly what it did without one, and a push it stops could not have changed the record. The
/// guards are recomputed when a record, the peak or the trough moves, and left open (every push
/// divides) where a record is too near 100% for the margin to hold.
#[derive(Clone, Copy, Debug)]
struct PricePath {
    start: f64,
    last: f64,
    /// The largest price so far (the peak of the drawdown).
    max: f64,
    /// The smallest price so far (the trough of the run-up).
    min: f64,
    drawdown: f64,
    drawup: f64,
    fall_guard: f64,
    rise_guard: f64,
}

/// How far inside a record's price a guard sits, relatively.
const GUARD_MARGIN: f64 = 1e-9;

impl PricePath {
    fn new(start: f64) -> Self {
        let mut path = Self {
            start,
            last: start,
            max: start,
            min: start,
            drawdown: 0.0,
            drawup: 0.0,
            fall_guard: f64::INFINITY,
            rise_guard: f64::NEG_INFINITY,
        };
        path.guard_fall();
        path.guard_rise();
        path
    }

    #[inline]
    fn push(&mut self, price: f64) {
        self.last = price;
        let (max, min) = (self.max.max(price), self.min.min(price));
        if max.to_bits() != self.max.to_bits() {
            self.max = max;
            self.guard_fall();
        }
        if min.to_bits() != self.min.to_bits() {
            self.min = min;
            self.guard_rise();
        }
        // NaN goes through to the arithmetic, as without the guards.
        if (price < self.fall_guard || price.is_nan()) && self.max > 0.0 {
            let drawdown = self.drawdown.max((self.max - price) / self.max);
            if drawdown.to_bits() != self.drawdown.to_bits() {
                self.drawdown = drawdown;
                self.guard_fall();
            }
        }
        if (price > self.rise_guard || price.is_nan()) && self.min > 0.0 {
            let drawup = self.drawup.max((price - self.min) / self.min);
            if drawup.to_bits() != self.drawup.to_bits() {
                self.drawup = drawup;
                self.guard_rise();
            }
        }
    }

    /// The price at or above which no push can deepen the drawdown.
    fn guard_fall(&mut self) {
        let room = 1.0 - self.drawdown;
        self.fall_guard = if self.max > 0.0 && room > 1e-3 {
            self.max * room * (1.0 + GUARD_MARGIN)
        } else {
            f64::INFINITY
        };
    }

    /// The price at or below which no push can raise the run-up.
    fn guard_rise(&mut self) {
        self.rise_guard = if self.min > 0.0 && self.drawup.is_finite() {
            self.min * (1.0 + self.drawup) * (1.0 - GUARD_MARGIN)
        } else {
            f64::NEG_INFINITY
        };
    }

    /// Starts the path at its first price or extends it.
    #[inline]
    fn record(path: &mut Option<Self>, price: f64) {
        match path {
            Some(p) => p.push(price),
            None => *path = Some(Self::new(price)),
        }
    }
}

/// The fold of `assets.*`.
pub(crate) struct PriceFold {
    fundamentals: Vec<Option<PricePath>>,
    venues: Vec<Option<PricePath>>,
    /// Each asset's primary venue.
    primary: Vec<Option<VenueId>>,
    /// Each perp exchange's market venues.
    perp_venues: Vec<Vec<VenueId>>,
    /// Latest fundamental and venue prices, for the price-impact gap.
    fundamental_now: Vec<f64>,
    venue_now: Vec<f64>,
    /// Per asset, the largest gap below and above the fundamental.
    impact: Vec<(f64, f64)>,
}

impl PriceFold {
    pub(crate) fn new(world: &World) -> Self {
        Self {
            fundamentals: vec![None; world.assets.len()],
            venues: vec![None; world.venues.len()],
            primary: world.assets.iter().map(|a| a.primary_venue).collect(),
            perp_venues: world
                .perps
                .iter()
                .map(|x| x.markets.iter().map(|m| m.venue).collect())
                .collect(),
            fundamental_now: world.assets.iter().map(|a| a.start_price).collect(),
            venue_now: vec![f64::NAN; world.venues.len()],
            impact: vec![(0.0, 0.0); world.assets.len()],
        }
    }

    pub(crate) fn event(&mut self, event: &Event) {
        match &event.kind {
            EventKind::FundamentalMoved { asset, price }
            | EventKind::ShockApplied { asset, price, .. } => {
                self.fundamental_moved(*asset, *price)
            }
            EventKind::VenuePriceMoved { venue, price } => self.venue_moved(*venue, *price),
            EventKind::Sale(s) => self.traded(s.venue, s.price_after),
            EventKind::BackstopSale {
                venue, price_after, ..
            } => self.traded(*venue, *price_after),
            EventKind::PerpLiquidated(l) => {
                let v = self.perp_venues[l.exchange.index()][l.market.index()];
                self.traded(v, l.price_after);
            }
            EventKind::StepEnded => self.gap(),
            _ => {}
        }
    }

    /// An asset's fundamental moved.
    #[inline]
    pub(crate) fn fundamental_moved(&mut self, asset: AssetId, price: f64) {
        self.fundamental_now[asset.index()] = price;
        PricePath::record(&mut self.fundamentals[asset.index()], price);
    }

    /// A venue's price moved with its fundamental or its depth.
    #[inline]
    pub(crate) fn venue_moved(&mut self, venue: VenueId, price: f64) {
        self.venue_now[venue.index()] = price;
        PricePath::record(&mut self.venues[venue.index()], price);
    }

    /// A trade moved a venue's price (a path not yet started by a move stays unstarted).
    fn traded(&mut self, venue: VenueId, price: f64) {
        if let Some(p) = &mut self.venues[venue.index()] {
            p.push(price);
        }
        self.venue_now[venue.index()] = price;
        self.gap();
    }

    /// The gaps of the latest prices: at the end of a step, and after each trade.
    #[inline]
    pub(crate) fn gap(&mut self) {
        for (a, venue) in self.primary.iter().enumerate() {
            if let Some(v) = venue {
                let (f, p) = (self.fundamental_now[a], self.venue_now[v.index()]);
                // No gap (a calm step): both ratios are +0, below or at the largest gaps.
                if f > 0.0 && p.is_finite() && p != f {
                    let impact = &mut self.impact[a];
                    impact.0 = impact.0.max((f - p) / f);
                    impact.1 = impact.1.max((p - f) / f);
                }
            }
        }
    }

    pub(crate) fn finish(self, world: &World) -> BTreeMap<String, AssetSummary> {
        let mut assets = BTreeMap::new();
        for (a, asset) in world.assets.iter().enumerate() {
            let fundamental =
                self.fundamentals[a].unwrap_or_else(|| PricePath::new(asset.start_price));
            let (venue_name, market) = match asset.primary_venue {
                Some(v) => (
                    Some(world.venues[v.index()].name.clone()),
                    self.venues[v.index()].unwrap_or_else(|| PricePath::new(asset.start_price)),
                ),
                None => (None, fundamental),
            };
            let exogenous = fundamental.drawdown;
            assets.insert(
                asset.symbol.clone(),
                AssetSummary {
                    start_price: market.start,
                    min_price: market.min,
                    final_price: market.last,
                    venue: venue_name,
                    oracles: world
                        .oracles
                        .iter()
                        .filter(|o| o.asset.index() == a)
                        .map(|o| o.name.clone())
                        .collect(),
                    fundamental_start_price: fundamental.start,
                    fundamental_min_price: fundamental.min,
                    fundamental_final_price: fundamental.last,
                    exogenous_drop: exogenous,
                    total_drop: market.drawdown,
                    amplification: (exogenous > 0.0).then(|| market.drawdown / exogenous),
                    max_price_impact: self.impact[a].0,
                    max_price: market.max,
                    exogenous_rise: fundamental.drawup,
                    total_rise: market.drawup,
                    amplification_rise: (fundamental.drawup > 0.0)
                        .then(|| market.drawup / fundamental.drawup),
                    max_price_impact_up: self.impact[a].1,
                },
            );
        }
        assets
    }
}

#[cfg(test)]
mod tests {
    use super::PricePath;

    /// The path without guards: every push divides (the fold before the guards).
    #[derive(Clone, Copy, Debug)]
    struct Plain {
        min: f64,
        max: f64,
        last: f64,
        drawdown: f64,
        drawup: f64,
    }

    impl Plain {
        fn push(&mut self, price: f64) {
            self.last = price;
            self.min = self.min.min(price);
            self.max = self.max.max(price);
            if self.max > 0.0 {
                self.drawdown = self.drawdown.max((self.max - price) / self.max);
            }
            if self.min > 0.0 {
                self.drawup = self.drawup.max((price - self.min) / self.min);
            }
        }
    }

    fn bits(p: &PricePath) -> [u64; 5] {
        [p.min, p.max, p.last, p.drawdown, p.drawup].map(f64::to_bits)
    }

    proptest::proptest! {
        // Failures print the minimal walk; nothing is written into the source tree.
        #![proptest_config(proptest::prelude::ProptestConfig {
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// Random walks, with steps small enough to sit near a record for long and large enough
        /// to fall nearly to zero: the guarded path equals the plain one to the bit after every
        /// push.
        #[test]
        fn guards_change_no_bit(
            start in 1e-3f64..1e6,
            moves in proptest::collection::vec(-0.9f64..0.9, 1..400),
            scale in proptest::sample::select(vec![1e-12, 1e-9, 1e-6, 1e-3, 1.0]),
        ) {
            let mut guarded = PricePath::new(start);
            let mut plain = Plain { min: start, max: start, last: start, drawdown: 0.0, drawup: 0.0 };
            let mut price = start;
            for m in moves {
                price *= 1.0 + m * scale;
                guarded.push(price);
                plain.push(price);
                let expected = [plain.min, plain.max, plain.last, plain.drawdown, plain.drawup]
                    .map(f64::to_bits);
                proptest::prop_assert_eq!(bits(&guarded), expected, "at {}", price);
            }
        }
    }

    #[test]
    fn a_fall_to_nearly_nothing_and_back_is_exact() {
        let mut guarded = PricePath::new(100.0);
        let mut plain = Plain {
            min: 100.0,
            max: 100.0,
            last: 100.0,
            drawdown: 0.0,
            drawup: 0.0,
        };
        for price in [
            99.0,
            1e-9,
            2e-9,
            1.5e-9,
            1e-12,
            50.0,
            0.0,
            200.0,
            f64::NAN,
            150.0,
        ] {
            guarded.push(price);
            plain.push(price);
            assert_eq!(
                bits(&guarded),
                [
                    plain.min,
                    plain.max,
                    plain.last,
                    plain.drawdown,
                    plain.drawup
                ]
                .map(f64::to_bits),
                "at {price}"
            );
        }
    }
}
