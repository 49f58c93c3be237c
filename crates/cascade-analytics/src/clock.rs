//! Simulated time as a UTC date-time, for a scenario with a start time
//! (`simulation.start_time`): the `time_utc` column beside `time_seconds` in timeline.csv and
//! the events files, and `scenario.start_time` in summary.json.
//!
//! Times are whole seconds written in RFC 3339 with the `Z` offset, `2020-03-12T10:27:00Z`;
//! the scenario's validation keeps every time of a run within the years 0000–9999 that the form
//! can write.

use chrono::{DateTime, SecondsFormat};

/// The Unix time `seconds` after `start`, if it is a date-time RFC 3339 can write.
pub fn unix_time(start: i64, seconds: u64) -> Option<i64> {
    let t = start.checked_add(i64::try_from(seconds).ok()?)?;
    DateTime::from_timestamp(t, 0)
        .filter(|d| (0..=9999).contains(&chrono::Datelike::year(d)))
        .map(|_| t)
}

/// The date-time `seconds` after the Unix time `start`, as RFC 3339 UTC; empty when it is out
/// of the years 0000–9999 (which a validated scenario never gives).
pub fn utc(start: i64, seconds: u64) -> String {
    unix_time(start, seconds)
        .and_then(|t| DateTime::from_timestamp(t, 0))
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// [`utc`] for a run's times, which come in order: the text of the last time asked is kept, so
/// the many events of one step format their time once.
#[derive(Clone, Debug)]
pub struct UtcClock {
    start: i64,
    last: Option<(u64, String)>,
}

impl UtcClock {
    /// A clock whose time 0 is the Unix time `start`.
    pub fn new(start: i64) -> Self {
        Self { start, last: None }
    }

    /// [`utc`] of `seconds` after the start.
    pub fn at(&mut self, seconds: u64) -> &str {
        let fresh = !matches!(&self.last, Some((t, _)) if *t == seconds);
        if fresh {
            self.last = Some((seconds, utc(self.start, seconds)));
        }
        self.last.as_ref().map_or("", |(_, text)| text.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2020-03-12T00:00:00Z, Black Thursday's midnight.
    const BLACK_THURSDAY: i64 = 1_583_971_200;

    #[test]
    fn times_are_rfc3339_utc_in_whole_seconds() {
        assert_eq!(utc(BLACK_THURSDAY, 0), "2020-03-12T00:00:00Z");
        assert_eq!(
            utc(BLACK_THURSDAY, 10 * 3600 + 27 * 60),
            "2020-03-12T10:27:00Z"
        );
        assert_eq!(utc(BLACK_THURSDAY, 86_400), "2020-03-13T00:00:00Z");
        assert_eq!(utc(-1, 0), "1969-12-31T23:59:59Z");
        let mut clock = UtcClock::new(BLACK_THURSDAY);
        assert_eq!(clock.at(60), "2020-03-12T00:01:00Z");
        assert_eq!(clock.at(60), "2020-03-12T00:01:00Z");
        assert_eq!(clock.at(120), "2020-03-12T00:02:00Z");
    }

    #[test]
    fn times_beyond_the_years_rfc3339_writes_are_blank() {
        let end_of_9999 = 253_402_300_799;
        assert_eq!(utc(end_of_9999, 0), "9999-12-31T23:59:59Z");
        assert_eq!(utc(end_of_9999, 1), "");
        assert_eq!(unix_time(end_of_9999, 1), None);
        assert_eq!(utc(i64::MAX, u64::MAX), "");
    }
}
