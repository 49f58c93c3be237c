//! Running a compare: a scenario under each variant (a mechanism, a counterfactual, or several
//! joined by `+`), every variant's scenario validated before anything is reported, the variants
//! in parallel, the rows in the order asked. `cascade compare` and the Python package call this,
//! so both give the same compare.json and the same summary.json per variant; the caller writes
//! the files.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use cascade_analytics::{Comparison, RunFold, RunInfo, Summary, Timeline, comparison_row};
use cascade_engine::{Engine, World};
use cascade_scenario::mechanism::{self, Baseline};
use cascade_scenario::schema::ScenarioFile;
use cascade_scenario::{Scenario, ScenarioError};
use rayon::prelude::*;

use crate::lone_bidder_warning;

/// What a compare is asked: the scenario (its text, the name its problems are reported under
/// and where its data files are), the variants and the asset the rows measure.
pub struct CompareContext<'a> {
    /// The name the scenario's problems are reported under (its file).
    pub name: &'a Path,
    /// Where its data files are found.
    pub base_dir: &'a Path,
    /// Its text.
    pub text: &'a str,
    /// The variants, in the order their rows are reported.
    pub mechanisms: &'a [String],
    /// The asset whose units sold, price impact and fall the rows report; `None` takes the
    /// first asset with a venue (the first asset when none has one).
    pub asset: Option<&'a str>,
}

/// Why a compare could not be made.
#[derive(Debug)]
pub enum CompareError {
    /// A variant that is not a mechanism, a counterfactual or a `+` of them.
    Mechanism {
        /// The variant as asked.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A variant asked twice.
    Twice(String),
    /// The scenario as written is not valid.
    Scenario(ScenarioError),
    /// The asset asked is not one of the scenario's.
    Asset {
        /// The symbol asked.
        symbol: String,
        /// The scenario's assets.
        known: Vec<String>,
    },
    /// A variant that cannot be applied to the scenario.
    Variant {
        /// The variant.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A variant under which the scenario is not valid.
    Invalid {
        /// The variant.
        name: String,
        /// Its problems.
        error: ScenarioError,
    },
}

/// A compare checked and ready to run: the scenario as written, validated, and the variants.
pub struct Variants<'a> {
    ctx: &'a CompareContext<'a>,
    parsed: ScenarioFile,
    baseline: Scenario,
    start: Baseline,
    asset: String,
}

/// One variant that ran.
pub struct VariantRun {
    /// The variant's name.
    pub name: String,
    /// Its run's summary (summary.json).
    pub summary: Summary,
    /// Its run's timeline (timeline.csv).
    pub timeline: Timeline,
}

/// A compare that ran: each variant's run, in the order asked, and the table.
pub struct CompareRun {
    /// The variants' runs.
    pub variants: Vec<VariantRun>,
    /// The table of compare.csv and compare.json.
    pub comparison: Comparison,
}

impl<'a> Variants<'a> {
    /// Checks the variants' names, validates the scenario as written and chooses the asset,
    /// before anything runs.
    ///
    /// # Errors
    /// [`CompareError`]: a variant that is unknown or asked twice, an invalid scenario, an
    /// asset the scenario does not have.
    pub fn plan(ctx: &'a CompareContext<'a>) -> Result<Self, CompareError> {
        check_variants(ctx.mechanisms)?;
        let parsed = cascade_scenario::parse(ctx.text, ctx.name).map_err(CompareError::Scenario)?;
        let baseline =
            cascade_scenario::from_parsed(parsed.clone(), ctx.text, ctx.name, ctx.base_dir)
                .map_err(CompareError::Scenario)?;
        let world = &baseline.world;
        let asset = chosen_asset(world, ctx.asset)?;
        Ok(Self {
            ctx,
            start: Baseline::of(world),
            parsed,
            baseline,
            asset,
        })
    }

    /// The scenario as written, validated.
    pub fn world(&self) -> &World {
        &self.baseline.world
    }

    /// The parts of variants that change nothing in this scenario — a lending mechanism
    /// without a lending protocol (a perp-only scenario), `no_congestion` without a chain,
    /// `faster_oracle` without a delayed oracle, a switch to the mechanism the protocols
    /// already have: their rows repeat `as_is` for that part. One warning per part, naming
    /// the variant first.
    pub fn inert_parts(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        for variant in self.ctx.mechanisms {
            let Ok(parts) = mechanism::parts(variant) else {
                continue;
            };
            for part in parts.into_iter().filter(|p| *p != "as_is") {
                let mut file = self.parsed.clone();
                let changed = mechanism::apply_variant(&mut file, part, &self.start).is_ok()
                    && file != self.parsed;
                if !changed {
                    warnings.push(format!(
                        "{variant}: {part} changes nothing in this scenario \
                         (nothing it applies to, or already so): its row repeats as_is for it"
                    ));
                }
            }
        }
        warnings
    }

