//! One client connection: what it is doing (a request in flight, waiting for one, reading a
//! request head), when it has waited too long, and the hyper service and socket that report
//! its activity.
//!
//! hyper's own `header_read_timeout` is not used: it starts again as soon as a response is
//! written, so on a kept-alive connection it is also the idle timeout, and a header timeout
//! short enough to stop slowloris would close pooled connections long before a load
//! balancer in front expects it. Here a connection waits for a request head's first byte
//! for the idle timeout, then has the header timeout to complete the head.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, Version};
use hyper::body::{Frame, Incoming, SizeHint};
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Instant;

/// How long a connection asked to close (at the cap, or at shutdown) may take to do so on
/// its own once it has no request in flight: enough for hyper to flush a response and for an
/// HTTP/2 client to acknowledge the GOAWAY, short enough that a client which never does
/// cannot keep its slot.
const CLOSE_BACKSTOP: Duration = Duration::from_secs(1);

/// How long a connection may wait.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// From a request head's first byte (or from the connection's start) to its end.
    pub header_read: Duration,
    /// With no request in flight and no request head begun.
    pub idle: Duration,
}

/// Why a connection is closed before its client closes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// A request head was not complete within the header timeout.
    SlowHead,
    /// No request within the idle timeout.
    Idle,
    /// Asked to close, it did not within [`CLOSE_BACKSTOP`] of its last request.
    Closing,
}

/// What the connection's task must do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Wake {
    /// Begin a graceful close: no new request, those in flight finish.
    Close,
    /// Drop the connection now: it has no request in flight.
    Expired(Expiry),
}

#[derive(Debug)]
struct State {
    /// Requests whose head has been read and whose response body has not yet been dropped.
    in_flight: usize,
    /// When `in_flight` last fell to zero (or the connection was accepted).
    idle_since: Instant,
    /// When the head awaited now began: at accept for the first request, at its first byte
    /// for the next ones on a kept-alive connection.
    head_started: Option<Instant>,
    /// HTTP/2 has served a request: its idle connections carry pings and settings that say
    /// nothing about a request head, so only the idle timeout applies from then on.
    http2: bool,
    /// When the connection was asked to close, and whether its task has been told.
    close_requested: Option<Instant>,
    close_told: bool,
}

/// A connection's activity, shared by its task, its socket and its requests.
#[derive(Debug)]
pub struct Activity {
    state: Mutex<State>,
    /// Wakes the connection's watch on any change of state.
    changed: Notify,
    /// Wakes the accept loop when this connection goes idle (it can then be closed to make
    /// room for a new one).
    went_idle: Arc<Notify>,
}

