//! The uniform liquidation wall against its closed form (docs/model.md §3).
//!
//! The book: N equal positions of c = C/N units each, liquidation prices evenly spaced in [L, H]
//! (`distribution = "even"`: p_L,i = L + (i + ½)·Δ, Δ = (H − L)/N) with H = P0, the start price.
//! One linear venue (λ USD per unit sold, all impact permanent), an instant oracle on it
//! (`aggregation = "last"`, updated on every read, so it re-reads inside the cascade), fixed-spread
//! liquidation with close factor 1, bonus b and threshold LT, one keeper who sells everything it
//! seizes on the venue at once, and a shock s at step 1. Then ρ = C/(H − L) units per USD of
//! price, κ = min(1, LT·(1 + b)) and m = λ·ρ·κ, and for m < 1 the total fall is s·P0/(1 − m).
//!
//! # Why the simulated fall is bracketed, and by how much
//!
//! Let D = P0 − p_min be the simulated fall. With all impact permanent and no protocol fee,
//! the venue's bid is the shocked fundamental less λ per unit sold, so exactly
//!
//!   D = s·P0 + λ·U,  U = Σ over liquidated accounts of f_i·c,
//!
//! where f_i is the fraction of its collateral the one full-close call seized. A position with
//! liquidation price p_L liquidated at a published price p < p_L has debt c·p_L·LT and loses
//! f = min(1, LT·(1 + b)·p_L/p) of its collateral — not κ. As P0 ≥ p_L and p ≥ p_min, f lies in
//! [κ, min(1, LT·(1 + b)·P0/p_min)]. When no liquidation is ever skipped (asserted: no keeper
//! declines a call), a position is liquidated at the first published price below its p_L, and
//! the price published before that was ≥ p_L; so p_L/p ≤ r, the largest ratio of consecutive
//! published prices (P0 → P0·(1 − s) is the first; r ≤ P0/p_min). Hence
//!
//!   κ ≤ f ≤ κ' := min(1, LT·(1 + b)·r),   and we write m' = λ·ρ·κ'.
//!
//! The cascade stops only when nothing is liquidatable at the last published price p_min, so the
//! liquidated accounts are exactly those with p_L > p_min. On the even grid their number n is
//! within ½ of (P0 − p_min)/Δ, so their collateral n·c lies in [ρ·D − c, ρ·D + c]. Hence
//!
//!   lower = (s·P0 − λ·κ·c)/(1 − m)  ≤  D  ≤  (s·P0 + λ·κ'·c)/(1 − m') = upper   (m' < 1),
//!
//! which contains the closed form s·P0/(1 − m) and shrinks to it as positions get finer and the
//! fall smaller. We assert lower − ε ≤ D ≤ upper + ε with ε = 1e-9·P0 for floating point, and
//! n = #{i : p_L,i > p_min} within one position.
//!
//! # The engine's feedback gain
//!
//! `cascade.feedback_gain.ETH` counts the collateral whose trigger lies in [0.99·P0, P0), each
//! sold at κ (the trigger of a generated position is exactly its p_L), over the depth that
//! absorbs a 1% fall, 0.01·P0/λ. The even grid puts ρ·0.01·P0 units in that window up to one
//! position, so |gain − m| ≤ λ·κ·c/(0.01·P0) (+ 1e-12 for rounding).
//!
//! # m ≥ 1
//!
//! If the cascade stopped inside the wall, the lower bound above would give D·(1 − m) ≥
//! s·P0 − λ·κ·c, impossible for m ≥ 1 when the shock moves the price by more than one position
//! does (s·P0 > λ·κ·c, true of every set below). So every position must be liquidated, and the
//! bid must end below the lowest liquidation price L + Δ/2. (Here the keeper does decline calls
//! on the way — within one round its own pending sales push the sale price more than the bonus
//! below the published price — but the first call of every round is profitable, so declines
//! delay the cascade by rounds without stopping it; the round limit is set high enough that
//! all of it happens within the run, which the test also asserts.)

#![allow(clippy::print_stderr)] // the figures are printed for `--nocapture`

use cascade_engine::EventKind;

const P0: f64 = 2000.0;

/// One uniform-wall scenario.
#[derive(Clone, Copy, Debug)]
struct Wall {
    /// Positions.
    n: u64,
    /// Total collateral, ETH.
    collateral: f64,
    /// Bottom of the wall, USD (the top is P0).
    low: f64,
    /// Linear impact λ, USD per ETH sold.
    lambda: f64,
    /// Liquidation bonus.
    bonus: f64,
    /// Liquidation threshold.
    threshold: f64,
    /// Exogenous shock, a fraction.
    shock: f64,
}

impl Wall {
    fn rho(&self) -> f64 {
        self.collateral / (P0 - self.low)
    }

    fn kappa(&self) -> f64 {
        (self.threshold * (1.0 + self.bonus)).min(1.0)
    }

    fn m(&self) -> f64 {
        self.lambda * self.rho() * self.kappa()
    }

    /// Collateral of one position.
    fn c(&self) -> f64 {
        self.collateral / self.n as f64
    }

