//! `cascade schema`: the JSON Schema of the scenario file, for completion and checks in editors
//! (docs/scenario.md, "Completion and checks in editors"), on standard output or into a file.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use anyhow::Context;

use super::Failure;

/// Prints the schema, or writes it to `out` (replacing the file): an `out` that cannot be
/// created is a usage error, named, before anything is written.
pub(crate) fn run(out: Option<&Path>) -> Result<(), Failure> {
    let schema = cascade_scenario::json_schema();
    let Some(out) = out else {
        io::stdout()
            .write_all(schema.as_bytes())
            .context("cannot write the schema")?;
        return Ok(());
    };
    let mut file = fs::File::create(out).map_err(|e| {
        Failure::Usage(format!(
            "--out {}: cannot create the file: {e}",
            out.display()
        ))
    })?;
    file.write_all(schema.as_bytes())
        .and_then(|()| file.flush())
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}
