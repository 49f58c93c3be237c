//! Data files a scenario references: price series and pool reserve series (CSV or JSON), path
//! ensembles, order books and positions (CSV), and the splice of a price series' overlay into it.
//! Every error names the data file, the line (CSV) or element (JSON), the column and the value.

use std::collections::HashMap;
use std::path::Path;

use crate::error::InputError;

/// How times are written in a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// Unix seconds.
    Seconds,
    /// Unix milliseconds.
    Milliseconds,
    /// RFC 3339 / ISO 8601 date-times (`2020-03-12T00:00:00Z`).
    Rfc3339,
}

/// A cell read from a CSV row or a JSON object.
enum Cell<'a> {
    Text(&'a str),
    Json(&'a serde_json::Value),
}

fn cell_number(cell: &Cell<'_>) -> Option<f64> {
    match cell {
        Cell::Text(s) => s.trim().parse::<f64>().ok(),
        Cell::Json(v) => v
            .as_f64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())),
    }
}

fn cell_display(cell: &Cell<'_>) -> String {
    match cell {
        Cell::Text(s) => format!("{s:?}"),
        Cell::Json(v) => v.to_string(),
    }
}

fn parse_time(cell: &Cell<'_>, unit: TimeUnit) -> Option<f64> {
    match unit {
        TimeUnit::Seconds => cell_number(cell),
        TimeUnit::Milliseconds => cell_number(cell).map(|ms| ms / 1000.0),
        TimeUnit::Rfc3339 => {
            let text = match cell {
                Cell::Text(s) => *s,
                Cell::Json(v) => v.as_str()?,
            };
            chrono::DateTime::parse_from_rfc3339(text.trim())
                .ok()
                .map(|t| t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) * 1e-9)
        }
    }
}

/// Reads (time in seconds, price) points from a CSV or JSON file's bytes.
pub fn read_series(
    file: &Path,
    bytes: &[u8],
    time_column: &str,
    price_column: &str,
    unit: TimeUnit,
) -> Result<Vec<(f64, f64)>, InputError> {
    let mut points = Vec::new();
    let mut push = |time: Option<f64>,
                    price: Option<f64>,
                    time_cell: &Cell<'_>,
                    price_cell: &Cell<'_>,
                    line: Option<usize>,
                    prefix: &str|
     -> Result<(), InputError> {
        let time = time.ok_or_else(|| {
            InputError::new(
                file,
                format!("{prefix}{time_column}"),
                format!("expected {}", expected_time(unit)),
            )
            .value(cell_display(time_cell))
            .line(line)
        })?;
        let price = price.filter(|p| p.is_finite() && *p > 0.0).ok_or_else(|| {
            InputError::new(
                file,
                format!("{prefix}{price_column}"),
                "expected a positive price",
            )
            .value(cell_display(price_cell))
            .line(line)
        })?;
        if let Some(&(last, _)) = points.last() {
            if time <= last {
                return Err(InputError::new(
                    file,
                    format!("{prefix}{time_column}"),
                    "times must increase from one row to the next",
                )
                .value(cell_display(time_cell))
                .line(line));
            }
        }
        points.push((time, price));
        Ok(())
    };
    if is_json(file) {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
            InputError::new(file, "", format!("not valid JSON: {e}")).line(Some(e.line()))
        })?;
        // An array of objects, or a pandas "table" document whose `data` holds that array.
        let rows = value
            .as_array()
            .or_else(|| value.get("data").and_then(|d| d.as_array()))
            .ok_or_else(|| {
                InputError::new(
                    file,
                    "",
                    "expected a JSON array of objects, one per price point (or an object whose `data` is such an array)",
                )
            })?;
        for (i, row) in rows.iter().enumerate() {
            let prefix = format!("[{i}].");
            let get = |column: &str| {
                row.get(column).ok_or_else(|| {
                    InputError::new(file, format!("{prefix}{column}"), "missing in this element")
                })
            };
            let (t, p) = (
                Cell::Json(get(time_column)?),
                Cell::Json(get(price_column)?),
            );
            push(parse_time(&t, unit), cell_number(&p), &t, &p, None, &prefix)?;
        }
    } else {
        let mut reader = csv_reader(bytes);
        let headers = headers(file, bytes, &mut reader)?;
        let time_index = column(file, &headers, time_column)?;
        let price_index = column(file, &headers, price_column)?;
        for record in reader.records() {
            let record = record.map_err(|e| csv_error(file, bytes, e))?;
            let line = record.position().map(|p| p.line() as usize);
            let t = Cell::Text(record.get(time_index).unwrap_or(""));
            let p = Cell::Text(record.get(price_index).unwrap_or(""));
            push(parse_time(&t, unit), cell_number(&p), &t, &p, line, "")?;
        }
    }
    if points.is_empty() {
        return Err(InputError::new(file, "", "the series has no rows"));
    }
    Ok(points)
}

