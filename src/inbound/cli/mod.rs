//! The command line: `serve`, `check` and `history`, with configuration from flags, then the
//! environment, then a `.env` file, then defaults.

mod commands;
mod dotenv;
mod keys;
mod out;
mod settings;

use crate::application::UseCases;
use crate::config::{self, Config};
use crate::domain::{Chain, Team, Told};
use crate::inbound::http::ApiDoc;
use crate::outbound::upstreams::client::Spending;
use crate::startup;
use clap::{Parser, Subcommand};
use commands::{check, healthcheck, history, network, serve};
use keys::{KeysCommand, keys};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use utoipa::OpenApi;

#[derive(Debug, Parser)]
#[command(
    name = "connected",
    version,
    about = "Whether two developers are fully connected: they follow each other on X and share a GitHub organisation",
    after_help = "Tokens are read from the environment (or .env) only: GITHUB_TOKEN, TWITTER_BEARER_TOKEN, REDIS_URL.\n\
                  Exit codes of check: 0 connected, 1 not connected, 2 bad input or unknown users, 3 upstream or register failure, 4 the follows cannot be read (protected accounts).",
    mut_args(settings::on_every_command)
)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Command,
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
        /// Print a Graphviz graph: developers as nodes, use_cases as edges labelled with
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
        #[arg(long, default_value = "3s", value_parser = config::values::timeout)]
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
    /// Manage the API keys kept in the database DATABASE_URL names.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let dotenv = dotenv::read();
    let cli = Cli::parse();
    // The CLI's own log is for warnings, and for the one line saying which .env it read.
    let default_log = if matches!(cli.command, Command::Serve { .. }) {
        "info"
    } else {
        "warn,connected::settings=info"
    };
    init_logging(default_log, cli.config.log.format);
    dotenv.log();
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

fn init_logging(default: &str, format: config::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default))
        // sqlx logs the value of a DATABASE_URL parameter it does not know, and
        // `?sslpassword=…` is one: whatever RUST_LOG says, that line is never written.
        .add_directive(
            "sqlx_postgres::options::parse=error"
                .parse()
                .expect("a constant directive parses"), // ok: a constant
        );
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        config::LogFormat::Text => log
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        // Fields at the top level, with those of the request's span (its id).
        config::LogFormat::Json => log
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

async fn run(cli: Cli) -> ExitCode {
    // Commands that need no configuration run whatever it holds.
    match cli.command {
        Command::Healthcheck {
            listen_addr,
            timeout,
        } => return healthcheck(listen_addr, timeout).await,
        Command::Openapi => return openapi(),
        _ => {}
    }
    let mut config = cli.config;
    if let Command::Serve { listen_addr } = cli.command {
        config.http.listen_addr = listen_addr;
    }
    match cli.command {
        Command::Serve { .. } => serve(config).await,
        Command::Network {
            developers,
            json,
            dot,
        } => match connect(&config).await {
            Some((use_cases, spending)) => {
                let code = network(&use_cases, &developers, json, dot).await;
                spending.write_spent().await;
                code
            }
            None => ExitCode::from(3),
        },
        Command::Check { dev1, dev2, json } => match connect(&config).await {
            Some((use_cases, spending)) => {
                let code = check(&use_cases, &dev1, &dev2, json).await;
                spending.write_spent().await;
                code
            }
            None => ExitCode::from(3),
        },
        // Reading the register or the keys needs neither upstream nor a token.
        Command::History { dev1, dev2, json } => {
            match startup::register_for_reading(&config).await {
                Ok(register) => history(register.as_ref(), &dev1, &dev2, json).await,
                Err(e) => cannot_start(&e),
            }
        }
        Command::Keys { command } => match storage(&config).await {
            Some(storage) => keys(storage.keys.as_ref(), &*startup::clock(), command).await,
            None => ExitCode::from(3),
        },
        Command::Healthcheck { .. } | Command::Openapi => ExitCode::SUCCESS,
    }
}

fn openapi() -> ExitCode {
    match ApiDoc::openapi().to_pretty_json() {
        Ok(doc) => out::answer(&doc, ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(3)
        }
    }
}

async fn storage(config: &Config) -> Option<startup::Storage> {
    startup::storage(config)
        .await
        .inspect_err(|e| {
            cannot_start(e);
        })
        .ok()
}

async fn connect(config: &Config) -> Option<(UseCases, Spending)> {
    startup::use_cases_and_spending(config, &Arc::default())
        .await
        .inspect_err(|e| {
            cannot_start(e);
        })
        .ok()
}

/// Says why the service could not start, in the words a person is told ("what failed: why"),
/// and ends with 3. Causes under those words (a database's own error) are for the log.
fn cannot_start(e: &startup::StartupError) -> ExitCode {
    tracing::debug!(error = %Chain(e), "cannot start");
    eprintln!("error: {}", Told(e));
    ExitCode::from(3)
}
