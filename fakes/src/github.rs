//! GitHub REST: organisations with `Link` paging and `ETag`s, and `following/{b}`; and, for
//! signed-in members, the OAuth web flow and what a user token answers.

mod member;
mod oauth;

pub use oauth::{GITHUB_OAUTH_CLIENT_ID, GITHUB_OAUTH_CLIENT_SECRET};

use crate::server::{
    Answer, Endpoint, Failure, Fake, Refused, Shared, header_map, injected, json_answer, json_body,
    record, start,
};
use crate::{Graph, now};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// GitHub on a free port: the API and the web flow's pages on one origin.
pub async fn github(graph: Graph) -> Fake {
    let fake = start(
        graph,
        Router::new()
            .route("/users/{login}/orgs", get(github_orgs_by_login))
            .route("/user/{id}/orgs", get(github_orgs_by_id))
            .route("/users/{login}/following/{target}", get(github_follows))
            .merge(oauth::routes())
            .merge(member::routes()),
    )
    .await;
    fake.shared.oauth.lock().unwrap().prefix = "gho_";
    fake
}

/// A GitHub user of the graph: (login, id, organisations).
type User = (String, u64, Vec<String>);

fn github_headers(remaining: u64) -> HeaderMap {
    let reset = now() + 3600;
    header_map([
        ("x-ratelimit-limit", "5000".to_owned()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-used", (5000 - remaining).to_string()),
        ("x-ratelimit-reset", reset.to_string()),
        ("x-ratelimit-resource", "core".to_owned()),
        ("x-github-api-version-selected", "2022-11-28".to_owned()),
    ])
}

fn github_error(status: StatusCode, message: &str, headers: HeaderMap) -> Response {
    json_answer(
        status,
        headers,
        json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": status.as_u16().to_string(),
        }),
    )
}

fn not_found() -> Response {
    github_error(StatusCode::NOT_FOUND, "Not Found", github_headers(4999))
}

