//! The register in PostgreSQL: production, shared by several instances.

mod readers;

use crate::config::PoolSettings;
use crate::domain::{
    Clock, Grounds, HistoryPage, HistoryStream, Network, Pair, PairVerdict, Register,
    RegisterError, RegisteredCheck, Verdict,
};
use crate::outbound::sql::error::{describe, describe_connection};
use crate::outbound::sql::keys::SqlKeys;
use crate::outbound::sql::members::SqlMembers;
use crate::outbound::sql::register::Bind;
use crate::outbound::sql::retention::{PURGE_BATCH, Retention};
use crate::secret::{TokenCipher, redact_url};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The register kept in a PostgreSQL database.
#[derive(Clone)]
pub struct PostgresRegister {
    pool: PgPool,
    /// Where histories are read.
    readers: Arc<readers::Readers>,
    ping_timeout: Duration,
    /// The most a write may take, from asking for a connection to its commit.
    write_timeout: Duration,
    long_reads: crate::outbound::sql::history::LongReads,
    /// Entries older than this are neither served nor kept.
    retention: Retention,
}

impl std::fmt::Debug for PostgresRegister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresRegister").finish_non_exhaustive()
    }
}

/// How long the statements of one write may take once it has a connection.
const WRITE_TIME: Duration = Duration::from_secs(5);

impl PostgresRegister {
    /// One INSERT in a transaction. Getting a connection and running the INSERT are bounded
    /// by the write timeout: given up there, the transaction is rolled back, and "the
    /// register is unavailable" leaves nothing behind (a plain INSERT, cut once sent, could
    /// still commit after the caller was told it failed). The COMMIT, once sent, is waited
    /// for, however long: cut then, it could still take effect, and an answer of "nothing
    /// recorded" would be a lie.
    async fn write(
        &self,
        insert: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> Result<(), RegisterError> {
        let prepared = async {
            let mut transaction = self.pool.begin().await?;
            insert.execute(&mut *transaction).await?;
            Ok::<_, sqlx::Error>(transaction)
        };
        let transaction = match tokio::time::timeout(self.write_timeout, prepared).await {
            Ok(result) => result.map_err(unavailable)?,
            Err(_) => {
                return Err(RegisterError::unavailable(format!(
                    "no write within {}",
                    humantime::format_duration(self.write_timeout)
                )));
            }
        };
        transaction.commit().await.map_err(unavailable)
    }
}

fn unavailable(e: sqlx::Error) -> RegisterError {
    RegisterError::unavailable_because(describe(&e), e)
}

impl PostgresRegister {
    /// Connects to `url` (`postgres://…` or `postgresql://…`) and runs the embedded
    /// migrations. Two instances starting at once are safe: the migrator holds PostgreSQL's
    /// advisory lock while it works.
    ///
    /// # Errors
    /// [`RegisterError::Unavailable`] when the database cannot be reached within the connect
    /// timeout or cannot be migrated; the message never contains the password.
    pub async fn connect(url: &str, settings: PoolSettings) -> Result<Self, RegisterError> {
        let shown = redact_url(url);
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| {
                RegisterError::unavailable_because(format!("bad PostgreSQL URL {shown}: {e}"), e)
            })?
            .application_name("connected");
        let pool = match PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(settings.connect_timeout)
            .idle_timeout(PoolSettings::IDLE_TIMEOUT)
            .max_lifetime(PoolSettings::MAX_LIFETIME)
            .connect_with(options.clone())
            .await
        {
            Ok(pool) => pool,
            Err(e) => {
                let (why, e) = why_not_connected(e, &options, settings.connect_timeout).await;
                return Err(RegisterError::unavailable_because(
                    format!("cannot connect to {shown}: {why}"),
                    e,
                ));
            }
        };
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| {
                RegisterError::unavailable_because(format!("cannot migrate {shown}: {e}"), e)
            })?;
        Ok(Self {
            readers: Arc::new(readers::Readers::new(
                pool.clone(),
                readers::Readers::count(settings.max_connections),
            )),
            pool,
            ping_timeout: settings.connect_timeout.min(Duration::from_secs(2)),
            write_timeout: settings.connect_timeout + WRITE_TIME,
            long_reads: crate::outbound::sql::history::LongReads::new(),
            retention: Retention::default(),
        })
    }

    /// The same register keeping entries for `retention` only (`None`: for ever) before
    /// `clock`'s now: older ones are no longer served, and are deleted in the background, a few hundred per
    /// statement. Several instances may delete at once: each skips the rows another is
    /// deleting.
    #[must_use]
    pub fn with_retention(mut self, retention: Option<Duration>, clock: Arc<dyn Clock>) -> Self {
        self.retention = Retention::start(retention, clock, self.pool.clone(), purge);
        self
    }

    /// The API keys kept in the same database.
    pub fn keys(&self) -> SqlKeys<sqlx::Postgres> {
        SqlKeys::new(self.pool.clone(), true)
    }

    /// The members kept in the same database, their tokens encrypted under `cipher`.
    pub fn members(&self, cipher: TokenCipher) -> SqlMembers<sqlx::Postgres> {
        SqlMembers::new(self.pool.clone(), true, cipher)
    }

    /// The pool, for tests and tools that look inside.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Why the pool could not connect, in words and as the error that says it. A pool that
