//! Caches of upstream facts, as decorators that implement the same ports: a GitHub user's
//! organisations, an X user's id and counts, whether one X user follows another. Not the
//! verdicts: a verdict is always decided again from facts, fresh or cached.
//!
//! Each fact lives in process (moka: bounded, least recently used out, and concurrent loads
//! of one key share one upstream call) and, when Redis is configured, in Redis too, so one
//! instance reuses what another fetched. Failures are never cached; a not-found is, for its
//! own shorter time. A rate limit is remembered until it resets, and calls that would hit it
//! fail at once without being made.

use super::shared::SharedStore;
use crate::domain::{
    CodeHost, CodeHostError, Handle, Interrupted, Network, Relationship, SocialGraph,
    SocialGraphError, SocialUser,
};
use crate::metrics::Metrics;
use async_trait::async_trait;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long facts are kept and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSettings {
    /// Found facts; zero disables the cache.
    pub ttl: Duration,
    /// Users that do not exist.
    pub ttl_not_found: Duration,
    /// Facts kept in process, per kind of fact.
    pub max_entries: u64,
}

impl CacheSettings {
    fn not_found_ttl(&self) -> Duration {
        if self.ttl.is_zero() {
            Duration::ZERO
        } else {
            self.ttl_not_found
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A fact and when it stops being fresh, as an absolute time so that instances sharing it
/// agree.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Fact<V> {
    value: V,
    expires_at_ms: i64,
}

impl<V> Fact<V> {
    fn new(value: V, ttl: Duration) -> Self {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        Self {
            value,
            expires_at_ms: now_ms().saturating_add(ttl_ms),
        }
    }

    fn remaining(&self) -> Duration {
        Duration::from_millis(
            u64::try_from(self.expires_at_ms.saturating_sub(now_ms())).unwrap_or(0),
        )
    }
}

struct UntilExpiry;

impl<V> moka::Expiry<String, Arc<Fact<V>>> for UntilExpiry {
    fn expire_after_create(
        &self,
        _: &String,
        fact: &Arc<Fact<V>>,
        _: std::time::Instant,
    ) -> Option<Duration> {
        Some(fact.remaining())
    }

    fn expire_after_update(
        &self,
        _: &String,
        fact: &Arc<Fact<V>>,
        _: std::time::Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(fact.remaining())
    }
}

/// One kind of fact: in process, and in Redis when configured.
struct Tier<V> {
    name: &'static str,
    /// False when the cache is off (a zero time to live): every call goes upstream.
    enabled: bool,
    local: moka::future::Cache<String, Arc<Fact<V>>>,
    shared: Option<SharedStore>,
    metrics: Arc<Metrics>,
}

impl<V> Tier<V>
where
    V: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn new(
        name: &'static str,
        settings: CacheSettings,
        shared: Option<SharedStore>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            name,
            enabled: !settings.ttl.is_zero(),
            local: moka::future::Cache::builder()
                .max_capacity(settings.max_entries)
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .expire_after(UntilExpiry)
                .build(),
            shared,
            metrics,
        }
    }

    fn shared_name(&self, key: &str) -> String {
        format!("{}:{key}", self.name)
    }

    async fn read_shared(&self, keys: &[String]) -> Vec<Option<Fact<V>>> {
        let Some(shared) = &self.shared else {
            return keys.iter().map(|_| None).collect();
        };
        let names: Vec<String> = keys.iter().map(|k| self.shared_name(k)).collect();
        shared
            .get_many(&names)
            .await
            .into_iter()
            .map(|bytes| {
                let fact: Fact<V> = serde_json::from_slice(&bytes?).ok()?;
                (fact.remaining() > Duration::ZERO).then_some(fact)
            })
            .collect()
    }

