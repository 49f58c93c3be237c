//! Measures of a run. Every figure here is a fold over the engine's audit events (the
//! [`summary`] and [`timeline`] modules) or, for the a-priori feedback gain, a function of the
//! initial world ([`feedback`]); nothing reads engine state during a run.

pub mod chain;
pub mod compare;
pub mod depth;
pub mod feedback;
pub mod perp;
pub mod summary;
pub mod timeline;

pub use compare::{Comparison, ComparisonRow, comparison_row};
pub use feedback::{FeedbackGain, feedback_gain};
pub use summary::{RunInfo, Summary, summarize};
pub use timeline::{Timeline, timeline};
