//! What the spend budgets spent, in the register's database beside the keys: one row per
//! budget counter and window, which every instance adds its settled spending to.

use super::keys::SqlKeys;
use super::statement::Bind;
use crate::domain::access::{LedgerUnavailable, SpendLedger, WindowSpend};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};

fn unavailable(e: sqlx::Error) -> LedgerUnavailable {
    LedgerUnavailable::because(e)
}

#[async_trait]
impl<DB> SpendLedger for SqlKeys<DB>
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
    async fn add_spent(
        &self,
        spent: &[WindowSpend],
        since: DateTime<Utc>,
    ) -> Result<Vec<WindowSpend>, LedgerUnavailable> {
        let add = "INSERT INTO budget_spent (counter, window_start_ms, units) VALUES (?, ?, ?) \
             ON CONFLICT (counter, window_start_ms) DO UPDATE SET \
             units = budget_spent.units + excluded.units";
        let forget = "DELETE FROM budget_spent WHERE window_start_ms < ?";
        let since = Bind::Int(since.timestamp_millis());
        // In one order on every instance, so that two writing at once never deadlock.
        let mut spent: Vec<&WindowSpend> = spent.iter().filter(|s| s.units > 0).collect();
        spent.sort_by(|a, b| (&a.counter, a.window_start_ms).cmp(&(&b.counter, b.window_start_ms)));
        let mut statements: Vec<(&str, Vec<Bind>)> = spent
            .into_iter()
            .map(|s| {
                let units = i64::try_from(s.units).unwrap_or(i64::MAX);
                let binds = vec![
                    Bind::Text(s.counter.clone()),
                    Bind::Int(s.window_start_ms),
                    Bind::Int(units),
                ];
                (add, binds)
            })
            .collect();
        statements.push((forget, vec![since.clone()]));
        // The figures are read in the transaction that adds to them: an error anywhere, the
        // read included, means nothing was added, so the caller may add the same again.
        let mut transaction = self.pool.begin().await.map_err(unavailable)?;
        for (sql, binds) in &statements {
            Self::query(self.dialect(sql), binds)
                .execute(&mut *transaction)
                .await
                .map_err(unavailable)?;
        }
        let select = self.dialect(
            "SELECT counter, window_start_ms, units FROM budget_spent WHERE window_start_ms >= ?",
        );
        let rows = Self::query(select, &[since])
            .fetch_all(&mut *transaction)
            .await
            .map_err(unavailable)?;
        let totals = rows
            .iter()
            .map(|row| {
                Ok(WindowSpend {
                    counter: row.try_get("counter").map_err(unavailable)?,
                    window_start_ms: row.try_get("window_start_ms").map_err(unavailable)?,
                    units: u64::try_from(row.try_get::<i64, _>("units").map_err(unavailable)?)
                        .unwrap_or(0),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        transaction.commit().await.map_err(unavailable)?;
        Ok(totals)
    }
}
