//! Replayed data beyond one price series: overlays spliced into a replayed price series (the
//! 1-minute bars of a crash's core over the 10-minute bars of the whole day), and the reserve
//! series that drives a constant-product venue's liquidity L (liquidity providers adding and
//! removing depth over a replayed day).
//!
//! Both are read here, checked with the file, field, value and line of every problem, and handed
//! on as plain data: overlays as spliced (time, price) points for the replay driver, reserves as
//! a [`LiquiditySchedule`] for the venue, which the engine follows in phase 2.

use std::sync::Arc;

use cascade_model::Seconds;
use cascade_model::venue::LiquiditySchedule;

use super::Builder;
use crate::data::{self, TimeUnit};
use crate::error::InputError;
use crate::path::FieldPath;
use crate::schema::{DriverSection, ReservesSection};

/// A Unix time as an RFC 3339 UTC date-time (for messages), or the number of seconds when it is
/// out of the calendar's range.
fn date_time(seconds: f64) -> String {
    chrono::DateTime::from_timestamp(seconds.floor() as i64, 0).map_or_else(
        || format!("{seconds} s"),
        |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

impl Builder<'_> {
    /// The time unit named at `field`, or `None` (reported) when it is unknown.
    pub(super) fn time_unit(&mut self, field: &FieldPath, text: &str) -> Option<TimeUnit> {
        match text {
            "seconds" => Some(TimeUnit::Seconds),
            "milliseconds" => Some(TimeUnit::Milliseconds),
            "rfc3339" => Some(TimeUnit::Rfc3339),
            other => {
                self.fail(
                    field,
                    format!("{other:?}"),
                    "expected one of seconds, milliseconds, rfc3339",
                );
                None
            }
        }
    }

    /// Splices the overlays of a replay driver (`at` is the driver) into its `base` points, in
    /// order, so a later overlay wins over an earlier one where they overlap. Times are those of
    /// the files (Unix seconds); `origin` is the run's time 0 on that clock, against which
    /// `from_seconds` and `to_seconds` are measured. An overlay entirely outside the base
    /// series' range is an error: it would replace nothing, and is almost always a file of
    /// another day or a wrong time unit. Returns `None` when an overlay is invalid (reported).
    pub(super) fn overlays(
        &mut self,
        at: &FieldPath,
        d: &DriverSection,
        base: Vec<(f64, f64)>,
        origin: f64,
    ) -> Option<Vec<(f64, f64)>> {
        let Some(overlays) = &d.overlays else {
            return Some(base);
        };
        let (Some(&(base_first, _)), Some(&(base_last, _))) = (base.first(), base.last()) else {
            return Some(base);
        };
        let mut spliced = base;
        let mut ok = true;
        for (i, o) in overlays.iter().enumerate() {
            let at = at.key("overlays").at(i);
            let unit = self.time_unit(&at.key("time_unit"), &o.time_unit);
            let window = match (o.from_seconds, o.to_seconds) {
                (Some(from), Some(to)) if to <= from => {
                    self.fail(
                        &at.key("to_seconds"),
                        to,
                        format!("expected a time after from_seconds = {from}"),
                    );
                    None
                }
                (from, to) => Some((
                    from.map_or(f64::NEG_INFINITY, |s| origin + s as f64),
                    to.map_or(f64::INFINITY, |s| origin + s as f64),
                )),
            };
            let (Some(unit), Some((from, to))) = (unit, window) else {
                ok = false;
                continue;
            };
            let Some((path, bytes)) = self.read_data(&at.key("file"), &o.file) else {
                ok = false;
                continue;
            };
            let points =
                match data::read_series(&path, &bytes, &o.time_column, &o.price_column, unit) {
                    Ok(points) => points,
                    Err(e) => {
                        self.data_error(e);
                        ok = false;
                        continue;
                    }
                };
            let points: Vec<(f64, f64)> = points
                .into_iter()
                .filter(|&(t, _)| from <= t && t <= to)
                .collect();
            let (Some(&(first, _)), Some(&(last, _))) = (points.first(), points.last()) else {
                self.fail(
                    &at.key("file"),
                    format!("{:?}", o.file),
                    format!(
                        "no point of the overlay lies between from_seconds and to_seconds ({} → {})",
                        date_time(from.max(origin)),
                        if to.is_finite() {
                            date_time(to)
                        } else {
                            "the end".to_string()
                        }
                    ),
                );
                ok = false;
                continue;
            };
            if last < base_first || first > base_last {
                self.fail(
                    &at.key("file"),
                    format!("{:?}", o.file),
                    format!(
                        "the overlay runs {} → {}, entirely outside the replayed series ({} → {}); an overlay replaces the series' points inside its own range, so it must overlap it",
                        date_time(first),
                        date_time(last),
                        date_time(base_first),
                        date_time(base_last)
                    ),
                );
                ok = false;
                continue;
            }
            spliced = data::splice(&spliced, &points);
        }
        ok.then_some(spliced)
    }

    /// The liquidity schedule of a constant-product venue whose `impact` (at `at`) has
    /// `reserves`: L = √(base · quote) of each point, from the point's run time on. `None` when
    /// there are no reserves, or they are invalid (reported).
    pub(super) fn reserves(
        &mut self,
        at: &FieldPath,
        r: &ReservesSection,
    ) -> Option<Arc<LiquiditySchedule>> {
        let at = at.key("reserves");
        let first = r.first_point_seconds.unwrap_or(0);
        let timing = match (&r.time_column, r.interval_seconds) {
            (Some(_), Some(interval)) => {
                self.fail(
                    &at.key("interval_seconds"),
                    interval,
                    "give time_column (with time_unit) or interval_seconds, not both",
                );
                None
            }
            (None, None) => {
                self.fail_bare(
                    &at.key("time_column"),
                    "missing: a reserve series needs time_column (with time_unit) or interval_seconds",
                );
                None
            }
            (None, Some(0)) => {
                self.fail(&at.key("interval_seconds"), 0, "expected at least 1 second");
                None
            }
            (None, Some(_)) => {
                self.forbid(&at.key("time_unit"), &r.time_unit, "without time_column");
                r.time_unit.is_none().then_some(None)
            }
            (Some(column), None) => match &r.time_unit {
                None => {
                    self.fail_bare(&at.key("time_unit"), "missing: required with time_column");
                    None
                }
                Some(unit) => self
                    .time_unit(&at.key("time_unit"), unit)
                    .map(|unit| Some((column.as_str(), unit))),
            },
        };
        let interval = r.interval_seconds.unwrap_or(0);
        let timing = timing?;
        let (path, bytes) = self.read_data(&at.key("file"), &r.file)?;
        let points =
            match data::read_reserves(&path, &bytes, timing, &r.base_column, &r.quote_column) {
                Ok(points) => points,
                Err(e) => {
                    self.data_error(e);
                    return None;
                }
            };
        let mut schedule: Vec<(Seconds, f64)> = Vec::with_capacity(points.len());
        let origin = points[0].time.unwrap_or(0.0);
        for (i, p) in points.iter().enumerate() {
            let offset = match p.time {
                Some(t) => Some((t - origin).round() as u64),
                None => (i as u64).checked_mul(interval),
            };
            let Some(time) = offset.and_then(|o| o.checked_add(first)) else {
                self.data_error(
                    InputError::new(
                        &path,
                        "",
                        "the series runs past the end of the clock (2^64 − 1 seconds)",
                    )
                    .value(format!("point {i}")),
                );
                return None;
            };
            let liquidity = p.base.sqrt() * p.quote.sqrt();
            match schedule.last_mut() {
                // Times that round to the same second: the later point wins.
                Some(last) if last.0 == time => last.1 = liquidity,
                _ => schedule.push((time, liquidity)),
            }
        }
        Some(Arc::new(LiquiditySchedule::new(&schedule)))
    }
}
