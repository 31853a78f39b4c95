//! One connection's task: serves the router on it with hyper (HTTP/1.1, or HTTP/2 with prior
//! knowledge) until its client closes it, or the policy has it closed.

use super::activity::Activity;
use super::policy::{Timeouts, Wake};
use super::stopped;
use super::tracked::{TrackedService, WatchedStream};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::sync::watch;

/// The largest HTTP/1 request head read (a larger one is answered 431). hyper's default,
/// about 400 KiB, lets each of the capped connections hold that much memory with one invented
/// method or header; HTTP/2 heads are held to 16 KiB already.
const MAX_HEAD_BYTES: usize = 64 * 1024;

pub struct Task {
    pub router: Router,
    pub activity: Arc<Activity>,
    pub timeouts: Timeouts,
    /// HTTP/2 requests at once on the connection.
    pub max_streams: usize,
    pub stopping: watch::Receiver<bool>,
}

impl Task {
    pub async fn run(mut self, stream: TcpStream) {
        let peer = stream.peer_addr().ok();
        let io = TokioIo::new(WatchedStream::new(stream, Arc::clone(&self.activity)));
        let service = TrackedService::new(self.router, Arc::clone(&self.activity), peer);
        // No timer is given to hyper, so its own header timeout stays off: the policy's
        // applies.
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
