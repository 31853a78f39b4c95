//! The harness every test uses: the application on a free port against fake upstreams
//! (`app`), a fresh PostgreSQL database (`postgres`) and a Redis key prefix (`redis`) per
//! test, each cleaned up when the test ends.

mod app;
mod members;
mod postgres;
mod redis;

pub use app::{TestApp, spawn_app, spawn_app_with};
pub use members::{Browser, spawn_member_app};
pub use postgres::{TestDatabase, admin_url};
pub use redis::{RedisPrefix, redis_url};
