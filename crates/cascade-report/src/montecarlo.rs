//! Monte Carlo outputs: montecarlo.json, and paths.csv / paths.parquet with one row per path
//! (docs/outputs.md). paths.csv is also what `cascade merge` reads back: its numbers are written
//! in the shortest form that round-trips, so a merged summary equals one run of all the paths.

use std::io::{self, Read, Write};
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use cascade_analytics::montecarlo::{MonteCarloHeader, MonteCarloSummary, PathFigures};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::float;

/// Writes montecarlo.json (pretty-printed, keys in a stable order, newline-terminated).
///
/// # Errors
/// IO errors of the writer.
pub fn write_montecarlo_json(summary: &MonteCarloSummary, out: &mut impl Write) -> io::Result<()> {
    crate::write_json(summary, out)
}

/// Reads the identity of a Monte Carlo's paths (scenario, seed, horizon, range) back from its
/// montecarlo.json.
///
/// # Errors
/// Not JSON, or without those keys.
pub fn read_montecarlo_header(input: impl Read) -> Result<MonteCarloHeader, serde_json::Error> {
    serde_json::from_reader(input)
}

/// The figures the printed summary shows, when the scenario has them.
const PRINTED: [&str; 5] = [
    "bad_debt_usd",
    "liquidated_debt_usd",
    "liquidations",
    "insurance_drawn_usd",
    "socialised_loss_usd",
];

/// Prints a Monte Carlo's summary: the paths, the main figures' mean, VaR and expected
/// shortfall with their standard errors, the probabilities, and the worst paths to replay.
///
/// # Errors
/// IO errors of the writer.
pub fn write_montecarlo_text(summary: &MonteCarloSummary, out: &mut impl Write) -> io::Result<()> {
    let h = &summary.header;
    writeln!(
        out,
        "cascade montecarlo: {} — {} paths ({}..{}), horizon {} s, seed {}",
        h.scenario.name,
        h.paths,
        h.paths_from,
        (h.paths_from + h.paths).saturating_sub(1),
        h.horizon_seconds,
        h.seed
    )?;
    writeln!(
        out,
        "\n{:<24} {:>14} {:>22} {:>22} {:>22}",
        "", "mean", "VaR 95% (± se)", "VaR 99% (± se)", "ES 99% (± se)"
    )?;
    let with_se = |v: f64, se: f64| format!("{} ± {}", short(v), short(se));
    for name in PRINTED {
        let Some(d) = summary.metrics.get(name) else {
            continue;
        };
        writeln!(
            out,
            "{name:<24} {:>14} {:>22} {:>22} {:>22}",
            short(d.mean),
            with_se(d.var["0.95"], d.var_se["0.95"]),
            with_se(d.var["0.99"], d.var_se["0.99"]),
            with_se(d.es["0.99"], d.es_se["0.99"]),
        )?;
    }
    let (p, se) = (&summary.probabilities, &summary.probabilities_se);
    writeln!(
        out,
        "\nP(bad debt > 0) = {:.4} ± {:.4}; P(death spiral) = {:.4} ± {:.4} (amplification ≥ {})",
        p.bad_debt,
        se.bad_debt,
        p.death_spiral,
        se.death_spiral,
        summary.definitions.death_spiral_amplification
    )?;
    if let Some(worst) = summary.worst_paths.first() {
        let bad_debt = worst.figures.get("bad_debt_usd").copied().unwrap_or(0.0);
        writeln!(
            out,
            "worst path: {} (bad debt {} USD); replay it with `cascade run SCENARIO --path {}`",
            worst.path,
            short(bad_debt),
            worst.path
        )?;
    }
    if let Some(f) = &summary.indicator {
        let percent = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{:.1}%", 100.0 * x));
        let number = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.3}"));
        writeln!(
            out,
            "indicator m ≥ {} before the first liquidation: {} of {} cascades warned (lead {} steps \
             median), false alarms on {} of {} calm paths, AUC {}",
            f.level,
            percent(f.hit_rate),
            f.cascades,
            f.median_lead_steps
                .map_or("-".to_string(), |x| format!("{x:.0}")),
            percent(f.false_alarm_rate),
            f.calm,
            number(f.auc)
        )?;
    }
    if let Some(a) = &summary.adaptive {
        writeln!(
            out,
            "adaptive: liquidations throttled to {} USD a step while m ≥ {}, against the static \
             parameters over the same paths (policy less static, ± se):",
            short(a.policy.throttle_usd_per_step),
            a.policy.level
        )?;
        for name in ["bad_debt_usd", "liquidated_debt_usd", "death_spiral"] {
            if let Some(c) = a.figures.get(name) {
                writeln!(
                    out,
                    "  {name:<22} mean {} → {} ({} ± {}), VaR 99% {} → {}",
                    short(c.static_mean),
                    short(c.adaptive_mean),
                    short(c.difference_mean),
                    short(c.difference_se),
                    short(c.static_var99),
                    short(c.adaptive_var99)
                )?;
            }
        }
    }
    Ok(())
}

