//! Reading an output folder back: JSON documents addressed by JSON pointer and CSV files by
//! column name, each error naming the file and the key, column or row it could not read.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::ReportError;
use super::format;
use super::page::Shown;

/// A JSON output, with the name the page cites it by.
pub(crate) struct Json {
    /// File name within the folder (`summary.json`).
    pub name: String,
    path: PathBuf,
    pub value: Value,
}

/// One step of a JSON pointer, escaped (`~` and `/` inside keys such as `0.99` or a venue's
/// name).
pub(crate) fn pointer(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
        .collect()
}

impl Json {
    /// Reads `dir/name`.
    pub fn read(dir: &Path, name: &str) -> Result<Self, ReportError> {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).map_err(|source| ReportError::Io {
            path: path.clone(),
            source,
        })?;
        let value = serde_json::from_str(&text).map_err(|source| ReportError::Json {
            path: path.clone(),
            source,
        })?;
        Ok(Self {
            name: name.to_string(),
            path,
            value,
        })
    }

    /// The value at `keys`, if present.
    pub fn get(&self, keys: &[&str]) -> Option<&Value> {
        self.value.pointer(&pointer(keys))
    }

    /// The number at `keys`; `None` when absent or null (a figure that does not exist).
    pub fn number(&self, keys: &[&str]) -> Option<f64> {
        self.get(keys).and_then(Value::as_f64)
    }

    /// The number at `keys`, which the format requires.
    pub fn require(&self, keys: &[&str]) -> Result<f64, ReportError> {
        self.number(keys)
            .ok_or_else(|| self.missing(keys, "a number"))
    }

    /// The string at `keys`, which the format requires.
    pub fn text(&self, keys: &[&str]) -> Result<String, ReportError> {
        self.get(keys)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| self.missing(keys, "a string"))
    }

    /// The object's keys at `keys`, in file order (empty when absent).
    pub fn keys(&self, keys: &[&str]) -> Vec<String> {
        self.get(keys)
            .and_then(Value::as_object)
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// An error naming this file and the missing key.
    pub fn missing(&self, keys: &[&str], what: &str) -> ReportError {
        ReportError::Content {
            path: self.path.clone(),
            what: format!("`{}` is not {what}", pointer(keys)),
        }
    }

    /// The number at `keys` as the page shows it, citing this file; `None` when absent.
    pub fn shown(&self, keys: &[&str], format: fn(f64) -> String) -> Option<Shown> {
        self.number(keys)
            .map(|v| Shown::number(&self.name, &pointer(keys), v, format))
    }

    /// Like [`Json::shown`], with "–" for a figure that does not exist (null).
    pub fn shown_or_dash(&self, keys: &[&str], format: fn(f64) -> String) -> Shown {
        self.shown(keys, format).unwrap_or_else(|| Shown::text("–"))
    }

    /// The whole number at `keys` written exactly as in the file (a seed, a count of paths: a
    /// u64 beyond 2^53 would not survive a trip through f64), citing it; "–" when absent.
    pub fn literal(&self, keys: &[&str]) -> Shown {
        match self.get(keys) {
            Some(v) if v.is_number() => Shown {
                text: v.to_string(),
                source: v.as_f64().map(|value| super::page::Source {
                    file: self.name.clone(),
                    pointer: pointer(keys),
                    value,
                }),
            },
            _ => Shown::text("–"),
        }
    }

    /// The number at `keys` in USD.
    pub fn usd(&self, keys: &[&str]) -> Shown {
        self.shown_or_dash(keys, format::usd)
    }
}

/// A CSV output: its header and rows, cells as written.
pub(crate) struct Csv {
    path: PathBuf,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Csv {
    /// Reads `dir/name`.
    pub fn read(dir: &Path, name: &str) -> Result<Self, ReportError> {
        let path = dir.join(name);
        let fail = |source| ReportError::Csv {
            path: path.clone(),
            source,
        };
        let mut reader = csv::Reader::from_path(&path).map_err(fail)?;
        let headers = reader
            .headers()
            .map_err(fail)?
            .iter()
            .map(str::to_string)
            .collect();
        let rows = reader
            .records()
            .map(|r| r.map(|r| r.iter().map(str::to_string).collect()))
            .collect::<Result<_, _>>()
            .map_err(fail)?;
        Ok(Self {
            path,
            headers,
            rows,
        })
    }

    /// The index of column `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// Column `name` as numbers (an empty cell is NaN, which charts leave out); `None` when
    /// the column is absent.
    pub fn column(&self, name: &str) -> Result<Option<Vec<f64>>, ReportError> {
        let Some(i) = self.index(name) else {
            return Ok(None);
        };
        self.rows
            .iter()
            .enumerate()
            .map(|(r, row)| self.cell(r, row, i))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// Column `name`, which the format requires.
    pub fn require(&self, name: &str) -> Result<Vec<f64>, ReportError> {
        self.column(name)?.ok_or_else(|| ReportError::Content {
            path: self.path.clone(),
            what: format!("no column `{name}`"),
        })
    }

    fn cell(&self, r: usize, row: &[String], i: usize) -> Result<f64, ReportError> {
        let text = row.get(i).map_or("", String::as_str);
        match text {
            "" => Ok(f64::NAN),
            "true" => Ok(1.0),
            "false" => Ok(0.0),
            _ => text.parse().map_err(|_| ReportError::Content {
                path: self.path.clone(),
                what: format!(
                    "line {}, column `{}`: `{text}` is not a number",
                    r + 2,
                    self.headers[i]
                ),
            }),
        }
    }

    /// The columns whose names start with `prefix`, with the rest of the name.
    pub fn columns_with(&self, prefix: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter_map(|h| h.strip_prefix(prefix).map(str::to_string))
            .collect()
    }
}
