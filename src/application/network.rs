//! A team's network: who in it is fully connected to whom.

mod estimate;

pub use estimate::{Capped, EstimatedList, NetworkEstimate, RoundOneCost};

use super::facts::{UpstreamFailure, round_one, social_graph_failure};
use super::{Freshness, Membership, Networks, UseCases};
use crate::domain::access::Caller;
use crate::domain::{
    Handle, MissingUser, Organisation, Pair, PairVerdict, RegisterError, Relationship, SocialUser,
    Team, UnreadableFollow, Verdict, maximal_cliques, shared_organisations,
};
use estimate::estimate_of;
use std::collections::{HashMap, HashSet};

/// Why a team's network was not answered; nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    #[error("{0}")]
    Upstream(#[from] UpstreamFailure),
    /// The register could not take the verdicts.
    #[error("{0}")]
    Register(#[from] RegisterError),
}

/// Two developers of a team who are fully connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// As the team gave them, in the team's order.
    pub developers: [String; 2],
    pub organisations: Vec<String>,
}

/// Who in a team is fully connected to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamNetwork {
    /// The team as given, duplicates (ignoring case) folded into their first spelling.
    pub developers: Vec<String>,
    /// Every missing (developer, network), in the team's order: these developers are left
    /// out of the rest.
    pub missing: Vec<MissingUser>,
    pub connections: Vec<Connection>,
    /// The largest sets in which every two are fully connected, largest first.
    pub groups: Vec<Vec<String>>,
    /// Whether there were more groups than are listed.
    pub groups_truncated: bool,
    /// Pairs that share an organisation but whose follows cannot be read (protected
    /// accounts): they have no verdict, and nothing is recorded for them.
    pub undecided: Vec<Undecided>,
}

/// A pair of a team without a verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecided {
    /// As the team gave them, in the team's order.
    pub developers: [String; 2],
    pub why: UnreadableFollow,
}

impl UseCases {
    /// Who in `team` is fully connected to whom, paid by `caller`, with work that grows with
    /// the team, not with its pairs: each developer's organisations once, the social graph's
    /// lookups in batches, and the follows only among developers who share an organisation
    /// with someone. Every pair's verdict is recorded, all in one transaction.
    ///
    /// # Errors
    /// An upstream or register failure: then nothing is recorded.
    pub async fn network(
        &self,
        team: &Team,
        freshness: Freshness,
        caller: &Caller,
    ) -> Result<TeamNetwork, NetworkError> {
        let developers = team.developers();
        let networks = self.networks(freshness);
        let membership = self.membership.as_ref();
        let facts = self
            .in_time(async {
                let pairs = team_pairs(networks, membership, developers, caller).await?;
                team_facts(networks, membership, pairs, caller).await
            })
            .await?;
        self.record(networks, developers, facts).await
    }

    /// [`UseCases::network`], unless the X users it may bill past round one (as
    /// [`UseCases::estimate`] bounds them) are over `cap`: then no list is read, nothing is
    /// recorded, and the estimate is the answer.
    ///
    /// # Errors
    /// An upstream or register failure: then nothing is recorded.
    pub async fn network_capped(
        &self,
        team: &Team,
        freshness: Freshness,
        caller: &Caller,
        cap: Option<u64>,
    ) -> Result<Capped, NetworkError> {
        let developers = team.developers();
        let networks = self.networks(freshness);
        let membership = self.membership.as_ref();
        let facts = self
            .in_time(async {
                let pairs = team_pairs(networks, membership, developers, caller).await?;
                if let Some(cap) = cap {
                    let estimate = estimate_of(networks, membership, &pairs, caller).await;
                    if estimate.x_users > cap {
                        return Ok(Err(estimate));
                    }
                }
                team_facts(networks, membership, pairs, caller)
                    .await
                    .map(Ok)
            })
            .await?;
        match facts {
            Ok(facts) => Ok(Capped::Answered(
                self.record(networks, developers, facts).await?,
            )),
            Err(estimate) => Ok(Capped::OverCap(estimate)),
        }
    }

    /// Records every pair's verdict, all in one transaction; the answer.
    async fn record(
        &self,
        networks: &Networks,
        developers: &[Handle],
        facts: TeamFacts,
    ) -> Result<TeamNetwork, NetworkError> {
        let (verdicts, connections) = facts.verdicts(developers);
        self.register
            .record_all(&verdicts, networks.social_graph.network(), self.now())
            .await?;
        Ok(facts.into_network(developers, connections))
    }
}

/// Pairs with their verdicts, to record.
type Verdicts = Vec<PairVerdict>;

