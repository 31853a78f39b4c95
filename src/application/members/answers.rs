//! Round one of a pair where a developer signed in on the social graph: the organisations of
//! both, and the other developer looked up under the member's own token, which tells the
//! follows between them both ways at once, for one user billed and no follow list.

use crate::application::Networks;
use crate::application::facts::{
    Known, Names, UpstreamFailure, first_failure, known, organisations_of,
};
use crate::domain::access::Caller;
use crate::domain::members::MemberCredentials;
use crate::domain::{AsMemberError, Handle, Relationship, SocialGraphError, SocialUser};
use std::collections::HashMap;

/// What a member's round one came to.
pub(in crate::application) enum MemberRound {
    /// What is known of both, and the relationship of the pair (first to second) when the
    /// other exists on the social graph.
    Answered(Known, Option<Relationship>),
    /// The network no longer takes the member's token.
    TokenRefused,
    /// The member's token could not answer now (its own rate limit, say): the app's way
    /// must.
    Failed(SocialGraphError),
}

/// Round one of `developers`, of whom the one at `member_at` signed in as `member`.
pub(in crate::application) async fn round_one_as_member(
    networks: &Networks,
    developers: [&Handle; 2],
    member_at: usize,
    member: &MemberCredentials,
    caller: &Caller,
) -> Result<MemberRound, UpstreamFailure> {
    let other = developers[1 - member_at];
    let others = [other];
    let (organisations, views) = tokio::join!(
        organisations_of(networks, &developers, caller),
        networks.social_graph.as_member(member, &others, caller)
    );
    let view = match views {
        Ok(views) => views.into_iter().next().flatten(),
        Err(AsMemberError::TokenRefused) => return Ok(MemberRound::TokenRefused),
        Err(AsMemberError::Graph(error)) => return Ok(MemberRound::Failed(error)),
    };
    let names = Names::of(networks);
    if let Some(failure) = first_failure(&organisations, None, names) {
        return Err(failure);
    }
    let mut found = HashMap::from([(developers[member_at].key().to_owned(), member_user(member))]);
    let relationship = view.map(|(user, relationship)| {
        found.insert(other.key().to_owned(), user);
        if member_at == 0 {
            relationship
        } else {
            relationship.reversed()
        }
    });
    Ok(MemberRound::Answered(
        known(&developers, organisations, found, names),
        relationship,
    ))
}

/// The member as a user of the social graph, as they signed in: its lists are never read.
fn member_user(member: &MemberCredentials) -> SocialUser {
    SocialUser {
        id: member.account.id.clone(),
        username: member.account.handle.to_string(),
        followers: None,
        following: None,
        protected: false,
    }
}
