//! A team's follows as its members' tokens tell them: each member who signed in on the
//! social graph answers for the pairs they are in, up to 100 teammates a lookup, so that
//! lists are read only for the pairs no member can answer.

use super::Membership;
use crate::domain::access::{Caller, Meter};
use crate::domain::members::MemberCredentials;
use crate::domain::{
    AsMemberError, Chain, Handle, MemberView, Relationship, SocialGraph, SocialUser,
};
use futures::StreamExt;
use std::collections::{HashMap, HashSet};

/// Members' tokens asked at once (each has its own rate limit).
const MEMBERS_AT_ONCE: usize = 4;

/// What members answered of a team's pairs.
pub(in crate::application) struct MembersAnswered {
    /// One entry per pair asked about, as far as members told it.
    pub known: Vec<Relationship>,
    /// The pairs (indices into the pairs asked about) a member answered.
    pub by_member: HashSet<usize>,
}

impl Membership {
    /// What the members among `people` (the team's developers present everywhere, named by
    /// `handles`) tell of `pairs` (indices into `people`) with their own tokens. A pair of
    /// two members is asked of the first. A token that is refused is dropped; one that
    /// cannot answer now leaves its pairs to the lists.
    pub(in crate::application) async fn answer_for_team(
        &self,
        graph: &dyn SocialGraph,
        people: &[SocialUser],
        handles: &[&Handle],
        pairs: &[(usize, usize)],
        caller: &Caller,
    ) -> MembersAnswered {
        let mut answered = MembersAnswered {
            known: vec![Relationship::default(); pairs.len()],
            by_member: HashSet::new(),
        };
        if !graph.answers_for_members() {
            return answered;
        }
        let signed_in = self.answering(handles, graph.network()).await;
        let asks: Vec<_> = assign(&signed_in, handles, pairs)
            .into_iter()
            .map(|(member, pair_ids)| ask(graph, member, pair_ids, handles, caller))
            .collect();
        let answers = futures::stream::iter(asks)
            .buffer_unordered(MEMBERS_AT_ONCE)
            .collect::<Vec<_>>()
            .await;
        for (member, pair_ids, views) in answers {
            match views {
                Ok(views) => {
                    for (&(pair, other), view) in pair_ids.iter().zip(views) {
                        let Some((user, relationship)) = view else {
                            continue;
                        };
                        // Only the teammate round one found, not another under that name.
                        if user.id != people[other].id {
                            continue;
                        }
                        let (a, _) = pairs[pair];
                        answered.known[pair] = if a == other {
                            relationship.reversed()
                        } else {
                            relationship
                        };
                        answered.by_member.insert(pair);
                    }
                }
                Err(AsMemberError::TokenRefused) => self.token_refused(&member.account).await,
                Err(AsMemberError::Graph(error)) => {
                    tracing::info!(error = %Chain(&error), "a member's token did not answer: their pairs are read from lists");
                }
            }
        }
        let told = answered.by_member.len() as u64;
        if told > 0 {
            caller.bill(Meter::member_answers(graph.network()), told);
        }
        answered
    }
}

/// Teammates a member's lookup asks about at once at most: X's batch, the one social
/// graph that answers for members.
const LOOKUP_BATCH: u64 = 100;

/// What members' lookups for a team's pairs cost at most: a user a pair, in batches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemberLookups {
    /// Users the lookups are billed for: one a pair a member answers for.
    pub users: u64,
    /// Calls they make: one a member and batch.
    pub calls: u64,
}

