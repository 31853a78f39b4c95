//! Who may ask, and how much: API keys, their scopes, their limits, and the store that keeps
//! them.

mod budgets;
mod caller;
mod counters;
mod keys;
mod ledger;
mod limits;
mod scopes;

pub use budgets::{Budget, Caps, Meter, Overspend, Payer, Unit};
pub use caller::Caller;
pub use counters::{Admission, CountedIn, Counters, Taken, Window};
pub(crate) use keys::random_text;
pub use keys::{
    ApiKey, IssuedKey, KEY_PREFIX, KeyHash, KeyId, KeyName, KeyNameError, PresentedKey, StoredKey,
    Usage,
};
pub use ledger::{LedgerUnavailable, SpendLedger, WindowSpend};
pub use limits::{KeyLimits, Period, Rate, RateError};
pub use scopes::{Scope, Scopes, ScopesError};

use crate::domain::Unavailable;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

/// Why the key store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeysError {
    #[error("a key named {0:?} exists already")]
    NameTaken(String),
    #[error("no key is named or has the id {0:?}")]
    NotFound(String),
    #[error("{0:?} is one key's name and another's id: revoke by the id")]
    Ambiguous(String),
    /// The store could not be reached or refused the operation.
    #[error("the key store is unavailable: {0}")]
    Unavailable(#[source] Unavailable),
}

impl KeysError {
    /// Unavailable for `reason`, with no error underneath.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self::Unavailable(Unavailable::new(reason))
    }

    /// Unavailable for `reason`, because of `cause` (kept for the log, never told).
    pub fn unavailable_because(
        reason: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Unavailable(Unavailable::because(reason, cause))
    }
}

/// What a key spent on a UTC day, and when it was last used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUse {
    pub id: KeyId,
    pub day: NaiveDate,
    pub usage: Usage,
    pub last_used: DateTime<Utc>,
}

/// A key with what it spent today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyReport {
    pub key: ApiKey,
    pub today: Usage,
}

/// The API keys, kept in the register's database so that every instance sharing it shares
/// them.
#[async_trait]
pub trait ApiKeys: Send + Sync + 'static {
    /// Keeps a new key.
    ///
    /// # Errors
    /// [`KeysError::NameTaken`] when another key has its name (revoked ones included);
    /// [`KeysError::Unavailable`] when it could not be written.
    async fn create(&self, key: &ApiKey, hash: &KeyHash) -> Result<(), KeysError>;

    /// The key with this public id, revoked or not.
    ///
    /// # Errors
    /// [`KeysError::Unavailable`] when the store cannot be read.
    async fn find(&self, id: &KeyId) -> Result<Option<StoredKey>, KeysError>;

    /// Every key, oldest first, with what it spent on `day`.
    ///
    /// # Errors
    /// [`KeysError::Unavailable`] when the store cannot be read.
    async fn list(&self, day: NaiveDate) -> Result<Vec<KeyReport>, KeysError>;

    /// Revokes the key with this name or id (once: a revoked key stays revoked at its first
    /// revocation's time), and returns it.
    ///
    /// # Errors
    /// [`KeysError::NotFound`], [`KeysError::Ambiguous`] when one key has it as its name and
    /// another as its id, or [`KeysError::Unavailable`].
    async fn revoke(&self, name_or_id: &str, at: DateTime<Utc>) -> Result<ApiKey, KeysError>;

    /// Adds what keys spent to their use of each day, and marks them used at the latest
    /// time given.
    ///
    /// # Errors
    /// [`KeysError::Unavailable`] when it could not be written; then none was.
    async fn record_use(&self, uses: &[KeyUse]) -> Result<(), KeysError>;

    /// Whether any key can be used (one not revoked).
    ///
    /// # Errors
    /// [`KeysError::Unavailable`] when the store cannot be read.
    async fn any_usable(&self) -> Result<bool, KeysError>;
}
