//! Report sinks: each writes one output format to any `io::Write`, so the CLI owns the files and
//! tests can write to memory. Formats are documented column by column in docs/outputs.md.

mod background;
mod calibrate;
mod compare;
mod cover;
mod events;
mod map;
mod montecarlo;
mod stress;
mod text;

use std::io::{self, Write};

use cascade_analytics::{Summary, Timeline};

pub use background::{Background, SinkStage, Stage};
pub use calibrate::{
    Calibration, write_calibration_json, write_calibration_text, write_frontier_csv,
};
pub use compare::{write_compare_csv, write_compare_json, write_compare_text};
pub use cover::{Cover, write_cover_json, write_cover_text};
pub use events::{
    CsvEventWriter, EventsFormat, EventsWriter, ParquetEventWriter, UnknownEventsFormat,
    write_events,
};
pub use map::{
    MapHeader, POSITION_COLUMNS, gain_line, wall_line, write_map_csv, write_map_json,
    write_map_text, write_positions_csv, write_positions_json,
};
pub use montecarlo::{
    PathsCsvError, read_montecarlo_header, read_paths_csv, write_montecarlo_json,
    write_montecarlo_text, write_paths_csv, write_paths_parquet,
};
pub use stress::{Outcome, Stress, StressRow, write_stress_csv, write_stress_json};
pub use text::write_text;

/// Writes summary.json (pretty-printed, keys in a stable order, newline-terminated).
///
/// # Errors
/// IO errors of the writer.
pub fn write_summary_json(summary: &Summary, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, summary).map_err(io::Error::other)?;
    writeln!(out)
}

/// Formats a float with the shortest representation that round-trips; NaN is an empty cell.
pub(crate) fn float(buffer: &mut ryu::Buffer, value: f64) -> &str {
    if value.is_nan() {
        ""
    } else if value == value.trunc() && value.abs() < 1e15 {
        // Whole numbers without a trailing ".0" read better in spreadsheets.
        let formatted = buffer.format(value);
        formatted.strip_suffix(".0").unwrap_or(formatted)
    } else {
        buffer.format(value)
    }
}

/// Writes timeline.csv.
///
/// # Errors
/// IO errors of the writer.
pub fn write_timeline(timeline: &Timeline, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{}", timeline.columns.join(","))?;
    let mut buffer = ryu::Buffer::new();
    for row in &timeline.rows {
        for (i, value) in row.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(float(&mut buffer, *value).as_bytes())?;
        }
        out.write_all(b"\n")?;
    }
    Ok(())
}
