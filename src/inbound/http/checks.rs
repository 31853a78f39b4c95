//! The checks: one pair now, or a whole team's network.

use super::access::AccessRefusals;
use super::estimate::{ConfirmAbove, OverCapBody, over_cap};
use super::extract::{PairPath, TeamBody};
use super::sites::Misdirected;
use super::{ApiError, ErrorsBody, NetworkBody, TeamRequest, VerdictBody};
use crate::application::{Capped, Freshness, UseCases};
use crate::domain::access::Caller;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Check two developers now
///
/// Checks now, on GitHub and X, whether two developers are fully connected, and records the
/// answer.
#[utoipa::path(
    get,
    operation_id = "checkPair",
    path = "/connected/realtime/{dev1}/{dev2}",
    tag = "connected",
    params(
        // The bounds are `Handle::parse`'s (wire::HANDLE_PATTERN; a test holds them equal).
        ("dev1" = String, Path, min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$",
         description = "A developer's handle, the same on GitHub and X (case-insensitive): 1 to 100 characters, no control character"),
        ("dev2" = String, Path, min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$",
         description = "Another developer's handle (not the same as dev1, ignoring case)"),
        ("Cache-Control" = Option<String>, Header,
         description = "`no-cache`: ask GitHub and X again instead of using cached facts (what is read refreshes the cache)"),
    ),
    responses(
        (status = 200, description = "Fully connected; the organisations both belong to", body = VerdictBody,
         headers(("Upstream-Cost" = String, description = "What this request made upstream: `github-calls=2, x-calls=3, x-users=2, cached=no` (calls to each network, X users billed, whether it was answered from the cache alone); on every answer of this route")),
         example = json!({"connected": true, "organisations": ["acme", "Zeta-Org"]})),
        (status = 404, description = "Both exist everywhere but are not fully connected", body = VerdictBody,
         headers(("Upstream-Cost" = String, description = "What this request made upstream: `github-calls=2, x-calls=3, x-users=2, cached=no` (calls to each network, X users billed, whether it was answered from the cache alone); on every answer of this route")),
         example = json!({"connected": false})),
        (status = 400, description = "A developer does not exist on a network (one message per developer and network, in the order dev1-github, dev1-twitter, dev2-github, dev2-twitter), or the same developer twice", body = ErrorsBody,
         example = json!({"errors": ["dev1 is not a valid user in github", "dev1 is not a valid user in twitter", "dev2 is not a valid user in twitter"]})),
        (status = 424, description = "They share an organisation, but whether they follow each other cannot be read: both are protected accounts, whose follow lists the social graph keeps private; nothing recorded", body = ErrorsBody,
         example = json!({"errors": ["whether alice follows bob cannot be read: their X accounts are protected"]})),
        (status = 502, description = "An upstream failed (timeout, 5xx, unreadable answer, rejected credentials); nothing recorded", body = ErrorsBody,
         example = json!({"errors": ["GitHub is unavailable: no answer within 10s"]})),
        (status = 503, description = "An upstream is rate-limited, the service's spend budget cannot pay for a read, the API keys cannot be read, or the register is unavailable; nothing recorded", body = ErrorsBody,
         headers(("Retry-After" = u64, description = "Seconds until the upstream's rate limit resets, or the spend budget's window ends")),
         example = json!({"errors": ["twitter rate limit exceeded; retry after 120 s"]})),
        (status = 504, description = "The upstreams together took longer than REQUEST_TIMEOUT", body = ErrorsBody,
         example = json!({"errors": ["the upstreams did not answer within 1m; try again later"]})),
        AccessRefusals,
        Misdirected,
    ),
    security((), ("bearer" = []))
)]
pub(super) async fn realtime(
    State(use_cases): State<UseCases>,
    caller: Caller,
    freshness: Freshness,
    PairPath(pair): PairPath,
) -> Result<Response, ApiError> {
    let check = use_cases.check(&pair, freshness, &caller).await?;
    let status = if check.verdict.is_connected() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    Ok((status, Json(VerdictBody::from(&check.verdict))).into_response())
}

