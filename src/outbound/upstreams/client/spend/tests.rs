//! Spending's rules, with counters in process and a clock the tests set.

use super::super::Progress;
use super::*;
use crate::domain::TestClock;
use crate::domain::access::{KeyId, KeyLimits, LedgerUnavailable, Meter, WindowSpend};
use crate::outbound::redis::counters::SharedCounters;
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

fn at(time: &str) -> Arc<TestClock> {
    TestClock::at(time)
}

fn spending(limit: u64, clock: Arc<TestClock>) -> (Spending, Arc<Metrics>) {
    let budgets = Caps::default().with(Budget::X_USERS_PER_DAY, Some(limit));
    spending_within(budgets, clock)
}

fn spending_within(budgets: Caps, clock: Arc<TestClock>) -> (Spending, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new());
    let counters = Arc::new(SharedCounters::new(None, clock.clone()));
    let spending = Spending::new(counters, budgets, Arc::clone(&metrics), clock);
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
        .reserve(&Caller::anonymous(), Budget::X_USERS_PER_DAY, u64::MAX, 1)
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
        held: crate::domain::access::CountedIn,
    ) -> Option<u64> {
        self.inner.give_back(name, units, window, held).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_request_cancelled_while_its_counter_answers_leaves_nothing_taken() {
    let clock = at("2026-12-01T12:00:00Z");
    let counters = Arc::new(SlowCounters {
        inner: SharedCounters::new(None, clock.clone()),
        delay: std::time::Duration::from_secs(1),
    });
    let budgets = Caps::default().with(Budget::X_USERS_PER_DAY, Some(1500));
    let spending = Spending::new(counters, budgets, Arc::new(Metrics::new()), clock);
    let cancelled = tokio::time::timeout(
        std::time::Duration::from_millis(10),
        spending.reserve(&Caller::anonymous(), Budget::X_USERS_PER_DAY, 1000, 1),
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
        .reserve(&Caller::anonymous(), Budget::X_USERS_PER_DAY, 1000, 1)
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
        .reserve(&caller, Budget::X_USERS_PER_DAY, 40, 1)
        .await
        .unwrap();
    reservation.progressed(Progress::Sent);
    drop(reservation);
    tokio::task::yield_now().await;
    assert_eq!(
        caller.usage().spent(Meter::X_USERS),
        40,
        "the outcome is unknown: billed"
    );
    assert_eq!(left(&spending).await, 1460);
    assert_eq!(gauge(&metrics, "spent"), 40);
}

#[tokio::test]
async fn an_answer_is_billed_what_it_returned_and_an_unanswered_call_what_it_reserved() {
    let (spending, metrics) = spending(1500, at("2026-12-01T12:00:00Z"));
    let caller = Caller::anonymous();
    let reserve = async |units| {
        spending
            .reserve(&caller, Budget::X_USERS_PER_DAY, units, 1)
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
    assert_eq!(
        caller.usage().spent(Meter::X_USERS),
        24,
        "12 read, 5 unknown, 7 unread"
    );
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
        budgets: Caps::default().with(Budget::X_USERS_PER_DAY, Some(100)),
        ..KeyLimits::default()
    };
    let caller = Caller::new(KeyId::parse("abcdefghijkl").unwrap(), limits);
    let mut all = spending
        .reserve(&caller, Budget::X_USERS_PER_DAY, 10, 10)
        .await
        .unwrap();
    all.progressed(Progress::Answered);
    spending.settle(all, 10).await;
    let refused = spending
        .reserve(&caller, Budget::X_USERS_PER_DAY, 50, 1)
        .await;
    assert_eq!(refused.unwrap_err().payer, Payer::Service);
    assert_eq!(caller.usage().spent(Meter::X_USERS), 10);
    // The key's budget took the 50 first, and has them back.
    let window = Budget::X_USERS_PER_DAY.window(spending.clock.now());
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
        .reserve(&Caller::anonymous(), Budget::X_USERS_PER_DAY, 2, 1)
        .await
        .unwrap();
    answered.progressed(Progress::Answered);
    spending.settle(answered, 2).await;
    // A call that took before another gave back, and noted what it was told after it.
    spending.standing[&Budget::X_USERS_PER_DAY]
        .counted
        .store(4, Ordering::Relaxed);
    spending.show(Budget::X_USERS_PER_DAY);
    assert_eq!(gauge(&metrics, "spent"), 4, "left behind");
    let gauges = Gauges {
        counters: Arc::clone(&spending.counters),
        service: spending.service,
        metrics: Arc::clone(&metrics),
        standing: Arc::downgrade(&spending.standing),
    };
    gauges.read(&Ledger::default(), clock.now()).await;
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
        .reserve(&Caller::anonymous(), Budget::X_USERS_PER_DAY, 1000, 1)
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

/// Reserves `units` of `budget` for `caller` and settles them as spent.
async fn spend(spending: &Spending, caller: &Caller, budget: Budget, units: u64) {
    let mut reservation = spending
        .reserve(caller, budget, units, units)
        .await
        .unwrap();
    reservation.progressed(Progress::Answered);
    spending.settle(reservation, units).await;
}

#[tokio::test]
async fn the_last_second_of_a_utc_day_and_midnight_are_counted_in_different_days() {
    let clock = at("2026-12-01T23:59:59Z");
    let (spending, _) = spending(10, Arc::clone(&clock));
    let anyone = Caller::anonymous();
    spend(&spending, &anyone, Budget::X_USERS_PER_DAY, 10).await;
    let refused = spending
        .reserve(&anyone, Budget::X_USERS_PER_DAY, 1, 1)
        .await
        .unwrap_err();
    assert_eq!(
        (refused.payer, refused.retry_after),
        (Payer::Service, std::time::Duration::from_secs(1)),
        "spent until midnight, a second away"
    );
    clock.set("2026-12-02T00:00:00Z");
    assert_eq!(left(&spending).await, 10, "a new day, a whole budget");
}

#[tokio::test]
async fn an_hours_budget_renews_on_the_hour_for_the_service_and_for_each_key() {
    let clock = at("2026-12-01T12:59:59.500Z");
    let budgets = Caps::default().with(Budget::GITHUB_CALLS_PER_HOUR, Some(3));
    let (spending, _) = spending_within(budgets, Arc::clone(&clock));
    let limits = KeyLimits {
        budgets: Caps::default().with(Budget::GITHUB_CALLS_PER_HOUR, Some(2)),
        ..KeyLimits::default()
    };
    let key = Caller::new(KeyId::parse("abcdefghijkl").unwrap(), limits);
    spend(&spending, &key, Budget::GITHUB_CALLS_PER_HOUR, 2).await;
    let own = spending
        .reserve(&key, Budget::GITHUB_CALLS_PER_HOUR, 1, 1)
        .await;
    let own = own.unwrap_err();
    assert_eq!(
        (own.payer, own.retry_after),
        (Payer::Key, std::time::Duration::from_millis(500))
    );
    spend(
        &spending,
        &Caller::anonymous(),
        Budget::GITHUB_CALLS_PER_HOUR,
        1,
    )
    .await;
    let service = spending
        .reserve(&Caller::anonymous(), Budget::GITHUB_CALLS_PER_HOUR, 1, 1)
        .await;
    assert_eq!(service.unwrap_err().payer, Payer::Service);
    clock.set("2026-12-01T13:00:00Z");
    let renewed = spending
        .reserve(&key, Budget::GITHUB_CALLS_PER_HOUR, 5, 1)
        .await
        .unwrap();
    assert_eq!(
        renewed.granted, 2,
        "the key's own two, within the service's three"
    );
    spending.settle(renewed, 0).await;
}

#[tokio::test]
async fn what_a_day_spent_is_written_under_that_day_and_forgotten_once_it_has_ended() {
    let book = Arc::new(Book::default());
    let clock = at("2026-12-01T23:59:58Z");
    let (spending, _) = spending(1500, Arc::clone(&clock));
    let spending = spending.kept_in(book.clone()).await.unwrap();
    let anyone = Caller::anonymous();
    spend(&spending, &anyone, Budget::X_USERS_PER_DAY, 40).await;
    clock.set("2026-12-01T23:59:59Z");
    spending.write_spent().await;
    let day = Budget::X_USERS_PER_DAY.window(clock.now()).start_ms();
    let written = WindowSpend {
        counter: "service:x_users_per_day".to_owned(),
        window_start_ms: day,
        units: 40,
    };
    assert_eq!(*book.0.lock().unwrap(), [written]);
    // Spent in the last second, written after midnight: that day is done with.
    spend(&spending, &anyone, Budget::X_USERS_PER_DAY, 2).await;
    clock.set("2026-12-02T00:00:01Z");
    spending.write_spent().await;
    assert!(
        book.0.lock().unwrap().is_empty(),
        "no window of the day before"
    );
    assert_eq!(left(&spending).await, 1500, "a new day, a whole budget");
}
