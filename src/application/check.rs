//! Checking one pair now.

use super::facts::{round_one, social_graph_failure};
use super::{CheckError, Connections, Freshness, Networks, now};
use crate::domain::{
    Pair, RegisteredCheck, SocialGraphError, UnreadableFollow, Verdict, shared_organisations,
};

impl Connections {
    /// Checks a pair now against the upstreams and records the verdict before returning it.
    ///
    /// # Errors
    /// See [`CheckError`]; nothing is recorded unless a verdict is returned.
    pub async fn check(&self, dev1: &str, dev2: &str) -> Result<RegisteredCheck, CheckError> {
        self.check_with(dev1, dev2, Freshness::Cached).await
    }

    /// [`Connections::check`], choosing whether cached facts may be used.
    ///
    /// # Errors
    /// See [`CheckError`]; nothing is recorded unless a verdict is returned.
    pub async fn check_with(
        &self,
        dev1: &str,
        dev2: &str,
        freshness: Freshness,
    ) -> Result<RegisteredCheck, CheckError> {
        let pair = Self::pair(dev1, dev2)?;
        let networks = match freshness {
            Freshness::Cached => &self.cached,
            Freshness::Fresh => &self.fresh,
        };
        let verdict = self.in_time(decide(networks, &pair)).await?;
        let social_graph = networks.social_graph.network();
        Ok(self
            .register
            .record(&pair, &verdict, social_graph, now())
            .await?)
    }
}

async fn decide(networks: &Networks, pair: &Pair) -> Result<Verdict, CheckError> {
    let [dev1, dev2] = pair.developers();
    let known = round_one(networks, &[dev1, dev2]).await?;
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
        .relationship(user1, user2)
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
            e => social_graph_failure(networks.social_graph.network(), &e),
        })?;
    Ok(if relationship.mutual() {
        Verdict::Connected { organisations }
    } else {
        Verdict::NotConnected
    })
}
