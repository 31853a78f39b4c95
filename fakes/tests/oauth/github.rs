//! GitHub's OAuth App flow and a member's token.

use super::{CALLBACK, VERIFIER, challenge, client, form, header, param, redirected, url};
use connected_fakes::{
    self as fake, Fake, GITHUB_OAUTH_CLIENT_ID as ID, GITHUB_OAUTH_CLIENT_SECRET as SECRET, Graph,
};
use reqwest::StatusCode;
use serde_json::Value;

/// alice: public in acme, hidden in secret; bob: public in acme; dave: hidden in acme;
/// carol: public in other, and in restricted (which has not approved the app).
fn graph() -> Graph {
    Graph::new()
        .github("alice", &["acme"])
        .hidden("alice", "secret")
        .github("bob", &["acme"])
        .hidden("dave", "acme")
        .github("carol", &["other", "restricted"])
        .restrict_oauth("restricted")
}

/// The authorise page's redirect for `user` (None: the user denies).
async fn authorise(fake: &Fake, user: Option<&str>, scope: &str) -> reqwest::Response {
    match user {
        Some(user) => fake.approve_as(user),
        None => fake.deny_authorisation(),
    }
    let challenge = challenge();
    let params = [
        ("client_id", ID),
        ("redirect_uri", CALLBACK),
        ("scope", scope),
        ("state", "st4te"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    let url = url(&fake.url, "/login/oauth/authorize", &params);
    client().get(url).send().await.unwrap()
}

/// A code `user` approved.
async fn code(fake: &Fake, user: &str) -> String {
    let params = redirected(&authorise(fake, Some(user), "read:org").await);
    assert_eq!(param(&params, "state"), Some("st4te"));
    param(&params, "code").unwrap().to_owned()
}

/// The exchange of a code, as GitHub answers it (always 200).
async fn exchange(fake: &Fake, params: &[(&str, &str)]) -> Value {
    let response = client()
        .post(format!("{}/login/oauth/access_token", fake.url))
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(params))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The exchange's usual parameters for `code`, with this secret and verifier.
async fn exchange_code(fake: &Fake, code: &str, secret: &str, verifier: &str) -> Value {
    let params = [
        ("client_id", ID),
        ("client_secret", secret),
        ("code", code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", verifier),
    ];
    exchange(fake, &params).await
}

/// A token `user` signed in for, through the whole flow.
async fn token(fake: &Fake, user: &str) -> String {
    let code = code(fake, user).await;
    let answer = exchange_code(fake, &code, SECRET, VERIFIER).await;
    assert_eq!(answer["token_type"], "bearer");
    assert_eq!(answer["scope"], "read:org");
    answer["access_token"].as_str().unwrap().to_owned()
}

/// `GET path` on the API under this token.
async fn get(fake: &Fake, path: &str, token: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", fake.url))
        .bearer_auth(token)
        .header("accept", "application/vnd.github+json")
        .header("x-github-api-version", "2022-11-28")
        .send()
        .await
        .unwrap()
}

/// The logins of a list of organisations.
async fn logins(response: reqwest::Response) -> Vec<String> {
    assert_eq!(response.status(), StatusCode::OK);
    let orgs: Vec<Value> = response.json().await.unwrap();
    orgs.iter()
        .map(|o| o["login"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_member_signs_in_and_their_token_says_who_they_are() {
    let github = fake::github(graph()).await;
    let token = token(&github, "alice").await;
    assert!(token.starts_with("gho_"));
    let response = get(&github, "/user", &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["login"], "alice");
    assert!(user["id"].is_u64());
    assert_eq!(github.live_tokens(), vec![token]);
}

#[tokio::test]
async fn the_authorise_page_refuses_unknown_clients_and_can_deny() {
    let github = fake::github(graph()).await;
    let unknown = url(
        &github.url,
        "/login/oauth/authorize",
        &[("client_id", "nope")],
    );
    let response = client().get(unknown).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let params = redirected(&authorise(&github, None, "read:org").await);
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "state"), Some("st4te"));
    assert_eq!(param(&params, "code"), None);
}

#[tokio::test]
async fn codes_are_single_use_and_checked_against_secret_callback_and_verifier() {
    let github = fake::github(graph()).await;
    let code = code(&github, "alice").await;
    let wrong_secret = exchange_code(&github, &code, "wrong", VERIFIER).await;
    assert_eq!(wrong_secret["error"], "incorrect_client_credentials");
    let wrong_verifier = exchange_code(&github, &code, SECRET, "another-verifier").await;
    assert_eq!(wrong_verifier["error"], "bad_verification_code");
    let used = exchange_code(&github, &code, SECRET, VERIFIER).await;
    assert_eq!(
        used["error"], "bad_verification_code",
        "a code is single-use"
    );

    let code = self::code(&github, "alice").await;
    let params = [
        ("client_id", ID),
        ("client_secret", SECRET),
        ("code", &code),
        ("redirect_uri", "http://127.0.0.1:9/elsewhere"),
        ("code_verifier", VERIFIER),
    ];
    assert_eq!(
        exchange(&github, &params).await["error"],
        "redirect_uri_mismatch"
    );

    github.set_code_lifetime(std::time::Duration::ZERO);
    let code = self::code(&github, "alice").await;
    let expired = exchange_code(&github, &code, SECRET, VERIFIER).await;
    assert_eq!(expired["error"], "bad_verification_code");
    assert!(github.live_tokens().is_empty());
}

#[tokio::test]
async fn deleting_the_grant_stops_every_token_of_that_member() {
    let github = fake::github(graph()).await;
    let (first, second) = (token(&github, "alice").await, token(&github, "alice").await);
    let bob = token(&github, "bob").await;
    let delete = |id: &str, secret: &str, token: &str| {
        client()
            .delete(format!("{}/applications/{ID}/grant", github.url))
            .basic_auth(id, Some(secret))
            .json(&serde_json::json!({"access_token": token}))
            .send()
    };
    let refused = delete(ID, "wrong", &first).await.unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    assert_eq!(get(&github, "/user", &first).await.status(), StatusCode::OK);

    let deleted = delete(ID, SECRET, &first).await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    for gone in [&first, &second] {
        let response = get(&github, "/user", gone).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["message"], "Bad credentials");
        assert!(github.tokens_revoked().contains(gone));
    }
    assert_eq!(github.live_tokens(), vec![bob.clone()]);
    assert_eq!(get(&github, "/user", &bob).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn hidden_memberships_show_only_to_the_member_with_read_org() {
    let github = fake::github(graph()).await;
    let public = get(&github, "/users/alice/orgs", "app-pat").await;
    assert_eq!(logins(public).await, ["acme"]);
    let alice = token(&github, "alice").await;
    assert_eq!(
        logins(get(&github, "/user/orgs", &alice).await).await,
        ["acme", "secret"]
    );
    let no_scope = github.issue_token("alice", "");
    assert_eq!(
        logins(get(&github, "/user/orgs", &no_scope).await).await,
        ["acme"]
    );
    let carol = github.issue_token("carol", "read:org");
    let carols = logins(get(&github, "/user/orgs", &carol).await).await;
    assert_eq!(
        carols,
        ["other"],
        "an organisation restricting the app is left out"
    );
}

#[tokio::test]
async fn user_orgs_are_paged_with_link() {
    let orgs: Vec<String> = (0..5).map(|i| format!("org{i}")).collect();
    let orgs: Vec<&str> = orgs.iter().map(String::as_str).collect();
    let github = fake::github(Graph::new().github("alice", &orgs)).await;
    let alice = github.issue_token("alice", "read:org");
    let first = get(&github, "/user/orgs?per_page=2", &alice).await;
    let link = header(&first, "link");
    assert!(
        link.contains("/user/orgs?per_page=2&page=2>; rel=\"next\""),
        "{link}"
    );
    assert_eq!(logins(first).await, ["org0", "org1"]);
    let last = get(&github, "/user/orgs?per_page=2&page=3", &alice).await;
    assert!(!header(&last, "link").contains("rel=\"next\""));
    assert_eq!(logins(last).await, ["org4"]);
}

#[tokio::test]
async fn membership_checks_answer_members_and_redirect_others() {
    let github = fake::github(graph()).await;
    let alice = token(&github, "alice").await;
    let dave = get(&github, "/orgs/acme/members/dave", &alice).await;
    assert_eq!(
        dave.status(),
        StatusCode::NO_CONTENT,
        "hidden, but alice is in acme"
    );
    let carol = get(&github, "/orgs/acme/members/carol", &alice).await;
    assert_eq!(carol.status(), StatusCode::NOT_FOUND);

    let outsider = github.issue_token("carol", "read:org");
    let redirect = get(&github, "/orgs/acme/members/dave", &outsider).await;
    assert_eq!(redirect.status(), StatusCode::FOUND);
    let location = header(&redirect, "location");
    assert!(
        location.ends_with("/orgs/acme/public_members/dave"),
        "{location}"
    );
    let hidden = client().get(&location).send().await.unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let bob = get(&github, "/orgs/acme/public_members/bob", &outsider).await;
    assert_eq!(bob.status(), StatusCode::NO_CONTENT);
    let restricted = get(&github, "/orgs/restricted/members/carol", &outsider).await;
    assert_eq!(restricted.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn each_member_spends_their_own_allowance() {
    let github = fake::github(graph()).await;
    github.set_user_lookup_limit(2);
    let (alice, bob) = (token(&github, "alice").await, token(&github, "bob").await);
    let first = get(&github, "/user", &alice).await;
    assert_eq!(header(&first, "x-ratelimit-limit"), "2");
    assert_eq!(header(&first, "x-ratelimit-remaining"), "1");
    assert_eq!(
        get(&github, "/user/orgs", &alice).await.status(),
        StatusCode::OK
    );
    let spent = get(&github, "/user", &alice).await;
    assert_eq!(spent.status(), StatusCode::FORBIDDEN);
    assert_eq!(header(&spent, "x-ratelimit-remaining"), "0");
    let body: Value = spent.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("rate limit exceeded")
    );
    let other = get(&github, "/user", &bob).await;
    assert_eq!(other.status(), StatusCode::OK);
    assert_eq!(header(&other, "x-ratelimit-remaining"), "1");
    let app = get(&github, "/users/alice/orgs", "app-pat").await;
    assert_eq!(
        app.status(),
        StatusCode::OK,
        "the app's PAT keeps its own limit"
    );
}

#[tokio::test]
async fn public_calls_under_a_member_token_spend_that_members_allowance() {
    let github = fake::github(graph()).await;
    let alice = github.issue_token("alice", "read:org");
    let first = get(&github, "/users/bob/orgs", &alice).await;
    assert_eq!(header(&first, "x-ratelimit-remaining"), "4999");
    let second = get(&github, "/users/bob/following/alice", &alice).await;
    assert_eq!(header(&second, "x-ratelimit-remaining"), "4998");
    let app = get(&github, "/users/bob/orgs", "app-pat").await;
    assert_eq!(header(&app, "x-ratelimit-remaining"), "4999");
    let unknown = get(&github, "/users/bob/orgs", "gho_not_one_of_ours").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
}
