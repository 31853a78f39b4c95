//! The code host, cached.

use super::CacheSettings;
use super::fact_cache::FactCache;
use super::limits::RateLimitMemory;
use crate::domain::access::{Caller, Payer};
use crate::domain::members::MemberCredentials;
use crate::domain::{AsMemberError, Clock, CodeHost, CodeHostError, Handle, Network, Organisation};
use crate::metrics::Metrics;
use crate::outbound::redis::store::RedisStore;
use crate::outbound::upstreams::github::GITHUB_LIMIT;
use async_trait::async_trait;
use std::sync::Arc;

/// The code host behind a cache of who belongs to which organisations.
#[derive(Clone)]
pub struct CachedCodeHost {
    inner: Arc<dyn CodeHost>,
    organisations: FactCache<Option<Vec<String>>>,
    limits: RateLimitMemory,
    settings: CacheSettings,
}

impl CachedCodeHost {
    pub fn new(
        inner: Arc<dyn CodeHost>,
        settings: CacheSettings,
        shared: Option<RedisStore>,
        limits: RateLimitMemory,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            inner,
            organisations: FactCache::new("github_orgs", settings, shared, metrics, clock),
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

    fn network(&self) -> Network {
        self.inner.network()
    }

    async fn organisations(
        &self,
        user: &Handle,
        caller: &Caller,
    ) -> Result<Vec<Organisation>, CodeHostError> {
        let kept = match self.kept(&self.organisations, user, caller).await? {
            Kept::Found(organisations) => organisations,
            Kept::Missing => return Err(CodeHostError::NotFound),
            Kept::Loaded(organisations) => return Ok(organisations),
        };
        match Organisation::list(&kept) {
            Ok(organisations) => Ok(organisations),
            // Kept before names were checked (by an older version, in Redis): not used, but
            // asked again, and replaced with what the code host says now.
            Err(_) => match self
                .kept(&self.organisations.read_past(), user, caller)
                .await?
            {
                Kept::Missing => Err(CodeHostError::NotFound),
                Kept::Loaded(organisations) => Ok(organisations),
                Kept::Found(names) => Organisation::list(&names)
                    .map_err(|e| CodeHostError::unavailable(unreadable(&e))),
            },
        }
    }

    fn answers_for_members(&self) -> bool {
        self.inner.answers_for_members()
    }

    /// Asked every time, within the member's own rate limit (never the app's).
    async fn member_organisations(
        &self,
        member: &MemberCredentials,
        caller: &Caller,
    ) -> Result<Vec<Organisation>, AsMemberError> {
        self.limits
            .guard(
                &member_scope(member),
                self.inner.member_organisations(member, caller),
            )
            .await
    }

    async fn belongs(
        &self,
        member: &MemberCredentials,
        organisation: &Organisation,
        user: &Handle,
        caller: &Caller,
    ) -> Result<Option<bool>, AsMemberError> {
        self.limits
            .guard(
                &member_scope(member),
                self.inner.belongs(member, organisation, user, caller),
            )
            .await
    }
}

/// The rate limit a member's calls count against: theirs alone.
fn member_scope(member: &MemberCredentials) -> String {
    format!("{GITHUB_LIMIT}:member:{}", member.account.id)
}

/// What the cache gave for a user.
enum Kept {
    /// Names as kept: not yet read as organisations.
    Found(Vec<String>),
    Missing,
    /// Asked of the code host on behalf of this caller alone: already organisations.
    Loaded(Vec<Organisation>),
}

fn unreadable(error: &crate::domain::OrganisationError) -> String {
    format!("its answer could not be read: {error}")
}

impl CachedCodeHost {
    /// The user's organisations as `tier` keeps them, loaded from the code host when it
    /// keeps none.
    async fn kept(
        &self,
        tier: &FactCache<Option<Vec<String>>>,
        user: &Handle,
        caller: &Caller,
    ) -> Result<Kept, CodeHostError> {
        let load = async {
            let organisations = match self
                .limits
                .guard(GITHUB_LIMIT, self.inner.organisations(user, caller))
                .await
            {
                Ok(organisations) => Some(names(&organisations)),
                Err(CodeHostError::NotFound) => None,
                Err(e) => return Err(e),
            };
            let ttl = self.settings.ttl_of(&organisations);
            Ok((organisations, ttl))
        };
        match tier.get(user.key().to_owned(), load).await {
            // A load shared with another caller failed on that caller's own budget: asked
            // again, paid by this one.
            Err(CodeHostError::OverBudget(overspend)) if overspend.payer == Payer::Key => self
                .limits
                .guard(GITHUB_LIMIT, self.inner.organisations(user, caller))
                .await
                .map(Kept::Loaded),
            found => Ok(found?.map_or(Kept::Missing, Kept::Found)),
        }
    }
}

/// Organisations as the cache keeps them: their names.
fn names(organisations: &[Organisation]) -> Vec<String> {
    organisations
        .iter()
        .map(|o| o.as_str().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::upstreams::demo::DemoGraph;
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

        fn network(&self) -> Network {
            Network::GitHub
        }

        async fn organisations(
            &self,
            user: &Handle,
            caller: &Caller,
        ) -> Result<Vec<Organisation>, CodeHostError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.inner.organisations(user, caller).await
        }
    }

