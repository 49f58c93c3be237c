//! Building perp exchanges (`[[protocols]]` with `kind = "perp"`), their markets and their
//! generated positions, and resolving a section's kind and preset.

use std::collections::HashMap;

use cascade_engine::{OracleInfo, PerpInfo, PerpMarketInfo, VenueInfo};
use cascade_model::ids::{AssetId, MarketId, OracleId, PerpId, VenueId};
use cascade_model::oracle::Oracle;
use cascade_model::perp::account::{MarginMode, PerpAccount, PerpPosition};
use cascade_model::perp::params::{
    AdlAllocation, AdlPrice, AdlRanking, AdlRule, CloseOut, DeficitRule, MaintenanceBasis,
    MarkRule, PerpMarketParams, PerpParams, SliceCooldown, Slicing, VaultParams,
};
use cascade_model::perp::{MarginTable, TableError, hyperliquid_maintenance_rate};
use cascade_model::venue::Venue;

use super::{Builder, MAX_GENERATED_POSITIONS, root};
use crate::data;
use crate::error::InputError;
use crate::generate::{self, PerpPopulation, PerpTarget};
use crate::path::FieldPath;
use crate::preset::{self, PerpPreset, Preset, PresetKind};
use crate::schema::{
    InsuranceSection, MarketSection, PerpSection, PositionsSection, ProtocolSection,
};

/// What a `[[protocols]]` section describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProtocolKind {
    /// A lending protocol (also CDPs and options vaults).
    Lending,
    /// A perpetual-swap exchange.
    Perp,
}

/// The kind a section declares, or its preset implies; `None` when neither resolves.
pub(crate) fn section_kind(p: &ProtocolSection) -> Option<ProtocolKind> {
    match p.kind.as_deref() {
        Some("lending") => Some(ProtocolKind::Lending),
        Some("perp") => Some(ProtocolKind::Perp),
        Some(_) => None,
        None => match p.preset.as_deref().and_then(preset::find)?.kind {
            PresetKind::Lending(_) => Some(ProtocolKind::Lending),
            PresetKind::Perp(_) => Some(ProtocolKind::Perp),
        },
    }
}

/// Inputs the perp builder reads from the rest of the scenario.
pub(crate) struct PerpContext<'c> {
    pub asset_ids: &'c HashMap<String, AssetId>,
    pub venue_ids: &'c HashMap<String, VenueId>,
    pub venues: &'c [(VenueInfo, Venue)],
    pub oracle_ids: &'c HashMap<String, OracleId>,
    pub oracles: &'c [(OracleInfo, Oracle)],
    pub start_prices: &'c [f64],
    /// The scenario's master seed (generated positions draw from streams derived from it).
    pub seed: u64,
}