    fn toml(&self) -> String {
        let Wall {
            n,
            collateral,
            low,
            lambda,
            bonus,
            threshold,
            shock,
        } = *self;
        let ltv = threshold - 0.05;
        format!(
            r#"
[simulation]
name = "wall"
seed = 1
steps = 5
step_seconds = 60
max_rounds = 100000

[[assets]]
symbol = "ETH"
price = {P0:?}

[[assets]]
symbol = "USDC"
price = 1.0

[[venues]]
name = "spot"
base = "ETH"
quote = "USDC"
impact = {{ model = "linear", usd_per_unit = {lambda:?} }}

[[oracles]]
name = "eth-usd"
asset = "ETH"
sources = ["spot"]
aggregation = "last"

[[protocols]]
name = "lender"
kind = "lending"
liquidation = {{ mechanism = "fixed_spread", bonus = {bonus:?}, close_factor = 1.0 }}
oracles = {{ ETH = "eth-usd" }}
collateral = {{ ETH = {{ ltv = {ltv:?}, liquidation_threshold = {threshold:?} }} }}

[[positions]]
protocol = "lender"
count = {n}
collateral = {{ asset = "ETH", total = {collateral:?} }}
debt = {{ asset = "USDC" }}
liquidation_price = {{ distribution = "even", low = {low:?}, high = {P0:?} }}

[[keepers]]
name = "keeper"
protocols = ["lender"]
sell_on = "spot"

[[shocks]]
asset = "ETH"
step = 1
drop = {shock:?}
"#
        )
    }

    /// Liquidation prices of the even book, lowest first.
    fn liquidation_prices(&self) -> impl Iterator<Item = f64> + '_ {
        let step = (P0 - self.low) / self.n as f64;
        (0..self.n).map(move |i| self.low + (i as f64 + 0.5) * step)
    }
}

struct Outcome {
    fall: f64,
    /// Largest ratio of consecutive published oracle prices, starting from P0.
    ratio: f64,
    min_price: f64,
    gain: f64,
    accounts_liquidated: u64,
    /// Liquidatable accounts the keeper declined (unprofitable at the round's sale price).
    missed: u64,
}

fn simulate(wall: &Wall) -> Outcome {
    let run = cascade_test_support::run_str(&wall.toml());
    let s = &run.summary;
    let eth = &s.assets["ETH"];
    assert_eq!(eth.start_price, P0, "{wall:?}: the venue starts at P0");
    // total_drop is the largest drawdown of the venue's bid; the bid only falls here, so it is
    // also (start − min)/start.
    let fall = eth.total_drop * P0;
    assert!(
        (fall - (P0 - eth.min_price)).abs() <= 1e-9 * P0,
        "{wall:?}: total_drop·P0 = {fall} but start − min = {}",
        P0 - eth.min_price
    );
    assert_eq!(
        s.cascade.round_limit_hits, 0,
        "{wall:?}: the cascade must settle within the round limit"
    );
    let mut ratio: f64 = 1.0;
    let mut last = P0;
    for event in &run.events {
        if let EventKind::OraclePublished { price, .. } = event.kind {
            ratio = ratio.max(last / price);
            last = price;
        }
    }
    Outcome {
        fall,
        ratio,
        min_price: eth.min_price,
        gain: s.cascade.feedback_gain["ETH"],
        accounts_liquidated: s.protocols["lender"].accounts_liquidated,
        missed: s.liquidations.missed,
    }
}

fn check_gain(wall: &Wall, gain: f64) {
    let m = wall.m();
    let tolerance = wall.lambda * wall.kappa() * wall.c() / (0.01 * P0) + 1e-12;
    assert!(
        (gain - m).abs() <= tolerance,
        "{wall:?}: engine feedback gain {gain} vs λ·ρ·κ = {m} (tolerance {tolerance})"
    );
}

