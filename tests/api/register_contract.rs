//! One story, the same assertions, against every register backend.

use crate::support::TestDatabase;
use chrono::{DateTime, Utc};
use connected::config::Config;
use connected::domain::{
    Grounds, Handle, HistoryPage, Network, Pair, PairVerdict, Register, RegisteredCheck, Verdict,
};
use connected::startup;
use std::sync::Arc;
use std::time::Duration;

fn pair(a: &str, b: &str) -> Pair {
    Pair::new(Handle::parse(a).unwrap(), Handle::parse(b).unwrap()).unwrap()
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

fn connected(orgs: &[&str]) -> Verdict {
    Verdict::Connected {
        organisations: orgs.iter().map(|s| s.to_string()).collect(),
    }
}

async fn open(url: &str) -> Arc<dyn Register> {
    open_keeping(url, None).await
}

/// A register that keeps entries for `retention` (`None`: for ever).
async fn open_keeping(url: &str, retention: Option<Duration>) -> Arc<dyn Register> {
    let mut config = Config::default();
    config.database.url = url.to_owned().into();
    config.retention.register = retention;
    startup::register(&config)
        .await
        .expect("the register opens")
}

fn all() -> HistoryPage {
    HistoryPage::default()
}

async fn story(register: Arc<dyn Register>) {
    register.ping().await.unwrap();
    assert!(
        register
            .history(&pair("alice", "bob"), all())
            .await
            .unwrap()
            .is_empty()
    );

    // Recorded out of time order, under both orders and cases of the pair.
    let first = connected(&["acme", "Zeta-Org"]);
    register
        .record(
            &pair("Bob", "alice"),
            &Verdict::NotConnected,
            Grounds::public(Network::X),
            at(2_000),
        )
        .await
        .unwrap();
    let returned = register
        .record(
            &pair("alice", "bob"),
            &first,
            Grounds::public(Network::X),
            at(1_000),
        )
        .await
        .unwrap();
    assert_eq!(
        returned,
        RegisteredCheck {
            registered_at: at(1_000),
            verdict: first.clone(),
            social_graph: Network::X,
            member_sign_in: false
        }
    );
    register
        .record(
            &pair("alice", "carol"),
            &connected(&["x"]),
            Grounds::public(Network::Bluesky),
            at(1_500),
        )
        .await
        .unwrap();
    // Two in the same millisecond keep the order they were recorded in.
    register
        .record(
            &pair("alice", "bob"),
            &connected(&["b-second"]),
            Grounds::public(Network::X),
            at(3_000),
        )
        .await
        .unwrap();
    register
        .record(
            &pair("ALICE", "BOB"),
            &Verdict::NotConnected,
            Grounds::public(Network::X),
            at(3_000),
        )
        .await
        .unwrap();

    let history = register
        .history(&pair("BOB", "Alice"), all())
        .await
        .unwrap();
    assert_eq!(
        history,
        vec![
            RegisteredCheck {
                registered_at: at(1_000),
                verdict: first,
                social_graph: Network::X,
                member_sign_in: false
            },
            RegisteredCheck {
                registered_at: at(2_000),
                verdict: Verdict::NotConnected,
                social_graph: Network::X,
                member_sign_in: false
            },
            RegisteredCheck {
                registered_at: at(3_000),
                verdict: connected(&["b-second"]),
                social_graph: Network::X,
                member_sign_in: false
            },
            RegisteredCheck {
                registered_at: at(3_000),
                verdict: Verdict::NotConnected,
                social_graph: Network::X,
                member_sign_in: false
            },
        ]
    );
    assert_eq!(
        register
            .history(&pair("carol", "alice"), all())
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        register
            .history(&pair("bob", "carol"), all())
            .await
            .unwrap()
            .is_empty()
    );

    // Paging backwards: the newest `limit`, oldest first, then strictly before the oldest.
    let p = pair("dave", "erin");
    for i in 0..25 {
        register
            .record(
                &p,
                &Verdict::NotConnected,
                Grounds::public(Network::X),
                at(10_000 + i * 10),
            )
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = register
            .history(
                &p,
                HistoryPage {
                    limit: Some(10),
                    before,
                },
            )
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        assert!(
            page.windows(2)
                .all(|w| w[0].registered_at < w[1].registered_at)
        );
        before = Some(page[0].registered_at);
        let mut times: Vec<i64> = page
            .iter()
            .map(|c| c.registered_at.timestamp_millis())
            .collect();
        times.extend(seen);
        seen = times;
    }
    assert_eq!(seen, (0..25).map(|i| 10_000 + i * 10).collect::<Vec<_>>());
    let newest = register
        .history(
            &p,
            HistoryPage {
                limit: Some(3),
                before: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        newest
            .iter()
            .map(|c| c.registered_at.timestamp_millis())
            .collect::<Vec<_>>(),
        vec![10_220, 10_230, 10_240]
    );
    // A page never splits a millisecond: the three checks at 20,000 ms come together, and
    // the page before them is not missing any.
    let r = pair("ray", "sue");
    for ms in [19_000, 20_000, 20_000, 20_000] {
        register
            .record(
                &r,
                &Verdict::NotConnected,
                Grounds::public(Network::X),
                at(ms),
            )
            .await
            .unwrap();
    }
    let newest = register
        .history(
            &r,
            HistoryPage {
                limit: Some(2),
                before: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(newest.len(), 3);
    assert!(newest.iter().all(|c| c.registered_at == at(20_000)));
    let before = register
        .history(
            &r,
            HistoryPage {
                limit: Some(2),
                before: Some(at(20_000)),
            },
        )
        .await
        .unwrap();
    assert_eq!(before.len(), 1);

    let older = register
        .history(
            &p,
            HistoryPage {
                limit: None,
                before: Some(at(10_030)),
            },
        )
        .await
        .unwrap();
    assert_eq!(older.len(), 3);

    // Many writers at once: every one is kept, none twice.
    let q = pair("fay", "gus");
    let writers = (0..100).map(|i| {
        let register = Arc::clone(&register);
        let q = q.clone();
        tokio::spawn(async move {
            register
                .record(
                    &q,
                    &Verdict::NotConnected,
                    Grounds::public(Network::X),
                    at(50_000 + i),
                )
                .await
        })
    });
    for writer in futures::future::join_all(writers).await {
        writer.unwrap().unwrap();
    }
    assert_eq!(register.history(&q, all()).await.unwrap().len(), 100);

    // A team's verdicts, all at once: every pair kept with its own verdict, organisations
    // and member's sign-in, in their order, under the same time and graph; none at all is a
    // no-op.
    let team = [
        (pair("Hal", "ida"), connected(&["b-org", "A-org"]), false),
        (pair("hal", "jon"), Verdict::NotConnected, true),
        (pair("jon", "ida"), connected(&["solo"]), true),
    ]
    .map(|(pair, verdict, member_sign_in)| PairVerdict {
        pair,
        verdict,
        member_sign_in,
    });
    register
        .record_all(&team, Network::Bluesky, at(60_000))
        .await
        .unwrap();
    for each in &team {
        assert_eq!(
            register.history(&each.pair, all()).await.unwrap(),
            vec![RegisteredCheck {
                registered_at: at(60_000),
                verdict: each.verdict.clone(),
                social_graph: Network::Bluesky,
                member_sign_in: each.member_sign_in,
            }]
        );
    }
    register
        .record_all(&[], Network::X, at(61_000))
        .await
        .unwrap();
    assert_eq!(
        register
            .history(&pair("hal", "ida"), all())
            .await
            .unwrap()
            .len(),
        1
    );
}

const DAY: Duration = Duration::from_secs(86_400);

/// `days` days ago, to the millisecond (what both backends keep).
fn days_ago(days: u32) -> DateTime<Utc> {
    let now = Utc::now() - chrono::Duration::days(days.into());
    at(now.timestamp_millis())
}

/// Waits, for a bounded time, until `pair`'s history as `register` reads it has `len`
/// entries, and returns it.
async fn until_len(register: &Arc<dyn Register>, pair: &Pair, len: usize) -> Vec<RegisteredCheck> {
    for _ in 0..300 {
        let history = register.history(pair, all()).await.unwrap();
        if history.len() == len {
            return history;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the history of {pair:?} never had {len} entries");
}

/// With a retention, an older entry is never served, whole or paged, and is soon deleted by
/// the background task; recent ones stay.
async fn retention_story(url: &str) {
    let everything = open(url).await;
    // A register with a retention deletes what has expired as it starts: once this entry is
    // gone, its first round is over and the next is a minute away.
    let sentinel = pair("sentinel", "timer");
    everything
        .record(
            &sentinel,
            &Verdict::NotConnected,
            Grounds::public(Network::X),
            days_ago(500),
        )
        .await
        .unwrap();
    let keeping = open_keeping(url, Some(400 * DAY)).await;
    until_len(&everything, &sentinel, 0).await;

    let p = pair("old", "timer");
    let (old, kept, new) = (days_ago(401), days_ago(399), days_ago(0));
    for (when, verdict) in [
        (old, connected(&["acme"])),
        (kept, Verdict::NotConnected),
        (new, connected(&["acme"])),
    ] {
        keeping
            .record(&p, &verdict, Grounds::public(Network::X), when)
            .await
            .unwrap();
    }
    assert_eq!(everything.history(&p, all()).await.unwrap().len(), 3);
    let times = |history: Vec<RegisteredCheck>| -> Vec<DateTime<Utc>> {
        history.into_iter().map(|c| c.registered_at).collect()
    };
    let page = |limit, before| HistoryPage { limit, before };
    assert_eq!(
        times(keeping.history(&p, all()).await.unwrap()),
        [kept, new]
    );
    assert_eq!(
        times(keeping.history(&p, page(Some(5), None)).await.unwrap()),
        [kept, new]
    );
    assert_eq!(
        times(keeping.history(&p, page(Some(5), Some(new))).await.unwrap()),
        [kept]
    );
    assert_eq!(
        times(keeping.history(&p, page(None, Some(new))).await.unwrap()),
        [kept]
    );
    assert!(
        keeping
            .history(&p, page(Some(1), Some(kept)))
            .await
            .unwrap()
            .is_empty()
    );

    // Another instance starting deletes the expired entry; the register that keeps
    // everything then reads only the recent ones.
    let _another = open_keeping(url, Some(400 * DAY)).await;
    assert_eq!(times(until_len(&everything, &p, 2).await), [kept, new]);
}

#[tokio::test]
async fn the_sqlite_register_serves_and_keeps_nothing_older_than_its_retention() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("retention.db").display());
    retention_story(&url).await;
}

#[tokio::test]
async fn the_postgres_register_serves_and_keeps_nothing_older_than_its_retention() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    retention_story(&db.url).await;
}

#[tokio::test]
async fn the_sqlite_register_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("contract.db").display());
    story(open(&url).await).await;
}

#[tokio::test]
async fn the_postgres_register_keeps_the_contract() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    story(open(&db.url).await).await;
}

#[tokio::test]
async fn two_instances_migrating_one_postgres_database_at_once_both_start() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let (a, b) = tokio::join!(open(&db.url), open(&db.url));
    a.record(
        &pair("ann", "ben"),
        &Verdict::NotConnected,
        Grounds::public(Network::X),
        at(1),
    )
    .await
    .unwrap();
    assert_eq!(
        b.history(&pair("ben", "ann"), all()).await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn a_postgres_url_scheme_alias_is_accepted() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let url = db.url.replacen("postgres://", "postgresql://", 1);
    open(&url).await.ping().await.unwrap();
}
