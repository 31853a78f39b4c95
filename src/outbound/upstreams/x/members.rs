//! What a signed-in member's token answers on X: lookups with `connection_status`, which
//! tell both directions between the member and each user returned, billed as any lookup
//! (one user each) and limited by the member's own limits.

use super::{LOOKUP_BATCH, XApi, refusal};
use crate::domain::access::Caller;
use crate::domain::members::MemberCredentials;
use crate::domain::{AsMemberError, Handle, MemberView};
use crate::outbound::upstreams::client::{ApiRefusal, Upstream};
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// X's refusals under a member's token: as under the app's, and a `401` is the token no
/// longer taken, said as the "not found" that a lookup, which says "no such user" inside a
/// `200`, never answers otherwise.
fn member_refusal(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    now: DateTime<Utc>,
) -> Option<ApiRefusal> {
    if status == StatusCode::UNAUTHORIZED {
        return Some(ApiRefusal::NotFound);
    }
    refusal(status, headers, body, now)
}

impl XApi {
    /// [`crate::domain::SocialGraph::as_member`]: up to 100 users a call, under the member's
    /// token.
    pub(super) async fn look_up_as_member(
        &self,
        member: &MemberCredentials,
        others: &[&Handle],
        caller: &Caller,
    ) -> Result<Vec<Option<MemberView>>, AsMemberError> {
        let api = self
            .api
            .with_token(&member.token.access)
            .map_err(|_| AsMemberError::TokenRefused)?
            .with_refusal(member_refusal);
        let mut views = Vec::with_capacity(others.len());
        for batch in others.chunks(LOOKUP_BATCH) {
            views.extend(self.batch_as_member(&api, batch, caller).await?);
        }
        Ok(views)
    }

    /// One `/2/users/by` call under a member's token.
    async fn batch_as_member(
        &self,
        api: &Upstream,
        handles: &[&Handle],
        caller: &Caller,
    ) -> Result<Vec<Option<MemberView>>, AsMemberError> {
        let url = Self::users_by_url(api, handles, "public_metrics,protected,connection_status");
        let asked = handles.len() as u64;
        let mut reservation = api
            .reserve(asked, asked, caller)
            .await
            .map_err(|f| AsMemberError::Graph(f.into()))?;
        let answer = api
            .get_json_paid::<super::wire::UsersBy>("users_by_member", url, caller, &mut reservation)
            .await;
        let views = match answer {
            Ok(Some(answer)) => answer
                .read_as_member(handles)
                .inspect_err(|_| reservation.unreadable())
                .map_err(AsMemberError::Graph),
            Ok(None) => Err(AsMemberError::TokenRefused),
            Err(failure) => Err(AsMemberError::Graph(failure.into())),
        };
        let returned = views.as_ref().map_or(0, |v| v.iter().flatten().count());
        api.settle(reservation, returned as u64).await;
        views
    }
}
