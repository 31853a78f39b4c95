use crate::fake::Graph;
use crate::support::spawn_app;
use serde_json::json;

#[tokio::test]
async fn the_register_lists_every_answer_oldest_first_for_either_order_and_case() {
    let connected =
        Graph::new()
            .dev("alice", &["acme"], &["bob"])
            .dev("bob", &["acme"], &["alice"]);
    let app = spawn_app(connected).await;
    assert_eq!(app.realtime("alice", "bob").await.status, 200);
    // bob stops following alice.
    app.x.set_graph(
        Graph::new()
            .dev("alice", &["acme"], &["bob"])
            .dev("bob", &["acme"], &[]),
    );
    app.github.set_graph(
        Graph::new()
            .dev("alice", &["acme"], &["bob"])
            .dev("bob", &["acme"], &[]),
    );
    assert_eq!(app.realtime_fresh("Bob", "ALICE").await.status, 404);

    for (a, b) in [("alice", "bob"), ("bob", "alice"), ("ALICE", "Bob")] {
        let history = app.register(a, b).await;
        assert_eq!(history.status, 200);
        let entries = history.body.as_array().unwrap();
        assert_eq!(entries.len(), 2, "{}", history.body);
        assert_eq!(entries[0]["connected"], json!(true));
        assert_eq!(entries[0]["organisations"], json!(["acme"]));
        assert_eq!(entries[1]["connected"], json!(false));
        assert!(entries[1].get("organisations").is_none(), "{}", entries[1]);
        let times: Vec<&str> = entries
            .iter()
            .map(|e| e["registered_at"].as_str().unwrap())
            .collect();
        for t in &times {
            // RFC 3339, UTC, milliseconds: 2021-10-30T13:54:45.485Z
            assert_eq!(t.len(), 24, "{t}");
            assert!(t.ends_with('Z') && t.as_bytes()[19] == b'.', "{t}");
            chrono::DateTime::parse_from_rfc3339(t).unwrap();
        }
        assert!(times[0] <= times[1]);
    }
}

#[tokio::test]
async fn a_pair_never_checked_is_404_with_an_empty_list() {
    let app = spawn_app(Graph::new()).await;
    let history = app.register("alice", "bob").await;
    assert_eq!((history.status, history.body), (404, json!([])));
}

#[tokio::test]
async fn the_register_of_one_developer_with_herself_is_a_bad_request() {
    let app = spawn_app(Graph::new()).await;
    let history = app.register("alice", "Alice").await;
    assert_eq!(history.status, 400);
    assert!(
        history.body["errors"][0]
            .as_str()
            .unwrap()
            .contains("same developer")
    );
}

#[tokio::test]
async fn pairs_do_not_leak_into_each_other() {
    let graph = Graph::new()
        .dev("alice", &["acme"], &["bob", "carol"])
        .dev("bob", &["acme"], &["alice"])
        .dev("carol", &["acme"], &["alice"]);
    let app = spawn_app(graph).await;
    app.realtime("alice", "bob").await;
    app.realtime("alice", "carol").await;
    app.realtime("alice", "carol").await;
    assert_eq!(
        app.register("bob", "alice")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.register("carol", "alice")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(app.register("bob", "carol").await.status, 404);
}

#[tokio::test]
async fn an_answer_recorded_by_another_process_on_the_same_file_is_served_at_once() {
    use connected::domain::{Grounds, Handle, Network, Pair, Register, Verdict};
    use connected::outbound::sql::sqlite::SqliteRegister;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    let graph = Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"]);
    let app = crate::support::spawn_app_with(graph, {
        let url = url.clone();
        move |c| c.database.url = url.into()
    })
    .await;
    assert_eq!(app.realtime("alice", "bob").await.status, 200);
    // Read twice, so the service has the short history at hand.
    for _ in 0..2 {
        assert_eq!(
            app.register("alice", "bob")
                .await
                .body
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
    // `connected check` on the same file, as another process would.
    let other = SqliteRegister::connect(&url, connected::config::Config::default().database.pool)
        .await
        .unwrap();
    let pair = Pair::new(
        Handle::parse("alice").unwrap(),
        Handle::parse("bob").unwrap(),
    )
    .unwrap();
    other
        .record(
            &pair,
            &Verdict::NotConnected,
            Grounds::public(Network::X),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let history = app.register("bob", "alice").await;
    assert_eq!(
        history.body.as_array().unwrap().len(),
        2,
        "{}",
        history.body
    );
    assert_eq!(history.body[1]["connected"], json!(false));
}

/// The bytes and headers of a response that matter to a client of the register.
async fn raw(app: &crate::support::TestApp, path: &str) -> (u16, Option<String>, String) {
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    let link = response
        .headers()
        .get("link")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        response.status().as_u16(),
        link,
        response.text().await.unwrap(),
    )
}

#[tokio::test]
async fn a_page_read_again_is_the_same_bytes_until_a_new_check_which_it_shows_at_once() {
    let graph = Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"]);
    let app = spawn_app(graph).await;
    for _ in 0..3 {
        assert_eq!(app.realtime_fresh("alice", "bob").await.status, 200);
    }
    let path = "/connected/register/alice/bob?limit=2";
    let first = raw(&app, path).await;
    assert_eq!(first.0, 200);
    assert!(
        first.1.as_deref().unwrap().contains("limit=2&before="),
        "{first:?}"
    );
    let entries: serde_json::Value = serde_json::from_str(&first.2).unwrap();
    assert_eq!(entries.as_array().unwrap().len(), 2);
    for _ in 0..3 {
        assert_eq!(raw(&app, path).await, first);
    }
    assert_eq!(app.realtime_fresh("alice", "bob").await.status, 200);
    let after = raw(&app, path).await;
    let entries: serde_json::Value = serde_json::from_str(&after.2).unwrap();
    assert_eq!(
        entries[0],
        serde_json::from_str::<serde_json::Value>(&first.2).unwrap()[1]
    );
    assert_ne!(after, first);
}
