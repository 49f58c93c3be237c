//! `cascade cover`: prices a cover of bad debt above an attachment up to a limit from the paths
//! of a Monte Carlo already written (`cascade montecarlo`, or shards joined by `cascade merge`),
//! and writes cover.json.

use std::io;
use std::path::{Path, PathBuf};

use anyhow::Context;
use cascade_analytics::cover::{CoverTerms, price};
use cascade_report::{Cover, ManifestScenario, OutputFolder};

use super::montecarlo::read_shard;
use super::{Failure, output_folder, reseal, seal, write_file};

/// What `cascade cover` was asked.
pub(crate) struct Request<'a> {
    pub(crate) montecarlo: &'a Path,
    pub(crate) terms: CoverTerms,
    pub(crate) out: Option<PathBuf>,
    pub(crate) quiet: bool,
}

/// Reads the paths, prices the cover, writes cover.json and prints the price.
pub(crate) fn run(r: Request<'_>) -> Result<(), Failure> {
    r.terms
        .check()
        .map_err(|e| Failure::Usage(format!("--{}", e.to_string().replacen('_', "-", 2))))?;
    let outputs = read_shard(r.montecarlo)?;
    let csv = r.montecarlo.join("paths.csv");
    let Some(column) = outputs.names.iter().position(|n| *n == r.terms.metric) else {
        return Err(Failure::Usage(format!(
            "--metric {}: {} has no such column; its figures are {}",
            r.terms.metric,
            csv.display(),
            outputs.names.join(", ")
        )));
    };
    let losses = outputs
        .rows
        .iter()
        .map(|row| {
            row.values[column].ok_or_else(|| {
                Failure::Usage(format!(
                    "--metric {}: path {} of {} has no value for it",
                    r.terms.metric,
                    row.path,
                    csv.display()
                ))
            })
        })
        .collect::<Result<Vec<f64>, _>>()?;
    let priced = price(&r.terms, &losses, outputs.header.horizon_seconds)
        .map_err(|e| Failure::Usage(format!("{}: {e}", r.montecarlo.display())))?;
    let cover = Cover {
        source: &outputs.header,
        terms: &r.terms,
        price: &priced,
    };
    // Into the Monte Carlo's own folder (the default), cover.json joins its files and its
    // manifest; into another folder, it is that folder's one output.
    let (out, mut folder) = match r.out {
        Some(out) if out.as_path() != r.montecarlo => {
            let folder = output_folder(&out)?;
            (out, folder)
        }
        _ => {
            let out = r.montecarlo.to_path_buf();
            let folder = OutputFolder::reopen(&out)
                .with_context(|| format!("cannot add cover.json to {}", out.display()))?;
            (out, folder)
        }
    };
    write_file(&mut folder, "cover.json", |w| {
        cascade_report::write_cover_json(&cover, w)
    })?;
    if folder.is_reopened() {
        reseal(folder)?;
    } else {
        let source = &outputs.header;
        let id = ManifestScenario {
            name: source.scenario.name.clone(),
            hash: source.scenario.hash.clone(),
            seed: source.seed,
        };
        seal(folder, "cover", id)?;
    }
    if !r.quiet {
        let stdout = io::stdout();
        let mut lock = stdout.lock();
        cascade_report::write_cover_text(&cover, &mut lock).context("cannot print")?;
        say!("\noutputs: {}", out.display())?;
    }
    Ok(())
}