/// How an ensemble file lays out its paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnsembleLayout<'a> {
    /// A time column and one column of prices per path, paths in column order.
    Wide {
        /// The time column; every other column is a path.
        time_column: &'a str,
    },
    /// One row per point: a time, a path's label and a price; paths in the order of their first
    /// row.
    Long {
        /// The time column.
        time_column: &'a str,
        /// The column naming each row's path.
        path_column: &'a str,
        /// The price column.
        price_column: &'a str,
    },
}

/// One path of an ensemble file.
#[derive(Clone, Debug, PartialEq)]
pub struct EnsemblePath {
    /// The path's label: its column (wide) or the value of its path column (long).
    pub label: String,
    /// The column its prices are in.
    pub column: String,
    /// (time in seconds, price) points, times increasing.
    pub points: Vec<(f64, f64)>,
    /// The line of its first point.
    pub first_line: Option<usize>,
}

/// Reads the paths of an ensemble CSV file's bytes: times in `unit` increasing within each path,
/// prices positive, at least one path and one row.
pub fn read_ensemble(
    file: &Path,
    bytes: &[u8],
    layout: EnsembleLayout<'_>,
    unit: TimeUnit,
) -> Result<Vec<EnsemblePath>, InputError> {
    let mut reader = csv_reader(bytes);
    let headers = headers(file, bytes, &mut reader)?;
    let paths = match layout {
        EnsembleLayout::Wide { time_column } => {
            read_wide(file, bytes, &mut reader, &headers, time_column, unit)?
        }
        EnsembleLayout::Long {
            time_column,
            path_column,
            price_column,
        } => {
            let columns = [
                column(file, &headers, time_column)?,
                column(file, &headers, path_column)?,
                column(file, &headers, price_column)?,
            ];
            read_long(file, bytes, &mut reader, columns, &headers, unit)?
        }
    };
    if paths.first().is_none_or(|p| p.points.is_empty()) {
        return Err(InputError::new(file, "", "the ensemble has no rows"));
    }
    Ok(paths)
}

/// A point of an ensemble row: its time and price, or the error naming the cell.
fn ensemble_point(
    file: &Path,
    (time_column, time_cell): (&str, &str),
    (price_column, price_cell): (&str, &str),
    unit: TimeUnit,
    line: Option<usize>,
) -> Result<(f64, f64), InputError> {
    let (t, p) = (Cell::Text(time_cell), Cell::Text(price_cell));
    let time = parse_time(&t, unit).ok_or_else(|| {
        InputError::new(
            file,
            time_column,
            format!("expected {}", expected_time(unit)),
        )
        .value(cell_display(&t))
        .line(line)
    })?;
    let price = cell_number(&p)
        .filter(|p| p.is_finite() && *p > 0.0)
        .ok_or_else(|| {
            InputError::new(file, price_column, "expected a positive price")
                .value(cell_display(&p))
                .line(line)
        })?;
    Ok((time, price))
}

