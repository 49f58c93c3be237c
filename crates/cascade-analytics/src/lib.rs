//! Measures of a run. Every figure here is a fold over the engine's audit events or, for the
//! a-priori feedback gain, a function of the initial world ([`feedback`]); nothing reads engine
//! state during a run.
//!
//! The folds take the events one at a time, in one pass, so a run's summary and timeline can be
//! computed while it runs, without keeping its events: [`RunFold`] (both), [`SummaryFold`] and
//! [`TimelineFold`] are event sinks ([`cascade_engine::EventSink`]). [`SummaryFold`] is a
//! composite of small folds, one per concern (prices, liquidations, protocols, losses,
//! mechanisms, keepers, cascade rounds, chain, perps, depth); their state, like the timeline's,
//! is sized by the world and the steps, not by the events. [`summarize`] and [`timeline()`] fold
//! a whole vector of events.

pub mod attribution;
pub mod calibrate;
pub mod chain;
pub mod clock;
pub mod compare;
pub mod cover;
pub mod depth;
pub mod feedback;
pub mod indicator;
pub mod map;
pub mod montecarlo;
pub mod perp;
pub mod run;
pub mod staleness;
pub mod summary;
pub mod timeline;

mod cascade;
mod keepers;
mod liquidations;
mod losses;
mod mechanisms;
mod prices;
mod protocols;
mod tally;
mod view;

pub use cascade::WorldFeedback;
pub use compare::{Comparison, ComparisonRow, comparison_row};
pub use feedback::{FeedbackGain, feedback_gain};
pub use run::RunFold;
pub use summary::{FeedbackGains, GainAt, RunInfo, Summary, SummaryFold, WallSummary, summarize};
pub use timeline::{Timeline, TimelineFold, timeline};
