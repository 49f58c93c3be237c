//! Oracles: how protocols see prices.
//!
//! An oracle reads its sources (venue prices or the fundamental), aggregates them (last value,
//! median of sources, or a time-weighted average of the aggregate over a window) and publishes by
//! its own rule: on every read, on a deviation threshold or heartbeat (Chainlink push feeds,
//! docs/reference-math.md §9.1), or one period late (Maker's Oracle Security Module, §4.3).
//! Protocols only
//! ever see the published price.
//!
//! A published price has an age: the seconds since its last publication, the `updatedAt` of a
//! Chainlink round. A feed may post nothing for a while (its outages: nodes halted, or their
//! transactions not getting in), and a protocol may check the age against a maximum and pause
//! or fall back to a second oracle when the price is older ([`Staleness`], [`FeedChoice`];
//! docs/reference-math.md §9.4).

use std::collections::VecDeque;
use std::sync::Arc;

use crate::Seconds;

/// How the readings of several sources, or of one source over time, become one value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Aggregation {
    /// The value of the single source.
    Last,
    /// The median of the sources (the mean of the two middle values for an even count).
    Median,
    /// Time-weighted average over `window` seconds of the median of the sources.
    Twap {
        /// Averaging window in seconds (> 0).
        window: Seconds,
        /// Which mean.
        mean: TwapMean,
    },
}

/// The mean used by a time-weighted average.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TwapMean {
    /// Arithmetic mean of prices weighted by time.
    Arithmetic,
    /// Geometric mean (mean of log prices), as Uniswap v3 computes it, without tick rounding.
    Geometric,
    /// Uniswap v3's own computation: prices become ticks (floor of log base 1.0001), the mean tick
    /// is rounded toward negative infinity, and the price is 1.0001^tick (docs/reference-math.md
    /// §9.2).
    UniswapV3Ticks,
}

/// When the aggregate becomes the published price.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UpdateRule {
    /// Publish on every read (an instant oracle).
    EveryRead,
    /// Publish when the aggregate deviates from the published price by more than `threshold`
    /// (relative) or when `heartbeat` seconds have passed since the last publication.
    Deviation {
        /// Relative deviation that triggers an update (0.005 = 0.5%).
        threshold: f64,
        /// Maximum age of the published price, seconds.
        heartbeat: Seconds,
    },
    /// Maker OSM: every `period` seconds (at multiples of it) publish the value read at the
    /// previous poke and remember the current one for the next.
    Delayed {
        /// The hop, seconds.
        period: Seconds,
    },
}

/// What a protocol does with a price older than its maximum age (docs/reference-math.md §9.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnStale {
    /// No liquidation that needs the stale price: what a protocol does that reverts when
    /// `block.timestamp - updatedAt > maxAge`, as Chainlink's documentation advises ("pause
    /// operation").
    Pause,
    /// Price the asset by a second oracle while the first is stale and the second is not, as
    /// Liquity's `PriceFeed` switches from a frozen Chainlink to Tellor (liquity/dev
    /// `packages/contracts/contracts/PriceFeed.sol` L158–173); when both are stale, pause (where
    /// Liquity returns its `lastGoodPrice`, L169).
    ///
    /// (Aave v3's `AaveOracle.getAssetPrice` falls back only on a missing source or an answer
    /// ≤ 0, aave-v3-core `contracts/misc/AaveOracle.sol` L101–116: it checks no age.)
    Fallback,
}

/// A protocol's check of its feeds' age: a maximum age and what an older price makes it do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Staleness {
    /// Oldest price used, seconds: a price is stale when its age exceeds it (Liquity's
    /// `_chainlinkIsFrozen`: `block.timestamp.sub(_response.timestamp) > TIMEOUT`, with
    /// `TIMEOUT = 14400`, `PriceFeed.sol` L42 and L363–365).
    pub max_age: Seconds,
    /// What a stale price makes the protocol do.
    pub on_stale: OnStale,
}

/// The price a protocol with a staleness check uses for an asset, given its feeds' ages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedChoice {
    /// The asset's own oracle: its price is fresh.
    Primary,
    /// The second oracle: the first is stale, the second is not.
    Fallback,
    /// None: liquidations that need the asset's price wait.
    Paused,
}