#[test]
fn subcritical_walls_fall_by_s_over_one_minus_m() {
    let walls = [
        // examples/uniform-wall.toml with an even book: m = 0.1785.
        Wall {
            n: 10_000,
            collateral: 50_000.0,
            low: 1500.0,
            lambda: 0.002,
            bonus: 0.05,
            threshold: 0.85,
            shock: 0.05,
        },
        // Twice the impact: m = 0.357.
        Wall {
            n: 10_000,
            collateral: 50_000.0,
            low: 1500.0,
            lambda: 0.004,
            bonus: 0.05,
            threshold: 0.85,
            shock: 0.05,
        },
        // Twice the density, other bonus and threshold: κ = 0.88, m = 0.352.
        Wall {
            n: 20_000,
            collateral: 100_000.0,
            low: 1500.0,
            lambda: 0.002,
            bonus: 0.10,
            threshold: 0.80,
            shock: 0.05,
        },
        // LT·(1 + b) > 1: every call seizes all the collateral (κ = 1), m = 0.3.
        Wall {
            n: 10_000,
            collateral: 50_000.0,
            low: 1500.0,
            lambda: 0.003,
            bonus: 0.15,
            threshold: 0.90,
            shock: 0.05,
        },
        // A small shock on a narrower, denser wall: ρ = 200, κ = 0.84, m = 0.504.
        Wall {
            n: 8_000,
            collateral: 80_000.0,
            low: 1600.0,
            lambda: 0.003,
            bonus: 0.05,
            threshold: 0.80,
            shock: 0.02,
        },
        // Close to critical: m = 0.714.
        Wall {
            n: 10_000,
            collateral: 50_000.0,
            low: 1500.0,
            lambda: 0.008,
            bonus: 0.05,
            threshold: 0.85,
            shock: 0.03,
        },
    ];
    for wall in &walls {
        let m = wall.m();
        assert!(m < 1.0, "{wall:?} is meant to be subcritical");
        let out = simulate(wall);
        assert_eq!(out.missed, 0, "{wall:?}: the keeper declined liquidations");
        let (s, lambda, c, rho) = (wall.shock, wall.lambda, wall.c(), wall.rho());
        let closed_form = s * P0 / (1.0 - m);
        assert!(out.ratio <= P0 / out.min_price * (1.0 + 1e-12));
        let kappa_hi = (wall.threshold * (1.0 + wall.bonus) * out.ratio).min(1.0);
        let m_hi = lambda * rho * kappa_hi;
        assert!(
            m_hi < 1.0,
            "{wall:?}: m' = {m_hi} leaves the fall unbounded"
        );
        let lower = (s * P0 - lambda * wall.kappa() * c) / (1.0 - m);
        let upper = (s * P0 + lambda * kappa_hi * c) / (1.0 - m_hi);
        let eps = 1e-9 * P0;
        eprintln!(
            "m = {m:.4}: simulated fall {:.4} USD, closed form {closed_form:.4} \
             ({:+.3}%), bracket [{lower:.4}, {upper:.4}], engine m {:.4}",
            out.fall,
            100.0 * (out.fall / closed_form - 1.0),
            out.gain
        );
        assert!(
            out.fall >= lower - eps && out.fall <= upper + eps,
            "{wall:?}: fall {} outside [{lower}, {upper}] (closed form {closed_form})",
            out.fall
        );
        // The cascade stayed inside the wall, and took exactly the positions above p_min.
        assert!(out.min_price > wall.low, "{wall:?}: fell through the wall");
        let above = wall
            .liquidation_prices()
            .filter(|&p| p > out.min_price)
            .count() as u64;
        assert!(
            out.accounts_liquidated.abs_diff(above) <= 1,
            "{wall:?}: {} accounts liquidated, {above} have p_L above p_min = {}",
            out.accounts_liquidated,
            out.min_price
        );
        check_gain(wall, out.gain);
    }
}

#[test]
fn supercritical_walls_run_through() {
    let walls = [
        // m = 0.012·100·0.8925 = 1.071.
        Wall {
            n: 10_000,
            collateral: 50_000.0,
            low: 1500.0,
            lambda: 0.012,
            bonus: 0.05,
            threshold: 0.85,
            shock: 0.05,
        },
        // Exactly critical: κ = 1 (LT·(1 + b) = 1.035), λ·ρ = 1.
        Wall {
            n: 5_000,
            collateral: 50_000.0,
            low: 1500.0,
            lambda: 0.01,
            bonus: 0.15,
            threshold: 0.90,
            shock: 0.05,
        },
        // A denser, narrower wall: ρ = 500, κ = 0.864, m = 1.296.
        Wall {
            n: 4_000,
            collateral: 200_000.0,
            low: 1600.0,
            lambda: 0.003,
            bonus: 0.08,
            threshold: 0.80,
            shock: 0.05,
        },
        // A half-percent shock on a strongly supercritical wall: κ = 1, m = 2.
        Wall {
            n: 10_000,
            collateral: 50_000.0,
            low: 1500.0,
            lambda: 0.02,
            bonus: 0.25,
            threshold: 0.80,
            shock: 0.005,
        },
    ];
    for wall in &walls {
        let m = wall.m();
        assert!(m >= 1.0 - 1e-12, "{wall:?} is meant to be supercritical");
        assert!(
            wall.shock * P0 > wall.lambda * wall.kappa() * wall.c(),
            "{wall:?}: the shock must move the price by more than one position does"
        );
        let out = simulate(wall);
        let lowest = wall.low + 0.5 * (P0 - wall.low) / wall.n as f64;
        eprintln!(
            "m = {m:.4}: {} of {} accounts liquidated, bid {P0} → {:.2} (wall bottom {}), \
             engine m {:.4}, {} calls declined on the way",
            out.accounts_liquidated, wall.n, out.min_price, wall.low, out.gain, out.missed
        );
        assert_eq!(
            out.accounts_liquidated, wall.n,
            "{wall:?}: the cascade stopped inside the wall at {}",
            out.min_price
        );
        assert!(
            out.min_price < lowest,
            "{wall:?}: bid {} never went below the lowest liquidation price {lowest}",
            out.min_price
        );
        check_gain(wall, out.gain);
    }
}