    /// The bundled graph behind a cache of `max_entries`, and the count of its calls.
    fn counted_cache(max_entries: u64) -> (Arc<Counting>, CachedCodeHost) {
        let inner = Arc::new(Counting {
            inner: DemoGraph::bundled().unwrap(),
            calls: AtomicUsize::new(0),
        });
        let settings = CacheSettings {
            ttl: Duration::from_secs(60),
            ttl_not_found: Duration::from_secs(60),
            max_entries,
        };
        let clock = crate::domain::TestClock::at("2026-12-01T12:00:00Z");
        let cache = CachedCodeHost::new(
            inner.clone(),
            settings,
            None,
            RateLimitMemory::new(None, clock.clone()),
            Arc::default(),
            clock,
        );
        (inner, cache)
    }

    fn h(s: &str) -> Handle {
        Handle::parse(s).unwrap()
    }

    #[tokio::test]
    async fn a_kept_list_that_cannot_be_organisations_is_asked_again_and_replaced() {
        let (inner, cache) = counted_cache(10);
        // As an older version kept it, before names were checked.
        let poisoned = Some(vec!["acme".to_owned(), "evil\u{1}".to_owned()]);
        for (user, kept) in [("alice", poisoned), ("bob", Some(vec!["x".repeat(40)]))] {
            cache
                .organisations
                .put(user, kept, Duration::from_secs(60))
                .await;
        }
        let alice = cache
            .organisations(&h("alice"), &Caller::anonymous())
            .await
            .unwrap();
        assert_eq!(
            alice,
            DemoGraph::bundled()
                .unwrap()
                .organisations(&h("alice"), &Caller::anonymous())
                .await
                .unwrap()
        );
        assert_eq!(inner.calls.load(Ordering::SeqCst), 1, "asked again");
        cache
            .organisations(&h("alice"), &Caller::anonymous())
            .await
            .unwrap();
        assert_eq!(inner.calls.load(Ordering::SeqCst), 1, "and replaced");
        assert!(
            cache
                .organisations(&h("bob"), &Caller::anonymous())
                .await
                .is_ok()
        );
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn the_least_recently_used_fact_is_evicted_first() {
        let (inner, cache) = counted_cache(2);
        // moka applies reads and writes to its order in the background: settle each step.
        // carol, last, pushes out bob, the least recently used, not alice.
        for user in ["alice", "bob", "alice", "carol"] {
            cache
                .organisations(&h(user), &Caller::anonymous())
                .await
                .unwrap();
            cache.organisations.settle().await;
        }
        assert_eq!(inner.calls.load(Ordering::SeqCst), 3);
        cache
            .organisations(&h("alice"), &Caller::anonymous())
            .await
            .unwrap();
        assert_eq!(inner.calls.load(Ordering::SeqCst), 3, "alice stayed");
        cache
            .organisations(&h("bob"), &Caller::anonymous())
            .await
            .unwrap();
        assert_eq!(inner.calls.load(Ordering::SeqCst), 4, "bob was evicted");
    }
}
