//! The REST API: handlers, the OpenAPI document and its viewers, served by axum.

mod errors;
pub mod server;
mod wire;

pub use errors::ApiError;
pub use wire::{
    ConnectionBody, ErrorsBody, NetworkBody, RegisterEntry, StatusBody, TeamRequest, UndecidedBody,
    VerdictBody,
};

use crate::application::{Connections, Freshness};
use crate::domain::{HistoryPage, HistoryStream, RegisterError, RegisteredCheck};
use crate::metrics::Metrics;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::JsonRejection;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRef, MatchedPath, Request};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::{FutureExt as _, StreamExt as _, TryStreamExt as _};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Instant;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

/// The OpenAPI document, generated from the handlers below.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Connected Developers API",
        description = "Whether two developers are fully connected: they follow each other on X \
                       (formerly Twitter) and share at least one GitHub organisation. Every \
                       definitive answer is kept in a register.",
    ),
    paths(realtime, register, network, healthz, readyz, metrics_text),
    components(schemas(VerdictBody, ErrorsBody, RegisterEntry, StatusBody, TeamRequest, NetworkBody, ConnectionBody, UndecidedBody)),
    tags((name = "connected", description = "Checks and their register"),
         (name = "operations", description = "Health and readiness"))
)]
pub struct ApiDoc;

/// What the handlers share.
#[derive(Clone)]
struct AppState {
    connections: Connections,
    metrics: Arc<Metrics>,
}

impl FromRef<AppState> for Connections {
    fn from_ref(state: &AppState) -> Self {
        state.connections.clone()
    }
}

impl FromRef<AppState> for Arc<Metrics> {
    fn from_ref(state: &AppState) -> Self {
        Arc::clone(&state.metrics)
    }
}

/// The whole HTTP application for the given use cases, counting into `metrics`.
pub fn router(connections: Connections, metrics: Arc<Metrics>) -> Router {
    let state = AppState {
        connections,
        metrics: Arc::clone(&metrics),
    };
    Router::new()
        .route("/connected/realtime/{dev1}/{dev2}", get(realtime))
        .route("/connected/register/{dev1}/{dev2}", get(register))
        .route(
            "/connected/network",
            post(network).layer(DefaultBodyLimit::max(TEAM_BODY_LIMIT)),
        )
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/redoc", get(redoc))
        .route("/redoc/redoc.standalone.js", get(redoc_script))
        .merge(docs())
        .route_layer(middleware::from_fn_with_state(metrics, track))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(TraceLayer::new_for_http())
}

/// Counts every routed request by its route template (never the raw path, whose handles
/// would make the label set grow without bound).
async fn track(
    State(metrics): State<Arc<Metrics>>,
    route: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let route = route.map_or_else(|| "unmatched".to_owned(), |r| r.as_str().to_owned());
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

type Pair = Result<Path<(String, String)>, PathRejection>;

fn developers(path: Pair) -> Result<(String, String), ApiError> {
    path.map(|Path(pair)| pair).map_err(|rejection| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "the developers in the path cannot be read: {}",
                rejection.body_text()
            ),
        )
    })
}

/// Checks now, on GitHub and X, whether two developers are fully connected, and records the
/// answer.
#[utoipa::path(
    get,
    path = "/connected/realtime/{dev1}/{dev2}",
    tag = "connected",
    params(
        // The bounds are `Handle::parse`'s (wire::HANDLE_PATTERN; a test holds them equal).
        ("dev1" = String, Path, min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$",
         description = "A developer's handle, the same on GitHub and X (case-insensitive): 1 to 100 characters, no control character"),
        ("dev2" = String, Path, min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$",
         description = "Another developer's handle (not the same as dev1, ignoring case)"),
        ("Cache-Control" = Option<String>, Header,
         description = "`no-cache`: ask GitHub and X again instead of using cached facts (what is read refreshes the cache)"),
    ),
    responses(
        (status = 200, description = "Fully connected; the organisations both belong to", body = VerdictBody,
         example = json!({"connected": true, "organisations": ["acme", "Zeta-Org"]})),
        (status = 404, description = "Both exist everywhere but are not fully connected", body = VerdictBody,
         example = json!({"connected": false})),
        (status = 400, description = "A developer does not exist on a network (one message per developer and network, in the order dev1-github, dev1-twitter, dev2-github, dev2-twitter), or the same developer twice", body = ErrorsBody,
         example = json!({"errors": ["dev1 is not a valid user in github", "dev1 is not a valid user in twitter", "dev2 is not a valid user in twitter"]})),
        (status = 424, description = "They share an organisation, but whether they follow each other cannot be read: both are protected accounts, whose follow lists the social graph keeps private; nothing recorded", body = ErrorsBody,
         example = json!({"errors": ["whether alice follows bob cannot be read: their twitter accounts are protected"]})),
        (status = 502, description = "An upstream failed (timeout, 5xx, unreadable answer, rejected credentials); nothing recorded", body = ErrorsBody,
         example = json!({"errors": ["github is unavailable: no answer within 10s"]})),
        (status = 503, description = "An upstream is rate-limited, or the register is unavailable; nothing recorded", body = ErrorsBody,
         headers(("Retry-After" = u64, description = "Seconds until the upstream's rate limit resets")),
         example = json!({"errors": ["twitter rate limit exceeded; retry after 120 s"]})),
        (status = 504, description = "The upstreams together took longer than REQUEST_TIMEOUT", body = ErrorsBody,
         example = json!({"errors": ["the upstreams did not answer within 1m; try again later"]})),
    )
)]
async fn realtime(
    State(connections): State<Connections>,
    path: Pair,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (dev1, dev2) = developers(path)?;
    let check = connections
        .check_with(&dev1, &dev2, freshness(&headers))
        .await
        .map_err(errors::logged)?;
    let status = if check.verdict.is_connected() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    Ok((status, Json(VerdictBody::from(&check.verdict))).into_response())
}

