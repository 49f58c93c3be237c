//! events.csv: one row per audit event, the columns every kind shares, then a column per value
//! of the kinds the scenario can give (see [`super::layout`]), blank where a column does not
//! apply to the event's kind.
//!
//! Rows are formatted in parallel, chunk by chunk, and written in event order, so the file is
//! byte-identical whatever the number of threads and however the events are handed in: all at
//! once ([`write_events`]) or one by one as the engine records them ([`CsvEventWriter`]).

use std::io::{self, Write};
use std::sync::Arc;

use cascade_analytics::clock::UtcClock;
use cascade_engine::{Event, EventSink, World};
use rayon::prelude::*;

use super::layout::Layout;
use super::rows::{Key, Value, row};
use crate::background::{Background, Stage};
use crate::{float, write_header};

/// The columns every row has, in order: `time_utc` follows `time_seconds` when the scenario
/// has a start time, and the detail columns follow `closes`.
pub(super) const COLUMNS: [&str; 23] = [
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
];

/// The column the UTC date-time follows.
pub(super) const TIME_SECONDS: usize = 2;

/// Events formatted per parallel task.
const CHUNK: usize = 8_192;
/// Events per batch: formatted while the previous batch is written.
const BATCH: usize = 8 * CHUNK;

/// A world's table: its detail columns, the blank cells of a row without detail, and its start
/// time.
struct Table {
    layout: Layout,
    /// A comma per detail column.
    blank: Vec<u8>,
    /// The Unix time of the run's time 0, when the scenario has one.
    start_time: Option<i64>,
}

impl Table {
    fn new(world: &World) -> Self {
        let layout = Layout::new(world);
        let blank = vec![b','; layout.len()];
        Self {
            layout,
            blank,
            start_time: world.simulation.start_time,
        }
    }

    /// The header's cells.
    fn header(&self) -> Vec<&str> {
        let mut columns: Vec<&str> = COLUMNS.to_vec();
        if self.start_time.is_some() {
            columns.insert(TIME_SECONDS + 1, "time_utc");
        }
        columns.extend(self.layout.names().iter().map(String::as_str));
        columns
    }
}

/// Appends one event's row to `out`.
fn format_event(
    world: &World,
    table: &Table,
    seq: u64,
    event: &Event,
    clock: &mut Option<UtcClock>,
    out: &mut Vec<u8>,
) {
    let mut integer = itoa::Buffer::new();
    let mut real = ryu::Buffer::new();
    let mut row = row(world, event);
    for n in [seq, event.step, event.time] {
        out.extend_from_slice(integer.format(n).as_bytes());
        out.push(b',');
    }
    if let Some(clock) = clock {
        out.extend_from_slice(clock.at(event.time).as_bytes());
        out.push(b',');
    }
    out.extend_from_slice(integer.format(event.round).as_bytes());
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
        out.extend_from_slice(flag(closes));
    }
    if row.detail.is_empty() {
        out.extend_from_slice(&table.blank);
    } else {
        row.detail.sort_unstable_by_key(|(key, _)| *key);
        format_detail(table, &row.detail, out);
    }
    out.push(b'\n');
}

/// Appends the detail cells of a row, `detail` sorted by key (the columns' order): each column
/// a comma and its value, blank where the row has none.
fn format_detail(table: &Table, detail: &[(Key, Value<'_>)], out: &mut Vec<u8>) {
    let mut integer = itoa::Buffer::new();
    let mut real = ryu::Buffer::new();
    let layout = &table.layout;
    // The next column to write: the columns before it are written.
    let mut next = 0;
    let skip_to = |out: &mut Vec<u8>, column: usize, next: &mut usize| {
        debug_assert!(column >= *next, "detail column {column} written twice");
        out.extend_from_slice(&table.blank[..column.saturating_sub(*next) + 1]);
        *next = column + 1;
    };
    for (key, value) in detail {
        let column = layout.column(*key);
        debug_assert!(column.is_some() || value.is_zero(), "no column for {key:?}");
        match *value {
            Value::Real(v) => {
                if let Some(c) = column {
                    skip_to(out, c, &mut next);
                    out.extend_from_slice(float(&mut real, v).as_bytes());
                }
            }
            Value::Int(n) | Value::Room(n) => {
                if let Some(c) = column {
                    skip_to(out, c, &mut next);
                    // A room without limit is blank: the column holds numbers.
                    if !matches!(value, Value::Room(u64::MAX)) {
                        out.extend_from_slice(integer.format(n).as_bytes());
                    }
                }
            }
            Value::Flag(b) => {
                if let Some(c) = column {
                    skip_to(out, c, &mut next);
                    out.extend_from_slice(flag(b));
                }
            }
            Value::Name(text) => {
                if let Some(c) = column {
                    skip_to(out, c, &mut next);
                    push_text(out, text);
                }
            }
            Value::Account(account) => {
                if let Some(c) = column {
                    skip_to(out, c, &mut next);
                    match account.label() {
                        Some(label) => push_text(out, label),
                        None => out.extend_from_slice(integer.format(account.index()).as_bytes()),
                    }
                }
            }
            Value::Assets(_) | Value::Markets(..) => {
                layout.cells(*key, value, |c, v| {
                    skip_to(out, c, &mut next);
                    out.extend_from_slice(float(&mut real, v).as_bytes());
                });
            }
        }
    }
    out.extend_from_slice(&table.blank[..layout.len().saturating_sub(next)]);
}

/// A flag's cell.
fn flag(value: bool) -> &'static [u8] {
    if value { b"true" } else { b"false" }
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
    fn start(&mut self, table: &Table, out: &mut (dyn Write + Send)) -> io::Result<()> {
        if !self.started {
            let mut line = Vec::new();
            write_header(table.header(), &mut line)?;
            out.write_all(&line)?;
            self.started = true;
        }
        Ok(())
    }

    /// Formats `batch` while writing the previous batch.
    fn push(
        &mut self,
        world: &World,
        table: &Table,
        batch: &[Event],
        out: &mut (dyn Write + Send),
    ) -> io::Result<()> {
        self.start(table, out)?;
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
                        let mut clock = table.start_time.map(UtcClock::new);
                        let start = first + (c * CHUNK) as u64;
                        for (i, event) in chunk.iter().enumerate() {
                            format_event(world, table, start + i as u64, event, &mut clock, buffer);
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
    fn flush(&mut self, table: &Table, out: &mut (dyn Write + Send)) -> io::Result<()> {
        self.start(table, out)?;
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
    let table = Table::new(world);
    let mut formatter = Formatter::new();
    for batch in events.chunks(BATCH) {
        formatter.push(world, &table, batch, out)?;
    }
    formatter.flush(&table, out)
}

/// The writing thread's half of a [`CsvEventWriter`].
struct CsvStage<W> {
    world: Arc<World>,
    table: Table,
    out: W,
    formatter: Formatter,
}

impl<W: Write + Send + 'static> Stage for CsvStage<W> {
    type Output = W;

    fn write(&mut self, events: &[Event]) -> io::Result<()> {
        self.formatter
            .push(&self.world, &self.table, events, &mut self.out)
    }

    fn finish(mut self) -> io::Result<W> {
        self.formatter.flush(&self.table, &mut self.out)?;
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
            table: Table::new(&world),
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
