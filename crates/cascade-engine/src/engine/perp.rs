//! Perpetual-swap exchanges inside the step (docs/reference-math.md §8): marks from index and book,
//! the
//! liquidation engine, loss absorption and funding, one file per stage.
//!
//! Each cascade round, after the lending protocols, every exchange marks its markets
//! (`marks.rs`) and scans its accounts (here). An account whose equity is below maintenance is,
//! in this order (`close_out.rs`):
//! 1. taken over by the liquidator vault, with its margin, when equity is below the vault's
//!    fraction of maintenance (Hyperliquid's backstop);
//! 2. otherwise closed into each market's venue (longs sell, shorts buy) — a first slice only,
//!    with a cooldown, for large positions — and handed to the vault instead if the book cannot
//!    fill the close;
//! 3. closed against opposite positions at its bankruptcy price (auto-deleveraging, `adl.rs`)
//!    instead, when the close would leave a deficit the insurance fund cannot pay and the
//!    exchange's deficit rule deleverages;
//! 4. settled: under bankruptcy close-out the fund takes what margin is left (or pays what is
//!    missing), under market close-out the trader keeps it; a deficit the fund cannot pay is
//!    socialised at the end of the step or stays uncovered, by the deficit rule.
//!
//! In phase 6 (`funding.rs`) exchanges that socialise charge the step's uncovered deficits to
//! accounts in profit, and every market samples its premium and pays funding at the end of an
//! interval.
//!
//! Each venue rule of `cascade_model::perp::params` is a closed enum matched exhaustively where it
//! decides something: the mark (`MarkRule`, in the model's `mark_price`), the close-out
//! (`CloseOut`: who keeps the remaining margin, whether a whole close pays the liquidation fee),
//! the deficit rule (`DeficitRule`: deleverage, socialise or carry); slicing and the vault are
//! options of the exchange's parameters.
//!
//! Every trade is matched against the market's outside counterparties (`Counterparty`) at the
//! same price and funding is paid by every holder of the market, so the exchange's total value
//! (`PerpState::total_value`) is constant.

mod adl;
mod close_out;
mod funding;
mod marks;

use crate::sink::EventSink;
use cascade_model::ids::PerpId;
use cascade_model::perp::index::PerpIndex;
use cascade_model::perp::params::{PerpParams, SliceCooldown};

pub(super) use adl::AdlQueue;

use super::Cx;
use crate::event::EventKind;

/// Units below which a position counts as closed (rounding of partial closes).
const DUST_UNITS: f64 = 1e-12;

/// A close planned for one position: the signed units to close and what the book would give.
struct PlannedClose {
    position: usize,
    units: f64,
    filled: f64,
    average: f64,
}

impl<S: EventSink> Cx<'_, S> {
    /// The perp exchanges' part of a cascade round. Returns the number of accounts acted on.
    pub(super) fn liquidate_perps(&mut self, round: u32) -> u64 {
        let mut activity = 0;
        for x in 0..self.world.perps.len() {
            let x = PerpId(x as u32);
            self.refresh_marks(x);
            activity += self.perp_round(x, round);
        }
        activity
    }

    /// One exchange's round: the accounts whose liquidation prices the marks may have crossed,
    /// confirmed by equity and maintenance, in account order; a sliced account healthy again
    /// starts its next liquidation with a slice. Returns the number of accounts acted on.
    fn perp_round(&mut self, x: PerpId, round: u32) -> u64 {
        let world = self.world;
        let rules = &world.perps[x.index()].rules;
        let waits = waits_out_cooldowns(&world.perps[x.index()].params);
        let mut activity = 0;
        let mut missed = 0;
        let state = &mut self.path.state.perps[x.index()];
        if state.index.is_stale() {
            state.index = PerpIndex::build(&state.accounts, rules, &state.marks);
        }
        // A sliced account that is healthy again starts its next liquidation with a slice.
        let marks = &state.marks;
        self.path.perp_sliced[x.index()].retain(|&i| {
            let account = &mut state.accounts[i as usize];
            let still = !account.positions.is_empty()
                && account.equity(marks) < account.maintenance(rules, marks);
            account.sliced &= still;
            still
        });
        let mut candidates = std::mem::take(&mut self.path.perp_candidates);
        state
            .index
            .candidates(&state.accounts, &state.marks, &mut candidates);
        for &id in &candidates {
            let i = id.index();
            let state = &mut self.path.state.perps[x.index()];
            let account = &mut state.accounts[i];
            if account.positions.is_empty() {
                continue;
            }
            let equity = account.equity(&state.marks);
            let maintenance = account.maintenance(rules, &state.marks);
            if equity >= maintenance {
                continue;
            }
            if self.path.time < account.cooldown_until && waits {
                missed += 1;
                continue;
            }
            if self.liquidate_perp_account(x, id, equity, maintenance, round) {
                activity += 1;
            } else {
                missed += 1;
            }
        }
        self.path.perp_candidates = candidates;
        if missed > 0 {
            // Accounts waiting out a slice cooldown, or whose close found no liquidity.
            self.emit(
                round,
                EventKind::PerpCooldowns {
                    exchange: x,
                    count: missed,
                },
            );
        }
        activity
    }
}

/// Whether an account still liquidatable during a slice's cooldown waits for it to end (rather
/// than having its whole position closed at once).
fn waits_out_cooldowns(params: &PerpParams) -> bool {
    params.slicing.is_some_and(|s| match s.during_cooldown {
        SliceCooldown::Wait => true,
        SliceCooldown::CloseWhole => false,
    })
}
