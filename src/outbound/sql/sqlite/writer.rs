//! The register's one writer: every write waits in its queue, and those that arrive while a
//! transaction commits share the next one (group commit).

use super::unavailable;
use crate::domain::{Grounds, Pair, RegisterError, Verdict};
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// One row of the register.
pub(super) struct Row {
    developer_a: String,
    developer_b: String,
    registered_at_ms: i64,
    connected: bool,
    organisations: String,
    social_graph: &'static str,
    member_sign_in: bool,
}

impl Row {
    pub(super) fn new(
        pair: &Pair,
        verdict: &Verdict,
        grounds: Grounds,
        at: DateTime<Utc>,
    ) -> Result<Self, RegisterError> {
        let (a, b) = pair.key();
        Ok(Self {
            developer_a: a.to_owned(),
            developer_b: b.to_owned(),
            registered_at_ms: at.timestamp_millis(),
            connected: verdict.is_connected(),
            organisations: serde_json::to_string(verdict.organisations())
                .map_err(|e| RegisterError::unavailable_because(e.to_string(), e))?,
            social_graph: grounds.social_graph.id(),
            member_sign_in: grounds.member_sign_in,
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
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

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

/// Where rows are handed to the writer, shared by a register's clones; the writer stops when
/// the last clone is dropped.
#[derive(Clone)]
pub(super) struct Writer(mpsc::Sender<Pending>);

impl Writer {
    /// Starts the writer on `pool`.
    pub(super) fn start(pool: SqlitePool) -> Self {
        let (writer, queue) = mpsc::channel(MAX_CALLERS * 16);
        tokio::spawn(write_batches(pool, queue));
        Self(writer)
    }

    /// Hands rows to the writer and waits until they are committed.
    ///
    /// Rows not taken into a transaction within [`QUEUE_WAIT`] are withdrawn, and the
    /// register is reported unavailable: they will never be written. Rows already taken are
    /// waited for, since their transaction may commit; it fails by itself once SQLite's
    /// busy timeout passes.
    pub(super) async fn write(&self, rows: Vec<Row>) -> Result<(), RegisterError> {
        let (done, mut committed) = oneshot::channel();
        let claim = Arc::new(AtomicU8::new(WAITING));
        let gone = || RegisterError::unavailable("the register's writer has stopped");
        let pending = Pending {
            rows,
            done,
            claim: Arc::clone(&claim),
        };
        let queued = async {
            self.0.send(pending).await.map_err(|_| gone())?;
            (&mut committed).await.map_err(|_| gone())?
        };
        match tokio::time::timeout(QUEUE_WAIT, queued).await {
            Ok(result) => result,
            Err(_) => {
                let withdrawn = claim
                    .compare_exchange(WAITING, WITHDRAWN, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok();
                if withdrawn {
                    Err(RegisterError::unavailable(format!(
                        "the write waited {} for its turn",
                        humantime::format_duration(QUEUE_WAIT)
                    )))
                } else {
                    committed.await.map_err(|_| gone())?
                }
            }
        }
    }

    /// Whether the writer has stopped: no write can succeed any more.
    pub(super) fn has_stopped(&self) -> bool {
        self.0.is_closed()
    }
}

async fn write_batches(pool: SqlitePool, mut queue: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_CALLERS);
    while queue.recv_many(&mut batch, MAX_CALLERS).await > 0 {
        batch.retain(Pending::take);
        if batch.is_empty() {
            continue;
        }
        let rows: Vec<&Row> = batch.iter().flat_map(|p| &p.rows).collect();
        let result = insert(&pool, &rows).await;
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
            "INSERT INTO checks (developer_a, developer_b, registered_at_ms, connected, organisations, social_graph, member_sign_in) ",
        );
        insert.push_values(chunk, |mut row, r| {
            row.push_bind(&r.developer_a)
                .push_bind(&r.developer_b)
                .push_bind(r.registered_at_ms)
                .push_bind(r.connected)
                .push_bind(&r.organisations)
                .push_bind(r.social_graph)
                .push_bind(r.member_sign_in);
        });
        insert
            .build()
            .execute(&mut *transaction)
            .await
            .map_err(unavailable)?;
    }
    transaction.commit().await.map_err(unavailable)
}
