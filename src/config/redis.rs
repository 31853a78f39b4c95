//! Redis, to share the cache, the rate-limit memory and the budgets' counts between
//! instances.

use super::values::FromEnvironmentOnly;
use crate::secret::Secret;
use clap::Args;

/// Redis's settings.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Redis")]
pub struct RedisSettings {
    /// Redis (`redis://[:PASSWORD@]HOST:PORT[/DB]`); without it all stays in process.
    #[arg(id = "redis_url", long = "redis-url", env = "REDIS_URL", hide = true, default_value = "", value_parser = FromEnvironmentOnly)]
    pub url: std::option::Option<Secret>,
    /// Every Redis key starts with this.
    #[arg(
        long = "redis-prefix",
        env = "REDIS_PREFIX",
        default_value = "connected:"
    )]
    pub prefix: String,
}
