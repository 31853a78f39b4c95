//! Whether a verdict rested on a member's sign-in, against every register backend: kept as
//! recorded, read back in pages, whole histories and pages kept in memory; a database
//! written before it was kept reads every earlier verdict as resting on public reads; and
//! the history answer says it.

use crate::fake::Graph;
use crate::support::TestDatabase;
use chrono::{DateTime, Utc};
use connected::config::Config;
use connected::domain::{
    Grounds, Handle, HistoryPage, Network, Pair, PairVerdict, Register, RegisteredCheck, Verdict,
};
use connected::startup;
use serde_json::json;
use sqlx::migrate::Migrator;
use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

/// The migration that keeps the member's sign-in: databases are filled just before it.
const MEMBER_SIGN_IN: i64 = 20261219000002;

fn pair(a: &str, b: &str) -> Pair {
    Pair::new(Handle::parse(a).unwrap(), Handle::parse(b).unwrap()).unwrap()
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

fn page(limit: Option<u32>, before: Option<DateTime<Utc>>) -> HistoryPage {
    HistoryPage { limit, before }
}

fn acme() -> Verdict {
    Verdict::Connected {
        organisations: vec!["acme".to_owned()],
    }
}

async fn open(url: &str) -> Arc<dyn Register> {
    let mut config = Config::default();
    config.database.url = url.to_owned().into();
    startup::register(&config)
        .await
        .expect("the register opens")
}

/// Three verdicts of one pair, a member's sign-in under the first and the last.
fn three() -> Vec<RegisteredCheck> {
    let member = |social_graph| Grounds {
        social_graph,
        member_sign_in: true,
    };
    vec![
        RegisteredCheck::new(acme(), member(Network::X), at(1_000)),
        RegisteredCheck::new(
            Verdict::NotConnected,
            Grounds::public(Network::X),
            at(2_000),
        ),
        RegisteredCheck::new(acme(), member(Network::GitHub), at(3_000)),
    ]
}

async fn grounds_story(url: &str) {
    let register = open(url).await;
    let p = pair("alice", "bob");
    let expected = three();
    for check in &expected {
        let returned = register
            .record(&p, &check.verdict, check.grounds(), check.registered_at)
            .await
            .unwrap();
        assert_eq!(&returned, check);
    }
    // Read twice: the second read of a page may be served from memory.
    for _ in 0..2 {
        assert_eq!(
            register.history(&p, page(None, None)).await.unwrap(),
            expected
        );
        assert_eq!(
            register.history(&p, page(Some(2), None)).await.unwrap(),
            expected[1..]
        );
        assert_eq!(
            register
                .history(&p, page(Some(1), Some(at(3_000))))
                .await
                .unwrap(),
            expected[1..2]
        );
    }
    // Another instance on the same database reads the same.
    let other = open(url).await;
    assert_eq!(other.history(&p, page(None, None)).await.unwrap(), expected);

    // A team's verdicts, each with its own, read as a whole history longer than one chunk.
    let q = pair("carol", "dave");
    let team: Vec<PairVerdict> = (0..2_100)
        .map(|i| PairVerdict {
            pair: q.clone(),
            verdict: Verdict::NotConnected,
            member_sign_in: i % 3 == 0,
        })
        .collect();
    register
        .record_all(&team, Network::Bluesky, at(5_000))
        .await
        .unwrap();
    let history = register.history(&q, page(None, None)).await.unwrap();
    let signs: Vec<bool> = history.iter().map(|c| c.member_sign_in).collect();
    let recorded: Vec<bool> = team.iter().map(|t| t.member_sign_in).collect();
    assert_eq!(signs, recorded);
    assert!(history.iter().all(|c| c.social_graph == Network::Bluesky));
}

#[tokio::test]
async fn the_sqlite_register_keeps_whether_a_verdict_rested_on_a_member_s_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("grounds.db").display());
    grounds_story(&url).await;
}

#[tokio::test]
async fn the_postgres_register_keeps_whether_a_verdict_rested_on_a_member_s_sign_in() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    grounds_story(&db.url).await;
}

