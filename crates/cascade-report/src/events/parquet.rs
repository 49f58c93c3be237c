//! events.parquet: the audit trail as one wide table of typed columns.
//!
//! Its rows and columns are events.csv's: the same events in the same order, the same `seq`,
//! the same columns in the same order, typed (numbers as numbers, names as dictionary-encoded
//! strings, `time_utc` as a UTC timestamp, blanks as nulls). docs/outputs.md lists every column.

use std::io::{self, Write};
use std::sync::Arc;

use arrow_array::builder::{ArrayBuilder, BooleanBuilder, StringBuilder, UInt32Builder};
use arrow_array::types::{
    ArrowPrimitiveType, Float64Type, Int32Type, TimestampMillisecondType, UInt64Type,
};
use arrow_array::{
    ArrayRef, DictionaryArray, PrimitiveArray, RecordBatch, StringArray, new_null_array,
};
use arrow_buffer::{BooleanBufferBuilder, NullBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use cascade_engine::{Event, EventSink, World};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use super::csv::{COLUMNS, TIME_SECONDS};
use super::layout::Layout;
use super::rows::{Account, Key, Type, Value, row};
use crate::background::{Background, Stage};

/// The types of events.csv's columns every row has ([`COLUMNS`]).
const FIXED: [Kind; 23] = [
    Kind::U64,  // seq
    Kind::U64,  // step
    Kind::U64,  // time_seconds
    Kind::U32,  // round
    Kind::Name, // kind
    Kind::Name, // protocol
    Kind::Text, // account
    Kind::Name, // keeper
    Kind::Name, // venue
    Kind::Name, // oracle
    Kind::Name, // asset
    Kind::Real, // units
    Kind::Real, // price
    Kind::Real, // usd
    Kind::Name, // debt_asset
    Kind::Real, // debt_units
    Kind::Real, // health_factor
    Kind::Real, // to_keeper
    Kind::Real, // protocol_fee
    Kind::Real, // filled
    Kind::Real, // price_after
    Kind::U64,  // liquidatable_since
    Kind::Flag, // closes
];

/// Columns that every row fills (the others are nullable).
const NOT_NULL: [&str; 6] = ["seq", "step", "time_seconds", "time_utc", "round", "kind"];

/// The time zone of `time_utc`.
const UTC: &str = "UTC";

/// Rows per row group: a reader's unit of work, and what the writer holds before writing.
const ROW_GROUP: usize = 128 * 1024;

/// The Arrow type of a column.
#[derive(Clone, Copy)]
enum Kind {
    U64,
    U32,
    Real,
    Flag,
    /// A dictionary-encoded string (few distinct values).
    Name,
    /// A plain string.
    Text,
    /// A UTC date-time, in milliseconds (whole seconds).
    Utc,
}

impl Kind {
    /// The type of a key's columns (per asset, each a number).
    fn of(key: Key) -> Self {
        match key.ty() {
            Type::Real | Type::PerAsset | Type::PerMarket => Self::Real,
            Type::Int | Type::Room => Self::U64,
            Type::Flag => Self::Flag,
            Type::Name => Self::Name,
            Type::Account => Self::Text,
        }
    }

    fn builder(self) -> Builder {
        match self {
            Self::U64 => Builder::U64(Sparse::default()),
            Self::U32 => Builder::U32(UInt32Builder::new()),
            Self::Real => Builder::Real(Sparse::default()),
            Self::Flag => Builder::Flag(BooleanBuilder::new()),
            Self::Name => Builder::Name(NameBuilder::default()),
            Self::Text => Builder::Text(StringBuilder::new()),
            Self::Utc => Builder::Utc(Sparse::default()),
        }
    }
}

/// A dictionary-encoded name column: keys numbered in order of first appearance within a
/// batch, as arrow's `StringDictionaryBuilder` numbers them, but found by comparing with the
/// few names seen so far (a column holds a handful: kinds, protocols, keepers, assets) instead
/// of hashing every row's name.
#[derive(Default)]
struct NameBuilder {
    keys: Sparse<Int32Type>,
    names: Vec<String>,
}

impl NameBuilder {
    fn len(&self) -> usize {
        self.keys.len()
    }

    /// Sets row `row` to `name` (after every row set so far).
    fn set(&mut self, row: usize, name: &str) {
        let key = match self.names.iter().position(|n| n == name) {
            Some(key) => key,
            None => {
                self.names.push(name.to_string());
                self.names.len() - 1
            }
        };
        // A batch holds at most ROW_GROUP rows, so at most that many names.
        self.keys.set(row, key as i32);
    }

    fn append_nulls(&mut self, n: usize) {
        self.keys.append_nulls(n);
    }

    /// The batch's column, and a fresh dictionary for the next batch.
    fn finish(&mut self) -> DictionaryArray<Int32Type> {
        let values = StringArray::from_iter_values(self.names.drain(..));
        DictionaryArray::new(self.keys.finish(), Arc::new(values))
    }
}

/// A numeric column of a batch, kept sparse: most events fill a few of the many columns, so a
/// column holds the rows that have a value and those values, and the Arrow array — zeroed
/// values and a validity bitmap, with the values scattered in — is built once at the batch's
/// end, where a builder would write a null into every row without one.
struct Sparse<T: ArrowPrimitiveType> {
    rows: Vec<u32>,
    values: Vec<T::Native>,
    /// Rows so far, with a value or without.
    len: usize,
}

impl<T: ArrowPrimitiveType> Default for Sparse<T> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            values: Vec::new(),
            len: 0,
        }
    }
}

