//! Caches of upstream facts, as decorators that implement the same ports: a GitHub user's
//! organisations, an X user's id and counts, whether one X user follows another. Not the
//! verdicts: a verdict is always decided again from facts, fresh or cached.
//!
//! Each fact lives in process (moka: bounded, least recently used out, and concurrent loads
//! of one key share one upstream call) and, when Redis is configured, in Redis too, so one
//! instance reuses what another fetched. Failures are never cached; a not-found is, for its
//! own shorter time. A rate limit is remembered until it resets, and calls that would hit it
//! fail at once without being made.

mod code_host;
mod expiring;
mod fact_cache;
mod limits;
pub mod recent_keys;
mod social_graph;
mod stored;

pub use code_host::CachedCodeHost;
pub use limits::RateLimitMemory;
pub use social_graph::CachedSocialGraph;

use crate::config::CacheSettings;
use std::time::Duration;

/// What the cache of a social graph is told of it at wiring: the names its facts are kept
/// under (metrics labels, shared keys) and its calls limited under (calls that share a limit
/// upstream share a name), and whether it answers one pair at a time (no list to read once
/// for many), so that each pair's answer is kept as it comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphProfile {
    pub users_cache: &'static str,
    pub relationships_cache: &'static str,
    pub lookup_limit: &'static str,
    pub follows_limit: &'static str,
    pub pair_by_pair: bool,
}

impl CacheSettings {
    /// How long a fact is kept: a found one, or (for its own time) one that says "not found".
    fn ttl_of<T>(&self, fact: &Option<T>) -> Duration {
        match fact {
            Some(_) => self.ttl,
            None if self.ttl.is_zero() => Duration::ZERO,
            None => self.ttl_not_found,
        }
    }
}
