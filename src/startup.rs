//! Builds the application from configuration: picks the adapters and binds the listener.
//! `main` and the tests go through the same functions.

use crate::application::Connections;
use crate::config::{Config, Upstreams};
use crate::domain::{CodeHost, Register, SocialGraph};
use crate::inbound::http;
use crate::outbound::{demo::DemoGraph, github::GitHubRest, sqlite::SqliteRegister, x::XApi};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

/// Why the application could not start: one line for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartupError(pub String);

/// The use cases wired to the adapters the configuration names.
///
/// # Errors
/// [`StartupError`] when a token is missing, a URL is wrong, the demo graph is unreadable or
/// the register cannot be opened.
pub async fn connections(config: &Config) -> Result<Connections, StartupError> {
    let (code_host, social_graph): (Arc<dyn CodeHost>, Arc<dyn SocialGraph>) =
        match &config.upstreams {
            Upstreams::Demo(file) => {
                let graph = match file {
                    None => DemoGraph::bundled(),
                    Some(path) => {
                        let text = std::fs::read_to_string(path).map_err(|e| {
                            StartupError(format!(
                                "cannot read the demo graph {}: {e}",
                                path.display()
                            ))
                        })?;
                        DemoGraph::from_json(&text)
                    }
                }
                .map_err(|e| StartupError(e.to_string()))?;
                let graph = Arc::new(graph);
                (graph.clone(), graph)
            }
            Upstreams::Real => {
                let token = config.twitter_bearer_token.clone().ok_or_else(|| {
                    StartupError(
                    "TWITTER_BEARER_TOKEN is not set: the X API needs an app-only bearer token \
                     (or try the bundled demo graph with --demo)"
                        .to_owned(),
                )
                })?;
                let github = GitHubRest::new(
                    &config.github_api_url,
                    config.github_token.clone(),
                    config.upstream_timeout,
                )
                .map_err(StartupError)?;
                let x = XApi::new(&config.twitter_api_url, token, config.upstream_timeout)
                    .map_err(StartupError)?;
                (Arc::new(github), Arc::new(x))
            }
        };
    let register: Arc<dyn Register> = Arc::new(register(&config.database_url).await?);
    Ok(Connections::new(code_host, social_graph, register))
}

/// The register the database URL names, migrated and ready.
///
/// # Errors
/// [`StartupError`] when the scheme is unsupported or the database cannot be opened.
pub async fn register(url: &str) -> Result<SqliteRegister, StartupError> {
    if url.starts_with("sqlite:") {
        SqliteRegister::connect(url)
            .await
            .map_err(|e| StartupError(e.to_string()))
    } else {
        let scheme = url.split(':').next().unwrap_or_default();
        Err(StartupError(format!(
            "DATABASE_URL has an unsupported scheme {scheme:?}: use sqlite://FILE"
        )))
    }
}

/// The REST API, bound and ready to serve.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: axum::Router,
}

impl Application {
    /// Wires the adapters and binds `listen_addr` (port 0 picks a free port).
    ///
    /// # Errors
    /// [`StartupError`] as [`connections`], or when the address cannot be bound.
    pub async fn build(config: &Config) -> Result<Self, StartupError> {
        let connections = connections(config).await?;
        let listener = tokio::net::TcpListener::bind(config.listen_addr)
            .await
            .map_err(|e| StartupError(format!("cannot listen on {}: {e}", config.listen_addr)))?;
        Ok(Self {
            listener,
            router: http::router(connections),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    ///
    /// # Errors
    /// The server's I/O error.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing the requests in flight");
}