/// keeps failing says only that it timed out: one connection made directly tells what the
/// server (or the network) said instead.
async fn why_not_connected(
    error: sqlx::Error,
    options: &PgConnectOptions,
    timeout: Duration,
) -> (String, sqlx::Error) {
    use sqlx::ConnectOptions as _;
    let (host, port) = (options.get_host(), options.get_port());
    let error = match error {
        sqlx::Error::PoolTimedOut => match tokio::time::timeout(timeout, options.connect()).await {
            Ok(Err(direct)) => direct,
            _ => {
                let why = format!(
                    "no connection to {host}:{port} within {}",
                    humantime::format_duration(timeout)
                );
                return (why, sqlx::Error::PoolTimedOut);
            }
        },
        other => other,
    };
    (describe_connection(&error, host, port), error)
}

/// Deletes at most [`PURGE_BATCH`] entries recorded before `cutoff`, oldest first.
async fn purge(pool: PgPool, cutoff: DateTime<Utc>) -> Result<u64, RegisterError> {
    sqlx::query(
        "DELETE FROM checks WHERE id IN \
         (SELECT id FROM checks WHERE registered_at < $1 ORDER BY registered_at LIMIT $2 \
          FOR UPDATE SKIP LOCKED)",
    )
    .bind(cutoff)
    .bind(i64::try_from(PURGE_BATCH).unwrap_or(i64::MAX))
    .execute(&pool)
    .await
    .map(|done| done.rows_affected())
    .map_err(unavailable)
}

/// One query of a pair's history (see [`crate::outbound::sql::register::history_sql`]): the entries with their ids.
async fn read_history(
    readers: &readers::Readers,
    (a, b): (&str, &str),
    page: HistoryPage,
    since: Option<DateTime<Utc>>,
    after: Option<crate::outbound::sql::register::Position>,
) -> Result<Vec<(RegisteredCheck, i64)>, RegisterError> {
    let (sql, binds) = crate::outbound::sql::register::history_sql(
        "registered_at",
        "'-infinity'::timestamptz",
        |n| format!("${n}"),
        page,
        since.is_some(),
        after.is_some(),
    );
    let build = || {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
        for bind in &binds {
            query = match bind {
                Bind::DeveloperA => query.bind(a),
                Bind::DeveloperB => query.bind(b),
                Bind::Before => query.bind(page.before),
                Bind::Since => query.bind(since),
                Bind::Offset => query.bind(page.limit.map_or(0, |l| i64::from(l) - 1)),
                Bind::AfterTime => query.bind(after.map(|(at, _)| at)),
                Bind::AfterId => query.bind(after.map(|(_, id)| id)),
            };
        }
        query
    };
    let rows = readers.fetch_all(build).await.map_err(unavailable)?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get(0).map_err(unavailable)?;
            let registered_at: DateTime<Utc> = row.try_get(1).map_err(unavailable)?;
            let connected: bool = row.try_get(2).map_err(unavailable)?;
            let organisations: Vec<String> = row.try_get(3).map_err(unavailable)?;
            let social_graph: &str = row.try_get(4).map_err(unavailable)?;
            let member_sign_in: bool = row.try_get(5).map_err(unavailable)?;
            let check = RegisteredCheck {
                registered_at,
                verdict: if connected {
                    Verdict::Connected { organisations }
                } else {
                    Verdict::NotConnected
                },
                social_graph: crate::outbound::sql::register::stored_network(social_graph)?,
                member_sign_in,
            };
            Ok((check, id))
        })
        .collect()
}

