//! Calibration: which value of one parameter is the most capital-efficient one whose risk stays
//! in a stated budget (`cascade calibrate`, docs/outputs.md "calibration.json").
//!
//! A risk budget is a statistic of one per-path figure of a Monte Carlo and a bound,
//! `var99(bad_debt_usd) <= 1e6` ([`RiskBudget`]). Each candidate value of the parameter is a
//! scenario of its own, run over the same paths 0 … N − 1: path k draws its prices from the seed
//! and k alone, so every value sees the same price paths (common random numbers) and the
//! frontier moves only because the parameter did, not because the paths did. The frontier
//! ([`FrontierPoint`]) holds each value's risk with its standard error, whether it is in budget,
//! and the book it gives ([`BookMeasure`]: the debt the book carries per USD of collateral, the
//! perp book's leverage), which is how the parameter changes what borrowers can do when positions
//! are generated relative to it.
//!
//! "Most capital-efficient" is a direction along the parameter ([`Prefer`]): a higher
//! liquidation threshold, LTV or maximum leverage lets the same collateral carry more debt; a
//! lower bonus, close factor, penalty or fee costs borrowers less when they are liquidated. [`Prefer::for_key`] knows these by the key's last segment; any other key
//! needs the direction stated. [`choose`] takes the in-budget value furthest in that direction.

use std::fmt;
use std::str::FromStr;

use cascade_engine::World;
use cascade_model::ids::ProtocolId;
use serde::Serialize;

use crate::montecarlo::{Distribution, MonteCarloSummary};

/// The one-sided 95% normal quantile: `risk + 1.645·se` is the upper bound a committee reads as
/// "in budget with 95% confidence".
pub const Z_ONE_SIDED_95: f64 = 1.644_853_626_951_472_2;

/// A statistic of a Monte Carlo's paths.
#[derive(Clone, Debug, PartialEq)]
pub enum Statistic {
    /// The mean of a figure.
    Mean(String),
    /// Its value at risk at a level ("0.95", "0.99", "0.999").
    Var(String, &'static str),
    /// Its expected shortfall at a level.
    Es(String, &'static str),
    /// The probability of an event over the paths.
    Probability(PathEvent),
}

/// The events whose probability a budget can bound (montecarlo.json `probabilities`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PathEvent {
    /// A path ends with bad debt.
    BadDebt,
    /// A path is a death spiral.
    DeathSpiral,
}

/// A risk budget: `STATISTIC <= BOUND` (or `<`).
#[derive(Clone, Debug, PartialEq)]
pub struct RiskBudget {
    /// The expression as given.
    pub expression: String,
    /// What is measured.
    pub statistic: Statistic,
    /// Whether the bound itself is out of budget (`<`).
    pub strict: bool,
    /// The bound.
    pub bound: f64,
}

/// A statistic's estimate over the paths and its standard error.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Measured {
    /// The estimate.
    pub value: f64,
    /// Its standard error (montecarlo.json's: `mean_se`, `var_se`, `es_se`, `probabilities_se`).
    pub se: f64,
}

/// The tail levels a budget can name, as `var99` names them.
const LEVEL_NAMES: [(&str, &str); 3] = [("95", "0.95"), ("99", "0.99"), ("999", "0.999")];

impl FromStr for RiskBudget {
    type Err = String;