/// Every recorded answer for a pair, oldest first. The pair is unordered and
/// case-insensitive. With `limit`, only the newest `limit` answers (before `before`, if
/// given), still oldest first, and a `Link: <…>; rel="next"` header to the older page when
/// there may be one.
#[utoipa::path(
    get,
    path = "/connected/register/{dev1}/{dev2}",
    tag = "connected",
    params(
        ("dev1" = String, Path, min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$",
         description = "A developer's handle (case-insensitive): 1 to 100 characters, no control character"),
        ("dev2" = String, Path, min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$",
         description = "Another developer's handle (not the same as dev1, ignoring case); the order does not matter"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 10000,
         description = "Return only the newest `limit` answers (default: all)"),
        ("before" = Option<String>, Query, format = DateTime,
         description = "Only answers registered strictly before this RFC 3339 time (for paging backwards)"),
    ),
    responses(
        (status = 200, description = "The pair's recorded checks, oldest first", body = [RegisterEntry],
         headers(("Link" = String, description = "With `limit`, when a full page was returned: the next, older page (rel=\"next\")")),
         example = json!([{"registered_at": "2021-10-30T13:54:45.485Z", "connected": true, "organisations": ["acme"]},
                          {"registered_at": "2021-11-02T08:01:12.007Z", "connected": false}])),
        (status = 404, description = "The pair has no record (in the page asked for)", body = [RegisterEntry], example = json!([])),
        (status = 400, description = "The same developer twice, or a bad `limit` or `before`", body = ErrorsBody),
        (status = 503, description = "The register is unavailable", body = ErrorsBody),
    )
)]
async fn register(
    State(connections): State<Connections>,
    path: Pair,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (dev1, dev2) = developers(path)?;
    let Query(query) = query.map_err(|rejection| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the query cannot be read: {}", rejection.body_text()),
        )
    })?;
    let page = query.page()?;
    let history = connections
        .history(&dev1, &dev2, page)
        .map_err(errors::logged)?;
    if page.limit.is_none() {
        return whole_history(history).await;
    }
    // A limited page is bounded: it is read whole, for its Link header.
    let history: Vec<RegisteredCheck> = history
        .try_collect()
        .await
        .map_err(|e| errors::logged(e.into()))?;
    let status = if history.is_empty() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    let entries: Vec<RegisterEntry> = history.iter().map(RegisterEntry::from).collect();
    let mut response = (status, Json(&entries)).into_response();
    if let (Some(limit), Some(oldest)) = (page.limit, entries.first())
        && entries.len() >= limit as usize
    {
        let mut next = url::Url::parse("http://localhost/").expect("a constant URL parses"); // ok: a constant
        if let Ok(mut segments) = next.path_segments_mut() {
            segments
                .clear()
                .extend(["connected", "register", &dev1, &dev2]);
        }
        next.query_pairs_mut()
            .append_pair("limit", &limit.to_string())
            .append_pair("before", &oldest.registered_at);
        let link = format!(
            "<{}?{}>; rel=\"next\"",
            next.path(),
            next.query().unwrap_or_default()
        );
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    Ok(response)
}

/// Entries serialised into one write of a whole history's body.
const ENTRIES_PER_WRITE: usize = 256;

