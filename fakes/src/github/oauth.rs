//! GitHub's OAuth App web flow: the authorise page (played by a user who approves or
//! denies), the code-for-token exchange, and revoking a grant.

use super::{github_error, refuse, require_user_agent};
use crate::oauth::{Decision, Pending, back_to, basic_credentials, decide, form, verifier_answers};
use crate::server::{Answer, Endpoint, Shared, injected, record};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The OAuth App's client id the fake knows.
pub const GITHUB_OAUTH_CLIENT_ID: &str = "Ov23liFakeClientId01";

/// The OAuth App's client secret the fake knows.
pub const GITHUB_OAUTH_CLIENT_SECRET: &str = "fake0github0oauth0client0secret000000001";

/// How long an authorisation code lasts at GitHub.
const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// The web flow's routes (on `github.com`) and the grant's (on the API).
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/login/oauth/authorize", get(authorize))
        .route("/login/oauth/access_token", post(access_token))
        .route("/applications/{client_id}/grant", delete(delete_grant))
}

/// A `302 Found` to the callback with these parameters.
fn back(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    back_to(redirect_uri, params).unwrap_or_else(|| {
        (
            StatusCode::BAD_REQUEST,
            "<html>redirect_uri is not valid</html>",
        )
            .into_response()
    })
}

/// The callback told of an `error`, as GitHub tells it.
fn back_with_error(redirect_uri: &str, error: &str, description: &str, state: &str) -> Response {
    let params = [
        ("error", error),
        ("error_description", description),
        ("state", state),
    ];
    back(redirect_uri, &params)
}

/// `GET /login/oauth/authorize`: the user chosen by the test approves (a `code` for the
/// callback) or denies (`error=access_denied`). An unknown client is GitHub's 404 page.
async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    record(&shared, "/login/oauth/authorize", &query).await;
    let asked = |key: &str| query.get(key).cloned().unwrap_or_default();
    if asked("client_id") != GITHUB_OAUTH_CLIENT_ID {
        return (StatusCode::NOT_FOUND, "<html>Not Found</html>").into_response();
    }
    let (redirect_uri, state) = (asked("redirect_uri"), asked("state"));
    if url::Url::parse(&redirect_uri).is_err() {
        return back(&redirect_uri, &[]);
    }
    let challenge = query
        .get("code_challenge")
        .map(|c| (c.clone(), asked("code_challenge_method")));
    if challenge
        .as_ref()
        .is_some_and(|(_, method)| method != "S256")
    {
        let description = "code_challenge_method must be S256";
        return back_with_error(&redirect_uri, "invalid_request", description, &state);
    }
    let request = Pending {
        client_id: asked("client_id"),
        redirect_uri: redirect_uri.clone(),
        scope: asked("scope"),
        challenge,
        user: String::new(),
        issued: Instant::now(),
    };
    match decide(&shared, |g, user| g.github.contains_key(user), request) {
        Decision::Code(code) => back(&redirect_uri, &[("code", &code), ("state", &state)]),
        Decision::Denied => {
            let description = "The user has denied your application access.";
            back_with_error(&redirect_uri, "access_denied", description, &state)
        }
        Decision::NoUser => {
            let page = "<html>No user of the graph is signed in to approve</html>";
            (StatusCode::INTERNAL_SERVER_ERROR, page).into_response()
        }
    }
}

