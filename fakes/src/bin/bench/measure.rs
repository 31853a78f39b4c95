//! Timings as the report gives them, and the load of scenario 6: `wrk` when installed, a
//! built-in load generator otherwise, each counting the requests that did not succeed.

use std::time::{Duration, Instant};

/// The figures of many checks: latency percentiles and rate.
pub struct Load {
    pub p50: Duration,
    pub p99: Duration,
    /// Requests per second.
    pub rate: f64,
}

/// A row's timing columns, as printed: median, 99th percentile and requests per second.
pub struct Timing {
    pub p50: String,
    pub p99: String,
    pub rate: String,
}

impl Timing {
    /// One answer: its time as the median, no percentile or rate.
    pub fn once(took: Duration) -> Self {
        Self {
            p50: ms(took),
            p99: "—".into(),
            rate: "—".into(),
        }
    }

    pub fn of(load: &Load) -> Self {
        Self {
            p50: ms(load.p50),
            p99: ms(load.p99),
            rate: format!("{:.0}", load.rate),
        }
    }

    /// Nothing timed.
    pub fn none() -> Self {
        Self {
            p50: "—".into(),
            p99: "—".into(),
            rate: "—".into(),
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// What a load gave: its figures as printed, the tool that made them, its rate as a number,
/// and the requests that did not succeed.
pub struct Hammered {
    pub timing: Timing,
    pub tool: &'static str,
    /// Requests per second.
    pub rate: f64,
    /// Answers of 400 or more (a refusal, `429` included), and requests that got no answer.
    pub failed: u64,
}

/// A load of `duration` on `url` with 50 connections, every request carrying `headers`: wrk
/// when installed, else built in.
pub async fn hammer(url: &str, headers: &[(String, String)], duration: Duration) -> Hammered {
    match wrk(url, headers, duration) {
        Some(hammered) => hammered,
        None => built_in(url, headers, duration).await,
    }
}

/// wrk's figures, or `None` when it cannot be run.
fn wrk(url: &str, headers: &[(String, String)], duration: Duration) -> Option<Hammered> {
    let out = std::process::Command::new("wrk")
        .args([
            "-t2",
            "-c50",
            &format!("-d{}s", duration.as_secs()),
            "--latency",
        ])
        .args(
            headers
                .iter()
                .flat_map(|(name, value)| ["-H".to_owned(), format!("{name}: {value}")]),
        )
        .arg(url)
        .output()
        .ok()
        .filter(|out| out.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |prefix: &str| text.lines().find(|l| l.trim_start().starts_with(prefix));
    let second_word = |prefix: &str| {
        line(prefix)
            .and_then(|l| l.split_whitespace().nth(1))
            .map(str::to_owned)
    };
    let rate = second_word("Requests/sec:")
        .and_then(|r| r.parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    // Printed only when not zero: "Non-2xx or 3xx responses: N" counts the answers of 400 or
    // more, "Socket errors: connect N, read N, write N, timeout N" the requests unanswered.
    let numbers = |l: &str| -> u64 {
        l.split_once(':').map_or(0, |(_, counts)| {
            counts
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse::<u64>().ok())
                .sum()
        })
    };
    let failed = line("Non-2xx or 3xx responses:").map_or(0, numbers)
        + line("Socket errors:").map_or(0, numbers);
    let unknown = || "?".to_owned();
    Some(Hammered {
        timing: Timing {
            p50: second_word("50%").unwrap_or_else(unknown),
            p99: second_word("99%").unwrap_or_else(unknown),
            rate: format!("{rate:.0}"),
        },
        tool: "wrk -t2 -c50",
        rate,
        failed,
    })
}

/// 50 workers asking `url` one answer after another until `duration` is over.
async fn built_in(url: &str, headers: &[(String, String)], duration: Duration) -> Hammered {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let workers = (0..50).map(|_| {
        let client = client.clone();
        let url = url.to_owned();
        let headers = headers.to_vec();
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0;
            while Instant::now() < deadline {
                let t = Instant::now();
                let request = headers
                    .iter()
                    .fold(client.get(&url), |request, (name, value)| {
                        request.header(name, value)
                    });
                match request.send().await {
                    Ok(answer) => {
                        latencies.push(t.elapsed());
                        failed += u64::from(answer.status().as_u16() >= 400);
                    }
                    Err(_) => failed += 1,
                }
            }
            (latencies, failed)
        })
    });
    let mut latencies: Vec<Duration> = Vec::new();
    let mut failed = 0;
    for (worker_latencies, worker_failed) in futures::future::join_all(workers)
        .await
        .into_iter()
        .flat_map(Result::ok)
    {
        latencies.extend(worker_latencies);
        failed += worker_failed;
    }
    latencies.sort();
    let load = Load {
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
        rate: latencies.len() as f64 / started.elapsed().as_secs_f64(),
    };
    Hammered {
        timing: Timing::of(&load),
        tool: "built-in, 50 connections",
        rate: load.rate,
        failed,
    }
}
