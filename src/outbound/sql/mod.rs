//! The register's database, SQLite or PostgreSQL: a pair's history (the registers and the SQL
//! they share), the API keys, the spend ledger and the members kept beside it.

mod error;
mod history;
pub mod keys;
pub mod members;
pub mod postgres;
mod register;
mod retention;
mod spend_ledger;
pub mod sqlite;
mod statement;
