//! What a member's own token answers on GitHub: who they are, all their organisations
//! (hidden ones too, with `read:org`), and organisation membership as a member sees it. Each
//! user's calls count against their own 5,000 an hour.

use super::{Page, github_error, github_headers, not_found, refuse, require_user_agent};
use crate::oauth::{Issued, Window, bearer};
use crate::server::{Answer, Endpoint, Refused, Shared, header_map, injected, json_body, record};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A user's core allowance: 5,000 calls an hour.
const CORE_LIMIT: u64 = 5000;
const CORE_WINDOW: Duration = Duration::from_secs(3600);

/// Scopes that let `/user/orgs` include hidden memberships.
const ORG_SCOPES: [&str; 4] = ["read:org", "write:org", "admin:org", "user"];

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/user", get(user))
        .route("/user/orgs", get(user_orgs))
        .route("/orgs/{org}/members/{username}", get(members))
        .route("/orgs/{org}/public_members/{username}", get(public_members))
}

/// The member a request's user token belongs to, with the rate-limit headers of their own
/// allowance after this call.
struct Member {
    issued: Issued,
    headers: HeaderMap,
}

/// GitHub's rate-limit headers for one user's window.
fn user_headers(window: Window) -> HeaderMap {
    header_map([
        ("x-ratelimit-limit", window.limit.to_string()),
        ("x-ratelimit-remaining", window.remaining.to_string()),
        (
            "x-ratelimit-used",
            (window.limit - window.remaining).to_string(),
        ),
        ("x-ratelimit-reset", window.reset.to_string()),
        ("x-ratelimit-resource", "core".to_owned()),
        ("x-github-api-version-selected", "2022-11-28".to_owned()),
    ])
}

/// The caller when it presents one of this fake's user tokens (`gho_…`), one call spent of
/// their own allowance: a token unknown or revoked is GitHub's 401; a spent allowance its
/// 403. Any other token (the app's PAT) or none is no member.
fn user_of(shared: &Shared, headers: &HeaderMap) -> Refused<Option<Member>> {
    let Some(token) = bearer(headers).filter(|t| t.starts_with("gho_")) else {
        return Ok(None);
    };
    let mut grants = shared.oauth.lock().unwrap();
    let Some(issued) = grants.holder(token) else {
        let message = "Bad credentials";
        return Err(github_error(StatusCode::UNAUTHORIZED, message, HeaderMap::new()).into());
    };
    let window = grants.spend(&issued.user, "core", CORE_LIMIT, CORE_WINDOW);
    let headers = user_headers(window);
    if window.exceeded {
        let id = shared.with_graph(|g| g.github.get(&issued.user).map(|u| u.1));
        let message = format!("API rate limit exceeded for user ID {}.", id.unwrap_or(0));
        return Err(github_error(StatusCode::FORBIDDEN, &message, headers).into());
    }
    Ok(Some(Member { issued, headers }))
}

/// The rate-limit headers a call is answered with: the member's own allowance under a user
/// token (spent by this call), the app's otherwise.
pub(super) fn rate_headers(shared: &Shared, headers: &HeaderMap) -> Refused<HeaderMap> {
    let member = user_of(shared, headers)?;
    Ok(member.map_or_else(|| github_headers(4999), |m| m.headers))
}

/// The member making the call, if any (see [`user_of`]), after the `User-Agent` GitHub
/// requires and any failure injected for every endpoint.
async fn member(shared: &Shared, headers: &HeaderMap) -> Refused<Option<Member>> {
    require_user_agent(headers)?;
    refuse(injected(shared, Endpoint::Any).await)?;
    user_of(shared, headers)
}

/// The member, or GitHub's 401 when the call carries no user token.
async fn signed_in(shared: &Shared, headers: &HeaderMap) -> Refused<Member> {
    member(shared, headers).await?.ok_or_else(|| {
        let message = "Requires authentication";
        github_error(StatusCode::UNAUTHORIZED, message, HeaderMap::new()).into()
    })
}