impl<T: ArrowPrimitiveType> Sparse<T> {
    fn len(&self) -> usize {
        self.len
    }

    /// Sets row `row` (after every row set so far; the rows between are nulls).
    fn set(&mut self, row: usize, value: T::Native) {
        debug_assert!(row >= self.len, "row {row} set twice or out of order");
        // A batch holds at most ROW_GROUP rows.
        self.rows.push(row as u32);
        self.values.push(value);
        self.len = row + 1;
    }

    fn append_nulls(&mut self, n: usize) {
        self.len += n;
    }

    /// The batch's column (nulls where no value was set; no validity bitmap when every row
    /// has one, as a builder leaves it), and an empty column for the next batch.
    fn finish(&mut self) -> PrimitiveArray<T> {
        let len = std::mem::take(&mut self.len);
        let mut values = vec![T::Native::default(); len];
        let nulls = (self.rows.len() < len).then(|| {
            let mut valid = BooleanBufferBuilder::new(len);
            valid.append_n(len, false);
            for &row in &self.rows {
                valid.set_bit(row as usize, true);
            }
            NullBuffer::new(valid.finish())
        });
        for (&row, &value) in self.rows.iter().zip(&self.values) {
            values[row as usize] = value;
        }
        self.rows.clear();
        self.values.clear();
        PrimitiveArray::new(ScalarBuffer::from(values), nulls)
    }
}

/// One column being built.
enum Builder {
    U64(Sparse<UInt64Type>),
    U32(UInt32Builder),
    Real(Sparse<Float64Type>),
    Flag(BooleanBuilder),
    Name(NameBuilder),
    Text(StringBuilder),
    Utc(Sparse<TimestampMillisecondType>),
}

impl Builder {
    fn len(&self) -> usize {
        match self {
            Self::U64(b) => b.len(),
            Self::U32(b) => b.len(),
            Self::Real(b) => b.len(),
            Self::Flag(b) => b.len(),
            Self::Name(b) => b.len(),
            Self::Text(b) => b.len(),
            Self::Utc(b) => b.len(),
        }
    }

