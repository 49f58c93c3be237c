//! The liquidation walls: what the book's liquidations hold, by price bucket, per protocol or
//! exchange and in total, and the nearest wall from the start price.
//!
//! Buckets run outward from the start price p₀ in steps of p₀/N: in a fall, bucket k holds the
//! triggers in [p₀·(1 − (k+1)/N), p₀·(1 − k/N)); in a rise, (p₀·(1 + k/N), p₀·(1 + (k+1)/N)].
//! Triggers already reached at the start (an account liquidatable at once) are kept apart
//! (`at_start`), and so are shorts' triggers beyond 2·p₀ (`beyond`); both count in the cumulative
//! figures, which run from the start price outward.
//!
//! A bucket is *part of a wall* when the collateral (USD) whose liquidation it triggers is at
//! least [`WALL_FACTOR`] times the average bucket's (over all N buckets, the whole range from the
//! start to 0 or to 2·p₀): a uniform book over the whole range has no wall, a book bunched in a
//! few percent of it has one there. The nearest wall is the first run of such buckets from the
//! start.

use super::book::{Direction, Trigger};

/// How many times the average bucket a wall's buckets hold.
pub const WALL_FACTOR: f64 = 2.0;

/// What a set of liquidations holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    /// Accounts (or perp positions) whose first liquidation is here.
    pub accounts: u64,
    /// Units of the asset they hold.
    pub collateral_units: f64,
    /// Their value at the trigger prices, USD.
    pub collateral_usd: f64,
    /// Their debt at the start prices, USD.
    pub debt_usd: f64,
    /// Units taken from accounts by every call here (later calls of a ladder too).
    pub seized_units: f64,
    /// Units sold (bought back, in a rise) because of them, per venue of the world.
    pub sold_by_venue: Vec<f64>,
}

impl Figures {
    fn new(venues: usize) -> Self {
        Self {
            sold_by_venue: vec![0.0; venues],
            ..Self::default()
        }
    }

    fn add(&mut self, t: &Trigger) {
        if t.first {
            self.accounts += 1;
            self.collateral_units += t.collateral;
            self.collateral_usd += t.collateral * t.price;
            self.debt_usd += t.debt_usd;
        }
        self.seized_units += t.seized;
        if let Some(v) = t.venue {
            self.sold_by_venue[v.index()] += t.sold;
        }
    }

    fn add_all(&mut self, other: &Self) {
        self.accounts += other.accounts;
        self.collateral_units += other.collateral_units;
        self.collateral_usd += other.collateral_usd;
        self.debt_usd += other.debt_usd;
        self.seized_units += other.seized_units;
        for (a, b) in self.sold_by_venue.iter_mut().zip(&other.sold_by_venue) {
            *a += b;
        }
    }

    /// Units sold on every venue.
    pub fn sold_units(&self) -> f64 {
        self.sold_by_venue.iter().sum()
    }
}

/// One bucket: per holder (in [`Walls::holders`] order) and in total.
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    /// Its edge nearest the start price.
    pub inner: f64,
    /// Its edge farthest from it.
    pub outer: f64,
    /// Per holder.
    pub holders: Vec<Figures>,
    /// All holders.
    pub total: Figures,
}

/// The walls of one direction.
#[derive(Clone, Debug, PartialEq)]
pub struct Walls {
    /// Buckets from the start price outward.
    pub buckets: Vec<Bucket>,
    /// Liquidations already reached at the start price, per holder and in total.
    pub at_start: Bucket,
    /// Shorts' liquidations beyond the last bucket (a rise only).
    pub beyond: Bucket,
}

/// A run of wall buckets.
#[derive(Clone, Debug, PartialEq)]
pub struct Wall {
    /// Its edge nearest the start price.
    pub inner: f64,
    /// Its edge farthest from it.
    pub outer: f64,
    /// What it holds.
    pub figures: Figures,
}

