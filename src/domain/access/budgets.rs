//! What the service may spend upstream, in the units each network bills or limits: a
//! budget is a meter (a network and the unit it counts) and the window it is counted in,
//! such as X users a UTC day or GitHub calls an hour; for the whole service and per key.
//! Nothing here names a network's budget but the constants: a new billed network is a new
//! meter, not a new kind of budget.

use super::{Period, Window};
use crate::domain::Network;
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// What a network's calls are counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unit {
    /// Users returned (lookups and follow lists), what X bills.
    Users,
    /// Calls made, what a rate limit counts.
    Calls,
    /// Answers a signed-in member's own token gave (counted, never billed nor capped): how
    /// often sign-in answered for a key's requests.
    MemberAnswers,
}

impl Unit {
    pub const ALL: [Unit; 3] = [Unit::Users, Unit::Calls, Unit::MemberAnswers];

    /// Its name in counters, metrics and the database (`users`).
    pub fn id(self) -> &'static str {
        match self {
            Unit::Users => "users",
            Unit::Calls => "calls",
            Unit::MemberAnswers => "member_answers",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|unit| unit.id() == id)
    }
}

/// What is counted: a network, in the unit it is billed or limited in. What a key spent is
/// kept per meter and UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Meter {
    pub network: Network,
    pub unit: Unit,
}

impl Meter {
    /// X users returned by lookups and follow lists.
    pub const X_USERS: Meter = Meter::new(Network::X, Unit::Users);
    /// Calls to GitHub.
    pub const GITHUB_CALLS: Meter = Meter::new(Network::GitHub, Unit::Calls);

    /// Answers members' tokens gave on `network`.
    pub const fn member_answers(network: Network) -> Meter {
        Meter::new(network, Unit::MemberAnswers)
    }

    pub const fn new(network: Network, unit: Unit) -> Self {
        Self { network, unit }
    }

    /// `x_users`.
    pub fn id(self) -> String {
        format!("{}_{}", self.network.id(), self.unit.id())
    }

    /// Counted in windows of `per`.
    pub const fn per(self, per: Period) -> Budget {
        Budget { meter: self, per }
    }
}

/// A spend budget: a meter, counted in windows of a period (UTC hours and days start on
/// the hour and at midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Budget {
    pub meter: Meter,
    pub per: Period,
}

impl Budget {
    /// X users returned by lookups and follow lists (what X bills), per UTC day.
    pub const X_USERS_PER_DAY: Budget = Meter::X_USERS.per(Period::Day);
    /// Calls to GitHub (what its rate limit counts), per hour.
    pub const GITHUB_CALLS_PER_HOUR: Budget = Meter::GITHUB_CALLS.per(Period::Hour);

    /// Its name in counters and metrics: `x_users_per_day`.
    pub fn id(self) -> String {
        format!("{}_per_{}", self.meter.id(), self.per.name())
    }

    /// The window holding `at` that it is counted in.
    pub fn window(self, at: DateTime<Utc>) -> Window {
        // A period is at most a day: its length always converts.
        let length = TimeDelta::from_std(self.per.duration()).unwrap_or(TimeDelta::days(1));
        Window::of(at, length)
    }