fn read_wide(
    file: &Path,
    bytes: &[u8],
    reader: &mut csv::Reader<&[u8]>,
    headers: &[String],
    time_column: &str,
    unit: TimeUnit,
) -> Result<Vec<EnsemblePath>, InputError> {
    let time_index = column(file, headers, time_column)?;
    let mut paths: Vec<EnsemblePath> = headers
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != time_index)
        .map(|(_, name)| EnsemblePath {
            label: name.clone(),
            column: name.clone(),
            points: Vec::new(),
            first_line: None,
        })
        .collect();
    if paths.is_empty() {
        return Err(InputError::new(
            file,
            time_column,
            format!(
                "no path column: a wide ensemble has one column of prices per path beside its time column; the header has: {}",
                headers.join(", ")
            ),
        )
        .line(Some(1)));
    }
    let mut last_time = None;
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(file, bytes, e))?;
        let line = record.position().map(|p| p.line() as usize);
        let time_cell = record.get(time_index).unwrap_or("");
        let prices = (0..headers.len()).filter(|&i| i != time_index);
        for (path, i) in paths.iter_mut().zip(prices) {
            let point = ensemble_point(
                file,
                (time_column, time_cell),
                (&headers[i], record.get(i).unwrap_or("")),
                unit,
                line,
            )?;
            path.first_line = path.first_line.or(line);
            path.points.push(point);
        }
        let time = paths[0].points.last().map(|p| p.0);
        if last_time.is_some_and(|last| time <= Some(last)) {
            return Err(InputError::new(
                file,
                time_column,
                "times must increase from one row to the next",
            )
            .value(format!("{time_cell:?}"))
            .line(line));
        }
        last_time = time;
    }
    Ok(paths)
}

fn read_long(
    file: &Path,
    bytes: &[u8],
    reader: &mut csv::Reader<&[u8]>,
    [time_index, path_index, price_index]: [usize; 3],
    headers: &[String],
    unit: TimeUnit,
) -> Result<Vec<EnsemblePath>, InputError> {
    let (time_column, path_column, price_column) = (
        &headers[time_index],
        &headers[path_index],
        &headers[price_index],
    );
    let mut paths: Vec<EnsemblePath> = Vec::new();
    let mut by_label: HashMap<String, usize> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(file, bytes, e))?;
        let line = record.position().map(|p| p.line() as usize);
        let label = record.get(path_index).unwrap_or("");
        if label.is_empty() {
            return Err(
                InputError::new(file, path_column.as_str(), "expected a path's label")
                    .value("\"\"")
                    .line(line),
            );
        }
        let time_cell = record.get(time_index).unwrap_or("");
        let point = ensemble_point(
            file,
            (time_column, time_cell),
            (price_column, record.get(price_index).unwrap_or("")),
            unit,
            line,
        )?;
        let next = paths.len();
        let k = *by_label.entry(label.to_string()).or_insert(next);
        if k == next {
            paths.push(EnsemblePath {
                label: label.to_string(),
                column: price_column.clone(),
                points: Vec::new(),
                first_line: line,
            });
        }
        let path = &mut paths[k];
        if path.points.last().is_some_and(|&(last, _)| point.0 <= last) {
            return Err(InputError::new(
                file,
                time_column.as_str(),
                format!(
                    "the times of path {label:?} must increase from one of its rows to the next"
                ),
            )
            .value(format!("{time_cell:?}"))
            .line(line));
        }
        path.points.push(point);
    }
    Ok(paths)
}

/// Splices `overlay` into `base`, both (time, price) points in increasing time: the base's points
/// inside the overlay's own range [first, last] are replaced by the overlay's points; those
/// outside it are kept. Either may be empty (an empty overlay changes nothing).
pub fn splice(base: &[(f64, f64)], overlay: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let (Some(&(first, _)), Some(&(last, _))) = (overlay.first(), overlay.last()) else {
        return base.to_vec();
    };
    let before = base.partition_point(|p| p.0 < first);
    let after = base.partition_point(|p| p.0 <= last);
    let mut spliced = Vec::with_capacity(before + overlay.len() + base.len() - after);
    spliced.extend_from_slice(&base[..before]);
    spliced.extend_from_slice(overlay);
    spliced.extend_from_slice(&base[after..]);
    spliced
}

