//! Who is asking, for the length of one request: their key, their limits, and what the
//! request has spent upstream so far. The edge makes one per request and passes it, as a
//! value, to the use case and on to every port that spends; each clone is the same tab.

use super::{KeyId, KeyLimits, Usage};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Who asks, during one request: a key's holder, or anyone when keys are not required (and
/// on the command line, where the operator asks).
#[derive(Debug, Clone)]
pub struct Caller(Arc<Tab>);

/// One request's tab: whose it is, and what it spent.
#[derive(Debug)]
struct Tab {
    id: Option<KeyId>,
    limits: KeyLimits,
    x_users: AtomicU64,
    github_calls: AtomicU64,
    upstream_calls: AtomicU64,
}

impl Caller {
    /// The holder of the key `id`, with its limits.
    pub fn new(id: KeyId, limits: KeyLimits) -> Self {
        Self::of(Some(id), limits)
    }

    /// Anyone, on an open service or the command line: no budget of their own, their
    /// spending still counted.
    pub fn anonymous() -> Self {
        Self::of(None, KeyLimits::default())
    }

    fn of(id: Option<KeyId>, limits: KeyLimits) -> Self {
        Self(Arc::new(Tab {
            id,
            limits,
            x_users: AtomicU64::new(0),
            github_calls: AtomicU64::new(0),
            upstream_calls: AtomicU64::new(0),
        }))
    }

    /// The key's public id; `None` for anyone.
    pub fn id(&self) -> Option<&KeyId> {
        self.0.id.as_ref()
    }

    /// The key's own limits (none for anyone).
    pub fn limits(&self) -> &KeyLimits {
        &self.0.limits
    }

    /// Counts a call made upstream for this request, on any network.
    pub fn called_upstream(&self) {
        self.0.upstream_calls.fetch_add(1, Ordering::Relaxed);
    }

    /// Calls made upstream for this request so far.
    pub fn upstream_calls(&self) -> u64 {
        self.0.upstream_calls.load(Ordering::Relaxed)
    }

    /// Counts X users billed for this request.
    pub fn billed_x_users(&self, users: u64) {
        self.0.x_users.fetch_add(users, Ordering::Relaxed);
    }

    /// Counts a call to GitHub made for this request.
    pub fn called_github(&self, calls: u64) {
        self.0.github_calls.fetch_add(calls, Ordering::Relaxed);
    }

    /// What this request spent: itself, and its upstream cost so far.
    pub fn usage(&self) -> Usage {
        Usage {
            requests: 1,
            x_users: self.0.x_users.load(Ordering::Relaxed),
            github_calls: self.0.github_calls.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_clone_of_a_caller_runs_up_one_tab() {
        let id = KeyId::parse("abcdefghijkl").unwrap();
        let caller = Caller::new(id.clone(), KeyLimits::default());
        assert!(Caller::anonymous().id().is_none());
        let passed = caller.clone();
        passed.billed_x_users(3);
        passed.called_github(1);
        passed.called_upstream();
        assert_eq!(caller.id(), Some(&id));
        assert_eq!(caller.upstream_calls(), 1);
        assert_eq!(
            caller.usage(),
            Usage {
                requests: 1,
                x_users: 3,
                github_calls: 1
            }
        );
        assert_eq!(Caller::anonymous().usage().x_users, 0, "a tab of its own");
    }
}
