//! Fake GitHub and X servers over real HTTP, speaking their real wire formats: pagination by
//! `Link` header and `pagination_token`, rate-limit headers on every answer, errors in each
//! API's own shape. Each fake counts the calls it receives.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const X_TOKEN: &str = "AAAA-test-bearer-token";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Who is where, who belongs to what and who follows whom.
#[derive(Clone, Default)]
pub struct Graph {
    /// lower-cased login → (login as GitHub spells it, id, organisations)
    github: BTreeMap<String, (String, u64, Vec<String>)>,
    /// lower-cased username → (username, id)
    x: BTreeMap<String, (String, String)>,
    /// follower id → followee ids, oldest first; filler ids are users nobody knows.
    following: HashMap<String, Vec<String>>,
    /// followee id → extra follower ids (filler), so a followers list can be long.
    extra_followers: HashMap<String, Vec<String>>,
    /// X ids of protected accounts: their own follow lists cannot be read with an app-only
    /// token.
    protected: std::collections::HashSet<String>,
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    /// A developer on both networks with these organisations, following these users.
    pub fn dev(self, name: &str, orgs: &[&str], follows: &[&str]) -> Self {
        self.github(name, orgs).x(name, follows)
    }

    /// A GitHub user only.
    pub fn github(mut self, login: &str, orgs: &[&str]) -> Self {
        let id = 100 + self.github.len() as u64;
        self.github.insert(
            login.to_lowercase(),
            (
                login.to_owned(),
                id,
                orgs.iter().map(|s| s.to_string()).collect(),
            ),
        );
        self
    }

    /// An X user only, following these usernames (added to X if new).
    pub fn x(mut self, username: &str, follows: &[&str]) -> Self {
        let id = self.x_id(username);
        for followee in follows {
            let followee = self.x_id(followee);
            self.following.entry(id.clone()).or_default().push(followee);
        }
        self
    }

    fn x_id(&mut self, username: &str) -> String {
        let next = format!("{}", 2000 + self.x.len());
        self.x
            .entry(username.to_lowercase())
            .or_insert_with(|| (username.to_owned(), next))
            .1
            .clone()
    }

    /// Makes `username` follow `n` more unknown accounts, placed before its real follows
    /// (so a real follow sits on a later page).
    pub fn pad_following(mut self, username: &str, n: usize) -> Self {
        let id = self.x_id(username);
        let filler = (0..n).map(|i| format!("9{id}{i:07}"));
        let list = self.following.entry(id.clone()).or_default();
        let real = std::mem::take(list);
        list.extend(filler);
        list.extend(real);
        self
    }

    /// Makes `username` a protected account on X (added to X if new).
    pub fn protect(mut self, username: &str) -> Self {
        let id = self.x_id(username);
        self.protected.insert(id);
        self
    }

    /// Gives `username` `n` more unknown followers, placed before its real followers.
    pub fn pad_followers(mut self, username: &str, n: usize) -> Self {
        let id = self.x_id(username);
        let filler = (0..n).map(|i| format!("8{id}{i:07}")).collect();
        self.extra_followers.insert(id, filler);
        self
    }

    fn followers(&self, id: &str) -> Vec<String> {
        let mut list = self.extra_followers.get(id).cloned().unwrap_or_default();
        let mut followers: Vec<&String> = self
            .following
            .iter()
            .filter(|(_, followees)| followees.iter().any(|f| f == id))
            .map(|(follower, _)| follower)
            .collect();
        followers.sort();
        list.extend(followers.into_iter().cloned());
        list
    }
}

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
}