/// One point of a reserve series: its time in seconds (when the file has a time column), and the
/// pool's base and quote reserves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReservePoint {
    /// Time in seconds (Unix, or as the file writes it), when the file has a time column.
    pub time: Option<f64>,
    /// Base-asset reserve, units.
    pub base: f64,
    /// Quote-asset reserve, units.
    pub quote: f64,
}

/// Reads a pool's reserves from a CSV or JSON file's bytes (the formats of [`read_series`]):
/// `base_column` and `quote_column` on every row, both positive, and `time` (column and unit)
/// when given, increasing from row to row.
pub fn read_reserves(
    file: &Path,
    bytes: &[u8],
    time: Option<(&str, TimeUnit)>,
    base_column: &str,
    quote_column: &str,
) -> Result<Vec<ReservePoint>, InputError> {
    let mut points: Vec<ReservePoint> = Vec::new();
    let mut push = |time_cell: Option<&Cell<'_>>,
                    base_cell: &Cell<'_>,
                    quote_cell: &Cell<'_>,
                    line: Option<usize>,
                    prefix: &str|
     -> Result<(), InputError> {
        let reserve = |cell: &Cell<'_>, column: &str| {
            cell_number(cell)
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(|| {
                    InputError::new(
                        file,
                        format!("{prefix}{column}"),
                        "expected a positive reserve",
                    )
                    .value(cell_display(cell))
                    .line(line)
                })
        };
        let base = reserve(base_cell, base_column)?;
        let quote = reserve(quote_cell, quote_column)?;
        let time = match (time, time_cell) {
            (Some((column, unit)), Some(cell)) => {
                let t = parse_time(cell, unit).ok_or_else(|| {
                    InputError::new(
                        file,
                        format!("{prefix}{column}"),
                        format!("expected {}", expected_time(unit)),
                    )
                    .value(cell_display(cell))
                    .line(line)
                })?;
                if points
                    .last()
                    .and_then(|p| p.time)
                    .is_some_and(|last| t <= last)
                {
                    return Err(InputError::new(
                        file,
                        format!("{prefix}{column}"),
                        "times must increase from one row to the next",
                    )
                    .value(cell_display(cell))
                    .line(line));
                }
                Some(t)
            }
            _ => None,
        };
        points.push(ReservePoint { time, base, quote });
        Ok(())
    };
    let time_column = time.map(|(column, _)| column);
    if is_json(file) {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
            InputError::new(file, "", format!("not valid JSON: {e}")).line(Some(e.line()))
        })?;
        let rows = value.as_array().ok_or_else(|| {
            InputError::new(
                file,
                "",
                "expected a JSON array of objects, one per reserve point",
            )
        })?;
        for (i, row) in rows.iter().enumerate() {
            let prefix = format!("[{i}].");
            let get = |column: &str| {
                row.get(column).map(Cell::Json).ok_or_else(|| {
                    InputError::new(file, format!("{prefix}{column}"), "missing in this element")
                })
            };
            let t = time_column.map(get).transpose()?;
            let (b, q) = (get(base_column)?, get(quote_column)?);
            push(t.as_ref(), &b, &q, None, &prefix)?;
        }
    } else {
        let mut reader = csv_reader(bytes);
        let headers = headers(file, bytes, &mut reader)?;
        let time_index = time_column.map(|c| column(file, &headers, c)).transpose()?;
        let base_index = column(file, &headers, base_column)?;
        let quote_index = column(file, &headers, quote_column)?;
        for record in reader.records() {
            let record = record.map_err(|e| csv_error(file, bytes, e))?;
            let line = record.position().map(|p| p.line() as usize);
            let cell = |i: usize| Cell::Text(record.get(i).unwrap_or(""));
            let t = time_index.map(cell);
            let (b, q) = (cell(base_index), cell(quote_index));
            push(t.as_ref(), &b, &q, line, "")?;
        }
    }
    if points.is_empty() {
        return Err(InputError::new(file, "", "the reserve series has no rows"));
    }
    Ok(points)
}

