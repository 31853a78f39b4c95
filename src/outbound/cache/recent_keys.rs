//! The key store seen through a few seconds' memory: a busy key is read from the database once
//! every few seconds, not once a request, and a revocation reaches every instance within
//! that time.

use crate::domain::access::{
    ApiKey, ApiKeys, KeyHash, KeyId, KeyReport, KeyUse, KeysError, StoredKey,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;
use std::time::Duration;

/// The longest a revoked key is still taken.
pub const REVOCATION_DELAY: Duration = Duration::from_secs(5);
/// How long a key read is trusted: the delay less a second for the read itself.
const TRUSTED_FOR: Duration = Duration::from_secs(4);
/// Keys remembered at most (unknown ids included).
const REMEMBERED: u64 = 10_000;

/// [`ApiKeys`] with `find` remembered for [`REVOCATION_DELAY`].
#[derive(Clone)]
pub struct RecentKeys {
    store: Arc<dyn ApiKeys>,
    found: moka::future::Cache<KeyId, Option<StoredKey>>,
}

impl RecentKeys {
    pub fn new(store: Arc<dyn ApiKeys>) -> Self {
        Self {
            store,
            found: moka::future::Cache::builder()
                .max_capacity(REMEMBERED)
                .time_to_live(TRUSTED_FOR)
                .build(),
        }
    }
}

#[async_trait]
impl ApiKeys for RecentKeys {
    async fn create(&self, key: &ApiKey, hash: &KeyHash) -> Result<(), KeysError> {
        self.store.create(key, hash).await
    }

    /// Concurrent reads of one id share one query; a failure is not remembered.
    async fn find(&self, id: &KeyId) -> Result<Option<StoredKey>, KeysError> {
        let store = Arc::clone(&self.store);
        self.found
            .try_get_with(id.clone(), async move { store.find(id).await })
            .await
            .map_err(|e| (*e).clone())
    }

    async fn list(&self, day: NaiveDate) -> Result<Vec<KeyReport>, KeysError> {
        self.store.list(day).await
    }

    async fn revoke(&self, name_or_id: &str, at: DateTime<Utc>) -> Result<ApiKey, KeysError> {
        let key = self.store.revoke(name_or_id, at).await?;
        self.found.invalidate(&key.id).await;
        Ok(key)
    }

    async fn record_use(&self, uses: &[KeyUse]) -> Result<(), KeysError> {
        self.store.record_use(uses).await
    }

    async fn any_usable(&self) -> Result<bool, KeysError> {
        self.store.any_usable().await
    }
}
