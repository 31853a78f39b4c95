//! A fact as it is kept: its value and when it stops being fresh.

use crate::domain::Clock;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// A fact and when it stops being fresh, as an absolute time so that instances sharing it
/// agree.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Expiring<V> {
    pub(super) value: V,
    expires_at_ms: i64,
}

impl<V> Expiring<V> {
    /// `value`, fresh for `ttl` from `now_ms` (milliseconds since the Unix epoch).
    pub(super) fn new(value: V, ttl: Duration, now_ms: i64) -> Self {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        Self {
            value,
            expires_at_ms: now_ms.saturating_add(ttl_ms),
        }
    }

    /// How long it stays fresh from `now_ms`.
    pub(super) fn remaining(&self, now_ms: i64) -> Duration {
        Duration::from_millis(u64::try_from(self.expires_at_ms.saturating_sub(now_ms)).unwrap_or(0))
    }
}

/// moka's expiry of a fact: when the fact says, wherever it was made, as the clock reads it
/// (moka then counts the time left down on its own monotonic clock).
pub(super) struct UntilExpiry(pub(super) Arc<dyn Clock>);

impl<V> moka::Expiry<String, Arc<Expiring<V>>> for UntilExpiry {
    fn expire_after_create(
        &self,
        _: &String,
        fact: &Arc<Expiring<V>>,
        _: std::time::Instant,
    ) -> Option<Duration> {
        Some(fact.remaining(self.0.now_ms()))
    }

    fn expire_after_update(
        &self,
        _: &String,
        fact: &Arc<Expiring<V>>,
        _: std::time::Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(fact.remaining(self.0.now_ms()))
    }
}
