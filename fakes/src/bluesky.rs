//! The Bluesky AppView: `getProfiles` and `getRelationships`.

use crate::server::{
    Answer, Endpoint, Failure, Fake, Refused, Shared, header_map, injected, json_answer, json_body,
    record, start,
};
use crate::{Graph, now};
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
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
    json_answer(
        status,
        HeaderMap::new(),
        json!({"error": error, "message": message}),
    )
}

fn invalid_request(message: &str) -> Response {
    xrpc_error(StatusCode::BAD_REQUEST, "InvalidRequest", message)
}

/// A user of the graph as Bluesky knows it.
struct Actor {
    handle: String,
    did: String,
    /// Its X id, by which the graph knows it.
    id: String,
}

/// The graph's Bluesky view, by lower-cased handle.
fn bluesky_users(graph: &Graph) -> HashMap<String, Actor> {
    graph
        .x
        .values()
        .map(|(username, id)| {
            let handle = format!("{}.bsky.social", username.to_lowercase());
            let actor = Actor {
                handle: handle.clone(),
                did: format!("did:plc:{id}"),
                id: id.clone(),
            };
            (handle, actor)
        })
        .collect()
}

/// The actor by DID or by handle, whatever its case.
fn find<'a>(users: &'a HashMap<String, Actor>, asked: &str) -> Option<&'a Actor> {
    users
        .values()
        .find(|actor| actor.did == asked || actor.handle == asked.to_lowercase())
}

/// An injected failure, as the AppView answers it.
async fn refuse(shared: &Shared) -> Refused {
    injected(shared, Endpoint::Any)
        .await
        .map_or(Ok(()), |failure| Err(bluesky_failure(failure).into()))
}

fn bluesky_failure(failure: Failure) -> Response {
    match failure {
        Failure::RateLimited { reset_in } => {
            let h = header_map([
                ("ratelimit-limit", "3000".to_owned()),
                ("ratelimit-remaining", "0".to_owned()),
                ("ratelimit-reset", (now() + reset_in).to_string()),
            ]);
            json_answer(
                StatusCode::TOO_MANY_REQUESTS,
                h,
                json!({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}),
            )
        }
        Failure::Status(code) => xrpc_error(
            StatusCode::from_u16(code).unwrap(),
            "InternalServerError",
            "Internal Server Error",
        ),
        Failure::Garbage | Failure::Hang(_) | Failure::SecondaryLimit => {
            (StatusCode::OK, "not json").into_response()
        }
        Failure::Body(body) => json_body(body, HeaderMap::new()),
    }
}

/// `getProfiles?actors=…`: the profiles of the actors found, by handle.
async fn bluesky_profiles(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Answer {
    let actors = repeated(&query, "actors");
    let recorded = HashMap::from([("actors".to_owned(), actors.join(","))]);
    record(&shared, "/xrpc/app.bsky.actor.getProfiles", &recorded).await;
    refuse(&shared).await?;
    if actors.is_empty() || actors.len() > 25 {
        return Err(invalid_request("actors must have 1 to 25 items").into());
    }
    // As the AppView: one actor that is neither a DID nor a valid handle fails the batch.
    if let Some(i) = actors
        .iter()
        .position(|a| !a.starts_with("did:") && !valid_bluesky_handle(a))
    {
        let message = format!("Error: actors/{i} must be a valid did or a handle");
        return Err(invalid_request(&message).into());
    }
    let profiles: Vec<Value> = shared.with_graph(|graph| {
        let users = bluesky_users(graph);
        let found = actors.iter().filter_map(|a| users.get(&a.to_lowercase()));
        found.map(|actor| profile(graph, actor)).collect()
    });
    Ok(json_answer(
        StatusCode::OK,
        HeaderMap::new(),
        json!({"profiles": profiles}),
    ))
}

fn profile(graph: &Graph, actor: &Actor) -> Value {
    json!({
        "did": actor.did, "handle": actor.handle, "displayName": actor.handle,
        "followersCount": graph.followers(&actor.id).len(),
        "followsCount": graph.followees(&actor.id).len(),
        "postsCount": 3, "indexedAt": "2024-01-01T00:00:00.000Z"
    })
}

/// `getRelationships?actor=…&others=…`: whether the actor follows each of the others, and
/// each of them the actor.
async fn bluesky_relationships(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Answer {
    let actor = repeated(&query, "actor").pop().unwrap_or_default();
    let others = repeated(&query, "others");
    let recorded = HashMap::from([
        ("actor".to_owned(), actor.clone()),
        ("others".to_owned(), others.join(",")),
    ]);
    record(&shared, "/xrpc/app.bsky.graph.getRelationships", &recorded).await;
    refuse(&shared).await?;
    if others.len() > 30 {
        return Err(invalid_request("others must not have more than 30 items").into());
    }
    let entries = shared.with_graph(|graph| {
        let users = bluesky_users(graph);
        let actor = find(&users, &actor)?;
        let entries: Vec<Value> = others
            .iter()
            .map(|other| match find(&users, other) {
                None => not_found(other),
                Some(other) => relationship(graph, actor, other),
            })
            .collect();
        Some((actor.did.clone(), entries))
    });
    let Some((did, entries)) = entries else {
        return unknown_actor(&shared, &actor, &others);
    };
    Ok(json_answer(
        StatusCode::OK,
        HeaderMap::new(),
        json!({"actor": did, "relationships": entries}),
    ))
}

/// An `actor` nobody knows: 200 with every other not found (today's AppView), or 400
/// `ActorNotFound` (the lexicon) when the fake is told so.
fn unknown_actor(shared: &Shared, actor: &str, others: &[String]) -> Answer {
    if *shared.actor_not_found_as_400.lock().unwrap() {
        let message = format!("Actor not found: {actor}");
        return Err(xrpc_error(StatusCode::BAD_REQUEST, "ActorNotFound", &message).into());
    }
    let entries: Vec<Value> = others.iter().map(|o| not_found(o)).collect();
    Ok(json_answer(
        StatusCode::OK,
        HeaderMap::new(),
        json!({"relationships": entries}),
    ))
}

fn not_found(actor: &str) -> Value {
    json!({"$type": "app.bsky.graph.defs#notFoundActor", "actor": actor, "notFound": true})
}

/// One relationship: `following` when the actor follows the other, `followedBy` when the
/// other follows the actor, each the URI of that follow record.
fn relationship(graph: &Graph, actor: &Actor, other: &Actor) -> Value {
    let mut entry = json!({"$type": "app.bsky.graph.defs#relationship", "did": other.did});
    if graph.follows(&actor.id, &other.id) {
        entry["following"] = json!(follow_record(actor, other));
    }
    if graph.follows(&other.id, &actor.id) {
        entry["followedBy"] = json!(follow_record(other, actor));
    }
    entry
}

/// The URI of `follower`'s record of following `followee`.
fn follow_record(follower: &Actor, followee: &Actor) -> String {
    format!(
        "at://{}/app.bsky.graph.follow/3k{}",
        follower.did, followee.id
    )
}
