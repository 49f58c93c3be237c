//! Prices, drops and rises (summary.json `assets.<SYMBOL>`): each asset's fundamental path, its
//! primary venue's path (moves, keepers' and vaults' sales, perp closes, inside cascade rounds
//! too), their largest drawdowns and run-ups, and the largest gaps of the venue below and above
//! the fundamental.
//!
//! State: one path per asset and per venue, and the latest price of each.

use std::collections::BTreeMap;

use cascade_engine::{Event, EventKind, World};
use cascade_model::ids::VenueId;

use crate::summary::AssetSummary;

/// Tracks the largest drawdown, minimum and last value of a price path.
#[derive(Clone, Copy, Debug)]
struct PricePath {
    start: f64,
    min: f64,
    max: f64,
    last: f64,
    peak: f64,
    drawdown: f64,
    trough: f64,
    drawup: f64,
}

impl PricePath {
    fn new(start: f64) -> Self {
        Self {
            start,
            min: start,
            max: start,
            last: start,
            peak: start,
            drawdown: 0.0,
            trough: start,
            drawup: 0.0,
        }
    }

    fn push(&mut self, price: f64) {
        self.last = price;
        self.min = self.min.min(price);
        self.peak = self.peak.max(price);
        self.max = self.max.max(price);
        if self.peak > 0.0 {
            self.drawdown = self.drawdown.max((self.peak - price) / self.peak);
        }
        self.trough = self.trough.min(price);
        if self.trough > 0.0 {
            self.drawup = self.drawup.max((price - self.trough) / self.trough);
        }
    }

    /// Starts the path at its first price or extends it.
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
                self.fundamental_now[asset.index()] = *price;
                PricePath::record(&mut self.fundamentals[asset.index()], *price);
            }
            EventKind::VenuePriceMoved { venue, price } => {
                self.venue_now[venue.index()] = *price;
                PricePath::record(&mut self.venues[venue.index()], *price);
            }
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

    /// A trade moved a venue's price (a path not yet started by a move stays unstarted).
    fn traded(&mut self, venue: VenueId, price: f64) {
        if let Some(p) = &mut self.venues[venue.index()] {
            p.push(price);
        }
        self.venue_now[venue.index()] = price;
        self.gap();
    }

    fn gap(&mut self) {
        for (a, venue) in self.primary.iter().enumerate() {
            if let Some(v) = venue {
                let (f, p) = (self.fundamental_now[a], self.venue_now[v.index()]);
                if f > 0.0 && p.is_finite() {
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
