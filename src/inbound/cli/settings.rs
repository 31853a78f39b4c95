//! The settings every command takes: flags, then the environment, then a `.env` file,
//! then defaults; tokens from the environment only.

use crate::config::{self, Config, Upstreams};
use crate::domain::Network;
use crate::outbound::PoolSettings;
use crate::outbound::cache::CacheSettings;
use crate::outbound::upstream::ServiceBudgets;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub(super) struct Settings {
    /// How the log is written: text, or json (one object a line: time, level, message,
    /// request id, route, status, latency, key, upstream calls, X users billed).
    #[arg(long, env = "LOG_FORMAT", default_value_t = config::LogFormat::Text, global = true, hide_env_values = true)]
    pub(super) log_format: config::LogFormat,
    /// Whether callers need an API key: auto (open on a loopback address or with --demo,
    /// keys required otherwise), keys, or open.
    #[arg(long, env = "AUTH", default_value_t = config::AuthMode::Auto, global = true, hide_env_values = true)]
    auth: config::AuthMode,
    /// The register: sqlite://FILE (created if missing) or postgres://USER:PASSWORD@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = config::DEFAULT_DATABASE_URL, global = true, hide_env_values = true)]
    database_url: String,
    /// GitHub REST origin.
    #[arg(long, env = "GITHUB_API_URL", default_value = config::DEFAULT_GITHUB_API_URL, global = true, hide_env_values = true)]
    github_api_url: String,
    /// X API origin, without /2.
    #[arg(long, env = "TWITTER_API_URL", default_value = config::DEFAULT_TWITTER_API_URL, global = true, hide_env_values = true)]
    twitter_api_url: String,
    /// Whole-request timeout for each upstream call (500ms, 2s, ...).
    #[arg(long, env = "UPSTREAM_TIMEOUT", default_value_t = config::Timeout(config::DEFAULT_UPSTREAM_TIMEOUT), global = true, hide_env_values = true)]
    upstream_timeout: config::Timeout,
    /// Database connections per instance (default: four per core, 4 to 64); SQLite reads
    /// through connections of its own, two per core.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = config::default_database_max_connections(), global = true, hide_env_values = true)]
    database_max_connections: u32,
    /// How long to wait for a database connection (start-up, each request, readiness).
    #[arg(long, env = "DATABASE_CONNECT_TIMEOUT", default_value_t = config::Timeout(config::DEFAULT_DATABASE_CONNECT_TIMEOUT), global = true, hide_env_values = true)]
    database_connect_timeout: config::Timeout,
    /// How long requests in flight may take to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "SHUTDOWN_GRACE", default_value_t = config::Timeout(config::DEFAULT_SHUTDOWN_GRACE), global = true, hide_env_values = true)]
    shutdown_grace: config::Timeout,
    /// The most a check or a team's network may take over HTTP, all upstream calls together.
    #[arg(long, env = "REQUEST_TIMEOUT", default_value_t = config::Timeout(config::DEFAULT_REQUEST_TIMEOUT), global = true, hide_env_values = true)]
    request_timeout: config::Timeout,
    /// How long a client has to send a request head, from its first byte (from the
    /// connection's start for the first request); slower ones are disconnected.
    #[arg(long, env = "HEADER_READ_TIMEOUT", default_value_t = config::Timeout(config::DEFAULT_HEADER_READ_TIMEOUT), global = true, hide_env_values = true)]
    header_read_timeout: config::Timeout,
    /// How long a connection with no request in flight stays open (keep it longer than the
    /// idle timeout of a load balancer in front).
    #[arg(long, env = "IDLE_TIMEOUT", default_value_t = config::Timeout(config::DEFAULT_IDLE_TIMEOUT), global = true, hide_env_values = true)]
    idle_timeout: config::Timeout,
    /// How long a response may wait on its client to take more of it (a client that stops
    /// reading); then its connection is dropped.
    #[arg(long, env = "SEND_TIMEOUT", default_value_t = config::Timeout(config::DEFAULT_SEND_TIMEOUT), global = true, hide_env_values = true)]
    send_timeout: config::Timeout,
    /// Open client connections at most, an HTTP/2 connection counting its requests in flight
    /// (lowered to fit the open-file limit); at the cap, the connection idle the longest is
    /// closed to let a new one in, or else one whose client has stopped reading.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = config::DEFAULT_MAX_CONNECTIONS, value_parser = parse_max_connections, global = true, hide_env_values = true)]
    max_connections: usize,
    /// How long upstream facts are cached (0 turns the cache off).
    #[arg(long, env = "CACHE_TTL", default_value_t = config::Ttl(config::DEFAULT_CACHE_TTL), global = true, hide_env_values = true)]
    cache_ttl: config::Ttl,
    /// How long "no such user" is cached.
    #[arg(long, env = "CACHE_TTL_NOT_FOUND", default_value_t = config::Ttl(config::DEFAULT_CACHE_TTL_NOT_FOUND), global = true, hide_env_values = true)]
    cache_ttl_not_found: config::Ttl,
    /// Upstream facts kept in process, per kind (least recently used out first).
    #[arg(long, env = "CACHE_MAX_ENTRIES", default_value_t = config::DEFAULT_CACHE_MAX_ENTRIES, global = true, hide_env_values = true)]
    cache_max_entries: u64,
    /// GitHub organisation pages kept with their ETag, to revalidate them at no rate-limit
    /// cost once their cached facts expire (least recently used out first).
    #[arg(long, env = "GITHUB_ETAG_ENTRIES", default_value_t = config::DEFAULT_GITHUB_ETAG_ENTRIES, global = true, hide_env_values = true)]
    github_etag_entries: u64,
    /// X users (returned by lookups and follow lists) the service may be billed for a UTC
    /// day, all keys together; unset: no cap.
    #[arg(long, env = "BUDGET_X_USERS_PER_DAY", value_parser = parse_budget, global = true, hide_env_values = true)]
    budget_x_users_per_day: Option<Budget>,
    /// Calls to GitHub the service may make an hour, all keys together; unset: no cap.
    #[arg(long, env = "BUDGET_GITHUB_CALLS_PER_HOUR", value_parser = parse_budget, global = true, hide_env_values = true)]
    budget_github_calls_per_hour: Option<Budget>,
    /// Whose follows count: x, github (GitHub's own follow graph) or bluesky.
    #[arg(long, env = "SOCIAL_GRAPH", default_value = "x", value_parser = parse_social_graph, global = true, hide_env_values = true)]
    social_graph: Network,
    /// Bluesky AppView origin.
    #[arg(long, env = "BLUESKY_API_URL", default_value = config::DEFAULT_BLUESKY_API_URL, global = true, hide_env_values = true)]
    bluesky_api_url: String,
    /// Appended to a handle without a dot to make a Bluesky handle.
    #[arg(long, env = "BLUESKY_HANDLE_SUFFIX", default_value = config::DEFAULT_BLUESKY_HANDLE_SUFFIX, global = true, hide_env_values = true)]
    bluesky_handle_suffix: String,
    /// How long register entries are kept (400d, 1y, ...): older ones are no longer served
    /// and are deleted in the background. Unset or empty keeps them for ever.
    #[arg(long, env = "REGISTER_RETENTION", value_parser = parse_retention, global = true, hide_env_values = true)]
    register_retention: Option<Retention>,
    /// Host names (comma-separated, no scheme or port) an open service answers to, besides
    /// localhost and IP addresses: with no API key required, a request naming any other host
    /// is refused (421), so that a web page cannot reach the service through a name of its
    /// own (DNS rebinding).
    #[arg(long, env = "ALLOWED_HOSTS", default_value = "", value_parser = parse_allowed_hosts, global = true, hide_env_values = true)]
    allowed_hosts: AllowedHosts,
    /// Every Redis key starts with this.
    #[arg(long, env = "REDIS_PREFIX", default_value = config::DEFAULT_REDIS_PREFIX, global = true, hide_env_values = true)]
    redis_prefix: String,
    /// Use a social graph from a JSON file instead of the real APIs (the bundled example when
    /// no file is given). Put it after the developers, or write --demo=FILE.
    #[arg(long, value_name = "GRAPH.json", num_args = 0..=1, global = true, hide_env_values = true)]
    demo: Option<Option<PathBuf>>,
}

