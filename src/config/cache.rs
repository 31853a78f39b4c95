//! How long upstream facts are kept, and how many.

use super::values::ttl;
use clap::Args;
use std::time::Duration;

/// How long facts are kept and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
#[command(next_help_heading = "Cache")]
pub struct CacheSettings {
    /// How long upstream facts are cached (0 turns the cache off).
    #[arg(long = "cache-ttl", env = "CACHE_TTL", default_value = "10m", value_parser = ttl)]
    pub ttl: Duration,
    /// How long "no such user" is cached.
    #[arg(long = "cache-ttl-not-found", env = "CACHE_TTL_NOT_FOUND", default_value = "1m", value_parser = ttl)]
    pub ttl_not_found: Duration,
    /// Upstream facts kept in process, per kind (least recently used out first).
    #[arg(
        long = "cache-max-entries",
        env = "CACHE_MAX_ENTRIES",
        default_value = "100000"
    )]
    pub max_entries: u64,
}
