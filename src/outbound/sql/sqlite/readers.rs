//! Reading a pair's history from SQLite: connections kept for reading only, and a history
//! read as one value.

use super::unavailable;
use crate::domain::{HistoryPage, RegisterError, RegisteredCheck, Verdict};
use crate::outbound::sql::register::{Bind, Position, history_sql, stored_network};
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteConnectOptions;

/// Connections that only read histories, held outside the pool. Each SQLite connection
/// lives on a thread of its own, so every use is a round trip to it; the pool adds two more
/// (a ping when a connection is taken, another when it is given back, in a task of its
/// own), which made a short history cost three times what its query does. A file database
/// in WAL mode never makes a reader wait for a writer, so these are only ever busy reading.
pub(super) struct Readers {
    connections: Vec<tokio::sync::Mutex<sqlx::SqliteConnection>>,
    next: std::sync::atomic::AtomicUsize,
}

impl Readers {
    pub(super) async fn open(options: &SqliteConnectOptions) -> Result<Self, sqlx::Error> {
        use sqlx::ConnectOptions as _;
        // Two per core: one reading a long chunk leaves another free for short reads.
        let count = crate::outbound::sql::history::long_reads_allowed();
        let mut connections = Vec::with_capacity(count);
        for _ in 0..count {
            connections.push(tokio::sync::Mutex::new(options.connect().await?));
        }
        Ok(Self {
            connections,
            next: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// Closes every connection.
    pub(super) async fn close(self) {
        use sqlx::Connection as _;
        for connection in self.connections {
            let _ = connection.into_inner().close().await;
        }
    }

    /// A free connection if there is one, else the next in turn once it is free.
    pub(super) async fn get(&self) -> tokio::sync::MutexGuard<'_, sqlx::SqliteConnection> {
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

/// Separates the fields of one entry, and the entries, in a history read as one value:
/// control characters, which neither a number, a social graph's name nor a JSON array (which
/// escapes them) can hold. Organisations come last: only they may be long.
const FIELD: char = '\u{1f}';
const ENTRY: char = '\u{1e}';

/// One query of a pair's history (see [`history_sql`]): the entries with their ids.
///
/// SQLite hands each row of a result from its connection's thread to ours, one wake-up each,
/// which cost more than the reading itself: the page comes back as one value instead,
/// joined in SQL and split here.
pub(super) async fn read_history(
    reader: impl sqlx::SqliteExecutor<'_>,
    (a, b): (&str, &str),
    page: HistoryPage,
    since: Option<DateTime<Utc>>,
    after: Option<Position>,
) -> Result<Vec<(RegisteredCheck, i64)>, RegisterError> {
    let (sql, binds) = history_sql(
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
             social_graph || char(31) || member_sign_in || char(31) || organisations, \
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
        || RegisterError::unavailable(format!("a stored entry is unreadable: {text:?}"));
    let mut fields = text.splitn(6, FIELD);
    let mut next = || fields.next().ok_or_else(unreadable);
    let id: i64 = next()?.parse().map_err(|_| unreadable())?;
    let ms: i64 = next()?.parse().map_err(|_| unreadable())?;
    let connected = next()? == "1";
    let social_graph = next()?;
    let member_sign_in = match next()? {
        "0" => false,
        "1" => true,
        _ => return Err(unreadable()),
    };
    let organisations = next()?;
    let registered_at = DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| RegisterError::unavailable(format!("stored time {ms} is out of range")))?;
    let verdict = if connected {
        let organisations = serde_json::from_str(organisations).map_err(|e| {
            RegisterError::unavailable_because(
                format!("stored organisations are unreadable: {e}"),
                e,
            )
        })?;
        Verdict::Connected { organisations }
    } else {
        Verdict::NotConnected
    };
    let check = RegisteredCheck {
        registered_at,
        verdict,
        social_graph: stored_network(social_graph)?,
        member_sign_in,
    };
    Ok((check, id))
}
