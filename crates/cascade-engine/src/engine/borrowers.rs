//! Phase 4: borrowers act. An owner whose account's health factor falls below its trigger
//! decides once per episode, with its probability, whether to act; if it does, after its
//! reaction delay it sends a top-up or repayment that restores its target health factor (as far
//! as its wallet allows). The transaction goes through the chain's gate like a keeper's: under
//! congestion it waits, is re-bid or expires, and the account may be liquidated meanwhile. An
//! episode ends when the action executes, when the transaction is dropped, or — for an owner who
//! declined — when the health factor is back above the trigger.

use crate::sink::EventSink;
use std::collections::BTreeSet;

use cascade_model::borrower::{BorrowerAction, BorrowerBehaviour, repay_units, top_up_units};
use cascade_model::chain::{Sender, Target, TxKind};
use cascade_model::ids::{AccountId, AssetId, ProtocolId};
use cascade_model::rng::{RngStream, stream};
use rand::RngExt;

use super::{Cx, chain};
use crate::event::EventKind;
use crate::world::World;

/// Where an owner is in an episode below its trigger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Episode {
    /// Not below the trigger, or not yet noticed.
    Idle,
    /// Decided not to act this episode.
    Declined,
    /// Will send its transaction at the given time.
    Waiting(u64),
    /// Its transaction is in the mempool.
    Sent,
}

/// The owners of one protocol's accounts.
#[derive(Clone, Debug)]
pub(super) struct Owners {
    /// Per account: the episode and when it was noticed.
    episodes: Vec<(Episode, u64)>,
    /// Accounts not idle.
    watched: BTreeSet<u32>,
    /// The draws deciding whether an owner acts.
    rng: RngStream,
    /// Highest trigger of the protocol's groups.
    max_trigger: f64,
}

impl Owners {
    /// Owners of each protocol whose positions have a behaviour (`None` elsewhere).
    pub(super) fn for_world(world: &World, path: u64) -> Vec<Option<Owners>> {
        world
            .protocols
            .iter()
            .zip(&world.initial.protocols)
            .map(|(info, state)| {
                (!info.borrowers.is_empty()).then(|| Owners {
                    episodes: vec![(Episode::Idle, 0); state.accounts.len()],
                    watched: BTreeSet::new(),
                    rng: stream(
                        world.simulation.seed,
                        path,
                        &format!("borrowers:{}", info.name),
                    ),
                    max_trigger: info
                        .borrowers
                        .iter()
                        .map(|g| g.behaviour.trigger_health)
                        .fold(0.0, f64::max),
                })
            })
            .collect()
    }
}

impl Owners {
    /// Every owner idle again, with the draws of another path.
    pub(super) fn restore(&mut self, rng: RngStream) {
        for &i in &self.watched {
            self.episodes[i as usize] = (Episode::Idle, 0);
        }
        self.watched.clear();
        self.rng = rng;
    }
}

fn tx_kind(action: BorrowerAction) -> TxKind {
    match action {
        BorrowerAction::TopUp => TxKind::TopUp,
        BorrowerAction::Repay => TxKind::Repay,
    }
}

