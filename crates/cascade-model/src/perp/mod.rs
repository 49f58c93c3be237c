//! Perpetual swaps (docs/reference-math.md §8). This module holds the margin maths: tiered
//! maintenance
//! margin with cumulative amounts, liquidation and bankruptcy prices (Binance USDⓈ-M,
//! BitMEX-style linear and inverse, Hyperliquid), and the auto-deleveraging ranking, as pure
//! functions. [`params`] holds an exchange's and a market's rules (mark price, funding,
//! close-out, vault, deficit), [`account`] a trader's margin account; the engine's perp
//! exchanges build on them.

pub mod account;
pub mod index;
pub mod params;

/// Long or short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Profits when the price rises.
    Long,
    /// Profits when the price falls.
    Short,
}

impl Side {
    /// +1 for long, −1 for short.
    pub fn sign(self) -> f64 {
        match self {
            Side::Long => 1.0,
            Side::Short => -1.0,
        }
    }
}

/// One bracket of a tiered maintenance-margin table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MarginTier {
    /// Lower notional bound of the bracket, USD.
    pub floor: f64,
    /// Maintenance margin rate within the bracket.
    pub rate: f64,
    /// Cumulative amount: floor_n · (rate_n − rate_{n−1}) summed over the brackets so far,
    /// which makes the requirement continuous across brackets.
    pub cumulative: f64,
}

/// A maintenance-margin table: brackets by increasing floor, the first at 0.
#[derive(Clone, Debug, PartialEq)]
pub struct MarginTable {
    tiers: Vec<MarginTier>,
}

/// Why a bracket table is invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableError {
    /// No brackets.
    Empty,
    /// The first bracket does not start at notional 0.
    FirstFloorNotZero,
    /// Bracket `0` does not start above the one before it.
    FloorsNotIncreasing(usize),
    /// Bracket `0`'s rate is below the one before it, or outside (0, 1).
    RateOutOfOrder(usize),
}

impl MarginTable {
    /// A table from (floor, rate) brackets, computing the cumulative amounts (§8.1).
    ///
    /// # Errors
    /// Brackets that do not start at 0, floors that do not increase, or rates that decrease or
    /// fall outside (0, 1).
    pub fn new(brackets: &[(f64, f64)]) -> Result<Self, TableError> {
        let Some(&(first_floor, _)) = brackets.first() else {
            return Err(TableError::Empty);
        };
        if first_floor != 0.0 {
            return Err(TableError::FirstFloorNotZero);
        }
        let mut tiers: Vec<MarginTier> = Vec::with_capacity(brackets.len());
        for (i, &(floor, rate)) in brackets.iter().enumerate() {
            if !(rate > 0.0 && rate < 1.0) {
                return Err(TableError::RateOutOfOrder(i));
            }
            let cumulative = match tiers.last() {
                None => 0.0,
                Some(previous) => {
                    if floor <= previous.floor {
                        return Err(TableError::FloorsNotIncreasing(i));
                    }
                    if rate < previous.rate {
                        return Err(TableError::RateOutOfOrder(i));
                    }
                    previous.cumulative + floor * (rate - previous.rate)
                }
            };
            tiers.push(MarginTier {
                floor,
                rate,
                cumulative,
            });
        }
        Ok(Self { tiers })
    }

    /// The bracket a notional falls in.
    pub fn tier(&self, notional: f64) -> MarginTier {
        let i = self.tiers.partition_point(|t| t.floor <= notional.abs());
        self.tiers[i.saturating_sub(1)]
    }

    /// Maintenance margin of a position of this notional: notional · rate − cumulative.
    pub fn maintenance(&self, notional: f64) -> f64 {
        let t = self.tier(notional);
        notional.abs() * t.rate - t.cumulative
    }
}

/// Binance USDⓈ-M liquidation price, one-way mode (§8.1):
/// LP = (WB − TMM₁ + UPNL₁ + cum − side · Q · EP) / (Q · MMR − side · Q), with the bracket of
/// the notional at the liquidation price (recomputed if the first guess lands in another).
/// `wallet` is the isolated margin (or the cross wallet), `other_maintenance` and `other_pnl`
/// those of the account's other positions (0 in isolated mode).
pub fn binance_liquidation_price(
    wallet: f64,
    side: Side,
    quantity: f64,
    entry: f64,
    table: &MarginTable,
    other_maintenance: f64,
    other_pnl: f64,
) -> f64 {
    let s = side.sign();
    let q = quantity.abs();
    let mut tier = table.tier(q * entry);
    let mut price = 0.0;
    for _ in 0..table.tiers.len() + 1 {
        price = (wallet - other_maintenance + other_pnl + tier.cumulative - s * q * entry)
            / (q * tier.rate - s * q);
        let next = table.tier(q * price);
        if next == tier {
            break;
        }
        tier = next;
    }
    price.max(0.0)
}

