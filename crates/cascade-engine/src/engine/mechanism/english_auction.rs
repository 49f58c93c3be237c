//! Maker Liquidations 1.2: unsafe vaults bitten into English auctions, the design of Black
//! Thursday (docs/reference-math.md §4.1; dss `src/cat.sol`, `bite`; `src/flip.sol`, `kick`,
//! `tend`,
//! `dent`, `deal`, `tick`). Where a round of bidding ends is the model's
//! (`cascade_model::auction::english`: `tend`, `dent`, `min_next_bid`, `max_next_lot`).
//!
//! - **bite** (Cat.bite + Flipper.kick, in the cascade for each unsafe vault in key order): at
//!   most `lump` of the vault's richest collateral and the same share of its debt (`art`) move
//!   into an auction; tab = art × (1 + penalty); the auction ends `tau` after the kick. The first
//!   keeper serving the protocol whose kick transaction gets in bites (no incentive).
//! - **tend** (each round, whatever the settlement schedule, while the bid is below the tab):
//!   keepers bid debt for the whole lot, each up to what the lot is worth to it (its venue's
//!   quote after the round's other sales, or the protocol's price when it holds, less its
//!   minimum profit and expected gas), its capital and the tab; a new bid must beat the
//!   standing one by `beg` unless it is the tab.
//! - **dent** (once the bid is the tab): keepers bid the tab for a smaller lot, each down to the
//!   smallest lot it would pay the tab for; a new lot must be `beg` smaller. The collateral given
//!   up returns to the vault.
//! - Only keepers whose bid transactions get in take part, and the standing bidder raises only
//!   if it gets a transaction in too. A standing bid locks the bidder's capital until it is
//!   outbid or dealt; each bid sets its expiry `ttl` ahead.
//! - **deal**: once the standing bid has expired, or the auction's end has passed with a bid,
//!   the winner pays its bid and receives the lot; the auction ends as a Dutch one does
//!   (shortfall written off, penalty income). **tick**: an auction whose end passed without a
//!   bid restarts for another `tau`.

use cascade_model::auction::english::{self, EnglishAuctionParams, Flip};
use cascade_model::chain::{Target, TxKind};
use cascade_model::ids::{AccountId, KeeperId};
use cascade_model::lending::Account;

use super::{AuctionClose, LiquidationMechanism, Round, richest_collateral};
use crate::event::{BookMark, EventKind};

/// An English auction's rules (Cat and Flipper parameters).
#[derive(Clone, Copy, Debug)]
pub(crate) struct EnglishAuction(pub(super) EnglishAuctionParams);

/// The protocol's running auctions.
#[derive(Clone, Debug)]
pub(crate) struct Flips {
    /// Running auctions, in kick order.
    running: Vec<Flip>,
    /// Auctions kicked so far (the next auction's id).
    kicked: u32,
}

impl LiquidationMechanism for EnglishAuction {
    type State = Flips;
    /// The vault's health factor.
    type Finding = f64;

    fn open(&self, _accounts: &[Account], _prices: &[f64]) -> Flips {
        Flips {
            running: Vec::new(),
            kicked: 0,
        }
    }

    fn writes_off_bad_debt(&self) -> bool {
        true
    }

