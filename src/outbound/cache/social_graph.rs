//! The social graph, cached: users and who follows whom.

use super::fact_cache::FactCache;
use super::limits::RateLimitMemory;
use super::stored::{CachedRelationship, CachedUser, PairKey};
use super::{CacheSettings, GraphProfile};
use crate::domain::Clock;
use crate::domain::access::{Caller, Payer};
use crate::domain::members::MemberCredentials;
use crate::domain::{
    AsMemberError, Handle, MemberView, Network, PartialRelationships, ReadPlan, Relationship,
    SocialGraph, SocialGraphError, SocialUser,
};
use crate::metrics::Metrics;
use crate::outbound::redis::store::RedisStore;
use async_trait::async_trait;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Pairs asked about at once on a graph that answers pair by pair.
const PAIR_CONCURRENCY: usize = 8;

/// The social graph, cached.
#[derive(Clone)]
pub struct CachedSocialGraph {
    inner: Arc<dyn SocialGraph>,
    users: FactCache<Option<CachedUser>>,
    relationships: FactCache<CachedRelationship>,
    limits: RateLimitMemory,
    lookup_scope: &'static str,
    follows_scope: &'static str,
    /// Whether the graph answers one pair at a time.
    pair_by_pair: bool,
    settings: CacheSettings,
}

impl CachedSocialGraph {
    pub fn new(
        inner: Arc<dyn SocialGraph>,
        profile: GraphProfile,
        settings: CacheSettings,
        shared: Option<RedisStore>,
        limits: RateLimitMemory,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let names = profile;
        Self {
            inner,
            users: FactCache::new(
                names.users_cache,
                settings,
                shared.clone(),
                Arc::clone(&metrics),
                Arc::clone(&clock),
            ),
            relationships: FactCache::new(
                names.relationships_cache,
                settings,
                shared,
                metrics,
                clock,
            ),
            limits,
            lookup_scope: names.lookup_limit,
            follows_scope: names.follows_limit,
            pair_by_pair: profile.pair_by_pair,
            settings,
        }
    }

    /// The same cache, read past: every call goes upstream and refreshes what is kept.
    pub fn fresh(&self) -> Self {
        Self {
            users: self.users.read_past(),
            relationships: self.relationships.read_past(),
            ..self.clone()
        }
    }

    /// One lookup of every handle given, unless lookups are rate-limited; each user with how
    /// long it is kept.
    async fn look_up(
        &self,
        handles: &[&Handle],
        caller: &Caller,
    ) -> Result<Vec<(Option<CachedUser>, Duration)>, SocialGraphError> {
        let found = self
            .limits
            .guard(self.lookup_scope, self.inner.users(handles, caller))
            .await?;
        Ok(found
            .iter()
            .map(|u| {
                let user = u.as_ref().map(CachedUser::from);
                let ttl = self.settings.ttl_of(&user);
                (user, ttl)
            })
            .collect())
    }

    /// The graph's own answer for one pair, unless its follows are rate-limited.
    async fn ask(
        &self,
        a: &SocialUser,
        b: &SocialUser,
        caller: &Caller,
    ) -> Result<Relationship, SocialGraphError> {
        self.limits
            .guard(self.follows_scope, self.inner.relationship(a, b, caller))
            .await
    }

    /// The graph's own answer for several pairs, unless its follows are rate-limited.
    async fn ask_all(
        &self,
        users: &[SocialUser],
        pairs: &[(usize, usize)],
        known: &[Relationship],
        caller: &Caller,
    ) -> Result<Vec<Relationship>, PartialRelationships> {
        let blocked = |retry_after| PartialRelationships {
            known: known.to_vec(),
            error: SocialGraphError::RateLimited { retry_after },
        };
        self.limits
            .guard_with(
                self.follows_scope,
                blocked,
                self.inner.relationships(users, pairs, known, caller),
            )
            .await
    }

    /// [`SocialGraph::relationship`] for the pair at `index`.
    async fn relationship_at(
        &self,
        index: usize,
        a: &SocialUser,
        b: &SocialUser,
        caller: &Caller,
    ) -> (usize, Result<Relationship, SocialGraphError>) {
        (index, self.relationship(a, b, caller).await)
    }

