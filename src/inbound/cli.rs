//! The command line: `serve`, `check` and `history`, with configuration from flags, then the
//! environment, then a `.env` file, then defaults.

use crate::application::{self, CheckError, Connections, Freshness, TeamNetwork};
use crate::config::{self, Config, Upstreams};
use crate::domain::{HistoryPage, Network, Register, Team};
use crate::inbound::http::{ApiDoc, ErrorsBody, NetworkBody, RegisterEntry, VerdictBody};
use crate::outbound::cache::CacheSettings;
use crate::secret::Secret;
use crate::startup::{self, Application};
use clap::{Args, Parser, Subcommand};
use futures::StreamExt as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use utoipa::OpenApi;

#[derive(Debug, Parser)]
#[command(
    name = "connected",
    version,
    about = "Whether two developers are fully connected: they follow each other on X and share a GitHub organisation",
    after_help = "Tokens are read from the environment (or .env) only: GITHUB_TOKEN, TWITTER_BEARER_TOKEN.\n\
                  Exit codes of check: 0 connected, 1 not connected, 2 bad input or unknown users, 3 upstream or register failure."
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Settings {
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
    #[arg(long, env = "UPSTREAM_TIMEOUT", default_value = "10s", value_parser = parse_duration, global = true, hide_env_values = true)]
    upstream_timeout: std::time::Duration,
    /// PostgreSQL pool size per instance (default: four per core, 4 to 64).
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = config::default_database_max_connections(), global = true, hide_env_values = true)]
    database_max_connections: u32,
    /// How long to wait for a PostgreSQL connection (start-up, each request, readiness).
    #[arg(long, env = "DATABASE_CONNECT_TIMEOUT", default_value = "5s", value_parser = parse_duration, global = true, hide_env_values = true)]
    database_connect_timeout: std::time::Duration,
    /// How long requests in flight may take to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "SHUTDOWN_GRACE", default_value = "10s", value_parser = parse_duration, global = true, hide_env_values = true)]
    shutdown_grace: std::time::Duration,
    /// The most a check or a team's network may take over HTTP, all upstream calls together.
    #[arg(long, env = "REQUEST_TIMEOUT", default_value = "60s", value_parser = parse_duration, global = true, hide_env_values = true)]
    request_timeout: std::time::Duration,
    /// How long a client has to send a request head, from its first byte (from the
    /// connection's start for the first request); slower ones are disconnected.
    #[arg(long, env = "HEADER_READ_TIMEOUT", default_value = "10s", value_parser = parse_duration, global = true, hide_env_values = true)]
    header_read_timeout: std::time::Duration,
    /// How long a connection with no request in flight stays open (keep it longer than the
    /// idle timeout of a load balancer in front).
    #[arg(long, env = "IDLE_TIMEOUT", default_value = "75s", value_parser = parse_duration, global = true, hide_env_values = true)]
    idle_timeout: std::time::Duration,
    /// Open client connections at most (lowered to fit the open-file limit); at the cap, the
    /// connection idle the longest is closed to let a new one in.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = config::DEFAULT_MAX_CONNECTIONS, value_parser = parse_max_connections, global = true, hide_env_values = true)]
    max_connections: usize,
    /// How long upstream facts are cached (0 turns the cache off).
    #[arg(long, env = "CACHE_TTL", default_value = "10m", value_parser = parse_duration_or_zero, global = true, hide_env_values = true)]
    cache_ttl: std::time::Duration,
    /// How long "no such user" is cached.
    #[arg(long, env = "CACHE_TTL_NOT_FOUND", default_value = "1m", value_parser = parse_duration_or_zero, global = true, hide_env_values = true)]
    cache_ttl_not_found: std::time::Duration,
    /// Upstream facts kept in process, per kind (least recently used out first).
    #[arg(long, env = "CACHE_MAX_ENTRIES", default_value_t = config::DEFAULT_CACHE_MAX_ENTRIES, global = true, hide_env_values = true)]
    cache_max_entries: u64,
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

fn parse_duration_or_zero(raw: &str) -> Result<std::time::Duration, String> {
    if raw.trim() == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    humantime::parse_duration(raw).map_err(|e| format!("{e} (write 0, 30s, 10m, ...)"))
}

