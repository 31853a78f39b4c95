//! Configuration: flags, then environment variables, then a `.env` file in the working
//! directory, then defaults (the command line in `inbound::cli` reads them in that order).

use crate::secret::Secret;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:5000";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://connected.db";
pub const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";
pub const DEFAULT_TWITTER_API_URL: &str = "https://api.x.com";
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_DATABASE_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Connections to a shared database per instance by default: a few per core keeps the
/// cores busy while queries wait on the network, without crowding the server.
pub fn default_database_max_connections() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    u32::try_from(cores * 4).unwrap_or(u32::MAX).clamp(4, 64)
}

/// Where the answers come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstreams {
    /// The real GitHub and X APIs.
    Real,
    /// A social graph from a JSON file; the bundled example when no file is given.
    Demo(Option<PathBuf>),
}

/// Everything the application needs to start. `Debug` never shows a token.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen_addr: SocketAddr,
    pub database_url: String,
    pub github_api_url: String,
    pub github_token: Option<Secret>,
    pub twitter_api_url: String,
    pub twitter_bearer_token: Option<Secret>,
    pub upstream_timeout: Duration,
    pub upstreams: Upstreams,
    /// Pool size for PostgreSQL (SQLite has its own small pool).
    pub database_max_connections: u32,
    /// How long to wait for a database connection, at start-up and after.
    pub database_connect_timeout: Duration,
    /// How long in-flight requests may take to finish after SIGTERM or Ctrl-C.
    pub shutdown_grace: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 5000)),
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            github_api_url: DEFAULT_GITHUB_API_URL.to_owned(),
            github_token: None,
            twitter_api_url: DEFAULT_TWITTER_API_URL.to_owned(),
            twitter_bearer_token: None,
            upstream_timeout: DEFAULT_UPSTREAM_TIMEOUT,
            upstreams: Upstreams::Real,
            database_max_connections: default_database_max_connections(),
            database_connect_timeout: DEFAULT_DATABASE_CONNECT_TIMEOUT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_both_tokens() {
        let config = Config {
            github_token: Some(Secret::new("ghp_abcdef")),
            twitter_bearer_token: Some(Secret::new("AAAAbearer")),
            ..Config::default()
        };
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("ghp_abcdef") && !shown.contains("AAAAbearer"),
            "{shown}"
        );
        assert_eq!(config.listen_addr.to_string(), DEFAULT_LISTEN_ADDR);
    }
}
