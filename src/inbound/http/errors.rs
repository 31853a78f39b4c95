//! Failures to status codes, in the words `inbound::wording` gives them. What went wrong
//! upstream or in storage is logged once here, inside the request's span, and never sent to
//! the client; a user's mistake is not the service's problem and is not logged.

use super::wire::ErrorsBody;
use crate::application::{CheckError, NetworkError, UpstreamFailure};
use crate::domain::access::Payer;
use crate::domain::{Chain, PairError, RegisterError, TeamError};
use crate::inbound::wording::{Public, Unread, retry_after_secs};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An error answer: status and `{"errors": [...]}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorsBody,
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorsBody::one(message),
            retry_after: None,
        }
    }

    /// The same answer, telling the client to come back in `secs` seconds.
    #[must_use]
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }
}

/// A failure as HTTP answers it: its status, when to come back, and what is logged of it.
pub trait Answered: Public {
    /// The status, and the seconds of a `Retry-After` when there is one.
    fn status(&self) -> (StatusCode, Option<u64>);

    /// Says in the log what went wrong, when it is the service's or an upstream's problem.
    fn log(&self) {}
}

impl<E: Answered> From<E> for ApiError {
    fn from(error: E) -> Self {
        error.log();
        let (status, retry_after) = error.status();
        Self {
            status,
            body: ErrorsBody {
                errors: error.public_messages(),
            },
            retry_after,
        }
    }
}

impl Answered for PairError {
    fn status(&self) -> (StatusCode, Option<u64>) {
        (StatusCode::BAD_REQUEST, None)
    }
}

impl Answered for TeamError {
    fn status(&self) -> (StatusCode, Option<u64>) {
        (StatusCode::BAD_REQUEST, None)
    }
}

impl Answered for UpstreamFailure {
    fn status(&self) -> (StatusCode, Option<u64>) {
        match self {
            Self::RateLimited { retry_after, .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                Some(retry_after_secs(*retry_after)),
            ),
            Self::Unavailable { .. } => (StatusCode::BAD_GATEWAY, None),
            // The key's own budget is the caller's limit; the service's is the service's.
            Self::OverBudget(overspend) => (
                match overspend.payer {
                    Payer::Key => StatusCode::TOO_MANY_REQUESTS,
                    Payer::Service => StatusCode::SERVICE_UNAVAILABLE,
                },
                Some(retry_after_secs(overspend.retry_after)),
            ),
            Self::TimedOut(_) => (StatusCode::GATEWAY_TIMEOUT, None),
        }
    }

    fn log(&self) {
        match self {
            Self::RateLimited {
                network,
                retry_after,
            } => {
                tracing::warn!(%network, retry_after_secs = retry_after_secs(*retry_after), "upstream rate limited");
            }
            Self::Unavailable { network, why } => {
                tracing::warn!(%network, reason = %why, error = %Chain(self), "upstream unavailable");
            }
            Self::OverBudget(overspend) => {
                tracing::warn!(budget = overspend.budget.id(), payer = ?overspend.payer, "a read was refused: its budget is spent");
            }
            Self::TimedOut(deadline) => {
                tracing::warn!(?deadline, "request gave up at its deadline");
            }
        }
    }
}

impl Answered for CheckError {
    fn status(&self) -> (StatusCode, Option<u64>) {
        match self {
            Self::MissingUsers(_) => (StatusCode::BAD_REQUEST, None),
            // The answer exists but cannot be read: a failed dependency, not a missing user,
            // not a broken upstream, and not worth retrying until the accounts change.
            Self::Unreadable(_) => (StatusCode::FAILED_DEPENDENCY, None),
            Self::Upstream(failure) => failure.status(),
            Self::Register(_) => REGISTER_DOWN,
        }
    }

    fn log(&self) {
        match self {
            Self::Upstream(failure) => failure.log(),
            Self::Register(e) => log_register(e),
            Self::MissingUsers(_) | Self::Unreadable(_) => {}
        }
    }
}

impl Answered for NetworkError {
    fn status(&self) -> (StatusCode, Option<u64>) {
        match self {
            Self::Upstream(failure) => failure.status(),
            Self::Register(_) => REGISTER_DOWN,
        }
    }

    fn log(&self) {
        match self {
            Self::Upstream(failure) => failure.log(),
            Self::Register(e) => log_register(e),
        }
    }
}

impl Answered for Unread {
    fn status(&self) -> (StatusCode, Option<u64>) {
        REGISTER_DOWN
    }

    fn log(&self) {
        log_register(&self.0);
    }
}

/// A register that cannot write or read: the service's own problem, for a while.
const REGISTER_DOWN: (StatusCode, Option<u64>) = (StatusCode::SERVICE_UNAVAILABLE, None);

/// Says in the log that the register failed, with every cause.
fn log_register(error: &RegisterError) {
    tracing::error!(error = %Chain(error), "register unavailable");
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RegisterError;
    use std::sync::{Arc, Mutex, PoisonError};

    /// What was logged, kept in memory.
    #[derive(Clone, Default)]
    struct Logged(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Logged {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let mut logged = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            logged.extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_register_failure_logs_its_cause_and_tells_the_client_nothing_of_it() {
        let logged = Logged::default();
        let writer = logged.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let cause = std::io::Error::other("database or disk is full");
        let failure = CheckError::Register(RegisterError::unavailable_because("disk full", cause));
        let answer = tracing::subscriber::with_default(subscriber, || ApiError::from(failure));
        let log = String::from_utf8_lossy(&logged.0.lock().unwrap()).into_owned();
        assert!(
            log.contains("the register is unavailable: disk full: database or disk is full"),
            "{log}"
        );
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            answer
                .body
                .errors
                .iter()
                .all(|e| !e.contains("disk") && !e.contains("database")),
            "{:?}",
            answer.body.errors
        );
    }
}
