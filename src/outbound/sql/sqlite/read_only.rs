//! The register opened for reading only: nothing created, migrated or written, so that a
//! history can be read from a file this process may not write (a read-only copy, a file of
//! another user's).

use super::{SqliteRegister, Writer, pool_options};
use crate::config::PoolSettings;
use crate::domain::{Clock, RegisterError};
use crate::outbound::sql::error::{describe, describe_sqlite_open};
use crate::outbound::sql::history::LongReads;
use crate::outbound::sql::retention::Retention;
use sqlx::SqlitePool;
use sqlx::sqlite::SqliteConnectOptions;
use std::str::FromStr;
use std::sync::Arc;

impl SqliteRegister {
    /// Opens the existing database at `url` to read it, entries older than `retention` left
    /// out. In WAL mode a reader needs the
    /// file's shared-memory index beside it; where it cannot make one (a directory it cannot
    /// write), the file is read as immutable, as no one can be writing it either.
    ///
    /// # Errors
    /// [`RegisterError::Unavailable`] when the file cannot be read, or was last written by an
    /// older version (its tables not migrated: that needs a write).
    pub async fn open_for_reading(
        url: &str,
        settings: PoolSettings,
        retention: Option<std::time::Duration>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, RegisterError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| RegisterError::unavailable_because(format!("bad SQLite URL: {e}"), e))?
            .create_if_missing(false)
            .read_only(true)
            .busy_timeout(super::BUSY_TIMEOUT);
        let file = options.get_filename().to_owned();
        let pool = match readable(options.clone(), settings).await {
            Ok(pool) => pool,
            Err(e) => {
                // Read as immutable, the file is read without its log: what the log holds
                // would be missed.
                let mut log = file.clone().into_os_string();
                log.push("-wal");
                if std::path::Path::new(&log).exists() {
                    return Err(RegisterError::unavailable_because(
                        format!(
                            "cannot open {url} to read it: {}; its write-ahead log {} holds writes that only a process that can write beside it can read",
                            describe_sqlite_open(&e, &file),
                            std::path::Path::new(&log).display()
                        ),
                        e,
                    ));
                }
                readable(options.immutable(true), settings)
                    .await
                    .map_err(|e| {
                        let why = describe_sqlite_open(&e, &file);
                        RegisterError::unavailable_because(
                            format!("cannot open {url} to read it: {why}"),
                            e,
                        )
                    })?
            }
        };
        migrated(&pool, url).await?;
        Ok(Self {
            writer: Writer::start(pool.clone()),
            pool,
            readers: None,
            recent: None,
            long_reads: LongReads::new(),
            // Older entries are not served; deleting them is a write, left to others.
            retention: Retention::served_only(retention, clock),
        })
    }
}

/// A pool on `options` whose database could be read.
async fn readable(
    options: SqliteConnectOptions,
    settings: PoolSettings,
) -> Result<SqlitePool, sqlx::Error> {
    let pool = pool_options(false, settings).connect_with(options).await?;
    // SQLite opens a file lazily: only a read says whether it can be read.
    sqlx::query("SELECT count(*) FROM sqlite_master")
        .execute(&pool)
        .await?;
    Ok(pool)
}

/// Refuses a database whose tables are older than this version's: reading them could
/// misread them, and migrating is a write.
async fn migrated(pool: &SqlitePool, url: &str) -> Result<(), RegisterError> {
    let latest = sqlx::migrate!("migrations/sqlite")
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0);
    let applied: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await
            .map_err(|e| {
                let why = describe(&e);
                RegisterError::unavailable_because(
                    format!("cannot read {url}: it holds no register ({why})"),
                    e,
                )
            })?;
    if applied.unwrap_or(0) < latest {
        return Err(RegisterError::unavailable(format!(
            "{url} was written by an older version: open it once with write access (connected serve or check) to bring its tables up to date"
        )));
    }
    Ok(())
}
