//! Liquidation via transfer: a pre-funded backstop vault takes over a liquidatable position —
//! it repays the whole debt and takes collateral worth the debt plus a penalty, off the market —
//! and unwinds what it took over time, by selling a fraction of its inventory per hour, or
//! hedged (it holds, its profit and loss locked at the takeover price). The essay's closing
//! proposal; Liquity's stability pool, Hyperliquid's HLP and Compound III's absorb are
//! protocol-specific forms of it.

/// How the vault unwinds the collateral it takes over.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unwind {
    /// Sell this fraction of the current inventory per hour on the asset's primary venue.
    Sell {
        /// Fraction of inventory sold per hour (0 < x ≤ 1).
        fraction_per_hour: f64,
    },
    /// Hold, hedged: no sales, and the holdings are valued at their takeover price.
    Hedge,
}

/// A backstop vault's rules.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackstopParams {
    /// The vault takes collateral worth debt × (1 + penalty), or all of it if worth less.
    pub penalty: f64,
    /// USD the vault can spend repaying debt; `None` unlimited.
    pub capital: Option<f64>,
    /// How it unwinds.
    pub unwind: Unwind,
}

/// The vault's balances during a run.
#[derive(Clone, Debug, PartialEq)]
pub struct BackstopVault {
    /// USD spent repaying debt.
    pub spent: f64,
    /// USD received from unwinding sales.
    pub received: f64,
    /// Collateral units held, per asset.
    pub inventory: Vec<f64>,
    /// USD value of the holdings at their takeover prices, per asset (the hedged valuation).
    pub cost_basis: Vec<f64>,
}

impl BackstopVault {
    /// An empty vault for a world with `assets` assets.
    pub fn new(assets: usize) -> Self {
        Self {
            spent: 0.0,
            received: 0.0,
            inventory: vec![0.0; assets],
            cost_basis: vec![0.0; assets],
        }
    }

    /// USD still available for takeovers under `capital` (sale proceeds replenish it).
    pub fn available(&self, capital: Option<f64>) -> f64 {
        capital.map_or(f64::INFINITY, |c| (c - self.spent + self.received).max(0.0))
    }
}

/// What a takeover of one collateral does: the debt repaid (all of it) and the collateral taken.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Takeover {
    /// Debt units repaid by the vault.
    pub debt_repaid: f64,
    /// Collateral units taken.
    pub collateral_taken: f64,
}

/// The takeover of an account owing `debt` (at `debt_price`) with `balance` of a collateral at
/// `collateral_price`: all the debt, and collateral worth debt × (1 + penalty) or all of it.
pub fn takeover(
    debt: f64,
    debt_price: f64,
    balance: f64,
    collateral_price: f64,
    penalty: f64,
) -> Takeover {
    let wanted = debt * debt_price * (1.0 + penalty) / collateral_price;
    Takeover {
        debt_repaid: debt,
        collateral_taken: wanted.min(balance),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vault_takes_the_debt_and_collateral_worth_debt_plus_penalty() {
        // 17,000 USDC of debt against 10 ETH at 1,900, penalty 5%: 9.394737 ETH taken.
        let t = takeover(17_000.0, 1.0, 10.0, 1_900.0, 0.05);
        assert_eq!(t.debt_repaid, 17_000.0);
        assert!((t.collateral_taken - 9.394737).abs() < 1e-6);
        // Under water: all the collateral, and still all the debt (the vault takes the loss).
        let t = takeover(17_000.0, 1.0, 10.0, 1_500.0, 0.05);
        assert_eq!((t.debt_repaid, t.collateral_taken), (17_000.0, 10.0));
    }
}
