//! X API v2: `users/by` and the follow lists, with `pagination_token` paging; and, for
//! signed-in members, OAuth 2.0 with PKCE and what a user token answers.

mod member;
mod oauth;

pub use oauth::{X_OAUTH_CLIENT_ID, X_OAUTH_CLIENT_SECRET};

use member::Caller;

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

/// The app-only bearer token the fake accepts.
pub const X_TOKEN: &str = "AAAA-test-bearer-token";

/// X on a free port: the API and the authorise page on one origin.
pub async fn x(graph: Graph) -> Fake {
    let fake = start(
        graph,
        Router::new()
            .route("/2/users/by", get(x_users_by))
            .route("/2/users/me", get(member::users_me))
            .route("/2/users/{id}/following", get(x_follow_list::<false>))
            .route("/2/users/{id}/followers", get(x_follow_list::<true>))
            .merge(oauth::routes()),
    )
    .await;
    {
        let mut grants = fake.shared.oauth.lock().unwrap();
        grants.prefix = "dXNlci10b2tlbi";
        grants.lifetime = Some(oauth::TOKEN_LIFETIME);
    }
    fake
}

fn x_headers() -> HeaderMap {
    header_map([
        ("x-rate-limit-limit", "300".to_owned()),
        ("x-rate-limit-remaining", "299".to_owned()),
        ("x-rate-limit-reset", (now() + 900).to_string()),
    ])
}

/// X's 200: `data` when there is any, then the other members given.
fn x_ok(data: Vec<Value>, others: impl IntoIterator<Item = (&'static str, Value)>) -> Response {
    let mut body = serde_json::Map::new();
    if !data.is_empty() {
        body.insert("data".into(), Value::Array(data));
    }
    body.extend(
        others
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value)),
    );
    json_answer(StatusCode::OK, x_headers(), Value::Object(body))
}

/// X's 200 with one error and no data.
fn x_error(error: Value) -> Response {
    x_ok(Vec::new(), [("errors", json!([error]))])
}

/// X's 400 for one query parameter whose value is not valid.
fn invalid_request(parameter: &str, value: Option<&String>, message: &str) -> Response {
    json_answer(
        StatusCode::BAD_REQUEST,
        x_headers(),
        json!({
            "errors": [{"parameters": {parameter: [value]}, "message": message}],
            "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request"
        }),
    )
}

/// X's error for a user that no `parameter` given finds.
fn not_found(parameter: &str, value: &str) -> Value {
    json!({
        "value": value, "detail": format!("Could not find user with {parameter}: [{value}]."),
        "title": "Not Found Error", "resource_type": "user", "parameter": parameter,
        "resource_id": value, "type": "https://api.twitter.com/2/problems/resource-not-found"
    })
}

/// A user as X gives it by default.
fn user_json(username: &str, id: &str) -> Value {
    json!({"id": id, "name": format!("{username} Name"), "username": username})
}

/// X's 401 for a missing, bad, expired or revoked token.
fn unauthorised() -> Response {
    json_answer(
        StatusCode::UNAUTHORIZED,
        HeaderMap::new(),
        json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}),
    )
}

/// Authorisation and injected failures, as X answers them: who calls, the app or a member.
async fn refuse(shared: &Shared, headers: &HeaderMap, endpoint: Endpoint) -> Refused<Caller> {
    let caller = member::caller(shared, headers)?;
    injected(shared, endpoint).await.map_or(Ok(()), x_failure)?;
    Ok(caller)
}

/// An injected failure as X answers it; a hang, after which the call goes on, is no refusal.
fn x_failure(failure: Failure) -> Refused {
    let answer = match failure {
        Failure::RateLimited { reset_in } => {
            let mut h = x_headers();
            h.insert("x-rate-limit-remaining", HeaderValue::from_static("0"));
            h.insert("x-rate-limit-reset", HeaderValue::from(now() + reset_in));
            json_answer(
                StatusCode::TOO_MANY_REQUESTS,
                h,
                json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}),
            )
        }
        Failure::Status(403) => json_answer(
            StatusCode::FORBIDDEN,
            x_headers(),
            json!({
                "client_id": "123", "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.",
                "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
                "title": "Client Forbidden", "required_enrollment": "Appropriate Level of API Access",
                "reason": "client-not-enrolled", "type": "https://api.twitter.com/2/problems/client-forbidden"
            }),
        ),
        Failure::Status(code) => json_answer(
            StatusCode::from_u16(code).unwrap(),
            x_headers(),
            json!({"title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank", "status": code}),
        ),
        Failure::Garbage | Failure::SecondaryLimit => {
            (StatusCode::OK, x_headers(), "{\"data\": [").into_response()
        }
        Failure::Body(body) => json_body(body, x_headers()),
        Failure::Hang(_) => return Ok(()),
    };
    Err(answer.into())
}

