//! The register in SQLite: the embedded default, one file, no set-up.

use super::recent::RecentHistories;
use super::register_sql::Bind;
use crate::domain::{
    HistoryPage, HistoryStream, Network, Pair, Register, RegisterError, RegisteredCheck, Verdict,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The register kept in a SQLite database.
#[derive(Clone)]
pub struct SqliteRegister {
    pool: SqlitePool,
    writer: mpsc::Sender<Pending>,
    /// Where histories are read from; `None` for an in-memory database, read through the pool.
    readers: Option<Arc<Readers>>,
    /// Short histories read, until their pair is written again.
    recent: Arc<RecentHistories>,
    long_reads: super::history::LongReads,
    /// Entries older than this are neither served nor kept.
    retention: Option<Duration>,
    _purge: Option<Arc<super::retention::Purge>>,
}

/// One row of the register.
struct Row {
    developer_a: String,
    developer_b: String,
    registered_at_ms: i64,
    connected: bool,
    organisations: String,
    social_graph: &'static str,
}

impl Row {
    fn new(
        pair: &Pair,
        verdict: &Verdict,
        social_graph: Network,
        at: DateTime<Utc>,
    ) -> Result<Self, RegisterError> {
        let (a, b) = pair.key();
        Ok(Self {
            developer_a: a.to_owned(),
            developer_b: b.to_owned(),
            registered_at_ms: at.timestamp_millis(),
            connected: verdict.is_connected(),
            organisations: serde_json::to_string(verdict.organisations())
                .map_err(|e| RegisterError::Unavailable(e.to_string()))?,
            social_graph: social_graph.id(),
        })
    }
}

/// Rows waiting for their transaction, and who to tell when they are durable.
struct Pending {
    rows: Vec<Row>,
    done: oneshot::Sender<Result<(), RegisterError>>,
    /// Who has it: the writer once it takes it into a transaction, or the caller once it
    /// withdraws it; whoever comes first.
    claim: Arc<AtomicU8>,
}

const WAITING: u8 = 0;
const TAKEN: u8 = 1;
const WITHDRAWN: u8 = 2;

/// How long a caller waits for its rows to enter a transaction before it withdraws them and
/// reports the register unavailable: as long as SQLite waits for its write lock.
const QUEUE_WAIT: Duration = BUSY_TIMEOUT;
/// How long a transaction waits for SQLite's write lock (held by another process, a backup
/// say) before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

impl Pending {
    /// Takes the rows into the next transaction, unless the caller has withdrawn them or
    /// gone: rows nobody will be told about are not written.
    fn take(&self) -> bool {
        !self.done.is_closed()
            && self
                .claim
                .compare_exchange(WAITING, TAKEN, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    }
}

/// Callers whose rows share one transaction at most. SQLite has one writer at a time and a
/// transaction's cost hardly depends on its size, so under load the verdicts that arrive
/// while one transaction commits share the next: group commit. Each caller still returns only
/// once its own rows are committed. All writes go through here, a team's many rows too, so
/// the service never competes with itself for SQLite's write lock.
const MAX_CALLERS: usize = 256;
/// Rows per INSERT statement: well under SQLite's limit of bound values.
const ROWS_PER_STATEMENT: usize = 256;

async fn write_batches(
    pool: SqlitePool,
    recent: Arc<RecentHistories>,
    mut queue: mpsc::Receiver<Pending>,
) {
    let mut batch = Vec::with_capacity(MAX_CALLERS);
    while queue.recv_many(&mut batch, MAX_CALLERS).await > 0 {
        batch.retain(Pending::take);
        if batch.is_empty() {
            continue;
        }
        let rows: Vec<&Row> = batch.iter().flat_map(|p| &p.rows).collect();
        let result = insert(&pool, &rows).await;
        if result.is_ok() {
            recent.written(
                rows.iter()
                    .map(|r| (r.developer_a.as_str(), r.developer_b.as_str())),
            );
        }
        for pending in batch.drain(..) {
            let _ = pending.done.send(result.clone());
        }
    }
}

/// All the rows in one transaction.
async fn insert(pool: &SqlitePool, rows: &[&Row]) -> Result<(), RegisterError> {
    let mut transaction = pool.begin().await.map_err(unavailable)?;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO checks (developer_a, developer_b, registered_at_ms, connected, organisations, social_graph) ",
        );
        insert.push_values(chunk, |mut row, r| {
            row.push_bind(&r.developer_a)
                .push_bind(&r.developer_b)
                .push_bind(r.registered_at_ms)
                .push_bind(r.connected)
                .push_bind(&r.organisations)
                .push_bind(r.social_graph);
        });
        insert
            .build()
            .execute(&mut *transaction)
            .await
            .map_err(unavailable)?;
    }
    transaction.commit().await.map_err(unavailable)
}

