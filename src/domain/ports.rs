//! The ports: what the application needs from the outside world, and exactly which failures
//! each may report. Adapters translate their technology's errors into these at the boundary.

use super::{Handle, HistoryPage, Pair, RegisteredCheck, Verdict};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Failures of the code host (GitHub).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeHostError {
    /// No such user.
    #[error("no such user")]
    NotFound,
    /// The code host refuses more calls for this long.
    #[error("rate limited; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// Anything else: timeout, 5xx, unreadable body, rejected credentials. The text says
    /// what happened in words a user understands and never contains a secret.
    #[error("{0}")]
    Unavailable(String),
}

/// The code host: who belongs to which organisations.
#[async_trait]
pub trait CodeHost: Send + Sync + 'static {
    /// The organisations the user publicly belongs to, as the code host spells them.
    ///
    /// # Errors
    /// [`CodeHostError::NotFound`] when the user does not exist; `RateLimited` and
    /// `Unavailable` when the code host could not answer.
    async fn organisations(&self, user: &Handle) -> Result<Vec<String>, CodeHostError>;
}

/// Failures of the social graph (X).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SocialGraphError {
    #[error("rate limited; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    #[error("{0}")]
    Unavailable(String),
}

/// A user of the social graph, with the sizes of its follow lists as the graph reports them
/// (they only choose which list to read; a verdict never rests on a count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocialUser {
    pub id: String,
    pub username: String,
    /// How many follow this user; `None` when the graph did not say.
    pub followers: Option<u64>,
    /// How many this user follows; `None` when the graph did not say.
    pub following: Option<u64>,
}

/// The social graph: who follows whom.
#[async_trait]
pub trait SocialGraph: Send + Sync + 'static {
    /// Looks up several users at once; the answer has one entry per handle, in order, `None`
    /// for a user that does not exist (or is suspended).
    ///
    /// # Errors
    /// `RateLimited` and `Unavailable` when the graph could not answer; a missing user is not
    /// an error.
    async fn users(&self, handles: &[&Handle])
    -> Result<Vec<Option<SocialUser>>, SocialGraphError>;

    /// Whether `follower` follows `followee`, reading as little as possible.
    ///
    /// # Errors
    /// `RateLimited` and `Unavailable` when the graph could not answer.
    async fn follows(
        &self,
        follower: &SocialUser,
        followee: &SocialUser,
    ) -> Result<bool, SocialGraphError>;
}

/// Failures of the register.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// The storage could not be reached or refused the operation; nothing was written.
    #[error("the register is unavailable: {0}")]
    Unavailable(String),
}

/// The register of past checks.
#[async_trait]
pub trait Register: Send + Sync + 'static {
    /// Keeps one verdict for a pair, at the given time, durably, before returning.
    ///
    /// # Errors
    /// [`RegisterError::Unavailable`] when it could not be written; then nothing was.
    async fn record(
        &self,
        pair: &Pair,
        verdict: &Verdict,
        at: DateTime<Utc>,
    ) -> Result<RegisteredCheck, RegisterError>;

    /// The verdicts kept for the pair that `page` selects, oldest first.
    ///
    /// # Errors
    /// [`RegisterError::Unavailable`] when the storage could not be read.
    async fn history(
        &self,
        pair: &Pair,
        page: HistoryPage,
    ) -> Result<Vec<RegisteredCheck>, RegisterError>;

    /// Whether the storage answers.
    ///
    /// # Errors
    /// [`RegisterError::Unavailable`] when it does not.
    async fn ping(&self) -> Result<(), RegisterError>;
}
