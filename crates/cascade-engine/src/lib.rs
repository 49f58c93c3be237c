//! The cascade engine: turns a [`World`] into a stream of audit [`Event`]s.
//!
//! A [`World`] is the constant part of a simulation (names, parameters, shared series) plus the
//! initial [`State`]; an [`Engine`] owns one mutable copy of that state for one path and advances
//! it step by step. Building a world (from a scenario file, in `cascade-scenario`) is separate from
//! running it, and an engine can be reset or a new one started on another path cheaply, which is
//! the shape Monte Carlo drivers and other front ends need.
//!
//! Architecture invariant: the engine does no IO, reads no clock, and draws randomness only from
//! streams derived from the world's seed and the path number.

mod engine;
mod event;
mod sink;
mod world;

pub use engine::{Engine, trail};
pub use event::{
    BookMark, Event, EventKind, LiquidationRecord, PerpCloseKind, PerpLiquidation, PerpMark,
    PerpSettlement, SaleRecord, TroveLiquidation, TxRecord,
};
pub use sink::{Count, Discard, EventSink, Tee};
pub use world::{
    AssetInfo, BookTotals, BorrowerGroup, Counterparty, KeeperInfo, OracleInfo, OracleSource,
    PerpInfo, PerpMarketInfo, PerpState, ProtocolInfo, ProtocolState, Simulation, State, VaultBook,
    VenueInfo, World,
};
