//! Spending, checked where it happens: before a call, what it can cost is taken from the
//! budgets that pay for it (the service's, and the asking key's), and what it did not cost is
//! given back after. A call no budget can pay for is not made, so a budget is never overrun.
//! What was spent is also kept in the database ([`Ledger`]), so that it holds across restarts.

use super::ledger::Ledger;
use super::reservation::{Paid, Reservation};
use crate::config::ServiceBudgets;
use crate::domain::access::{Budget, Caller, Counters, Overspend, Payer, SpendLedger};
use crate::metrics::Metrics;
use crate::periodic;
use chrono::{DateTime, Utc};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

/// The time, as spending reads it.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

impl ServiceBudgets {
    fn limit(&self, budget: Budget) -> Option<u64> {
        match budget {
            Budget::XUsersPerDay => self.x_users_per_day,
            Budget::GitHubCallsPerHour => self.github_calls_per_hour,
        }
    }
}

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
    service: ServiceBudgets,
    metrics: Arc<Metrics>,
    clock: Clock,
    ledger: Arc<Ledger>,
    /// By [`index`] of the budget.
    standing: Arc<[Standing; 2]>,
}

fn index(budget: Budget) -> usize {
    match budget {
        Budget::XUsersPerDay => 0,
        Budget::GitHubCallsPerHour => 1,
    }
}

/// Bills the caller for `used` units.
fn bill(caller: &Caller, budget: Budget, used: u64) {
    match budget {
        Budget::XUsersPerDay => caller.billed_x_users(used),
        Budget::GitHubCallsPerHour => caller.called_github(used),
    }
}

/// The name of the counter of the service's `budget`.
fn service_counter(budget: Budget) -> String {
    format!("service:{}", budget.id())
}

fn key_limit(caller: &Caller, budget: Budget) -> Option<u64> {
    match budget {
        Budget::XUsersPerDay => caller.limits().x_users_per_day,
        Budget::GitHubCallsPerHour => caller.limits().github_calls_per_hour,
    }
}

