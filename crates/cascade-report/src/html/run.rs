//! The report of one run (`cascade run`): the headline losses, every asset's price paths with
//! the steps that liquidated, the flows per step, insurance funds, perp exchanges, the chain,
//! market depth, the leading indicator, each protocol's and keeper's figures, and the walls and
//! feedback gain — each only when the run has it.

use std::path::Path;

use super::ReportError;
use super::chart::{Bar, Bars, Mark, Plot, Rule, Series};
use super::format::{count, percent, price, usd};
use super::page::{Block, Fact, Page, Row, Section, Shown, Table};
use super::read::{Csv, Json};

/// The time axis of a timeline: hours, or minutes for runs under three hours.
pub(crate) struct Clock {
    pub unit: &'static str,
    pub times: Vec<f64>,
}

impl Clock {
    pub fn of(timeline: &Csv) -> Result<Self, ReportError> {
        let seconds = timeline.require("time_seconds")?;
        let horizon = seconds.iter().copied().fold(0.0, f64::max);
        let (unit, scale) = if horizon >= 3.0 * 3600.0 {
            ("hours from the start", 3600.0)
        } else {
            ("minutes from the start", 60.0)
        };
        Ok(Self {
            unit,
            times: seconds.iter().map(|s| s / scale).collect(),
        })
    }

    /// The whole run, half a step beyond each end, so bars of the first and last steps show.
    pub fn span(&self) -> Option<(f64, f64)> {
        let step = match self.times.as_slice() {
            [a, b, ..] => b - a,
            _ => 1.0,
        };
        Some((
            self.times.first()? - step / 2.0,
            self.times.last()? + step / 2.0,
        ))
    }

    /// `values` against time.
    pub fn points(&self, values: &[f64]) -> Vec<(f64, f64)> {
        self.times
            .iter()
            .copied()
            .zip(values.iter().copied())
            .collect()
    }

    /// A bar per step of `values` (the step's flow), `offset` and `width` in fractions of a
    /// step so two flows can stand side by side.
    pub fn bars(&self, values: &[f64], offset: f64, width: f64) -> Vec<Bar> {
        let step = match self.times.as_slice() {
            [a, b, ..] => b - a,
            _ => 1.0,
        };
        self.times
            .iter()
            .zip(values)
            .filter(|(_, v)| v.is_finite() && **v != 0.0)
            .map(|(&t, &v)| {
                let x0 = t - step / 2.0 + offset * step;
                Bar {
                    x0,
                    x1: x0 + width * step,
                    y0: 0.0,
                    y1: v,
                }
            })
            .collect()
    }
}

fn fact(label: impl Into<String>, shown: Shown) -> Fact {
    Fact {
        label: label.into(),
        shown,
        alarm: false,
    }
}

fn alarm_fact(label: impl Into<String>, shown: Shown) -> Fact {
    let alarm = shown.source.as_ref().is_some_and(|s| s.value > 0.0);
    Fact {
        label: label.into(),
        shown,
        alarm,
    }
}

/// The header every page of a run shares: scenario, description, seed, hash, length, version.
pub(crate) fn header(summary: &Json) -> Result<Vec<(String, Shown)>, ReportError> {
    let s = |k: &str| summary.text(&["scenario", k]);
    let mut header = vec![("Scenario".to_string(), Shown::text(s("name")?))];
    if let Ok(description) = s("description") {
        header.push(("Description".into(), Shown::text(description)));
    }
    header.push(("Seed".into(), summary.literal(&["scenario", "seed"])));
    header.push(("Scenario hash".into(), Shown::text(s("hash")?)));
    let steps = summary.require(&["scenario", "steps"])?;
    let step_seconds = summary.require(&["scenario", "step_seconds"])?;
    header.push((
        "Length".into(),
        Shown::text(format!("{steps} steps of {step_seconds} s")),
    ));
    if let Ok(start) = s("start_time") {
        header.push(("Start (UTC)".into(), Shown::text(start)));
    }
    header.push(("Written by".into(), Shown::text(producer(summary))));
    Ok(header)
}

/// `cascade 0.1.0, output schema 1`, from a file's `producer`.
pub(crate) fn producer(json: &Json) -> String {
    let tool = json
        .text(&["producer", "tool"])
        .unwrap_or_else(|_| "cascade".into());
    let version = json
        .text(&["producer", "version"])
        .unwrap_or_else(|_| "?".into());
    let schema = json
        .number(&["producer", "schema"])
        .map_or("?".into(), |v| v.to_string());
    format!("{tool} {version}, output schema {schema}")
}

