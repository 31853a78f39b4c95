//! What a handler takes from a request, parsed into the domain's types at the edge: a pair
//! from the path, a team from the body, a page of history from the query, whether cached
//! facts will do, and who pays. Each refuses what it cannot read with one rejection, an
//! [`ApiError`] saying why.

use super::{ApiError, TeamRequest};
use crate::application::Freshness;
use crate::domain::access::Caller;
use crate::domain::{HistoryPage, Pair, Team};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Json, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;

/// The pair of `/{dev1}/{dev2}`.
pub struct PairPath(pub Pair);

impl<S: Send + Sync> FromRequestParts<S> for PairPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path((dev1, dev2)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "the developers in the path cannot be read: {}",
                        rejection.body_text()
                    ),
                )
            })?;
        Ok(Self(Pair::parse(&dev1, &dev2)?))
    }
}

/// A team's body is small: 100 handles of at most 100 characters.
pub const TEAM_BODY_LIMIT: usize = 64 * 1024;

/// The team of a `{"developers": [...]}` body, and the most X users its answer may bill
/// (`"max_x_users"`, when given).
pub struct TeamBody(pub Team, pub Option<u64>);

impl<S: Send + Sync> FromRequest<S> for TeamBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let Json(body) = Json::<TeamRequest>::from_request(request, state)
            .await
            .map_err(|rejection| unreadable(rejection, TEAM_SHAPE, TEAM_BODY_LIMIT))?;
        Ok(Self(Team::parse(&body.developers)?, body.max_x_users))
    }
}

/// What a team's body looks like, for messages.
const TEAM_SHAPE: &str = "{\"developers\": [\"handle\", ...], \"max_x_users\": N (optional)}";

/// Why a JSON body (of the `shape` given, at most `limit` bytes) cannot be read, in the
/// API's words, with the rejection's status.
pub fn unreadable(rejection: JsonRejection, shape: &str, limit: usize) -> ApiError {
    let message = match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "the body must be JSON, sent with Content-Type: application/json".to_owned()
        }
        JsonRejection::JsonDataError(e) => {
            format!("the body must be {shape}: {}", e.body_text())
        }
        JsonRejection::JsonSyntaxError(e) => {
            format!("the body is not valid JSON: {}", e.body_text())
        }
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            format!("the body is larger than {} KiB", limit / 1024)
        }
        other => other.body_text(),
    };
    ApiError::new(rejection.status(), message)
}

/// The page of a pair's history that `?limit=&before=` asks for (all of it by default).
pub struct HistoryParams(pub HistoryPage);

/// The register's query: both optional, read as text so that a bad value is named.
#[derive(Debug, Deserialize)]
struct HistoryQuery {
    limit: Option<String>,
    before: Option<String>,
}

/// The largest page.
const MAX_LIMIT: u32 = 10_000;

impl<S: Send + Sync> FromRequestParts<S> for HistoryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(query) = Query::<HistoryQuery>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("the query cannot be read: {}", rejection.body_text()),
                )
            })?;
        Ok(Self(query.page()?))
    }
}

impl HistoryQuery {
    fn page(&self) -> Result<HistoryPage, ApiError> {
        let limit = match &self.limit {
            None => None,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => Some(n),
                _ => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        format!("limit must be a whole number from 1 to {MAX_LIMIT}, not {raw:?}"),
                    ));
                }
            },
        };
        let before = match &self.before {
            None => None,
            Some(raw) => Some(
                chrono::DateTime::parse_from_rfc3339(raw)
                    .map_err(|_| {
                        ApiError::new(
                            StatusCode::BAD_REQUEST,
                            format!("before must be an RFC 3339 time such as 2021-10-30T13:54:45.485Z, not {raw:?}"),
                        )
                    })?
                    .with_timezone(&chrono::Utc),
            ),
        };
        Ok(HistoryPage { limit, before })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Freshness {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(freshness(&parts.headers))
    }
}

/// `Cache-Control: no-cache` asks for facts read now.
pub fn freshness(headers: &HeaderMap) -> Freshness {
    let no_cache = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|directive| directive.trim().eq_ignore_ascii_case("no-cache"));
    if no_cache {
        Freshness::Fresh
    } else {
        Freshness::Cached
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    /// The caller the guard admitted; a route without a guard has none to give.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            tracing::error!("a route that spends was reached without its guard");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the service could not tell who asks",
            )
        })
    }
}
