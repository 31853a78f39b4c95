//! Every realtime and network answer says what it made upstream (`Upstream-Cost`), in
//! figures that match the fakes' own counts and the request's log line.

use crate::fake::Graph;
use crate::support::{TestApp, spawn_app};
use serde_json::json;

fn colleagues() -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"])
        .dev("carol", &["other"], &[])
}

/// The `Upstream-Cost` of `GET path` (or a `POST` of `body`), and what the fakes counted
/// meanwhile: (GitHub calls, X calls, X users billed).
async fn cost(app: &TestApp, path: &str, body: Option<serde_json::Value>) -> (String, String) {
    let before = (
        app.github.call_count(),
        app.x.call_count(),
        app.x.users_billed(),
    );
    let url = format!("{}{path}", app.address);
    let request = match body {
        Some(body) => app.client.post(url).json(&body),
        None => app.client.get(url),
    };
    let response = request.send().await.unwrap();
    let header = response.headers()["upstream-cost"]
        .to_str()
        .unwrap()
        .to_owned();
    let counted = format!(
        "github-calls={}, x-calls={}, x-users={}",
        app.github.call_count() - before.0,
        app.x.call_count() - before.1,
        app.x.users_billed() - before.2
    );
    (header, counted)
}

#[tokio::test]
async fn a_checks_cost_is_what_the_upstreams_counted_and_nothing_once_cached() {
    let app = spawn_app(colleagues()).await;
    let (header, counted) = cost(&app, "/connected/realtime/alice/bob", None).await;
    assert!(header.starts_with(&counted), "{header} against {counted}");
    assert!(header.ends_with("cached=no"), "{header}");
    assert!(!header.contains("-calls=0"), "both were asked: {header}");
    let (header, _) = cost(&app, "/connected/realtime/alice/bob", None).await;
    assert_eq!(header, "github-calls=0, x-calls=0, x-users=0, cached=yes");
    // A refusal says its cost too: carol shares nothing, asked of GitHub and X.
    let (header, counted) = cost(&app, "/connected/realtime/alice/carol", None).await;
    assert!(header.starts_with(&counted), "{header} against {counted}");
}

#[tokio::test]
async fn a_teams_cost_is_what_the_upstreams_counted() {
    let app = spawn_app(colleagues()).await;
    let team = json!({"developers": ["alice", "bob", "carol"]});
    let (header, counted) = cost(&app, "/connected/network", Some(team)).await;
    assert!(header.starts_with(&counted), "{header} against {counted}");
}
