//! Configuration: every setting declared once, as a field of its section with its help (the
//! doc comment), its flag, its variable and its default. The command line (`inbound::cli`)
//! reads them from flags, then the environment, then a `.env` file in the working directory,
//! then the defaults, into these same structs, which the service is given.
//!
//! To add a setting: a field in its section with `long` and `env` (the same name), a default
//! (or `std::option::Option` for an optional one, see [`values::or_none_when_empty`]) and a
//! parser when the type's `FromStr` does not say how to write it; an `id` when a field of
//! another section, or an argument of a command, has the same name (a test says so). Then its
//! line in `.env.example` and in the table of `docs/configuration.md`: a test holds the three
//! together. A secret is read with [`values::FromEnvironmentOnly`] and held in a
//! [`Secret`](crate::secret::Secret) or a [`SecretUrl`](crate::secret::SecretUrl), so that
//! `Debug` never shows it.
//!
//! `serve` takes every section; the other commands take the sections they read
//! (`inbound::cli`'s `args.rs`), the rest at their defaults.

mod auth;
mod budgets;
mod cache;
mod database;
mod http;
mod log;
mod members;
mod page;
mod redis;
mod upstreams;
pub mod values;

pub use auth::{AuthMode, AuthSettings, Keys};
pub use budgets::ServiceBudgets;
pub use cache::CacheSettings;
pub use database::{DatabaseSettings, PoolSettings, RetentionSettings};
pub use http::{DEFAULT_LISTEN_ADDR, HttpSettings};
pub use log::{LogFormat, LogSettings};
pub use members::{MemberSettings, OAuthApp};
pub use page::PageSettings;
pub use redis::RedisSettings;
pub use upstreams::{BlueskySettings, GitHubSettings, UpstreamSettings, XSettings};

use clap::{Args, FromArgMatches};

/// Everything the application needs to start. `Debug` never shows a token or a password.
#[derive(Debug, Clone, Args)]
pub struct Config {
    #[command(flatten)]
    pub log: LogSettings,
    #[command(flatten)]
    pub auth: AuthSettings,
    #[command(flatten)]
    pub http: HttpSettings,
    #[command(flatten)]
    pub database: DatabaseSettings,
    #[command(flatten)]
    pub retention: RetentionSettings,
    #[command(flatten)]
    pub upstreams: UpstreamSettings,
    #[command(flatten)]
    pub cache: CacheSettings,
    #[command(flatten)]
    pub budgets: ServiceBudgets,
    #[command(flatten)]
    pub redis: RedisSettings,
    #[command(flatten)]
    pub members: MemberSettings,
    #[command(flatten)]
    pub page: PageSettings,
}

impl Default for Config {
    /// Every setting at its default, whatever the environment holds.
    fn default() -> Self {
        let settings = Self::augment_args(clap::Command::new("connected").no_binary_name(true))
            .mut_args(|setting| setting.env(None::<&str>));
        let defaults = settings
            .try_get_matches_from(std::iter::empty::<&str>())
            .and_then(|matches| Self::from_arg_matches(&matches));
        defaults.expect("every default is a valid value") // ok: constants, tested below
    }
}

impl Config {
    /// Who needs a key, and why, in words for the start-up line (`api_keys=…`): as `auth`
    /// says, and for `auto`, open to this host's own clients on a loopback address, open with
    /// the demo graph (it spends nothing), required otherwise.
    pub fn keys(&self) -> (Keys, &'static str) {
        let address = self.http.listen_addr;
        match self.auth.mode {
            AuthMode::Open => (Keys::Off, "not required (AUTH=open)"),
            AuthMode::Keys => (Keys::Required, "required (AUTH=keys)"),
            AuthMode::Auto if address.ip().to_canonical().is_loopback() => (
                Keys::ThroughProxies,
                "not required (listening on loopback; requests through a proxy need one)",
            ),
            AuthMode::Auto if self.upstreams.demo.is_some() => {
                (Keys::Off, "not required (the demo graph spends nothing)")
            }
            AuthMode::Auto => (Keys::Required, "required (not listening on loopback)"),
        }
    }
}

#[cfg(test)]
mod tests;
