//! What the upstreams said of their rate limits, remembered until they reset.

use crate::domain::{AsMemberError, Clock, CodeHostError, PartialRelationships, SocialGraphError};
use crate::outbound::redis::store::RedisStore;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// "Rate limited until T", per upstream endpoint (and per member's token: a member's limit
/// is theirs alone), in process and in Redis when configured.
#[derive(Clone)]
pub struct RateLimitMemory {
    local: Arc<Mutex<HashMap<String, i64>>>,
    shared: Option<RedisStore>,
    /// What "until" is read against.
    clock: Arc<dyn Clock>,
}

impl RateLimitMemory {
    /// Kept in process, and in `shared` when given; the times are `clock`'s.
    pub fn new(shared: Option<RedisStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            local: Arc::default(),
            shared,
            clock,
        }
    }

    fn name(scope: &str) -> String {
        format!("ratelimit:{scope}")
    }

    /// How long `scope` is still rate-limited, if it is.
    async fn blocked(&self, scope: &str) -> Option<Duration> {
        let now = self.clock.now_ms();
        let local = self.local.lock().ok().and_then(|l| l.get(scope).copied());
        let until = match local {
            Some(until) if until > now => Some(until),
            _ => match &self.shared {
                Some(shared) => {
                    let bytes = shared.get(&Self::name(scope)).await?;
                    let until: i64 = std::str::from_utf8(&bytes).ok()?.parse().ok()?;
                    if let Ok(mut l) = self.local.lock() {
                        l.insert(scope.to_owned(), until);
                    }
                    Some(until)
                }
                None => None,
            },
        }?;
        (until > now).then(|| Duration::from_millis(u64::try_from(until - now).unwrap_or(0)))
    }

    /// `call`, unless `scope` is still rate-limited (then the error `blocked` makes, without
    /// calling); a rate limit the call meets is remembered for the scope.
    pub async fn guard_with<T, E: Limited>(
        &self,
        scope: &str,
        blocked: impl FnOnce(Duration) -> E,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        if let Some(wait) = self.blocked(scope).await {
            return Err(blocked(wait));
        }
        let result = call.await;
        if let Err(error) = &result
            && let Some(wait) = error.retry_after()
        {
            self.remember(scope, wait).await;
        }
        result
    }

    /// [`RateLimitMemory::guard_with`], failing with the error's own "rate limited".
    pub async fn guard<T, E: Limited>(
        &self,
        scope: &str,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        self.guard_with(scope, E::rate_limited, call).await
    }

    /// Remembers that `scope` answered "rate limited" for `wait`.
    async fn remember(&self, scope: &str, wait: Duration) {
        let wait = wait.min(Duration::from_secs(3600));
        if wait.is_zero() {
            return;
        }
        let until = self
            .clock
            .now_ms()
            .saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
        if let Ok(mut local) = self.local.lock() {
            local.insert(scope.to_owned(), until);
        }
        if let Some(shared) = &self.shared {
            shared
                .set(&Self::name(scope), until.to_string().into_bytes(), wait)
                .await;
        }
    }
}

/// A failure that may be a rate limit.
pub trait Limited {
    /// How long to wait, when it is a rate limit.
    fn retry_after(&self) -> Option<Duration>;
    /// The rate limit itself.
    fn rate_limited(retry_after: Duration) -> Self;
}

impl Limited for CodeHostError {
    fn retry_after(&self) -> Option<Duration> {
        match self {
            CodeHostError::RateLimited { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    fn rate_limited(retry_after: Duration) -> Self {
        CodeHostError::RateLimited { retry_after }
    }
}

impl Limited for SocialGraphError {
    fn retry_after(&self) -> Option<Duration> {
        match self {
            SocialGraphError::RateLimited { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    fn rate_limited(retry_after: Duration) -> Self {
        SocialGraphError::RateLimited { retry_after }
    }
}

impl Limited for AsMemberError {
    fn retry_after(&self) -> Option<Duration> {
        match self {
            AsMemberError::Graph(error) => error.retry_after(),
            AsMemberError::TokenRefused => None,
        }
    }

    fn rate_limited(retry_after: Duration) -> Self {
        AsMemberError::Graph(SocialGraphError::RateLimited { retry_after })
    }
}

impl Limited for PartialRelationships {
    fn retry_after(&self) -> Option<Duration> {
        self.error.retry_after()
    }

    /// Nothing learned: blocked before asking.
    fn rate_limited(retry_after: Duration) -> Self {
        PartialRelationships {
            known: Vec::new(),
            error: SocialGraphError::RateLimited { retry_after },
        }
    }
}
