//! One kind of fact, kept in process and, when configured, in Redis.

use super::CacheSettings;
use crate::metrics::Metrics;
use crate::outbound::shared::SharedStore;
use futures::FutureExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(super) fn now_ms() -> i64 {
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
pub(super) struct Tier<V> {
    pub(super) name: &'static str,
    /// False when the cache is off (a zero time to live): every call goes upstream.
    pub(super) enabled: bool,
    local: moka::future::Cache<String, Arc<Fact<V>>>,
    shared: Option<SharedStore>,
    pub(super) metrics: Arc<Metrics>,
}

impl<V> Tier<V>
where
    V: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    pub(super) fn new(
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
    pub(super) async fn peek(&self, keys: &[String]) -> Vec<Option<V>> {
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
    pub(super) async fn put(&self, key: &str, value: V, ttl: Duration) {
        let fact = Arc::new(Fact::new(value, ttl));
        self.local.insert(key.to_owned(), Arc::clone(&fact)).await;
        self.share(key, &fact, ttl).await;
    }

    /// Applies what moka does in the background (its order of use), for tests that look.
    #[cfg(test)]
    pub(super) async fn settle(&self) {
        self.local.run_pending_tasks().await;
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
    pub(super) async fn get<E, F>(&self, key: String, fresh: bool, load: F) -> Result<V, E>
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

    /// The facts for `keys`, in order: each from process, else from Redis, else from one
    /// `load` of all the keys still missing (which answers one fact per key it is given, in
    /// order, with how long it stays fresh). A key that another caller is already loading
    /// is waited for, not loaded again; when every missing key is, `load` is not called at
    /// all. With `fresh`, the stores are not read, only refreshed with what `load` returns
    /// for all the keys.
    ///
    /// # Errors
    /// `load`'s error, or one made from [`ShortAnswer`] when it answered fewer facts than
    /// it was asked for.
    pub(super) async fn get_many<E, F, Fut>(
        &self,
        keys: &[String],
        fresh: bool,
        load: F,
    ) -> Result<Vec<V>, E>
    where
        E: Clone + Send + Sync + From<ShortAnswer> + 'static,
        F: FnOnce(Vec<String>) -> Fut + Send,
        Fut: Future<Output = Result<Vec<(V, Duration)>, E>> + Send,
    {
        let loaded = |asked: Vec<String>, facts: Vec<(V, Duration)>| {
            if facts.len() == asked.len() {
                Ok(facts)
            } else {
                Err(E::from(ShortAnswer {
                    asked: asked.len(),
                    answered: facts.len(),
                }))
            }
        };
        if !self.enabled || fresh {
            let facts = loaded(keys.to_vec(), load(keys.to_vec()).await?)?;
            if self.enabled {
                self.metrics.cache(self.name, "bypass");
                for (key, (value, ttl)) in keys.iter().zip(&facts) {
                    self.put(key, value.clone(), *ttl).await;
                }
            }
            return Ok(facts.into_iter().map(|(value, _)| value).collect());
        }
        let mut found = self.peek(keys).await;
        let mut seen = HashSet::new();
        let missing: Vec<String> = keys
            .iter()
            .zip(&found)
            .filter(|(key, fact)| fact.is_none() && seen.insert(key.as_str()))
            .map(|(key, _)| key.clone())
            .collect();
        if missing.is_empty() {
            return Ok(found.into_iter().flatten().collect());
        }
        let wanted = keys.len();
        // One load for every missing key, started by the first of their per-key loads that
        // runs: moka runs one load per key across callers, so a key another caller loads
        // already is taken from that load instead.
        let asked = missing.clone();
        let batch = async move {
            let facts = load(asked.clone()).await?;
            loaded(asked, facts).map(Arc::new)
        }
        .boxed()
        .shared();
        let loads = missing.iter().enumerate().map(|(i, key)| {
            let batch = batch.clone();
            self.local.try_get_with(key.clone(), async move {
                self.metrics.cache(self.name, "miss");
                let facts = batch.await?;
                let (value, ttl) = facts[i].clone();
                let fact = Fact::new(value, ttl);
                self.share(key, &fact, ttl).await;
                Ok(Arc::new(fact))
            })
        });
        let facts = futures::future::join_all(loads).await;
        let mut by_key = std::collections::HashMap::new();
        for (key, fact) in missing.iter().zip(facts) {
            let fact = fact.map_err(|e: Arc<E>| (*e).clone())?;
            by_key.insert(key.as_str(), fact.value.clone());
        }
        for (key, slot) in keys.iter().zip(found.iter_mut()) {
            if slot.is_none() {
                *slot = by_key.get(key.as_str()).cloned();
            }
        }
        let facts: Vec<V> = found.into_iter().flatten().collect();
        if facts.len() == wanted {
            Ok(facts)
        } else {
            Err(E::from(ShortAnswer {
                asked: wanted,
                answered: facts.len(),
            }))
        }
    }
}

/// A load that answered fewer facts than it was asked for: a failure, never a fact.
#[derive(Debug, Clone, Copy)]
pub(super) struct ShortAnswer {
    pub asked: usize,
    pub answered: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Debug, Clone)]
    struct Failed;

    impl From<ShortAnswer> for Failed {
        fn from(_: ShortAnswer) -> Self {
            Failed
        }
    }

    fn tier() -> Tier<String> {
        let settings = CacheSettings {
            ttl: Duration::from_secs(60),
            ttl_not_found: Duration::from_secs(60),
            max_entries: 100,
        };
        Tier::new("test", settings, None, Arc::default())
    }

    fn keys(v: &[&str]) -> Vec<String> {
        v.iter().map(|k| (*k).to_owned()).collect()
    }

    /// A load that counts its calls, takes a while and answers each key with its upper case.
    async fn slow_load(
        calls: &AtomicUsize,
        asked: Vec<String>,
    ) -> Result<Vec<(String, Duration)>, Failed> {
        calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(asked
            .iter()
            .map(|k| (k.to_uppercase(), Duration::from_secs(60)))
            .collect())
    }

    #[tokio::test]
    async fn a_key_another_caller_is_loading_is_waited_for_and_the_rest_load_once() {
        let tier = tier();
        let calls = AtomicUsize::new(0);
        let alone = keys(&["a"]);
        let first = tier.get_many(&alone, false, |asked| slow_load(&calls, asked));
        let team = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            tier.get_many(&keys(&["a", "b", "c", "d"]), false, |asked| {
                slow_load(&calls, asked)
            })
            .await
        };
        let (first, team) = tokio::join!(first, team);
        assert_eq!(first.unwrap(), keys(&["A"]));
        assert_eq!(team.unwrap(), keys(&["A", "B", "C", "D"]));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "one load each, not one per key"
        );
    }

    #[tokio::test]
    async fn keys_all_loading_elsewhere_make_no_load() {
        let tier = tier();
        let calls = AtomicUsize::new(0);
        let both = keys(&["a", "b"]);
        let first = tier.get_many(&both, false, |asked| slow_load(&calls, asked));
        let second = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            tier.get_many(&keys(&["b", "a", "b"]), false, |asked| {
                slow_load(&calls, asked)
            })
            .await
        };
        let (first, second) = tokio::join!(first, second);
        assert_eq!(first.unwrap(), keys(&["A", "B"]));
        assert_eq!(second.unwrap(), keys(&["B", "A", "B"]));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Then everything is kept.
        let again = tier
            .get_many(&keys(&["a", "b"]), false, |asked| slow_load(&calls, asked))
            .await;
        assert_eq!(again.unwrap(), keys(&["A", "B"]));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_short_answer_is_a_failure_and_nothing_is_kept() {
        let tier = tier();
        let short = tier
            .get_many(&keys(&["a", "b"]), false, |_| async {
                Ok::<_, Failed>(vec![("A".to_owned(), Duration::from_secs(60))])
            })
            .await;
        assert!(short.is_err());
        let calls = AtomicUsize::new(0);
        let again = tier
            .get_many(&keys(&["a", "b"]), false, |asked| slow_load(&calls, asked))
            .await;
        assert_eq!(again.unwrap(), keys(&["A", "B"]));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
