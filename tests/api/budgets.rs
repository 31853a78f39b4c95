//! Spend budgets through the real binary: a read a budget cannot pay for is not made, a
//! follow list is asked no more users than are left, and cached facts stay free.

use crate::fake::Graph;
use crate::keys::{Stage, errors, get, header};
use crate::support::{RedisPrefix, redis_url};
use reqwest::StatusCode;

/// Alice and Bob follow each other, but Bob's follow of Alice is only found at the end of a
/// list of 5,001 users, however it is read.
fn long_lists() -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"])
        .dev("carol", &["acme"], &[])
        .pad_following("bob", 5000)
        .pad_followers("alice", 5000)
}

/// X users billed so far: those returned by follow lists, and by the two lookups' users.
fn billed(stage: &Stage, looked_up: u64) -> u64 {
    stage.x.users_read() + looked_up
}

#[tokio::test]
async fn a_service_budget_meeting_a_long_follow_list_is_never_overrun() {
    let stage = Stage::with(long_lists()).await;
    let service = stage
        .service()
        .env("BUDGET_X_USERS_PER_DAY", "1500")
        .start()
        .await;
    let url = format!("{}/connected/realtime/alice/bob", service.base);
    let response = get(&url, None, &[]).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let wait: u64 = header(&response, "retry-after").parse().unwrap();
    assert!((1..=86_400).contains(&wait));
    assert_eq!(
        errors(response).await,
        [format!(
            "the service's budget of 1500 X users a day is spent; retry after {wait} s"
        )]
    );
    let spent = billed(&stage, 2);
    eprintln!("a budget of 1500 X users met a follow list of 5,001: {spent} users billed");
    assert!(spent <= 1500, "billed {spent} users on a budget of 1500");
    assert!(
        spent >= 1490,
        "the last page asked for what was left: {spent}"
    );
    assert_eq!(
        spent, 1500,
        "the budget was used to its last user, and no further"
    );
    let asked: Vec<u64> = stage
        .x
        .calls()
        .iter()
        .filter_map(|call| call.split("max_results=").nth(1))
        .map(|rest| rest.split('&').next().unwrap().parse().unwrap())
        .collect();
    let last = *asked.last().unwrap();
    assert!(
        last < 1000,
        "the last page asked for what was left: {asked:?}"
    );

    // Spent: no further X call is made, and nothing was recorded.
    let calls = stage.x.call_count();
    let again = get(&url, None, &[]).await;
    assert_eq!(again.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(stage.x.call_count(), calls);
    let register = get(
        &format!("{}/connected/register/alice/bob", service.base),
        None,
        &[],
    )
    .await;
    assert_eq!(register.status(), StatusCode::NOT_FOUND);
    let metrics = get(&format!("{}/metrics", service.base), None, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"connected_budget_remaining{budget="x_users_per_day"} 0"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_keys_own_budget_refuses_it_with_429_and_leaves_other_keys_alone() {
    let stage = Stage::with(long_lists()).await;
    let service = stage.service().env("AUTH", "keys").start().await;
    let small = stage.keys(&["create", "small", "--x-users-per-day", "1500"]);
    let big = stage.keys(&["create", "big"]);
    let url = format!("{}/connected/realtime/alice/bob", service.base);
    let response = get(&url, Some(&small), &[]).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let message = errors(response).await.remove(0);
    assert!(
        message.starts_with("the API key's budget of 1500 X users a day is spent; retry after "),
        "{message}"
    );
    assert!(billed(&stage, 2) <= 1500);
    // Another key pays for itself: the list is read to its end.
    let response = get(&url, Some(&big), &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_github_budget_refuses_before_calling_and_cached_facts_stay_free() {
    let stage = Stage::with(long_lists()).await;
    let service = stage
        .service()
        .env("BUDGET_GITHUB_CALLS_PER_HOUR", "2")
        .start()
        .await;
    // Alice and Carol: two GitHub calls, and Carol follows nobody (a short list).
    let first = format!("{}/connected/realtime/alice/carol", service.base);
    assert_eq!(get(&first, None, &[]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(stage.github.call_count(), 2);
    // Bob's organisations would be a third call: refused without making it.
    let response = get(
        &format!("{}/connected/realtime/bob/carol", service.base),
        None,
        &[],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let message = errors(response).await.remove(0);
    assert!(
        message.starts_with("the service's budget of 2 GitHub calls an hour is spent"),
        "{message}"
    );
    assert_eq!(stage.github.call_count(), 2);
    // What is cached costs nothing and is served.
    assert_eq!(get(&first, None, &[]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(stage.github.call_count(), 2);
}

#[tokio::test]
async fn two_instances_sharing_redis_share_one_budget() {
    let Some(prefix) = RedisPrefix::new().await else {
        return;
    };
    let stage = Stage::with(long_lists()).await;
    let start = || {
        stage
            .service()
            .env("BUDGET_GITHUB_CALLS_PER_HOUR", "2")
            .env("REDIS_URL", redis_url())
            .env("REDIS_PREFIX", &prefix.0)
            .start()
    };
    let (a, b) = (start().await, start().await);
    let first = format!("{}/connected/realtime/alice/carol", a.base);
    assert_eq!(get(&first, None, &[]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(stage.github.call_count(), 2);
    // The other instance finds the budget spent: Bob's organisations are not asked for.
    let second = format!("{}/connected/realtime/bob/carol", b.base);
    let response = get(&second, None, &[]).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(stage.github.call_count(), 2);
}

#[tokio::test]
async fn a_key_never_gets_another_keys_budget_refusal_from_a_shared_load() {
    let graph = (0..6).fold(Graph::new(), |graph, i| {
        graph
            .dev(&format!("a{i}"), &["acme"], &[&format!("b{i}")])
            .dev(&format!("b{i}"), &["acme"], &[&format!("a{i}")])
    });
    let stage = Stage::with(graph).await;
    stage.x.set_latency(std::time::Duration::from_millis(100));
    let service = stage.service().env("AUTH", "keys").start().await;
    // Enough for a lookup of two and one page of one user (100 ms at X), not for the other
    // direction's page: the refusal comes while the other key waits on the same load.
    let small = stage.keys(&["create", "small", "--x-users-per-day", "3"]);
    let big = stage.keys(&["create", "big"]);
    for i in 0..6 {
        let url = format!("{}/connected/realtime/a{i}/b{i}", service.base);
        let (small_answer, big_answer) =
            tokio::join!(get(&url, Some(&small), &[]), get(&url, Some(&big), &[]));
        assert_eq!(big_answer.status(), StatusCode::OK, "pair {i}");
        assert!(
            matches!(small_answer.status().as_u16(), 200 | 429),
            "pair {i}: {}",
            small_answer.status()
        );
    }
}
