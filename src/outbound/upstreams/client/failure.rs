//! Why an upstream call gave no answer, in words a user understands (never with a secret),
//! and in the ports' own terms.

use crate::domain::Unavailable;
use crate::domain::access::Overspend;
use reqwest::StatusCode;
use std::time::Duration;

/// Why an upstream call gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The API refuses calls for this long.
    RateLimited(Duration),
    /// Anything else, in words (never with a secret), and the error underneath when there
    /// is one, for the log.
    Unavailable(Unavailable),
    /// Not made: a spend budget cannot pay for it.
    OverBudget(Overspend),
}

impl From<Failure> for crate::domain::SocialGraphError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::RateLimited(retry_after) => Self::RateLimited { retry_after },
            Failure::Unavailable(unavailable) => Self::Unavailable(unavailable),
            Failure::OverBudget(overspend) => Self::OverBudget(overspend),
        }
    }
}

impl From<Failure> for crate::domain::CodeHostError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::RateLimited(retry_after) => Self::RateLimited { retry_after },
            Failure::Unavailable(unavailable) => Self::Unavailable(unavailable),
            Failure::OverBudget(overspend) => Self::OverBudget(overspend),
        }
    }
}

impl From<Unavailable> for Failure {
    fn from(unavailable: Unavailable) -> Self {
        Self::Unavailable(unavailable)
    }
}

/// Why an upstream's client could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The token cannot travel in a header (a line break in it, say). http's error says no
    /// more than this ("failed to parse header value"), and was made from a secret: it is
    /// not kept.
    #[error("the {network} token is not a valid header value")]
    Token { network: &'static str },
    /// The TLS backend or the system's configuration refused the client.
    #[error("cannot build the HTTP client")]
    Build(#[source] reqwest::Error),
}

/// A transport failure in words: a timeout, a refused connection, an unreadable body.
pub(super) fn describe_transport(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        format!("no answer within {}", humantime::format_duration(timeout))
    } else if error.is_connect() {
        "cannot connect".to_owned()
    } else if error.is_decode() || error.is_body() {
        "its answer could not be read".to_owned()
    } else {
        "the request failed".to_owned()
    }
}

/// A non-2xx status and its body in words, with the upstream's own message where it gave
/// one.
pub fn describe(status: StatusCode, text: &str) -> String {
    let detail = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|body| {
            ["message", "detail", "title", "error"]
                .iter()
                .find_map(|key| body.get(key).and_then(|v| v.as_str()).map(str::to_owned))
        })
        .map(|d| d.chars().take(200).collect::<String>());
    let code = match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    };
    match (status, detail) {
        (StatusCode::UNAUTHORIZED, _) => format!("it rejected the credentials ({code})"),
        (_, Some(detail)) if !detail.is_empty() => format!("it answered {code}: {detail}"),
        _ => format!("it answered {code}"),
    }
}
