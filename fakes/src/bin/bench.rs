//! `connected-bench`: the release `connected` binary against the project's fake GitHub and X
//! (real HTTP, real wire formats, a latency of choice, synthetic graphs), scenario by
//! scenario, counting the upstream calls and X users read, and timing the answers.
//!
//! ```sh
//! cargo build --release --locked
//! cargo run --release -p connected-fakes --bin connected-bench -- [--binary PATH] [--duration 10s]
//! ```
//!
//! Scenario 6 uses `wrk` when it is installed (Debian: `apt-get install wrk`) and a built-in
//! load generator otherwise. Nothing leaves the machine.

use connected_fakes::{self as fake, Fake, Graph, ServiceCommand, X_TOKEN};
use futures::StreamExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

struct Options {
    binary: PathBuf,
    duration: Duration,
}

fn options() -> Options {
    let mut options = Options {
        binary: PathBuf::from("target/release/connected"),
        duration: Duration::from_secs(10),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--binary" => options.binary = args.next().map(PathBuf::from).unwrap_or(options.binary),
            "--duration" => {
                let secs: u64 = args
                    .next()
                    .and_then(|d| d.trim_end_matches('s').parse().ok())
                    .unwrap_or(10);
                options.duration = Duration::from_secs(secs);
            }
            "-h" | "--help" => {
                println!("connected-bench [--binary target/release/connected] [--duration 10s]");
                std::process::exit(0);
            }
            other => {
                eprintln!("unknown argument {other}; see --help");
                std::process::exit(2);
            }
        }
    }
    options
}

/// One `connected serve` with a fresh register and an empty cache.
struct Service {
    service: fake::Service,
    base: String,
    _dir: tempfile::TempDir,
}

impl Service {
    async fn start(options: &Options, github: &Fake, x: &Fake) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        assert!(
            options.binary.exists(),
            "cannot run {}: it does not exist (build it with cargo build --release)",
            options.binary.display()
        );
        let service = ServiceCommand::new(&options.binary)
            .current_dir(dir.path())
            .env("GITHUB_API_URL", &github.url)
            .env("TWITTER_API_URL", &x.url)
            .env("TWITTER_BEARER_TOKEN", X_TOKEN)
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", dir.path().join("bench.db").display()),
            )
            .log_level("error")
            .show_log(true)
            .start()
            .await;
        Self {
            base: service.base.clone(),
            service,
            _dir: dir,
        }
    }

    /// Peak resident memory so far, in MB.
    fn peak_memory_mb(&self) -> Option<f64> {
        let pid = self.service.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    }
}

/// A fresh pair of fakes on a graph.
async fn fakes(graph: Graph) -> (Fake, Fake) {
    (fake::github(graph.clone()).await, fake::x(graph).await)
}

fn calls(github: &Fake, x: &Fake) -> usize {
    github.call_count() + x.call_count()
}

/// One scenario's line in the report.
struct Row {
    scenario: String,
    calls: String,
    users_read: String,
    p50: String,
    p99: String,
    rate: String,
    target: String,
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

async fn check(client: &reqwest::Client, base: &str, a: &str, b: &str) -> (u16, Duration) {
    let started = Instant::now();
    let status = client
        .get(format!("{base}/connected/realtime/{a}/{b}"))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    (status, started.elapsed())
}

/// `n` checks of one pair, `concurrency` at once: sorted latencies and requests/s.
async fn load(
    client: &reqwest::Client,
    base: &str,
    pair: (&str, &str),
    n: usize,
    concurrency: usize,
) -> (Vec<Duration>, f64, usize) {
    let started = Instant::now();
    let results: Vec<(u16, Duration)> = futures::stream::iter(0..n)
        .map(|_| check(client, base, pair.0, pair.1))
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let failures = results
        .iter()
        .filter(|(s, _)| *s != 200 && *s != 404)
        .count();
    let mut latencies: Vec<Duration> = results.into_iter().map(|(_, d)| d).collect();
    latencies.sort();
    (latencies, n as f64 / elapsed.as_secs_f64(), failures)
}

/// A load of `duration` on `url` with 50 connections: wrk when installed, else built in.
async fn hammer(url: &str, duration: Duration) -> (String, String, String, &'static str) {
    let wrk = std::process::Command::new("wrk")
        .args([
            "-t2",
            "-c50",
            &format!("-d{}s", duration.as_secs()),
            "--latency",
            url,
        ])
        .output();
    if let Ok(out) = wrk
        && out.status.success()
    {
        let text = String::from_utf8_lossy(&out.stdout);
        let find = |prefix: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(prefix))
                .and_then(|l| l.split_whitespace().nth(1))
                .unwrap_or("?")
                .to_owned()
        };
        let rate = text
            .lines()
            .find(|l| l.starts_with("Requests/sec:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(|r| format!("{:.0}", r.parse::<f64>().unwrap_or(0.0)))
            .unwrap_or_else(|| "?".to_owned());
        return (find("50%"), find("99%"), rate, "wrk -t2 -c50");
    }
    let client = reqwest::Client::new();
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let workers = (0..50).map(|_| {
        let client = client.clone();
        let url = url.to_owned();
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                if client.get(&url).send().await.is_ok() {
                    latencies.push(t.elapsed());
                }
            }
            latencies
        })
    });
    let mut latencies: Vec<Duration> = futures::future::join_all(workers)
        .await
        .into_iter()
        .flat_map(Result::unwrap_or_default)
        .collect();
    latencies.sort();
    let rate = latencies.len() as f64 / started.elapsed().as_secs_f64();
    (
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        format!("{rate:.0}"),
        "built-in, 50 connections",
    )
}

