//! The liquidation map (`cascade map`): where the walls are. For every asset, read off the
//! initial book and venues without running anything:
//!
//! - the liquidation walls — collateral, debt and units sold, per price bucket, per protocol or
//!   perp exchange and in total, and cumulative from the start price ([`wall`]);
//! - the feedback gain m(p) = λ(p)·κ·ρ(p) over the whole price range, its largest value and the
//!   death-spiral threshold, the first price from the start at which m ≥ 1 ([`gain`]);
//! - the cascade curve: the price a cascade ends at after an instant shock, by the map and, on
//!   request, by full runs of the scenario ([`curve`]).
//!
//! A fall is mapped for every asset that is collateral or has perp longs; a rise for every asset
//! with perp shorts (the wall above the price). The book's liquidations come from [`book`]: each
//! lending account's ladder of calls under its protocol's own rule, each perp position's close.
//! Prices are on one axis per asset, its start price p₀ being the primary venue's price at the
//! start (the fundamental without a venue); a protocol whose oracle starts elsewhere has its
//! triggers scaled to it, which assumes its oracle moves with the venue.
//!
//! `cascade.feedback_gain` of summary.json is m at the start price as it was first defined (only
//! each account's first call, priced 1e-9 below its trigger: [`crate::feedback`]); the map's
//! m(p₀) counts every call of a ladder that falls in the window, priced at its trigger, so the two
//! agree to about 1e-9 where no account is called twice within 1% of the start.
//! `cascade.feedback_gain_max`, `cascade.spiral_price` and `cascade.nearest_wall` come from here,
//! read with first calls only ([`MapOptions::calls`] = 1).

pub mod book;
pub mod curve;
pub mod gain;
pub mod wall;

use cascade_engine::World;
use cascade_model::ids::{AssetId, VenueId};
use rayon::prelude::*;

pub use book::{Direction, Holder, Trigger, for_each_trigger};
pub use curve::{CurvePoint, DEFAULT_SHOCKS};
pub use gain::{GainPoint, MapVenue, Sales};
pub use wall::{Bucket, Figures, Wall, Walls};

/// Buckets per direction when none are asked for: each 1% of the start price.
pub const DEFAULT_BUCKETS: usize = 100;

/// What to map.
#[derive(Clone, Debug, PartialEq)]
pub struct MapOptions {
    /// Buckets per direction (≥ 1).
    pub buckets: usize,
    /// Shocks of the cascade curve, fractions in (0, 1).
    pub shocks: Vec<f64>,
    /// The most calls of each lending account followed ([`book::MAX_CALLS`]; 1: first calls
    /// only, as the summary reads them).
    pub calls: usize,
}

impl Default for MapOptions {
    fn default() -> Self {
        Self {
            buckets: DEFAULT_BUCKETS,
            shocks: DEFAULT_SHOCKS.to_vec(),
            calls: book::MAX_CALLS,
        }
    }
}

/// The map of a world.
#[derive(Clone, Debug)]
pub struct LiquidationMap {
    /// Buckets per direction.
    pub buckets: usize,
    /// The assets with anything to liquidate, in world order.
    pub assets: Vec<AssetMap>,
}

/// The map of one asset.
#[derive(Clone, Debug)]
pub struct AssetMap {
    /// The asset.
    pub asset: AssetId,
    /// Its symbol.
    pub symbol: String,
    /// p₀: the primary venue's price at the start (the fundamental without a venue).
    pub start_price: f64,
    /// The fundamental at the start.
    pub fundamental_start_price: f64,
    /// The primary venue, whose price m and the curve are about.
    pub venue: Option<VenueId>,
    /// Lending protocols, then perp exchanges, in world order: the `holders` of each bucket.
    pub holders: Vec<Holder>,
    /// The fall (collateral and perp longs), if anything is liquidated in one.
    pub fall: Option<DirectionMap>,
    /// The rise (perp shorts), if anything is liquidated in one.
    pub rise: Option<DirectionMap>,
}

