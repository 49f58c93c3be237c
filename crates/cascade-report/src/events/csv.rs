//! events.csv: one row per audit event, a fixed set of columns, blank where a column does not
//! apply to the event kind.
//!
//! Rows are formatted in parallel, chunk by chunk, and written in event order, so the file is
//! byte-identical whatever the number of threads and however the events are handed in: all at
//! once ([`write_events`]) or one by one as the engine records them ([`CsvEventWriter`]).

use std::io::{self, Write};
use std::sync::Arc;

use cascade_engine::{Event, EventSink, World};
use rayon::prelude::*;

use super::rows::{row, write_detail};
use crate::background::{Background, Stage};
use crate::float;

/// The columns of events.csv, in order.
pub(super) const COLUMNS: [&str; 24] = [
    "seq",
    "step",
    "time_seconds",
    "round",
    "kind",
    "protocol",
    "account",
    "keeper",
    "venue",
    "oracle",
    "asset",
    "units",
    "price",
    "usd",
    "debt_asset",
    "debt_units",
    "health_factor",
    "to_keeper",
    "protocol_fee",
    "filled",
    "price_after",
    "liquidatable_since",
    "closes",
    "detail",
];

/// Events formatted per parallel task.
const CHUNK: usize = 8_192;
/// Events per batch: formatted while the previous batch is written.
const BATCH: usize = 8 * CHUNK;

/// Appends one event's row to `out`; `detail` is scratch space.
fn format_event(world: &World, seq: u64, event: &Event, detail: &mut String, out: &mut Vec<u8>) {
    let mut integer = itoa::Buffer::new();
    let mut real = ryu::Buffer::new();
    let row = row(world, event);
    for (i, n) in [seq, event.step, event.time, u64::from(event.round)]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(integer.format(n).as_bytes());
    }
    out.push(b',');
    out.extend_from_slice(event.kind.name().as_bytes());
    out.push(b',');
    push_text(out, row.protocol);
    out.push(b',');
    if let Some(account) = row.account {
        match account.label() {
            Some(label) => push_text(out, label),
            None => out.extend_from_slice(integer.format(account.index()).as_bytes()),
        }
    }
    for text in [row.keeper, row.venue, row.oracle, row.asset] {
        out.push(b',');
        push_text(out, text);
    }
    let mut number = |out: &mut Vec<u8>, value: Option<f64>| {
        out.push(b',');
        if let Some(v) = value {
            out.extend_from_slice(float(&mut real, v).as_bytes());
        }
    };
    number(out, row.units);
    number(out, row.price);
    number(out, row.usd);
    out.push(b',');
    push_text(out, row.debt_asset);
    for value in [
        row.debt_units,
        row.health_factor,
        row.to_keeper,
        row.protocol_fee,
        row.filled,
        row.price_after,
    ] {
        number(out, value);
    }
    out.push(b',');
    if let Some(since) = row.liquidatable_since {
        out.extend_from_slice(integer.format(since).as_bytes());
    }
    out.push(b',');
    if let Some(closes) = row.closes {
        out.extend_from_slice(if closes { b"true" } else { b"false" });
    }
    out.push(b',');
    detail.clear();
    write_detail(world, &row.detail, detail);
    push_text(out, detail.trim());
    out.push(b'\n');
}

