//! The migration that moved a key's budgets and usage from a column each to rows by meter:
//! a database written before it keeps every cap and every day's spending, on both backends.

use crate::support::TestDatabase;
use chrono::NaiveDate;
use connected::config::Config;
use connected::domain::access::{ApiKeys, Budget, Caps, KeyId, Meter, Usage};
use connected::startup;
use sqlx::migrate::Migrator;
use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

/// The first migration of rows by meter: the database is filled just before it.
const BY_METER: i64 = 20261218000001;

/// Two keys as the columns kept them: one capped on both budgets, one on none; and what the
/// first spent on two days.
const OLD_ROWS: [&str; 5] = [
    "INSERT INTO api_keys (id, name, secret_sha256, scopes, rate_requests, rate_period_seconds, \
     x_users_per_day, github_calls_per_hour, created_at_ms) VALUES ('abcdefghijkl', 'ci', \
     'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'check', 5, 3600, \
     1500, 60, 1700000000000)",
    "INSERT INTO api_keys (id, name, secret_sha256, scopes, rate_requests, rate_period_seconds, \
     x_users_per_day, github_calls_per_hour, created_at_ms) VALUES ('mnopqrstuvwx', 'ops', \
     'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 'check', 5, 3600, \
     NULL, NULL, 1700000001000)",
    "INSERT INTO api_key_usage (key_id, day, requests, x_users, github_calls) \
     VALUES ('abcdefghijkl', '2026-12-01', 7, 200, 4)",
    "INSERT INTO api_key_usage (key_id, day, requests, x_users, github_calls) \
     VALUES ('abcdefghijkl', '2026-12-02', 2, 0, 3)",
    "INSERT INTO api_key_usage (key_id, day, requests, x_users, github_calls) \
     VALUES ('mnopqrstuvwx', '2026-12-01', 1, 0, 0)",
];

/// The migrations in `folder` before the one of rows by meter.
async fn before_meters(folder: &str) -> Migrator {
    let mut migrator = Migrator::new(Path::new(folder)).await.unwrap();
    let older: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < BY_METER)
        .cloned()
        .collect();
    assert!(
        older.len() < migrator.migrations.len(),
        "the migration of rows by meter is in {folder}"
    );
    migrator.migrations = Cow::Owned(older);
    migrator
}

async fn keys(url: &str) -> Arc<dyn ApiKeys> {
    let mut config = Config::default();
    config.database.url = url.to_owned().into();
    startup::storage(&config)
        .await
        .expect("the store opens and migrates")
        .keys
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// What the keys say once migrated: the same caps, the same spending, day by day.
async fn moved(keys: Arc<dyn ApiKeys>) {
    let ci = KeyId::parse("abcdefghijkl").unwrap();
    let found = keys.find(&ci).await.unwrap().expect("the key is kept");
    assert_eq!(
        found.key.limits.budgets,
        Caps::default()
            .with(Budget::X_USERS_PER_DAY, Some(1500))
            .with(Budget::GITHUB_CALLS_PER_HOUR, Some(60))
    );
    let ops = KeyId::parse("mnopqrstuvwx").unwrap();
    let uncapped = keys.find(&ops).await.unwrap().expect("the key is kept");
    assert_eq!(uncapped.key.limits.budgets, Caps::default());
    let first = keys.list(day("2026-12-01")).await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(
        first[0].today,
        Usage::of(7)
            .with(Meter::X_USERS, 200)
            .with(Meter::GITHUB_CALLS, 4)
    );
    assert_eq!(
        first[1].key.limits.budgets,
        Caps::default(),
        "no cap stays none"
    );
    assert_eq!(first[1].today, Usage::of(1));
    let second = keys.list(day("2026-12-02")).await.unwrap();
    assert_eq!(second[0].today, Usage::of(2).with(Meter::GITHUB_CALLS, 3));
}

/// The columns of old are gone: nothing can write to them and be lost.
async fn dropped<DB: sqlx::Database>(pool: &sqlx::Pool<DB>)
where
    for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    for old in [
        "SELECT x_users_per_day FROM api_keys",
        "SELECT github_calls_per_hour FROM api_keys",
        "SELECT x_users FROM api_key_usage",
        "SELECT github_calls FROM api_key_usage",
    ] {
        assert!(sqlx::query(old).execute(pool).await.is_err(), "{old}");
    }
}

#[tokio::test]
async fn a_sqlite_database_keeps_its_keys_budgets_and_usage_through_the_move_to_meters() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
    let pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true))
        .await
        .unwrap();
    before_meters("migrations/sqlite")
        .await
        .run(&pool)
        .await
        .unwrap();
    for row in OLD_ROWS {
        sqlx::query(row).execute(&pool).await.unwrap();
    }
    pool.close().await;
    moved(keys(&url).await).await;
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    dropped(&pool).await;
}

#[tokio::test]
async fn a_postgres_database_keeps_its_keys_budgets_and_usage_through_the_move_to_meters() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    before_meters("migrations/postgres")
        .await
        .run(&pool)
        .await
        .unwrap();
    for row in OLD_ROWS {
        sqlx::query(row).execute(&pool).await.unwrap();
    }
    pool.close().await;
    moved(keys(&db.url).await).await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    dropped(&pool).await;
}
