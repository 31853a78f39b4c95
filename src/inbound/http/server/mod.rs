//! The HTTP server: accepts connections and serves the router on each (HTTP/1.1, and HTTP/2
//! with prior knowledge), with a header-read timeout, an idle timeout, a send timeout, a cap
//! on open connections, and a graceful stop.
//!
//! A connection weighs against the cap as many requests as it has in flight (HTTP/2
//! streams), one at least. At the cap, a new connection closes the one that has been idle (no
//! request in flight) the longest: slow and idle clients are shed, a health checker always
//! gets in. With none idle, it drops the one whose response has waited the longest on a
//! client that does not take it (for [`SHED_AFTER`] at least): a client that does not read
//! is a better victim than everyone waiting. A response that is being read, or computed, is
//! never cut. Only when every connection has such a request in flight does a new one wait,
//! in the listen backlog, for the first to go idle.

mod connection;

use axum::Router;
use connection::{Activity, Load, TrackedService, Wake, WatchedStream};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
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

/// An HTTP/2 connection's requests at once, at most (and never more than the cap): each
/// weighs against the cap as a connection does. RFC 9113 recommends allowing 100 at least;
/// hyper's default is 200.
const MAX_STREAMS: usize = 100;

/// At the cap, how long a response must have waited on its client before its connection is
/// dropped to make room. A client that reads, however slowly, takes some of it well within
/// this (hyper hands the socket more as soon as there is room), so only one that has stopped
/// reading is chosen; and a new connection waits this long at most behind one that has.
const SHED_AFTER: Duration = Duration::from_secs(1);

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
    /// Their requests beyond one each, and the wake-up when room may be made.
    load: Arc<Load>,
}