impl<S: EventSink> Cx<'_, S> {
    /// Phase 4 for every protocol whose owners act.
    pub(super) fn borrowers_act(&mut self) {
        for p in 0..self.path.owners.len() {
            if self.path.owners[p].is_some() {
                self.owners_of(ProtocolId(p as u32));
            }
        }
    }

    fn set_episode(&mut self, p: ProtocolId, id: AccountId, episode: Episode, noticed: u64) {
        let owners = self.path.owners[p.index()].as_mut().expect("owners");
        owners.episodes[id.index()] = (episode, noticed);
        if episode == Episode::Idle {
            owners.watched.remove(&id.0);
        } else {
            owners.watched.insert(id.0);
        }
    }

    fn owners_of(&mut self, p: ProtocolId) {
        let world = self.world;
        let info = &world.protocols[p.index()];
        let prices: Vec<f64> = (0..world.assets.len())
            .map(|a| world.protocol_price(&self.path.state, p, AssetId(a as u32)))
            .collect();
        let price = |a: AssetId| prices[a.index()];
        let health = |engine: &Self, id: AccountId| {
            engine.path.state.protocols[p.index()].accounts[id.index()]
                .health_factor(&info.params, &price)
        };
        // Owners already in an episode.
        let owners = self.path.owners[p.index()].as_ref().expect("owners");
        let watched: Vec<u32> = owners.watched.iter().copied().collect();
        for i in watched {
            let id = AccountId(i);
            let Some(behaviour) = info.borrower(id).copied() else {
                continue;
            };
            let (episode, noticed) = self.path.owners[p.index()]
                .as_ref()
                .expect("owners")
                .episodes[i as usize];
            match episode {
                Episode::Idle => {}
                Episode::Declined => {
                    if health(self, id) >= behaviour.trigger_health {
                        self.set_episode(p, id, Episode::Idle, 0);
                    }
                }
                Episode::Waiting(at) => {
                    if self.path.time >= at {
                        self.send_owner_transaction(p, id, &behaviour, noticed, &prices);
                    }
                }
                Episode::Sent => {
                    let (sender, kind, target) = (
                        Sender::Borrower(p, id),
                        tx_kind(behaviour.action),
                        Target::Account(p, id),
                    );
                    if chain::has_transaction(self.path.chain.as_ref(), sender, kind, target) {
                        self.send_owner_transaction(p, id, &behaviour, noticed, &prices);
                    } else {
                        // Dropped from the mempool: the episode is over.
                        self.set_episode(p, id, Episode::Idle, 0);
                    }
                }
            }
        }
        // Owners newly below their trigger decide whether to act.
        let max_trigger = self.path.owners[p.index()]
            .as_ref()
            .expect("owners")
            .max_trigger;
        let scaled = |a: AssetId| {
            if info.params.collateral[a.index()].is_some() {
                prices[a.index()] / max_trigger
            } else {
                prices[a.index()]
            }
        };
        let mut candidates = std::mem::take(&mut self.path.candidates);
        candidates.clear();
        let index = &mut self.path.state.protocols[p.index()].index;
        index.prune();
        index.candidates(&scaled, &mut candidates);
        let (mut acting, mut declined) = (0, 0);
        for &id in &candidates {
            let Some(behaviour) = info.borrower(id).copied() else {
                continue;
            };
            let owners = self.path.owners[p.index()].as_mut().expect("owners");
            if owners.episodes[id.index()].0 != Episode::Idle {
                continue;
            }
            let account = &self.path.state.protocols[p.index()].accounts[id.index()];
            if account.debt <= 0.0 || health(self, id) >= behaviour.trigger_health {
                continue;
            }
            let owners = self.path.owners[p.index()].as_mut().expect("owners");
            let draw: f64 = owners.rng.random();
            if draw < behaviour.probability {
                acting += 1;
                let at = self.path.time + behaviour.delay;
                self.set_episode(p, id, Episode::Waiting(at), self.path.time);
                if behaviour.delay == 0 {
                    self.send_owner_transaction(p, id, &behaviour, self.path.time, &prices);
                }
            } else {
                declined += 1;
                self.set_episode(p, id, Episode::Declined, self.path.time);
            }
        }
        self.path.candidates = candidates;
        if acting + declined > 0 {
            self.emit(
                0,
                EventKind::BorrowersNoticed {
                    protocol: p,
                    acting,
                    declined,
                },
            );
        }
    }

    /// Sends (or sends again) an owner's transaction; executes it if it gets in.
    fn send_owner_transaction(
        &mut self,
        p: ProtocolId,
        id: AccountId,
        behaviour: &BorrowerBehaviour,
        noticed: u64,
        prices: &[f64],
    ) {
        let world = self.world;
        let info = &world.protocols[p.index()];
        let price = |a: AssetId| prices[a.index()];
        let (sender, kind, target) = (
            Sender::Borrower(p, id),
            tx_kind(behaviour.action),
            Target::Account(p, id),
        );
        let protocol = &self.path.state.protocols[p.index()];
        let account = &protocol.accounts[id.index()];
        let wallet = protocol.wallets[id.index()];
        let amount = if chain::has_transaction(self.path.chain.as_ref(), sender, kind, target) {
            0.0
        } else {
            let needed = match behaviour.action {
                BorrowerAction::TopUp => account.collateral.first().map_or(0.0, |&(asset, _)| {
                    top_up_units(
                        account,
                        &info.params,
                        &price,
                        asset,
                        behaviour.target_health,
                    )
                }),
                BorrowerAction::Repay => {
                    repay_units(account, &info.params, &price, behaviour.target_health)
                }
            };
            let amount = needed.min(wallet);
            if amount <= 0.0 {
                // Nothing to send (an empty wallet, or health already restored): the episode
                // ends when the health factor is back above the trigger.
                self.set_episode(p, id, Episode::Declined, noticed);
                return;
            }
            amount
        };
        match self.gate().transact(sender, kind, target, amount, 0) {
            Some(units) => {
                self.execute_owner_action(p, id, behaviour.action, units, noticed, prices);
                self.set_episode(p, id, Episode::Idle, 0);
            }
            None => self.set_episode(p, id, Episode::Sent, noticed),
        }
    }

    /// A top-up or repayment lands: the wallet pays what it still holds, at most what the
    /// transaction carries (and, for a repayment, at most the debt).
    fn execute_owner_action(
        &mut self,
        p: ProtocolId,
        id: AccountId,
        action: BorrowerAction,
        units: f64,
        noticed: u64,
        prices: &[f64],
    ) {
        let world = self.world;
        let info = &world.protocols[p.index()];
        let price = |a: AssetId| prices[a.index()];
        let protocol = &mut self.path.state.protocols[p.index()];
        let (account, wallet) = protocol.account_and_wallet_mut(id);
        let health_before = account.health_factor(&info.params, &price);
        let (asset, moved) = match action {
            BorrowerAction::TopUp => match account.collateral.first_mut() {
                Some(slot) => {
                    let moved = units.min(*wallet);
                    slot.1 += moved;
                    (slot.0, moved)
                }
                None => (account.debt_asset, 0.0),
            },
            BorrowerAction::Repay => {
                let moved = units.min(*wallet).min(account.debt);
                account.debt -= moved;
                (account.debt_asset, moved)
            }
        };
        // A transaction that moves nothing (the debt already gone) still executes: its event
        // records it, so every included transaction is accounted for.
        *wallet -= moved;
        let account = &protocol.accounts[id.index()];
        let health_after = account.health_factor(&info.params, &price);
        protocol.index.update(&info.params, id, account);
        if health_after >= 1.0 {
            self.path.liquidatable_since[p.index()].end(id);
        }
        self.emit(
            0,
            EventKind::BorrowerActed {
                protocol: p,
                account: id,
                action,
                asset,
                units: moved,
                health_before,
                health_after,
                noticed,
            },
        );
    }
}
