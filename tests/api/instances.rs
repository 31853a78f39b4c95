//! Several instances on one PostgreSQL database, under load, stopped and killed: nothing
//! answered is lost, nothing is recorded twice, nothing failed is recorded.

use crate::fake::{self, Endpoint, Failure, Graph, Service, ServiceCommand, X_TOKEN};
use crate::support::TestDatabase;
use futures::StreamExt;
use sqlx::Connection;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_connected");

async fn start(github: &str, x: &str, database: &str) -> Service {
    ServiceCommand::new(BIN)
        .env("GITHUB_API_URL", github)
        .env("TWITTER_API_URL", x)
        .env("TWITTER_BEARER_TOKEN", X_TOKEN)
        .env("DATABASE_URL", database)
        .env("SHUTDOWN_GRACE", "10s")
        .start()
        .await
}

fn signal(instance: &Service, name: &str) {
    let pid = instance.id().expect("still running").to_string();
    assert!(
        std::process::Command::new("kill")
            .args([name, &pid])
            .status()
            .unwrap()
            .success()
    );
}

/// One answer: the pair asked, the status, and whether the body said connected.
#[derive(Debug, Clone)]
struct Answered {
    pair: (String, String),
    status: u16,
}

/// Sends every request with `in_flight` at once; `Err` for a request that got no answer.
/// With `fresh`, each check asks the upstreams (`Cache-Control: no-cache`).
async fn fire(
    client: &reqwest::Client,
    requests: Vec<(String, (String, String))>,
    in_flight: usize,
    fresh: bool,
) -> Vec<Result<Answered, String>> {
    futures::stream::iter(requests)
        .map(|(base, (a, b))| {
            let client = client.clone();
            async move {
                let mut request = client.get(format!("{base}/connected/realtime/{a}/{b}"));
                if fresh {
                    request = request.header("cache-control", "no-cache");
                }
                let response = request.send().await.map_err(|e| e.to_string())?;
                let status = response.status().as_u16();
                let body: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
                if status == 200 || status == 404 {
                    assert_eq!(
                        body["connected"],
                        serde_json::json!(status == 200),
                        "{body}"
                    );
                }
                Ok(Answered {
                    pair: (a, b),
                    status,
                })
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await
}

fn key(pair: &(String, String)) -> (String, String) {
    let (a, b) = (pair.0.to_lowercase(), pair.1.to_lowercase());
    if a <= b { (a, b) } else { (b, a) }
}

/// Recorded verdicts per (canonical pair, connected).
async fn recorded(database: &str) -> HashMap<((String, String), bool), i64> {
    let mut conn = sqlx::PgConnection::connect(database).await.unwrap();
    let rows: Vec<(String, String, bool, i64)> = sqlx::query_as(
        "SELECT developer_a, developer_b, connected, count(*) FROM checks GROUP BY 1, 2, 3",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(a, b, c, n)| (((a, b), c), n))
        .collect()
}

fn tally(answers: &[Result<Answered, String>]) -> HashMap<((String, String), bool), i64> {
    let mut counts = HashMap::new();
    for answer in answers.iter().flatten() {
        if answer.status == 200 || answer.status == 404 {
            *counts
                .entry((key(&answer.pair), answer.status == 200))
                .or_default() += 1;
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_under_load_lose_nothing_record_nothing_twice_and_stop_cleanly() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };

    // 20 pairs: a third connected, a third sharing no organisation, a third following one
    // way; then pairs that must never be recorded (missing user, GitHub 500, GitHub rate
    // limit); and separate pairs for the phase in which an instance is killed.
    let mut graph = Graph::new();
    let mut pairs = Vec::new();
    for i in 0..20 {
        let (a, b) = (format!("a{i:02}"), format!("b{i:02}"));
        let (orgs_b, b_follows): (&[&str], &[&str]) = match i % 3 {
            0 => (&["other"], &[]),
            1 => (&["acme"], &[]),
            _ => (&["acme"], &[]),
        };
        let b_follows_a = if i % 3 == 1 {
            vec![a.as_str()]
        } else {
            b_follows.to_vec()
        };
        graph = graph
            .dev(&a, &["acme"], &[&b])
            .dev(&b, orgs_b, &b_follows_a);
        pairs.push((a, b));
    }
    graph = graph
        .dev("broken", &["acme"], &[])
        .dev("limited", &["acme"], &[]);
    let never = vec![
        ("ghost".to_owned(), "a01".to_owned()),
        ("broken".to_owned(), "a04".to_owned()),
        ("limited".to_owned(), "a07".to_owned()),
    ];
    let mut killed_pairs = Vec::new();
    for i in 0..8 {
        let (a, b) = (format!("k{i}"), format!("m{i}"));
        graph = graph.dev(&a, &["acme"], &[&b]).dev(&b, &["acme"], &[&a]);
        killed_pairs.push((a, b));
    }
    let github = fake::github(graph.clone()).await;
    let x = fake::x(graph).await;
    github.fail_user("broken", Failure::Status(500));
    // GitHub's limit is per token: while it lasts, each instance answers every check that
    // needs GitHub with a 503 at once. Short, so the later phases see it reset.
    github.fail_user("limited", Failure::RateLimited { reset_in: 1 });

    let (mut a, mut b) = tokio::join!(
        start(&github.url, &x.url, &db.url),
        start(&github.url, &x.url, &db.url)
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();

    // Phase 1: 1,000 checks over 23 pairs, 64 in flight, alternating instances.
    let all: Vec<_> = pairs.iter().chain(never.iter()).cloned().collect();
    let requests: Vec<_> = (0..1000)
        .map(|n| {
            let base = if n % 2 == 0 { &a.base } else { &b.base };
            (base.clone(), all[n % all.len()].clone())
        })
        .collect();
    let started = Instant::now();
    let mut answers = fire(&client, requests, 64, false).await;
    let took = started.elapsed();
    println!(
        "two instances sustained {:.0} checks/s (1,000 checks, 64 in flight)",
        1000.0 / took.as_secs_f64()
    );
    assert!(
        answers.iter().all(Result::is_ok),
        "every check is answered while both run"
    );
    let statuses: Vec<u16> = answers.iter().flatten().map(|a| a.status).collect();
    for status in [200, 404, 400, 502, 503] {
        assert!(statuses.contains(&status), "the load covers {status}");
    }

    // Phase 2: SIGTERM to A with 64 slow checks in flight (fresh, so they wait on X): every
    // one is answered, A exits 0. First, GitHub's rate limit resets.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    x.fail(Endpoint::Any, Failure::Hang(Duration::from_millis(300)));
    let calls_before = x.call_count();
    let in_flight: Vec<_> = (0..64)
        .map(|n| (a.base.clone(), pairs[n % pairs.len()].clone()))
        .collect();
    let draining = tokio::spawn({
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        async move { fire(&client, in_flight, 64, true).await }
    });
    // SIGTERM once every one of them is being served (its X lookup has arrived, and hangs),
    // so "accepted before SIGTERM" holds however loaded the machine is.
    let waiting = Instant::now();
    while x.call_count() < calls_before + 64 && waiting.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    signal(&a, "-TERM");
    let drained = draining.await.unwrap();
    assert!(
        drained
            .iter()
            .all(|r| r.as_ref().is_ok_and(|a| a.status == 200 || a.status == 404)),
        "a request accepted before SIGTERM went unanswered: {:?}",
        drained.iter().find(|r| r.is_err())
    );
    let exit = tokio::time::timeout(Duration::from_secs(12), a.wait())
        .await
        .expect("A exits within the grace period")
        .unwrap();
    assert_eq!(exit.code(), Some(0));
    answers.extend(drained);

    // Phase 3: SIGKILL to B mid-load, with checks finishing in waves (8 in flight, 50 ms per
    // X call): whatever B answered before it died is in the register.
    x.fail(Endpoint::Any, Failure::Hang(Duration::from_millis(50)));
    let doomed: Vec<_> = (0..64)
        .map(|n| (b.base.clone(), killed_pairs[n % killed_pairs.len()].clone()))
        .collect();
    let killing = tokio::spawn({
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        async move { fire(&client, doomed, 8, true).await }
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    signal(&b, "-KILL");
    let killed = killing.await.unwrap();
    let _ = b.wait().await;

    // The register against what was answered.
    let stored = recorded(&db.url).await;
    let expected = tally(&answers);
    let killed_answers = tally(&killed);
    for (k, n) in &expected {
        assert_eq!(
            stored.get(k),
            Some(n),
            "pair {k:?}: answered {n} times, stored {:?}",
            stored.get(k)
        );
    }
    for (k, n) in &stored {
        let is_killed_pair = killed_pairs.iter().any(|p| key(p) == k.0);
        if is_killed_pair {
            let answered = killed_answers.get(k).copied().unwrap_or(0);
            assert!(*n >= answered, "{k:?}: {answered} answered but {n} stored");
            assert!(*n <= 64);
        } else {
            assert_eq!(
                expected.get(k),
                Some(n),
                "{k:?} stored {n} times, answered {:?}",
                expected.get(k)
            );
        }
    }
    for pair in &never {
        assert!(
            !stored.keys().any(|(p, _)| *p == key(pair)),
            "{pair:?} must never be recorded"
        );
    }
    let answered_before_kill = killed.iter().flatten().filter(|a| a.status == 200).count();
    println!(
        "SIGKILL: {answered_before_kill} of 64 answered before the kill, all of them in the register"
    );
}
