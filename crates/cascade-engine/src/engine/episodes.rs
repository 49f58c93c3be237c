//! When each account's current liquidation episode began: one word per account of a protocol,
//! read at every liquidation and written when an episode starts or ends.
//!
//! A word holds the start time plus one, and 0 outside an episode, so that a new book's record
//! is zeroed memory: the allocator hands it over without writing it, and a path that liquidates
//! a few accounts touches only their pages. A reset clears the accounts the path touched.

use cascade_model::ids::AccountId;

/// Per account of one protocol: when its liquidation episode began, if one is under way.
#[derive(Clone, Debug, Default)]
pub(crate) struct Episodes(Vec<u64>);

impl Episodes {
    /// No episode under way among `accounts` accounts.
    pub(crate) fn new(accounts: usize) -> Self {
        Self(vec![0; accounts])
    }

    /// When account `id`'s episode began, if one is under way.
    pub(crate) fn start_of(&self, id: AccountId) -> Option<u64> {
        self.0[id.index()].checked_sub(1)
    }

    /// Starts account `id`'s episode at `time` unless one is under way; returns whether it
    /// started one.
    pub(crate) fn start(&mut self, id: AccountId, time: u64) -> bool {
        let word = &mut self.0[id.index()];
        let starts = *word == 0;
        if starts {
            *word = time + 1;
        }
        starts
    }

    /// Ends account `id`'s episode; returns when it began, if one was under way.
    pub(crate) fn end(&mut self, id: AccountId) -> Option<u64> {
        std::mem::take(&mut self.0[id.index()]).checked_sub(1)
    }

    /// Ends every episode.
    pub(crate) fn end_all(&mut self) {
        self.0.fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_episode_starts_once_and_ends_with_its_start_time() {
        let mut episodes = Episodes::new(3);
        let id = AccountId(1);
        assert_eq!(episodes.start_of(id), None);
        assert!(episodes.start(id, 0));
        assert!(!episodes.start(id, 60), "one under way keeps its start");
        assert_eq!(episodes.start_of(id), Some(0));
        assert_eq!(episodes.end(id), Some(0));
        assert_eq!(episodes.end(id), None);
        assert!(episodes.start(AccountId(2), 120));
        episodes.end_all();
        assert_eq!(episodes.start_of(AccountId(2)), None);
    }
}
