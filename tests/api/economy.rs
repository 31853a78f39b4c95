//! Every upstream call counts: cached facts, shared loads, conditional requests, the memory
//! of rate limits, fresh reads on request, and the cache shared through Redis.

use crate::fake::{Endpoint, Failure, Graph};
use crate::support::{TestApp, spawn_app, spawn_app_with};
use connected::secret::Secret;
use serde_json::json;
use std::time::Duration;

fn pair() -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"])
        .dev("carol", &["acme"], &["alice"])
}

#[tokio::test]
async fn a_repeated_check_within_the_ttl_makes_no_upstream_call() {
    let app = spawn_app(pair()).await;
    assert_eq!(app.realtime("alice", "bob").await.status, 200);
    assert_eq!(app.upstream_calls(), 5);
    for (a, b) in [("alice", "bob"), ("BOB", "Alice")] {
        assert_eq!(app.realtime(a, b).await.status, 200);
    }
    assert_eq!(
        app.upstream_calls(),
        5,
        "{:?} {:?}",
        app.github.calls(),
        app.x.calls()
    );
    // Every check is still recorded.
    assert_eq!(
        app.register("alice", "bob")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn fifty_identical_cold_checks_at_once_cost_what_one_costs() {
    let app = spawn_app(pair()).await;
    // Slow upstreams, so the fifty really overlap.
    app.github.set_latency(Duration::from_millis(100));
    app.x.set_latency(Duration::from_millis(100));
    let checks = (0..50).map(|_| app.realtime("alice", "bob"));
    let answers = futures::future::join_all(checks).await;
    assert!(answers.iter().all(|a| a.status == 200));
    assert!(
        app.upstream_calls() <= 5,
        "{} calls: {:?} {:?}",
        app.upstream_calls(),
        app.github.calls(),
        app.x.calls()
    );
    assert_eq!(
        app.register("alice", "bob")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        50
    );
}

#[tokio::test]
async fn a_missing_user_is_remembered_for_the_not_found_ttl_only() {
    let app = spawn_app_with(pair(), |c| {
        c.cache.ttl_not_found = Duration::from_millis(300)
    })
    .await;
    assert_eq!(app.realtime("ghost", "alice").await.status, 400);
    let after_first = app.upstream_calls();
    assert_eq!(app.realtime("ghost", "alice").await.status, 400);
    assert_eq!(app.upstream_calls(), after_first, "the not-found is cached");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(app.realtime("ghost", "alice").await.status, 400);
    let ghost_calls = app
        .github
        .calls()
        .iter()
        .filter(|c| c.contains("/users/ghost/"))
        .count();
    assert_eq!(ghost_calls, 2, "asked again once the not-found expired");
}

#[tokio::test]
async fn failures_are_never_cached() {
    let app = spawn_app(pair()).await;
    app.github.fail(Endpoint::Any, Failure::Status(500));
    assert_eq!(app.realtime("alice", "bob").await.status, 502);
    app.github.heal();
    assert_eq!(app.realtime("alice", "bob").await.status, 200);
}

#[tokio::test]
async fn an_expired_organisation_list_is_revalidated_with_its_etag() {
    let app = spawn_app_with(pair(), |c| c.cache.ttl = Duration::from_millis(300)).await;
    assert_eq!(app.realtime("alice", "bob").await.status, 200);
    assert_eq!(app.github.not_modified(), 0);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(
        answer.body,
        json!({"connected": true, "organisations": ["acme"]})
    );
    // Both lists came back 304: nothing changed, no rate limit spent.
    assert_eq!(app.github.not_modified(), 2);
    let conditional = app.github.if_none_match();
    assert_eq!(conditional.len(), 4);
    assert!(
        conditional[..2].iter().all(Option::is_none)
            && conditional[2..].iter().all(Option::is_some)
    );

    // A change on GitHub is seen through the same revalidation.
    app.github
        .set_graph(Graph::new().dev("alice", &["acme", "newco"], &["bob"]).dev(
            "bob",
            &["newco"],
            &["alice"],
        ));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(
        answer.body,
        json!({"connected": true, "organisations": ["newco"]})
    );
}

#[tokio::test]
async fn a_rate_limit_is_remembered_until_it_resets() {
    let app = spawn_app(pair()).await;
    app.github
        .fail(Endpoint::Any, Failure::RateLimited { reset_in: 120 });
    assert_eq!(app.realtime("alice", "bob").await.status, 503);
    let calls = app.github.call_count();
    // Another pair, nothing cached: GitHub is not asked until the reset.
    let answer = app.realtime("carol", "bob").await;
    assert_eq!(answer.status, 503);
    let secs: u64 = answer.retry_after.unwrap().parse().unwrap();
    assert!((110..=120).contains(&secs), "Retry-After {secs}");
    assert_eq!(
        answer.body,
        json!({"errors": [format!("github rate limit exceeded; retry after {secs} s")]})
    );
    assert_eq!(
        app.github.call_count(),
        calls,
        "no GitHub call while rate-limited"
    );
}

#[tokio::test]
async fn a_rate_limited_follow_list_does_not_block_checks_that_need_none() {
    let graph = pair().dev("dave", &["elsewhere"], &["alice"]);
    let app = spawn_app(graph).await;
    app.x
        .fail(Endpoint::FollowList, Failure::RateLimited { reset_in: 600 });
    assert_eq!(app.realtime("alice", "bob").await.status, 503);
    let lists = app.x.calls().len();
    assert_eq!(app.realtime("alice", "carol").await.status, 503);
    assert_eq!(
        app.x.calls().len(),
        lists + 1,
        "only the lookup of carol, no follow list"
    );
    // No shared organisation: no follow list needed, a real answer.
    assert_eq!(app.realtime("alice", "dave").await.status, 404);
}

#[tokio::test]
async fn no_cache_reads_upstream_again_and_refreshes_the_cache() {
    let app = spawn_app(pair()).await;
    assert_eq!(app.realtime("alice", "bob").await.status, 200);
    assert_eq!(app.upstream_calls(), 5);
    // bob unfollows alice; a cached check does not see it, a fresh one does.
    let changed = Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &[])
        .dev("carol", &["acme"], &["alice"]);
    app.x.set_graph(changed.clone());
    app.github.set_graph(changed);
    assert_eq!(app.realtime("alice", "bob").await.status, 200);
    assert_eq!(app.upstream_calls(), 5);
    assert_eq!(app.realtime_fresh("alice", "bob").await.status, 404);
    assert!(app.upstream_calls() > 5);
    // What the fresh check read is what the cache now holds.
    let calls = app.upstream_calls();
    assert_eq!(app.realtime("alice", "bob").await.status, 404);
    assert_eq!(app.upstream_calls(), calls);
}

#[tokio::test]
async fn a_zero_ttl_turns_the_cache_off() {
    let app = spawn_app_with(pair(), |c| c.cache.ttl = Duration::ZERO).await;
    app.realtime("alice", "bob").await;
    app.realtime("alice", "bob").await;
    assert_eq!(app.upstream_calls(), 10);
}

#[tokio::test]
async fn metrics_count_requests_upstream_calls_cache_lookups_and_users_read() {
    let app = spawn_app(pair()).await;
    app.realtime("alice", "bob").await;
    app.realtime("alice", "bob").await;
    app.get("/no/such/page").await;
    let text = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        r#"connected_upstream_calls_total{network="github",endpoint="orgs",outcome="ok"} 2"#,
        r#"connected_upstream_calls_total{network="x",endpoint="users_by",outcome="ok"} 1"#,
        r#"connected_cache_lookups_total{cache="github_orgs",result="hit"} 2"#,
        r#"connected_cache_lookups_total{cache="github_orgs",result="miss"} 2"#,
        r#"connected_http_requests_total{route="/connected/realtime/{dev1}/{dev2}",method="GET",status="200"} 2"#,
        "connected_x_users_read_total 2",
        r#"connected_http_requests_total{route="unmatched",method="GET",status="404"} 1"#,
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
}

// ---------------------------------------------------------------- shared through Redis

use crate::support::{RedisPrefix, redis_url};

async fn instance(graph: Graph, prefix: &str) -> TestApp {
    let prefix = prefix.to_owned();
    spawn_app_with(graph, |c| {
        c.redis.url = Some(Secret::new(redis_url()));
        c.redis.prefix = prefix;
    })
    .await
}

#[tokio::test]
async fn a_second_instance_reuses_what_the_first_fetched_through_redis() {
    let Some(prefix) = RedisPrefix::new().await else {
        return;
    };
    let a = instance(pair(), &prefix.0).await;
    let b = instance(pair(), &prefix.0).await;
    assert_eq!(a.realtime("alice", "bob").await.status, 200);
    assert_eq!(a.upstream_calls(), 5);
    let answer = b.realtime("bob", "alice").await;
    assert_eq!(
        answer.body,
        json!({"connected": true, "organisations": ["acme"]})
    );
    assert_eq!(
        b.upstream_calls(),
        0,
        "b asked {:?} {:?}",
        b.github.calls(),
        b.x.calls()
    );
    let keys = prefix.keys().await;
    assert!(
        keys.iter().all(|k| k.starts_with(&prefix.0)) && keys.len() >= 5,
        "{keys:?}"
    );
}

#[tokio::test]
async fn a_rate_limit_met_by_one_instance_holds_for_the_other() {
    let Some(prefix) = RedisPrefix::new().await else {
        return;
    };
    let a = instance(pair(), &prefix.0).await;
    let b = instance(pair(), &prefix.0).await;
    a.x.fail(Endpoint::Lookup, Failure::RateLimited { reset_in: 300 });
    assert_eq!(a.realtime("alice", "bob").await.status, 503);
    let answer = b.realtime("carol", "bob").await;
    assert_eq!(answer.status, 503);
    assert!(answer.retry_after.is_some());
    assert_eq!(b.x.call_count(), 0, "b did not ask X");
}

#[tokio::test]
async fn redis_being_down_degrades_to_the_process_cache() {
    let app = spawn_app_with(pair(), |c| {
        c.redis.url = Some(Secret::new("redis://127.0.0.1:1"));
    })
    .await;
    assert_eq!(app.realtime("alice", "bob").await.status, 200);
    assert_eq!(app.realtime("alice", "bob").await.status, 200);
    assert_eq!(app.upstream_calls(), 5, "the in-process cache still works");
}

#[tokio::test]
async fn a_list_that_grows_past_a_full_page_is_not_cut_by_revalidation() {
    let hundred: Vec<String> = (0..100).map(|i| format!("org-{i:03}")).collect();
    let orgs: Vec<&str> = hundred.iter().map(String::as_str).collect();
    let graph = Graph::new()
        .dev("alice", &orgs, &["bob"])
        .dev("bob", &["late"], &["alice"]);
    let app = spawn_app_with(graph, |c| c.cache.ttl = Duration::from_millis(200)).await;
    assert_eq!(app.realtime("alice", "bob").await.status, 404);
    // alice joins a 101st organisation, the one bob is in: it lands on a new page 2 while
    // page 1 stays byte for byte the same.
    let mut grown = orgs.clone();
    grown.push("late");
    let graph = Graph::new()
        .dev("alice", &grown, &["bob"])
        .dev("bob", &["late"], &["alice"]);
    app.github.set_graph(graph.clone());
    app.x.set_graph(graph);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(
        answer.body,
        json!({"connected": true, "organisations": ["late"]})
    );
}

#[tokio::test]
async fn a_secondary_rate_limit_said_only_in_the_body_is_a_rate_limit_too() {
    let app = spawn_app(pair()).await;
    app.github.fail(Endpoint::Any, Failure::SecondaryLimit);
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(answer.retry_after.as_deref(), Some("60"));
    let calls = app.github.call_count();
    assert_eq!(app.realtime("carol", "bob").await.status, 503);
    assert_eq!(
        app.github.call_count(),
        calls,
        "GitHub is left alone for the minute"
    );
}
