//! The register in SQLite: the embedded default, one file, no set-up.

mod read_only;
mod readers;
mod recent;
mod writer;

use crate::config::PoolSettings;
use crate::domain::{
    Clock, Grounds, HistoryPage, HistoryStream, Network, Pair, PairVerdict, Register,
    RegisterError, RegisteredCheck, Verdict,
};
use crate::outbound::sql::error::{describe, describe_sqlite_open};
use crate::outbound::sql::history::{LongReads, history_stream};
use crate::outbound::sql::keys::SqlKeys;
use crate::outbound::sql::members::SqlMembers;
use crate::outbound::sql::register::HISTORY_CHUNK;
use crate::outbound::sql::retention::{PURGE_BATCH, Retention};
use crate::secret::TokenCipher;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use readers::{Readers, read_history};
use recent::RecentHistories;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use writer::{BUSY_TIMEOUT, Row, Writer};

/// The register kept in a SQLite database.
#[derive(Clone)]
pub struct SqliteRegister {
    pool: SqlitePool,
    writer: Writer,
    /// Where histories are read from; `None` for an in-memory database, read through the pool.
    readers: Option<Arc<Readers>>,
    /// Short histories read, until their pair is written again.
    recent: Option<Arc<RecentHistories>>,
    long_reads: LongReads,
    /// Entries older than this are neither served nor kept.
    retention: Retention,
}

impl std::fmt::Debug for SqliteRegister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteRegister").finish_non_exhaustive()
    }
}

impl SqliteRegister {
    /// Opens (creating if missing) the database at `url` (`sqlite://connected.db`,
    /// `sqlite::memory:`), switches it to WAL and runs the embedded migrations.
    ///
    /// # Errors
    /// [`RegisterError::Unavailable`] when the file cannot be opened or migrated.
    pub async fn connect(url: &str, settings: PoolSettings) -> Result<Self, RegisterError> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = connect_options(url, in_memory)?;
        let reader_options = options.clone();
        let cannot_open = |e: sqlx::Error| {
            let why = describe_sqlite_open(&e, reader_options.get_filename());
            RegisterError::unavailable_because(format!("cannot open {url}: {why}"), e)
        };
        let pool = pool_options(in_memory, settings)
            .connect_with(options)
            .await
            .map_err(cannot_open)?;
        sqlx::migrate!("migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| {
                RegisterError::unavailable_because(format!("cannot migrate {url}: {e}"), e)
            })?;
        let readers = if in_memory {
            None
        } else {
            Some(Arc::new(
                Readers::open(&reader_options).await.map_err(cannot_open)?,
            ))
        };
        // A database in memory has no write-ahead log to check against: nothing is kept.
        let recent = (!in_memory).then(|| {
            let mut index = reader_options.get_filename().as_os_str().to_owned();
            index.push("-shm");
            Arc::new(RecentHistories::new(std::path::PathBuf::from(index)))
        });
        let writer = Writer::start(pool.clone());
        Ok(Self {
            pool,
            writer,
            readers,
            recent,
            long_reads: LongReads::new(),
            retention: Retention::default(),
        })
    }

    /// Closes every connection, waiting for them, so that the file is left whole: its
    /// write-ahead log folded in and removed, as a copy or a reader that cannot write
    /// beside it needs.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(readers) = self.readers.and_then(Arc::into_inner) {
            readers.close().await;
        }
    }

    /// The API keys kept in the same database.
    pub fn keys(&self) -> SqlKeys<sqlx::Sqlite> {
        SqlKeys::new(self.pool.clone(), false)
    }

    /// The members kept in the same database, their tokens encrypted under `cipher`.
    pub fn members(&self, cipher: TokenCipher) -> SqlMembers<sqlx::Sqlite> {
        SqlMembers::new(self.pool.clone(), false, cipher)
    }

    /// The same register keeping entries for `retention` only (`None`: for ever) before
    /// `clock`'s now: older ones are no longer served, and are deleted in the background, a few hundred per
    /// statement.
    #[must_use]
    pub fn with_retention(mut self, retention: Option<Duration>, clock: Arc<dyn Clock>) -> Self {
        self.retention = Retention::start(retention, clock, self.pool.clone(), purge);
        self
    }
}

