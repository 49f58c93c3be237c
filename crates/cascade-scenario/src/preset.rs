//! Named presets a `[[protocols]]` section can start from (`preset = "..."`): the essay's
//! parameter table by protocol type (lending, perpetual swaps, options vaults) and two perp
//! venues' published rules. A preset fills only the keys the section leaves out; what the file
//! gives wins. `cascade presets` lists them.

/// Defaults for a lending protocol (and options vaults, which are lending checked per epoch).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LendingPreset {
    /// Loan-to-value for new loans.
    pub ltv: f64,
    /// Liquidation threshold.
    pub liquidation_threshold: f64,
    /// Liquidation bonus (the penalty a liquidated borrower pays).
    pub bonus: f64,
    /// Close factor.
    pub close_factor: f64,
    /// Seconds between settlements; `None` every step (every block).
    pub epoch_seconds: Option<u64>,
}

/// Defaults for a perp exchange and each of its markets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PerpPreset {
    /// "bankruptcy" or "market".
    pub close_out: &'static str,
    /// Liquidation fee into the insurance fund.
    pub liquidation_fee: f64,
    /// Slicing of large positions: (above USD, fraction, cooldown seconds).
    pub slicing: Option<(f64, f64, u64)>,
    /// What a liquidation during a slice's cooldown does: "wait" or "close_whole".
    pub during_slice_cooldown: &'static str,
    /// Vault takeover below this fraction of maintenance (with a vault configured).
    pub vault_below_fraction: f64,
    /// Highest opening leverage.
    pub max_leverage: f64,
    /// Maintenance brackets (floor USD, rate); empty: half the initial margin at maximum
    /// leverage, one bracket (Hyperliquid's rule).
    pub maintenance: &'static [(f64, f64)],
    /// "index", "venue" or "median".
    pub mark: &'static str,
    /// What maintenance is charged on: "mark" or "entry".
    pub maintenance_on: &'static str,
    /// The ADL queue's order: "bitmex", "binance" or "hyperliquid".
    pub adl_ranking: &'static str,
    /// The ADL price: "bankruptcy" or "previous_oracle".
    pub adl_price: &'static str,
    /// Funding interval, seconds.
    pub funding_interval_seconds: u64,
    /// Funding interest per interval.
    pub funding_interest: f64,
    /// Clamp on interest − premium per interval.
    pub funding_clamp: f64,
    /// Cap on the rate per interval.
    pub funding_cap: f64,
}

/// What a preset sets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PresetKind {
    /// A lending protocol.
    Lending(LendingPreset),
    /// A perp exchange.
    Perp(PerpPreset),
}

/// A named preset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Preset {
    /// Name used in `preset = "..."`.
    pub name: &'static str,
    /// One line on what it is and where its values come from.
    pub summary: &'static str,
    /// The values.
    pub kind: PresetKind,
}

