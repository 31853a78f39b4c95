//! The social graph, cached: users and who follows whom.

use super::CacheSettings;
use super::limits::{RateLimitMemory, scopes};
use super::tier::Tier;
use crate::domain::{
    Handle, Interrupted, Network, Relationship, SocialGraph, SocialGraphError, SocialUser,
};
use crate::metrics::Metrics;
use crate::outbound::shared::SharedStore;
use async_trait::async_trait;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A social user as kept in the cache.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedUser {
    id: String,
    username: String,
    followers: Option<u64>,
    following: Option<u64>,
    /// Absent in what older versions kept in Redis: those users were not known to be.
    #[serde(default)]
    protected: bool,
}

impl From<&SocialUser> for CachedUser {
    fn from(u: &SocialUser) -> Self {
        Self {
            id: u.id.clone(),
            username: u.username.clone(),
            followers: u.followers,
            following: u.following,
            protected: u.protected,
        }
    }
}

impl From<CachedUser> for SocialUser {
    fn from(u: CachedUser) -> Self {
        Self {
            id: u.id,
            username: u.username,
            followers: u.followers,
            following: u.following,
            protected: u.protected,
        }
    }
}

/// Pairs asked about at once on a graph that answers pair by pair.
const PAIR_CONCURRENCY: usize = 8;

/// The key of a pair's relationship: its users' ids sorted, and whether that swapped them.
fn pair_key(a: &SocialUser, b: &SocialUser) -> (String, bool) {
    if a.id > b.id {
        (format!("{}:{}", b.id, a.id), true)
    } else {
        (format!("{}:{}", a.id, b.id), false)
    }
}

/// A relationship as kept in the cache.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct CachedRelationship {
    forward: Option<bool>,
    backward: Option<bool>,
}

impl From<Relationship> for CachedRelationship {
    fn from(r: Relationship) -> Self {
        Self {
            forward: r.forward,
            backward: r.backward,
        }
    }
}

impl From<CachedRelationship> for Relationship {
    fn from(r: CachedRelationship) -> Self {
        Self {
            forward: r.forward,
            backward: r.backward,
        }
    }
}

/// The social graph, cached.
#[derive(Clone)]
pub struct CachedSocialGraph {
    inner: Arc<dyn SocialGraph>,
    users: Arc<Tier<Option<CachedUser>>>,
    relationships: Arc<Tier<CachedRelationship>>,
    limits: RateLimitMemory,
    lookup_scope: &'static str,
    follows_scope: &'static str,
    settings: CacheSettings,
    fresh: bool,
}

impl CachedSocialGraph {
    pub fn new(
        inner: Arc<dyn SocialGraph>,
        settings: CacheSettings,
        shared: Option<SharedStore>,
        limits: RateLimitMemory,
        metrics: Arc<Metrics>,
    ) -> Self {
        let (lookup_scope, follows_scope) = scopes(inner.network());
        let (users, relationships) = match inner.network() {
            Network::X => ("x_users", "x_relationships"),
            Network::GitHub => ("github_social_users", "github_relationships"),
            Network::Bluesky => ("bluesky_users", "bluesky_relationships"),
        };
        Self {
            inner,
            users: Arc::new(Tier::new(
                users,
                settings,
                shared.clone(),
                Arc::clone(&metrics),
            )),
            relationships: Arc::new(Tier::new(relationships, settings, shared, metrics)),
            limits,
            lookup_scope,
            follows_scope,
            settings,
            fresh: false,
        }
    }

    /// The same cache, read past: every call goes upstream and refreshes what is kept.
    pub fn fresh(&self) -> Self {
        Self {
            fresh: true,
            ..self.clone()
        }
    }

    /// One lookup of every handle given, unless lookups are rate-limited.
    async fn look_up(
        &self,
        handles: &[&Handle],
    ) -> Result<Vec<Option<CachedUser>>, SocialGraphError> {
        let found = self
            .limits
            .guard(self.lookup_scope, self.inner.users(handles))
            .await?;
        Ok(found
            .iter()
            .map(|u| u.as_ref().map(CachedUser::from))
            .collect())
    }

    /// [`SocialGraph::relationship`] for the pair at `index`.
    async fn relationship_at(
        &self,
        index: usize,
        a: &SocialUser,
        b: &SocialUser,
    ) -> (usize, Result<Relationship, SocialGraphError>) {
        (index, self.relationship(a, b).await)
    }

    fn ttl(&self, user: Option<&CachedUser>) -> Duration {
        if user.is_some() {
            self.settings.ttl
        } else {
            self.settings.not_found_ttl()
        }
    }
}

#[async_trait]
impl SocialGraph for CachedSocialGraph {
    fn network(&self) -> Network {
        self.inner.network()
    }

    fn accepts(&self, handle: &Handle) -> bool {
        self.inner.accepts(handle)
    }

    fn pair_by_pair(&self) -> bool {
        self.inner.pair_by_pair()
    }

    async fn users(
        &self,
        handles: &[&Handle],
    ) -> Result<Vec<Option<SocialUser>>, SocialGraphError> {
        let keys: Vec<String> = handles.iter().map(|h| h.key().to_owned()).collect();
        let by_key: HashMap<&str, &Handle> = handles.iter().map(|h| (h.key(), *h)).collect();
        let users = self
            .users
            .get_many(&keys, self.fresh, |missing| async move {
                let asked: Vec<&Handle> = missing
                    .iter()
                    .filter_map(|key| by_key.get(key.as_str()).copied())
                    .collect();
                let found = self.look_up(&asked).await?;
                Ok::<_, SocialGraphError>(
                    found
                        .into_iter()
                        .map(|user| {
                            let ttl = self.ttl(user.as_ref());
                            (user, ttl)
                        })
                        .collect(),
                )
            })
            .await?;
        Ok(users.into_iter().map(|u| u.map(SocialUser::from)).collect())
    }

