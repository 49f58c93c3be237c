//! The report of a liquidation map (`cascade map`): per asset and direction, the walls of
//! collateral that liquidates at each price (stacked by protocol), the feedback gain m(p) with
//! the spiral threshold, and the cascade curve — where a shock ends, by the map and by full runs.

use std::path::Path;

use serde_json::Value;

use super::ReportError;
use super::chart::{Bar, Bars, Mark, Plot, Rule, Series};
use super::format::{percent, price};
use super::page::{Block, Fact, Page, Section, Shown};
use super::read::Json;
use super::run::{producer, push_chart};

/// A fall (the default walls) or a rise (`_up`: perp shorts above the price).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Fall,
    Rise,
}

impl Direction {
    fn key(self, base: &str) -> String {
        match self {
            Direction::Fall => base.to_string(),
            Direction::Rise => format!("{base}_up"),
        }
    }

    fn word(self) -> &'static str {
        match self {
            Direction::Fall => "below",
            Direction::Rise => "above",
        }
    }
}

/// The page.
pub(crate) fn page(dir: &Path) -> Result<Page, ReportError> {
    let map = Json::read(dir, "map.json")?;
    let mut sections = Vec::new();
    for symbol in map.keys(&["assets"]) {
        for direction in [Direction::Fall, Direction::Rise] {
            if map
                .get(&["assets", &symbol, &direction.key("walls")])
                .is_some()
            {
                sections.push(asset(&map, &symbol, direction)?);
            }
        }
    }
    if sections.is_empty() {
        let mut none = Section::new("map", "Liquidation map");
        none.push(Block::Text(
            "No asset has a venue: there is nothing to map.".into(),
        ));
        sections.push(none);
    }
    Ok(Page {
        title: map.text(&["scenario", "name"])?,
        kind: "Liquidation map".into(),
        header: vec![
            (
                "Scenario".into(),
                Shown::text(map.text(&["scenario", "name"])?),
            ),
            (
                "Scenario hash".into(),
                Shown::text(map.text(&["scenario", "hash"])?),
            ),
            ("Seed".into(), map.literal(&["scenario", "seed"])),
            ("Buckets".into(), map.literal(&["buckets"])),
            (
                "Bucket width".into(),
                map.shown_or_dash(&["window"], percent),
            ),
            ("Written by".into(), Shown::text(producer(&map))),
        ],
        sections,
    })
}