/// The run's page.
pub(crate) fn page(dir: &Path) -> Result<Page, ReportError> {
    let summary = Json::read(dir, "summary.json")?;
    let timeline = Csv::read(dir, "timeline.csv")?;
    let clock = Clock::of(&timeline)?;
    let mut sections = vec![headline(&summary)];
    sections.push(prices(&summary, &timeline, &clock)?);
    sections.push(flows(&timeline, &clock)?);
    sections.extend(insurance(&summary, &timeline, &clock)?);
    sections.extend(backstops(&summary));
    sections.extend(perps(&summary, &timeline, &clock)?);
    sections.extend(chain(&summary, &timeline, &clock)?);
    sections.extend(depth(&timeline, &clock)?);
    sections.extend(indicator(&timeline, &clock)?);
    sections.push(protocols(&summary));
    sections.extend(auctions(&summary));
    sections.extend(staleness(&summary));
    sections.extend(keepers(&summary));
    sections.push(walls(&summary));
    sections.extend(warnings(&summary));
    Ok(Page {
        title: summary.text(&["scenario", "name"])?,
        kind: "Scenario run".into(),
        header: header(&summary)?,
        sections,
    })
}

fn headline(summary: &Json) -> Section {
    let mut section = Section::new("headline", "Headline");
    let mut facts = vec![
        alarm_fact("Bad debt (gross)", summary.usd(&["bad_debt_usd"])),
        fact("Realised bad debt", summary.usd(&["bad_debt_realised_usd"])),
        fact(
            "Unrealised bad debt",
            summary.usd(&["bad_debt_unrealised_usd"]),
        ),
    ];
    let gross = summary.number(&["bad_debt_usd"]).unwrap_or(0.0);
    let drawn = summary.number(&["insurance_drawn_usd"]).unwrap_or(0.0);
    if drawn > 0.0 {
        facts.push(fact(
            "Insurance funds drew",
            summary.usd(&["insurance_drawn_usd"]),
        ));
        facts.push(Fact {
            label: "Bad debt net of insurance".into(),
            shown: Shown::text(usd((gross - drawn).max(0.0))),
            alarm: gross - drawn > 0.0,
        });
    }
    facts.push(alarm_fact(
        "Socialised loss",
        summary.usd(&["socialised_loss_usd"]),
    ));
    facts.push(fact(
        "Liquidations",
        summary.shown_or_dash(&["liquidations", "count"], count),
    ));
    facts.push(fact(
        "Debt repaid",
        summary.usd(&["liquidations", "debt_repaid_usd"]),
    ));
    facts.push(fact(
        "Collateral seized",
        summary.usd(&["liquidations", "collateral_seized_usd"]),
    ));
    facts.push(fact(
        "Sale proceeds",
        summary.usd(&["liquidations", "sale_proceeds_usd"]),
    ));
    facts.push(fact(
        "Slippage",
        summary.usd(&["liquidations", "slippage_usd"]),
    ));
    facts.push(fact(
        "Liquidation bonus",
        summary.usd(&["liquidations", "bonus_usd"]),
    ));
    section.push(Block::Facts(facts));
    let mut per_asset = Vec::new();
    for symbol in summary.keys(&["assets"]) {
        let a = |k: &'static str| -> Vec<&str> { vec!["assets", &symbol, k] };
        if summary.number(&a("total_drop")) == Some(0.0)
            && summary.number(&a("total_rise")).unwrap_or(0.0) == 0.0
        {
            continue;
        }
        per_asset.push(fact(
            format!("{symbol}: fall of the market price"),
            summary.shown_or_dash(&a("total_drop"), percent),
        ));
        per_asset.push(fact(
            format!("{symbol}: exogenous fall"),
            summary.shown_or_dash(&a("exogenous_drop"), percent),
        ));
        per_asset.push(alarm_fact(
            format!("{symbol}: amplification"),
            summary.shown_or_dash(&a("amplification"), |v| format!("{v:.3}×")),
        ));
        per_asset.push(fact(
            format!("{symbol}: largest price impact"),
            summary.shown_or_dash(&a("max_price_impact"), percent),
        ));
    }
    if !per_asset.is_empty() {
        section.push(Block::Text(
            "Amplification is the market price's fall over the exogenous (fundamental) fall: \
             above 1, forced selling deepened the move."
                .into(),
        ));
        section.push(Block::Facts(per_asset));
    }
    section
}

