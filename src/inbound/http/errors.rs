//! Domain errors to status codes, with the messages each error gives of itself. Internal
//! detail is logged once here, inside the request's span, and never sent to the client.

use super::wire::ErrorsBody;
use crate::application::CheckError;
use crate::domain::access::Payer;
use crate::domain::retry_after_secs;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An error answer: status and `{"errors": [...]}`.
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

/// Logs what went wrong upstream or in storage, once, inside the request's span; a user's
/// mistake is not the service's problem and is not logged.
pub fn logged(error: CheckError) -> ApiError {
    match &error {
        CheckError::RateLimited {
            network,
            retry_after,
        } => {
            tracing::warn!(%network, retry_after_secs = retry_after_secs(*retry_after), "upstream rate limited")
        }
        CheckError::Unavailable { network, reason } => {
            tracing::warn!(%network, %reason, "upstream unavailable");
        }
        CheckError::Register(e) | CheckError::RegisterRead(e) => {
            tracing::error!(error = %e, "register unavailable");
        }
        CheckError::OverBudget(overspend) => {
            tracing::warn!(budget = overspend.budget.id(), payer = ?overspend.payer, "a read was refused: its budget is spent")
        }
        CheckError::TimedOut(deadline) => {
            tracing::warn!(?deadline, "request gave up at its deadline");
        }
        CheckError::BadHandle(_)
        | CheckError::SameDeveloper(_)
        | CheckError::MissingUsers(_)
        | CheckError::Unreadable(_)
        | CheckError::BadTeam(_) => {}
    }
    error.into()
}

impl From<CheckError> for ApiError {
    /// The error's status; its words are the error's own ([`CheckError::public_messages`]).
    fn from(error: CheckError) -> Self {
        let (status, retry_after) = match &error {
            CheckError::BadHandle(_)
            | CheckError::SameDeveloper(_)
            | CheckError::BadTeam(_)
            | CheckError::MissingUsers(_) => (StatusCode::BAD_REQUEST, None),
            CheckError::RateLimited { retry_after, .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                Some(retry_after_secs(*retry_after)),
            ),
            CheckError::Unavailable { .. } => (StatusCode::BAD_GATEWAY, None),
            // The key's own budget is the caller's limit; the service's is the service's.
            CheckError::OverBudget(overspend) => (
                match overspend.payer {
                    Payer::Key => StatusCode::TOO_MANY_REQUESTS,
                    Payer::Service => StatusCode::SERVICE_UNAVAILABLE,
                },
                Some(retry_after_secs(overspend.retry_after)),
            ),
            CheckError::Register(_) | CheckError::RegisterRead(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, None)
            }
            CheckError::TimedOut(_) => (StatusCode::GATEWAY_TIMEOUT, None),
            // The answer exists but cannot be read: a failed dependency, not a missing user,
            // not a broken upstream, and not worth retrying until the accounts change.
            CheckError::Unreadable(_) => (StatusCode::FAILED_DEPENDENCY, None),
        };
        Self {
            status,
            body: ErrorsBody {
                errors: error.public_messages(),
            },
            retry_after,
        }
    }
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
