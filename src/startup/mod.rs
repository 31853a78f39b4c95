//! Builds the application from configuration: picks the adapters and binds the listener.
//! `main` and the tests go through the same functions.

mod application;
mod error;
mod members;

pub use application::{Application, shutdown_signal};
pub use error::StartupError;

use crate::application::{Access, UseCases};
use crate::config::{self, Config};
use crate::domain::access::{ApiKeys, Counters, SpendLedger};
use crate::domain::members::Members;
use crate::domain::{Chain, Clock, Network, Register, SocialGraph};
use crate::metrics::Metrics;
use crate::outbound::cache::recent_keys::RecentKeys;
use crate::outbound::cache::{CachedCodeHost, CachedSocialGraph, GraphProfile, RateLimitMemory};
use crate::outbound::clock::SystemClock;
use crate::outbound::redis::counters::SharedCounters;
use crate::outbound::redis::store::RedisStore;
use crate::outbound::sql::postgres::PostgresRegister;
use crate::outbound::sql::sqlite::SqliteRegister;
use crate::outbound::upstreams::bluesky::{self, BlueskyAppView};
use crate::outbound::upstreams::client::Spending;
use crate::outbound::upstreams::demo::{DemoGraph, Examples};
use crate::outbound::upstreams::github::{self, GitHubRest};
use crate::outbound::upstreams::x::{self, XApi};
use crate::secret::TokenCipher;
use std::sync::Arc;

/// The use cases wired to the adapters the configuration names, and the budgets they spend
/// from: a command that ends writes what it spent with [`Spending::write_spent`], so that
/// the next run (or an instance) starts from it.
///
/// # Errors
/// [`StartupError`] when a token is missing, a URL is wrong, the demo graph is unreadable or
/// the register cannot be opened.
pub async fn use_cases_and_spending(
    config: &Config,
    metrics: &Arc<Metrics>,
) -> Result<(UseCases, Spending), StartupError> {
    let storage = storage(config).await?;
    let coordination = Coordination::new(config)?;
    let spending = coordination
        .spending(config, metrics, storage.ledger)
        .await?;
    let wiring = Wiring {
        config,
        metrics,
        coordination: &coordination,
        spending: &spending,
    };
    Ok((wiring.use_cases(storage.register)?.0, spending))
}

/// The clock every rule that depends on the time reads: the system's.
pub fn clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// What instances share: Redis when configured, and the counters kept in it (in process
/// otherwise); and the clock they read, the system's.
struct Coordination {
    store: Option<RedisStore>,
    counters: Arc<dyn Counters>,
    clock: Arc<dyn Clock>,
}

impl Coordination {
    fn new(config: &Config) -> Result<Self, StartupError> {
        let redis = &config.redis;
        let store = redis
            .url
            .as_ref()
            .map(|url| RedisStore::new(url.expose(), &redis.prefix))
            .transpose()?;
        let clock = clock();
        Ok(Self {
            counters: Arc::new(SharedCounters::new(store.clone(), Arc::clone(&clock))),
            store,
            clock,
        })
    }

    /// The spend budgets, counted in the shared counters and kept in `ledger`, from which
    /// what was spent already is read first.
    async fn spending(
        &self,
        config: &Config,
        metrics: &Arc<Metrics>,
        ledger: Arc<dyn SpendLedger>,
    ) -> Result<Spending, StartupError> {
        Spending::new(
            Arc::clone(&self.counters),
            config.budgets.caps(),
            Arc::clone(metrics),
            Arc::clone(&self.clock),
        )
        .kept_in(ledger)
        .await
        .map_err(StartupError::SpendLedger)
    }
}

/// How many of a demo graph's developers the page suggests as a team.
const DEMO_TEAM: usize = 8;

/// What the use cases are wired from, besides their register.
struct Wiring<'a> {
    config: &'a Config,
    metrics: &'a Arc<Metrics>,
    coordination: &'a Coordination,
    spending: &'a Spending,
}