fn prices(summary: &Json, timeline: &Csv, clock: &Clock) -> Result<Section, ReportError> {
    let mut section = Section::new("prices", "Price paths");
    let liquidations = timeline.require("liquidations")?;
    for symbol in summary.keys(&["assets"]) {
        let Some(fundamental) = timeline.column(&format!("fundamental_{symbol}"))? else {
            continue;
        };
        let venue = summary
            .get(&["assets", &symbol, "venue"])
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let oracles: Vec<String> = summary
            .get(&["assets", &symbol, "oracles"])
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|o| o.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let flat = fundamental.windows(2).all(|w| w[0] == w[1]);
        if flat && venue.is_none() && oracles.is_empty() {
            continue;
        }
        let mut series = vec![Series::new(
            "fundamental",
            clock.points(&fundamental),
            Mark::Dashed,
            6,
        )];
        let mut market = fundamental.clone();
        if let Some(v) = &venue
            && let Some(prices) = timeline.column(&format!("venue_{v}"))?
        {
            series.push(Series::new(
                format!("venue {v}"),
                clock.points(&prices),
                Mark::Line,
                0,
            ));
            market = prices;
        }
        for (i, o) in oracles.iter().enumerate() {
            if let Some(prices) = timeline.column(&format!("oracle_{o}"))? {
                series.push(Series::new(
                    format!("oracle {o}"),
                    clock.points(&prices),
                    Mark::Line,
                    2 + i,
                ));
            }
        }
        let marked: Vec<(f64, f64)> = clock
            .points(&market)
            .into_iter()
            .zip(&liquidations)
            .filter(|(_, n)| **n > 0.0)
            .map(|(p, _)| p)
            .collect();
        if !marked.is_empty() {
            series.push(Series::new(
                "steps with liquidations",
                marked,
                Mark::Points,
                1,
            ));
        }
        let chart = Plot {
            title: format!("{symbol}: fundamental, venue and oracle prices"),
            x_label: clock.unit.into(),
            x_span: clock.span(),
            y_label: "USD".into(),
            series,
            ..Plot::default()
        }
        .render(&format!("prices-{symbol}"))?;
        section.push(Block::Chart {
            chart,
            caption: format!(
                "Prices at the end of each step. The gap between the dashed fundamental and the \
                 venue is the price impact of forced selling; dots mark the steps in which \
                 anything was liquidated. Primary venue: {}.",
                venue.as_deref().unwrap_or("none")
            ),
        });
    }
    Ok(section)
}

fn flows(timeline: &Csv, clock: &Clock) -> Result<Section, ReportError> {
    let mut section = Section::new("flows", "Liquidations, sales and bad debt per step");
    let liquidations = timeline.require("liquidations")?;
    let chart = Plot {
        title: "Liquidation calls per step".into(),
        x_label: clock.unit.into(),
        x_span: clock.span(),
        y_label: "calls".into(),
        bars: vec![Bars {
            label: String::new(),
            bars: clock.bars(&liquidations, 0.1, 0.8),
            colour: 0,
        }],
        y_from_zero: true,
        ..Plot::default()
    }
    .render("liquidations-per-step");
    push_chart(
        &mut section,
        chart,
        "Liquidation calls in each step (perp positions closed included).",
    )?;
    let repaid = timeline.require("debt_repaid_usd")?;
    let proceeds = timeline.require("sale_proceeds_usd")?;
    let flowed = |v: &[f64]| v.iter().any(|x| *x != 0.0 && x.is_finite());
    if !flowed(&repaid) && !flowed(&proceeds) {
        section.push(Block::Text(
            "No loan was liquidated and keepers sold nothing (perp close-outs, if any, are in \
             their own section)."
                .into(),
        ));
    } else {
        let chart = Plot {
            title: "Debt repaid and sale proceeds per step".into(),
            x_label: clock.unit.into(),
            x_span: clock.span(),
            y_label: "USD".into(),
            bars: vec![
                Bars {
                    label: "debt repaid".into(),
                    bars: clock.bars(&repaid, 0.1, 0.4),
                    colour: 0,
                },
                Bars {
                    label: "sale proceeds".into(),
                    bars: clock.bars(&proceeds, 0.5, 0.4),
                    colour: 3,
                },
            ],
            y_from_zero: true,
            ..Plot::default()
        }
        .render("sales-per-step");
        push_chart(
            &mut section,
            chart,
            "Debt the liquidators repaid and what selling the seized collateral raised, step by \
         step. Proceeds below the debt repaid are the liquidators' loss or the protocol's.",
        )?;
    }
    let realised = timeline.require("bad_debt_realised_usd")?;
    let cumulative = timeline.require("bad_debt_realised_cumulative_usd")?;
    let chart = Plot {
        title: "Bad debt written off".into(),
        x_label: clock.unit.into(),
        x_span: clock.span(),
        y_label: "USD".into(),
        bars: vec![Bars {
            label: "in the step".into(),
            bars: clock.bars(&realised, 0.1, 0.8),
            colour: 1,
        }],
        series: vec![Series::new(
            "cumulative",
            clock.points(&cumulative),
            Mark::Line,
            6,
        )],
        y_from_zero: true,
        ..Plot::default()
    }
    .render("bad-debt");
    push_chart(
        &mut section,
        chart,
        "Debt written off in each step and in all, perp exchanges' deficits included \
         (unrealised bad debt, on accounts still open at the end, is not in this line).",
    )?;
    Ok(section)
}

