//! The report of a Monte Carlo (`cascade montecarlo`, `cascade merge`): the probabilities of bad
//! debt and of a death spiral, the distribution of bad debt and liquidated debt as histograms
//! with their VaR and ES, the tail as an exceedance curve, every metric with its standard
//! errors, the worst paths with the command that replays each, and the leading indicator's
//! record when it was measured.

use std::path::Path;

use super::ReportError;
use super::chart::{Bar, Bars, Mark, Plot, Rule, Series};
use super::format::{count, grouped, percent, usd};
use super::page::{Block, Fact, Page, Row, Section, Shown, Table};
use super::read::{Csv, Json};
use super::run::{producer, push_chart};

const FILE: &str = "montecarlo.json";

/// The page.
pub(crate) fn page(dir: &Path) -> Result<Page, ReportError> {
    let mc = Json::read(dir, FILE)?;
    let paths = Csv::read(dir, "paths.csv")?;
    let mut sections = vec![headline(&mc)?];
    sections.push(distributions(&mc, &paths)?);
    sections.push(metrics(&mc));
    sections.push(worst(&mc)?);
    sections.extend(indicator(&mc));
    Ok(Page {
        title: mc.text(&["scenario", "name"])?,
        kind: "Monte Carlo".into(),
        header: header(&mc)?,
        sections,
    })
}

fn header(mc: &Json) -> Result<Vec<(String, Shown)>, ReportError> {
    let paths = mc.require(&["paths"])?;
    let from = mc.require(&["paths_from"])?;
    Ok(vec![
        (
            "Scenario".into(),
            Shown::text(mc.text(&["scenario", "name"])?),
        ),
        (
            "Scenario hash".into(),
            Shown::text(mc.text(&["scenario", "hash"])?),
        ),
        ("Seed".into(), mc.literal(&["seed"])),
        (
            "Paths".into(),
            Shown::text(format!(
                "{} (paths {} to {})",
                count(paths),
                from,
                from + paths - 1.0
            )),
        ),
        (
            "Horizon".into(),
            mc.shown_or_dash(&["horizon_seconds"], |v| {
                format!("{} s ({} h)", count(v), v / 3600.0)
            }),
        ),
        ("Written by".into(), Shown::text(producer(mc))),
    ])
}

/// A probability with its standard error: `1.20% ± 0.34%`.
fn probability(mc: &Json, key: &str) -> Shown {
    let se = mc.number(&["probabilities_se", key]);
    mc.shown(&["probabilities", key], percent)
        .map(|mut shown| {
            if let Some(se) = se {
                shown.text = format!("{} ± {}", shown.text, percent(se));
            }
            shown
        })
        .unwrap_or_else(|| Shown::text("–"))
}

/// A statistic of a metric with its standard error when the file has one.
fn statistic(mc: &Json, metric: &str, stat: &str, level: Option<&str>) -> Shown {
    let keys: Vec<&str> = match level {
        Some(q) => vec!["metrics", metric, stat, q],
        None => vec!["metrics", metric, stat],
    };
    let se_keys: Vec<String> = match level {
        Some(q) => vec![
            "metrics".into(),
            metric.into(),
            format!("{stat}_se"),
            q.into(),
        ],
        None => vec!["metrics".into(), metric.into(), format!("{stat}_se")],
    };
    let se_keys: Vec<&str> = se_keys.iter().map(String::as_str).collect();
    let money = metric.ends_with("_usd");
    let format: fn(f64) -> String = if money { usd_bare } else { figure };
    let Some(mut shown) = mc.shown(&keys, format) else {
        return Shown::text("–");
    };
    if let Some(se) = mc.number(&se_keys) {
        shown.text = format!("{} ± {}", shown.text, format(se));
    }
    shown
}

/// USD without the unit (a table's header says it).
fn usd_bare(v: f64) -> String {
    grouped(v, 0)
}

/// A figure that is not money: four significant decimals below 10, two above.
fn figure(v: f64) -> String {
    if v.abs() < 10.0 {
        grouped(v, 4)
    } else {
        grouped(v, 2)
    }
}