    /// Appends nulls until the column has `rows` rows.
    fn pad(&mut self, rows: usize) {
        let n = rows.saturating_sub(self.len());
        if n == 0 {
            return;
        }
        match self {
            Self::U64(b) => b.append_nulls(n),
            Self::U32(b) => b.append_nulls(n),
            Self::Real(b) => b.append_nulls(n),
            Self::Flag(b) => b.append_nulls(n),
            Self::Name(b) => b.append_nulls(n),
            Self::Text(b) => b.append_nulls(n),
            Self::Utc(b) => b.append_nulls(n),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Self::U64(b) => Arc::new(b.finish()),
            Self::U32(b) => Arc::new(b.finish()),
            Self::Real(b) => Arc::new(b.finish()),
            Self::Flag(b) => Arc::new(b.finish()),
            Self::Name(b) => Arc::new(b.finish()),
            Self::Text(b) => Arc::new(b.finish()),
            Self::Utc(b) => Arc::new(b.finish().with_timezone(UTC)),
        }
    }
}

/// The columns of the rows gathered since the last batch. Cells are set row by row; a column
/// not set in a row is padded with a null when the next value comes, or at the batch's end, and
/// a column not set at all in a batch is a null array, which costs no writes.
struct Columns {
    /// Each column's name.
    names: Vec<String>,
    builders: Vec<Builder>,
    /// The Arrow type of each column.
    types: Vec<DataType>,
    /// The detail columns, which follow the columns every row has.
    layout: Layout,
    /// Whether `time_utc` follows `time_seconds`: the Unix time of the run's time 0.
    start_time: Option<i64>,
    rows: usize,
    /// Scratch for an account's index as text.
    integer: itoa::Buffer,
    /// Per column, its last all-null array.
    nulls: Vec<Option<ArrayRef>>,
}

impl Columns {
    fn new(world: &World) -> Self {
        let layout = Layout::new(world);
        let start_time = world.simulation.start_time;
        let mut columns: Vec<(String, Kind)> = COLUMNS
            .iter()
            .zip(FIXED)
            .map(|(name, kind)| (name.to_string(), kind))
            .collect();
        if start_time.is_some() {
            columns.insert(TIME_SECONDS + 1, ("time_utc".to_string(), Kind::Utc));
        }
        columns.extend(
            layout
                .names()
                .iter()
                .zip(layout.keys())
                .map(|(name, &key)| (name.clone(), Kind::of(key))),
        );
        let builders = || columns.iter().map(|(_, kind)| kind.builder());
        Self {
            builders: builders().collect(),
            types: builders()
                .map(|mut b| b.finish().data_type().clone())
                .collect(),
            nulls: vec![None; columns.len()],
            names: columns.into_iter().map(|(name, _)| name).collect(),
            layout,
            start_time,
            rows: 0,
            integer: itoa::Buffer::new(),
        }
    }

    /// How many columns precede the detail's.
    fn fixed(&self) -> usize {
        COLUMNS.len() + usize::from(self.start_time.is_some())
    }

    /// The Arrow schema of the columns.
    fn schema(&self) -> SchemaRef {
        let fields: Vec<Field> = self
            .names
            .iter()
            .zip(&self.types)
            .map(|(name, ty)| Field::new(name, ty.clone(), !NOT_NULL.contains(&name.as_str())))
            .collect();
        Arc::new(Schema::new(fields))
    }

    /// Column `c`, padded to the current row.
    fn at(&mut self, c: usize) -> &mut Builder {
        let builder = &mut self.builders[c];
        builder.pad(self.rows);
        debug_assert_eq!(builder.len(), self.rows, "column {c} set twice in a row");
        builder
    }

    fn int(&mut self, c: usize, value: Option<u64>) {
        if let (Some(v), Builder::U64(b)) = (value, &mut self.builders[c]) {
            b.set(self.rows, v);
        }
    }

    /// A real number; NaN (a value that does not exist, blank in events.csv) is a null.
    fn real(&mut self, c: usize, value: Option<f64>) {
        let value = value.filter(|v| !v.is_nan());
        if let (Some(v), Builder::Real(b)) = (value, &mut self.builders[c]) {
            b.set(self.rows, v);
        }
    }