#[async_trait]
impl Register for PostgresRegister {
    async fn record(
        &self,
        pair: &Pair,
        verdict: &Verdict,
        grounds: Grounds,
        at: DateTime<Utc>,
    ) -> Result<RegisteredCheck, RegisterError> {
        let (a, b) = pair.key();
        let insert = sqlx::query(
            "INSERT INTO checks (developer_a, developer_b, registered_at, connected, organisations, social_graph, member_sign_in)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(a)
        .bind(b)
        .bind(at)
        .bind(verdict.is_connected())
        .bind(verdict.organisations())
        .bind(grounds.social_graph.id())
        .bind(grounds.member_sign_in);
        self.write(insert).await?;
        Ok(RegisteredCheck::new(verdict.clone(), grounds, at))
    }

    async fn record_all(
        &self,
        verdicts: &[PairVerdict],
        social_graph: Network,
        at: DateTime<Utc>,
    ) -> Result<(), RegisterError> {
        // One statement over arrays: atomic on its own, one round trip whatever the count.
        let mut a = Vec::with_capacity(verdicts.len());
        let mut b = Vec::with_capacity(verdicts.len());
        let mut connected = Vec::with_capacity(verdicts.len());
        let mut organisations = Vec::with_capacity(verdicts.len());
        let mut member_sign_in = Vec::with_capacity(verdicts.len());
        for PairVerdict {
            pair,
            verdict,
            member_sign_in: member,
        } in verdicts
        {
            let (first, second) = pair.key();
            member_sign_in.push(*member);
            a.push(first.to_owned());
            b.push(second.to_owned());
            connected.push(verdict.is_connected());
            // text[] cannot nest in an array parameter: each list travels as a JSON array.
            organisations.push(
                serde_json::to_string(verdict.organisations())
                    .map_err(|e| RegisterError::unavailable_because(e.to_string(), e))?,
            );
        }
        let insert = sqlx::query(
            "INSERT INTO checks (developer_a, developer_b, registered_at, connected, organisations, social_graph, member_sign_in)
             SELECT a, b, $3, c,
                    ARRAY(SELECT e FROM jsonb_array_elements_text(o::jsonb) WITH ORDINALITY AS x(e, n) ORDER BY n),
                    $6, m
             FROM unnest($1::text[], $2::text[], $4::bool[], $5::text[], $7::bool[]) AS t(a, b, c, o, m)",
        )
        .bind(&a)
        .bind(&b)
        .bind(at)
        .bind(&connected)
        .bind(&organisations)
        .bind(social_graph.id())
        .bind(&member_sign_in);
        self.write(insert).await
    }

    fn stream_history(&self, pair: &Pair, page: HistoryPage) -> HistoryStream {
        let (a, b) = pair.key();
        let key: Arc<(String, String)> = Arc::new((a.to_owned(), b.to_owned()));
        let since = self.retention.since();
        let readers = Arc::clone(&self.readers);
        crate::outbound::sql::history::history_stream(page, &self.long_reads, move |after| {
            let (readers, key) = (Arc::clone(&readers), Arc::clone(&key));
            async move { read_history(&readers, (&key.0, &key.1), page, since, after).await }
        })
    }

    async fn ping(&self) -> Result<(), RegisterError> {
        let ping = sqlx::query("SELECT 1").execute(&self.pool);
        match tokio::time::timeout(self.ping_timeout, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(unavailable(e)),
            Err(_) => Err(RegisterError::unavailable(format!(
                "no answer within {}",
                humantime::format_duration(self.ping_timeout)
            ))),
        }
    }
}
