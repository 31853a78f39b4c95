//! API keys through the real binary: made and revoked by its command line, required by its
//! server, refused before any work.

use crate::fake::{self, Fake, Graph, Service, ServiceCommand, X_TOKEN};
use crate::support::TestDatabase;
use crate::support::{RedisPrefix, redis_url};
use reqwest::StatusCode;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_connected");

fn graph() -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"])
}

/// The upstream fakes and a database file of the test's own.
pub struct Stage {
    pub github: Fake,
    pub x: Fake,
    _dir: tempfile::TempDir,
    pub database: String,
}

impl Stage {
    async fn new() -> Self {
        Self::with(graph()).await
    }

    /// Fakes serving `graph`, and a SQLite file.
    pub async fn with(graph: Graph) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database = format!("sqlite://{}", dir.path().join("keys.db").display());
        Self::on(database, dir, graph).await
    }

    async fn on(database: String, dir: tempfile::TempDir, graph: Graph) -> Self {
        Self {
            github: fake::github(graph.clone()).await,
            x: fake::x(graph).await,
            _dir: dir,
            database,
        }
    }

    pub fn service(&self) -> ServiceCommand {
        ServiceCommand::new(BIN)
            .env("GITHUB_API_URL", &self.github.url)
            .env("TWITTER_API_URL", &self.x.url)
            .env("TWITTER_BEARER_TOKEN", X_TOKEN)
            .env("DATABASE_URL", &self.database)
    }

    async fn keys_required(&self) -> Service {
        self.service().env("AUTH", "keys").start().await
    }

    /// `connected keys ARGS`: its standard output, trimmed; it must succeed.
    pub fn keys(&self, args: &[&str]) -> String {
        let out = std::process::Command::new(BIN)
            .arg("keys")
            .args(args)
            .env_clear()
            .env("DATABASE_URL", &self.database)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "keys {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    pub fn upstream_calls(&self) -> usize {
        self.github.call_count() + self.x.call_count()
    }
}

pub async fn get(url: &str, key: Option<&str>, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

pub async fn errors(response: reqwest::Response) -> Vec<String> {
    let body: serde_json::Value = response.json().await.unwrap();
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_owned())
        .collect()
}

