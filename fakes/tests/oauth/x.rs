//! X's OAuth 2.0 with PKCE and a member's token.

use super::{CALLBACK, VERIFIER, challenge, client, form, header, param, redirected, url};
use connected_fakes::{
    self as fake, Endpoint, Failure, Fake, Graph, X_OAUTH_CLIENT_ID as ID,
    X_OAUTH_CLIENT_SECRET as SECRET, X_TOKEN,
};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use std::time::Duration;

const SCOPE: &str = "tweet.read users.read follows.read offline.access";

/// alice and bob follow each other; alice follows carol; dave follows alice and is
/// protected; erin is unrelated to alice.
fn graph() -> Graph {
    Graph::new()
        .x("alice", &["bob", "carol"])
        .x("bob", &["alice"])
        .x("dave", &["alice"])
        .protect("dave")
        .x("erin", &["bob"])
}

/// A code `user` approved for `scope`.
async fn code(fake: &Fake, user: &str, scope: &str) -> String {
    fake.approve_as(user);
    let challenge = challenge();
    let params = [
        ("response_type", "code"),
        ("client_id", ID),
        ("redirect_uri", CALLBACK),
        ("scope", scope),
        ("state", "st4te"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    let url = url(&fake.url, "/i/oauth2/authorize", &params);
    let params = redirected(&client().get(url).send().await.unwrap());
    assert_eq!(param(&params, "state"), Some("st4te"));
    param(&params, "code").unwrap().to_owned()
}

/// A POST of this form to `path`, with the app's Basic credentials (`secret` as given).
async fn post(fake: &Fake, path: &str, secret: &str, params: &[(&str, &str)]) -> Response {
    client()
        .post(format!("{}{path}", fake.url))
        .basic_auth(ID, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(params))
        .send()
        .await
        .unwrap()
}

/// The token exchange for a code, with this verifier.
async fn exchange(fake: &Fake, code: &str, verifier: &str) -> Response {
    let params = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", verifier),
    ];
    post(fake, "/2/oauth2/token", SECRET, &params).await
}

/// The tokens `user` signed in for, through the whole flow.
async fn tokens(fake: &Fake, user: &str, scope: &str) -> Value {
    let code = code(fake, user, scope).await;
    let response = exchange(fake, &code, VERIFIER).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["scope"], scope);
    tokens
}

/// A refresh with this refresh token.
async fn refresh(fake: &Fake, refresh_token: &str) -> Response {
    let params = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    post(fake, "/2/oauth2/token", SECRET, &params).await
}

/// `GET path` under this bearer token.
async fn get(fake: &Fake, path: &str, token: &str) -> Response {
    let url = format!("{}{path}", fake.url);
    client().get(url).bearer_auth(token).send().await.unwrap()
}

/// An error body's `error`, after checking the status.
async fn error(response: Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    body["error"].as_str().unwrap().to_owned()
}

/// The access token of a token answer.
fn access(tokens: &Value) -> &str {
    tokens["access_token"].as_str().unwrap()
}

#[tokio::test]
async fn a_member_signs_in_and_users_me_says_who_they_are() {
    let x = fake::x(graph()).await;
    let tokens = tokens(&x, "alice", SCOPE).await;
    assert_eq!(tokens["expires_in"], 7200);
    assert!(tokens["refresh_token"].is_string());
    let me = get(&x, "/2/users/me", access(&tokens)).await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(header(&me, "x-rate-limit-limit"), "75");
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["data"]["username"], "alice");
    assert!(me["data"]["id"].is_string());
    let app = get(&x, "/2/users/me", X_TOKEN).await;
    assert_eq!(
        app.status(),
        StatusCode::FORBIDDEN,
        "no one signed in with the app's token"
    );
}

#[tokio::test]
async fn no_refresh_token_without_offline_access_and_denial_redirects() {
    let x = fake::x(graph()).await;
    let tokens = tokens(&x, "alice", "tweet.read users.read").await;
    assert!(tokens.get("refresh_token").is_none());
    x.deny_authorisation();
    let url = url(
        &x.url,
        "/i/oauth2/authorize",
        &[
            ("response_type", "code"),
            ("client_id", ID),
            ("redirect_uri", CALLBACK),
            ("scope", SCOPE),
            ("state", "s"),
            ("code_challenge", &challenge()),
            ("code_challenge_method", "S256"),
        ],
    );
    let params = redirected(&client().get(url).send().await.unwrap());
    assert_eq!(param(&params, "error"), Some("access_denied"));
}

#[tokio::test]
async fn codes_are_single_use_checked_against_the_verifier_and_the_client() {
    let x = fake::x(graph()).await;
    let code = code(&x, "alice", SCOPE).await;
    let params = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    let no_client = post(&x, "/2/oauth2/token", "wrong", &params).await;
    assert_eq!(
        error(no_client, StatusCode::UNAUTHORIZED).await,
        "unauthorized_client"
    );
    let wrong = exchange(&x, &code, "not-the-verifier").await;
    assert_eq!(
        error(wrong, StatusCode::BAD_REQUEST).await,
        "invalid_request"
    );
    let reused = exchange(&x, &code, VERIFIER).await;
    assert_eq!(
        error(reused, StatusCode::BAD_REQUEST).await,
        "invalid_request"
    );

    x.set_code_lifetime(Duration::ZERO);
    let code = self::code(&x, "alice", SCOPE).await;
    let expired = exchange(&x, &code, VERIFIER).await;
    assert_eq!(
        error(expired, StatusCode::BAD_REQUEST).await,
        "invalid_request"
    );
    assert!(x.live_tokens().is_empty());
}