    /// Runs every variant in parallel on path 0, calling `done` after each; fails, before
    /// reporting anything, if the scenario is not valid under a variant.
    ///
    /// # Errors
    /// [`CompareError::Variant`] or [`CompareError::Invalid`], of the first variant asked
    /// that fails.
    pub fn run(self, done: &(dyn Fn() + Sync)) -> Result<CompareRun, CompareError> {
        let ctx = self.ctx;
        let variants = ctx
            .mechanisms
            .par_iter()
            .map(|name| {
                let run = self.variant(name)?;
                done();
                Ok(run)
            })
            .collect::<Result<Vec<VariantRun>, CompareError>>()?;
        let rows = variants
            .iter()
            .map(|v| comparison_row(&v.name, &v.summary, &self.asset))
            .collect();
        let world = &self.baseline.world;
        let comparison = Comparison {
            scenario: world.simulation.name.clone(),
            seed: world.simulation.seed,
            hash: self.baseline.hash.clone(),
            asset: self.asset,
            rows,
        };
        Ok(CompareRun {
            variants,
            comparison,
        })
    }

    /// The scenario under the variant `name`, run on path 0.
    fn variant(&self, name: &str) -> Result<VariantRun, CompareError> {
        let ctx = self.ctx;
        let mut file = self.parsed.clone();
        mechanism::apply_variant(&mut file, name, &self.start).map_err(|reason| {
            CompareError::Variant {
                name: name.to_string(),
                reason,
            }
        })?;
        let scenario = cascade_scenario::from_parsed(file, ctx.text, ctx.name, ctx.base_dir)
            .map_err(|error| CompareError::Invalid {
                name: name.to_string(),
                error,
            })?;
        let (summary, timeline) = summarize_run(scenario);
        Ok(VariantRun {
            name: name.to_string(),
            summary,
            timeline,
        })
    }
}

impl CompareRun {
    /// A warning for each variant whose bad debt comes with auctions a lone keeper won for
    /// (near) nothing, in the order asked.
    pub fn lone_bidder_warnings(&self) -> Vec<String> {
        self.variants
            .iter()
            .filter_map(|v| {
                cascade_analytics::compare::lone_bidder(&v.summary)
                    .map(|lone| lone_bidder_warning(&v.name, &lone))
            })
            .collect()
    }
}

/// Checks that every variant is a mechanism, a counterfactual or a `+` of them, and that none
/// is asked twice (what [`Variants::plan`] checks first, before the scenario is read).
///
/// # Errors
/// [`CompareError::Mechanism`] or [`CompareError::Twice`], of the first variant that is wrong.
pub fn check_variants(mechanisms: &[String]) -> Result<(), CompareError> {
    let mut seen = BTreeSet::new();
    for m in mechanisms {
        if let Err(reason) = mechanism::parts(m) {
            return Err(CompareError::Mechanism {
                name: m.clone(),
                reason,
            });
        }
        if !seen.insert(m) {
            return Err(CompareError::Twice(m.clone()));
        }
    }
    Ok(())
}

/// The asset asked, if the scenario has it, or the first asset with a venue (the first asset
/// when none has one).
fn chosen_asset(world: &World, asked: Option<&str>) -> Result<String, CompareError> {
    match asked {
        Some(symbol) if world.asset(symbol).is_some() => Ok(symbol.to_string()),
        Some(symbol) => Err(CompareError::Asset {
            symbol: symbol.to_string(),
            known: world.assets.iter().map(|a| a.symbol.clone()).collect(),
        }),
        None => Ok(world
            .assets
            .iter()
            .find(|a| a.primary_venue.is_some())
            .or(world.assets.first())
            .map(|a| a.symbol.clone())
            .unwrap_or_default()),
    }
}

/// Runs a validated scenario on path 0 and folds its summary and timeline as it goes.
fn summarize_run(scenario: Scenario) -> (Summary, Timeline) {
    let Scenario {
        world,
        hash,
        description,
        warnings,
    } = scenario;
    let world = Arc::new(world);
    let info = RunInfo {
        hash,
        description,
        warnings,
        ..RunInfo::default()
    };
    let mut fold = RunFold::new(Arc::clone(&world), info);
    Engine::new(world).run(&mut fold);
    fold.finish()
}