fn headline(mc: &Json) -> Result<Section, ReportError> {
    let mut section = Section::new("mc-headline", "Headline");
    let bad = |stat: &str, q: Option<&str>| statistic(mc, "bad_debt_usd", stat, q);
    let facts = vec![
        Fact {
            label: "P(bad debt > 0)".into(),
            shown: probability(mc, "bad_debt"),
            alarm: mc.number(&["probabilities", "bad_debt"]).unwrap_or(0.0) > 0.0,
        },
        Fact {
            label: "P(death spiral)".into(),
            shown: probability(mc, "death_spiral"),
            alarm: mc.number(&["probabilities", "death_spiral"]).unwrap_or(0.0) > 0.0,
        },
        fact("Bad debt, mean (USD)", bad("mean", None)),
        fact("Bad debt, VaR 95% (USD)", bad("var", Some("0.95"))),
        fact("Bad debt, VaR 99% (USD)", bad("var", Some("0.99"))),
        fact("Bad debt, ES 99% (USD)", bad("es", Some("0.99"))),
        fact("Bad debt, VaR 99.9% (USD)", bad("var", Some("0.999"))),
        fact(
            "Liquidated debt, VaR 99% (USD)",
            statistic(mc, "liquidated_debt_usd", "var", Some("0.99")),
        ),
    ];
    section.push(Block::Facts(facts));
    let spiral = mc.number(&["definitions", "death_spiral_amplification"]);
    section.push(Block::Text(format!(
        "± is one standard error. VaR at q is the paths' q-quantile of the loss; ES is the mean \
         loss beyond it. A death spiral is a path whose amplification reaches {}.",
        spiral.map_or("the definition's threshold".into(), |s| format!("{s}"))
    )));
    Ok(section)
}

fn fact(label: &str, shown: Shown) -> Fact {
    Fact {
        label: label.into(),
        shown,
        alarm: false,
    }
}

/// Bins of `values` between their smallest and largest: about √n bins, 10 to 40.
fn histogram(values: &[f64]) -> Vec<Bar> {
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if values.is_empty() || lo >= hi {
        return values
            .first()
            .map(|&v| {
                let w = if v == 0.0 { 0.5 } else { v.abs() * 0.02 };
                vec![Bar {
                    x0: v - w,
                    x1: v + w,
                    y0: 0.0,
                    y1: values.len() as f64,
                }]
            })
            .unwrap_or_default();
    }
    let bins = ((values.len() as f64).sqrt().round() as usize).clamp(10, 40);
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for &v in values {
        let i = (((v - lo) / width) as usize).min(bins - 1);
        counts[i] += 1;
    }
    counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(i, &c)| Bar {
            x0: lo + i as f64 * width,
            x1: lo + (i + 1) as f64 * width,
            y0: 0.0,
            y1: c as f64,
        })
        .collect()
}

/// The paths' values of `column`, finite only.
fn values(paths: &Csv, column: &str) -> Result<Option<Vec<f64>>, ReportError> {
    Ok(paths
        .column(column)?
        .map(|v| v.into_iter().filter(|x| x.is_finite()).collect()))
}

/// The VaR and ES rules of `metric` at 95% and 99%.
fn tail_rules(mc: &Json, metric: &str) -> Vec<Rule> {
    let mut rules = Vec::new();
    for (stat, q, label, colour) in [
        ("var", "0.95", "VaR 95%", 3),
        ("var", "0.99", "VaR 99%", 1),
        ("es", "0.99", "ES 99%", 4),
    ] {
        if let Some(at) = mc.number(&["metrics", metric, stat, q]) {
            rules.push(Rule {
                at,
                label: label.into(),
                colour,
            });
        }
    }
    rules
}