/// `GET /user`: the member the token belongs to.
async fn user(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Answer {
    record(&shared, "/user", &HashMap::new()).await;
    let member = signed_in(&shared, &headers).await?;
    let user = shared.with_graph(|g| g.github.get(&member.issued.user).cloned());
    let (login, id, _) = user.ok_or_else(not_found)?;
    let body = json!({
        "login": login, "id": id, "node_id": format!("MDQ6VXNlcj{id}"), "type": "User",
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "html_url": format!("https://github.com/{login}"), "name": format!("{login} Name"),
        "site_admin": false
    });
    Ok(json_body(body.to_string(), member.headers))
}

/// `GET /user/orgs`: all the member's organisations, hidden ones only when the token has
/// `read:org`, leaving out those that restrict OAuth App access; paged with `Link`.
async fn user_orgs(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Answer {
    record(&shared, "/user/orgs", &query).await;
    let Member {
        issued,
        headers: mut h,
    } = signed_in(&shared, &headers).await?;
    let with_hidden = issued
        .scope
        .split([',', ' '])
        .any(|s| ORG_SCOPES.contains(&s));
    let orgs: Vec<String> = shared.with_graph(|g| {
        let orgs = g.github_orgs(&issued.user, with_hidden);
        let restricted = |o: &String| g.restricted.contains(&o.to_lowercase());
        orgs.into_iter().filter(|o| !restricted(o)).collect()
    });
    let page = Page::asked(&query);
    let base = shared.base.lock().unwrap().clone();
    if let Some(link) = page.link(&format!("{base}/user/orgs"), orgs.len()) {
        h.insert("link", link);
    }
    Ok(json_body(json!(page.of_orgs(&orgs)).to_string(), h))
}

/// `GET /orgs/{org}/members/{username}`: to a member of `org`, 204 when `username` belongs
/// to it (hidden or not) and 404 when not; to anyone else, a 302 to the public check.
async fn members(
    State(shared): State<Arc<Shared>>,
    Path((org, username)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    record(
        &shared,
        &format!("/orgs/{org}/members/{username}"),
        &HashMap::new(),
    )
    .await;
    let member = member(&shared, &headers).await?;
    if !shared.with_graph(|g| g.org_exists(&org)) {
        return Err(not_found().into());
    }
    let base = shared.base.lock().unwrap().clone();
    let Some(Member { issued, headers: h }) = member else {
        return Ok(public_redirect(&base, &org, &username, HeaderMap::new()));
    };
    if shared.with_graph(|g| g.restricted.contains(&org.to_lowercase())) {
        let message = format!(
            "Although you appear to have the correct authorization credentials, the `{org}` organization has enabled OAuth App access restrictions, meaning that data access to third-parties is limited."
        );
        return Err(github_error(StatusCode::FORBIDDEN, &message, h).into());
    }
    let (requester, target) = shared.with_graph(|g| {
        (
            g.membership(&issued.user, &org),
            g.membership(&username, &org),
        )
    });
    match (requester, target) {
        (None, _) => Ok(public_redirect(&base, &org, &username, h)),
        (Some(_), Some(_)) => Ok((StatusCode::NO_CONTENT, h).into_response()),
        (Some(_), None) => Err(github_error(StatusCode::NOT_FOUND, "Not Found", h).into()),
    }
}

/// GitHub's `302` from the members check to the public one.
fn public_redirect(base: &str, org: &str, username: &str, mut h: HeaderMap) -> Response {
    let location = format!("{base}/orgs/{org}/public_members/{username}");
    if let Ok(location) = HeaderValue::from_str(&location) {
        h.insert("location", location);
    }
    (StatusCode::FOUND, h).into_response()
}

/// `GET /orgs/{org}/public_members/{username}`: 204 when `username` shows its membership,
/// 404 when not (hidden members included).
async fn public_members(
    State(shared): State<Arc<Shared>>,
    Path((org, username)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let path = format!("/orgs/{org}/public_members/{username}");
    record(&shared, &path, &HashMap::new()).await;
    let h = member(&shared, &headers)
        .await?
        .map_or_else(|| github_headers(4999), |m| m.headers);
    if shared.with_graph(|g| g.membership(&username, &org)) == Some(true) {
        Ok((StatusCode::NO_CONTENT, h).into_response())
    } else {
        Err(github_error(StatusCode::NOT_FOUND, "Not Found", h).into())
    }
}
