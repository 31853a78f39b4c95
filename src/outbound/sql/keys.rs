//! The API keys in the register's database, SQLite or PostgreSQL: one store over either pool.
//! Both keep the same columns (times in milliseconds since the epoch, UTC; days as
//! `YYYY-MM-DD`), so the SQL differs only in its placeholders. A key's budgets and what it
//! spent on each are rows by meter ([`meters`]).

mod meters;

use super::members::SqlMembers;
use super::statement::{self, Bind};
use crate::domain::access::{
    ApiKey, ApiKeys, Caps, KeyHash, KeyId, KeyLimits, KeyName, KeyReport, KeyUse, KeysError,
    Period, Rate, StoredKey, Usage,
};
use crate::secret::TokenCipher;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};

/// A key's columns, then the requests it made on a day, as every key query selects them
/// (from [`FROM_KEYS`]).
const SELECT_KEYS: &str = "SELECT id, name, secret_sha256, scopes, rate_requests, rate_period_seconds, \
     created_at_ms, last_used_at_ms, revoked_at_ms, COALESCE(u.requests, 0) AS used_requests";
const FROM_KEYS: &str =
    "FROM api_keys LEFT JOIN api_key_usage u ON u.key_id = api_keys.id AND u.day = ?";

/// The keys kept in a database of the register's.
pub struct SqlKeys<DB: Database> {
    pub(super) pool: Pool<DB>,
    /// Whether placeholders are numbered (`$1`, PostgreSQL) rather than `?` (SQLite).
    numbered: bool,
}

impl<DB: Database> Clone for SqlKeys<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            numbered: self.numbered,
        }
    }
}

impl<DB: Database> std::fmt::Debug for SqlKeys<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlKeys").finish_non_exhaustive()
    }
}

impl<DB: Database> SqlKeys<DB> {
    /// The keys in `pool`'s database; `numbered` for PostgreSQL's `$1` placeholders.
    pub(super) fn new(pool: Pool<DB>, numbered: bool) -> Self {
        Self { pool, numbered }
    }

    /// The members kept in the same database, their tokens encrypted under `cipher`.
    pub fn members(&self, cipher: TokenCipher) -> SqlMembers<DB> {
        SqlMembers::new(self.pool.clone(), self.numbered, cipher)
    }
}