fn distribution(
    section: &mut Section,
    mc: &Json,
    paths: &Csv,
    (metric, label): (&str, &str),
) -> Result<(), ReportError> {
    let Some(all) = values(paths, metric)? else {
        return Ok(());
    };
    let positive: Vec<f64> = all.iter().copied().filter(|v| *v > 0.0).collect();
    let zeros = all.len() - positive.len();
    let losses_only = metric.ends_with("_usd") && zeros > 0;
    if losses_only && positive.is_empty() {
        section.push(Block::Text(format!(
            "{label}: 0 on every one of the {} paths.",
            count(all.len() as f64)
        )));
        return Ok(());
    }
    let shown = if losses_only { &positive } else { &all };
    let chart = Plot {
        title: format!("Distribution of {label} over the paths"),
        x_label: label.into(),
        y_label: "paths".into(),
        bars: vec![Bars {
            label: String::new(),
            bars: histogram(shown),
            colour: 0,
        }],
        x_rules: tail_rules(mc, metric),
        y_from_zero: true,
        ..Plot::default()
    }
    .render(&format!("mc-histogram-{metric}"));
    let caption = if losses_only {
        format!(
            "{} of {} paths have {label} of 0 and are not drawn; the bars are the other {}. \
             Dashed lines: VaR at 95% and 99% and ES at 99% over all paths.",
            count(zeros as f64),
            count(all.len() as f64),
            count(positive.len() as f64)
        )
    } else {
        "Dashed lines: VaR at 95% and 99% and ES at 99%.".to_string()
    };
    push_chart(section, chart, &caption)?;
    if metric.ends_with("_usd") && !positive.is_empty() {
        let mut sorted = all.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len() as f64;
        let points: Vec<(f64, f64)> = sorted
            .iter()
            .enumerate()
            .map(|(i, &x)| (x, (n - i as f64 - 1.0) / n))
            .filter(|(x, _)| *x > 0.0)
            .collect();
        let chart = Plot {
            title: format!("Exceedance curve of {label}"),
            x_label: label.into(),
            y_label: "share of paths exceeding".into(),
            series: vec![Series::new("P(loss > x)", points, Mark::Line, 1)],
            x_rules: tail_rules(mc, metric),
            y_from_zero: true,
            ..Plot::default()
        }
        .render(&format!("mc-exceedance-{metric}"));
        push_chart(
            section,
            chart,
            "The share of paths whose figure exceeds x: read the chance of losing more than any \
             amount straight off the curve.",
        )?;
    }
    Ok(())
}

fn distributions(mc: &Json, paths: &Csv) -> Result<Section, ReportError> {
    let mut section = Section::new("mc-distributions", "Distributions");
    distribution(&mut section, mc, paths, ("bad_debt_usd", "bad debt (USD)"))?;
    distribution(
        &mut section,
        mc,
        paths,
        ("liquidated_debt_usd", "liquidated debt (USD)"),
    )?;
    for column in paths.headers.clone() {
        if let Some(asset) = column
            .strip_prefix("assets.")
            .and_then(|r| r.strip_suffix(".total_drop"))
        {
            let all = values(paths, &column)?.unwrap_or_default();
            if all.iter().any(|v| *v > 0.0) {
                distribution(
                    &mut section,
                    mc,
                    paths,
                    (&column, &format!("{asset}'s fall (fraction)")),
                )?;
            }
        }
    }
    Ok(section)
}

