//! A database's failures in words a person can act on: what is missing or refused, and
//! where, without the server's own source position (`at line 948`) or a password.

use std::path::Path;

/// `error` as a person reads it.
pub(crate) fn describe(error: &sqlx::Error) -> String {
    match error {
        // The message alone: PostgreSQL's error also carries where in its own source it was
        // raised, which sqlx's text repeats and no one can act on.
        sqlx::Error::Database(e) => e.message().to_owned(),
        sqlx::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            "the connection was refused".to_owned()
        }
        sqlx::Error::Io(e) => e.to_string(),
        other => other.to_string(),
    }
}

/// Why a connection to `host:port` failed, said with the address it was made to.
pub(crate) fn describe_connection(error: &sqlx::Error, host: &str, port: u16) -> String {
    match error {
        sqlx::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "the connection to {host}:{port} was refused (is the database server running and listening there?)"
        ),
        other => describe(other),
    }
}

/// Why a SQLite file could not be opened: its directory missing, or the file missing when it
/// was not to be created, else what SQLite said.
pub(crate) fn describe_sqlite_open(error: &sqlx::Error, file: &Path) -> String {
    let file = std::path::absolute(file).unwrap_or_else(|_| file.to_owned());
    match file.parent() {
        Some(directory) if !directory.as_os_str().is_empty() && !directory.is_dir() => {
            format!("the directory {} does not exist", directory.display())
        }
        _ if !file.exists() => format!("the file {} does not exist", file.display()),
        _ => describe(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_connection_says_where_it_was_made() {
        let refused = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(
            describe_connection(&refused, "127.0.0.1", 5999),
            "the connection to 127.0.0.1:5999 was refused (is the database server running and listening there?)"
        );
        assert_eq!(describe(&refused), "the connection was refused");
    }

    #[test]
    fn a_missing_directory_is_named() {
        let error = sqlx::Error::PoolTimedOut;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nowhere").join("connected.db");
        assert_eq!(
            describe_sqlite_open(&error, &file),
            format!(
                "the directory {} does not exist",
                dir.path().join("nowhere").display()
            )
        );
        let file = dir.path().join("connected.db");
        assert_eq!(
            describe_sqlite_open(&error, &file),
            format!("the file {} does not exist", file.display())
        );
        std::fs::write(&file, "").unwrap();
        assert_eq!(describe_sqlite_open(&error, &file), describe(&error));
    }
}
