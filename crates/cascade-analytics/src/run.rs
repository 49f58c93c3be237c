//! Everything a run reports from its events, in one pass: [`RunFold`], the summary's fold and
//! the timeline's fold side by side.
//!
//! Handed to the engine as its event sink (alone, or `Tee`'d with a writer of the events), it
//! yields summary.json's and timeline.csv's figures as the run ends, without the run's events
//! ever being held in memory.

use std::borrow::Borrow;

use cascade_engine::{Event, EventSink, World};

use crate::summary::{RunInfo, Summary, SummaryFold};
use crate::timeline::{Timeline, TimelineFold};

/// The summary and the timeline of a run, folded from its events one at a time.
///
/// `W` is how the fold holds the world: `&World`, or `Arc<World>` (see [`SummaryFold`]).
pub struct RunFold<W: Borrow<World>> {
    summary: SummaryFold<W>,
    timeline: TimelineFold,
}

impl<W: Borrow<World>> RunFold<W> {
    /// A fold for a run of `world` (before the run), described by `info`.
    pub fn new(world: W, info: RunInfo) -> Self {
        let timeline = TimelineFold::new(world.borrow());
        Self {
            summary: SummaryFold::new(world, info),
            timeline,
        }
    }

    /// One event; events come in the order of the run.
    pub fn event(&mut self, event: &Event) {
        self.summary.event(event);
        self.timeline.event(event);
    }

    /// The summary and the timeline of the events seen.
    pub fn finish(self) -> (Summary, Timeline) {
        (self.summary.finish(), self.timeline.finish())
    }
}

impl<W: Borrow<World>> EventSink for RunFold<W> {
    fn record(&mut self, event: &Event) {
        self.event(event);
    }
}
