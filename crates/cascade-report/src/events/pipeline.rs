//! The background half of a streaming events writer: events gathered in chunks on the engine's
//! thread and handed, through a bounded channel, to a thread that owns the output.
//!
//! At most `DEPTH` full chunks wait in the channel, one is being filled and one is being written,
//! so memory stays bounded whatever the length of the run. Emptied chunks come back to be
//! refilled, so their allocations are reused.

use std::io;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, JoinHandle};

use cascade_engine::Event;

/// Full chunks that may wait for the writing thread before `record` blocks.
const DEPTH: usize = 2;

/// What the writing thread does with the chunks, in order.
pub(super) trait Stage: Send + 'static {
    /// What the stage hands back when it is done (the output).
    type Output: Send + 'static;

    /// Writes the next events.
    fn write(&mut self, events: &[Event]) -> io::Result<()>;

    /// Writes what is left and returns the output.
    fn finish(self) -> io::Result<Self::Output>;
}

/// The engine's side of the pipeline.
pub(super) struct Pipeline<O> {
    chunk: Vec<Event>,
    size: usize,
    /// `None` once the writing thread stopped (it failed; its error comes out of `finish`).
    full: Option<SyncSender<Vec<Event>>>,
    empty: Receiver<Vec<Event>>,
    worker: Option<JoinHandle<io::Result<O>>>,
}

impl<O: Send + 'static> Pipeline<O> {
    /// Starts the writing thread. `size` is the number of events per chunk (at least 1).
    ///
    /// # Errors
    /// The thread could not be started.
    pub(super) fn spawn<S: Stage<Output = O>>(
        name: &str,
        size: usize,
        mut stage: S,
    ) -> io::Result<Self> {
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
    pub(super) fn record(&mut self, event: &Event) {
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

    /// Hands over the last chunk, waits for the writing thread and returns its output, or the
    /// first error it met.
    ///
    /// # Errors
    /// The first IO error of the output.
    pub(super) fn finish(mut self) -> io::Result<O> {
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
            .ok_or_else(|| io::Error::other("events writer already finished"))?;
        match worker.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl<O> Drop for Pipeline<O> {
    /// A writer dropped without `finish` still writes everything (errors are lost, as with a
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