impl Wiring<'_> {
    /// The use cases on `register` and the upstreams the configuration names; with a demo
    /// graph, the developers of it the page suggests.
    fn use_cases(
        &self,
        register: Arc<dyn Register>,
    ) -> Result<(UseCases, Option<Examples>), StartupError> {
        let (use_cases, examples) = match &self.config.upstreams.demo {
            Some(file) => {
                let graph = Arc::new(demo_graph(file.as_deref())?);
                let examples = graph.examples(DEMO_TEAM);
                let clock = Arc::clone(&self.coordination.clock);
                // Nothing to wait for: all in memory.
                let cases = UseCases::new(graph.clone(), graph, register, clock);
                (cases.with_calls_in_flight(64), Some(examples))
            }
            None => (self.real_upstreams(register)?, None),
        };
        let use_cases = use_cases.with_deadline(self.config.upstreams.request_timeout);
        Ok((use_cases, examples))
    }

    /// The real upstreams, each behind its cache, sharing one rate-limit memory (and Redis, when
    /// configured).
    fn real_upstreams(&self, register: Arc<dyn Register>) -> Result<UseCases, StartupError> {
        let Self {
            config,
            metrics,
            coordination,
            spending,
        } = *self;
        let upstreams = &config.upstreams;
        let github = Arc::new(
            GitHubRest::new(
                upstreams.github.api_url.clone().into_inner(),
                upstreams.github.token.clone(),
                upstreams.timeout,
                Arc::clone(metrics),
                upstreams.github.etag_entries,
                Arc::clone(&coordination.clock),
            )?
            .billed(spending.clone()),
        );
        let clock = &coordination.clock;
        let (social, profile) = social_graph(config, metrics, &github, spending.clone(), clock)?;
        let store = coordination.store.clone();
        let limits = RateLimitMemory::new(store.clone(), Arc::clone(clock));
        let code_host = CachedCodeHost::new(
            github,
            config.cache,
            store.clone(),
            limits.clone(),
            Arc::clone(metrics),
            Arc::clone(clock),
        );
        let social = CachedSocialGraph::new(
            social,
            profile,
            config.cache,
            store,
            limits,
            Arc::clone(metrics),
            Arc::clone(clock),
        );
        Ok(UseCases::new(
            Arc::new(code_host.clone()),
            Arc::new(social.clone()),
            register,
            Arc::clone(clock),
        )
        .with_fresh(Arc::new(code_host.fresh()), Arc::new(social.fresh()))
        .with_calls_in_flight(github::CALLS_IN_FLIGHT))
    }
}

/// The gate the configuration asks for: open, keys from `keys` (with rates counted in Redis
/// when configured), or keys for requests through a proxy only. Who needs a key, and why, is
/// said in the start-up line (`Config::keys`); what an operator must act on is a warning of
/// its own: an open service reachable from elsewhere, or keys required and none usable.
async fn access(config: &Config, keys: Arc<dyn ApiKeys>, coordination: &Coordination) -> Access {
    let (rule, why) = config.keys();
    if rule == config::Keys::Off {
        let address = config.http.listen_addr;
        if !address.ip().to_canonical().is_loopback() {
            tracing::warn!(
                "API keys: {why}: anyone who reaches {address} spends the upstream budgets and reads the register (set AUTH=keys)"
            );
        }
        return Access::open();
    }
    if rule == config::Keys::Required {
        match keys.any_usable().await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                "API keys: {why}, and none exists: every request but health, readiness, the page and the documentation will be refused; create one with `connected keys create NAME`"
            ),
            Err(e) => {
                tracing::warn!(error = %Chain(&e), "API keys: {why}, and the key store cannot be read yet")
            }
        }
    }
    let keys: Arc<dyn ApiKeys> = Arc::new(RecentKeys::new(keys));
    let access = Access::with_keys(
        keys,
        Arc::clone(&coordination.counters),
        Arc::clone(&coordination.clock),
    );
    if rule == config::Keys::ThroughProxies {
        access.open_to_direct_clients()
    } else {
        access
    }
}

/// The demo graph in `file`, or the bundled one.
fn demo_graph(file: Option<&std::path::Path>) -> Result<DemoGraph, StartupError> {
    match file {
        None => Ok(DemoGraph::bundled()?),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|cause| StartupError::DemoFile {
                path: path.to_owned(),
                cause,
            })?;
            DemoGraph::from_json(&text).map_err(|cause| StartupError::DemoFileRefused {
                path: path.to_owned(),
                cause,
            })
        }
    }
}

