//! Answers that cannot be positively read are failures, never facts: malformed bodies on
//! every adapter, protected X accounts, and a register that is slow while an answer waits.

use crate::fake::{Endpoint, Failure, Graph};
use crate::support::{TestApp, spawn_app, spawn_app_with};
use connected::domain::Network;
use serde_json::json;
use std::time::Duration;

/// alice and bob follow each other and share acme; carol shares acme with both, follows
/// nobody and nobody follows her.
fn team() -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"])
        .dev("carol", &["acme"], &[])
}

async fn assert_nothing_recorded(app: &TestApp, dev1: &str, dev2: &str) {
    let register = app.register(dev1, dev2).await;
    assert_eq!((register.status, register.body), (404, json!([])));
}

/// The check fails as an upstream failure (502 naming the network), records nothing, and
/// once the upstream answers properly again, the true answer comes: nothing false was
/// cached.
async fn assert_a_failure_then_the_truth(app: &TestApp, network: &str) {
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(answer.status, 502, "{}", answer.body);
    let message = answer.body["errors"][0].as_str().unwrap();
    assert!(
        message.starts_with(&format!("{network} is unavailable: ")),
        "{message}"
    );
    assert_nothing_recorded(app, "alice", "bob").await;
    app.github.heal();
    app.x.heal();
    app.bluesky.heal();
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(
        (answer.status, answer.body),
        (200, json!({"connected": true, "organisations": ["acme"]}))
    );
}

/// Bodies that are JSON but not the answer asked for.
const NOT_AN_ANSWER: [&str; 5] = [
    r#"{"title":"OK","detail":"OK","type":"about:blank","status":200}"#,
    r#"{"errors":[{"title":"Internal Error","detail":"try later","type":"about:blank"}]}"#,
    "null",
    "{}",
    r#"{"data": null}"#,
];

#[tokio::test]
async fn a_follow_list_that_is_not_a_page_is_a_failure_not_an_empty_list() {
    for body in NOT_AN_ANSWER {
        let app = spawn_app(team()).await;
        app.x
            .fail(Endpoint::FollowList, Failure::Body(body.to_owned()));
        assert_a_failure_then_the_truth(&app, "X").await;
    }
}

#[tokio::test]
async fn a_page_that_counts_users_but_lists_none_is_a_failure() {
    let app = spawn_app(team()).await;
    app.x.fail(
        Endpoint::FollowList,
        Failure::Body(r#"{"meta": {"result_count": 3}}"#.to_owned()),
    );
    assert_a_failure_then_the_truth(&app, "X").await;
}

#[tokio::test]
async fn a_lookup_that_says_nothing_of_a_user_is_a_failure_not_a_missing_user() {
    let bodies = NOT_AN_ANSWER.into_iter().chain([
        // Only one of the two users, and nothing about the other.
        r#"{"data": [{"id": "2000", "name": "alice", "username": "alice"}]}"#,
        // An error about the user that is not "not found".
        r#"{"errors": [{"value": "bob", "title": "Internal Error", "detail": "oops", "type": "about:blank"}], "data": [{"id": "2000", "name": "alice", "username": "alice"}]}"#,
    ]);
    for body in bodies {
        let app = spawn_app(team()).await;
        app.x.fail(Endpoint::Lookup, Failure::Body(body.to_owned()));
        assert_a_failure_then_the_truth(&app, "X").await;
    }
}

#[tokio::test]
async fn an_organisation_list_of_the_wrong_shape_is_a_failure() {
    for body in [
        "null",
        r#"{"message": "OK"}"#,
        r#"[{"login": null}]"#,
        r#"[{"id": 1}]"#,
        "[",
    ] {
        let app = spawn_app(team()).await;
        app.github
            .fail(Endpoint::Any, Failure::Body(body.to_owned()));
        assert_a_failure_then_the_truth(&app, "GitHub").await;
    }
}

#[tokio::test]
async fn bluesky_answers_of_the_wrong_shape_are_failures() {
    for body in [
        "{}",
        "null",
        r#"{"profiles": null}"#,
        r#"{"actor": "did:plc:2000"}"#,
        r#"{"actor": "did:plc:2000", "relationships": []}"#,
    ] {
        let app = spawn_app_with(team(), |c| c.upstreams.social_graph = Network::Bluesky).await;
        app.bluesky
            .fail(Endpoint::Any, Failure::Body(body.to_owned()));
        assert_a_failure_then_the_truth(&app, "Bluesky").await;
    }
}

#[tokio::test]
async fn one_protected_account_is_read_through_the_other_ones_lists() {
    let app = spawn_app(team().protect("alice")).await;
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(
        (answer.status, answer.body),
        (200, json!({"connected": true, "organisations": ["acme"]}))
    );
    // alice's own lists were never asked for: bob's followers and following told both ways.
    let alice_lists: Vec<String> = app
        .x
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("/2/users/2000/"))
        .collect();
    assert!(alice_lists.is_empty(), "{alice_lists:?}");
    assert!(
        app.x
            .calls()
            .iter()
            .any(|c| c.contains("user.fields=public_metrics,protected")),
        "the lookup asks whether accounts are protected: {:?}",
        app.x.calls()
    );
}

