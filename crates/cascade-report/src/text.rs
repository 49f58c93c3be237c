//! The human summary printed by `cascade run`: the prices, the liquidations and the bad debt
//! (gross, and net of insurance where a fund covered some), then one section per mechanism that
//! acted — auctions, backstop vaults, Compound III absorbs, Stability Pools, perp exchanges —
//! the owners who acted, the chain's blocks and transactions, and the keepers. A section that
//! does not apply to the run is left out.

mod chain;
mod mechanisms;

use std::collections::BTreeMap;
use std::io::{self, Write};

use cascade_analytics::Summary;

/// `value` rounded to a whole number, with thousands separated by commas (`-1,234`).
fn grouped(value: f64) -> String {
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
    format!("{}{grouped}", if negative { "-" } else { "" })
}

/// A USD amount, whole dollars with thousands separated (`-3,842,324 USD`).
pub(crate) fn usd(value: f64) -> String {
    format!("{} USD", grouped(value))
}

fn percent(fraction: f64) -> String {
    format!("{:.2}%", fraction * 100.0)
}

/// Units per asset, `53564.4 ETH, 2.0 WBTC`; `nothing` when there are none.
fn units(per_asset: &BTreeMap<String, f64>) -> String {
    if per_asset.is_empty() {
        return "nothing".to_string();
    }
    per_asset
        .iter()
        .map(|(symbol, units)| format!("{units:.1} {symbol}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A line of a section: its label in a column, then what it says.
fn row(label: &str, text: &str) -> String {
    format!("  {label:<19} {text}")
}

/// A section: a blank line, its heading, its lines; nothing when it has no lines.
fn write_section(
    out: &mut impl Write,
    colour: Colour,
    heading: &str,
    lines: &[String],
) -> io::Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "{}", colour.heading(heading))?;
    lines.iter().try_for_each(|line| writeln!(out, "{line}"))
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
    write_header(summary, out)?;
    write_prices(summary, out, colour)?;
    write_liquidations(summary, out, colour)?;
    write_bad_debt(summary, out, colour)?;
    for (heading, lines) in [
        ("Auctions", mechanisms::auctions(summary, colour)),
        ("Backstop vaults", mechanisms::backstops(summary, colour)),
        ("Compound III absorbs", mechanisms::comets(summary)),
        ("Stability Pools", mechanisms::stability_pools(summary)),
        ("Perp exchanges", mechanisms::perps(summary, colour)),
        ("Oracle staleness", oracle_staleness(summary, colour)),
        ("Owners", chain::owners(summary, colour)),
        ("Chain", chain::chain(summary, colour)),
        ("Keepers", keepers(summary)),
    ] {
        write_section(out, colour, heading, &lines)?;
    }
    if let Some(a) = &summary.attribution {
        write_attribution(a, out, colour)?;
    }
    // Validation warnings are not repeated here: the command prints them on standard error
    // when it loads the scenario, and summary.json keeps them.
    Ok(())
}

/// The scenario's name, seed, steps, description and hash.
fn write_header(summary: &Summary, out: &mut impl Write) -> io::Result<()> {
    let s = &summary.scenario;
    writeln!(
        out,
        "cascade · {} (seed {}, {} steps of {} s)",
        s.name, s.seed, s.steps, s.step_seconds
    )?;
    if let Some(d) = &s.description {
        writeln!(out, "  {d}")?;
    }
    writeln!(out, "  scenario hash {}", &s.hash[..s.hash.len().min(16)])
}

/// The prices section: a row per asset, its walls, its rise when it rose, and the venues quoted
/// by market makers.
fn write_prices(summary: &Summary, out: &mut impl Write, colour: Colour) -> io::Result<()> {
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
            writeln!(out, "  {symbol:<8} {}", rises_line(summary, symbol, a))?;
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
    Ok(())
}

/// How `symbol` rose: exogenous and total rise, the highest price, the amplification and the
/// largest m of a rise with its spiral threshold.
fn rises_line(
    summary: &Summary,
    symbol: &str,
    a: &cascade_analytics::summary::AssetSummary,
) -> String {
    format!(
        "rises: exogenous {}, total {} (max {:.2}){}{}",
        percent(a.exogenous_rise),
        percent(a.total_rise),
        a.max_price,
        a.amplification_rise
            .map_or(String::new(), |x| format!(", amplification {x:.2}×")),
        summary
            .cascade
            .feedback_gain_max_up
            .get(symbol)
            .map_or(String::new(), |g| format!(
                ", max m {:.3}{}",
                g.map_or(0.0, |g| g.m),
                summary
                    .cascade
                    .spiral_price_up
                    .get(symbol)
                    .copied()
                    .flatten()
                    .map_or(String::new(), |p| format!(", spiral above {p:.2}"))
            ))
    )
}

/// The liquidations section: calls, and for lending protocols what was repaid, seized and sold
/// and what keepers earned beyond the debt; collateral left unsold, calls missed, cascade rounds.
fn write_liquidations(summary: &Summary, out: &mut impl Write, colour: Colour) -> io::Result<()> {
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
    if l.bonus_usd != 0.0 {
        writeln!(
            out,
            "  bonus to keepers    {} (collateral at the protocols' prices − debt repaid)",
            usd(l.bonus_usd)
        )?;
    }
    let incentives: f64 = summary.keepers.values().map(|k| k.incentives_usd).sum();
    if incentives > 0.0 {
        writeln!(
            out,
            "  incentives paid     {} (auction tips and chips, gas compensation)",
            usd(incentives)
        )?;
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
    )
}

/// The bad debt, gross and net of insurance, a line per protocol and per insurance fund.
fn write_bad_debt(summary: &Summary, out: &mut impl Write, colour: Colour) -> io::Result<()> {
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
            writeln!(out, "  {name} insurance fund: {}", insurance_line(p, fund))?;
        }
    }
    Ok(())
}