impl Staleness {
    /// Whether a price of age `age` seconds is stale (strictly older than the maximum).
    pub fn is_stale(&self, age: Seconds) -> bool {
        age > self.max_age
    }

    /// The feed used for an asset whose oracle's price is `primary_age` seconds old, with a
    /// second oracle `fallback_age` seconds old (`None`: no second oracle for the asset).
    pub fn choose(&self, primary_age: Seconds, fallback_age: Option<Seconds>) -> FeedChoice {
        if !self.is_stale(primary_age) {
            return FeedChoice::Primary;
        }
        match (self.on_stale, fallback_age) {
            (OnStale::Fallback, Some(age)) if !self.is_stale(age) => FeedChoice::Fallback,
            (OnStale::Fallback, _) | (OnStale::Pause, _) => FeedChoice::Paused,
        }
    }
}

/// Uniswap v3 tick arithmetic (docs/reference-math.md §9.2).
pub mod uniswap_v3 {
    /// The tick whose price is at or just below `price`: floor(log_1.0001(price)).
    pub fn price_to_tick(price: f64) -> i64 {
        (price.ln() / 1.0001f64.ln()).floor() as i64
    }

    /// The price of a tick: 1.0001^tick.
    pub fn tick_to_price(tick: i64) -> f64 {
        1.0001f64.powf(tick as f64)
    }

    /// The mean tick over `seconds` from the change in tickCumulative, rounded toward negative
    /// infinity as `OracleLibrary.consult` does.
    pub fn mean_tick(tick_cumulative_delta: i64, seconds: u64) -> i64 {
        let seconds = seconds as i64;
        let mut tick = tick_cumulative_delta / seconds;
        if tick_cumulative_delta < 0 && tick_cumulative_delta % seconds != 0 {
            tick -= 1;
        }
        tick
    }
}

/// The state of one oracle.
#[derive(Clone, Debug)]
pub struct Oracle {
    aggregation: Aggregation,
    rule: UpdateRule,
    initial: f64,
    published: f64,
    last_publication: Seconds,
    /// Delayed rule: the value read at the last poke, published at the next one.
    next: f64,
    /// Delayed rule: time of the last poke, a multiple of the period.
    last_poke: Seconds,
    /// TWAP: (time, value) samples, piecewise constant from each time on.
    samples: VecDeque<(Seconds, f64)>,
    /// Time of the last read: every step reads every oracle, so this is the step's time.
    last_read: Seconds,
    /// Half-open periods `[from, to)` in which the feed posts nothing, in time order.
    outages: Arc<[(Seconds, Seconds)]>,
}

impl Oracle {
    /// An oracle whose sources read `initial` at time 0; it publishes `initial` at once.
    pub fn new(aggregation: Aggregation, rule: UpdateRule, initial: f64) -> Self {
        let mut samples = VecDeque::new();
        samples.push_back((0, initial));
        Self {
            aggregation,
            rule,
            initial,
            published: initial,
            last_publication: 0,
            next: initial,
            last_poke: 0,
            samples,
            last_read: 0,
            outages: Arc::from([]),
        }
    }

    /// The oracle with periods `[from, to)` in which it posts nothing: a read then aggregates
    /// (a TWAP's accumulator runs on) but neither publishes nor pokes, so the published price
    /// ages. `outages` must be in time order with `from < to`.
    pub fn with_outages(mut self, outages: Vec<(Seconds, Seconds)>) -> Self {
        debug_assert!(outages.iter().all(|&(from, to)| from < to));
        self.outages = Arc::from(outages);
        self
    }

    /// Restores the start state.
    pub fn reset(&mut self) {
        let outages = Arc::clone(&self.outages);
        *self = Self::new(self.aggregation, self.rule, self.initial);
        self.outages = outages;
    }

    /// Whether the feed posts nothing at `time` (inside one of its outages).
    pub fn is_out(&self, time: Seconds) -> bool {
        self.outages
            .iter()
            .any(|&(from, to)| from <= time && time < to)
    }

