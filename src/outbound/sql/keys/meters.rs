//! A key's budgets and what it spent, one row per meter (a network and its unit): a network
//! billed anew is new rows, never a new column. `api_key_budgets` holds a key's caps,
//! `api_key_spend` what it spent on each meter each UTC day.

use super::{SqlKeys, count, unavailable};
use crate::domain::Network;
use crate::domain::access::{Budget, Caps, KeyId, KeysError, Meter, Period, Unit, Usage};
use crate::outbound::sql::statement::Bind;
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};
use std::collections::HashMap;

/// Caps on budgets, by key id.
pub(super) type KeyCaps = HashMap<String, Caps>;
/// What was spent on a day, by key id and meter.
pub(super) type KeySpend = HashMap<String, Vec<(Meter, u64)>>;

/// Keeps `caps` as `id`'s budgets.
pub(super) fn insert_caps(id: &KeyId, caps: &Caps) -> Vec<(&'static str, Vec<Bind>)> {
    let insert = "INSERT INTO api_key_budgets (key_id, network, unit, per, amount) \
         VALUES (?, ?, ?, ?, ?)";
    caps.iter()
        .map(|(budget, limit)| {
            let binds = vec![
                Bind::Text(id.to_string()),
                Bind::Text(budget.meter.network.id().to_owned()),
                Bind::Text(budget.meter.unit.id().to_owned()),
                Bind::Text(budget.per.name().to_owned()),
                Bind::Int(count(limit)),
            ];
            (insert, binds)
        })
        .collect()
}

/// Adds what `usage` spent on each meter to `id`'s `day`.
pub(super) fn add_spend(id: &Bind, day: &Bind, usage: &Usage) -> Vec<(&'static str, Vec<Bind>)> {
    let add = "INSERT INTO api_key_spend (key_id, day, network, unit, used) \
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (key_id, day, network, unit) DO UPDATE SET \
         used = api_key_spend.used + excluded.used";
    usage
        .meters()
        .map(|(meter, used)| {
            let binds = vec![
                id.clone(),
                day.clone(),
                Bind::Text(meter.network.id().to_owned()),
                Bind::Text(meter.unit.id().to_owned()),
                Bind::Int(count(used)),
            ];
            (add, binds)
        })
        .collect()
}

/// The columns of a key's caps, joined to its row by [`JOIN_CAPS`]: `NULL` when it has none.
pub(super) const CAP_COLUMNS: &str = "b.network, b.unit, b.per, b.amount";
pub(super) const JOIN_CAPS: &str = "LEFT JOIN api_key_budgets b ON b.key_id = api_keys.id";

fn malformed(key: &str) -> KeysError {
    KeysError::unavailable(format!("the stored key {key:?} is malformed"))
}

fn meter(key: &str, network: &str, unit: &str) -> Result<Meter, KeysError> {
    let network = Network::from_id(network);
    let unit = Unit::from_id(unit);
    network
        .zip(unit)
        .map(|(network, unit)| Meter::new(network, unit))
        .ok_or_else(|| malformed(key))
}

fn amount(key: &str, n: i64) -> Result<u64, KeysError> {
    u64::try_from(n).map_err(|_| malformed(key))
}

/// A cap as stored. One this build cannot read is the store's failure, never a key with
/// fewer limits than it was given.
fn cap(key: &str, columns: [&str; 3], limit: i64) -> Result<(Budget, u64), KeysError> {
    let [network, unit, per] = columns;
    let meter = meter(key, network, unit)?;
    let per = Period::from_name(per).ok_or_else(|| malformed(key))?;
    Ok((Budget { meter, per }, amount(key, limit)?))
}

/// The cap a row of the key `key` joined to its caps holds, if any.
pub(super) fn joined_cap<DB>(row: &DB::Row, key: &str) -> Result<Option<(Budget, u64)>, KeysError>
where
    DB: Database,
    for<'r> Option<String>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<i64>: Decode<'r, DB> + Type<DB>,
    for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
{
    let text = |column: &str| {
        row.try_get::<Option<String>, _>(column)
            .map_err(unavailable)
    };
    let (Some(network), Some(unit), Some(per)) = (text("network")?, text("unit")?, text("per")?)
    else {
        return Ok(None);
    };
    let limit = row
        .try_get::<Option<i64>, _>("amount")
        .map_err(unavailable)?
        .ok_or_else(|| malformed(key))?;
    cap(key, [&network, &unit, &per], limit).map(Some)
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
    async fn rows(&self, sql: &str, binds: &[Bind]) -> Result<Vec<DB::Row>, KeysError> {
        Self::query(self.dialect(sql), binds)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)
    }

    /// Every key's caps.
    pub(super) async fn caps(&self) -> Result<KeyCaps, KeysError> {
        let sql = "SELECT key_id, network, unit, per, amount FROM api_key_budgets";
        let mut caps = KeyCaps::new();
        for row in self.rows(sql, &[]).await? {
            let text = |column: &str| row.try_get::<String, _>(column).map_err(unavailable);
            let key = text("key_id")?;
            let columns = [text("network")?, text("unit")?, text("per")?];
            let limit = row.try_get("amount").map_err(unavailable)?;
            let (budget, limit) = cap(&key, [&columns[0], &columns[1], &columns[2]], limit)?;
            caps.entry(key).or_default().set(budget, Some(limit));
        }
        Ok(caps)
    }

    /// What every key spent on `day`, by meter.
    pub(super) async fn spend(&self, day: &str) -> Result<KeySpend, KeysError> {
        let sql = "SELECT key_id, network, unit, used FROM api_key_spend WHERE day = ?";
        let mut spend = KeySpend::new();
        for row in self.rows(sql, &[Bind::Text(day.to_owned())]).await? {
            let text = |column: &str| row.try_get::<String, _>(column).map_err(unavailable);
            let key = text("key_id")?;
            let meter = meter(&key, &text("network")?, &text("unit")?)?;
            let used = amount(&key, row.try_get("used").map_err(unavailable)?)?;
            spend.entry(key).or_default().push((meter, used));
        }
        Ok(spend)
    }
}
