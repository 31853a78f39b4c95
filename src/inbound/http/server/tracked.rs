//! The hyper service, response body and socket of a connection, which tell its activity
//! what happens on it: a request started or finished, bytes arrived, a response waiting on
//! its client or not.
//!
//! A response makes progress when hyper asks its body for more: hyper stops asking when it
//! cannot send what it has (the socket is full, or the HTTP/2 window is closed; at a window
//! of 0 it never asks at all). From the response's start, and again after each frame it
//! hands over, a body waits on its client until it is asked again. A body that was asked and
//! is not ready yet waits on us. What hyper still holds once a body has ended is the idle
//! timeout's: the request is over then.

use super::activity::{Activity, InFlight};
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
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

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
        in_flight.waiting_on_client(true);
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
        this.in_flight.waiting_on_client(handed_over);
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
        let in_flight = self
            .activity
            .request_started(request.version() == Version::HTTP_2);
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
    use super::super::activity::now;
    use super::super::policy::Standing;
    use super::*;
    use std::time::Duration;

    fn fresh() -> Arc<Activity> {
        Arc::new(Activity::new(Arc::default()))
    }

    /// A response whose body yields what is sent on the channel, ended when it closes.
    fn streamed(activity: &Arc<Activity>) -> (TrackedBody, tokio::sync::mpsc::Sender<Bytes>) {
        let (send, receive) = tokio::sync::mpsc::channel(1);
        let chunks = futures::stream::unfold(receive, |mut receive| async move {
            let chunk = receive.recv().await?;
            Some((Ok::<_, Infallible>(chunk), receive))
        });
        let body = Body::from_stream(chunks);
        let in_flight = activity.request_started(false);
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

    #[tokio::test(start_paused = true)]
    async fn a_response_waits_on_its_client_from_its_start_and_from_each_frame_handed_over() {
        let activity = fresh();
        let started = now();
        let (mut body, send) = streamed(&activity);
        assert_eq!(
            activity.waiting_since(),
            Some(started),
            "never asked for yet"
        );
        tokio::time::sleep(Duration::from_secs(20)).await;
        send.send(Bytes::from("part")).await.unwrap();
        assert_eq!(poll_once(&mut body), Some(Some(Bytes::from("part"))));
        assert_eq!(activity.waiting_since(), Some(now()));
    }

    #[tokio::test]
    async fn a_body_asked_for_and_not_ready_waits_on_us() {
        let activity = fresh();
        let (mut body, _send) = streamed(&activity);
        assert_eq!(poll_once(&mut body), None);
        assert_eq!(activity.waiting_since(), None);
        assert_eq!(activity.standing(), Standing::Busy);
    }

    #[tokio::test]
    async fn a_body_that_has_ended_waits_on_no_one_and_its_request_ends_when_it_is_dropped() {
        let activity = fresh();
        let (mut body, send) = streamed(&activity);
        drop(send);
        assert_eq!(poll_once(&mut body), Some(None));
        assert_eq!(activity.waiting_since(), None);
        assert_eq!(activity.standing(), Standing::Busy, "hyper still holds it");
        drop(body);
        assert!(matches!(activity.standing(), Standing::Idle(_)));
    }
}
