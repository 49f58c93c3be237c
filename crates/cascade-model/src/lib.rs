//! The domain model of cascade: what the world is made of and the maths of each mechanism.
//!
//! This crate owns the state of every component (fundamental price processes, venues, oracles,
//! lending protocols with their accounts, keepers) and the pure formulas that move it (price
//! impact, oracle aggregation, health factor, fixed-spread liquidation). It does no IO, reads no
//! clock and draws randomness only from the [`rng::RngStream`]s handed to it, so the engine that
//! drives it stays deterministic.
//!
//! Units: prices and values are USD (`f64`), amounts are units of an asset (`f64`), ratios are
//! fractions (0.05 = 5%), simulated time is integer seconds ([`Seconds`]).

pub mod auction;
pub mod backstop;
pub mod borrower;
pub mod chain;
pub mod comet;
pub mod fundamental;
pub mod ids;
pub mod keeper;
pub mod lending;
pub mod liquity;
pub mod loss;
pub mod market_maker;
pub mod oracle;
pub mod perp;
pub mod rng;
pub mod venue;
pub mod volatility;

/// Simulated time in whole seconds since the start of a run.
pub type Seconds = u64;

/// Seconds in the year used to annualise drift and volatility (365 days).
pub const SECONDS_PER_YEAR: f64 = 365.0 * 24.0 * 3600.0;
