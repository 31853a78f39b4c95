//! One client connection: what it is doing (a request in flight, waiting for one, reading a
//! request head, waiting for its client to take a response), when it has waited too long,
//! and the hyper service, response body and socket that report its activity.
//!
//! hyper's own `header_read_timeout` is not used: it starts again as soon as a response is
//! written, so on a kept-alive connection it is also the idle timeout, and a header timeout
//! short enough to stop slowloris would close pooled connections long before a load
//! balancer in front expects it. Here a connection waits for a request head's first byte
//! for the idle timeout, then has the header timeout to complete the head.
//!
//! A response makes progress when hyper asks its body for more: hyper stops asking when it
//! cannot send what it has (the socket is full, or the HTTP/2 window is closed; at a window
//! of 0 it never asks at all). From the response's start, and again after each frame it
//! hands over, a body waits on its client until it is asked again; when any response of a
//! connection has waited so for the send timeout, the connection is dropped. A body that
//! was asked and is not ready yet (a slow database) waits on us, which is not the client's
//! fault and does not count. What hyper still holds once a body has ended is the idle
//! timeout's: the request is over then.

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
use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// A response waiting on its client to take more of it.
    pub send: Duration,
}

/// What the open connections weigh against the cap beyond one each, and the accept loop's
/// wake-up; shared by the accept loop and every connection.
#[derive(Debug, Default)]
pub struct Load {
    /// Requests in flight beyond the first of each connection still counted: an HTTP/2
    /// stream costs what a connection does.
    extra_streams: AtomicUsize,
    /// A connection went idle, closed or finished one of several requests: room may be made
    /// for a new one.
    pub freed: Notify,
}

impl Load {
    pub fn extra_streams(&self) -> usize {
        self.extra_streams.load(Ordering::Relaxed)
    }
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
    /// A response waited on its client for the send timeout: the client does not read.
    Stalled,
    /// At the cap, its response had waited on its client the longest: dropped to make room.
    Shed,
}

/// What the connection's task must do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Wake {
    /// Begin a graceful close: no new request, those in flight finish.
    Close,
    /// Drop the connection now, with whatever it has in flight.
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
    /// Dropped to make room at the cap.
    shed: bool,
    /// The requests in flight whose response waits on the client, by request, and since when.
    /// Few: one per HTTP/2 stream at most.
    waiting: Vec<(u64, Instant)>,
    /// The number of the next request.
    next_request: u64,
    /// Whether the task's watch has no deadline to wake it: only then must a response that
    /// starts waiting on its client wake it (any deadline it has is earlier than that one's).
    watch_unarmed: bool,
    /// Whether its requests beyond the first still weigh in [`Load::extra_streams`]: until
    /// the accept loop stops counting the connection.
    counted: bool,
}

/// A connection's activity, shared by its task, its socket and its requests.
#[derive(Debug)]
pub struct Activity {
    state: Mutex<State>,
    /// Wakes the connection's watch on any change of state.
    changed: Notify,
    /// The weight of all connections, which this one's requests add to, and the accept
    /// loop's wake-up when this one goes idle (it can then be closed to make room).
    load: Arc<Load>,
}