/// An insurance fund's path, what it drew and was paid, and what it left to others.
fn insurance_line(
    p: &cascade_analytics::summary::ProtocolSummary,
    fund: &cascade_analytics::summary::InsuranceSummary,
) -> String {
    let mut line = format!(
        "{} → {} (drew {}, paid in {})",
        usd(fund.start_usd),
        usd(fund.final_usd),
        usd(fund.drawn_usd),
        usd(fund.paid_in_usd)
    );
    if p.socialised_loss_usd > 0.0 {
        line += &format!(", socialised {}", usd(p.socialised_loss_usd));
    }
    if let Some(needed) = p.debt_auction_lots_needed {
        line += &format!(
            ", debt-auction lots {} (needed {needed})",
            p.debt_auction_lots
        );
    }
    if p.uncovered_deficit_usd > 0.0 {
        line += &format!(", uncovered {}", usd(p.uncovered_deficit_usd));
    }
    line
}

/// The oracle staleness section: a line per protocol that checks its oracles' age — how long a
/// price it reads was stale, how long it paused or fell back, the liquidations it paused and the
/// oldest price it found, against its maximum age.
fn oracle_staleness(summary: &Summary, colour: Colour) -> Vec<String> {
    summary
        .protocols
        .iter()
        .filter_map(|(name, p)| {
            let s = p.oracle_staleness.as_ref()?;
            let seconds = |n: u64| format!("{} s", grouped(n as f64));
            let mut text = format!(
                "stale {} (paused {}, fallback {}), {} paused",
                colour.alarm(&seconds(s.stale_seconds), s.stale_seconds > 0),
                seconds(s.paused_seconds),
                seconds(s.fallback_seconds),
                colour.alarm(
                    &format!("{} liquidations", grouped(s.liquidations_paused as f64)),
                    s.liquidations_paused > 0
                ),
            );
            if s.stale_seconds > 0 {
                text += &format!(", oldest price {}", seconds(s.oldest_price_seconds));
            }
            text += &format!(
                " (max age {}, on stale {})",
                seconds(s.max_age_seconds),
                s.on_stale
            );
            Some(row(name, &text))
        })
        .collect()
}

/// The keepers section: a line per keeper — calls, realised profit, and the incentives and gas
/// it was paid or paid when there were any; its gas auctions and profit net of gas when keepers
/// bid in them.
fn keepers(summary: &Summary) -> Vec<String> {
    summary
        .keepers
        .iter()
        .map(|(name, k)| {
            let mut text = format!(
                "{} calls, realised profit {}",
                k.liquidations,
                usd(k.realised_profit_usd)
            );
            if k.incentives_usd > 0.0 {
                text += &format!(", incentives {}", usd(k.incentives_usd));
            }
            if let Some(gas) = k.gas_spent_usd {
                text += &format!(", gas {}", usd(gas));
            }
            if let Some(a) = &k.gas_auctions {
                text += &format!(
                    "; gas auctions {} won, {} lost ({} included), {} reverted ({} of gas); \
                     profit net of gas {}",
                    a.won,
                    a.lost,
                    a.lost_included,
                    a.reverted,
                    usd(a.gas_reverted_usd),
                    usd(a.profit_net_of_gas_usd)
                );
            }
            row(name, &text)
        })
        .collect()
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
