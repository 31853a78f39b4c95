//! What a member's sign-in buys, counted by the fakes: a pair's follows told by one lookup
//! under the member's token (one X user billed, no follow list), protected accounts that
//! answer, a team whose members answer for their pairs; and tokens that are renewed before
//! they expire, dropped when refused, and limited by the member's own rate limit.

use crate::fake::{Graph, X_OAUTH_CLIENT_ID, X_OAUTH_CLIENT_SECRET};
use crate::support::{Browser, TestApp, spawn_member_app};
use serde_json::json;
use std::time::Duration;

/// alice and bob at acme, following each other, each following and followed by `padding`
/// others: the cheapest list of the pair holds that many.
fn busy_colleagues(padding: usize) -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"])
        .pad_following("alice", padding)
        .pad_following("bob", padding)
        .pad_followers("alice", padding)
        .pad_followers("bob", padding)
}

/// Signs `who` in on X in a browser of their own.
async fn sign_in_on_x(app: &TestApp, who: &str) -> Browser {
    app.x.approve_as(who);
    let mut browser = Browser::default();
    let done = browser.sign_in(app, "x").await;
    assert_eq!(done.status, 303, "{}", done.text);
    browser
}

/// The X users billed and the X calls made while `check` runs.
async fn counted<F: Future<Output = T>, T>(app: &TestApp, check: F) -> (T, u64, usize) {
    let (users, calls) = (app.x.users_billed(), app.x.call_count());
    let answer = check.await;
    (
        answer,
        app.x.users_billed() - users,
        app.x.call_count() - calls,
    )
}

#[tokio::test]
async fn a_pair_with_a_member_is_told_by_one_lookup_for_one_user_billed() {
    let app = spawn_member_app(busy_colleagues(5_000)).await;
    let (answer, users_without, calls) = counted(&app, app.realtime_fresh("alice", "bob")).await;
    assert_eq!(
        answer.body,
        json!({"connected": true, "organisations": ["acme"]})
    );
    assert!(
        users_without >= 1_000,
        "without a member, lists: {users_without} users"
    );
    sign_in_on_x(&app, "alice").await;
    let (answer, users, calls_with) = counted(&app, app.realtime_fresh("bob", "alice")).await;
    assert_eq!(
        answer.body,
        json!({"connected": true, "organisations": ["acme"]})
    );
    assert_eq!(
        (users, calls_with),
        (1, 1),
        "one lookup of bob under alice's token"
    );
    let lookup = app.x.calls().last().cloned().unwrap();
    assert!(
        lookup.contains("connection_status") && lookup.contains("usernames=bob"),
        "{lookup}"
    );
    eprintln!(
        "a connected pair, cheapest list 5,000: {users} X user and {calls_with} call with a member, against {users_without} users in {calls} calls without"
    );
}

#[tokio::test]
async fn a_member_who_does_not_follow_back_is_not_connected() {
    let graph = Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &[]);
    let app = spawn_member_app(graph).await;
    sign_in_on_x(&app, "bob").await;
    let (answer, users, _) = counted(&app, app.realtime("alice", "bob")).await;
    assert_eq!(
        (answer.status, answer.body),
        (404, json!({"connected": false}))
    );
    assert_eq!(users, 1);
}

#[tokio::test]
async fn protected_accounts_answer_through_a_member() {
    let graph = busy_colleagues(10).protect("alice").protect("bob");
    let app = spawn_member_app(graph).await;
    let unreadable = app.realtime("alice", "bob").await;
    assert_eq!(unreadable.status, 424, "{}", unreadable.body);
    sign_in_on_x(&app, "bob").await;
    let answer = app.realtime_fresh("alice", "bob").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({"connected": true, "organisations": ["acme"]})
    );
}

/// Revokes every token the X fake has issued, as a member would at X.
async fn revoke_all_at_x(app: &TestApp) {
    for token in app.x.live_tokens() {
        let revoked = reqwest::Client::new()
            .post(format!("{}/2/oauth2/revoke", app.x.url))
            .basic_auth(X_OAUTH_CLIENT_ID, Some(X_OAUTH_CLIENT_SECRET))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 200);
    }
}

#[tokio::test]
async fn a_token_x_no_longer_takes_is_dropped_and_the_lists_answer() {
    let app = spawn_member_app(busy_colleagues(10)).await;
    let mut browser = sign_in_on_x(&app, "alice").await;
    revoke_all_at_x(&app).await;
    let (answer, users, _) = counted(&app, app.realtime("alice", "bob")).await;
    assert_eq!(
        answer.body,
        json!({"connected": true, "organisations": ["acme"]})
    );
    assert!(users > 1, "the lists answered: {users}");
    assert_eq!(
        browser.me(&app).await["member"]["x"],
        json!(null),
        "the link is dropped"
    );
    let (_, users, _) = counted(&app, app.realtime_fresh("alice", "bob")).await;
    assert!(users > 1, "and not tried again");
}

