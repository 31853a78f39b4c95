//! A team's network in one request.

use crate::fake::{Endpoint, Failure, Graph};
use crate::support::{spawn_app, spawn_app_with};
use serde_json::json;

/// alice, bob and carol all follow each other in acme; dave follows alice both ways but
/// shares nothing; erin shares acme with everyone but follows nobody back.
fn team() -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob", "carol", "dave"])
        .dev("bob", &["acme", "guild"], &["alice", "carol"])
        .dev("carol", &["acme"], &["alice", "bob"])
        .dev("dave", &["elsewhere"], &["alice"])
        .dev("erin", &["acme"], &[])
        .x("bob", &["erin"])
}

#[tokio::test]
async fn a_team_gets_its_connections_and_groups_in_one_request() {
    let app = spawn_app(team()).await;
    let answer = app
        .network(&["alice", "Bob", "carol", "dave", "erin", "BOB"])
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({
            "developers": ["alice", "Bob", "carol", "dave", "erin"],
            "errors": [],
            "connections": [
                {"developers": ["alice", "Bob"], "organisations": ["acme"]},
                {"developers": ["alice", "carol"], "organisations": ["acme"]},
                {"developers": ["Bob", "carol"], "organisations": ["acme"]}
            ],
            "groups": [["alice", "Bob", "carol"]]
        })
    );
    // Every pair is recorded, connected or not.
    assert_eq!(
        app.register("bob", "carol").await.body[0]["connected"],
        json!(true)
    );
    assert_eq!(
        app.register("dave", "erin").await.body[0]["connected"],
        json!(false)
    );
    assert_eq!(
        app.register("alice", "erin").await.body[0]["social_graph"],
        json!("x")
    );
}

#[tokio::test]
async fn developers_missing_somewhere_are_listed_and_left_out() {
    let graph = team().github("ghonly", &["acme"]);
    let app = spawn_app(graph).await;
    let answer = app.network(&["alice", "ghost", "bob", "ghonly"]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body["errors"],
        json!([
            "ghost is not a valid user in github",
            "ghost is not a valid user in twitter",
            "ghonly is not a valid user in twitter"
        ])
    );
    assert_eq!(
        answer.body["connections"],
        json!([{"developers": ["alice", "bob"], "organisations": ["acme"]}])
    );
    assert_eq!(app.register("alice", "ghonly").await.status, 404);
}

#[tokio::test]
async fn follow_lists_are_read_once_and_only_for_developers_sharing_an_organisation() {
    let app = spawn_app(team()).await;
    app.network(&["alice", "bob", "carol", "dave", "erin"])
        .await;
    let lists: Vec<String> = app
        .x
        .calls()
        .into_iter()
        .filter(|c| c.contains("/follow"))
        .collect();
    // dave shares no organisation: his list is never read; the four others once each.
    assert_eq!(lists.len(), 4, "{lists:?}");
    let mut owners: Vec<&str> = lists.iter().map(|c| c.split('/').nth(3).unwrap()).collect();
    owners.dedup();
    assert_eq!(owners.len(), 4);
    assert_eq!(
        app.github.call_count(),
        5,
        "each developer's organisations once"
    );
    assert_eq!(
        app.x
            .calls()
            .iter()
            .filter(|c| c.starts_with("/2/users/by"))
            .count(),
        1
    );
}

/// A synthetic team of `n`: everyone in one of four organisations, following the next two.
fn big_team(n: usize) -> (Graph, Vec<String>) {
    let names: Vec<String> = (0..n).map(|i| format!("dev{i:03}")).collect();
    let mut graph = Graph::new();
    for (i, name) in names.iter().enumerate() {
        let org = format!("org{}", i % 4);
        let follows = [&names[(i + 1) % n], &names[(i + 2) % n]];
        graph = graph.dev(
            name,
            &[org.as_str()],
            &[follows[0].as_str(), follows[1].as_str()],
        );
    }
    (graph, names)
}

