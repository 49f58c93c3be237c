//! Maker Liquidations 2.0: unsafe vaults barked into Dutch auctions that keepers take as the
//! price falls (docs/reference-math.md §4.2; dss `src/dog.sol`, `bark` and `digs`; `src/clip.sol`,
//! `kick`, `redo`, `take`, `status`; `src/abaci.sol`). The curve and the arithmetic of a take
//! are the model's (`cascade_model::auction`).
//!
//! - **bark** (Dog.bark + Clipper.kick, in the cascade for each unsafe vault in key order): the
//!   vault's richest collateral is moved into an auction. The debt moved (`dart`) is what the
//!   room under the limits leaves: the protocol's `hole` less its `dirt` (the tab in its running
//!   auctions) and the world's `Hole` less the `Dirt` of all protocols; a partial bark that
//!   would leave a dusty vault takes it all, and one whose own lot would be dusty does not
//!   happen. tab = dart × chop (1 + penalty), lot = ink × dart / art, top = price × buf; the
//!   first keeper serving the protocol whose kick transaction gets in barks and is paid
//!   tip + chip × tab. With a circuit breaker, no bark while the collateral's price is down by
//!   more than the breaker's fraction from the previous step's end (the reference kept here).
//! - **redo** (at the start of every round, whatever the settlement schedule): an auction too old
//!   (`tail`) or too cheap (price / top < `cusp`) restarts at the current price × buf; the first
//!   keeper is paid the incentive if the tab and the lot are both worth at least `chost`.
//! - **take**: each running auction is offered to the keepers in order at its current price; a
//!   keeper takes what its capital allows when the price is at or below its own valuation (its
//!   venue's quote for the slice after the round's other sales, or the protocol's price when it
//!   holds, less its minimum profit and expected gas), halving the slice up to eight times to
//!   find one worth it, if its take transaction executes. A take may not leave a tab below
//!   `chost`. What is paid reduces `dirt`.
//! - **end**: an auction whose tab is raised or whose lot is gone is settled: leftover
//!   collateral returns to the vault when the tab was raised, a shortfall of the raised amount
//!   under the debt is bad debt, the penalty raised beyond the debt is income.

use cascade_model::auction::{Auction, DutchAuctionParams, Take, take};
use cascade_model::chain::{Target, TxKind};
use cascade_model::ids::{AccountId, AssetId, KeeperId};
use cascade_model::lending::Account;

use super::{AuctionClose, LiquidationMechanism, Round, richest_collateral};
use crate::event::{BookMark, EventKind};
use crate::world::World;

/// A Dutch auction's rules (Dog and Clipper parameters).
#[derive(Clone, Copy, Debug)]
pub(crate) struct DutchAuction(pub(super) DutchAuctionParams);

/// The protocol's running auctions and the circuit breaker's reference prices.
#[derive(Clone, Debug)]
pub(crate) struct Auctions {
    /// Running auctions, in kick order.
    running: Vec<Auction>,
    /// Auctions kicked so far (the next auction's id).
    kicked: u32,
    /// The protocol's price of each asset at the end of the previous step, from which the
    /// circuit breaker measures a fall.
    reference: Vec<f64>,
}

impl LiquidationMechanism for DutchAuction {
    type State = Auctions;
    /// The vault's health factor.
    type Finding = f64;

    fn open(&self, _accounts: &[Account], prices: &[f64]) -> Auctions {
        Auctions {
            running: Vec::new(),
            kicked: 0,
            reference: prices.to_vec(),
        }
    }

    fn writes_off_bad_debt(&self) -> bool {
        true
    }

