//! Configuration: flags, then environment variables, then a `.env` file in the working
//! directory, then defaults (the command line in `inbound::cli` reads them in that order).

use crate::outbound::cache::CacheSettings;
use crate::outbound::upstream::ServiceBudgets;
use crate::outbound::{PoolSettings, redact_url};
use crate::secret::Secret;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:5000";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://connected.db";
pub const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";
pub const DEFAULT_TWITTER_API_URL: &str = "https://api.x.com";
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_DATABASE_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Long enough for any real client on a slow link to send a request head (a few hundred
/// bytes), short enough that a client trickling one holds its connection for seconds only.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Longer than the idle timeout of the proxies and load balancers usually in front (60 s for
/// AWS's ALB and nginx's upstream keep-alive), so that they, not we, close a pooled
/// connection: the side that closes first can race a request sent on it, which the proxy
/// then answers 502. The same as nginx's own default. Idle connections are cheap, and at the
/// cap the longest idle is closed first anyway.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(75);
/// Long enough for a client on a slow link to take a part of an answer (hyper hands the
/// socket a few tens of KiB at a time), short enough that a client which stops reading
/// gives back its connection, and any turn its answer holds, within half a minute.
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Open client connections at most (it is lowered to fit the open-file limit).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(600);
pub const DEFAULT_CACHE_TTL_NOT_FOUND: Duration = Duration::from_secs(60);
pub const DEFAULT_CACHE_MAX_ENTRIES: u64 = 100_000;
pub const DEFAULT_GITHUB_ETAG_ENTRIES: u64 = 100_000;
pub const DEFAULT_REDIS_PREFIX: &str = "connected:";
pub const DEFAULT_BLUESKY_API_URL: &str = "https://public.api.bsky.app";
pub const DEFAULT_BLUESKY_HANDLE_SUFFIX: &str = ".bsky.social";

/// An upstream's origin, from the setting `variable`: an http(s) URL. The message never
/// repeats a value that is not one (it may be a token pasted into the wrong variable), and
/// shows one that is with its credentials hidden.
///
/// # Errors
/// A message naming `variable` and what it must be.
pub fn upstream_url(raw: &str, variable: &str) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("{variable} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(format!(
            "{variable} must be an http(s) URL, not {}",
            redact_url(raw)
        ));
    }
    Ok(url)
}

/// A host name an open service answers to, as written in `ALLOWED_HOSTS`: compared in lower
/// case, without a final dot.
///
/// # Errors
/// A message when it is not a bare name (a scheme, a port, a path, a space).
pub fn allowed_host(raw: &str) -> Result<String, String> {
    let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let bare = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if bare {
        Ok(name)
    } else {
        Err(format!(
            "ALLOWED_HOSTS: {raw:?} is not a host name (write names such as demo.example.com, without scheme or port)"
        ))
    }
}

/// A default origin, a constant known to be one.
fn default_url(raw: &str) -> Url {
    upstream_url(raw, "a default").expect("the default origins are http(s) URLs") // ok: constants
}

/// Connections to a shared database per instance by default: a few per core keeps the
/// cores busy while queries wait on the network, without crowding the server.
pub fn default_database_max_connections() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    u32::try_from(cores * 4).unwrap_or(u32::MAX).clamp(4, 64)
}

/// A duration setting longer than zero, written as `500ms`, `2s`, `10m`: parsed once, and
/// shown the same way (in help, as a default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout(pub Duration);

impl std::str::FromStr for Timeout {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let duration = humantime::parse_duration(raw)
            .map_err(|e| format!("{e} (write 500ms, 2s, 1m, ...)"))?;
        if duration.is_zero() {
            return Err("must be longer than zero".to_owned());
        }
        Ok(Self(duration))
    }
}

impl std::fmt::Display for Timeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        humantime::format_duration(self.0).fmt(f)
    }
}

/// How long something is kept: a duration, or `0` for not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttl(pub Duration);

impl std::str::FromStr for Ttl {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        if raw.trim() == "0" {
            return Ok(Self(Duration::ZERO));
        }
        humantime::parse_duration(raw)
            .map(Self)
            .map_err(|e| format!("{e} (write 0, 30s, 10m, ...)"))
    }
}

impl std::fmt::Display for Ttl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_zero() {
            f.write_str("0")
        } else {
            humantime::format_duration(self.0).fmt(f)
        }
    }
}

