//! The Redis server the sharing tests use, each test under a key prefix of its own.

/// The Redis server the sharing tests use.
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A key prefix of this test's own; its keys are deleted when it ends.
pub struct RedisPrefix(pub String);

impl RedisPrefix {
    pub async fn new() -> Option<Self> {
        let client = redis::Client::open(redis_url()).unwrap();
        match client.get_multiplexed_async_connection().await {
            Ok(_) => {}
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!("SKIPPED: Redis is not reachable at {}: {e}", redis_url());
                return None;
            }
            Err(e) => panic!("Redis must be reachable under CI at {}: {e}", redis_url()),
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Some(Self(format!(
            "connected-test:{}:{nanos}:",
            std::process::id()
        )))
    }

    pub async fn keys(&self) -> Vec<String> {
        let client = redis::Client::open(redis_url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("KEYS")
            .arg(format!("{}*", self.0))
            .query_async(&mut conn)
            .await
            .unwrap()
    }
}

impl RedisPrefix {
    /// Deletes every key under the prefix: Redis as it comes back from an empty restart.
    pub async fn delete_keys(&self) {
        let keys = self.keys().await;
        if keys.is_empty() {
            return;
        }
        let client = redis::Client::open(redis_url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let () = redis::cmd("DEL")
            .arg(keys)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        let prefix = self.0.clone();
        let _ = std::thread::spawn(move || {
            let client = redis::Client::open(redis_url()).unwrap();
            if let Ok(mut conn) = client.get_connection() {
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(format!("{prefix}*"))
                    .query(&mut conn)
                    .unwrap_or_default();
                if !keys.is_empty() {
                    let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut conn);
                }
            }
        })
        .join();
    }
}
