//! A fact as it is kept: its value and when it stops being fresh.

use serde::{Deserialize, Serialize};
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
pub(super) struct Fact<V> {
    pub(super) value: V,
    expires_at_ms: i64,
}

impl<V> Fact<V> {
    pub(super) fn new(value: V, ttl: Duration) -> Self {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        Self {
            value,
            expires_at_ms: now_ms().saturating_add(ttl_ms),
        }
    }

    pub(super) fn remaining(&self) -> Duration {
        Duration::from_millis(
            u64::try_from(self.expires_at_ms.saturating_sub(now_ms())).unwrap_or(0),
        )
    }
}

/// moka's expiry of a fact: when the fact says, wherever it was made.
pub(super) struct UntilExpiry;

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
