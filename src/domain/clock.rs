//! The time, as a port: every rule that depends on it (a budget's window, how long a fact is
//! fresh, the day a key's use is counted in, when a verdict is recorded) reads it from the
//! clock it was given at wiring, so that a test can set it.

use chrono::{DateTime, Utc};

/// Where the time is read.
pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;

    /// Now, in milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }
}

/// A clock that says what it is set to, for tests.
#[cfg(test)]
pub struct TestClock(std::sync::Mutex<DateTime<Utc>>);

#[cfg(test)]
impl TestClock {
    /// A clock set to `time`, written in RFC 3339 (`2026-12-01T23:59:59Z`).
    pub fn at(time: &str) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self(std::sync::Mutex::new(parse(time))))
    }

    /// Sets it to `time`, written as [`TestClock::at`] takes it.
    pub fn set(&self, time: &str) {
        *self.0.lock().unwrap() = parse(time);
    }

    /// Moves it on by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        let mut now = self.0.lock().unwrap();
        *now += chrono::TimeDelta::from_std(by).unwrap();
    }
}

#[cfg(test)]
fn parse(time: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(time)
        .unwrap()
        .with_timezone(&Utc)
}

#[cfg(test)]
impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}
