//! The Bluesky AppView: `getProfiles` and `getRelationships`.

use crate::server::{Endpoint, Failure, Fake, Shared, injected, json_body, record, start};
use crate::{Graph, now};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

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