/// One direction of an asset's map.
#[derive(Clone, Debug)]
pub struct DirectionMap {
    /// Which.
    pub direction: Direction,
    /// The walls, bucket by bucket.
    pub walls: Walls,
    /// m at each bucket's edge nearest the start (empty without a venue).
    pub gain: Vec<GainPoint>,
    /// The largest of them (`None`: m is 0 everywhere, or no venue).
    pub gain_max: Option<GainPoint>,
    /// The first price from the start with m ≥ 1.
    pub spiral_price: Option<f64>,
    /// The nearest wall.
    pub nearest_wall: Option<Wall>,
    /// The cascade curve (empty without a venue or shocks).
    pub curve: Vec<CurvePoint>,
}

impl LiquidationMap {
    /// The map of `world`'s initial book (the cascade curve by the map only).
    pub fn of(world: &World, options: &MapOptions) -> Self {
        let assets = (0..world.assets.len())
            .filter_map(|a| AssetMap::of(world, AssetId(a as u32), options))
            .collect();
        Self {
            buckets: options.buckets,
            assets,
        }
    }

    /// Runs the scenario once per point of every cascade curve (in parallel, on the current
    /// rayon pool) and records where each run's cascade ended.
    pub fn run_curves(&mut self, world: &World) {
        self.run_curves_with_progress(world, &|| {});
    }

    /// The number of runs [`Self::run_curves`] makes: the points of every cascade curve.
    pub fn curve_points(&self) -> usize {
        self.assets
            .iter()
            .flat_map(|a| [&a.fall, &a.rise])
            .flatten()
            .map(|map| map.curve.len())
            .sum()
    }

    /// [`Self::run_curves`], calling `done` after each run (a progress bar).
    pub fn run_curves_with_progress(&mut self, world: &World, done: &(dyn Fn() + Sync)) {
        let mut jobs: Vec<(AssetId, Direction, &mut CurvePoint)> = Vec::new();
        for asset in &mut self.assets {
            let id = asset.asset;
            for map in [&mut asset.fall, &mut asset.rise].into_iter().flatten() {
                let direction = map.direction;
                jobs.extend(map.curve.iter_mut().map(|p| (id, direction, p)));
            }
        }
        jobs.into_par_iter().for_each(|(asset, direction, point)| {
            point.final_price_run = curve::run_point(world, asset, direction, point.shock);
            done();
        });
    }
}

impl AssetMap {
    /// The map of `asset`, or `None` when nothing liquidates on its moves.
    pub fn of(world: &World, asset: AssetId, options: &MapOptions) -> Option<Self> {
        let info = &world.assets[asset.index()];
        let fundamental = world.initial.fundamentals[asset.index()].price();
        let venue = info.primary_venue;
        let start_price = venue.map_or(fundamental, |v| {
            world.initial.venues[v.index()].price(fundamental)
        });
        let holders: Vec<Holder> = (0..world.protocols.len() as u32)
            .map(Holder::Lending)
            .chain((0..world.perps.len() as u32).map(Holder::Perp))
            .collect();
        let mut collect =
            Direction::BOTH.map(|direction| Collect::new(world, options, start_price, direction));
        for_each_trigger(world, asset, start_price, options.calls, |t| {
            let holder = match t.holder {
                Holder::Lending(p) => p as usize,
                Holder::Perp(x) => world.protocols.len() + x as usize,
            };
            collect[t.direction as usize].add(holder, t, venue);
        });
        let map_venue = venue.map(|v| MapVenue {
            venue: world.initial.venues[v.index()].clone(),
            fundamental,
            price: start_price,
        });
        let [fall, rise] = collect.map(|c| c.finish(map_venue.as_ref(), &options.shocks));
        (fall.is_some() || rise.is_some()).then(|| Self {
            asset,
            symbol: info.symbol.clone(),
            start_price,
            fundamental_start_price: fundamental,
            venue,
            holders,
            fall,
            rise,
        })
    }
}

/// One direction's liquidations, gathered in one pass over the book.
struct Collect {
    grid: wall::Grid,
    walls: Walls,
    /// (trigger price, units sold on the primary venue).
    sales: Vec<(f64, f64)>,
    any: bool,
}

