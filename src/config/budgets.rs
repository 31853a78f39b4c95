//! What the service may spend upstream, all keys together.

use super::values::{BadValue, or_none_when_empty};
use crate::domain::access::{Budget, Caps};
use clap::Args;

/// The service's own caps; `None` is no cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
#[command(next_help_heading = "Budgets")]
pub struct ServiceBudgets {
    /// X users (returned by lookups and follow lists) the service may be billed for a UTC
    /// day, all keys together; unset: no cap.
    #[arg(id = "budget_x_users_per_day", long = "budget-x-users-per-day", env = "BUDGET_X_USERS_PER_DAY", default_value = "", hide_default_value = true, value_parser = or_none_when_empty(count))]
    pub x_users_per_day: std::option::Option<u64>,
    /// Calls to GitHub the service may make an hour, all keys together; unset: no cap.
    #[arg(id = "budget_github_calls_per_hour", long = "budget-github-calls-per-hour", env = "BUDGET_GITHUB_CALLS_PER_HOUR", default_value = "", hide_default_value = true, value_parser = or_none_when_empty(count))]
    pub github_calls_per_hour: std::option::Option<u64>,
}

impl ServiceBudgets {
    /// The caps, by budget: the settings' names are the budgets' public names.
    pub fn caps(&self) -> Caps {
        Caps::default()
            .with(Budget::X_USERS_PER_DAY, self.x_users_per_day)
            .with(Budget::GITHUB_CALLS_PER_HOUR, self.github_calls_per_hour)
    }
}

fn count(raw: &str) -> Result<u64, BadValue> {
    raw.trim().parse::<u64>().map_err(|e| {
        BadValue::because(
            format!("{e} (write a count such as 1500, or leave it empty for no cap)"),
            e,
        )
    })
}
