//! Timings as the report gives them, and the load of scenario 6: `wrk` when installed, a
//! built-in load generator otherwise.

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

/// A load of `duration` on `url` with 50 connections: wrk when installed, else built in. The
/// figures as printed, and the tool that made them.
pub async fn hammer(url: &str, duration: Duration) -> (Timing, &'static str) {
    match wrk(url, duration) {
        Some(timing) => (timing, "wrk -t2 -c50"),
        None => (built_in(url, duration).await, "built-in, 50 connections"),
    }
}

/// wrk's figures, or `None` when it cannot be run.
fn wrk(url: &str, duration: Duration) -> Option<Timing> {
    let out = std::process::Command::new("wrk")
        .args([
            "-t2",
            "-c50",
            &format!("-d{}s", duration.as_secs()),
            "--latency",
            url,
        ])
        .output()
        .ok()
        .filter(|out| out.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let second_word = |line: &str| line.split_whitespace().nth(1).map(str::to_owned);
    let find = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .and_then(second_word)
            .unwrap_or_else(|| "?".to_owned())
    };
    let rate = text
        .lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .and_then(second_word)
        .map(|r| format!("{:.0}", r.parse::<f64>().unwrap_or(0.0)))
        .unwrap_or_else(|| "?".to_owned());
    Some(Timing {
        p50: find("50%"),
        p99: find("99%"),
        rate,
    })
}

/// 50 workers asking `url` one answer after another until `duration` is over.
async fn built_in(url: &str, duration: Duration) -> Timing {
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
    Timing::of(&Load {
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
        rate: latencies.len() as f64 / started.elapsed().as_secs_f64(),
    })
}