#[derive(Default)]
struct Shared {
    graph: Mutex<Graph>,
    calls: Mutex<Vec<String>>,
    failure: Mutex<Option<(Endpoint, Failure)>>,
    /// The next so many calls to an endpoint succeed, then every one fails.
    budget: Mutex<Option<(Endpoint, usize, Failure)>>,
    /// GitHub only: failures for one login's organisations, whatever else happens.
    user_failures: Mutex<HashMap<String, Failure>>,
    users_read: Mutex<u64>,
    /// GitHub only: conditional requests answered 304.
    not_modified: Mutex<u64>,
    /// Every request's `If-None-Match`, in order (None when absent).
    if_none_match: Mutex<Vec<Option<String>>>,
    /// Answers wait this long first (a stand-in for the network's latency).
    latency: Mutex<Duration>,
    /// Bluesky only: answer an unknown `actor` with 400 ActorNotFound (the lexicon) instead of
    /// 200 with every entry not found (today's AppView).
    actor_not_found_as_400: Mutex<bool>,
    base: Mutex<String>,
}

/// A fake upstream server on a free loopback port.
#[derive(Clone)]
pub struct Fake {
    pub url: String,
    shared: Arc<Shared>,
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

    pub fn set_graph(&self, graph: Graph) {
        *self.shared.graph.lock().unwrap() = graph;
    }
}

async fn start(graph: Graph, router: Router<Arc<Shared>>) -> Fake {
    let shared = Arc::new(Shared::default());
    *shared.graph.lock().unwrap() = graph;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    *shared.base.lock().unwrap() = url.clone();
    let app = router.with_state(shared.clone());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Fake { url, shared }
}

async fn record(shared: &Shared, path: &str, query: &HashMap<String, String>) {
    let latency = *shared.latency.lock().unwrap();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    record_now(shared, path, query);
}

fn record_now(shared: &Shared, path: &str, query: &HashMap<String, String>) {
    let mut query: Vec<_> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    query.sort();
    shared
        .calls
        .lock()
        .unwrap()
        .push(format!("{path}?{}", query.join("&")));
}

/// The failure to apply to this call, if any (after a hang, the call goes on normally).
async fn injected(shared: &Shared, endpoint: Endpoint) -> Option<Failure> {
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

/// 200 with a JSON body as given.
fn json_body(body: String, mut headers: HeaderMap) -> Response {
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    (StatusCode::OK, headers, body).into_response()
}

// ---------------------------------------------------------------- GitHub

pub async fn github(graph: Graph) -> Fake {
    start(
        graph,
        Router::new()
            .route("/users/{login}/orgs", get(github_orgs_by_login))
            .route("/user/{id}/orgs", get(github_orgs_by_id))
            .route("/users/{login}/following/{target}", get(github_follows)),
    )
    .await
}

fn github_headers(remaining: u64) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let reset = now() + 3600;
    for (name, value) in [
        ("x-ratelimit-limit", "5000".to_owned()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-used", (5000 - remaining).to_string()),
        ("x-ratelimit-reset", reset.to_string()),
        ("x-ratelimit-resource", "core".to_owned()),
        ("x-github-api-version-selected", "2022-11-28".to_owned()),
    ] {
        headers.insert(name, HeaderValue::from_str(&value).unwrap());
    }
    headers
}

fn github_error(status: StatusCode, message: &str, headers: HeaderMap) -> Response {
    (
        status,
        headers,
        Json(json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": status.as_u16().to_string(),
        })),
    )
        .into_response()
}

async fn github_orgs_by_login(
    State(shared): State<Arc<Shared>>,
    Path(login): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    record(&shared, &format!("/users/{login}/orgs"), &query).await;
    let user = shared
        .graph
        .lock()
        .unwrap()
        .github
        .get(&login.to_lowercase())
        .cloned();
    let failure = shared
        .user_failures
        .lock()
        .unwrap()
        .get(&login.to_lowercase())
        .cloned();
    github_orgs(&shared, user, &query, &headers, failure).await
}

async fn github_orgs_by_id(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    record(&shared, &format!("/user/{id}/orgs"), &query).await;
    let user = shared
        .graph
        .lock()
        .unwrap()
        .github
        .values()
        .find(|(_, uid, _)| *uid == id)
        .cloned();
    github_orgs(&shared, user, &query, &headers, None).await
}

