//! Member sign-in through real HTTP against the fakes' OAuth apps: the whole redirect dance,
//! and every way it must refuse (a state replayed or from another browser, a code used twice,
//! a verifier that does not match, a handle that differs), consent, forget me, and sign-in
//! off.

use crate::fake::Graph;
use crate::support::{Browser, spawn_app, spawn_member_app};
use reqwest::Method;
use serde_json::json;

/// alice and bob, colleagues at acme who follow each other.
fn colleagues() -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"])
}

#[tokio::test]
async fn a_member_signs_in_with_github_and_sees_what_is_linked() {
    let app = spawn_member_app(colleagues()).await;
    app.github.approve_as("alice");
    let mut browser = Browser::default();
    let begun = browser
        .get(&format!("{}/members/connect/github", app.address))
        .await;
    assert_eq!(begun.status, 302);
    let authorise = begun.location.clone().unwrap();
    assert!(authorise.starts_with(&format!("{}/login/oauth/authorize?", app.github.url)));
    for part in [
        "code_challenge_method=S256",
        "scope=read%3Aorg",
        "state=",
        "redirect_uri=",
    ] {
        assert!(authorise.contains(part), "{authorise} lacks {part}");
    }
    let binding = &begun.set_cookies[0];
    for part in [
        "connected_sign_in=",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/members/connect",
    ] {
        assert!(binding.contains(part), "{binding} lacks {part}");
    }
    let approved = browser.get(&authorise).await;
    let done = browser.get(approved.location.as_deref().unwrap()).await;
    assert_eq!(done.status, 303, "{}", done.text);
    assert_eq!(done.location.as_deref(), Some("/#member"));
    let session = done
        .set_cookies
        .iter()
        .find(|c| c.starts_with("connected_member="))
        .expect("a session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "plain http: {session}");
    assert_eq!(
        browser.me(&app).await,
        json!({
            "member": {"handle": "alice", "github": {"handle": "alice", "id": "100"}, "x": null, "hidden_organisations": false},
            "sign_in": ["github", "x"]
        })
    );
    assert!(
        app.github
            .calls()
            .iter()
            .any(|c| c.contains("code_challenge") || c.contains("access_token")),
        "{:?}",
        app.github.calls()
    );
}

#[tokio::test]
async fn a_state_is_taken_once_and_only_by_the_browser_that_began_it() {
    let app = spawn_member_app(colleagues()).await;
    app.x.approve_as("alice");
    let mut browser = Browser::default();
    let begun = browser
        .get(&format!("{}/members/connect/x", app.address))
        .await;
    let approved = browser.get(begun.location.as_deref().unwrap()).await;
    let callback = approved.location.unwrap();
    // Another browser, without the sign-in cookie, is refused (and the state is spent).
    let mut other = Browser::default();
    let stolen = other.get(&callback).await;
    assert_eq!(stolen.status, 403, "{}", stolen.text);
    assert!(stolen.text.contains("another browser"), "{}", stolen.text);
    let late = browser.get(&callback).await;
    assert_eq!(late.status, 400, "{}", late.text);
    assert!(
        late.text.contains("expired or was already used"),
        "{}",
        late.text
    );
    // A fresh sign-in works, and its callback replayed is refused.
    let done = browser.sign_in(&app, "x").await;
    assert_eq!(done.status, 303, "{}", done.text);
    assert_eq!(browser.me(&app).await["member"]["x"]["handle"], "alice");
}

#[tokio::test]
async fn a_code_used_twice_or_with_another_verifier_is_refused_by_the_provider() {
    let app = spawn_member_app(colleagues()).await;
    for (fake, network) in [(&app.github, "github"), (&app.x, "x")] {
        fake.approve_as("alice");
        let mut browser = Browser::default();
        let first = browser
            .get(&format!("{}/members/connect/{network}", app.address))
            .await;
        let approved = browser.get(first.location.as_deref().unwrap()).await;
        let code = url::Url::parse(approved.location.as_deref().unwrap())
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned();
        // A second sign-in in the same browser: its state, with the first one's code,
        // whose challenge was another verifier's.
        let second = browser
            .get(&format!("{}/members/connect/{network}", app.address))
            .await;
        let state = url::Url::parse(second.location.as_deref().unwrap())
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned();
        let mixed = format!(
            "{}/members/connect/{network}/callback?code={code}&state={state}",
            app.address
        );
        let refused = browser.get(&mixed).await;
        assert_eq!(refused.status, 400, "{network}: {}", refused.text);
        assert!(
            refused.text.contains("did not approve"),
            "{network}: {}",
            refused.text
        );
        assert_eq!(browser.me(&app).await["member"], json!(null), "{network}");
    }
}

#[tokio::test]
async fn one_handle_is_one_person_on_both_networks() {
    let app = spawn_member_app(colleagues()).await;
    app.github.approve_as("alice");
    app.x.approve_as("bob");
    let mut browser = Browser::default();
    assert_eq!(browser.sign_in(&app, "github").await.status, 303);
    let refused = browser.sign_in(&app, "x").await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert!(
        refused.text.contains("signed in as alice") && refused.text.contains("bob"),
        "{}",
        refused.text
    );
    assert_eq!(
        app.x.tokens_revoked().len(),
        2,
        "bob's access and refresh tokens"
    );
    assert_eq!(browser.me(&app).await["member"]["x"], json!(null));
    app.x.approve_as("alice");
    assert_eq!(browser.sign_in(&app, "x").await.status, 303);
    assert_eq!(browser.me(&app).await["member"]["x"]["handle"], "alice");
}

#[tokio::test]
async fn consent_to_hidden_organisations_is_off_until_the_member_says_so() {
    let app = spawn_member_app(colleagues()).await;
    app.github.approve_as("alice");
    let mut browser = Browser::default();
    let url = format!("{}/members/me/hidden-organisations", app.address);
    let anonymous = browser
        .send(Method::PUT, &url, Some(json!({"count": true})))
        .await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    browser.sign_in(&app, "github").await;
    assert_eq!(
        browser.me(&app).await["member"]["hidden_organisations"],
        false
    );
    let on = browser
        .send(Method::PUT, &url, Some(json!({"count": true})))
        .await;
    assert_eq!(on.status, 200, "{}", on.text);
    assert_eq!(on.json()["member"]["hidden_organisations"], true);
    let off = browser
        .send(Method::PUT, &url, Some(json!({"count": false})))
        .await;
    assert_eq!(off.json()["member"]["hidden_organisations"], false);
    let odd = browser
        .send(Method::PUT, &url, Some(json!({"count": "yes"})))
        .await;
    assert!((400..500).contains(&odd.status), "{}", odd.text);
}

#[tokio::test]
async fn another_sites_page_cannot_change_a_members_sign_in() {
    let app = spawn_member_app(colleagues()).await;
    app.github.approve_as("alice");
    let mut browser = Browser::default();
    browser.sign_in(&app, "github").await;
    let cookie = format!("connected_member={}", browser.cookies["connected_member"]);
    let forged = reqwest::Client::new()
        .delete(format!("{}/members/me", app.address))
        .header("cookie", cookie)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(browser.me(&app).await["member"]["handle"], "alice");
}

#[tokio::test]
async fn forget_me_revokes_the_tokens_and_deletes_every_row_and_no_token_is_ever_stored_in_clear() {
    let app = spawn_member_app(colleagues()).await;
    app.github.approve_as("alice");
    app.x.approve_as("alice");
    let mut browser = Browser::default();
    browser.sign_in(&app, "github").await;
    browser.sign_in(&app, "x").await;
    let live: Vec<String> = app
        .github
        .live_tokens()
        .into_iter()
        .chain(app.x.live_tokens())
        .collect();
    assert_eq!(
        live.len(),
        3,
        "GitHub's token, X's access and refresh tokens: {live:?}"
    );
    let path = app.database_path();
    for file in [path.clone(), path.with_extension("db-wal")] {
        let bytes = std::fs::read(&file).unwrap_or_default();
        for token in &live {
            assert!(
                !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                "{} holds a token in clear",
                file.display()
            );
        }
    }
    let forgotten = browser
        .send(Method::DELETE, &format!("{}/members/me", app.address), None)
        .await;
    assert_eq!(forgotten.status, 200, "{}", forgotten.text);
    assert_eq!(
        forgotten.json(),
        json!({"forgotten": "alice", "revoked": ["github", "x"], "not_revoked": []})
    );
    assert!(
        app.github.live_tokens().is_empty(),
        "{:?}",
        app.github.live_tokens()
    );
    assert!(app.x.live_tokens().is_empty(), "{:?}", app.x.live_tokens());
    assert_eq!(browser.me(&app).await["member"], json!(null));
    assert_eq!(member_rows(&path).await, 0, "no member row is left");
}

/// The rows left about members, counted over the register's own database.
async fn member_rows(path: &std::path::Path) -> i64 {
    use sqlx::Row as _;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let mut rows = 0;
    for table in [
        "members",
        "member_links",
        "member_sessions",
        "member_sign_ins",
    ] {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM {table}"
        )))
        .fetch_one(&pool)
        .await
        .unwrap();
        rows += row.get::<i64, _>("n");
    }
    rows
}

