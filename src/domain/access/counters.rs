//! Counters that every instance must agree on: a key's request rate and the spend budgets.

use async_trait::async_trait;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use std::time::Duration;

/// What a request rate said of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// Whether the request may go on (it is then counted).
    pub admitted: bool,
    /// Requests still allowed now, this one counted.
    pub remaining: u32,
    /// How long until a slot frees: when refused, how long to wait.
    pub reset: Duration,
}

/// What a budget gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    pub units: u64,
    /// What the budget has spent in its window, these units included.
    pub spent: u64,
    /// Where they were counted: what is given back goes back there, and only there.
    pub held: CountedIn,
}

/// Where counted units are held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountedIn {
    /// The store every instance shares.
    Shared,
    /// This instance alone (no shared store, or it did not answer).
    Local,
}

/// A fixed window a budget is counted in: the UTC day, or the hour, that holds a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    start: DateTime<Utc>,
    length: TimeDelta,
}

impl Window {
    /// The UTC day holding `at`.
    pub fn day(at: DateTime<Utc>) -> Self {
        Self::of(at, TimeDelta::days(1))
    }

    /// The hour (UTC) holding `at`.
    pub fn hour(at: DateTime<Utc>) -> Self {
        Self::of(at, TimeDelta::hours(1))
    }

    /// The window of `length` holding `at`, counted from the epoch (UTC).
    pub(super) fn of(at: DateTime<Utc>, length: TimeDelta) -> Self {
        Self {
            start: at.duration_trunc(length).unwrap_or(at),
            length,
        }
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// When the window began, in milliseconds since the epoch: what names it.
    pub fn start_ms(&self) -> i64 {
        self.start.timestamp_millis()
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.start + self.length
    }

    /// How long from `now` until the window ends.
    pub fn left(&self, now: DateTime<Utc>) -> Duration {
        (self.end() - now).to_std().unwrap_or_default()
    }
}

/// Shared counters: a sliding window of requests per key, and budgets spent in fixed
/// windows. They never fail: a shared store that is down gives way to this instance's own
/// counts.
#[async_trait]
pub trait Counters: Send + Sync + 'static {
    /// One request under "at most `limit` in any `period`" for `name`: counted and admitted,
    /// or refused (and not counted).
    async fn admit(&self, name: &str, limit: u32, period: Duration) -> Admission;

    /// Takes up to `units` from the budget `name` of `limit` in `window`: all of them, what is
    /// left when fewer are, or none; and what the budget has spent since, these included.
    /// `at_least` is what the budget is known to have spent in the window already (what the
    /// database keeps): a store that counts less, emptied by a restart or an outage, is
    /// raised to it first.
    async fn take(
        &self,
        name: &str,
        units: u64,
        limit: u64,
        window: Window,
        at_least: u64,
    ) -> Taken;

    /// Gives back units taken in `window` but not spent, to where they were taken; when
    /// that store cannot take them back, they stay spent (a budget errs on the side of
    /// spending less). What the budget has spent after, when the store said.
    async fn give_back(
        &self,
        name: &str,
        units: u64,
        window: Window,
        held: CountedIn,
    ) -> Option<u64>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_the_utc_day_and_the_hour() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T17:42:10.5Z")
            .unwrap()
            .with_timezone(&Utc);
        let day = Window::day(at);
        assert_eq!(day.end().to_rfc3339(), "2026-12-02T00:00:00+00:00");
        assert_eq!(day.left(at), Duration::from_millis(22_669_500));
        let hour = Window::hour(at);
        assert_eq!(hour.start_ms(), at.timestamp_millis() - 2_530_500);
        assert_eq!(hour.end().to_rfc3339(), "2026-12-01T18:00:00+00:00");
        assert_eq!(
            Window::day(day.end()).start_ms(),
            day.end().timestamp_millis()
        );
    }
}
