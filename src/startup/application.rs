//! The REST API bound and served: the listener, the connection cap the open-file limit
//! allows, and the stop on a signal with its grace period.

use super::{Coordination, StartupError, Wiring, access, storage};
use crate::application::Access;
use crate::config::Config;
use crate::inbound::http;
use crate::metrics::Metrics;
use crate::outbound::upstreams::client::Spending;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

/// File descriptors kept for everything but client connections: the database pool, upstream
/// and Redis connections, the register's files, the runtime's own.
const FILES_FOR_OTHER_USES: u64 = 512;

/// The REST API, bound and ready to serve.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: axum::Router,
    limits: http::server::Limits,
    shutdown_grace: std::time::Duration,
    /// Kept to write what keys spent once the last request is done.
    access: Access,
    /// Kept to write what the spend budgets spent, likewise.
    spending: Spending,
}

impl Application {
    /// Wires the adapters and binds `listen_addr` (port 0 picks a free port).
    ///
    /// # Errors
    /// [`StartupError`] as [`super::use_cases_and_spending`], or when the address cannot be bound.
    pub async fn build(config: &Config) -> Result<Self, StartupError> {
        let metrics = Arc::new(Metrics::new());
        let storage = storage(config).await?;
        let coordination = Coordination::new(config)?;
        let spending = coordination
            .spending(config, &metrics, Arc::clone(&storage.ledger))
            .await?;
        let wiring = Wiring {
            config,
            metrics: &metrics,
            coordination: &coordination,
            spending: &spending,
        };
        let members = super::members::member_site(config, &storage, &metrics, &coordination.clock)?;
        let (mut use_cases, demo) = wiring.use_cases(storage.register)?;
        if let Some(site) = &members {
            use_cases = use_cases.with_membership(site.membership.clone());
        }
        let access = access(config, storage.keys, &coordination).await;
        let served = &config.http;
        let listener = tokio::net::TcpListener::bind(served.listen_addr)
            .await
            .map_err(|cause| StartupError::Listen {
                address: served.listen_addr,
                cause,
            })?;
        Ok(Self {
            listener,
            router: http::router(
                use_cases,
                metrics,
                access.clone(),
                &config.auth.allowed_hosts,
                members,
                http::Page {
                    confirm_above: config.page.quote_confirm_x_users,
                    demo,
                },
            ),
            limits: http::server::Limits {
                timeouts: http::server::Timeouts {
                    header_read: served.header_read_timeout,
                    idle: served.idle_timeout,
                    send: served.send_timeout,
                },
                max_connections: connection_cap(served.max_connections),
            },
            shutdown_grace: served.shutdown_grace,
            access,
            spending,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish for at most
    /// the shutdown grace period.
    ///
    /// # Errors
    /// The server's I/O error, or `TimedOut` when requests were still running at the end of
    /// the grace period.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
        let signal = async move {
            shutdown.await;
            let _ = stopping.send(());
        };
        let server = http::server::serve(self.listener, self.router, self.limits, signal);
        let grace = self.shutdown_grace;
        let deadline = async move {
            if stopped.await.is_err() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(grace).await;
        };
        let served = tokio::select! {
            result = server => result,
            () = deadline => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("requests were still running {} after the stop signal", humantime::format_duration(grace)),
            )),
        };
        self.access.write_use().await;
        self.spending.write_spent().await;
        served
    }
}

/// Raises the soft open-file limit to the hard one (a socket is a file), and returns the
/// connection cap that fits in it with room for the service's other files.
fn connection_cap(max_connections: usize) -> usize {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(files) => {
            let fits = usize::try_from(files.saturating_sub(FILES_FOR_OTHER_USES).max(1))
                .unwrap_or(usize::MAX);
            if fits < max_connections {
                tracing::warn!(
                    open_files = files,
                    max_connections = fits,
                    "MAX_CONNECTIONS lowered to fit the open-file limit"
                );
                fits
            } else {
                tracing::debug!(open_files = files, max_connections, "open-file limit");
                max_connections
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read or raise the open-file limit");
            max_connections
        }
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