#[tokio::test]
async fn without_its_settings_sign_in_is_off_and_its_routes_are_not_found() {
    let app = spawn_app(colleagues()).await;
    for path in [
        "/members/connect/github",
        "/members/connect/x/callback",
        "/members/me",
    ] {
        let seen = Browser::default()
            .get(&format!("{}{path}", app.address))
            .await;
        assert_eq!(seen.status, 404, "{path}: {}", seen.text);
    }
    let app = spawn_member_app(colleagues()).await;
    let seen = Browser::default()
        .get(&format!("{}/members/connect/bluesky", app.address))
        .await;
    assert_eq!(seen.status, 404, "{}", seen.text);
    let odd = Browser::default()
        .get(&format!(
            "{}/members/connect/x/callback?state=a&state=b&code=1",
            app.address
        ))
        .await;
    assert_eq!(odd.status, 400, "{}", odd.text);
    assert_eq!(
        odd.json()["errors"][0],
        "the provider's answer cannot be read"
    );
}

#[tokio::test]
async fn a_browser_is_sent_back_to_the_page_with_a_code_not_a_document() {
    let app = spawn_member_app(colleagues()).await;
    app.github.approve_as("alice");
    let mut browser = Browser::default();
    let begun = browser
        .get(&format!("{}/members/connect/github", app.address))
        .await;
    let approved = browser.get(begun.location.as_deref().unwrap()).await;
    let callback = approved.location.unwrap();
    let navigate = |url: &str| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(url)
            .header("accept", "text/html,application/xhtml+xml")
            .send()
    };
    // From another browser (no sign-in cookie), as a page would be asked for.
    let refused = navigate(&callback).await.unwrap();
    assert_eq!(refused.status(), 303);
    assert_eq!(
        refused.headers()["location"],
        "/?sign_in_error=other_browser#member"
    );
    let replayed = navigate(&callback).await.unwrap();
    assert_eq!(
        replayed.headers()["location"],
        "/?sign_in_error=expired#member"
    );
}