async fn github_orgs(
    shared: &Shared,
    user: Option<(String, u64, Vec<String>)>,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    user_failure: Option<Failure>,
) -> Response {
    if !headers.contains_key("user-agent") {
        return github_error(
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
            HeaderMap::new(),
        );
    }
    assert_eq!(headers["accept"], "application/vnd.github+json");
    assert_eq!(headers["x-github-api-version"], "2022-11-28");
    let failure = match user_failure {
        Some(failure) => Some(failure),
        None => injected(shared, Endpoint::Any).await,
    };
    match failure {
        Some(Failure::RateLimited { reset_in }) => {
            let mut h = github_headers(0);
            h.insert("x-ratelimit-reset", HeaderValue::from(now() + reset_in));
            return github_error(
                StatusCode::FORBIDDEN,
                "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit.)",
                h,
            );
        }
        Some(Failure::Status(401)) => {
            return github_error(
                StatusCode::UNAUTHORIZED,
                "Bad credentials",
                github_headers(4999),
            );
        }
        Some(Failure::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap();
            return github_error(status, "Server Error", github_headers(4999));
        }
        Some(Failure::Garbage) => {
            return (StatusCode::OK, github_headers(4999), "<html>oops</html>").into_response();
        }
        Some(Failure::Body(body)) => return json_body(body, github_headers(4999)),
        Some(Failure::SecondaryLimit) => {
            return github_error(
                StatusCode::FORBIDDEN,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                github_headers(4321),
            );
        }
        Some(Failure::Hang(_)) | None => {}
    }
    let Some((_, id, orgs)) = user else {
        return github_error(StatusCode::NOT_FOUND, "Not Found", github_headers(4999));
    };
    let per_page: usize = query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let pages = orgs.len().div_ceil(per_page).max(1);
    let items: Vec<Value> = orgs
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .enumerate()
        .map(|(i, login)| {
            json!({
                "login": login, "id": 5000 + i, "node_id": "MDEyOk9yZ2FuaXphdGlvbjE=",
                "url": format!("https://api.github.com/orgs/{login}"),
                "repos_url": format!("https://api.github.com/orgs/{login}/repos"),
                "avatar_url": "https://avatars.githubusercontent.com/u/1?v=4",
                "description": null
            })
        })
        .collect();
    let mut h = github_headers(4999);
    let base = shared.base.lock().unwrap().clone();
    let link = |p: usize, rel: &str| {
        format!("<{base}/user/{id}/orgs?per_page={per_page}&page={p}>; rel=\"{rel}\"")
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(link(page - 1, "prev"));
    }
    if page < pages {
        links.push(link(page + 1, "next"));
        links.push(link(pages, "last"));
    }
    if page > 1 {
        links.push(link(1, "first"));
    }
    if !links.is_empty() {
        h.insert("link", HeaderValue::from_str(&links.join(", ")).unwrap());
    }
    // A weak ETag of the page's content, as GitHub sends; a matching If-None-Match gets a
    // 304 with no body, which costs no rate limit.
    let body = serde_json::to_string(&items).unwrap();
    let etag = format!("W/\"{:016x}\"", {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        // Of the body only, as GitHub's: the Link header can change under the same ETag.
        body.hash(&mut hasher);
        hasher.finish()
    });
    let asked = headers
        .get("if-none-match")
        .map(|v| v.to_str().unwrap().to_owned());
    shared.if_none_match.lock().unwrap().push(asked.clone());
    h.insert("etag", HeaderValue::from_str(&etag).unwrap());
    if asked.as_deref() == Some(etag.as_str()) {
        *shared.not_modified.lock().unwrap() += 1;
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    h.insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    (StatusCode::OK, h, body).into_response()
}

/// `GET /users/{a}/following/{b}`: 204 when a follows b, 404 when not or either is unknown.
/// GitHub's follows are taken to be the graph's X follows between the same handles.
async fn github_follows(
    State(shared): State<Arc<Shared>>,
    Path((login, target)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    record(
        &shared,
        &format!("/users/{login}/following/{target}"),
        &HashMap::new(),
    )
    .await;
    if let Some(failure) = injected(&shared, Endpoint::Any).await {
        return github_failure(failure);
    }
    if !headers.contains_key("user-agent") {
        return github_error(
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
            HeaderMap::new(),
        );
    }
    let graph = shared.graph.lock().unwrap().clone();
    let on_github = |h: &str| graph.github.contains_key(&h.to_lowercase());
    let x_id = |h: &str| graph.x.get(&h.to_lowercase()).map(|(_, id)| id.clone());
    let follows = on_github(&login)
        && on_github(&target)
        && match (x_id(&login), x_id(&target)) {
            (Some(a), Some(b)) => graph.following.get(&a).is_some_and(|f| f.contains(&b)),
            _ => false,
        };
    if follows {
        (StatusCode::NO_CONTENT, github_headers(4999)).into_response()
    } else {
        github_error(StatusCode::NOT_FOUND, "Not Found", github_headers(4999))
    }
}

fn github_failure(failure: Failure) -> Response {
    match failure {
        Failure::RateLimited { reset_in } => {
            let mut h = github_headers(0);
            h.insert("x-ratelimit-reset", HeaderValue::from(now() + reset_in));
            github_error(
                StatusCode::FORBIDDEN,
                "API rate limit exceeded for 127.0.0.1.",
                h,
            )
        }
        Failure::Status(code) => github_error(
            StatusCode::from_u16(code).unwrap(),
            "Server Error",
            github_headers(4999),
        ),
        Failure::SecondaryLimit => github_error(
            StatusCode::FORBIDDEN,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            github_headers(4321),
        ),
        Failure::Garbage | Failure::Hang(_) => {
            (StatusCode::OK, github_headers(4999), "<html>oops</html>").into_response()
        }
        Failure::Body(body) => json_body(body, github_headers(4999)),
    }
}

// ---------------------------------------------------------------- Bluesky

/// The Bluesky AppView: every X user of the graph is `<username>.bsky.social` with the DID
/// `did:plc:<x id>`, following whom they follow on X.
pub async fn bluesky(graph: Graph) -> Fake {
    start(
        graph,
        Router::new()
            .route("/xrpc/app.bsky.actor.getProfiles", get(bluesky_profiles))
            .route(
                "/xrpc/app.bsky.graph.getRelationships",
                get(bluesky_relationships),
            ),
    )
    .await
}

/// atproto's handle syntax: labels of letters, digits and inner hyphens, the last starting
/// with a letter.
fn valid_bluesky_handle(handle: &str) -> bool {
    let labels: Vec<&str> = handle.split('.').collect();
    handle.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()))
}

