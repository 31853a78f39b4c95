//! GitHub REST: organisations with `Link` paging and `ETag`s, and `following/{b}`.

use crate::server::{Endpoint, Failure, Fake, Shared, injected, json_body, record, start};
use crate::{Graph, now};
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

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
    if let Some(refusal) = without_user_agent(headers) {
        return refusal;
    }
    assert_eq!(headers["accept"], "application/vnd.github+json");
    assert_eq!(headers["x-github-api-version"], "2022-11-28");
    let failure = match user_failure {
        Some(failure) => Some(failure),
        None => injected(shared, Endpoint::Any).await,
    };
    if let Some(refusal) = failure.and_then(github_failure) {
        return refusal;
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
    if let Some(refusal) = without_user_agent(&headers) {
        return refusal;
    }
    if let Some(refusal) = injected(&shared, Endpoint::Any)
        .await
        .and_then(github_failure)
    {
        return refusal;
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

/// GitHub refuses a request without a `User-Agent`.
fn without_user_agent(headers: &HeaderMap) -> Option<Response> {
    (!headers.contains_key("user-agent")).then(|| {
        github_error(
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
            HeaderMap::new(),
        )
    })
}

/// An injected failure as GitHub answers it; `None` for a hang, after which the call goes on.
fn github_failure(failure: Failure) -> Option<Response> {
    Some(match failure {
        Failure::RateLimited { reset_in } => {
            let mut h = github_headers(0);
            h.insert("x-ratelimit-reset", HeaderValue::from(now() + reset_in));
            github_error(
                StatusCode::FORBIDDEN,
                "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit.)",
                h,
            )
        }
        Failure::Status(401) => github_error(
            StatusCode::UNAUTHORIZED,
            "Bad credentials",
            github_headers(4999),
        ),
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
        Failure::Garbage => {
            (StatusCode::OK, github_headers(4999), "<html>oops</html>").into_response()
        }
        Failure::Body(body) => json_body(body, github_headers(4999)),
        Failure::Hang(_) => return None,
    })
}