fn valid_x_username(s: &str) -> bool {
    !s.is_empty() && s.len() <= 15 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The `usernames` asked for: 1 to 100 valid ones, comma-separated.
fn usernames(query: &HashMap<String, String>) -> Refused<Vec<&str>> {
    let names: Vec<&str> = query
        .get("usernames")
        .map(|u| u.split(',').collect())
        .unwrap_or_default();
    if names.is_empty() || names.len() > 100 || !names.iter().all(|n| valid_x_username(n)) {
        return Err(invalid_request(
            "usernames",
            query.get("usernames"),
            "The `usernames` query parameter value is not valid",
        )
        .into());
    }
    Ok(names)
}

/// The optional `user.fields` asked for.
#[derive(Clone, Copy)]
struct UserFields {
    public_metrics: bool,
    protected: bool,
    connection_status: bool,
}

impl UserFields {
    fn asked(query: &HashMap<String, String>) -> Self {
        let asked = |field: &str| {
            query
                .get("user.fields")
                .is_some_and(|f| f.split(',').any(|f| f == field))
        };
        Self {
            public_metrics: asked("public_metrics"),
            protected: asked("protected"),
            connection_status: asked("connection_status"),
        }
    }

    /// The user by this name with these fields, or X's error when there is none.
    /// `connection_status` only for a signed-in `viewer`, and only when there is a relation.
    fn user(self, graph: &Graph, name: &str, viewer: Option<&str>) -> Result<Value, Value> {
        let (username, id) = graph
            .x
            .get(&name.to_lowercase())
            .ok_or_else(|| not_found("usernames", name))?;
        let mut user = user_json(username, id);
        if self.public_metrics {
            user["public_metrics"] = json!({
                "followers_count": graph.followers(id).len(),
                "following_count": graph.followees(id).len(),
                "tweet_count": 42, "listed_count": 1, "like_count": 7, "media_count": 0
            });
        }
        if self.protected {
            user["protected"] = json!(graph.protected.contains(id));
        }
        let status = viewer
            .filter(|_| self.connection_status)
            .and_then(|viewer| member::connection_status(graph, viewer, id));
        if let Some(status) = status {
            user["connection_status"] = status;
        }
        Ok(user)
    }
}

/// `GET /2/users/by?usernames=…`: the users found as `data`, the others as `errors`. Under
/// a member's token, 900 per 15 minutes for that member, with `connection_status` if asked.
async fn x_users_by(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Answer {
    record(&shared, "/2/users/by", &query).await;
    let caller = refuse(&shared, &headers, Endpoint::Lookup).await?;
    let window = member::spend(&shared, &caller, "users/by", 900)?;
    let names = usernames(&query)?;
    let fields = UserFields::asked(&query);
    let (mut data, mut errors) = (Vec::new(), Vec::new());
    shared.with_graph(|graph| {
        let viewer = member::viewer(graph, &caller);
        for name in names {
            match fields.user(graph, name, viewer.as_deref()) {
                Ok(user) => data.push(user),
                Err(error) => errors.push(error),
            }
        }
    });
    *shared.users_looked_up.lock().unwrap() += data.len() as u64;
    let errors = (!errors.is_empty()).then_some(("errors", Value::Array(errors)));
    let mut answer = x_ok(data, errors);
    answer.headers_mut().extend(window.unwrap_or_default());
    Ok(answer)
}

/// `GET /2/users/{id}/following` and `GET /2/users/{id}/followers`, as `FOLLOWERS` says.
async fn x_follow_list<const FOLLOWERS: bool>(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Answer {
    let name = if FOLLOWERS { "followers" } else { "following" };
    record(&shared, &format!("/2/users/{id}/{name}"), &query).await;
    let list = shared.with_graph(|graph| {
        graph.knows_x_id(&id).then(|| {
            if FOLLOWERS {
                graph.followers(&id)
            } else {
                graph.followees(&id).to_vec()
            }
        })
    });
    refuse(&shared, &headers, Endpoint::FollowList).await?;
    let max_results = max_results(&query)?;
    let list = list.ok_or_else(|| x_error(not_found("id", &id)))?;
    if shared.with_graph(|graph| graph.protected.contains(&id)) {
        return Err(x_error(not_authorised(&id)).into());
    }
    let offset = offset(&query);
    let page = shared.with_graph(|graph| page(graph, &list, offset, max_results));
    *shared.users_read.lock().unwrap() += page.len() as u64;
    let meta = meta(page.len(), offset, max_results, list.len());
    Ok(x_ok(page, [("meta", meta)]))
}

/// `max_results`: 100 unless given, 1 to 1000.
fn max_results(query: &HashMap<String, String>) -> Refused<usize> {
    match query.get("max_results").map(|m| m.parse()) {
        None => Ok(100),
        Some(Ok(m)) if (1..=1000).contains(&m) => Ok(m),
        Some(_) => Err(invalid_request(
            "max_results",
            query.get("max_results"),
            "The `max_results` query parameter value is not between 1 and 1000",
        )
        .into()),
    }
}

/// Where the page starts: this fake's `next_token`s are `NEXT<offset>`.
fn offset(query: &HashMap<String, String>) -> usize {
    query
        .get("pagination_token")
        .and_then(|t| t.strip_prefix("NEXT").and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// The users of the list from `offset` on, at most `max_results`, as X gives them; one the
/// graph does not know (filler) is named `u<id>`.
fn page(graph: &Graph, list: &[String], offset: usize, max_results: usize) -> Vec<Value> {
    let username = |uid: &str| {
        graph
            .x_username(uid)
            .map_or_else(|| format!("u{uid}"), str::to_owned)
    };
    let page = list.iter().skip(offset).take(max_results);
    page.map(|uid| user_json(&username(uid), uid)).collect()
}

/// A list page's `meta`: its count and the tokens to the pages around it.
fn meta(count: usize, offset: usize, max_results: usize, total: usize) -> Value {
    let mut meta = json!({"result_count": count});
    if offset + max_results < total {
        meta["next_token"] = json!(format!("NEXT{}", offset + max_results));
    }
    if offset > 0 {
        meta["previous_token"] = json!(format!("PREV{offset}"));
    }
    meta
}

/// A protected account's own lists: a 200 with no data, only this authorisation error.
fn not_authorised(id: &str) -> Value {
    json!({
        "resource_type": "user", "parameter": "id", "value": id, "resource_id": id,
        "section": "data", "title": "Authorization Error",
        "detail": format!("Sorry, you are not authorized to see the user with id: [{id}]."),
        "type": "https://api.twitter.com/2/problems/not-authorized-for-resource"
    })
}