    fn flag(&mut self, c: usize, value: Option<bool>) {
        if let (Some(v), Builder::Flag(b)) = (value, self.at(c)) {
            b.append_value(v);
        }
    }

    /// A name; the empty name is a null.
    fn name(&mut self, c: usize, name: &str) {
        if name.is_empty() {
            return;
        }
        if let Builder::Name(b) = &mut self.builders[c] {
            b.set(self.rows, name);
        }
    }

    fn account(&mut self, c: usize, account: Option<Account<'_>>) {
        let Some(account) = account else { return };
        self.at(c);
        if let Builder::Text(b) = &mut self.builders[c] {
            match account.label() {
                Some(label) => b.append_value(label),
                None => b.append_value(self.integer.format(account.index())),
            }
        }
    }

    /// Adds one event's row.
    fn push(&mut self, world: &World, seq: u64, event: &Event) {
        let row = row(world, event);
        let mut column = 0;
        let mut next = || {
            column += 1;
            column - 1
        };
        self.int(next(), Some(seq));
        self.int(next(), Some(event.step));
        self.int(next(), Some(event.time));
        if let Some(start) = self.start_time {
            let c = next();
            // Milliseconds: Parquet's timestamps have no unit of seconds.
            let time = cascade_analytics::clock::unix_time(start, event.time);
            if let (Some(t), Builder::Utc(b)) = (time, &mut self.builders[c]) {
                b.set(self.rows, t * 1000);
            }
        }
        if let Builder::U32(b) = self.at(next()) {
            b.append_value(event.round);
        }
        self.name(next(), event.kind.name());
        self.name(next(), row.protocol);
        self.account(next(), row.account);
        self.name(next(), row.keeper);
        self.name(next(), row.venue);
        self.name(next(), row.oracle);
        self.name(next(), row.asset);
        self.real(next(), row.units);
        self.real(next(), row.price);
        self.real(next(), row.usd);
        self.name(next(), row.debt_asset);
        for value in [
            row.debt_units,
            row.health_factor,
            row.to_keeper,
            row.protocol_fee,
            row.filled,
            row.price_after,
        ] {
            self.real(next(), value);
        }
        self.int(next(), row.liquidatable_since);
        self.flag(next(), row.closes);
        let fixed = next();
        debug_assert_eq!(fixed, self.fixed());
        for (key, value) in &row.detail {
            self.detail(fixed, *key, value);
        }
        self.rows += 1;
    }

    /// Sets a detail value's cells; `fixed` is the number of columns before the detail's.
    fn detail(&mut self, fixed: usize, key: Key, value: &Value<'_>) {
        debug_assert_eq!(key.ty(), value.ty(), "{key:?}");
        let column = self.layout.column(key);
        debug_assert!(column.is_some() || value.is_zero(), "no column for {key:?}");
        let Some(c) = column.map(|c| fixed + c) else {
            return;
        };
        match *value {
            Value::Real(v) => self.real(c, Some(v)),
            Value::Int(n) => self.int(c, Some(n)),
            Value::Room(n) => self.int(c, (n != u64::MAX).then_some(n)),
            Value::Flag(b) => self.flag(c, Some(b)),
            Value::Name(name) => self.name(c, name),
            Value::Account(account) => self.account(c, Some(account)),
            Value::Assets(_) | Value::Markets(..) => {
                let (layout, builders, row) = (&self.layout, &mut self.builders, self.rows);
                layout.cells(key, value, |c, units| {
                    if let Builder::Real(b) = &mut builders[fixed + c] {
                        b.set(row, units);
                    }
                });
            }
        }
    }

    /// The columns of the rows pushed since the last call. A column without a value in the
    /// batch is an all-null array, made once per column and batch size and shared (arrays are
    /// immutable): most columns of most batches are.
    fn finish(&mut self) -> Vec<ArrayRef> {
        let rows = std::mem::take(&mut self.rows);
        self.builders
            .iter_mut()
            .zip(&self.types)
            .zip(&mut self.nulls)
            .map(|((b, ty), null)| {
                if b.len() == 0 {
                    match null {
                        Some(array) if array.len() == rows => Arc::clone(array),
                        _ => Arc::clone(null.insert(new_null_array(ty, rows))),
                    }
                } else {
                    b.pad(rows);
                    b.finish()
                }
            })
            .collect()
    }
}