impl Builder<'_> {
    /// The section's kind and preset, reporting an unknown kind or preset, or a preset of
    /// another kind.
    pub(crate) fn protocol_kind(
        &mut self,
        at: &FieldPath,
        p: &ProtocolSection,
    ) -> (Option<ProtocolKind>, Option<&'static Preset>) {
        let preset = match p.preset.as_deref() {
            None => None,
            Some(name) => {
                let found = preset::find(name);
                if found.is_none() {
                    self.fail(
                        &at.key("preset"),
                        format!("{name:?}"),
                        format!(
                            "unknown preset; expected one of {} (`cascade presets` lists them)",
                            preset::names()
                        ),
                    );
                }
                found
            }
        };
        let kind = section_kind(p);
        match (p.kind.as_deref(), kind) {
            (Some(other), None) => self.fail(
                &at.key("kind"),
                format!("{other:?}"),
                "unknown protocol kind; expected lending or perp",
            ),
            (None, None) if preset.is_none() && p.preset.is_none() => self.fail_bare(
                &at.key("kind"),
                "missing: expected kind = \"lending\" or \"perp\" (or a preset)",
            ),
            _ => {}
        }
        if let (Some(kind), Some(found)) = (kind, preset) {
            let preset_kind = match found.kind {
                PresetKind::Lending(_) => ProtocolKind::Lending,
                PresetKind::Perp(_) => ProtocolKind::Perp,
            };
            if kind != preset_kind {
                let name = |k: ProtocolKind| match k {
                    ProtocolKind::Lending => "lending",
                    ProtocolKind::Perp => "perp",
                };
                self.fail(
                    &at.key("preset"),
                    format!("{:?}", found.name),
                    format!(
                        "is a {} preset, and this protocol is kind = \"{}\"",
                        name(preset_kind),
                        name(kind)
                    ),
                );
            }
        }
        (kind, preset)
    }

    /// Every perp exchange of the file, in file order, with its name → id map.
    pub(crate) fn perps(
        &mut self,
        sections: &[ProtocolSection],
        cx: &PerpContext<'_>,
    ) -> (Vec<PerpInfo>, HashMap<String, PerpId>) {
        let mut out = Vec::new();
        let mut ids = HashMap::new();
        for (i, p) in sections.iter().enumerate() {
            if section_kind(p) != Some(ProtocolKind::Perp) {
                continue;
            }
            let at = root().key("protocols").at(i);
            let preset = match p.preset.as_deref().and_then(preset::find).map(|p| p.kind) {
                Some(PresetKind::Perp(perp)) => Some(perp),
                _ => None,
            };
            for (field, present) in [
                ("liquidation", p.liquidation.is_some()),
                ("collateral", p.collateral.is_some()),
                ("oracles", !p.oracles.is_empty()),
                ("epoch_seconds", p.epoch_seconds.is_some()),
                ("oracle_staleness", p.oracle_staleness.is_some()),
                (
                    "liquidation_limit_usd_per_step",
                    p.liquidation_limit_usd_per_step.is_some(),
                ),
            ] {
                if present {
                    self.fail_written(
                        &at.key(field),
                        "does not apply to kind = \"perp\" (markets name their oracles)",
                    );
                }
            }
            let (fund, deficit) = self.perp_insurance(&at.key("insurance"), p.insurance.as_ref());
            let params = self.perp_params(
                &at.key("perp"),
                &p.perp.clone().unwrap_or_default(),
                preset,
                fund,
                deficit,
            );
            if p.markets.is_empty() {
                self.fail_bare(
                    &at.key("markets"),
                    "missing: a perp exchange needs at least one [[protocols.markets]]",
                );
            }
            let maintenance_on = self.maintenance_basis(&at.key("perp"), p.perp.as_ref(), preset);
            let mut markets = Vec::new();
            let mut rules = Vec::new();
            let mut seen = HashMap::new();
            for (m, section) in p.markets.iter().enumerate() {
                let mat = at.key("markets").at(m);
                self.unique(&mut seen, &mat.key("asset"), &section.asset, "market asset");
                match self.market(&mat, section, preset, cx) {
                    Some((info, rule)) => {
                        markets.push(info);
                        rules.push(PerpMarketParams {
                            maintenance_on,
                            ..rule
                        });
                    }
                    // Reported; later markets would shift, so the exchange keeps none.
                    None => {
                        markets.clear();
                        rules.clear();
                        break;
                    }
                }
            }
            ids.insert(p.name.clone(), PerpId(out.len() as u32));
            out.push(PerpInfo {
                name: p.name.clone(),
                params,
                markets,
                rules,
                account_labels: Vec::new(),
            });
        }
        (out, ids)
    }

    /// The fund and the shortfall rule of an exchange: `insurance.fund_usd`, and
    /// `insurance.shortfall` = adl (default), socialise or none.
    fn perp_insurance(
        &mut self,
        at: &FieldPath,
        insurance: Option<&InsuranceSection>,
    ) -> (f64, DeficitRule) {
        let Some(i) = insurance else {
            return (0.0, DeficitRule::AutoDeleverage);
        };
        self.check(
            &at.key("fund_usd"),
            i.fund_usd,
            i.fund_usd >= 0.0,
            "USD ≥ 0",
        );
        let deficit = match i.shortfall.as_deref() {
            None | Some("adl") => DeficitRule::AutoDeleverage,
            Some("socialise") => DeficitRule::Socialise,
            Some("none") => DeficitRule::None,
            Some(other) => {
                self.fail(
                    &at.key("shortfall"),
                    format!("{other:?}"),
                    "expected one of adl, socialise, none for a perp exchange",
                );
                DeficitRule::AutoDeleverage
            }
        };
        let ctx = "to a perp exchange (liquidation fees all go to its fund)";
        self.forbid(&at.key("fee_share"), &i.fee_share, ctx);
        self.forbid(
            &at.key("debt_auction_lot_usd"),
            &i.debt_auction_lot_usd,
            ctx,
        );
        (i.fund_usd.max(0.0), deficit)
    }

    /// `maintenance_on`: what every market's maintenance brackets apply to.
    fn maintenance_basis(
        &mut self,
        at: &FieldPath,
        s: Option<&PerpSection>,
        preset: Option<PerpPreset>,
    ) -> MaintenanceBasis {
        let given = s.and_then(|s| s.maintenance_on.as_deref());
        match given.or(preset.map(|p| p.maintenance_on)).unwrap_or("mark") {
            "mark" => MaintenanceBasis::Mark,
            "entry" => MaintenanceBasis::Entry,
            other => {
                self.fail(
                    &at.key("maintenance_on"),
                    format!("{other:?}"),
                    "expected mark or entry",
                );
                MaintenanceBasis::Mark
            }
        }
    }

    fn perp_params(
        &mut self,
        at: &FieldPath,
        s: &PerpSection,
        preset: Option<PerpPreset>,
        insurance_fund_usd: f64,
        deficit: DeficitRule,
    ) -> PerpParams {
        let close_out = match s
            .close_out
            .as_deref()
            .or(preset.map(|p| p.close_out))
            .unwrap_or("bankruptcy")
        {
            "bankruptcy" => CloseOut::Bankruptcy,
            "market" => CloseOut::Market,
            other => {
                self.fail(
                    &at.key("close_out"),
                    format!("{other:?}"),
                    "expected bankruptcy or market",
                );
                CloseOut::Bankruptcy
            }
        };
        let liquidation_fee = s
            .liquidation_fee
            .or(preset.map(|p| p.liquidation_fee))
            .unwrap_or(0.0);
        self.check(
            &at.key("liquidation_fee"),
            liquidation_fee,
            (0.0..0.5).contains(&liquidation_fee),
            "a fee fraction in [0, 0.5)",
        );
        let preset_slice = preset.and_then(|p| p.slicing);
        let given = [
            s.slice_above_usd.is_some(),
            s.slice_fraction.is_some(),
            s.slice_cooldown_seconds.is_some(),
            s.during_slice_cooldown.is_some(),
        ];
        let slicing = if given.iter().any(|&g| g) || preset_slice.is_some() {
            let above = s
                .slice_above_usd
                .or(preset_slice.map(|p| p.0))
                .unwrap_or(100_000.0);
            let fraction = s
                .slice_fraction
                .or(preset_slice.map(|p| p.1))
                .unwrap_or(0.2);
            let cooldown = s
                .slice_cooldown_seconds
                .or(preset_slice.map(|p| p.2))
                .unwrap_or(30);
            self.positive(&at.key("slice_above_usd"), above);
            self.check(
                &at.key("slice_fraction"),
                fraction,
                fraction > 0.0 && fraction < 1.0,
                "a fraction in (0, 1)",
            );
            let during = s
                .during_slice_cooldown
                .as_deref()
                .or(preset.map(|p| p.during_slice_cooldown))
                .unwrap_or("wait");
            let during_cooldown = match during {
                "wait" => SliceCooldown::Wait,
                "close_whole" => SliceCooldown::CloseWhole,
                other => {
                    self.fail(
                        &at.key("during_slice_cooldown"),
                        format!("{other:?}"),
                        "expected wait or close_whole",
                    );
                    SliceCooldown::Wait
                }
            };
            Some(Slicing {
                above_usd: above,
                fraction,
                cooldown,
                during_cooldown,
            })
        } else {
            None
        };
        let below = s
            .vault_below_fraction
            .or(preset.map(|p| p.vault_below_fraction));
        let vault = match s.vault_capital_usd {
            Some(capital) => {
                self.check(
                    &at.key("vault_capital_usd"),
                    capital,
                    capital >= 0.0,
                    "USD ≥ 0",
                );
                let below = below.unwrap_or(2.0 / 3.0);
                self.check(
                    &at.key("vault_below_fraction"),
                    below,
                    (0.0..=1.0).contains(&below),
                    "a fraction of maintenance in [0, 1]",
                );
                Some(VaultParams {
                    below_fraction: below,
                    capital_usd: capital,
                })
            }
            None => {
                let ctx = "without vault_capital_usd (the exchange has no vault)";
                self.forbid(
                    &at.key("vault_below_fraction"),
                    &s.vault_below_fraction,
                    ctx,
                );
                None
            }
        };
        let adl = self.adl_rule(at, s, preset);
        PerpParams {
            close_out,
            liquidation_fee,
            slicing,
            vault,
            insurance_fund_usd,
            deficit,
            adl,
        }
    }

    /// `adl_ranking`, `adl_price` and `adl_allocation`: the venue's ADL queue and price, and how
    /// much of each opposite position it closes.
    fn adl_rule(&mut self, at: &FieldPath, s: &PerpSection, preset: Option<PerpPreset>) -> AdlRule {
        let ranking = s
            .adl_ranking
            .as_deref()
            .or(preset.map(|p| p.adl_ranking))
            .unwrap_or("bitmex");
        let ranking = match ranking {
            "bitmex" => AdlRanking::Bitmex,
            "binance" => AdlRanking::Binance,
            "hyperliquid" => AdlRanking::Hyperliquid,
            other => {
                self.fail(
                    &at.key("adl_ranking"),
                    format!("{other:?}"),
                    "expected bitmex, binance or hyperliquid",
                );
                AdlRanking::Bitmex
            }
        };
        let price = s
            .adl_price
            .as_deref()
            .or(preset.map(|p| p.adl_price))
            .unwrap_or("bankruptcy");
        let price = match price {
            "bankruptcy" => AdlPrice::Bankruptcy,
            "previous_oracle" => AdlPrice::PreviousOracle,
            other => {
                self.fail(
                    &at.key("adl_price"),
                    format!("{other:?}"),
                    "expected bankruptcy or previous_oracle",
                );
                AdlPrice::Bankruptcy
            }
        };
        let allocation = match s.adl_allocation.as_deref().unwrap_or("queue") {
            "queue" => AdlAllocation::Queue,
            "whole_positions" => AdlAllocation::WholePositions,
            "pro_rata" => AdlAllocation::ProRata,
            other => {
                self.fail(
                    &at.key("adl_allocation"),
                    format!("{other:?}"),
                    "expected queue, whole_positions or pro_rata",
                );
                AdlAllocation::Queue
            }
        };
        AdlRule {
            ranking,
            price,
            allocation,
        }
    }

    fn market(
        &mut self,
        at: &FieldPath,
        s: &MarketSection,
        preset: Option<PerpPreset>,
        cx: &PerpContext<'_>,
    ) -> Option<(PerpMarketInfo, PerpMarketParams)> {
        let asset = self.lookup(&at.key("asset"), cx.asset_ids, &s.asset, "asset");
        let venue = self.lookup(&at.key("venue"), cx.venue_ids, &s.venue, "venue");
        if let (Some(a), Some(v)) = (asset, venue) {
            if cx.venues[v.index()].0.base != a {
                self.fail(
                    &at.key("venue"),
                    format!("{:?}", s.venue),
                    format!("this venue does not trade {}", s.asset),
                );
            }
        }
        let index = match &s.oracle {
            Some(name) => {
                let o = self.lookup(&at.key("oracle"), cx.oracle_ids, name, "oracle");
                if let (Some(a), Some(o)) = (asset, o) {
                    if cx.oracles[o.index()].0.asset != a {
                        self.fail(
                            &at.key("oracle"),
                            format!("{name:?}"),
                            format!("this oracle does not price {}", s.asset),
                        );
                    }
                }
                o
            }
            None => None,
        };
        let mark = match s
            .mark
            .as_deref()
            .or(preset.map(|p| p.mark))
            .unwrap_or("index")
        {
            "index" => MarkRule::Index,
            "venue" => MarkRule::Venue,
            "median" => MarkRule::Median,
            other => {
                self.fail(
                    &at.key("mark"),
                    format!("{other:?}"),
                    "expected index, venue or median",
                );
                MarkRule::Index
            }
        };
        let max_leverage = s.max_leverage.or(preset.map(|p| p.max_leverage));
        let max_leverage =
            self.required(&at.key("max_leverage"), &max_leverage, "(or a perp preset)")?;
        if !self.check(
            &at.key("max_leverage"),
            max_leverage,
            max_leverage >= 1.0,
            "a leverage ≥ 1",
        ) {
            return None;
        }
        let brackets: Vec<(f64, f64)> = match (&s.maintenance, preset) {
            (Some(b), _) => b.clone(),
            (None, Some(p)) if !p.maintenance.is_empty() => p.maintenance.to_vec(),
            // Hyperliquid's rule: half the initial margin at maximum leverage.
            _ => vec![(0.0, hyperliquid_maintenance_rate(max_leverage))],
        };
        let margin = match MarginTable::new(&brackets) {
            Ok(table) => Some(table),
            Err(e) => {
                let field = at.key("maintenance");
                let (where_, message) = match e {
                    TableError::Empty => (field, "expected at least one [floor, rate] bracket"),
                    TableError::FirstFloorNotZero => {
                        (field.at(0), "the first bracket must start at notional 0")
                    }
                    TableError::FloorsNotIncreasing(i) => (
                        field.at(i),
                        "bracket floors must increase (a bracket table is sorted by notional)",
                    ),
                    TableError::RateOutOfOrder(i) => (
                        field.at(i),
                        "maintenance rates must lie in (0, 1) and not decrease from one bracket to the next",
                    ),
                };
                self.fail_written(&where_, message);
                None
            }
        };
        let first = margin.as_ref().map_or(0.0, |m| m.tier(0.0).rate);
        if 1.0 / max_leverage <= first {
            self.fail(
                &at.key("max_leverage"),
                max_leverage,
                format!("initial margin 1/{max_leverage} is not above the first bracket's maintenance rate {first}: a position opened at full leverage would be liquidatable at once"),
            );
        }
        let interval = s
            .funding_interval_seconds
            .or(preset.map(|p| p.funding_interval_seconds));
        if interval == Some(0) {
            self.fail(
                &at.key("funding_interval_seconds"),
                0,
                "expected at least 1 second",
            );
        }
        let interest = s
            .funding_interest
            .or(preset.map(|p| p.funding_interest))
            .unwrap_or(0.0);
        let clamp = s
            .funding_clamp
            .or(preset.map(|p| p.funding_clamp))
            .unwrap_or(0.0005);
        let cap = s
            .funding_cap
            .or(preset.map(|p| p.funding_cap))
            .unwrap_or(0.0075);
        self.check(
            &at.key("funding_interest"),
            interest,
            interest.abs() < 1.0,
            "a rate per interval in (−1, 1)",
        );
        self.check(
            &at.key("funding_clamp"),
            clamp,
            (0.0..1.0).contains(&clamp),
            "a rate per interval in [0, 1)",
        );
        self.check(
            &at.key("funding_cap"),
            cap,
            (0.0..1.0).contains(&cap),
            "a rate per interval in [0, 1)",
        );
        // An invalid market keeps its place (its problems are reported) so that positions in it
        // are not reported again as being in an unknown market.
        let stand_in =
            || MarginTable::new(&[(0.0, 0.5 / max_leverage)]).expect("one valid bracket");
        Some((
            PerpMarketInfo {
                asset: asset.unwrap_or(AssetId(0)),
                venue: venue.unwrap_or(VenueId(0)),
                index,
            },
            PerpMarketParams {
                max_leverage,
                margin: margin.unwrap_or_else(stand_in),
                maintenance_on: MaintenanceBasis::Mark,
                mark,
                funding_interval: interval.filter(|&i| i > 0),
                funding_interest: interest,
                funding_clamp: clamp,
                funding_cap: cap,
            },
        ))
    }

    /// `open_interest_cap_usd` of the markets of `section` (the exchange's table, at `at`): in
    /// book order, an account whose position would take its side's open interest (Σ |size| ×
    /// entry) in a capped market above the cap is refused — removed from `book`, and from
    /// `labels` when the book has them — with a warning giving the count and the notional.
    pub(crate) fn cap_open_interest(
        &mut self,
        at: &FieldPath,
        section: &ProtocolSection,
        book: &mut Vec<PerpAccount>,
        labels: &mut Vec<String>,
    ) {
        let caps: Vec<Option<f64>> = section
            .markets
            .iter()
            .enumerate()
            .map(|(m, market)| {
                let cap = market.open_interest_cap_usd?;
                let field = at.key("markets").at(m).key("open_interest_cap_usd");
                self.positive(&field, cap).then_some(cap)
            })
            .collect();
        if caps.iter().all(Option::is_none) {
            return;
        }
        // Open interest so far per market, longs and shorts.
        let mut open = vec![[0.0_f64; 2]; caps.len()];
        let mut refused = vec![(0_u64, 0.0_f64); caps.len()];
        let mut keep = Vec::with_capacity(book.len());
        for account in book.iter() {
            let over = account.positions.iter().find(|p| {
                let m = p.market.index();
                let side = usize::from(p.size < 0.0);
                caps.get(m)
                    .copied()
                    .flatten()
                    .is_some_and(|cap| open[m][side] + p.size.abs() * p.entry > cap * (1.0 + 1e-12))
            });
            if let Some(p) = over {
                let m = p.market.index();
                refused[m].0 += 1;
                refused[m].1 += account
                    .positions
                    .iter()
                    .map(|q| q.size.abs() * q.entry)
                    .sum::<f64>();
                keep.push(false);
                continue;
            }
            for p in &account.positions {
                open[p.market.index()][usize::from(p.size < 0.0)] += p.size.abs() * p.entry;
            }
            keep.push(true);
        }
        for (m, &(count, usd)) in refused.iter().enumerate() {
            if count > 0 {
                self.warnings.push(format!(
                    "{}: {count} accounts ({usd:.0} USD at entry) refused: they would take {}'s open interest above {} USD",
                    at.key("markets").at(m).key("open_interest_cap_usd"),
                    section.markets[m].asset,
                    caps[m].unwrap_or(0.0)
                ));
            }
        }
        let mut flags = keep.iter();
        book.retain(|_| *flags.next().unwrap_or(&true));
        if !labels.is_empty() {
            let mut flags = keep.iter();
            labels.retain(|_| *flags.next().unwrap_or(&true));
        }
    }

    /// A generated population of one market's positions.
    pub(crate) fn perp_positions(
        &mut self,
        p: &PositionsSection,
        info: &PerpInfo,
        market_names: &[String],
        cx: &PerpContext<'_>,
        section: usize,
    ) -> (Vec<PerpAccount>, Vec<String>) {
        let at = &root().key("positions").at(section);
        self.forbid(
            &at.key("borrowers"),
            &p.borrowers,
            "to a perp exchange's positions (owners act on lending accounts only)",
        );
        if let Some(name) = &p.file {
            return self.perp_positions_file(at, p, name, market_names, info);
        }
        let accounts = self.generated_perps(at, p, info, market_names, cx, section);
        (accounts, Vec::new())
    }

    /// Margin accounts from a file (`account,market,size,entry_price,wallet`).
    fn perp_positions_file(
        &mut self,
        at: &FieldPath,
        p: &PositionsSection,
        name: &str,
        market_names: &[String],
        info: &PerpInfo,
    ) -> (Vec<PerpAccount>, Vec<String>) {
        for (field, present) in [
            ("count", p.count.is_some()),
            ("collateral", p.collateral.is_some()),
            ("debt", p.debt.is_some()),
            ("liquidation_price", p.liquidation_price.is_some()),
            ("health_factor", p.health_factor.is_some()),
            ("size_sigma", p.size_sigma.is_some()),
            ("market", p.market.is_some()),
            ("side", p.side.is_some()),
            ("notional_usd", p.notional_usd.is_some()),
            ("leverage", p.leverage.is_some()),
            ("entry_price", p.entry_price.is_some()),
            ("margin_mode", p.margin_mode.is_some()),
            ("cross_buffer", p.cross_buffer.is_some()),
        ] {
            if present {
                self.fail_written(
                    &at.key(field),
                    "does not apply to positions loaded from a file",
                );
            }
        }
        let Some((path, bytes)) = self.read_data(&at.key("file"), name) else {
            return (Vec::new(), Vec::new());
        };
        let rows = match data::read_perp_positions(&path, &bytes) {
            Ok(rows) => rows,
            Err(e) => {
                self.data_error(e);
                return (Vec::new(), Vec::new());
            }
        };
        let mut accounts = Vec::with_capacity(rows.len());
        let mut labels = Vec::with_capacity(rows.len());
        for row in rows {
            let mut positions = Vec::with_capacity(row.positions.len());
            for (symbol, size, entry, line) in &row.positions {
                match market_names.iter().position(|m| m == symbol) {
                    Some(m) if m < info.markets.len() => positions.push(PerpPosition {
                        market: MarketId(m as u32),
                        size: *size,
                        entry: *entry,
                    }),
                    // The market's own section is invalid and reported.
                    Some(_) => {}
                    None => self.data_error(
                        InputError::new(
                            &path,
                            "market",
                            format!(
                                "exchange {} has no {symbol} market; known: [{}]",
                                info.name,
                                market_names.join(", ")
                            ),
                        )
                        .value(format!("{symbol:?}"))
                        .line(Some(*line)),
                    ),
                }
            }
            let mode = if positions.len() > 1 {
                MarginMode::Cross
            } else {
                MarginMode::Isolated
            };
            accounts.push(PerpAccount {
                wallet: row.wallet,
                positions,
                mode,
                sliced: false,
                cooldown_until: 0,
            });
            labels.push(row.label);
        }
        (accounts, labels)
    }

    /// A generated population of one market's positions.
    fn generated_perps(
        &mut self,
        at: &FieldPath,
        p: &PositionsSection,
        info: &PerpInfo,
        market_names: &[String],
        cx: &PerpContext<'_>,
        section: usize,
    ) -> Vec<PerpAccount> {
        for (field, present) in [
            ("collateral", p.collateral.is_some()),
            ("debt", p.debt.is_some()),
            ("health_factor", p.health_factor.is_some()),
        ] {
            if present {
                self.fail_written(
                    &at.key(field),
                    "does not apply to a perp exchange's positions (give market, side, notional_usd and leverage or liquidation_price, or a file)",
                );
            }
        }
        let ctx = "for a perp population";
        let count = self.required(&at.key("count"), &p.count, ctx);
        if let Some(n) = count {
            if !(1..=MAX_GENERATED_POSITIONS).contains(&n) {
                self.fail(
                    &at.key("count"),
                    n,
                    format!("expected from 1 to {MAX_GENERATED_POSITIONS} positions"),
                );
            }
        }
        let market_name = self.required(&at.key("market"), &p.market, ctx);
        let market = market_name.as_ref().and_then(|name| {
            let ids: HashMap<String, MarketId> = market_names
                .iter()
                .enumerate()
                .map(|(m, symbol)| (symbol.clone(), MarketId(m as u32)))
                .collect();
            self.lookup(&at.key("market"), &ids, name, "market of this exchange")
        });
        // A market whose own section is invalid (reported there) generates nothing.
        let market = market.filter(|m| m.index() < info.markets.len());
        let side = match self.required(&at.key("side"), &p.side, ctx).as_deref() {
            Some("long") => Some(1.0),
            Some("short") => Some(-1.0),
            Some(other) => {
                self.fail(
                    &at.key("side"),
                    format!("{other:?}"),
                    "expected long or short",
                );
                None
            }
            None => None,
        };
        let notional = self.required(&at.key("notional_usd"), &p.notional_usd, ctx);
        let notional_ok = notional.is_some_and(|n| self.positive(&at.key("notional_usd"), n));
        let mode = match p.margin_mode.as_deref() {
            None | Some("isolated") => MarginMode::Isolated,
            Some("cross") => MarginMode::Cross,
            Some(other) => {
                self.fail(
                    &at.key("margin_mode"),
                    format!("{other:?}"),
                    "expected isolated or cross",
                );
                MarginMode::Isolated
            }
        };
        let cross_buffer = p.cross_buffer.unwrap_or(0.0);
        if mode == MarginMode::Isolated {
            self.forbid(
                &at.key("cross_buffer"),
                &p.cross_buffer,
                "to isolated margin (the wallet is the position's margin)",
            );
        }
        self.check(
            &at.key("cross_buffer"),
            cross_buffer,
            cross_buffer >= 0.0,
            "a fraction of the margin ≥ 0",
        );
        let size_sigma = p.size_sigma.unwrap_or(0.0);
        let sigma_ok = self.check(
            &at.key("size_sigma"),
            size_sigma,
            (0.0..=crate::generate::MAX_SIZE_SIGMA).contains(&size_sigma),
            &format!(
                "a log-normal size dispersion from 0 to {} (beyond it sizes overflow)",
                crate::generate::MAX_SIZE_SIGMA
            ),
        );
        let entry = match &p.entry_price {
            Some(d) => self.distribution(&at.key("entry_price"), d).map(Some),
            None => Some(None),
        };
        let target = match (&p.leverage, &p.liquidation_price) {
            (Some(d), None) => self
                .distribution(&at.key("leverage"), d)
                .map(PerpTarget::Leverage),
            (None, Some(d)) => self
                .distribution(&at.key("liquidation_price"), d)
                .map(PerpTarget::LiquidationPrice),
            (Some(_), Some(_)) => {
                self.fail_bare(
                    &at.key("liquidation_price"),
                    "give leverage or liquidation_price, not both",
                );
                None
            }
            (None, None) => {
                self.fail_bare(
                    &at.key("leverage"),
                    "missing: a perp population needs leverage or liquidation_price",
                );
                None
            }
        };
        let (Some(count), Some(m), Some(side), Some(notional), Some(entry), Some(target)) =
            (count, market, side, notional, entry, target)
        else {
            return Vec::new();
        };
        if !(notional_ok && sigma_ok && (1..=MAX_GENERATED_POSITIONS).contains(&count)) {
            return Vec::new();
        }
        let rules = &info.rules[m.index()];
        if let PerpTarget::Leverage(d) = target {
            let highest = match d {
                generate::Distribution::Uniform { high, .. }
                | generate::Distribution::Even { high, .. } => high,
                generate::Distribution::Normal { bounds, .. }
                | generate::Distribution::LogNormal { bounds, .. } => bounds.1,
            };
            if highest > rules.max_leverage {
                self.fail(
                    &at.key("leverage").key("high"),
                    highest,
                    format!(
                        "leverage above the market's maximum {} (a normal or lognormal leverage needs a truncation bound high ≤ it)",
                        rules.max_leverage
                    ),
                );
                return Vec::new();
            }
        }
        let market_info = &info.markets[m.index()];
        let mark = match market_info.index {
            Some(o) => cx.oracles[o.index()].1.published(),
            None => cx.start_prices[market_info.asset.index()],
        };
        let population = PerpPopulation {
            count: count as usize,
            market: m,
            side,
            total_notional: notional,
            entry,
            mark,
            target,
            margin: rules.margin.clone(),
            mode,
            cross_buffer,
            size_sigma,
        };
        let mut rng = cascade_model::rng::stream(cx.seed, 0, &format!("positions:{section}"));
        let accounts = generate::generate_perps(&population, &mut rng);
        // With liquidation prices drawn, the margin follows: check the leverage it implies.
        let mut over = 0;
        let mut worst: f64 = 0.0;
        let mut negative = 0;
        for a in &accounts {
            let p = a.positions[0];
            let margin = match mode {
                MarginMode::Isolated => a.wallet,
                MarginMode::Cross => a.wallet / (1.0 + cross_buffer),
            };
            if margin <= 0.0 {
                negative += 1;
                continue;
            }
            let leverage = p.notional(p.entry) / margin;
            if leverage > rules.max_leverage * (1.0 + 1e-9) {
                over += 1;
                worst = worst.max(leverage);
            }
        }
        if negative > 0 {
            self.fail_written(
                &at.key("liquidation_price"),
                format!("{negative} positions would need a margin ≤ 0 (their liquidation price is on the wrong side of the entry price)"),
            );
            return Vec::new();
        }
        if over > 0 {
            self.fail_written(
                &at.key("liquidation_price"),
                format!(
                    "{over} positions would open above the market's maximum leverage {} (up to {worst:.1}x): liquidation prices this close to entry need more leverage than allowed",
                    rules.max_leverage
                ),
            );
            return Vec::new();
        }
        accounts
    }
}
