//! The PostgreSQL register behind the running app: readiness, outages, paging.

use crate::fake::Graph;
use crate::proxy::Proxy;
use crate::support::TestDatabase;
use crate::support::spawn_app_with;
use serde_json::json;
use std::time::{Duration, Instant};

fn pair_graph() -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"])
}

#[tokio::test]
async fn readiness_follows_the_database_and_recovers_by_itself() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let proxy = Proxy::start("127.0.0.1:5432".parse().unwrap()).await;
    let mut url = url::Url::parse(&db.url).unwrap();
    url.set_port(Some(proxy.addr.port())).unwrap();
    let app = spawn_app_with(pair_graph(), |c| {
        c.database.url = url.to_string().into();
        c.database.pool.connect_timeout = Duration::from_secs(1);
    })
    .await;
    assert_eq!(app.get("/readyz").await.status, 200);
    assert_eq!(app.realtime("alice", "bob").await.status, 200);

    proxy.cut();
    let answer = app.get("/readyz").await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(answer.status, 503);
    assert_eq!(
        answer.body,
        json!({"errors": ["the register is unavailable; nothing was recorded, try again later"]})
    );

    proxy.restore();
    let started = Instant::now();
    while app.get("/readyz").await.status != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "readiness did not recover"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(app.realtime("alice", "bob").await.status, 200);
    // The check made during the outage was not recorded; the two others were.
    assert_eq!(
        app.register("bob", "alice")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn the_register_pages_backwards_with_limit_and_before() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let app = spawn_app_with(pair_graph(), |c| c.database.url = db.url.clone().into()).await;
    for _ in 0..5 {
        assert_eq!(app.realtime("alice", "bob").await.status, 200);
        // Distinct milliseconds, so the pages have clean edges.
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let everything = app.register("alice", "bob").await.body;
    let all: Vec<&str> = everything
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["registered_at"].as_str().unwrap())
        .collect();
    assert_eq!(all.len(), 5);

    let mut path = "/connected/register/Bob/alice?limit=2".to_owned();
    let mut pages = Vec::new();
    loop {
        let answer = app.get(&path).await;
        let times: Vec<String> = answer
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["registered_at"].as_str().unwrap().to_owned())
            .collect();
        pages.push(times);
        match answer.link {
            Some(link) => {
                assert!(link.ends_with(">; rel=\"next\""), "{link}");
                path = link[1..link.find('>').unwrap()].to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert_eq!(pages[0], all[3..5]);
    assert_eq!(pages[1], all[1..3]);
    assert_eq!(pages[2], all[0..1]);

    for bad in ["limit=0", "limit=ten", "limit=10001", "before=yesterday"] {
        let answer = app
            .get(&format!("/connected/register/alice/bob?{bad}"))
            .await;
        assert_eq!(answer.status, 400, "{bad}");
    }
}

#[test]
fn a_database_that_is_down_at_start_up_gives_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_connected"))
        .args(["check", "alice", "bob", "--demo"])
        .current_dir(dir.path())
        .env_clear()
        .env(
            "DATABASE_URL",
            "postgres://app:hunter2@127.0.0.1:9/connected",
        )
        .env("DATABASE_CONNECT_TIMEOUT", "1s")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot connect to postgres://app:redacted@127.0.0.1:9/connected"),
        "{err}"
    );
    assert!(!err.contains("hunter2"));
    assert!(started.elapsed() < Duration::from_secs(10));
}
