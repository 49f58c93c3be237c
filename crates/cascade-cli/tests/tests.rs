//! Integration tests of the `cascade` command and, through scenarios, of the engine.
//! One test binary (ripgrep style); each module owns one concern.

mod auctions;
mod backstop;
mod bad_input;
mod chain;
mod closed_form;
mod comet;
mod common;
mod compare;
mod conservation;
mod determinism;
mod examples;
mod liquity;
mod market_makers;
mod mechanisms;
mod perps;
mod replay;
mod replays;
mod semantics;