fn parse_max_connections(raw: &str) -> Result<usize, String> {
    match raw.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{e} (write a count such as 10000)")),
    }
}

/// A retention as written: empty, as `.env.example` leaves it, keeps everything.
#[derive(Debug, Clone, Copy)]
struct Retention(Option<std::time::Duration>);

fn parse_retention(raw: &str) -> Result<Retention, String> {
    if raw.trim().is_empty() {
        return Ok(Retention(None));
    }
    parse_duration(raw).map(|retention| Retention(Some(retention)))
}

fn parse_duration(raw: &str) -> Result<std::time::Duration, String> {
    let duration =
        humantime::parse_duration(raw).map_err(|e| format!("{e} (write 500ms, 2s, 1m, ...)"))?;
    if duration.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    Ok(duration)
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the REST API.
    Serve {
        /// Where to listen.
        #[arg(long, env = "LISTEN_ADDR", default_value = config::DEFAULT_LISTEN_ADDR, hide_env_values = true)]
        listen_addr: SocketAddr,
    },
    /// Check two developers now (the answer is recorded in the register).
    Check {
        dev1: String,
        dev2: String,
        /// Print the answer as JSON, as the REST API does.
        #[arg(long)]
        json: bool,
    },
    /// Who in a team is fully connected to whom (every pair is recorded).
    Network {
        /// 2 to 100 developers.
        #[arg(required = true, num_args = Team::SIZE)]
        developers: Vec<String>,
        /// Print the answer as JSON, as the REST API does.
        #[arg(long, conflicts_with = "dot")]
        json: bool,
        /// Print a Graphviz graph: developers as nodes, connections as edges labelled with
        /// their shared organisations.
        #[arg(long)]
        dot: bool,
    },
    /// Print the REST API's OpenAPI document (as served at /openapi.json).
    Openapi,
    /// Exit 0 when the local server answers /healthz (for container health checks).
    Healthcheck {
        /// The server's address (its LISTEN_ADDR; 0.0.0.0 is asked on 127.0.0.1).
        #[arg(long, env = "LISTEN_ADDR", default_value = config::DEFAULT_LISTEN_ADDR, hide_env_values = true)]
        listen_addr: SocketAddr,
        /// Give up after this long.
        #[arg(long, default_value = "3s", value_parser = parse_duration)]
        timeout: std::time::Duration,
    },
    /// Print every recorded answer for two developers, oldest first.
    History {
        dev1: String,
        dev2: String,
        /// Print the history as JSON, as the REST API does.
        #[arg(long)]
        json: bool,
    },
}

fn secret_from_env(name: &str) -> Option<Secret> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(Secret::new)
}

