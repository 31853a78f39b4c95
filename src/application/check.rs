//! Checking one pair now.

use super::facts::{UpstreamFailure, round_one, social_graph_failure};
use super::{Connections, Freshness, Networks};
use crate::domain::access::Caller;
use crate::domain::{
    MissingUser, Pair, RegisterError, RegisteredCheck, SocialGraphError, UnreadableFollow, Verdict,
    shared_organisations,
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

impl Connections {
    /// Checks `pair` now against the upstreams, paid by `caller`, and records the verdict
    /// before returning it; `freshness` says whether cached facts may be used.
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
        let verdict = self.in_time(decide(networks, pair, caller)).await?;
        let social_graph = networks.social_graph.network();
        Ok(self
            .register
            .record(pair, &verdict, social_graph, self.now())
            .await?)
    }
}

async fn decide(networks: &Networks, pair: &Pair, caller: &Caller) -> Result<Verdict, CheckError> {
    let [dev1, dev2] = pair.developers();
    let known = round_one(networks, &[dev1, dev2], caller).await?;
    let (Some(Some(orgs1)), Some(Some(orgs2)), Some(Some(user1)), Some(Some(user2)), true) = (
        known.organisations.first(),
        known.organisations.get(1),
        known.users.first(),
        known.users.get(1),
        known.missing.is_empty(),
    ) else {
        return Err(CheckError::MissingUsers(known.missing));
    };

    let organisations = shared_organisations(orgs1, orgs2);
    if organisations.is_empty() {
        return Ok(Verdict::NotConnected);
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
    Ok(if relationship.mutual() {
        Verdict::Connected { organisations }
    } else {
        Verdict::NotConnected
    })
}