/// How the columns are encoded: names with a dictionary (few distinct values), the integers of
/// every row as deltas (`seq`, `step`, `time_seconds` and `time_utc` grow by small steps),
/// everything else plain, every page Snappy-compressed. A dictionary on the real numbers (mostly
/// distinct) and on account labels made the file larger and slower to write; a delta encoder
/// holds about 1 MB per column, so the sparse integer columns of the detail are plain.
fn properties(schema: &Schema, fixed: usize) -> WriterProperties {
    let mut properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .set_dictionary_enabled(false);
    for (c, field) in schema.fields().iter().enumerate() {
        let column = ColumnPath::new(vec![field.name().clone()]);
        properties = match field.data_type() {
            DataType::Dictionary(..) => properties.set_column_dictionary_enabled(column, true),
            DataType::UInt64 | DataType::UInt32 | DataType::Timestamp(..) if c < fixed => {
                properties.set_column_encoding(column, Encoding::DELTA_BINARY_PACKED)
            }
            _ => properties,
        };
    }
    properties.build()
}

/// A Parquet error as an IO error: the writer's own IO error when that is what it is.
fn io_error(e: ParquetError) -> io::Error {
    match e {
        ParquetError::External(e) => match e.downcast::<io::Error>() {
            Ok(e) => *e,
            Err(e) => io::Error::other(e),
        },
        e => io::Error::other(e),
    }
}

/// The writing thread's half of a [`ParquetEventWriter`].
struct ParquetStage<W: Write + Send> {
    world: Arc<World>,
    schema: SchemaRef,
    columns: Columns,
    writer: ArrowWriter<W>,
    /// `seq` of the next event.
    seq: u64,
    /// The batch built last, to encode while the next one is built.
    pending: Option<RecordBatch>,
}

impl<W: Write + Send + 'static> Stage for ParquetStage<W> {
    type Output = W;

    /// Builds the columns of `events` while the previous batch is encoded and written.
    fn write(&mut self, events: &[Event]) -> io::Result<()> {
        let Self {
            world,
            schema,
            columns,
            writer,
            seq,
            pending,
        } = self;
        let first = *seq;
        let (written, batch) = rayon::join(
            || pending.take().map_or(Ok(()), |batch| writer.write(&batch)),
            || {
                for (i, event) in events.iter().enumerate() {
                    columns.push(world, first + i as u64, event);
                }
                RecordBatch::try_new(Arc::clone(schema), columns.finish())
            },
        );
        *seq += events.len() as u64;
        written.map_err(io_error)?;
        *pending = Some(batch.map_err(io::Error::other)?);
        Ok(())
    }

    fn finish(mut self) -> io::Result<W> {
        if let Some(batch) = self.pending.take() {
            self.writer.write(&batch).map_err(io_error)?;
        }
        let mut out = self.writer.into_inner().map_err(io_error)?;
        out.flush()?;
        Ok(out)
    }
}

/// Streams events.parquet as the engine records events, in bounded memory.
///
/// Events are gathered in chunks and handed to a thread that owns the writer, builds their
/// columns and encodes them (Snappy-compressed, [`ParquetEventWriter::ROW_GROUP_ROWS`] rows per
/// row group). The first IO error stops the writing (later events are dropped) and is returned
/// by [`ParquetEventWriter::finish`].
pub struct ParquetEventWriter<W: Write + Send + 'static> {
    pipeline: Background<W>,
}

