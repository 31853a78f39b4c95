//! Spending, checked where it happens: before a call, what it can cost is taken from the
//! budgets that pay for it (the service's, and the asking key's), and what it did not cost is
//! given back after. A call no budget can pay for is not made, so a budget is never overrun.
//! What was spent is also kept in the database ([`Ledger`]), so that it holds across restarts.

use super::ledger::Ledger;
use super::reservation::{Paid, Reservation};
use crate::domain::Clock;
use crate::domain::access::{
    Budget, Caller, Caps, Counters, LedgerUnavailable, Overspend, Payer, SpendLedger, Taken, Window,
};
use crate::metrics::Metrics;
use crate::periodic;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

/// Where one of the service's budgets stands in this instance's eyes, for its gauges.
#[derive(Default)]
struct Standing {
    /// What its counter held when last read, reservations of every instance included.
    counted: AtomicU64,
    /// What this instance holds reserved for calls under way.
    reserved: AtomicU64,
}

/// The budgets, counted in shared counters and kept in the ledger.
#[derive(Clone)]
pub struct Spending {
    counters: Arc<dyn Counters>,
    /// The service's own caps.
    service: Arc<Caps>,
    metrics: Arc<Metrics>,
    /// What tells the window a call is counted in.
    clock: Arc<dyn Clock>,
    ledger: Arc<Ledger>,
    /// One for each budget the service caps.
    standing: Arc<Standings>,
}

/// Where each of the service's capped budgets stands.
type Standings = BTreeMap<Budget, Standing>;

/// The name of the counter of the service's `budget`: `service:x_users_per_day`.
fn service_counter(budget: Budget) -> String {
    format!("service:{}", budget.id())
}

impl Spending {
    /// The budgets `service` caps (and each key's), counted in `counters` in the windows
    /// that hold `clock`'s time.
    pub fn new(
        counters: Arc<dyn Counters>,
        service: Caps,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let standing = service
            .iter()
            .map(|(budget, _)| (budget, Standing::default()))
            .collect();
        Self {
            counters,
            service: Arc::new(service),
            metrics,
            clock,
            ledger: Arc::default(),
            standing: Arc::new(standing),
        }
    }

    /// The same, what is spent kept in `store` too: read from it first (so that no budget
    /// starts again after a restart), then written every few seconds while this lives.
    ///
    /// # Errors
    /// [`LedgerUnavailable`] when the store cannot be read.
    pub async fn kept_in(mut self, store: Arc<dyn SpendLedger>) -> Result<Self, LedgerUnavailable> {
        self.ledger = Arc::new(Ledger::in_store(store));
        self.ledger.write(self.clock.now()).await?;
        let clock = Arc::clone(&self.clock);
        let gauges = Gauges {
            counters: Arc::clone(&self.counters),
            service: Arc::clone(&self.service),
            metrics: Arc::clone(&self.metrics),
            standing: Arc::downgrade(&self.standing),
        };
        tokio::spawn(periodic::write_regularly(
            Arc::downgrade(&self.ledger),
            periodic::WRITE_EVERY,
            "what the spend budgets spent",
            move |ledger: Arc<Ledger>| {
                let now = clock.now();
                let gauges = gauges.clone();
                async move {
                    let written = ledger.write(now).await;
                    gauges.read(&ledger, now).await;
                    written
                }
            },
        ));
        Ok(self)
    }

    /// Writes what was spent and is not written yet (at shutdown, say); a failure is logged.
    pub async fn write_spent(&self) {
        if let Err(e) = self.ledger.write(self.clock.now()).await {
            tracing::warn!(error = %crate::domain::Chain(&e), "what the spend budgets spent last could not be written");
        }
    }