    /// What is kept for each key, here or in Redis (counted as hits), without loading.
    async fn peek(&self, keys: &[String]) -> Vec<Option<V>> {
        let mut found: Vec<Option<V>> = vec![None; keys.len()];
        let mut elsewhere = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            match self.local.get(key).await {
                Some(fact) => {
                    self.metrics.cache(self.name, "hit");
                    found[i] = Some(fact.value.clone());
                }
                None => elsewhere.push(i),
            }
        }
        if self.shared.is_some() && !elsewhere.is_empty() {
            let wanted: Vec<String> = elsewhere.iter().map(|&i| keys[i].clone()).collect();
            for (&i, fact) in elsewhere.iter().zip(self.read_shared(&wanted).await) {
                if let Some(fact) = fact {
                    self.metrics.cache(self.name, "shared_hit");
                    found[i] = Some(fact.value.clone());
                    self.local.insert(keys[i].clone(), Arc::new(fact)).await;
                }
            }
        }
        found
    }

    /// Keeps a fact here and in Redis.
    async fn put(&self, key: &str, value: V, ttl: Duration) -> Arc<Fact<V>> {
        let fact = Arc::new(Fact::new(value, ttl));
        self.local.insert(key.to_owned(), Arc::clone(&fact)).await;
        self.share(key, &fact, ttl).await;
        fact
    }

    async fn share(&self, key: &str, fact: &Fact<V>, ttl: Duration) {
        if let (Some(shared), false) = (&self.shared, ttl.is_zero())
            && let Ok(bytes) = serde_json::to_vec(fact)
        {
            shared.set(&self.shared_name(key), bytes, ttl).await;
        }
    }

    /// The fact for `key`: from process, else from Redis, else from `load` (which says how
    /// long its answer stays fresh). Concurrent callers for one key share one load. With
    /// `fresh`, the stores are not read, only refreshed with what `load` returns.
    async fn get<E, F>(&self, key: String, fresh: bool, load: F) -> Result<V, E>
    where
        E: Clone + Send + Sync + 'static,
        F: Future<Output = Result<(V, Duration), E>> + Send,
    {
        if !self.enabled {
            return Ok(load.await?.0);
        }
        if fresh {
            self.metrics.cache(self.name, "bypass");
            let (value, ttl) = load.await?;
            self.put(&key, value.clone(), ttl).await;
            return Ok(value);
        }
        if let Some(fact) = self.local.get(&key).await {
            self.metrics.cache(self.name, "hit");
            return Ok(fact.value.clone());
        }
        let fact = self
            .local
            .try_get_with(key.clone(), async {
                if let Some(fact) = self
                    .read_shared(std::slice::from_ref(&key))
                    .await
                    .pop()
                    .flatten()
                {
                    self.metrics.cache(self.name, "shared_hit");
                    return Ok(Arc::new(fact));
                }
                self.metrics.cache(self.name, "miss");
                let (value, ttl) = load.await?;
                let fact = Fact::new(value, ttl);
                self.share(&key, &fact, ttl).await;
                Ok(Arc::new(fact))
            })
            .await
            .map_err(|e: Arc<E>| (*e).clone())?;
        Ok(fact.value.clone())
    }
}

/// "Rate limited until T", per upstream endpoint, in process and in Redis when configured.
#[derive(Clone)]
pub struct RateLimitMemory {
    local: Arc<Mutex<HashMap<&'static str, i64>>>,
    shared: Option<SharedStore>,
}

impl RateLimitMemory {
    pub fn new(shared: Option<SharedStore>) -> Self {
        Self {
            local: Arc::default(),
            shared,
        }
    }

    fn name(scope: &str) -> String {
        format!("ratelimit:{scope}")
    }

    /// How long `scope` is still rate-limited, if it is.
    pub async fn blocked(&self, scope: &'static str) -> Option<Duration> {
        let now = now_ms();
        let local = self.local.lock().ok().and_then(|l| l.get(scope).copied());
        let until = match local {
            Some(until) if until > now => Some(until),
            _ => match &self.shared {
                Some(shared) => {
                    let bytes = shared.get(&Self::name(scope)).await?;
                    let until: i64 = std::str::from_utf8(&bytes).ok()?.parse().ok()?;
                    if let Ok(mut l) = self.local.lock() {
                        l.insert(scope, until);
                    }
                    Some(until)
                }
                None => None,
            },
        }?;
        (until > now).then(|| Duration::from_millis(u64::try_from(until - now).unwrap_or(0)))
    }

    /// Remembers that `scope` answered "rate limited" for `wait`.
    pub async fn remember(&self, scope: &'static str, wait: Duration) {
        let wait = wait.min(Duration::from_secs(3600));
        if wait.is_zero() {
            return;
        }
        let until = now_ms().saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
        if let Ok(mut local) = self.local.lock() {
            local.insert(scope, until);
        }
        if let Some(shared) = &self.shared {
            shared
                .set(&Self::name(scope), until.to_string().into_bytes(), wait)
                .await;
        }
    }
}

const GITHUB: &str = "github";

/// Rate-limit scopes of a social graph's two kinds of call. GitHub's limit is one per token,
/// whichever endpoint, so its follow graph shares the code host's scope.
fn scopes(network: Network) -> (&'static str, &'static str) {
    match network {
        Network::GitHub => (GITHUB, GITHUB),
        Network::X => ("x:lookup", "x:follows"),
        Network::Bluesky => ("bluesky", "bluesky"),
    }
}

/// The code host, cached.
#[derive(Clone)]
pub struct CachedCodeHost {
    inner: Arc<dyn CodeHost>,
    organisations: Arc<Tier<Option<Vec<String>>>>,
    limits: RateLimitMemory,
    settings: CacheSettings,
    fresh: bool,
}