    /// One round of the running auctions: deal those whose standing bid expired (or whose end
    /// passed with a bid), restart those that ended without one (tick), and let the keepers bid
    /// — tend while the bid is below the tab, dent once it is the tab. Returns the number of
    /// deals, restarts and bids.
    fn advance(&self, flips: &mut Flips, r: &mut Round<'_>) -> u64 {
        let params = &self.0;
        let (world, info, prices) = (r.world, r.info, r.prices);
        let keepers = &info.keepers;
        let now = r.time;
        let mut activity = 0;
        let mut i = 0;
        while i < flips.running.len() {
            let flip = flips.running[i].clone();
            let (collateral_price, debt_price) = (
                prices[flip.collateral_asset.index()],
                prices[flip.debt_asset.index()],
            );
            if let Some(w) = flip.winner {
                if now > flip.expires || now > flip.end {
                    deal(flips, r, i, keepers[w]);
                    activity += 1;
                    continue;
                }
            } else if now > flip.end {
                flips.running[i].end = now + params.tau;
                let protocol = r.id;
                r.emit(EventKind::AuctionReset {
                    protocol,
                    auction: flip.id,
                    top: 0.0,
                    keeper: None,
                    incentive: 0.0,
                });
                activity += 1;
            }
            let budget = |r: &Round<'_>, j: usize| {
                let k = keepers[j];
                let own = if flip.winner == Some(j) {
                    flip.bid
                } else {
                    0.0
                };
                r.keepers[k.index()].available(world.keepers[k.index()].spec.capital) / debt_price
                    + own
            };
            let target = Target::Auction(r.id, flip.id);
            let outcome = if flip.bid < flip.tab {
                let mut maxima: Vec<f64> = (0..keepers.len())
                    .map(|j| {
                        let k = keepers[j];
                        let value =
                            r.keeper_value(k, flip.collateral_asset, flip.lot, collateral_price);
                        let min_profit = world.keepers[k.index()].spec.min_profit
                            + r.expected_gas_usd(k, TxKind::Bid);
                        ((value - min_profit) / debt_price)
                            .min(budget(r, j))
                            .min(flip.tab)
                            .max(0.0)
                    })
                    .collect();
                let floor = english::min_next_bid(flip.bid, flip.tab, params.beg);
                // Only the bidders whose bid transactions get in take part; the standing bidder
                // raises only if it gets a transaction in too.
                let rival = if r.gas_auctions() {
                    // A bid is worth to a rival what it would gain winning at the floor.
                    bid_in_gas_war(
                        r,
                        keepers,
                        flip.winner,
                        target,
                        &mut maxima,
                        |_, m| (m >= floor).then_some((m - floor) * debt_price),
                        0.0,
                    )
                } else {
                    let mut rival = false;
                    for (j, maximum) in maxima.iter_mut().enumerate() {
                        if Some(j) == flip.winner || *maximum < floor {
                            continue;
                        }
                        if r.transact(keepers[j], TxKind::Bid, target) {
                            rival = true;
                        } else {
                            *maximum = 0.0;
                        }
                    }
                    rival
                };
                if let Some(w) = flip.winner {
                    if rival && maxima[w] > flip.bid && !r.transact(keepers[w], TxKind::Bid, target)
                    {
                        maxima[w] = flip.bid;
                    }
                }
                english::tend(flip.bid, flip.tab, params.beg, flip.winner, &maxima)
                    .map(|(j, bid)| (j, bid, flip.lot))
            } else {
                // Dent: the smallest lot each keeper would pay the whole tab for, valued at its
                // per-unit value for the current lot.
                let mut unit_values = vec![0.0; keepers.len()];
                let mut minima: Vec<f64> = (0..keepers.len())
                    .map(|j| {
                        let k = keepers[j];
                        let value =
                            r.keeper_value(k, flip.collateral_asset, flip.lot, collateral_price);
                        unit_values[j] = value / flip.lot;
                        let min_profit = world.keepers[k.index()].spec.min_profit
                            + r.expected_gas_usd(k, TxKind::Bid);
                        if budget(r, j) < flip.tab || value <= 0.0 {
                            f64::INFINITY
                        } else {
                            (flip.tab * debt_price + min_profit) / (value / flip.lot)
                        }
                    })
                    .collect();
                let ceiling = english::max_next_lot(flip.lot, params.beg);
                let rival = if r.gas_auctions() {
                    // A bid is worth to a rival what it would gain winning the ceiling's lot.
                    bid_in_gas_war(
                        r,
                        keepers,
                        flip.winner,
                        target,
                        &mut minima,
                        |j, m| (m <= ceiling).then(|| (ceiling - m) * unit_values[j]),
                        f64::INFINITY,
                    )
                } else {
                    let mut rival = false;
                    for (j, minimum) in minima.iter_mut().enumerate() {
                        if Some(j) == flip.winner || *minimum > ceiling {
                            continue;
                        }
                        if r.transact(keepers[j], TxKind::Bid, target) {
                            rival = true;
                        } else {
                            *minimum = f64::INFINITY;
                        }
                    }
                    rival
                };
                if let Some(w) = flip.winner {
                    if rival && minima[w] < flip.lot && !r.transact(keepers[w], TxKind::Bid, target)
                    {
                        minima[w] = flip.lot;
                    }
                }
                english::dent(flip.lot, params.beg, flip.winner, &minima)
                    .map(|(j, lot)| (j, flip.tab, lot))
            };
            if let Some((j, bid, lot)) = outcome {
                let k = keepers[j];
                if let Some(w) = flip.winner {
                    r.keepers[keepers[w].index()].locked -= flip.bid * debt_price;
                }
                r.keepers[k.index()].locked += bid * debt_price;
                let returned = flip.lot - lot;
                if returned > 0.0 {
                    let account = r.book.account_mut(flip.account);
                    match account
                        .collateral
                        .iter_mut()
                        .find(|c| c.0 == flip.collateral_asset)
                    {
                        Some(slot) => slot.1 += returned,
                        None => account.collateral.push((flip.collateral_asset, returned)),
                    }
                    r.reindex(flip.account);
                }
                let live = &mut flips.running[i];
                live.bid = bid;
                live.lot = lot;
                live.returned += returned.max(0.0);
                live.winner = Some(j);
                live.expires = now + params.ttl;
                let protocol = r.id;
                r.emit(EventKind::AuctionBid {
                    protocol,
                    auction: flip.id,
                    keeper: k,
                    bid,
                    lot,
                });
                activity += 1;
            }
            i += 1;
        }
        activity
    }

    fn confirm(&self, _flips: &Flips, r: &Round<'_>, id: AccountId) -> Option<f64> {
        r.health_factor_below_one(id)
    }

    /// bite: at most `lump` collateral and the same share of the debt into a new auction, by
    /// the first keeper whose kick gets in; tab = debt × (1 + penalty).
    fn liquidate(
        &self,
        flips: &mut Flips,
        r: &mut Round<'_>,
        id: AccountId,
        _health_factor: f64,
    ) -> bool {
        let params = &self.0;
        let prices = r.prices;
        if r.info.keepers.is_empty() {
            return false;
        }
        let account = r.account(id);
        let Some((collateral_asset, balance)) = richest_collateral(account, prices) else {
            return false;
        };
        let Some(keeper) = r.kicker(id) else {
            return false;
        };
        let account = r.account(id);
        let (debt_asset, debt) = (account.debt_asset, account.debt);
        let whole = params.lump.is_none_or(|lump| lump >= balance);
        let lot = if whole {
            balance
        } else {
            params.lump.unwrap_or(balance)
        };
        let art = if whole { debt } else { debt * lot / balance };
        let tab = art * (1.0 + params.penalty);
        r.count_liquidated(art * prices[debt_asset.index()]);
        let liquidatable_since = r.end_episode(id);
        let account = r.book.account_mut(id);
        account.debt = if whole { 0.0 } else { debt - art };
        if let Some(slot) = account
            .collateral
            .iter_mut()
            .find(|c| c.0 == collateral_asset)
        {
            slot.1 = if whole { 0.0 } else { (slot.1 - lot).max(0.0) };
        }
        r.reindex(id);
        let auction = flips.kicked;
        flips.kicked += 1;
        flips.running.push(Flip {
            id: auction,
            account: id,
            collateral_asset,
            debt_asset,
            lot,
            tab,
            debt: art,
            bid: 0.0,
            winner: None,
            expires: 0,
            end: r.time + params.tau,
            returned: 0.0,
            liquidatable_since,
        });
        let protocol = r.id;
        r.emit(EventKind::AuctionKicked {
            protocol,
            account: id,
            auction,
            keeper,
            collateral_asset,
            lot,
            collateral_price: prices[collateral_asset.index()],
            debt_asset,
            debt: art,
            tab,
            top: 0.0,
            incentive: 0.0,
        });
        true
    }

    /// Running auctions: their lots and their whole debt (nothing is raised before the deal),
    /// and the debt they would leave unpaid at `prices`.
    fn mark_book(&self, flips: &Flips, prices: &[f64], mark: &mut BookMark) {
        for flip in &flips.running {
            mark.in_auction_collateral[flip.collateral_asset.index()] += flip.lot;
            mark.in_auction_debt[flip.debt_asset.index()] += flip.debt;
            mark.unrealised_bad_debt_usd += (flip.debt * prices[flip.debt_asset.index()]
                - flip.lot * prices[flip.collateral_asset.index()])
            .max(0.0);
        }
    }
}