fn repeated(query: &Option<String>, key: &str) -> Vec<String> {
    url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .collect()
}

fn xrpc_error(status: StatusCode, error: &str, message: &str) -> Response {
    (status, Json(json!({"error": error, "message": message}))).into_response()
}

/// The graph's Bluesky view: lower-cased handle → (handle, did, x id).
fn bluesky_users(graph: &Graph) -> HashMap<String, (String, String, String)> {
    graph
        .x
        .values()
        .map(|(username, id)| {
            let handle = format!("{}.bsky.social", username.to_lowercase());
            (
                handle.clone(),
                (handle, format!("did:plc:{id}"), id.clone()),
            )
        })
        .collect()
}

async fn bluesky_refusal(shared: &Shared) -> Option<Response> {
    match injected(shared, Endpoint::Any).await? {
        Failure::RateLimited { reset_in } => {
            let mut h = HeaderMap::new();
            h.insert("ratelimit-limit", HeaderValue::from_static("3000"));
            h.insert("ratelimit-remaining", HeaderValue::from_static("0"));
            h.insert("ratelimit-reset", HeaderValue::from(now() + reset_in));
            Some(
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    h,
                    Json(json!({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"})),
                )
                    .into_response(),
            )
        }
        Failure::Status(code) => Some(xrpc_error(
            StatusCode::from_u16(code).unwrap(),
            "InternalServerError",
            "Internal Server Error",
        )),
        Failure::Garbage | Failure::Hang(_) | Failure::SecondaryLimit => {
            Some((StatusCode::OK, "not json").into_response())
        }
        Failure::Body(body) => Some(json_body(body, HeaderMap::new())),
    }
}

async fn bluesky_profiles(
    State(shared): State<Arc<Shared>>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let actors = repeated(&query, "actors");
    record(
        &shared,
        "/xrpc/app.bsky.actor.getProfiles",
        &HashMap::from([("actors".to_owned(), actors.join(","))]),
    )
    .await;
    if let Some(refusal) = bluesky_refusal(&shared).await {
        return refusal;
    }
    if actors.is_empty() || actors.len() > 25 {
        return xrpc_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            "actors must have 1 to 25 items",
        );
    }
    // As the AppView: one actor that is neither a DID nor a valid handle fails the batch.
    if let Some((i, _)) = actors
        .iter()
        .enumerate()
        .find(|(_, a)| !a.starts_with("did:") && !valid_bluesky_handle(a))
    {
        return xrpc_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            &format!("Error: actors/{i} must be a valid did or a handle"),
        );
    }
    let graph = shared.graph.lock().unwrap().clone();
    let users = bluesky_users(&graph);
    let profiles: Vec<Value> = actors
        .iter()
        .filter_map(|actor| users.get(&actor.to_lowercase()))
        .map(|(handle, did, id)| {
            json!({
                "did": did, "handle": handle, "displayName": handle,
                "followersCount": graph.followers(id).len(),
                "followsCount": graph.following.get(id).map_or(0, Vec::len),
                "postsCount": 3, "indexedAt": "2024-01-01T00:00:00.000Z"
            })
        })
        .collect();
    (StatusCode::OK, Json(json!({"profiles": profiles}))).into_response()
}

