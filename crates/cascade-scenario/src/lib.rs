//! The scenario file: TOML in, a validated [`Scenario`] (an engine `World`) out.
//!
//! Parsing rejects unknown keys, missing fields and wrong types with the serde field path and the
//! line; the builder then checks every value and reference and reports all problems at once, each
//! naming the file, the field path, the value and the line. Data files (price series, order
//! books, positions) are read relative to the scenario file and included in the scenario hash.

mod build;
pub mod data;
mod error;
pub mod generate;
mod path;
pub mod schema;

use std::path::Path;

pub use build::{DEFAULT_MAX_ROUNDS, Scenario};
pub use error::{InputError, ScenarioError};
pub use path::{FieldPath, Locator};

/// Loads and validates a scenario file.
///
/// # Errors
/// Every problem found: an unreadable file, TOML syntax, unknown or missing keys, wrong types,
/// out-of-range values, references to unknown names, unreadable or malformed data files.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::new(path, "", format!("cannot read the scenario file: {e}")))?;
    let base = path.parent().unwrap_or(Path::new("."));
    from_str(&text, path, base)
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

/// Parses scenario text into its serde form without checking values.
///
/// # Errors
/// TOML syntax, unknown keys, missing fields and wrong types, with path and line.
pub fn parse(text: &str, name: &Path) -> Result<schema::ScenarioFile, ScenarioError> {
    let locator = Locator::new(text);
    let deserializer = toml::Deserializer::parse(text).map_err(|e| {
        let line = e.span().map(|s| locator.line_of(s.start));
        InputError::new(name, "", format!("TOML syntax: {}", e.message().trim())).line(line)
    })?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.inner();
        let line = inner.span().map(|s| locator.line_of(s.start));
        let value = inner
            .span()
            .map(|s| text[s.clone()].trim().to_string())
            .filter(|v| !v.is_empty() && v.len() <= 80 && !v.contains('\n'));
        let field = if field == "." { String::new() } else { field };
        let mut error = InputError::new(name, field, inner.message().trim().to_string()).line(line);
        if let Some(v) = value {
            error = error.value(v);
        }
        ScenarioError::from(error)
    })
}