/// A whole history, streamed into the body as it is read: the JSON array the limited page
/// gives, without ever holding more than a chunk of it. The first entries are read before
/// the status is chosen, so an empty history is still a `404 []` and a register that cannot
/// be read a `503`; a history read in one go is sent whole, with its length. A failure after
/// the status can only cut the body short: the closing `]` is never sent and the connection
/// is aborted, so a client cannot take the part for the whole.
async fn whole_history(history: HistoryStream) -> Result<Response, ApiError> {
    let mut chunks = history.ready_chunks(ENTRIES_PER_WRITE);
    let Some(first) = chunks.next().await else {
        return Ok((StatusCode::NOT_FOUND, Json(Vec::<RegisterEntry>::new())).into_response());
    };
    let mut opening = b"[".to_vec();
    write_entries(&mut opening, first, true).map_err(|e| errors::logged(e.into()))?;
    let json = [(header::CONTENT_TYPE, "application/json")];
    let next = match chunks.next().now_or_never() {
        Some(None) => {
            opening.push(b']');
            return Ok((json, opening).into_response());
        }
        Some(Some(entries)) => Some(entries),
        None => None,
    };
    let span = tracing::Span::current();
    let rest = futures::stream::iter(next).chain(chunks).map(move |entries| {
        let mut bytes: Vec<u8> = Vec::with_capacity(entries.len() * 128);
        write_entries(&mut bytes, entries, false).inspect_err(|e| {
            span.in_scope(|| {
                tracing::error!(error = %e, "the register failed part way through a history: the answer was cut");
            });
        })?;
        Ok::<_, RegisterError>(bytes)
    });
    let body = futures::stream::once(async { Ok(opening) })
        .chain(rest)
        .chain(futures::stream::once(async { Ok(b"]".to_vec()) }))
        // Nothing may follow a failure, the closing bracket least of all.
        .scan(false, |failed, chunk| {
            let next = (!*failed).then(|| {
                *failed = chunk.is_err();
                chunk
            });
            async move { next }
        });
    Ok((json, axum::body::Body::from_stream(body)).into_response())
}

/// Entries of a history, as JSON, at the end of `bytes`, each after a comma unless it is
/// the array's `first`.
fn write_entries(
    bytes: &mut Vec<u8>,
    entries: Vec<Result<RegisteredCheck, RegisterError>>,
    mut first: bool,
) -> Result<(), RegisterError> {
    for entry in entries {
        let check = entry?;
        if !first {
            bytes.push(b',');
        }
        first = false;
        serde_json::to_writer(&mut *bytes, &RegisterEntry::from(&check))
            .map_err(|e| RegisterError::Unavailable(format!("an entry cannot be written: {e}")))?;
    }
    Ok(())
}

/// The register's query: both optional.
#[derive(Debug, Deserialize)]
struct HistoryQuery {
    limit: Option<String>,
    before: Option<String>,
}

impl HistoryQuery {
    const MAX_LIMIT: u32 = 10_000;

    fn page(&self) -> Result<HistoryPage, ApiError> {
        let limit = match &self.limit {
            None => None,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=Self::MAX_LIMIT).contains(&n) => Some(n),
                _ => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        format!(
                            "limit must be a whole number from 1 to {}, not {raw:?}",
                            Self::MAX_LIMIT
                        ),
                    ));
                }
            },
        };
        let before = match &self.before {
            None => None,
            Some(raw) => Some(
                chrono::DateTime::parse_from_rfc3339(raw)
                    .map_err(|_| {
                        ApiError::new(
                            StatusCode::BAD_REQUEST,
                            format!("before must be an RFC 3339 time such as 2021-10-30T13:54:45.485Z, not {raw:?}"),
                        )
                    })?
                    .with_timezone(&chrono::Utc),
            ),
        };
        Ok(HistoryPage { limit, before })
    }
}

/// A team's body is small: 100 handles of at most 100 characters.
const TEAM_BODY_LIMIT: usize = 64 * 1024;