/// GitHub's token answer: JSON when asked with `Accept: application/json`, else a form.
fn token_answer(headers: &HeaderMap, members: &[(&str, &str)]) -> Response {
    let wants_json = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if wants_json {
        let body: serde_json::Map<String, Value> = members
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        return (StatusCode::OK, axum::Json(Value::Object(body))).into_response();
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(members)
        .finish();
    let content_type = [(
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8",
    )];
    (StatusCode::OK, content_type, body).into_response()
}

/// A failed exchange: GitHub answers it `200` with an `error`.
fn token_error(headers: &HeaderMap, error: &str, description: &str) -> Response {
    let uri = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors";
    token_answer(
        headers,
        &[
            ("error", error),
            ("error_description", description),
            ("error_uri", uri),
        ],
    )
}

/// `POST /login/oauth/access_token`: a code (single-use, 10 minutes) for a token that does
/// not expire, checked against the client's secret, the authorise `redirect_uri` and the
/// PKCE challenge. Every failure is a `200` with an `error`.
async fn access_token(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&shared, "/login/oauth/access_token", &HashMap::new()).await;
    if let Err(refusal) = refuse(injected(&shared, Endpoint::Token).await) {
        return refusal.into_response();
    }
    let params = form(query.as_deref(), &body);
    let param = |key: &str| params.get(key).map(String::as_str);
    if param("client_id") != Some(GITHUB_OAUTH_CLIENT_ID)
        || param("client_secret") != Some(GITHUB_OAUTH_CLIENT_SECRET)
    {
        let description = "The client_id and/or client_secret passed are incorrect.";
        return token_error(&headers, "incorrect_client_credentials", description);
    }
    let mut grants = shared.oauth.lock().unwrap();
    let pending = param("code").and_then(|code| grants.take_code(code, CODE_LIFETIME));
    let bad_code = "The code passed is incorrect or expired.";
    let Some(pending) = pending.filter(|p| p.client_id == GITHUB_OAUTH_CLIENT_ID) else {
        return token_error(&headers, "bad_verification_code", bad_code);
    };
    if param("redirect_uri").is_some_and(|uri| uri != pending.redirect_uri) {
        let description =
            "The redirect_uri MUST match the registered callback URL for this application.";
        return token_error(&headers, "redirect_uri_mismatch", description);
    }
    if !verifier_answers(&pending.challenge, param("code_verifier")) {
        return token_error(&headers, "bad_verification_code", bad_code);
    }
    let scope = granted_scope(&pending.scope);
    let token = grants.issue(&pending.user, &scope);
    token_answer(
        &headers,
        &[
            ("access_token", &token),
            ("token_type", "bearer"),
            ("scope", &scope),
        ],
    )
}

/// The scopes granted as GitHub lists them: comma-separated.
fn granted_scope(asked: &str) -> String {
    let scopes: Vec<&str> = asked.split([' ', ',']).filter(|s| !s.is_empty()).collect();
    scopes.join(",")
}

/// `DELETE /applications/{client_id}/grant` with the app's Basic credentials and
/// `{"access_token": …}`: every token of that user for the app stops working.
async fn delete_grant(
    State(shared): State<Arc<Shared>>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    record(
        &shared,
        &format!("/applications/{client_id}/grant"),
        &HashMap::new(),
    )
    .await;
    require_user_agent(&headers)?;
    refuse(injected(&shared, Endpoint::Token).await)?;
    let not_found = || github_error(StatusCode::NOT_FOUND, "Not Found", HeaderMap::new());
    let Some((id, secret)) = basic_credentials(&headers) else {
        let message = "Requires authentication";
        return Err(github_error(StatusCode::UNAUTHORIZED, message, HeaderMap::new()).into());
    };
    if id != client_id || id != GITHUB_OAUTH_CLIENT_ID || secret != GITHUB_OAUTH_CLIENT_SECRET {
        return Err(not_found().into());
    }
    let token = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|body| body["access_token"].as_str().map(str::to_owned));
    let Some(token) = token else {
        let message = "Invalid request.\n\n\"access_token\" wasn't supplied.";
        return Err(
            github_error(StatusCode::UNPROCESSABLE_ENTITY, message, HeaderMap::new()).into(),
        );
    };
    let mut grants = shared.oauth.lock().unwrap();
    let Some(holder) = grants.holder(&token) else {
        return Err(not_found().into());
    };
    grants.revoke(&token);
    let theirs: Vec<String> = grants
        .access
        .iter()
        .filter(|(_, issued)| issued.user == holder.user)
        .map(|(token, _)| token.clone())
        .collect();
    for token in theirs {
        grants.revoke(&token);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