    /// Takes up to `want` units of `budget` for one call of `caller`'s, or as few as
    /// `least`: from the caller's key's budget, then the service's.
    ///
    /// # Errors
    /// [`Overspend`] naming the budget that cannot give `least`; nothing is then taken.
    pub async fn reserve(
        &self,
        caller: &Caller,
        budget: Budget,
        want: u64,
        least: u64,
    ) -> Result<Reservation, Overspend> {
        let caller = caller.clone();
        // In a task of its own: a request cancelled while a counter (Redis) answers would
        // otherwise lose the units the counter took. Cancelled now, the reservation is still
        // made, then dropped unsent, which gives every unit back.
        let spending = self.clone();
        let reserving =
            tokio::spawn(async move { spending.reserve_for(caller, budget, want, least).await });
        match reserving.await {
            Ok(reserved) => reserved,
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                // Only when the runtime stops, which drops this request too.
                Err(_) => std::future::pending().await,
            },
        }
    }

    /// [`Spending::reserve`], in a task of its own.
    async fn reserve_for(
        &self,
        caller: Caller,
        budget: Budget,
        want: u64,
        least: u64,
    ) -> Result<Reservation, Overspend> {
        let now = self.clock.now();
        let window = budget.window(now);
        let payers = self.payers(&caller, budget);
        let paid = Paid {
            spending: self.clone(),
            budget,
            window,
            held: Vec::new(),
            caller,
            service_reserved: 0,
        };
        // Built before the first take: cancelled part way, it gives back what it holds.
        let mut reservation = Reservation::paid(paid, want);
        for (payer, name, limit) in payers {
            let taken = self.take(&mut reservation, name, limit, window).await;
            if payer == Payer::Service {
                self.counted(budget, taken.spent);
            }
            if taken.units < least.max(1) {
                self.settle(reservation, 0).await;
                return Err(Overspend {
                    payer,
                    budget,
                    limit,
                    retry_after: window.left(now),
                });
            }
            // Every payer before this one holds more: the settling gives it back.
            reservation.granted = taken.units;
        }
        self.reserved(&mut reservation, budget);
        Ok(reservation)
    }

    /// Who pays for a call of `caller`'s under `budget`, in the order they are asked: the
    /// caller's key, then the service; each with its counter's name and its limit.
    fn payers(&self, caller: &Caller, budget: Budget) -> Vec<(Payer, String, u64)> {
        let mut payers = Vec::new();
        if let Some(id) = caller.id()
            && let Some(limit) = caller.limits().budgets.get(budget)
        {
            payers.push((Payer::Key, format!("key:{id}:{}", budget.id()), limit));
        }
        if let Some(limit) = self.service.get(budget) {
            payers.push((Payer::Service, service_counter(budget), limit));
        }
        payers
    }

    /// Takes what `reservation` is granted so far from the counter `name` (capped at
    /// `limit` in `window`, never below what the ledger knows was spent), and holds what it
    /// got in the reservation.
    async fn take(
        &self,
        reservation: &mut Reservation,
        name: String,
        limit: u64,
        window: Window,
    ) -> Taken {
        let floor = self.ledger.floor(&name, window);
        let taken = self
            .counters
            .take(&name, reservation.granted, limit, window, floor)
            .await;
        self.ledger.held(&name, window, taken.units);
        reservation.hold(name, taken.held, taken.units);
        taken
    }

    /// The counter of the service's `budget` holds `spent`: its gauges say so.
    fn counted(&self, budget: Budget, spent: u64) {
        if let Some(standing) = self.standing.get(&budget) {
            standing.counted.store(spent, Ordering::Relaxed);
            self.show(budget);
        }
    }

    /// What `reservation` was granted is held reserved in the service's `budget`, when the
    /// service caps it: its gauges say so until it is settled.
    fn reserved(&self, reservation: &mut Reservation, budget: Budget) {
        let granted = reservation.granted;
        if let Some(paid) = reservation.paid_mut()
            && let Some(standing) = self.standing.get(&budget)
        {
            paid.service_reserved = granted;
            standing.reserved.fetch_add(granted, Ordering::Relaxed);
            self.show(budget);
        }
    }

    /// The call returned `used` units of what was reserved: the key is billed what it cost
    /// (as [`super::Progress::cost`] says: nothing unsent, everything when no answer was
    /// read) and the rest goes back.
    pub async fn settle(&self, mut reservation: Reservation, used: u64) {
        let granted = reservation.granted;
        let progress = reservation.progress();
        let Some(paid) = reservation.take_paid() else {
            return;
        };
        if used > granted {
            tracing::warn!(
                budget = %paid.budget,
                granted,
                used,
                "an upstream returned more than it was asked for"
            );
        }
        let cost = progress.cost(granted, Some(used));
        // Given back in a task of its own, so that a request cancelled now loses nothing.
        let _ = tokio::spawn(self.close(paid, cost)).await;
    }

    /// Ends a reservation that cost `cost`: bills the caller, notes the spending in the
    /// ledger, and returns the work of giving back the rest.
    pub(super) fn close(&self, paid: Paid, cost: u64) -> impl Future<Output = ()> + Send + 'static {
        paid.caller.bill(paid.budget.meter, cost);
        for (name, _, held) in &paid.held {
            self.ledger.spent(name, paid.window, cost);
            self.ledger.released(name, paid.window, *held);
        }
        let spending = self.clone();
        let service = service_counter(paid.budget);
        // The gauges change once what goes back is back: until then, what the counter holds
        // is still reserved, never shown as spent.
        async move {
            for (name, holder, units) in paid.held {
                let back = units.saturating_sub(cost);
                if back == 0 {
                    continue;
                }
                let after = spending
                    .counters
                    .give_back(&name, back, paid.window, holder)
                    .await;
                if name == service
                    && let Some(standing) = spending.standing.get(&paid.budget)
                {
                    let counted = &standing.counted;
                    match after {
                        Some(after) => counted.store(after, Ordering::Relaxed),
                        None => {
                            let _ =
                                counted.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                                    Some(n.saturating_sub(back))
                                });
                        }
                    }
                }
            }
            if let Some(standing) = spending.standing.get(&paid.budget) {
                standing
                    .reserved
                    .fetch_sub(paid.service_reserved, Ordering::Relaxed);
            }
            spending.show(paid.budget);
        }
    }

    /// Updates the gauges of the service's `budget`, when it has one.
    fn show(&self, budget: Budget) {
        show(&self.metrics, &self.service, &self.standing, budget);
    }
}