/// The secrets, read from the environment (or `.env`) only, never from flags, so that they
/// appear in no process listing or shell history; an empty value is no value.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    pub github_token: Option<Secret>,
    pub twitter_bearer_token: Option<Secret>,
    pub redis_url: Option<Secret>,
}

impl Secrets {
    /// `GITHUB_TOKEN`, `TWITTER_BEARER_TOKEN` and `REDIS_URL`.
    pub fn from_env() -> Self {
        let read = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(Secret::new)
        };
        Self {
            github_token: read("GITHUB_TOKEN"),
            twitter_bearer_token: read("TWITTER_BEARER_TOKEN"),
            redis_url: read("REDIS_URL"),
        }
    }
}

/// Whether callers need an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// Open on a loopback address or with the demo graph; keys required otherwise.
    #[default]
    Auto,
    /// Keys always required.
    Keys,
    /// Never: anyone who reaches the port may spend the upstream budgets.
    Open,
}

impl std::str::FromStr for AuthMode {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.trim().to_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "keys" => Ok(Self::Keys),
            "open" => Ok(Self::Open),
            _ => Err("use auto, keys or open".to_owned()),
        }
    }
}

impl std::fmt::Display for AuthMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Keys => "keys",
            Self::Open => "open",
        })
    }
}

/// Who needs an API key, as the auth mode and the listen address decide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// Every guarded route needs one.
    Required,
    /// Open to this host's own clients, on a loopback address: a request that came through
    /// a proxy (it carries a header a proxy adds: `Forwarded`, `Via`, `X-Forwarded-For`, …)
    /// is not one of them, and needs a key.
    ThroughProxies,
    /// Open to everyone who reaches the port.
    Off,
}

/// How the log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object a line, for collectors.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.trim().to_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err("use text or json".to_owned()),
        }
    }
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Text => "text",
            Self::Json => "json",
        })
    }
}

/// Where the answers come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstreams {
    /// The real GitHub and X APIs.
    Real,
    /// A social graph from a JSON file; the bundled example when no file is given.
    Demo(Option<PathBuf>),
}

/// Everything the application needs to start. `Debug` never shows a token or a password.
#[derive(Clone)]
pub struct Config {
    pub listen_addr: SocketAddr,
    /// Whether callers need an API key.
    pub auth: AuthMode,
    pub database_url: String,
    pub github_api_url: Url,
    pub github_token: Option<Secret>,
    pub twitter_api_url: Url,
    pub twitter_bearer_token: Option<Secret>,
    pub upstream_timeout: Duration,
    pub upstreams: Upstreams,
    /// The register's connection pool.
    pub database: PoolSettings,
    /// How long in-flight requests may take to finish after SIGTERM or Ctrl-C.
    pub shutdown_grace: Duration,
    /// The most a check or a team's network may take, all upstream calls together.
    pub request_timeout: Duration,
    /// How long a client has to send a request head, from its first byte (from the
    /// connection's start for the first request).
    pub header_read_timeout: Duration,
    /// How long a connection with no request in flight stays open.
    pub idle_timeout: Duration,
    /// How long a response may wait on its client to take more of it before its connection
    /// is dropped.
    pub send_timeout: Duration,
    /// Open client connections at most, an HTTP/2 connection counting its requests in flight;
    /// at the cap, the longest idle one is closed, or else one whose client does not read.
    pub max_connections: usize,
    /// How long upstream facts are kept, and how many.
    pub cache: CacheSettings,
    /// GitHub organisation pages kept with their `ETag`, to revalidate them.
    pub github_etag_entries: u64,
    /// What the service may spend upstream; `None` is no cap.
    pub budgets: ServiceBudgets,
    /// Redis, to share the cache and the rate-limit memory between instances.
    pub redis_url: Option<Secret>,
    /// Every Redis key starts with this.
    pub redis_prefix: String,
    /// Whose follows count: X (the default), GitHub's own follow graph, or Bluesky.
    pub social_graph: crate::domain::Network,
    pub bluesky_api_url: Url,
    /// Appended to a handle without a dot to make a Bluesky handle.
    pub bluesky_handle_suffix: String,
    /// How long register entries are kept and served; `None` keeps them for ever.
    pub register_retention: Option<Duration>,
    /// Host names an open service answers to besides loopback names and IP addresses
    /// (lower case, without port).
    pub allowed_hosts: Vec<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen_addr", &self.listen_addr)
            .field("auth", &self.auth)
            .field("database_url", &redact_url(&self.database_url))
            // A proxy in front of an upstream may be given with credentials in its URL.
            .field("github_api_url", &redact_url(self.github_api_url.as_str()))
            .field("github_token", &self.github_token)
            .field(
                "twitter_api_url",
                &redact_url(self.twitter_api_url.as_str()),
            )
            .field("twitter_bearer_token", &self.twitter_bearer_token)
            .field("upstream_timeout", &self.upstream_timeout)
            .field("upstreams", &self.upstreams)
            .field("database", &self.database)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("request_timeout", &self.request_timeout)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("send_timeout", &self.send_timeout)
            .field("max_connections", &self.max_connections)
            .field("cache", &self.cache)
            .field("github_etag_entries", &self.github_etag_entries)
            .field("budgets", &self.budgets)
            .field("redis_url", &self.redis_url)
            .field("redis_prefix", &self.redis_prefix)
            .field("social_graph", &self.social_graph)
            .field(
                "bluesky_api_url",
                &redact_url(self.bluesky_api_url.as_str()),
            )
            .field("bluesky_handle_suffix", &self.bluesky_handle_suffix)
            .field("register_retention", &self.register_retention)
            .field("allowed_hosts", &self.allowed_hosts)
            .finish()
    }
}