impl CachedCodeHost {
    pub fn new(
        inner: Arc<dyn CodeHost>,
        settings: CacheSettings,
        shared: Option<SharedStore>,
        limits: RateLimitMemory,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            inner,
            organisations: Arc::new(Tier::new("github_orgs", settings, shared, metrics)),
            limits,
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
}

#[async_trait]
impl CodeHost for CachedCodeHost {
    fn accepts(&self, handle: &Handle) -> bool {
        self.inner.accepts(handle)
    }

    fn concurrency(&self) -> usize {
        self.inner.concurrency()
    }

    async fn organisations(&self, user: &Handle) -> Result<Vec<String>, CodeHostError> {
        let load = async {
            if let Some(retry_after) = self.limits.blocked(GITHUB).await {
                return Err(CodeHostError::RateLimited { retry_after });
            }
            match self.inner.organisations(user).await {
                Ok(orgs) => Ok((Some(orgs), self.settings.ttl)),
                Err(CodeHostError::NotFound) => Ok((None, self.settings.not_found_ttl())),
                Err(CodeHostError::RateLimited { retry_after }) => {
                    self.limits.remember(GITHUB, retry_after).await;
                    Err(CodeHostError::RateLimited { retry_after })
                }
                Err(e) => Err(e),
            }
        };
        self.organisations
            .get(user.key().to_owned(), self.fresh, load)
            .await?
            .ok_or(CodeHostError::NotFound)
    }
}

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