impl Collect {
    fn new(world: &World, options: &MapOptions, start: f64, direction: Direction) -> Self {
        let grid = wall::Grid {
            start,
            buckets: options.buckets.max(1),
            direction,
        };
        Self {
            walls: Walls::new(
                &grid,
                world.protocols.len() + world.perps.len(),
                world.venues.len(),
            ),
            grid,
            sales: Vec::new(),
            any: false,
        }
    }

    fn add(&mut self, holder: usize, t: &Trigger, primary: Option<VenueId>) {
        self.any = true;
        self.walls.add(&self.grid, holder, t);
        if t.venue.is_some() && t.venue == primary {
            self.sales.push((t.price, t.sold));
        }
    }

    fn finish(self, venue: Option<&MapVenue>, shocks: &[f64]) -> Option<DirectionMap> {
        if !self.any {
            return None;
        }
        let direction = self.grid.direction;
        let nearest_wall = self.walls.nearest();
        let sales = Sales::new(self.sales);
        let (gain, gain_max, spiral_price, curve) = match venue {
            Some(venue) => {
                let m = gain::Gain {
                    direction,
                    sales: &sales,
                    venue,
                };
                let points: Vec<GainPoint> = (0..self.grid.buckets)
                    .map(|k| m.at(self.grid.edge(k)))
                    .collect();
                let curve = shocks
                    .iter()
                    .map(|&s| curve::map_point(direction, s, &sales, venue))
                    .collect();
                let (largest, spiral) = (gain::largest(&points), m.spiral(&points));
                (points, largest, spiral, curve)
            }
            None => (Vec::new(), None, None, Vec::new()),
        };
        Some(DirectionMap {
            direction,
            walls: self.walls,
            gain,
            gain_max,
            spiral_price,
            nearest_wall,
            curve,
        })
    }
}

/// One position in the open liquidation-level schema of public dashboards: who, at what price,
/// what collateral and how much (positions.csv, positions.json).
#[derive(Clone, Debug, PartialEq)]
pub struct Position {
    /// The protocol or exchange.
    pub holder: Holder,
    /// The owner: the account's label in its positions file, else its number.
    pub owner: String,
    /// `lending`, `perp_long` or `perp_short`.
    pub kind: &'static str,
    /// The price, as the holder sees it (its oracle's, or the market's mark), at which the
    /// position is liquidated, the other prices held at the start.
    pub liquidation_price: f64,
    /// The asset whose price it is: the collateral (a perp position: the market's asset).
    pub collateral_asset: AssetId,
    /// Units of it the account holds (a perp position: its size).
    pub collateral_amount: f64,
    /// The debt asset (a perp position: none).
    pub debt_asset: Option<AssetId>,
    /// Units owed (a perp position: 0).
    pub debt_amount: f64,
}

/// Every position of the initial book with a liquidation price, asset by asset in world order,
/// then holders and accounts in order (a multi-collateral account has one per collateral asset).
pub fn positions(world: &World) -> Vec<Position> {
    let mut out = Vec::new();
    for a in 0..world.assets.len() {
        let asset = AssetId(a as u32);
        // The axis does not matter here: positions report their holders' own prices.
        for_each_trigger(world, asset, 1.0, 1, |t| {
            if !t.first {
                return;
            }
            let (kind, debt_asset) = match (t.holder, t.direction) {
                (Holder::Lending(_), Direction::Fall | Direction::Rise) => {
                    ("lending", Some(t.debt_asset))
                }
                (Holder::Perp(_), Direction::Fall) => ("perp_long", None),
                (Holder::Perp(_), Direction::Rise) => ("perp_short", None),
            };
            out.push(Position {
                holder: t.holder,
                owner: t.holder.owner(world, t.account),
                kind,
                liquidation_price: t.own_price,
                collateral_asset: asset,
                collateral_amount: t.collateral,
                debt_asset,
                debt_amount: t.debt,
            });
        });
    }
    out
}
