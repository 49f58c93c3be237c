//! Which margin accounts a mark can have made liquidatable, without scanning the book.
//!
//! Each account holding one position is keyed by that position's liquidation price: longs in a
//! list sorted by decreasing price (a mark at or below the key liquidates them), shorts by
//! increasing price (a mark at or above). The candidates for a mark are a prefix of each list.
//! Accounts holding several positions cannot be keyed by one price and are always candidates.
//! Callers confirm each candidate with its equity and maintenance, so stale keys cost time, not
//! correctness, as long as no key is further from the mark than the account's true liquidation
//! price: anything that can move a liquidation price towards the mark (funding, socialised
//! charges, a slice's fee, deleveraging at the bankruptcy price) must call
//! [`PerpIndex::invalidate`], and the index is rebuilt before the next lookup. Accounts found
//! closed are dropped from the prefix as it is read.

use crate::ids::AccountId;
use crate::perp::account::PerpAccount;
use crate::perp::params::PerpMarketParams;

/// The index of one exchange's accounts.
#[derive(Clone, Debug, Default)]
pub struct PerpIndex {
    /// Per market: longs by decreasing liquidation price.
    longs: Vec<Vec<(f64, u32)>>,
    /// Per market: shorts by increasing liquidation price.
    shorts: Vec<Vec<(f64, u32)>>,
    /// Accounts with several positions.
    general: Vec<u32>,
    /// Whether keys may be nearer than the accounts' true liquidation prices.
    stale: bool,
}

impl PerpIndex {
    /// Indexes every account at the marks.
    pub fn build(accounts: &[PerpAccount], rules: &[PerpMarketParams], marks: &[f64]) -> Self {
        let mut index = Self {
            longs: vec![Vec::new(); rules.len()],
            shorts: vec![Vec::new(); rules.len()],
            general: Vec::new(),
            stale: false,
        };
        for (i, account) in accounts.iter().enumerate() {
            match account.positions.as_slice() {
                [] => {}
                [p] => {
                    let key = account.liquidation_price(0, rules, marks);
                    let m = p.market.index();
                    if p.size > 0.0 {
                        index.longs[m].push((key, i as u32));
                    } else {
                        index.shorts[m].push((key, i as u32));
                    }
                }
                _ => index.general.push(i as u32),
            }
        }
        for list in &mut index.longs {
            list.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        }
        for list in &mut index.shorts {
            list.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        }
        index
    }

    /// Marks every key as possibly too far: the next lookup rebuilds.
    pub fn invalidate(&mut self) {
        self.stale = true;
    }

    /// Whether the index must be rebuilt before the next lookup.
    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// Accounts that may be liquidatable at `marks`, in increasing account order (the order a
    /// full scan would visit them). Accounts with no position left are dropped on the way.
    pub fn candidates(
        &mut self,
        accounts: &[PerpAccount],
        marks: &[f64],
        out: &mut Vec<AccountId>,
    ) {
        debug_assert!(!self.stale, "rebuild a stale index before looking up");
        out.clear();
        let open = |i: u32| !accounts[i as usize].positions.is_empty();
        for (m, list) in self.longs.iter_mut().enumerate() {
            let mark = marks[m];
            // A small margin below the key leaves rounding at the boundary to the caller.
            let end = list.partition_point(|&(key, _)| key >= mark * (1.0 - 1e-12));
            take_prefix(list, end, &open, out);
        }
        for (m, list) in self.shorts.iter_mut().enumerate() {
            let mark = marks[m];
            let end = list.partition_point(|&(key, _)| key <= mark * (1.0 + 1e-12));
            take_prefix(list, end, &open, out);
        }
        self.general.retain(|&i| open(i));
        out.extend(self.general.iter().map(|&i| AccountId(i)));
        out.sort_unstable();
        out.dedup();
    }
}

/// Emits the open accounts of `list[..end]` and drops the closed ones from it.
fn take_prefix(
    list: &mut Vec<(f64, u32)>,
    end: usize,
    open: &impl Fn(u32) -> bool,
    out: &mut Vec<AccountId>,
) {
    let closed = list[..end].iter().filter(|e| !open(e.1)).count();
    if closed > 0 {
        let mut kept: Vec<(f64, u32)> = list[..end].iter().copied().filter(|e| open(e.1)).collect();
        kept.extend_from_slice(&list[end..]);
        *list = kept;
    }
    let end = end - closed;
    out.extend(list[..end].iter().map(|e| AccountId(e.1)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::MarketId;
    use crate::perp::MarginTable;
    use crate::perp::account::{MarginMode, PerpPosition};
    use crate::perp::params::MarkRule;
    use rand::{RngExt, SeedableRng};

    fn rules() -> Vec<PerpMarketParams> {
        vec![
            PerpMarketParams {
                max_leverage: 50.0,
                margin: MarginTable::new(&[(0.0, 0.005), (100_000.0, 0.01)]).expect("valid"),
                maintenance_on: crate::perp::params::MaintenanceBasis::Mark,
                mark: MarkRule::Index,
                funding_interval: None,
                funding_interest: 0.0,
                funding_clamp: 0.0,
                funding_cap: 0.0,
            };
            2
        ]
    }

    /// Against a full scan on random books (one- and two-position accounts, longs and shorts,
    /// two markets) and random marks: the candidates include every liquidatable account.
    #[test]
    fn never_misses_a_liquidatable_account() {
        let rules = rules();
        let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(9);
        for _ in 0..50 {
            let accounts: Vec<PerpAccount> = (0..300)
                .map(|_| {
                    let n = if rng.random::<f64>() < 0.1 { 2 } else { 1 };
                    let positions = (0..n)
                        .map(|k| PerpPosition {
                            market: MarketId(k),
                            size: (rng.random::<f64>() - 0.5) * 20.0,
                            entry: 100.0 * (0.9 + 0.2 * rng.random::<f64>()),
                        })
                        .collect();
                    PerpAccount {
                        wallet: 20.0 + 200.0 * rng.random::<f64>(),
                        positions,
                        mode: MarginMode::Cross,
                        sliced: false,
                        cooldown_until: 0,
                    }
                })
                .collect();
            let start = [100.0, 100.0];
            let mut index = PerpIndex::build(&accounts, &rules, &start);
            let mut out = Vec::new();
            for _ in 0..20 {
                let marks = [
                    100.0 * (0.8 + 0.4 * rng.random::<f64>()),
                    100.0 * (0.8 + 0.4 * rng.random::<f64>()),
                ];
                index.candidates(&accounts, &marks, &mut out);
                for (i, a) in accounts.iter().enumerate() {
                    if a.liquidatable(&rules, &marks) {
                        assert!(
                            out.contains(&AccountId(i as u32)),
                            "missed {i} at {marks:?}"
                        );
                    }
                }
            }
        }
    }
}