#[tokio::test]
async fn upstream_calls_grow_linearly_with_the_team() {
    let mut per_developer = Vec::new();
    for n in [20, 40, 80] {
        let (graph, names) = big_team(n);
        let app = spawn_app(graph).await;
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let answer = app.network(&refs).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let (github, x) = (app.github.call_count(), app.x.call_count());
        println!(
            "network of {n}: {} upstream calls ({github} GitHub, {x} X), {} X users read, {} pairs",
            github + x,
            app.x.users_read(),
            n * (n - 1) / 2
        );
        assert_eq!(github, n);
        // One lookup per 100, one list per developer.
        assert_eq!(x, n.div_ceil(100) + n, "{:?}", app.x.calls());
        per_developer.push((github + x) as f64 / n as f64);
        let pairs = app.register("dev000", "dev001").await;
        assert_eq!(pairs.status, 200);
    }
    assert!(
        per_developer.windows(2).all(|w| (w[0] - w[1]).abs() < 0.1),
        "{per_developer:?}"
    );
}

#[tokio::test]
async fn bad_bodies_and_sizes_get_clear_errors() {
    let app = spawn_app(team()).await;
    let too_many: Vec<String> = (0..101).map(|i| format!("d{i}")).collect();
    for (body, status) in [
        (json!({"developers": ["alice"]}), 400),
        (json!({"developers": ["alice", "ALICE"]}), 400),
        (json!({"developers": too_many}), 400),
        (json!({"developers": "alice,bob"}), 422),
        (json!({"team": ["alice", "bob"]}), 422),
        (json!({"developers": ["alice", ""]}), 400),
    ] {
        let answer = app.post_json("/connected/network", &body).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
        assert!(answer.body["errors"][0].is_string(), "{}", answer.body);
    }
    let answer = app.network(&["alice", "bob", ""]).await;
    assert_eq!(
        answer.body,
        json!({"errors": ["developer 3: a developer handle cannot be empty"]})
    );
    let response = app
        .client
        .post(format!("{}/connected/network", app.address))
        .body(r#"{"developers": ["alice", "bob"]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    assert_eq!(app.upstream_calls(), 0);
}

#[tokio::test]
async fn an_upstream_failure_records_nothing() {
    let app = spawn_app_with(team(), |c| c.cache.ttl = std::time::Duration::ZERO).await;
    app.x
        .fail(Endpoint::FollowList, Failure::RateLimited { reset_in: 60 });
    let answer = app.network(&["alice", "bob", "carol"]).await;
    assert_eq!(answer.status, 503);
    assert!(answer.retry_after.is_some());
    assert_eq!(app.register("alice", "bob").await.status, 404);
    app.x.heal();
    app.github.fail(Endpoint::Any, Failure::Status(500));
    assert_eq!(app.network(&["alice", "bob"]).await.status, 502);
}

#[tokio::test]
async fn a_rate_limited_network_resumes_where_it_stopped_without_reading_lists_again() {
    let (graph, names) = big_team(12);
    let app = spawn_app(graph).await;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    // X answers five list reads, then is rate-limited (a reset already due, so the memory
    // of it does not hold the retry back).
    app.x.fail_after(
        Endpoint::FollowList,
        5,
        Failure::RateLimited { reset_in: 0 },
    );
    let answer = app.network(&refs).await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    let lists = |app: &crate::support::TestApp| -> Vec<String> {
        app.x
            .calls()
            .into_iter()
            .filter(|c| c.contains("/follow"))
            .collect()
    };
    let first = lists(&app);
    assert!(
        first.len() < 12,
        "the reads stop at the rate limit: {first:?}"
    );
    assert_eq!(
        app.register("dev000", "dev001").await.status,
        404,
        "nothing recorded"
    );

    app.x.heal();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let answer = app.network(&refs).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let all = lists(&app);
    let second = &all[first.len()..];
    // Pairs settled by the first attempt's lists are not asked about again.
    assert!(second.len() < 12, "{second:?}");
    assert_eq!(app.register("dev000", "dev001").await.status, 200);
}

/// `n` developers in one organisation, every one following every other.
fn close_team(n: usize) -> (Graph, Vec<String>) {
    let names: Vec<String> = (0..n).map(|i| format!("m{i:03}")).collect();
    let mut graph = Graph::new();
    for name in &names {
        let others: Vec<&str> = names
            .iter()
            .filter(|o| *o != name)
            .map(String::as_str)
            .collect();
        graph = graph.dev(name, &["acme"], &others);
    }
    (graph, names)
}

#[tokio::test]
async fn no_follow_list_is_read_twice_across_a_rate_limit() {
    let (graph, names) = close_team(12);
    let app = spawn_app(graph).await;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    app.x.fail_after(
        Endpoint::FollowList,
        5,
        Failure::RateLimited { reset_in: 0 },
    );
    assert_eq!(app.network(&refs).await.status, 503);
    app.x.heal();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let answer = app.network(&refs).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body["groups"].as_array().unwrap()[0]
            .as_array()
            .unwrap()
            .len(),
        12
    );
    // Every list answered before the limit was kept: across both requests, no list twice
    // (the calls refused by the limit aside).
    let answered: Vec<String> = app
        .x
        .calls()
        .into_iter()
        .filter(|c| c.contains("/follow"))
        .collect();
    let mut owners: Vec<&str> = answered
        .iter()
        .map(|c| c.split('/').nth(3).unwrap())
        .collect();
    let refused = answered.len() - 12;
    owners.sort_unstable();
    owners.dedup();
    assert_eq!(owners.len(), 12);
    assert!(
        refused <= 4,
        "at most the reads in flight at the limit are repeated: {answered:?}"
    );
}

