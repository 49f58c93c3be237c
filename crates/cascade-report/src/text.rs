//! The human summary printed by `cascade run`.

use std::io::{self, Write};

use cascade_analytics::Summary;

fn usd(value: f64) -> String {
    let negative = value < 0.0;
    let whole = value.abs().round() as u128;
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}{grouped} USD", if negative { "-" } else { "" })
}

fn percent(fraction: f64) -> String {
    format!("{:.2}%", fraction * 100.0)
}

/// Where the walls are for `symbol`: the nearest wall below the start and its depth, the
/// largest m and where, and the spiral threshold; `None` when nothing is liquidated in a fall.
fn walls_line(summary: &Summary, symbol: &str) -> Option<String> {
    let c = &summary.cascade;
    let wall = c.nearest_wall.get(symbol)?;
    let start = summary.assets.get(symbol).map_or(0.0, |a| a.start_price);
    let below = |p: f64| {
        if start > 0.0 {
            format!(" ({:+.1}%)", (p / start - 1.0) * 100.0)
        } else {
            String::new()
        }
    };
    let wall = wall.map_or("no wall below".to_string(), |w| {
        format!(
            "nearest wall {:.2}–{:.2}{}: {:.1} units, {} of collateral",
            w.price_high,
            w.price_low,
            below(w.price_high),
            w.collateral_units,
            usd(w.collateral_usd)
        )
    });
    let gain = match c.feedback_gain_max.get(symbol) {
        Some(Some(g)) => format!("; max m {:.3} at {:.2}", g.m, g.price),
        Some(None) => "; m 0 everywhere".to_string(),
        None => String::new(),
    };
    let spiral = match c.spiral_price.get(symbol) {
        Some(Some(p)) => format!("; spiral (m ≥ 1) from {p:.2}{}", below(*p)),
        Some(None) => "; no spiral (m < 1)".to_string(),
        None => String::new(),
    };
    Some(format!("{wall}{gain}{spiral}"))
}

/// Whether the printed summary is coloured: headings in bold, bad debt in red when there is
/// some. A caller decides (`cascade` colours a terminal unless `NO_COLOR` is set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colour {
    /// Plain text (files, pipes, `NO_COLOR`).
    Never,
    /// ANSI styles.
    Always,
}

impl Colour {
    /// `text` in bold.
    fn heading(self, text: &str) -> String {
        self.styled("\x1b[1m", text)
    }

    /// `text` in red when `alarming`.
    fn alarm(self, text: &str, alarming: bool) -> String {
        if alarming {
            self.styled("\x1b[1;31m", text)
        } else {
            text.to_string()
        }
    }

    fn styled(self, style: &str, text: &str) -> String {
        match self {
            Self::Never => text.to_string(),
            Self::Always => format!("{style}{text}\x1b[0m"),
        }
    }
}

/// Writes a readable summary of a run, plain.
///
/// # Errors
/// IO errors of the writer.
pub fn write_text(summary: &Summary, out: &mut impl Write) -> io::Result<()> {
    write_text_in(summary, out, Colour::Never)
}