/// Who in a team is fully connected to whom, in one request: each developer's organisations
/// once, X's lookups in batches of 100, each follow list read at most once and only for
/// developers who share an organisation with someone. Every pair's verdict is recorded.
#[utoipa::path(
    post,
    path = "/connected/network",
    tag = "connected",
    request_body = TeamRequest,
    params(("Cache-Control" = Option<String>, Header,
            description = "`no-cache`: ask GitHub and X again instead of using cached facts")),
    responses(
        (status = 200, description = "The team's connections and groups; developers missing on a network are listed in `errors` and left out; pairs whose follows cannot be read (protected accounts) are listed in `undecided` and not recorded", body = NetworkBody),
        (status = 400, description = "Unreadable JSON, an unusable handle, or not 2 to 100 different developers", body = ErrorsBody),
        (status = 413, description = "The body is larger than 64 KiB", body = ErrorsBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorsBody),
        (status = 422, description = "The JSON is not `{\"developers\": [\"...\"]}`", body = ErrorsBody),
        (status = 502, description = "An upstream failed; nothing recorded", body = ErrorsBody),
        (status = 504, description = "The upstreams together took longer than REQUEST_TIMEOUT", body = ErrorsBody),
        (status = 503, description = "An upstream is rate-limited (with `Retry-After`), or the register is unavailable; nothing recorded", body = ErrorsBody,
         headers(("Retry-After" = u64, description = "Seconds until the upstream's rate limit resets"))),
    )
)]
async fn network(
    State(connections): State<Connections>,
    headers: HeaderMap,
    body: Result<Json<TeamRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(team) = body.map_err(|rejection| {
        let message = match &rejection {
            JsonRejection::MissingJsonContentType(_) => {
                "the body must be JSON, sent with Content-Type: application/json".to_owned()
            }
            JsonRejection::JsonDataError(e) => {
                format!(
                    "the body must be {{\"developers\": [\"handle\", ...]}}: {}",
                    e.body_text()
                )
            }
            JsonRejection::JsonSyntaxError(e) => {
                format!("the body is not valid JSON: {}", e.body_text())
            }
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                format!("the body is larger than {} KiB", TEAM_BODY_LIMIT / 1024)
            }
            other => other.body_text(),
        };
        ApiError::new(rejection.status(), message)
    })?;
    let network = connections
        .network(&team.developers, freshness(&headers))
        .await
        .map_err(errors::logged)?;
    Ok(Json(NetworkBody::from(&network)).into_response())
}

/// `Cache-Control: no-cache` asks for facts read now.
fn freshness(headers: &HeaderMap) -> Freshness {
    let no_cache = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|directive| directive.trim().eq_ignore_ascii_case("no-cache"));
    if no_cache {
        Freshness::Fresh
    } else {
        Freshness::Cached
    }
}

/// Prometheus metrics: requests, upstream calls, cache lookups, X users read.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "The metrics in the Prometheus (OpenMetrics) text format", body = String,
               content_type = "application/openmetrics-text")))]
async fn metrics_text(State(metrics): State<Arc<Metrics>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.encode(),
    )
        .into_response()
}

/// Liveness: 200 while the process runs.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process runs", body = StatusBody)))]
async fn healthz() -> Json<StatusBody> {
    Json(StatusBody {
        status: "ok".into(),
    })
}

/// Readiness: 200 when the register answers, 503 otherwise.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "The register answers", body = StatusBody),
              (status = 503, description = "The register does not answer", body = ErrorsBody)))]
async fn readyz(State(connections): State<Connections>) -> Response {
    match connections.ready().await {
        Ok(()) => Json(StatusBody {
            status: "ready".into(),
        })
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the register is unavailable",
            )
            .into_response()
        }
    }
}

const REDOC_PAGE: &str = r#"<!DOCTYPE html>
<html>
  <head>
    <title>Connected Developers API</title>
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1">
  </head>
  <body>
    <redoc spec-url="/openapi.json"></redoc>
    <script src="/redoc/redoc.standalone.js"></script>
  </body>
</html>
"#;

/// Redoc 2.x, embedded so the page works with no internet.
const REDOC_SCRIPT: &str = include_str!("../../../assets/redoc.standalone.js");

async fn redoc() -> Html<&'static str> {
    Html(REDOC_PAGE)
}

async fn redoc_script() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        REDOC_SCRIPT,
    )
}

/// Requests that match no route are counted under one label, `unmatched`: their paths are
/// anyone's to invent and would make the label set grow without bound.
async fn not_found(State(metrics): State<Arc<Metrics>>, method: Method, uri: Uri) -> ApiError {
    metrics.request("unmatched", &method, 404, std::time::Duration::ZERO);
    no_such_resource(&method, &uri)
}

fn no_such_resource(method: &Method, uri: &Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "no such resource: {} {}",
            spoken_method(method),
            spoken_path(uri)
        ),
    )
}

/// Swagger UI, its files under `/docs/`, and the document at `/openapi.json`. The viewer
/// answers a file it does not have with an empty 404; the API promises the JSON one for
/// every unknown path, so that answer is replaced.
fn docs() -> Router<AppState> {
    Router::from(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()))
        .layer(middleware::from_fn(docs_not_found))
}