impl Membership {
    /// What [`Membership::answer_for_team`] would cost for the same team and pairs, asking
    /// the social graph nothing: the members who signed in (a token about to expire is
    /// renewed, as the answer would), and the pairs each would answer for.
    pub(in crate::application) async fn team_lookups(
        &self,
        graph: &dyn SocialGraph,
        handles: &[&Handle],
        pairs: &[(usize, usize)],
    ) -> MemberLookups {
        if !graph.answers_for_members() {
            return MemberLookups::default();
        }
        let signed_in = self.answering(handles, graph.network()).await;
        assign(&signed_in, handles, pairs).iter().fold(
            MemberLookups::default(),
            |sum, (_, pair_ids)| {
                let users = pair_ids.len() as u64;
                MemberLookups {
                    users: sum.users + users,
                    calls: sum.calls + users.div_ceil(LOOKUP_BATCH),
                }
            },
        )
    }
}

/// One member's lookup of the others of their pairs.
async fn ask<'a>(
    graph: &dyn SocialGraph,
    member: &'a MemberCredentials,
    pair_ids: Vec<(usize, usize)>,
    handles: &[&Handle],
    caller: &Caller,
) -> (
    &'a MemberCredentials,
    Vec<(usize, usize)>,
    Result<Vec<Option<MemberView>>, AsMemberError>,
) {
    let others: Vec<&Handle> = pair_ids.iter().map(|&(_, other)| handles[other]).collect();
    let views = graph.as_member(member, &others, caller).await;
    (member, pair_ids, views)
}

/// Which member asks about which pairs: for each member, the pairs (index into `pairs`,
/// and the other's index into the team) they are the first member of.
fn assign<'a>(
    signed_in: &'a [MemberCredentials],
    handles: &[&Handle],
    pairs: &[(usize, usize)],
) -> Vec<(&'a MemberCredentials, Vec<(usize, usize)>)> {
    let by_index: HashMap<usize, &MemberCredentials> = handles
        .iter()
        .enumerate()
        .filter_map(|(i, handle)| {
            let member = signed_in.iter().find(|c| c.account.handle == **handle)?;
            Some((i, member))
        })
        .collect();
    let mut asks: HashMap<usize, Vec<(usize, usize)>> = HashMap::new();
    for (pair, &(a, b)) in pairs.iter().enumerate() {
        if by_index.contains_key(&a) {
            asks.entry(a).or_default().push((pair, b));
        } else if by_index.contains_key(&b) {
            asks.entry(b).or_default().push((pair, a));
        }
    }
    let mut asks: Vec<_> = asks.into_iter().collect();
    asks.sort_unstable_by_key(|(member, _)| *member);
    asks.into_iter()
        .filter_map(|(member, pair_ids)| Some((*by_index.get(&member)?, pair_ids)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Network;
    use crate::domain::members::{Account, MemberToken};
    use crate::secret::Secret;

    fn member(name: &str) -> MemberCredentials {
        MemberCredentials {
            account: Account {
                network: Network::X,
                id: format!("id-{name}"),
                handle: Handle::parse(name).unwrap(),
            },
            token: MemberToken {
                access: Secret::new("t"),
                refresh: None,
                expires_at: None,
                scope: String::new(),
            },
            hidden_organisations: false,
        }
    }

    #[test]
    fn each_pair_is_asked_of_its_first_member_and_pairs_without_one_are_left() {
        let names: Vec<Handle> = ["ann", "ben", "cat", "dan"]
            .iter()
            .map(|n| Handle::parse(n).unwrap())
            .collect();
        let handles: Vec<&Handle> = names.iter().collect();
        let signed_in = [member("cat"), member("ben")];
        let pairs = [(0, 1), (0, 2), (1, 2), (2, 3), (0, 3)];
        let asks = assign(&signed_in, &handles, &pairs);
        let asked: Vec<(&str, Vec<(usize, usize)>)> = asks
            .iter()
            .map(|(m, ids)| (m.account.handle.as_str(), ids.clone()))
            .collect();
        assert_eq!(
            asked,
            [
                // ben: (ann, ben) with ann, (ben, cat) with cat.
                ("ben", vec![(0, 0), (2, 2)]),
                // cat: (ann, cat) with ann, (cat, dan) with dan.
                ("cat", vec![(1, 0), (3, 3)]),
            ]
        );
    }
}
