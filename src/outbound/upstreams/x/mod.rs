//! X API v2 as the social graph.

mod cover;
mod lists;
mod members;
mod plan;
mod wire;

pub use wire::is_x_username;

use super::client::{ApiRefusal, ClientError, Upstream, too_many_requests};
use crate::domain::Clock;
use crate::domain::access::{Budget, Caller};
use crate::domain::members::MemberCredentials;
use crate::domain::{
    AsMemberError, Handle, MemberView, Network, PartialRelationships, ReadPlan, Relationship,
    SocialGraph, SocialGraphError, SocialUser,
};
use crate::metrics::Metrics;
use crate::outbound::cache::GraphProfile;
use crate::outbound::upstreams::client::{Per, Reservation, Spending};
use crate::secret::Secret;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use plan::{complete, follow_cost, plan_reads, read_plan, unknown_directions};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;
use url::Url;
use wire::UsersBy;

/// Users per lookup, X's maximum.
const LOOKUP_BATCH: usize = 100;

/// X API v2 (`/2/users/by`, `/2/users/:id/following|followers`).
#[derive(Clone, Debug)]
pub struct XApi {
    api: Upstream,
    metrics: Arc<Metrics>,
}

/// X's refusals: a `429` with its reset in `x-rate-limit-reset` (its windows are 15
/// minutes); X says "not found" inside a `200`, never with a status.
fn refusal(
    status: StatusCode,
    headers: &HeaderMap,
    _: &str,
    now: DateTime<Utc>,
) -> Option<ApiRefusal> {
    too_many_requests(
        status,
        headers,
        "x-rate-limit-reset",
        Duration::from_secs(15 * 60),
        now,
    )
}

impl XApi {
    /// Its client without the app's credentials, unbilled: for members' sign-in, whose
    /// calls carry the member's or the OAuth app's own.
    pub fn sign_in_client(&self) -> Upstream {
        self.api.clone().anonymous().unbilled()
    }

    /// # Errors
    /// [`ClientError`] when the client cannot be built.
    pub fn new(
        base: Url,
        token: Secret,
        timeout: Duration,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ClientError> {
        Ok(Self {
            api: Upstream::new(
                "x",
                base,
                Some(&token),
                timeout,
                Arc::clone(&metrics),
                refusal,
                clock,
            )?,
            metrics,
        })
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut path = vec!["2"];
        path.extend_from_slice(segments);
        self.api.url(&path)
    }

    /// One call to `endpoint` (a metrics label), paid by `reservation`, its failures put in
    /// the port's words.
    async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        url: Url,
        caller: &Caller,
        reservation: &mut Reservation,
    ) -> Result<T, SocialGraphError> {
        self.api
            .get_json_paid(endpoint, url, caller, reservation)
            .await?
            .ok_or_else(|| SocialGraphError::unavailable("it answered 404 Not Found"))
    }

    /// One `/2/users/by` call.
    async fn users_by(
        &self,
        handles: &[&Handle],
        caller: &Caller,
    ) -> Result<Vec<Option<SocialUser>>, SocialGraphError> {
        let url = Self::users_by_url(&self.api, handles, "public_metrics,protected");
        // X bills each user returned: the budgets must cover every one asked for.
        let asked = handles.len() as u64;
        let mut reservation = self.api.reserve(asked, asked, caller).await?;
        let users = match self
            .get::<UsersBy>("users_by", url, caller, &mut reservation)
            .await
        {
            Ok(answer) => answer
                .read(handles)
                .inspect_err(|_| reservation.unreadable()),
            Err(e) => Err(e),
        };
        let returned = users
            .as_ref()
            .map_or(0, |users| users.iter().flatten().count());
        self.api.settle(reservation, returned as u64).await;
        users
    }

    /// `/2/users/by` on `api` for `handles`, with these user fields.
    fn users_by_url(api: &Upstream, handles: &[&Handle], fields: &str) -> Url {
        let mut url = api.url(&["2", "users", "by"]);
        let names = handles
            .iter()
            .map(|h| h.as_str())
            .collect::<Vec<_>>()
            .join(",");
        url.query_pairs_mut()
            .append_pair("usernames", &names)
            .append_pair("user.fields", fields);
        url
    }