fn parse_social_graph(raw: &str) -> Result<Network, String> {
    Network::from_id(&raw.trim().to_lowercase())
        .ok_or_else(|| format!("{raw:?} is not a social graph: use x, github or bluesky"))
}

fn parse_max_connections(raw: &str) -> Result<usize, String> {
    match raw.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{e} (write a count such as 10000)")),
    }
}

/// A budget as written: empty, as `.env.example` leaves it, is no cap.
#[derive(Debug, Clone, Copy)]
struct Budget(Option<u64>);

fn parse_budget(raw: &str) -> Result<Budget, String> {
    if raw.trim().is_empty() {
        return Ok(Budget(None));
    }
    raw.trim()
        .parse::<u64>()
        .map(|n| Budget(Some(n)))
        .map_err(|e| format!("{e} (write a count such as 1500, or leave it empty for no cap)"))
}

/// A retention as written: empty, as `.env.example` leaves it, keeps everything.
#[derive(Debug, Clone, Copy)]
struct Retention(Option<std::time::Duration>);

fn parse_retention(raw: &str) -> Result<Retention, String> {
    if raw.trim().is_empty() {
        return Ok(Retention(None));
    }
    raw.parse::<config::Timeout>()
        .map(|retention| Retention(Some(retention.0)))
}

