//! Errors in scenario input: each names the file, the field path, the offending value and the line
//! where there is one.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem found in a scenario file or a data file it references.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The file at fault.
    pub file: PathBuf,
    /// 1-based line, where known.
    pub line: Option<usize>,
    /// Field path, e.g. `protocols[0].collateral.ETH.liquidation_threshold`, or a CSV column.
    pub field: String,
    /// The offending value as written, where there is one.
    pub value: Option<String>,
    /// What is wrong and what is expected.
    pub message: String,
}

impl InputError {
    /// An error about `field` in `file`.
    pub fn new(file: &Path, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.to_path_buf(),
            line: None,
            field: field.into(),
            value: None,
            message: message.into(),
        }
    }

    /// With the offending value.
    pub fn value(mut self, value: impl fmt::Display) -> Self {
        self.value = Some(value.to_string());
        self
    }

    /// At a line.
    pub fn line(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": ")?;
        if !self.field.is_empty() {
            write!(f, "{}", self.field)?;
            if let Some(value) = &self.value {
                write!(f, " = {value}")?;
            }
            write!(f, ": ")?;
        } else if let Some(value) = &self.value {
            write!(f, "{value}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Everything wrong with a scenario (at least one problem).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    /// The problems, in file order where known.
    pub problems: Vec<InputError>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl From<InputError> for ScenarioError {
    fn from(problem: InputError) -> Self {
        Self {
            problems: vec![problem],
        }
    }
}