/// How every connection to the database at `url` is opened.
fn connect_options(url: &str, in_memory: bool) -> Result<SqliteConnectOptions, RegisterError> {
    Ok(SqliteConnectOptions::from_str(url)
        .map_err(|e| RegisterError::unavailable_because(format!("bad SQLite URL: {e}"), e))?
        .create_if_missing(true)
        .journal_mode(if in_memory {
            SqliteJournalMode::Memory
        } else {
            SqliteJournalMode::Wal
        })
        // WAL with NORMAL is durable against a crashed process (what matters to a
        // service); only a power loss can take the last transactions.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true))
}

/// The pool that writes, migrates and reads an in-memory database.
fn pool_options(in_memory: bool, settings: PoolSettings) -> SqlitePoolOptions {
    // An in-memory database lives in one connection: the pool must not open a second.
    let max = if in_memory {
        1
    } else {
        settings.max_connections.max(1)
    };
    SqlitePoolOptions::new()
        .max_connections(max)
        // A local file does not hang up: a ping before each use would only cost a round
        // trip to the connection's thread.
        .test_before_acquire(false)
        .min_connections(if in_memory { 1 } else { 0 })
        .idle_timeout((!in_memory).then_some(PoolSettings::IDLE_TIMEOUT))
        .max_lifetime((!in_memory).then_some(PoolSettings::MAX_LIFETIME))
        .acquire_timeout(settings.connect_timeout)
}

/// Deletes at most [`PURGE_BATCH`] entries recorded before `cutoff`, oldest first.
async fn purge(pool: SqlitePool, cutoff: DateTime<Utc>) -> Result<u64, RegisterError> {
    sqlx::query(
        "DELETE FROM checks WHERE id IN \
         (SELECT id FROM checks WHERE registered_at_ms < ? ORDER BY registered_at_ms LIMIT ?)",
    )
    .bind(cutoff.timestamp_millis())
    .bind(i64::try_from(PURGE_BATCH).unwrap_or(i64::MAX))
    .execute(&pool)
    .await
    .map(|done| done.rows_affected())
    .map_err(unavailable)
}

fn unavailable(e: sqlx::Error) -> RegisterError {
    RegisterError::unavailable_because(describe(&e), e)
}

#[async_trait]
impl Register for SqliteRegister {
    async fn record(
        &self,
        pair: &Pair,
        verdict: &Verdict,
        grounds: Grounds,
        at: DateTime<Utc>,
    ) -> Result<RegisteredCheck, RegisterError> {
        self.writer
            .write(vec![Row::new(pair, verdict, grounds, at)?])
            .await?;
        Ok(RegisteredCheck::new(verdict.clone(), grounds, at))
    }

    async fn record_all(
        &self,
        verdicts: &[PairVerdict],
        social_graph: Network,
        at: DateTime<Utc>,
    ) -> Result<(), RegisterError> {
        let rows = verdicts
            .iter()
            .map(|each| Row::new(&each.pair, &each.verdict, each.grounds(social_graph), at))
            .collect::<Result<Vec<_>, _>>()?;
        if rows.is_empty() {
            return Ok(());
        }
        self.writer.write(rows).await
    }

    fn stream_history(&self, pair: &Pair, page: HistoryPage) -> HistoryStream {
        let (a, b) = pair.key();
        let key: Arc<(String, String)> = Arc::new((a.to_owned(), b.to_owned()));
        let since = self.retention.since();
        let pool = self.pool.clone();
        let readers = self.readers.clone();
        // Only a whole history or a newest page, from the newest entry, is kept.
        let recent = self.recent.clone().filter(|_| page.before.is_none());
        history_stream(page, &self.long_reads, move |after| {
            let (pool, readers, key) = (pool.clone(), readers.clone(), Arc::clone(&key));
            // Kept and served: a page, or a whole history's first chunk, which is all of a
            // short one.
            let recent = recent.clone().filter(|_| after.is_none());
            async move {
                let pair = (key.0.as_str(), key.1.as_str());
                if let Some(rows) = recent.as_ref().and_then(|r| r.get(pair, page.limit, since)) {
                    return Ok(rows);
                }
                let seen = recent.as_ref().and_then(|r| r.stamp());
                let rows = match &readers {
                    Some(readers) => {
                        let mut reader = readers.get().await;
                        read_history(&mut *reader, pair, page, since, after).await
                    }
                    None => read_history(&pool, pair, page, since, after).await,
                }?;
                if let Some(recent) = recent.filter(|_| rows.len() < HISTORY_CHUNK) {
                    recent.keep(pair, page.limit, &rows, seen);
                }
                Ok(rows)
            }
        })
    }

    async fn ping(&self) -> Result<(), RegisterError> {
        if self.writer.has_stopped() {
            return Err(RegisterError::unavailable(
                "the register's writer has stopped",
            ));
        }
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }
}

#[cfg(test)]
mod tests;