    /// One lookup of every handle given, each answer kept under its own handle.
    async fn look_up(
        &self,
        handles: &[&Handle],
    ) -> Result<Vec<Option<CachedUser>>, SocialGraphError> {
        if let Some(retry_after) = self.limits.blocked(self.lookup_scope).await {
            return Err(SocialGraphError::RateLimited { retry_after });
        }
        let found = match self.inner.users(handles).await {
            Ok(found) => found,
            Err(SocialGraphError::RateLimited { retry_after }) => {
                self.limits.remember(self.lookup_scope, retry_after).await;
                return Err(SocialGraphError::RateLimited { retry_after });
            }
            Err(e) => return Err(e),
        };
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

    /// A call about follows, unless its scope is rate-limited; a rate limit it meets is
    /// remembered.
    async fn guarded<T>(
        &self,
        call: impl Future<Output = Result<T, SocialGraphError>>,
    ) -> Result<T, SocialGraphError> {
        if let Some(retry_after) = self.limits.blocked(self.follows_scope).await {
            return Err(SocialGraphError::RateLimited { retry_after });
        }
        match call.await {
            Err(SocialGraphError::RateLimited { retry_after }) => {
                self.limits.remember(self.follows_scope, retry_after).await;
                Err(SocialGraphError::RateLimited { retry_after })
            }
            other => other,
        }
    }

    fn keep(
        brought: &Mutex<Vec<(String, Option<CachedUser>)>>,
        handle: &Handle,
        user: Option<CachedUser>,
    ) {
        if let Ok(mut brought) = brought.lock() {
            brought.push((handle.key().to_owned(), user));
        }
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
        if self.fresh || !self.users.enabled {
            let found = self.look_up(handles).await?;
            if self.users.enabled {
                self.users.metrics.cache(self.users.name, "bypass");
                for (handle, user) in handles.iter().zip(&found) {
                    self.users
                        .put(handle.key(), user.clone(), self.ttl(user.as_ref()))
                        .await;
                }
            }
            return Ok(found.into_iter().map(|u| u.map(SocialUser::from)).collect());
        }

        // What the process has already.
        let mut answers: HashMap<String, Option<CachedUser>> = HashMap::new();
        for handle in handles {
            if let Some(fact) = self.users.local.get(handle.key()).await {
                self.users.metrics.cache(self.users.name, "hit");
                answers.insert(handle.key().to_owned(), fact.value.clone());
            }
        }
        // Then what Redis has, for all of them at once.
        let mut missing: Vec<&Handle> = handles
            .iter()
            .filter(|h| !answers.contains_key(h.key()))
            .copied()
            .collect();
        if !missing.is_empty() && self.users.shared.is_some() {
            let keys: Vec<String> = missing.iter().map(|h| h.key().to_owned()).collect();
            for (handle, fact) in missing.iter().zip(self.users.read_shared(&keys).await) {
                if let Some(fact) = fact {
                    self.users.metrics.cache(self.users.name, "shared_hit");
                    answers.insert(handle.key().to_owned(), fact.value.clone());
                    self.users
                        .local
                        .insert(handle.key().to_owned(), Arc::new(fact))
                        .await;
                }
            }
            missing.retain(|h| !answers.contains_key(h.key()));
        }
        // In key order, so that callers asking for the same developers in another order
        // coalesce on the same first handle.
        missing.sort_by(|a, b| a.key().cmp(b.key()));
        missing.dedup_by(|a, b| a.key() == b.key());

        // The rest in one lookup, coalesced on the first missing handle: every concurrent
        // caller missing it waits for this one call. The others it brings are kept here and
        // in the cache.
        if let Some((first, others)) = missing.split_first() {
            let brought: Mutex<Vec<(String, Option<CachedUser>)>> = Mutex::default();
            let value = self
                .users
                .get(first.key().to_owned(), false, async {
                    let to_fetch: Vec<&Handle> = missing.clone();
                    let mut found = self.look_up(&to_fetch).await?.into_iter();
                    let first_user = found.next().flatten();
                    for (handle, user) in others.iter().zip(found) {
                        self.users
                            .put(handle.key(), user.clone(), self.ttl(user.as_ref()))
                            .await;
                        Self::keep(&brought, handle, user);
                    }
                    let ttl = self.ttl(first_user.as_ref());
                    Ok::<_, SocialGraphError>((first_user, ttl))
                })
                .await?;
            answers.insert(first.key().to_owned(), value);
            if let Ok(brought) = brought.into_inner() {
                answers.extend(brought);
            }
        }

        // Anyone still unknown (their lookup was another caller's, or already evicted): alone.
        let mut users = Vec::with_capacity(handles.len());
        for handle in handles {
            let user = match answers.remove(handle.key()) {
                Some(user) => user,
                None => {
                    let handle = *handle;
                    self.users
                        .get(handle.key().to_owned(), false, async move {
                            let user = self.look_up(&[handle]).await?.pop().flatten();
                            let ttl = self.ttl(user.as_ref());
                            Ok::<_, SocialGraphError>((user, ttl))
                        })
                        .await?
                }
            };
            users.push(user.map(SocialUser::from));
        }
        Ok(users)
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
                let known = self.guarded(self.inner.relationship(a, b)).await?;
                self.relationships
                    .put(&key, orient(known).into(), self.settings.ttl)
                    .await;
                return Ok(known);
            }
        }
        let load = async {
            let known = self.guarded(self.inner.relationship(a, b)).await?;
            Ok((CachedRelationship::from(orient(known)), self.settings.ttl))
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
        let result = match self.limits.blocked(self.follows_scope).await {
            Some(retry_after) => Err(Interrupted {
                known: asked_known.clone(),
                error: SocialGraphError::RateLimited { retry_after },
            }),
            None => self.inner.relationships(users, &asked, &asked_known).await,
        };
        let (answers, failure) = match result {
            Ok(answers) => (answers, None),
            Err(Interrupted { known, error }) => {
                if let SocialGraphError::RateLimited { retry_after } = &error {
                    self.limits.remember(self.follows_scope, *retry_after).await;
                }
                (known, Some(error))
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::demo::DemoGraph;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts the calls that reach the code host behind the cache.
    struct Counting {
        inner: DemoGraph,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl CodeHost for Counting {
        fn accepts(&self, _: &Handle) -> bool {
            true
        }

        fn concurrency(&self) -> usize {
            1
        }

        async fn organisations(&self, user: &Handle) -> Result<Vec<String>, CodeHostError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.inner.organisations(user).await
        }
    }

    fn h(s: &str) -> Handle {
        Handle::parse(s).unwrap()
    }

    #[tokio::test]
    async fn the_least_recently_used_fact_is_evicted_first() {
        let inner = Arc::new(Counting {
            inner: DemoGraph::bundled().unwrap(),
            calls: AtomicUsize::new(0),
        });
        let settings = CacheSettings {
            ttl: Duration::from_secs(60),
            ttl_not_found: Duration::from_secs(60),
            max_entries: 2,
        };
        let cache = CachedCodeHost::new(
            inner.clone(),
            settings,
            None,
            RateLimitMemory::new(None),
            Arc::default(),
        );
        // moka applies reads and writes to its order in the background: settle each step.
        // carol, last, pushes out bob, the least recently used, not alice.
        for user in ["alice", "bob", "alice", "carol"] {
            cache.organisations(&h(user)).await.unwrap();
            cache.organisations.local.run_pending_tasks().await;
        }
        assert_eq!(inner.calls.load(Ordering::SeqCst), 3);
        cache.organisations(&h("alice")).await.unwrap();
        assert_eq!(inner.calls.load(Ordering::SeqCst), 3, "alice stayed");
        cache.organisations(&h("bob")).await.unwrap();
        assert_eq!(inner.calls.load(Ordering::SeqCst), 4, "bob was evicted");
    }
}
