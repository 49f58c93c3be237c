//! Phase 2's market makers: each venue that has them sets its depth fraction from the realised
//! volatility of its own price (`cascade_model::market_maker`).
//!
//! The makers observe the venue's price once a step, at the start of phase 2 just after transient
//! impact has recovered: the price they would see on their screens when they decide how much to
//! quote, which already carries the step's fundamental move and whatever forced selling of earlier
//! steps has not recovered. Observing there rather than at the previous step's end lets a shock
//! thin the book before the step's liquidations sell into it (makers pull quotes fast), while the
//! step's own sales reach the makers at the next step: forced selling that moves the venue raises
//! its volatility and thins it further. The opening price is observed at the initial instant, so
//! the first step already has a return.

use crate::sink::EventSink;
use cascade_model::ids::VenueId;

use super::Cx;
use crate::event::EventKind;

impl<S: EventSink> Cx<'_, S> {
    /// Lets venue `v`'s market makers, if any, watch its price and set its depth for the next
    /// `dt` seconds; records `DepthChanged` when the depth moved (the price move it causes is
    /// recorded by the caller with the venue's other moves).
    pub(super) fn adjust_depth(&mut self, v: VenueId, dt: u64) {
        let base = self.world.venues[v.index()].base;
        let fundamental = self.path.state.fundamentals[base.index()].price();
        if let Some(change) = self.path.state.venues[v.index()].adjust_depth(fundamental, dt) {
            self.emit(
                0,
                EventKind::DepthChanged {
                    venue: v,
                    depth: change.depth,
                    volatility: change.daily_volatility,
                },
            );
        }
    }

    /// The initial instant: the makers see the opening price (one price, no volatility yet, so
    /// the depth cannot change).
    pub(super) fn watch_opening_prices(&mut self) {
        for v in 0..self.world.venues.len() {
            self.adjust_depth(VenueId(v as u32), 0);
        }
    }
}