/// Deals auction `i` to its standing bidder `keeper`: the keeper pays its bid and receives the
/// lot; the auction ends as a Dutch one does (shortfall written off, penalty income).
fn deal(flips: &mut Flips, r: &mut Round<'_>, i: usize, keeper: KeeperId) {
    let flip = flips.running.remove(i);
    let (collateral_price, debt_price) = (r.price(flip.collateral_asset), r.price(flip.debt_asset));
    let book = &mut r.keepers[keeper.index()];
    book.locked -= flip.bid * debt_price;
    book.spent += flip.bid * debt_price;
    book.receive(flip.collateral_asset, flip.lot);
    if let Some(v) = r.world.keepers[keeper.index()].spec.sell_on[flip.collateral_asset.index()] {
        r.queue_sale(keeper, v, flip.lot, collateral_price);
    }
    let protocol = r.id;
    r.emit(EventKind::AuctionTaken {
        protocol,
        auction: flip.id,
        account: flip.account,
        keeper,
        collateral_asset: flip.collateral_asset,
        slice: flip.lot,
        price: if flip.lot > 0.0 {
            flip.bid / flip.lot
        } else {
            0.0
        },
        collateral_price,
        debt_asset: flip.debt_asset,
        owe: flip.bid,
        debt_price,
    });
    r.close_auction(AuctionClose {
        auction: flip.id,
        account: flip.account,
        collateral_asset: flip.collateral_asset,
        returned: flip.returned,
        debt_asset: flip.debt_asset,
        raised: flip.bid,
        debt: flip.debt,
        debt_price,
        liquidatable_since: flip.liquidatable_since,
    });
}