impl Open {
    fn new() -> Self {
        Self {
            connections: Mutex::new((0, HashMap::new())),
            load: Arc::new(Load::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, (u64, HashMap<u64, Arc<Activity>>)> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// What the open connections weigh against the cap: one each, or their requests in
    /// flight if more.
    fn weight(&self) -> usize {
        self.lock().1.len() + self.load.extra_streams()
    }

    fn add(&self, activity: Arc<Activity>) -> u64 {
        let mut open = self.lock();
        let id = open.0;
        open.0 += 1;
        open.1.insert(id, activity);
        id
    }

    fn remove(&self, id: u64) {
        let removed = self.lock().1.remove(&id);
        if let Some(activity) = removed {
            activity.uncount();
            self.load.freed.notify_one();
        }
    }

    /// Makes room for one connection, and stops counting the one it closes: its slot is
    /// free now, its socket within a second. The one idle the longest is asked to close; with
    /// none idle, the one whose response has waited on its client the longest, for
    /// [`SHED_AFTER`] at least, is dropped. Otherwise, the error says when a response will
    /// have waited that long (`None`: none waits on its client).
    fn close_one(&self) -> Result<(), Option<Instant>> {
        let mut open = self.lock();
        let mut longest_idle = None;
        let mut longest_waiting = None;
        for (id, activity) in &open.1 {
            let earliest = |found: Option<(Instant, u64)>, since| {
                Some(found.map_or((since, *id), |found| found.min((since, *id))))
            };
            if let Some(since) = activity.idle_since() {
                longest_idle = earliest(longest_idle, since);
            } else if let Some(since) = activity.waiting_since() {
                longest_waiting = earliest(longest_waiting, since);
            }
        }
        if let Some((_, id)) = longest_idle {
            if let Some(activity) = open.1.remove(&id) {
                activity.uncount();
                activity.request_close();
            }
            return Ok(());
        }
        match longest_waiting {
            Some((since, id)) if since + SHED_AFTER <= Instant::now() => {
                if let Some(activity) = open.1.remove(&id) {
                    activity.uncount();
                    activity.shed();
                }
                Ok(())
            }
            waiting => Err(waiting.map(|(since, _)| since + SHED_AFTER)),
        }
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
        let activity = Arc::new(Activity::new(Arc::clone(&open.load)));
        let id = open.add(Arc::clone(&activity));
        let task = Task {
            router: router.clone(),
            activity,
            timeouts: limits.timeouts,
            max_streams: limits.max_connections.clamp(1, MAX_STREAMS),
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
                    let _ = open.close_one();
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

/// Waits until there is room for one more connection, closing one at the cap (see
/// [`Open::close_one`]). False when the server is stopping instead.
async fn make_room(open: &Open, max: usize, stopping: &watch::Receiver<bool>) -> bool {
    let mut warned = false;
    while open.weight() >= max {
        // Created before looking, so that a connection going idle meanwhile is not missed.
        let freed = open.load.freed.notified();
        let Err(shed_at) = open.close_one() else {
            break;
        };
        if !warned {
            tracing::warn!(
                max_connections = max,
                "every connection has a request in flight: new connections wait for one to finish"
            );
            warned = true;
        }
        // A response that starts waiting on its client wakes no one: look again by then.
        let look_again = shed_at.unwrap_or_else(|| Instant::now() + SHED_AFTER);
        let mut stop_rx = stopping.clone();
        tokio::select! {
            () = stopped(&mut stop_rx) => return false,
            () = freed => {}
            () = tokio::time::sleep_until(look_again) => {}
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
    /// HTTP/2 requests at once on the connection.
    max_streams: usize,
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
        builder
            .http2()
            .max_concurrent_streams(u32::try_from(self.max_streams).unwrap_or(u32::MAX));
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

    /// A connection counted in `open`, with its activity.
    fn connect(open: &Open) -> (Arc<Activity>, u64) {
        let activity = Arc::new(Activity::new(Arc::clone(&open.load)));
        let id = open.add(Arc::clone(&activity));
        (activity, id)
    }

    #[tokio::test(start_paused = true)]
    async fn at_the_cap_the_longest_idle_is_closed_then_the_longest_stalled_and_a_busy_one_never() {
        let open = Open::new();
        let (busy, _) = connect(&open);
        let _in_flight = busy.start_request_for_test();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let (older, _) = connect(&open);
        tokio::time::sleep(Duration::from_millis(5)).await;
        let (newer, _) = connect(&open);
        let (stalled, _) = connect(&open);
        let _response = stalled.respond_for_test();
        let stalled_since = Instant::now();
        let (later, _) = connect(&open);
        tokio::time::sleep(Duration::from_millis(5)).await;
        let _waiting_less = later.respond_for_test();

        assert_eq!(open.close_one(), Ok(()));
        assert_eq!((open.weight(), older.idle_since()), (4, None));
        assert!(newer.idle_since().is_some());
        assert_eq!(open.close_one(), Ok(()));
        assert_eq!(newer.idle_since(), None);
        assert_eq!(open.close_one(), Err(Some(stalled_since + SHED_AFTER)));

        tokio::time::sleep(SHED_AFTER).await;
        assert_eq!(open.close_one(), Ok(()));
        assert_eq!(open.weight(), 2);
        assert_eq!(
            stalled
                .watch(connection::Timeouts {
                    header_read: Duration::from_secs(10),
                    idle: Duration::from_secs(75),
                    send: Duration::from_secs(30),
                })
                .await,
            Wake::Expired(connection::Expiry::Shed)
        );
        tokio::time::sleep(SHED_AFTER).await;
        assert_eq!(open.close_one(), Ok(()), "the response waiting the longest");
        assert_eq!(
            open.close_one(),
            Err(None),
            "the busy connection was chosen"
        );
        assert_eq!(open.weight(), 1);
    }

    #[test]
    fn a_connection_weighs_its_requests_in_flight_one_at_least_until_it_is_no_longer_counted() {
        let open = Open::new();
        let (activity, id) = connect(&open);
        assert_eq!(open.weight(), 1);
        let first = activity.start_request_for_test();
        assert_eq!(open.weight(), 1);
        let more: Vec<_> = (0..3).map(|_| activity.start_request_for_test()).collect();
        assert_eq!(open.weight(), 4);
        drop(first);
        assert_eq!(open.weight(), 3);
        open.remove(id);
        assert_eq!(open.weight(), 0);
        drop(more);
        assert_eq!((open.weight(), open.load.extra_streams()), (0, 0));
    }
}
