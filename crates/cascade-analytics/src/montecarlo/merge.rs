//! Shards of one Monte Carlo joined into one run of all their paths: the contract of
//! `cascade merge`, of Python's distributed Monte Carlo and of any batch system that runs ranges
//! of path numbers on their own. Path `k`'s figures depend only on the scenario, its seed and
//! `k`, so shards that agree on those and cover a range of paths once, without a gap, are the
//! same rows a single run of that range gives.

use std::fmt;

use super::{MonteCarloHeader, PathFigures};

/// The paths of a Monte Carlo, or of one shard of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Shard {
    /// Which paths of which scenario.
    pub header: MonteCarloHeader,
    /// The metrics' names, the columns of each row.
    pub names: Vec<String>,
    /// One row per path.
    pub rows: Vec<PathFigures>,
}

/// Why shards could not be joined.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// No shard to join.
    #[error("no shard to merge")]
    Empty,
    /// Shard `shard` (by position) is of another run than the first: `what` differs.
    #[error(
        "shard {shard}: {what} = {this}, but shard 0 has {what} = {first}: shards of different runs"
    )]
    Differs {
        /// The shard's position in the list.
        shard: usize,
        /// What differs: `scenario`, `seed`, `horizon_seconds` or `the columns of paths.csv`.
        what: &'static str,
        /// The first shard's value (Debug form).
        first: String,
        /// This shard's value (Debug form).
        this: String,
    },
    /// A path in more than one shard.
    #[error("path {0} is in more than one shard")]
    Overlap(u64),
    /// Paths `from` to `to` in no shard.
    #[error("paths {from} to {to} are in no shard")]
    Gap {
        /// The first missing path.
        from: u64,
        /// The last missing path.
        to: u64,
    },
}

/// Joins `shards` of one scenario's Monte Carlo, checking that they are of the same scenario,
/// seed, horizon and metrics, and that their paths neither overlap nor leave a gap. The rows
/// come out in path order, the header counting them from the first.
///
/// # Errors
/// [`MergeError`]: shards of different runs, or paths overlapping or missing.
pub fn merge(shards: Vec<Shard>) -> Result<Shard, MergeError> {
    let first = shards.first().ok_or(MergeError::Empty)?;
    for (i, shard) in shards.iter().enumerate().skip(1) {
        check_same_run(first, shard, i)?;
    }
    let mut shards = shards.into_iter();
    let Shard {
        mut header,
        names,
        rows,
    } = shards.next().ok_or(MergeError::Empty)?;
    let mut rows: Vec<PathFigures> = rows
        .into_iter()
        .chain(shards.flat_map(|s| s.rows))
        .collect();
    rows.sort_by_key(|r| r.path);
    for pair in rows.windows(2) {
        let (a, b) = (pair[0].path, pair[1].path);
        if a == b {
            return Err(MergeError::Overlap(a));
        }
        if b != a + 1 {
            return Err(MergeError::Gap {
                from: a + 1,
                to: b - 1,
            });
        }
    }
    header.paths = rows.len() as u64;
    header.paths_from = rows.first().map_or(0, |r| r.path);
    Ok(Shard {
        header,
        names,
        rows,
    })
}

/// Whether `shard` (at position `i`) is of the same run as `first`.
fn check_same_run(first: &Shard, shard: &Shard, i: usize) -> Result<(), MergeError> {
    let differs =
        |what: &'static str, a: &dyn fmt::Debug, b: &dyn fmt::Debug| MergeError::Differs {
            shard: i,
            what,
            first: format!("{a:?}"),
            this: format!("{b:?}"),
        };
    let (a, b) = (&first.header, &shard.header);
    if a.scenario != b.scenario {
        return Err(differs("scenario", &a.scenario, &b.scenario));
    }
    if a.seed != b.seed {
        return Err(differs("seed", &a.seed, &b.seed));
    }
    if a.horizon_seconds != b.horizon_seconds {
        return Err(differs(
            "horizon_seconds",
            &a.horizon_seconds,
            &b.horizon_seconds,
        ));
    }
    if first.names != shard.names {
        return Err(differs(
            "the columns of paths.csv",
            &first.names,
            &shard.names,
        ));
    }
    Ok(())
}