impl Config {
    /// Who needs a key, and why, in words for the start-up line: as `auth` says, and for
    /// `auto`, open to this host's own clients on a loopback address, open with the demo
    /// graph (it spends nothing), required otherwise.
    pub fn keys(&self) -> (Keys, String) {
        let address = self.listen_addr;
        match self.auth {
            AuthMode::Open => (Keys::Off, "auth=open".to_owned()),
            AuthMode::Keys => (Keys::Required, "auth=keys".to_owned()),
            AuthMode::Auto if address.ip().to_canonical().is_loopback() => (
                Keys::ThroughProxies,
                format!(
                    "auth=auto, listening on loopback {address}; requests through a proxy need a key"
                ),
            ),
            AuthMode::Auto if matches!(self.upstreams, Upstreams::Demo(_)) => {
                (Keys::Off, format!("auth=auto, the demo graph on {address}"))
            }
            AuthMode::Auto => (Keys::Required, format!("auth=auto, listening on {address}")),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 5000)),
            auth: AuthMode::Auto,
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            github_api_url: default_url(DEFAULT_GITHUB_API_URL),
            github_token: None,
            twitter_api_url: default_url(DEFAULT_TWITTER_API_URL),
            twitter_bearer_token: None,
            upstream_timeout: DEFAULT_UPSTREAM_TIMEOUT,
            upstreams: Upstreams::Real,
            database: PoolSettings {
                max_connections: default_database_max_connections(),
                connect_timeout: DEFAULT_DATABASE_CONNECT_TIMEOUT,
            },
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            send_timeout: DEFAULT_SEND_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            cache: CacheSettings {
                ttl: DEFAULT_CACHE_TTL,
                ttl_not_found: DEFAULT_CACHE_TTL_NOT_FOUND,
                max_entries: DEFAULT_CACHE_MAX_ENTRIES,
            },
            github_etag_entries: DEFAULT_GITHUB_ETAG_ENTRIES,
            budgets: ServiceBudgets::default(),
            redis_url: None,
            redis_prefix: DEFAULT_REDIS_PREFIX.to_owned(),
            social_graph: crate::domain::Network::X,
            bluesky_api_url: default_url(DEFAULT_BLUESKY_API_URL),
            bluesky_handle_suffix: DEFAULT_BLUESKY_HANDLE_SUFFIX.to_owned(),
            register_retention: None,
            allowed_hosts: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_tokens_and_passwords() {
        let config = Config {
            github_token: Some(Secret::new("ghp_abcdef")),
            twitter_bearer_token: Some(Secret::new("AAAAbearer")),
            database_url: "postgres://app:pg-password@db/connected?sslpassword=key-password".into(),
            redis_url: Some(Secret::new("redis://:redis-password@cache:6379")),
            github_api_url: "https://proxy-user:proxy-password@proxy/github"
                .parse()
                .unwrap(),
            twitter_api_url: "https://proxy/x?api_key=proxy-key".parse().unwrap(),
            ..Config::default()
        };
        let shown = format!("{config:?}");
        for secret in [
            "ghp_abcdef",
            "AAAAbearer",
            "pg-password",
            "key-password",
            "redis-password",
            "proxy-password",
            "proxy-key",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert_eq!(config.listen_addr.to_string(), DEFAULT_LISTEN_ADDR);
    }

    #[test]
    fn an_upstream_url_must_be_http_and_is_never_echoed_with_its_secrets() {
        assert!(upstream_url("http://127.0.0.1:9/api/", "GITHUB_API_URL").is_ok());
        let err = upstream_url("not a url s3cret", "GITHUB_API_URL").unwrap_err();
        assert!(err.starts_with("GITHUB_API_URL is not a URL"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        let err = upstream_url("ftp://u:s3cret@host/", "TWITTER_API_URL").unwrap_err();
        assert!(
            err.starts_with("TWITTER_API_URL must be an http(s) URL"),
            "{err}"
        );
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn keys_are_required_off_loopback_unless_told_otherwise() {
        let on = |addr: &str, auth: AuthMode, upstreams: Upstreams| {
            Config {
                listen_addr: addr.parse().unwrap(),
                auth,
                upstreams,
                ..Config::default()
            }
            .keys()
            .0
        };
        let real = || Upstreams::Real;
        let demo = || Upstreams::Demo(None);
        for local in [
            "127.0.0.1:5000",
            "127.9.9.9:5000",
            "[::1]:5000",
            "[::ffff:127.0.0.1]:5000",
        ] {
            assert_eq!(
                on(local, AuthMode::Auto, real()),
                Keys::ThroughProxies,
                "{local}"
            );
            assert_eq!(
                on(local, AuthMode::Auto, demo()),
                Keys::ThroughProxies,
                "{local}"
            );
        }
        for public in ["0.0.0.0:5000", "[::]:5000", "192.168.1.2:5000"] {
            assert_eq!(
                on(public, AuthMode::Auto, real()),
                Keys::Required,
                "{public}"
            );
        }
        assert_eq!(on("0.0.0.0:5000", AuthMode::Auto, demo()), Keys::Off);
        assert_eq!(on("127.0.0.1:5000", AuthMode::Keys, demo()), Keys::Required);
        assert_eq!(on("0.0.0.0:5000", AuthMode::Open, real()), Keys::Off);
        assert_eq!(on("127.0.0.1:5000", AuthMode::Open, real()), Keys::Off);
        assert_eq!("KEYS".parse::<AuthMode>(), Ok(AuthMode::Keys));
        assert!("closed".parse::<AuthMode>().is_err());
    }

    #[test]
    fn the_start_up_line_says_why_keys_are_needed_or_not() {
        let why = |addr: &str, auth: AuthMode| {
            Config {
                listen_addr: addr.parse().unwrap(),
                auth,
                ..Config::default()
            }
            .keys()
            .1
        };
        assert_eq!(
            why("127.0.0.1:5000", AuthMode::Auto),
            "auth=auto, listening on loopback 127.0.0.1:5000; requests through a proxy need a key"
        );
        assert_eq!(
            why("0.0.0.0:5000", AuthMode::Auto),
            "auth=auto, listening on 0.0.0.0:5000"
        );
        assert_eq!(why("0.0.0.0:5000", AuthMode::Open), "auth=open");
    }

    #[test]
    fn an_allowed_host_is_a_bare_name_in_lower_case() {
        assert_eq!(
            allowed_host(" Demo.Example.COM. "),
            Ok("demo.example.com".to_owned())
        );
        for wrong in [
            "https://demo.example.com",
            "demo.example.com:5000",
            "a b",
            "",
            "x/y",
        ] {
            assert!(allowed_host(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn durations_read_and_show_as_written() {
        let timeout: Timeout = "1m 15s".parse().unwrap();
        assert_eq!(timeout, Timeout(Duration::from_secs(75)));
        assert_eq!(Timeout(DEFAULT_REQUEST_TIMEOUT).to_string(), "1m");
        assert!("0".parse::<Timeout>().is_err());
        assert!("soon".parse::<Timeout>().is_err());
        let off: Ttl = "0".parse().unwrap();
        assert_eq!(
            (off, off.to_string()),
            (Ttl(Duration::ZERO), "0".to_owned())
        );
        assert_eq!(Ttl(DEFAULT_CACHE_TTL).to_string(), "10m");
    }
}