    /// One round of the running auctions: reset those too old or too cheap (redo), then offer
    /// each to the keepers in order at its current price (take); ended auctions are settled.
    /// Returns the number of resets and takes.
    fn advance(&self, auctions: &mut Auctions, r: &mut Round<'_>) -> u64 {
        let params = &self.0;
        let (world, info, prices) = (r.world, r.info, r.prices);
        let mut activity = 0;
        let mut i = 0;
        while i < auctions.running.len() {
            let now = r.time;
            let auction = &auctions.running[i];
            let (collateral_asset, debt_asset) = (auction.collateral_asset, auction.debt_asset);
            let (collateral_price, debt_price) =
                (prices[collateral_asset.index()], prices[debt_asset.index()]);
            if params.needs_reset(auction.top, (now - auction.tic) as f64) {
                let top = collateral_price * params.buf;
                let tab_usd = auction.tab * debt_price;
                let paid =
                    tab_usd >= params.chost() && auction.lot * collateral_price >= params.chost();
                let keeper = info.keepers.first().copied().filter(|_| paid);
                let incentive = if keeper.is_some() {
                    params.incentive(tab_usd)
                } else {
                    0.0
                };
                let id = auction.id;
                let auction = &mut auctions.running[i];
                auction.top = top;
                auction.tic = now;
                if let Some(k) = keeper {
                    r.keepers[k.index()].incentives += incentive;
                }
                let protocol = r.id;
                r.emit(EventKind::AuctionReset {
                    protocol,
                    auction: id,
                    top,
                    keeper,
                    incentive,
                });
                activity += 1;
            }
            let auction = &auctions.running[i];
            let price = params.curve.price(auction.top, (now - auction.tic) as f64);
            let offer = Offer {
                collateral_asset,
                collateral_price,
                debt_price,
                price,
            };
            let auction = &auctions.running[i];
            let target = Target::Auction(r.id, auction.id);
            let order: smallvec::SmallVec<[KeeperId; 4]> =
                if r.gas_auctions() && auction.lot > 0.0 && auction.tab > 0.0 && price > 0.0 {
                    // A gas war first: each keeper's take is worth its quote of the slice less
                    // what it owes and its minimum profit.
                    let (lot, tab) = (auction.lot, auction.tab);
                    let wanting: smallvec::SmallVec<[(KeeperId, f64); 4]> = info
                        .keepers
                        .iter()
                        .filter_map(|&k| {
                            let t = self.sized_take(r, k, lot, tab, &offer)?;
                            let value =
                                r.keeper_value(k, collateral_asset, t.slice, collateral_price)
                                    - t.owe * debt_price
                                    - world.keepers[k.index()].spec.min_profit;
                            (value > 0.0).then_some((k, value))
                        })
                        .collect();
                    r.contest(TxKind::Take, target, &wanting)
                } else {
                    info.keepers.iter().copied().collect()
                };
            for k in order {
                let auction = &auctions.running[i];
                if auction.lot <= 0.0 || auction.tab <= 0.0 || price <= 0.0 {
                    break;
                }
                let keeper = &world.keepers[k.index()].spec;
                let Some(t) = self.sized_take(r, k, auction.lot, auction.tab, &offer) else {
                    continue;
                };
                let id = auction.id;
                if !r.transact(k, TxKind::Take, Target::Auction(r.id, id)) {
                    continue;
                }
                let auction = &mut auctions.running[i];
                let account = auction.account;
                auction.lot = (auction.lot - t.slice).max(0.0);
                auction.tab = (auction.tab - t.owe).max(0.0);
                auction.raised += t.owe;
                let dirt = &mut r.auction_tab_usd[r.id.index()];
                *dirt = (*dirt - t.owe * debt_price).max(0.0);
                let book = &mut r.keepers[k.index()];
                book.spent += t.owe * debt_price;
                book.receive(collateral_asset, t.slice);
                if let Some(v) = keeper.sell_on[collateral_asset.index()] {
                    r.queue_sale(k, v, t.slice, collateral_price);
                }
                let protocol = r.id;
                r.emit(EventKind::AuctionTaken {
                    protocol,
                    auction: id,
                    account,
                    keeper: k,
                    collateral_asset,
                    slice: t.slice,
                    price,
                    collateral_price,
                    debt_asset,
                    owe: t.owe,
                    debt_price,
                });
                activity += 1;
            }
            let auction = &auctions.running[i];
            if auction.tab <= 1e-9 * auction.debt.max(1.0) || auction.lot <= 0.0 {
                end_auction(auctions, r, i);
            } else {
                i += 1;
            }
        }
        activity
    }