/// The social graph the configuration names, with what its cache is told of it; GitHub's is
/// the code host's own client.
fn social_graph(
    config: &Config,
    metrics: &Arc<Metrics>,
    github: &Arc<GitHubRest>,
    spending: Spending,
    clock: &Arc<dyn Clock>,
) -> Result<(Arc<dyn SocialGraph>, GraphProfile), StartupError> {
    let upstreams = &config.upstreams;
    Ok(match upstreams.social_graph {
        Network::X => {
            let token = upstreams
                .x
                .bearer_token
                .clone()
                .ok_or(StartupError::XToken)?;
            let api = XApi::new(
                upstreams.x.api_url.clone().into_inner(),
                token,
                upstreams.timeout,
                Arc::clone(metrics),
                Arc::clone(clock),
            )?
            .billed(spending);
            (Arc::new(api), x::X_PROFILE)
        }
        Network::GitHub => (github.clone(), github::GITHUB_PROFILE),
        Network::Bluesky => {
            let api = BlueskyAppView::new(
                upstreams.bluesky.api_url.clone().into_inner(),
                &upstreams.bluesky.handle_suffix,
                upstreams.timeout,
                Arc::clone(metrics),
                Arc::clone(clock),
            )?;
            (Arc::new(api), bluesky::BLUESKY_PROFILE)
        }
    })
}

/// The register the database URL's scheme names, migrated and ready.
///
/// # Errors
/// As [`storage`].
pub async fn register(config: &Config) -> Result<Arc<dyn Register>, StartupError> {
    Ok(storage(config).await?.register)
}

/// The register, to read only: opened as [`storage`] opens it when that can be done, else,
/// for a SQLite file this process cannot write, opened read-only.
///
/// # Errors
/// As [`storage`], when neither can open it.
pub async fn register_for_reading(config: &Config) -> Result<Arc<dyn Register>, StartupError> {
    let url = config.database.url.as_str();
    match storage(config).await {
        Ok(storage) => Ok(storage.register),
        Err(e) if url.starts_with("sqlite:") => {
            let (pool, retention) = (config.database.pool, config.retention.register);
            match SqliteRegister::open_for_reading(url, pool, retention, clock()).await {
                Ok(register) => {
                    tracing::info!(target: "connected::settings", error = %Chain(&e), "the register is read without writing to it");
                    Ok(Arc::new(register))
                }
                // What stopped the ordinary opening says more than the read-only one.
                Err(_) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// What the service keeps in its database: the register, and beside it the API keys, what
/// the spend budgets spent and, given the cipher of their tokens, the members
/// ([`Storage::members`]).
#[derive(Clone)]
pub struct Storage {
    pub register: Arc<dyn Register>,
    pub keys: Arc<dyn ApiKeys>,
    pub ledger: Arc<dyn SpendLedger>,
    /// The members' store of the same database, for a cipher.
    members: Arc<dyn Fn(TokenCipher) -> Arc<dyn Members> + Send + Sync>,
}

impl Storage {
    fn new(
        keys: impl ApiKeys + SpendLedger + Clone,
        register: impl Register,
        members: impl Fn(TokenCipher) -> Arc<dyn Members> + Send + Sync + 'static,
    ) -> Self {
        Self {
            keys: Arc::new(keys.clone()),
            ledger: Arc::new(keys),
            register: Arc::new(register),
            members: Arc::new(members),
        }
    }

    /// The members' sign-ins, sessions and tokens, kept in the same database as the
    /// register, their tokens encrypted under `cipher` (made from `TOKEN_KEY`).
    pub fn members(&self, cipher: TokenCipher) -> Arc<dyn Members> {
        (self.members)(cipher)
    }
}

/// The storage the database URL's scheme names (`sqlite:` or `postgres:`/`postgresql:`),
/// migrated and ready.
///
/// # Errors
/// [`StartupError`] when the scheme is unsupported or the database cannot be opened.
pub async fn storage(config: &Config) -> Result<Storage, StartupError> {
    let url = config.database.url.as_str();
    let (pool, retention) = (config.database.pool, config.retention.register);
    let scheme = url.split(':').next().unwrap_or_default();
    match scheme {
        "sqlite" => {
            let register = SqliteRegister::connect(url, pool).await;
            let register = register?.with_retention(retention, clock());
            let keys = register.keys();
            let database = keys.clone();
            let members = move |cipher| -> Arc<dyn Members> { Arc::new(database.members(cipher)) };
            Ok(Storage::new(keys, register, members))
        }
        "postgres" | "postgresql" => {
            let register = PostgresRegister::connect(url, pool).await;
            let register = register?.with_retention(retention, clock());
            let keys = register.keys();
            let database = keys.clone();
            let members = move |cipher| -> Arc<dyn Members> { Arc::new(database.members(cipher)) };
            Ok(Storage::new(keys, register, members))
        }
        // Without a scheme the "scheme" is the whole value, perhaps a password pasted into
        // the wrong variable: it is not repeated.
        _ if url::Url::parse(url).is_err() => Err(StartupError::DatabaseUrl),
        _ => Err(StartupError::DatabaseScheme {
            scheme: scheme.to_owned(),
        }),
    }
}