async fn github_orgs_by_login(
    State(shared): State<Arc<Shared>>,
    Path(login): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Answer {
    record(&shared, &format!("/users/{login}/orgs"), &query).await;
    let login = login.to_lowercase();
    let user = shared.with_graph(|graph| graph.github.get(&login).cloned());
    let failure = shared.user_failures.lock().unwrap().get(&login).cloned();
    github_orgs(&shared, user, &query, &headers, failure).await
}

async fn github_orgs_by_id(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Answer {
    record(&shared, &format!("/user/{id}/orgs"), &query).await;
    let user = shared.with_graph(|graph| {
        graph
            .github
            .values()
            .find(|(_, uid, _)| *uid == id)
            .cloned()
    });
    github_orgs(&shared, user, &query, &headers, None).await
}

/// One page of a user's organisations, with its `Link` and `ETag`.
async fn github_orgs(
    shared: &Shared,
    user: Option<User>,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    user_failure: Option<Failure>,
) -> Answer {
    let rate = refuse_orgs(shared, headers, user_failure).await?;
    let unknown = || github_error(StatusCode::NOT_FOUND, "Not Found", rate.clone());
    let (_, id, orgs) = user.ok_or_else(unknown)?;
    let page = Page::asked(query);
    let hostile = shared.hostile_orgs.lock().unwrap().clone();
    if let Some(hostile) = hostile {
        let (body, more) = hostile.page(page.page);
        let mut h = rate;
        if more {
            let base = shared.base.lock().unwrap().clone();
            let next = format!(
                "<{base}/user/{id}/orgs?per_page={}&page={}>; rel=\"next\"",
                page.per_page,
                page.page + 1
            );
            h.insert("link", HeaderValue::from_str(&next).unwrap());
        }
        return Ok(json_body(body, h));
    }
    let body = serde_json::to_string(&page.of_orgs(&orgs)).unwrap();
    let mut h = rate;
    let base = shared.base.lock().unwrap().clone();
    if let Some(link) = page.link(&format!("{base}/user/{id}/orgs"), orgs.len()) {
        h.insert("link", link);
    }
    Ok(conditional(shared, headers, h, body))
}

/// Before any organisation is listed: a `User-Agent` is required, the API's version is
/// asserted, and a failure for this user (else one injected) is answered. Then the
/// rate-limit headers to answer with: a member's own under their token.
async fn refuse_orgs(
    shared: &Shared,
    headers: &HeaderMap,
    user_failure: Option<Failure>,
) -> Refused<HeaderMap> {
    require_user_agent(headers)?;
    assert_eq!(headers["accept"], "application/vnd.github+json");
    assert_eq!(headers["x-github-api-version"], "2022-11-28");
    let failure = match user_failure {
        Some(failure) => Some(failure),
        None => injected(shared, Endpoint::Any).await,
    };
    refuse(failure)?;
    member::rate_headers(shared, headers)
}

/// The page asked for: `per_page` (30 unless given, 1 to 100) and `page` (from 1).
struct Page {
    per_page: usize,
    page: usize,
}

impl Page {
    fn asked(query: &HashMap<String, String>) -> Self {
        let number = |key: &str, default: usize| {
            query
                .get(key)
                .and_then(|p| p.parse().ok())
                .unwrap_or(default)
        };
        Self {
            per_page: number("per_page", 30).clamp(1, 100),
            page: number("page", 1).max(1),
        }
    }

    /// This page's organisations as GitHub lists them.
    fn of_orgs(&self, orgs: &[String]) -> Vec<Value> {
        orgs.iter()
            .skip((self.page - 1) * self.per_page)
            .take(self.per_page)
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
            .collect()
    }

    /// The `Link` header to the pages around this one at `url` (by user id, as GitHub gives
    /// it for `/users/{login}/orgs`); none when there is only one page.
    fn link(&self, url: &str, items: usize) -> Option<HeaderValue> {
        let (per_page, page) = (self.per_page, self.page);
        let pages = items.div_ceil(per_page).max(1);
        let link =
            |p: usize, rel: &str| format!("<{url}?per_page={per_page}&page={p}>; rel=\"{rel}\"");
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
        (!links.is_empty()).then(|| HeaderValue::from_str(&links.join(", ")).unwrap())
    }
}

/// 200 with the body and its `ETag`, or a 304 with no body, which costs no rate limit, when
/// the request's `If-None-Match` is that `ETag`. Every request's `If-None-Match` is kept.
fn conditional(shared: &Shared, request: &HeaderMap, mut h: HeaderMap, body: String) -> Response {
    let etag = weak_etag(&body);
    let asked = request
        .get("if-none-match")
        .map(|v| v.to_str().unwrap().to_owned());
    shared.if_none_match.lock().unwrap().push(asked.clone());
    h.insert("etag", HeaderValue::from_str(&etag).unwrap());
    if asked.as_deref() == Some(etag.as_str()) {
        *shared.not_modified.lock().unwrap() += 1;
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    json_body(body, h)
}

/// A weak ETag of the body only, as GitHub's: the Link header can change under the same ETag.
fn weak_etag(body: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    format!("W/\"{:016x}\"", hasher.finish())
}

/// `GET /users/{a}/following/{b}`: 204 when a follows b, 404 when not or either is unknown.
/// GitHub's follows are taken to be the graph's X follows between the same handles.
async fn github_follows(
    State(shared): State<Arc<Shared>>,
    Path((login, target)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let path = format!("/users/{login}/following/{target}");
    record(&shared, &path, &HashMap::new()).await;
    require_user_agent(&headers)?;
    refuse(injected(&shared, Endpoint::Any).await)?;
    let rate = member::rate_headers(&shared, &headers)?;
    if shared.with_graph(|graph| graph.follows_on_github(&login, &target)) {
        Ok((StatusCode::NO_CONTENT, rate).into_response())
    } else {
        Err(github_error(StatusCode::NOT_FOUND, "Not Found", rate).into())
    }
}

/// GitHub refuses a request without a `User-Agent`.
fn require_user_agent(headers: &HeaderMap) -> Refused {
    if headers.contains_key("user-agent") {
        return Ok(());
    }
    Err(github_error(
        StatusCode::FORBIDDEN,
        "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
        HeaderMap::new(),
    ).into())
}

/// A failure as GitHub answers it; none, or a hang (after which the call goes on), is no
/// refusal.
fn refuse(failure: Option<Failure>) -> Refused {
    let answer = match failure {
        None | Some(Failure::Hang(_)) => return Ok(()),
        Some(Failure::RateLimited { reset_in }) => {
            let mut h = github_headers(0);
            h.insert("x-ratelimit-reset", HeaderValue::from(now() + reset_in));
            github_error(
                StatusCode::FORBIDDEN,
                "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit.)",
                h,
            )
        }
        Some(Failure::Status(401)) => github_error(
            StatusCode::UNAUTHORIZED,
            "Bad credentials",
            github_headers(4999),
        ),
        Some(Failure::Status(code)) => github_error(
            StatusCode::from_u16(code).unwrap(),
            "Server Error",
            github_headers(4999),
        ),
        Some(Failure::SecondaryLimit) => github_error(
            StatusCode::FORBIDDEN,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            github_headers(4321),
        ),
        Some(Failure::Garbage) => {
            (StatusCode::OK, github_headers(4999), "<html>oops</html>").into_response()
        }
        Some(Failure::Body(body)) => json_body(body, github_headers(4999)),
    };
    Err(answer.into())
}