/// [`write_text`], coloured or not.
///
/// # Errors
/// IO errors of the writer.
pub fn write_text_in(summary: &Summary, out: &mut impl Write, colour: Colour) -> io::Result<()> {
    let s = &summary.scenario;
    writeln!(
        out,
        "cascade · {} (seed {}, {} steps of {} s)",
        s.name, s.seed, s.steps, s.step_seconds
    )?;
    if let Some(d) = &s.description {
        writeln!(out, "  {d}")?;
    }
    writeln!(out, "  scenario hash {}", &s.hash[..s.hash.len().min(16)])?;
    writeln!(out)?;
    writeln!(
        out,
        "{} (drops are largest drawdowns; max m: the largest feedback gain below the start)",
        colour.heading("Prices on the primary venue")
    )?;
    writeln!(
        out,
        "  {:<8} {:>12} {:>12} {:>12} {:>10} {:>10} {:>8} {:>8}",
        "asset", "start", "min", "final", "exog.drop", "total", "ampl.", "max m"
    )?;
    for (symbol, a) in &summary.assets {
        let gain = summary
            .cascade
            .feedback_gain_max
            .get(symbol)
            .map_or("-".to_string(), |g| {
                format!("{:.3}", g.map_or(0.0, |g| g.m))
            });
        writeln!(
            out,
            "  {:<8} {:>12.2} {:>12.2} {:>12.2} {:>10} {:>10} {:>8} {:>8}",
            symbol,
            a.start_price,
            a.min_price,
            a.final_price,
            percent(a.exogenous_drop),
            percent(a.total_drop),
            a.amplification
                .map_or("-".to_string(), |x| format!("{x:.2}×")),
            gain,
        )?;
    }
    for symbol in summary.assets.keys() {
        if let Some(line) = walls_line(summary, symbol) {
            writeln!(out, "  {symbol:<8} {line}")?;
        }
    }
    for (symbol, a) in &summary.assets {
        // Shown when the run was about a rise (a squeeze), not for a rebound after a fall.
        if a.exogenous_rise > a.exogenous_drop || a.total_rise > a.total_drop {
            writeln!(
                out,
                "  {symbol:<8} rises: exogenous {}, total {} (max {:.2}){}{}",
                percent(a.exogenous_rise),
                percent(a.total_rise),
                a.max_price,
                a.amplification_rise
                    .map_or(String::new(), |x| format!(", amplification {x:.2}×")),
                summary.cascade.feedback_gain_max_up.get(symbol).map_or(
                    String::new(),
                    |g| format!(
                        ", max m {:.3}{}",
                        g.map_or(0.0, |g| g.m),
                        summary
                            .cascade
                            .spiral_price_up
                            .get(symbol)
                            .copied()
                            .flatten()
                            .map_or(String::new(), |p| format!(", spiral above {p:.2}"))
                    )
                )
            )?;
        }
    }
    for (venue, v) in &summary.venues {
        writeln!(
            out,
            "  {venue} quoted by market makers: depth min {}, final {} of the book; max daily volatility {} ({} changes)",
            percent(v.min_depth_fraction),
            percent(v.final_depth_fraction),
            percent(v.max_daily_volatility),
            v.depth_changes
        )?;
    }
    writeln!(out)?;
    let l = &summary.liquidations;
    writeln!(out, "{}", colour.heading("Liquidations"))?;
    writeln!(out, "  calls               {}", l.count)?;
    // Debt, seizures and keepers' sales are lending figures: a scenario of perp exchanges only
    // has none, and its closes are told under each exchange below.
    let lending = summary.protocols.values().any(|p| p.perp.is_none());
    if lending {
        writeln!(out, "  debt repaid         {}", usd(l.debt_repaid_usd))?;
        for (symbol, units) in &l.collateral_seized {
            writeln!(out, "  seized {symbol:<12} {units:.4} units")?;
        }
        writeln!(out, "  sale proceeds       {}", usd(l.sale_proceeds_usd))?;
        writeln!(out, "  slippage            {}", usd(l.slippage_usd))?;
    }
    for (symbol, units) in &l.collateral_unsold {
        writeln!(out, "  unsold {symbol:<12} {units:.4} units (no bids left)")?;
    }
    if l.missed > 0 {
        writeln!(
            out,
            "  missed              {} (liquidatable, no keeper could or would act)",
            l.missed
        )?;
    }
    writeln!(
        out,
        "  cascade rounds      max {} in one step, {} steps with liquidations",
        summary.cascade.rounds_max, summary.cascade.steps_with_liquidations
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{}             {} (realised {}, unrealised {})",
        colour.heading("Bad debt"),
        colour.alarm(&usd(summary.bad_debt_usd), summary.bad_debt_usd > 0.0),
        usd(summary.bad_debt_realised_usd),
        usd(summary.bad_debt_unrealised_usd)
    )?;
    if summary.insurance_drawn_usd > 0.0 || summary.socialised_loss_usd > 0.0 {
        // The gross figure above; who absorbed it (docs/outputs.md, "Bad debt").
        writeln!(
            out,
            "  net of insurance   {} (insurance funds drew {}; socialised onto suppliers or \
             traders in profit {})",
            usd((summary.bad_debt_usd - summary.insurance_drawn_usd).max(0.0)),
            usd(summary.insurance_drawn_usd),
            usd(summary.socialised_loss_usd)
        )?;
    }
    for (name, p) in &summary.protocols {
        writeln!(
            out,
            "  {name}: {} of {} accounts liquidated ({} calls), bad debt {}",
            p.accounts_liquidated,
            p.accounts,
            p.liquidations,
            usd(p.bad_debt_usd)
        )?;
    }
    for (name, p) in &summary.protocols {
        if let Some(fund) = &p.insurance_fund {
            write!(
                out,
                "  {name} insurance fund: {} → {} (drew {}, paid in {})",
                usd(fund.start_usd),
                usd(fund.final_usd),
                usd(fund.drawn_usd),
                usd(fund.paid_in_usd)
            )?;
            if p.socialised_loss_usd > 0.0 {
                write!(out, ", socialised {}", usd(p.socialised_loss_usd))?;
            }
            if let Some(needed) = p.debt_auction_lots_needed {
                write!(
                    out,
                    ", debt-auction lots {} (needed {needed})",
                    p.debt_auction_lots
                )?;
            }
            if p.uncovered_deficit_usd > 0.0 {
                write!(out, ", uncovered {}", usd(p.uncovered_deficit_usd))?;
            }
            writeln!(out)?;
        }
    }
    for (name, p) in &summary.protocols {
        let Some(perp) = &p.perp else {
            continue;
        };
        writeln!(
            out,
            "  {name} perps: {} longs ({}) and {} shorts ({}) closed, {} slices, {} deleveraged",
            perp.liquidations_long,
            usd(perp.liquidated_long_usd),
            perp.liquidations_short,
            usd(perp.liquidated_short_usd),
            perp.slices,
            perp.deleveraged_closes
        )?;
        if perp.adl.events > 0 {
            writeln!(
                out,
                "  {name} auto-deleveraging: {} across {} accounts",
                usd(perp.adl.notional_usd),
                perp.adl.accounts_hit
            )?;
        }
        if let Some(v) = &perp.vault {
            writeln!(
                out,
                "  {name} vault: {} takeovers ({}), profit and loss {}",
                v.takeovers,
                usd(v.notional_usd),
                usd(v.pnl_usd)
            )?;
        }
        if perp.funding.payments > 0 {
            writeln!(
                out,
                "  {name} funding: {} payments, longs paid {}",
                perp.funding.payments,
                usd(perp.funding.longs_paid_usd)
            )?;
        }
    }
    for (name, k) in &summary.keepers {
        writeln!(
            out,
            "  keeper {name}: {} calls, realised profit {}",
            k.liquidations,
            usd(k.realised_profit_usd)
        )?;
    }
    if let Some(a) = &summary.attribution {
        write_attribution(a, out, colour)?;
    }
    // Validation warnings are not repeated here: the command prints them on standard error
    // when it loads the scenario, and summary.json keeps them.
    Ok(())
}