#[tokio::test]
async fn a_network_cut_short_by_its_deadline_keeps_its_progress_on_githubs_graph() {
    let (graph, names) = close_team(8);
    let app = spawn_app_with(graph, |c| {
        c.upstreams.social_graph = connected::domain::Network::GitHub;
        c.upstreams.request_timeout = std::time::Duration::from_millis(400);
    })
    .await;
    app.github.set_latency(std::time::Duration::from_millis(60));
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut attempts = 0;
    let answer = loop {
        attempts += 1;
        let answer = app.network(&refs).await;
        if answer.status != 504 || attempts == 10 {
            break answer;
        }
    };
    assert_eq!(
        answer.status, 200,
        "after {attempts} attempts: {}",
        answer.body
    );
    assert!(
        attempts > 1,
        "the deadline should have cut the first attempt"
    );
    // 28 pairs, both directions each: 56 follow calls in all, none repeated.
    let follows = app
        .github
        .calls()
        .iter()
        .filter(|c| c.contains("/following/"))
        .count();
    assert!(
        follows <= 56 + 8 * attempts,
        "{follows} follow calls over {attempts} attempts"
    );
}

#[tokio::test]
async fn a_team_with_more_than_a_thousand_groups_says_so() {
    // Seven triples, everyone following everyone outside their own triple: 2,187 groups.
    let names: Vec<String> = (0..21).map(|i| format!("t{i:02}")).collect();
    let mut graph = Graph::new();
    for (i, name) in names.iter().enumerate() {
        let others: Vec<&str> = names
            .iter()
            .enumerate()
            .filter(|(j, _)| j / 3 != i / 3)
            .map(|(_, n)| n.as_str())
            .collect();
        graph = graph.dev(name, &["acme"], &others);
    }
    let app = spawn_app(graph).await;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let answer = app.network(&refs).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["groups"].as_array().unwrap().len(), 1000);
    assert_eq!(answer.body["groups_truncated"], json!(true));
    assert_eq!(answer.body["connections"].as_array().unwrap().len(), 189);
}
