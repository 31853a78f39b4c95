//! The HTTP server: accepts connections and serves the router on each (HTTP/1.1, and HTTP/2
//! with prior knowledge), with a header-read timeout, an idle timeout, a send timeout, a cap
//! on open connections, and a graceful stop.
//!
//! What to do with a connection, and when, is the [`policy`]'s: this code tells it what
//! happens on each connection, and closes, drops or waits as it says.

mod activity;
mod connection;
mod open;
mod policy;
mod tracked;

use axum::Router;
use connection::Task;
use open::Open;
use policy::{AcceptFailures, Room};
use std::future::Future;
use std::io;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub use policy::Timeouts;

/// How connections are served.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub timeouts: Timeouts,
    /// Open client connections at most.
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown` completes; then accepts no more
/// connections, lets the requests in flight finish, and returns when every connection has
/// closed.
///
/// # Errors
/// None today: a failed accept is retried. The result leaves room for one.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    // A request body, too, must arrive within the header timeout: a body trickled a byte at
    // a time would otherwise hold its connection, busy and so never shed, for ever.
    let router = router.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        limits.timeouts.header_read,
    ));
    let (stop, stopping) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    // Every connection's task holds a receiver: all are gone when `closed` completes.
    let (alive, alive_rx) = watch::channel(());
    let open = Arc::new(Open::new());
    let mut failures = AcceptFailures::default();
    while let Some(stream) = accept(&listener, &mut failures, &open, &stopping).await {
        if !make_room(&open, limits.max_connections, &stopping).await {
            break;
        }
        let (id, activity) = open.add();
        let task = Task {
            router: router.clone(),
            activity,
            timeouts: limits.timeouts,
            max_streams: policy::max_streams(limits.max_connections),
            stopping: stopping.clone(),
        };
        let registered = Registered {
            open: Arc::clone(&open),
            id,
        };
        let alive = alive_rx.clone();
        tokio::spawn(async move {
            let _registered = registered;
            let _alive = alive;
            task.run(stream).await;
        });
    }
    drop(listener);
    drop(alive_rx);
    alive.closed().await;
    Ok(())
}

/// The next connection, or `None` once stopping. A failed accept is retried: at once when
/// the failure was the client's, after a growing pause otherwise.
async fn accept(
    listener: &TcpListener,
    failures: &mut AcceptFailures,
    open: &Open,
    stopping: &watch::Receiver<bool>,
) -> Option<TcpStream> {
    loop {
        let mut stop_rx = stopping.clone();
        tokio::select! {
            biased;
            () = stopped(&mut stop_rx) => return None,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    if let Some(burst) = failures.succeeded(activity::now()) {
                        tracing::warn!(
                            failures = burst.failures,
                            after = %humantime::format_duration(burst.lasted),
                            "accepting connections again"
                        );
                    }
                    return Some(stream);
                }
                Err(e) if is_connection_error(&e) => {}
                Err(error) => {
                    if !pause_after(&error, failures, open, stopping).await {
                        return None;
                    }
                }
            },
        }
    }
}

/// After a failed accept that was not the client's, gives back an idle connection's file
/// descriptor (running out of them is the likely cause) and pauses as the policy says. False
/// when the server is stopping instead.
async fn pause_after(
    error: &io::Error,
    failures: &mut AcceptFailures,
    open: &Open,
    stopping: &watch::Receiver<bool>,
) -> bool {
    let _ = open.close_one();
    let retry = failures.failed(activity::now());
    if retry.burst_began {
        tracing::error!(%error, "cannot accept connections: retrying, closing idle ones");
    }
    let mut stop_rx = stopping.clone();
    tokio::select! {
        () = stopped(&mut stop_rx) => false,
        () = tokio::time::sleep(retry.after) => true,
    }
}

/// A connection counted in [`Open`] until its task ends, however it ends (a handler's panic
/// unwinds through here too).
struct Registered {
    open: Arc<Open>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.open.remove(self.id);
    }
}

/// Waits until there is room for one more connection, closing one at the cap as the policy
/// says. False when the server is stopping instead.
async fn make_room(open: &Open, max: usize, stopping: &watch::Receiver<bool>) -> bool {
    let mut warned = false;
    while !policy::has_room(open.weight(), max) {
        // Created before looking, so that a connection going idle meanwhile is not missed.
        let freed = open.load.freed.notified();
        let Room::WaitUntil(look_again) = open.close_one() else {
            break;
        };
        if !warned {
            tracing::warn!(
                max_connections = max,
                "every connection has a request in flight: new connections wait for one to finish"
            );
            warned = true;
        }
        let mut stop_rx = stopping.clone();
        tokio::select! {
            () = stopped(&mut stop_rx) => return false,
            () = freed => {}
            () = tokio::time::sleep_until(tokio::time::Instant::from_std(look_again)) => {}
        }
    }
    true
}

/// Completes once the server is stopping (or can no longer be told to).
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns must not live across an await.
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// Errors that concern one connection only (the client gave up before it was accepted).
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
