//! Database errors a person can act on, from the real binary: what is missing or refused,
//! and where; and a history read from a file this process cannot write.

use crate::cli::{BIN, run, stderr, stdout};
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::process::Command;

fn history_with(database_url: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        &["history", "alice", "bob"],
        &[
            ("DATABASE_URL", database_url),
            ("DATABASE_CONNECT_TIMEOUT", "2s"),
        ],
    )
}

#[test]
fn a_sqlite_file_in_a_missing_directory_says_the_directory_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["check", "alice", "bob", "--demo"],
        &[("DATABASE_URL", "sqlite://nowhere/connected.db")],
    );
    assert_eq!(out.status.code(), Some(3));
    let missing = std::path::absolute(dir.path().join("nowhere")).unwrap();
    assert_eq!(
        stderr(&out).trim_end(),
        format!(
            "error: the register is unavailable: cannot open sqlite://nowhere/connected.db: the directory {} does not exist",
            missing.display()
        )
    );
}

#[test]
fn a_postgresql_database_that_does_not_exist_says_so_without_the_servers_source_line() {
    let out =
        history_with("postgres://postgres@127.0.0.1:5432/connected_there_is_no_such_database");
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.ends_with("cannot connect to postgres://postgres@127.0.0.1:5432/connected_there_is_no_such_database: database \"connected_there_is_no_such_database\" does not exist\n"),
        "{err}"
    );
    assert!(!err.contains("at line"), "{err}");
}

#[test]
fn a_closed_port_says_the_connection_was_refused_and_where_without_the_password() {
    // A port nothing listens on: taken, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = history_with(&format!(
        "postgres://postgres:s3cret@127.0.0.1:{port}/connected"
    ));
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("the connection to 127.0.0.1:{port} was refused")),
        "{err}"
    );
    assert!(
        !err.contains("s3cret") && !err.contains("timed out"),
        "{err}"
    );
}

#[tokio::test]
async fn history_reads_a_sqlite_file_it_cannot_write() {
    use connected::domain::{Grounds, Handle, Network, Pair, Register as _, Verdict};
    use connected::outbound::sql::sqlite::SqliteRegister;
    let dir = tempfile::tempdir().unwrap();
    // A register left whole, as a copy of it would be: one file, no log beside it.
    let url = format!("sqlite://{}", dir.path().join("connected.db").display());
    let register =
        SqliteRegister::connect(&url, connected::config::Config::default().database.pool)
            .await
            .unwrap();
    let pair = Pair::new(
        Handle::parse("alice").unwrap(),
        Handle::parse("bob").unwrap(),
    )
    .unwrap();
    let verdict = Verdict::Connected {
        organisations: vec!["acme".into(), "Zeta-Org".into()],
    };
    register
        .record(
            &pair,
            &verdict,
            Grounds::public(Network::X),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    register.close().await;
    let listing = || {
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    let before = listing();
    let file = dir.path().join("connected.db");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    let mut history = Command::new(BIN);
    history
        .args(["history", "alice", "bob"])
        .current_dir(dir.path())
        .env_clear();
    // Permissions do not bind root: the command then runs as nobody, as another user would.
    if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
        history.uid(65534).gid(65534);
    }
    let out = history.output().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("connected      acme, Zeta-Org"),
        "{}",
        stdout(&out)
    );
    assert_eq!(listing(), before, "nothing written beside it");
}
