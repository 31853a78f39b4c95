//! Checking one pair now.

use super::facts::{Known, UpstreamFailure, round_one, social_graph_failure};
use super::members::answers::{MemberRound, round_one_as_member};
use super::{Freshness, Membership, Networks, UseCases};
use crate::domain::access::{Caller, Meter};
use crate::domain::{
    Chain, Grounds, Handle, MissingUser, Organisation, Pair, RegisterError, RegisteredCheck,
    Relationship, SocialGraphError, SocialUser, UnreadableFollow, Verdict, shared_organisations,
};

/// Why a check gave no verdict; nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// Every (developer, network) that does not exist, in the order dev1-github,
    /// dev1-twitter, dev2-github, dev2-twitter.
    #[error("not valid users: {0:?}")]
    MissingUsers(Vec<MissingUser>),
    /// The follows that would decide cannot be read (protected accounts).
    #[error("{0}")]
    Unreadable(UnreadableFollow),
    #[error("{0}")]
    Upstream(#[from] UpstreamFailure),
    /// The register could not take the verdict.
    #[error("{0}")]
    Register(#[from] RegisterError),
}

impl UseCases {
    /// Checks `pair` now against the upstreams, paid by `caller`, and records the verdict
    /// before returning it; `freshness` says whether cached facts may be used. A developer
    /// of the pair who signed in on the social graph answers for the follows with their own
    /// token.
    ///
    /// # Errors
    /// See [`CheckError`]; nothing is recorded unless a verdict is returned.
    pub async fn check(
        &self,
        pair: &Pair,
        freshness: Freshness,
        caller: &Caller,
    ) -> Result<RegisteredCheck, CheckError> {
        let networks = self.networks(freshness);
        let membership = self.membership.as_ref();
        let decided = self
            .in_time(decide(networks, membership, pair, caller))
            .await?;
        let grounds = Grounds {
            social_graph: networks.social_graph.network(),
            member_sign_in: decided.member_sign_in,
        };
        Ok(self
            .register
            .record(pair, &decided.verdict, grounds, self.now())
            .await?)
    }
}

/// A verdict, and whether it rested on a member's sign-in.
struct Decided {
    verdict: Verdict,
    member_sign_in: bool,
}

async fn decide(
    networks: &Networks,
    membership: Option<&Membership>,
    pair: &Pair,
    caller: &Caller,
) -> Result<Decided, CheckError> {
    if let Some(decided) = decide_as_member(networks, membership, pair, caller).await? {
        return Ok(decided);
    }
    let [dev1, dev2] = pair.developers();
    let known = round_one(networks, &[dev1, dev2], caller).await?;
    let (orgs1, orgs2, user1, user2) = found(&known)?;
    let (organisations, hidden_decided) =
        shared(networks, membership, [dev1, dev2], [orgs1, orgs2], caller).await;
    if organisations.is_empty() {
        return Ok(Decided {
            verdict: Verdict::NotConnected,
            member_sign_in: false,
        });
    }

    // Round two: whether they follow each other, asking as little as the graph allows.
    let relationship = networks
        .social_graph
        .relationship(user1, user2, caller)
        .await
        .map_err(|e| match e {
            SocialGraphError::Protected { follower, .. } => {
                let (follower, followee) = if follower == user1.id {
                    (dev1, dev2)
                } else {
                    (dev2, dev1)
                };
                CheckError::Unreadable(UnreadableFollow {
                    follower: follower.to_string(),
                    followee: followee.to_string(),
                    network: networks.social_graph.network(),
                })
            }
            e => social_graph_failure(networks.social_graph.network(), &e).into(),
        })?;
    Ok(Decided {
        verdict: verdict(organisations, relationship),
        member_sign_in: hidden_decided,
    })
}

/// The organisations the pair shares, hidden ones included where their consent lets them
/// count, and whether only hidden ones made them share any (the verdict then rests on a
/// member's sign-in).
async fn shared(
    networks: &Networks,
    membership: Option<&Membership>,
    developers: [&Handle; 2],
    public: [&[Organisation]; 2],
    caller: &Caller,
) -> (Vec<String>, bool) {
    let shared = shared_organisations(public[0], public[1]);
    let Some(membership) = membership else {
        return (shared, false);
    };
    let code_host = networks.code_host.as_ref();
    match membership
        .with_hidden(code_host, developers, public, caller)
        .await
    {
        Some(hidden) => {
            let decided = shared.is_empty() && !hidden.organisations.is_empty();
            (hidden.organisations, decided)
        }
        None => (shared, false),
    }
}

/// The verdict of a pair that shares `organisations`, by their follows.
fn verdict(organisations: Vec<String>, relationship: Relationship) -> Verdict {
    if relationship.mutual() {
        Verdict::Connected { organisations }
    } else {
        Verdict::NotConnected
    }
}

/// Both developers' organisations and social-graph users.
type Found<'a> = (
    &'a [Organisation],
    &'a [Organisation],
    &'a SocialUser,
    &'a SocialUser,
);

/// Both developers' organisations and social-graph users, or every one missing.
fn found(known: &Known) -> Result<Found<'_>, CheckError> {
    match (
        known.organisations.first(),
        known.organisations.get(1),
        known.users.first(),
        known.users.get(1),
        known.missing.is_empty(),
    ) {
        (Some(Some(orgs1)), Some(Some(orgs2)), Some(Some(user1)), Some(Some(user2)), true) => {
            Ok((orgs1, orgs2, user1, user2))
        }
        _ => Err(CheckError::MissingUsers(known.missing.clone())),
    }
}

/// The pair decided with a member's token, when one of them signed in on the social graph
/// and the token answered; `None` to decide it the app's way.
async fn decide_as_member(
    networks: &Networks,
    membership: Option<&Membership>,
    pair: &Pair,
    caller: &Caller,
) -> Result<Option<Decided>, CheckError> {
    let Some(membership) = membership.filter(|_| networks.social_graph.answers_for_members())
    else {
        return Ok(None);
    };
    let developers = pair.developers();
    let signed_in = membership
        .answering(&developers, networks.social_graph.network())
        .await;
    let Some((member_at, member)) = developers.iter().enumerate().find_map(|(i, dev)| {
        let member = signed_in.iter().find(|c| c.account.handle == **dev)?;
        Some((i, member))
    }) else {
        return Ok(None);
    };
    let (known, relationship) = match round_one_as_member(
        networks, developers, member_at, member, caller,
    )
    .await?
    {
        MemberRound::Answered(known, relationship) => (known, relationship),
        MemberRound::TokenRefused => {
            membership.token_refused(&member.account).await;
            return Ok(None);
        }
        MemberRound::Failed(error) => {
            tracing::info!(error = %Chain(&error), "a member's token did not answer: asked the app's way");
            return Ok(None);
        }
    };
    let (orgs1, orgs2, _, _) = found(&known)?;
    let (organisations, _) = shared(
        networks,
        Some(membership),
        developers,
        [orgs1, orgs2],
        caller,
    )
    .await;
    let Some(relationship) = relationship.filter(|_| !organisations.is_empty()) else {
        return Ok(Some(Decided {
            verdict: Verdict::NotConnected,
            member_sign_in: false,
        }));
    };
    caller.bill(Meter::member_answers(networks.social_graph.network()), 1);
    Ok(Some(Decided {
        verdict: verdict(organisations, relationship),
        member_sign_in: true,
    }))
}

#[cfg(test)]
mod tests;