    /// Completes what is known of each pair with what the cache keeps of it.
    async fn recall(&self, known: &mut [Relationship], keys: &[PairKey]) {
        let names: Vec<String> = keys.iter().map(|k| k.key.clone()).collect();
        let stored = self.relationships.peek(&names).await;
        for ((relationship, key), stored) in known.iter_mut().zip(keys).zip(stored) {
            if let Some(stored) = stored {
                let stored = key.orient(stored.into());
                relationship.forward = relationship.forward.or(stored.forward);
                relationship.backward = relationship.backward.or(stored.backward);
            }
        }
    }

    /// Keeps what was learned of a pair, even half of it, for `ttl`.
    async fn keep(&self, key: &PairKey, learned: Relationship, ttl: Duration) {
        let any = learned.forward.is_some() || learned.backward.is_some();
        if self.relationships.enabled && any {
            let kept = key.orient(learned).into();
            self.relationships.put(&key.key, kept, ttl).await;
        }
    }

    /// How long what was learned is kept: past the reset of a rate limit that stopped the
    /// asking, so that asking again then resumes where this stopped instead of paying for it
    /// twice.
    fn ttl_after(&self, failure: Option<&SocialGraphError>) -> Duration {
        match failure {
            Some(SocialGraphError::RateLimited { retry_after }) => self
                .settings
                .ttl
                .max(*retry_after + Duration::from_secs(60)),
            _ => self.settings.ttl,
        }
    }

    /// The `pending` pairs of a graph asked pair by pair: each pair through the cache, a few
    /// at once, so that every answer is kept as it comes and a request cut short by its
    /// deadline leaves its progress behind.
    async fn one_pair_at_a_time(
        &self,
        users: &[SocialUser],
        pairs: &[(usize, usize)],
        pending: &[usize],
        mut known: Vec<Relationship>,
        caller: &Caller,
    ) -> Result<Vec<Relationship>, PartialRelationships> {
        let mut asks = Vec::with_capacity(pending.len());
        for &i in pending {
            let (a, b) = pairs[i];
            asks.push(self.relationship_at(i, &users[a], &users[b], caller));
        }
        let mut answers = futures::stream::iter(asks).buffer_unordered(PAIR_CONCURRENCY);
        while let Some((i, answer)) = answers.next().await {
            match answer {
                Ok(relationship) => known[i] = relationship,
                Err(SocialGraphError::Protected { .. }) => {}
                Err(error) => {
                    drop(answers);
                    return Err(PartialRelationships { known, error });
                }
            }
        }
        Ok(known)
    }