    /// Time of the last publication (a Chainlink round's `updatedAt`; an OSM's last poke).
    pub fn last_publication(&self) -> Seconds {
        self.last_publication
    }

    /// The age of the published price at the last read: seconds since its last publication.
    /// Every step reads every oracle, so after a step's reads this is the age now. An oracle
    /// publishing on every read is never older than 0; a deviation feed's heartbeat keeps its
    /// age below `heartbeat` and an OSM's poke below `period`, unless the feed is out.
    pub fn age(&self) -> Seconds {
        self.last_read.saturating_sub(self.last_publication)
    }

    /// The published price.
    pub fn published(&self) -> f64 {
        self.published
    }

    /// The update rule.
    pub fn rule(&self) -> UpdateRule {
        self.rule
    }

    /// Whether a read inside the cascade of one instant may change the published price.
    /// Delayed oracles only publish at their poke times and TWAPs give no weight to an instant.
    pub fn rereads_within_an_instant(&self) -> bool {
        !matches!(self.rule, UpdateRule::Delayed { .. })
            && !matches!(self.aggregation, Aggregation::Twap { .. })
    }

    /// Reads the sources at time `now` (readings in the order of the oracle's sources) and applies
    /// the update rule. Returns the new published price if it changed.
    #[inline]
    pub fn read(&mut self, now: Seconds, readings: &[f64]) -> Option<f64> {
        let value = self.aggregate(now, readings);
        self.last_read = now;
        if self.is_out(now) {
            return None;
        }
        let publish = match self.rule {
            UpdateRule::EveryRead => Some(value),
            UpdateRule::Deviation {
                threshold,
                heartbeat,
            } => {
                let deviation = (value - self.published).abs() / self.published.abs();
                (deviation > threshold || now >= self.last_publication + heartbeat).then_some(value)
            }
            UpdateRule::Delayed { period } => {
                if now >= self.last_poke + period {
                    let current = self.next;
                    self.next = value;
                    self.last_poke = now / period * period;
                    Some(current)
                } else {
                    None
                }
            }
        };
        match publish {
            Some(price) => {
                self.last_publication = now;
                let changed = price != self.published;
                self.published = price;
                changed.then_some(price)
            }
            None => None,
        }
    }

    fn aggregate(&mut self, now: Seconds, readings: &[f64]) -> f64 {
        match self.aggregation {
            Aggregation::Last => readings[0],
            Aggregation::Median => median(readings),
            Aggregation::Twap { window, mean } => {
                let value = median(readings);
                self.record(now, value, window);
                self.time_weighted(now, window, mean)
            }
        }
    }

    fn record(&mut self, now: Seconds, value: f64, window: Seconds) {
        match self.samples.back_mut() {
            Some(last) if last.0 == now => last.1 = value,
            _ => self.samples.push_back((now, value)),
        }
        // Keep the newest sample at or before the window start, drop older ones.
        let start = now.saturating_sub(window);
        while self.samples.len() > 1 && self.samples[1].0 <= start {
            self.samples.pop_front();
        }
    }

    /// The average over [now − window, now] of the piecewise-constant samples; before the first
    /// sample the initial value is assumed to have held.
    fn time_weighted(&self, now: Seconds, window: Seconds, mean: TwapMean) -> f64 {
        let start = now as i64 - window as i64;
        let transform = |v: f64| match mean {
            TwapMean::Arithmetic => v,
            TwapMean::Geometric => v.ln(),
            TwapMean::UniswapV3Ticks => uniswap_v3::price_to_tick(v) as f64,
        };
        let mut total = 0.0;
        let mut cursor = start;
        let mut current = transform(self.samples.front().map_or(self.initial, |s| s.1));
        for &(t, v) in &self.samples {
            let t = t as i64;
            if t > cursor {
                total += current * (t - cursor) as f64;
                cursor = t;
            }
            current = transform(v);
        }
        total += current * (now as i64 - cursor) as f64;
        match mean {
            TwapMean::Arithmetic => total / window as f64,
            TwapMean::Geometric => (total / window as f64).exp(),
            TwapMean::UniswapV3Ticks => {
                uniswap_v3::tick_to_price(uniswap_v3::mean_tick(total as i64, window))
            }
        }
    }
}

