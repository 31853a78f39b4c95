//! The command line: `serve`, `check`, `network`, `history`, `keys` and the rest, each with
//! the settings it reads (`args.rs`), from flags, then the environment, then a `.env` file,
//! then defaults.

mod args;
mod commands;
mod dotenv;
mod generate;
mod keys;
mod out;
mod serve;
mod settings;

use crate::application::UseCases;
use crate::config::{self, Config};
use crate::domain::{Chain, Told};
use crate::inbound::http::ApiDoc;
use crate::outbound::upstreams::client::Spending;
use crate::startup;
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use commands::{check, healthcheck, history, network};
use keys::{Keys, keys};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use utoipa::OpenApi;

/// The version `--version` prints, with the commit it was built from.
pub(super) const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("CONNECTED_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "connected",
    version = VERSION,
    about = "Whether two developers are fully connected: they follow each other on X and share a GitHub organisation",
    after_help = "Each command's settings: connected COMMAND --help. Tokens are read from the environment (or .env) only: GITHUB_TOKEN, TWITTER_BEARER_TOKEN, REDIS_URL."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the REST API.
    #[command(mut_args(settings::as_setting))]
    Serve(Box<args::Serve>),
    /// Check two developers now (the answer is recorded in the register).
    #[command(
        mut_args(settings::as_setting),
        after_help = "Exit codes: 0 connected, 1 not connected, 2 bad input or unknown users, 3 upstream or register failure, 4 the follows cannot be read (protected accounts)."
    )]
    Check(args::Check),
    /// Who in a team is fully connected to whom (every pair is recorded).
    #[command(mut_args(settings::as_setting))]
    Network(args::Network),
    /// Print every recorded answer for two developers, oldest first.
    #[command(mut_args(settings::as_setting))]
    History(args::History),
    /// Manage the API keys kept in the database DATABASE_URL names.
    #[command(mut_args(settings::as_setting))]
    Keys(Keys),
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
    /// Print a shell's completions for every command and flag (source them in its start-up).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `connected man > connected.1`.
    Man,
}

impl Command {
    /// How the command's log is written: as its settings say, else as text.
    fn log_format(&self) -> config::LogFormat {
        match self {
            Command::Serve(serve) => serve.config.log.format,
            Command::Check(check) => check.settings.log_format(),
            Command::Network(network) => network.settings.log_format(),
            Command::History(history) => history.settings.log_format(),
            Command::Keys(keys) => keys.settings.log_format(),
            _ => config::LogFormat::default(),
        }
    }
}

/// The command line as given, parsed; a usage error ends the process with 2, as clap does.
fn parse() -> Cli {
    let given: Vec<String> = std::env::args().collect();
    if let Some(told) = args::demo_file_without_equals(&given) {
        let mut command = Cli::command();
        command
            .error(clap::error::ErrorKind::InvalidValue, told)
            .exit();
    }
    let matches = Cli::command().get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let dotenv = dotenv::read();
    let cli = parse();
    // The CLI's own log is for warnings, and for the one line saying which .env it read.
    let serving = matches!(cli.command, Command::Serve(_));
    let default_log = if serving {
        "info"
    } else {
        "warn,connected::settings=info"
    };
    init_logging(default_log, cli.command.log_format());
    dotenv.log(serving);
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
    runtime.block_on(run(cli, &dotenv))
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

async fn run(cli: Cli, dotenv: &dotenv::DotEnv) -> ExitCode {
    match cli.command {
        Command::Serve(serve) => serve::serve(serve.config(), dotenv).await,
        Command::Check(args::Check {
            dev1,
            dev2,
            json,
            settings,
        }) => match connect(&settings.into()).await {
            Some((use_cases, spending)) => {
                let code = check(&use_cases, &dev1, &dev2, json).await;
                spending.write_spent().await;
                code
            }
            None => ExitCode::from(3),
        },
        Command::Network(args::Network {
            developers,
            json,
            dot,
            settings,
        }) => match connect(&settings.into()).await {
            Some((use_cases, spending)) => {
                let code = network(&use_cases, &developers, json, dot).await;
                spending.write_spent().await;
                code
            }
            None => ExitCode::from(3),
        },
        // Reading the register or the keys needs neither upstream nor a token.
        Command::History(args::History {
            dev1,
            dev2,
            json,
            settings,
        }) => match startup::register_for_reading(&settings.into()).await {
            Ok(register) => history(register.as_ref(), &dev1, &dev2, json).await,
            Err(e) => cannot_start(&e),
        },
        Command::Keys(command) => keys(command).await,
        Command::Openapi => openapi(),
        Command::Healthcheck {
            listen_addr,
            timeout,
        } => healthcheck(listen_addr, timeout).await,
        Command::Completions { shell } => generate::completions(shell),
        Command::Man => generate::man(),
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