impl Spending {
    pub fn new(
        counters: Arc<dyn Counters>,
        service: ServiceBudgets,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            counters,
            service,
            metrics,
            clock: Arc::new(Utc::now),
            ledger: Arc::default(),
            standing: Arc::default(),
        }
    }

    /// The same, reading the time from `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The same, what is spent kept in `store` too: read from it first (so that no budget
    /// starts again after a restart), then written every few seconds while this lives.
    ///
    /// # Errors
    /// A message when the store cannot be read.
    pub async fn kept_in(mut self, store: Arc<dyn SpendLedger>) -> Result<Self, String> {
        self.ledger = Arc::new(Ledger::in_store(store));
        self.ledger
            .write((self.clock)())
            .await
            .map_err(|e| e.to_string())?;
        let clock = Arc::clone(&self.clock);
        let gauges = Gauges {
            counters: Arc::clone(&self.counters),
            service: self.service,
            metrics: Arc::clone(&self.metrics),
            standing: Arc::downgrade(&self.standing),
        };
        tokio::spawn(periodic::write_regularly(
            Arc::downgrade(&self.ledger),
            periodic::WRITE_EVERY,
            "what the spend budgets spent",
            move |ledger: Arc<Ledger>| {
                let now = clock();
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
        if let Err(e) = self.ledger.write((self.clock)()).await {
            tracing::warn!(error = %e, "what the spend budgets spent last could not be written");
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
        let now = (self.clock)();
        let window = budget.window(now);
        let mut payers: Vec<(Payer, String, u64)> = Vec::new();
        if let Some(id) = caller.id()
            && let Some(limit) = key_limit(&caller, budget)
        {
            payers.push((Payer::Key, format!("key:{id}:{}", budget.id()), limit));
        }
        if let Some(limit) = self.service.limit(budget) {
            payers.push((Payer::Service, service_counter(budget), limit));
        }
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
            let floor = self.ledger.floor(&name, window);
            let taken = self
                .counters
                .take(&name, reservation.granted, limit, window, floor)
                .await;
            self.ledger.held(&name, window, taken.units);
            reservation.hold(name, taken.held, taken.units);
            if payer == Payer::Service {
                self.standing[index(budget)]
                    .counted
                    .store(taken.spent, Ordering::Relaxed);
                self.show(budget);
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
        let granted = reservation.granted;
        if let Some(paid) = reservation.paid_mut()
            && self.service.limit(budget).is_some()
        {
            paid.service_reserved = granted;
            self.standing[index(budget)]
                .reserved
                .fetch_add(granted, Ordering::Relaxed);
            self.show(budget);
        }
        Ok(reservation)
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
                budget = paid.budget.id(),
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
        bill(&paid.caller, paid.budget, cost);
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
                if name == service {
                    let counted = &spending.standing[index(paid.budget)].counted;
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
            spending.standing[index(paid.budget)]
                .reserved
                .fetch_sub(paid.service_reserved, Ordering::Relaxed);
            spending.show(paid.budget);
        }
    }

    /// Updates the gauges of the service's `budget`, when it has one.
    fn show(&self, budget: Budget) {
        show(&self.metrics, self.service, &self.standing, budget);
    }
}

/// Updates the gauges of the service's `budget` from `standing`, when it has one.
fn show(metrics: &Metrics, service: ServiceBudgets, standing: &[Standing; 2], budget: Budget) {
    if let Some(limit) = service.limit(budget) {
        let standing = &standing[index(budget)];
        metrics.budget(
            budget.id(),
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
    service: ServiceBudgets,
    metrics: Arc<Metrics>,
    standing: Weak<[Standing; 2]>,
}

impl Gauges {
    /// Reads what each of the service's budgets counts now (taking nothing).
    async fn read(&self, ledger: &Ledger, now: DateTime<Utc>) {
        let Some(standing) = self.standing.upgrade() else {
            return;
        };
        for budget in [Budget::XUsersPerDay, Budget::GitHubCallsPerHour] {
            let Some(limit) = self.service.limit(budget) else {
                continue;
            };
            let name = service_counter(budget);
            let window = budget.window(now);
            let floor = ledger.floor(&name, window);
            let counted = self.counters.take(&name, 0, limit, window, floor).await;
            standing[index(budget)]
                .counted
                .store(counted.spent, Ordering::Relaxed);
            show(&self.metrics, self.service, &standing, budget);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Progress;
    use super::*;
    use crate::domain::access::{KeyId, KeyLimits, LedgerUnavailable, WindowSpend};
    use crate::outbound::counters::SharedCounters;
    use async_trait::async_trait;
    use std::sync::Mutex;

    /// The database's ledger, in memory.
    #[derive(Default)]
    struct Book(Mutex<Vec<WindowSpend>>);

    #[async_trait]
    impl SpendLedger for Book {
        async fn add_spent(
            &self,
            spent: &[WindowSpend],
            since: DateTime<Utc>,
        ) -> Result<Vec<WindowSpend>, LedgerUnavailable> {
            let mut book = self.0.lock().unwrap();
            for s in spent {
                match book
                    .iter_mut()
                    .find(|b| (&b.counter, b.window_start_ms) == (&s.counter, s.window_start_ms))
                {
                    Some(kept) => kept.units += s.units,
                    None => book.push(s.clone()),
                }
            }
            book.retain(|b| b.window_start_ms >= since.timestamp_millis());
            Ok(book.clone())
        }
    }

    fn at(time: &str) -> Clock {
        let at = DateTime::parse_from_rfc3339(time)
            .unwrap()
            .with_timezone(&Utc);
        Arc::new(move || at)
    }

    fn spending(limit: u64, clock: Clock) -> (Spending, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::new());
        let budgets = ServiceBudgets {
            x_users_per_day: Some(limit),
            github_calls_per_hour: None,
        };
        let counters = Arc::new(SharedCounters::new(None));
        let spending = Spending::new(counters, budgets, Arc::clone(&metrics)).with_clock(clock);
        (spending, metrics)
    }

    fn gauge(metrics: &Metrics, name: &str) -> u64 {
        let line = format!("connected_budget_{name}{{budget=\"x_users_per_day\"}} ");
        metrics
            .encode()
            .lines()
            .find_map(|l| l.strip_prefix(&line).map(|n| n.parse().unwrap()))
            .unwrap()
    }

    async fn left(spending: &Spending) -> u64 {
        let probe = spending
            .reserve(&Caller::anonymous(), Budget::XUsersPerDay, u64::MAX, 1)
            .await;
        let granted = probe.as_ref().map_or(0, |r| r.granted);
        if let Ok(probe) = probe {
            spending.settle(probe, 0).await;
        }
        granted
    }

    /// Counters whose `take` answers only after `delay`, as a slow Redis does.
    struct SlowCounters {
        inner: SharedCounters,
        delay: std::time::Duration,
    }

    #[async_trait]
    impl Counters for SlowCounters {
        async fn admit(
            &self,
            name: &str,
            limit: u32,
            period: std::time::Duration,
        ) -> crate::domain::access::Admission {
            self.inner.admit(name, limit, period).await
        }

        async fn take(
            &self,
            name: &str,
            units: u64,
            limit: u64,
            window: crate::domain::access::Window,
            at_least: u64,
        ) -> crate::domain::access::Taken {
            let taken = self.inner.take(name, units, limit, window, at_least).await;
            tokio::time::sleep(self.delay).await;
            taken
        }

        async fn give_back(
            &self,
            name: &str,
            units: u64,
            window: crate::domain::access::Window,
            held: crate::domain::access::Holder,
        ) -> Option<u64> {
            self.inner.give_back(name, units, window, held).await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_cancelled_while_its_counter_answers_leaves_nothing_taken() {
        let counters = Arc::new(SlowCounters {
            inner: SharedCounters::new(None),
            delay: std::time::Duration::from_secs(1),
        });
        let budgets = ServiceBudgets {
            x_users_per_day: Some(1500),
            github_calls_per_hour: None,
        };
        let spending = Spending::new(counters, budgets, Arc::new(Metrics::new()))
            .with_clock(at("2026-12-01T12:00:00Z"));
        let cancelled = tokio::time::timeout(
            std::time::Duration::from_millis(10),
            spending.reserve(&Caller::anonymous(), Budget::XUsersPerDay, 1000, 1),
        )
        .await;
        assert!(cancelled.is_err(), "cancelled while the counter answers");
        // The reservation is made in its own task, then dropped unsent: all of it goes back.
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        assert_eq!(left(&spending).await, 1500);
    }

    #[tokio::test]
    async fn a_reservation_dropped_before_its_request_is_sent_gives_everything_back() {
        let (spending, metrics) = spending(1500, at("2026-12-01T12:00:00Z"));
        let reservation = spending
            .reserve(&Caller::anonymous(), Budget::XUsersPerDay, 1000, 1)
            .await
            .unwrap();
        assert_eq!(gauge(&metrics, "reserved"), 1000);
        drop(reservation);
        tokio::task::yield_now().await;
        assert_eq!(left(&spending).await, 1500);
        assert_eq!(
            (gauge(&metrics, "spent"), gauge(&metrics, "reserved")),
            (0, 0)
        );
    }

    #[tokio::test]
    async fn a_reservation_dropped_after_its_request_is_sent_keeps_and_bills_everything() {
        let (spending, metrics) = spending(1500, at("2026-12-01T12:00:00Z"));
        let caller = Caller::new(KeyId::parse("abcdefghijkl").unwrap(), KeyLimits::default());
        let mut reservation = spending
            .reserve(&caller, Budget::XUsersPerDay, 40, 1)
            .await
            .unwrap();
        reservation.progressed(Progress::Sent);
        drop(reservation);
        tokio::task::yield_now().await;
        assert_eq!(caller.usage().x_users, 40, "the outcome is unknown: billed");
        assert_eq!(left(&spending).await, 1460);
        assert_eq!(gauge(&metrics, "spent"), 40);
    }

    #[tokio::test]
    async fn an_answer_is_billed_what_it_returned_and_an_unanswered_call_what_it_reserved() {
        let (spending, metrics) = spending(1500, at("2026-12-01T12:00:00Z"));
        let caller = Caller::anonymous();
        let reserve = async |units| {
            spending
                .reserve(&caller, Budget::XUsersPerDay, units, 1)
                .await
                .unwrap()
        };
        let (mut answered, mut timed_out, mut unreadable) =
            (reserve(18).await, reserve(5).await, reserve(7).await);
        answered.progressed(Progress::Answered);
        timed_out.progressed(Progress::Sent);
        unreadable.progressed(Progress::Answered);
        unreadable.unreadable();
        spending.settle(answered, 12).await;
        spending.settle(timed_out, 0).await;
        spending.settle(unreadable, 0).await;
        assert_eq!(caller.usage().x_users, 24, "12 read, 5 unknown, 7 unread");
        assert_eq!(left(&spending).await, 1476);
        assert_eq!(
            (gauge(&metrics, "spent"), gauge(&metrics, "reserved")),
            (24, 0)
        );
        assert_eq!(gauge(&metrics, "remaining"), 1476);
    }

    #[tokio::test]
    async fn a_refused_reservation_holds_nothing_of_the_keys_budget_either() {
        let (spending, _) = spending(10, at("2026-12-01T12:00:00Z"));
        let limits = KeyLimits {
            x_users_per_day: Some(100),
            ..KeyLimits::default()
        };
        let caller = Caller::new(KeyId::parse("abcdefghijkl").unwrap(), limits);
        let mut all = spending
            .reserve(&caller, Budget::XUsersPerDay, 10, 10)
            .await
            .unwrap();
        all.progressed(Progress::Answered);
        spending.settle(all, 10).await;
        let refused = spending.reserve(&caller, Budget::XUsersPerDay, 50, 1).await;
        assert_eq!(refused.unwrap_err().payer, Payer::Service);
        assert_eq!(caller.usage().x_users, 10);
        // The key's budget took the 50 first, and has them back.
        let window = Budget::XUsersPerDay.window((spending.clock)());
        let key = spending
            .counters
            .take("key:abcdefghijkl:x_users_per_day", 0, 100, window, 0)
            .await;
        assert_eq!(key.spent, 10);
    }

    #[tokio::test]
    async fn a_gauge_left_behind_by_calls_that_crossed_is_read_again_from_its_counter() {
        let clock = at("2026-12-01T12:00:00Z");
        let (spending, metrics) = spending(1500, Arc::clone(&clock));
        let mut answered = spending
            .reserve(&Caller::anonymous(), Budget::XUsersPerDay, 2, 1)
            .await
            .unwrap();
        answered.progressed(Progress::Answered);
        spending.settle(answered, 2).await;
        // A call that took before another gave back, and noted what it was told after it.
        spending.standing[0].counted.store(4, Ordering::Relaxed);
        spending.show(Budget::XUsersPerDay);
        assert_eq!(gauge(&metrics, "spent"), 4, "left behind");
        let gauges = Gauges {
            counters: Arc::clone(&spending.counters),
            service: spending.service,
            metrics: Arc::clone(&metrics),
            standing: Arc::downgrade(&spending.standing),
        };
        gauges.read(&Ledger::default(), clock()).await;
        assert_eq!(
            (gauge(&metrics, "spent"), gauge(&metrics, "remaining")),
            (2, 1498)
        );
    }

    #[tokio::test]
    async fn a_budget_starts_from_what_the_database_keeps_in_its_window_only() {
        let book: Arc<dyn SpendLedger> = Arc::new(Book::default());
        let noon = at("2026-12-01T12:00:00Z");
        let (first, _) = spending(1500, Arc::clone(&noon));
        let first = first.kept_in(Arc::clone(&book)).await.unwrap();
        let mut spent = first
            .reserve(&Caller::anonymous(), Budget::XUsersPerDay, 1000, 1)
            .await
            .unwrap();
        spent.progressed(Progress::Answered);
        first.settle(spent, 900).await;
        first.write_spent().await;
        // A restart: new counters, the same database.
        let (again, _) = spending(1500, noon);
        let again = again.kept_in(Arc::clone(&book)).await.unwrap();
        assert_eq!(left(&again).await, 600);
        // The next UTC day is a new window.
        let (tomorrow, _) = spending(1500, at("2026-12-02T00:00:00Z"));
        let tomorrow = tomorrow.kept_in(book).await.unwrap();
        assert_eq!(left(&tomorrow).await, 1500);
    }
}
