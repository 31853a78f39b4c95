//! What each command takes: its own arguments, and only the sections of the settings it
//! reads, which become a [`Config`] with every other setting at its default. `serve` takes
//! them all.

use crate::config::{
    self, CacheSettings, Config, DatabaseSettings, LogFormat, LogSettings, RedisSettings,
    RetentionSettings, ServiceBudgets, UpstreamSettings,
};
use crate::domain::Team;
use clap::Args;
use std::net::SocketAddr;

/// `serve`: every setting, and where to listen.
#[derive(Debug, Args)]
pub(super) struct Serve {
    /// Where to listen.
    #[arg(long, env = "LISTEN_ADDR", default_value = config::DEFAULT_LISTEN_ADDR, help_heading = "Serving")]
    pub listen_addr: SocketAddr,
    #[command(flatten)]
    pub config: Config,
}

impl Serve {
    /// The service's configuration, listening where it was told.
    pub fn config(self) -> Config {
        let mut config = self.config;
        config.http.listen_addr = self.listen_addr;
        config
    }
}

/// `check`: a pair.
#[derive(Debug, Args)]
pub(super) struct Check {
    /// A GitHub/X handle, e.g. alice; the same person on both.
    pub dev1: String,
    /// Another GitHub/X handle, e.g. bob; the same person on both.
    pub dev2: String,
    /// Print the answer as JSON, as the REST API does.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub settings: Checking,
}

/// `network`: a team.
#[derive(Debug, Args)]
pub(super) struct Network {
    /// 2 to 100 GitHub/X handles, e.g. alice bob carol; each the same person on both.
    #[arg(required = true, num_args = Team::SIZE, value_name = "DEV")]
    pub developers: Vec<String>,
    /// Print the answer as JSON, as the REST API does.
    #[arg(long, conflicts_with = "dot")]
    pub json: bool,
    /// Print a Graphviz graph: developers as nodes, connections as edges labelled with their
    /// shared organisations.
    #[arg(long)]
    pub dot: bool,
    #[command(flatten)]
    pub settings: Checking,
}

/// `history`: a pair's recorded answers.
#[derive(Debug, Args)]
pub(super) struct History {
    /// A GitHub/X handle, e.g. alice; the same person on both.
    pub dev1: String,
    /// Another GitHub/X handle, e.g. bob; the same person on both.
    pub dev2: String,
    /// Print the history as JSON, as the REST API does.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub settings: DatabaseOnly,
}

/// What a check or a team's network reads: the log; the database (the register it records
/// in, the spend ledger the budgets start from); the upstreams, their cache and what the
/// service may spend on them; Redis, where instances share the cache and the counts. Not
/// members' sign-in: a check on the command line answers from the service's own tokens.
#[derive(Debug, Args)]
pub(super) struct Checking {
    #[command(flatten)]
    log: LogSettings,
    #[command(flatten)]
    database: DatabaseSettings,
    #[command(flatten)]
    retention: RetentionSettings,
    #[command(flatten)]
    upstreams: UpstreamSettings,
    #[command(flatten)]
    cache: CacheSettings,
    #[command(flatten)]
    budgets: ServiceBudgets,
    #[command(flatten)]
    redis: RedisSettings,
}

impl From<Checking> for Config {
    fn from(settings: Checking) -> Self {
        let Checking {
            log,
            database,
            retention,
            upstreams,
            cache,
            budgets,
            redis,
        } = settings;
        Self {
            log,
            database,
            retention,
            upstreams,
            cache,
            budgets,
            redis,
            ..Self::default()
        }
    }
}

/// What reads or writes the database alone (a history, the keys): the log and the database.
#[derive(Debug, Args)]
pub(super) struct DatabaseOnly {
    #[command(flatten)]
    log: LogSettings,
    #[command(flatten)]
    database: DatabaseSettings,
    #[command(flatten)]
    retention: RetentionSettings,
}

impl From<DatabaseOnly> for Config {
    fn from(settings: DatabaseOnly) -> Self {
        let DatabaseOnly {
            log,
            database,
            retention,
        } = settings;
        Self {
            log,
            database,
            retention,
            ..Self::default()
        }
    }
}

impl Checking {
    pub fn log_format(&self) -> LogFormat {
        self.log.format
    }
}

impl DatabaseOnly {
    pub fn log_format(&self) -> LogFormat {
        self.log.format
    }
}

/// A graph file given after `--demo` without `=` (`--demo graph.json alice bob`), which the
/// command line would take for a developer: what to write instead.
pub(super) fn demo_file_without_equals(args: &[String]) -> Option<String> {
    let after_demo = args.windows(2).find(|pair| pair[0] == "--demo")?;
    let file = &after_demo[1];
    // No handle has a dot or a slash; a file given for the graph has one.
    let a_file = file.contains(['/', '\\']) || file.to_lowercase().ends_with(".json");
    a_file.then(|| {
        format!(
            "--demo takes its file after '=': write --demo={file} (--demo alone is the bundled graph)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn a_graph_file_after_demo_without_equals_is_named_with_it() {
        let told = demo_file_without_equals(&args("connected check --demo graph.json alice bob"));
        assert_eq!(
            told.as_deref(),
            Some(
                "--demo takes its file after '=': write --demo=graph.json (--demo alone is the bundled graph)"
            )
        );
        assert!(demo_file_without_equals(&args("connected network --demo ./team alice")).is_some());
    }

    #[test]
    fn demo_before_the_developers_or_with_equals_is_fine() {
        for line in [
            "connected check --demo alice bob",
            "connected check alice bob --demo",
            "connected check --demo=graph.json alice bob",
            "connected check alice bob",
        ] {
            assert_eq!(demo_file_without_equals(&args(line)), None, "{line}");
        }
    }
}