/// A figure to four significant digits, in plain notation up to 10^12.
fn short(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    if v.abs() >= 1e12 {
        format!("{v:.3e}")
    } else {
        format!("{v:.digits$}")
    }
}

/// Writes paths.csv: `path,death_spiral,` then the metrics named by `names`, a row per path; a
/// figure a path does not have is an empty cell.
///
/// # Errors
/// IO errors of the writer.
pub fn write_paths_csv(
    names: &[String],
    rows: &[PathFigures],
    out: &mut impl Write,
) -> io::Result<()> {
    writeln!(out, "path,death_spiral,{}", names.join(","))?;
    let mut buffer = ryu::Buffer::new();
    for row in rows {
        write!(out, "{},{}", row.path, row.death_spiral)?;
        for value in &row.values {
            out.write_all(b",")?;
            out.write_all(float(&mut buffer, value.unwrap_or(f64::NAN)).as_bytes())?;
        }
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Why a paths.csv could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum PathsCsvError {
    /// Not CSV, or a row of another width.
    #[error("{0}")]
    Csv(#[from] csv::Error),
    /// The header does not start with `path,death_spiral`.
    #[error("the header must start with path,death_spiral (found {0:?})")]
    Header(String),
    /// A cell that is not what its column holds.
    #[error("line {line}, column {column}: {value:?} is not {what}")]
    Cell {
        /// The line, from 1 (the header).
        line: u64,
        /// The column's name.
        column: String,
        /// The cell.
        value: String,
        /// What the column holds.
        what: &'static str,
    },
}

/// Reads a paths.csv written by [`write_paths_csv`]: the metric names and the rows.
///
/// # Errors
/// A malformed file, naming the line, the column and the value.
pub fn read_paths_csv(input: impl Read) -> Result<(Vec<String>, Vec<PathFigures>), PathsCsvError> {
    let mut reader = csv::Reader::from_reader(input);
    let header: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
    if header.len() < 2 || header[0] != "path" || header[1] != "death_spiral" {
        return Err(PathsCsvError::Header(header.join(",")));
    }
    let names = header[2..].to_vec();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        let line = record.position().map_or(0, |p| p.line());
        let cell = |i: usize, what: &'static str| PathsCsvError::Cell {
            line,
            column: header[i].clone(),
            value: record[i].to_string(),
            what,
        };
        let path = record[0].parse().map_err(|_| cell(0, "a path number"))?;
        let death_spiral = record[1].parse().map_err(|_| cell(1, "true or false"))?;
        let values = (2..record.len())
            .map(|i| match &record[i] {
                "" => Ok(None),
                text => text
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .map(Some)
                    .ok_or_else(|| cell(i, "a finite number")),
            })
            .collect::<Result<_, _>>()?;
        rows.push(PathFigures {
            path,
            death_spiral,
            values,
        });
    }
    Ok((names, rows))
}

/// The per-path table of paths.parquet as one Arrow record batch: `path` uint64,
/// `death_spiral` boolean, each metric of `names` a nullable float64.
///
/// # Errors
/// Rows whose figures do not match `names`.
pub fn paths_batch(names: &[String], rows: &[PathFigures]) -> Result<RecordBatch, ArrowError> {
    let mut fields = vec![
        Field::new("path", DataType::UInt64, false),
        Field::new("death_spiral", DataType::Boolean, false),
    ];
    fields.extend(names.iter().map(|n| Field::new(n, DataType::Float64, true)));
    let schema = Arc::new(Schema::new(fields));
    let mut path = UInt64Builder::with_capacity(rows.len());
    let mut spiral = BooleanBuilder::with_capacity(rows.len());
    let mut columns: Vec<Float64Builder> = names
        .iter()
        .map(|_| Float64Builder::with_capacity(rows.len()))
        .collect();
    for row in rows {
        path.append_value(row.path);
        spiral.append_value(row.death_spiral);
        for (column, value) in columns.iter_mut().zip(&row.values) {
            column.append_option(*value);
        }
    }
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(path.finish()), Arc::new(spiral.finish())];
    arrays.extend(columns.iter_mut().map(|c| Arc::new(c.finish()) as ArrayRef));
    RecordBatch::try_new(schema, arrays)
}