impl std::fmt::Debug for SqliteRegister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteRegister").finish_non_exhaustive()
    }
}

impl SqliteRegister {
    /// Hands rows to the writer and waits until they are committed.
    ///
    /// Rows not taken into a transaction within [`QUEUE_WAIT`] are withdrawn, and the
    /// register is reported unavailable: they will never be written. Rows already taken are
    /// waited for, since their transaction may commit; it fails by itself once SQLite's
    /// busy timeout passes.
    async fn write(&self, rows: Vec<Row>) -> Result<(), RegisterError> {
        let (done, mut committed) = oneshot::channel();
        let claim = Arc::new(AtomicU8::new(WAITING));
        let gone = || RegisterError::Unavailable("the register's writer has stopped".to_owned());
        let pending = Pending {
            rows,
            done,
            claim: Arc::clone(&claim),
        };
        let queued = async {
            self.writer.send(pending).await.map_err(|_| gone())?;
            (&mut committed).await.map_err(|_| gone())?
        };
        match tokio::time::timeout(QUEUE_WAIT, queued).await {
            Ok(result) => result,
            Err(_) => {
                let withdrawn = claim
                    .compare_exchange(WAITING, WITHDRAWN, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok();
                if withdrawn {
                    Err(RegisterError::Unavailable(format!(
                        "the write waited {} for its turn",
                        humantime::format_duration(QUEUE_WAIT)
                    )))
                } else {
                    committed.await.map_err(|_| gone())?
                }
            }
        }
    }

    /// Opens (creating if missing) the database at `url` (`sqlite://connected.db`,
    /// `sqlite::memory:`), switches it to WAL and runs the embedded migrations.
    ///
    /// # Errors
    /// [`RegisterError::Unavailable`] when the file cannot be opened or migrated.
    pub async fn connect(url: &str) -> Result<Self, RegisterError> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| RegisterError::Unavailable(format!("bad SQLite URL: {e}")))?
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
            .foreign_keys(true);
        // An in-memory database lives in one connection: the pool must not open a second.
        let max = if in_memory { 1 } else { 8 };
        let reader_options = options.clone();
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            // A local file does not hang up: a ping before each use would only cost a round
            // trip to the connection's thread.
            .test_before_acquire(false)
            .min_connections(if in_memory { 1 } else { 0 })
            .idle_timeout(if in_memory {
                None
            } else {
                Some(Duration::from_secs(600))
            })
            .max_lifetime(if in_memory {
                None
            } else {
                Some(Duration::from_secs(1800))
            })
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(|e| RegisterError::Unavailable(format!("cannot open {url}: {e}")))?;
        sqlx::migrate!("migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| RegisterError::Unavailable(format!("cannot migrate {url}: {e}")))?;
        let readers = if in_memory {
            None
        } else {
            Some(Arc::new(Readers::open(&reader_options).await.map_err(
                |e| RegisterError::Unavailable(format!("cannot open {url}: {e}")),
            )?))
        };
        let (writer, queue) = mpsc::channel(MAX_CALLERS * 16);
        let index = (!in_memory).then(|| {
            let mut index = reader_options.get_filename().as_os_str().to_owned();
            index.push("-shm");
            std::path::PathBuf::from(index)
        });
        let recent = Arc::new(RecentHistories::new(index));
        tokio::spawn(write_batches(pool.clone(), Arc::clone(&recent), queue));
        Ok(Self {
            pool,
            writer,
            readers,
            recent,
            long_reads: super::history::LongReads::new(),
            retention: None,
            _purge: None,
        })
    }

