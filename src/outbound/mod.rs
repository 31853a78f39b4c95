//! The ports implemented with real technology, grouped by technology and role. Each adapter
//! turns its technology's failures into the port's errors at the boundary.
//!
//! - [`upstreams`]: the APIs asked for facts (GitHub, X, Bluesky, the offline demo graph) and
//!   the one HTTP client they share, with what it spends;
//! - [`sql`]: the register, the keys and the spend ledger, in SQLite or PostgreSQL;
//! - [`redis`]: the store several instances share, and the counters kept in it;
//! - [`cache`]: decorators that remember what the ports above answered;
//! - [`clock`]: the system's clock.

pub mod cache;
pub mod clock;
pub mod redis;
pub mod sql;
pub mod upstreams;
