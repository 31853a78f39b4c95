//! A budget holds across restarts and outages: what was spent is kept in the register's
//! database, an instance starts from it, and a Redis that comes back empty is raised to it.

use crate::fake::{Graph, Service};
use crate::keys::{Stage, get};
use crate::support::{RedisPrefix, redis_url};
use chrono::{Timelike, Utc};
use reqwest::StatusCode;

const BUDGET: u64 = 20;

/// Forty developers in one organisation: each new pair checked costs two GitHub calls.
fn crowd() -> Graph {
    (0..40).fold(Graph::new(), |graph, i| {
        graph.dev(&format!("dev{i}"), &["acme"], &[])
    })
}

/// Checks `pairs` new pairs (from `next` on) through `service`: how many were answered
/// before the GitHub budget refused one (then it stops).
async fn check_pairs(service: &Service, next: &mut usize, pairs: usize) -> usize {
    for answered in 0..pairs {
        let (a, b) = (2 * *next, 2 * *next + 1);
        *next += 1;
        let url = format!("{}/connected/realtime/dev{a}/dev{b}", service.base);
        let response = get(&url, None, &[]).await;
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            let body = response.text().await.unwrap();
            assert!(body.contains("GitHub calls an hour is spent"), "{body}");
            return answered;
        }
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "not connected");
    }
    pairs
}

/// Stops `service` as an operator does (SIGTERM), and waits for it to exit.
async fn stop(mut service: Service) {
    let pid = service.id().expect("still running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    service.wait().await.unwrap();
}

/// The hour (UTC) now: a test that spans two hours has two budgets, and proves nothing.
fn hour() -> u32 {
    Utc::now().hour()
}

/// Whether the hour (UTC) is still the one the test `started` in, so that one budget was
/// counted; then that it held: at most [`BUDGET`] `calls`, and `answered` checks as many as
/// it allowed (`expected`).
fn held_within_the_hour(started: u32, calls: u64, answered: usize, expected: usize) -> bool {
    if hour() != started {
        eprintln!("SKIPPED: the hour turned during the test");
        return false;
    }
    assert!(
        calls <= BUDGET,
        "{calls} GitHub calls on a budget of {BUDGET}"
    );
    assert_eq!(answered, expected, "the budget was used to its last call");
    true
}

#[tokio::test]
async fn a_github_budget_holds_across_restarts_with_redis_absent_or_unreachable() {
    let started = hour();
    let stage = Stage::with(crowd()).await;
    let service = || {
        stage
            .service()
            .env("BUDGET_GITHUB_CALLS_PER_HOUR", BUDGET.to_string())
    };
    let mut next = 0;
    // Eight calls, then a restart.
    let first = service().start().await;
    assert_eq!(check_pairs(&first, &mut next, 4).await, 4);
    stop(first).await;
    // Six more on an instance whose Redis cannot be reached: the database's figure holds.
    let unreachable = service()
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .start()
        .await;
    assert_eq!(check_pairs(&unreachable, &mut next, 3).await, 3);
    stop(unreachable).await;
    // Then as many as the budget still allows, and no more.
    let last = service().start().await;
    let answered = check_pairs(&last, &mut next, 20).await;
    let calls = stage.github.call_count() as u64;
    eprintln!(
        "GitHub calls across two restarts (no Redis, then Redis unreachable) against a budget of {BUDGET}: {calls}"
    );
    if !held_within_the_hour(started, calls, answered, 3) {
        return;
    }
}

#[tokio::test]
async fn a_github_budget_holds_when_redis_comes_back_empty() {
    let Some(prefix) = RedisPrefix::new().await else {
        return;
    };
    let started = hour();
    let stage = Stage::with(crowd()).await;
    let service = stage
        .service()
        .env("BUDGET_GITHUB_CALLS_PER_HOUR", BUDGET.to_string())
        .env("REDIS_URL", redis_url())
        .env("REDIS_PREFIX", &prefix.0)
        .start()
        .await;
    let mut next = 0;
    assert_eq!(check_pairs(&service, &mut next, 6).await, 6);
    // Redis restarts empty: the budget's count is gone from it.
    prefix.delete_keys().await;
    let answered = check_pairs(&service, &mut next, 20).await;
    let calls = stage.github.call_count() as u64;
    eprintln!("GitHub calls across an emptied Redis against a budget of {BUDGET}: {calls}");
    if !held_within_the_hour(started, calls, answered, 4) {
        return;
    }
    // A new instance, started once the figure is written (every two seconds), starts from
    // it too.
    let database = sqlx::SqlitePool::connect(&stage.database).await.unwrap();
    let written = async || -> i64 {
        sqlx::query_scalar(
            "SELECT COALESCE(SUM(units), 0) FROM budget_spent WHERE counter = 'service:github_calls_per_hour'",
        )
        .fetch_one(&database)
        .await
        .unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while written().await < 20 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let another = stage
        .service()
        .env("BUDGET_GITHUB_CALLS_PER_HOUR", BUDGET.to_string())
        .env("REDIS_URL", redis_url())
        .env("REDIS_PREFIX", &prefix.0)
        .start()
        .await;
    prefix.delete_keys().await;
    assert_eq!(check_pairs(&another, &mut next, 1).await, 0);
    assert_eq!(stage.github.call_count() as u64, calls);
}

/// `connected check A B` against the stage's fakes, under the GitHub budget: its exit code
/// and standard error.
async fn cli_check(stage: &Stage, a: &str, b: &str) -> (i32, String) {
    let out = tokio::process::Command::new(crate::cli::BIN)
        .args(["check", a, b])
        .env_clear()
        .env("DATABASE_URL", &stage.database)
        .env("GITHUB_API_URL", &stage.github.url)
        .env("TWITTER_API_URL", &stage.x.url)
        .env("TWITTER_BEARER_TOKEN", crate::fake::X_TOKEN)
        .env("BUDGET_GITHUB_CALLS_PER_HOUR", "4")
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn what_a_command_spent_is_kept_for_the_next_run() {
    let started = hour();
    let stage = Stage::with(crowd()).await;
    // Two calls a check, four an hour: the third run finds the budget spent by the first two,
    // each of which ended at once.
    let (first, _) = cli_check(&stage, "dev0", "dev1").await;
    let (second, _) = cli_check(&stage, "dev2", "dev3").await;
    let (third, refused) = cli_check(&stage, "dev4", "dev5").await;
    if hour() != started {
        eprintln!("the hour turned during the test: its budgets differ, nothing is proved");
        return;
    }
    assert_eq!((first, second), (1, 1), "not connected, answered");
    assert_ne!(third, 1, "{refused}");
    assert!(
        refused.contains("GitHub calls an hour is spent"),
        "{refused}"
    );
    assert_eq!(stage.github.call_count(), 4);
}