pub fn header(response: &reqwest::Response, name: &str) -> String {
    response.headers()[name].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_refusal_comes_before_any_upstream_call_or_record() {
    let stage = Stage::new().await;
    let service = stage.keys_required().await;
    let history_only = stage.keys(&["create", "reader", "--scopes", "history"]);
    let checker = stage.keys(&["create", "checker", "--scopes", "check"]);
    let realtime = format!("{}/connected/realtime/alice/bob", service.base);

    let response = get(&realtime, None, &[]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&response, "www-authenticate"),
        r#"Bearer realm="connected""#
    );
    assert_eq!(
        errors(response).await,
        ["an API key is required: send Authorization: Bearer <key>"]
    );

    let unknown = format!("cdk_abcdefghijkl_{}", "A".repeat(32));
    // A known id with a well-formed secret that is not the key's.
    let last = checker.chars().last().unwrap();
    let wrong_secret = format!(
        "{}{}",
        &checker[..checker.len() - 1],
        if last == 'A' { 'B' } else { 'A' }
    );
    for bad in [
        "nonsense",
        unknown.as_str(),
        &format!("{checker}x"),
        &wrong_secret,
    ] {
        let response = get(&realtime, Some(bad), &[]).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(
            header(&response, "www-authenticate"),
            r#"Bearer realm="connected", error="invalid_token""#
        );
        assert_eq!(errors(response).await, ["the API key is not valid"]);
    }

    let response = get(&realtime, Some(&history_only), &[]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(header(&response, "www-authenticate").contains(r#"scope="check""#));
    assert_eq!(header(&response, "ratelimit-policy"), r#""key";q=600;w=60"#);
    assert_eq!(
        errors(response).await,
        [r#"the API key lacks the scope "check""#]
    );

    // Asking past the cache needs a scope of its own: refused, not quietly served cached.
    let response = get(&realtime, Some(&checker), &[("Cache-Control", "no-cache")]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        errors(response).await,
        [r#"the API key lacks the scope "fresh""#]
    );

    // Two credentials name no one for sure: refused, whichever comes first.
    let doubled = reqwest::Client::new()
        .get(&realtime)
        .header("Authorization", format!("Bearer {checker}"))
        .header("Authorization", "Bearer garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(doubled.status(), StatusCode::UNAUTHORIZED);
    let metrics = get(&format!("{}/metrics", service.base), Some(&checker), &[]).await;
    assert_eq!(metrics.status(), StatusCode::FORBIDDEN);
    let team = reqwest::Client::new()
        .post(format!("{}/connected/network", service.base))
        .json(&serde_json::json!({"developers": ["alice", "bob"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(team.status(), StatusCode::UNAUTHORIZED);

    // A hundred refused requests of every kind: not one upstream call, nothing recorded.
    for i in 0..100 {
        let key = [None, Some("nonsense"), Some(history_only.as_str())][i % 3];
        let status = get(&realtime, key, &[]).await.status();
        assert!(matches!(status.as_u16(), 401 | 403), "{status}");
    }
    assert_eq!(stage.upstream_calls(), 0);
    let register = get(
        &format!("{}/connected/register/alice/bob", service.base),
        Some(&history_only),
        &[],
    )
    .await;
    assert_eq!(
        register.status(),
        StatusCode::NOT_FOUND,
        "nothing was recorded"
    );

    // What is always open stays open.
    for open in ["/healthz", "/readyz", "/openapi.json", "/docs/", "/redoc"] {
        let response = get(&format!("{}{open}", service.base), None, &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "{open}");
    }

    // And the key with the scope is served.
    let response = get(&realtime, Some(&checker), &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_keys_rate_allows_a_burst_then_answers_429_until_a_slot_frees() {
    let stage = Stage::new().await;
    let service = stage.keys_required().await;
    let key = stage.keys(&["create", "burst", "--rate", "3/min"]);
    let url = format!("{}/connected/realtime/alice/bob", service.base);
    for left in [2, 1, 0] {
        let response = get(&url, Some(&key), &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "ratelimit-policy"), r#""key";q=3;w=60"#);
        let state = header(&response, "ratelimit");
        assert!(
            state.starts_with(&format!(r#""key";r={left};t="#)),
            "{state}"
        );
    }
    let response = get(&url, Some(&key), &[]).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = header(&response, "retry-after").parse().unwrap();
    assert!((55..=60).contains(&wait), "{wait}");
    assert_eq!(
        header(&response, "ratelimit"),
        format!(r#""key";r=0;t={wait}"#)
    );
    assert_eq!(
        errors(response).await,
        [format!(
            "the API key's rate of 3/min is used up; retry after {wait} s"
        )]
    );
}

#[tokio::test]
async fn the_keys_use_is_written_down_and_listed_without_its_secret() {
    let stage = Stage::new().await;
    let service = stage
        .service()
        .env("AUTH", "keys")
        .log_level("trace")
        .start()
        .await;
    let key = stage.keys(&["create", "audited"]);
    let secret = key.rsplit('_').next().unwrap().to_owned();
    let url = format!("{}/connected/realtime/alice/bob", service.base);
    for _ in 0..3 {
        assert_eq!(get(&url, Some(&key), &[]).await.status(), StatusCode::OK);
    }
    // Written every two seconds.
    let deadline = Instant::now() + Duration::from_secs(10);
    let listed = loop {
        let listed: serde_json::Value =
            serde_json::from_str(&stage.keys(&["list", "--json"])).unwrap();
        if listed[0]["today"]["requests"] == 3 || Instant::now() > deadline {
            break listed;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(listed[0]["name"], "audited");
    assert_eq!(listed[0]["today"]["requests"], 3);
    assert!(listed[0]["last_used_at"].is_string());
    let text = stage.keys(&["list"]);
    // The database with its write-ahead log, where recent writes still are.
    let path = stage.database.trim_start_matches("sqlite://").to_owned();
    let mut file = std::fs::read(&path).unwrap();
    for log in ["-wal", "-shm"] {
        file.extend(std::fs::read(format!("{path}{log}")).unwrap_or_default());
    }
    assert!(
        String::from_utf8_lossy(&file).contains(listed[0]["id"].as_str().unwrap()),
        "the key's row was read"
    );
    for (place, haystack) in [
        ("the list", format!("{listed}{text}")),
        ("the log at trace", service.log()),
        (
            "the database file",
            String::from_utf8_lossy(&file).into_owned(),
        ),
    ] {
        assert!(!haystack.contains(&secret), "the secret is in {place}");
    }
    assert!(service.log().contains("GET"), "the log at trace was read");
}

#[tokio::test]
async fn auto_requires_a_key_everywhere_but_on_loopback() {
    let stage = Stage::new().await;
    let public = stage.service().listen_addr("0.0.0.0:0").start().await;
    let url = format!("{}/connected/realtime/alice/bob", public.base);
    assert_eq!(
        get(&url, None, &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let local = stage.service().start().await;
    let url = format!("{}/connected/realtime/alice/bob", local.base);
    assert_eq!(get(&url, None, &[]).await.status(), StatusCode::OK);
    let demo = stage
        .service()
        .listen_addr("0.0.0.0:0")
        .arg("--demo")
        .start()
        .await;
    let url = format!("{}/connected/realtime/alice/bob", demo.base);
    assert_eq!(get(&url, None, &[]).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_key_revoked_through_one_instance_is_refused_by_another_within_seconds() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let stage = Stage::on(db.url.clone(), tempfile::tempdir().unwrap(), graph()).await;
    let (a, b) = (stage.keys_required().await, stage.keys_required().await);
    let key = stage.keys(&["create", "shared"]);
    for instance in [&a, &b] {
        let url = format!("{}/connected/realtime/alice/bob", instance.base);
        assert_eq!(get(&url, Some(&key), &[]).await.status(), StatusCode::OK);
    }
    stage.keys(&["revoke", "shared"]);
    let revoked = Instant::now();
    let url = format!("{}/connected/realtime/alice/bob", b.base);
    loop {
        let response = get(&url, Some(&key), &[]).await;
        if response.status() == StatusCode::UNAUTHORIZED {
            assert_eq!(errors(response).await, ["the API key was revoked"]);
            break;
        }
        assert!(revoked.elapsed() < Duration::from_secs(5), "still served");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn two_instances_sharing_redis_share_one_keys_rate() {
    let Some(prefix) = RedisPrefix::new().await else {
        return;
    };
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let stage = Stage::on(db.url.clone(), tempfile::tempdir().unwrap(), graph()).await;
    let start = || {
        stage
            .service()
            .env("AUTH", "keys")
            .env("REDIS_URL", redis_url())
            .env("REDIS_PREFIX", &prefix.0)
            .start()
    };
    let (a, b) = (start().await, start().await);
    let key = stage.keys(&["create", "shared-rate", "--rate", "4/h"]);
    let mut statuses = Vec::new();
    for i in 0..6 {
        let instance = if i % 2 == 0 { &a } else { &b };
        let url = format!("{}/connected/register/alice/bob", instance.base);
        statuses.push(get(&url, Some(&key), &[]).await.status().as_u16());
    }
    assert_eq!(statuses, [404, 404, 404, 404, 429, 429]);
}

#[tokio::test]
async fn the_json_log_says_who_spent_what_for_each_request() {
    let stage = Stage::new().await;
    let service = stage
        .service()
        .env("AUTH", "keys")
        .env("LOG_FORMAT", "json")
        .log_level("info")
        .start()
        .await;
    let key = stage.keys(&["create", "audit"]);
    let listed: serde_json::Value = serde_json::from_str(&stage.keys(&["list", "--json"])).unwrap();
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let url = format!("{}/connected/realtime/alice/bob", service.base);
    let response = get(&url, Some(&key), &[("X-Request-Id", "audit-1")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-request-id"), "audit-1");
    let made = get(&url, None, &[]).await;
    assert_eq!(made.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&made, "x-request-id").len(),
        32,
        "an id is made when none is sent"
    );

    let deadline = Instant::now() + Duration::from_secs(5);
    let line = loop {
        let found = service.log().lines().find_map(|line| {
            let entry: serde_json::Value = serde_json::from_str(line).ok()?;
            (entry["message"] == "answered" && entry["request_id"] == "audit-1").then_some(entry)
        });
        match found {
            Some(entry) => break entry,
            None if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            None => panic!("no answered line for audit-1 in\n{}", service.log()),
        }
    };
    assert_eq!(line["level"], "INFO");
    assert!(line["timestamp"].is_string());
    assert_eq!(line["route"], "/connected/realtime/{dev1}/{dev2}");
    assert_eq!(line["status"], 200);
    assert!(line["latency_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(line["key"], id.as_str());
    let calls = (stage.github.call_count() + stage.x.call_count()) as u64;
    assert_eq!(line["upstream_calls"], calls);
    assert_eq!(
        line["x_users_billed"],
        stage.x.users_read() + 2,
        "two looked up"
    );
    assert_eq!(line["github_calls"], stage.github.call_count() as u64);
    assert_eq!(
        line["upstream_cost"],
        header(&response, "upstream-cost"),
        "the log and the answer say one cost"
    );
    assert_eq!(
        line["upstream_cost"],
        format!(
            "github-calls={}, x-calls={}, x-users={}, cached=no",
            stage.github.call_count(),
            stage.x.call_count(),
            stage.x.users_read() + 2
        )
    );
    assert_eq!(line["member_answers"], 0);
    for line in service.log().lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not JSON: {line}"
        );
    }
}

#[tokio::test]
async fn what_keys_spent_last_is_written_when_the_service_stops() {
    let stage = Stage::new().await;
    let mut service = stage.keys_required().await;
    let key = stage.keys(&["create", "last-words"]);
    let url = format!("{}/connected/register/alice/bob", service.base);
    for _ in 0..2 {
        assert_eq!(
            get(&url, Some(&key), &[]).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    let pid = service.id().expect("running").to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(service.wait().await.unwrap().success());
    let listed: serde_json::Value = serde_json::from_str(&stage.keys(&["list", "--json"])).unwrap();
    assert_eq!(listed[0]["today"]["requests"], 2, "{listed}");
}
