//! A fresh PostgreSQL database per test on the server running on this machine, dropped
//! afterwards. Under CI (`CI` set) an unreachable server fails the test loudly; elsewhere the
//! test says it was skipped.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// Where the administrative connection goes; a database is created beside it per test.
pub fn admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

pub struct TestDatabase {
    pub url: String,
    name: String,
}

impl TestDatabase {
    /// Creates an empty database, or `None` when PostgreSQL is unreachable outside CI.
    pub async fn create() -> Option<Self> {
        let admin = admin_url();
        let mut conn = match PgConnection::connect(&admin).await {
            Ok(conn) => conn,
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!("SKIPPED: PostgreSQL is not reachable at {admin}: {e}");
                return None;
            }
            Err(e) => panic!("PostgreSQL must be reachable under CI at {admin}: {e}"),
        };
        let name = format!("connected_test_{}_{}", std::process::id(), rand_suffix());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("the test database is created");
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&name);
        Some(Self {
            url: url.to_string(),
            name,
        })
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{nanos}_{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside any runtime that could be blocked on: use a thread of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut conn) = PgConnection::connect(&admin_url()).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}
