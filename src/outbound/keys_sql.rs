//! What both key stores share: a key's row read back into a key, and a key's limits as
//! columns.

use crate::domain::access::{
    ApiKey, KeyHash, KeyId, KeyLimits, KeyName, KeysError, Period, Rate, StoredKey,
};
use chrono::{DateTime, Utc};

/// The columns every key query selects, in this order (SQLite names its times `*_ms`).
pub(super) const KEY_COLUMNS: &str = "id, name, secret_sha256, scopes, rate_requests, rate_period_seconds, \
     x_users_per_day, github_calls_per_hour";

/// A key's row, its times already read.
pub(super) struct KeyRow {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) secret_sha256: String,
    pub(super) scopes: String,
    pub(super) rate_requests: i64,
    pub(super) rate_period_seconds: i64,
    pub(super) x_users_per_day: Option<i64>,
    pub(super) github_calls_per_hour: Option<i64>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) last_used_at: Option<DateTime<Utc>>,
    pub(super) revoked_at: Option<DateTime<Utc>>,
}

impl KeyRow {
    /// The key this row holds; a row that cannot be one (edited by hand, say) is the store's
    /// failure, never a key with made-up limits.
    pub(super) fn into_stored(self) -> Result<StoredKey, KeysError> {
        let malformed =
            || KeysError::Unavailable(format!("the stored key {:?} is malformed", self.id));
        let period = u64::try_from(self.rate_period_seconds)
            .ok()
            .and_then(|s| Period::from_duration(std::time::Duration::from_secs(s)))
            .ok_or_else(malformed)?;
        let rate = Rate {
            requests: u32::try_from(self.rate_requests).map_err(|_| malformed())?,
            period,
        };
        let budget = |value: Option<i64>| value.map(u64::try_from).transpose();
        let key = ApiKey {
            id: KeyId::parse(&self.id).ok_or_else(malformed)?,
            name: KeyName::parse(&self.name).map_err(|_| malformed())?,
            scopes: self.scopes.parse().map_err(|_| malformed())?,
            limits: KeyLimits {
                rate,
                x_users_per_day: budget(self.x_users_per_day).map_err(|_| malformed())?,
                github_calls_per_hour: budget(self.github_calls_per_hour)
                    .map_err(|_| malformed())?,
            },
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
        };
        let hash = KeyHash::from_hex(&self.secret_sha256).ok_or_else(malformed)?;
        Ok(StoredKey { key, hash })
    }
}

/// A key's limits as stored: rate requests, rate period in seconds, and the two budgets.
pub(super) fn limit_columns(limits: &KeyLimits) -> (i64, i64, Option<i64>, Option<i64>) {
    let budget = |value: Option<u64>| value.map(|v| i64::try_from(v).unwrap_or(i64::MAX));
    (
        i64::from(limits.rate.requests),
        i64::try_from(limits.rate.period.duration().as_secs()).unwrap_or(i64::MAX),
        budget(limits.x_users_per_day),
        budget(limits.github_calls_per_hour),
    )
}

/// The one key among `matches` (keys whose name or id is `name_or_id`) to revoke.
pub(super) fn the_one_named(
    name_or_id: &str,
    mut matches: Vec<String>,
) -> Result<String, KeysError> {
    match matches.len() {
        0 => Err(KeysError::NotFound(name_or_id.to_owned())),
        1 => Ok(matches.remove(0)),
        _ => Err(KeysError::Ambiguous(name_or_id.to_owned())),
    }
}

/// A failed query, as the store's failure.
pub(super) fn unavailable(e: sqlx::Error) -> KeysError {
    KeysError::Unavailable(e.to_string())
}

/// A failed insert of the key named `name`: its name taken, or the store's failure.
pub(super) fn not_created(e: sqlx::Error, name: &KeyName) -> KeysError {
    if e.as_database_error()
        .is_some_and(sqlx::error::DatabaseError::is_unique_violation)
    {
        KeysError::NameTaken(name.as_str().to_owned())
    } else {
        unavailable(e)
    }
}