    /// The same register keeping entries for `retention` only (`None`: for ever): older
    /// ones are no longer served, and are deleted in the background, a few hundred per
    /// statement.
    #[must_use]
    pub fn with_retention(mut self, retention: Option<Duration>) -> Self {
        self.retention = retention;
        self._purge = retention.map(|retention| {
            let pool = self.pool.clone();
            Arc::new(super::retention::purge_in_background(
                retention,
                move |cutoff| {
                    let pool = pool.clone();
                    async move { purge(&pool, cutoff).await }
                },
            ))
        });
        self
    }
}

/// Connections that only read histories, held outside the pool. Each SQLite connection
/// lives on a thread of its own, so every use is a round trip to it; the pool adds two more
/// (a ping when a connection is taken, another when it is given back, in a task of its
/// own), which made a short history cost three times what its query does. A file database
/// in WAL mode never makes a reader wait for a writer, so these are only ever busy reading.
struct Readers {
    connections: Vec<tokio::sync::Mutex<sqlx::SqliteConnection>>,
    next: std::sync::atomic::AtomicUsize,
}

impl Readers {
    async fn open(options: &SqliteConnectOptions) -> Result<Self, sqlx::Error> {
        use sqlx::ConnectOptions as _;
        // Two per core: one reading a long chunk leaves another free for short reads.
        let count = super::history::long_reads_allowed();
        let mut connections = Vec::with_capacity(count);
        for _ in 0..count {
            connections.push(tokio::sync::Mutex::new(options.connect().await?));
        }
        Ok(Self {
            connections,
            next: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// A free connection if there is one, else the next in turn once it is free.
    async fn get(&self) -> tokio::sync::MutexGuard<'_, sqlx::SqliteConnection> {
        let count = self.connections.len();
        let start = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        for i in 0..count {
            if let Ok(connection) = self.connections[(start + i) % count].try_lock() {
                return connection;
            }
        }
        self.connections[start % count].lock().await
    }
}

/// Deletes at most [`super::retention::PURGE_BATCH`] entries recorded before `cutoff`, oldest first.
async fn purge(pool: &SqlitePool, cutoff: DateTime<Utc>) -> Result<u64, RegisterError> {
    sqlx::query(
        "DELETE FROM checks WHERE id IN \
         (SELECT id FROM checks WHERE registered_at_ms < ? ORDER BY registered_at_ms LIMIT ?)",
    )
    .bind(cutoff.timestamp_millis())
    .bind(i64::try_from(super::retention::PURGE_BATCH).unwrap_or(i64::MAX))
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
    .map_err(unavailable)
}

/// Separates the fields of one entry, and the entries, in a history read as one value:
/// control characters, which neither a number, a social graph's name nor a JSON array (which
/// escapes them) can hold.
const FIELD: char = '\u{1f}';
const ENTRY: char = '\u{1e}';

/// One query of a pair's history (see [`super::register_sql::history_sql`]): the entries with their ids.
///
/// SQLite hands each row of a result from its connection's thread to ours, one wake-up each,
/// which cost more than the reading itself: the page comes back as one value instead,
/// joined in SQL and split here.
async fn read_history(
    reader: impl sqlx::SqliteExecutor<'_>,
    (a, b): (&str, &str),
    page: HistoryPage,
    since: Option<DateTime<Utc>>,
    after: Option<super::register_sql::Position>,
) -> Result<Vec<(RegisteredCheck, i64)>, RegisterError> {
    let (sql, binds) = super::register_sql::history_sql(
        "registered_at_ms",
        "-9223372036854775808",
        |_| "?".to_owned(),
        page,
        since.is_some(),
        after.is_some(),
    );
    let sql = format!(
        "SELECT group_concat(\
             id || char(31) || registered_at_ms || char(31) || connected || char(31) || \
             social_graph || char(31) || organisations, \
             char(30) ORDER BY registered_at_ms, id) \
         FROM ({sql})"
    );
    let mut query = sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(sql));
    for bind in binds {
        query = match bind {
            Bind::DeveloperA => query.bind(a),
            Bind::DeveloperB => query.bind(b),
            Bind::Before => query.bind(page.before.map(|before| before.timestamp_millis())),
            Bind::Since => query.bind(since.map(|since| since.timestamp_millis())),
            Bind::Offset => query.bind(page.limit.map_or(0, |l| i64::from(l) - 1)),
            Bind::AfterTime => query.bind(after.map(|(at, _)| at.timestamp_millis())),
            Bind::AfterId => query.bind(after.map(|(_, id)| id)),
        };
    }
    let joined = query.fetch_one(reader).await.map_err(unavailable)?;
    joined.as_deref().map_or(Ok(Vec::new()), |joined| {
        joined.split(ENTRY).map(entry).collect()
    })
}

/// One entry of a history read as one value.
fn entry(text: &str) -> Result<(RegisteredCheck, i64), RegisterError> {
    let unreadable =
        || RegisterError::Unavailable(format!("a stored entry is unreadable: {text:?}"));
    let mut fields = text.splitn(5, FIELD);
    let mut next = || fields.next().ok_or_else(unreadable);
    let id: i64 = next()?.parse().map_err(|_| unreadable())?;
    let ms: i64 = next()?.parse().map_err(|_| unreadable())?;
    let connected = next()? == "1";
    let social_graph = next()?;
    let organisations = next()?;
    let registered_at = DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| RegisterError::Unavailable(format!("stored time {ms} is out of range")))?;
    let verdict = if connected {
        let organisations = serde_json::from_str(organisations).map_err(|e| {
            RegisterError::Unavailable(format!("stored organisations are unreadable: {e}"))
        })?;
        Verdict::Connected { organisations }
    } else {
        Verdict::NotConnected
    };
    let check = RegisteredCheck {
        registered_at,
        verdict,
        social_graph: super::register_sql::stored_network(social_graph)?,
    };
    Ok((check, id))
}

