//! The scenario file: TOML in, a validated [`Scenario`] (an engine `World`) out.
//!
//! Parsing rejects unknown keys, missing fields and wrong types with the serde field path and the
//! line; the builder then checks every value and reference and reports all problems at once, each
//! naming the file, the field path, the value and the line. Data files (price series, order
//! books, positions) are read relative to the scenario file and included in the scenario hash.

mod build;
pub mod data;
pub mod edit;
mod error;
pub mod generate;
mod json_schema;
pub mod mechanism;
mod path;
pub mod preset;
pub mod schema;

use std::path::Path;

pub use build::{DEFAULT_MAX_ROUNDS, Scenario};
pub use error::{InputError, ScenarioError};
pub use json_schema::json_schema;
pub use path::{FieldPath, Locator};

/// Loads and validates a scenario file.
///
/// # Errors
/// Every problem found: an unreadable file, TOML syntax, unknown or missing keys, wrong types,
/// out-of-range values, references to unknown names, unreadable or malformed data files.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    from_str(&read(path)?, path, base_dir(path))
}

/// Reads a scenario file's text, for callers that parse it themselves (e.g. to apply
/// [`mechanism::apply`] before [`from_parsed`]).
///
/// # Errors
/// The file cannot be read, with its path.
pub fn read(path: &Path) -> Result<String, ScenarioError> {
    std::fs::read_to_string(path).map_err(|e| {
        InputError::new(path, "", format!("cannot read the scenario file: {e}")).into()
    })
}

/// The directory a scenario file's data files are read relative to: the file's own.
#[must_use]
pub fn base_dir(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

/// Parses and validates scenario text. `name` is used in messages; data files are read relative
/// to `base_dir`.
///
/// # Errors
/// As [`load`].
pub fn from_str(text: &str, name: &Path, base_dir: &Path) -> Result<Scenario, ScenarioError> {
    let file = parse(text, name)?;
    build::Builder::new(text, name, base_dir).build(file)
}

/// As [`from_str`], drawing generated books through `books`: scenarios built from variants of
/// one file (`cascade stress`) draw each distinct population once.
///
/// # Errors
/// As [`load`].
pub fn from_str_with_books(
    text: &str,
    name: &Path,
    base_dir: &Path,
    books: &generate::BookCache,
) -> Result<Scenario, ScenarioError> {
    let file = parse(text, name)?;
    build::Builder::new(text, name, base_dir)
        .with_books(books)
        .build(file)
}

/// Validates an already parsed (and possibly modified, e.g. by [`mechanism::apply`]) scenario.
/// `text` is the file it was parsed from, for line numbers and the scenario hash.
///
/// # Errors
/// As [`load`], for the values and references.
pub fn from_parsed(
    file: schema::ScenarioFile,
    text: &str,
    name: &Path,
    base_dir: &Path,
) -> Result<Scenario, ScenarioError> {
    build::Builder::new(text, name, base_dir).build(file)
}

/// Parses scenario text into its serde form without checking values.
///
/// # Errors
/// TOML syntax, unknown keys, missing fields and wrong types, with path and line.
pub fn parse(text: &str, name: &Path) -> Result<schema::ScenarioFile, ScenarioError> {
    let locator = Locator::new(text);
    let deserializer = toml::Deserializer::parse(text).map_err(|e| {
        let line = e.span().map(|s| locator.line_of(s.start));
        let mut error =
            InputError::new(name, "", format!("TOML syntax: {}", e.message().trim())).line(line);
        // The offending line as written, so that the mistake shows without opening the file.
        let source = line
            .and_then(|l| text.lines().nth(l - 1))
            .map(str::trim)
            .filter(|l| !l.is_empty() && l.len() <= 80);
        if let Some(source) = source {
            error = error.value(source);
        }
        ScenarioError::from(error)
    })?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let inner = e.inner();
        let mut field = field_path(e.path());
        let raw = inner.message().trim();
        let missing = raw
            .strip_prefix("missing field `")
            .and_then(|m| m.strip_suffix('`'));
        let unknown = raw.starts_with("unknown field");
        let message = match missing {
            Some(key) => {
                // serde names the table that lacks the field; name the field itself.
                field = field.key(key);
                "missing: required".to_string()
            }
            None => plain_types(raw),
        };
        let line = inner
            .span()
            .map(|s| locator.line_of(s.start))
            .or_else(|| locator.line(&field));
        // The value as written: found through the path where it resolves; otherwise the text
        // serde points at, except for a missing field (no value) or an unknown field (the span
        // is the key, not its value).
        let value = if missing.is_some() {
            None
        } else {
            locator.value_text(&field).map(str::to_string).or_else(|| {
                inner
                    .span()
                    .filter(|_| !unknown)
                    .and_then(|s| text.get(s))
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty() && v.len() <= 80 && !v.contains('\n'))
            })
        };
        let mut error = InputError::new(name, field.to_string(), message).line(line);
        if let Some(v) = value {
            error = error.value(v);
        }
        ScenarioError::from(error)
    })
}

/// A serde path as a [`FieldPath`].
fn field_path(path: &serde_path_to_error::Path) -> FieldPath {
    let mut field = FieldPath::root();
    for segment in path {
        field = match segment {
            serde_path_to_error::Segment::Seq { index } => field.at(*index),
            serde_path_to_error::Segment::Map { key } => field.key(key),
            serde_path_to_error::Segment::Enum { variant } => field.key(variant),
            serde_path_to_error::Segment::Unknown => field.key("?"),
        };
    }
    field
}

/// serde's message with Rust type names replaced by what a scenario author writes.
fn plain_types(message: &str) -> String {
    message
        .replace("expected f64", "expected a number")
        .replace("expected u64", "expected a whole number ≥ 0")
        .replace(
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        )
        .replace("expected a sequence", "expected an array")
        .replace("expected a boolean", "expected true or false")
}
