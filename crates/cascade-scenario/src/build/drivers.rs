//! The price drivers with a file or parameters of their own beyond `gbm`'s: which keys each
//! driver model takes, the series keys `replay` and `bootstrap` share, and the `garch`,
//! `bootstrap` and `ensemble` drivers, each validated (file, field path, value, line) and turned
//! into the model's [`PriceDriver`].

use std::path::Path;
use std::sync::Arc;

use cascade_model::fundamental::{Bootstrap, Ensemble, Garch, Interpolation, PriceDriver, Series};

use super::Builder;
use crate::data::{self, EnsembleLayout, EnsemblePath, TimeUnit};
use crate::error::InputError;
use crate::path::FieldPath;
use crate::schema::{AssetSection, DriverSection};

/// The driver models, each with the keys it takes besides `model`.
const MODELS: &[(&str, &[&str])] = &[
    ("constant", &[]),
    ("path", &["points"]),
    ("gbm", &["drift", "volatility"]),
    (
        "jump_diffusion",
        &[
            "drift",
            "volatility",
            "jump_intensity",
            "jump_mean",
            "jump_std",
        ],
    ),
    (
        "replay",
        &[
            "file",
            "time_column",
            "price_column",
            "time_unit",
            "interpolation",
            "rescale",
            "start_offset_seconds",
            "overlays",
        ],
    ),
    (
        "garch",
        &[
            "drift",
            "long_run_volatility",
            "alpha",
            "beta",
            "initial_volatility",
        ],
    ),
    (
        "bootstrap",
        &[
            "file",
            "time_column",
            "price_column",
            "time_unit",
            "block_steps",
        ],
    ),
    (
        "ensemble",
        &[
            "file",
            "format",
            "time_column",
            "time_unit",
            "path_column",
            "price_column",
            "interpolation",
            "rescale",
        ],
    ),
];

