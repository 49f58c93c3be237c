//! The depth that venues' market makers quoted: `venues.<NAME>` of summary.json and the
//! `depth_<VENUE>` columns of timeline.csv, folded from the `DepthChanged` events.
//!
//! Only venues with market makers appear, so scenarios without them have neither the object nor
//! the columns and their outputs are unchanged.

use std::collections::BTreeMap;

use cascade_engine::{Event, EventKind, World};
use cascade_model::ids::VenueId;
use serde::Serialize;

/// `venues.<NAME>`, for a venue with market makers.
#[derive(Clone, Debug, Serialize)]
pub struct VenueSummary {
    /// The thinnest the book was, as a fraction of the full book (1 if never thinned).
    pub min_depth_fraction: f64,
    /// The depth fraction at the end.
    pub final_depth_fraction: f64,
    /// The highest daily realised volatility of the venue's price that the makers acted on (the
    /// largest carried by its `DepthChanged` events; 0 if none). Volatility beyond what takes the
    /// book to its minimum depth changes nothing and is not recorded.
    pub max_daily_volatility: f64,
    /// How many times the makers changed the depth.
    pub depth_changes: u64,
}

impl Default for VenueSummary {
    fn default() -> Self {
        Self {
            min_depth_fraction: 1.0,
            final_depth_fraction: 1.0,
            max_daily_volatility: 0.0,
            depth_changes: 0,
        }
    }
}

/// The venues with market makers, in venue order.
pub fn venues_with_market_makers(world: &World) -> Vec<VenueId> {
    world
        .initial
        .venues
        .iter()
        .enumerate()
        .filter(|(_, venue)| venue.market_makers().is_some())
        .map(|(v, _)| VenueId(v as u32))
        .collect()
}

/// The fold of `venues.<NAME>.*`.
///
/// State: per venue with market makers, its summary so far.
pub(crate) struct DepthFold {
    venues: Vec<Option<VenueSummary>>,
}

impl DepthFold {
    pub(crate) fn new(world: &World) -> Self {
        let mut venues = vec![None; world.venues.len()];
        for v in venues_with_market_makers(world) {
            venues[v.index()] = Some(VenueSummary::default());
        }
        Self { venues }
    }

    pub(crate) fn event(&mut self, event: &Event) {
        if let EventKind::DepthChanged {
            venue,
            depth,
            volatility,
        } = &event.kind
        {
            if let Some(s) = &mut self.venues[venue.index()] {
                s.min_depth_fraction = s.min_depth_fraction.min(*depth);
                s.final_depth_fraction = *depth;
                s.max_daily_volatility = s.max_daily_volatility.max(*volatility);
                s.depth_changes += 1;
            }
        }
    }

    /// `venues.<NAME>` for each venue with market makers (empty when there are none).
    pub(crate) fn finish(self, world: &World) -> BTreeMap<String, VenueSummary> {
        world
            .venues
            .iter()
            .zip(self.venues)
            .filter_map(|(info, s)| Some((info.name.clone(), s?)))
            .collect()
    }
}