async fn docs_not_found(request: Request, next: Next) -> Response {
    let (method, uri) = (request.method().clone(), request.uri().clone());
    let response = next.run(request).await;
    if response.status() == StatusCode::NOT_FOUND {
        no_such_resource(&method, &uri).into_response()
    } else {
        response
    }
}

async fn method_not_allowed(
    State(metrics): State<Arc<Metrics>>,
    method: Method,
    uri: Uri,
) -> ApiError {
    metrics.request("unmatched", &method, 405, std::time::Duration::ZERO);
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} is not allowed on {}",
            spoken_method(&method),
            spoken_path(&uri)
        ),
    )
}

/// A method as an error message names it: an invented one can be hundreds of kilobytes,
/// which an answer has no reason to send back.
fn spoken_method(method: &Method) -> &'static str {
    match crate::metrics::method_label(method) {
        "other" => "an unknown method",
        known => known,
    }
}

/// The longest path an error message repeats; a path can be tens of kilobytes.
const SPOKEN_PATH_MAX: usize = 256;

fn spoken_path(uri: &Uri) -> String {
    let path = uri.path();
    if path.len() <= SPOKEN_PATH_MAX {
        path.to_owned()
    } else {
        format!("{}…", &path[..path.floor_char_boundary(SPOKEN_PATH_MAX)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        HistoryPage, HistoryStream, Network, Pair, Register, RegisterError, RegisteredCheck,
        Verdict,
    };
    use crate::outbound::{demo::DemoGraph, sqlite::SqliteRegister};
    use axum::body::Body;
    use axum::http::Request;
    use chrono::{DateTime, Utc};
    use serde_json::{Value, json};
    use std::sync::Arc;
    use tower::ServiceExt;

    /// A register whose storage is gone.
    struct Unreachable;

    #[async_trait::async_trait]
    impl Register for Unreachable {
        async fn record(
            &self,
            _: &Pair,
            _: &Verdict,
            _: Network,
            _: DateTime<Utc>,
        ) -> Result<RegisteredCheck, RegisterError> {
            Err(RegisterError::Unavailable("disk I/O error".into()))
        }
        async fn record_all(
            &self,
            _: &[(Pair, Verdict)],
            _: Network,
            _: DateTime<Utc>,
        ) -> Result<(), RegisterError> {
            Err(RegisterError::Unavailable("disk I/O error".into()))
        }
        fn stream_history(&self, _: &Pair, _: HistoryPage) -> HistoryStream {
            futures::stream::iter([Err(RegisterError::Unavailable("disk I/O error".into()))])
                .boxed()
        }
        async fn ping(&self) -> Result<(), RegisterError> {
            Err(RegisterError::Unavailable("disk I/O error".into()))
        }
    }

    async fn app(register: Arc<dyn Register>) -> Router {
        let graph = Arc::new(DemoGraph::bundled().unwrap());
        router(
            Connections::new(graph.clone(), graph, register),
            Arc::default(),
        )
    }

    async fn get(app: Router, uri: &str) -> (StatusCode, Value) {
        let response = app
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_check_answers_from_the_graph_and_is_recorded() {
        let register = Arc::new(SqliteRegister::connect("sqlite::memory:").await.unwrap());
        let app = app(register).await;
        let (status, body) = get(app.clone(), "/connected/realtime/alice/bob").await;
        assert_eq!(
            (status, body),
            (
                StatusCode::OK,
                json!({"connected": true, "organisations": ["acme", "Zeta-Org"]})
            )
        );
        let (status, body) = get(app, "/connected/register/Bob/Alice").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body.as_array().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_register_that_cannot_write_gives_503_and_readiness_says_so() {
        let app = app(Arc::new(Unreachable)).await;
        let (status, body) = get(app.clone(), "/connected/realtime/alice/bob").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let message = body["errors"][0].as_str().unwrap();
        assert!(
            message.contains("register is unavailable") && !message.contains("disk"),
            "{message}"
        );
        let (status, _) = get(app.clone(), "/connected/register/alice/bob").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let (status, _) = get(app.clone(), "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let (status, _) = get(app, "/healthz").await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn an_unreadable_path_is_a_bad_request_not_a_crash() {
        let app = app(Arc::new(Unreachable)).await;
        let (status, body) = get(app.clone(), "/connected/realtime/%FF%FE/bob").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body["errors"][0]
                .as_str()
                .unwrap()
                .starts_with("the developers in the path cannot be read")
        );
        let long = "a".repeat(101);
        let (status, body) = get(app, &format!("/connected/realtime/{long}/bob")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"errors": ["a developer handle is at most 100 characters long"]})
        );
    }
}