    fn confirm(&self, _auctions: &Auctions, r: &Round<'_>, id: AccountId) -> Option<f64> {
        r.health_factor_below_one(id)
    }

    /// bark: the vault (within the room the limits leave, all of it if a partial bark would
    /// leave dust) into a new auction, by the first keeper whose kick gets in, paid
    /// tip + chip · tab.
    fn liquidate(
        &self,
        auctions: &mut Auctions,
        r: &mut Round<'_>,
        id: AccountId,
        _health_factor: f64,
    ) -> bool {
        let params = &self.0;
        let (world, prices) = (r.world, r.prices);
        if r.info.keepers.is_empty() {
            return false;
        }
        let account = r.account(id);
        let Some((collateral_asset, balance)) = richest_collateral(account, prices) else {
            return false;
        };
        if let Some(threshold) = params.circuit_breaker {
            let reference = auctions.reference[collateral_asset.index()];
            if prices[collateral_asset.index()] < reference * (1.0 - threshold) {
                return false;
            }
        }
        let (debt_asset, debt) = (account.debt_asset, account.debt);
        let debt_price = prices[debt_asset.index()];
        let chop = 1.0 + params.penalty;
        let global_dirt: f64 = r.auction_tab_usd.iter().sum();
        let global_room = world
            .simulation
            .auction_hole
            .map_or(f64::INFINITY, |hole| (hole - global_dirt).max(0.0));
        let dirt = r.auction_tab_usd[r.id.index()];
        let room = params
            .hole
            .map_or(f64::INFINITY, |hole| (hole - dirt).max(0.0))
            .min(global_room);
        let mut dart = debt.min(room / (debt_price * chop));
        if dart < debt && (debt - dart) * debt_price < params.dust {
            // A partial bark may not leave a dusty vault: take it all.
            dart = debt;
        }
        if dart <= 0.0 || (dart < debt && dart * debt_price < params.dust) {
            return false;
        }
        let lot = if dart >= debt {
            balance
        } else {
            balance * dart / debt
        };
        let Some(keeper) = r.kicker(id) else {
            return false;
        };
        let tab = dart * chop;
        r.count_liquidated(dart * debt_price);
        let collateral_price = prices[collateral_asset.index()];
        let top = collateral_price * params.buf;
        let incentive = params.incentive(tab * debt_price);
        let liquidatable_since = r.end_episode(id);
        let account = r.book.account_mut(id);
        account.debt = if dart >= debt { 0.0 } else { debt - dart };
        if let Some(slot) = account
            .collateral
            .iter_mut()
            .find(|c| c.0 == collateral_asset)
        {
            slot.1 = if dart >= debt {
                0.0
            } else {
                (slot.1 - lot).max(0.0)
            };
        }
        r.reindex(id);
        r.auction_tab_usd[r.id.index()] += tab * debt_price;
        let auction = auctions.kicked;
        auctions.kicked += 1;
        auctions.running.push(Auction {
            id: auction,
            account: id,
            collateral_asset,
            debt_asset,
            lot,
            tab,
            debt: dart,
            raised: 0.0,
            top,
            tic: r.time,
            liquidatable_since,
        });
        r.keepers[keeper.index()].incentives += incentive;
        let protocol = r.id;
        r.emit(EventKind::AuctionKicked {
            protocol,
            account: id,
            auction,
            keeper,
            collateral_asset,
            lot,
            collateral_price,
            debt_asset,
            debt: dart,
            tab,
            top,
            incentive,
        });
        true
    }