/// Every preset, in the order `cascade presets` lists them.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "lending",
        summary: "Essay table, lending protocols: LTV 75-80%, penalty 5-10%, settled every block. Set: ltv 0.75, liquidation threshold 0.80, bonus 7.5%, close factor 0.5, fixed spread.",
        kind: PresetKind::Lending(LendingPreset {
            ltv: 0.75,
            liquidation_threshold: 0.80,
            bonus: 0.075,
            close_factor: 0.5,
            epoch_seconds: None,
        }),
    },
    Preset {
        name: "perpetual_swap",
        summary: "Essay table, perpetual swaps: LTV 90-95% (10-20x leverage), penalty 1-2%, near-instant. Set: max leverage 20x, maintenance 2.5% (half the initial margin at 20x), market close-out with a 1.5% liquidation fee (the penalty) into the insurance fund, mark = index, funding every 8 h.",
        kind: PresetKind::Perp(PerpPreset {
            close_out: "market",
            liquidation_fee: 0.015,
            slicing: None,
            during_slice_cooldown: "wait",
            vault_below_fraction: 2.0 / 3.0,
            max_leverage: 20.0,
            maintenance: &[(0.0, 0.025)],
            mark: "index",
            maintenance_on: "mark",
            adl_ranking: "bitmex",
            adl_price: "bankruptcy",
            funding_interval_seconds: 28_800,
            funding_interest: 0.0001,
            funding_clamp: 0.0005,
            funding_cap: 0.0075,
        }),
    },
    Preset {
        name: "options_vault",
        summary: "Essay table, options vaults: LTV 50-70%, penalty 10-15%, settled per epoch. Set: ltv 0.60, liquidation threshold 0.70, bonus 12.5%, close factor 1, weekly epochs.",
        kind: PresetKind::Lending(LendingPreset {
            ltv: 0.60,
            liquidation_threshold: 0.70,
            bonus: 0.125,
            close_factor: 1.0,
            epoch_seconds: Some(7 * 24 * 3600),
        }),
    },
    Preset {
        name: "binance_usdm",
        summary: "Binance USD-M style (docs/reference-math.md §8.1; illustrative brackets, not live values): 0.4% / 0.5% from 50k / 1% from 250k / 2.5% from 1M, max 50x, bankruptcy close-out (what margin is left goes to the insurance fund), ADL ranked by unrealised PnL over collateral × margin ratio at the bankruptcy price, median mark, 8 h funding at 0.01% interest, clamp 0.05%, cap 0.75%.",
        kind: PresetKind::Perp(PerpPreset {
            close_out: "bankruptcy",
            liquidation_fee: 0.0,
            slicing: None,
            during_slice_cooldown: "wait",
            vault_below_fraction: 2.0 / 3.0,
            max_leverage: 50.0,
            maintenance: &[
                (0.0, 0.004),
                (50_000.0, 0.005),
                (250_000.0, 0.01),
                (1_000_000.0, 0.025),
            ],
            mark: "median",
            maintenance_on: "mark",
            adl_ranking: "binance",
            adl_price: "bankruptcy",
            funding_interval_seconds: 28_800,
            funding_interest: 0.0001,
            funding_clamp: 0.0005,
            funding_cap: 0.0075,
        }),
    },
    Preset {
        name: "bitmex",
        summary: "BitMEX XBTUSD style (docs/reference-math.md §8.3): base maintenance 0.40% (BitMEX, \"Reduction in Base Maintenance Margin\", 5 May 2020) at 100x (1% initial), each risk step of 100 XBT adding 0.5% (illustrative brackets in USD at 10,000 USD/XBT: 0.9% from 2M, 1.4% from 3M, 1.9% from 4M), maintenance on the entry value (BitMEX's worked examples), bankruptcy close-out (what margin is left goes to the insurance fund), ADL ranked by PnL% × effective leverage at the bankruptcy price, index mark, 8 h funding at 0.01% interest, clamp 0.05%, cap 75% × (initial − maintenance) = 0.45%.",
        kind: PresetKind::Perp(PerpPreset {
            close_out: "bankruptcy",
            liquidation_fee: 0.0,
            slicing: None,
            during_slice_cooldown: "wait",
            vault_below_fraction: 2.0 / 3.0,
            max_leverage: 100.0,
            maintenance: &[
                (0.0, 0.004),
                (2_000_000.0, 0.009),
                (3_000_000.0, 0.014),
                (4_000_000.0, 0.019),
            ],
            mark: "index",
            maintenance_on: "entry",
            adl_ranking: "bitmex",
            adl_price: "bankruptcy",
            funding_interval_seconds: 28_800,
            funding_interest: 0.0001,
            funding_clamp: 0.0005,
            funding_cap: 0.0045,
        }),
    },
    Preset {
        name: "hyperliquid",
        summary: "Hyperliquid style (docs/reference-math.md §8.4): maintenance half the initial margin at max leverage (25x: 2%), market close-out (the trader keeps what is left), 20% slice above 100k, then a 30 s cooldown during which a further liquidation closes the whole position, vault (HLP, when `vault_capital_usd` is given) below 2/3 of maintenance, ADL ranked by (mark / entry) × notional / account value at the previous oracle price, oracle mark, hourly funding at 0.00125% interest, cap 4%.",
        kind: PresetKind::Perp(PerpPreset {
            close_out: "market",
            liquidation_fee: 0.0,
            slicing: Some((100_000.0, 0.2, 30)),
            during_slice_cooldown: "close_whole",
            vault_below_fraction: 2.0 / 3.0,
            max_leverage: 25.0,
            maintenance: &[],
            mark: "index",
            maintenance_on: "mark",
            adl_ranking: "hyperliquid",
            adl_price: "previous_oracle",
            funding_interval_seconds: 3_600,
            funding_interest: 0.0000125,
            funding_clamp: 0.0005,
            funding_cap: 0.04,
        }),
    },
];

/// The preset of this name.
pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The names, for error messages.
pub fn names() -> String {
    PRESETS
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every preset sits inside the essay's ranges for its type, and its brackets are valid.
    #[test]
    fn presets_respect_the_essay_table() {
        for p in PRESETS {
            match p.kind {
                PresetKind::Lending(l) if p.name == "lending" => {
                    assert!((0.75..=0.80).contains(&l.ltv) && (0.05..=0.10).contains(&l.bonus));
                    assert_eq!(l.epoch_seconds, None);
                }
                PresetKind::Lending(l) => {
                    assert!((0.50..=0.70).contains(&l.ltv) && (0.10..=0.15).contains(&l.bonus));
                    assert!(l.epoch_seconds.is_some());
                }
                PresetKind::Perp(perp) => {
                    if p.name == "perpetual_swap" {
                        assert!((10.0..=20.0).contains(&perp.max_leverage));
                        assert!((0.01..=0.02).contains(&perp.liquidation_fee));
                    }
                    if !perp.maintenance.is_empty() {
                        let table = cascade_model::perp::MarginTable::new(perp.maintenance)
                            .expect("valid brackets");
                        // Opening at maximum leverage must not be liquidatable at once.
                        assert!(1.0 / perp.max_leverage > table.tier(0.0).rate, "{}", p.name);
                    }
                }
            }
        }
    }
}
