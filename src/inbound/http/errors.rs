//! Domain errors to status codes and public messages. Internal detail is logged once here,
//! inside the request's span, and never sent to the client.

use super::wire::ErrorsBody;
use crate::application::CheckError;
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
        CheckError::Register(e) => tracing::error!(error = %e, "register unavailable"),
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
    fn from(error: CheckError) -> Self {
        match error {
            CheckError::BadHandle(e) => Self::new(StatusCode::BAD_REQUEST, e.to_string()),
            CheckError::SameDeveloper(e) => Self::new(StatusCode::BAD_REQUEST, e.to_string()),
            CheckError::BadTeam(e) => Self::new(StatusCode::BAD_REQUEST, e.to_string()),
            CheckError::MissingUsers(missing) => Self {
                status: StatusCode::BAD_REQUEST,
                body: ErrorsBody {
                    errors: missing.iter().map(ToString::to_string).collect(),
                },
                retry_after: None,
            },
            CheckError::RateLimited {
                network,
                retry_after,
            } => {
                let secs = retry_after_secs(retry_after);
                Self {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    body: ErrorsBody::one(format!(
                        "{network} rate limit exceeded; retry after {secs} s"
                    )),
                    retry_after: Some(secs),
                }
            }
            CheckError::Unavailable { network, reason } => Self::new(
                StatusCode::BAD_GATEWAY,
                format!("{network} is unavailable: {reason}"),
            ),
            CheckError::Register(_) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the register is unavailable; nothing was recorded, try again later",
            ),
            CheckError::TimedOut(deadline) => Self::new(
                StatusCode::GATEWAY_TIMEOUT,
                format!(
                    "the upstreams did not answer within {}; try again later",
                    humantime::format_duration(deadline)
                ),
            ),
            // The answer exists but cannot be read: a failed dependency, not a missing user,
            // not a broken upstream, and not worth retrying until the accounts change.
            CheckError::Unreadable(why) => {
                Self::new(StatusCode::FAILED_DEPENDENCY, why.to_string())
            }
        }
    }
}

impl ApiError {
    /// The public body, for the command line's output.
    pub fn into_body(self) -> ErrorsBody {
        self.body
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
