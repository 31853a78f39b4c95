//! A team's network priced before it is paid for: round one is spent (and cached, so that
//! the answer asked next reuses it), and the follow lists the answer would read are planned
//! by the social graph's own planning, none read.
//!
//! With members' sign-in on, a member answers for their pairs with their own token (a
//! lookup, a user a pair): the bound counts those lookups and the lists as if no member
//! answered, since a token that fails leaves its pairs to the lists.

use super::{TeamPairs, team_pairs};
use crate::application::facts::UpstreamFailure;
use crate::application::members::team::MemberLookups;
use crate::application::{Freshness, Membership, Networks, UseCases};
use crate::domain::access::{Caller, Meter};
use crate::domain::{FollowList, Network, Team};

/// What a team's network would cost at most, beyond round one, and what round one cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkEstimate {
    /// X users the answer would be billed for at most: its lists' and its members' lookups.
    pub x_users: u64,
    /// Calls to X it would make at most: the lists' pages and the members' lookups.
    pub x_calls: u64,
    /// The lists, in the order planned.
    pub lists: Vec<EstimatedList>,
    /// What members' lookups would cost (nothing when no member of the team signed in).
    pub members: MemberLookups,
    /// What round one cost this request (nothing when it was all cached).
    pub round_one: RoundOneCost,
}

/// One follow list the answer would read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EstimatedList {
    /// Its owner, as the team gave them.
    pub developer: String,
    pub list: FollowList,
    /// Users it holds, as the lookup said: what reading it is billed at most.
    pub size: u64,
    /// Calls reading it makes at most.
    pub pages: u64,
    /// The teammates it is read for, as the team gave them.
    pub others: Vec<String>,
}

/// What round one cost: calls to GitHub and X, and the X users billed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundOneCost {
    pub github_calls: u64,
    pub x_calls: u64,
    pub x_users: u64,
}

/// A team's network, or its estimate when the answer would cost more than allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capped {
    Answered(super::TeamNetwork),
    /// Over the cap: nothing was read past round one, nothing recorded.
    OverCap(NetworkEstimate),
}

impl UseCases {
    /// What the answer to [`UseCases::network`] for `team` would cost at most: round one is
    /// asked (and kept in the cache, so that the answer reuses it), the follow lists are
    /// planned but none read, nothing is recorded.
    ///
    /// # Errors
    /// An upstream failure of round one.
    pub async fn estimate(
        &self,
        team: &Team,
        freshness: Freshness,
        caller: &Caller,
    ) -> Result<NetworkEstimate, UpstreamFailure> {
        let networks = self.networks(freshness);
        let membership = self.membership.as_ref();
        self.in_time(async {
            let pairs = team_pairs(networks, membership, team.developers(), caller).await?;
            Ok(estimate_of(networks, membership, &pairs, caller).await)
        })
        .await
    }
}

/// The estimate once round one is known: the social graph's plan for the pairs to read,
/// the members' lookups, and what the caller's tab says round one cost.
pub(super) async fn estimate_of(
    networks: &Networks,
    membership: Option<&Membership>,
    pairs: &TeamPairs<'_>,
    caller: &Caller,
) -> NetworkEstimate {
    let graph = networks.social_graph.as_ref();
    let plan = graph.plan(&pairs.people, &pairs.candidates, &[]).await;
    let members = match membership {
        Some(membership) => {
            membership
                .team_lookups(graph, &pairs.handles, &pairs.candidates)
                .await
        }
        None => MemberLookups::default(),
    };
    let name = |i: usize| pairs.handles[i].to_string();
    let calls = caller.calls_by_network();
    NetworkEstimate {
        x_users: plan.users().saturating_add(members.users),
        x_calls: plan.calls().saturating_add(members.calls),
        lists: plan
            .lists
            .iter()
            .map(|list| EstimatedList {
                developer: name(list.owner),
                list: list.list,
                size: list.size,
                pages: list.pages,
                others: list.others.iter().copied().map(name).collect(),
            })
            .collect(),
        members,
        round_one: RoundOneCost {
            github_calls: calls.get(&Network::GitHub).copied().unwrap_or(0),
            x_calls: calls.get(&Network::X).copied().unwrap_or(0),
            x_users: caller.usage().spent(Meter::X_USERS),
        },
    }
}