    /// The `pending` pairs of a graph that reads lists, asked all at once; each kept as far
    /// as it was learned, even when the asking stopped part way.
    async fn all_at_once(
        &self,
        users: &[SocialUser],
        pairs: &[(usize, usize)],
        keys: &[PairKey],
        pending: &[usize],
        mut known: Vec<Relationship>,
        caller: &Caller,
    ) -> Result<Vec<Relationship>, PartialRelationships> {
        let asked: Vec<(usize, usize)> = pending.iter().map(|&i| pairs[i]).collect();
        let asked_known: Vec<Relationship> = pending.iter().map(|&i| known[i]).collect();
        let (answers, failure) = match self.ask_all(users, &asked, &asked_known, caller).await {
            Ok(answers) => (answers, None),
            Err(PartialRelationships { known, error }) => (known, Some(error)),
        };
        if answers.len() != asked.len() {
            return Err(PartialRelationships {
                known,
                error: SocialGraphError::unavailable(format!(
                    "it answered {} of {} relationships",
                    answers.len(),
                    asked.len()
                )),
            });
        }
        let ttl = self.ttl_after(failure.as_ref());
        for (&i, answer) in pending.iter().zip(answers) {
            known[i] = answer;
            self.keep(&keys[i], answer, ttl).await;
        }
        match failure {
            None => Ok(known),
            Some(error) => Err(PartialRelationships { known, error }),
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

    async fn users(
        &self,
        handles: &[&Handle],
        caller: &Caller,
    ) -> Result<Vec<Option<SocialUser>>, SocialGraphError> {
        let keys: Vec<String> = handles.iter().map(|h| h.key().to_owned()).collect();
        let by_key: HashMap<&str, &Handle> = handles.iter().map(|h| (h.key(), *h)).collect();
        let users = self
            .users
            .get_many(&keys, |missing| async move {
                let asked: Vec<&Handle> = missing
                    .iter()
                    .filter_map(|key| by_key.get(key.as_str()).copied())
                    .collect();
                self.look_up(&asked, caller).await
            })
            .await;
        match users {
            // A load shared with another caller failed on that caller's own budget: asked
            // again, paid by this one.
            Err(e) if callers_own(&e) => {
                self.limits
                    .guard(self.lookup_scope, self.inner.users(handles, caller))
                    .await
            }
            users => Ok(users?
                .into_iter()
                .map(|u| u.map(SocialUser::from))
                .collect()),
        }
    }

    async fn relationship(
        &self,
        a: &SocialUser,
        b: &SocialUser,
        caller: &Caller,
    ) -> Result<Relationship, SocialGraphError> {
        let key = PairKey::of(a, b);
        // A fact left half-learnt by an interrupted team request is completed, not trusted.
        if let Some(Some(stored)) = self
            .relationships
            .peek(std::slice::from_ref(&key.key))
            .await
            .pop()
        {
            let stored = key.orient(stored.into());
            if stored.settled() {
                return Ok(stored);
            }
            let known = self.ask(a, b, caller).await?;
            self.relationships
                .put(&key.key, key.orient(known).into(), self.settings.ttl)
                .await;
            return Ok(known);
        }
        let load = async {
            let kept = CachedRelationship::from(key.orient(self.ask(a, b, caller).await?));
            Ok::<_, SocialGraphError>((kept, self.settings.ttl))
        };
        match self.relationships.get(key.key.clone(), load).await {
            Err(e) if callers_own(&e) => self.ask(a, b, caller).await,
            stored => Ok(key.orient(stored?.into())),
        }
    }

    async fn relationships(
        &self,
        users: &[SocialUser],
        pairs: &[(usize, usize)],
        known: &[Relationship],
        caller: &Caller,
    ) -> Result<Vec<Relationship>, PartialRelationships> {
        let mut known = Relationship::for_each_of(pairs.len(), known);
        let keys: Vec<PairKey> = pairs
            .iter()
            .map(|&(a, b)| PairKey::of(&users[a], &users[b]))
            .collect();
        self.recall(&mut known, &keys).await;
        let pending: Vec<usize> = (0..pairs.len()).filter(|&i| !known[i].settled()).collect();
        if pending.is_empty() {
            return Ok(known);
        }
        self.relationships.count_load();
        if self.pair_by_pair {
            self.one_pair_at_a_time(users, pairs, &pending, known, caller)
                .await
        } else {
            self.all_at_once(users, pairs, &keys, &pending, known, caller)
                .await
        }
    }

    /// What the graph plans for the pairs the cache does not settle, with what it keeps of
    /// them: a pair the cache settles costs nothing.
    async fn plan(
        &self,
        users: &[SocialUser],
        pairs: &[(usize, usize)],
        known: &[Relationship],
    ) -> ReadPlan {
        let mut known = Relationship::for_each_of(pairs.len(), known);
        let keys: Vec<PairKey> = pairs
            .iter()
            .map(|&(a, b)| PairKey::of(&users[a], &users[b]))
            .collect();
        self.recall(&mut known, &keys).await;
        let (pending, pending_known): (Vec<(usize, usize)>, Vec<Relationship>) = pairs
            .iter()
            .zip(known)
            .filter(|(_, relationship)| !relationship.settled())
            .map(|(&pair, relationship)| (pair, relationship))
            .unzip();
        if pending.is_empty() {
            return ReadPlan::default();
        }
        self.inner.plan(users, &pending, &pending_known).await
    }

    fn answers_for_members(&self) -> bool {
        self.inner.answers_for_members()
    }

    /// Asked every time (a member's answer is cheap, and what a verdict rests on is said),
    /// within the member's own rate limit: a member's limit never blocks the app's calls or
    /// another member's.
    async fn as_member(
        &self,
        member: &MemberCredentials,
        others: &[&Handle],
        caller: &Caller,
    ) -> Result<Vec<Option<MemberView>>, AsMemberError> {
        let scope = format!("{}:member:{}", self.lookup_scope, member.account.id);
        self.limits
            .guard(&scope, self.inner.as_member(member, others, caller))
            .await
    }
}

/// Whether a failure is the asking key's own budget refusing: one shared with another caller
/// is not this caller's to take.
fn callers_own(error: &SocialGraphError) -> bool {
    matches!(error, SocialGraphError::OverBudget(overspend) if overspend.payer == Payer::Key)
}

impl From<super::fact_cache::ShortAnswer> for SocialGraphError {
    fn from(short: super::fact_cache::ShortAnswer) -> Self {
        SocialGraphError::unavailable(format!(
            "it answered {} of {} users",
            short.answered, short.asked
        ))
    }
}

#[cfg(test)]
mod tests;