impl Activity {
    pub fn new(went_idle: Arc<Notify>) -> Self {
        let now = Instant::now();
        Self {
            state: Mutex::new(State {
                in_flight: 0,
                idle_since: now,
                head_started: Some(now),
                http2: false,
                close_requested: None,
                close_told: false,
            }),
            changed: Notify::new(),
            went_idle,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; if something did, the counts are still the
        // best knowledge there is.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Since when the connection has had no request in flight; `None` while one is, or once
    /// it has been asked to close.
    pub fn idle_since(&self) -> Option<Instant> {
        let state = self.state();
        (state.in_flight == 0 && state.close_requested.is_none()).then_some(state.idle_since)
    }

    /// Asks the connection to close gracefully.
    pub fn request_close(&self) {
        let mut state = self.state();
        if state.close_requested.is_none() {
            state.close_requested = Some(Instant::now());
            drop(state);
            self.changed.notify_one();
        }
    }

    fn request_started(self: &Arc<Self>, version: Version) -> InFlight {
        let mut state = self.state();
        state.in_flight += 1;
        state.head_started = None;
        state.http2 |= version == Version::HTTP_2;
        drop(state);
        self.changed.notify_one();
        InFlight(Arc::clone(self))
    }

    fn request_finished(&self) {
        let mut state = self.state();
        state.in_flight = state.in_flight.saturating_sub(1);
        let idle = state.in_flight == 0;
        if idle {
            state.idle_since = Instant::now();
            state.head_started = None;
        }
        drop(state);
        if idle {
            self.changed.notify_one();
            self.went_idle.notify_one();
        }
    }

    fn bytes_arrived(&self) {
        let mut state = self.state();
        if state.in_flight == 0 && state.head_started.is_none() && !state.http2 {
            state.head_started = Some(Instant::now());
            drop(state);
            self.changed.notify_one();
        }
    }

    /// What the connection's task must do now, or when it must look again.
    fn next(&self, timeouts: Timeouts) -> Result<Wake, Option<(Instant, Expiry)>> {
        let mut state = self.state();
        if state.close_requested.is_some() && !state.close_told {
            state.close_told = true;
            return Ok(Wake::Close);
        }
        if state.in_flight > 0 {
            return Err(None);
        }
        let (deadline, expiry) = match (state.close_requested, state.head_started) {
            (Some(asked), _) => (
                asked.max(state.idle_since) + CLOSE_BACKSTOP,
                Expiry::Closing,
            ),
            (None, Some(started)) if !state.http2 => {
                (started + timeouts.header_read, Expiry::SlowHead)
            }
            _ => (state.idle_since + timeouts.idle, Expiry::Idle),
        };
        if deadline <= Instant::now() {
            Ok(Wake::Expired(expiry))
        } else {
            Err(Some((deadline, expiry)))
        }
    }

    /// Completes when the connection must be closed, gracefully or at once.
    pub async fn watch(&self, timeouts: Timeouts) -> Wake {
        loop {
            // Created before the state is read: a change made in between leaves a permit,
            // so it is not missed.
            let changed = self.changed.notified();
            match self.next(timeouts) {
                Ok(wake) => return wake,
                Err(None) => changed.await,
                Err(Some((deadline, _))) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(deadline) => {}
                        () = changed => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
impl Activity {
    /// A request in flight, as hyper starts one.
    pub fn start_request_for_test(self: &Arc<Self>) -> impl Drop {
        self.request_started(Version::HTTP_11)
    }
}

/// A request in flight, from its head read to its response body dropped (sent, or the
/// connection gone). A connection with one is never closed by a timeout or the cap.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

/// A response body that keeps its request counted as in flight until it has been sent.
pub struct TrackedBody {
    body: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The router as hyper calls it, counting the connection's requests in flight, each with
/// the client's address (`ConnectInfo`) when it is known.
#[derive(Clone)]
pub struct TrackedService {
    router: Router,
    activity: Arc<Activity>,
    peer: Option<SocketAddr>,
}

impl TrackedService {
    pub fn new(router: Router, activity: Arc<Activity>, peer: Option<SocketAddr>) -> Self {
        Self {
            router,
            activity,
            peer,
        }
    }
}

type Answer = Pin<Box<dyn Future<Output = Result<Response<TrackedBody>, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for TrackedService {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        let in_flight = self.activity.request_started(request.version());
        if let Some(peer) = self.peer {
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        let router = self.router.clone();
        Box::pin(async move {
            let response = tower::ServiceExt::oneshot(router, request.map(Body::new)).await?;
            Ok(response.map(|body| TrackedBody {
                body,
                _in_flight: in_flight,
            }))
        })
    }
}

/// The client's socket, telling the connection's activity when bytes arrive (the start of a
/// request head, when none is in flight).
pub struct WatchedStream {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl WatchedStream {
    pub fn new(stream: TcpStream, activity: Arc<Activity>) -> Self {
        Self { stream, activity }
    }
}

impl AsyncRead for WatchedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.bytes_arrived();
        }
        read
    }
}

impl AsyncWrite for WatchedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUTS: Timeouts = Timeouts {
        header_read: Duration::from_secs(10),
        idle: Duration::from_secs(75),
    };

    fn fresh() -> Arc<Activity> {
        Arc::new(Activity::new(Arc::new(Notify::new())))
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_connection_has_the_header_timeout_to_send_its_first_head() {
        let activity = fresh();
        let started = Instant::now();
        assert_eq!(
            activity.watch(TIMEOUTS).await,
            Wake::Expired(Expiry::SlowHead)
        );
        assert_eq!(started.elapsed(), TIMEOUTS.header_read);
    }

    #[tokio::test(start_paused = true)]
    async fn a_kept_alive_connection_waits_the_idle_timeout_then_the_header_timeout() {
        let activity = fresh();
        drop(activity.request_started(Version::HTTP_11));
        let idle = Instant::now();
        tokio::time::sleep(Duration::from_secs(70)).await;
        activity.bytes_arrived();
        assert_eq!(
            activity.watch(TIMEOUTS).await,
            Wake::Expired(Expiry::SlowHead)
        );
        assert_eq!(idle.elapsed(), Duration::from_secs(80));

        let quiet = fresh();
        drop(quiet.request_started(Version::HTTP_11));
        let idle = Instant::now();
        assert_eq!(quiet.watch(TIMEOUTS).await, Wake::Expired(Expiry::Idle));
        assert_eq!(idle.elapsed(), TIMEOUTS.idle);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_in_flight_is_never_timed_out_nor_cut_by_a_close() {
        let activity = fresh();
        let in_flight = activity.request_started(Version::HTTP_11);
        activity.request_close();
        assert_eq!(activity.watch(TIMEOUTS).await, Wake::Close);
        let watching = tokio::spawn({
            let activity = Arc::clone(&activity);
            async move { activity.watch(TIMEOUTS).await }
        });
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(!watching.is_finished());
        assert_eq!(activity.idle_since(), None);
        drop(in_flight);
        let finished = Instant::now();
        assert_eq!(watching.await.unwrap(), Wake::Expired(Expiry::Closing));
        assert_eq!(finished.elapsed(), CLOSE_BACKSTOP);
    }

    #[tokio::test(start_paused = true)]
    async fn http2_pings_between_requests_do_not_start_the_header_timeout() {
        let activity = fresh();
        drop(activity.request_started(Version::HTTP_2));
        let idle = Instant::now();
        activity.bytes_arrived();
        assert_eq!(activity.watch(TIMEOUTS).await, Wake::Expired(Expiry::Idle));
        assert_eq!(idle.elapsed(), TIMEOUTS.idle);
    }
}
