//! What the spend budgets spent, kept in the register's database: a budget holds across
//! restarts of every instance and outages of the store that shares its counters.

use crate::domain::Unavailable;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Units a budget's counter spent in one of its windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSpend {
    /// The counter's name (`service:x_users_per_day`, `key:ID:github_calls_per_hour`).
    pub counter: String,
    /// When the window began, in milliseconds since the epoch: what names it.
    pub window_start_ms: i64,
    pub units: u64,
}

/// Why the ledger could not be read or written: in the store's words, with its error kept
/// for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the spend ledger is unavailable: {0}")]
pub struct LedgerUnavailable(#[source] Unavailable);

impl LedgerUnavailable {
    /// Unavailable because of `cause`, said in its words.
    pub fn because(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Unavailable::because(cause.to_string(), cause))
    }
}

/// The spending of every instance, added up in the register's database.
#[async_trait]
pub trait SpendLedger: Send + Sync + 'static {
    /// Adds `spent` (units spent and settled since the last call, by counter and window) to
    /// what is kept, forgets the windows that began before `since`, and returns every figure
    /// kept for the windows since, every instance's spending included.
    ///
    /// # Errors
    /// [`LedgerUnavailable`] when it could not be written or read; then nothing was added.
    async fn add_spent(
        &self,
        spent: &[WindowSpend],
        since: DateTime<Utc>,
    ) -> Result<Vec<WindowSpend>, LedgerUnavailable>;
}