async fn bluesky_relationships(
    State(shared): State<Arc<Shared>>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let actor = repeated(&query, "actor").pop().unwrap_or_default();
    let others = repeated(&query, "others");
    record(
        &shared,
        "/xrpc/app.bsky.graph.getRelationships",
        &HashMap::from([
            ("actor".to_owned(), actor.clone()),
            ("others".to_owned(), others.join(",")),
        ]),
    )
    .await;
    if let Some(refusal) = bluesky_refusal(&shared).await {
        return refusal;
    }
    if others.len() > 30 {
        return xrpc_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            "others must not have more than 30 items",
        );
    }
    let graph = shared.graph.lock().unwrap().clone();
    let users = bluesky_users(&graph);
    let find = |a: &str| {
        users
            .values()
            .find(|(handle, did, _)| did == a || handle == &a.to_lowercase())
            .cloned()
    };
    let not_found = |a: &str| json!({"$type": "app.bsky.graph.defs#notFoundActor", "actor": a, "notFound": true});
    let Some((_, actor_did, actor_id)) = find(&actor) else {
        if *shared.actor_not_found_as_400.lock().unwrap() {
            return xrpc_error(
                StatusCode::BAD_REQUEST,
                "ActorNotFound",
                &format!("Actor not found: {actor}"),
            );
        }
        let entries: Vec<Value> = others.iter().map(|o| not_found(o)).collect();
        return (StatusCode::OK, Json(json!({"relationships": entries}))).into_response();
    };
    let follows = |a: &str, b: &str| {
        graph
            .following
            .get(a)
            .is_some_and(|f| f.iter().any(|x| x == b))
    };
    let entries: Vec<Value> = others
        .iter()
        .map(|other| match find(other) {
            None => not_found(other),
            Some((_, did, id)) => {
                let mut entry = json!({"$type": "app.bsky.graph.defs#relationship", "did": did});
                if follows(&actor_id, &id) {
                    entry["following"] =
                        json!(format!("at://{actor_did}/app.bsky.graph.follow/3k{id}"));
                }
                if follows(&id, &actor_id) {
                    entry["followedBy"] =
                        json!(format!("at://{did}/app.bsky.graph.follow/3k{actor_id}"));
                }
                entry
            }
        })
        .collect();
    (
        StatusCode::OK,
        Json(json!({"actor": actor_did, "relationships": entries})),
    )
        .into_response()
}

// ---------------------------------------------------------------- X

pub async fn x(graph: Graph) -> Fake {
    start(
        graph,
        Router::new()
            .route("/2/users/by", get(x_users_by))
            .route("/2/users/{id}/following", get(x_following))
            .route("/2/users/{id}/followers", get(x_followers)),
    )
    .await
}

