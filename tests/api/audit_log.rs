//! The request log through the real binary: a line per request let through, with the
//! peer's address, and refusals summed up, a line per reason, key and second, naming the
//! key when it was recognised.

use crate::fake::{Graph, Service};
use crate::keys::{Stage, get};
use futures::StreamExt as _;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::{Duration, Instant};

fn graph() -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"])
}

async fn json_logged(stage: &Stage) -> Service {
    stage
        .service()
        .env("AUTH", "keys")
        .env("LOG_FORMAT", "json")
        .log_level("info")
        .start()
        .await
}

fn entries(service: &Service) -> Vec<Value> {
    service
        .log()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

fn refusals(service: &Service) -> Vec<Value> {
    entries(service)
        .into_iter()
        .filter(|e| {
            e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("refused"))
        })
        .collect()
}

/// Waits (a summary is written within a second or two) until `done` holds of the log.
async fn wait_for(service: &Service, what: &str, done: impl Fn(&Service) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(service) {
        assert!(
            Instant::now() < deadline,
            "{what}: not in\n{}",
            service.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn counted(service: &Service, status: u64) -> u64 {
    refusals(service)
        .iter()
        .filter(|e| e["status"] == status)
        .map(|e| e["count"].as_u64().unwrap())
        .sum()
}

#[tokio::test]
async fn refused_requests_are_summed_up_and_a_request_let_through_keeps_its_line() {
    const REFUSED: u64 = 2_000;
    let stage = Stage::with(graph()).await;
    let service = json_logged(&stage).await;
    let key = stage.keys(&["create", "audited"]);
    let before = service.log().len();
    let client = reqwest::Client::new();
    let url = format!("{}/connected/register/alice/bob", service.base);
    let mut sent = futures::stream::iter(0..REFUSED)
        .map(|_| {
            let request = client.get(&url).send();
            async move { request.await.unwrap().status() }
        })
        .buffer_unordered(32);
    while let Some(status) = sent.next().await {
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    wait_for(&service, "every refusal counted", |s| {
        counted(s, 401) == REFUSED
    })
    .await;
    let written = service.log().len() - before;
    println!("{REFUSED} refused requests wrote {written} bytes of log");
    let lines = refusals(&service);
    assert!(lines.len() < 30, "{} summary lines", lines.len());
    assert!(written < 10_000, "{written} bytes");
    let line = &lines[0];
    assert_eq!(line["reason"], "no key");
    assert_eq!(line["key"], "-");
    assert!(
        line["first_peer"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:"),
        "{line}"
    );
    assert!(
        !entries(&service)
            .iter()
            .any(|e| e["status"] == 401 && e["message"] == "answered"),
        "a refused request has no line of its own"
    );

    let response = get(&url, Some(&key), &[("X-Request-Id", "let-through")]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let proxied = get(
        &url,
        Some(&key),
        &[
            ("X-Request-Id", "proxied"),
            ("X-Forwarded-For", "203.0.113.7"),
        ],
    )
    .await;
    assert_eq!(proxied.status(), StatusCode::NOT_FOUND);
    let line = |id: &str| {
        entries(&service)
            .into_iter()
            .find(|e| e["message"] == "answered" && e["request_id"] == id)
    };
    wait_for(&service, "the answered lines", |_| {
        line("proxied").is_some()
    })
    .await;
    let direct = line("let-through").unwrap();
    assert!(
        direct["peer"].as_str().unwrap().starts_with("127.0.0.1:"),
        "{direct}"
    );
    assert_eq!(direct["proxied"], false);
    assert_eq!(direct["status"], 404);
    assert_eq!(line("proxied").unwrap()["proxied"], true);
}

#[tokio::test]
async fn a_key_refused_for_its_scope_or_its_rate_is_named_in_the_log() {
    let stage = Stage::with(graph()).await;
    let service = json_logged(&stage).await;
    let key = stage.keys(&["create", "reader", "--scopes", "history", "--rate", "2/min"]);
    let listed: Value = serde_json::from_str(&stage.keys(&["list", "--json"])).unwrap();
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let url = format!("{}/connected/realtime/alice/bob", service.base);
    for expected in [403, 403, 429] {
        let response = get(&url, Some(&key), &[]).await;
        assert_eq!(response.status().as_u16(), expected);
    }
    wait_for(&service, "the refusals of the key", |s| {
        counted(s, 403) == 2 && counted(s, 429) == 1
    })
    .await;
    for line in refusals(&service) {
        assert_eq!(line["key"], id.as_str(), "{line}");
        let reason = if line["status"] == 403 {
            "missing scope"
        } else {
            "key rate used up"
        };
        assert_eq!(line["reason"], reason, "{line}");
    }
    assert_eq!(stage.upstream_calls(), 0);
}

#[tokio::test]
async fn a_flood_of_invented_paths_and_methods_is_summed_up_too() {
    const INVENTED: u64 = 500;
    let stage = Stage::with(graph()).await;
    let service = json_logged(&stage).await;
    let client = reqwest::Client::new();
    let mut sent = futures::stream::iter(0..INVENTED)
        .map(|n| {
            let request = if n % 4 == 0 {
                client.get(format!("{}/docs/{n}.php", service.base))
            } else if n % 2 == 0 {
                client.get(format!("{}/wp-admin/{n}.php", service.base))
            } else {
                client.delete(format!("{}/healthz", service.base))
            };
            async move { request.send().await.unwrap().status().as_u16() }
        })
        .buffer_unordered(32);
    while let Some(status) = sent.next().await {
        assert!(matches!(status, 404 | 405), "{status}");
    }
    wait_for(&service, "every invented request counted", |s| {
        counted(s, 404) + counted(s, 405) == INVENTED
    })
    .await;
    assert_eq!(counted(&service, 404), INVENTED / 2);
    let reasons: Vec<_> = refusals(&service)
        .iter()
        .map(|e| e["reason"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        reasons
            .iter()
            .all(|r| r == "no such resource" || r == "method not allowed")
    );
    assert!(
        !entries(&service)
            .iter()
            .any(|e| e["message"] == "answered" && (e["status"] == 404 || e["status"] == 405)),
        "an invented request has no line of its own"
    );
}

#[tokio::test]
async fn a_key_store_outage_is_said_once_and_its_refusals_summed_up() {
    const REQUESTS: u64 = 50;
    let stage = Stage::with(graph()).await;
    let service = json_logged(&stage).await;
    let key = stage.keys(&["create", "audited"]);
    // Another key of the same shape, which the store must be asked about.
    let (head, secret) = key.rsplit_once('_').unwrap();
    let last = if head.ends_with('a') { 'b' } else { 'a' };
    let made_up = format!("{}{last}_{secret}", &head[..head.len() - 1]);
    {
        use sqlx::Connection as _;
        let mut db = sqlx::SqliteConnection::connect(&stage.database)
            .await
            .unwrap();
        sqlx::query("ALTER TABLE api_keys RENAME TO api_keys_gone")
            .execute(&mut db)
            .await
            .unwrap();
    }
    let url = format!("{}/connected/register/alice/bob", service.base);
    for _ in 0..REQUESTS {
        let response = get(&url, Some(&made_up), &[]).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    wait_for(&service, "every refusal counted", |s| {
        counted(s, 503) == REQUESTS
    })
    .await;
    let said = entries(&service)
        .iter()
        .filter(|e| {
            e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("the key store is unavailable"))
        })
        .count();
    assert_eq!(said, 1, "the outage is said once:\n{}", service.log());
    assert!(
        refusals(&service)
            .iter()
            .all(|e| e["reason"] == "key store unavailable")
    );
    assert!(
        !entries(&service)
            .iter()
            .any(|e| e["message"] == "answered" && e["status"] == 503),
        "a refused request has no line of its own"
    );
}