/// The rivals' bid transactions when keepers bid in priority gas auctions: the keepers (other
/// than the standing bidder) whose `limits` make a bid worth `value(j, limit)` USD to them
/// (before gas; `None`: they do not bid) go to the gate's contest, which for a bid — not
/// exclusive — only keeps out the bots the bid is not worth the clearing price to; they then
/// send in block order.
/// Each whose transaction does not get in has its limit set to `shut_out`. Returns whether any
/// got in. Gas is counted back into the value: `limits` already allow for the expected gas.
fn bid_in_gas_war(
    r: &mut Round<'_>,
    keepers: &[KeeperId],
    standing: Option<usize>,
    target: Target,
    limits: &mut [f64],
    value: impl Fn(usize, f64) -> Option<f64>,
    shut_out: f64,
) -> bool {
    let wanting: smallvec::SmallVec<[(KeeperId, f64); 4]> = (0..keepers.len())
        .filter(|&j| Some(j) != standing)
        .filter_map(|j| {
            let usd = value(j, limits[j])? + r.expected_gas_usd(keepers[j], TxKind::Bid);
            Some((keepers[j], usd))
        })
        .collect();
    let order = r.contest(TxKind::Bid, target, &wanting);
    let mut got_in = vec![false; keepers.len()];
    for k in order {
        let j = keepers
            .iter()
            .position(|&x| x == k)
            .expect("a keeper of the protocol");
        got_in[j] = r.transact(k, TxKind::Bid, target);
    }
    for &(k, _) in &wanting {
        let j = keepers
            .iter()
            .position(|&x| x == k)
            .expect("a keeper of the protocol");
        if !got_in[j] {
            limits[j] = shut_out;
        }
    }
    got_in.iter().any(|&g| g)
}