#[tokio::main]
async fn main() {
    let options = options();
    // Absolute, since each service runs in a directory of its own.
    let Ok(binary) = options.binary.canonicalize() else {
        eprintln!(
            "{} does not exist: run cargo build --release --locked first",
            options.binary.display()
        );
        std::process::exit(2);
    };
    let options = Options { binary, ..options };
    let client = reqwest::Client::new();
    let mut rows = Vec::new();

    // 1. Cold checks, small lists.
    let graph = Graph::new()
        .dev("ann", &["acme"], &["ben"])
        .dev("ben", &["acme"], &["ann"])
        .dev("cat", &["acme"], &["dan"])
        .dev("dan", &["other"], &["cat"]);
    let (github, x) = fakes(graph).await;
    let service = Service::start(&options, &github, &x).await;
    let (status, took) = check(&client, &service.base, "ann", "ben").await;
    assert_eq!(status, 200, "ann and ben are connected");
    rows.push(Row {
        scenario: "1a. one cold connected check".into(),
        calls: calls(&github, &x).to_string(),
        users_read: x.users_read().to_string(),
        p50: ms(took),
        p99: "—".into(),
        rate: "—".into(),
        target: format!(
            "≤ 5 calls: {}",
            if calls(&github, &x) <= 5 {
                "holds"
            } else {
                "MISSED"
            }
        ),
    });
    let before = (calls(&github, &x), x.users_read());
    let (status, took) = check(&client, &service.base, "cat", "dan").await;
    assert_eq!(status, 404, "cat and dan share no organisation");
    rows.push(Row {
        scenario: "1b. one cold not-connected check (no shared organisation)".into(),
        calls: (calls(&github, &x) - before.0).to_string(),
        users_read: (x.users_read() - before.1).to_string(),
        p50: ms(took),
        p99: "—".into(),
        rate: "—".into(),
        target: "—".into(),
    });

    // 2. The same check again within the time to live.
    let before = calls(&github, &x);
    let (latencies, rate, failures) = load(&client, &service.base, ("ann", "ben"), 1000, 1).await;
    assert_eq!(failures, 0);
    let repeated = calls(&github, &x) - before;
    rows.push(Row {
        scenario: "2. the same check 1,000 times within the TTL, one at a time".into(),
        calls: repeated.to_string(),
        users_read: "0".into(),
        p50: ms(percentile(&latencies, 50.0)),
        p99: ms(percentile(&latencies, 99.0)),
        rate: format!("{rate:.0}"),
        target: format!(
            "0 calls: {}",
            if repeated == 0 { "holds" } else { "MISSED" }
        ),
    });
    drop(service);

    // 3. Fifty identical cold checks at once (upstreams answering in 20 ms, so they overlap).
    let graph = Graph::new()
        .dev("eve", &["acme"], &["fay"])
        .dev("fay", &["acme"], &["eve"]);
    let (github, x) = fakes(graph).await;
    github.set_latency(Duration::from_millis(20));
    x.set_latency(Duration::from_millis(20));
    let service = Service::start(&options, &github, &x).await;
    let (latencies, rate, failures) = load(&client, &service.base, ("eve", "fay"), 50, 50).await;
    assert_eq!(failures, 0);
    let total = calls(&github, &x);
    rows.push(Row {
        scenario: "3. 50 identical cold checks at once (20 ms upstreams)".into(),
        calls: total.to_string(),
        users_read: x.users_read().to_string(),
        p50: ms(percentile(&latencies, 50.0)),
        p99: ms(percentile(&latencies, 99.0)),
        rate: format!("{rate:.0}"),
        target: format!(
            "≤ 5 calls in all: {}",
            if total <= 5 { "holds" } else { "MISSED" }
        ),
    });
    drop(service);

    // 4. A user following 5,000 accounts against one followed by few.
    let graph = Graph::new()
        .dev("whale", &["acme"], &[])
        .dev("minnow", &["acme"], &["whale"])
        .pad_following("whale", 5000)
        .x("whale", &["minnow"]);
    let (github, x) = fakes(graph).await;
    let service = Service::start(&options, &github, &x).await;
    let (status, took) = check(&client, &service.base, "whale", "minnow").await;
    assert_eq!(status, 200, "whale and minnow are connected");
    rows.push(Row {
        scenario: "4. following 5,000 vs followed by 1: the cheapest lists".into(),
        calls: calls(&github, &x).to_string(),
        users_read: x.users_read().to_string(),
        p50: ms(took),
        p99: "—".into(),
        rate: "—".into(),
        target: format!(
            "reading whale's list would cost 5,001 users; read {}",
            x.users_read()
        ),
    });
    drop(service);

    // 5. Cold check latency with 50 ms per upstream call.
    let graph = Graph::new()
        .dev("gil", &["acme"], &["hal"])
        .dev("hal", &["acme"], &["gil"]);
    let (github, x) = fakes(graph).await;
    let service = Service::start(&options, &github, &x).await;
    github.set_latency(Duration::from_millis(50));
    x.set_latency(Duration::from_millis(50));
    let (status, took) = check(&client, &service.base, "gil", "hal").await;
    assert_eq!(status, 200);
    let trips = took.as_secs_f64() / 0.050;
    rows.push(Row {
        scenario: "5. one cold connected check, 50 ms per upstream call".into(),
        calls: calls(&github, &x).to_string(),
        users_read: x.users_read().to_string(),
        p50: ms(took),
        p99: "—".into(),
        rate: "—".into(),
        target: format!(
            "≤ 3 round trips: {trips:.1} ({})",
            if trips < 4.0 { "holds" } else { "MISSED" }
        ),
    });
    drop(service);

    // 6. Load: warm realtime and the register, 50 connections.
    let graph = Graph::new()
        .dev("ivy", &["acme"], &["jon"])
        .dev("jon", &["acme"], &["ivy"])
        .dev("kim", &["acme"], &["lou"])
        .dev("lou", &["acme"], &["kim"]);
    let (github, x) = fakes(graph).await;
    let service = Service::start(&options, &github, &x).await;
    for _ in 0..20 {
        check(&client, &service.base, "kim", "lou").await;
    }
    check(&client, &service.base, "ivy", "jon").await;
    let before = calls(&github, &x);
    let (p50, p99, rate, tool) = hammer(
        &format!("{}/connected/realtime/ivy/jon", service.base),
        options.duration,
    )
    .await;
    let meets = rate.parse::<f64>().is_ok_and(|r| r >= 10_000.0);
    rows.push(Row {
        scenario: format!("6a. realtime, warm cache ({tool}, each answer recorded)"),
        calls: (calls(&github, &x) - before).to_string(),
        users_read: "0".into(),
        p50,
        p99,
        rate,
        target: format!(
            "≥ 10,000 requests/s: {}",
            if meets { "holds" } else { "MISSED" }
        ),
    });
    // /healthz in the same run gives the register's figure a scale that does not depend on
    // how busy the machine is.
    let (_, _, healthz, _) = hammer(&format!("{}/healthz", service.base), options.duration).await;
    let (p50, p99, rate, tool) = hammer(
        &format!("{}/connected/register/kim/lou", service.base),
        options.duration,
    )
    .await;
    let ratio = rate.parse::<f64>().unwrap_or(0.0) / healthz.parse::<f64>().unwrap_or(f64::NAN);
    rows.push(Row {
        scenario: format!("6b. register, 20 entries ({tool})"),
        calls: "0".into(),
        users_read: "0".into(),
        p50,
        p99,
        rate,
        target: format!(
            "≥ a third of /healthz ({healthz} requests/s in the same run): {ratio:.2} ({})",
            if ratio >= 1.0 / 3.0 {
                "holds"
            } else {
                "MISSED"
            }
        ),
    });
    let peak = service.peak_memory_mb().unwrap_or(f64::NAN);
    rows.push(Row {
        scenario: "6c. the service's peak resident memory over 6a and 6b".into(),
        calls: "—".into(),
        users_read: "—".into(),
        p50: "—".into(),
        p99: "—".into(),
        rate: "—".into(),
        target: format!(
            "{peak:.1} MB, ≤ 50 MB: {}",
            if peak <= 50.0 { "holds" } else { "MISSED" }
        ),
    });
    drop(service);

    println!("| scenario | upstream calls | X users read | p50 | p99 | requests/s | target |");
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.scenario, r.calls, r.users_read, r.p50, r.p99, r.rate, r.target
        );
    }
}
