//! The HTTP server: accepts connections and serves the router on each (HTTP/1.1, and HTTP/2
//! with prior knowledge), with a header-read timeout, an idle timeout and a cap on open
//! connections, and a graceful stop.
//!
//! At the cap, a new connection closes the one that has been idle (no request in flight) the
//! longest: slow and idle clients are shed, a health checker always gets in, and a request in
//! flight, its response body included, is never cut. Only when every connection has a request
//! in flight does a new one wait, in the listen backlog, for the first to go idle.

mod connection;

use axum::Router;
use connection::{Activity, TrackedService, Wake, WatchedStream};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

pub use connection::Timeouts;

/// After a failed accept (out of file descriptors, most likely), the first wait before trying
/// again; it doubles while accepting fails, up to [`ACCEPT_BACKOFF_MAX`].
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// The largest HTTP/1 request head read (a larger one is answered 431). hyper's default,
/// about 400 KiB, lets each of `MAX_CONNECTIONS` clients hold that much memory with one
/// invented method or header; HTTP/2 heads are held to 16 KiB already.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How connections are served.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub timeouts: Timeouts,
    /// Open client connections at most.
    pub max_connections: usize,
}

/// The open connections, for the cap.
struct Open {
    connections: Mutex<(u64, HashMap<u64, Arc<Activity>>)>,
    /// A connection went idle or closed: room may be made for a new one.
    freed: Arc<Notify>,
}

