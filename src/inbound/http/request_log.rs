//! One line per request let through, the audit trail of who spent what: its id (the client's
//! `X-Request-Id` when usable, else a new one, returned in `X-Request-Id`), route, method,
//! status, latency, the peer's address and whether a proxy forwarded it, the key's public
//! id, and what it cost upstream. Everything logged while it is served carries its id. A
//! refused request is counted in the summary of refusals instead.

use super::access::reach;
use super::refusal_log::{RefusalLog, Refused};
use crate::application::Reach;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument as _;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The longest request id taken from a client.
const MAX_ID: usize = 128;

/// The route a request matched, as its template (`/connected/realtime/{dev1}/{dev2}`): set by
/// the router, read by the request log.
#[derive(Clone)]
pub(super) struct RouteName(pub(super) String);

/// What a request cost, set by the gate of the route it took.
#[derive(Clone)]
pub(super) struct Spent {
    pub(super) key: Option<String>,
    pub(super) upstream_calls: u64,
    pub(super) x_users: u64,
    pub(super) github_calls: u64,
}

pub(super) async fn log(
    State(refusals): State<Arc<RefusalLog>>,
    request: Request,
    next: Next,
) -> Response {
    let id = request_id(request.headers());
    let method = request.method().clone();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| *peer);
    let proxied = reach(request.headers()) == Reach::Proxied;
    let started = Instant::now();
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = next.run(request).instrument(span.clone()).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    if let Some(refused) = response.extensions().get::<Refused>() {
        refusals.note(response.status().as_u16(), refused, peer);
        return response;
    }
    let route = response
        .extensions()
        .get::<RouteName>()
        .map_or("unmatched", |r| r.0.as_str());
    let spent = response.extensions().get::<Spent>();
    span.in_scope(|| {
        tracing::info!(
            request_id = %id,
            route,
            method = %method,
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            peer = peer.map_or_else(|| "-".to_owned(), |peer| peer.to_string()),
            proxied,
            key = spent.and_then(|s| s.key.as_deref()).unwrap_or("-"),
            upstream_calls = spent.map_or(0, |s| s.upstream_calls),
            x_users_billed = spent.map_or(0, |s| s.x_users),
            github_calls = spent.map_or(0, |s| s.github_calls),
            "answered"
        );
    });
    response
}

/// The client's request id when it is 1 to 128 visible ASCII characters, else a new one.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| (1..=MAX_ID).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(new_id, str::to_owned)
}

/// 16 random bytes in hexadecimal.
fn new_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::getrandom(&mut bytes).is_err() {
        // No randomness: the time still tells requests apart in practice.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = nanos.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clients_request_id_is_kept_only_when_it_is_short_and_printable() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(&REQUEST_ID, HeaderValue::from_str(value).unwrap());
            request_id(&headers)
        };
        assert_eq!(with("abc-123_XYZ"), "abc-123_XYZ");
        for bad in ["has space", &"x".repeat(129), ""] {
            let id = with(bad);
            assert_eq!(id.len(), 32, "{bad:?} gave {id}");
            assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        assert_ne!(new_id(), new_id());
    }
}
