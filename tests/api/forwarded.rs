//! A service open because it listens on loopback (`AUTH=auto`) is open to this host's own
//! clients only: a request that came through a proxy (nginx, Caddy, a tunnel, a sidecar on
//! the same host) carries a header saying so, and needs a key like any other.

use crate::fake::Graph;
use crate::keys::{Stage, errors, get, header};
use crate::support::{TestApp, spawn_app, spawn_app_with};
use connected::config::AuthMode;
use reqwest::StatusCode;
use serde_json::json;

/// The headers a proxy adds, each with a value it may give.
const FORWARDED: [(&str, &str); 7] = [
    ("Forwarded", "for=203.0.113.7;proto=https"),
    ("Via", "1.1 proxy.example"),
    ("X-Forwarded-Proto", "https"),
    ("CF-Connecting-IP", "203.0.113.7"),
    ("X-Forwarded-For", "203.0.113.7"),
    ("X-Forwarded-Host", "connected.example"),
    ("X-Real-IP", "203.0.113.7"),
];

fn graph() -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"])
}

/// `GET path` with one more header.
async fn get_through(app: &TestApp, path: &str, forwarded: (&str, &str)) -> reqwest::Response {
    get(&format!("{}{path}", app.address), None, &[forwarded]).await
}

#[tokio::test]
async fn a_request_through_a_proxy_needs_a_key_on_a_loopback_service_of_auth_auto() {
    let app = spawn_app(graph()).await;
    for forwarded in FORWARDED {
        for path in [
            "/connected/realtime/alice/bob",
            "/connected/register/alice/bob",
            "/metrics",
        ] {
            let response = get_through(&app, path, forwarded).await;
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{path} {forwarded:?}"
            );
            assert_eq!(
                header(&response, "www-authenticate"),
                r#"Bearer realm="connected""#
            );
            assert_eq!(
                errors(response).await,
                ["an API key is required: send Authorization: Bearer <key>"]
            );
        }
        let team = app
            .client
            .post(format!("{}/connected/network", app.address))
            .header(forwarded.0, forwarded.1)
            .json(&json!({"developers": ["alice", "bob"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(team.status(), StatusCode::UNAUTHORIZED, "{forwarded:?}");
    }
    assert_eq!(app.upstream_calls(), 0, "nothing was asked upstream");
    assert_eq!(
        app.register("alice", "bob").await.status,
        404,
        "nothing recorded"
    );

    // Straight from this host, it is open as before; the page and health stay open to all.
    assert_eq!(app.realtime("alice", "bob").await.status, 200);
    for path in ["/healthz", "/"] {
        let response = get_through(&app, path, FORWARDED[1]).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn a_key_sent_through_a_proxy_is_honoured_on_a_loopback_service_of_auth_auto() {
    let stage = Stage::with(graph()).await;
    let service = stage.service().start().await;
    let key = stage.keys(&["create", "behind-nginx"]);
    let url = format!("{}/connected/realtime/alice/bob", service.base);
    for forwarded in FORWARDED {
        let response = get(&url, Some(&key), &[forwarded]).await;
        assert_eq!(response.status(), StatusCode::OK, "{forwarded:?}");
        assert_eq!(header(&response, "ratelimit-policy"), r#""key";q=600;w=60"#);
    }
    let wrong = get(&url, Some("cdk_not_a_key"), &[FORWARDED[0]]).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(errors(wrong).await, ["the API key is not valid"]);
}

#[tokio::test]
async fn auth_open_stays_open_through_a_proxy() {
    let app = spawn_app_with(graph(), |config| config.auth.mode = AuthMode::Open).await;
    for forwarded in FORWARDED {
        let response = get_through(&app, "/connected/realtime/alice/bob", forwarded).await;
        assert_eq!(response.status(), StatusCode::OK, "{forwarded:?}");
    }
}
