//! The figures of one Monte Carlo path, read off its summary: the same names on every path of a
//! world (they come from the world's assets, protocols and keepers, not from what a path
//! happened to touch), in a fixed order that is the order of the columns of paths.csv.

use cascade_engine::World;

use crate::summary::Summary;

/// A path is a death spiral when forced selling moved some asset's primary venue at least this
/// many times as far as the market did (amplification = total drop / exogenous drop ≥ 2: the
/// cascade added at least the exogenous fall again). For a uniform wall under linear impact the
/// amplification is 1 / (1 − m), so 2 is a feedback gain of ½ realised along the path.
pub const DEATH_SPIRAL_AMPLIFICATION: f64 = 2.0;

/// The per-path figures of a world, by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    names: Vec<String>,
}

/// One path's figures, in the order of [`Metrics::names`]; `None` where a figure does not exist
/// on that path (an amplification without an exogenous fall).
#[derive(Clone, Debug, PartialEq)]
pub struct PathFigures {
    /// The path's number.
    pub path: u64,
    /// Whether the path was a death spiral ([`DEATH_SPIRAL_AMPLIFICATION`]).
    pub death_spiral: bool,
    /// The figures.
    pub values: Vec<Option<f64>>,
}

impl Metrics {
    /// The figures of `world`'s paths.
    pub fn of(world: &World) -> Self {
        let mut names = Vec::new();
        visit(world, None, &mut |name, _| names.push(name()));
        Self { names }
    }

    /// Their names, the columns of paths.csv after `path` and `death_spiral`.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// A metric's position, if the world has it.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Path `path`'s figures, read off its summary.
    pub fn figures(&self, world: &World, path: u64, summary: &Summary) -> PathFigures {
        let mut values = Vec::with_capacity(self.names.len());
        visit(world, Some(summary), &mut |_, value| {
            values.push(value.filter(|v| v.is_finite()));
        });
        let death_spiral = summary.assets.values().any(|a| {
            a.amplification
                .is_some_and(|m| m >= DEATH_SPIRAL_AMPLIFICATION)
        });
        PathFigures {
            path,
            death_spiral,
            values,
        }
    }
}

/// A metric's name, written out only by a caller that wants it (a path's figures do not).
type Name<'a> = &'a dyn Fn() -> String;

/// Calls `f` with every metric's name and, given a summary, its value, in column order.
fn visit(world: &World, summary: Option<&Summary>, f: &mut dyn FnMut(Name<'_>, Option<f64>)) {
    let mut top = |name: &str, value: fn(&Summary) -> f64| {
        f(&|| name.to_string(), summary.map(value));
    };
    top("bad_debt_usd", |s| s.bad_debt_usd);
    top("bad_debt_realised_usd", |s| s.bad_debt_realised_usd);
    top("bad_debt_unrealised_usd", |s| s.bad_debt_unrealised_usd);
    top("liquidated_debt_usd", |s| s.liquidations.debt_repaid_usd);
    top("liquidations", |s| s.liquidations.count as f64);
    top("collateral_seized_usd", |s| {
        s.liquidations.collateral_seized_usd
    });
    top("slippage_usd", |s| s.liquidations.slippage_usd);
    top("insurance_drawn_usd", |s| s.insurance_drawn_usd);
    top("socialised_loss_usd", |s| s.socialised_loss_usd);
    let names = world
        .protocols
        .iter()
        .map(|p| (p.name.as_str(), p.insurance.is_some()))
        .chain(world.perps.iter().map(|p| (p.name.as_str(), true)));
    for (name, insured) in names {
        let p = summary.and_then(|s| s.protocols.get(name));
        let mut each = |field: &str, value: Option<f64>| {
            f(&|| format!("protocols.{name}.{field}"), value);
        };
        each("bad_debt_usd", p.map(|p| p.bad_debt_usd));
        each("liquidated_debt_usd", p.map(|p| p.debt_repaid_usd));
        each("liquidations", p.map(|p| p.liquidations as f64));
        if insured {
            let drawn = p.map(|p| p.insurance_fund.as_ref().map_or(0.0, |f| f.drawn_usd));
            each("insurance_drawn_usd", drawn);
        }
        each("socialised_loss_usd", p.map(|p| p.socialised_loss_usd));
    }
    for asset in &world.assets {
        let symbol = asset.symbol.as_str();
        let a = summary.and_then(|s| s.assets.get(symbol));
        let sold = summary.map(|s| {
            s.liquidations
                .collateral_sold
                .get(symbol)
                .copied()
                .unwrap_or(0.0)
        });
        f(&|| format!("assets.{symbol}.collateral_sold"), sold);
        let mut each = |field: &str, value: Option<f64>| {
            f(&|| format!("assets.{symbol}.{field}"), value);
        };
        each("final_price", a.map(|a| a.final_price));
        each("min_price", a.map(|a| a.min_price));
        each("exogenous_drop", a.map(|a| a.exogenous_drop));
        each("total_drop", a.map(|a| a.total_drop));
        each("amplification", a.and_then(|a| a.amplification));
    }
    for keeper in &world.keepers {
        let name = keeper.name.as_str();
        let k = summary.and_then(|s| s.keepers.get(name));
        f(
            &|| format!("keepers.{name}.pnl_usd"),
            k.map(|k| k.marked_profit_usd),
        );
        f(
            &|| format!("keepers.{name}.liquidations"),
            k.map(|k| k.liquidations as f64),
        );
    }
}
