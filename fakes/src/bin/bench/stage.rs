//! What a scenario runs on: fresh fakes of GitHub and X, one `connected serve` pointed at them
//! (open, or requiring a key that the benchmark makes), and a client that asks it whether pairs
//! are connected.

use crate::Options;
use crate::measure::{Load, percentile};
use connected_fakes::{self as fake, Fake, Graph, ServiceCommand, X_TOKEN};
use futures::StreamExt;
use std::time::{Duration, Instant};

/// The benchmark's options and its one client.
pub struct Bench {
    pub options: Options,
    client: reqwest::Client,
}

impl Bench {
    pub fn new(options: Options) -> Self {
        Self {
            options,
            client: reqwest::Client::new(),
        }
    }

    /// A `connected serve` on these upstreams, open or requiring a key.
    pub async fn serve(&self, upstreams: &Upstreams, access: Access) -> Service {
        Service::start(&self.options, upstreams, access).await
    }

    /// One check of a pair: the answer's status (0 when none came) and how long it took.
    pub async fn check(&self, service: &Service, a: &str, b: &str) -> (u16, Duration) {
        let url = service.url(&format!("/connected/realtime/{a}/{b}"));
        let request = service
            .headers()
            .iter()
            .fold(self.client.get(url), |request, (name, value)| {
                request.header(name, value)
            });
        let started = Instant::now();
        let status = request
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        (status, started.elapsed())
    }

    /// One check of a pair that must answer `status` (`why` says why): how long it took.
    pub async fn expect(
        &self,
        service: &Service,
        (a, b): (&str, &str),
        status: u16,
        why: &str,
    ) -> Duration {
        let (answered, took) = self.check(service, a, b).await;
        assert_eq!(answered, status, "{why}");
        took
    }

    /// `n` checks of one pair, `concurrency` at once, every one answered 200 or 404.
    pub async fn load(
        &self,
        service: &Service,
        (a, b): (&str, &str),
        n: usize,
        concurrency: usize,
    ) -> Load {
        let started = Instant::now();
        let results: Vec<(u16, Duration)> = futures::stream::iter(0..n)
            .map(|_| self.check(service, a, b))
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let elapsed = started.elapsed();
        let failures = results
            .iter()
            .filter(|(s, _)| *s != 200 && *s != 404)
            .count();
        assert_eq!(failures, 0);
        let mut latencies: Vec<Duration> = results.into_iter().map(|(_, d)| d).collect();
        latencies.sort();
        Load {
            p50: percentile(&latencies, 50.0),
            p99: percentile(&latencies, 99.0),
            rate: n as f64 / elapsed.as_secs_f64(),
        }
    }
}

/// A fresh pair of fakes on a graph.
pub struct Upstreams {
    github: Fake,
    x: Fake,
}

/// What the upstreams were asked so far: calls to either, and users read from X's lists.
#[derive(Clone, Copy)]
pub struct Spent {
    pub calls: usize,
    pub users_read: u64,
}

impl Spent {
    /// What was spent after `before`.
    pub fn since(self, before: Spent) -> Spent {
        Spent {
            calls: self.calls - before.calls,
            users_read: self.users_read - before.users_read,
        }
    }
}

impl Upstreams {
    pub async fn new(graph: Graph) -> Self {
        Self {
            github: fake::github(graph.clone()).await,
            x: fake::x(graph).await,
        }
    }

    /// Every answer of both waits this long first.
    pub fn set_latency(&self, latency: Duration) {
        self.github.set_latency(latency);
        self.x.set_latency(latency);
    }

    pub fn spent(&self) -> Spent {
        Spent {
            calls: self.github.call_count() + self.x.call_count(),
            users_read: self.x.users_read(),
        }
    }
}

/// Who may ask a service.
#[derive(Clone, Copy)]
pub enum Access {
    /// Anyone: the service's default on a loopback address.
    Open,
    /// Only holders of a key (`AUTH=keys`): the service is asked with one key of this rate
    /// (`N/PERIOD`), made by `connected keys create` before it starts.
    Key { rate: &'static str },
}

/// One `connected serve` with a fresh register and an empty cache.
pub struct Service {
    service: fake::Service,
    /// What every request to it carries: its key, when it requires one.
    headers: Vec<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Service {
    async fn start(options: &Options, upstreams: &Upstreams, access: Access) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        assert!(
            options.binary.exists(),
            "cannot run {}: it does not exist (build it with cargo build --release)",
            options.binary.display()
        );
        let database = format!("sqlite://{}", dir.path().join("bench.db").display());
        let mut command = ServiceCommand::new(&options.binary)
            .current_dir(dir.path())
            .env("GITHUB_API_URL", &upstreams.github.url)
            .env("TWITTER_API_URL", &upstreams.x.url)
            .env("TWITTER_BEARER_TOKEN", X_TOKEN)
            .env("DATABASE_URL", &database)
            .log_level("error")
            .show_log(true);
        let mut headers = Vec::new();
        if let Access::Key { rate } = access {
            let key = create_key(options, &database, rate).await;
            headers.push(("Authorization".to_owned(), format!("Bearer {key}")));
            command = command.env("AUTH", "keys");
        }
        Self {
            service: command.start().await,
            headers,
            _dir: dir,
        }
    }

    /// The URL of this path on the service.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.service.base)
    }

    /// The headers every request to it must carry: `Authorization` when it requires a key.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// Peak resident memory so far, in MB.
    pub fn peak_memory_mb(&self) -> Option<f64> {
        let pid = self.service.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    }
}

/// `connected keys create bench --rate RATE` on `database`, as an operator makes a key: the key
/// it prints.
async fn create_key(options: &Options, database: &str, rate: &str) -> String {
    let out = tokio::process::Command::new(&options.binary)
        .args(["keys", "create", "bench", "--rate", rate])
        .env_clear()
        .env("DATABASE_URL", database)
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", options.binary.display()));
    assert!(
        out.status.success(),
        "connected keys create --rate {rate} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
