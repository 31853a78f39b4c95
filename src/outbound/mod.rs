//! The ports implemented with real technology. Each adapter turns its technology's failures
//! into the port's errors at the boundary.

pub mod bluesky;
pub mod cache;
pub mod clock;
pub mod counters;
mod database_error;
pub mod demo;
pub mod github;
mod history;
pub mod keys_sql;
pub mod postgres;
pub mod recent_keys;
mod register_sql;
mod retention;
pub mod shared;
mod spend_sql;
pub mod sqlite;
pub mod upstream;
pub mod x;
