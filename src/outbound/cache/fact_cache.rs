//! One kind of fact, kept in process and, when configured, in Redis.

use super::CacheSettings;
use super::expiring::{Expiring, UntilExpiry};
use crate::domain::Clock;
use crate::metrics::Metrics;
use crate::outbound::redis::store::RedisStore;
use futures::FutureExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// One kind of fact: in process, and in Redis when configured. A clone shares what is kept.
#[derive(Clone)]
pub(super) struct FactCache<V> {
    name: &'static str,
    /// False when the cache is off (a zero time to live): every call goes upstream.
    pub(super) enabled: bool,
    /// Read past: what is kept is not read, only refreshed with what is loaded.
    fresh: bool,
    local: moka::future::Cache<String, Arc<Expiring<V>>>,
    shared: Option<RedisStore>,
    metrics: Arc<Metrics>,
    /// What a fact's freshness is read against.
    clock: Arc<dyn Clock>,
}

impl<V> FactCache<V>
where
    V: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    pub(super) fn new(
        name: &'static str,
        settings: CacheSettings,
        shared: Option<RedisStore>,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            name,
            enabled: !settings.ttl.is_zero(),
            fresh: false,
            local: moka::future::Cache::builder()
                .max_capacity(settings.max_entries)
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .expire_after(UntilExpiry(Arc::clone(&clock)))
                .build(),
            shared,
            metrics,
            clock,
        }
    }

    /// `value`, fresh for `ttl` from now.
    fn fact(&self, value: V, ttl: Duration) -> Expiring<V> {
        Expiring::new(value, ttl, self.clock.now_ms())
    }

    /// The same facts, read past: every load goes upstream and refreshes what is kept.
    pub(super) fn read_past(&self) -> Self {
        Self {
            fresh: true,
            ..self.clone()
        }
    }

    /// Whether what is kept is read: the cache is on and not read past.
    fn readable(&self) -> bool {
        self.enabled && !self.fresh
    }

    /// Counts a load made outside [`FactCache::get`] and [`FactCache::get_many`]: a bypass when read
    /// past, else a miss.
    pub(super) fn count_load(&self) {
        if self.enabled {
            let result = if self.fresh { "bypass" } else { "miss" };
            self.metrics.cache(self.name, result);
        }
    }

    fn shared_name(&self, key: &str) -> String {
        format!("{}:{key}", self.name)
    }

    async fn read_shared(&self, keys: &[String]) -> Vec<Option<Expiring<V>>> {
        let Some(shared) = &self.shared else {
            return keys.iter().map(|_| None).collect();
        };
        let names: Vec<String> = keys.iter().map(|k| self.shared_name(k)).collect();
        shared
            .get_many(&names)
            .await
            .into_iter()
            .map(|bytes| {
                let fact: Expiring<V> = serde_json::from_slice(&bytes?).ok()?;
                (fact.remaining(self.clock.now_ms()) > Duration::ZERO).then_some(fact)
            })
            .collect()
    }

    /// What is kept for each key, here or in Redis (counted as hits), without loading;
    /// nothing when what is kept is not read.
    pub(super) async fn peek(&self, keys: &[String]) -> Vec<Option<V>> {
        let mut found: Vec<Option<V>> = vec![None; keys.len()];
        if !self.readable() {
            return found;
        }
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
    pub(super) async fn put(&self, key: &str, value: V, ttl: Duration) {
        let fact = Arc::new(self.fact(value, ttl));
        self.local.insert(key.to_owned(), Arc::clone(&fact)).await;
        self.share(key, &fact, ttl).await;
    }

    /// Applies what moka does in the background (its order of use), for tests that look.
    #[cfg(test)]
    pub(super) async fn settle(&self) {
        self.local.run_pending_tasks().await;
    }

    async fn share(&self, key: &str, fact: &Expiring<V>, ttl: Duration) {
        if let (Some(shared), false) = (&self.shared, ttl.is_zero())
            && let Ok(bytes) = serde_json::to_vec(fact)
        {
            shared.set(&self.shared_name(key), bytes, ttl).await;
        }
    }

    /// A loaded fact for `key`, kept in Redis; moka keeps in process what its load returns.
    async fn loaded(&self, key: &str, value: V, ttl: Duration) -> Arc<Expiring<V>> {
        let fact = self.fact(value, ttl);
        self.share(key, &fact, ttl).await;
        Arc::new(fact)
    }

    /// Keeps what a load past the stores answered for `keys` (counted as a bypass), when the
    /// cache is on.
    async fn refresh(&self, keys: &[String], facts: &[(V, Duration)]) {
        if self.enabled {
            self.metrics.cache(self.name, "bypass");
            for (key, (value, ttl)) in keys.iter().zip(facts) {
                self.put(key, value.clone(), *ttl).await;
            }
        }
    }

    /// The fact for `key`: from process, else from Redis, else from `load` (which says how
    /// long its answer stays fresh). Concurrent callers for one key share one load. Read
    /// past, the stores are not read, only refreshed with what `load` returns.
    pub(super) async fn get<E, F>(&self, key: String, load: F) -> Result<V, E>
    where
        E: Clone + Send + Sync + 'static,
        F: Future<Output = Result<(V, Duration), E>> + Send,
    {
        if !self.readable() {
            let fact = load.await?;
            self.refresh(std::slice::from_ref(&key), std::slice::from_ref(&fact))
                .await;
            return Ok(fact.0);
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
                Ok(self.loaded(&key, value, ttl).await)
            })
            .await
            .map_err(|e: Arc<E>| (*e).clone())?;
        Ok(fact.value.clone())
    }

    /// The facts for `keys`, in order: each from process, else from Redis, else from one
    /// `load` of all the keys still missing (which answers one fact per key it is given, in
    /// order, with how long it stays fresh). A key that another caller is already loading
    /// is waited for, not loaded again; when every missing key is, `load` is not called at
    /// all. Read past, the stores are not read, only refreshed with what `load` returns for
    /// all the keys.
    ///
    /// # Errors
    /// `load`'s error, or one made from [`ShortAnswer`] when it answered fewer facts than
    /// it was asked for.
    pub(super) async fn get_many<E, F, Fut>(&self, keys: &[String], load: F) -> Result<Vec<V>, E>
    where
        E: Clone + Send + Sync + From<ShortAnswer> + 'static,
        F: FnOnce(Vec<String>) -> Fut + Send,
        Fut: Future<Output = Result<Vec<(V, Duration)>, E>> + Send,
    {
        if !self.readable() {
            let facts = ShortAnswer::whole(keys.len(), load(keys.to_vec()).await?)?;
            self.refresh(keys, &facts).await;
            return Ok(facts.into_iter().map(|(value, _)| value).collect());
        }
        let mut found = self.peek(keys).await;
        let missing = missing(keys, &found);
        if missing.is_empty() {
            return Ok(found.into_iter().flatten().collect());
        }
        let loaded = self.load_missing(&missing, load).await?;
        for (key, slot) in keys.iter().zip(found.iter_mut()) {
            if slot.is_none() {
                *slot = loaded.get(key).cloned();
            }
        }
        Ok(ShortAnswer::whole(
            keys.len(),
            found.into_iter().flatten().collect(),
        )?)
    }

    /// The values of the `missing` keys, by key: one load for them all, started by the first
    /// of their per-key loads that runs. moka runs one load per key across callers, so a key
    /// another caller loads already is taken from that load instead.
    async fn load_missing<E, F, Fut>(
        &self,
        missing: &[String],
        load: F,
    ) -> Result<HashMap<String, V>, E>
    where
        E: Clone + Send + Sync + From<ShortAnswer> + 'static,
        F: FnOnce(Vec<String>) -> Fut + Send,
        Fut: Future<Output = Result<Vec<(V, Duration)>, E>> + Send,
    {
        let asked = missing.to_vec();
        let batch = async move {
            let facts = load(asked.clone()).await?;
            Ok::<_, E>(Arc::new(ShortAnswer::whole(asked.len(), facts)?))
        }
        .boxed()
        .shared();
        let loads = missing.iter().enumerate().map(|(i, key)| {
            let batch = batch.clone();
            self.local.try_get_with(key.clone(), async move {
                self.metrics.cache(self.name, "miss");
                let (value, ttl) = batch.await?[i].clone();
                Ok(self.loaded(key, value, ttl).await)
            })
        });
        let facts = futures::future::join_all(loads).await;
        let mut by_key = HashMap::new();
        for (key, fact) in missing.iter().zip(facts) {
            let fact = fact.map_err(|e: Arc<E>| (*e).clone())?;
            by_key.insert(key.clone(), fact.value.clone());
        }
        Ok(by_key)
    }
}

/// The keys nothing was found for, each once, in order.
fn missing<T>(keys: &[String], found: &[Option<T>]) -> Vec<String> {
    let mut seen = HashSet::new();
    keys.iter()
        .zip(found)
        .filter(|(key, fact)| fact.is_none() && seen.insert(key.as_str()))
        .map(|(key, _)| key.clone())
        .collect()
}

/// A load that answered fewer facts than it was asked for: a failure, never a fact.
#[derive(Debug, Clone, Copy)]
pub(super) struct ShortAnswer {
    pub asked: usize,
    pub answered: usize,
}

impl ShortAnswer {
    /// `answers`, when there is one for each of the `asked`.
    fn whole<T>(asked: usize, answers: Vec<T>) -> Result<Vec<T>, ShortAnswer> {
        if answers.len() == asked {
            Ok(answers)
        } else {
            Err(ShortAnswer {
                asked,
                answered: answers.len(),
            })
        }
    }
}

#[cfg(test)]
mod tests;