fn expected_time(unit: TimeUnit) -> &'static str {
    match unit {
        TimeUnit::Seconds => "a number of seconds",
        TimeUnit::Milliseconds => "a number of milliseconds",
        TimeUnit::Rfc3339 => "an RFC 3339 date-time such as 2020-03-12T00:00:00Z",
    }
}

fn is_json(file: &Path) -> bool {
    file.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

fn csv_reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(bytes)
}

fn headers(
    file: &Path,
    bytes: &[u8],
    reader: &mut csv::Reader<&[u8]>,
) -> Result<Vec<String>, InputError> {
    let headers = reader.headers().map_err(|e| csv_error(file, bytes, e))?;
    Ok(headers.iter().map(str::to_string).collect())
}

fn column(file: &Path, headers: &[String], name: &str) -> Result<usize, InputError> {
    headers.iter().position(|h| h == name).ok_or_else(|| {
        InputError::new(
            file,
            name,
            format!("column not found; the header has: {}", headers.join(", ")),
        )
        .line(Some(1))
    })
}

fn csv_error(file: &Path, bytes: &[u8], e: csv::Error) -> InputError {
    let line = e.position().map(|p| p.line() as usize);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            let fields = if *len == 1 { "field" } else { "fields" };
            format!("row has {len} {fields} but the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
        _ => format!("malformed CSV: {e}"),
    };
    let error = InputError::new(file, "", message).line(line);
    // The row as written, where it is short enough to show.
    let row = e
        .position()
        .and_then(|p| bytes.get(p.byte() as usize..))
        .and_then(|rest| rest.split(|&b| b == b'\n').next())
        .and_then(|row| std::str::from_utf8(row).ok())
        .map(str::trim)
        .filter(|row| !row.is_empty() && row.len() <= 80);
    match row {
        Some(row) => error.value(format!("{row:?}")),
        None => error,
    }
}

fn number(
    file: &Path,
    record: &csv::StringRecord,
    index: usize,
    name: &str,
    check: fn(f64) -> bool,
    expected: &str,
) -> Result<f64, InputError> {
    let line = record.position().map(|p| p.line() as usize);
    let text = record.get(index).unwrap_or("");
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && check(v) => Ok(v),
        _ => Err(InputError::new(file, name, format!("expected {expected}"))
            .value(format!("{text:?}"))
            .line(line)),
    }
}

/// Which side of an order book a level is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookSide {
    /// A bid: units the book buys, below the start price.
    Bid,
    /// An ask: units the book sells, above the start price.
    Ask,
}

/// The levels of an order-book file, each side in file order, as (price, size).
#[derive(Clone, Debug, PartialEq)]
pub struct BookLevels {
    /// Bids, best (highest price) first.
    pub bids: Vec<(f64, f64)>,
    /// Asks, best (lowest price) first; empty when the file has none.
    pub asks: Vec<(f64, f64)>,
}

/// Reads an order book CSV with columns `price,size` and an optional `side` (`bid` or `ask`;
/// without the column every row is a bid).
pub fn read_order_book(file: &Path, bytes: &[u8]) -> Result<BookLevels, InputError> {
    let rows = read_order_book_rows(file, bytes)?;
    let side = |wanted: BookSide| {
        rows.iter()
            .filter(|r| r.0 == wanted)
            .map(|&(_, price, size, _)| (price, size))
            .collect()
    };
    Ok(BookLevels {
        bids: side(BookSide::Bid),
        asks: side(BookSide::Ask),
    })
}