#[tokio::test]
async fn two_protected_accounts_get_an_answer_of_their_own_and_nothing_is_recorded() {
    let app = spawn_app(team().protect("alice").protect("bob")).await;
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(answer.status, 424, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({"errors": ["whether alice follows bob cannot be read: their X accounts are protected"]})
    );
    assert!(
        !app.x.calls().iter().any(|c| c.contains("/follow")),
        "no list that cannot be read is asked for: {:?}",
        app.x.calls()
    );
    assert_nothing_recorded(&app, "alice", "bob").await;
    // Not cached as a fact either: once bob's lists are public, the answer comes.
    app.x.set_graph(team().protect("alice"));
    let answer = app.realtime_fresh("alice", "bob").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn an_account_protected_since_its_lookup_is_read_through_the_other_list() {
    let app = spawn_app(team()).await;
    assert_eq!(app.realtime("alice", "carol").await.status, 404);
    // The lookups are cached; alice turns protected after them.
    app.x.set_graph(team().protect("alice"));
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn a_team_reports_pairs_it_cannot_read_and_answers_the_rest() {
    let app = spawn_app(team().protect("alice").protect("bob")).await;
    let answer = app.network(&["alice", "bob", "carol"]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({
            "developers": ["alice", "bob", "carol"],
            "errors": [],
            "connections": [],
            "groups": [],
            "undecided": [{
                "developers": ["alice", "bob"],
                "error": "whether alice follows bob cannot be read: their X accounts are protected"
            }]
        })
    );
    assert_nothing_recorded(&app, "alice", "bob").await;
    // The pairs that could be read are answered and recorded.
    let carol = app.register("alice", "carol").await;
    assert_eq!(carol.status, 200);
    assert_eq!(carol.body[0]["connected"], json!(false));
    assert_eq!(app.register("bob", "carol").await.status, 200);
}

/// Holds SQLite's write lock on the register's file for `hold`, from another connection,
/// as a backup or a second process would.
async fn hold_write_lock(path: &std::path::Path, hold: Duration) -> tokio::task::JoinHandle<()> {
    use sqlx::Connection as _;
    let url = format!("sqlite://{}", path.display());
    let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut connection)
        .await
        .unwrap();
    tokio::spawn(async move {
        tokio::time::sleep(hold).await;
        sqlx::query("COMMIT")
            .execute(&mut connection)
            .await
            .unwrap();
    })
}

async fn app_on(path: &std::path::Path, request_timeout: Duration) -> TestApp {
    let url = format!("sqlite://{}", path.display());
    spawn_app_with(team(), move |c| {
        c.database.url = url.into();
        c.upstreams.request_timeout = request_timeout;
    })
    .await
}

#[tokio::test]
async fn a_slow_register_is_waited_for_past_the_upstream_deadline_and_the_answer_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.db");
    let app = app_on(&path, Duration::from_secs(1)).await;
    let held = hold_write_lock(&path, Duration::from_secs(2)).await;
    let answer = app.realtime("alice", "bob").await;
    // The upstreams answered in time: the deadline is theirs, not the register's.
    assert_eq!(answer.status, 200, "{}", answer.body);
    held.await.unwrap();
    let register = app.register("alice", "bob").await;
    assert_eq!(register.body.as_array().unwrap().len(), 1);

    let held = hold_write_lock(&path, Duration::from_secs(2)).await;
    let answer = app.network(&["alice", "bob", "carol"]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    held.await.unwrap();
    assert_eq!(app.register("bob", "carol").await.status, 200);
}

#[tokio::test]
async fn a_register_locked_too_long_answers_503_and_never_records_later() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.db");
    let app = app_on(&path, Duration::from_secs(1)).await;
    let held = hold_write_lock(&path, Duration::from_secs(12)).await;
    let (check, team) = tokio::join!(
        app.realtime("alice", "bob"),
        app.network(&["alice", "bob", "carol"])
    );
    for answer in [check, team] {
        assert_eq!(
            (answer.status, answer.body),
            (
                503,
                json!({"errors": ["the register is unavailable; nothing was recorded, try again later"]})
            )
        );
    }
    held.await.unwrap();
    // Once the lock is gone, nothing that was refused turns up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_nothing_recorded(&app, "alice", "bob").await;
    assert_nothing_recorded(&app, "bob", "carol").await;
}