/// The liquidation price when maintenance is charged on the entry value (BitMEX, §8.2): the
/// requirement MM(Q · EP) does not move with the price, so equity meets it at
/// LP = EP − side · (WB − TMM₁ + UPNL₁ − MM(Q · EP)) / Q, with the other positions' maintenance
/// and profit as in [`binance_liquidation_price`].
pub fn entry_maintenance_liquidation_price(
    wallet: f64,
    side: Side,
    quantity: f64,
    entry: f64,
    table: &MarginTable,
    other_maintenance: f64,
    other_pnl: f64,
) -> f64 {
    let q = quantity.abs();
    let own = table.maintenance(q * entry);
    (entry - side.sign() * (wallet - other_maintenance + other_pnl - own) / q).max(0.0)
}

/// BitMEX-style isolated margin on a linear contract with initial margin 1/leverage and
/// maintenance rate `maintenance` (fees and funding ignored, §8.2): (bankruptcy, liquidation).
pub fn linear_bankruptcy_and_liquidation(
    entry: f64,
    leverage: f64,
    maintenance: f64,
    side: Side,
) -> (f64, f64) {
    let im = 1.0 / leverage;
    let s = side.sign();
    (
        entry * (1.0 - s * im),
        entry * (1.0 - s * (im - maintenance)),
    )
}

/// The same for an inverse contract (priced in 1/P): long bankruptcy = EP · L / (L + 1),
/// short = EP · L / (L − 1).
pub fn inverse_bankruptcy(entry: f64, leverage: f64, side: Side) -> f64 {
    match side {
        Side::Long => entry * leverage / (leverage + 1.0),
        Side::Short => entry * leverage / (leverage - 1.0),
    }
}

/// Hyperliquid's maintenance margin rate: half the initial margin at maximum leverage.
pub fn hyperliquid_maintenance_rate(max_leverage: f64) -> f64 {
    1.0 / (2.0 * max_leverage)
}

/// Hyperliquid's liquidation price for an isolated position (§8.4):
/// liq = price − side · margin available / size / (1 − mm · side), with margin available =
/// margin − maintenance requirement at `price`.
pub fn hyperliquid_liquidation_price(
    price: f64,
    size: f64,
    margin: f64,
    max_leverage: f64,
    side: Side,
) -> f64 {
    let mm = hyperliquid_maintenance_rate(max_leverage);
    let s = side.sign();
    let available = margin - mm * size.abs() * price;
    price - s * available / size.abs() / (1.0 - mm * s)
}

/// The auto-deleveraging rank (§8.3): PnL% × effective leverage when in profit, PnL% /
/// effective leverage otherwise. Values per unit of position, signed (a short's values are
/// negative). Highest rank is deleveraged first.
pub fn adl_rank(mark_value: f64, entry_value: f64, bankrupt_value: f64) -> f64 {
    let pnl = (mark_value - entry_value) / entry_value.abs();
    let effective_leverage = mark_value.abs() / (mark_value - bankrupt_value);
    if pnl > 0.0 {
        pnl * effective_leverage
    } else {
        pnl / effective_leverage
    }
}

/// Binance's ADL rank ("What Is Auto-Deleveraging (ADL) and How Does It Work",
/// binance.com/en/support/faq/360033525471): LeveragePnL = unrealised PnL as a share of the
/// collateral × margin ratio, on the account: max(0, PnL) / max(1, wallet) × maintenance /
/// (wallet + PnL). A position not in profit ranks 0, behind every one in profit.
pub fn binance_adl_rank(unrealised_pnl: f64, wallet: f64, maintenance: f64) -> f64 {
    let pnl_share = unrealised_pnl.max(0.0) / wallet.max(1.0);
    let margin_balance = wallet + unrealised_pnl;
    if pnl_share == 0.0 || margin_balance <= 0.0 {
        return 0.0;
    }
    pnl_share * maintenance / margin_balance
}

