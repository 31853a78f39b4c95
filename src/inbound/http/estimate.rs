//! A team's network priced before it is paid for: the estimate route, and the answer a
//! capped team request gets when the price is over its cap.

use super::access::AccessRefusals;
use super::extract::TeamBody;
use super::sites::Misdirected;
use super::{ApiError, ErrorsBody, TeamRequest};
use crate::application::{Freshness, NetworkEstimate, UseCases};
use crate::domain::access::Caller;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// What `POST /connected/network` would cost at most for this team, past round one, and
/// what round one cost.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "x_users": 1510, "x_calls": 3,
    "lists": [{"developer": "alice", "list": "followers", "size": 10, "pages": 1, "for": ["bob", "carol"]},
              {"developer": "bob", "list": "following", "size": 1500, "pages": 2, "for": ["carol"]}],
    "members": {"x_users": 0, "x_calls": 0},
    "round_one": {"github_calls": 3, "x_calls": 1, "x_users": 3},
    "confirm_above": 1000
})))]
pub struct EstimateBody {
    /// X users the answer would be billed for at most: each list's `size`, and the members'
    /// lookups.
    pub x_users: u64,
    /// Calls to X it would make at most: each list's `pages`, and the members' lookups.
    pub x_calls: u64,
    /// The follow lists the answer would read, each once; pairs the cache already settles
    /// cost nothing and plan none.
    pub lists: Vec<ListBody>,
    /// What members' lookups would cost: a member who signed in with X answers for their
    /// pairs with their own token, a user a pair and 100 a call. The lists are counted as
    /// if no member answered (a token that fails leaves its pairs to them). Zero without
    /// members' sign-in, or when none of the team signed in.
    pub members: MembersBody,
    /// What this request spent on round one (each developer's organisations, the X
    /// lookups): cached, so that the answer asked next reuses it; all zero when round one
    /// was already cached.
    pub round_one: RoundOneBody,
    /// The service's `QUOTE_CONFIRM_X_USERS`: the most `x_users` its page draws a team for
    /// without asking the person to confirm first.
    pub confirm_above: u64,
}

/// The `QUOTE_CONFIRM_X_USERS` the estimates carry, for the page to know when to ask.
#[derive(Debug, Clone, Copy)]
pub(super) struct ConfirmAbove(pub(super) u64);

/// A follow list the answer would read.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListBody {
    /// Its owner, as the team gave them.
    pub developer: String,
    /// `following` or `followers`.
    #[schema(example = "followers")]
    pub list: &'static str,
    /// Users it holds, as X's lookup said: what it is billed at most.
    pub size: u64,
    /// Calls reading it takes at most: one per 1,000 users, and one for an empty list.
    pub pages: u64,
    /// The teammates it is read for.
    #[serde(rename = "for")]
    pub others: Vec<String>,
}

/// What members' lookups would cost at most.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembersBody {
    pub x_users: u64,
    pub x_calls: u64,
}

/// What round one cost this request.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoundOneBody {
    pub github_calls: u64,
    pub x_calls: u64,
    pub x_users: u64,
}

impl EstimateBody {
    /// The body of `estimate`, carrying the page's threshold.
    fn new(estimate: &NetworkEstimate, ConfirmAbove(confirm_above): ConfirmAbove) -> Self {
        Self {
            x_users: estimate.x_users,
            x_calls: estimate.x_calls,
            lists: estimate
                .lists
                .iter()
                .map(|list| ListBody {
                    developer: list.developer.clone(),
                    list: list.list.id(),
                    size: list.size,
                    pages: list.pages,
                    others: list.others.clone(),
                })
                .collect(),
            members: MembersBody {
                x_users: estimate.members.users,
                x_calls: estimate.members.calls,
            },
            round_one: RoundOneBody {
                github_calls: estimate.round_one.github_calls,
                x_calls: estimate.round_one.x_calls,
                x_users: estimate.round_one.x_users,
            },
            confirm_above,
        }
    }
}

/// A team request whose answer would cost more than its `max_x_users`: why, and the
/// estimate.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "errors": ["the answer may bill up to 1510 X users, over max_x_users (1000): no follow list was read"],
    "estimate": {"x_users": 1510, "x_calls": 3, "lists": [], "members": {"x_users": 0, "x_calls": 0}, "round_one": {"github_calls": 3, "x_calls": 1, "x_users": 3}, "confirm_above": 1000}
})))]
pub struct OverCapBody {
    pub errors: Vec<String>,
    pub estimate: EstimateBody,
}

/// The `409` of a team request over its cap.
pub(super) fn over_cap(estimate: &NetworkEstimate, cap: u64, confirm: ConfirmAbove) -> Response {
    let body = OverCapBody {
        errors: vec![format!(
            "the answer may bill up to {} X users, over max_x_users ({cap}): no follow list was read",
            estimate.x_users
        )],
        estimate: EstimateBody::new(estimate, confirm),
    };
    (StatusCode::CONFLICT, Json(body)).into_response()
}

/// Quote a team's network before mapping it
///
/// What a team's network would cost at most, before paying for it: round one is asked (each
/// developer's organisations, X's lookups; cached, so the request that follows reuses it),
/// the follow lists the answer would read are planned, and none is read. Nothing recorded.
#[utoipa::path(
    post,
    operation_id = "estimateTeamNetwork",
    path = "/connected/network/estimate",
    tag = "connected",
    request_body = TeamRequest,
    params(("Cache-Control" = Option<String>, Header,
            description = "`no-cache`: ask GitHub and X again for round one instead of using cached facts")),
    responses(
        (status = 200, description = "What the answer would cost at most past round one, what round one cost, and the page's threshold for asking", body = EstimateBody,
         headers(("Upstream-Cost" = String, description = "What this request made upstream (round one only): `github-calls=2, x-calls=1, x-users=2, cached=no`"))),
        (status = 400, description = "Unreadable JSON, an unusable handle, or not 2 to 100 different developers", body = ErrorsBody),
        (status = 413, description = "The body is larger than 64 KiB", body = ErrorsBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorsBody),
        (status = 422, description = "The JSON is not `{\"developers\": [\"...\"]}`", body = ErrorsBody),
        (status = 502, description = "An upstream failed", body = ErrorsBody),
        (status = 504, description = "The upstreams together took longer than REQUEST_TIMEOUT", body = ErrorsBody),
        (status = 503, description = "An upstream is rate-limited or the service's spend budget is spent (with `Retry-After`), or the API keys cannot be read", body = ErrorsBody,
         headers(("Retry-After" = u64, description = "Seconds until the upstream's rate limit resets"))),
        AccessRefusals,
        Misdirected,
    ),
    security((), ("bearer" = []))
)]
pub(super) async fn estimate(
    State(use_cases): State<UseCases>,
    State(confirm): State<ConfirmAbove>,
    caller: Caller,
    freshness: Freshness,
    TeamBody(team, _): TeamBody,
) -> Result<Response, ApiError> {
    let estimate = use_cases.estimate(&team, freshness, &caller).await?;
    Ok(Json(EstimateBody::new(&estimate, confirm)).into_response())
}
