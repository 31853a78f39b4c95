//! The public Bluesky AppView as the social graph: no credentials, and one call answers both
//! directions of a follow.

use super::client::{ApiRefusal, ClientError, Upstream, too_many_requests};
use crate::domain::Clock;
use crate::domain::access::Caller;
use crate::domain::{
    Handle, Network, PartialRelationships, Relationship, SocialGraph, SocialGraphError, SocialUser,
};
use crate::metrics::Metrics;
use crate::outbound::cache::GraphProfile;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Actors per `getProfiles` call, the lexicon's maximum.
const PROFILES_BATCH: usize = 25;
/// `others` per `getRelationships` call, the lexicon's maximum.
const RELATIONSHIPS_BATCH: usize = 30;

/// The Bluesky AppView (`app.bsky.actor.getProfiles`, `app.bsky.graph.getRelationships`).
#[derive(Clone, Debug)]
pub struct BlueskyAppView {
    api: Upstream,
    suffix: String,
}

/// The AppView's refusals: a `429` with its reset in `ratelimit-reset`; an `ActorNotFound`
/// (a `400`) is "no such actor".
fn refusal(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    now: DateTime<Utc>,
) -> Option<ApiRefusal> {
    let not_found = status == StatusCode::BAD_REQUEST
        && serde_json::from_str::<XrpcError>(body).is_ok_and(|e| e.error == "ActorNotFound");
    if not_found {
        return Some(ApiRefusal::NotFound);
    }
    too_many_requests(
        status,
        headers,
        "ratelimit-reset",
        Duration::from_secs(60),
        now,
    )
}

/// `profiles` is required: an answer without it is not "nobody found".
#[derive(Deserialize)]
struct Profiles {
    profiles: Vec<Profile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    did: String,
    handle: String,
    #[serde(default)]
    followers_count: Option<u64>,
    #[serde(default)]
    follows_count: Option<u64>,
}

/// `relationships` is required: an answer without it is not "nobody follows anybody".
#[derive(Deserialize)]
struct Relationships {
    relationships: Vec<RelationshipEntry>,
}

/// One entry: a relationship (`following` when the actor follows that account,
/// `followedBy` when that account follows the actor) or a `notFoundActor`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RelationshipEntry {
    #[serde(default)]
    did: Option<String>,
    #[serde(default)]
    following: Option<String>,
    #[serde(default)]
    followed_by: Option<String>,
    #[serde(default)]
    not_found: bool,
}

#[derive(Deserialize)]
struct XrpcError {
    #[serde(default)]
    error: String,
}

impl BlueskyAppView {
    /// # Errors
    /// [`ClientError`] when the client cannot be built.
    pub fn new(
        base: Url,
        suffix: &str,
        timeout: Duration,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ClientError> {
        let suffix = if suffix.starts_with('.') {
            suffix.to_owned()
        } else {
            format!(".{suffix}")
        };
        Ok(Self {
            api: Upstream::new("bluesky", base, None, timeout, metrics, refusal, clock)?,
            suffix: suffix.to_lowercase(),
        })
    }

    /// The actor a handle names: as written when it has a dot, else under the suffix.
    fn actor(&self, handle: &Handle) -> String {
        if handle.key().contains('.') {
            handle.key().to_owned()
        } else {
            format!("{}{}", handle.key(), self.suffix)
        }
    }

    fn url(&self, method: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.api.url(&["xrpc", method]);
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        url
    }

    /// One XRPC call; `Ok(None)` for an `ActorNotFound` error.
    async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        url: Url,
        caller: &Caller,
    ) -> Result<Option<T>, SocialGraphError> {
        Ok(self.api.get_json(endpoint, url, caller).await?)
    }

    /// Whether `actor` follows each of `others` and each follows it, by DID.
    async fn relationships_of(
        &self,
        actor: &str,
        others: &[&str],
        caller: &Caller,
    ) -> Result<BTreeMap<String, Relationship>, SocialGraphError> {
        let mut known = BTreeMap::new();
        for batch in others.chunks(RELATIONSHIPS_BATCH) {
            let mut query = vec![("actor", actor)];
            query.extend(batch.iter().map(|other| ("others", *other)));
            let url = self.url("app.bsky.graph.getRelationships", &query);
            // An unknown actor (400 ActorNotFound) follows nobody and nobody follows it.
            let Some(answer) = self
                .get::<Relationships>("relationships", url, caller)
                .await?
            else {
                continue;
            };
            let mut entries = 0;
            for entry in answer.relationships {
                if entry.not_found {
                    entries += 1;
                } else if let Some(did) = entry.did {
                    entries += 1;
                    known.insert(
                        did,
                        Relationship {
                            forward: Some(entry.following.is_some()),
                            backward: Some(entry.followed_by.is_some()),
                        },
                    );
                }
            }
            // One entry per account asked about, found or not: an answer that leaves one out
            // cannot say that they do not follow each other.
            if entries != batch.len() {
                return Err(SocialGraphError::unavailable(format!(
                    "its answer could not be read: {entries} relationships for {} accounts",
                    batch.len()
                )));
            }
        }
        Ok(known)
    }
}

