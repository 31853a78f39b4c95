use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Clone)]
struct Failed;

impl From<ShortAnswer> for Failed {
    fn from(_: ShortAnswer) -> Self {
        Failed
    }
}

fn tier() -> FactCache<String> {
    let settings = CacheSettings {
        ttl: Duration::from_secs(60),
        ttl_not_found: Duration::from_secs(60),
        max_entries: 100,
    };
    let clock = crate::domain::TestClock::at("2026-12-01T12:00:00Z");
    FactCache::new("test", settings, None, Arc::default(), clock)
}

fn keys(v: &[&str]) -> Vec<String> {
    v.iter().map(|k| (*k).to_owned()).collect()
}

/// A load that counts its calls, takes a while and answers each key with its upper case.
async fn slow_load(
    calls: &AtomicUsize,
    asked: Vec<String>,
) -> Result<Vec<(String, Duration)>, Failed> {
    calls.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(asked
        .iter()
        .map(|k| (k.to_uppercase(), Duration::from_secs(60)))
        .collect())
}

#[tokio::test]
async fn a_key_another_caller_is_loading_is_waited_for_and_the_rest_load_once() {
    let tier = tier();
    let calls = AtomicUsize::new(0);
    let alone = keys(&["a"]);
    let first = tier.get_many(&alone, |asked| slow_load(&calls, asked));
    let team = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        tier.get_many(&keys(&["a", "b", "c", "d"]), |asked| {
            slow_load(&calls, asked)
        })
        .await
    };
    let (first, team) = tokio::join!(first, team);
    assert_eq!(first.unwrap(), keys(&["A"]));
    assert_eq!(team.unwrap(), keys(&["A", "B", "C", "D"]));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "one load each, not one per key"
    );
}

#[tokio::test]
async fn keys_all_loading_elsewhere_make_no_load() {
    let tier = tier();
    let calls = AtomicUsize::new(0);
    let both = keys(&["a", "b"]);
    let first = tier.get_many(&both, |asked| slow_load(&calls, asked));
    let second = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        tier.get_many(&keys(&["b", "a", "b"]), |asked| slow_load(&calls, asked))
            .await
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(first.unwrap(), keys(&["A", "B"]));
    assert_eq!(second.unwrap(), keys(&["B", "A", "B"]));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Then everything is kept.
    let again = tier
        .get_many(&keys(&["a", "b"]), |asked| slow_load(&calls, asked))
        .await;
    assert_eq!(again.unwrap(), keys(&["A", "B"]));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_short_answer_is_a_failure_and_nothing_is_kept() {
    let tier = tier();
    let short = tier
        .get_many(&keys(&["a", "b"]), |_| async {
            Ok::<_, Failed>(vec![("A".to_owned(), Duration::from_secs(60))])
        })
        .await;
    assert!(short.is_err());
    let calls = AtomicUsize::new(0);
    let again = tier
        .get_many(&keys(&["a", "b"]), |asked| slow_load(&calls, asked))
        .await;
    assert_eq!(again.unwrap(), keys(&["A", "B"]));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
