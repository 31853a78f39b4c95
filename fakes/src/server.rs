//! What every fake shares: a server on a free port, the calls it received, and failures
//! injected into its answers.

use crate::{Graph, HostileOrgs};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a fake does instead of answering normally.
#[derive(Clone, Debug)]
pub enum Failure {
    /// The rate limit is exhausted until `reset_in` from now.
    RateLimited { reset_in: u64 },
    /// A bare status with the API's error body.
    Status(u16),
    /// Answers after this long (longer than the client waits, in the tests that use it).
    Hang(Duration),
    /// 200 with a body that is not the expected JSON.
    Garbage,
    /// GitHub's secondary rate limit as it sometimes comes: a plain 403 whose body alone
    /// says so.
    SecondaryLimit,
    /// 200 with exactly this JSON body: valid JSON that is not the answer asked for (an
    /// errors-only body, a problem document, `null`, an object where a list belongs).
    Body(String),
}

/// Which calls a failure applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Any,
    /// X's `/2/users/by`.
    Lookup,
    /// X's following/followers lists.
    FollowList,
    /// The OAuth token endpoints: GitHub's code exchange and grant deletion, X's token
    /// (exchange and refresh) and revoke.
    Token,
}

#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) graph: Mutex<Graph>,
    pub(crate) calls: Mutex<Vec<String>>,
    pub(crate) failure: Mutex<Option<(Endpoint, Failure)>>,
    /// The next so many calls to an endpoint succeed, then every one fails.
    pub(crate) budget: Mutex<Option<(Endpoint, usize, Failure)>>,
    /// GitHub only: failures for one login's organisations, whatever else happens.
    pub(crate) user_failures: Mutex<HashMap<String, Failure>>,
    pub(crate) users_read: Mutex<u64>,
    /// X only: users returned by lookups (X bills them too).
    pub(crate) users_looked_up: Mutex<u64>,
    /// GitHub only: conditional requests answered 304.
    pub(crate) not_modified: Mutex<u64>,
    /// Every request's `If-None-Match`, in order (None when absent).
    pub(crate) if_none_match: Mutex<Vec<Option<String>>>,
    /// Answers wait this long first (a stand-in for the network's latency).
    pub(crate) latency: Mutex<Duration>,
    /// Bluesky only: answer an unknown `actor` with 400 ActorNotFound (the lexicon) instead of
    /// 200 with every entry not found (today's AppView).
    pub(crate) actor_not_found_as_400: Mutex<bool>,
    pub(crate) base: Mutex<String>,
    /// Whether a request whose client hangs up is still served to its end, as a real API
    /// serves (and bills) what it received; by default it is dropped with its connection.
    pub(crate) serve_abandoned: std::sync::atomic::AtomicBool,
    /// GitHub only: what every user's organisations are answered with instead.
    pub(crate) hostile_orgs: Mutex<Option<Arc<HostileOrgs>>>,
    /// Signed-in members: codes, user tokens and their rate-limit windows.
    pub(crate) oauth: Mutex<crate::oauth::Grants>,
}

impl Shared {
    /// What `read` finds in the graph as it is now.
    pub(crate) fn with_graph<T>(&self, read: impl FnOnce(&Graph) -> T) -> T {
        read(&self.graph.lock().unwrap())
    }
}

/// A fake upstream server on a free loopback port.
#[derive(Clone)]
pub struct Fake {
    pub url: String,
    pub(crate) shared: Arc<Shared>,
}

impl Fake {
    /// The paths and queries received, in order.
    pub fn calls(&self) -> Vec<String> {
        self.shared.calls.lock().unwrap().clone()
    }

    pub fn call_count(&self) -> usize {
        self.shared.calls.lock().unwrap().len()
    }

    /// X only: users returned from follow lists (what X bills).
    pub fn users_read(&self) -> u64 {
        *self.shared.users_read.lock().unwrap()
    }

    /// X only: users returned by lookups (`/2/users/by`, and `/2/users/me` for a member).
    pub fn users_looked_up(&self) -> u64 {
        *self.shared.users_looked_up.lock().unwrap()
    }

    /// X only: every user returned, by follow lists and lookups: what X bills.
    pub fn users_billed(&self) -> u64 {
        self.users_read() + self.users_looked_up()
    }

    /// GitHub only: how many conditional requests were answered 304 Not Modified.
    pub fn not_modified(&self) -> u64 {
        *self.shared.not_modified.lock().unwrap()
    }

    /// GitHub only: the `If-None-Match` each request carried.
    pub fn if_none_match(&self) -> Vec<Option<String>> {
        self.shared.if_none_match.lock().unwrap().clone()
    }

    /// Bluesky only: an unknown `actor` gets 400 `ActorNotFound` instead of 200.
    pub fn unknown_actor_as_400(&self, yes: bool) {
        *self.shared.actor_not_found_as_400.lock().unwrap() = yes;
    }