/// A Bluesky handle (atproto's syntax): two or more dot-separated labels of letters, digits
/// and inner hyphens, the last starting with a letter, 253 characters at most. The AppView
/// refuses a whole batch for one handle that breaks this, so such a handle is never sent.
fn is_bluesky_handle(actor: &str) -> bool {
    actor.len() <= 253
        && actor.contains('.')
        && actor
            .rsplit('.')
            .next()
            .is_some_and(|last| last.starts_with(|c: char| c.is_ascii_alphabetic()))
        && actor.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// A DID (atproto's syntax): `did:`, a lower-case method, `:`, and an identifier of letters,
/// digits and `._:%-` not ending in `:` or `%`; 2 KiB at most.
fn is_did(did: &str) -> bool {
    let Some((method, id)) = did
        .strip_prefix("did:")
        .and_then(|rest| rest.split_once(':'))
    else {
        return false;
    };
    did.len() <= 2048
        && !method.is_empty()
        && method.bytes().all(|b| b.is_ascii_lowercase())
        && !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:%-".contains(&b))
        && !id.ends_with([':', '%'])
}

/// What the cache of Bluesky is told: its names, and that it reads relationships in batches.
pub const BLUESKY_PROFILE: GraphProfile = GraphProfile {
    users_cache: "bluesky_users",
    relationships_cache: "bluesky_relationships",
    lookup_limit: "bluesky",
    follows_limit: "bluesky",
    pair_by_pair: false,
};

#[async_trait]
impl SocialGraph for BlueskyAppView {
    fn network(&self) -> Network {
        Network::Bluesky
    }

    fn accepts(&self, handle: &Handle) -> bool {
        is_bluesky_handle(&self.actor(handle))
    }

    async fn users(
        &self,
        handles: &[&Handle],
        caller: &Caller,
    ) -> Result<Vec<Option<SocialUser>>, SocialGraphError> {
        let actors: Vec<String> = handles.iter().map(|h| self.actor(h)).collect();
        let mut found: BTreeMap<String, SocialUser> = BTreeMap::new();
        for batch in actors.chunks(PROFILES_BATCH) {
            let query: Vec<(&str, &str)> = batch.iter().map(|a| ("actors", a.as_str())).collect();
            let url = self.url("app.bsky.actor.getProfiles", &query);
            let profiles: Option<Profiles> = self.get("profiles", url, caller).await?;
            for profile in profiles.map(|p| p.profiles).unwrap_or_default() {
                if !is_did(&profile.did) || !is_bluesky_handle(&profile.handle) {
                    return Err(SocialGraphError::unavailable(format!(
                        "its answer could not be read: a profile {:?} ({:?}) cannot be a Bluesky account",
                        profile.handle.chars().take(40).collect::<String>(),
                        profile.did.chars().take(40).collect::<String>()
                    )));
                }
                found.insert(
                    profile.handle.to_lowercase(),
                    SocialUser {
                        id: profile.did,
                        username: profile.handle,
                        followers: profile.followers_count,
                        following: profile.follows_count,
                        protected: false,
                    },
                );
            }
        }
        Ok(actors.iter().map(|a| found.get(a).cloned()).collect())
    }

    /// Both directions in one call.
    async fn relationship(
        &self,
        a: &SocialUser,
        b: &SocialUser,
        caller: &Caller,
    ) -> Result<Relationship, SocialGraphError> {
        let known = self
            .relationships_of(&a.id, &[b.id.as_str()], caller)
            .await?;
        Ok(known.get(&b.id).copied().unwrap_or(Relationship::NEITHER))
    }

    /// Each user asked once about all its partners after it in the team, up to 30 a call;
    /// pairs already settled are not asked about.
    async fn relationships(
        &self,
        users: &[SocialUser],
        pairs: &[(usize, usize)],
        known: &[Relationship],
        caller: &Caller,
    ) -> Result<Vec<Relationship>, PartialRelationships> {
        let mut known = Relationship::for_each_of(pairs.len(), known);
        let mut by_actor: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
        for (slot, &(a, b)) in pairs.iter().enumerate() {
            if !known[slot].settled() {
                by_actor.entry(a).or_default().push((slot, b));
            }
        }
        for (actor, others) in by_actor {
            let dids: Vec<&str> = others.iter().map(|&(_, o)| users[o].id.as_str()).collect();
            let answers = match self.relationships_of(&users[actor].id, &dids, caller).await {
                Ok(answers) => answers,
                Err(error) => return Err(PartialRelationships { known, error }),
            };
            for (slot, other) in others {
                known[slot] = answers
                    .get(&users[other].id)
                    .copied()
                    .unwrap_or(Relationship::NEITHER);
            }
        }
        Ok(known)
    }
}

#[cfg(test)]
mod tests;