impl<W: Write + Send + 'static> ParquetEventWriter<W> {
    /// Events handed to the writing thread at a time, by default, each chunk a record batch.
    /// (A batch has a full-length buffer for every column with a value in it, so larger chunks
    /// cost memory, and were no faster.)
    pub const CHUNK_EVENTS: usize = 4 * 1024;

    /// Rows per row group.
    pub const ROW_GROUP_ROWS: usize = ROW_GROUP;

    /// A writer of events.parquet into `out`, with the names of `world`.
    ///
    /// # Errors
    /// The writing thread could not be started.
    pub fn new(world: Arc<World>, out: W) -> io::Result<Self> {
        Self::with_chunk_size(world, out, Self::CHUNK_EVENTS)
    }

    /// As [`ParquetEventWriter::new`], handing events over `chunk` at a time (at least 1). The
    /// rows and row groups do not depend on it.
    ///
    /// # Errors
    /// The writing thread could not be started.
    pub fn with_chunk_size(world: Arc<World>, out: W, chunk: usize) -> io::Result<Self> {
        let columns = Columns::new(&world);
        let schema = columns.schema();
        let properties = properties(&schema, columns.fixed());
        let writer =
            ArrowWriter::try_new(out, Arc::clone(&schema), Some(properties)).map_err(io_error)?;
        let stage = ParquetStage {
            world,
            schema,
            columns,
            writer,
            seq: 0,
            pending: None,
        };
        Ok(Self {
            pipeline: Background::spawn("events-parquet", chunk, stage)?,
        })
    }

    /// Writes the events still buffered and the file's footer, flushes the writer and returns
    /// it.
    ///
    /// # Errors
    /// The first IO error met while writing.
    pub fn finish(self) -> io::Result<W> {
        self.pipeline.finish()
    }
}

impl<W: Write + Send + 'static> EventSink for ParquetEventWriter<W> {
    fn record(&mut self, event: &Event) {
        self.pipeline.record(event);
    }
}

/// The batches' half of an [`EventBatches`]: builds each chunk's columns on its own thread.
struct BatchStage {
    world: Arc<World>,
    schema: SchemaRef,
    columns: Columns,
    seq: u64,
    batches: Vec<RecordBatch>,
}

impl Stage for BatchStage {
    type Output = (SchemaRef, Vec<RecordBatch>);

    fn write(&mut self, events: &[Event]) -> io::Result<()> {
        for (i, event) in events.iter().enumerate() {
            self.columns.push(&self.world, self.seq + i as u64, event);
        }
        self.seq += events.len() as u64;
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), self.columns.finish())
            .map_err(io::Error::other)?;
        self.batches.push(batch);
        Ok(())
    }

    fn finish(self) -> io::Result<Self::Output> {
        Ok((self.schema, self.batches))
    }
}

/// Gathers a run's events in memory as Arrow record batches with the columns of events.parquet
/// (for callers that hand the table on, such as the Python package, rather than write a file).
/// The columns are built on a thread of their own while the engine runs.
pub struct EventBatches {
    pipeline: Background<(SchemaRef, Vec<RecordBatch>)>,
}

impl EventBatches {
    /// Gathers events with the names of `world`, [`ParquetEventWriter::CHUNK_EVENTS`] rows per
    /// batch.
    ///
    /// # Errors
    /// The building thread could not be started.
    pub fn new(world: Arc<World>) -> io::Result<Self> {
        let columns = Columns::new(&world);
        let schema = columns.schema();
        let stage = BatchStage {
            world,
            schema,
            columns,
            seq: 0,
            batches: Vec::new(),
        };
        Ok(Self {
            pipeline: Background::spawn(
                "events-arrow",
                ParquetEventWriter::<io::Sink>::CHUNK_EVENTS,
                stage,
            )?,
        })
    }

    /// The schema and the batches, in event order.
    ///
    /// # Errors
    /// The building thread failed.
    pub fn finish(self) -> io::Result<(SchemaRef, Vec<RecordBatch>)> {
        self.pipeline.finish()
    }
}

impl EventSink for EventBatches {
    fn record(&mut self, event: &Event) {
        self.pipeline.record(event);
    }
}
