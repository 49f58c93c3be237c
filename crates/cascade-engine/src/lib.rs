//! The cascade engine: turns a [`World`] into a stream of audit [`Event`]s.
//!
//! A [`World`] is the constant part of a simulation (names, parameters, shared series) plus the
//! initial [`State`] and its index, built once and shared by every path; an [`Engine`] owns one
//! path's state and advances it step by step, sending every event to the caller's
//! [`EventSink`] (it keeps none). [`Engine::reset`] restores only what the last path changed, so
//! one engine per worker runs thousands of paths of one world — the shape Monte Carlo drivers
//! and other front ends need. Path k's events depend only on the world, the seed and k.
//!
//! ```
//! use std::path::Path;
//! use std::sync::Arc;
//!
//! use cascade_analytics::{RunFold, RunInfo};
//! use cascade_engine::Engine;
//!
//! let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/gbm-jump-stress.toml");
//! let world = Arc::new(cascade_scenario::load(&file).expect("a valid scenario").world);
//! let mut engine = Engine::new(Arc::clone(&world));
//! let mut bad_debt = Vec::new();
//! for path in 0..4 {
//!     engine.reset(path);
//!     let info = RunInfo::default();
//!     let mut fold = RunFold::new(Arc::clone(&world), info);
//!     engine.run(&mut fold);
//!     let (summary, _timeline) = fold.finish();
//!     bad_debt.push(summary.bad_debt_usd);
//! }
//! assert_eq!(bad_debt.len(), 4);
//! assert!(bad_debt.iter().all(|usd| usd.is_finite() && *usd >= 0.0));
//! ```
//!
//! Architecture invariant: the engine does no IO, reads no clock, and draws randomness only from
//! streams derived from the world's seed and the path number.

mod engine;
mod event;
mod sink;
mod world;

pub use engine::{Controls, Engine, Impact, MutedImpact, trail};
pub use event::{
    BookMark, Event, EventKind, GasAuctionRecord, LiquidationBatchRecord, LiquidationRecord,
    PerpCloseKind, PerpLiquidation, PerpMark, PerpSettlement, SaleRecord, TroveLiquidation,
    TxRecord,
};
pub use sink::{Count, Discard, EventSink, Tee};
pub use world::{
    AdlLedger, AssetInfo, BookTotals, BorrowerGroup, Counterparty, KeeperInfo, OracleInfo,
    OracleSource, PathLimit, PerpInfo, PerpMarketInfo, PerpState, ProtocolInfo, ProtocolState,
    Simulation, StalenessGuard, State, VaultBook, VenueInfo, World,
};
