//! Small accumulators the folds share, sized by the world rather than by the run.
//!
//! - [`PerAsset`]: per-asset sums or values indexed by asset, named by symbol only when a fold
//!   finishes (no string per event).
//! - [`AccountSet`]: the accounts seen, one bit each, for the few figures that count distinct
//!   accounts.
//! - [`Durations`]: how many episodes lasted each number of seconds, enough for exact nearest-rank
//!   percentiles; durations are differences of step times, so it holds at most one entry per
//!   step.

use std::collections::BTreeMap;

use cascade_engine::World;
use cascade_model::ids::AssetId;

/// Per-asset figures, each absent until first set or added to.
///
/// `add` sums in the order of the calls, from 0.0, as a `BTreeMap` entry's `or_insert(0.0)`
/// would; `set` overwrites. [`PerAsset::into_map`] keys the present ones by symbol.
#[derive(Clone, Debug)]
pub(crate) struct PerAsset(Vec<Option<f64>>);

impl PerAsset {
    /// Nothing for any of `assets` assets.
    pub(crate) fn new(assets: usize) -> Self {
        Self(vec![None; assets])
    }

    /// Adds `value` to the asset's figure (0.0 if absent).
    pub(crate) fn add(&mut self, asset: AssetId, value: f64) {
        *self.0[asset.index()].get_or_insert(0.0) += value;
    }

    /// Sets the asset's figure.
    pub(crate) fn set(&mut self, asset: usize, value: f64) {
        self.0[asset] = Some(value);
    }

    /// The present figures by asset symbol.
    pub(crate) fn into_map(self, world: &World) -> BTreeMap<String, f64> {
        self.0
            .into_iter()
            .zip(&world.assets)
            .filter_map(|(value, asset)| Some((asset.symbol.clone(), value?)))
            .collect()
    }
}

/// A set of account numbers, one bit each, with its size.
///
/// Bounded to the accounts of a book (numbers at or beyond the bound are ignored, as an index
/// past the end of the book would be), or growing with the largest number inserted.
#[derive(Clone, Debug, Default)]
pub(crate) struct AccountSet {
    words: Vec<u64>,
    bound: Option<usize>,
    len: u64,
}

impl AccountSet {
    /// An empty set that grows as needed.
    pub(crate) fn growing() -> Self {
        Self::default()
    }

    /// An empty set of accounts below `accounts`.
    pub(crate) fn bounded(accounts: usize) -> Self {
        Self {
            words: vec![0; accounts.div_ceil(64)],
            bound: Some(accounts),
            len: 0,
        }
    }

    /// Adds `account`; whether it was not there before (always false beyond the bound).
    pub(crate) fn insert(&mut self, account: u32) -> bool {
        let a = account as usize;
        if self.bound.is_some_and(|b| a >= b) {
            return false;
        }
        if a / 64 >= self.words.len() {
            self.words.resize(a / 64 + 1, 0);
        }
        let (word, bit) = (&mut self.words[a / 64], 1u64 << (a % 64));
        let new = *word & bit == 0;
        *word |= bit;
        self.len += u64::from(new);
        new
    }

    /// Removes `account`; whether it was there.
    pub(crate) fn remove(&mut self, account: u32) -> bool {
        let a = account as usize;
        let Some(word) = self.words.get_mut(a / 64) else {
            return false;
        };
        let bit = 1u64 << (a % 64);
        let present = *word & bit != 0;
        *word &= !bit;
        self.len -= u64::from(present);
        present
    }

    /// Accounts in the set.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }
}

/// Durations in seconds, as counts per distinct value.
#[derive(Clone, Debug, Default)]
pub(crate) struct Durations {
    counts: BTreeMap<u64, u64>,
    len: u64,
}

impl Durations {
    /// `times` more durations of `seconds` each (at least one: a value is kept only once seen).
    pub(crate) fn push(&mut self, seconds: u64, times: u64) {
        debug_assert!(times > 0, "no duration of {seconds} s to count");
        *self.counts.entry(seconds).or_insert(0) += times;
        self.len += times;
    }

    /// How many.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The `q` quantile by nearest rank (the ⌈q·n⌉-th smallest, at least the first); `None`
    /// when empty.
    pub(crate) fn nearest_rank(&self, q: f64) -> Option<u64> {
        if self.len == 0 {
            return None;
        }
        let rank = ((q * self.len as f64).ceil() as u64).clamp(1, self.len);
        let mut seen = 0;
        for (&seconds, &count) in &self.counts {
            seen += count;
            if seen >= rank {
                return Some(seconds);
            }
        }
        unreachable!("the counts add up to len")
    }

    /// The longest; `None` when empty.
    pub(crate) fn max(&self) -> Option<u64> {
        self.counts.keys().next_back().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_matches_a_sorted_vector() {
        let values = [5u64, 1, 9, 9, 3, 0, 120, 7, 7, 7, 60];
        for n in 0..=values.len() {
            let mut sorted = values[..n].to_vec();
            sorted.sort_unstable();
            let mut d = Durations::default();
            values[..n].iter().for_each(|&v| d.push(v, 1));
            for q in [0.0, 0.1, 0.5, 0.9, 1.0] {
                let expected = (!sorted.is_empty()).then(|| {
                    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
                    sorted[i - 1]
                });
                assert_eq!(d.nearest_rank(q), expected, "n = {n}, q = {q}");
            }
            assert_eq!(d.max(), sorted.last().copied());
            assert_eq!(d.len(), n as u64);
        }
    }

    #[test]
    fn a_duration_pushed_n_times_at_once_counts_as_n_pushes() {
        let (mut once, mut each) = (Durations::default(), Durations::default());
        for (seconds, n) in [(60, 3), (0, 5), (60, 1), (300, 2)] {
            once.push(seconds, n);
            (0..n).for_each(|_| each.push(seconds, 1));
        }
        assert_eq!(once.len(), each.len());
        assert_eq!(once.max(), each.max());
        for q in [0.0, 0.1, 0.5, 0.9, 1.0] {
            assert_eq!(once.nearest_rank(q), each.nearest_rank(q), "q = {q}");
        }
    }

    #[test]
    fn account_sets_count_distinct_accounts_within_their_bound() {
        let mut bounded = AccountSet::bounded(100);
        assert!(bounded.insert(3));
        assert!(!bounded.insert(3));
        assert!(bounded.insert(99));
        assert!(!bounded.insert(100));
        assert_eq!(bounded.len(), 2);
        let mut growing = AccountSet::growing();
        assert!(!growing.remove(7));
        assert!(growing.insert(1_000_000));
        assert!(growing.insert(7));
        assert!(growing.remove(7));
        assert!(!growing.remove(7));
        assert_eq!(growing.len(), 1);
    }
}