    /// The step-end prices become the circuit breaker's reference.
    fn step_ended(&self, auctions: &mut Auctions, _world: &World, prices: &[f64]) {
        auctions.reference.copy_from_slice(prices);
    }

    /// Running auctions: their lots and what they have yet to raise, and the debt they would
    /// leave unpaid at `prices`.
    fn mark_book(&self, auctions: &Auctions, prices: &[f64], mark: &mut BookMark) {
        for auction in &auctions.running {
            let owed = (auction.debt - auction.raised).max(0.0);
            mark.in_auction_collateral[auction.collateral_asset.index()] += auction.lot;
            mark.in_auction_debt[auction.debt_asset.index()] += owed;
            mark.unrealised_bad_debt_usd += (owed * prices[auction.debt_asset.index()]
                - auction.lot * prices[auction.collateral_asset.index()])
            .max(0.0);
        }
    }
}

/// Settles and removes auction `i`: leftover collateral back to the vault when the tab was
/// raised; a shortfall of the raised amount under the debt written off as bad debt; the penalty
/// raised beyond the debt is income (fed to the insurance fund by its fee share).
fn end_auction(auctions: &mut Auctions, r: &mut Round<'_>, i: usize) {
    let auction = auctions.running.remove(i);
    let debt_price = r.price(auction.debt_asset);
    let tab_raised = auction.tab <= 1e-9 * auction.debt.max(1.0);
    let dirt = &mut r.auction_tab_usd[r.id.index()];
    *dirt = (*dirt - auction.tab * debt_price).max(0.0);
    let returned = if tab_raised { auction.lot } else { 0.0 };
    let account = r.book.account_mut(auction.account);
    if returned > 0.0 {
        match account
            .collateral
            .iter_mut()
            .find(|c| c.0 == auction.collateral_asset)
        {
            Some(slot) => slot.1 += returned,
            None => account
                .collateral
                .push((auction.collateral_asset, returned)),
        }
    }
    r.reindex(auction.account);
    r.close_auction(AuctionClose {
        auction: auction.id,
        account: auction.account,
        collateral_asset: auction.collateral_asset,
        returned,
        debt_asset: auction.debt_asset,
        raised: auction.raised,
        debt: auction.debt,
        debt_price,
        liquidatable_since: auction.liquidatable_since,
    });
}

/// An auction's terms this round, as keepers size their takes.
struct Offer {
    collateral_asset: AssetId,
    collateral_price: f64,
    debt_price: f64,
    /// The auction's price now, debt units per collateral unit.
    price: f64,
}

impl DutchAuction {
    /// Keeper `k`'s take of an auction holding `lot` for `tab`: as much as its capital buys, or
    /// less — a thin venue may make the whole lot unattractive but a smaller slice worth it
    /// (halved up to 8 times) — if the price is within its valuation after its minimum profit
    /// and expected gas.
    fn sized_take(
        &self,
        r: &mut Round<'_>,
        k: KeeperId,
        lot: f64,
        tab: f64,
        offer: &Offer,
    ) -> Option<Take> {
        let params = &self.0;
        let keeper = &r.world.keepers[k.index()].spec;
        let debt_price = offer.debt_price;
        let budget = r.keepers[k.index()].available(keeper.capital) / debt_price;
        let mut amount = lot.min(budget / offer.price);
        for _ in 0..8 {
            if amount <= 0.0 {
                break;
            }
            let value = r.keeper_value(k, offer.collateral_asset, amount, offer.collateral_price);
            let min_profit = keeper.min_profit + r.expected_gas_usd(k, TxKind::Take);
            let valuation = (value / debt_price - min_profit / debt_price) / amount;
            if let Some(t) = take(
                lot,
                tab,
                amount,
                valuation,
                offer.price,
                params.chost() / debt_price,
            ) {
                return Some(t);
            }
            amount /= 2.0;
        }
        None
    }
}
