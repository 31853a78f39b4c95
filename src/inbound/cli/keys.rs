//! `connected keys create|list|revoke`: the API keys in the database `DATABASE_URL` names.
//! A new key is printed alone on standard output, so that `KEY=$(connected keys create ci)`
//! works; every other message goes to standard error, each naming the database (its
//! credentials hidden).

use super::args::DatabaseOnly;
use super::out;
use crate::application::{self, KeyError, Revocation};
use crate::config::Config;
use crate::domain::access::{
    ApiKey, ApiKeys, Budget, Caps, KeyLimits, KeyReport, KeysError, Meter, Rate, Scopes,
    ScopesError,
};
use crate::domain::{Clock, Told};
use crate::secret::redact_url;
use crate::startup;
use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::process::ExitCode;

/// `connected keys …`: what to do, and the database the keys are kept in.
#[derive(Debug, Args)]
pub(super) struct Keys {
    #[command(subcommand)]
    command: KeysCommand,
    #[command(flatten)]
    pub settings: DatabaseOnly,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Make a key and print it, once: only a hash of it is kept.
    Create {
        /// A name for people: 1 to 64 letters, digits, '.', '_' or '-'.
        name: String,
        /// What it may do: check, history, network, fresh (may send Cache-Control:
        /// no-cache), metrics.
        #[arg(long, default_value_t = Scopes::default_for_keys(), value_parser = parse_scopes)]
        scopes: Scopes,
        /// Requests it may make in any such period: N/s, N/min, N/h or N/day.
        #[arg(long, default_value_t = Rate::DEFAULT)]
        rate: Rate,
        /// X users (returned by lookups and follow lists) its requests may cost a UTC day.
        #[arg(long)]
        x_users_per_day: Option<u64>,
        /// Calls to GitHub its requests may cost an hour.
        #[arg(long)]
        github_calls_per_hour: Option<u64>,
    },
    /// List the keys (never their secrets), with what each spent today (UTC).
    List {
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key, by name or id: every instance refuses it within seconds. A key revoked
    /// already stays as it was (exit 0).
    Revoke {
        /// The key's name (ci, say) or its id, as `keys list` shows them.
        name_or_id: String,
    },
}

fn parse_scopes(raw: &str) -> Result<Scopes, ScopesError> {
    raw.parse::<Scopes>()
}

/// Runs a keys command on the database its settings name.
pub(super) async fn keys(keys: Keys) -> ExitCode {
    let config = Config::from(keys.settings);
    let database = Database(redact_url(config.database.url.as_str()));
    let storage = match startup::storage(&config).await {
        Ok(storage) => storage,
        Err(e) => return super::cannot_start(&e),
    };
    let (store, clock) = (storage.keys.as_ref(), &*startup::clock());
    match keys.command {
        KeysCommand::Create {
            name,
            scopes,
            rate,
            x_users_per_day,
            github_calls_per_hour,
        } => {
            let limits = KeyLimits {
                rate,
                budgets: Caps::default()
                    .with(Budget::X_USERS_PER_DAY, x_users_per_day)
                    .with(Budget::GITHUB_CALLS_PER_HOUR, github_calls_per_hour),
            };
            create(store, clock, &database, &name, scopes, limits).await
        }
        KeysCommand::List { json } => list(store, clock, &database, json).await,
        KeysCommand::Revoke { name_or_id } => revoke(store, clock, &database, &name_or_id).await,
    }
}

/// The database the keys are kept in, as shown: its credentials hidden.
struct Database(String);

impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

async fn create(
    store: &dyn ApiKeys,
    clock: &dyn Clock,
    database: &Database,
    name: &str,
    scopes: Scopes,
    limits: KeyLimits,
) -> ExitCode {
    match application::create_key(store, clock, name, scopes, limits).await {
        Ok((key, secret)) => {
            // Said first, so that it is on standard error even when the key's reader has gone.
            eprintln!(
                "created key {} ({}) in {database} with scopes {} and rate {}: keep it now, it is not shown again",
                key.name.as_str(),
                key.id,
                key.scopes,
                key.limits.rate
            );
            out::answer(secret.expose(), ExitCode::SUCCESS)
        }
        Err(KeyError::Store(KeysError::NameTaken(name))) => {
            eprintln!("error: {}", taken(store, clock, database, &name).await);
            ExitCode::from(2)
        }
        Err(KeyError::Store(e)) => failed(&e, database),
        Err(e) => {
            eprintln!("error: {}", Told(&e));
            ExitCode::from(if matches!(e, KeyError::BadName(_)) {
                2
            } else {
                3
            })
        }
    }
}

async fn list(store: &dyn ApiKeys, clock: &dyn Clock, database: &Database, json: bool) -> ExitCode {
    let reports = match application::list_keys(store, clock).await {
        Ok(reports) => reports,
        Err(e) => return failed(&e, database),
    };
    if reports.is_empty() {
        eprintln!("no keys in {database}: make one with `connected keys create NAME`");
    } else {
        eprintln!("keys in {database}:");
    }
    if json {
        let listed: Vec<ListedKey> = reports.iter().map(ListedKey::from).collect();
        return out::answer(
            &serde_json::to_string_pretty(&listed).unwrap_or_default(),
            ExitCode::SUCCESS,
        );
    }
    if reports.is_empty() {
        return ExitCode::SUCCESS;
    }
    let mut lines = vec![format!(
        "{:<20} {:<12} {:<34} {:<10} {:>12} {:>12} {:<20} {:<20} {:<20} today (requests/X users/GitHub calls/member answers)",
        "NAME",
        "ID",
        "SCOPES",
        "RATE",
        "X USERS/DAY",
        "GITHUB/HOUR",
        "CREATED",
        "LAST USED",
        "REVOKED"
    )];
    for report in &reports {
        let key = &report.key;
        let cap = |value: Option<u64>| value.map_or_else(|| "-".to_owned(), |v| v.to_string());
        lines.push(format!(
            "{:<20} {:<12} {:<34} {:<10} {:>12} {:>12} {:<20} {:<20} {:<20} {}/{}/{}/{}",
            key.name.as_str(),
            key.id.as_str(),
            key.scopes.to_string(),
            key.limits.rate.to_string(),
            cap(key.limits.budgets.get(Budget::X_USERS_PER_DAY)),
            cap(key.limits.budgets.get(Budget::GITHUB_CALLS_PER_HOUR)),
            time(Some(key.created_at)).unwrap_or_default(),
            time(key.last_used_at).unwrap_or_else(|| "-".into()),
            time(key.revoked_at).unwrap_or_else(|| "-".into()),
            report.today.requests,
            report.today.spent(Meter::X_USERS),
            report.today.spent(Meter::GITHUB_CALLS),
            report.today.member_answers(),
        ));
    }
    out::answer(&lines.join("\n"), ExitCode::SUCCESS)
}

async fn revoke(
    store: &dyn ApiKeys,
    clock: &dyn Clock,
    database: &Database,
    name_or_id: &str,
) -> ExitCode {
    match application::revoke_key(store, clock, name_or_id).await {
        Ok(Revocation::Revoked(key)) => {
            eprintln!(
                "revoked key {} ({}) in {database} at {}",
                key.name.as_str(),
                key.id,
                time(key.revoked_at).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Ok(Revocation::Already(key)) => {
            eprintln!(
                "key {} ({}) in {database} was already revoked at {}; nothing changed",
                key.name.as_str(),
                key.id,
                time(key.revoked_at).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(e) => failed(&e, database),
    }
}

/// Why `name` cannot be a new key's, and what to do instead. A revoked key keeps its name,
/// so that the audit log names one key.
async fn taken(store: &dyn ApiKeys, clock: &dyn Clock, database: &Database, name: &str) -> String {
    let holder = application::list_keys(store, clock)
        .await
        .ok()
        .and_then(|reports| reports.into_iter().find(|r| r.key.name.as_str() == name));
    let other = format!("choose another, e.g. {name}-2");
    match holder.map(|report| report.key) {
        Some(ApiKey {
            revoked_at: Some(at),
            ..
        }) => format!(
            "the name {name} belonged to a key revoked at {} in {database}; names are kept so that the audit log names one key: {other}",
            time(Some(at)).unwrap_or_default()
        ),
        Some(key) => format!(
            "a key named {name} exists in {database} (created {}): {other}",
            time(Some(key.created_at)).unwrap_or_default()
        ),
        None => format!("a key named {name} exists in {database}: {other}"),
    }
}

fn failed(error: &KeysError, database: &Database) -> ExitCode {
    eprintln!("error: {error} (in {database})");
    match error {
        KeysError::Unavailable(_) => ExitCode::from(3),
        KeysError::NameTaken(_) | KeysError::NotFound(_) | KeysError::Ambiguous(_) => {
            ExitCode::from(2)
        }
    }
}

fn time(at: Option<DateTime<Utc>>) -> Option<String> {
    at.map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// A key as `keys list --json` prints it.
#[derive(Serialize)]
struct ListedKey {
    name: String,
    id: String,
    scopes: Vec<&'static str>,
    rate: String,
    x_users_per_day: Option<u64>,
    github_calls_per_hour: Option<u64>,
    created_at: String,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
    today: TodayUse,
}

#[derive(Serialize)]
struct TodayUse {
    requests: u64,
    x_users: u64,
    github_calls: u64,
    /// Answers members' tokens gave (on any network).
    member_answers: u64,
}

impl From<&KeyReport> for ListedKey {
    fn from(report: &KeyReport) -> Self {
        let key: &ApiKey = &report.key;
        Self {
            name: key.name.as_str().to_owned(),
            id: key.id.to_string(),
            scopes: key.scopes.iter().map(|s| s.id()).collect(),
            rate: key.limits.rate.to_string(),
            x_users_per_day: key.limits.budgets.get(Budget::X_USERS_PER_DAY),
            github_calls_per_hour: key.limits.budgets.get(Budget::GITHUB_CALLS_PER_HOUR),
            created_at: time(Some(key.created_at)).unwrap_or_default(),
            last_used_at: time(key.last_used_at),
            revoked_at: time(key.revoked_at),
            today: TodayUse {
                requests: report.today.requests,
                x_users: report.today.spent(Meter::X_USERS),
                github_calls: report.today.spent(Meter::GITHUB_CALLS),
                member_answers: report.today.member_answers(),
            },
        }
    }
}
