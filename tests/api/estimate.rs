//! A team's network priced first: the estimate reads no follow list, bounds what the answer
//! then bills, and a cap under it stops the answer before any list is read.

use crate::fake::Graph;
use crate::keys::Stage;
use crate::support::{Browser, spawn_app, spawn_app_with, spawn_member_app};
use reqwest::StatusCode;
use serde_json::json;

/// alice, bob and carol follow each other in acme; dave shares nothing; erin shares acme
/// and follows nobody.
fn team() -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob", "carol", "dave"])
        .dev("bob", &["acme"], &["alice", "carol"])
        .dev("carol", &["acme"], &["alice", "bob"])
        .dev("dave", &["elsewhere"], &["alice"])
        .dev("erin", &["acme"], &[])
}

const TEAM: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

/// The X calls that read a follow list.
fn list_reads(calls: &[String]) -> usize {
    calls.iter().filter(|c| c.contains("/follow")).count()
}

#[tokio::test]
async fn the_estimate_reads_no_list_and_bounds_what_the_answer_then_bills() {
    let app = spawn_app(team()).await;
    let estimate = app
        .post_json("/connected/network/estimate", &json!({"developers": TEAM}))
        .await;
    assert_eq!(estimate.status, 200, "{}", estimate.body);
    let calls = app.x.calls();
    assert_eq!(list_reads(&calls), 0, "{calls:?}");
    assert!(
        calls.iter().all(|c| c.starts_with("/2/users/by")),
        "{calls:?}"
    );
    let body = &estimate.body;
    assert_eq!(body["round_one"]["github_calls"], json!(5));
    assert_eq!(body["round_one"]["x_calls"], json!(1));
    let lists = body["lists"].as_array().unwrap();
    assert!(!lists.is_empty());
    assert!(
        lists.iter().all(|l| l["developer"] != json!("dave")),
        "dave shares no organisation: {lists:?}"
    );
    let sizes: u64 = lists.iter().map(|l| l["size"].as_u64().unwrap()).sum();
    assert_eq!(body["x_users"].as_u64(), Some(sizes));
    let pages: u64 = lists.iter().map(|l| l["pages"].as_u64().unwrap()).sum();
    assert_eq!(body["x_calls"].as_u64(), Some(pages));

    let (billed, looked_up) = (app.x.users_billed(), app.x.calls().len());
    let answer = app.network(&TEAM).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let calls = app.x.calls();
    let new_calls = &calls[looked_up..];
    assert!(
        new_calls.iter().all(|c| !c.starts_with("/2/users/by")),
        "round one was cached: {new_calls:?}"
    );
    assert_eq!(
        list_reads(new_calls),
        lists.len(),
        "the lists planned are read"
    );
    let spent = app.x.users_billed() - billed;
    assert!(spent > 0, "lists were read");
    assert!(
        spent <= body["x_users"].as_u64().unwrap(),
        "billed {spent}, bound {}",
        body["x_users"]
    );
    assert!(new_calls.len() as u64 <= pages);
}

