//! The shared counters on a real Redis: two instances count as one, atomically.

use crate::support::{RedisPrefix, redis_url};
use chrono::Utc;
use connected::domain::access::{CountedIn, Counters, Window};
use connected::outbound::clock::SystemClock;
use connected::outbound::redis::counters::SharedCounters;
use connected::outbound::redis::store::RedisStore;
use std::sync::Arc;
use std::time::Duration;

fn counters(prefix: &RedisPrefix) -> SharedCounters {
    let store = RedisStore::new(&redis_url(), &prefix.0).unwrap();
    SharedCounters::new(Some(store), Arc::new(SystemClock))
}

#[tokio::test]
async fn two_instances_share_one_rate_and_one_budget_through_redis() {
    let Some(prefix) = RedisPrefix::new().await else {
        return;
    };
    let (a, b) = (counters(&prefix), counters(&prefix));
    let period = Duration::from_secs(60);
    // Ten requests at once, five from each instance, against a rate of 6.
    let asks = (0..10).map(|i| {
        let counters = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { counters.admit("key1", 6, period).await }
    });
    let admissions = futures::future::join_all(asks).await;
    assert_eq!(admissions.iter().filter(|a| a.admitted).count(), 6);
    let refused = admissions.iter().find(|a| !a.admitted).unwrap();
    assert_eq!(refused.remaining, 0);
    assert!(refused.reset > Duration::from_secs(58) && refused.reset <= period);
    assert!(
        a.admit("key2", 6, period).await.admitted,
        "keys count apart"
    );

    let window = Window::day(Utc::now());
    let takes = (0..8).map(|i| {
        let counters = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { counters.take("x", 300, 1500, window, 0).await.units }
    });
    let taken: u64 = futures::future::join_all(takes).await.iter().sum();
    assert_eq!(taken, 1500, "never more than the budget");
    b.give_back("x", 200, window, CountedIn::Shared).await;
    assert_eq!(a.take("x", 0, 1500, window, 0).await.spent, 1300);
    assert_eq!(a.take("x", 1000, 1500, window, 0).await.units, 200);
    assert!(!prefix.keys().await.is_empty());
}

#[tokio::test]
async fn a_redis_emptied_is_raised_to_what_the_database_keeps_and_never_lowered() {
    let Some(prefix) = RedisPrefix::new().await else {
        return;
    };
    let counters = counters(&prefix);
    let window = Window::hour(Utc::now());
    assert_eq!(counters.take("g", 2, 20, window, 0).await.spent, 2);
    prefix.delete_keys().await;
    // Emptied: the next take starts from the database's figure.
    let taken = counters.take("g", 1, 20, window, 15).await;
    assert_eq!((taken.units, taken.spent), (1, 16));
    // A lower figure does not lower the count.
    assert_eq!(counters.take("g", 10, 20, window, 3).await.units, 4);
    assert_eq!(
        counters.give_back("g", 4, window, CountedIn::Shared).await,
        Some(16)
    );
}

#[tokio::test]
async fn without_redis_each_instance_counts_alone() {
    let down = RedisStore::new("redis://127.0.0.1:1", "connected-test:").unwrap();
    let a = SharedCounters::new(Some(down), Arc::new(SystemClock));
    let period = Duration::from_secs(60);
    assert!(a.admit("k", 1, period).await.admitted);
    assert!(!a.admit("k", 1, period).await.admitted);
    let b = SharedCounters::new(None, Arc::new(SystemClock));
    assert!(b.admit("k", 1, period).await.admitted);
}
