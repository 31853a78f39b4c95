//! Redis as the store that several instances share: the second tier of the upstream cache and
//! the rate-limit memory. Redis being slow or down never fails a request: every operation has
//! a short deadline, a failure is logged once (and its recovery once), and the caller goes on
//! with what it has in process.

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, OnceCell};

/// How long one Redis operation may take before the cache goes on without it.
const DEADLINE: Duration = Duration::from_millis(250);
/// How often to try connecting again while Redis is unreachable.
const RECONNECT_EVERY: Duration = Duration::from_secs(5);

/// Why `REDIS_URL` cannot be used; the URL is said without its password.
#[derive(Debug, thiserror::Error)]
#[error("REDIS_URL {shown} is not usable")]
pub struct RedisUrlError {
    shown: String,
    #[source]
    cause: redis::RedisError,
}

/// Keys and values in Redis, every key under one prefix.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    shown: String,
    prefix: String,
    connection: OnceCell<ConnectionManager>,
    last_failure: Mutex<Option<Instant>>,
    /// After Redis failed to answer, requests skip it until then: a stalled Redis costs
    /// one deadline every few seconds, not one per operation.
    skip_until: std::sync::Mutex<Option<Instant>>,
    degraded: AtomicBool,
    /// Whether a refused command was logged already.
    refused: AtomicBool,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.inner.shown)
            .field("prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Prepares the store; the connection is made on first use and retried while Redis is
    /// down.
    ///
    /// # Errors
    /// [`RedisUrlError`] when the URL is not a Redis URL.
    pub fn new(url: &str, prefix: &str) -> Result<Self, RedisUrlError> {
        let shown = crate::secret::redact_url(url);
        let client = match redis::Client::open(url) {
            Ok(client) => client,
            Err(cause) => return Err(RedisUrlError { shown, cause }),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                shown,
                prefix: prefix.to_owned(),
                connection: OnceCell::new(),
                last_failure: Mutex::new(None),
                skip_until: std::sync::Mutex::new(None),
                degraded: AtomicBool::new(false),
                refused: AtomicBool::new(false),
            }),
        })
    }

    /// The full key for a name.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.inner.prefix)
    }

    /// The connection, made once; callers arriving while it is being made wait for it.
    /// While Redis is unreachable, an attempt is made at most every few seconds and the
    /// callers in between go on without Redis at once.
    async fn connection(&self) -> Option<ConnectionManager> {
        if self.skipping() {
            return None;
        }
        if let Some(connection) = self.inner.connection.get() {
            return Some(connection.clone());
        }
        let recently_failed = || async {
            self.inner
                .last_failure
                .lock()
                .await
                .is_some_and(|at| at.elapsed() < RECONNECT_EVERY)
        };
        if recently_failed().await {
            return None;
        }
        let made = self
            .inner
            .connection
            .get_or_try_init(|| async {
                // Waiters queued behind a failed attempt do not each try again.
                if recently_failed().await {
                    return Err(None);
                }
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(DEADLINE * 4))
                    .set_response_timeout(Some(DEADLINE))
                    .set_number_of_retries(1);
                let connecting =
                    ConnectionManager::new_with_config(self.inner.client.clone(), config);
                match tokio::time::timeout(DEADLINE * 4, connecting).await {
                    Ok(Ok(connection)) => Ok(connection),
                    Ok(Err(e)) => Err(Some(e.to_string())),
                    Err(_) => Err(Some("no answer to the connection".to_owned())),
                }
            })
            .await;
        match made {
            Ok(connection) => {
                self.recovered();
                Some(connection.clone())
            }
            Err(why) => {
                if let Some(why) = why {
                    *self.inner.last_failure.lock().await = Some(Instant::now());
                    self.failed(&why);
                }
                None
            }
        }
    }

    fn skipping(&self) -> bool {
        self.inner
            .skip_until
            .lock()
            .ok()
            .and_then(|until| *until)
            .is_some_and(|until| Instant::now() < until)
    }

    fn failed(&self, why: &str) {
        if let Ok(mut until) = self.inner.skip_until.lock() {
            *until = Some(Instant::now() + RECONNECT_EVERY);
        }
        if !self.inner.degraded.swap(true, Ordering::Relaxed) {
            tracing::warn!(redis = %self.inner.shown, error = why, "Redis is unavailable: caching in this instance only until it is back");
        }
    }

    fn recovered(&self) {
        if self.inner.degraded.swap(false, Ordering::Relaxed) {
            tracing::info!(redis = %self.inner.shown, "Redis is back: the cache is shared again");
        }
    }

    async fn run<T>(&self, op: impl Future<Output = redis::RedisResult<T>>) -> Option<T> {
        match tokio::time::timeout(DEADLINE, op).await {
            Ok(Ok(value)) => {
                self.recovered();
                Some(value)
            }
            // Only a Redis that cannot be reached is "down"; a refused command (a full
            // Redis, say) fails this operation alone.
            Ok(Err(e))
                if e.is_io_error()
                    || e.is_timeout()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal() =>
            {
                self.failed(&e.to_string());
                None
            }
            Ok(Err(e)) => {
                // Refused commands (a cluster's CROSSSLOT, a full Redis, a script error) turn
                // shared counts into this instance's own: said once, then at debug.
                if !self.inner.refused.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "Redis refused a command: what it should share is kept in this instance");
                } else {
                    tracing::debug!(error = %e, "a Redis command failed");
                }
                None
            }
            Err(_) => {
                self.failed("no answer in time");
                None
            }
        }
    }

    /// The values of several names, `None` where absent or when Redis cannot answer.
    pub async fn get_many(&self, names: &[String]) -> Vec<Option<Vec<u8>>> {
        let none = || vec![None; names.len()];
        if names.is_empty() {
            return Vec::new();
        }
        let Some(mut connection) = self.connection().await else {
            return none();
        };
        let keys: Vec<String> = names.iter().map(|n| self.key(n)).collect();
        let values: Option<Vec<Option<Vec<u8>>>> =
            self.run(async move { connection.mget(keys).await }).await;
        values
            .filter(|v| v.len() == names.len())
            .unwrap_or_else(none)
    }

    pub async fn get(&self, name: &str) -> Option<Vec<u8>> {
        self.get_many(&[name.to_owned()]).await.pop().flatten()
    }

    /// Keeps a value for `ttl` (nothing when the ttl is under a millisecond).
    pub async fn set(&self, name: &str, value: Vec<u8>, ttl: Duration) {
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        if millis == 0 {
            return;
        }
        let Some(mut connection) = self.connection().await else {
            return;
        };
        let key = self.key(name);
        let _: Option<()> = self
            .run(async move { connection.pset_ex(key, value, millis).await })
            .await;
    }

    /// Runs `script` on `names` (prefixed) with `args`, atomically; `None` when Redis cannot
    /// answer or refuses it.
    pub async fn eval<T: redis::FromRedisValue>(
        &self,
        script: &redis::Script,
        names: &[String],
        args: &[i64],
    ) -> Option<T> {
        let mut connection = self.connection().await?;
        let mut invocation = script.prepare_invoke();
        for name in names {
            invocation.key(self.key(name));
        }
        for arg in args {
            invocation.arg(*arg);
        }
        self.run(async move { invocation.invoke_async(&mut connection).await })
            .await
    }
}
