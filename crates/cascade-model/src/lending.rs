//! Pooled lending protocols (Aave / Compound style): multi-collateral accounts, the health
//! factor, fixed-spread liquidation with close factor, bonus and protocol fee, bad debt, and the
//! index that finds liquidatable accounts without scanning the book.
//!
//! References: Aave v3 `GenericLogic.calculateUserAccountData` (health factor) and
//! `LiquidationLogic._calculateAvailableCollateralToLiquidate` (seizure, bonus, protocol fee on the
//! bonus part), REFERENCE-MATH §1. The close factor is the v3.0–v3.2 shape: `close_factor` of the
//! debt while the health factor is above `full_close_below_health_factor`, all of it below.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use smallvec::SmallVec;

use crate::ids::{AccountId, AssetId};

/// Risk parameters of one collateral asset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CollateralParams {
    /// Maximum loan-to-value at borrowing time.
    pub ltv: f64,
    /// Weight of the collateral in the health factor; liquidatable when the weighted collateral
    /// falls below the debt.
    pub liquidation_threshold: f64,
    /// Liquidation bonus for seizing this collateral (0.05 = the liquidator receives 105% of the
    /// value repaid).
    pub liquidation_bonus: f64,
}

/// Fixed-spread liquidation parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FixedSpread {
    /// Fraction of the debt one liquidation may repay while the account is above the full-close
    /// threshold.
    pub close_factor: f64,
    /// Below this health factor a liquidation may repay the whole debt (Aave: 0.95).
    pub full_close_below_health_factor: Option<f64>,
    /// Share of the bonus part of the seized collateral that goes to the protocol treasury.
    pub protocol_fee: f64,
}

impl FixedSpread {
    /// The close factor that applies at `health_factor`.
    pub fn close_factor_at(&self, health_factor: f64) -> f64 {
        match self.full_close_below_health_factor {
            Some(threshold) if health_factor <= threshold => 1.0,
            _ => self.close_factor,
        }
    }
}

/// The parameters of a lending protocol.
#[derive(Clone, Debug, PartialEq)]
pub struct LendingParams {
    /// Collateral parameters indexed by asset; `None` if the asset is not accepted as collateral.
    pub collateral: Vec<Option<CollateralParams>>,
    /// The liquidation rule.
    pub liquidation: FixedSpread,
    /// If set, accounts are checked only at multiples of this many seconds (epoch settlement).
    pub epoch_seconds: Option<u64>,
}

/// An account: collateral balances in one or more assets and a debt in one asset.
#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    /// Collateral balances (asset, units), each asset at most once.
    pub collateral: SmallVec<[(AssetId, f64); 2]>,
    /// The borrowed asset.
    pub debt_asset: AssetId,
    /// Units of the borrowed asset owed.
    pub debt: f64,
}

impl Account {
    /// Σ collateral · price · liquidation threshold, USD.
    pub fn weighted_collateral(
        &self,
        params: &LendingParams,
        price: &impl Fn(AssetId) -> f64,
    ) -> f64 {
        self.collateral
            .iter()
            .map(|&(asset, units)| {
                let lt = params.collateral[asset.index()].map_or(0.0, |c| c.liquidation_threshold);
                units * price(asset) * lt
            })
            .sum()
    }

    /// Σ collateral · price, USD.
    pub fn collateral_value(&self, price: &impl Fn(AssetId) -> f64) -> f64 {
        self.collateral
            .iter()
            .map(|&(asset, units)| units * price(asset))
            .sum()
    }

    /// Debt value, USD.
    pub fn debt_value(&self, price: &impl Fn(AssetId) -> f64) -> f64 {
        self.debt * price(self.debt_asset)
    }

    /// Health factor = weighted collateral / debt value; infinite without debt.
    pub fn health_factor(&self, params: &LendingParams, price: &impl Fn(AssetId) -> f64) -> f64 {
        let debt = self.debt_value(price);
        if debt <= 0.0 {
            return f64::INFINITY;
        }
        self.weighted_collateral(params, price) / debt
    }

    /// Whether any collateral is left.
    pub fn has_collateral(&self) -> bool {
        self.collateral.iter().any(|&(_, units)| units > 0.0)
    }

    /// Units of `asset` held as collateral.
    pub fn collateral_of(&self, asset: AssetId) -> f64 {
        self.collateral
            .iter()
            .find(|c| c.0 == asset)
            .map_or(0.0, |c| c.1)
    }