#[tokio::test]
async fn a_token_about_to_expire_is_renewed_first_and_a_refused_renewal_drops_it() {
    let app = spawn_member_app(busy_colleagues(10)).await;
    app.x.set_token_lifetime(Duration::from_secs(60));
    let mut browser = sign_in_on_x(&app, "alice").await;
    let (answer, users, _) = counted(&app, app.realtime("alice", "bob")).await;
    assert!(answer.body["connected"].as_bool().unwrap());
    assert_eq!(app.x.refreshes(), 1, "renewed before use");
    assert_eq!(users, 1, "and the renewed token answered");
    revoke_all_at_x(&app).await;
    let (answer, users, _) = counted(&app, app.realtime_fresh("alice", "bob")).await;
    assert!(answer.body["connected"].as_bool().unwrap());
    assert!(users > 1, "the lists answered: {users}");
    assert_eq!(browser.me(&app).await["member"]["x"], json!(null));
}

#[tokio::test]
async fn a_members_rate_limit_is_theirs_alone() {
    let app = spawn_member_app(busy_colleagues(10)).await;
    sign_in_on_x(&app, "alice").await;
    app.x.set_user_lookup_limit(1);
    let (_, users, _) = counted(&app, app.realtime_fresh("alice", "bob")).await;
    assert_eq!(users, 1, "alice's one lookup");
    let (answer, users, _) = counted(&app, app.realtime_fresh("alice", "bob")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body["connected"].as_bool().unwrap());
    assert!(
        users > 1,
        "alice's limit reached: the app's lookup and lists answered"
    );
    let calls = app.x.call_count();
    let answer = app.realtime_fresh("alice", "bob").await;
    assert_eq!(answer.status, 200);
    let asked: Vec<String> = app.x.calls()[calls..].to_vec();
    assert!(
        asked.iter().all(|c| !c.contains("connection_status")),
        "alice's limit is remembered: {asked:?}"
    );
}

#[tokio::test]
async fn a_teams_members_answer_for_their_pairs_and_lists_only_for_the_rest() {
    let mut graph = Graph::new();
    let names = ["ann", "ben", "cat", "dan"];
    for name in names {
        let others: Vec<&str> = names.iter().copied().filter(|n| *n != name).collect();
        graph = graph
            .dev(name, &["acme"], &others)
            .pad_following(name, 200)
            .pad_followers(name, 200);
    }
    let app = spawn_member_app(graph).await;
    let team = json!({"developers": names});
    let (before, users_lists, _) = counted(&app, app.post_json("/connected/network", &team)).await;
    assert_eq!(before.body["connections"].as_array().unwrap().len(), 6);
    sign_in_on_x(&app, "ann").await;
    sign_in_on_x(&app, "ben").await;
    let fresh = async {
        let response = app
            .client
            .post(format!("{}/connected/network", app.address))
            .header("cache-control", "no-cache")
            .json(&team)
            .send()
            .await
            .unwrap();
        response.json::<serde_json::Value>().await.unwrap()
    };
    let (after, users_members, _) = counted(&app, fresh).await;
    assert_eq!(after["connections"], before.body["connections"]);
    let asked = app.x.calls();
    assert_eq!(
        asked
            .iter()
            .filter(|c| c.contains("connection_status"))
            .count(),
        2,
        "one lookup each for ann and ben: {asked:?}"
    );
    assert!(
        users_members < users_lists,
        "{users_members} against {users_lists}"
    );
    eprintln!("a team of 4 with 2 members: {users_members} X users, against {users_lists} without");
}

#[tokio::test]
async fn figures_a_team_of_100_with_20_members_against_none() {
    // A company where everyone shares an organisation and follows a few colleagues, with
    // lists of a realistic spread (a few hundred to a few thousand).
    let names: Vec<String> = (0..100).map(|i| format!("dev{i:03}")).collect();
    let mut graph = Graph::new();
    for (i, name) in names.iter().enumerate() {
        let follows: Vec<&str> = (1..=5)
            .map(|k| names[(i + k * 7) % names.len()].as_str())
            .collect();
        let spread = 100 + (i * 37 % 20) * 150;
        graph = graph
            .dev(name, &["acme"], &follows)
            .pad_following(name, spread)
            .pad_followers(name, spread * 2);
    }
    let app = spawn_member_app(graph).await;
    let team = json!({ "developers": names });
    let network = |fresh: bool| {
        let request = app
            .client
            .post(format!("{}/connected/network", app.address))
            .json(&team);
        let request = if fresh {
            request.header("cache-control", "no-cache")
        } else {
            request
        };
        async move {
            request
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let (none, users_none, calls_none) = counted(&app, network(false)).await;
    for name in names.iter().step_by(5) {
        sign_in_on_x(&app, name).await;
    }
    let (some, users_some, calls_some) = counted(&app, network(true)).await;
    assert_eq!(some["connections"], none["connections"], "the same answer");
    assert!(users_some < users_none, "{users_some} against {users_none}");
    eprintln!(
        "a team of 100, 20 members: {users_some} X users in {calls_some} calls, against {users_none} users in {calls_none} calls with none"
    );
}
