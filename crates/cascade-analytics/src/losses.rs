//! Loss absorption of lending protocols (summary.json `protocols.<NAME>.insurance_fund`,
//! `socialised_loss_usd`, the debt auctions and the uncovered deficit), from the
//! `LossesSettled` event each protocol emits per step.
//!
//! State: per protocol, its fund's path (with the running peak for the drawdown) and four sums.

use cascade_engine::{Event, EventKind, World};

use crate::summary::InsuranceSummary;

/// One protocol's loss figures.
#[derive(Clone, Debug)]
pub(crate) struct Losses {
    /// The insurance fund's path.
    pub(crate) fund: InsuranceSummary,
    /// Bad debt socialised onto suppliers, USD.
    pub(crate) socialised_usd: f64,
    /// Debt-auction lots kicked.
    pub(crate) lots: u64,
    /// USD those lots raise.
    pub(crate) auctioned_usd: f64,
    /// Deficit left uncovered (the last level reported), USD.
    pub(crate) uncovered_usd: f64,
}

/// The fold of lending protocols' loss absorption.
pub(crate) struct LossFold {
    protocols: Vec<Losses>,
    /// Each fund's running peak (its balance before each draw included).
    peaks: Vec<f64>,
}

impl LossFold {
    pub(crate) fn new(world: &World) -> Self {
        let protocols: Vec<Losses> = world
            .protocols
            .iter()
            .map(|p| {
                let start = p.insurance.map_or(0.0, |i| i.initial_usd);
                Losses {
                    fund: InsuranceSummary {
                        start_usd: start,
                        final_usd: start,
                        min_usd: start,
                        ..Default::default()
                    },
                    socialised_usd: 0.0,
                    lots: 0,
                    auctioned_usd: 0.0,
                    uncovered_usd: 0.0,
                }
            })
            .collect();
        let peaks = protocols.iter().map(|p| p.fund.start_usd).collect();
        Self { protocols, peaks }
    }

    pub(crate) fn event(&mut self, event: &Event) {
        if let EventKind::LossesSettled {
            protocol,
            paid_in,
            drawn,
            socialised,
            lots,
            auctioned,
            uncovered,
            fund_balance,
        } = &event.kind
        {
            let p = &mut self.protocols[protocol.index()];
            p.socialised_usd += socialised;
            p.lots += lots;
            p.auctioned_usd += auctioned;
            p.uncovered_usd = *uncovered;
            let fund = &mut p.fund;
            fund.paid_in_usd += paid_in;
            fund.drawn_usd += drawn;
            fund.final_usd = *fund_balance;
            fund.min_usd = fund.min_usd.min(*fund_balance);
            let peak = &mut self.peaks[protocol.index()];
            *peak = peak.max(fund.final_usd + drawn);
            fund.max_drawdown_usd = fund.max_drawdown_usd.max(*peak - fund_balance);
        }
    }

    /// Each protocol's losses, in world order.
    pub(crate) fn finish(self) -> Vec<Losses> {
        self.protocols
    }
}