/// The median of a non-empty slice.
pub fn median(values: &[f64]) -> f64 {
    match values.len() {
        1 => values[0],
        n => {
            let mut sorted = values.to_vec();
            sorted.sort_by(f64::total_cmp);
            if n % 2 == 1 {
                sorted[n / 2]
            } else {
                0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/reference-math.md §9.1 CL1: 0.5% / 3,600 s feed at 2,000.
    #[test]
    fn chainlink_deviation_and_heartbeat_cl1() {
        let rule = UpdateRule::Deviation {
            threshold: 0.005,
            heartbeat: 3600,
        };
        let mut oracle = Oracle::new(Aggregation::Last, rule, 2000.0);
        assert_eq!(oracle.read(600, &[2009.0]), None);
        assert_eq!(oracle.published(), 2000.0);
        assert_eq!(oracle.read(700, &[2011.0]), Some(2011.0));
        // Within ±0.5% the next update is the heartbeat, 3,600 s after the last one.
        assert_eq!(oracle.read(4299, &[2015.0]), None);
        assert_eq!(oracle.read(4300, &[2015.0]), Some(2015.0));
    }

    /// docs/reference-math.md §9.4 S1: a 0.5% / 3,600 s feed read every 60 s is never older
    /// than 3,540 s, so a protocol whose maximum age is the heartbeat never finds it stale; out
    /// from 4,000 s to 12,000 s, its 3,600 s price ages to 8,340 s at 11,940 s (stale from
    /// 7,260 s on, age 3,660 s > 3,600 s) and is fresh again at 12,000 s.
    #[test]
    fn heartbeat_bounds_the_age_until_the_feed_is_out_s1() {
        let rule = UpdateRule::Deviation {
            threshold: 0.005,
            heartbeat: 3600,
        };
        let staleness = Staleness {
            max_age: 3600,
            on_stale: OnStale::Pause,
        };
        let mut oracle =
            Oracle::new(Aggregation::Last, rule, 2000.0).with_outages(vec![(4000, 12_000)]);
        let mut oldest = 0;
        let mut first_stale = None;
        for step in 1..=200 {
            let now = step * 60;
            // A calm price within the threshold: only the heartbeat publishes.
            oracle.read(now, &[2001.0]);
            if now < 4000 {
                oldest = oldest.max(oracle.age());
                assert!(!staleness.is_stale(oracle.age()));
            }
            if now == 11_940 {
                assert_eq!(oracle.age(), 8340);
                assert_eq!(oracle.published(), 2001.0);
            }
            if first_stale.is_none() && staleness.is_stale(oracle.age()) {
                first_stale = Some((now, oracle.age()));
            }
            if now == 12_000 {
                assert_eq!(oracle.age(), 0);
            }
        }
        assert_eq!(oldest, 3540);
        assert_eq!(first_stale, Some((7260, 3660)));
    }

    /// An out feed still aggregates: a TWAP's samples go on, so its first publication after
    /// the outage is the window's average, as a Uniswap pool's accumulator would give.
    #[test]
    fn an_out_twap_keeps_sampling() {
        let twap = Aggregation::Twap {
            window: 100,
            mean: TwapMean::Arithmetic,
        };
        let mut oracle =
            Oracle::new(twap, UpdateRule::EveryRead, 10.0).with_outages(vec![(1, 200)]);
        assert_eq!(oracle.read(50, &[20.0]), None);
        assert_eq!(oracle.read(150, &[20.0]), None);
        assert_eq!(oracle.published(), 10.0);
        assert_eq!(oracle.age(), 150);
        assert_eq!(oracle.read(200, &[20.0]), Some(20.0));
        oracle.reset();
        assert!(oracle.is_out(1) && !oracle.is_out(200) && !oracle.is_out(0));
    }

    /// An OSM out over a poke publishes, at its next poke, the value it queued before.
    #[test]
    fn an_out_osm_skips_its_pokes() {
        let mut oracle = Oracle::new(
            Aggregation::Last,
            UpdateRule::Delayed { period: 3600 },
            200.0,
        )
        .with_outages(vec![(7000, 8000)]);
        oracle.read(3600, &[190.0]);
        assert_eq!(oracle.published(), 200.0);
        assert_eq!(oracle.read(7200, &[150.0]), None);
        assert_eq!(oracle.age(), 3600);
        assert_eq!(oracle.read(8000, &[140.0]), Some(190.0));
        assert_eq!(oracle.last_publication(), 8000);
    }

    /// The decision table of §9.4: fresh → own oracle; stale with a fresh second oracle under
    /// `fallback` → the second; otherwise paused. Ages equal to the maximum are fresh (Liquity
    /// compares with `>`).
    #[test]
    fn feed_choice_table() {
        let pause = Staleness {
            max_age: 14_400,
            on_stale: OnStale::Pause,
        };
        let fallback = Staleness {
            on_stale: OnStale::Fallback,
            ..pause
        };
        assert_eq!(pause.choose(14_400, None), FeedChoice::Primary);
        assert_eq!(pause.choose(14_401, Some(0)), FeedChoice::Paused);
        assert_eq!(fallback.choose(14_400, Some(99_999)), FeedChoice::Primary);
        assert_eq!(fallback.choose(14_401, Some(14_400)), FeedChoice::Fallback);
        assert_eq!(fallback.choose(14_401, Some(14_401)), FeedChoice::Paused);
        assert_eq!(fallback.choose(14_401, None), FeedChoice::Paused);
    }

    /// docs/reference-math.md §4.3 O1: OSM with a one-hour hop; the 10:30 crash to 130 is published
    /// at
    /// 12:00. Times are seconds since 00:00.
    #[test]
    fn osm_publishes_one_hop_late_o1() {
        let hour = 3600;
        let mut oracle = Oracle::new(
            Aggregation::Last,
            UpdateRule::Delayed { period: hour },
            200.0,
        );
        for h in 1..=10 {
            oracle.read(h * hour, &[200.0]);
        }
        assert_eq!(oracle.read(10 * hour + 1800, &[130.0]), None);
        assert_eq!(oracle.published(), 200.0);
        oracle.read(11 * hour, &[130.0]);
        assert_eq!(oracle.published(), 200.0);
        assert_eq!(oracle.read(12 * hour, &[130.0]), Some(130.0));
    }

    /// docs/reference-math.md §9.2 U1 and U2.
    #[test]
    fn uniswap_v3_mean_tick_u1_u2() {
        let delta = 76_012 * 1_200 + 75_312 * 600;
        let tick = uniswap_v3::mean_tick(delta, 1_800);
        assert_eq!(tick, 75_778);
        assert!((uniswap_v3::tick_to_price(tick) - 1953.58).abs() < 0.01);
        assert_eq!(uniswap_v3::mean_tick(-1_801, 600), -4);
        assert_eq!(uniswap_v3::mean_tick(-1_800, 600), -3);
    }

    #[test]
    fn twap_weights_by_time() {
        let twap = Aggregation::Twap {
            window: 100,
            mean: TwapMean::Arithmetic,
        };
        let mut oracle = Oracle::new(twap, UpdateRule::EveryRead, 10.0);
        oracle.read(50, &[20.0]);
        // A value set at an instant has no weight yet.
        assert_eq!(oracle.published(), 10.0);
        oracle.read(100, &[20.0]);
        assert!((oracle.published() - 15.0).abs() < 1e-12);
        oracle.read(175, &[20.0]);
        assert!((oracle.published() - 20.0).abs() < 1e-12);
    }

    #[test]
    fn median_of_sources() {
        let mut oracle = Oracle::new(Aggregation::Median, UpdateRule::EveryRead, 1.0);
        oracle.read(1, &[3.0, 1.0, 2.0]);
        assert_eq!(oracle.published(), 2.0);
        oracle.read(2, &[4.0, 1.0]);
        assert_eq!(oracle.published(), 2.5);
    }
}