/// The attribution section: per source, its share of each asset's fall and of the bad debt, then
/// whose bad debt each source's trades caused.
fn write_attribution(
    a: &cascade_analytics::attribution::Attribution,
    out: &mut impl Write,
    colour: Colour,
) -> io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "{} (Shapley shares over {} counterfactual runs; the rest is the run with every forced \
         trade muted)",
        colour.heading("Who caused what"),
        a.runs
    )?;
    for (symbol, drop) in &a.total_drop {
        if drop.total == 0.0 {
            continue;
        }
        let parts: Vec<String> = drop
            .by_source
            .iter()
            .map(|(name, share)| format!("{name} {}", percent(*share)))
            .collect();
        writeln!(
            out,
            "  {symbol} fall {}: without forced trades {}, {}",
            percent(drop.total),
            percent(drop.without_forced_trades),
            parts.join(", ")
        )?;
    }
    let debt = |shares: &cascade_analytics::attribution::Shares| -> String {
        shares
            .by_source
            .iter()
            .map(|(name, share)| format!("{name} {}", usd(*share)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    writeln!(
        out,
        "  bad debt {}: without forced trades {}, {}",
        usd(a.bad_debt_usd.total),
        usd(a.bad_debt_usd.without_forced_trades),
        debt(&a.bad_debt_usd)
    )?;
    for (name, shares) in &a.protocols {
        if shares.total == 0.0 && shares.without_forced_trades == 0.0 {
            continue;
        }
        writeln!(
            out,
            "    of {name}'s {}: without forced trades {}, {}",
            usd(shares.total),
            usd(shares.without_forced_trades),
            debt(shares)
        )?;
    }
    Ok(())
}