    /// The collateral ratio that triggers liquidation for a single-collateral account:
    /// liquidatable when price(collateral) / price(debt) < debt / (collateral · threshold).
    fn trigger_ratio(&self, params: &LendingParams) -> Option<(AssetId, f64)> {
        match self.collateral.as_slice() {
            [(asset, units)] if *units > 0.0 && self.debt > 0.0 => {
                let lt = params.collateral[asset.index()]?.liquidation_threshold;
                (lt > 0.0).then(|| (*asset, self.debt / (units * lt)))
            }
            _ => None,
        }
    }
}

/// The outcome of one fixed-spread liquidation call (REFERENCE-MATH §1.3).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Seizure {
    /// Debt units repaid by the liquidator.
    pub debt_repaid: f64,
    /// Collateral units taken from the borrower (liquidator share plus protocol fee).
    pub collateral_seized: f64,
    /// Collateral units the liquidator receives.
    pub to_liquidator: f64,
    /// Collateral units the protocol treasury receives.
    pub protocol_fee: f64,
}

/// Aave v3's seizure rule: repaying `debt_to_cover` seizes its value plus `bonus` in collateral;
/// if the balance is short, all of it is seized and the repayment shrinks to match. The protocol
/// takes `protocol_fee` of the bonus part.
pub fn fixed_spread_seizure(
    debt_to_cover: f64,
    debt_price: f64,
    collateral_balance: f64,
    collateral_price: f64,
    bonus: f64,
    protocol_fee: f64,
) -> Seizure {
    let multiplier = 1.0 + bonus;
    let wanted = debt_to_cover * debt_price / collateral_price * multiplier;
    let (collateral_seized, debt_repaid) = if wanted > collateral_balance {
        (
            collateral_balance,
            collateral_balance * collateral_price / debt_price / multiplier,
        )
    } else {
        (wanted, debt_to_cover)
    };
    let bonus_part = collateral_seized - collateral_seized / multiplier;
    let fee = bonus_part * protocol_fee;
    Seizure {
        debt_repaid,
        collateral_seized,
        to_liquidator: collateral_seized - fee,
        protocol_fee: fee,
    }
}

/// Finds liquidatable accounts in O(log N + found).
///
/// Single-collateral accounts are keyed by their trigger ratio debt / (collateral · threshold),
/// one key space per (collateral, debt) pair: the liquidatable ones are exactly those whose key
/// exceeds the current price ratio. Each pair keeps the keys of the initial book in a sorted
/// vector (built once, cloned as plain memory for every Monte Carlo path) and the keys of
/// accounts re-indexed since in a small ordered overlay. An entry whose account has been
/// re-indexed or closed since is stale and skipped; stale entries at the top of the vector are
/// pruned. Accounts with several collaterals (or none) cannot be keyed by one price and are kept
/// in a set that is checked in full.
#[derive(Clone, Debug, Default)]
pub struct LiquidationIndex {
    pairs: Vec<PairIndex>,
    pair_of: BTreeMap<(AssetId, AssetId), u32>,
    /// Current key of each account: (pair, key bits), or `NO_KEY`.
    keys: Vec<(u32, u64)>,
    general: BTreeSet<u32>,
}

const NO_KEY: (u32, u64) = (u32::MAX, 0);

#[derive(Clone, Debug)]
struct PairIndex {
    assets: (AssetId, AssetId),
    sorted: Vec<(u64, u32)>,
    overlay: BTreeSet<(u64, u32)>,
}

impl LiquidationIndex {
    /// Indexes every account.
    pub fn build(params: &LendingParams, accounts: &[Account]) -> Self {
        let mut index = Self {
            keys: vec![NO_KEY; accounts.len()],
            ..Self::default()
        };
        for (i, account) in accounts.iter().enumerate() {
            if account.debt <= 0.0 {
                continue;
            }
            match account.trigger_ratio(params) {
                Some((asset, ratio)) => {
                    let pair = index.pair((asset, account.debt_asset));
                    let bits = ratio.to_bits();
                    index.pairs[pair as usize].sorted.push((bits, i as u32));
                    index.keys[i] = (pair, bits);
                }
                None => {
                    index.general.insert(i as u32);
                }
            }
        }
        for pair in &mut index.pairs {
            pair.sorted.sort_unstable();
        }
        index
    }

    fn pair(&mut self, assets: (AssetId, AssetId)) -> u32 {
        if let Some(&p) = self.pair_of.get(&assets) {
            return p;
        }
        let p = self.pairs.len() as u32;
        self.pairs.push(PairIndex {
            assets,
            sorted: Vec::new(),
            overlay: BTreeSet::new(),
        });
        self.pair_of.insert(assets, p);
        p
    }

