use super::*;
use crate::domain::{Grounds, Handle, Network};

fn pair(a: &str, b: &str) -> Pair {
    Pair::new(Handle::parse(a).unwrap(), Handle::parse(b).unwrap()).unwrap()
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

#[tokio::test]
async fn a_pair_reads_back_oldest_first_whatever_its_order_and_case() {
    let register = SqliteRegister::connect(
        "sqlite::memory:",
        crate::config::Config::default().database.pool,
    )
    .await
    .unwrap();
    let connected = Verdict::Connected {
        organisations: vec!["acme".into(), "Zeta".into()],
    };
    register
        .record(
            &pair("Bob", "alice"),
            &Verdict::NotConnected,
            Grounds::public(Network::X),
            at(2_000),
        )
        .await
        .unwrap();
    register
        .record(
            &pair("alice", "bob"),
            &connected,
            Grounds::public(Network::X),
            at(1_000),
        )
        .await
        .unwrap();
    register
        .record(
            &pair("alice", "carol"),
            &connected,
            Grounds::public(Network::GitHub),
            at(1_500),
        )
        .await
        .unwrap();
    let history = register
        .history(&pair("BOB", "Alice"), HistoryPage::default())
        .await
        .unwrap();
    assert_eq!(
        history,
        vec![
            RegisteredCheck {
                registered_at: at(1_000),
                verdict: connected,
                social_graph: Network::X,
                member_sign_in: false
            },
            RegisteredCheck {
                registered_at: at(2_000),
                verdict: Verdict::NotConnected,
                social_graph: Network::X,
                member_sign_in: false
            },
        ]
    );
    assert!(
        register
            .history(&pair("bob", "carol"), HistoryPage::default())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_file_database_is_created_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("register.db").display());
    let register = SqliteRegister::connect(&url, crate::config::Config::default().database.pool)
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&register.pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    register.ping().await.unwrap();
}

#[tokio::test]
async fn the_table_refuses_what_postgresql_refuses() {
    let register = SqliteRegister::connect(
        "sqlite::memory:",
        crate::config::Config::default().database.pool,
    )
    .await
    .unwrap();
    let insert = |connected: bool, organisations: &'static str, graph: &'static str| {
        sqlx::query(
            "INSERT INTO checks (developer_a, developer_b, registered_at_ms, connected, organisations, social_graph) \
             VALUES ('a', 'b', 1, ?, ?, ?)",
        )
        .bind(connected)
        .bind(organisations)
        .bind(graph)
        .execute(&register.pool)
    };
    assert!(insert(true, r#"["acme"]"#, "x").await.is_ok());
    assert_eq!(
        register
            .history(&pair("a", "b"), HistoryPage::default())
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(insert(false, "[]", "bluesky").await.is_ok());
    // A graph the service does not know yet is its to refuse, not the table's.
    assert!(insert(false, "[]", "mastodon").await.is_ok());
    let unknown = register
        .history(&pair("a", "b"), HistoryPage::default())
        .await
        .unwrap_err();
    assert!(
        unknown.to_string().contains("\"mastodon\" is unknown"),
        "{unknown}"
    );
    for (connected, organisations, graph) in [
        (true, "[]", "x"),
        (false, r#"["acme"]"#, "x"),
        (true, "acme", "x"),
        (true, r#"{"a": 1}"#, "x"),
        (false, "[]", ""),
        (false, "[]", "Mastodon"),
        (false, "[]", "x;drop"),
    ] {
        assert!(
            insert(connected, organisations, graph).await.is_err(),
            "{connected} {organisations} {graph}"
        );
    }
}