impl Activity {
    pub fn new(load: Arc<Load>) -> Self {
        let now = Instant::now();
        Self {
            state: Mutex::new(State {
                in_flight: 0,
                idle_since: now,
                head_started: Some(now),
                http2: false,
                close_requested: None,
                close_told: false,
                shed: false,
                waiting: Vec::new(),
                next_request: 0,
                watch_unarmed: true,
                counted: true,
            }),
            changed: Notify::new(),
            load,
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

    /// Since when a response of the connection has waited on its client, the longest
    /// waiting; `None` when none does.
    pub fn waiting_since(&self) -> Option<Instant> {
        self.state().waiting.iter().map(|(_, since)| *since).min()
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

    /// Drops the connection now, its requests in flight with it, to make room at the cap.
    pub fn shed(&self) {
        self.state().shed = true;
        self.changed.notify_one();
    }

    /// Its requests no longer weigh against the cap: the accept loop no longer counts the
    /// connection.
    pub fn uncount(&self) {
        let mut state = self.state();
        if state.counted {
            state.counted = false;
            let extra = state.in_flight.saturating_sub(1);
            self.load.extra_streams.fetch_sub(extra, Ordering::Relaxed);
        }
    }

    fn request_started(self: &Arc<Self>, version: Version) -> InFlight {
        let mut state = self.state();
        state.in_flight += 1;
        if state.in_flight > 1 && state.counted {
            self.load.extra_streams.fetch_add(1, Ordering::Relaxed);
        }
        state.head_started = None;
        state.http2 |= version == Version::HTTP_2;
        let id = state.next_request;
        state.next_request += 1;
        drop(state);
        self.changed.notify_one();
        InFlight {
            activity: Arc::clone(self),
            id,
        }
    }

    fn request_finished(&self, id: u64) {
        let mut state = self.state();
        state.waiting.retain(|(request, _)| *request != id);
        let one_of_several = state.in_flight > 1 && state.counted;
        if one_of_several {
            self.load.extra_streams.fetch_sub(1, Ordering::Relaxed);
        }
        state.in_flight = state.in_flight.saturating_sub(1);
        let idle = state.in_flight == 0;
        if idle {
            state.idle_since = Instant::now();
            state.head_started = None;
        }
        drop(state);
        if idle {
            self.changed.notify_one();
        }
        if idle || one_of_several {
            self.load.freed.notify_one();
        }
    }

    /// Whether request `id`'s response waits on the client (from now) or not.
    fn waiting_on_client(&self, id: u64, waiting: bool) {
        let mut state = self.state();
        let found = state.waiting.iter().position(|(request, _)| *request == id);
        match (waiting, found) {
            (true, Some(at)) => state.waiting[at].1 = Instant::now(),
            (true, None) => state.waiting.push((id, Instant::now())),
            (false, Some(at)) => {
                state.waiting.swap_remove(at);
            }
            (false, None) => {}
        }
        let wake = waiting && state.watch_unarmed;
        drop(state);
        if wake {
            self.changed.notify_one();
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
        let next = Self::next_for(&mut state, timeouts);
        state.watch_unarmed = matches!(next, Err(None));
        next
    }

    fn next_for(state: &mut State, timeouts: Timeouts) -> Result<Wake, Option<(Instant, Expiry)>> {
        if state.shed {
            return Ok(Wake::Expired(Expiry::Shed));
        }
        if state.close_requested.is_some() && !state.close_told {
            state.close_told = true;
            return Ok(Wake::Close);
        }
        let (deadline, expiry) = if state.in_flight > 0 {
            match state.waiting.iter().map(|(_, since)| *since).min() {
                None => return Err(None),
                Some(since) => (since + timeouts.send, Expiry::Stalled),
            }
        } else {
            Self::idle_deadline(state, timeouts)
        };
        if deadline <= Instant::now() {
            Ok(Wake::Expired(expiry))
        } else {
            Err(Some((deadline, expiry)))
        }
    }

    /// When a connection with no request in flight expires, and why.
    fn idle_deadline(state: &State, timeouts: Timeouts) -> (Instant, Expiry) {
        match (state.close_requested, state.head_started) {
            (Some(asked), _) => (
                asked.max(state.idle_since) + CLOSE_BACKSTOP,
                Expiry::Closing,
            ),
            (None, Some(started)) if !state.http2 => {
                (started + timeouts.header_read, Expiry::SlowHead)
            }
            _ => (state.idle_since + timeouts.idle, Expiry::Idle),
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

    /// A request whose response has begun and waits on the client.
    pub fn respond_for_test(self: &Arc<Self>) -> TrackedBody {
        TrackedBody::new(Body::from("answer"), self.request_started(Version::HTTP_2))
    }
}

/// A request in flight, from its head read to its response body dropped (sent, or the
/// connection gone). A connection with one is closed by neither the idle timeout nor a
/// graceful close; only a response waiting on its client can have it dropped.
struct InFlight {
    activity: Arc<Activity>,
    id: u64,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.activity.request_finished(self.id);
    }
}

/// A response body that keeps its request counted as in flight until it has been sent, and
/// tells whether it waits on the client.
pub struct TrackedBody {
    body: Body,
    /// What is left of a large data frame, handed over in pieces.
    rest: Option<Bytes>,
    in_flight: InFlight,
}

/// The most handed over to hyper at a time. The client is waited on from one piece to the
/// next, so a piece must take a slow but reading client well under `SEND_TIMEOUT` to take:
/// 16 KiB is half a second at 32 KiB/s, where one 250 KiB page of a history would be eight.
const PIECE: usize = 16 * 1024;

impl TrackedBody {
    /// A response about to be sent: it waits on the client until hyper asks for its body.
    fn new(body: Body, in_flight: InFlight) -> Self {
        in_flight.activity.waiting_on_client(in_flight.id, true);
        Self {
            body,
            rest: None,
            in_flight,
        }
    }

    /// The next piece of at most [`PIECE`] bytes: of what is left, else of the body's next
    /// frame (trailers and errors as they come).
    fn poll_piece(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let mut data = match self.rest.take() {
            Some(rest) => rest,
            None => match hyper::body::Body::poll_frame(Pin::new(&mut self.body), cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => data,
                    Err(frame) => return Poll::Ready(Some(Ok(frame))),
                },
                other => return other,
            },
        };
        if data.len() > PIECE {
            self.rest = Some(data.split_off(PIECE));
        }
        Poll::Ready(Some(Ok(Frame::data(data))))
    }
}

impl hyper::body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let polled = this.poll_piece(cx);
        // A frame handed over must be sent before hyper asks for more: the client is waited
        // on again. Not ready, the body waits on us; ended, on no one.
        let handed_over = matches!(polled, Poll::Ready(Some(Ok(_))));
        let in_flight = &this.in_flight;
        in_flight
            .activity
            .waiting_on_client(in_flight.id, handed_over);
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_none() && self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let mut hint = self.body.size_hint();
        if let Some(rest) = &self.rest {
            let rest = rest.len() as u64;
            hint.set_lower(hint.lower() + rest);
            if let Some(upper) = hint.upper() {
                hint.set_upper(upper + rest);
            }
        }
        hint
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
            Ok(response.map(|body| TrackedBody::new(body, in_flight)))
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
        send: Duration::from_secs(30),
    };

    fn fresh() -> Arc<Activity> {
        Arc::new(Activity::new(Arc::new(Load::default())))
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

    /// A response whose body yields what is sent on the channel, ended when it closes.
    fn streamed(activity: &Arc<Activity>) -> (TrackedBody, tokio::sync::mpsc::Sender<Bytes>) {
        let (send, receive) = tokio::sync::mpsc::channel(1);
        let chunks = futures::stream::unfold(receive, |mut receive| async move {
            let chunk = receive.recv().await?;
            Some((Ok::<_, Infallible>(chunk), receive))
        });
        let body = Body::from_stream(chunks);
        let in_flight = activity.request_started(Version::HTTP_11);
        (TrackedBody::new(body, in_flight), send)
    }

    /// What polling `body` once gives: `None` when it is not ready.
    fn poll_once(body: &mut TrackedBody) -> Option<Option<Bytes>> {
        use futures::FutureExt as _;
        let frame =
            std::future::poll_fn(|cx| hyper::body::Body::poll_frame(Pin::new(&mut *body), cx));
        frame
            .now_or_never()
            .map(|frame| frame.map(|frame| frame.unwrap().into_data().unwrap()))
    }

    #[tokio::test]
    async fn a_large_frame_is_handed_over_in_pieces_each_a_progress_of_its_own() {
        let activity = fresh();
        let (mut body, send) = streamed(&activity);
        send.send(Bytes::from(vec![7u8; 2 * PIECE + 100]))
            .await
            .unwrap();
        drop(send);
        let sizes: Vec<usize> = std::iter::from_fn(|| poll_once(&mut body).flatten())
            .map(|piece| piece.len())
            .collect();
        assert_eq!(sizes, [PIECE, PIECE, 100]);
        assert_eq!(activity.waiting_since(), None, "ended: waiting on no one");
    }

    /// The connection's watch, running.
    fn watching(activity: &Arc<Activity>) -> tokio::task::JoinHandle<Wake> {
        let activity = Arc::clone(activity);
        tokio::spawn(async move { activity.watch(TIMEOUTS).await })
    }

    #[tokio::test(start_paused = true)]
    async fn a_response_never_asked_for_waits_on_its_client_from_its_start_for_the_send_timeout() {
        let activity = fresh();
        let started = Instant::now();
        let _body = activity.respond_for_test();
        assert_eq!(activity.waiting_since(), Some(started));
        assert_eq!(
            activity.watch(TIMEOUTS).await,
            Wake::Expired(Expiry::Stalled)
        );
        assert_eq!(started.elapsed(), TIMEOUTS.send);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_asked_for_and_not_ready_waits_on_us_and_is_never_timed_out() {
        let activity = fresh();
        let (mut body, _send) = streamed(&activity);
        assert_eq!(poll_once(&mut body), None);
        assert_eq!(activity.waiting_since(), None);
        let watch = watching(&activity);
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(!watch.is_finished());
    }

    #[tokio::test(start_paused = true)]
    async fn each_frame_handed_over_starts_the_wait_on_the_client_again() {
        let activity = fresh();
        let (mut body, send) = streamed(&activity);
        let watch = watching(&activity);
        tokio::time::sleep(Duration::from_secs(20)).await;
        send.send(Bytes::from("part")).await.unwrap();
        assert_eq!(poll_once(&mut body), Some(Some(Bytes::from("part"))));
        let handed_over = Instant::now();
        assert_eq!(activity.waiting_since(), Some(handed_over));
        assert_eq!(watch.await.unwrap(), Wake::Expired(Expiry::Stalled));
        assert_eq!(handed_over.elapsed(), TIMEOUTS.send);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_has_ended_waits_on_no_one_and_the_idle_timeout_follows() {
        let activity = fresh();
        let (mut body, send) = streamed(&activity);
        drop(send);
        assert_eq!(poll_once(&mut body), Some(None));
        assert_eq!(activity.waiting_since(), None);
        let watch = watching(&activity);
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(!watch.is_finished(), "hyper has not dropped the body yet");
        drop(body);
        let sent = Instant::now();
        assert_eq!(watch.await.unwrap(), Wake::Expired(Expiry::Idle));
        assert_eq!(sent.elapsed(), TIMEOUTS.idle);
    }

    #[tokio::test(start_paused = true)]
    async fn the_response_waiting_longest_on_its_client_sets_the_deadline() {
        let activity = fresh();
        let first = activity.respond_for_test();
        let started = Instant::now();
        let watch = watching(&activity);
        tokio::time::sleep(Duration::from_secs(10)).await;
        let _second = activity.respond_for_test();
        tokio::time::sleep(Duration::from_secs(10)).await;
        drop(first);
        assert_eq!(watch.await.unwrap(), Wake::Expired(Expiry::Stalled));
        assert_eq!(started.elapsed(), TIMEOUTS.send + Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_shed_connection_is_dropped_at_once_with_its_requests_in_flight() {
        let activity = fresh();
        let _computing = activity.request_started(Version::HTTP_2);
        let watch = watching(&activity);
        tokio::task::yield_now().await;
        activity.shed();
        assert_eq!(watch.await.unwrap(), Wake::Expired(Expiry::Shed));
    }
}