/// Updates the gauges of the service's `budget` from `standing`, when it has one.
fn show(metrics: &Metrics, service: &Caps, standing: &Standings, budget: Budget) {
    if let Some(limit) = service.get(budget)
        && let Some(standing) = standing.get(&budget)
    {
        metrics.budget(
            &budget.id(),
            limit,
            standing.counted.load(Ordering::Relaxed),
            standing.reserved.load(Ordering::Relaxed),
        );
    }
}

/// What the gauges of the service's budgets are read from, every few seconds: calls under
/// way note what their counter said as they take and give back, in whatever order they get
/// there, so a gauge read between them can be left behind; read again, it is not for long.
#[derive(Clone)]
struct Gauges {
    counters: Arc<dyn Counters>,
    service: Arc<Caps>,
    metrics: Arc<Metrics>,
    standing: Weak<Standings>,
}

impl Gauges {
    /// Reads what each of the service's budgets counts now (taking nothing).
    async fn read(&self, ledger: &Ledger, now: DateTime<Utc>) {
        let Some(standings) = self.standing.upgrade() else {
            return;
        };
        for (budget, limit) in self.service.iter() {
            let Some(standing) = standings.get(&budget) else {
                continue;
            };
            let name = service_counter(budget);
            let window = budget.window(now);
            let floor = ledger.floor(&name, window);
            let counted = self.counters.take(&name, 0, limit, window, floor).await;
            standing.counted.store(counted.spent, Ordering::Relaxed);
            show(&self.metrics, &self.service, &standings, budget);
        }
    }
}

#[cfg(test)]
mod tests;
