//! Sinks that work on a thread of their own: events gathered in chunks on the engine's thread
//! and handed, through a bounded channel, to a thread that owns the work — an events file being
//! written, or folds being summed — so the engine does not wait for it.
//!
//! At most `DEPTH` full chunks wait in the channel, one is being filled and one is being worked
//! on, so memory stays bounded whatever the length of the run. Emptied chunks come back to be
//! refilled, so their allocations are reused. The thread sees the events in the order of the
//! run, so its output is the same as if it had been handed them one by one.

use std::io;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, JoinHandle};

use cascade_engine::{Event, EventSink};

/// Full chunks that may wait for the writing thread before `record` blocks.
const DEPTH: usize = 2;

/// What the background thread does with the chunks, in order.
pub trait Stage: Send + 'static {
    /// What the stage hands back when it is done (the output).
    type Output: Send + 'static;

    /// Works on the next events.
    ///
    /// # Errors
    /// An IO error of the output; the thread stops at the first.
    fn write(&mut self, events: &[Event]) -> io::Result<()>;

    /// Writes what is left and returns the output.
    ///
    /// # Errors
    /// An IO error of the output.
    fn finish(self) -> io::Result<Self::Output>;
}

/// Any sink as a background stage (folds, counters): it records every event and is handed
/// back whole at the end.
#[derive(Debug)]
pub struct SinkStage<S>(pub S);

impl<S: EventSink + Send + 'static> Stage for SinkStage<S> {
    type Output = S;

    fn write(&mut self, events: &[Event]) -> io::Result<()> {
        events.iter().for_each(|event| self.0.record(event));
        Ok(())
    }

    fn finish(self) -> io::Result<S> {
        Ok(self.0)
    }
}

/// The engine's side of a stage on its own thread: an [`EventSink`].
pub struct Background<O> {
    chunk: Vec<Event>,
    size: usize,
    /// `None` once the writing thread stopped (it failed; its error comes out of `finish`).
    full: Option<SyncSender<Vec<Event>>>,
    empty: Receiver<Vec<Event>>,
    worker: Option<JoinHandle<io::Result<O>>>,
}

impl<S: EventSink + Send + 'static> Background<S> {
    /// Runs `sink` on a thread of its own (named `name`), handed `size` events at a time;
    /// [`Background::finish`] gives it back.
    ///
    /// # Errors
    /// The thread could not be started.
    pub fn sink(name: &str, size: usize, sink: S) -> io::Result<Self> {
        Self::spawn(name, size, SinkStage(sink))
    }
}

impl<O: Send + 'static> Background<O> {
    /// Starts the stage's thread. `size` is the number of events per chunk (at least 1).
    ///
    /// # Errors
    /// The thread could not be started.
    pub fn spawn<S: Stage<Output = O>>(name: &str, size: usize, mut stage: S) -> io::Result<Self> {
        let size = size.max(1);
        let (full, chunks) = mpsc::sync_channel::<Vec<Event>>(DEPTH);
        let (recycle, empty) = mpsc::channel();
        let worker = thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                for mut chunk in chunks {
                    stage.write(&chunk)?;
                    chunk.clear();
                    // The engine's side may be gone already (it is finishing).
                    let _ = recycle.send(chunk);
                }
                stage.finish()
            })?;
        Ok(Self {
            chunk: Vec::with_capacity(size),
            size,
            full: Some(full),
            empty,
            worker: Some(worker),
        })
    }

    /// Adds an event; hands the chunk over when it is full.
    fn push(&mut self, event: &Event) {
        if self.full.is_none() {
            return;
        }
        self.chunk.push(event.clone());
        if self.chunk.len() >= self.size {
            self.hand_over();
        }
    }

    fn hand_over(&mut self) {
        let next = self
            .empty
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(self.size));
        let chunk = std::mem::replace(&mut self.chunk, next);
        if let Some(full) = &self.full {
            if full.send(chunk).is_err() {
                // The writing thread stopped on an error: drop the rest of the events.
                self.full = None;
                self.chunk = Vec::new();
            }
        }
    }

    /// Hands over the last chunk, waits for the stage's thread and returns its output, or the
    /// first error it met.
    ///
    /// # Errors
    /// The first IO error of the output.
    pub fn finish(mut self) -> io::Result<O> {
        self.stop()
    }

    fn stop(&mut self) -> io::Result<O> {
        if !self.chunk.is_empty() {
            self.hand_over();
        }
        self.full = None;
        let worker = self
            .worker
            .take()
            .ok_or_else(|| io::Error::other("background sink already finished"))?;
        match worker.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl<O: Send + 'static> EventSink for Background<O> {
    fn record(&mut self, event: &Event) {
        self.push(event);
    }
}

impl<O> Drop for Background<O> {
    /// A stage dropped without `finish` still sees every event (errors are lost, as with a
    /// `BufWriter`), and its thread does not outlive it.
    fn drop(&mut self) {
        if let Some(worker) = self.worker.take() {
            if let Some(full) = self.full.take() {
                if !self.chunk.is_empty() {
                    let _ = full.send(std::mem::take(&mut self.chunk));
                }
            }
            let _ = worker.join();
        }
    }
}
