//! X's OAuth 2.0 with PKCE for a confidential client: the authorise page (played by a user
//! who approves or denies), codes for tokens, refresh with rotation, and revocation.

use super::x_failure;
use crate::oauth::{Decision, Pending, back_to, basic_credentials, decide, form, verifier_answers};
use crate::server::{Endpoint, Refused, Shared, injected, json_answer, record};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The app's OAuth 2.0 client id the fake knows (a confidential client).
pub const X_OAUTH_CLIENT_ID: &str = "ZmFrZS14LWNsaWVudC1pZDoxOmNp";

/// The app's OAuth 2.0 client secret the fake knows.
pub const X_OAUTH_CLIENT_SECRET: &str = "fake-x-oauth-client-secret-0000000000000000000001";

/// How long an authorisation code lasts at X.
const CODE_LIFETIME: Duration = Duration::from_secs(30);

/// How long an access token lasts at X: two hours.
pub(super) const TOKEN_LIFETIME: Duration = Duration::from_secs(7200);

/// The authorise page (on `x.com`) and the token endpoints (on the API).
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/i/oauth2/authorize", get(authorize))
        .route("/2/oauth2/token", post(token))
        .route("/2/oauth2/revoke", post(revoke))
}

/// X's page for an authorise request it cannot serve.
fn went_wrong() -> Response {
    let page = "<html>Something went wrong. You weren't able to give access to the App.</html>";
    (StatusCode::BAD_REQUEST, page).into_response()
}

/// `GET /i/oauth2/authorize`: the user chosen by the test approves (a `code` for the
/// callback) or denies (`error=access_denied`). PKCE is required.
async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    record(&shared, "/i/oauth2/authorize", &query).await;
    let asked = |key: &str| query.get(key).cloned().unwrap_or_default();
    let (redirect_uri, state) = (asked("redirect_uri"), asked("state"));
    let method = asked("code_challenge_method");
    if asked("response_type") != "code"
        || asked("client_id") != X_OAUTH_CLIENT_ID
        || url::Url::parse(&redirect_uri).is_err()
        || asked("scope").is_empty()
        || asked("code_challenge").is_empty()
        || !["S256", "plain"].contains(&method.as_str())
    {
        return went_wrong();
    }
    let request = Pending {
        client_id: asked("client_id"),
        redirect_uri: redirect_uri.clone(),
        scope: asked("scope"),
        challenge: Some((asked("code_challenge"), method)),
        user: String::new(),
        issued: Instant::now(),
    };
    let back = match decide(&shared, |g, user| g.x.contains_key(user), request) {
        Decision::Code(code) => back_to(&redirect_uri, &[("state", &state), ("code", &code)]),
        Decision::Denied => back_to(
            &redirect_uri,
            &[("error", "access_denied"), ("state", &state)],
        ),
        Decision::NoUser => None,
    };
    back.unwrap_or_else(went_wrong)
}

/// X's `400` for a token request it refuses.
fn invalid(error: &str, description: &str) -> Response {
    let body = json!({"error": error, "error_description": description});
    json_answer(StatusCode::BAD_REQUEST, HeaderMap::new(), body)
}

/// X's `401` for a confidential client without its Basic credentials.
fn unauthorised_client() -> Response {
    let body = json!({"error": "unauthorized_client", "error_description": "Missing valid authorization header"});
    json_answer(StatusCode::UNAUTHORIZED, HeaderMap::new(), body)
}

/// Whether the request carries the app's Basic credentials.
fn client_authenticated(headers: &HeaderMap) -> bool {
    basic_credentials(headers)
        .is_some_and(|(id, secret)| id == X_OAUTH_CLIENT_ID && secret == X_OAUTH_CLIENT_SECRET)
}

/// `POST /2/oauth2/token`: `authorization_code` (single-use, 30 seconds, PKCE-checked) or
/// `refresh_token` (rotated: the old one stops working, its access token lives on).
async fn token(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = form(query.as_deref(), &body);
    let grant_type = params.get("grant_type").cloned().unwrap_or_default();
    let recorded = HashMap::from([("grant_type".to_owned(), grant_type.clone())]);
    record(&shared, "/2/oauth2/token", &recorded).await;
    if let Some(Err(refusal)) = injected(&shared, Endpoint::Token).await.map(x_failure) {
        return refusal.into_response();
    }
    if !client_authenticated(&headers) {
        return unauthorised_client();
    }
    let mut grants = shared.oauth.lock().unwrap();
    let (user, scope) = match granted(&mut grants, &grant_type, &params) {
        Ok(granted) => granted,
        Err(refusal) => return refusal.into_response(),
    };
    let access_token = grants.issue(&user, &scope);
    let expires_in = grants.token_lifetime.unwrap_or(TOKEN_LIFETIME).as_secs();
    let mut body = json!({
        "token_type": "bearer", "expires_in": expires_in, "access_token": access_token,
        "scope": scope
    });
    if scope.split(' ').any(|s| s == "offline.access") {
        let refresh_token = grants.fresh("UmVmcm", 64);
        let issued = crate::oauth::Issued {
            user,
            scope,
            expires: None,
        };
        grants.refresh.insert(refresh_token.clone(), issued);
        body["refresh_token"] = json!(refresh_token);
    }
    json_answer(StatusCode::OK, HeaderMap::new(), body)
}

/// The user and scope a grant is for: a code's (taken, single-use, checked against the
/// callback and the PKCE verifier) or a refresh token's (taken: rotation); X's 400 else.
fn granted(
    grants: &mut crate::oauth::Grants,
    grant_type: &str,
    params: &HashMap<String, String>,
) -> Refused<(String, String)> {
    let param = |key: &str| params.get(key).map(String::as_str);
    match grant_type {
        "authorization_code" => {
            let bad_code = || {
                invalid(
                    "invalid_request",
                    "Value passed for the authorization code was invalid.",
                )
            };
            let pending = param("code").and_then(|code| grants.take_code(code, CODE_LIFETIME));
            let Some(pending) = pending else {
                return Err(bad_code().into());
            };
            if param("redirect_uri") != Some(pending.redirect_uri.as_str())
                || !verifier_answers(&pending.challenge, param("code_verifier"))
            {
                return Err(bad_code().into());
            }
            Ok((pending.user, pending.scope))
        }
        "refresh_token" => {
            let old = param("refresh_token").and_then(|t| grants.refresh.remove(t));
            let Some(old) = old else {
                return Err(
                    invalid("invalid_request", "Value passed for the token was invalid.").into(),
                );
            };
            grants.refreshes += 1;
            Ok((old.user, old.scope))
        }
        "" => Err(invalid(
            "invalid_request",
            "Missing required parameter [grant_type].",
        )
        .into()),
        _ => Err(invalid(
            "unsupported_grant_type",
            "Value passed for the grant type was invalid.",
        )
        .into()),
    }
}

/// `POST /2/oauth2/revoke` with `token` (and a `token_type_hint`): that token, access or
/// refresh, stops working. An unknown token is revoked all the same.
async fn revoke(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&shared, "/2/oauth2/revoke", &HashMap::new()).await;
    if let Some(Err(refusal)) = injected(&shared, Endpoint::Token).await.map(x_failure) {
        return refusal.into_response();
    }
    if !client_authenticated(&headers) {
        return unauthorised_client();
    }
    let params = form(query.as_deref(), &body);
    let Some(token) = params.get("token") else {
        return invalid("invalid_request", "Missing required parameter [token].");
    };
    shared.oauth.lock().unwrap().revoke(token);
    json_answer(StatusCode::OK, HeaderMap::new(), json!({"revoked": true}))
}
