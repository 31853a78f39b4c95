use crate::inbound::cli::{Cli, Command};
use clap::{CommandFactory, Parser};
use std::collections::BTreeSet;

/// The variable of every setting, of every command.
fn variables(command: &clap::Command) -> BTreeSet<String> {
    let own = command
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|name| name.to_string_lossy().into_owned());
    let commands = command.get_subcommands().flat_map(variables);
    own.chain(commands).collect()
}

/// Read by the log itself, not a setting of ours.
const LOG_FILTER: &str = "RUST_LOG";

fn settings() -> BTreeSet<String> {
    let mut all = variables(&Cli::command());
    all.insert(LOG_FILTER.to_owned());
    all
}

fn read(file: &str) -> String {
    std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// A variable's name at the start of `text`: capitals, digits and `_`, then `=`.
fn assigned(text: &str) -> Option<String> {
    let (name, _) = text.split_once('=')?;
    let named = name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    named.then(|| name.to_owned())
}

/// The names of every command, as typed: `[]`, `["serve"]`, `["keys", "create"]`, …
fn commands(command: &clap::Command, path: &[String]) -> Vec<Vec<String>> {
    let inner = command.get_subcommands().flat_map(|sub| {
        let path = [path, &[sub.get_name().to_owned()]].concat();
        commands(sub, &path)
    });
    std::iter::once(path.to_vec()).chain(inner).collect()
}

#[test]
fn every_command_is_well_formed_with_the_settings_it_inherits() {
    let cli = Cli::command();
    cli.clone().debug_assert();
    for path in commands(&cli, &[]) {
        // Building a command for its help checks it, with the settings it inherits.
        let asked = ["connected"]
            .into_iter()
            .chain(path.iter().map(String::as_str));
        let help = cli.clone().try_get_matches_from(asked.chain(["--help"]));
        let kind = help.map(|_| None).unwrap_or_else(|e| Some(e.kind()));
        assert_eq!(kind, Some(clap::error::ErrorKind::DisplayHelp), "{path:?}");
    }
}

/// The headings of `connected COMMAND --help`, in order.
fn headings(command: &str) -> Vec<String> {
    let mut cli = Cli::command();
    let help = cli
        .find_subcommand_mut(command)
        .expect("a command")
        .render_long_help()
        .to_string();
    help.lines()
        .filter(|line| line.ends_with(':') && !line.starts_with(' '))
        .map(|line| line.trim_end_matches(':').to_owned())
        .collect()
}

#[test]
fn each_command_shows_the_sections_of_settings_it_reads_and_no_other() {
    let checking = [
        "Arguments",
        "Options",
        "Logging",
        "Database",
        "Upstreams",
        "Cache",
        "Budgets",
        "Redis",
    ];
    assert_eq!(headings("check"), checking);
    assert_eq!(headings("network"), checking);
    let database = ["Arguments", "Options", "Logging", "Database"];
    assert_eq!(headings("history"), database);
    assert_eq!(
        headings("keys"),
        ["Commands", "Options", "Logging", "Database"]
    );
    assert_eq!(headings("openapi"), ["Options"]);
    let serving = headings("serve");
    for section in [
        "Logging",
        "Access",
        "Serving",
        "Database",
        "Upstreams",
        "Cache",
        "Budgets",
        "Redis",
        "Member sign-in",
        "Page",
    ] {
        assert!(
            serving.iter().any(|s| s == section),
            "{section}: {serving:?}"
        );
    }
}

#[test]
fn demo_is_taken_by_the_commands_that_ask_upstreams_only() {
    let cli = Cli::command();
    let with_demo: Vec<&str> = cli
        .get_subcommands()
        .filter(|command| command.get_arguments().any(|arg| arg.get_id() == "demo"))
        .map(clap::Command::get_name)
        .collect();
    assert_eq!(with_demo, ["serve", "check", "network"]);
}

#[test]
fn demo_alone_before_the_developers_is_the_bundled_graph_and_a_file_needs_equals() {
    let parsed = |line: &str| {
        let Command::Check(check) = Cli::try_parse_from(line.split(' ')).unwrap().command else {
            panic!("{line}: not a check");
        };
        let config = crate::config::Config::from(check.settings);
        ((check.dev1, check.dev2), config.upstreams.demo)
    };
    let pair = ("alice".to_owned(), "bob".to_owned());
    assert_eq!(
        parsed("connected check --demo alice bob"),
        (pair.clone(), Some(None))
    );
    assert_eq!(
        parsed("connected check --demo=g.json alice bob"),
        (pair, Some(Some("g.json".into())))
    );
}

#[test]
fn every_setting_is_in_the_env_example_and_nothing_else_is() {
    let documented: BTreeSet<String> = read(".env.example")
        .lines()
        .filter_map(|line| assigned(line.trim_start_matches('#').trim_start()))
        .collect();
    assert_eq!(documented, settings());
}

#[test]
fn every_setting_is_in_the_configuration_page_and_nothing_else_is() {
    let page = read("docs/configuration.md");
    let table = page
        .split("\n## Settings\n")
        .nth(1)
        .and_then(|section| section.split("\n## ").next())
        .expect("docs/configuration.md has a Settings section");
    let documented: BTreeSet<String> = table
        .lines()
        .filter_map(|row| row.strip_prefix("| `")?.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .collect();
    assert_eq!(documented, settings());
}

/// Every command and subcommand.
fn every_command(command: &clap::Command) -> Vec<&clap::Command> {
    let inner = command.get_subcommands().flat_map(every_command);
    std::iter::once(command).chain(inner).collect()
}

#[test]
fn every_flag_is_its_variable_in_lower_case() {
    let command = Cli::command();
    for arg in every_command(&command)
        .into_iter()
        .flat_map(clap::Command::get_arguments)
    {
        if let Some(variable) = arg.get_env() {
            let flag = variable.to_string_lossy().to_lowercase().replace('_', "-");
            assert_eq!(arg.get_long(), Some(flag.as_str()), "{variable:?}");
        }
    }
}

#[test]
fn a_secret_given_as_a_flag_is_refused_without_being_repeated() {
    for (flag, variable) in [
        ("--github-token", "GITHUB_TOKEN"),
        ("--twitter-bearer-token", "TWITTER_BEARER_TOKEN"),
        ("--redis-url", "REDIS_URL"),
    ] {
        let refused = Cli::try_parse_from(["connected", "serve", flag, "s3cret"])
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains(&format!("{variable} is read from the environment")),
            "{refused}"
        );
        assert!(!refused.contains("s3cret"), "{refused}");
    }
}

#[test]
fn help_names_no_secret() {
    let mut cli = Cli::command();
    let serve = cli.find_subcommand_mut("serve").expect("serve");
    let help = serve.render_long_help().to_string();
    assert!(help.contains("--cache-ttl <CACHE_TTL>"), "{help}");
    for secret in ["GITHUB_TOKEN]", "TWITTER_BEARER_TOKEN]", "REDIS_URL]"] {
        assert!(!help.contains(secret), "{help}");
    }
}