/// Map a team's network
///
/// Who in a team is fully connected to whom, in one request: each developer's organisations
/// once, X's lookups in batches of 100, each follow list read at most once and only for
/// developers who share an organisation with someone. Every pair's verdict is recorded.
#[utoipa::path(
    post,
    operation_id = "mapTeamNetwork",
    path = "/connected/network",
    tag = "connected",
    request_body = TeamRequest,
    params(("Cache-Control" = Option<String>, Header,
            description = "`no-cache`: ask GitHub and X again instead of using cached facts")),
    responses(
        (status = 200, description = "The team's connections and groups; developers missing on a network are listed in `errors` and left out; pairs whose follows cannot be read (protected accounts) are listed in `undecided` and not recorded", body = NetworkBody,
         headers(("Upstream-Cost" = String, description = "What this request made upstream: `github-calls=2, x-calls=3, x-users=2, cached=no` (calls to each network, X users billed, whether it was answered from the cache alone); on every answer of this route")),),
        (status = 400, description = "Unreadable JSON, an unusable handle, or not 2 to 100 different developers", body = ErrorsBody),
        (status = 409, description = "The follow lists the answer would read may bill more X users than `max_x_users`: the estimate (as `POST /connected/network/estimate` answers it), with why; round one was spent, no list was read, nothing recorded", body = OverCapBody,
         headers(("Upstream-Cost" = String, description = "What this request made upstream (round one only)"))),
        (status = 413, description = "The body is larger than 64 KiB", body = ErrorsBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorsBody),
        (status = 422, description = "The JSON is not `{\"developers\": [\"...\"], \"max_x_users\": N}` (an unknown field included)", body = ErrorsBody),
        (status = 502, description = "An upstream failed; nothing recorded", body = ErrorsBody),
        (status = 504, description = "The upstreams together took longer than REQUEST_TIMEOUT", body = ErrorsBody),
        (status = 503, description = "An upstream is rate-limited or the service's spend budget is spent (with `Retry-After`), the API keys cannot be read, or the register is unavailable; nothing recorded", body = ErrorsBody,
         headers(("Retry-After" = u64, description = "Seconds until the upstream's rate limit resets"))),
        AccessRefusals,
        Misdirected,
    ),
    security((), ("bearer" = []))
)]
pub(super) async fn network(
    State(use_cases): State<UseCases>,
    State(confirm): State<ConfirmAbove>,
    caller: Caller,
    freshness: Freshness,
    TeamBody(team, cap): TeamBody,
) -> Result<Response, ApiError> {
    match use_cases
        .network_capped(&team, freshness, &caller, cap)
        .await?
    {
        Capped::Answered(network) => Ok(Json(NetworkBody::from(&network)).into_response()),
        Capped::OverCap(estimate) => Ok(over_cap(&estimate, cap.unwrap_or_default(), confirm)),
    }
}

#[cfg(test)]
mod tests {
    use crate::inbound::http::testing::{app, get};
    use crate::outbound::sql::sqlite::SqliteRegister;
    use axum::http::StatusCode;
    use serde_json::json;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_check_answers_from_the_graph_and_is_recorded() {
        let register = Arc::new(
            SqliteRegister::connect(
                "sqlite::memory:",
                crate::config::Config::default().database.pool,
            )
            .await
            .unwrap(),
        );
        let app = app(register).await;
        let (status, body) = get(app.clone(), "/connected/realtime/alice/bob").await;
        assert_eq!(
            (status, body),
            (
                StatusCode::OK,
                json!({"connected": true, "organisations": ["acme", "Zeta-Org"]})
            )
        );
        let (status, body) = get(app, "/connected/register/Bob/Alice").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body.as_array().unwrap().len(), 1);
    }
}
