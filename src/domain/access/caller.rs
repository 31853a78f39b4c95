//! Who is asking, for the length of one request: their key, their limits, and what the
//! request has spent upstream so far. The edge sets it; the one upstream client reads it to
//! charge the key's budgets; nothing in between passes it along.

use super::{KeyId, KeyLimits, Usage};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Who asks, during one request: a key's holder, or anyone when keys are not required.
#[derive(Debug)]
pub struct Caller {
    /// The key's public id; `None` when the service is open.
    pub id: Option<KeyId>,
    pub limits: KeyLimits,
    x_users: AtomicU64,
    github_calls: AtomicU64,
    upstream_calls: AtomicU64,
}

impl Caller {
    /// The holder of the key `id`, with its limits.
    pub fn new(id: KeyId, limits: KeyLimits) -> Self {
        Self::of(Some(id), limits)
    }

    /// Anyone, on an open service: no budget of their own, their spending still counted.
    pub fn anonymous() -> Self {
        Self::of(None, KeyLimits::default())
    }

    fn of(id: Option<KeyId>, limits: KeyLimits) -> Self {
        Self {
            id,
            limits,
            x_users: AtomicU64::new(0),
            github_calls: AtomicU64::new(0),
            upstream_calls: AtomicU64::new(0),
        }
    }

    /// Counts a call made upstream for this request, on any network.
    pub fn called_upstream(&self) {
        self.upstream_calls.fetch_add(1, Ordering::Relaxed);
    }

    /// Calls made upstream for this request so far.
    pub fn upstream_calls(&self) -> u64 {
        self.upstream_calls.load(Ordering::Relaxed)
    }

    /// Counts X users billed for this request.
    pub fn billed_x_users(&self, users: u64) {
        self.x_users.fetch_add(users, Ordering::Relaxed);
    }

    /// Counts a call to GitHub made for this request.
    pub fn called_github(&self, calls: u64) {
        self.github_calls.fetch_add(calls, Ordering::Relaxed);
    }

    /// What this request spent: itself, and its upstream cost so far.
    pub fn usage(&self) -> Usage {
        Usage {
            requests: 1,
            x_users: self.x_users.load(Ordering::Relaxed),
            github_calls: self.github_calls.load(Ordering::Relaxed),
        }
    }

    /// Runs `work` as this caller: what it spends upstream is charged to them.
    pub async fn run<F: Future>(self: Arc<Self>, work: F) -> F::Output {
        CALLER.scope(self, work).await
    }

    /// The caller of the request being served, if it has one (not with authentication off,
    /// nor on the command line).
    pub fn current() -> Option<Arc<Self>> {
        CALLER.try_with(Arc::clone).ok()
    }
}

tokio::task_local! {
    static CALLER: Arc<Caller>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_caller_is_known_inside_its_request_only() {
        let id = KeyId::parse("abcdefghijkl").unwrap();
        let caller = Arc::new(Caller::new(id.clone(), KeyLimits::default()));
        assert!(Caller::anonymous().id.is_none());
        assert!(Caller::current().is_none());
        let seen = Arc::clone(&caller)
            .run(async {
                let current = Caller::current().unwrap();
                current.billed_x_users(3);
                current.called_github(1);
                current.called_upstream();
                current.id.clone()
            })
            .await;
        assert_eq!(seen, Some(id));
        assert_eq!(caller.upstream_calls(), 1);
        assert_eq!(
            caller.usage(),
            Usage {
                requests: 1,
                x_users: 3,
                github_calls: 1
            }
        );
        assert!(Caller::current().is_none());
    }
}
