//! What the service may spend upstream, in the units it is billed or limited in: X users
//! returned a UTC day, GitHub calls an hour; for the whole service and per key.

use super::Window;
use chrono::{DateTime, Utc};
use std::fmt;
use std::time::Duration;

/// A spend budget's unit and window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Budget {
    /// X users returned by lookups and follow lists (what X bills), per UTC day.
    XUsersPerDay,
    /// Calls to GitHub (what its rate limit counts), per hour.
    GitHubCallsPerHour,
}

impl Budget {
    /// Its name in counters and metrics.
    pub fn id(self) -> &'static str {
        match self {
            Budget::XUsersPerDay => "x_users_per_day",
            Budget::GitHubCallsPerHour => "github_calls_per_hour",
        }
    }

    /// The window holding `at` that it is counted in.
    pub fn window(self, at: DateTime<Utc>) -> Window {
        match self {
            Budget::XUsersPerDay => Window::day(at),
            Budget::GitHubCallsPerHour => Window::hour(at),
        }
    }

    /// `1500 X users a day`, `5000 GitHub calls an hour`.
    pub fn describe(self, limit: u64) -> String {
        match self {
            Budget::XUsersPerDay => format!("{limit} X users a day"),
            Budget::GitHubCallsPerHour => format!("{limit} GitHub calls an hour"),
        }
    }
}

/// Who pays for a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payer {
    /// The key that asked.
    Key,
    /// The service as a whole.
    Service,
}

/// A read refused before it was made: a budget cannot pay for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overspend {
    pub payer: Payer,
    pub budget: Budget,
    pub limit: u64,
    /// Until the budget's window ends.
    pub retry_after: Duration,
}

impl fmt::Display for Overspend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whose = match self.payer {
            Payer::Key => "the API key's",
            Payer::Service => "the service's",
        };
        write!(
            f,
            "{whose} budget of {} is spent",
            self.budget.describe(self.limit)
        )
    }
}

impl std::error::Error for Overspend {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overspend_names_its_budget() {
        let overspend = Overspend {
            payer: Payer::Key,
            budget: Budget::XUsersPerDay,
            limit: 1500,
            retry_after: Duration::from_millis(3_600_500),
        };
        assert_eq!(
            overspend.to_string(),
            "the API key's budget of 1500 X users a day is spent"
        );
        let service = Overspend {
            payer: Payer::Service,
            budget: Budget::GitHubCallsPerHour,
            limit: 5000,
            retry_after: Duration::from_secs(60),
        };
        assert_eq!(
            service.to_string(),
            "the service's budget of 5000 GitHub calls an hour is spent"
        );
    }
}
