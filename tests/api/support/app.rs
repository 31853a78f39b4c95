//! The black-box harness: the application built by the same function `main` uses, on port 0,
//! with a fresh SQLite file and fake GitHub and X servers.

use crate::fake::{self, Fake, Graph, X_TOKEN};
use connected::config::Config;
use connected::secret::{Secret, SecretUrl};
use connected::startup::{Application, StartupError};
use serde_json::Value;
use std::time::Duration;

pub struct TestApp {
    pub address: String,
    pub github: Fake,
    pub x: Fake,
    pub bluesky: Fake,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// A response's status, `Retry-After` and JSON body.
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub link: Option<String>,
    pub body: Value,
}

pub async fn spawn_app(graph: Graph) -> TestApp {
    spawn_app_with(graph, |_| {}).await
}

pub async fn spawn_app_with(graph: Graph, adjust: impl FnOnce(&mut Config)) -> TestApp {
    try_spawn_app_with(graph, adjust)
        .await
        .expect("the app starts")
}

/// The same, or why the app did not start.
pub async fn try_spawn_app_with(
    graph: Graph,
    adjust: impl FnOnce(&mut Config),
) -> Result<TestApp, StartupError> {
    let github = fake::github(graph.clone()).await;
    let x = fake::x(graph.clone()).await;
    let bluesky = fake::bluesky(graph).await;
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("register.db").display());
    let mut config = Config::default();
    config.http.listen_addr = "127.0.0.1:0".parse().unwrap();
    config.database.url = database_url.into();
    let upstreams = &mut config.upstreams;
    upstreams.github.api_url = SecretUrl::new(github.url.parse().unwrap());
    upstreams.github.token = Some(Secret::new("ghp_test_token"));
    upstreams.x.api_url = SecretUrl::new(x.url.parse().unwrap());
    upstreams.x.bearer_token = Some(Secret::new(X_TOKEN));
    upstreams.bluesky.api_url = SecretUrl::new(bluesky.url.parse().unwrap());
    upstreams.timeout = Duration::from_secs(5);
    adjust(&mut config);
    let app = Application::build(&config).await?;
    let address = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    Ok(TestApp {
        address,
        github,
        x,
        bluesky,
        client: reqwest::Client::new(),
        _dir: dir,
    })
}

impl TestApp {
    /// The SQLite register's file (its `-wal` beside it).
    pub fn database_path(&self) -> std::path::PathBuf {
        self._dir.path().join("register.db")
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.get_with(path, &[]).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.client.get(format!("{}{path}", self.address));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the app answers");
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let link = response
            .headers()
            .get("link")
            .map(|v| v.to_str().unwrap().to_owned());
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = response.text().await.unwrap();
        assert!(
            content_type.starts_with("application/json"),
            "{path} answered {status} with {content_type}: {text}"
        );
        let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"));
        Answer {
            status,
            retry_after,
            link,
            body,
        }
    }

    pub async fn realtime(&self, dev1: &str, dev2: &str) -> Answer {
        self.get(&format!("/connected/realtime/{dev1}/{dev2}"))
            .await
    }

    /// A realtime check with `Cache-Control: no-cache`.
    pub async fn realtime_fresh(&self, dev1: &str, dev2: &str) -> Answer {
        self.get_with(
            &format!("/connected/realtime/{dev1}/{dev2}"),
            &[("cache-control", "no-cache")],
        )
        .await
    }

    pub async fn register(&self, dev1: &str, dev2: &str) -> Answer {
        self.get(&format!("/connected/register/{dev1}/{dev2}"))
            .await
    }

    /// Upstream calls received by the fakes.
    pub fn upstream_calls(&self) -> usize {
        self.github.call_count() + self.x.call_count() + self.bluesky.call_count()
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> Answer {
        let response = self
            .client
            .post(format!("{}{path}", self.address))
            .json(body)
            .send()
            .await
            .expect("the app answers");
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"));
        Answer {
            status,
            retry_after,
            link: None,
            body,
        }
    }

    pub async fn network(&self, developers: &[&str]) -> Answer {
        self.post_json(
            "/connected/network",
            &serde_json::json!({ "developers": developers }),
        )
        .await
    }
}
