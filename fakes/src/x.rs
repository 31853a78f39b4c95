//! X API v2: `users/by` and the follow lists, with `pagination_token` paging.

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

/// The app-only bearer token the fake accepts.
pub const X_TOKEN: &str = "AAAA-test-bearer-token";

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
