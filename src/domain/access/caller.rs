//! Who is asking, for the length of one request: their key, their limits, and what the
//! request has spent upstream so far. The edge makes one per request and passes it, as a
//! value, to the use case and on to every port that spends; each clone is the same tab.

use super::{KeyId, KeyLimits, Meter, Usage};
use crate::domain::Network;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Who asks, during one request: a key's holder, or anyone when keys are not required (and
/// on the command line, where the operator asks).
#[derive(Debug, Clone)]
pub struct Caller(Arc<Tab>);

/// One request's tab: whose it is, and what it spent.
#[derive(Debug)]
struct Tab {
    id: Option<KeyId>,
    limits: KeyLimits,
    /// What it was billed, by meter (its `requests` unused: one request is one tab).
    billed: Mutex<Usage>,
    upstream_calls: AtomicU64,
    /// Calls made, by network.
    calls: Mutex<BTreeMap<Network, u64>>,
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
            billed: Mutex::new(Usage::default()),
            upstream_calls: AtomicU64::new(0),
            calls: Mutex::new(BTreeMap::new()),
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

    /// Counts a call made upstream for this request, to `network`.
    pub fn called_upstream(&self, network: Network) {
        self.0.upstream_calls.fetch_add(1, Ordering::Relaxed);
        *self
            .0
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(network)
            .or_default() += 1;
    }

    /// Calls made upstream for this request so far, by network (those called only).
    pub fn calls_by_network(&self) -> BTreeMap<Network, u64> {
        self.0
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Calls made upstream for this request so far.
    pub fn upstream_calls(&self) -> u64 {
        self.0.upstream_calls.load(Ordering::Relaxed)
    }

    /// Counts `used` units of `meter` billed for this request.
    pub fn bill(&self, meter: Meter, used: u64) {
        self.0
            .billed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .spend(meter, used);
    }

    /// What this request spent: itself, and its upstream cost so far.
    pub fn usage(&self) -> Usage {
        let billed = self.0.billed.lock().unwrap_or_else(PoisonError::into_inner);
        let mut usage = Usage::of(1);
        usage.add(&billed);
        usage
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
        passed.bill(Meter::X_USERS, 3);
        passed.bill(Meter::GITHUB_CALLS, 1);
        passed.called_upstream(Network::X);
        passed.called_upstream(Network::X);
        passed.called_upstream(Network::GitHub);
        assert_eq!(caller.id(), Some(&id));
        assert_eq!(caller.upstream_calls(), 3);
        assert_eq!(
            caller.calls_by_network(),
            BTreeMap::from([(Network::GitHub, 1), (Network::X, 2)])
        );
        assert_eq!(
            caller.usage(),
            Usage::of(1)
                .with(Meter::X_USERS, 3)
                .with(Meter::GITHUB_CALLS, 1)
        );
        assert_eq!(
            Caller::anonymous().usage().spent(Meter::X_USERS),
            0,
            "a tab of its own"
        );
    }
}