/// Adds a chart, or says in words why there is none (nothing to draw is not an error).
pub(crate) fn push_chart(
    section: &mut Section,
    chart: Result<super::Chart, super::ChartError>,
    caption: &str,
) -> Result<(), ReportError> {
    match chart {
        Ok(chart) => {
            section.push(Block::Chart {
                chart,
                caption: caption.to_string(),
            });
            Ok(())
        }
        Err(super::ChartError::Empty(name)) => {
            section.push(Block::Text(format!("{name}: nothing to draw.")));
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

fn insurance(
    summary: &Json,
    timeline: &Csv,
    clock: &Clock,
) -> Result<Option<Section>, ReportError> {
    let funds = timeline.columns_with("insurance_");
    if funds.is_empty() {
        return Ok(None);
    }
    let mut section = Section::new("insurance", "Insurance funds and backstops");
    let mut series = Vec::new();
    for (i, name) in funds.iter().enumerate() {
        let balance = timeline.require(&format!("insurance_{name}"))?;
        series.push(Series::new(
            name.clone(),
            clock.points(&balance),
            Mark::Line,
            i,
        ));
    }
    let chart = Plot {
        title: "Insurance fund balances".into(),
        x_label: clock.unit.into(),
        x_span: clock.span(),
        y_label: "USD".into(),
        series,
        y_from_zero: true,
        ..Plot::default()
    }
    .render("insurance");
    push_chart(
        &mut section,
        chart,
        "Each fund's balance at the end of each step: paid in by liquidation penalties and fees, \
         drawn to cover deficits.",
    )?;
    let mut facts = Vec::new();
    for name in &funds {
        let f = |k: &'static str| -> Vec<&str> { vec!["protocols", name, "insurance_fund", k] };
        facts.push(fact(
            format!("{name}: paid in"),
            summary.usd(&f("paid_in_usd")),
        ));
        facts.push(fact(format!("{name}: drawn"), summary.usd(&f("drawn_usd"))));
        facts.push(fact(
            format!("{name}: final balance"),
            summary.usd(&f("final_usd")),
        ));
    }
    section.push(Block::Facts(facts));
    Ok(Some(section))
}

/// A loss (a P&L below zero) drawn as an alarm.
fn pnl_fact(label: impl Into<String>, shown: Shown) -> Fact {
    let alarm = shown.source.as_ref().is_some_and(|s| s.value < 0.0);
    Fact {
        label: label.into(),
        shown,
        alarm,
    }
}

/// How a figure is drawn: plainly, as an alarm when above 0, or as a loss when below 0.
#[derive(Clone, Copy)]
enum Tone {
    Plain,
    AlarmAbove,
    LossBelow,
}

/// A figure of a protocol's section of summary.json: the section, the key, its label, tone and
/// format.
type Figure = (
    &'static str,
    &'static str,
    &'static str,
    Tone,
    fn(f64) -> String,
);

/// What the backstops' section shows of each: backstop vaults, Liquity's Stability Pools and
/// Compound III's reserves.
const BACKSTOP_FIGURES: [Figure; 13] = [
    (
        "backstop",
        "takeovers",
        "backstop takeovers",
        Tone::Plain,
        count,
    ),
    ("backstop", "spent_usd", "backstop paid", Tone::Plain, usd),
    (
        "backstop",
        "received_usd",
        "backstop sales",
        Tone::Plain,
        usd,
    ),
    (
        "backstop",
        "marked_pnl_usd",
        "backstop P&L at final prices",
        Tone::LossBelow,
        usd,
    ),
    (
        "backstop",
        "hedged_pnl_usd",
        "backstop P&L at takeover prices",
        Tone::LossBelow,
        usd,
    ),
    (
        "stability_pool",
        "liquidations",
        "Stability Pool liquidations",
        Tone::Plain,
        count,
    ),
    (
        "stability_pool",
        "debt_offset",
        "debt offset by the pool",
        Tone::Plain,
        usd,
    ),
    (
        "stability_pool",
        "debt_redistributed",
        "debt redistributed to troves",
        Tone::AlarmAbove,
        usd,
    ),
    (
        "stability_pool",
        "deposits_end",
        "pool deposits left",
        Tone::Plain,
        usd,
    ),
    ("comet", "absorbs", "absorbs", Tone::Plain, count),
    (
        "comet",
        "reserves_min_usd",
        "lowest reserves",
        Tone::LossBelow,
        usd,
    ),
    (
        "comet",
        "reserves_final_usd",
        "final reserves",
        Tone::LossBelow,
        usd,
    ),
    ("comet", "shortfall_usd", "shortfall", Tone::AlarmAbove, usd),
];

/// Backstop vaults, Liquity's Stability Pools and Compound III's reserves: who took the
/// liquidated positions over, and at what profit or loss.
fn backstops(summary: &Json) -> Option<Section> {
    let mut facts = Vec::new();
    for name in summary.keys(&["protocols"]) {
        for (part, key, label, tone, format) in BACKSTOP_FIGURES {
            if summary.get(&["protocols", &name, part]).is_none() {
                continue;
            }
            let shown = summary.shown_or_dash(&["protocols", &name, part, key], format);
            let label = format!("{name}: {label}");
            facts.push(match tone {
                Tone::Plain => fact(label, shown),
                Tone::AlarmAbove => alarm_fact(label, shown),
                Tone::LossBelow => pnl_fact(label, shown),
            });
        }
    }
    if facts.is_empty() {
        return None;
    }
    let mut section = Section::new("backstops", "Backstops");
    section.push(Block::Text(
        "Who took the liquidated positions over instead of the market: a backstop vault's \
         profit or loss, a Stability Pool's offsets and what it had to redistribute, a \
         Compound III market's reserves after absorbing."
            .into(),
    ));
    section.push(Block::Facts(facts));
    Some(section)
}

fn perps(summary: &Json, timeline: &Csv, clock: &Clock) -> Result<Option<Section>, ReportError> {
    let exchanges = timeline.columns_with("perp_liquidations_long_");
    if exchanges.is_empty() {
        return Ok(None);
    }
    let mut section = Section::new("perps", "Perpetual-swap exchanges");
    for name in &exchanges {
        let longs = timeline.require(&format!("perp_liquidations_long_{name}"))?;
        let shorts = timeline.require(&format!("perp_liquidations_short_{name}"))?;
        let chart = Plot {
            title: format!("{name}: positions closed per step"),
            x_label: clock.unit.into(),
            x_span: clock.span(),
            y_label: "positions".into(),
            bars: vec![
                Bars {
                    label: "longs".into(),
                    bars: clock.bars(&longs, 0.1, 0.4),
                    colour: 0,
                },
                Bars {
                    label: "shorts".into(),
                    bars: clock.bars(&shorts, 0.5, 0.4),
                    colour: 1,
                },
            ],
            y_from_zero: true,
            ..Plot::default()
        }
        .render(&format!("perp-closes-{name}"));
        push_chart(
            &mut section,
            chart,
            "Positions closed by the exchange's liquidation engine (slices and deleveraged \
             closes included); closed longs sell into the venue, closed shorts buy from it.",
        )?;
        let adl = timeline.require(&format!("adl_usd_{name}"))?;
        if adl.iter().any(|v| *v > 0.0) {
            let chart = Plot {
                title: format!("{name}: auto-deleveraging per step"),
                x_label: clock.unit.into(),
                x_span: clock.span(),
                y_label: "USD".into(),
                bars: vec![Bars {
                    label: String::new(),
                    bars: clock.bars(&adl, 0.1, 0.8),
                    colour: 4,
                }],
                y_from_zero: true,
                ..Plot::default()
            }
            .render(&format!("adl-{name}"));
            push_chart(
                &mut section,
                chart,
                "Notional of opposite positions reduced at the bankruptcy price when the \
                 insurance fund could not absorb a deficit.",
            )?;
        }
        let p = |k: &'static str| -> Vec<&str> { vec!["protocols", name, "perp", k] };
        let facts = vec![
            fact(
                format!("{name}: positions liquidated"),
                summary.shown_or_dash(&p("liquidations"), count),
            ),
            fact(
                format!("{name}: longs closed"),
                summary.usd(&p("liquidated_long_usd")),
            ),
            fact(
                format!("{name}: shorts closed"),
                summary.usd(&p("liquidated_short_usd")),
            ),
            alarm_fact(format!("{name}: deficit"), summary.usd(&p("deficit_usd"))),
            fact(
                format!("{name}: auto-deleveraged"),
                summary.usd(&["protocols", name, "perp", "adl", "notional_usd"]),
            ),
            fact(
                format!("{name}: vault takeovers"),
                summary.shown_or_dash(&["protocols", name, "perp", "vault", "takeovers"], count),
            ),
            alarm_fact(
                format!("{name}: socialised loss"),
                summary.usd(&p("socialised_loss_usd")),
            ),
        ];
        section.push(Block::Facts(facts));
    }
    Ok(Some(section))
}

fn chain(summary: &Json, timeline: &Csv, clock: &Clock) -> Result<Option<Section>, ReportError> {
    let Some(gas) = timeline.column("gas_gwei")? else {
        return Ok(None);
    };
    let mut section = Section::new("chain", "The chain: gas and the mempool");
    let chart = Plot {
        title: "Clearing gas price".into(),
        x_label: clock.unit.into(),
        x_span: clock.span(),
        y_label: "gwei".into(),
        series: vec![Series::new("gas", clock.points(&gas), Mark::Line, 0)],
        y_from_zero: true,
        ..Plot::default()
    }
    .render("gas");
    push_chart(&mut section, chart, "The step's clearing gas price.")?;
    let waiting = timeline.require("txs_waiting")?;
    let dropped = timeline.require("txs_dropped")?;
    let chart = Plot {
        title: "Transactions waiting and dropped".into(),
        x_label: clock.unit.into(),
        x_span: clock.span(),
        y_label: "transactions".into(),
        series: vec![Series::new(
            "waiting",
            clock.points(&waiting),
            Mark::Line,
            0,
        )],
        bars: vec![Bars {
            label: "dropped".into(),
            bars: clock.bars(&dropped, 0.1, 0.8),
            colour: 1,
        }],
        y_from_zero: true,
        ..Plot::default()
    }
    .render("mempool");
    push_chart(
        &mut section,
        chart,
        "Agents' transactions waiting in the mempool at the start of each step, and those \
         dropped in it (expired, or unpaid by a keeper's gas budget): liquidations, bids and \
         owners' top-ups that never landed.",
    )?;
    let t = |k: &'static str| -> [&str; 3] { ["chain", "transactions", k] };
    section.push(Block::Facts(vec![
        fact(
            "Transactions sent",
            summary.shown_or_dash(&t("sent"), count),
        ),
        fact("Included", summary.shown_or_dash(&t("included"), count)),
        fact("Reverted", summary.shown_or_dash(&t("reverted"), count)),
        alarm_fact(
            "Dropped, expired",
            summary.shown_or_dash(&t("dropped_expired"), count),
        ),
        alarm_fact(
            "Dropped, gas budget",
            summary.shown_or_dash(&t("dropped_gas_budget"), count),
        ),
        fact("Gas spent", summary.usd(&["chain", "gas_usd"])),
        fact(
            "Highest gas price",
            summary.shown_or_dash(&["chain", "gas_gwei_max"], |v| format!("{} gwei", price(v))),
        ),
    ]));
    Ok(Some(section))
}

fn depth(timeline: &Csv, clock: &Clock) -> Result<Option<Section>, ReportError> {
    let venues = timeline.columns_with("depth_");
    if venues.is_empty() {
        return Ok(None);
    }
    let mut section = Section::new("depth", "Market depth");
    let mut series = Vec::new();
    for (i, v) in venues.iter().enumerate() {
        let d = timeline.require(&format!("depth_{v}"))?;
        series.push(Series::new(v.clone(), clock.points(&d), Mark::Line, i));
    }
    let chart = Plot {
        title: "Depth the market makers quote".into(),
        x_label: clock.unit.into(),
        x_span: clock.span(),
        y_label: "fraction of the full book".into(),
        series,
        y_from_zero: true,
        ..Plot::default()
    }
    .render("depth");
    push_chart(
        &mut section,
        chart,
        "Market makers thin their quotes as volatility rises: 1 is the full book.",
    )?;
    Ok(Some(section))
}

fn indicator(timeline: &Csv, clock: &Clock) -> Result<Option<Section>, ReportError> {
    let assets = timeline.columns_with("m_");
    if assets.is_empty() {
        return Ok(None);
    }
    let mut section = Section::new("indicator", "Leading indicator m(t)");
    let mut series = Vec::new();
    for (i, a) in assets.iter().enumerate() {
        let m = timeline.require(&format!("m_{a}"))?;
        series.push(Series::new(a.clone(), clock.points(&m), Mark::Line, i));
    }
    let chart = Plot {
        title: "Feedback gain of the book as it stands".into(),
        x_label: clock.unit.into(),
        x_span: clock.span(),
        y_label: "m".into(),
        series,
        y_rules: vec![Rule {
            at: 1.0,
            label: "m = 1: a further fall feeds itself".into(),
            colour: 1,
        }],
        y_from_zero: true,
        ..Plot::default()
    }
    .render("indicator");
    push_chart(
        &mut section,
        chart,
        "m(t): the units a further 1% fall would force onto the venue over the units that move \
         its price 1% now. Above 1 a cascade sustains itself.",
    )?;
    Ok(Some(section))
}

fn protocols(summary: &Json) -> Section {
    let mut section = Section::new("protocols", "Protocols");
    let mut table = Table {
        head: [
            "protocol",
            "liquidations",
            "accounts liquidated",
            "accounts",
            "debt at start",
            "debt repaid",
            "bad debt",
            "insurance drew",
            "socialised loss",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for name in summary.keys(&["protocols"]) {
        let p = |k: &'static str| -> Vec<&str> { vec!["protocols", &name, k] };
        table.rows.push(Row {
            id: None,
            cells: vec![
                Shown::text(name.clone()),
                summary.shown_or_dash(&p("liquidations"), count),
                summary.shown_or_dash(&p("accounts_liquidated"), count),
                summary.shown_or_dash(&p("accounts"), count),
                summary.usd(&p("initial_debt_usd")),
                summary.usd(&p("debt_repaid_usd")),
                summary.usd(&p("bad_debt_usd")),
                summary.usd(&["protocols", &name, "insurance_fund", "drawn_usd"]),
                summary.usd(&p("socialised_loss_usd")),
            ],
        });
    }
    section.push(Block::Table(table));
    section
}

fn auctions(summary: &Json) -> Option<Section> {
    let names: Vec<String> = summary
        .keys(&["protocols"])
        .into_iter()
        .filter(|n| summary.get(&["protocols", n, "auctions"]).is_some())
        .collect();
    if names.is_empty() {
        return None;
    }
    let mut section = Section::new("auctions", "Auctions");
    let mut table = Table {
        head: [
            "protocol",
            "kicked",
            "taken",
            "bids",
            "running at the end",
            "won near zero",
            "share won near zero",
            "collateral won near zero",
            "incentives paid",
            "penalty raised",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for name in &names {
        let a = |k: &'static str| -> Vec<&str> { vec!["protocols", name, "auctions", k] };
        table.rows.push(Row {
            id: None,
            cells: vec![
                Shown::text(name.clone()),
                summary.shown_or_dash(&a("kicked"), count),
                summary.shown_or_dash(&a("taken"), count),
                summary.shown_or_dash(&a("bids"), count),
                summary.shown_or_dash(&a("running_at_end"), count),
                summary.shown_or_dash(&a("won_near_zero"), count),
                summary.shown_or_dash(&a("won_near_zero_share"), percent),
                summary.usd(&a("collateral_won_near_zero_usd")),
                summary.usd(&a("incentives_usd")),
                summary.usd(&a("penalty_raised_usd")),
            ],
        });
    }
    section.push(Block::Text(
        "A lot won near zero went for under 1% of its collateral's market value: the sign of a \
         lone bidder facing no competition (Black Thursday's zero-DAI bids)."
            .into(),
    ));
    section.push(Block::Table(table));
    Some(section)
}

/// Protocols that check their oracles' age: how long a price was stale, how long they paused
/// or fell back, and the liquidations they paused (`protocols.<NAME>.oracle_staleness`).
fn staleness(summary: &Json) -> Option<Section> {
    let names: Vec<String> = summary
        .keys(&["protocols"])
        .into_iter()
        .filter(|n| summary.get(&["protocols", n, "oracle_staleness"]).is_some())
        .collect();
    if names.is_empty() {
        return None;
    }
    let mut section = Section::new("staleness", "Oracle staleness");
    let mut table = Table {
        head: [
            "protocol",
            "max age (s)",
            "stale (s)",
            "paused (s)",
            "fallback (s)",
            "liquidations paused",
            "oldest price (s)",
            "first stale (s)",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for name in &names {
        let s = |k: &'static str| -> Vec<&str> { vec!["protocols", name, "oracle_staleness", k] };
        table.rows.push(Row {
            id: None,
            cells: vec![
                Shown::text(name.clone()),
                summary.shown_or_dash(&s("max_age_seconds"), count),
                summary.shown_or_dash(&s("stale_seconds"), count),
                summary.shown_or_dash(&s("paused_seconds"), count),
                summary.shown_or_dash(&s("fallback_seconds"), count),
                summary.shown_or_dash(&s("liquidations_paused"), count),
                summary.shown_or_dash(&s("oldest_price_seconds"), count),
                summary.shown_or_dash(&s("first_stale_seconds"), count),
            ],
        });
    }
    section.push(Block::Text(
        "A price older than the protocol's maximum age is stale: the protocol pauses the \
         liquidations that need it, or prices the asset by its fallback oracle while that one \
         is fresh (docs/reference-math.md §9.4). Seconds count whole steps."
            .into(),
    ));
    section.push(Block::Table(table));
    Some(section)
}

fn keepers(summary: &Json) -> Option<Section> {
    let names = summary.keys(&["keepers"]);
    if names.is_empty() {
        return None;
    }
    let mut section = Section::new("keepers", "Keepers");
    let mut table = Table {
        head: [
            "keeper",
            "liquidations",
            "spent",
            "received",
            "realised profit",
            "incentives",
            "gas spent",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    // Keepers bidding in priority gas auctions: their contests and profit net of gas.
    let auctions = names
        .iter()
        .any(|name| summary.get(&["keepers", name, "gas_auctions"]).is_some());
    if auctions {
        table.head.extend(
            [
                "gas auctions won",
                "lost",
                "reverted",
                "gas reverted",
                "profit net of gas",
            ]
            .map(String::from),
        );
    }
    for name in &names {
        let k = |f: &'static str| -> Vec<&str> { vec!["keepers", name, f] };
        let mut cells = vec![
            Shown::text(name.clone()),
            summary.shown_or_dash(&k("liquidations"), count),
            summary.usd(&k("spent_usd")),
            summary.usd(&k("received_usd")),
            summary.usd(&k("realised_profit_usd")),
            summary.usd(&k("incentives_usd")),
            summary.usd(&k("gas_spent_usd")),
        ];
        if auctions {
            let a = |f: &'static str| -> Vec<&str> { vec!["keepers", name, "gas_auctions", f] };
            cells.extend([
                summary.shown_or_dash(&a("won"), count),
                summary.shown_or_dash(&a("lost"), count),
                summary.shown_or_dash(&a("reverted"), count),
                summary.usd(&a("gas_reverted_usd")),
                summary.usd(&a("profit_net_of_gas_usd")),
            ]);
        }
        table.rows.push(Row { id: None, cells });
    }
    section.push(Block::Table(table));
    Some(section)
}

fn walls(summary: &Json) -> Section {
    let mut section = Section::new("walls", "Walls and feedback");
    section.push(Block::Text(
        "The nearest wall is the first band of liquidation prices below the start; m is the \
         feedback gain (units a 1% fall forces onto the venue over the units that move it 1%); \
         the spiral price is where m first reaches 1 on the way down. `cascade map` draws the \
         whole range."
            .into(),
    ));
    let mut facts = Vec::new();
    for symbol in summary.keys(&["cascade", "nearest_wall"]) {
        let c = |k: &'static str| -> Vec<&str> { vec!["cascade", k, &symbol] };
        facts.push(fact(
            format!("{symbol}: nearest wall, top"),
            summary.shown_or_dash(&["cascade", "nearest_wall", &symbol, "price_high"], price),
        ));
        facts.push(fact(
            format!("{symbol}: nearest wall, collateral"),
            summary.usd(&["cascade", "nearest_wall", &symbol, "collateral_usd"]),
        ));
        facts.push(fact(
            format!("{symbol}: largest m"),
            summary.shown_or_dash(&["cascade", "feedback_gain_max", &symbol, "m"], |v| {
                format!("{v:.3}")
            }),
        ));
        facts.push(alarm_fact(
            format!("{symbol}: spiral from"),
            summary.shown_or_dash(&c("spiral_price"), price),
        ));
    }
    if facts.is_empty() {
        section.push(Block::Text(
            "No asset has a venue: no walls to show.".into(),
        ));
    } else {
        section.push(Block::Facts(facts));
    }
    section
}

fn warnings(summary: &Json) -> Option<Section> {
    let warnings: Vec<String> = summary
        .get(&["warnings"])
        .and_then(|w| w.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|w| w.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if warnings.is_empty() {
        return None;
    }
    let mut section = Section::new("warnings", "Warnings");
    for w in warnings {
        section.push(Block::Warning(w));
    }
    Some(section)
}