/// Host names as written: empty is none.
#[derive(Debug, Clone)]
struct AllowedHosts(Vec<String>);

fn parse_allowed_hosts(raw: &str) -> Result<AllowedHosts, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(config::allowed_host)
        .collect::<Result<_, _>>()
        .map(AllowedHosts)
}

impl Settings {
    /// The configuration these settings make.
    ///
    /// # Errors
    /// A message naming the setting that is wrong (an upstream origin that is not an http(s)
    /// URL); the value is not repeated when it may hold a secret.
    pub(super) fn config(self, listen_addr: Option<SocketAddr>) -> Result<Config, String> {
        let secrets = config::Secrets::from_env();
        Ok(Config {
            listen_addr: listen_addr.unwrap_or(Config::default().listen_addr),
            auth: self.auth,
            allowed_hosts: self.allowed_hosts.0,
            database_url: self.database_url,
            github_api_url: config::upstream_url(&self.github_api_url, "GITHUB_API_URL")?,
            github_token: secrets.github_token,
            twitter_api_url: config::upstream_url(&self.twitter_api_url, "TWITTER_API_URL")?,
            twitter_bearer_token: secrets.twitter_bearer_token,
            upstream_timeout: self.upstream_timeout.0,
            upstreams: match self.demo {
                None => Upstreams::Real,
                Some(file) => Upstreams::Demo(file),
            },
            database: PoolSettings {
                max_connections: self.database_max_connections,
                connect_timeout: self.database_connect_timeout.0,
            },
            shutdown_grace: self.shutdown_grace.0,
            request_timeout: self.request_timeout.0,
            header_read_timeout: self.header_read_timeout.0,
            idle_timeout: self.idle_timeout.0,
            send_timeout: self.send_timeout.0,
            max_connections: self.max_connections,
            cache: CacheSettings {
                ttl: self.cache_ttl.0,
                ttl_not_found: self.cache_ttl_not_found.0,
                max_entries: self.cache_max_entries,
            },
            github_etag_entries: self.github_etag_entries,
            budgets: ServiceBudgets {
                x_users_per_day: self.budget_x_users_per_day.and_then(|b| b.0),
                github_calls_per_hour: self.budget_github_calls_per_hour.and_then(|b| b.0),
            },
            redis_url: secrets.redis_url,
            redis_prefix: self.redis_prefix,
            social_graph: self.social_graph,
            bluesky_api_url: config::upstream_url(&self.bluesky_api_url, "BLUESKY_API_URL")?,
            bluesky_handle_suffix: self.bluesky_handle_suffix,
            register_retention: self.register_retention.and_then(|r| r.0),
        })
    }
}