/// Writes paths.parquet: the columns of paths.csv, typed (`path` uint64, `death_spiral`
/// boolean, each metric a nullable float64), Snappy-compressed.
///
/// # Errors
/// IO and encoding errors.
pub fn write_paths_parquet<W: Write + Send>(
    names: &[String],
    rows: &[PathFigures],
    out: W,
) -> io::Result<W> {
    let batch = paths_batch(names, rows).map_err(io::Error::other)?;
    let schema = batch.schema();
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer =
        ArrowWriter::try_new(out, schema, Some(properties)).map_err(io::Error::other)?;
    writer.write(&batch).map_err(io::Error::other)?;
    writer.into_inner().map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> (Vec<String>, Vec<PathFigures>) {
        let names = vec![
            "bad_debt_usd".to_string(),
            "assets.ETH.amplification".to_string(),
        ];
        let rows = vec![
            PathFigures {
                path: 3,
                death_spiral: false,
                values: vec![Some(0.1 + 0.2), None],
            },
            PathFigures {
                path: 4,
                death_spiral: true,
                values: vec![Some(1.0e-300), Some(2.5)],
            },
        ];
        (names, rows)
    }

    #[test]
    fn paths_csv_round_trips_exactly() {
        let (names, rows) = rows();
        let mut bytes = Vec::new();
        write_paths_csv(&names, &rows, &mut bytes).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(
            text,
            "path,death_spiral,bad_debt_usd,assets.ETH.amplification\n\
             3,false,0.30000000000000004,\n4,true,1e-300,2.5\n"
        );
        assert_eq!(read_paths_csv(&bytes[..]).unwrap(), (names, rows));
    }

    #[test]
    fn a_bad_cell_names_its_line_column_and_value() {
        let text = "path,death_spiral,bad_debt_usd\n0,false,1\n1,false,NaN\n";
        let e = read_paths_csv(text.as_bytes()).unwrap_err().to_string();
        assert_eq!(
            e,
            "line 3, column bad_debt_usd: \"NaN\" is not a finite number"
        );
        let e = read_paths_csv("a,b\n".as_bytes()).unwrap_err().to_string();
        assert!(e.contains("path,death_spiral"), "{e}");
    }

    #[test]
    fn paths_parquet_has_typed_columns() {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let (names, rows) = rows();
        let bytes = write_paths_parquet(&names, &rows, Vec::new()).unwrap();
        let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
        let meta = reader.metadata();
        assert_eq!(meta.file_metadata().num_rows(), 2);
        let schema = meta.file_metadata().schema_descr();
        let columns: Vec<&str> = schema.columns().iter().map(|c| c.name()).collect();
        assert_eq!(
            columns,
            [
                "path",
                "death_spiral",
                "bad_debt_usd",
                "assets.ETH.amplification"
            ]
        );
    }
}