/// The names of the driver models, for messages.
pub(super) fn model_names() -> String {
    MODELS
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The keys of a driver table, in the order of its fields, with whether each is given.
fn given_keys(d: &DriverSection) -> [(&'static str, bool); 21] {
    [
        ("drift", d.drift.is_some()),
        ("volatility", d.volatility.is_some()),
        ("jump_intensity", d.jump_intensity.is_some()),
        ("jump_mean", d.jump_mean.is_some()),
        ("jump_std", d.jump_std.is_some()),
        ("points", d.points.is_some()),
        ("file", d.file.is_some()),
        ("time_column", d.time_column.is_some()),
        ("price_column", d.price_column.is_some()),
        ("time_unit", d.time_unit.is_some()),
        ("interpolation", d.interpolation.is_some()),
        ("rescale", d.rescale.is_some()),
        ("start_offset_seconds", d.start_offset_seconds.is_some()),
        ("overlays", d.overlays.is_some()),
        ("long_run_volatility", d.long_run_volatility.is_some()),
        ("alpha", d.alpha.is_some()),
        ("beta", d.beta.is_some()),
        ("initial_volatility", d.initial_volatility.is_some()),
        ("block_steps", d.block_steps.is_some()),
        ("format", d.format.is_some()),
        ("path_column", d.path_column.is_some()),
    ]
}

/// Default mean block length of a bootstrap, in steps (an hour of 1-minute steps).
const DEFAULT_BLOCK_STEPS: u64 = 60;

/// The keys shared by drivers that read one price series: the file and how to read it.
pub(super) struct SeriesKeys {
    name: String,
    time_column: String,
    price_column: String,
    unit: TimeUnit,
}

impl Builder<'_> {
    /// Reports every key of the driver table `at` that the model does not take. With an unknown
    /// model, which keys apply is unknown: nothing is reported here.
    pub(super) fn forbid_other_keys(&mut self, at: &FieldPath, d: &DriverSection, model: &str) {
        let Some((_, taken)) = MODELS.iter().find(|(name, _)| *name == model) else {
            return;
        };
        for (key, given) in given_keys(d) {
            if given && !taken.contains(&key) {
                self.fail_written(&at.key(key), format!("does not apply for model {model:?}"));
            }
        }
    }

    /// `interpolation` of a driver at `at`: `previous` (the default) or `linear`.
    pub(super) fn interpolation(&mut self, at: &FieldPath, d: &DriverSection) -> Interpolation {
        match d.interpolation.as_deref() {
            None | Some("previous") => Interpolation::Previous,
            Some("linear") => Interpolation::Linear,
            Some(other) => {
                self.fail(
                    &at.key("interpolation"),
                    format!("{other:?}"),
                    "expected previous or linear",
                );
                Interpolation::Previous
            }
        }
    }

    /// The series keys of the driver at `at` (`file`, `time_column`, `price_column`, `time_unit`,
    /// each required `ctx`), or `None` when one is missing or invalid (reported).
    pub(super) fn series_keys(
        &mut self,
        at: &FieldPath,
        d: &DriverSection,
        ctx: &str,
    ) -> Option<SeriesKeys> {
        let file = self.required(&at.key("file"), &d.file, ctx);
        let time_column = self.required(&at.key("time_column"), &d.time_column, ctx);
        let price_column = self.required(&at.key("price_column"), &d.price_column, ctx);
        let unit = self
            .required(&at.key("time_unit"), &d.time_unit, ctx)
            .and_then(|text| self.time_unit(&at.key("time_unit"), &text));
        Some(SeriesKeys {
            name: file?,
            time_column: time_column?,
            price_column: price_column?,
            unit: unit?,
        })
    }

    /// Reads the series the keys name (hashed with the scenario): its (Unix seconds, price)
    /// points, or `None` when it cannot be read (reported).
    pub(super) fn read_series(
        &mut self,
        at: &FieldPath,
        keys: &SeriesKeys,
    ) -> Option<Vec<(f64, f64)>> {
        let (path, bytes) = self.read_data(&at.key("file"), &keys.name)?;
        data::read_series(
            &path,
            &bytes,
            &keys.time_column,
            &keys.price_column,
            keys.unit,
        )
        .map_err(|e| self.data_error(e))
        .ok()
    }

    /// A `garch` driver: annualised long-run and initial volatilities, α and β per step with
    /// α, β ≥ 0 and α + β < 1.
    pub(super) fn garch(&mut self, at: &FieldPath, d: &DriverSection) -> PriceDriver {
        let ctx = "for model \"garch\"";
        let drift = d.drift.unwrap_or(0.0);
        self.check(&at.key("drift"), drift, true, "a finite annual drift");
        let volatility = |b: &mut Self, key: &str, value: f64| {
            b.check(
                &at.key(key),
                value,
                value >= 0.0,
                "an annual volatility ≥ 0",
            )
        };
        let long_run = self.required(&at.key("long_run_volatility"), &d.long_run_volatility, ctx);
        if let Some(v) = long_run {
            volatility(self, "long_run_volatility", v);
        }
        let weight = |b: &mut Self, key: &str, value: Option<f64>, what: &str| {
            let value = b.required(&at.key(key), &value, ctx)?;
            b.check(&at.key(key), value, value >= 0.0, what)
                .then_some(value)
        };
        let alpha = weight(
            self,
            "alpha",
            d.alpha,
            "a weight α ≥ 0 of the last squared shock",
        );
        let beta = weight(self, "beta", d.beta, "a weight β ≥ 0 of the last variance");
        if let (Some(alpha), Some(beta)) = (alpha, beta) {
            if alpha + beta >= 1.0 {
                self.fail(
                    &at.key("beta"),
                    beta,
                    format!(
                        "expected alpha + beta < 1, a variance that reverts to the long-run one; alpha = {alpha}, so alpha + beta = {}",
                        alpha + beta
                    ),
                );
            }
        }
        let long_run = long_run.unwrap_or(0.0);
        let initial = d.initial_volatility.unwrap_or(long_run);
        if d.initial_volatility.is_some() {
            volatility(self, "initial_volatility", initial);
        }
        PriceDriver::Garch(Garch {
            drift,
            long_run_volatility: long_run,
            alpha: alpha.unwrap_or(0.0),
            beta: beta.unwrap_or(0.0),
            initial_volatility: initial,
        })
    }

    /// A `bootstrap` driver: the series' one-step log-returns on the run's `step` seconds,
    /// resampled in blocks of mean length `block_steps`.
    pub(super) fn bootstrap(
        &mut self,
        at: &FieldPath,
        a: &AssetSection,
        d: &DriverSection,
        step: u64,
    ) -> PriceDriver {
        let ctx = "for model \"bootstrap\"";
        let block = d.block_steps.unwrap_or(DEFAULT_BLOCK_STEPS);
        if block == 0 {
            self.fail(
                &at.key("block_steps"),
                block,
                "expected a mean block length of at least 1 step",
            );
        }
        let fallback = PriceDriver::Constant;
        let Some(keys) = self.series_keys(at, d, ctx) else {
            return fallback;
        };
        let Some(points) = self.read_series(at, &keys) else {
            return fallback;
        };
        let series = relative_series(&points, points[0].0);
        let covered = series.times.last().copied().unwrap_or(0);
        let Some(bootstrap) = Bootstrap::from_series(&series, step, block.max(1)) else {
            self.fail(
                &at.key("file"),
                format!("{:?}", keys.name),
                format!(
                    "the series covers {covered} s, less than one step of {step} s: it has no one-step return to resample"
                ),
            );
            return fallback;
        };
        let count = bootstrap.returns().len() as u64;
        if block > count {
            self.fail(
                &at.key("block_steps"),
                block,
                format!(
                    "expected at most the series' {count} one-step returns (of {step} s): a longer block goes round the whole series"
                ),
            );
        }
        if let Some(gap) = median_gap(&series.times).filter(|&gap| gap > step) {
            self.warnings.push(format!(
                "asset {}: the bootstrapped series has a point every {gap} s but a step is {step} s: most one-step returns are 0",
                a.symbol
            ));
        }
        PriceDriver::Bootstrap(Arc::new(bootstrap))
    }

    /// An `ensemble` driver and its start price: the paths of a CSV file, in wide or long format,
    /// all starting at one price (or rescaled to the asset's).
    pub(super) fn ensemble(
        &mut self,
        asset_at: &FieldPath,
        at: &FieldPath,
        a: &AssetSection,
        d: &DriverSection,
        run_seconds: u64,
    ) -> (PriceDriver, Option<f64>) {
        let ctx = "for model \"ensemble\"";
        let fallback = (PriceDriver::Constant, None);
        let file = self.required(&at.key("file"), &d.file, ctx);
        let format = self.required(&at.key("format"), &d.format, ctx);
        let time_column = self.required(&at.key("time_column"), &d.time_column, ctx);
        let unit = self
            .required(&at.key("time_unit"), &d.time_unit, ctx)
            .and_then(|text| self.time_unit(&at.key("time_unit"), &text));
        let long = match format.as_deref() {
            Some("wide") => {
                let ctx = "for format \"wide\" (every column but the time column is a path)";
                self.forbid(&at.key("path_column"), &d.path_column, ctx);
                self.forbid(&at.key("price_column"), &d.price_column, ctx);
                Some(None)
            }
            Some("long") => {
                let ctx = "for format \"long\"";
                let path_column = self.required(&at.key("path_column"), &d.path_column, ctx);
                let price_column = self.required(&at.key("price_column"), &d.price_column, ctx);
                path_column.zip(price_column).map(Some)
            }
            Some(other) => {
                self.fail(
                    &at.key("format"),
                    format!("{other:?}"),
                    "expected wide (a column per path) or long (time, path and price columns)",
                );
                None
            }
            None => None,
        };
        let interpolation = self.interpolation(at, d);
        let (Some(name), Some(long), Some(time_column), Some(unit)) =
            (file, long, time_column, unit)
        else {
            return fallback;
        };
        if Path::new(&name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            self.fail(
                &at.key("file"),
                format!("{name:?}"),
                "expected a CSV file: an ensemble is read from CSV only",
            );
            return fallback;
        }
        let layout = match &long {
            None => EnsembleLayout::Wide {
                time_column: &time_column,
            },
            Some((path_column, price_column)) => EnsembleLayout::Long {
                time_column: &time_column,
                path_column,
                price_column,
            },
        };
        let Some((path, bytes)) = self.read_data(&at.key("file"), &name) else {
            return fallback;
        };
        let paths = match data::read_ensemble(&path, &bytes, layout, unit) {
            Ok(paths) => paths,
            Err(e) => {
                self.data_error(e);
                return fallback;
            }
        };
        let Some((series, start)) = self.ensemble_starts(&path, asset_at, at, a, d, &paths) else {
            return fallback;
        };
        let ends = series.iter().filter_map(|s| s.times.last()).min().copied();
        if ends.is_some_and(|end| end < run_seconds) {
            self.warnings.push(format!(
                "asset {}: a path of the ensemble covers {} s but the run lasts {run_seconds} s; its last price is held",
                a.symbol,
                ends.unwrap_or(0)
            ));
        }
        let Some(ensemble) = Ensemble::new(series, interpolation, name) else {
            return fallback;
        };
        (PriceDriver::Ensemble(Arc::new(ensemble)), Some(start))
    }

    /// The ensemble's paths on the run's clock (time 0 the file's earliest time) and their
    /// common start price: every path's first price must equal the first path's, or with
    /// `rescale` every path is scaled to start at the asset's price. `None` when they do not
    /// (reported).
    fn ensemble_starts(
        &mut self,
        file: &Path,
        asset_at: &FieldPath,
        at: &FieldPath,
        a: &AssetSection,
        d: &DriverSection,
        paths: &[EnsemblePath],
    ) -> Option<(Vec<Series>, f64)> {
        let origin = paths
            .iter()
            .filter_map(|p| p.points.first())
            .map(|p| p.0)
            .fold(f64::INFINITY, f64::min);
        let mut series: Vec<Series> = paths
            .iter()
            .map(|p| relative_series(&p.points, origin))
            .collect();
        let first = series[0].prices[0];
        if d.rescale == Some(true) {
            let Some(price) = a.price else {
                self.fail_bare(
                    &at.key("rescale"),
                    "rescale needs the asset's price to rescale every path to",
                );
                return None;
            };
            for s in &mut series {
                let factor = price / s.prices[0];
                s.prices.iter_mut().for_each(|p| *p *= factor);
            }
            return Some((series, price));
        }
        let differ: Vec<usize> = (1..series.len())
            .filter(|&k| (series[k].prices[0] - first).abs() > 1e-9 * first)
            .collect();
        if let Some(&k) = differ.first() {
            let more = match differ.len() - 1 {
                0 => String::new(),
                n => format!(" (and {n} more paths)"),
            };
            self.data_error(
                InputError::new(
                    file,
                    paths[k].column.as_str(),
                    format!(
                        "path {k} ({:?}) starts at {} where path 0 starts at {first}{more}: every path of an ensemble starts at one price; set driver.rescale = true to scale each path to the asset's price",
                        paths[k].label, series[k].prices[0]
                    ),
                )
                .value(series[k].prices[0])
                .line(paths[k].first_line),
            );
            return None;
        }
        if let Some(price) = a.price {
            if (price - first).abs() > 1e-9 * first {
                self.fail(&asset_at.key("price"), price, format!(
                    "differs from the ensemble's start price {first}; remove `price` or set driver.rescale = true"));
            }
        }
        Some((series, first))
    }
}

/// (Unix seconds, price) points as a series on the run's clock: seconds after `origin`, rounded;
/// points at or before it collapse onto time 0, the latest winning (as a replay's do).
pub(super) fn relative_series(points: &[(f64, f64)], origin: f64) -> Series {
    let mut times = Vec::with_capacity(points.len());
    let mut prices = Vec::with_capacity(points.len());
    for &(t, p) in points {
        let relative = (t - origin).round();
        if relative <= 0.0 {
            times.clear();
            prices.clear();
            times.push(0);
            prices.push(p);
        } else {
            times.push(relative as u64);
            prices.push(p);
        }
    }
    Series { times, prices }
}

/// The median spacing of increasing times, when there are at least two.
fn median_gap(times: &[u64]) -> Option<u64> {
    let mut gaps: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    if gaps.is_empty() {
        return None;
    }
    let middle = gaps.len() / 2;
    Some(*gaps.select_nth_unstable(middle).1)
}
