//! Report sinks: each writes one output format to any `io::Write`, so the CLI owns the files and
//! tests can write to memory. Formats are documented column by column in docs/outputs.md.

mod background;
mod calibrate;
mod compare;
mod cover;
mod events;
mod frontier;
mod grid;
mod html;
mod map;
mod montecarlo;
mod output;
mod run;
mod stress;
mod text;
mod variants;

use std::io::{self, Write};

use cascade_analytics::clock::UtcClock;
use cascade_analytics::{Summary, Timeline};

pub use background::{Background, SinkStage, Stage};
pub use calibrate::{
    Calibration, frontier_batch, write_calibration_json, write_calibration_text, write_frontier_csv,
};
pub use compare::{
    compare_batch, lone_bidder_warning, write_compare_csv, write_compare_json, write_compare_text,
};
pub use cover::{Cover, write_cover_json, write_cover_text};
pub use events::{
    CsvEventWriter, EventBatches, EventsFormat, EventsWriter, ParquetEventWriter,
    UnknownEventsFormat, write_events,
};
pub use frontier::{
    CalibrateContext, CalibrateError, CalibrationRun, Candidates, MAX_RANGE_VALUES, question,
};
pub use grid::{
    EditFailure, Edited, GridError, PointResult, StressContext, StressPoint, StressPoints,
    StressRun, edited, grid_points,
};
pub use html::{Chart, ChartError, OutputKind, Report, ReportError};
pub use map::{
    MapHeader, POSITION_COLUMNS, gain_line, wall_line, write_map_csv, write_map_json,
    write_map_text, write_positions_csv, write_positions_json,
};
pub use montecarlo::{
    PathsCsvError, paths_batch, read_montecarlo_header, read_paths_csv, write_montecarlo_json,
    write_montecarlo_text, write_paths_csv, write_paths_parquet,
};
pub use output::{
    FileEntry, MANIFEST, Manifest, ManifestScenario, OutputFolder, PartialFile, Verified, verify,
};
pub use run::{RunAsked, RunError, run_path};
pub use stress::{Outcome, Stress, StressRow, stress_batch, write_stress_csv, write_stress_json};
pub use text::{Colour, write_text, write_text_in};
pub use variants::{
    CompareContext, CompareError, CompareRun, VariantRun, Variants, check_variants,
};

/// The version of the output formats: raised when a key or a column changes meaning or goes
/// away (keys are added without raising it).
pub const SCHEMA_VERSION: u32 = 1;

/// Which program and which version of the formats wrote a JSON output: its first key,
/// `producer`, so a script can check what it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Producer {
    /// `cascade`.
    pub tool: &'static str,
    /// cascade's version.
    pub version: &'static str,
    /// [`SCHEMA_VERSION`].
    pub schema: u32,
}

/// This build's [`Producer`].
pub const PRODUCER: Producer = Producer {
    tool: "cascade",
    version: env!("CARGO_PKG_VERSION"),
    schema: SCHEMA_VERSION,
};

/// A JSON document with `producer` first, then the document's own keys in their order.
#[derive(serde::Serialize)]
struct Stamped<'a, T: serde::Serialize> {
    producer: Producer,
    #[serde(flatten)]
    body: &'a T,
}

/// Writes `document` (an object) as pretty JSON, newline-terminated, with `producer` first.
pub(crate) fn write_json<T: serde::Serialize>(
    document: &T,
    out: &mut impl Write,
) -> io::Result<()> {
    let stamped = Stamped {
        producer: PRODUCER,
        body: document,
    };
    // Formatted whole, then written: a failed write is the writer's own io::Error (a closed
    // pipe stays recognisable), not one wrapped in the serializer's.
    let mut text = serde_json::to_vec_pretty(&stamped).map_err(io::Error::other)?;
    text.push(b'\n');
    out.write_all(&text)
}

/// Writes summary.json (pretty-printed, keys in a stable order, newline-terminated).
///
/// # Errors
/// IO errors of the writer.
pub fn write_summary_json(summary: &Summary, out: &mut impl Write) -> io::Result<()> {
    write_json(summary, out)
}

/// Formats a float with the shortest representation that round-trips; NaN is an empty cell, and
/// zero is `0` whatever its sign (a `-0` reads as a different value in some tools).
pub(crate) fn float(buffer: &mut ryu::Buffer, value: f64) -> &str {
    if value.is_nan() {
        ""
    } else if value == 0.0 {
        "0"
    } else if value == value.trunc() && value.abs() < 1e15 {
        // Whole numbers without a trailing ".0" read better in spreadsheets.
        let formatted = buffer.format(value);
        formatted.strip_suffix(".0").unwrap_or(formatted)
    } else {
        buffer.format(value)
    }
}

/// Writes a CSV header through the csv crate: a name holding a comma, a quote or a line break
/// (a venue named `spot,1`) is quoted, so every later column stays in place.
pub(crate) fn write_header<S: AsRef<[u8]>>(
    columns: impl IntoIterator<Item = S>,
    out: &mut impl Write,
) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(&mut *out);
    writer.write_record(columns)?;
    writer.flush()
}

/// A record batch of `columns` (name, array), each nullable: the tables the Python package hands
/// out for the CSV files it mirrors.
pub(crate) fn batch_of<const N: usize>(
    columns: [(&str, arrow_array::ArrayRef); N],
) -> Result<arrow_array::RecordBatch, arrow_schema::ArrowError> {
    let fields: Vec<arrow_schema::Field> = columns
        .iter()
        .map(|(name, array)| arrow_schema::Field::new(*name, array.data_type().clone(), true))
        .collect();
    let schema = std::sync::Arc::new(arrow_schema::Schema::new(fields));
    arrow_array::RecordBatch::try_new(schema, columns.into_iter().map(|(_, a)| a).collect())
}

/// A CSV cell: quoted when it holds a comma, a quote or a line break (RFC 4180).
pub(crate) fn csv_cell(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

/// Writes timeline.csv: the timeline's columns, with `time_utc` (RFC 3339) after
/// `time_seconds` when the scenario has a start time.
///
/// # Errors
/// IO errors of the writer.
pub fn write_timeline(timeline: &Timeline, out: &mut impl Write) -> io::Result<()> {
    // The column of `time_seconds`, which the date-time follows.
    const TIME_SECONDS: usize = 1;
    let mut clock = timeline.start_time.map(UtcClock::new);
    let mut columns: Vec<&str> = timeline.columns.iter().map(String::as_str).collect();
    if clock.is_some() {
        columns.insert((TIME_SECONDS + 1).min(columns.len()), "time_utc");
    }
    write_header(&columns, out)?;
    let mut buffer = ryu::Buffer::new();
    for row in &timeline.rows {
        for (i, value) in row.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(float(&mut buffer, *value).as_bytes())?;
            if let (TIME_SECONDS, Some(clock)) = (i, &mut clock) {
                out.write_all(b",")?;
                out.write_all(clock.at(*value as u64).as_bytes())?;
            }
        }
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_back_and_zero_has_no_sign() {
        let mut b = ryu::Buffer::new();
        assert_eq!(float(&mut b, -0.0), "0");
        assert_eq!(float(&mut b, 0.0), "0");
        assert_eq!(float(&mut b, -2.0), "-2");
        assert_eq!(float(&mut b, 0.1), "0.1");
        assert_eq!(float(&mut b, f64::NAN), "");
        assert_eq!(csv_cell("spot,1"), "\"spot,1\"");
        assert_eq!(csv_cell("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_cell("plain"), "plain");
    }
}
