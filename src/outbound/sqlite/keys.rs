//! The API keys in the register's SQLite database.

use crate::domain::access::{
    ApiKey, ApiKeys, KeyHash, KeyId, KeyReport, KeysError, StoredKey, Usage,
};
use crate::outbound::keys_sql::{
    KEY_COLUMNS, KeyRow, limit_columns, not_created, the_one_named, unavailable,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

/// The keys kept beside the register, in the same SQLite file.
#[derive(Clone)]
pub struct SqliteKeys {
    pool: SqlitePool,
}

impl std::fmt::Debug for SqliteKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteKeys").finish_non_exhaustive()
    }
}

impl SqliteKeys {
    pub(super) fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn time(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.and_then(DateTime::from_timestamp_millis)
}

fn stored(row: &SqliteRow) -> Result<StoredKey, KeysError> {
    let created_ms: i64 = row.try_get("created_at_ms").map_err(unavailable)?;
    KeyRow {
        id: row.try_get("id").map_err(unavailable)?,
        name: row.try_get("name").map_err(unavailable)?,
        secret_sha256: row.try_get("secret_sha256").map_err(unavailable)?,
        scopes: row.try_get("scopes").map_err(unavailable)?,
        rate_requests: row.try_get("rate_requests").map_err(unavailable)?,
        rate_period_seconds: row.try_get("rate_period_seconds").map_err(unavailable)?,
        x_users_per_day: row.try_get("x_users_per_day").map_err(unavailable)?,
        github_calls_per_hour: row.try_get("github_calls_per_hour").map_err(unavailable)?,
        created_at: time(Some(created_ms)).unwrap_or_default(),
        last_used_at: time(row.try_get("last_used_at_ms").map_err(unavailable)?),
        revoked_at: time(row.try_get("revoked_at_ms").map_err(unavailable)?),
    }
    .into_stored()
}

fn selected() -> String {
    format!("SELECT {KEY_COLUMNS}, created_at_ms, last_used_at_ms, revoked_at_ms FROM api_keys")
}

#[async_trait]
impl ApiKeys for SqliteKeys {
    async fn create(&self, key: &ApiKey, hash: &KeyHash) -> Result<(), KeysError> {
        let (rate_requests, rate_period, x_users, github_calls) = limit_columns(&key.limits);
        sqlx::query(
            "INSERT INTO api_keys (id, name, secret_sha256, scopes, rate_requests, rate_period_seconds, \
             x_users_per_day, github_calls_per_hour, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(key.id.as_str())
        .bind(key.name.as_str())
        .bind(hash.to_hex())
        .bind(key.scopes.to_string())
        .bind(rate_requests)
        .bind(rate_period)
        .bind(x_users)
        .bind(github_calls)
        .bind(millis(key.created_at))
        .execute(&self.pool)
        .await
        .map_err(|e| not_created(e, &key.name))?;
        Ok(())
    }

    async fn find(&self, id: &KeyId) -> Result<Option<StoredKey>, KeysError> {
        let sql = format!("{} WHERE id = ?", selected());
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(stored).transpose()
    }

    async fn list(&self, day: NaiveDate) -> Result<Vec<KeyReport>, KeysError> {
        let sql = format!(
            "SELECT {KEY_COLUMNS}, created_at_ms, last_used_at_ms, revoked_at_ms, \
             COALESCE(u.requests, 0) AS used_requests, COALESCE(u.x_users, 0) AS used_x_users, \
             COALESCE(u.github_calls, 0) AS used_github_calls \
             FROM api_keys LEFT JOIN api_key_usage u ON u.key_id = api_keys.id AND u.day = ? \
             ORDER BY created_at_ms, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(day.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter()
            .map(|row| {
                let count = |column: &str| -> Result<u64, KeysError> {
                    let n: i64 = row.try_get(column).map_err(unavailable)?;
                    Ok(u64::try_from(n).unwrap_or(0))
                };
                Ok(KeyReport {
                    key: stored(row)?.key,
                    today: Usage {
                        requests: count("used_requests")?,
                        x_users: count("used_x_users")?,
                        github_calls: count("used_github_calls")?,
                    },
                })
            })
            .collect()
    }

    async fn revoke(&self, name_or_id: &str, at: DateTime<Utc>) -> Result<ApiKey, KeysError> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM api_keys WHERE id = ? OR name = ?")
                .bind(name_or_id)
                .bind(name_or_id)
                .fetch_all(&self.pool)
                .await
                .map_err(unavailable)?;
        let id = the_one_named(name_or_id, ids)?;
        sqlx::query("UPDATE api_keys SET revoked_at_ms = COALESCE(revoked_at_ms, ?) WHERE id = ?")
            .bind(millis(at))
            .bind(&id)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        let id = KeyId::parse(&id).ok_or_else(|| KeysError::NotFound(name_or_id.to_owned()))?;
        let key = self.find(&id).await?;
        key.map(|stored| stored.key)
            .ok_or_else(|| KeysError::NotFound(name_or_id.to_owned()))
    }

    async fn record_use(
        &self,
        uses: &[(KeyId, Usage)],
        at: DateTime<Utc>,
    ) -> Result<(), KeysError> {
        let mut transaction = self.pool.begin().await.map_err(unavailable)?;
        let day = at.date_naive().to_string();
        for (id, usage) in uses {
            let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
            sqlx::query(
                "INSERT INTO api_key_usage (key_id, day, requests, x_users, github_calls) \
                 VALUES (?, ?, ?, ?, ?) ON CONFLICT (key_id, day) DO UPDATE SET \
                 requests = requests + excluded.requests, x_users = x_users + excluded.x_users, \
                 github_calls = github_calls + excluded.github_calls",
            )
            .bind(id.as_str())
            .bind(&day)
            .bind(count(usage.requests))
            .bind(count(usage.x_users))
            .bind(count(usage.github_calls))
            .execute(&mut *transaction)
            .await
            .map_err(unavailable)?;
            sqlx::query(
                "UPDATE api_keys SET last_used_at_ms = max(COALESCE(last_used_at_ms, 0), ?) WHERE id = ?",
            )
            .bind(millis(at))
            .bind(id.as_str())
            .execute(&mut *transaction)
            .await
            .map_err(unavailable)?;
        }
        transaction.commit().await.map_err(unavailable)
    }

    async fn any_usable(&self) -> Result<bool, KeysError> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM api_keys WHERE revoked_at_ms IS NULL)")
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)
    }
}
