//! The `.env` file: read from the working directory only (never a parent's, which may
//! belong to another application), and said at start, with its absolute path, so that a
//! `.env` that is not this service's cannot steer it unseen.

use std::path::{Path, PathBuf};

/// What came of looking for `.env`.
pub(super) enum DotEnv {
    /// None in the working directory: nothing was read.
    Absent,
    /// Read from this file: what the environment did not set, it set.
    Read(PathBuf),
    /// Found but not read whole (a line it cannot parse): why.
    Unreadable(PathBuf, String),
}

const FILE: &str = ".env";

/// Reads `.env` from the working directory into the environment, where the environment does
/// not already set a variable.
pub(super) fn read() -> DotEnv {
    let path = absolute(Path::new(FILE));
    match dotenvy::from_path(FILE) {
        Ok(()) => DotEnv::Read(path),
        Err(dotenvy::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => DotEnv::Absent,
        Err(e) => DotEnv::Unreadable(path, e.to_string()),
    }
}

/// The file's absolute path, or as given when the working directory cannot be known.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

impl DotEnv {
    /// Says on the log (standard error) which file was read: once logging is set up, which
    /// itself reads `RUST_LOG` and `LOG_FORMAT` from the file. `serve` says it in its
    /// start-up line instead ([`DotEnv::said`]); a file not read whole is a warning for all.
    pub(super) fn log(&self, in_the_start_up_line: bool) {
        match self {
            DotEnv::Absent => {}
            DotEnv::Read(_) if in_the_start_up_line => {}
            DotEnv::Read(path) => {
                tracing::info!(target: "connected::settings", path = %path.display(), "settings read from a .env file");
            }
            DotEnv::Unreadable(path, why) => {
                tracing::warn!(target: "connected::settings", path = %path.display(), error = %why, "the .env file was not read whole");
            }
        }
    }

    /// What was read, in words for the start-up line.
    pub(super) fn said(&self) -> String {
        match self {
            DotEnv::Absent => "none in the working directory".to_owned(),
            DotEnv::Read(path) => format!("{} read", path.display()),
            DotEnv::Unreadable(path, _) => format!("{} not read whole", path.display()),
        }
    }
}
