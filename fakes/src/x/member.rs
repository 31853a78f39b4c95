//! What a member's own token answers on X: who signed in (`/2/users/me`), lookups with
//! `connection_status`, and each user's own rate-limit windows.

use super::{unauthorised, user_json, x_failure};
use crate::Graph;
use crate::oauth::{Issued, bearer};
use crate::server::{Answer, Endpoint, Refused, Shared, header_map, injected, json_answer, record};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// X's windows are 15 minutes.
const WINDOW: Duration = Duration::from_secs(900);

/// Who makes a call: the app with its bearer token, or a signed-in member with theirs.
pub(crate) enum Caller {
    App,
    User(Issued),
}

/// The caller, or X's 401 when the token is neither the app's nor a live user token (an
/// expired or revoked one included).
pub(super) fn caller(shared: &Shared, headers: &HeaderMap) -> Refused<Caller> {
    match bearer(headers) {
        Some(token) if token == super::X_TOKEN => Ok(Caller::App),
        Some(token) => match shared.oauth.lock().unwrap().holder(token) {
            Some(issued) => Ok(Caller::User(issued)),
            None => Err(unauthorised().into()),
        },
        None => Err(unauthorised().into()),
    }
}

/// X's 403 for a user token without the scopes an endpoint needs.
fn missing_scope() -> axum::response::Response {
    json_answer(
        StatusCode::FORBIDDEN,
        HeaderMap::new(),
        json!({"title": "Forbidden", "type": "about:blank", "status": 403, "detail": "Forbidden"}),
    )
}

/// Spends one call of a member's own window on `bucket` (`limit` per 15 minutes): the
/// `x-rate-limit-*` headers to answer with, or X's 429 when the window is spent. A user
/// token needs `tweet.read` and `users.read`. The app's calls have no user window: `None`.
pub(super) fn spend(
    shared: &Shared,
    caller: &Caller,
    bucket: &'static str,
    limit: u64,
) -> Refused<Option<HeaderMap>> {
    let Caller::User(issued) = caller else {
        return Ok(None);
    };
    let has = |scope: &str| issued.scope.split(' ').any(|s| s == scope);
    if !has("tweet.read") || !has("users.read") {
        return Err(missing_scope().into());
    }
    let window = shared
        .oauth
        .lock()
        .unwrap()
        .spend(&issued.user, bucket, limit, WINDOW);
    let headers = header_map([
        ("x-rate-limit-limit", window.limit.to_string()),
        ("x-rate-limit-remaining", window.remaining.to_string()),
        ("x-rate-limit-reset", window.reset.to_string()),
    ]);
    if window.exceeded {
        let body = json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429});
        return Err(json_answer(StatusCode::TOO_MANY_REQUESTS, headers, body).into());
    }
    Ok(Some(headers))
}

/// The X id of the member making the call; none for the app.
pub(super) fn viewer(graph: &Graph, caller: &Caller) -> Option<String> {
    match caller {
        Caller::User(issued) => graph.x.get(&issued.user).map(|(_, id)| id.clone()),
        Caller::App => None,
    }
}

/// `connection_status` of user `id` as the member `viewer` sees it: `following` when the
/// viewer follows them, `followed_by` when they follow the viewer; none when neither.
pub(super) fn connection_status(graph: &Graph, viewer: &str, id: &str) -> Option<Value> {
    let mut status = Vec::new();
    if graph.follows(viewer, id) {
        status.push("following");
    }
    if graph.follows(id, viewer) {
        status.push("followed_by");
    }
    (!status.is_empty()).then(|| json!(status))
}

/// `GET /2/users/me`: the member the token belongs to, 75 per 15 minutes per user; the
/// app's token is refused as X refuses it. Billed as one user looked up.
pub(super) async fn users_me(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Answer {
    record(&shared, "/2/users/me", &HashMap::new()).await;
    let caller = caller(&shared, &headers)?;
    if let Caller::App = caller {
        let body = json!({
            "title": "Unsupported Authentication",
            "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
            "type": "https://api.twitter.com/2/problems/unsupported-authentication", "status": 403
        });
        return Err(json_answer(StatusCode::FORBIDDEN, HeaderMap::new(), body).into());
    }
    injected(&shared, Endpoint::Any)
        .await
        .map_or(Ok(()), x_failure)?;
    let headers = spend(&shared, &caller, "users/me", 75)?.unwrap_or_default();
    let Caller::User(issued) = caller else {
        return Err(unauthorised().into());
    };
    let me = shared.with_graph(|g| g.x.get(&issued.user).cloned());
    let (username, id) = me.ok_or_else(unauthorised)?;
    *shared.users_looked_up.lock().unwrap() += 1;
    let body = json!({"data": user_json(&username, &id)});
    Ok(json_answer(StatusCode::OK, headers, body))
}
