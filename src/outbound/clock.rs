//! The system's clock: the one place the service reads the time of day. Everything else is
//! given this clock at wiring, as a [`Clock`].

use crate::domain::Clock;
use chrono::{DateTime, Utc};

/// The time as the operating system tells it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
