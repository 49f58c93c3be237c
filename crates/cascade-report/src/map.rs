//! `cascade map` outputs: map.csv (a row per asset, direction, protocol or total, and bucket),
//! map.json (per asset: m(p), its largest value, the spiral threshold, the nearest wall, the
//! cascade curve and the buckets), positions.csv and positions.json (the open liquidation-level
//! schema), and the printed summary. docs/outputs.md lists every column and key. Numbers that
//! are not finite are written as empty cells and nulls.

use std::io::{self, Write};

use cascade_analytics::map::{
    AssetMap, CurvePoint, DirectionMap, Figures, GainPoint, LiquidationMap, Position, Wall,
};
use cascade_engine::World;
use serde_json::{Map, Value, json};

use crate::float;

/// What map.json says of the scenario.
pub struct MapHeader<'a> {
    /// The scenario's name.
    pub name: &'a str,
    /// Its hash.
    pub hash: &'a str,
    /// Its seed.
    pub seed: u64,
}

/// A number, or null when it is not finite.
fn number(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

fn optional(x: Option<f64>) -> Value {
    x.map_or(Value::Null, number)
}

/// Writes map.csv.
///
/// # Errors
/// IO errors of the writer.
pub fn write_map_csv(map: &LiquidationMap, world: &World, out: &mut impl Write) -> io::Result<()> {
    let mut header = vec![
        "asset",
        "direction",
        "holder",
        "bucket",
        "price_low",
        "price_high",
        "accounts",
        "collateral_units",
        "collateral_usd",
        "debt_usd",
        "seized_units",
        "sold_units",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    header.extend(world.venues.iter().map(|v| format!("sold_{}", v.name)));
    header.extend(
        [
            "cumulative_accounts",
            "cumulative_collateral_units",
            "cumulative_collateral_usd",
            "cumulative_debt_usd",
            "cumulative_sold_units",
            "m_price",
            "m",
        ]
        .map(String::from),
    );
    writeln!(out, "{}", header.join(","))?;
    let mut buffer = ryu::Buffer::new();
    let mut f = |x: f64| float(&mut buffer, x).to_string();
    for asset in &map.assets {
        for direction in [&asset.fall, &asset.rise].into_iter().flatten() {
            for (name, holder) in row_holders(asset, direction, world) {
                let cumulative = direction.walls.cumulative(holder);
                for (k, (bucket, sum)) in
                    direction.walls.buckets.iter().zip(&cumulative).enumerate()
                {
                    let figures = holder.map_or(&bucket.total, |h| &bucket.holders[h]);
                    let (low, high) = (
                        bucket.inner.min(bucket.outer),
                        bucket.inner.max(bucket.outer),
                    );
                    let mut cells = vec![
                        asset.symbol.clone(),
                        direction.direction.name().to_string(),
                        name.clone(),
                        k.to_string(),
                        f(low),
                        f(high),
                        figures.accounts.to_string(),
                        f(figures.collateral_units),
                        f(figures.collateral_usd),
                        f(figures.debt_usd),
                        f(figures.seized_units),
                        f(figures.sold_units()),
                    ];
                    cells.extend(figures.sold_by_venue.iter().map(|&x| f(x)));
                    cells.extend([
                        sum.accounts.to_string(),
                        f(sum.collateral_units),
                        f(sum.collateral_usd),
                        f(sum.debt_usd),
                        f(sum.sold_units()),
                    ]);
                    match (holder, direction.gain.get(k)) {
                        (None, Some(g)) => cells.extend([f(g.price), f(g.m)]),
                        _ => cells.extend([String::new(), String::new()]),
                    }
                    writeln!(out, "{}", cells.join(","))?;
                }
            }
        }
    }
    Ok(())
}

/// The rows' holders of one direction: each protocol or exchange with a liquidation in it, by
/// name and index, then the total (`None`).
fn row_holders(
    asset: &AssetMap,
    direction: &DirectionMap,
    world: &World,
) -> Vec<(String, Option<usize>)> {
    let w = &direction.walls;
    asset
        .holders
        .iter()
        .enumerate()
        .filter(|&(h, _)| {
            w.at_start.holders[h].accounts
                + w.beyond.holders[h].accounts
                + w.buckets.iter().map(|b| b.holders[h].accounts).sum::<u64>()
                > 0
        })
        .map(|(h, holder)| (holder.name(world).to_string(), Some(h)))
        .chain(std::iter::once(("total".to_string(), None)))
        .collect()
}

fn figures_json(figures: &Figures, world: &World) -> Value {
    let sold: Map<String, Value> = world
        .venues
        .iter()
        .zip(&figures.sold_by_venue)
        .filter(|&(_, &x)| x != 0.0)
        .map(|(v, &x)| (v.name.clone(), number(x)))
        .collect();
    json!({
        "accounts": figures.accounts,
        "collateral_units": number(figures.collateral_units),
        "collateral_usd": number(figures.collateral_usd),
        "debt_usd": number(figures.debt_usd),
        "seized_units": number(figures.seized_units),
        "sold_units": number(figures.sold_units()),
        "sold_units_by_venue": sold,
    })
}

fn gain_json(g: &GainPoint) -> Value {
    json!({
        "price": number(g.price),
        "m": number(g.m),
        "units_sold": number(g.units_sold),
        "depth": optional(g.depth),
    })
}

fn wall_json(wall: &Wall, world: &World) -> Value {
    json!({
        "price_low": number(wall.inner.min(wall.outer)),
        "price_high": number(wall.inner.max(wall.outer)),
        "figures": figures_json(&wall.figures, world),
    })
}

fn curve_json(p: &CurvePoint) -> Value {
    json!({
        "shock": number(p.shock),
        "shocked_price": number(p.shocked_price),
        "final_price_map": number(p.final_price_map),
        "final_price_run": optional(p.final_price_run),
        "difference": optional(p.difference()),
        "relative_difference": optional(p.relative_difference()),
        "units_sold_map": number(p.units_sold_map),
    })
}

/// The keys of one direction; `suffix` is "" for a fall and "_up" for a rise.
fn direction_json(
    asset: &AssetMap,
    d: &DirectionMap,
    world: &World,
    suffix: &str,
    into: &mut Map<String, Value>,
) {
    let holder_names: Vec<String> = asset
        .holders
        .iter()
        .map(|h| h.name(world).to_string())
        .collect();
    let bucket = |b: &cascade_analytics::map::Bucket| {
        let holders: Map<String, Value> = holder_names
            .iter()
            .zip(&b.holders)
            .filter(|(_, f)| f.accounts > 0 || f.seized_units > 0.0)
            .map(|(n, f)| (n.clone(), figures_json(f, world)))
            .collect();
        json!({
            "price_low": number(b.inner.min(b.outer)),
            "price_high": number(b.inner.max(b.outer)),
            "total": figures_json(&b.total, world),
            "holders": holders,
        })
    };
    let entries = [
        (
            "feedback_gain",
            Value::Array(d.gain.iter().map(gain_json).collect()),
        ),
        (
            "feedback_gain_max",
            d.gain_max.as_ref().map_or(Value::Null, gain_json),
        ),
        ("spiral_price", optional(d.spiral_price)),
        (
            "nearest_wall",
            d.nearest_wall
                .as_ref()
                .map_or(Value::Null, |w| wall_json(w, world)),
        ),
        (
            "cascade_curve",
            Value::Array(d.curve.iter().map(curve_json).collect()),
        ),
        (
            "walls",
            json!({
                "at_start": bucket(&d.walls.at_start),
                "beyond": bucket(&d.walls.beyond),
                "buckets": d.walls.buckets.iter().map(bucket).collect::<Vec<_>>(),
            }),
        ),
    ];
    for (key, value) in entries {
        into.insert(format!("{key}{suffix}"), value);
    }
}

/// Writes map.json.
///
/// # Errors
/// IO errors of the writer.
pub fn write_map_json(
    header: &MapHeader<'_>,
    map: &LiquidationMap,
    world: &World,
    out: &mut impl Write,
) -> io::Result<()> {
    let mut assets = Map::new();
    for asset in &map.assets {
        let mut a = Map::new();
        a.insert("start_price".into(), number(asset.start_price));
        a.insert(
            "fundamental_start_price".into(),
            number(asset.fundamental_start_price),
        );
        a.insert(
            "venue".into(),
            asset
                .venue
                .map_or(Value::Null, |v| json!(world.venues[v.index()].name)),
        );
        if let Some(fall) = &asset.fall {
            direction_json(asset, fall, world, "", &mut a);
        }
        if let Some(rise) = &asset.rise {
            direction_json(asset, rise, world, "_up", &mut a);
        }
        assets.insert(asset.symbol.clone(), Value::Object(a));
    }
    let doc = json!({
        "scenario": { "name": header.name, "hash": header.hash, "seed": header.seed },
        "buckets": map.buckets,
        "window": cascade_analytics::feedback::WINDOW,
        "assets": assets,
    });
    crate::write_json(&doc, out)
}

/// The columns of positions.csv, in order.
pub const POSITION_COLUMNS: [&str; 8] = [
    "owner",
    "liquidation_price",
    "collateral_asset",
    "collateral_amount",
    "protocol",
    "kind",
    "debt_asset",
    "debt_amount",
];

fn position_cells(p: &Position, world: &World) -> [String; 8] {
    let mut buffer = ryu::Buffer::new();
    let mut f = |x: f64| float(&mut buffer, x).to_string();
    [
        p.owner.clone(),
        f(p.liquidation_price),
        world.assets[p.collateral_asset.index()].symbol.clone(),
        f(p.collateral_amount),
        p.holder.name(world).to_string(),
        p.kind.to_string(),
        p.debt_asset
            .map_or(String::new(), |a| world.assets[a.index()].symbol.clone()),
        f(p.debt_amount),
    ]
}

/// Writes positions.csv.
///
/// # Errors
/// IO errors of the writer.
pub fn write_positions_csv(
    positions: &[Position],
    world: &World,
    out: &mut impl Write,
) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(POSITION_COLUMNS)?;
    for p in positions {
        writer.write_record(position_cells(p, world))?;
    }
    writer.flush()
}

/// Writes positions.json: an array of objects with the columns of positions.csv (numbers as
/// numbers, an absent debt asset as null).
///
/// # Errors
/// IO errors of the writer.
pub fn write_positions_json(
    positions: &[Position],
    world: &World,
    out: &mut impl Write,
) -> io::Result<()> {
    let rows: Vec<Value> = positions
        .iter()
        .map(|p| {
            json!({
                "owner": p.owner,
                "liquidation_price": number(p.liquidation_price),
                "collateral_asset": world.assets[p.collateral_asset.index()].symbol,
                "collateral_amount": number(p.collateral_amount),
                "protocol": p.holder.name(world),
                "kind": p.kind,
                "debt_asset": p.debt_asset.map(|a| world.assets[a.index()].symbol.clone()),
                "debt_amount": number(p.debt_amount),
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &rows).map_err(io::Error::other)?;
    writeln!(out)
}

/// Prints the map: per asset and direction, the largest m, the spiral threshold, the nearest
/// wall and the cascade curve.
///
/// # Errors
/// IO errors of the writer.
pub fn write_map_text(name: &str, map: &LiquidationMap, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "cascade map · {name} ({} buckets per direction)",
        map.buckets
    )?;
    for asset in &map.assets {
        for d in [&asset.fall, &asset.rise].into_iter().flatten() {
            writeln!(
                out,
                "\n{} {} from {:.2}",
                asset.symbol,
                d.direction.name(),
                asset.start_price
            )?;
            writeln!(out, "  {}", gain_line(d))?;
            writeln!(out, "  {}", wall_line(d, asset.start_price))?;
            if !d.curve.is_empty() {
                writeln!(
                    out,
                    "  {:>7} {:>12} {:>12} {:>12} {:>9}",
                    "shock", "shocked", "map", "run", "map−run"
                )?;
                for p in &d.curve {
                    writeln!(
                        out,
                        "  {:>6.1}% {:>12.2} {:>12.2} {:>12} {:>9}",
                        p.shock * 100.0,
                        p.shocked_price,
                        p.final_price_map,
                        p.final_price_run.map_or("-".into(), |r| format!("{r:.2}")),
                        p.relative_difference()
                            .map_or("-".into(), |r| format!("{:+.2}%", r * 100.0)),
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// "largest m 2.31 at 2,700.00; spiral from 2,757.58" for one direction.
pub fn gain_line(d: &DirectionMap) -> String {
    let max = d
        .gain_max
        .map_or("largest m 0 (nothing sold on the venue)".to_string(), |g| {
            format!("largest m {:.3} at {:.2}", g.m, g.price)
        });
    let spiral = d
        .spiral_price
        .map_or("no spiral (m < 1 everywhere)".to_string(), |p| {
            format!("spiral (m ≥ 1) from {p:.2}")
        });
    format!("{max}; {spiral}")
}

/// "nearest wall 2,760.00–2,550.00 (−8.0% … −15.0%): 63,000.0 units, 180,000,000 USD" for one
/// direction.
pub fn wall_line(d: &DirectionMap, start: f64) -> String {
    d.nearest_wall.as_ref().map_or("no wall".to_string(), |w| {
        format!(
            "nearest wall {:.2}–{:.2} ({:+.1}% … {:+.1}%): {:.1} units, {:.0} USD of collateral, {} accounts",
            w.inner,
            w.outer,
            (w.inner / start - 1.0) * 100.0,
            (w.outer / start - 1.0) * 100.0,
            w.figures.collateral_units,
            w.figures.collateral_usd,
            w.figures.accounts
        )
    })
}
