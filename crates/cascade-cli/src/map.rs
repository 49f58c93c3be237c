//! `cascade map`: where the walls are — the liquidation map of a scenario's initial book (walls,
//! m(p), the spiral threshold), its cascade curve checked against full runs, and the positions
//! in the open liquidation-level schema.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use cascade_analytics::map::{LiquidationMap, MapOptions, positions};
use cascade_report::{ManifestScenario, MapHeader};

use super::montecarlo::progress_of;
use super::{Failure, default_out, load, on_threads, output_folder, seal, write_file};

/// The most buckets per direction.
const MAX_BUCKETS: usize = 100_000;

/// What `cascade map` was asked.
pub(crate) struct Request<'a> {
    pub(crate) scenario: &'a Path,
    pub(crate) buckets: usize,
    pub(crate) shocks: Option<&'a [f64]>,
    pub(crate) threads: Option<usize>,
    pub(crate) out: Option<PathBuf>,
    pub(crate) quiet: bool,
    /// `--report`, `--charts`.
    pub(crate) report: &'a super::report::ReportArgs,
}

/// Checks the arguments that clap cannot.
fn options(r: &Request<'_>) -> Result<MapOptions, Failure> {
    if r.buckets == 0 || r.buckets > MAX_BUCKETS {
        return Err(Failure::Usage(format!(
            "--buckets = {}: between 1 and {MAX_BUCKETS}",
            r.buckets
        )));
    }
    if r.threads == Some(0) {
        return Err(Failure::Usage("--threads = 0: at least one thread".into()));
    }
    let mut options = MapOptions {
        buckets: r.buckets,
        ..MapOptions::default()
    };
    if let Some(shocks) = r.shocks {
        if let Some(bad) = shocks
            .iter()
            .find(|s| !(s.is_finite() && **s > 0.0 && **s < 1.0))
        {
            return Err(Failure::Usage(format!(
                "--shocks: {bad} is not a fraction strictly between 0 and 1 (0.1 for 10%)"
            )));
        }
        options.shocks = shocks.to_vec();
    }
    Ok(options)
}

/// Maps the scenario, runs its cascade curves and writes map.csv, map.json, positions.csv and
/// positions.json.
pub(crate) fn run(r: &Request<'_>) -> Result<(), Failure> {
    let options = options(r)?;
    let scenario = load(Some(r.scenario))?;
    let world = &scenario.world;
    let out = r.out.clone().unwrap_or_else(|| default_out(world, "-map"));
    let mut folder = output_folder(&out)?;
    let mut map = LiquidationMap::of(world, &options);
    let bar = progress_of(map.curve_points() as u64, "runs", r.quiet);
    on_threads(r.threads, || {
        map.run_curves_with_progress(world, &|| bar.inc(1))
    })?;
    bar.finish_and_clear();
    let header = MapHeader {
        name: &world.simulation.name,
        hash: &scenario.hash,
        seed: world.simulation.seed,
    };
    write_file(&mut folder, "map.csv", |w| {
        cascade_report::write_map_csv(&map, world, w)
    })?;
    write_file(&mut folder, "map.json", |w| {
        cascade_report::write_map_json(&header, &map, world, w)
    })?;
    let book = positions(world);
    write_file(&mut folder, "positions.csv", |w| {
        cascade_report::write_positions_csv(&book, world, w)
    })?;
    write_file(&mut folder, "positions.json", |w| {
        cascade_report::write_positions_json(&book, world, w)
    })?;
    r.report.write(&mut folder)?;
    let id = ManifestScenario {
        name: world.simulation.name.clone(),
        hash: scenario.hash.clone(),
        seed: world.simulation.seed,
    };
    seal(folder, "map", id)?;
    if !r.quiet {
        let stdout = io::stdout();
        let mut lock = stdout.lock();
        cascade_report::write_map_text(&world.simulation.name, &map, &mut lock)
            .context("cannot print")?;
        writeln!(lock, "\noutputs: {}", out.display()).context("cannot print")?;
    }
    Ok(())
}