/// As [`read_order_book`]: every level in file order, with its side and its line.
pub(crate) fn read_order_book_rows(
    file: &Path,
    bytes: &[u8],
) -> Result<Vec<(BookSide, f64, f64, usize)>, InputError> {
    let mut reader = csv_reader(bytes);
    let headers = headers(file, bytes, &mut reader)?;
    let price = column(file, &headers, "price")?;
    let size = column(file, &headers, "size")?;
    let side = headers.iter().position(|h| h == "side");
    let mut levels = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(file, bytes, e))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let s = match side.map(|i| record.get(i).unwrap_or("")) {
            None | Some("bid") => BookSide::Bid,
            Some("ask") => BookSide::Ask,
            Some(text) => {
                return Err(InputError::new(file, "side", "expected bid or ask")
                    .value(format!("{text:?}"))
                    .line(Some(line)));
            }
        };
        let p = number(
            file,
            &record,
            price,
            "price",
            |v| v > 0.0,
            "a positive price",
        )?;
        let q = number(file, &record, size, "size", |v| v > 0.0, "a positive size")?;
        levels.push((s, p, q, line));
    }
    if levels.is_empty() {
        return Err(InputError::new(file, "", "the order book has no levels"));
    }
    if levels.iter().all(|r| r.0 == BookSide::Ask) {
        return Err(InputError::new(
            file,
            "side",
            "the order book has no bid levels; every row is an ask",
        ));
    }
    Ok(levels)
}

/// One account read from a positions file.
#[derive(Clone, Debug, PartialEq)]
pub struct FileAccount {
    /// Account label.
    pub label: String,
    /// Line of the account's first row.
    pub line: usize,
    /// Collateral per asset symbol, in file order.
    pub collateral: Vec<(String, f64, usize)>,
    /// Debt asset symbol, units and line, if any debt.
    pub debt: Option<(String, f64, usize)>,
}

/// Reads a positions CSV with columns `account,asset,collateral,debt`: one row per account and
/// asset, amounts in units of the asset. Rows of one account are merged; an account may owe only
/// one asset.
pub fn read_positions(file: &Path, bytes: &[u8]) -> Result<Vec<FileAccount>, InputError> {
    let mut reader = csv_reader(bytes);
    let headers = headers(file, bytes, &mut reader)?;
    let account = column(file, &headers, "account")?;
    let asset = column(file, &headers, "asset")?;
    let collateral = column(file, &headers, "collateral")?;
    let debt = column(file, &headers, "debt")?;
    let mut accounts: Vec<FileAccount> = Vec::new();
    let mut by_label: HashMap<String, usize> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(file, bytes, e))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let label = record.get(account).unwrap_or("").to_string();
        if label.is_empty() {
            return Err(
                InputError::new(file, "account", "expected a non-empty account label")
                    .line(Some(line)),
            );
        }
        let symbol = record.get(asset).unwrap_or("").to_string();
        if symbol.is_empty() {
            return Err(InputError::new(file, "asset", "expected an asset symbol").line(Some(line)));
        }
        let c = number(
            file,
            &record,
            collateral,
            "collateral",
            |v| v >= 0.0,
            "an amount ≥ 0",
        )?;
        let d = number(file, &record, debt, "debt", |v| v >= 0.0, "an amount ≥ 0")?;
        let index = *by_label.entry(label.clone()).or_insert_with(|| {
            accounts.push(FileAccount {
                label: label.clone(),
                line,
                collateral: Vec::new(),
                debt: None,
            });
            accounts.len() - 1
        });
        let entry = &mut accounts[index];
        if c > 0.0 {
            match entry.collateral.iter_mut().find(|x| x.0 == symbol) {
                Some(slot) => slot.1 += c,
                None => entry.collateral.push((symbol.clone(), c, line)),
            }
        }
        if d > 0.0 {
            match &mut entry.debt {
                Some((existing, amount, _)) if *existing == symbol => *amount += d,
                Some((existing, _, _)) => {
                    return Err(InputError::new(
                        file,
                        "debt",
                        format!(
                            "account {label} already owes {existing}, so it cannot also owe {symbol}; an account may owe only one asset"
                        ),
                    )
                    .value(format!("{:?}", record.get(debt).unwrap_or("")))
                    .line(Some(line)));
                }
                None => entry.debt = Some((symbol.clone(), d, line)),
            }
        }
    }
    if accounts.is_empty() {
        return Err(InputError::new(file, "", "the positions file has no rows"));
    }
    Ok(accounts)
}