/// Hyperliquid's ADL sorting index ("Auto-deleveraging", hyperliquid.gitbook.io/
/// hyperliquid-docs/trading/auto-deleveraging): (mark price / entry price) × (notional
/// position / account value) for the users in profit. The page writes the price ratio for a
/// long; a short profits as the price falls, so its ratio is entry / mark (both above 1 in
/// profit). A position not in profit, or an account without value, ranks 0.
pub fn hyperliquid_adl_rank(
    side: Side,
    mark: f64,
    entry: f64,
    notional: f64,
    account_value: f64,
) -> f64 {
    let price_ratio = match side {
        Side::Long => mark / entry,
        Side::Short => entry / mark,
    };
    if price_ratio <= 1.0 || account_value <= 0.0 {
        return 0.0;
    }
    price_ratio * notional / account_value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// §8.1 P1: isolated long 1 BTC at 20,000 with 1,000 margin, MMR 0.4%: LP 19,076.31 (where
    /// equity 76.31 is 0.4% of it); short 20,916.33. Tolerance 0.01.
    #[test]
    fn binance_liquidation_price_p1() {
        let table = MarginTable::new(&[(0.0, 0.004)]).expect("valid");
        let long = binance_liquidation_price(1_000.0, Side::Long, 1.0, 20_000.0, &table, 0.0, 0.0);
        assert!(close(long, 19_076.31, 0.01), "{long}");
        assert!(close(1_000.0 - (20_000.0 - long), 0.004 * long, 1e-6));
        let short =
            binance_liquidation_price(1_000.0, Side::Short, 1.0, 20_000.0, &table, 0.0, 0.0);
        assert!(close(short, 20_916.33, 0.01), "{short}");
    }

    /// §8.1 P2: brackets 0.4% / 0.5% from 50k / 1% from 250k → cumulative 0, 50, 1,300; a
    /// 300,000 notional needs 3,000 − 1,300 = 1,700 (= 50k·0.4% + 200k·0.5% + 50k·1%).
    #[test]
    fn tiered_maintenance_p2() {
        let table =
            MarginTable::new(&[(0.0, 0.004), (50_000.0, 0.005), (250_000.0, 0.01)]).expect("valid");
        let cumulative: Vec<f64> = table.tiers.iter().map(|t| t.cumulative).collect();
        assert_eq!(cumulative, vec![0.0, 50.0, 1_300.0]);
        assert!(close(table.maintenance(300_000.0), 1_700.0, 1e-9));
        // Continuous across a bracket's floor.
        assert!(close(
            table.maintenance(50_000.0 - 1e-6),
            table.maintenance(50_000.0),
            1e-6
        ));
    }

    #[test]
    fn bracket_tables_must_increase() {
        assert_eq!(MarginTable::new(&[]), Err(TableError::Empty));
        assert_eq!(
            MarginTable::new(&[(10.0, 0.01)]),
            Err(TableError::FirstFloorNotZero)
        );
        assert_eq!(
            MarginTable::new(&[(0.0, 0.01), (0.0, 0.02)]),
            Err(TableError::FloorsNotIncreasing(1))
        );
        assert_eq!(
            MarginTable::new(&[(0.0, 0.02), (5.0, 0.01)]),
            Err(TableError::RateOutOfOrder(1))
        );
    }

    /// §8.2: EP 20,000, 10×, maintenance 0.5%: long bankruptcy 18,000, liquidation 18,100;
    /// inverse long bankruptcy 18,181.82.
    #[test]
    fn bitmex_linear_and_inverse() {
        let (bankrupt, liquidation) =
            linear_bankruptcy_and_liquidation(20_000.0, 10.0, 0.005, Side::Long);
        assert!(close(bankrupt, 18_000.0, 1e-9) && close(liquidation, 18_100.0, 1e-9));
        let (bankrupt, liquidation) =
            linear_bankruptcy_and_liquidation(20_000.0, 10.0, 0.005, Side::Short);
        assert!(close(bankrupt, 22_000.0, 1e-9) && close(liquidation, 21_900.0, 1e-9));
        assert!(close(
            inverse_bankruptcy(20_000.0, 10.0, Side::Long),
            18_181.82,
            0.01
        ));
    }

    /// §8.2 P3 (BitMEX's "Isolated and Cross Margin Examples"): 20 ETHUSDT bought at 1,000 on a
    /// 10,000 USDT cross wallet, maintenance 1% of the entry value = 200 USDT: liquidation at
    /// 510, where 10,000 + 20 · (510 − 1,000) = 200. The short of the same size: 1,490.
    /// Charged on the mark the long would go at 10,000 / 19.8 = 505.05. Tolerance 1e-9.
    #[test]
    fn maintenance_on_entry_value_p3() {
        let table = MarginTable::new(&[(0.0, 0.01)]).expect("valid");
        let long = entry_maintenance_liquidation_price(
            10_000.0,
            Side::Long,
            20.0,
            1_000.0,
            &table,
            0.0,
            0.0,
        );
        assert!(close(long, 510.0, 1e-9), "{long}");
        let short = entry_maintenance_liquidation_price(
            10_000.0,
            Side::Short,
            20.0,
            1_000.0,
            &table,
            0.0,
            0.0,
        );
        assert!(close(short, 1_490.0, 1e-9), "{short}");
        let on_mark =
            binance_liquidation_price(10_000.0, Side::Long, 20.0, 1_000.0, &table, 0.0, 0.0);
        assert!(close(on_mark, 10_000.0 / 19.8, 1e-9), "{on_mark}");
        // §8.2's isolated example: 10x at 20,000, 0.5% on entry: 18,100 (= the closed form).
        let table = MarginTable::new(&[(0.0, 0.005)]).expect("valid");
        let isolated = entry_maintenance_liquidation_price(
            2_000.0,
            Side::Long,
            1.0,
            20_000.0,
            &table,
            0.0,
            0.0,
        );
        let (_, closed_form) = linear_bankruptcy_and_liquidation(20_000.0, 10.0, 0.005, Side::Long);
        assert!(close(isolated, closed_form, 1e-9) && close(isolated, 18_100.0, 1e-9));
    }

    /// §8.3 D1: a short entered at 20,000, marked at 18,000, bankrupt at 22,000 ranks 0.45; the
    /// same profit with bankruptcy at 19,000 (effective leverage 18) ranks 1.8, first to go.
    #[test]
    fn adl_ranking_d1() {
        let a = adl_rank(-18_000.0, -20_000.0, -22_000.0);
        assert!(close(a, 0.45, 1e-12));
        let b = adl_rank(-18_000.0, -20_000.0, -19_000.0);
        assert!(close(b, 1.8, 1e-12));
        assert!(b > a);
    }

    /// §8.3 D2, one queue by each venue's rule at mark 18,000, 0.4% maintenance on the mark.
    /// A: short 1 BTC from 20,000 on a 10,000 wallet (2×): profit 2,000, equity 12,000,
    /// bankrupt at 30,000. B: short 1 BTC from 18,050 on 361 (50×): profit 50, equity 411,
    /// bankrupt at 18,411. BitMEX: A 0.1 × 1.5 = 0.15, B 0.0027701 × 43.7956 = 0.121318: A first.
    /// Binance: A 0.2 × 72 / 12,000 = 0.0012, B (50 / 361) × 72 / 411 = 0.024264: B first.
    /// Hyperliquid: A (20,000 / 18,000) × 18,000 / 12,000 = 1.666667, B (18,050 / 18,000) ×
    /// 18,000 / 411 = 43.917275: B first. Tolerance 1e-6.
    #[test]
    fn adl_ranking_by_venue_d2() {
        let mark = 18_000.0;
        let mm = 0.004 * mark;
        let (a_bitmex, b_bitmex) = (
            adl_rank(-mark, -20_000.0, -30_000.0),
            adl_rank(-mark, -18_050.0, -18_411.0),
        );
        assert!(close(a_bitmex, 0.15, 1e-9) && close(b_bitmex, 0.121318, 1e-6));
        assert!(a_bitmex > b_bitmex);
        let (a_binance, b_binance) = (
            binance_adl_rank(2_000.0, 10_000.0, mm),
            binance_adl_rank(50.0, 361.0, mm),
        );
        assert!(close(a_binance, 0.0012, 1e-12) && close(b_binance, 0.024264, 1e-6));
        assert!(b_binance > a_binance);
        let (a_hl, b_hl) = (
            hyperliquid_adl_rank(Side::Short, mark, 20_000.0, mark, 12_000.0),
            hyperliquid_adl_rank(Side::Short, mark, 18_050.0, mark, 411.0),
        );
        assert!(close(a_hl, 1.666667, 1e-6) && close(b_hl, 43.917275, 1e-6));
        assert!(b_hl > a_hl);
        // Not in profit: behind everyone in profit.
        assert_eq!(binance_adl_rank(-10.0, 1_000.0, mm), 0.0);
        assert_eq!(
            hyperliquid_adl_rank(Side::Long, mark, 18_500.0, mark, 1_000.0),
            0.0
        );
    }

    /// §8.4 H1: long 1 ETH at 2,000 with 200 isolated margin, max leverage 25 (mm 2%):
    /// liquidation at 1,836.73, where equity 36.73 is 2% of it.
    #[test]
    fn hyperliquid_liquidation_price_h1() {
        assert!(close(hyperliquid_maintenance_rate(25.0), 0.02, 1e-15));
        let liq = hyperliquid_liquidation_price(2_000.0, 1.0, 200.0, 25.0, Side::Long);
        assert!(close(liq, 1_836.73, 0.01), "{liq}");
        assert!(close(200.0 - (2_000.0 - liq), 0.02 * liq, 1e-6));
    }
}
