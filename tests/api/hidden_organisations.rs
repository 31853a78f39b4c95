//! Hidden organisations count only with consent: colleagues who share only a hidden
//! membership are not connected until both let it count (one through their own GitHub
//! sign-in, the other through theirs or, signed in on X only, asked about with the first
//! one's token), and a hidden membership of someone who did not consent is never shown.

use crate::fake::Graph;
use crate::support::{Browser, TestApp, spawn_member_app};
use reqwest::Method;
use serde_json::json;

/// alice and bob follow each other, and share only acme, where both are hidden members.
fn hidden_colleagues() -> Graph {
    Graph::new()
        .dev("alice", &["solo"], &["bob"])
        .dev("bob", &["other"], &["alice"])
        .hidden("alice", "acme")
        .hidden("bob", "acme")
}

/// `who` signed in on `network` in a browser of their own, their consent as `count`.
async fn member(app: &TestApp, who: &str, network: &str, count: bool) -> Browser {
    let fake = if network == "github" {
        &app.github
    } else {
        &app.x
    };
    fake.approve_as(who);
    let mut browser = Browser::default();
    assert_eq!(browser.sign_in(app, network).await.status, 303);
    let consent = browser
        .send(
            Method::PUT,
            &format!("{}/members/me/hidden-organisations", app.address),
            Some(json!({"count": count})),
        )
        .await;
    assert_eq!(consent.status, 200, "{}", consent.text);
    browser
}

#[tokio::test]
async fn colleagues_sharing_only_a_hidden_organisation_are_connected_once_both_consent() {
    let app = spawn_member_app(hidden_colleagues()).await;
    let not = (404, json!({"connected": false}));
    let answer = app.realtime("alice", "bob").await;
    assert_eq!((answer.status, answer.body), not, "what anyone can read");
    let mut alice = member(&app, "alice", "github", false).await;
    let answer = app.realtime_fresh("alice", "bob").await;
    assert_eq!((answer.status, answer.body), not, "alice has not consented");
    alice
        .send(
            Method::PUT,
            &format!("{}/members/me/hidden-organisations", app.address),
            Some(json!({"count": true})),
        )
        .await;
    let answer = app.realtime_fresh("alice", "bob").await;
    assert_eq!((answer.status, answer.body), not, "bob has not consented");
    assert!(
        !app.github
            .calls()
            .iter()
            .any(|c| c.contains("/orgs/acme/members/bob")),
        "bob is not asked about without his consent"
    );
    member(&app, "bob", "github", true).await;
    let answer = app.realtime_fresh("alice", "bob").await;
    assert_eq!(
        (answer.status, answer.body),
        (200, json!({"connected": true, "organisations": ["acme"]}))
    );
    let history = app.register("alice", "bob").await.body;
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["member_sign_in"], true, "{history}");
    assert_eq!(history[0]["member_sign_in"], false, "{history}");
}

#[tokio::test]
async fn a_colleague_who_consented_on_x_alone_is_asked_about_with_the_members_token() {
    let app = spawn_member_app(hidden_colleagues()).await;
    member(&app, "alice", "github", true).await;
    member(&app, "bob", "x", true).await;
    let answer = app.realtime_fresh("alice", "bob").await;
    assert_eq!(
        (answer.status, answer.body),
        (200, json!({"connected": true, "organisations": ["acme"]}))
    );
    assert!(
        app.github
            .calls()
            .iter()
            .any(|c| c.contains("/orgs/acme/members/bob")),
        "{:?}",
        app.github.calls()
    );
}

#[tokio::test]
async fn without_consent_a_hidden_membership_is_never_shown() {
    let graph = Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"])
        .hidden("alice", "secret")
        .hidden("bob", "secret");
    let app = spawn_member_app(graph).await;
    member(&app, "alice", "github", true).await;
    member(&app, "bob", "github", false).await;
    let answer = app.realtime_fresh("alice", "bob").await;
    assert_eq!(
        answer.body,
        json!({"connected": true, "organisations": ["acme"]}),
        "bob's hidden secret is not shown"
    );
}

#[tokio::test]
async fn a_teams_consenting_members_count_their_hidden_organisations() {
    let graph = hidden_colleagues().dev("carol", &["other"], &["alice", "bob"]);
    let app = spawn_member_app(graph).await;
    let team = json!({"developers": ["alice", "bob", "carol"]});
    let before = app.post_json("/connected/network", &team).await;
    assert_eq!(before.body["connections"], json!([]), "{}", before.body);
    member(&app, "alice", "github", true).await;
    member(&app, "bob", "github", true).await;
    let after = app.post_json("/connected/network", &team).await;
    assert_eq!(
        after.body["connections"],
        json!([{"developers": ["alice", "bob"], "organisations": ["acme"]}]),
        "{}",
        after.body
    );
    let history = app.register("alice", "bob").await.body;
    assert_eq!(
        history.as_array().unwrap().last().unwrap()["member_sign_in"],
        true
    );
    let history = app.register("bob", "carol").await.body;
    assert_eq!(
        history.as_array().unwrap().last().unwrap()["member_sign_in"],
        false
    );
}