/// One margin account read from a perp positions file.
#[derive(Clone, Debug, PartialEq)]
pub struct FilePerpAccount {
    /// Account label.
    pub label: String,
    /// Line of the account's first row.
    pub line: usize,
    /// Wallet, USD (the same on every row of the account).
    pub wallet: f64,
    /// Positions: market (asset symbol), signed size, entry price, line.
    pub positions: Vec<(String, f64, f64, usize)>,
}

/// Reads a perp positions CSV with columns `account,market,size,entry_price,wallet`: one row per
/// account and market, `size` in units of the market's asset (negative for a short), `wallet`
/// the account's margin balance in USD, repeated on each of its rows. An account with one row is
/// an isolated position; rows sharing a label form one cross-margin account.
pub fn read_perp_positions(file: &Path, bytes: &[u8]) -> Result<Vec<FilePerpAccount>, InputError> {
    let mut reader = csv_reader(bytes);
    let headers = headers(file, bytes, &mut reader)?;
    let account = column(file, &headers, "account")?;
    let market = column(file, &headers, "market")?;
    let size = column(file, &headers, "size")?;
    let entry = column(file, &headers, "entry_price")?;
    let wallet = column(file, &headers, "wallet")?;
    let mut accounts: Vec<FilePerpAccount> = Vec::new();
    let mut by_label: HashMap<String, usize> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(file, bytes, e))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let label = record.get(account).unwrap_or("").to_string();
        if label.is_empty() {
            return Err(
                InputError::new(file, "account", "expected a non-empty account label")
                    .line(Some(line)),
            );
        }
        let symbol = record.get(market).unwrap_or("").to_string();
        if symbol.is_empty() {
            return Err(
                InputError::new(file, "market", "expected the market's asset symbol")
                    .line(Some(line)),
            );
        }
        let units = number(
            file,
            &record,
            size,
            "size",
            |v| v != 0.0,
            "a non-zero size (negative for a short)",
        )?;
        let price = number(
            file,
            &record,
            entry,
            "entry_price",
            |v| v > 0.0,
            "a positive price",
        )?;
        let balance = number(file, &record, wallet, "wallet", |v| v >= 0.0, "USD ≥ 0")?;
        let index = *by_label.entry(label.clone()).or_insert_with(|| {
            accounts.push(FilePerpAccount {
                label: label.clone(),
                line,
                wallet: balance,
                positions: Vec::new(),
            });
            accounts.len() - 1
        });
        let entry_account = &mut accounts[index];
        if entry_account.wallet != balance {
            return Err(InputError::new(
                file,
                "wallet",
                format!(
                    "account {label} has wallet {} on line {}; every row of an account repeats its wallet",
                    entry_account.wallet, entry_account.line
                ),
            )
            .value(format!("{balance}"))
            .line(Some(line)));
        }
        if entry_account.positions.iter().any(|p| p.0 == symbol) {
            return Err(InputError::new(
                file,
                "market",
                format!("account {label} already holds a position in {symbol}; give one row per account and market"),
            )
            .value(format!("{symbol:?}"))
            .line(Some(line)));
        }
        entry_account.positions.push((symbol, units, price, line));
    }
    if accounts.is_empty() {
        return Err(InputError::new(file, "", "the positions file has no rows"));
    }
    Ok(accounts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: [(f64, f64); 5] = [
        (0.0, 10.0),
        (600.0, 11.0),
        (1200.0, 12.0),
        (1800.0, 13.0),
        (2400.0, 14.0),
    ];

    /// Base points strictly inside the overlay's [first, last] are replaced; those outside kept.
    #[test]
    fn splice_replaces_the_points_inside_the_overlay_and_keeps_the_rest() {
        let overlay = [(700.0, 1.0), (760.0, 2.0), (1700.0, 3.0)];
        assert_eq!(
            splice(&BASE, &overlay),
            vec![
                (0.0, 10.0),
                (600.0, 11.0),
                (700.0, 1.0),
                (760.0, 2.0),
                (1700.0, 3.0),
                (1800.0, 13.0),
                (2400.0, 14.0),
            ]
        );
    }

    /// The range is closed: base points at the overlay's first and last times are replaced too.
    #[test]
    fn splice_boundaries_belong_to_the_overlay() {
        let overlay = [(600.0, 1.0), (900.0, 2.0), (1800.0, 3.0)];
        assert_eq!(
            splice(&BASE, &overlay),
            vec![
                (0.0, 10.0),
                (600.0, 1.0),
                (900.0, 2.0),
                (1800.0, 3.0),
                (2400.0, 14.0),
            ]
        );
        // A single-point overlay replaces exactly the base point at its time, or inserts itself.
        assert_eq!(splice(&BASE, &[(1200.0, 5.0)])[2], (1200.0, 5.0));
        assert_eq!(splice(&BASE, &[(1200.0, 5.0)]).len(), 5);
        assert_eq!(splice(&BASE, &[(1300.0, 5.0)]).len(), 6);
    }

    /// An overlay running past either end of the base extends it; an empty one changes nothing;
    /// one that covers the base replaces it all.
    #[test]
    fn splice_at_the_ends() {
        let early = splice(&BASE, &[(-120.0, 1.0), (-60.0, 2.0), (0.0, 3.0)]);
        assert_eq!(
            early[..4],
            [(-120.0, 1.0), (-60.0, 2.0), (0.0, 3.0), (600.0, 11.0)]
        );
        let late = splice(&BASE, &[(2400.0, 1.0), (3000.0, 2.0)]);
        assert_eq!(late[3..], [(1800.0, 13.0), (2400.0, 1.0), (3000.0, 2.0)]);
        assert_eq!(splice(&BASE, &[]), BASE.to_vec());
        let all = [(-1.0, 1.0), (5000.0, 2.0)];
        assert_eq!(splice(&BASE, &all), all.to_vec());
    }

    /// Later overlays win where they overlap earlier ones.
    #[test]
    fn later_overlays_win() {
        let first = splice(&BASE, &[(500.0, 1.0), (1500.0, 2.0)]);
        let second = splice(&first, &[(1000.0, 7.0), (2000.0, 8.0)]);
        assert_eq!(
            second,
            vec![
                (0.0, 10.0),
                (500.0, 1.0),
                (1000.0, 7.0),
                (2000.0, 8.0),
                (2400.0, 14.0),
            ]
        );
    }

    /// Reserves read from JSON without a time column, and from CSV with one; a bad reserve names
    /// the file, the element or line, the column and the value.
    #[test]
    fn reads_reserves() {
        let json = br#"[{"DAI": 100.0, "WETH": 1.0}, {"DAI": "400", "WETH": 2}]"#;
        let points = read_reserves(Path::new("r.json"), json, None, "WETH", "DAI").unwrap();
        assert_eq!(points.len(), 2);
        assert_eq!(
            (points[1].time, points[1].base, points[1].quote),
            (None, 2.0, 400.0)
        );
        let csv = b"t,base,quote\n100,1,100\n160,2,400\n";
        let timed = Some(("t", TimeUnit::Seconds));
        let points = read_reserves(Path::new("r.csv"), csv, timed, "base", "quote").unwrap();
        assert_eq!(points[1].time, Some(160.0));
        let bad = b"t,base,quote\n100,1,100\n160,0,400\n";
        let e = read_reserves(Path::new("r.csv"), bad, timed, "base", "quote").unwrap_err();
        assert_eq!(
            e.to_string(),
            "r.csv:3: base = \"0\": expected a positive reserve"
        );
        let e = read_reserves(Path::new("r.json"), json, None, "WETH", "USDC").unwrap_err();
        assert_eq!(e.to_string(), "r.json: [0].USDC: missing in this element");
    }
}
