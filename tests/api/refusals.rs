//! What the service refuses before anything is asked or stored, and what it never prints.

use crate::fake::Graph;
use crate::support::TestDatabase;
use crate::support::{TestApp, spawn_app, spawn_app_with};
use serde_json::json;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_connected");

fn pair_graph() -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"])
}

/// Control characters as a path segment writes them, and as they are in a JSON body.
const CONTROLS: [(&str, char); 4] = [
    ("%00", '\u{0}'),
    ("%1F", '\u{1f}'),
    ("%7F", '\u{7f}'),
    ("%C2%85", '\u{85}'),
];

const NO_CONTROLS: &str = "a developer handle cannot contain control characters";

/// Every endpoint that takes a handle answers 400 for one with a control character, on
/// whichever register the app has, and neither an upstream nor the register is asked.
async fn control_characters_are_bad_handles(app: &TestApp) {
    for (encoded, raw) in CONTROLS {
        for path in [
            format!("/connected/realtime/ali{encoded}ce/bob"),
            format!("/connected/realtime/alice/{encoded}"),
            format!("/connected/register/ali{encoded}ce/bob"),
            format!("/connected/register/bob/alice{encoded}?limit=5"),
        ] {
            let answer = app.get(&path).await;
            assert_eq!(answer.status, 400, "{path}: {}", answer.body);
            assert_eq!(answer.body, json!({"errors": [NO_CONTROLS]}), "{path}");
        }
        let answer = app.network(&["alice", &format!("b{raw}ob")]).await;
        assert_eq!(answer.status, 400, "{encoded}: {}", answer.body);
        assert_eq!(
            answer.body,
            json!({"errors": [format!("developer 2: {NO_CONTROLS}")]})
        );
    }
    assert_eq!(app.upstream_calls(), 0, "no upstream is asked");
    // Nothing was recorded for the well-formed half of any of those pairs.
    let history = app.register("alice", "bob").await;
    assert_eq!(history.status, 404, "{}", history.body);
    assert_eq!(history.body, json!([]));
}

#[tokio::test]
async fn a_handle_with_a_control_character_is_a_bad_handle_on_sqlite() {
    let app = spawn_app(pair_graph()).await;
    control_characters_are_bad_handles(&app).await;
}

#[tokio::test]
async fn a_handle_with_a_control_character_is_a_bad_handle_on_postgresql() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let app = spawn_app_with(pair_graph(), |config| {
        config.database.url = db.url.clone().into();
    })
    .await;
    control_characters_are_bad_handles(&app).await;
}

#[test]
fn the_cli_refuses_a_handle_with_a_control_character() {
    let dir = tempfile::tempdir().unwrap();
    for handle in ["ali\u{1}ce", "bob\u{7f}"] {
        let out = Command::new(BIN)
            .args(["check", handle, "carol", "--demo"])
            .current_dir(dir.path())
            .env_clear()
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{handle:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).trim_end(),
            format!("error: {NO_CONTROLS}")
        );
    }
}

#[test]
fn a_database_url_with_credentials_in_its_query_is_printed_without_them() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 5999: start-up fails and prints the URL it could not reach.
    let out = Command::new(BIN)
        .arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .env(
            "DATABASE_URL",
            "postgres://postgres:pw@127.0.0.1:5999/x?password=SECRET&sslpassword=KEYPASS&application_name=probe",
        )
        .env("DATABASE_CONNECT_TIMEOUT", "1s")
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("postgres://postgres:redacted@127.0.0.1:5999/x?password=redacted&sslpassword=redacted&application_name=probe"),
        "{err}"
    );
    for secret in [":pw@", "SECRET", "KEYPASS"] {
        assert!(!err.contains(secret), "{secret} shown: {err}");
    }
    assert!(
        String::from_utf8_lossy(&out.stdout).is_empty(),
        "nothing else is printed"
    );
}

#[test]
fn a_redis_url_that_cannot_be_used_is_printed_without_its_secret() {
    let dir = tempfile::tempdir().unwrap();
    for (redis_url, shown) in [
        (
            "redis://s3cret@0.0.0.0:6379",
            "redis://redacted@0.0.0.0:6379",
        ),
        (
            "redis://:s3cret@0.0.0.0:6379/?token=s3cret",
            "redis://:redacted@0.0.0.0:6379/?token=redacted",
        ),
    ] {
        let out = Command::new(BIN)
            .arg("serve")
            .current_dir(dir.path())
            .env_clear()
            .env("REDIS_URL", redis_url)
            .env("LISTEN_ADDR", "127.0.0.1:0")
            .env("GITHUB_TOKEN", "ghp_test")
            .env("TWITTER_BEARER_TOKEN", "x_test")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(err.contains(shown), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }
}
