//! The events files: the audit trail of a run, one row per event, as events.csv (text, one
//! packed `detail` column) or events.parquet (typed columns).
//!
//! Both are written by sinks that the engine hands each event as it happens
//! ([`CsvEventWriter`], [`ParquetEventWriter`]), so a run need not keep its events in memory;
//! [`write_events`] writes events.csv from a trail already in memory. [`EventsFormat`] names the
//! format a user chose and [`EventsFormat::create`] opens its file in an output directory.

mod csv;
mod layout;
mod parquet;
mod rows;

use std::fmt;
use std::io;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use cascade_engine::{Event, EventSink, World};

use crate::output::{FileEntry, PartialFile};

pub use csv::{CsvEventWriter, write_events};
pub use parquet::{EventBatches, ParquetEventWriter};

/// The format of a run's events file (`--events csv|parquet|none`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EventsFormat {
    /// events.csv.
    #[default]
    Csv,
    /// events.parquet.
    Parquet,
    /// No events file.
    None,
}

impl EventsFormat {
    /// Every format, in the order the help lists them.
    pub const ALL: [Self; 3] = [Self::Csv, Self::Parquet, Self::None];

    /// The format's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Parquet => "parquet",
            Self::None => "none",
        }
    }

    /// The name of the file it writes in an output directory, if any.
    pub fn file_name(self) -> Option<&'static str> {
        match self {
            Self::Csv => Some("events.csv"),
            Self::Parquet => Some("events.parquet"),
            Self::None => None,
        }
    }

    /// Creates the format's file in `dir`, under a temporary name until
    /// [`EventsWriter::finish`] puts it in place, and returns the sink that writes it; for
    /// [`EventsFormat::None`], a sink that drops every event and touches nothing.
    ///
    /// # Errors
    /// The file cannot be created, or the writing thread started.
    pub fn create(self, dir: &Path, world: Arc<World>) -> io::Result<EventsWriter> {
        let Some(name) = self.file_name() else {
            return Ok(EventsWriter::None);
        };
        let file = PartialFile::create(dir, name)?;
        Ok(match self {
            Self::Csv => EventsWriter::Csv(CsvEventWriter::new(world, file)?),
            Self::Parquet => EventsWriter::Parquet(ParquetEventWriter::new(world, file)?),
            Self::None => EventsWriter::None,
        })
    }
}

impl fmt::Display for EventsFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not an [`EventsFormat`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownEventsFormat(pub String);

impl fmt::Display for UnknownEventsFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown events format {:?}: expected csv, parquet or none",
            self.0
        )
    }
}

impl std::error::Error for UnknownEventsFormat {}

impl FromStr for EventsFormat {
    type Err = UnknownEventsFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| UnknownEventsFormat(s.to_string()))
    }
}

/// The sink of a run's events file, as [`EventsFormat::create`] opens it.
pub enum EventsWriter {
    /// events.csv.
    Csv(CsvEventWriter<PartialFile>),
    /// events.parquet.
    Parquet(ParquetEventWriter<PartialFile>),
    /// No file: events are dropped.
    None,
}

impl EventsWriter {
    /// Writes what is still buffered, closes the file and puts it in place; its entry for the
    /// output folder's manifest (none without a file).
    ///
    /// # Errors
    /// The first IO error met while writing.
    pub fn finish(self) -> io::Result<Option<FileEntry>> {
        match self {
            Self::Csv(w) => w.finish()?.commit().map(Some),
            Self::Parquet(w) => w.finish()?.commit().map(Some),
            Self::None => Ok(None),
        }
    }
}

impl EventSink for EventsWriter {
    fn record(&mut self, event: &Event) {
        match self {
            Self::Csv(w) => w.record(event),
            Self::Parquet(w) => w.record(event),
            Self::None => {}
        }
    }
}
