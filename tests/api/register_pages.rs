//! The newest page of a history read again, against every register backend: what a register
//! serves from memory is what the database holds, and a check recorded since, by this
//! instance or by another one on the same database, shows at once.

use crate::support::TestDatabase;
use chrono::{DateTime, Utc};
use connected::config::Config;
use connected::domain::{
    Grounds, Handle, HistoryPage, Network, Pair, Register, RegisteredCheck, Verdict,
};
use connected::startup;
use std::sync::Arc;

fn pair(a: &str, b: &str) -> Pair {
    Pair::new(Handle::parse(a).unwrap(), Handle::parse(b).unwrap()).unwrap()
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

fn newest(limit: u32) -> HistoryPage {
    HistoryPage {
        limit: Some(limit),
        before: None,
    }
}

/// An instance's register on the database at `url`.
async fn open(url: &str) -> Arc<dyn Register> {
    let mut config = Config::default();
    config.database.url = url.to_owned().into();
    startup::register(&config)
        .await
        .expect("the register opens")
}

async fn read(register: &Arc<dyn Register>, page: HistoryPage) -> Vec<RegisteredCheck> {
    register.history(&pair("bob", "alice"), page).await.unwrap()
}

async fn pages_story(url: &str) {
    let register = open(url).await;
    let p = pair("alice", "bob");
    for i in 0..25 {
        let verdict = if i % 2 == 0 {
            Verdict::Connected {
                organisations: vec!["acme".into(), format!("org-{i}")],
            }
        } else {
            Verdict::NotConnected
        };
        register
            .record(
                &p,
                &verdict,
                Grounds::public(Network::X),
                at(10_000 + i * 10),
            )
            .await
            .unwrap();
    }
    let first = read(&register, newest(20)).await;
    assert_eq!(first.len(), 20);
    assert_eq!(first[0].registered_at, at(10_050));
    // Read again (from memory, where the register keeps short pages), and by an instance
    // that has read nothing yet: the same entries.
    assert_eq!(read(&register, newest(20)).await, first);
    assert_eq!(read(&open(url).await, newest(20)).await, first);
    // Another limit, and the whole history, are not taken for that page.
    assert_eq!(read(&register, newest(5)).await, first[15..]);
    assert_eq!(read(&register, HistoryPage::default()).await.len(), 25);
    assert_eq!(read(&register, newest(20)).await, first);

    // A check recorded by this instance shows at once, in every page kept, with what it
    // rested on.
    let github = RegisteredCheck {
        registered_at: at(20_000),
        verdict: Verdict::NotConnected,
        social_graph: Network::GitHub,
        member_sign_in: true,
    };
    register
        .record(&p, &github.verdict, github.grounds(), github.registered_at)
        .await
        .unwrap();
    let page = read(&register, newest(20)).await;
    assert_eq!((&page[..19], &page[19]), (&first[1..], &github));
    assert_eq!(read(&register, newest(5)).await, page[15..]);
    assert_eq!(read(&register, HistoryPage::default()).await.len(), 26);

    // So does one recorded by another instance on the same database.
    let other = open(url).await;
    other
        .record(
            &p,
            &Verdict::NotConnected,
            Grounds::public(Network::Bluesky),
            at(30_000),
        )
        .await
        .unwrap();
    let page = read(&register, newest(20)).await;
    assert_eq!(page[..19], read(&other, newest(20)).await[..19]);
    assert_eq!(page[18], github);
    assert_eq!(page[19].social_graph, Network::Bluesky);
}

#[tokio::test]
async fn the_sqlite_register_serves_a_page_read_again_as_the_database_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("pages.db").display());
    pages_story(&url).await;
}

#[tokio::test]
async fn the_postgres_register_serves_a_page_read_again_as_the_database_holds_it() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    pages_story(&db.url).await;
}

/// Ends every session of the register's database but the administrator's, as a restart of
/// the server would.
async fn end_sessions(db: &TestDatabase) {
    use sqlx::Connection as _;
    let mut admin = sqlx::PgConnection::connect(&crate::support::admin_url())
        .await
        .unwrap();
    let name = db.url.rsplit('/').next().unwrap();
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
    )
    .bind(name)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(!ended.is_empty() && ended.iter().all(|ended| *ended));
}

#[tokio::test]
async fn a_postgres_read_on_a_connection_the_server_ended_is_run_again_on_a_fresh_one() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let register = open(&db.url).await;
    let p = pair("alice", "bob");
    register
        .record(
            &p,
            &Verdict::NotConnected,
            Grounds::public(Network::X),
            at(1_000),
        )
        .await
        .unwrap();
    // Enough reads at once for every connection held for reading to be taken.
    let reads = (0..16).map(|_| read(&register, newest(20)));
    assert!(
        futures::future::join_all(reads)
            .await
            .iter()
            .all(|page| page.len() == 1)
    );
    end_sessions(&db).await;
    for _ in 0..16 {
        let page = register.history(&p, newest(20)).await;
        assert_eq!(page.map(|page| page.len()).ok(), Some(1));
    }
    register.ping().await.unwrap();
}
