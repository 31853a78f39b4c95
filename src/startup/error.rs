//! Why the application could not start: one line for the operator, and under it the error
//! that caused it, kept for the log.

use crate::domain::RegisterError;
use crate::domain::access::LedgerUnavailable;
use crate::outbound::redis::store::RedisUrlError;
use crate::outbound::upstreams::client::ClientError;
use crate::outbound::upstreams::demo::DemoGraphError;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the application could not start. Each says what failed in its own words; what caused
/// it is its `source`, so that the whole line reads "what failed: why" (see
/// [`crate::domain::Told`]).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The address to serve on cannot be bound.
    #[error("cannot listen on {address}")]
    Listen {
        address: SocketAddr,
        #[source]
        cause: std::io::Error,
    },
    /// `REDIS_URL` cannot be used.
    #[error(transparent)]
    Redis(#[from] RedisUrlError),
    /// `DATABASE_URL` is not a URL. Perhaps a password pasted into the wrong variable: the
    /// value is not repeated, nor the parser's words about it.
    #[error("DATABASE_URL is not a URL: use sqlite://FILE or postgres://USER@HOST/DATABASE")]
    DatabaseUrl,
    /// `DATABASE_URL` names a database this service does not speak.
    #[error(
        "DATABASE_URL has an unsupported scheme {scheme:?}: use sqlite://FILE or postgres://USER@HOST/DATABASE"
    )]
    DatabaseScheme { scheme: String },
    /// The register, and the keys and spend ledger beside it, cannot be opened.
    #[error(transparent)]
    Register(#[from] RegisterError),
    /// What the spend budgets spent cannot be read, so none can start from it.
    #[error("cannot read what the spend budgets spent")]
    SpendLedger(#[source] LedgerUnavailable),
    /// The bundled demo graph is refused (never in a tested build).
    #[error(transparent)]
    DemoGraph(#[from] DemoGraphError),
    /// A demo graph file cannot be read.
    #[error("cannot read the demo graph {}", path.display())]
    DemoFile {
        path: PathBuf,
        #[source]
        cause: std::io::Error,
    },
    /// A demo graph file is read, and refused.
    #[error("{cause} (in {})", path.display())]
    DemoFileRefused {
        path: PathBuf,
        #[source]
        cause: DemoGraphError,
    },
    /// The X API is the social graph and no token is set to read it.
    #[error(
        "TWITTER_BEARER_TOKEN is not set: the X API needs an app-only bearer token \
         (or try the bundled demo graph with --demo, or SOCIAL_GRAPH=github or bluesky)"
    )]
    XToken,
    /// Member sign-in is half set up.
    #[error(transparent)]
    SignIn(#[from] crate::config::values::BadValue),
    /// `TOKEN_KEY` cannot be the key members' tokens are encrypted with.
    #[error(transparent)]
    TokenKey(crate::secret::TokenKeyError),
    /// An upstream's client cannot be made.
    #[error(transparent)]
    Upstream(#[from] ClientError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Chain, Told};
    use std::error::Error as _;

    #[test]
    fn a_register_that_cannot_be_opened_says_why_and_keeps_the_databases_error_for_the_log() {
        let e = StartupError::from(RegisterError::unavailable_because(
            "cannot open sqlite://nowhere/connected.db: the directory /srv/nowhere does not exist",
            sqlx::Error::PoolTimedOut,
        ));
        assert_eq!(
            Told(&e).to_string(),
            "the register is unavailable: cannot open sqlite://nowhere/connected.db: the directory /srv/nowhere does not exist"
        );
        assert!(e.source().is_some());
        assert!(
            Chain(&e)
                .to_string()
                .ends_with("does not exist: pool timed out while waiting for an open connection")
        );
    }

    #[test]
    fn a_missing_x_token_says_what_to_set_and_how_to_do_without() {
        let e = StartupError::XToken;
        assert_eq!(
            Told(&e).to_string(),
            "TWITTER_BEARER_TOKEN is not set: the X API needs an app-only bearer token (or try the bundled demo graph with --demo, or SOCIAL_GRAPH=github or bluesky)"
        );
    }

    #[test]
    fn an_address_in_use_is_said_with_the_address_and_the_systems_words() {
        let e = StartupError::Listen {
            address: SocketAddr::from(([127, 0, 0, 1], 8080)),
            cause: std::io::Error::new(std::io::ErrorKind::AddrInUse, "address in use"),
        };
        assert_eq!(
            Told(&e).to_string(),
            "cannot listen on 127.0.0.1:8080: address in use"
        );
        assert!(e.source().is_some());
    }

    #[test]
    fn an_unreadable_spend_ledger_says_so_with_the_ledgers_words() {
        let e = StartupError::SpendLedger(LedgerUnavailable::because(sqlx::Error::PoolClosed));
        assert_eq!(
            Told(&e).to_string(),
            "cannot read what the spend budgets spent: the spend ledger is unavailable: attempted to acquire a connection on a closed pool"
        );
        assert!(e.source().and_then(|ledger| ledger.source()).is_some());
    }

    #[test]
    fn a_refused_demo_graph_file_is_named_once_after_what_is_wrong() {
        let path = PathBuf::from("graph.json");
        let cause = crate::outbound::upstreams::demo::DemoGraph::from_json("{").unwrap_err();
        let said = cause.to_string();
        let e = StartupError::DemoFileRefused { path, cause };
        assert_eq!(Told(&e).to_string(), format!("{said} (in graph.json)"));
        assert!(said.starts_with("invalid demo graph: "));
        assert!(e.source().is_some());
    }
}