#[tokio::test]
async fn a_cap_under_the_bound_is_a_conflict_with_the_estimate_and_nothing_read_or_recorded() {
    let app = spawn_app(team()).await;
    let answer = app
        .post_json(
            "/connected/network",
            &json!({"developers": TEAM, "max_x_users": 0}),
        )
        .await;
    assert_eq!(answer.status, 409, "{}", answer.body);
    let bound = answer.body["estimate"]["x_users"].as_u64().unwrap();
    assert!(bound > 0);
    assert_eq!(
        answer.body["errors"],
        json!([format!(
            "the answer may bill up to {bound} X users, over max_x_users (0): no follow list was read"
        )])
    );
    assert!(
        !answer.body["estimate"]["lists"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(list_reads(&app.x.calls()), 0);
    assert_eq!(
        app.register("alice", "bob").await.status,
        404,
        "nothing recorded"
    );

    // At the bound, the answer is given as usual.
    let answer = app
        .post_json(
            "/connected/network",
            &json!({"developers": TEAM, "max_x_users": bound}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["groups"], json!([["alice", "bob", "carol"]]));
    assert!(list_reads(&app.x.calls()) > 0);
    assert_eq!(app.register("alice", "bob").await.status, 200);
}

#[tokio::test]
async fn the_estimate_and_a_conflict_tell_the_page_when_to_ask_as_the_operator_set() {
    let app = spawn_app_with(team(), |config| config.page.quote_confirm_x_users = 7).await;
    let estimate = app
        .post_json("/connected/network/estimate", &json!({"developers": TEAM}))
        .await;
    assert_eq!(estimate.status, 200, "{}", estimate.body);
    assert_eq!(estimate.body["confirm_above"], json!(7));
    let answer = app
        .post_json(
            "/connected/network",
            &json!({"developers": TEAM, "max_x_users": 0}),
        )
        .await;
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert_eq!(answer.body["estimate"]["confirm_above"], json!(7));

    let default = spawn_app(team()).await;
    let estimate = default
        .post_json("/connected/network/estimate", &json!({"developers": TEAM}))
        .await;
    assert_eq!(
        estimate.body["confirm_above"].as_u64(),
        Some(
            connected::config::Config::default()
                .page
                .quote_confirm_x_users
        )
    );
}

#[tokio::test]
async fn an_unknown_field_is_still_refused() {
    let app = spawn_app(team()).await;
    for path in ["/connected/network", "/connected/network/estimate"] {
        let answer = app
            .post_json(path, &json!({"developers": TEAM, "max_users": 3}))
            .await;
        assert_eq!(answer.status, 422, "{path}: {}", answer.body);
    }
    assert_eq!(app.upstream_calls(), 0);
}

#[tokio::test]
async fn a_cap_is_a_whole_number_as_json_writes_one_and_not_past_a_billion() {
    let app = spawn_app(team()).await;
    let capped =
        |cap: serde_json::Value| json!({"developers": ["alice", "bob"], "max_x_users": cap});
    let whole = app
        .post_json("/connected/network", &capped(json!(624.0)))
        .await;
    assert_eq!(whole.status, 200, "{}", whole.body);
    for cap in [
        json!(1.5),
        json!(-1),
        json!(1_000_000_001_u64),
        json!(9_223_372_036_854_775_808_u64),
    ] {
        let refused = app
            .post_json("/connected/network", &capped(cap.clone()))
            .await;
        assert_eq!(refused.status, 422, "{cap}: {}", refused.body);
        assert!(
            refused.body["errors"][0]
                .as_str()
                .unwrap()
                .contains("max_x_users must be a whole number"),
            "{}",
            refused.body
        );
    }
}

#[tokio::test]
async fn the_estimate_needs_the_network_scope() {
    let stage = Stage::with(team()).await;
    let service = stage.service().env("AUTH", "keys").start().await;
    let checker = stage.keys(&["create", "checker", "--scopes", "check"]);
    let mapper = stage.keys(&["create", "mapper", "--scopes", "network"]);
    let post = |key: String| {
        let url = format!("{}/connected/network/estimate", service.base);
        async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(key)
                .json(&json!({"developers": ["alice", "bob"]}))
                .send()
                .await
                .unwrap()
        }
    };
    let refused = post(checker).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(
        body["errors"],
        json!([r#"the API key lacks the scope "network""#])
    );
    assert_eq!(stage.upstream_calls(), 0);
    let served = post(mapper).await;
    assert_eq!(served.status(), StatusCode::OK);
    assert!(served.headers().contains_key("upstream-cost"));
}

#[tokio::test]
async fn a_members_lookups_are_in_the_bound_and_the_answer_stays_within_it() {
    let app = spawn_member_app(team()).await;
    app.x.approve_as("alice");
    let mut browser = Browser::default();
    let done = browser.sign_in(&app, "x").await;
    assert_eq!(done.status, 303, "{}", done.text);
    let developers = ["alice", "bob", "carol"];
    let estimate = app
        .post_json(
            "/connected/network/estimate",
            &json!({"developers": developers}),
        )
        .await;
    assert_eq!(estimate.status, 200, "{}", estimate.body);
    // alice answers for (alice, bob) and (alice, carol): two users, one lookup.
    assert_eq!(
        estimate.body["members"],
        json!({"x_users": 2, "x_calls": 1})
    );
    let bound = estimate.body["x_users"].as_u64().unwrap();
    let lists: u64 = estimate.body["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["size"].as_u64().unwrap())
        .sum();
    assert_eq!(bound, lists + 2);
    let billed = app.x.users_billed();
    let answer = app.network(&developers).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["groups"], json!([["alice", "bob", "carol"]]));
    let spent = app.x.users_billed() - billed;
    assert!(spent >= 2, "alice's lookup was billed: {spent}");
    assert!(spent <= bound, "billed {spent}, bound {bound}");
}

#[tokio::test]
async fn figures_readers_and_authors_billed_by_the_fakes() {
    // Five readers (following 5,000, followed by 10) in one organisation, five authors
    // (following 10, followed by 50,000) in another, each following everyone in theirs.
    let readers: Vec<String> = (0..5).map(|i| format!("reader{i}")).collect();
    let authors: Vec<String> = (0..5).map(|i| format!("author{i}")).collect();
    let mut graph = Graph::new();
    for (group, org, following, followers) in [
        (&readers, "reading", 5_000, 10),
        (&authors, "writing", 10, 50_000),
    ] {
        for name in group.iter() {
            let others: Vec<&str> = group
                .iter()
                .filter(|o| *o != name)
                .map(String::as_str)
                .collect();
            graph = graph
                .dev(name, &[org], &others)
                .pad_following(name, following - others.len())
                .pad_followers(name, followers - others.len());
        }
    }
    let app = spawn_app(graph).await;
    let team: Vec<&str> = readers.iter().chain(&authors).map(String::as_str).collect();
    let before = app.x.users_billed();
    let answer = app
        .post_json("/connected/network", &json!({"developers": team}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["connections"].as_array().unwrap().len(), 20);
    let billed = app.x.users_billed() - before;
    // All `following` would read up to 25,050 users, all `followers` 250,050.
    assert!(billed * 10 <= 25_050, "{billed} X users");
    eprintln!(
        "readers and authors: {billed} X users billed (10 of them the lookup), against up to 25,050 reading one kind of list"
    );
}