/// Appends a CSV field, quoting it when it holds a comma, quote or newline.
fn push_text(out: &mut Vec<u8>, text: &str) {
    if text.contains([',', '"', '\n']) {
        out.push(b'"');
        out.extend_from_slice(text.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

/// Formats events batch by batch and writes them in order: each batch is formatted in parallel
/// (a chunk of [`CHUNK`] events per task) while the previous one is written. Two sets of chunk
/// buffers are reused throughout.
struct Formatter {
    /// Buffers the next batch is formatted into.
    formatting: Vec<Vec<u8>>,
    /// Buffers of the batch formatted last, of which the first `pending` are to be written.
    written: Vec<Vec<u8>>,
    pending: usize,
    /// `seq` of the next event.
    seq: u64,
    /// Whether the header line is written.
    started: bool,
}

impl Formatter {
    fn new() -> Self {
        Self {
            formatting: Vec::new(),
            written: Vec::new(),
            pending: 0,
            seq: 0,
            started: false,
        }
    }

    /// Writes the header line, once.
    fn start(&mut self, out: &mut (dyn Write + Send)) -> io::Result<()> {
        if !self.started {
            writeln!(out, "{}", COLUMNS.join(","))?;
            self.started = true;
        }
        Ok(())
    }

    /// Formats `batch` while writing the previous batch.
    fn push(
        &mut self,
        world: &World,
        batch: &[Event],
        out: &mut (dyn Write + Send),
    ) -> io::Result<()> {
        self.start(out)?;
        let chunks = batch.len().div_ceil(CHUNK);
        if self.formatting.len() < chunks {
            self.formatting
                .resize_with(chunks, || Vec::with_capacity(CHUNK * 200));
        }
        let first = self.seq;
        let (written, ()) = rayon::join(
            || write_buffers(out, &self.written[..self.pending]),
            || {
                self.formatting[..chunks]
                    .par_iter_mut()
                    .zip(batch.par_chunks(CHUNK))
                    .enumerate()
                    .for_each(|(c, (buffer, chunk))| {
                        buffer.clear();
                        let mut detail = String::new();
                        let start = first + (c * CHUNK) as u64;
                        for (i, event) in chunk.iter().enumerate() {
                            format_event(world, start + i as u64, event, &mut detail, buffer);
                        }
                    });
            },
        );
        written?;
        std::mem::swap(&mut self.formatting, &mut self.written);
        self.pending = chunks;
        self.seq += batch.len() as u64;
        Ok(())
    }

    /// Writes the last batch formatted.
    fn flush(&mut self, out: &mut (dyn Write + Send)) -> io::Result<()> {
        self.start(out)?;
        write_buffers(out, &self.written[..self.pending])?;
        self.pending = 0;
        out.flush()
    }
}

fn write_buffers(out: &mut (dyn Write + Send), buffers: &[Vec<u8>]) -> io::Result<()> {
    buffers.iter().try_for_each(|buffer| out.write_all(buffer))
}

/// Writes events.csv from a run's whole trail.
///
/// # Errors
/// IO errors of the writer.
pub fn write_events(
    world: &World,
    events: &[Event],
    out: &mut (impl Write + Send),
) -> io::Result<()> {
    let mut formatter = Formatter::new();
    for batch in events.chunks(BATCH) {
        formatter.push(world, batch, out)?;
    }
    formatter.flush(out)
}

/// The writing thread's half of a [`CsvEventWriter`].
struct CsvStage<W> {
    world: Arc<World>,
    out: W,
    formatter: Formatter,
}

impl<W: Write + Send + 'static> Stage for CsvStage<W> {
    type Output = W;

    fn write(&mut self, events: &[Event]) -> io::Result<()> {
        self.formatter.push(&self.world, events, &mut self.out)
    }

    fn finish(mut self) -> io::Result<W> {
        self.formatter.flush(&mut self.out)?;
        Ok(self.out)
    }
}

/// Streams events.csv as the engine records events: byte-identical to [`write_events`] on the
/// same events, in bounded memory.
///
/// Events are gathered in chunks ([`CsvEventWriter::CHUNK_EVENTS`] by default) and handed to a
/// thread that owns the writer, formats each chunk in parallel and writes it in order. A full
/// chunk waits in a bounded queue, so a slow disk slows the run down rather than filling memory.
/// Hand it a buffered writer or a file: it writes large blocks. The first IO error stops the
/// writing (later events are dropped) and is returned by [`CsvEventWriter::finish`].
pub struct CsvEventWriter<W: Write + Send + 'static> {
    pipeline: Background<W>,
}

impl<W: Write + Send + 'static> CsvEventWriter<W> {
    /// Events handed to the writing thread at a time, by default: with those waiting and the
    /// text formatted, the writer holds some 30 MB at most.
    pub const CHUNK_EVENTS: usize = 4 * CHUNK;

    /// A writer of events.csv into `out`, with the names of `world`.
    ///
    /// # Errors
    /// The writing thread could not be started.
    pub fn new(world: Arc<World>, out: W) -> io::Result<Self> {
        Self::with_chunk_size(world, out, Self::CHUNK_EVENTS)
    }

    /// As [`CsvEventWriter::new`], handing events over `chunk` at a time (at least 1). The
    /// output does not depend on it.
    ///
    /// # Errors
    /// The writing thread could not be started.
    pub fn with_chunk_size(world: Arc<World>, out: W, chunk: usize) -> io::Result<Self> {
        let stage = CsvStage {
            world,
            out,
            formatter: Formatter::new(),
        };
        Ok(Self {
            pipeline: Background::spawn("events-csv", chunk, stage)?,
        })
    }

    /// Writes the events still buffered, flushes the writer and returns it.
    ///
    /// # Errors
    /// The first IO error met while writing.
    pub fn finish(self) -> io::Result<W> {
        self.pipeline.finish()
    }
}

impl<W: Write + Send + 'static> EventSink for CsvEventWriter<W> {
    fn record(&mut self, event: &Event) {
        self.pipeline.record(event);
    }
}