impl Settings {
    fn config(self, listen_addr: Option<SocketAddr>) -> Config {
        Config {
            listen_addr: listen_addr.unwrap_or(Config::default().listen_addr),
            database_url: self.database_url,
            github_api_url: self.github_api_url,
            github_token: secret_from_env("GITHUB_TOKEN"),
            twitter_api_url: self.twitter_api_url,
            twitter_bearer_token: secret_from_env("TWITTER_BEARER_TOKEN"),
            upstream_timeout: self.upstream_timeout,
            upstreams: match self.demo {
                None => Upstreams::Real,
                Some(file) => Upstreams::Demo(file),
            },
            database_max_connections: self.database_max_connections,
            database_connect_timeout: self.database_connect_timeout,
            shutdown_grace: self.shutdown_grace,
            request_timeout: self.request_timeout,
            header_read_timeout: self.header_read_timeout,
            idle_timeout: self.idle_timeout,
            max_connections: self.max_connections,
            cache: CacheSettings {
                ttl: self.cache_ttl,
                ttl_not_found: self.cache_ttl_not_found,
                max_entries: self.cache_max_entries,
            },
            redis_url: secret_from_env("REDIS_URL"),
            redis_prefix: self.redis_prefix,
            social_graph: self.social_graph,
            bluesky_api_url: self.bluesky_api_url,
            bluesky_handle_suffix: self.bluesky_handle_suffix,
            register_retention: self.register_retention.and_then(|r| r.0),
        }
    }
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    // A .env file fills in what the environment does not set; a missing file is fine.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let default_log = if matches!(cli.command, Command::Serve { .. }) {
        "info"
    } else {
        "warn"
    };
    init_logging(default_log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(3);
        }
    };
    runtime.block_on(run(cli))
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default))
        // sqlx logs the value of a DATABASE_URL parameter it does not know, and
        // `?sslpassword=…` is one: whatever RUST_LOG says, that line is never written.
        .add_directive(
            "sqlx_postgres::options::parse=error"
                .parse()
                .expect("a constant directive parses"), // ok: a constant
        );
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Healthcheck {
            listen_addr,
            timeout,
        } => healthcheck(listen_addr, timeout).await,
        Command::Network {
            developers,
            json,
            dot,
        } => {
            let Some(connections) = connect(&cli.settings.config(None)).await else {
                return ExitCode::from(3);
            };
            network(&connections, &developers, json, dot).await
        }
        Command::Openapi => match ApiDoc::openapi().to_pretty_json() {
            Ok(doc) => {
                println!("{doc}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(3)
            }
        },
        Command::Serve { listen_addr } => serve(cli.settings.config(Some(listen_addr))).await,
        Command::Check { dev1, dev2, json } => {
            let Some(connections) = connect(&cli.settings.config(None)).await else {
                return ExitCode::from(3);
            };
            check(&connections, &dev1, &dev2, json).await
        }
        Command::History { dev1, dev2, json } => {
            // Reading the register needs neither upstream nor a token.
            let config = cli.settings.config(None);
            match startup::register(&config).await {
                Ok(register) => history(register.as_ref(), &dev1, &dev2, json).await,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(3)
                }
            }
        }
    }
}

async fn connect(config: &Config) -> Option<Connections> {
    match startup::connections(config, &Arc::default()).await {
        Ok(connections) => Some(connections),
        Err(e) => {
            eprintln!("error: {e}");
            None
        }
    }
}

async fn serve(config: Config) -> ExitCode {
    let app = match Application::build(&config).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(3);
        }
    };
    tracing::info!(address = %app.local_addr(), upstreams = ?config.upstreams, "listening");
    match app.run_until_stopped(startup::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the server stopped: {e}");
            ExitCode::from(3)
        }
    }
}

fn exit_code(error: &CheckError) -> ExitCode {
    match error {
        CheckError::BadHandle(_)
        | CheckError::SameDeveloper(_)
        | CheckError::MissingUsers(_)
        | CheckError::BadTeam(_) => ExitCode::from(2),
        CheckError::RateLimited { .. }
        | CheckError::Unavailable { .. }
        | CheckError::TimedOut(_)
        | CheckError::Register(_) => ExitCode::from(3),
        CheckError::Unreadable(_) => ExitCode::from(4),
    }
}

fn print_error(error: CheckError, json: bool) -> ExitCode {
    let code = exit_code(&error);
    let body = ErrorsBody {
        errors: error.public_messages(),
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&body).unwrap_or_default()
        );
    } else {
        for message in &body.errors {
            eprintln!("error: {message}");
        }
    }
    code
}

async fn check(connections: &Connections, dev1: &str, dev2: &str, json: bool) -> ExitCode {
    let check = match connections.check(dev1, dev2).await {
        Ok(check) => check,
        Err(e) => return print_error(e, json),
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&VerdictBody::from(&check.verdict)).unwrap_or_default()
        );
    } else if check.verdict.is_connected() {
        println!(
            "{dev1} and {dev2} are fully connected: they follow each other and share {}",
            check.verdict.organisations().join(", ")
        );
    } else {
        println!("{dev1} and {dev2} are not fully connected");
    }
    if check.verdict.is_connected() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