fn unavailable(e: sqlx::Error) -> RegisterError {
    RegisterError::Unavailable(e.to_string())
}

#[async_trait]
impl Register for SqliteRegister {
    async fn record(
        &self,
        pair: &Pair,
        verdict: &Verdict,
        social_graph: Network,
        at: DateTime<Utc>,
    ) -> Result<RegisteredCheck, RegisterError> {
        self.write(vec![Row::new(pair, verdict, social_graph, at)?])
            .await?;
        Ok(RegisteredCheck {
            registered_at: at,
            verdict: verdict.clone(),
            social_graph,
        })
    }

    async fn record_all(
        &self,
        verdicts: &[(Pair, Verdict)],
        social_graph: Network,
        at: DateTime<Utc>,
    ) -> Result<(), RegisterError> {
        let rows = verdicts
            .iter()
            .map(|(pair, verdict)| Row::new(pair, verdict, social_graph, at))
            .collect::<Result<Vec<_>, _>>()?;
        if rows.is_empty() {
            return Ok(());
        }
        self.write(rows).await
    }

    fn stream_history(&self, pair: &Pair, page: HistoryPage) -> HistoryStream {
        let (a, b) = pair.key();
        let key: Arc<(String, String)> = Arc::new((a.to_owned(), b.to_owned()));
        let since = super::retention::retained_since(self.retention);
        let pool = self.pool.clone();
        let readers = self.readers.clone();
        let recent = Arc::clone(&self.recent);
        // Only a whole history, from its start, is kept.
        let whole = page.limit.is_none() && page.before.is_none();
        super::history::history_stream(page, &self.long_reads, move |after| {
            let (pool, readers, key) = (pool.clone(), readers.clone(), Arc::clone(&key));
            let recent = Arc::clone(&recent);
            async move {
                let pair = (key.0.as_str(), key.1.as_str());
                let from_start = whole && after.is_none();
                if from_start && let Some(rows) = recent.get(pair, since) {
                    return Ok(rows);
                }
                let seen = recent.before_read();
                let rows = match &readers {
                    Some(readers) => {
                        let mut reader = readers.get().await;
                        read_history(&mut *reader, pair, page, since, after).await
                    }
                    None => read_history(&pool, pair, page, since, after).await,
                }?;
                if from_start && rows.len() < super::register_sql::HISTORY_CHUNK {
                    recent.keep(pair, &rows, seen);
                }
                Ok(rows)
            }
        })
    }