    /// The same client, its X users paid from `spending`.
    #[must_use]
    pub fn billed(mut self, spending: Spending) -> Self {
        self.api = self
            .api
            .billed(spending, Budget::X_USERS_PER_DAY, Per::Item);
        self
    }
}

/// What the cache of X is told: its names, and that it reads lists.
pub const X_PROFILE: GraphProfile = GraphProfile {
    users_cache: "x_users",
    relationships_cache: "x_relationships",
    lookup_limit: "x:lookup",
    follows_limit: "x:follows",
    pair_by_pair: false,
};

#[async_trait]
impl SocialGraph for XApi {
    fn network(&self) -> Network {
        Network::X
    }

    fn accepts(&self, handle: &Handle) -> bool {
        wire::is_x_username(handle)
    }

    /// Up to 100 users a call, X's maximum.
    async fn users(
        &self,
        handles: &[&Handle],
        caller: &Caller,
    ) -> Result<Vec<Option<SocialUser>>, SocialGraphError> {
        let mut users = Vec::with_capacity(handles.len());
        for batch in handles.chunks(LOOKUP_BATCH) {
            users.extend(self.users_by(batch, caller).await?);
        }
        Ok(users)
    }

    /// The cheaper direction first (the shorter list that can be read), and the other only
    /// when the first holds.
    async fn relationship(
        &self,
        a: &SocialUser,
        b: &SocialUser,
        caller: &Caller,
    ) -> Result<Relationship, SocialGraphError> {
        let a_first = follow_cost(a, b) <= follow_cost(b, a);
        let (first, second) = if a_first { (a, b) } else { (b, a) };
        let mut known = Relationship {
            forward: Some(self.follows(first, second, caller).await?),
            backward: None,
        };
        if known.forward == Some(true) {
            known.backward = Some(self.follows(second, first, caller).await?);
        }
        Ok(if a_first { known } else { known.reversed() })
    }

    /// Each follow list read at most once: for the pairs' every user, either its `following`
    /// or its `followers` (whichever kind costs less over all of them, where both can be
    /// read), read until every partner it is asked about has turned up or the list ends. A
    /// direction that no readable list can tell (both accounts protected) is left unknown.
    async fn relationships(
        &self,
        users: &[SocialUser],
        pairs: &[(usize, usize)],
        known: &[Relationship],
        caller: &Caller,
    ) -> Result<Vec<Relationship>, PartialRelationships> {
        let mut known = Relationship::for_each_of(pairs.len(), known);
        let reads = plan_reads(users, &unknown_directions(&known, pairs));
        let (follows, failure) = self.read_lists(users, &reads, caller).await;
        complete(&mut known, pairs, &follows);
        match failure {
            None => Ok(known),
            Some(error) => Err(PartialRelationships { known, error }),
        }
    }

    /// What [`XApi::relationships`] plans, read by nothing.
    async fn plan(
        &self,
        users: &[SocialUser],
        pairs: &[(usize, usize)],
        known: &[Relationship],
    ) -> ReadPlan {
        read_plan(users, pairs, known)
    }

    fn answers_for_members(&self) -> bool {
        true
    }

    async fn as_member(
        &self,
        member: &MemberCredentials,
        others: &[&Handle],
        caller: &Caller,
    ) -> Result<Vec<Option<MemberView>>, AsMemberError> {
        self.look_up_as_member(member, others, caller).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x(base: &str, token: &str) -> XApi {
        XApi::new(
            base.parse().unwrap(),
            Secret::new(token),
            Duration::from_secs(1),
            Arc::default(),
            crate::domain::TestClock::at("2026-12-01T12:00:00Z"),
        )
        .unwrap()
    }

    #[test]
    fn paths_are_built_from_segments() {
        assert_eq!(
            x("http://127.0.0.1:9", "t")
                .url(&["users", "1/../x", "following"])
                .as_str(),
            "http://127.0.0.1:9/2/users/1%2F..%2Fx/following"
        );
    }

    #[test]
    fn debug_hides_the_token() {
        let x = x("https://api.x.com", "AAAA-bearer");
        assert!(!format!("{x:?}").contains("AAAA"));
    }
}