async fn history(register: &dyn Register, dev1: &str, dev2: &str, json: bool) -> ExitCode {
    let mut history = match application::history(register, dev1, dev2, HistoryPage::default()) {
        Ok(history) => history,
        Err(e) => return print_error(e, json),
    };
    // Printed as read, so that a long history never has to fit in memory.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut printed = 0_usize;
    while let Some(check) = history.next().await {
        let check = match check {
            Ok(check) => check,
            Err(e) if printed == 0 => return print_error(e.into(), json),
            Err(e) => {
                // Whatever was printed stays; the JSON is left unclosed, so it cannot pass
                // for the whole history.
                let _ = out.flush();
                eprintln!("error: {e}");
                return ExitCode::from(3);
            }
        };
        let entry = RegisterEntry::from(&check);
        let line = if json {
            // The layout of serde_json's pretty printer for the whole array.
            let pretty = serde_json::to_string_pretty(&entry).unwrap_or_default();
            let indented = pretty.replace('\n', "\n  ");
            let before = if printed == 0 { "[\n  " } else { ",\n  " };
            format!("{before}{indented}")
        } else {
            // The time, the social graph that decided, the answer.
            let at = format!("{}  {:<7}", entry.registered_at, entry.social_graph);
            match entry.organisations {
                Some(orgs) => format!("{at}  connected      {}\n", orgs.join(", ")),
                None => format!("{at}  not connected\n"),
            }
        };
        if out.write_all(line.as_bytes()).is_err() {
            return ExitCode::from(3);
        }
        printed += 1;
    }
    let end = match (json, printed) {
        (true, 0) => "[]\n".to_owned(),
        (true, _) => "\n]\n".to_owned(),
        (false, 0) => format!("no record for {dev1} and {dev2}\n"),
        (false, _) => String::new(),
    };
    if out
        .write_all(end.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::from(3);
    }
    ExitCode::SUCCESS
}

async fn healthcheck(mut address: SocketAddr, timeout: std::time::Duration) -> ExitCode {
    if address.ip().is_unspecified() {
        address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let url = format!("http://{address}/healthz");
    let answer = match reqwest::Client::builder().timeout(timeout).build() {
        Ok(client) => client.get(&url).send().await,
        Err(e) => {
            eprintln!("unhealthy: {e}");
            return ExitCode::from(1);
        }
    };
    match answer {
        Ok(response) if response.status().is_success() => ExitCode::SUCCESS,
        Ok(response) => {
            eprintln!("unhealthy: {url} answered {}", response.status());
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("unhealthy: {url}: {e}");
            ExitCode::from(1)
        }
    }
}

async fn network(
    connections: &Connections,
    developers: &[String],
    json: bool,
    dot: bool,
) -> ExitCode {
    let network = match connections.network(developers, Freshness::Cached).await {
        Ok(network) => network,
        Err(e) => return print_error(e, json),
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&NetworkBody::from(&network)).unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }
    for missing in &network.missing {
        eprintln!("error: {missing}");
    }
    for undecided in &network.undecided {
        eprintln!("error: {}", undecided.why);
    }
    if dot {
        print!("{}", graphviz(&network));
        return ExitCode::SUCCESS;
    }
    if network.connections.is_empty() {
        println!("no two of them are fully connected");
    }
    for connection in &network.connections {
        let [a, b] = &connection.developers;
        println!(
            "{a} and {b} are fully connected: {}",
            connection.organisations.join(", ")
        );
    }
    for group in &network.groups {
        println!("group: {}", group.join(", "));
    }
    ExitCode::SUCCESS
}

/// The network in Graphviz's DOT language: every developer present a node, every connection
/// an edge labelled with the shared organisations.
fn graphviz(network: &TeamNetwork) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let missing: std::collections::HashSet<&str> = network
        .missing
        .iter()
        .map(|m| m.developer.as_str())
        .collect();
    let mut out = String::from("graph connected {\n  node [shape=box];\n");
    for developer in network
        .developers
        .iter()
        .filter(|d| !missing.contains(d.as_str()))
    {
        out += &format!("  {};\n", quote(developer));
    }
    for connection in &network.connections {
        let [a, b] = &connection.developers;
        out += &format!(
            "  {} -- {} [label={}];\n",
            quote(a),
            quote(b),
            quote(&connection.organisations.join(", "))
        );
    }
    out += "}\n";
    out
}