    /// Re-indexes an account after its balances changed.
    pub fn update(&mut self, params: &LendingParams, id: AccountId, account: &Account) {
        let i = id.0;
        let (old_pair, old_bits) = std::mem::replace(&mut self.keys[id.index()], NO_KEY);
        if old_pair != NO_KEY.0 {
            // The sorted entry, if it was one, is now stale; an overlay entry is removed.
            self.pairs[old_pair as usize].overlay.remove(&(old_bits, i));
        }
        self.general.remove(&i);
        if account.debt <= 0.0 {
            return;
        }
        match account.trigger_ratio(params) {
            Some((asset, ratio)) => {
                let pair = self.pair((asset, account.debt_asset));
                let bits = ratio.to_bits();
                self.pairs[pair as usize].overlay.insert((bits, i));
                self.keys[id.index()] = (pair, bits);
            }
            None => {
                self.general.insert(i);
            }
        }
    }

    /// Drops stale entries from the top of each sorted vector, where liquidated accounts were.
    pub fn prune(&mut self) {
        for (p, pair) in self.pairs.iter_mut().enumerate() {
            while let Some(&(bits, i)) = pair.sorted.last() {
                if self.keys[i as usize] == (p as u32, bits) {
                    break;
                }
                pair.sorted.pop();
            }
        }
    }

    /// Accounts that may be liquidatable at these prices, least healthy first within each
    /// (collateral, debt) pair, then the multi-collateral accounts. Callers confirm with the
    /// health factor; the index never misses a liquidatable account.
    pub fn candidates(&self, price: &impl Fn(AssetId) -> f64, out: &mut Vec<AccountId>) {
        for (p, pair) in self.pairs.iter().enumerate() {
            let (collateral, debt) = pair.assets;
            let ratio = price(collateral) / price(debt);
            // Keys are positive floats, whose bit patterns order like the values. Step one ulp
            // below the ratio so that rounding at the boundary is left to the health factor.
            let floor = if ratio > 0.0 {
                ratio.to_bits().saturating_sub(1)
            } else {
                0
            };
            let start = pair.sorted.partition_point(|&(bits, _)| bits <= floor);
            let mut sorted = pair.sorted[start..]
                .iter()
                .rev()
                .filter(|&&(bits, i)| self.keys[i as usize] == (p as u32, bits))
                .peekable();
            let mut overlay = pair
                .overlay
                .range((Bound::Excluded((floor, u32::MAX)), Bound::Unbounded))
                .rev()
                .peekable();
            // Merge the two descending sequences. An account re-keyed back to its original key
            // is in both, adjacent in the merge: emit it once.
            let mut last = None;
            loop {
                let next = match (sorted.peek(), overlay.peek()) {
                    (Some(a), Some(b)) if a >= b => sorted.next(),
                    (Some(_), Some(_)) | (None, Some(_)) => overlay.next(),
                    (Some(_), None) => sorted.next(),
                    (None, None) => break,
                };
                if let Some(&entry) = next {
                    if last != Some(entry) {
                        out.push(AccountId(entry.1));
                    }
                    last = Some(entry);
                }
            }
        }
        out.extend(self.general.iter().map(|&i| AccountId(i)));
    }

    /// Number of accounts with debt in the index.
    pub fn len(&self) -> usize {
        self.keys.iter().filter(|k| **k != NO_KEY).count() + self.general.len()
    }

    /// Whether no account with debt is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smallvec::smallvec;

    const WETH: AssetId = AssetId(0);
    const USDC: AssetId = AssetId(1);

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    fn aave_params(lt: f64, close_factor: f64, full_close: Option<f64>, fee: f64) -> LendingParams {
        LendingParams {
            collateral: vec![
                Some(CollateralParams {
                    ltv: 0.8,
                    liquidation_threshold: lt,
                    liquidation_bonus: 0.05,
                }),
                None,
            ],
            liquidation: FixedSpread {
                close_factor,
                full_close_below_health_factor: full_close,
                protocol_fee: fee,
            },
            epoch_seconds: None,
        }
    }

    fn account(weth: f64, usdc_debt: f64) -> Account {
        Account {
            collateral: smallvec![(WETH, weth)],
            debt_asset: USDC,
            debt: usdc_debt,
        }
    }