    /// Every answer waits this long first.
    pub fn set_latency(&self, latency: Duration) {
        *self.shared.latency.lock().unwrap() = latency;
    }

    pub fn fail(&self, endpoint: Endpoint, failure: Failure) {
        *self.shared.failure.lock().unwrap() = Some((endpoint, failure));
    }

    /// GitHub only: this login's organisation calls fail this way.
    pub fn fail_user(&self, login: &str, failure: Failure) {
        self.shared
            .user_failures
            .lock()
            .unwrap()
            .insert(login.to_lowercase(), failure);
    }

    /// The next `calls` calls to `endpoint` are answered, every later one fails so.
    pub fn fail_after(&self, endpoint: Endpoint, calls: usize, failure: Failure) {
        *self.shared.budget.lock().unwrap() = Some((endpoint, calls, failure));
    }

    pub fn heal(&self) {
        *self.shared.budget.lock().unwrap() = None;
        *self.shared.failure.lock().unwrap() = None;
    }

    /// A request received is served to its end, and counted, even when its client hangs up
    /// first: X bills the users of a page it served, whether or not it was read.
    pub fn serve_abandoned(&self, yes: bool) {
        self.shared
            .serve_abandoned
            .store(yes, std::sync::atomic::Ordering::Relaxed);
    }

    /// GitHub only: every user's organisations are answered so (see [`HostileOrgs`]).
    pub fn answer_orgs(&self, hostile: HostileOrgs) {
        *self.shared.hostile_orgs.lock().unwrap() = Some(Arc::new(hostile));
    }

    pub fn set_graph(&self, graph: Graph) {
        *self.shared.graph.lock().unwrap() = graph;
    }
}

pub(crate) async fn start(graph: Graph, router: Router<Arc<Shared>>) -> Fake {
    let shared = Arc::new(Shared::default());
    *shared.graph.lock().unwrap() = graph;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    *shared.base.lock().unwrap() = url.clone();
    let app = router
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            finish_abandoned,
        ))
        .with_state(shared.clone());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Fake { url, shared }
}

/// Serves the request in a task of its own when abandoned requests are to be served: then
/// the client hanging up, which drops this future, does not stop it.
async fn finish_abandoned(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if shared
        .serve_abandoned
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        match tokio::spawn(next.run(request)).await {
            Ok(response) => response,
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    } else {
        next.run(request).await
    }
}

pub(crate) async fn record(shared: &Shared, path: &str, query: &HashMap<String, String>) {
    let latency = *shared.latency.lock().unwrap();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    record_now(shared, path, query);
}

pub(crate) fn record_now(shared: &Shared, path: &str, query: &HashMap<String, String>) {
    let mut query: Vec<_> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    query.sort();
    shared
        .calls
        .lock()
        .unwrap()
        .push(format!("{path}?{}", query.join("&")));
}

/// The failure to apply to this call, if any (after a hang, the call goes on normally).
pub(crate) async fn injected(shared: &Shared, endpoint: Endpoint) -> Option<Failure> {
    {
        let mut budget = shared.budget.lock().unwrap();
        if let Some((on, left, failure)) = budget.as_mut()
            && (*on == Endpoint::Any || *on == endpoint)
        {
            if *left == 0 {
                return Some(failure.clone());
            }
            *left -= 1;
        }
    }
    let failure = shared.failure.lock().unwrap().clone();
    match failure {
        Some((on, failure)) if on == Endpoint::Any || on == endpoint => {
            if let Failure::Hang(d) = failure {
                tokio::time::sleep(d).await;
                return None;
            }
            Some(failure)
        }
        _ => None,
    }
}

/// What a call is answered instead of what it asked for: an error, or a failure injected.
pub(crate) struct Refusal(Box<Response>);

impl From<Response> for Refusal {
    fn from(answer: Response) -> Self {
        Self(Box::new(answer))
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// `T`, or the answer that refuses the call.
pub(crate) type Refused<T = ()> = Result<T, Refusal>;

/// An answer: `Ok` as asked, `Err` refused; axum sends either.
pub(crate) type Answer = Refused<Response>;

/// Headers from names and values.
pub(crate) fn header_map<const N: usize>(headers: [(&'static str, String); N]) -> HeaderMap {
    headers
        .into_iter()
        .map(|(name, value)| {
            (
                axum::http::HeaderName::from_static(name),
                HeaderValue::from_str(&value).unwrap(),
            )
        })
        .collect()
}

/// An answer with this status and these headers, and a JSON body.
pub(crate) fn json_answer(status: StatusCode, headers: HeaderMap, body: Value) -> Response {
    (status, headers, Json(body)).into_response()
}

/// 200 with a JSON body as given.
pub(crate) fn json_body(body: String, mut headers: HeaderMap) -> Response {
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    (StatusCode::OK, headers, body).into_response()
}
