//! The register's database, SQLite or PostgreSQL: a pair's history (the registers and the SQL
//! they share), the API keys and the spend ledger kept beside it.

mod error;
mod history;
pub mod keys;
pub mod postgres;
mod register;
mod retention;
mod spend_ledger;
pub mod sqlite;