    /// Parses `mean(METRIC)`, `varNN(METRIC)`, `esNN(METRIC)` (NN = 95, 99 or 999),
    /// `p(bad_debt)` or `p(death_spiral)`, then `<=` or `<`, then a finite number.
    fn from_str(text: &str) -> Result<Self, String> {
        let syntax = "expected STATISTIC(METRIC) <= BOUND, where STATISTIC is mean, var95, var99, \
                      var999, es95, es99 or es999 and METRIC a column of paths.csv \
                      (var99(bad_debt_usd) <= 1e6), or p(bad_debt) / p(death_spiral) <= P";
        let fail = |why: &str| format!("{text:?}: {why}; {syntax}");
        let (left, strict, right) = match (text.find("<="), text.find('<')) {
            (Some(i), _) => (&text[..i], false, &text[i + 2..]),
            (None, Some(i)) => (&text[..i], true, &text[i + 1..]),
            (None, None) => return Err(fail("no <= or <")),
        };
        let bound: f64 = right
            .trim()
            .parse()
            .map_err(|_| fail(&format!("the bound {:?} is not a number", right.trim())))?;
        if !bound.is_finite() {
            return Err(fail(&format!("the bound {bound} is not finite")));
        }
        let left = left.trim();
        let (name, argument) = left
            .strip_suffix(')')
            .and_then(|l| l.split_once('('))
            .ok_or_else(|| fail(&format!("{left:?} is not STATISTIC(METRIC)")))?;
        let (name, metric) = (name.trim(), argument.trim().to_string());
        if metric.is_empty() {
            return Err(fail("no metric between the parentheses"));
        }
        let level = |rest: &str| {
            LEVEL_NAMES
                .iter()
                .find(|(n, _)| *n == rest)
                .map(|&(_, key)| key)
                .ok_or_else(|| fail(&format!("{name:?}: the level must be 95, 99 or 999")))
        };
        let statistic = match name {
            "mean" => Statistic::Mean(metric),
            "p" => Statistic::Probability(match metric.as_str() {
                "bad_debt" => PathEvent::BadDebt,
                "death_spiral" => PathEvent::DeathSpiral,
                other => {
                    return Err(fail(&format!(
                        "p({other}): the probabilities are p(bad_debt) and p(death_spiral)"
                    )));
                }
            }),
            _ => {
                if let Some(rest) = name.strip_prefix("var") {
                    Statistic::Var(metric, level(rest)?)
                } else if let Some(rest) = name.strip_prefix("es") {
                    Statistic::Es(metric, level(rest)?)
                } else {
                    return Err(fail(&format!("unknown statistic {name:?}")));
                }
            }
        };
        Ok(Self {
            expression: text.trim().to_string(),
            statistic,
            strict,
            bound,
        })
    }
}

impl RiskBudget {
    /// The metric the budget reads, if it reads one (a probability reads none).
    pub fn metric(&self) -> Option<&str> {
        match &self.statistic {
            Statistic::Mean(m) | Statistic::Var(m, _) | Statistic::Es(m, _) => Some(m),
            Statistic::Probability(_) => None,
        }
    }

    /// The statistic's estimate and standard error over a Monte Carlo's paths.
    ///
    /// # Errors
    /// A metric the Monte Carlo does not report, or reports on no path (an amplification
    /// without any exogenous fall).
    pub fn measure(&self, mc: &MonteCarloSummary) -> Result<Measured, String> {
        let distribution = |metric: &str| -> Result<&Distribution, String> {
            mc.metrics.get(metric).ok_or_else(|| {
                format!(
                    "{:?}: no path has a figure {metric:?}; the figures are {}",
                    self.expression,
                    mc.metrics.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            })
        };
        let at = |map: &std::collections::BTreeMap<String, f64>, level: &str| map[level];
        Ok(match &self.statistic {
            Statistic::Mean(m) => {
                let d = distribution(m)?;
                Measured {
                    value: d.mean,
                    se: d.mean_se,
                }
            }
            Statistic::Var(m, level) => {
                let d = distribution(m)?;
                Measured {
                    value: at(&d.var, level),
                    se: at(&d.var_se, level),
                }
            }
            Statistic::Es(m, level) => {
                let d = distribution(m)?;
                Measured {
                    value: at(&d.es, level),
                    se: at(&d.es_se, level),
                }
            }
            Statistic::Probability(event) => {
                let pick = |p: &crate::montecarlo::Probabilities| match event {
                    PathEvent::BadDebt => p.bad_debt,
                    PathEvent::DeathSpiral => p.death_spiral,
                };
                Measured {
                    value: pick(&mc.probabilities),
                    se: pick(&mc.probabilities_se),
                }
            }
        })
    }

    /// The statistic's name (`mean`, `var`, `es`, `p`) and level (`0.99`), if it has one.
    pub fn statistic_name(&self) -> (&'static str, Option<&'static str>) {
        match &self.statistic {
            Statistic::Mean(_) => ("mean", None),
            Statistic::Var(_, level) => ("var", Some(level)),
            Statistic::Es(_, level) => ("es", Some(level)),
            Statistic::Probability(_) => ("p", None),
        }
    }

    /// What the budget bounds: the metric, or the event whose probability it bounds.
    pub fn subject(&self) -> &str {
        match &self.statistic {
            Statistic::Mean(m) | Statistic::Var(m, _) | Statistic::Es(m, _) => m,
            Statistic::Probability(PathEvent::BadDebt) => "bad_debt",
            Statistic::Probability(PathEvent::DeathSpiral) => "death_spiral",
        }
    }

    /// `<=` or `<`.
    pub fn operator(&self) -> &'static str {
        if self.strict { "<" } else { "<=" }
    }