impl<DB> SqlKeys<DB>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'r> String: Decode<'r, DB>,
    for<'r> i64: Decode<'r, DB>,
    for<'r> Option<i64>: Decode<'r, DB>,
    for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
{
    /// `sql` in this database's dialect.
    pub(super) fn dialect(&self, sql: &str) -> String {
        statement::dialect(self.numbered, sql)
    }

    pub(super) fn query(
        sql: String,
        binds: &[Bind],
    ) -> sqlx::query::Query<'static, DB, DB::Arguments> {
        statement::query(sql, binds)
    }

    /// The keys a query of [`SELECT_KEYS`] (and `tail`) finds, with what they spent.
    async fn reports(&self, tail: &str, binds: &[Bind]) -> Result<Vec<KeyReport>, KeysError> {
        let sql = self.dialect(&format!("{SELECT_KEYS} {FROM_KEYS} {tail}"));
        let rows = Self::query(sql, binds)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(report::<DB>).collect()
    }

    /// Runs statements in one transaction.
    pub(super) async fn execute(
        &self,
        statements: &[(&str, Vec<Bind>)],
    ) -> Result<(), sqlx::Error> {
        let mut transaction = self.pool.begin().await?;
        for (sql, binds) in statements {
            let sql = self.dialect(sql);
            Self::query(sql, binds).execute(&mut *transaction).await?;
        }
        transaction.commit().await
    }

    async fn ids(&self, sql: &str, binds: &[Bind]) -> Result<Vec<String>, KeysError> {
        let sql = self.dialect(sql);
        let rows = Self::query(sql, binds)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter()
            .map(|row| row.try_get::<String, _>("id").map_err(unavailable))
            .collect()
    }
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A row of [`SELECT_KEYS`]: the key, and the requests it made, its budgets and what it spent
/// on them read apart. A row that cannot be one (edited by hand, say) is the store's failure,
/// never a key with made-up limits.
fn report<DB>(row: &DB::Row) -> Result<KeyReport, KeysError>
where
    DB: Database,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'r> i64: Decode<'r, DB> + Type<DB>,
    for<'r> Option<i64>: Decode<'r, DB>,
    for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
{
    let text = |column: &str| row.try_get::<String, _>(column).map_err(unavailable);
    let int = |column: &str| row.try_get::<i64, _>(column).map_err(unavailable);
    let maybe = |column: &str| row.try_get::<Option<i64>, _>(column).map_err(unavailable);
    let id = text("id")?;
    let malformed = || KeysError::unavailable(format!("the stored key {id:?} is malformed"));
    let time = |ms: i64| DateTime::from_timestamp_millis(ms).ok_or_else(malformed);
    let unsigned = |n: i64| u64::try_from(n).map_err(|_| malformed());
    let period = Period::from_duration(std::time::Duration::from_secs(unsigned(int(
        "rate_period_seconds",
    )?)?))
    .ok_or_else(malformed)?;
    let key = ApiKey {
        id: KeyId::parse(&id).ok_or_else(malformed)?,
        name: KeyName::parse(&text("name")?).map_err(|_| malformed())?,
        scopes: text("scopes")?.parse().map_err(|_| malformed())?,
        limits: KeyLimits {
            rate: Rate {
                requests: u32::try_from(int("rate_requests")?)
                    .ok()
                    .filter(|n| (1..=Rate::MAX_REQUESTS).contains(n))
                    .ok_or_else(malformed)?,
                period,
            },
            budgets: Caps::default(),
        },
        created_at: time(int("created_at_ms")?)?,
        last_used_at: maybe("last_used_at_ms")?.map(time).transpose()?,
        revoked_at: maybe("revoked_at_ms")?.map(time).transpose()?,
    };
    // The hash is checked here too, so that `find` never returns a key it cannot match.
    KeyHash::from_hex(&text("secret_sha256")?).ok_or_else(malformed)?;
    Ok(KeyReport {
        key,
        today: Usage::of(unsigned(int("used_requests")?)?),
    })
}

fn unavailable(e: sqlx::Error) -> KeysError {
    KeysError::unavailable_because(e.to_string(), e)
}

