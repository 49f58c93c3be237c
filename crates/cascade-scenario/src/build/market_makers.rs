//! Building a venue's market makers (`venues[].market_makers`): validation of each field and the
//! model's [`MarketMakers`], observing the venue once a step.

use cascade_engine::{Simulation, VenueInfo};
use cascade_model::market_maker::{MarketMakerParams, MarketMakers};
use cascade_model::venue::Venue;

use super::{Builder, root};
use crate::schema::{MarketMakersSection, VenueSection};

impl Builder<'_> {
    /// Gives each venue whose section has `market_makers` its makers. `venues` holds one entry
    /// per section, in file order (invalid venues included, so indices line up).
    pub(super) fn with_market_makers(
        &mut self,
        sections: &[VenueSection],
        mut venues: Vec<(VenueInfo, Venue)>,
        simulation: &Simulation,
    ) -> Vec<(VenueInfo, Venue)> {
        for (i, (section, (_, venue))) in sections.iter().zip(&mut venues).enumerate() {
            let Some(m) = &section.market_makers else {
                continue;
            };
            if let Some(params) = self.market_maker_params(i, m, simulation) {
                // A window longer than the run keeps every return either way; cutting it to the
                // run bounds the memory a typo in `window_seconds` can ask for.
                let run = simulation.steps.saturating_mul(simulation.step_seconds);
                let observed = MarketMakerParams {
                    window_seconds: params.window_seconds.min(run.max(simulation.step_seconds)),
                    ..params
                };
                let makers = MarketMakers::new(observed, simulation.step_seconds);
                *venue = venue.clone().with_market_makers(makers);
            }
        }
        venues
    }

    /// The validated rule of `venues[i].market_makers`, or `None` after reporting its problems.
    fn market_maker_params(
        &mut self,
        i: usize,
        m: &MarketMakersSection,
        simulation: &Simulation,
    ) -> Option<MarketMakerParams> {
        let at = root().key("venues").at(i).key("market_makers");
        let mut ok = self.check(
            &at.key("calm_daily_volatility"),
            m.calm_daily_volatility,
            m.calm_daily_volatility > 0.0,
            "a positive daily volatility (0.05 = 5% a day)",
        );
        ok &= self.check(
            &at.key("sensitivity"),
            m.sensitivity,
            m.sensitivity >= 0.0,
            "a sensitivity ≥ 0 (0 never withdraws depth)",
        );
        ok &= self.check(
            &at.key("min_depth"),
            m.min_depth,
            m.min_depth > 0.0 && m.min_depth <= 1.0,
            "a fraction of the full book in (0, 1]",
        );
        let step = simulation.step_seconds;
        if m.window_seconds < step {
            ok = false;
            self.fail(
                &at.key("window_seconds"),
                m.window_seconds,
                format!(
                    "expected at least one step (step_seconds = {step}): realised volatility needs a return"
                ),
            );
        }
        if m.refill_half_life_seconds == Some(0) {
            ok = false;
            self.fail(
                &at.key("refill_half_life_seconds"),
                0,
                "expected at least 1 second (leave it out to refill at once)",
            );
        }
        ok.then_some(MarketMakerParams {
            calm_daily_volatility: m.calm_daily_volatility,
            sensitivity: m.sensitivity,
            min_depth: m.min_depth,
            window_seconds: m.window_seconds,
            refill_half_life: m.refill_half_life_seconds,
        })
    }
}