fn x_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("x-rate-limit-limit", HeaderValue::from_static("300"));
    headers.insert("x-rate-limit-remaining", HeaderValue::from_static("299"));
    headers.insert("x-rate-limit-reset", HeaderValue::from(now() + 900));
    headers
}

/// Authorisation and injected failures, as X answers them.
async fn x_refusal(shared: &Shared, headers: &HeaderMap, endpoint: Endpoint) -> Option<Response> {
    let authorised = headers
        .get("authorization")
        .is_some_and(|v| v.as_bytes() == format!("Bearer {X_TOKEN}").as_bytes());
    if !authorised {
        return Some(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})),
            )
                .into_response(),
        );
    }
    match injected(shared, endpoint).await? {
        Failure::RateLimited { reset_in } => {
            let mut h = x_headers();
            h.insert("x-rate-limit-remaining", HeaderValue::from_static("0"));
            h.insert("x-rate-limit-reset", HeaderValue::from(now() + reset_in));
            Some(
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    h,
                    Json(json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429})),
                )
                    .into_response(),
            )
        }
        Failure::Status(403) => Some(
            (
                StatusCode::FORBIDDEN,
                x_headers(),
                Json(json!({
                    "client_id": "123", "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.",
                    "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
                    "title": "Client Forbidden", "required_enrollment": "Appropriate Level of API Access",
                    "reason": "client-not-enrolled", "type": "https://api.twitter.com/2/problems/client-forbidden"
                })),
            )
                .into_response(),
        ),
        Failure::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap();
            Some(
                (
                    status,
                    x_headers(),
                    Json(json!({"title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank", "status": code})),
                )
                    .into_response(),
            )
        }
        Failure::Garbage | Failure::SecondaryLimit => Some((StatusCode::OK, x_headers(), "{\"data\": [").into_response()),
        Failure::Body(body) => Some(json_body(body, x_headers())),
        Failure::Hang(_) => None,
    }
}