    async fn ping(&self) -> Result<(), RegisterError> {
        if self.writer.is_closed() {
            return Err(RegisterError::Unavailable(
                "the register's writer has stopped".to_owned(),
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
mod tests {
    use super::*;
    use crate::domain::{Handle, Network};

    fn pair(a: &str, b: &str) -> Pair {
        Pair::new(Handle::parse(a).unwrap(), Handle::parse(b).unwrap()).unwrap()
    }

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).unwrap()
    }

    #[tokio::test]
    async fn a_pair_reads_back_oldest_first_whatever_its_order_and_case() {
        let register = SqliteRegister::connect("sqlite::memory:").await.unwrap();
        let connected = Verdict::Connected {
            organisations: vec!["acme".into(), "Zeta".into()],
        };
        register
            .record(
                &pair("Bob", "alice"),
                &Verdict::NotConnected,
                Network::X,
                at(2_000),
            )
            .await
            .unwrap();
        register
            .record(&pair("alice", "bob"), &connected, Network::X, at(1_000))
            .await
            .unwrap();
        register
            .record(
                &pair("alice", "carol"),
                &connected,
                Network::GitHub,
                at(1_500),
            )
            .await
            .unwrap();
        let history = register
            .history(&pair("BOB", "Alice"), HistoryPage::default())
            .await
            .unwrap();
        assert_eq!(
            history,
            vec![
                RegisteredCheck {
                    registered_at: at(1_000),
                    verdict: connected,
                    social_graph: Network::X
                },
                RegisteredCheck {
                    registered_at: at(2_000),
                    verdict: Verdict::NotConnected,
                    social_graph: Network::X
                },
            ]
        );
        assert!(
            register
                .history(&pair("bob", "carol"), HistoryPage::default())
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_file_database_is_created_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("register.db").display());
        let register = SqliteRegister::connect(&url).await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&register.pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        register.ping().await.unwrap();
    }

    #[tokio::test]
    async fn the_table_refuses_what_postgresql_refuses() {
        let register = SqliteRegister::connect("sqlite::memory:").await.unwrap();
        let insert = |connected: bool, organisations: &'static str, graph: &'static str| {
            sqlx::query(
                "INSERT INTO checks (developer_a, developer_b, registered_at_ms, connected, organisations, social_graph) \
                 VALUES ('a', 'b', 1, ?, ?, ?)",
            )
            .bind(connected)
            .bind(organisations)
            .bind(graph)
            .execute(&register.pool)
        };
        assert!(insert(true, r#"["acme"]"#, "x").await.is_ok());
        assert!(insert(false, "[]", "bluesky").await.is_ok());
        for (connected, organisations, graph) in [
            (true, "[]", "x"),
            (false, r#"["acme"]"#, "x"),
            (true, "acme", "x"),
            (true, r#"{"a": 1}"#, "x"),
            (false, "[]", "mastodon"),
        ] {
            assert!(
                insert(connected, organisations, graph).await.is_err(),
                "{connected} {organisations} {graph}"
            );
        }
    }
}
