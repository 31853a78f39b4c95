//! Upstream answers no real network gives: organisation names megabytes long, a million of
//! them, names with NUL or control characters, users X cannot have. Each is an answer that
//! cannot be read (502), and nothing of it is recorded.

use crate::fake::{Endpoint, Failure, Graph, HostileOrgs};
use crate::support::{TestApp, spawn_app};
use serde_json::json;

fn pair() -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"])
}

async fn assert_unreadable_and_nothing_recorded(app: &TestApp, network: &str) -> String {
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(answer.status, 502, "{}", answer.body);
    let message = answer.body["errors"][0].as_str().unwrap().to_owned();
    assert!(
        message.starts_with(&format!(
            "{network} is unavailable: its answer could not be read"
        )),
        "{message}"
    );
    assert!(message.len() < 300, "{} bytes", message.len());
    let register = app.register("alice", "bob").await;
    assert_eq!((register.status, register.body), (404, json!([])));
    message
}

#[tokio::test]
async fn an_organisation_name_megabytes_long_is_an_unreadable_answer() {
    let app = spawn_app(pair()).await;
    app.github.answer_orgs(HostileOrgs::named("huge").unwrap());
    let message = assert_unreadable_and_nothing_recorded(&app, "GitHub").await;
    assert!(message.contains("larger than 1 MiB"), "{message}");
}

#[tokio::test]
async fn a_long_name_that_fits_a_page_is_still_not_an_organisation() {
    let app = spawn_app(pair()).await;
    app.github.answer_orgs(HostileOrgs::HugeName {
        bytes: 100_000,
        pages: 1,
    });
    let message = assert_unreadable_and_nothing_recorded(&app, "GitHub").await;
    assert!(message.contains("is not a GitHub login"), "{message}");
}

#[tokio::test]
async fn a_million_organisations_are_an_unreadable_answer() {
    let app = spawn_app(pair()).await;
    app.github.answer_orgs(HostileOrgs::named("many").unwrap());
    assert_unreadable_and_nothing_recorded(&app, "GitHub").await;
}

#[tokio::test]
async fn more_than_a_thousand_organisations_in_pages_of_a_hundred_are_not_read_to_the_end() {
    let app = spawn_app(pair()).await;
    app.github.answer_orgs(HostileOrgs::ManyNames {
        names: 1_000_001,
        pages: 10_001,
    });
    let message = assert_unreadable_and_nothing_recorded(&app, "GitHub").await;
    assert!(
        message.contains("more than 1000 organisations"),
        "{message}"
    );
    // Eleven pages of the first developer at most: the eleventh is the one too many.
    let pages = app
        .github
        .calls()
        .iter()
        .filter(|c| c.contains("/orgs"))
        .count();
    assert!(pages <= 22, "{pages} pages read");
}

#[tokio::test]
async fn an_organisation_with_a_nul_or_a_control_character_is_an_unreadable_answer() {
    for kind in ["nul", "control"] {
        let app = spawn_app(pair()).await;
        app.github.answer_orgs(HostileOrgs::named(kind).unwrap());
        let message = assert_unreadable_and_nothing_recorded(&app, "GitHub").await;
        assert!(
            message.contains("is not a GitHub login") && !message.contains('\u{0}'),
            "{kind}: {message}"
        );
    }
}

#[tokio::test]
async fn a_user_x_cannot_have_is_an_unreadable_answer() {
    for user in [
        json!({"id": "2001", "username": "bob\u{1}"}),
        json!({"id": "2001", "username": "bob-the-builder"}),
        json!({"id": "x".repeat(100_000), "username": "bob"}),
    ] {
        let app = spawn_app(pair()).await;
        let body = json!({"data": [{"id": "2000", "username": "alice"}, user]});
        app.x
            .fail(Endpoint::Lookup, Failure::Body(body.to_string()));
        assert_unreadable_and_nothing_recorded(&app, "X").await;
    }
}
