//! The real binary, driven as a user would.

use crate::fake::{self, Graph, X_TOKEN};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_connected");

/// Runs the binary in `dir` with only the given environment (no stray .env or tokens).
pub(crate) fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json_out(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(output)))
}

#[test]
fn check_with_the_bundled_demo_graph_answers_and_records() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["check", "alice", "bob", "--demo"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("alice and bob are fully connected"),
        "{}",
        stdout(&out)
    );
    assert!(
        dir.path().join("connected.db").exists(),
        "the default register is created in the working directory"
    );

    let out = run(
        dir.path(),
        &["check", "alice", "carol", "--json", "--demo"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_out(&out), json!({"connected": false}));

    let out = run(dir.path(), &["history", "BOB", "alice", "--json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let history = json_out(&out);
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(history[0]["organisations"], json!(["acme", "Zeta-Org"]));

    let out = run(dir.path(), &["history", "alice", "bob"], &[]);
    assert!(
        stdout(&out).contains("connected      acme, Zeta-Org"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn check_reports_missing_users_and_bad_input_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["check", "frank", "grace", "--demo"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).lines().collect::<Vec<_>>(),
        [
            "error: frank is not a valid user in twitter",
            "error: grace is not a valid user in github"
        ]
    );
    let out = run(
        dir.path(),
        &["check", "alice", "ALICE", "--json", "--demo"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        json_out(&out)["errors"][0]
            .as_str()
            .unwrap()
            .contains("same developer")
    );
}

#[test]
fn a_demo_graph_file_replaces_the_bundled_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("graph.json");
    std::fs::write(
        &file,
        r#"{"github": {"users": {"ann": {"orgs": ["guild"]}, "ben": {"orgs": ["Guild"]}}},
            "twitter": {"users": {"ann": {"following": ["ben"]}, "ben": {"following": ["ann"], "id": 42}}}}"#,
    )
    .unwrap();
    let demo = format!("--demo={}", file.display());
    let out = run(dir.path(), &["check", "ann", "ben", "--json", &demo], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        json_out(&out),
        json!({"connected": true, "organisations": ["Guild"]})
    );

    std::fs::write(
        &file,
        r#"{"twitter": {"users": {"ann": {"following": ["zed"]}}}}"#,
    )
    .unwrap();
    let out = run(dir.path(), &["check", "ann", "ben", &demo], &[]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("invalid demo graph"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn without_an_x_token_or_demo_the_service_refuses_to_start_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["check", "alice", "bob"][..],
        &["serve", "--listen-addr", "127.0.0.1:0"][..],
    ] {
        let out = run(dir.path(), args, &[]);
        assert_ne!(out.status.code(), Some(0));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("TWITTER_BEARER_TOKEN") && err.contains("--demo"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn check_talks_to_the_configured_upstreams_and_never_logs_a_token() {
    let graph = Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"]);
    let github = fake::github(graph.clone()).await;
    let x = fake::x(graph).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let (gh, xu) = (github.url.clone(), x.url.clone());
    let out = tokio::task::spawn_blocking(move || {
        run(
            &path,
            &["check", "alice", "bob", "--json"],
            &[
                ("GITHUB_API_URL", &gh),
                ("TWITTER_API_URL", &xu),
                ("TWITTER_BEARER_TOKEN", X_TOKEN),
                ("GITHUB_TOKEN", "ghp_secret_github_token"),
                ("RUST_LOG", "trace"),
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        json_out(&out),
        json!({"connected": true, "organisations": ["acme"]})
    );
    assert_eq!(github.call_count() + x.call_count(), 5);
    let logs = stderr(&out);
    assert!(!logs.is_empty(), "trace logging should say something");
    assert!(
        !logs.contains(X_TOKEN) && !logs.contains("ghp_secret_github_token"),
        "a token leaked into the logs"
    );
}

#[test]
fn flags_beat_the_environment_which_beats_the_dotenv_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=sqlite://from-dotenv.db\n",
    )
    .unwrap();
    run(dir.path(), &["check", "alice", "bob", "--demo"], &[]);
    assert!(dir.path().join("from-dotenv.db").exists());

    run(
        dir.path(),
        &["check", "alice", "bob", "--demo"],
        &[("DATABASE_URL", "sqlite://from-env.db")],
    );
    assert!(dir.path().join("from-env.db").exists());

    run(
        dir.path(),
        &[
            "check",
            "alice",
            "bob",
            "--database-url",
            "sqlite://from-flag.db",
            "--demo",
        ],
        &[("DATABASE_URL", "sqlite://from-env.db")],
    );
    assert!(dir.path().join("from-flag.db").exists());
    assert!(!dir.path().join("connected.db").exists());
}

#[test]
fn a_bad_timeout_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["check", "alice", "bob", "--demo"],
        &[("UPSTREAM_TIMEOUT", "soon")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("upstream-timeout"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn sigterm_lets_the_requests_in_flight_finish_and_exits_cleanly() {
    use crate::fake::{Endpoint, Failure};
    use std::time::Duration;

    let graph = Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"]);
    let github = fake::github(graph.clone()).await;
    let x = fake::x(graph).await;
    // The check will be in flight for a second and a half when the signal arrives.
    x.fail(Endpoint::Lookup, Failure::Hang(Duration::from_millis(1500)));
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("register.db").display());
    let mut server = fake::ServiceCommand::new(BIN)
        .current_dir(dir.path())
        .env("GITHUB_API_URL", &github.url)
        .env("TWITTER_API_URL", &x.url)
        .env("TWITTER_BEARER_TOKEN", X_TOKEN)
        .env("DATABASE_URL", &database)
        .start()
        .await;
    let client = reqwest::Client::new();
    let base = server.base.clone();

    let in_flight = tokio::spawn({
        let client = client.clone();
        let url = format!("{base}/connected/realtime/alice/bob");
        async move { client.get(url).send().await }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let pid = server.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());

    let response = in_flight
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(response.status(), 200);
    let status = tokio::time::timeout(Duration::from_secs(10), server.wait())
        .await
        .expect("the server exits")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    // The answer it sent was recorded.
    let out = run(
        dir.path(),
        &["history", "alice", "bob", "--json"],
        &[("DATABASE_URL", &database)],
    );
    assert_eq!(json_out(&out).as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn healthcheck_exits_0_against_a_live_server_and_1_otherwise() {
    let app = crate::support::spawn_app(Graph::new()).await;
    let live = app.address.trim_start_matches("http://").to_owned();
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let (ok, down) = tokio::task::spawn_blocking(move || {
        (
            run(&path, &["healthcheck"], &[("LISTEN_ADDR", &live)]),
            run(&path, &["healthcheck", "--listen-addr", &dead], &[]),
        )
    })
    .await
    .unwrap();
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert_eq!(down.status.code(), Some(1));
    assert!(stderr(&down).starts_with("unhealthy:"), "{}", stderr(&down));
}

#[test]
fn network_prints_connections_json_and_a_graphviz_graph() {
    let dir = tempfile::tempdir().unwrap();
    let team = ["network", "alice", "bob", "carol", "erin", "frank"];
    let out = run(
        dir.path(),
        &[&team[..], &["--json", "--demo"]].concat(),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let body = json_out(&out);
    assert_eq!(
        body["errors"],
        json!(["frank is not a valid user in twitter"])
    );
    assert_eq!(body["groups"], json!([["alice", "bob"], ["alice", "erin"]]));

    let out = run(dir.path(), &[&team[..], &["--dot", "--demo"]].concat(), &[]);
    let dot = stdout(&out);
    assert!(dot.starts_with("graph connected {"), "{dot}");
    assert!(
        dot.contains(r#""alice" -- "bob" [label="acme, Zeta-Org"];"#),
        "{dot}"
    );
    assert!(!dot.contains("frank"), "{dot}");
    assert!(stderr(&out).contains("frank is not a valid user in twitter"));

    // Every pair was recorded, through either call.
    let out = run(dir.path(), &["history", "carol", "erin", "--json"], &[]);
    assert_eq!(json_out(&out).as_array().unwrap().len(), 2);
}

#[test]
fn two_protected_accounts_of_the_demo_graph_cannot_be_checked_and_are_not_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["check", "heidi", "ivan", "--demo"], &[]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).trim(),
        "error: whether heidi follows ivan cannot be read: their X accounts are protected"
    );
    let out = run(dir.path(), &["history", "heidi", "ivan"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "no record for heidi and ivan\n");

    let out = run(
        dir.path(),
        &["network", "heidi", "ivan", "alice", "--json", "--demo"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        json_out(&out)["undecided"],
        json!([{"developers": ["heidi", "ivan"],
                "error": "whether heidi follows ivan cannot be read: their X accounts are protected"}])
    );
}

/// Runs the binary with its standard output a pipe closed before it writes anything.
fn run_unread(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // The reader goes away at once, long before the answer is written.
    drop(child.stdout.take());
    child.wait_with_output().expect("the binary ends")
}

#[test]
fn a_reader_that_goes_away_ends_any_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["check", "alice", "bob", "--demo"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for (args, code) in [
        (&["openapi"][..], 0),
        (&["check", "alice", "bob", "--demo"][..], 0),
        (&["check", "alice", "carol", "--demo", "--json"][..], 1),
        (&["check", "frank", "grace", "--demo", "--json"][..], 2),
        (&["network", "alice", "bob", "carol", "--demo"][..], 0),
        (&["network", "alice", "bob", "--demo", "--dot"][..], 0),
        (&["history", "alice", "bob"][..], 0),
        (&["history", "alice", "bob", "--json"][..], 0),
        (&["keys", "list", "--json"][..], 0),
    ] {
        let out = run_unread(dir.path(), args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn every_command_says_which_env_file_it_read_on_standard_error_only() {
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join(".env");
    std::fs::write(&env_file, "DATABASE_URL=sqlite://from-dotenv.db\n").unwrap();
    let shown = std::path::absolute(&env_file).unwrap();
    for args in [
        &["check", "alice", "bob", "--demo", "--json"][..],
        &["history", "alice", "bob", "--json"][..],
        &["openapi"][..],
        &["keys", "list", "--json"][..],
    ] {
        let out = run(dir.path(), args, &[]);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("settings read from a .env file")
                && err.contains(&shown.display().to_string()),
            "{args:?}: {err}"
        );
        // Standard output is the answer alone.
        json_out(&out);
    }
    assert!(
        dir.path().join("from-dotenv.db").exists(),
        "the .env's register was used"
    );

    // A parent's .env belongs to someone else: it is not read.
    let child = dir.path().join("elsewhere");
    std::fs::create_dir(&child).unwrap();
    let out = run(&child, &["check", "alice", "bob", "--demo"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains(".env"), "{}", stderr(&out));
    assert!(child.join("connected.db").exists());
}
