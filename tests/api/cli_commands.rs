//! The command line's own commands and words: its version, completions and man page, `--demo`
//! before the developers, the start-up line, and what `keys` says of the database it used.

use crate::cli::{BIN, run, stderr, stdout};
use crate::fake::ServiceCommand;

#[test]
fn version_names_the_commit_it_was_built_from() {
    let dir = tempfile::tempdir().unwrap();
    for flag in ["--version", "-V"] {
        let out = run(dir.path(), &[flag], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let version = stdout(&out);
        let commit = version
            .strip_prefix(concat!(
                "connected ",
                env!("CARGO_PKG_VERSION"),
                " (commit "
            ))
            .and_then(|rest| rest.strip_suffix(")\n"))
            .unwrap_or_else(|| panic!("{version}"));
        assert!(
            commit == "unknown"
                || (commit.len() == 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
            "{version}"
        );
    }
}

#[test]
fn demo_before_the_developers_is_the_bundled_graph() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["check", "--demo", "alice", "bob"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("alice and bob are fully connected"));
}

#[test]
fn a_graph_file_after_demo_without_equals_is_refused_with_how_to_write_it() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["check", "--demo", "graph.json", "alice", "bob"][..],
        &["network", "--demo", "graph.json", "alice", "bob", "carol"][..],
    ] {
        let out = run(dir.path(), args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).contains("write --demo=graph.json"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn settings_of_other_commands_are_not_taken() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["history", "alice", "bob", "--demo"][..],
        &["check", "alice", "bob", "--demo", "--auth", "open"][..],
        &["keys", "list", "--cache-ttl", "1m"][..],
    ] {
        let out = run(dir.path(), args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("unexpected argument"), "{args:?}");
    }
}

#[test]
fn completions_and_the_man_page_come_from_the_same_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["completions", "bash"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let script = stdout(&out);
    for name in [
        "_connected",
        "serve",
        "check",
        "network",
        "history",
        "keys",
        "--demo",
    ] {
        assert!(script.contains(name), "{name}");
    }
    for shell in ["zsh", "fish"] {
        let out = run(dir.path(), &["completions", shell], &[]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        assert!(stdout(&out).contains("serve"), "{shell}");
    }
    let out = run(dir.path(), &["man"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(
        page.lines()
            .find(|line| !line.starts_with(".ie") && !line.starts_with(".el"))
            .is_some_and(|line| line.starts_with(".TH connected 1")),
        "{page}"
    );
    assert!(page.contains("serve"), "{page}");
}

#[tokio::test]
async fn serve_says_in_one_line_where_it_listens_and_what_it_is_wired_to() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "CACHE_TTL=5m\n").unwrap();
    let service = ServiceCommand::new(BIN)
        .current_dir(dir.path())
        .arg("--demo")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("c.db").display()),
        )
        .start()
        .await;
    let log = service.log();
    let line = log.lines().find(|l| l.contains(" listening ")).unwrap();
    let address = service.address;
    for field in [
        format!("listening address={address} url=http://{address}/"),
        concat!("version=\"", env!("CARGO_PKG_VERSION"), " (commit ").to_owned(),
        "api_keys=\"not required (listening on loopback; requests through a proxy need one)\""
            .to_owned(),
        format!("database=sqlite://{}/c.db", dir.path().display()),
        "redis=none".to_owned(),
        "upstreams=\"the bundled demo graph\"".to_owned(),
        format!(
            "{} read",
            std::path::absolute(dir.path().join(".env"))
                .unwrap()
                .display()
        ),
    ] {
        assert!(line.contains(&field), "{field}: {line}");
    }
    assert_eq!(log.matches("API keys").count(), 0, "{log}");
    assert_eq!(log.matches(".env").count(), 1, "{log}");
}

#[test]
fn keys_name_their_database_and_say_what_a_revoked_key_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let keys = |args: &[&str]| {
        let args = [&["keys"][..], args].concat();
        run(dir.path(), &args, &[("DATABASE_URL", "sqlite://keys.db")])
    };
    let out = keys(&["create", "ci"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim().lines().count(), 1, "the key alone");
    assert!(
        stderr(&out).contains("created key ci ("),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(") in sqlite://keys.db with scopes"),
        "{}",
        stderr(&out)
    );

    let out = keys(&["create", "ci"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("error: a key named ci exists in sqlite://keys.db (created ")
            && stderr(&out).contains("choose another, e.g. ci-2"),
        "{}",
        stderr(&out)
    );

    let out = keys(&["revoke", "ci"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("revoked key ci ("),
        "{}",
        stderr(&out)
    );
    let out = keys(&["revoke", "ci"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let again = stderr(&out);
    assert!(
        again.contains(") in sqlite://keys.db was already revoked at ")
            && again.trim_end().ends_with("; nothing changed"),
        "{again}"
    );

    let out = keys(&["create", "ci"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the name ci belonged to a key revoked at ")
            && stderr(&out).contains("choose another, e.g. ci-2"),
        "{}",
        stderr(&out)
    );
    let out = keys(&["list", "--json"]);
    assert_eq!(stderr(&out).trim(), "keys in sqlite://keys.db:");
    let out = keys(&["revoke", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("(in sqlite://keys.db)"),
        "{}",
        stderr(&out)
    );
}