    /// `1500 X users a day`, `5000 GitHub calls an hour`.
    pub fn describe(self, limit: u64) -> String {
        format!(
            "{limit} {} {} {}",
            self.meter.network.title(),
            self.meter.unit.id(),
            self.per.phrase()
        )
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

/// Caps on budgets (a key's, or the service's): a budget without one is not capped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caps(BTreeMap<Budget, u64>);

impl Caps {
    /// The same, `budget` capped at `limit` (or not capped, for `None`).
    #[must_use]
    pub fn with(mut self, budget: Budget, limit: Option<u64>) -> Self {
        self.set(budget, limit);
        self
    }

    /// Caps `budget` at `limit` (or lifts its cap, for `None`).
    pub fn set(&mut self, budget: Budget, limit: Option<u64>) {
        match limit {
            Some(limit) => self.0.insert(budget, limit),
            None => self.0.remove(&budget),
        };
    }

    /// The cap on `budget`, if any.
    pub fn get(&self, budget: Budget) -> Option<u64> {
        self.0.get(&budget).copied()
    }

    /// Every capped budget with its cap, in one order.
    pub fn iter(&self) -> impl Iterator<Item = (Budget, u64)> + '_ {
        self.0.iter().map(|(budget, limit)| (*budget, *limit))
    }
}

impl FromIterator<(Budget, u64)> for Caps {
    fn from_iter<I: IntoIterator<Item = (Budget, u64)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
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
    fn a_budget_is_named_by_its_network_unit_and_window() {
        assert_eq!(Budget::X_USERS_PER_DAY.id(), "x_users_per_day");
        assert_eq!(Budget::GITHUB_CALLS_PER_HOUR.id(), "github_calls_per_hour");
        let bluesky = Meter::new(Network::Bluesky, Unit::Calls).per(Period::Day);
        assert_eq!(bluesky.id(), "bluesky_calls_per_day");
        assert_eq!(bluesky.describe(7), "7 Bluesky calls a day");
        assert_eq!(Meter::X_USERS.id(), "x_users");
        for unit in Unit::ALL {
            assert_eq!(Unit::from_id(unit.id()), Some(unit));
        }
        assert_eq!(Unit::from_id("dollars"), None);
        let minute = Meter::X_USERS.per(Period::Minute);
        assert_eq!(minute.id(), "x_users_per_minute");
        assert_eq!(minute.describe(3), "3 X users a minute");
    }

    #[test]
    fn a_budget_is_counted_in_its_window() {
        let at = DateTime::parse_from_rfc3339("2026-12-03T13:45:10Z")
            .unwrap()
            .with_timezone(&Utc);
        let hour = Budget::GITHUB_CALLS_PER_HOUR.window(at);
        let day = Budget::X_USERS_PER_DAY.window(at);
        assert_eq!(hour, Window::hour(at));
        assert_eq!(day, Window::day(at));
        assert_ne!(hour, day);
        let minute = Meter::X_USERS.per(Period::Minute).window(at);
        assert_eq!(minute.start().to_rfc3339(), "2026-12-03T13:45:00+00:00");
        assert_eq!(minute.end().to_rfc3339(), "2026-12-03T13:46:00+00:00");
    }

    #[test]
    fn caps_hold_one_limit_a_budget_and_none_is_no_cap() {
        let caps = Caps::default()
            .with(Budget::X_USERS_PER_DAY, Some(1500))
            .with(Budget::GITHUB_CALLS_PER_HOUR, None);
        assert_eq!(caps.get(Budget::X_USERS_PER_DAY), Some(1500));
        assert_eq!(caps.get(Budget::GITHUB_CALLS_PER_HOUR), None);
        let lifted = caps.clone().with(Budget::X_USERS_PER_DAY, None);
        assert_eq!(lifted, Caps::default());
        let collected: Caps = caps.iter().collect();
        assert_eq!(collected, caps);
    }

    #[test]
    fn an_overspend_names_its_budget() {
        let overspend = Overspend {
            payer: Payer::Key,
            budget: Budget::X_USERS_PER_DAY,
            limit: 1500,
            retry_after: Duration::from_millis(3_600_500),
        };
        assert_eq!(
            overspend.to_string(),
            "the API key's budget of 1500 X users a day is spent"
        );
        let service = Overspend {
            payer: Payer::Service,
            budget: Budget::GITHUB_CALLS_PER_HOUR,
            limit: 5000,
            retry_after: Duration::from_secs(60),
        };
        assert_eq!(
            service.to_string(),
            "the service's budget of 5000 GitHub calls an hour is spent"
        );
    }
}