fn array<'a>(map: &'a Json, keys: &[&str]) -> &'a [Value] {
    map.get(keys)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn number(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

/// Collateral USD per bucket, one stacked colour per holder.
fn wall_bars(buckets: &[Value]) -> Vec<Bars> {
    let mut holders: Vec<String> = Vec::new();
    for b in buckets {
        if let Some(h) = b.get("holders").and_then(Value::as_object) {
            for name in h.keys() {
                if !holders.contains(name) {
                    holders.push(name.clone());
                }
            }
        }
    }
    let mut stacks = vec![0.0; buckets.len()];
    holders
        .iter()
        .enumerate()
        .map(|(i, holder)| {
            let bars = buckets
                .iter()
                .zip(stacks.iter_mut())
                .filter_map(|(b, stack)| {
                    let usd = b
                        .get("holders")
                        .and_then(|h| h.get(holder))
                        .map_or(0.0, |f| number(f, "collateral_usd"));
                    if usd.is_nan() || usd <= 0.0 {
                        return None;
                    }
                    let (lo, hi) = (number(b, "price_low"), number(b, "price_high"));
                    let bar = Bar {
                        x0: lo.min(hi),
                        x1: lo.max(hi),
                        y0: *stack,
                        y1: *stack + usd,
                    };
                    *stack += usd;
                    Some(bar)
                })
                .collect();
            Bars {
                label: holder.clone(),
                bars,
                colour: i,
            }
        })
        .collect()
}

fn asset(map: &Json, symbol: &str, direction: Direction) -> Result<Section, ReportError> {
    let walls_key = direction.key("walls");
    let mut section = Section::new(
        &format!("map-{symbol}-{}", direction.word()),
        &format!("{symbol}: liquidations {} the price", direction.word()),
    );
    let start = map.require(&["assets", symbol, "start_price"])?;
    let spiral_key = direction.key("spiral_price");
    let spiral = map.number(&["assets", symbol, &spiral_key]);
    let facts = vec![
        Fact {
            label: "Start price".into(),
            shown: map.shown_or_dash(&["assets", symbol, "start_price"], price),
            alarm: false,
        },
        Fact {
            label: format!("Nearest wall {}, top", direction.word()),
            shown: map.shown_or_dash(
                &[
                    "assets",
                    symbol,
                    &direction.key("nearest_wall"),
                    "price_high",
                ],
                price,
            ),
            alarm: false,
        },
        Fact {
            label: "Nearest wall, collateral".into(),
            shown: map.usd(&[
                "assets",
                symbol,
                &direction.key("nearest_wall"),
                "figures",
                "collateral_usd",
            ]),
            alarm: false,
        },
        Fact {
            label: "Largest m".into(),
            shown: map.shown_or_dash(
                &["assets", symbol, &direction.key("feedback_gain_max"), "m"],
                |v| format!("{v:.3}"),
            ),
            alarm: false,
        },
        Fact {
            label: "Spiral (m ≥ 1) from".into(),
            shown: map.shown_or_dash(&["assets", symbol, &spiral_key], price),
            alarm: spiral.is_some(),
        },
    ];
    section.push(Block::Facts(facts));
    let buckets = array(map, &["assets", symbol, &walls_key, "buckets"]);
    let mut rules = vec![Rule {
        at: start,
        label: "start".into(),
        colour: 6,
    }];
    if let Some(p) = spiral {
        rules.push(Rule {
            at: p,
            label: "spiral".into(),
            colour: 1,
        });
    }
    let chart = Plot {
        title: format!(
            "{symbol}: collateral liquidated at each price {}",
            direction.word()
        ),
        x_label: format!("{symbol} price (USD)"),
        y_label: "collateral (USD)".into(),
        bars: wall_bars(buckets),
        x_rules: rules.clone(),
        y_from_zero: true,
        legend_left: direction == Direction::Fall,
        ..Plot::default()
    }
    .render(&format!("map-walls-{symbol}-{}", direction.word()));
    push_chart(
        &mut section,
        chart,
        "Each bar is a price bucket: the collateral (at that price) of the accounts whose \
         liquidation price falls in it, stacked by protocol. Tall bars close to the start are \
         the walls a shock runs into first.",
    )?;
    let gain = array(map, &["assets", symbol, &direction.key("feedback_gain")]);
    let points: Vec<(f64, f64)> = gain
        .iter()
        .map(|g| (number(g, "price"), number(g, "m")))
        .collect();
    let chart = Plot {
        title: format!("{symbol}: feedback gain m(p)"),
        x_label: format!("{symbol} price (USD)"),
        y_label: "m".into(),
        series: vec![Series::new("m(p)", points, Mark::Line, 0)],
        y_rules: vec![Rule {
            at: 1.0,
            label: "m = 1".into(),
            colour: 1,
        }],
        x_rules: rules,
        y_from_zero: true,
        legend_left: direction == Direction::Fall,
        ..Plot::default()
    }
    .render(&format!("map-gain-{symbol}-{}", direction.word()));
    push_chart(
        &mut section,
        chart,
        "m(p): the units a further 1% move from p forces onto the venue over the units that \
         move its price 1% there. Where m ≥ 1 a move feeds itself: the spiral threshold.",
    )?;
    let curve = array(map, &["assets", symbol, &direction.key("cascade_curve")]);
    if !curve.is_empty() {
        let by = |key: &str| -> Vec<(f64, f64)> {
            curve
                .iter()
                .map(|c| (number(c, "shock") * 100.0, number(c, key)))
                .collect()
        };
        let chart = Plot {
            title: format!("{symbol}: where a shock ends"),
            x_label: "shock (%)".into(),
            y_label: "final price (USD)".into(),
            series: vec![
                Series::new("shocked price", by("shocked_price"), Mark::Dashed, 6),
                Series::new("by the map", by("final_price_map"), Mark::Line, 0),
                Series::new("by full runs", by("final_price_run"), Mark::Points, 1),
            ],
            ..Plot::default()
        }
        .render(&format!("map-curve-{symbol}-{}", direction.word()));
        push_chart(
            &mut section,
            chart,
            "The price a one-off shock ends at once the cascade it sets off has run: by the \
             map's fixed point and by full runs of the scenario. The gap below the dashed line \
             is the cascade's own contribution.",
        )?;
    }
    Ok(section)
}