#[tokio::test]
async fn refresh_rotates_and_the_old_access_token_lives_to_its_expiry() {
    let x = fake::x(graph()).await;
    let first = tokens(&x, "alice", SCOPE).await;
    let old_refresh = first["refresh_token"].as_str().unwrap();
    let response = refresh(&x, old_refresh).await;
    assert_eq!(response.status(), StatusCode::OK);
    let second: Value = response.json().await.unwrap();
    let new_refresh = second["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, old_refresh);
    assert_ne!(access(&second), access(&first));
    let reused = refresh(&x, old_refresh).await;
    assert_eq!(
        error(reused, StatusCode::BAD_REQUEST).await,
        "invalid_request"
    );
    assert_eq!(refresh(&x, new_refresh).await.status(), StatusCode::OK);
    assert_eq!(x.refreshes(), 2);
    let old = get(&x, "/2/users/me", access(&first)).await;
    assert_eq!(old.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_expired_access_token_is_unauthorised() {
    let x = fake::x(graph()).await;
    x.set_token_lifetime(Duration::ZERO);
    let tokens = tokens(&x, "alice", SCOPE).await;
    assert_eq!(tokens["expires_in"], 0);
    let expired = get(&x, "/2/users/me", access(&tokens)).await;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    let body: Value = expired.json().await.unwrap();
    assert_eq!(body["title"], "Unauthorized");
    assert!(!x.live_tokens().contains(&access(&tokens).to_owned()));
}

#[tokio::test]
async fn revoked_tokens_stop_working() {
    let x = fake::x(graph()).await;
    let tokens = tokens(&x, "alice", SCOPE).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    for (token, hint) in [
        (access(&tokens), "access_token"),
        (refresh_token, "refresh_token"),
    ] {
        let params = [("token", token), ("token_type_hint", hint)];
        let revoked = post(&x, "/2/oauth2/revoke", SECRET, &params).await;
        assert_eq!(revoked.status(), StatusCode::OK);
        let body: Value = revoked.json().await.unwrap();
        assert_eq!(body["revoked"], true);
    }
    let me = get(&x, "/2/users/me", access(&tokens)).await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let refreshed = refresh(&x, refresh_token).await;
    assert_eq!(refreshed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(x.tokens_revoked(), [access(&tokens), refresh_token]);
    assert!(x.live_tokens().is_empty());
}

/// The lookup of these users with `connection_status` under this token: each username's
/// entry.
async fn lookup(x: &Fake, token: &str) -> Vec<Value> {
    let path = "/2/users/by?usernames=bob,carol,dave,erin&user.fields=connection_status";
    let response = get(x, path, token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn connection_status_describes_the_member_and_is_billed() {
    let x = fake::x(graph()).await;
    let alice = x.issue_token("alice", SCOPE);
    let users = lookup(&x, &alice).await;
    let status = |i: usize| users[i].get("connection_status").cloned();
    assert_eq!(
        status(0),
        Some(serde_json::json!(["following", "followed_by"]))
    );
    assert_eq!(status(1), Some(serde_json::json!(["following"])));
    assert_eq!(
        status(2),
        Some(serde_json::json!(["followed_by"])),
        "protected, seen all the same"
    );
    assert_eq!(status(3), None, "no relation, no field");
    assert_eq!(x.users_billed(), 4);
    let app = lookup(&x, X_TOKEN).await;
    assert!(
        app.iter()
            .all(|user| user.get("connection_status").is_none())
    );
    assert_eq!(x.users_billed(), 8);
}

#[tokio::test]
async fn each_member_has_their_own_lookup_window() {
    let x = fake::x(graph()).await;
    x.set_user_lookup_limit(1);
    let (alice, bob) = (x.issue_token("alice", SCOPE), x.issue_token("bob", SCOPE));
    let path = "/2/users/by?usernames=erin";
    let first = get(&x, path, &alice).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(header(&first, "x-rate-limit-limit"), "1");
    assert_eq!(header(&first, "x-rate-limit-remaining"), "0");
    let spent = get(&x, path, &alice).await;
    assert_eq!(spent.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = spent.json().await.unwrap();
    assert_eq!(body["title"], "Too Many Requests");
    assert_eq!(get(&x, path, &bob).await.status(), StatusCode::OK);
    let app = get(&x, path, X_TOKEN).await;
    assert_eq!(app.status(), StatusCode::OK);
    assert_eq!(header(&app, "x-rate-limit-limit"), "300");
    assert_eq!(x.users_billed(), 3, "the refused call returned no one");
}

#[tokio::test]
async fn a_failure_injected_on_the_token_endpoint_is_answered_as_x_does() {
    let x = fake::x(graph()).await;
    x.fail(Endpoint::Token, Failure::Status(503));
    let code = code(&x, "alice", SCOPE).await;
    let refused = exchange(&x, &code, VERIFIER).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let lookup = get(&x, "/2/users/me", &x.issue_token("alice", SCOPE)).await;
    assert_eq!(
        lookup.status(),
        StatusCode::OK,
        "other endpoints unaffected"
    );
    assert!(
        x.calls()
            .iter()
            .any(|call| call.starts_with("/2/oauth2/token?grant_type=authorization_code"))
    );
}