/// Where bucket edges lie and which bucket holds a price.
#[derive(Clone, Copy, Debug)]
pub struct Grid {
    /// The start price.
    pub start: f64,
    /// Buckets.
    pub buckets: usize,
    /// The direction.
    pub direction: Direction,
}

impl Grid {
    /// Edge k (0: the start price; N: 0 in a fall, 2·p₀ in a rise).
    pub fn edge(&self, k: usize) -> f64 {
        self.start * (1.0 - self.direction.sign() * k as f64 / self.buckets as f64)
    }

    /// Where a trigger at `price` goes.
    fn place(&self, price: f64) -> Place {
        let distance = self.direction.sign() * (self.start - price);
        if distance <= 0.0 {
            return Place::AtStart;
        }
        let k = (distance / self.start * self.buckets as f64).floor() as usize;
        // Rounding may put a price on an edge into the next bucket or the previous one: the
        // edges decide.
        let k = k.min(self.buckets);
        let k = match self.direction {
            Direction::Fall if k > 0 && price >= self.edge(k) => k - 1,
            Direction::Fall if k < self.buckets && price < self.edge(k + 1) => k + 1,
            Direction::Rise if k > 0 && price <= self.edge(k) => k - 1,
            Direction::Rise if k < self.buckets && price > self.edge(k + 1) => k + 1,
            Direction::Fall | Direction::Rise => k,
        };
        if k >= self.buckets {
            Place::Beyond
        } else {
            Place::Bucket(k)
        }
    }
}

enum Place {
    AtStart,
    Bucket(usize),
    Beyond,
}

impl Walls {
    /// Empty walls on `grid` for `holders` holders and `venues` venues.
    pub fn new(grid: &Grid, holders: usize, venues: usize) -> Self {
        let bucket = |inner, outer| Bucket {
            inner,
            outer,
            holders: vec![Figures::new(venues); holders],
            total: Figures::new(venues),
        };
        Self {
            buckets: (0..grid.buckets)
                .map(|k| bucket(grid.edge(k), grid.edge(k + 1)))
                .collect(),
            at_start: bucket(grid.start, grid.start),
            beyond: bucket(grid.edge(grid.buckets), grid.edge(grid.buckets)),
        }
    }

    /// Adds a liquidation of holder number `holder`.
    pub fn add(&mut self, grid: &Grid, holder: usize, t: &Trigger) {
        let bucket = match grid.place(t.price) {
            Place::AtStart => &mut self.at_start,
            Place::Bucket(k) => &mut self.buckets[k],
            Place::Beyond => &mut self.beyond,
        };
        bucket.holders[holder].add(t);
        bucket.total.add(t);
    }

    /// The cumulative figures from the start price through each bucket, per holder (`None`:
    /// the total), including what is reached at the start.
    pub fn cumulative(&self, holder: Option<usize>) -> Vec<Figures> {
        let pick = |b: &Bucket| match holder {
            Some(h) => b.holders[h].clone(),
            None => b.total.clone(),
        };
        let mut sum = pick(&self.at_start);
        self.buckets
            .iter()
            .map(|b| {
                sum.add_all(&pick(b));
                sum.clone()
            })
            .collect()
    }

    /// The nearest wall from the start price (see the module's documentation).
    pub fn nearest(&self) -> Option<Wall> {
        let all: f64 = self.buckets.iter().map(|b| b.total.collateral_usd).sum();
        if all <= 0.0 {
            return None;
        }
        let bar = WALL_FACTOR * all / self.buckets.len() as f64;
        let first = self
            .buckets
            .iter()
            .position(|b| b.total.collateral_usd >= bar)?;
        let mut wall = Wall {
            inner: self.buckets[first].inner,
            outer: self.buckets[first].outer,
            figures: Figures::new(self.buckets[first].total.sold_by_venue.len()),
        };
        for b in self.buckets[first..]
            .iter()
            .take_while(|b| b.total.collateral_usd >= bar)
        {
            wall.outer = b.outer;
            wall.figures.add_all(&b.total);
        }
        Some(wall)
    }
}