/// The migrations in `folder` before the one that keeps the member's sign-in.
async fn before_member_sign_in(folder: &str) -> Migrator {
    let mut migrator = Migrator::new(Path::new(folder)).await.unwrap();
    let older: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < MEMBER_SIGN_IN)
        .cloned()
        .collect();
    assert!(
        older.len() < migrator.migrations.len(),
        "the migration of the member's sign-in is in {folder}"
    );
    migrator.migrations = Cow::Owned(older);
    migrator
}

/// What a database filled before the migration reads once migrated: its verdicts as they
/// were, none resting on a member's sign-in; and a new one that does.
async fn migrated(url: &str) {
    let register = open(url).await;
    let p = pair("alice", "bob");
    let history = register.history(&p, page(None, None)).await.unwrap();
    assert_eq!(
        history,
        [
            RegisteredCheck::new(acme(), Grounds::public(Network::X), at(1_000)),
            RegisteredCheck::new(
                Verdict::NotConnected,
                Grounds::public(Network::GitHub),
                at(2_000)
            ),
        ]
    );
    let member = Grounds {
        social_graph: Network::X,
        member_sign_in: true,
    };
    register
        .record(&p, &acme(), member, at(3_000))
        .await
        .unwrap();
    let newest = register.history(&p, page(Some(1), None)).await.unwrap();
    assert_eq!(newest[0].grounds(), member);
}

#[tokio::test]
async fn a_sqlite_database_written_before_reads_its_verdicts_as_resting_on_public_reads() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
    let pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true))
        .await
        .unwrap();
    before_member_sign_in("migrations/sqlite")
        .await
        .run(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO checks (developer_a, developer_b, registered_at_ms, connected, organisations, social_graph) \
         VALUES ('alice', 'bob', 1000, 1, '[\"acme\"]', 'x'), ('alice', 'bob', 2000, 0, '[]', 'github')",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    migrated(&url).await;
}

#[tokio::test]
async fn a_postgres_database_written_before_reads_its_verdicts_as_resting_on_public_reads() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    before_member_sign_in("migrations/postgres")
        .await
        .run(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO checks (developer_a, developer_b, registered_at, connected, organisations, social_graph) \
         VALUES ('alice', 'bob', to_timestamp(1), true, '{acme}', 'x'), \
                ('alice', 'bob', to_timestamp(2), false, '{}', 'github')",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    migrated(&db.url).await;
}

#[tokio::test]
async fn the_history_answer_says_whether_each_verdict_rested_on_a_member_s_sign_in() {
    use connected::outbound::sql::sqlite::SqliteRegister;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("answer.db").display());
    let graph = Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"]);
    let app = crate::support::spawn_app_with(graph, {
        let url = url.clone();
        move |c| c.database.url = url.into()
    })
    .await;
    assert_eq!(app.realtime("alice", "bob").await.status, 200);
    // A verdict resting on a member's sign-in, recorded on the same file.
    let other = SqliteRegister::connect(&url, Config::default().database.pool)
        .await
        .unwrap();
    let member = Grounds {
        social_graph: Network::X,
        member_sign_in: true,
    };
    other
        .record(&pair("bob", "alice"), &acme(), member, chrono::Utc::now())
        .await
        .unwrap();
    let history = app.register("alice", "bob").await;
    assert_eq!(history.status, 200);
    let signs: Vec<_> = history
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["member_sign_in"].clone())
        .collect();
    assert_eq!(signs, [json!(false), json!(true)], "{}", history.body);

    // The read-only opening reads it too.
    let reading = SqliteRegister::open_for_reading(
        &url,
        Config::default().database.pool,
        None,
        startup::clock(),
    )
    .await
    .unwrap();
    let read = reading
        .history(&pair("alice", "bob"), page(None, None))
        .await
        .unwrap();
    let signs: Vec<bool> = read.iter().map(|c| c.member_sign_in).collect();
    assert_eq!(signs, [false, true]);
}