impl TeamFacts {
    /// Every pair of present developers with a verdict, and the connections among them.
    fn verdicts(&self, developers: &[Handle]) -> (Verdicts, Vec<Connection>) {
        let mut verdicts = Vec::new();
        let mut connections = Vec::new();
        for a in 0..self.present.len() {
            for b in a + 1..self.present.len() {
                if self.undecided.contains_key(&(a, b)) {
                    continue;
                }
                let (first, second) = (&developers[self.present[a]], &developers[self.present[b]]);
                let verdict = match self.connected.get(&(a, b)) {
                    Some(organisations) => {
                        connections.push(Connection {
                            developers: [first.to_string(), second.to_string()],
                            organisations: organisations.clone(),
                        });
                        Verdict::Connected {
                            organisations: organisations.clone(),
                        }
                    }
                    None => Verdict::NotConnected,
                };
                // A team's developers are different ones: every two make a pair.
                if let Ok(pair) = Pair::new(first.clone(), second.clone()) {
                    verdicts.push(PairVerdict {
                        pair,
                        verdict,
                        member_sign_in: self.signed_in.contains(&(a, b)),
                    });
                }
            }
        }
        (verdicts, connections)
    }

    /// The answer: the connections given, the groups they make, the undecided pairs.
    fn into_network(self, developers: &[Handle], connections: Vec<Connection>) -> TeamNetwork {
        let name = |i: usize| developers[self.present[i]].to_string();
        let links: Vec<(usize, usize)> = self.connected.keys().copied().collect();
        let (cliques, groups_truncated) = maximal_cliques(self.present.len(), &links, MAX_GROUPS);
        let groups = cliques
            .into_iter()
            .map(|group| group.into_iter().map(name).collect())
            .collect();
        let mut undecided: Vec<_> = self.undecided.into_iter().collect();
        undecided.sort_by_key(|(pair, _)| *pair);
        TeamNetwork {
            developers: developers.iter().map(ToString::to_string).collect(),
            missing: self.missing,
            connections,
            groups,
            groups_truncated,
            undecided: undecided
                .into_iter()
                .map(|((a, b), why)| Undecided {
                    developers: [name(a), name(b)],
                    why,
                })
                .collect(),
        }
    }
}

/// Groups reported at most.
const MAX_GROUPS: usize = 1000;

/// What the upstreams tell of a team: who is missing, and among the others (`present`,
/// indices into the team) which pairs are fully connected (with their organisations) and
/// which cannot be decided (protected accounts). Pairs are indices into `present`.
struct TeamFacts {
    missing: Vec<MissingUser>,
    present: Vec<usize>,
    connected: HashMap<(usize, usize), Vec<String>>,
    undecided: HashMap<(usize, usize), UnreadableFollow>,
    /// The pairs whose follows a member's token told.
    signed_in: HashSet<(usize, usize)>,
}

/// Round one of a team, and what follows from it without another call to the social graph:
/// the developers present everywhere (`present`, indices into the team; `people` and
/// `handles` theirs, in the same order) and the pairs of them (indices into `present`) that
/// share an organisation, whose follows the answer reads.
pub(super) struct TeamPairs<'a> {
    missing: Vec<MissingUser>,
    present: Vec<usize>,
    pub(super) people: Vec<SocialUser>,
    pub(super) handles: Vec<&'a Handle>,
    shared: HashMap<(usize, usize), Vec<String>>,
    /// The pairs that share only organisations a member's sign-in told.
    signed_in: HashSet<(usize, usize)>,
    /// The pairs that share an organisation, in order.
    pub(super) candidates: Vec<(usize, usize)>,
}

/// Round one of `developers`, and the pairs among them whose follows are to be read.
pub(super) async fn team_pairs<'a>(
    networks: &Networks,
    membership: Option<&Membership>,
    developers: &'a [Handle],
    caller: &Caller,
) -> Result<TeamPairs<'a>, UpstreamFailure> {
    let refs: Vec<&Handle> = developers.iter().collect();
    let known = round_one(networks, &refs, caller).await?;
    // Those present everywhere, with their facts.
    let present: Vec<(usize, &Vec<Organisation>, SocialUser)> = known
        .organisations
        .iter()
        .zip(&known.users)
        .enumerate()
        .filter_map(|(i, (orgs, user))| Some((i, orgs.as_ref()?, user.clone()?)))
        .collect();
    let people: Vec<SocialUser> = present.iter().map(|(_, _, user)| user.clone()).collect();
    let handles: Vec<&Handle> = present.iter().map(|(i, _, _)| &developers[*i]).collect();
    let public: Vec<Vec<Organisation>> = present.iter().map(|(_, o, _)| (*o).clone()).collect();
    let (shared, signed_in) = shared_in_team(networks, membership, &handles, public, caller).await;
    let mut candidates: Vec<(usize, usize)> = shared.keys().copied().collect();
    candidates.sort_unstable();
    Ok(TeamPairs {
        missing: known.missing,
        present: present.iter().map(|(i, _, _)| *i).collect(),
        people,
        handles,
        shared,
        signed_in,
        candidates,
    })
}