#[async_trait]
impl<DB> ApiKeys for SqlKeys<DB>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'r> String: Decode<'r, DB>,
    for<'r> i64: Decode<'r, DB>,
    for<'r> Option<i64>: Decode<'r, DB>,
    for<'r> Option<String>: Decode<'r, DB>,
    for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
{
    async fn create(&self, key: &ApiKey, hash: &KeyHash) -> Result<(), KeysError> {
        let limits = &key.limits;
        let binds = vec![
            Bind::Text(key.id.to_string()),
            Bind::Text(key.name.as_str().to_owned()),
            Bind::Text(hash.to_hex()),
            Bind::Text(key.scopes.to_string()),
            Bind::Int(i64::from(limits.rate.requests)),
            Bind::Int(count(limits.rate.period.duration().as_secs())),
            Bind::Int(millis(key.created_at)),
        ];
        let insert = "INSERT INTO api_keys (id, name, secret_sha256, scopes, rate_requests, \
             rate_period_seconds, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)";
        let mut statements = vec![(insert, binds)];
        statements.extend(meters::insert_caps(&key.id, &limits.budgets));
        self.execute(&statements).await.map_err(|e| {
            if e.as_database_error()
                .is_some_and(sqlx::error::DatabaseError::is_unique_violation)
            {
                KeysError::NameTaken(key.name.as_str().to_owned())
            } else {
                unavailable(e)
            }
        })
    }

    async fn find(&self, id: &KeyId) -> Result<Option<StoredKey>, KeysError> {
        // Its caps joined to it, a row each: one round trip, as every request asks.
        let binds = [Bind::Text(String::new()), Bind::Text(id.to_string())];
        let sql = self.dialect(&format!(
            "{SELECT_KEYS}, {} {FROM_KEYS} {} WHERE id = ?",
            meters::CAP_COLUMNS,
            meters::JOIN_CAPS
        ));
        let rows = Self::query(sql, &binds)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let mut key = report::<DB>(row)?.key;
        for row in &rows {
            if let Some((budget, limit)) = meters::joined_cap::<DB>(row, id.as_str())? {
                key.limits.budgets.set(budget, Some(limit));
            }
        }
        let hash = row
            .try_get::<String, _>("secret_sha256")
            .map_err(unavailable)?;
        Ok(KeyHash::from_hex(&hash).map(|hash| StoredKey { key, hash }))
    }

    async fn list(&self, day: NaiveDate) -> Result<Vec<KeyReport>, KeysError> {
        let day = day.to_string();
        let mut reports = self
            .reports("ORDER BY created_at_ms, id", &[Bind::Text(day.clone())])
            .await?;
        let mut caps = self.caps().await?;
        let mut spend = self.spend(&day).await?;
        for report in &mut reports {
            let id = report.key.id.as_str();
            report.key.limits.budgets = caps.remove(id).unwrap_or_default();
            for (meter, used) in spend.remove(id).unwrap_or_default() {
                report.today.spend(meter, used);
            }
        }
        Ok(reports)
    }

    async fn revoke(&self, name_or_id: &str, at: DateTime<Utc>) -> Result<ApiKey, KeysError> {
        let named = Bind::Text(name_or_id.to_owned());
        let ids = self
            .ids(
                "SELECT id FROM api_keys WHERE id = ? OR name = ?",
                &[named.clone(), named],
            )
            .await?;
        let id = match ids.as_slice() {
            [] => return Err(KeysError::NotFound(name_or_id.to_owned())),
            [id] => id.clone(),
            _ => return Err(KeysError::Ambiguous(name_or_id.to_owned())),
        };
        let revoke = "UPDATE api_keys SET revoked_at_ms = COALESCE(revoked_at_ms, ?) WHERE id = ?";
        self.execute(&[(revoke, vec![Bind::Int(millis(at)), Bind::Text(id.clone())])])
            .await
            .map_err(unavailable)?;
        let id = KeyId::parse(&id).ok_or_else(|| KeysError::NotFound(name_or_id.to_owned()))?;
        self.find(&id)
            .await?
            .map(|stored| stored.key)
            .ok_or_else(|| KeysError::NotFound(name_or_id.to_owned()))
    }

    async fn record_use(&self, uses: &[KeyUse]) -> Result<(), KeysError> {
        let add = "INSERT INTO api_key_usage (key_id, day, requests) VALUES (?, ?, ?) \
             ON CONFLICT (key_id, day) DO UPDATE SET \
             requests = api_key_usage.requests + excluded.requests";
        let touch = "UPDATE api_keys SET last_used_at_ms = CASE \
             WHEN last_used_at_ms IS NULL OR last_used_at_ms < ? THEN ? ELSE last_used_at_ms END \
             WHERE id = ?";
        let mut statements = Vec::with_capacity(uses.len() * 4);
        // In one order on every instance, so that two writing at once never deadlock.
        let mut uses: Vec<&KeyUse> = uses.iter().collect();
        uses.sort_by(|a, b| (&a.id, a.day).cmp(&(&b.id, b.day)));
        for used in uses {
            let id = Bind::Text(used.id.to_string());
            let day = Bind::Text(used.day.to_string());
            let requests = Bind::Int(count(used.usage.requests));
            statements.push((add, vec![id.clone(), day.clone(), requests]));
            statements.extend(meters::add_spend(&id, &day, &used.usage));
            let at = millis(used.last_used);
            statements.push((touch, vec![Bind::Int(at), Bind::Int(at), id]));
        }
        self.execute(&statements).await.map_err(unavailable)
    }

    async fn any_usable(&self) -> Result<bool, KeysError> {
        let ids = self
            .ids(
                "SELECT id FROM api_keys WHERE revoked_at_ms IS NULL LIMIT 1",
                &[],
            )
            .await?;
        Ok(!ids.is_empty())
    }
}
