//! The report of a calibration (`cascade calibrate`): the frontier of risk against the
//! parameter's value with its standard errors and the budget, the value chosen, and what each
//! value buys in capital efficiency (the book's debt).

use std::path::Path;

use super::ReportError;
use super::chart::{Mark, Plot, Rule, Series};
use super::format::{grouped, usd};
use super::page::{Block, Fact, Page, Row, Section, Shown, Table};
use super::read::Json;
use super::run::{producer, push_chart};

/// The page.
pub(crate) fn page(dir: &Path) -> Result<Page, ReportError> {
    let calibration = Json::read(dir, "calibration.json")?;
    let parameter = calibration.text(&["parameter"])?;
    let expression = calibration.text(&["risk", "expression"])?;
    let mut section = Section::new("calibration", "The frontier");
    section.push(Block::Facts(chosen(&calibration)));
    let frontier = frontier(&calibration);
    let points = |key: &[&str]| -> Vec<(f64, f64)> {
        frontier
            .iter()
            .filter_map(|(x, i)| {
                let index = i.to_string();
                let mut keys = vec!["frontier", index.as_str()];
                keys.extend_from_slice(key);
                calibration.number(&keys).map(|y| (*x, y))
            })
            .collect()
    };
    let mut x_rules = Vec::new();
    if let Some(chosen) = calibration
        .text(&["chosen", "value"])
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
    {
        x_rules.push(Rule {
            at: chosen,
            label: "chosen".into(),
            colour: 2,
        });
    }
    let chart = Plot {
        title: format!("{expression} against {parameter}"),
        x_label: parameter.clone(),
        y_label: "risk".into(),
        series: vec![
            Series::new("risk", points(&["risk"]), Mark::Line, 0),
            Series::new("", points(&["risk"]), Mark::Points, 0),
            Series::new(
                "one-sided 95% bound",
                points(&["risk_upper_95"]),
                Mark::Dashed,
                5,
            ),
        ],
        y_rules: calibration
            .number(&["risk", "bound"])
            .map(|at| Rule {
                at,
                label: "budget".into(),
                colour: 1,
            })
            .into_iter()
            .collect(),
        x_rules: x_rules.clone(),
        y_from_zero: true,
        ..Plot::default()
    }
    .render("calibration-frontier");
    push_chart(
        &mut section,
        chart,
        "The risk of every value over the same paths, with its one-sided 95% upper bound: \
         the chosen value is the most capital-efficient one whose risk is within the budget.",
    )?;
    let chart = Plot {
        title: format!("The book's debt against {parameter}"),
        x_label: parameter.clone(),
        y_label: "debt (USD)".into(),
        series: vec![
            Series::new("", points(&["book", "debt_usd"]), Mark::Line, 3),
            Series::new("", points(&["book", "debt_usd"]), Mark::Points, 3),
        ],
        x_rules,
        ..Plot::default()
    }
    .render("calibration-capital");
    push_chart(
        &mut section,
        chart,
        "What each value lets the book borrow: the capital efficiency the budget trades against.",
    )?;
    section.push(Block::Table(table(&calibration, &frontier)));
    Ok(Page {
        title: calibration.text(&["scenario", "name"])?,
        kind: "Calibration".into(),
        header: vec![
            (
                "Scenario".into(),
                Shown::text(calibration.text(&["scenario", "name"])?),
            ),
            (
                "Scenario hash".into(),
                Shown::text(calibration.text(&["scenario", "hash"])?),
            ),
            ("Seed".into(), calibration.literal(&["seed"])),
            ("Parameter".into(), Shown::text(parameter)),
            ("Range".into(), Shown::text(calibration.text(&["range"])?)),
            ("Risk budget".into(), Shown::text(expression)),
            ("Paths per value".into(), calibration.literal(&["paths"])),
            ("Written by".into(), Shown::text(producer(&calibration))),
        ],
        sections: vec![section],
    })
}

/// Each frontier value's number and index.
fn frontier(calibration: &Json) -> Vec<(f64, usize)> {
    let n = calibration
        .get(&["frontier"])
        .and_then(|f| f.as_array())
        .map_or(0, Vec::len);
    (0..n)
        .filter_map(|i| {
            calibration
                .text(&["frontier", &i.to_string(), "value"])
                .ok()
                .and_then(|v| v.parse().ok())
                .map(|x| (x, i))
        })
        .collect()
}

fn money(v: f64) -> String {
    grouped(v, 0)
}

fn chosen(calibration: &Json) -> Vec<Fact> {
    if calibration.get(&["chosen"]).is_none_or(|c| c.is_null()) {
        return vec![Fact {
            label: "Chosen value".into(),
            shown: Shown::text("none: no value keeps the risk within the budget"),
            alarm: true,
        }];
    }
    let c = |k: &'static str| -> [&str; 2] { ["chosen", k] };
    let mut risk = calibration.shown_or_dash(&c("risk"), money);
    if let Some(se) = calibration.number(&c("risk_se")) {
        risk.text = format!("{} ± {}", risk.text, money(se));
    }
    vec![
        Fact {
            label: "Chosen value".into(),
            shown: Shown::text(calibration.text(&c("value")).unwrap_or_default()),
            alarm: false,
        },
        Fact {
            label: "Its risk".into(),
            shown: risk,
            alarm: false,
        },
        Fact {
            label: "Margin to the budget".into(),
            shown: calibration.shown_or_dash(&c("margin"), money),
            alarm: false,
        },
        Fact {
            label: "Margin in standard errors".into(),
            shown: calibration.shown_or_dash(&c("margin_in_se"), |v| grouped(v, 1)),
            alarm: false,
        },
        Fact {
            label: "Book debt".into(),
            shown: calibration.shown_or_dash(&["chosen", "book", "debt_usd"], usd),
            alarm: false,
        },
    ]
}

fn table(calibration: &Json, frontier: &[(f64, usize)]) -> Table {
    let mut table = Table {
        head: [
            "value",
            "risk",
            "± se",
            "95% bound",
            "in budget",
            "bad debt mean (USD)",
            "liquidated debt mean (USD)",
            "book debt (USD)",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for (_, i) in frontier {
        let index = i.to_string();
        let f = |k: &'static str| -> [&str; 3] { ["frontier", &index, k] };
        let in_budget = calibration
            .get(&f("in_budget"))
            .and_then(|b| b.as_bool())
            .map_or("–", |b| if b { "yes" } else { "no" });
        table.rows.push(Row {
            id: None,
            cells: vec![
                Shown::text(calibration.text(&f("value")).unwrap_or_default()),
                calibration.shown_or_dash(&f("risk"), money),
                calibration.shown_or_dash(&f("risk_se"), money),
                calibration.shown_or_dash(&f("risk_upper_95"), money),
                Shown::text(in_budget),
                calibration.shown_or_dash(&f("bad_debt_mean_usd"), money),
                calibration.shown_or_dash(&f("liquidated_debt_mean_usd"), money),
                calibration.shown_or_dash(&["frontier", &index, "book", "debt_usd"], money),
            ],
        });
    }
    table
}
