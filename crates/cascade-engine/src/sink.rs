//! Where events go: the engine keeps no trail, it hands each event to an [`EventSink`].
//!
//! A sink may keep the full trail (`Vec<Event>`), stream it to a file (the CSV and Parquet
//! writers of `cascade-report`), fold it into measures as it passes (the summary and timeline
//! folds of `cascade-analytics`), or drop it ([`Discard`]). [`Tee`] sends every event to two
//! sinks, so one run can fold and write at once without holding the events in memory.
//!
//! Events arrive in the order they happened — (step, phase, round, insertion) — and a sink sees
//! each exactly once. A sink cannot fail the run: a writer that hits an IO error keeps the first
//! one and reports it when it is finished.

use crate::event::Event;

/// Receives the events of a run, in order.
pub trait EventSink {
    /// One event.
    fn record(&mut self, event: &Event);
}

/// The full trail, in memory.
impl EventSink for Vec<Event> {
    fn record(&mut self, event: &Event) {
        self.push(event.clone());
    }
}

impl<S: EventSink + ?Sized> EventSink for &mut S {
    fn record(&mut self, event: &Event) {
        (**self).record(event);
    }
}

impl<S: EventSink + ?Sized> EventSink for Box<S> {
    fn record(&mut self, event: &Event) {
        (**self).record(event);
    }
}

/// Drops every event: for runs where only the final state or a fold elsewhere matters.
#[derive(Clone, Copy, Debug, Default)]
pub struct Discard;

impl EventSink for Discard {
    fn record(&mut self, _event: &Event) {}
}

/// Sends every event to two sinks, the first first.
#[derive(Clone, Debug, Default)]
pub struct Tee<A, B>(pub A, pub B);

impl<A: EventSink, B: EventSink> EventSink for Tee<A, B> {
    fn record(&mut self, event: &Event) {
        self.0.record(event);
        self.1.record(event);
    }
}

/// Counts events (and nothing else): a cheap check that a run produced what it should.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count(pub u64);

impl EventSink for Count {
    fn record(&mut self, _event: &Event) {
        self.0 += 1;
    }
}
