//! Building the chain and the agents' ways on it: the `[chain]` section (blocks, room, gas price
//! and gas used), keepers' gas strategies, budgets, latency, sale delay and absences, and the
//! behaviour of the borrowers of a `[[positions]]` population.

use std::collections::HashMap;

use cascade_model::borrower::{BorrowerAction, BorrowerBehaviour};
use cascade_model::chain::{ChainParams, GasPrice, GasStrategy, GasUsed};
use cascade_model::ids::AssetId;
use cascade_model::keeper::KeeperSpec;

use super::{Builder, root};
use crate::data;
use crate::path::FieldPath;
use crate::schema::{
    BorrowersSection, ChainSection, GasSection, GasStrategySection, KeeperSection,
};

impl Builder<'_> {
    /// The `[chain]` section, if any.
    pub(super) fn chain(
        &mut self,
        section: Option<&ChainSection>,
        asset_ids: &HashMap<String, AssetId>,
        step_seconds: u64,
    ) -> Option<ChainParams> {
        let c = section?;
        let at = root().key("chain");
        if c.block_seconds == 0 {
            self.fail(
                &at.key("block_seconds"),
                0,
                "expected a block time of at least 1 second",
            );
        } else if c.block_seconds > step_seconds.max(1) {
            self.fail(
                &at.key("block_seconds"),
                c.block_seconds,
                format!(
                    "expected at most the step ({step_seconds} s): a step must hold at least one block"
                ),
            );
        }
        if c.room_per_block == Some(0) {
            self.fail(
                &at.key("room_per_block"),
                0,
                "expected at least 1 transaction per block (omit it for no limit)",
            );
        }
        if c.expiry_seconds == Some(0) {
            self.fail(
                &at.key("expiry_seconds"),
                0,
                "expected at least 1 second (omit it for transactions that never expire)",
            );
        }
        let gas_asset_name = c.gas_asset.as_deref().unwrap_or("ETH");
        let gas_asset = if c.gas_asset.is_some() {
            self.lookup(&at.key("gas_asset"), asset_ids, gas_asset_name, "asset")
        } else {
            let found = asset_ids.get(gas_asset_name).copied();
            if found.is_none() {
                self.fail_bare(
                    &at.key("gas_asset"),
                    "missing: gas is paid in ETH by default, and the scenario has no ETH asset; name the asset gas is paid in",
                );
            }
            found
        };
        let gas = self.gas_price(&at.key("gas"), &c.gas, asset_ids);
        let mut gas_used = GasUsed::default();
        if let Some(g) = &c.gas_used {
            let at = at.key("gas_used");
            for (name, value, slot) in [
                ("liquidation", g.liquidation, &mut gas_used.liquidation),
                ("kick", g.kick, &mut gas_used.kick),
                ("bid", g.bid, &mut gas_used.bid),
                ("take", g.take, &mut gas_used.take),
                ("top_up", g.top_up, &mut gas_used.top_up),
                ("repay", g.repay, &mut gas_used.repay),
            ] {
                if let Some(v) = value {
                    if v.is_finite() && v >= 0.0 {
                        *slot = v;
                    } else {
                        self.fail(&at.key(name), v, "expected gas units ≥ 0");
                    }
                }
            }
        }
        Some(ChainParams {
            block_seconds: c.block_seconds.max(1),
            room_per_block: c.room_per_block,
            gas: gas?,
            gas_asset: gas_asset?,
            gas_used,
            expiry: c.expiry_seconds,
        })
    }

    fn gas_price(
        &mut self,
        at: &FieldPath,
        g: &GasSection,
        asset_ids: &HashMap<String, AssetId>,
    ) -> Option<GasPrice> {
        let keys: [(&str, bool); 13] = [
            ("gwei", g.gwei.is_some()),
            ("file", g.file.is_some()),
            ("time_column", g.time_column.is_some()),
            ("time_unit", g.time_unit.is_some()),
            ("price_column", g.price_column.is_some()),
            ("unit", g.unit.is_some()),
            ("start_offset_seconds", g.start_offset_seconds.is_some()),
            ("base_gwei", g.base_gwei.is_some()),
            ("calm_daily_volatility", g.calm_daily_volatility.is_some()),
            ("elasticity", g.elasticity.is_some()),
            ("max_gwei", g.max_gwei.is_some()),
            ("asset", g.asset.is_some()),
            ("window_seconds", g.window_seconds.is_some()),
        ];
        let allowed: &[&str] = match g.model.as_str() {
            "constant" => &["gwei"],
            "series" => &[
                "file",
                "time_column",
                "time_unit",
                "price_column",
                "unit",
                "start_offset_seconds",
            ],
            "volatility" => &[
                "base_gwei",
                "calm_daily_volatility",
                "elasticity",
                "max_gwei",
                "asset",
                "window_seconds",
            ],
            other => {
                self.fail(
                    &at.key("model"),
                    format!("{other:?}"),
                    "unknown gas model; expected one of constant, series, volatility",
                );
                return None;
            }
        };
        let model = g.model.as_str();
        for (key, present) in keys {
            if present && !allowed.contains(&key) {
                self.fail_written(
                    &at.key(key),
                    format!("does not apply to gas model \"{model}\""),
                );
            }
        }
        let ctx = format!("for gas model \"{model}\"");
        match model {
            "constant" => {
                let gwei = self.required(&at.key("gwei"), &g.gwei, &ctx)?;
                self.check(&at.key("gwei"), gwei, gwei >= 0.0, "gwei ≥ 0")
                    .then_some(GasPrice::Constant { gwei })
            }
            "series" => self.gas_series(at, g, &ctx),
            _ => {
                let base_gwei = self.required(&at.key("base_gwei"), &g.base_gwei, &ctx);
                let calm = self.required(
                    &at.key("calm_daily_volatility"),
                    &g.calm_daily_volatility,
                    &ctx,
                );
                let asset = self.required(&at.key("asset"), &g.asset, &ctx);
                let elasticity = g.elasticity.unwrap_or(1.0);
                let max_gwei = g.max_gwei.unwrap_or(f64::INFINITY);
                let window = g.window_seconds.unwrap_or(3_600);
                let mut ok = true;
                if let Some(b) = base_gwei {
                    ok &= self.check(&at.key("base_gwei"), b, b >= 0.0, "gwei ≥ 0");
                }
                if let Some(c) = calm {
                    ok &= self.positive(&at.key("calm_daily_volatility"), c);
                }
                ok &= self.check(
                    &at.key("elasticity"),
                    elasticity,
                    elasticity >= 0.0,
                    "an elasticity ≥ 0",
                );
                if g.max_gwei.is_some() {
                    ok &= self.check(
                        &at.key("max_gwei"),
                        max_gwei,
                        max_gwei >= base_gwei.unwrap_or(0.0),
                        "a cap at or above base_gwei",
                    );
                }
                if window == 0 {
                    self.fail(&at.key("window_seconds"), 0, "expected at least 1 second");
                    ok = false;
                }
                let asset =
                    asset.and_then(|a| self.lookup(&at.key("asset"), asset_ids, &a, "asset"));
                let (Some(base_gwei), Some(calm), Some(asset), true) = (base_gwei, calm, asset, ok)
                else {
                    return None;
                };
                Some(GasPrice::Volatility {
                    base_gwei,
                    calm_daily_volatility: calm,
                    elasticity,
                    max_gwei,
                    asset,
                    window,
                })
            }
        }
    }

    fn gas_series(&mut self, at: &FieldPath, g: &GasSection, ctx: &str) -> Option<GasPrice> {
        let file = self.required(&at.key("file"), &g.file, ctx);
        let time_column = self.required(&at.key("time_column"), &g.time_column, ctx);
        let price_column = self.required(&at.key("price_column"), &g.price_column, ctx);
        let unit = self
            .required(&at.key("time_unit"), &g.time_unit, ctx)
            .and_then(|text| self.time_unit(&at.key("time_unit"), &text));
        let scale = match g.unit.as_deref() {
            None | Some("gwei") => 1.0,
            Some("wei") => 1e-9,
            Some(other) => {
                self.fail(
                    &at.key("unit"),
                    format!("{other:?}"),
                    "expected gwei or wei",
                );
                1.0
            }
        };
        let (name, time_column, price_column, unit) = (file?, time_column?, price_column?, unit?);
        let (path, bytes) = self.read_data(&at.key("file"), &name)?;
        let points = match data::read_series(&path, &bytes, &time_column, &price_column, unit) {
            Ok(points) => points,
            Err(e) => {
                self.data_error(e);
                return None;
            }
        };
        let origin = points[0].0 + g.start_offset_seconds.unwrap_or(0) as f64;
        let mut times = Vec::with_capacity(points.len());
        let mut gwei = Vec::with_capacity(points.len());
        for &(t, price) in &points {
            let relative = (t - origin).round();
            if relative <= 0.0 {
                // Points at or before the start collapse onto time 0; the latest wins.
                times.clear();
                gwei.clear();
                times.push(0);
            } else {
                times.push(relative as u64);
            }
            gwei.push(price * scale);
        }
        Some(GasPrice::Series { times, gwei })
    }

    /// How an agent prices gas; the default bids the clearing price. Only a keeper
    /// (`keeper`) may bid in priority gas auctions.
    pub(super) fn gas_strategy(
        &mut self,
        at: &FieldPath,
        g: Option<&GasStrategySection>,
        keeper: bool,
    ) -> GasStrategy {
        let default = GasStrategy::Market {
            markup: 0.0,
            max_gwei: f64::INFINITY,
        };
        let Some(g) = g else {
            return default;
        };
        let strategy = g.strategy.as_str();
        if strategy != "priority_auction" {
            self.forbid(
                &at.key("price_bump"),
                &g.price_bump,
                &format!("to strategy {strategy:?}"),
            );
        }
        match strategy {
            "fixed" => {
                self.forbid(&at.key("markup"), &g.markup, "to strategy \"fixed\"");
                self.forbid(&at.key("max_gwei"), &g.max_gwei, "to strategy \"fixed\"");
                match self.required(&at.key("gwei"), &g.gwei, "for strategy \"fixed\"") {
                    Some(gwei) if self.check(&at.key("gwei"), gwei, gwei >= 0.0, "gwei ≥ 0") => {
                        GasStrategy::Fixed { gwei }
                    }
                    _ => default,
                }
            }
            "market" => {
                self.forbid(&at.key("gwei"), &g.gwei, "to strategy \"market\"");
                let markup = g.markup.unwrap_or(0.0);
                let max_gwei = self.gas_cap(at, g);
                self.check(&at.key("markup"), markup, markup >= 0.0, "a markup ≥ 0");
                GasStrategy::Market { markup, max_gwei }
            }
            "priority_auction" if keeper => {
                self.forbid(&at.key("gwei"), &g.gwei, "to strategy \"priority_auction\"");
                self.forbid(
                    &at.key("markup"),
                    &g.markup,
                    "to strategy \"priority_auction\"",
                );
                let max_gwei = self.gas_cap(at, g);
                let price_bump = g.price_bump.unwrap_or(0.1);
                self.check(
                    &at.key("price_bump"),
                    price_bump,
                    price_bump > 0.0 && price_bump.is_finite(),
                    "a fraction > 0",
                );
                GasStrategy::PriorityAuction {
                    price_bump,
                    max_gwei,
                }
            }
            "priority_auction" => {
                self.fail(
                    &at.key("strategy"),
                    "\"priority_auction\"",
                    "only keepers bid in priority gas auctions; expected fixed or market",
                );
                default
            }
            other => {
                let expected = if keeper {
                    "fixed, market or priority_auction"
                } else {
                    "fixed or market"
                };
                self.fail(
                    &at.key("strategy"),
                    format!("{other:?}"),
                    format!("unknown gas strategy; expected {expected}"),
                );
                default
            }
        }
    }

    /// A strategy's `max_gwei` (default unlimited), checked.
    fn gas_cap(&mut self, at: &FieldPath, g: &GasStrategySection) -> f64 {
        let max_gwei = g.max_gwei.unwrap_or(f64::INFINITY);
        if g.max_gwei.is_some() {
            self.check(&at.key("max_gwei"), max_gwei, max_gwei > 0.0, "gwei > 0");
        }
        max_gwei
    }

    /// A keeper's ways on the chain: gas strategy and budget, reaction latency, sale delay and
    /// absences. Gas keys need a `[chain]`.
    pub(super) fn keeper_on_chain(
        &mut self,
        at: &FieldPath,
        k: &KeeperSection,
        has_chain: bool,
        spec: &mut KeeperSpec,
    ) {
        if !has_chain {
            self.forbid(&at.key("gas"), &k.gas, "without a [chain] section");
            self.forbid(
                &at.key("gas_budget_usd"),
                &k.gas_budget_usd,
                "without a [chain] section",
            );
        }
        spec.gas = self.gas_strategy(&at.key("gas"), k.gas.as_ref(), true);
        if let Some(b) = k.gas_budget_usd {
            if self.check(&at.key("gas_budget_usd"), b, b >= 0.0, "USD ≥ 0") {
                spec.gas_budget = Some(b);
            }
        }
        spec.latency = k.latency_seconds.unwrap_or(0);
        spec.sale_delay = k.sale_delay_seconds.unwrap_or(0);
        for (i, o) in k.outages.iter().enumerate() {
            if o.to_seconds <= o.from_seconds {
                self.fail(
                    &at.key("outages").at(i).key("to_seconds"),
                    o.to_seconds,
                    format!("expected a time after from_seconds ({})", o.from_seconds),
                );
            } else {
                spec.outages.push((o.from_seconds, o.to_seconds));
            }
        }
    }

    /// The behaviour of a population's borrowers.
    pub(super) fn borrower_behaviour(
        &mut self,
        at: &FieldPath,
        b: &BorrowersSection,
        has_chain: bool,
    ) -> Option<BorrowerBehaviour> {
        if !has_chain {
            self.forbid(&at.key("gas"), &b.gas, "without a [chain] section");
        }
        let mut ok = self.check(
            &at.key("trigger_health"),
            b.trigger_health,
            b.trigger_health > 0.0,
            "a health factor > 0",
        );
        ok &= self.check(
            &at.key("target_health"),
            b.target_health,
            b.target_health >= b.trigger_health,
            &format!(
                "a health factor at or above trigger_health ({})",
                b.trigger_health
            ),
        );
        let probability = b.probability.unwrap_or(1.0);
        ok &= self.check(
            &at.key("probability"),
            probability,
            (0.0..=1.0).contains(&probability),
            "a probability in [0, 1]",
        );
        let reserve = b.reserve.unwrap_or(1.0);
        ok &= self.check(
            &at.key("reserve"),
            reserve,
            reserve >= 0.0,
            "a fraction ≥ 0",
        );
        let action = match b.action.as_deref() {
            None | Some("top_up") => BorrowerAction::TopUp,
            Some("repay") => BorrowerAction::Repay,
            Some(other) => {
                self.fail(
                    &at.key("action"),
                    format!("{other:?}"),
                    "expected top_up or repay",
                );
                ok = false;
                BorrowerAction::TopUp
            }
        };
        let gas = self.gas_strategy(&at.key("gas"), b.gas.as_ref(), false);
        ok.then_some(BorrowerBehaviour {
            trigger_health: b.trigger_health,
            target_health: b.target_health,
            action,
            probability,
            delay: b.delay_seconds.unwrap_or(0),
            reserve,
            gas,
        })
    }
}