fn metrics(mc: &Json) -> Section {
    let mut section = Section::new("mc-metrics", "Every metric");
    let mut table = Table {
        head: [
            "metric",
            "mean",
            "VaR 95%",
            "VaR 99%",
            "VaR 99.9%",
            "ES 95%",
            "ES 99%",
            "ES 99.9%",
            "max",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for metric in mc.keys(&["metrics"]) {
        let mut cells = vec![
            Shown::text(metric.clone()),
            statistic(mc, &metric, "mean", None),
        ];
        for stat in ["var", "es"] {
            for q in ["0.95", "0.99", "0.999"] {
                cells.push(statistic(mc, &metric, stat, Some(q)));
            }
        }
        cells.push(statistic(mc, &metric, "max", None));
        table.rows.push(Row { id: None, cells });
    }
    section.push(Block::Text(
        "Money in USD; ± is one standard error (of the mean; of VaR from the order statistics' \
         95% interval; of ES by the delta method)."
            .into(),
    ));
    section.push(Block::Table(table));
    section
}

fn worst(mc: &Json) -> Result<Section, ReportError> {
    let mut section = Section::new("mc-worst", "The worst paths");
    let worst = mc
        .get(&["worst_paths"])
        .and_then(|w| w.as_array())
        .cloned()
        .unwrap_or_default();
    if worst.is_empty() {
        section.push(Block::Text("No worst paths recorded.".into()));
        return Ok(section);
    }
    let columns = [
        ("bad_debt_usd", "bad debt (USD)"),
        ("liquidated_debt_usd", "liquidated debt (USD)"),
        ("liquidations", "liquidations"),
    ];
    let mut head = vec!["path".to_string(), "death spiral".to_string()];
    head.extend(columns.iter().map(|(_, l)| l.to_string()));
    let mut table = Table {
        head,
        rows: Vec::new(),
    };
    for (i, row) in worst.iter().enumerate() {
        let path = row
            .get("path")
            .and_then(|p| p.as_u64())
            .ok_or_else(|| mc.missing(&["worst_paths", &i.to_string(), "path"], "a path number"))?;
        let spiral = row
            .get("death_spiral")
            .and_then(|s| s.as_bool())
            .unwrap_or(false);
        let mut cells = vec![
            Shown::text(format!("#{path}")),
            Shown::text(if spiral { "yes" } else { "no" }),
        ];
        for (key, _) in columns {
            let index = i.to_string();
            cells.push(
                mc.shown(&["worst_paths", &index, key], usd_bare)
                    .unwrap_or_else(|| Shown::text("–")),
            );
        }
        table.rows.push(Row {
            id: Some(format!("path-{path}")),
            cells,
        });
    }
    section.push(Block::Text(
        "The paths with the most bad debt, worst first. Path k depends on the seed and k \
         alone: replay one in full, with its timeline and events, by running the scenario's \
         file with --path:"
            .into(),
    ));
    let first = worst[0].get("path").and_then(|p| p.as_u64()).unwrap_or(0);
    section.push(Block::Code(format!(
        "cascade run SCENARIO.toml --path {first} --report --out worst-path-{first}"
    )));
    section.push(Block::Table(table));
    Ok(section)
}

fn indicator(mc: &Json) -> Option<Section> {
    let found = mc.get(&["indicator"]).is_some();
    let adaptive = mc.get(&["adaptive"]).is_some();
    if !found && !adaptive {
        return None;
    }
    let mut section = Section::new("mc-indicator", "The leading indicator");
    if found {
        let i = |k: &'static str| -> [&str; 2] { ["indicator", k] };
        section.push(Block::Facts(vec![
            fact(
                "Level",
                mc.shown_or_dash(&i("level"), |v| format!("m ≥ {v}")),
            ),
            fact("Cascades", mc.shown_or_dash(&i("cascades"), count)),
            fact("Hit rate", mc.shown_or_dash(&i("hit_rate"), percent)),
            fact(
                "False alarm rate",
                mc.shown_or_dash(&i("false_alarm_rate"), percent),
            ),
            fact(
                "Median lead (steps)",
                mc.shown_or_dash(&i("median_lead_steps"), |v| grouped(v, 1)),
            ),
            fact("AUC", mc.shown_or_dash(&i("auc"), |v| grouped(v, 3))),
        ]));
    }
    if adaptive {
        let mut table = Table {
            head: [
                "figure",
                "static mean",
                "adaptive mean",
                "difference",
                "static VaR 99%",
                "adaptive VaR 99%",
            ]
            .map(String::from)
            .to_vec(),
            rows: Vec::new(),
        };
        for figure_name in mc.keys(&["adaptive", "figures"]) {
            let f = |k: &'static str| -> Vec<&str> { vec!["adaptive", "figures", &figure_name, k] };
            let mut difference = mc.shown_or_dash(&f("difference_mean"), self::figure);
            if let Some(se) = mc.number(&f("difference_se")) {
                difference.text = format!("{} ± {}", difference.text, self::figure(se));
            }
            table.rows.push(Row {
                id: None,
                cells: vec![
                    Shown::text(figure_name.clone()),
                    mc.shown_or_dash(&f("static_mean"), self::figure),
                    mc.shown_or_dash(&f("adaptive_mean"), self::figure),
                    difference,
                    mc.shown_or_dash(&f("static_var99"), self::figure),
                    mc.shown_or_dash(&f("adaptive_var99"), self::figure),
                ],
            });
        }
        section.push(Block::Text(format!(
            "A circuit breaker that throttles forced sales to {} per step while m ≥ the level, \
             against the same paths without it.",
            mc.number(&["adaptive", "policy", "throttle_usd_per_step"])
                .map_or("–".into(), usd)
        )));
        section.push(Block::Table(table));
    }
    Some(section)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_counts_every_value_once() {
        let values: Vec<f64> = (0..100).map(f64::from).collect();
        let bars = histogram(&values);
        let total: f64 = bars.iter().map(|b| b.y1).sum();
        assert_eq!(total, 100.0);
        assert_eq!(bars.first().unwrap().x0, 0.0);
        assert!((bars.last().unwrap().x1 - 99.0).abs() < 1e-9);
    }

    #[test]
    fn equal_values_make_one_bar() {
        let bars = histogram(&[5.0, 5.0, 5.0]);
        assert_eq!(bars.len(), 1);
        assert_eq!(bars[0].y1, 3.0);
    }
}
