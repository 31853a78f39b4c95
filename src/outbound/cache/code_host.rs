//! The code host, cached.

use super::CacheSettings;
use super::limits::RateLimitMemory;
use super::tier::Tier;
use crate::domain::access::Payer;
use crate::domain::{CodeHost, CodeHostError, Handle};
use crate::metrics::Metrics;
use crate::outbound::github::GITHUB_LIMIT;
use crate::outbound::shared::SharedStore;
use async_trait::async_trait;
use std::sync::Arc;

/// The code host behind a cache of who belongs to which organisations.
#[derive(Clone)]
pub struct CachedCodeHost {
    inner: Arc<dyn CodeHost>,
    organisations: Tier<Option<Vec<String>>>,
    limits: RateLimitMemory,
    settings: CacheSettings,
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
            organisations: Tier::new("github_orgs", settings, shared, metrics),
            limits,
            settings,
        }
    }

    /// The same cache, read past: every call goes upstream and refreshes what is kept.
    pub fn fresh(&self) -> Self {
        Self {
            organisations: self.organisations.read_past(),
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
            let organisations = match self
                .limits
                .guard(GITHUB_LIMIT, self.inner.organisations(user))
                .await
            {
                Ok(organisations) => Some(organisations),
                Err(CodeHostError::NotFound) => None,
                Err(e) => return Err(e),
            };
            let ttl = self.settings.ttl_of(&organisations);
            Ok((organisations, ttl))
        };
        match self.organisations.get(user.key().to_owned(), load).await {
            // A load shared with another caller failed on that caller's own budget: asked
            // again, paid by this one.
            Err(CodeHostError::OverBudget(overspend)) if overspend.payer == Payer::Key => {
                self.limits
                    .guard(GITHUB_LIMIT, self.inner.organisations(user))
                    .await
            }
            found => found?.ok_or(CodeHostError::NotFound),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::demo::DemoGraph;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

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
            cache.organisations.settle().await;
        }
        assert_eq!(inner.calls.load(Ordering::SeqCst), 3);
        cache.organisations(&h("alice")).await.unwrap();
        assert_eq!(inner.calls.load(Ordering::SeqCst), 3, "alice stayed");
        cache.organisations(&h("bob")).await.unwrap();
        assert_eq!(inner.calls.load(Ordering::SeqCst), 4, "bob was evicted");
    }
}