impl Open {
    fn new() -> Self {
        Self {
            connections: Mutex::new((0, HashMap::new())),
            freed: Arc::new(Notify::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, (u64, HashMap<u64, Arc<Activity>>)> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn len(&self) -> usize {
        self.lock().1.len()
    }

    fn add(&self, activity: Arc<Activity>) -> u64 {
        let mut open = self.lock();
        let id = open.0;
        open.0 += 1;
        open.1.insert(id, activity);
        id
    }

    fn remove(&self, id: u64) {
        if self.lock().1.remove(&id).is_some() {
            self.freed.notify_one();
        }
    }

    /// Asks the connection idle the longest to close, and stops counting it: its slot is
    /// free now, its socket within a second. False when every connection has a request in
    /// flight.
    fn close_longest_idle(&self) -> bool {
        let mut open = self.lock();
        let longest_idle = open
            .1
            .iter()
            .filter_map(|(id, activity)| activity.idle_since().map(|since| (since, *id)))
            .min();
        let Some((_, id)) = longest_idle else {
            return false;
        };
        if let Some(activity) = open.1.remove(&id) {
            activity.request_close();
        }
        true
    }
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
    let mut accepting = Accepting::new();
    while let Some(stream) = accept(&listener, &mut accepting, &open, &stopping).await {
        if !make_room(&open, limits.max_connections, &stopping).await {
            break;
        }
        let activity = Arc::new(Activity::new(Arc::clone(&open.freed)));
        let id = open.add(Arc::clone(&activity));
        let task = Task {
            router: router.clone(),
            activity,
            timeouts: limits.timeouts,
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
    accepting: &mut Accepting,
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
                    accepting.succeeded();
                    return Some(stream);
                }
                Err(e) if is_connection_error(&e) => {}
                Err(e) => {
                    // Out of file descriptors, most likely: an idle connection's is the one
                    // to give back.
                    open.close_longest_idle();
                    let pause = accepting.failed(&e);
                    let mut stop_rx = stopping.clone();
                    tokio::select! {
                        () = stopped(&mut stop_rx) => return None,
                        () = tokio::time::sleep(pause) => {}
                    }
                }
            },
        }
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

/// Waits until there is room for one more connection, closing the longest idle one at the
/// cap. False when the server is stopping instead.
async fn make_room(open: &Open, max: usize, stopping: &watch::Receiver<bool>) -> bool {
    let mut warned = false;
    while open.len() >= max {
        // Created before looking, so that a connection going idle meanwhile is not missed.
        let freed = open.freed.notified();
        if open.close_longest_idle() {
            break;
        }
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
        }
    }
    true
}

/// Failed accepts come in bursts (the process is out of file descriptors until some close):
/// one line when a burst starts, one when it ends, and a growing pause in between instead of
/// a busy loop.
struct Accepting {
    failing_since: Option<(Instant, u64)>,
    backoff: Duration,
}

impl Accepting {
    fn new() -> Self {
        Self {
            failing_since: None,
            backoff: ACCEPT_BACKOFF,
        }
    }

    /// How long to wait before accepting again.
    fn failed(&mut self, error: &io::Error) -> Duration {
        match &mut self.failing_since {
            Some((_, failures)) => *failures += 1,
            None => {
                tracing::error!(%error, "cannot accept connections: retrying, closing idle ones");
                self.failing_since = Some((Instant::now(), 1));
            }
        }
        let pause = self.backoff;
        self.backoff = (self.backoff * 2).min(ACCEPT_BACKOFF_MAX);
        pause
    }

    fn succeeded(&mut self) {
        if let Some((since, failures)) = self.failing_since.take() {
            tracing::warn!(
                failures,
                after = %humantime::format_duration(since.elapsed()),
                "accepting connections again"
            );
            self.backoff = ACCEPT_BACKOFF;
        }
    }
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

/// One connection's task.
struct Task {
    router: Router,
    activity: Arc<Activity>,
    timeouts: Timeouts,
    stopping: watch::Receiver<bool>,
}

impl Task {
    async fn run(mut self, stream: TcpStream) {
        let peer = stream.peer_addr().ok();
        let io = TokioIo::new(WatchedStream::new(stream, Arc::clone(&self.activity)));
        let service = TrackedService::new(self.router, Arc::clone(&self.activity), peer);
        // No timer is given to hyper, so its own header timeout stays off: ours is in
        // `Activity`.
        let mut builder = Builder::new(TokioExecutor::new());
        builder.http1().max_buf_size(MAX_HEAD_BYTES);
        let connection = builder.serve_connection(io, service);
        tokio::pin!(connection);
        let mut stop_seen = false;
        loop {
            tokio::select! {
                served = connection.as_mut() => {
                    if let Err(error) = served {
                        tracing::debug!(%error, "connection ended");
                    }
                    return;
                }
                () = stopped(&mut self.stopping), if !stop_seen => {
                    stop_seen = true;
                    self.activity.request_close();
                }
                wake = self.activity.watch(self.timeouts) => match wake {
                    Wake::Close => connection.as_mut().graceful_shutdown(),
                    Wake::Expired(expiry) => {
                        tracing::debug!(?expiry, "closing the connection");
                        return;
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_accepts_back_off_up_to_a_second_and_start_again_after_a_success() {
        let mut accepting = Accepting::new();
        let emfile = io::Error::other("Too many open files");
        let pauses: Vec<_> = (0..9).map(|_| accepting.failed(&emfile)).collect();
        assert_eq!(pauses[0], ACCEPT_BACKOFF);
        assert_eq!(pauses[1], ACCEPT_BACKOFF * 2);
        assert_eq!(pauses[8], ACCEPT_BACKOFF_MAX);
        assert!(matches!(accepting.failing_since, Some((_, 9))));
        accepting.succeeded();
        assert!(accepting.failing_since.is_none());
        assert_eq!(accepting.failed(&emfile), ACCEPT_BACKOFF);
    }

    #[tokio::test]
    async fn at_the_cap_the_longest_idle_connection_is_closed_and_a_busy_one_never() {
        let open = Open::new();
        let busy = Arc::new(Activity::new(Arc::clone(&open.freed)));
        let _in_flight = busy.start_request_for_test();
        open.add(Arc::clone(&busy));
        tokio::time::sleep(Duration::from_millis(5)).await;
        let older = Arc::new(Activity::new(Arc::clone(&open.freed)));
        open.add(Arc::clone(&older));
        tokio::time::sleep(Duration::from_millis(5)).await;
        let newer = Arc::new(Activity::new(Arc::clone(&open.freed)));
        open.add(Arc::clone(&newer));

        assert!(open.close_longest_idle());
        assert_eq!((open.len(), older.idle_since()), (2, None));
        assert!(newer.idle_since().is_some());
        assert!(open.close_longest_idle());
        assert_eq!(newer.idle_since(), None);
        assert!(!open.close_longest_idle(), "the busy connection was chosen");
        assert_eq!(open.len(), 1);
    }
}