fn valid_x_username(s: &str) -> bool {
    !s.is_empty() && s.len() <= 15 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

async fn x_users_by(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    record(&shared, "/2/users/by", &query).await;
    if let Some(refusal) = x_refusal(&shared, &headers, Endpoint::Lookup).await {
        return refusal;
    }
    let names: Vec<&str> = query
        .get("usernames")
        .map(|u| u.split(',').collect())
        .unwrap_or_default();
    if names.is_empty() || names.len() > 100 || !names.iter().all(|n| valid_x_username(n)) {
        return (
            StatusCode::BAD_REQUEST,
            x_headers(),
            Json(json!({
                "errors": [{"parameters": {"usernames": [query.get("usernames")]}, "message": "The `usernames` query parameter value is not valid"}],
                "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request"
            })),
        )
            .into_response();
    }
    let graph = shared.graph.lock().unwrap().clone();
    let fields = |field: &str| {
        query
            .get("user.fields")
            .is_some_and(|f| f.split(',').any(|f| f == field))
    };
    let (with_metrics, with_protected) = (fields("public_metrics"), fields("protected"));
    let mut data = Vec::new();
    let mut errors = Vec::new();
    for name in names {
        match graph.x.get(&name.to_lowercase()) {
            Some((username, id)) => {
                let mut user =
                    json!({"id": id, "name": format!("{username} Name"), "username": username});
                if with_metrics {
                    user["public_metrics"] = json!({
                        "followers_count": graph.followers(id).len(),
                        "following_count": graph.following.get(id).map_or(0, Vec::len),
                        "tweet_count": 42, "listed_count": 1, "like_count": 7, "media_count": 0
                    });
                }
                if with_protected {
                    user["protected"] = json!(graph.protected.contains(id));
                }
                data.push(user);
            }
            None => errors.push(json!({
                "value": name, "detail": format!("Could not find user with usernames: [{name}]."),
                "title": "Not Found Error", "resource_type": "user", "parameter": "usernames",
                "resource_id": name, "type": "https://api.twitter.com/2/problems/resource-not-found"
            })),
        }
    }
    let mut body = serde_json::Map::new();
    if !data.is_empty() {
        body.insert("data".into(), Value::Array(data));
    }
    if !errors.is_empty() {
        body.insert("errors".into(), Value::Array(errors));
    }
    (StatusCode::OK, x_headers(), Json(Value::Object(body))).into_response()
}

async fn x_following(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    record(&shared, &format!("/2/users/{id}/following"), &query).await;
    let list = {
        let graph = shared.graph.lock().unwrap();
        graph
            .x
            .values()
            .any(|(_, uid)| *uid == id)
            .then(|| graph.following.get(&id).cloned().unwrap_or_default())
    };
    x_list(&shared, &headers, &query, &id, list).await
}

async fn x_followers(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    record(&shared, &format!("/2/users/{id}/followers"), &query).await;
    let list = {
        let graph = shared.graph.lock().unwrap();
        graph
            .x
            .values()
            .any(|(_, uid)| *uid == id)
            .then(|| graph.followers(&id))
    };
    x_list(&shared, &headers, &query, &id, list).await
}

async fn x_list(
    shared: &Shared,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    id: &str,
    list: Option<Vec<String>>,
) -> Response {
    if let Some(refusal) = x_refusal(shared, headers, Endpoint::FollowList).await {
        return refusal;
    }
    let max_results: usize = match query.get("max_results").map(|m| m.parse()) {
        None => 100,
        Some(Ok(m)) if (1..=1000).contains(&m) => m,
        Some(_) => {
            return (
                StatusCode::BAD_REQUEST,
                x_headers(),
                Json(json!({"errors": [{"parameters": {"max_results": [query.get("max_results")]}, "message": "The `max_results` query parameter value is not between 1 and 1000"}],
                            "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                            "type": "https://api.twitter.com/2/problems/invalid-request"})),
            )
                .into_response();
        }
    };
    let Some(list) = list else {
        return (
            StatusCode::OK,
            x_headers(),
            Json(json!({"errors": [{"value": id, "detail": format!("Could not find user with id: [{id}]."), "title": "Not Found Error",
                                     "resource_type": "user", "parameter": "id", "resource_id": id,
                                     "type": "https://api.twitter.com/2/problems/resource-not-found"}]})),
        )
            .into_response();
    };
    if shared.graph.lock().unwrap().protected.contains(id) {
        // A protected account's own lists: a 200 with no data, only an authorisation error.
        return (
            StatusCode::OK,
            x_headers(),
            Json(json!({"errors": [{"resource_type": "user", "parameter": "id", "value": id, "resource_id": id,
                                     "section": "data", "title": "Authorization Error",
                                     "detail": format!("Sorry, you are not authorized to see the user with id: [{id}]."),
                                     "type": "https://api.twitter.com/2/problems/not-authorized-for-resource"}]})),
        )
            .into_response();
    }
    let offset: usize = query
        .get("pagination_token")
        .and_then(|t| t.strip_prefix("NEXT").and_then(|n| n.parse().ok()))
        .unwrap_or(0);
    let graph = shared.graph.lock().unwrap().clone();
    let page: Vec<Value> = list
        .iter()
        .skip(offset)
        .take(max_results)
        .map(|uid| {
            let username = graph
                .x
                .values()
                .find(|(_, i)| i == uid)
                .map_or_else(|| format!("u{uid}"), |(name, _)| name.clone());
            json!({"id": uid, "name": format!("{username} Name"), "username": username})
        })
        .collect();
    *shared.users_read.lock().unwrap() += page.len() as u64;
    let mut meta = json!({"result_count": page.len()});
    if offset + max_results < list.len() {
        meta["next_token"] = json!(format!("NEXT{}", offset + max_results));
    }
    if offset > 0 {
        meta["previous_token"] = json!(format!("PREV{offset}"));
    }
    let body = if page.is_empty() {
        json!({"meta": meta})
    } else {
        json!({"data": page, "meta": meta})
    };
    (StatusCode::OK, x_headers(), Json(body)).into_response()
}