    /// Whether `risk` is within the budget.
    pub fn holds(&self, risk: f64) -> bool {
        if self.strict {
            risk < self.bound
        } else {
            risk <= self.bound
        }
    }
}

/// Which way along a parameter capital efficiency lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Prefer {
    /// Higher values are more capital-efficient.
    High,
    /// Lower values are.
    Low,
}

/// The keys (a field path's last segment) whose direction is known, and why.
pub const KNOWN_DIRECTIONS: [(&str, Prefer, &str); 9] = [
    (
        "liquidation_threshold",
        Prefer::High,
        "the same collateral carries more debt before liquidation",
    ),
    (
        "ltv",
        Prefer::High,
        "more can be borrowed per unit of collateral",
    ),
    (
        "max_leverage",
        Prefer::High,
        "more exposure per unit of margin",
    ),
    (
        "bonus",
        Prefer::Low,
        "a liquidated borrower loses less collateral",
    ),
    (
        "liquidation_bonus",
        Prefer::Low,
        "a liquidated borrower loses less collateral",
    ),
    (
        "close_factor",
        Prefer::Low,
        "less of a position is closed at once",
    ),
    (
        "protocol_fee",
        Prefer::Low,
        "a liquidated borrower pays less",
    ),
    (
        "liquidation_fee",
        Prefer::Low,
        "a liquidated trader pays less",
    ),
    ("penalty", Prefer::Low, "a liquidated vault pays less"),
];

impl Prefer {
    /// The direction of a known parameter, by its field path's last key
    /// (`protocols.lender.collateral.ETH.liquidation_threshold` → higher).
    pub fn for_key(key: &str) -> Option<Self> {
        let last = key.rsplit('.').next().unwrap_or(key);
        let last = last.split('[').next().unwrap_or(last);
        KNOWN_DIRECTIONS
            .iter()
            .find(|(k, ..)| *k == last)
            .map(|&(_, prefer, _)| prefer)
    }
}

impl fmt::Display for Prefer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::High => "high",
            Self::Low => "low",
        })
    }
}

impl FromStr for Prefer {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "high" => Ok(Self::High),
            "low" => Ok(Self::Low),
            other => Err(format!("{other:?}: expected high or low")),
        }
    }
}

/// What a world's opening book lets borrowers and traders do: the capital-efficiency side of the
/// frontier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct BookMeasure {
    /// Debt of the lending books at the start, USD at each protocol's prices.
    pub debt_usd: f64,
    /// Their collateral, USD.
    pub collateral_usd: f64,
    /// Debt per USD of collateral (the book's aggregate loan-to-value); `None` without
    /// collateral.
    pub ltv: Option<f64>,
    /// Notional of the perp books' positions at the start marks, USD.
    pub perp_notional_usd: f64,
    /// Their margin (wallet balances), USD.
    pub perp_margin_usd: f64,
    /// Notional per USD of margin; `None` without margin.
    pub leverage: Option<f64>,
}

impl BookMeasure {
    /// The opening book of `world`.
    pub fn of(world: &World) -> Self {
        let state = &world.initial;
        let mut m = Self::default();
        for (p, book) in state.protocols.iter().enumerate() {
            let price = |a| world.protocol_price(state, ProtocolId(p as u32), a);
            for account in &book.accounts {
                m.debt_usd += account.debt_value(&price);
                m.collateral_usd += account.collateral_value(&price);
            }
        }
        for book in &state.perps {
            for account in &book.accounts {
                m.perp_margin_usd += account.wallet;
                m.perp_notional_usd += account
                    .positions
                    .iter()
                    .map(|p| p.notional(book.marks[p.market.index()]))
                    .sum::<f64>();
            }
        }
        let ratio = |a: f64, b: f64| (b > 0.0).then(|| a / b).filter(|r| r.is_finite());
        m.ltv = ratio(m.debt_usd, m.collateral_usd);
        m.leverage = ratio(m.perp_notional_usd, m.perp_margin_usd);
        m
    }
}

