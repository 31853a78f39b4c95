//! The database: where the register and the keys are kept, its pool of connections, and
//! how long the register keeps its entries.

use super::values::{or_none_when_empty, timeout};
use crate::secret::SecretUrl;
use clap::Args;
use std::time::Duration;

/// The database's settings.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Database")]
pub struct DatabaseSettings {
    /// The register: sqlite://FILE (created if missing) or postgres://USER:PASSWORD@HOST/DB.
    #[arg(
        long = "database-url",
        env = "DATABASE_URL",
        default_value = "sqlite://connected.db"
    )]
    pub url: SecretUrl,
    #[command(flatten)]
    pub pool: PoolSettings,
}

/// How a register's pool of database connections is sized and waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
pub struct PoolSettings {
    /// Database connections per instance (default: four per core, 4 to 64); SQLite reads
    /// through connections of its own, two per core; PostgreSQL reads on up to half of
    /// these, held between reads.
    #[arg(id = "database_max_connections", long = "database-max-connections", env = "DATABASE_MAX_CONNECTIONS", default_value_t = default_max_connections())]
    pub max_connections: u32,
    /// How long to wait for a database connection (start-up, each request, readiness).
    #[arg(long = "database-connect-timeout", env = "DATABASE_CONNECT_TIMEOUT", default_value = "5s", value_parser = timeout)]
    pub connect_timeout: Duration,
}

impl PoolSettings {
    /// How long an unused connection stays open.
    pub const IDLE_TIMEOUT: Duration = Duration::from_secs(600);
    /// How long a connection is used before it is replaced by a new one.
    pub const MAX_LIFETIME: Duration = Duration::from_secs(1800);
}

/// Connections to a shared database per instance by default: a few per core keeps the
/// cores busy while queries wait on the network, without crowding the server.
fn default_max_connections() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    u32::try_from(cores * 4).unwrap_or(u32::MAX).clamp(4, 64)
}

/// How long what is kept is kept.
#[derive(Debug, Clone, Copy, Args)]
#[command(next_help_heading = "Database")]
pub struct RetentionSettings {
    /// How long register entries are kept (400d, 1y, ...): older ones are no longer served
    /// and are deleted in the background. Unset or empty keeps them for ever.
    #[arg(long = "register-retention", env = "REGISTER_RETENTION", default_value = "", hide_default_value = true, value_parser = or_none_when_empty(timeout))]
    pub register: std::option::Option<Duration>,
}