/// Every upstream call a team's network needs past round one (`pairs`), and nothing else
/// (no recording): with round one, the part a deadline bounds.
async fn team_facts(
    networks: &Networks,
    membership: Option<&Membership>,
    pairs: TeamPairs<'_>,
    caller: &Caller,
) -> Result<TeamFacts, UpstreamFailure> {
    let TeamPairs {
        missing,
        present,
        people,
        handles,
        mut shared,
        mut signed_in,
        candidates,
    } = pairs;
    let (relationships, told_by_members) =
        follows_in_team(networks, membership, &people, &handles, &candidates, caller).await?;
    signed_in.extend(told_by_members.into_iter().map(|pair| candidates[pair]));
    let mut connected = HashMap::new();
    let mut undecided = HashMap::new();
    for (&(a, b), relationship) in candidates.iter().zip(relationships) {
        if relationship.mutual() {
            if let Some(organisations) = shared.remove(&(a, b)) {
                connected.insert((a, b), organisations);
            }
        } else if !relationship.settled() {
            // Only a follow that cannot be read leaves a pair unsettled in an answer.
            let (follower, followee) = if relationship.forward.is_none() {
                (a, b)
            } else {
                (b, a)
            };
            undecided.insert(
                (a, b),
                UnreadableFollow {
                    follower: handles[follower].to_string(),
                    followee: handles[followee].to_string(),
                    network: networks.social_graph.network(),
                },
            );
        }
    }
    Ok(TeamFacts {
        missing,
        present,
        connected,
        undecided,
        signed_in,
    })
}

/// The pairs of a team (indices into `handles`) who share an organisation, once the hidden
/// memberships of consenting members count, and those of them that share only hidden ones
/// (their verdict rests on a member's sign-in).
async fn shared_in_team(
    networks: &Networks,
    membership: Option<&Membership>,
    handles: &[&Handle],
    public: Vec<Vec<Organisation>>,
    caller: &Caller,
) -> (
    HashMap<(usize, usize), Vec<String>>,
    HashSet<(usize, usize)>,
) {
    let Some(membership) = membership else {
        return (shared_pairs(&public), HashSet::new());
    };
    let mut lists = public.clone();
    let code_host = networks.code_host.as_ref();
    membership
        .team_organisations(code_host, handles, &mut lists, caller)
        .await;
    let shared = shared_pairs(&lists);
    let hidden_only = shared
        .keys()
        .copied()
        .filter(|&(a, b)| shared_organisations(&public[a], &public[b]).is_empty())
        .collect();
    (shared, hidden_only)
}

/// The follows of `pairs` (indices into `people`): members' tokens first, lists for the
/// rest; and which pairs members told.
async fn follows_in_team(
    networks: &Networks,
    membership: Option<&Membership>,
    people: &[SocialUser],
    handles: &[&Handle],
    pairs: &[(usize, usize)],
    caller: &Caller,
) -> Result<(Vec<Relationship>, HashSet<usize>), UpstreamFailure> {
    let graph = networks.social_graph.as_ref();
    let by_members = match membership {
        Some(membership) => Some(
            membership
                .answer_for_team(graph, people, handles, pairs, caller)
                .await,
        ),
        None => None,
    };
    let told = by_members.as_ref().map_or(&[][..], |m| m.known.as_slice());
    let relationships = graph
        .relationships(people, pairs, told, caller)
        .await
        .map_err(|interrupted| social_graph_failure(graph.network(), &interrupted.error))?;
    Ok((
        relationships,
        by_members.map(|m| m.by_member).unwrap_or_default(),
    ))
}

/// The pairs of present developers (indices into `present`) who share an organisation, with
/// the organisations they share.
fn shared_pairs(lists: &[Vec<Organisation>]) -> HashMap<(usize, usize), Vec<String>> {
    let mut shared = HashMap::new();
    for a in 0..lists.len() {
        for b in a + 1..lists.len() {
            let organisations = shared_organisations(&lists[a], &lists[b]);
            if !organisations.is_empty() {
                shared.insert((a, b), organisations);
            }
        }
    }
    shared
}

#[cfg(test)]
mod tests;