/// One value of the parameter on the frontier.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FrontierPoint {
    /// The value, as written into the scenario.
    pub value: String,
    /// The risk statistic over the paths, with its standard error.
    pub risk: Measured,
    /// `risk` within the budget.
    pub in_budget: bool,
    /// `risk + 1.645·se` within the budget too: in budget with about 95% confidence.
    pub in_budget_upper_95: bool,
    /// What the opening book carries at this value.
    pub book: BookMeasure,
    /// The mean and VaR 99% of bad debt, and the mean liquidated debt, USD (context for the
    /// risk column whatever the budget names).
    pub bad_debt_mean_usd: f64,
    /// VaR 99% of bad debt, USD.
    pub bad_debt_var99_usd: f64,
    /// Mean liquidated debt, USD.
    pub liquidated_debt_mean_usd: f64,
    /// The edited scenario's hash.
    pub scenario_hash: String,
}

impl FrontierPoint {
    /// The point of `value`, from its Monte Carlo and world.
    ///
    /// # Errors
    /// From [`RiskBudget::measure`].
    pub fn new(
        value: String,
        budget: &RiskBudget,
        mc: &MonteCarloSummary,
        world: &World,
    ) -> Result<Self, String> {
        let risk = budget.measure(mc)?;
        let figure =
            |name: &str, f: &dyn Fn(&Distribution) -> f64| mc.metrics.get(name).map_or(0.0, f);
        Ok(Self {
            value,
            in_budget: budget.holds(risk.value),
            in_budget_upper_95: budget.holds(risk.value + Z_ONE_SIDED_95 * risk.se),
            risk,
            book: BookMeasure::of(world),
            bad_debt_mean_usd: figure("bad_debt_usd", &|d| d.mean),
            bad_debt_var99_usd: figure("bad_debt_usd", &|d| d.var["0.99"]),
            liquidated_debt_mean_usd: figure("liquidated_debt_usd", &|d| d.mean),
            scenario_hash: mc.header.scenario.hash.clone(),
        })
    }

    /// Budget less risk: how much room the value leaves (negative: over budget).
    pub fn margin(&self, budget: &RiskBudget) -> f64 {
        budget.bound - self.risk.value
    }
}

/// The in-budget point furthest in the `prefer` direction, given points in ascending order of
/// value; `None` when no value is in budget.
pub fn choose(points: &[FrontierPoint], prefer: Prefer) -> Option<usize> {
    let in_budget = |(_, p): &(usize, &FrontierPoint)| p.in_budget;
    match prefer {
        Prefer::High => points.iter().enumerate().rev().find(in_budget),
        Prefer::Low => points.iter().enumerate().find(in_budget),
    }
    .map(|(i, _)| i)
}

