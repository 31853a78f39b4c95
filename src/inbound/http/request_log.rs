//! One line per request let through, the audit trail of who spent what: its id (the client's
//! `X-Request-Id` when usable, else a new one, returned in `X-Request-Id`), route, method,
//! status, latency, the peer's address and whether a proxy forwarded it, the key's public
//! id, and what it cost upstream. Everything logged while it is served carries its id. A
//! refused request is counted in the summary of refusals instead.
//!
//! tower-http gives each request its id, returns it, runs the request in its span and times
//! it; what is here is which client ids are kept, how a new one is made, and what the line
//! says.

use super::access::reach;
use super::refusal_log::{RefusalLog, Refused};
use crate::application::Reach;
use crate::domain::access::{Meter, Usage};
use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderName, HeaderValue, Method, Response};
use axum::middleware::{self, Next};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceBuilder;
use tower::util::MapRequestLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{MakeSpan, OnResponse, TraceLayer};
use tracing::Span;

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
    /// Its upstream cost, by meter.
    pub(super) usage: Usage,
    /// Its upstream cost as the `Upstream-Cost` header says it.
    pub(super) cost: String,
}

/// `router`, its requests given an id and logged (or counted as refusals in `refusals`).
pub(super) fn around(router: Router, refusals: Arc<RefusalLog>) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_request(())
        .on_response(Answered { refusals })
        .on_body_chunk(())
        .on_eos(())
        .on_failure(());
    router.layer(
        ServiceBuilder::new()
            .layer(MapRequestLayer::new(drop_unusable_id))
            .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), NewId))
            .layer(trace)
            .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
            .layer(middleware::from_fn(note_asked)),
    )
}

/// Whether a client's request id is kept: 1 to 128 visible ASCII characters.
fn usable(id: &HeaderValue) -> bool {
    (1..=MAX_ID).contains(&id.len()) && id.as_bytes().iter().all(u8::is_ascii_graphic)
}

/// `request` without the client's request id when it is not usable: a new one is made.
fn drop_unusable_id(mut request: Request) -> Request {
    if request
        .headers()
        .get(&REQUEST_ID)
        .is_some_and(|id| !usable(id))
    {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

/// A new request id: a random UUID's 32 hexadecimal digits.
#[derive(Clone, Copy)]
struct NewId;

impl MakeRequestId for NewId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// The id a request was given, as text.
fn id_of(extensions: &axum::http::Extensions) -> &str {
    extensions
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-")
}

/// The span a request is served in, named by its id.
#[derive(Clone, Copy)]
struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        tracing::info_span!("request", request_id = %id_of(request.extensions()))
    }
}

/// What the request asked, and from where: kept on its response for its line.
#[derive(Clone)]
struct Asked {
    method: Method,
    peer: Option<SocketAddr>,
    proxied: bool,
}

async fn note_asked(request: Request, next: Next) -> axum::response::Response {
    let asked = Asked {
        method: request.method().clone(),
        peer: request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| *peer),
        proxied: reach(request.headers()) == Reach::Proxied,
    };
    let mut response = next.run(request).await;
    response.extensions_mut().insert(asked);
    response
}

/// Writes a request's line once it is answered, or counts its refusal.
#[derive(Clone)]
struct Answered {
    refusals: Arc<RefusalLog>,
}

impl<B> OnResponse<B> for Answered {
    fn on_response(self, response: &Response<B>, latency: Duration, _: &Span) {
        let extensions = response.extensions();
        let asked = extensions.get::<Asked>();
        let peer = asked.and_then(|a| a.peer);
        if let Some(refused) = extensions.get::<Refused>() {
            self.refusals
                .note(response.status().as_u16(), refused, peer);
            return;
        }
        let route = extensions
            .get::<RouteName>()
            .map_or("unmatched", |r| r.0.as_str());
        let spent = extensions.get::<Spent>();
        tracing::info!(
            request_id = %id_of(extensions),
            route,
            method = %asked.map_or("-", |a| a.method.as_str()),
            status = response.status().as_u16(),
            latency_ms = latency.as_secs_f64() * 1000.0,
            peer = peer.map_or_else(|| "-".to_owned(), |peer| peer.to_string()),
            proxied = asked.is_some_and(|a| a.proxied),
            key = spent.and_then(|s| s.key.as_deref()).unwrap_or("-"),
            upstream_calls = spent.map_or(0, |s| s.upstream_calls),
            x_users_billed = spent.map_or(0, |s| s.usage.spent(Meter::X_USERS)),
            github_calls = spent.map_or(0, |s| s.usage.spent(Meter::GITHUB_CALLS)),
            member_answers = spent.map_or(0, |s| s.usage.member_answers()),
            upstream_cost = spent.map_or("-", |s| s.cost.as_str()),
            "answered"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::http::testing::{Unreachable, app};
    use axum::body::Body;
    use tower::ServiceExt as _;

    #[test]
    fn a_clients_request_id_is_kept_only_when_it_is_short_and_printable() {
        let id = |value: &str| HeaderValue::from_str(value).unwrap();
        assert!(usable(&id("abc-123_XYZ")));
        assert!(usable(&id(&"x".repeat(128))));
        for bad in ["has space", &"x".repeat(129), "", "tab\there"] {
            assert!(!usable(&id(bad)), "{bad:?}");
        }
        assert!(!usable(&HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()));
    }

    /// The request id `app` answers a request for `/healthz` sent with `sent`.
    async fn answered_id(app: Router, sent: &[&str]) -> String {
        let mut request = Request::get("/healthz");
        for id in sent {
            request = request.header(&REQUEST_ID, *id);
        }
        let response = app
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let ids: Vec<_> = response.headers().get_all(&REQUEST_ID).iter().collect();
        assert_eq!(ids.len(), 1, "one id answered");
        ids[0].to_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn a_usable_id_is_answered_back_and_any_other_replaced_by_a_new_one() {
        let app = app(Arc::new(Unreachable)).await;
        assert_eq!(
            answered_id(app.clone(), &["abc-123_XYZ"]).await,
            "abc-123_XYZ"
        );
        assert_eq!(
            answered_id(app.clone(), &["first", "second"]).await,
            "first"
        );
        let mut made = std::collections::BTreeSet::new();
        for sent in [&[][..], &["has space"], &[&*"x".repeat(129)], &[""]] {
            let id = answered_id(app.clone(), sent).await;
            assert_eq!(id.len(), 32, "{sent:?} gave {id}");
            assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
            made.insert(id);
        }
        assert_eq!(made.len(), 4, "each made id is new");
    }
}