    /// REFERENCE-MATH §1.5 A1–A3 (10 WETH, LT 0.83, bonus 5%, fee 10% of bonus, debt 17,000
    /// USDC). Tolerance 1e-6 in the asset's units.
    #[test]
    fn aave_worked_examples_a1_a2_a3() {
        let params = aave_params(0.83, 0.5, Some(0.95), 0.10);
        let a = account(10.0, 17_000.0);
        for (price, hf, repay, seized, fee, to_liquidator) in [
            (2000.0, 0.976471, 8_500.0, 4.4625, 0.02125, 4.44125),
            (1900.0, 0.927647, 17_000.0, 9.394737, 0.044737, 9.350000),
            (1500.0, 0.732353, 14_285.714286, 10.0, 0.047619, 9.952381),
        ] {
            let prices = |asset: AssetId| if asset == WETH { price } else { 1.0 };
            let health = a.health_factor(&params, &prices);
            assert!(close(health, hf, 1e-6), "{price}: hf {health}");
            let cover = params.liquidation.close_factor_at(health) * a.debt;
            let s = fixed_spread_seizure(cover, 1.0, 10.0, price, 0.05, 0.10);
            assert!(
                close(s.debt_repaid, repay, 1e-6),
                "{price}: repaid {}",
                s.debt_repaid
            );
            assert!(close(s.collateral_seized, seized, 1e-6));
            assert!(close(s.protocol_fee, fee, 1e-6));
            assert!(close(s.to_liquidator, to_liquidator, 1e-6));
        }
        // A1 leaves HF 1.081441; A3 leaves 2,714.285714 USDC of debt with no collateral.
        let after = account(10.0 - 4.4625, 8_500.0);
        assert!(close(
            after.health_factor(&params, &|x| if x == WETH { 2000.0 } else { 1.0 }),
            1.081441,
            1e-6
        ));
        assert!(close(17_000.0 - 10.0 * 1500.0 / 1.05, 2_714.285714, 1e-6));
    }

    #[test]
    fn index_finds_exactly_the_liquidatable_accounts() {
        let params = aave_params(0.8, 1.0, None, 0.0);
        let accounts: Vec<Account> = (1..=100).map(|i| account(1.0, 10.0 * i as f64)).collect();
        let index = LiquidationIndex::build(&params, &accounts);
        for price in [0.0, 1.0, 500.0, 625.0, 626.0, 1250.0, 2000.0] {
            let prices = |asset: AssetId| if asset == WETH { price } else { 1.0 };
            let mut found = Vec::new();
            index.candidates(&prices, &mut found);
            let confirmed: BTreeSet<u32> = found
                .iter()
                .filter(|id| accounts[id.index()].health_factor(&params, &prices) < 1.0)
                .map(|id| id.0)
                .collect();
            let expected: BTreeSet<u32> = (0..100u32)
                .filter(|&i| accounts[i as usize].health_factor(&params, &prices) < 1.0)
                .collect();
            assert_eq!(confirmed, expected, "price {price}");
            assert!(
                found.len() <= expected.len() + 1,
                "the index returned more than one extra"
            );
        }
    }

    proptest::proptest! {
        /// After arbitrary partial liquidations, closures and re-borrowing, the index still
        /// returns every liquidatable account (and confirmed candidates are exactly those).
        #[test]
        fn index_stays_exact_under_updates(
            debts in proptest::collection::vec(1.0f64..2000.0, 1..60),
            changes in proptest::collection::vec((0usize..60, 0.0f64..2500.0), 0..80),
            prices in proptest::collection::vec(1.0f64..3000.0, 1..6),
        ) {
            let params = aave_params(0.8, 1.0, None, 0.0);
            let mut accounts: Vec<Account> = debts.iter().map(|&d| account(1.0, d)).collect();
            let mut index = LiquidationIndex::build(&params, &accounts);
            for (k, &(which, debt)) in changes.iter().enumerate() {
                let id = which % accounts.len();
                accounts[id].debt = if k % 7 == 0 { 0.0 } else { debt };
                index.update(&params, AccountId(id as u32), &accounts[id]);
                if k % 5 == 0 {
                    index.prune();
                }
                for &price in &prices {
                    let prices = |asset: AssetId| if asset == WETH { price } else { 1.0 };
                    let mut found = Vec::new();
                    index.candidates(&prices, &mut found);
                    let confirmed: BTreeSet<u32> = found
                        .iter()
                        .filter(|id| accounts[id.index()].health_factor(&params, &prices) < 1.0)
                        .map(|id| id.0)
                        .collect();
                    let expected: BTreeSet<u32> = (0..accounts.len() as u32)
                        .filter(|&i| accounts[i as usize].health_factor(&params, &prices) < 1.0)
                        .collect();
                    proptest::prop_assert_eq!(&confirmed, &expected);
                    let unique: BTreeSet<AccountId> = found.iter().copied().collect();
                    proptest::prop_assert_eq!(unique.len(), found.len(), "no account twice");
                }
            }
        }
    }
}