/// The values of a range `LO:HI[:STEP]` as written into a scenario, ascending: LO, LO + STEP, …
/// up to HI (HI included when the steps land on it, within a millionth of a step). Each value is
/// written with as many decimals as the most precise of the numbers given (0.80:0.95:0.01 writes
/// 0.81, not 0.8100000000000001), without a decimal point when all are whole (a count stays an
/// integer). Without STEP, ten steps, written with one decimal more than LO and HI have
/// (0.80:0.95 writes 0.815).
///
/// # Errors
/// A range that is not two or three finite numbers, with LO ≤ HI and STEP > 0, or that has more
/// than `max_values` values.
pub fn range_values(text: &str, max_values: usize) -> Result<Vec<String>, String> {
    let parts: Vec<&str> = text.split(':').map(str::trim).collect();
    let fail = |why: String| format!("{text:?}: {why}; expected LO:HI or LO:HI:STEP");
    if !(2..=3).contains(&parts.len()) {
        return Err(fail(format!("{} parts", parts.len())));
    }
    let number = |s: &str| -> Result<f64, String> {
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| fail(format!("{s:?} is not a finite number")))
    };
    let (lo, hi) = (number(parts[0])?, number(parts[1])?);
    if lo > hi {
        return Err(fail(format!("LO = {lo} is above HI = {hi}")));
    }
    let given_step = parts.get(2).map(|s| number(s)).transpose()?;
    if given_step.is_some_and(|s| s <= 0.0) {
        return Err(fail("STEP must be above 0".into()));
    }
    let decimals = |s: &str| -> usize {
        let mantissa = s.split(['e', 'E']).next().unwrap_or(s);
        let places = mantissa.split_once('.').map_or(0, |(_, d)| d.len());
        let exponent: i64 = s
            .split_once(['e', 'E'])
            .and_then(|(_, e)| e.parse().ok())
            .unwrap_or(0);
        usize::try_from((places as i64 - exponent).max(0)).unwrap_or(0)
    };
    let mut places = parts.iter().map(|s| decimals(s)).max().unwrap_or(0);
    let step = match given_step {
        Some(step) => step,
        None if hi == lo => 1.0,
        None => {
            // Ten steps: a tenth of HI − LO needs one decimal more than LO and HI have.
            places += 1;
            (hi - lo) / 10.0
        }
    };
    let count = ((hi - lo) / step * (1.0 + 1e-12) + 1e-6).floor();
    if count + 1.0 > max_values as f64 {
        return Err(fail(format!(
            "{} values; at most {max_values} (a coarser STEP, or several runs)",
            count + 1.0
        )));
    }
    let mut values: Vec<String> = (0..=count as u64)
        .map(|i| format!("{:.*}", places, lo + step * i as f64))
        .collect();
    values.dedup();
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_parse_with_their_levels_and_bounds() {
        let b: RiskBudget = "var99(bad_debt_usd) <= 1e6".parse().unwrap();
        assert_eq!(b.statistic, Statistic::Var("bad_debt_usd".into(), "0.99"));
        assert_eq!(b.bound, 1e6);
        assert!(!b.strict && b.holds(1e6) && !b.holds(1e6 + 1.0));
        let b: RiskBudget = " es999( protocols.x.bad_debt_usd )<0.5".parse().unwrap();
        assert_eq!(
            b.statistic,
            Statistic::Es("protocols.x.bad_debt_usd".into(), "0.999")
        );
        assert!(b.strict && !b.holds(0.5));
        let b: RiskBudget = "p(death_spiral) <= 0.01".parse().unwrap();
        assert_eq!(b.statistic, Statistic::Probability(PathEvent::DeathSpiral));
        for bad in [
            "var98(bad_debt_usd) <= 1",
            "var99(bad_debt_usd) >= 1",
            "var99() <= 1",
            "median(bad_debt_usd) <= 1",
            "var99(bad_debt_usd) <= inf",
            "var99(bad_debt_usd) <= lots",
            "p(liquidations) <= 0.1",
        ] {
            let e = bad.parse::<RiskBudget>().unwrap_err();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
    }

    #[test]
    fn ranges_write_the_precision_given() {
        assert_eq!(
            range_values("0.80:0.85:0.01", 100).unwrap(),
            ["0.80", "0.81", "0.82", "0.83", "0.84", "0.85"]
        );
        assert_eq!(range_values("1:3", 100).unwrap().len(), 11);
        assert_eq!(range_values("1:3", 100).unwrap()[1], "1.2");
        assert_eq!(range_values("0.80:0.95", 100).unwrap()[1], "0.815");
        assert_eq!(
            range_values("10:40:10", 100).unwrap(),
            ["10", "20", "30", "40"]
        );
        assert_eq!(range_values("0.5:0.5", 100).unwrap(), ["0.5"]);
        assert_eq!(
            range_values("0:1:0.3", 100).unwrap(),
            ["0.0", "0.3", "0.6", "0.9"]
        );
        assert_eq!(
            range_values("1e-3:3e-3:1e-3", 100).unwrap(),
            ["0.001", "0.002", "0.003"]
        );
        for bad in ["1", "1:2:3:4", "2:1", "0:1:0", "0:1:-1", "a:1", "0:1e9:1"] {
            assert!(range_values(bad, 1000).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_choice_is_the_in_budget_value_furthest_in_the_preferred_direction() {
        let point = |value: &str, in_budget| FrontierPoint {
            value: value.into(),
            risk: Measured {
                value: 0.0,
                se: 0.0,
            },
            in_budget,
            in_budget_upper_95: in_budget,
            book: BookMeasure::default(),
            bad_debt_mean_usd: 0.0,
            bad_debt_var99_usd: 0.0,
            liquidated_debt_mean_usd: 0.0,
            scenario_hash: String::new(),
        };
        let points = [
            point("1", false),
            point("2", true),
            point("3", true),
            point("4", false),
        ];
        assert_eq!(choose(&points, Prefer::High), Some(2));
        assert_eq!(choose(&points, Prefer::Low), Some(1));
        assert_eq!(choose(&points[3..], Prefer::High), None);
        assert_eq!(
            Prefer::for_key("protocols.lender.collateral.ETH.liquidation_threshold"),
            Some(Prefer::High)
        );
        assert_eq!(
            Prefer::for_key("protocols[0].liquidation.bonus"),
            Some(Prefer::Low)
        );
        assert_eq!(Prefer::for_key("venues.spot.half_life_seconds"), None);
    }
}