    async fn relationship(
        &self,
        a: &SocialUser,
        b: &SocialUser,
    ) -> Result<Relationship, SocialGraphError> {
        // One fact per unordered pair of users, stored under the pair's sorted ids.
        let (key, swapped) = pair_key(a, b);
        let orient = |r: Relationship| if swapped { r.reversed() } else { r };
        if !self.fresh && self.relationships.enabled {
            // A fact left half-learnt by an interrupted team request is completed, not trusted.
            if let Some(Some(stored)) = self
                .relationships
                .peek(std::slice::from_ref(&key))
                .await
                .pop()
            {
                let stored = orient(stored.into());
                if stored.settled() {
                    return Ok(stored);
                }
                let known = self
                    .limits
                    .guard(self.follows_scope, self.inner.relationship(a, b))
                    .await?;
                self.relationships
                    .put(&key, orient(known).into(), self.settings.ttl)
                    .await;
                return Ok(known);
            }
        }
        let load = async {
            let known = self
                .limits
                .guard(self.follows_scope, self.inner.relationship(a, b))
                .await?;
            Ok::<_, SocialGraphError>((CachedRelationship::from(orient(known)), self.settings.ttl))
        };
        let stored: Relationship = self.relationships.get(key, self.fresh, load).await?.into();
        Ok(orient(stored))
    }

    async fn relationships(
        &self,
        users: &[SocialUser],
        pairs: &[(usize, usize)],
        known: &[Relationship],
    ) -> Result<Vec<Relationship>, Interrupted> {
        let mut known = Relationship::for_each_of(pairs.len(), known);
        let keys: Vec<(String, bool)> = pairs
            .iter()
            .map(|&(a, b)| pair_key(&users[a], &users[b]))
            .collect();
        if !self.fresh && self.relationships.enabled {
            let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
            for ((relationship, (_, swapped)), stored) in known
                .iter_mut()
                .zip(&keys)
                .zip(self.relationships.peek(&names).await)
            {
                if let Some(stored) = stored {
                    let stored: Relationship = stored.into();
                    let stored = if *swapped { stored.reversed() } else { stored };
                    relationship.forward = relationship.forward.or(stored.forward);
                    relationship.backward = relationship.backward.or(stored.backward);
                }
            }
        }
        let pending: Vec<usize> = (0..pairs.len()).filter(|&i| !known[i].settled()).collect();
        if pending.is_empty() {
            return Ok(known);
        }
        if self.relationships.enabled {
            let result = if self.fresh { "bypass" } else { "miss" };
            self.relationships
                .metrics
                .cache(self.relationships.name, result);
        }

        if self.inner.pair_by_pair() {
            // A graph asked pair by pair: each pair through the cache, a few at once, so that
            // every answer is kept as it comes and a request cut short by its deadline leaves
            // its progress behind.
            let mut asks = Vec::with_capacity(pending.len());
            for &i in &pending {
                let (a, b) = pairs[i];
                asks.push(self.relationship_at(i, &users[a], &users[b]));
            }
            let mut answers = futures::stream::iter(asks).buffer_unordered(PAIR_CONCURRENCY);
            while let Some((i, answer)) = answers.next().await {
                match answer {
                    Ok(relationship) => known[i] = relationship,
                    Err(SocialGraphError::Protected { .. }) => {}
                    Err(error) => {
                        drop(answers);
                        return Err(Interrupted { known, error });
                    }
                }
            }
            return Ok(known);
        }

        let asked: Vec<(usize, usize)> = pending.iter().map(|&i| pairs[i]).collect();
        let asked_known: Vec<Relationship> = pending.iter().map(|&i| known[i]).collect();
        let result = self
            .limits
            .guard_with(
                self.follows_scope,
                |retry_after| Interrupted {
                    known: asked_known.clone(),
                    error: SocialGraphError::RateLimited { retry_after },
                },
                self.inner.relationships(users, &asked, &asked_known),
            )
            .await;
        let (answers, failure) = match result {
            Ok(answers) => (answers, None),
            Err(Interrupted { known, error }) => (known, Some(error)),
        };
        if answers.len() != asked.len() {
            return Err(Interrupted {
                known,
                error: SocialGraphError::Unavailable(format!(
                    "it answered {} of {} relationships",
                    answers.len(),
                    asked.len()
                )),
            });
        }
        // What was learned is kept, even half a pair, and past the rate limit's reset: asking
        // again then resumes where this stopped instead of paying for it twice.
        let ttl = match &failure {
            Some(SocialGraphError::RateLimited { retry_after }) => self
                .settings
                .ttl
                .max(*retry_after + Duration::from_secs(60)),
            _ => self.settings.ttl,
        };
        for (&i, answer) in pending.iter().zip(answers) {
            known[i] = answer;
            let learnt = answer.forward.is_some() || answer.backward.is_some();
            if self.relationships.enabled && learnt {
                let (key, swapped) = &keys[i];
                let stored = if *swapped { answer.reversed() } else { answer };
                self.relationships.put(key, stored.into(), ttl).await;
            }
        }
        match failure {
            None => Ok(known),
            Some(error) => Err(Interrupted { known, error }),
        }
    }
}

impl From<super::tier::ShortAnswer> for SocialGraphError {
    fn from(short: super::tier::ShortAnswer) -> Self {
        SocialGraphError::Unavailable(format!(
            "it answered {} of {} users",
            short.answered, short.asked
        ))
    }
}
