//! One run of a scenario on one path, measured as `cascade run` measures it: the engine sends
//! every event at once to the summary and timeline folds (summed on a thread of their own) and
//! to the caller's sink (an events file, Arrow record batches), so no event is held here. The
//! CLI and the Python package both run through [`run_path`], so their summary.json is the same
//! to the byte.

use std::io;
use std::sync::Arc;

use cascade_analytics::attribution::{self, TooManySources};
use cascade_analytics::indicator::GainNow;
use cascade_analytics::{FeedbackGains, RunFold, RunInfo, Summary, Timeline, WorldFeedback};
use cascade_engine::{Engine, EventSink, Tee, World};

use crate::Background;

/// Events handed to the summary's thread at a time.
const FOLD_CHUNK: usize = 4_096;

/// What a run is asked beyond the scenario.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunAsked {
    /// The path (the stochastic drivers' draw) to run; 0 for the scenario as written.
    pub path: u64,
    /// Attribute the losses to their sources (counterfactual runs without each).
    pub attribution: bool,
    /// Add the leading indicator m(t) of each asset with a venue to the timeline.
    pub indicator: bool,
}

/// Why a run could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The summary's thread could not be started.
    #[error("cannot start the summary's thread")]
    Start(#[source] io::Error),
    /// The summary's thread failed.
    #[error("the summary's thread failed")]
    Fold(#[source] io::Error),
    /// The thread of the initial world's feedback gains failed.
    #[error("the feedback gains' thread failed")]
    Feedback,
    /// Attribution asked of a scenario with too many sources.
    #[error(transparent)]
    Attribution(#[from] TooManySources),
}

/// Runs `world` on the path asked, every event to `events` too, and returns the run's summary
/// and timeline. The figures of the initial world (feedback gains, the liquidation map's) are
/// computed on a thread of their own while the engine runs.
///
/// # Errors
/// [`RunError`]: a thread that could not start or failed, or attribution refused.
pub fn run_path(
    world: &Arc<World>,
    info: RunInfo,
    asked: RunAsked,
    events: &mut dyn EventSink,
) -> Result<(Summary, Timeline), RunError> {
    let info = RunInfo {
        path: asked.path,
        ..info
    };
    let counterfactual = asked.attribution.then(|| info.clone());
    let info = RunInfo {
        feedback_gains: FeedbackGains::Skipped,
        ..info
    };
    let (mut summary, timeline) = std::thread::scope(|scope| -> Result<_, RunError> {
        let feedback = scope.spawn(|| WorldFeedback::of(world));
        let mut fold =
            Background::sink("summary", FOLD_CHUNK, RunFold::new(Arc::clone(world), info))
                .map_err(RunError::Start)?;
        let mut engine = Engine::on_path(Arc::clone(world), asked.path);
        let mut sink = Tee(&mut fold, events);
        let mut gains: Vec<Vec<Option<f64>>> = Vec::new();
        if asked.indicator {
            let mut gain = GainNow::new(world);
            engine.run_watched(&mut sink, &mut |_, state, _| {
                gains.push(gain.of_each(state))
            });
        } else {
            engine.run(&mut sink);
        }
        let (mut summary, mut timeline) = fold.finish().map_err(RunError::Fold)?.finish();
        feedback
            .join()
            .map_err(|_| RunError::Feedback)?
            .apply_to(&mut summary.cascade);
        if asked.indicator {
            add_indicator(world, &gains, &mut timeline);
        }
        Ok((summary, timeline))
    })?;
    if let Some(info) = counterfactual {
        summary.attribution = Some(attribution::attribute(world, &info, asked.path)?);
    }
    Ok((summary, timeline))
}

/// Adds a column `m_<SYM>` of the indicator to `timeline` for each asset with a venue; `gains[k]`
/// is of the k-th step run, step 0 first.
fn add_indicator(world: &World, gains: &[Vec<Option<f64>>], timeline: &mut Timeline) {
    for (a, asset) in world.assets.iter().enumerate() {
        if asset.primary_venue.is_some() {
            let at = |step: u64| gains.get(step as usize).and_then(|g| g[a]);
            timeline.add_column(format!("m_{}", asset.symbol), at);
        }
    }
}
