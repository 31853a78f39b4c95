//! The register in PostgreSQL: production, shared by several instances.

use super::redact_url;
use crate::domain::{
    HistoryPage, Network, Pair, Register, RegisterError, RegisteredCheck, Verdict,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};
use std::str::FromStr;
use std::time::Duration;

/// Pool settings for a shared database.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

/// The register kept in a PostgreSQL database.
#[derive(Clone)]
pub struct PostgresRegister {
    pool: PgPool,
    ping_timeout: Duration,
}

impl std::fmt::Debug for PostgresRegister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresRegister").finish_non_exhaustive()
    }
}

fn unavailable(e: sqlx::Error) -> RegisterError {
    RegisterError::Unavailable(e.to_string())
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
            .map_err(|e| RegisterError::Unavailable(format!("bad PostgreSQL URL {shown}: {e}")))?
            .application_name("connected");
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(settings.connect_timeout)
            .idle_timeout(Duration::from_secs(600))
            .max_lifetime(Duration::from_secs(1800))
            .connect_with(options)
            .await
            .map_err(|e| RegisterError::Unavailable(format!("cannot connect to {shown}: {e}")))?;
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| RegisterError::Unavailable(format!("cannot migrate {shown}: {e}")))?;
        Ok(Self {
            pool,
            ping_timeout: settings.connect_timeout.min(Duration::from_secs(2)),
        })
    }

    /// The pool, for tests and tools that look inside.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Register for PostgresRegister {
    async fn record(
        &self,
        pair: &Pair,
        verdict: &Verdict,
        social_graph: Network,
        at: DateTime<Utc>,
    ) -> Result<RegisteredCheck, RegisterError> {
        let (a, b) = pair.key();
        sqlx::query(
            "INSERT INTO checks (developer_a, developer_b, registered_at, connected, organisations, social_graph)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(a)
        .bind(b)
        .bind(at)
        .bind(verdict.is_connected())
        .bind(verdict.organisations())
        .bind(social_graph.id())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
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
        // One statement over arrays: atomic on its own, one round trip whatever the count.
        let mut a = Vec::with_capacity(verdicts.len());
        let mut b = Vec::with_capacity(verdicts.len());
        let mut connected = Vec::with_capacity(verdicts.len());
        let mut organisations = Vec::with_capacity(verdicts.len());
        for (pair, verdict) in verdicts {
            let (first, second) = pair.key();
            a.push(first.to_owned());
            b.push(second.to_owned());
            connected.push(verdict.is_connected());
            // text[] cannot nest in an array parameter: each list travels as a JSON array.
            organisations.push(
                serde_json::to_string(verdict.organisations())
                    .map_err(|e| RegisterError::Unavailable(e.to_string()))?,
            );
        }
        sqlx::query(
            "INSERT INTO checks (developer_a, developer_b, registered_at, connected, organisations, social_graph)
             SELECT a, b, $3, c,
                    ARRAY(SELECT e FROM jsonb_array_elements_text(o::jsonb) WITH ORDINALITY AS x(e, n) ORDER BY n),
                    $6
             FROM unnest($1::text[], $2::text[], $4::bool[], $5::text[]) AS t(a, b, c, o)",
        )
        .bind(&a)
        .bind(&b)
        .bind(at)
        .bind(&connected)
        .bind(&organisations)
        .bind(social_graph.id())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn history(
        &self,
        pair: &Pair,
        page: HistoryPage,
    ) -> Result<Vec<RegisteredCheck>, RegisterError> {
        let (a, b) = pair.key();
        let (sql, binds) = super::history_sql(
            "registered_at",
            "'-infinity'::timestamptz",
            |n| format!("${n}"),
            page,
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for bind in binds {
            query = match bind {
                super::Bind::DeveloperA => query.bind(a),
                super::Bind::DeveloperB => query.bind(b),
                super::Bind::Before => query.bind(page.before),
                super::Bind::Offset => query.bind(page.limit.map_or(0, |l| i64::from(l) - 1)),
            };
        }
        let rows = query.fetch_all(&self.pool).await.map_err(unavailable)?;
        let checks = rows
            .iter()
            .map(|row| {
                let registered_at: DateTime<Utc> =
                    row.try_get("registered_at").map_err(unavailable)?;
                let connected: bool = row.try_get("connected").map_err(unavailable)?;
                let organisations: Vec<String> =
                    row.try_get("organisations").map_err(unavailable)?;
                let social_graph: String = row.try_get("social_graph").map_err(unavailable)?;
                Ok(RegisteredCheck {
                    registered_at,
                    verdict: if connected {
                        Verdict::Connected { organisations }
                    } else {
                        Verdict::NotConnected
                    },
                    social_graph: super::stored_network(&social_graph)?,
                })
            })
            .collect::<Result<Vec<_>, RegisterError>>()?;
        Ok(checks)
    }

    async fn ping(&self) -> Result<(), RegisterError> {
        let ping = sqlx::query("SELECT 1").execute(&self.pool);
        match tokio::time::timeout(self.ping_timeout, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(unavailable(e)),
            Err(_) => Err(RegisterError::Unavailable(format!(
                "no answer within {}",
                humantime::format_duration(self.ping_timeout)
            ))),
        }
    }
}
