//! What a web page of another site can make a visitor's browser do: nothing that spends or
//! records, and nothing at all through a name of its own pointed at an open service.

use crate::fake::Graph;
use crate::keys::{Stage, errors, get};
use crate::support::{TestApp, spawn_app, spawn_app_with};
use connected::config::AuthMode;
use reqwest::StatusCode;
use serde_json::json;

fn graph() -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"])
}

const REALTIME: &str = "/connected/realtime/alice/bob";
const MISDIRECTED: &str = "this service is open without an API key and answers only to localhost, an IP address or a name in ALLOWED_HOSTS";

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    get(&format!("{}{path}", app.address), None, headers).await
}

#[tokio::test]
async fn an_open_service_refuses_a_host_it_is_not_known_by() {
    let app = spawn_app(graph()).await;
    for path in [
        REALTIME,
        "/connected/register/alice/bob",
        "/metrics",
        "/",
        "/docs/",
    ] {
        let response = get_with(&app, path, &[("Host", "attacker.example:5000")]).await;
        assert_eq!(response.status(), StatusCode::MISDIRECTED_REQUEST, "{path}");
        assert_eq!(errors(response).await, [MISDIRECTED], "{path}");
    }
    // Health checkers send all sorts of hosts, and health tells a page nothing.
    for path in ["/healthz", "/readyz"] {
        let response = get_with(&app, path, &[("Host", "attacker.example")]).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    assert_eq!(app.upstream_calls(), 0);
    assert_eq!(
        app.register("alice", "bob").await.status,
        404,
        "nothing recorded"
    );

    for own in ["localhost:5000", "LOCALHOST", "127.0.0.1:5000", "[::1]:80"] {
        let response = get_with(&app, REALTIME, &[("Host", own)]).await;
        assert_eq!(response.status(), StatusCode::OK, "{own}");
    }
}

#[tokio::test]
async fn an_http2_authority_is_the_host_an_open_service_checks() {
    let app = spawn_app(graph()).await;
    let bound: std::net::SocketAddr = app.address.trim_start_matches("http://").parse().unwrap();
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .resolve("attacker.example", bound)
        .resolve("localhost", bound)
        .build()
        .unwrap();
    let foreign = client
        .get(format!(
            "http://attacker.example:{}{REALTIME}",
            bound.port()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.version(), reqwest::Version::HTTP_2);
    assert_eq!(foreign.status(), StatusCode::MISDIRECTED_REQUEST);
    let own = client
        .get(format!("http://localhost:{}{REALTIME}", bound.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_allowed_host_is_served_and_a_service_with_keys_checks_no_host() {
    let named = spawn_app_with(graph(), |config| {
        config.auth.mode = AuthMode::Open;
        config.auth.allowed_hosts = vec!["demo.example.com".to_owned()];
    })
    .await;
    let response = get_with(&named, REALTIME, &[("Host", "Demo.Example.com:8443")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = get_with(&named, REALTIME, &[("Host", "attacker.example")]).await;
    assert_eq!(response.status(), StatusCode::MISDIRECTED_REQUEST);

    // With keys required, a key is what decides: the host is the proxy's business.
    let keyed = spawn_app_with(graph(), |config| config.auth.mode = AuthMode::Keys).await;
    let response = get_with(&keyed, REALTIME, &[("Host", "attacker.example")]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_page_of_another_site_cannot_run_a_check_or_a_team() {
    let app = spawn_app(graph()).await;
    for site in ["cross-site", "same-site", "Cross-Site"] {
        let response = get_with(&app, REALTIME, &[("Sec-Fetch-Site", site)]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{site}");
        assert_eq!(
            errors(response).await,
            [
                "a page of another site cannot ask this service for checks: open the service's own page, or call the API from a program"
            ]
        );
        let team = app
            .client
            .post(format!("{}/connected/network", app.address))
            .header("Sec-Fetch-Site", site)
            .json(&json!({"developers": ["alice", "bob"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(team.status(), StatusCode::FORBIDDEN, "{site}");
    }
    assert_eq!(app.upstream_calls(), 0, "nothing was asked upstream");
    let history = app.register("alice", "bob").await;
    assert_eq!(
        (history.status, history.body),
        (404, json!([])),
        "nothing recorded"
    );

    // The service's own page, a typed address, and programs are served.
    for site in [Some("same-origin"), Some("none"), None] {
        let headers: Vec<(&str, &str)> = site.map(|s| ("Sec-Fetch-Site", s)).into_iter().collect();
        let response = get_with(&app, REALTIME, &headers).await;
        assert_eq!(response.status(), StatusCode::OK, "{site:?}");
    }
    // Reading the register spends and records nothing: another site's page may not read
    // the answer anyway.
    let read = get_with(
        &app,
        "/connected/register/alice/bob",
        &[("Sec-Fetch-Site", "cross-site")],
    )
    .await;
    assert_eq!(read.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_page_of_another_site_is_refused_even_with_a_key() {
    let stage = Stage::with(graph()).await;
    let service = stage.service().env("AUTH", "keys").start().await;
    let key = stage.keys(&["create", "browser"]);
    let url = format!("{}{REALTIME}", service.base);
    let response = get(&url, Some(&key), &[("Sec-Fetch-Site", "cross-site")]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response.headers().get("www-authenticate").is_none(),
        "the key is not the problem"
    );
    assert_eq!(stage.upstream_calls(), 0);
    let response = get(&url, Some(&key), &[("Sec-Fetch-Site", "same-origin")]).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_the_browsers_word_an_open_service_reads_the_pages_origin() {
    // Over plain HTTP to an address that is not loopback, browsers send no Sec-Fetch-Site:
    // the page's origin is in Origin (a team's POST) or Referer (an image's GET).
    let app = spawn_app(graph()).await;
    let own = app.address.clone();
    for (name, page) in [
        ("Referer", "http://attacker.example/page.html"),
        ("Origin", "http://attacker.example"),
        ("Origin", "null"),
        ("Referer", "http://127.0.0.1:1/"),
    ] {
        let response = get_with(&app, REALTIME, &[(name, page)]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {page}");
    }
    assert_eq!(app.upstream_calls(), 0);
    assert_eq!(
        app.register("alice", "bob").await.status,
        404,
        "nothing recorded"
    );
    let response = get_with(&app, REALTIME, &[("Referer", &format!("{own}/"))]).await;
    assert_eq!(response.status(), StatusCode::OK, "the service's own page");
    let response = get_with(&app, REALTIME, &[]).await;
    assert_eq!(response.status(), StatusCode::OK, "a program");
}
