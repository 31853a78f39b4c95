//! How much a key may ask: its request rate and its spend budgets.

use super::Caps;
use std::fmt;
use std::time::Duration;

/// A period a rate or a spend budget is counted over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    Second,
    Minute,
    Hour,
    Day,
}

impl Period {
    const ALL: [Period; 4] = [Period::Second, Period::Minute, Period::Hour, Period::Day];

    /// How it is written: `s`, `min`, `h`, `day`.
    pub fn id(self) -> &'static str {
        match self {
            Period::Second => "s",
            Period::Minute => "min",
            Period::Hour => "h",
            Period::Day => "day",
        }
    }

    /// Its name in budgets, counters and the database: `second`, `minute`, `hour`, `day`.
    pub fn name(self) -> &'static str {
        match self {
            Period::Second => "second",
            Period::Minute => "minute",
            Period::Hour => "hour",
            Period::Day => "day",
        }
    }

    /// The period of this [`Period::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// `a day`, `an hour`.
    pub fn phrase(self) -> &'static str {
        match self {
            Period::Second => "a second",
            Period::Minute => "a minute",
            Period::Hour => "an hour",
            Period::Day => "a day",
        }
    }

    pub fn duration(self) -> Duration {
        Duration::from_secs(match self {
            Period::Second => 1,
            Period::Minute => 60,
            Period::Hour => 3600,
            Period::Day => 86_400,
        })
    }

    /// The period that lasts exactly `duration`, if any does.
    pub fn from_duration(duration: Duration) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.duration() == duration)
    }
}

/// At most `requests` requests in any `period`, all at once if the caller likes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub requests: u32,
    pub period: Period,
}

impl Rate {
    /// What a key may ask when nothing else is said: 600 requests a minute.
    pub const DEFAULT: Rate = Rate {
        requests: 600,
        period: Period::Minute,
    };
    /// The most requests a rate can allow in a period, so that an instance's memory of a
    /// key's requests stays small.
    pub const MAX_REQUESTS: u32 = 100_000;
}

/// Why a rate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a rate: write N/PERIOD, N from 1 to {max}, PERIOD one of s, min, h, day (600/min)", max = Rate::MAX_REQUESTS)]
pub struct RateError(pub String);

impl std::str::FromStr for Rate {
    type Err = RateError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let refused = || RateError(raw.to_owned());
        let (count, period) = raw.trim().split_once('/').ok_or_else(refused)?;
        let requests: u32 = count.trim().parse().map_err(|_| refused())?;
        let period = Period::ALL
            .into_iter()
            .find(|p| p.id() == period.trim())
            .ok_or_else(refused)?;
        if requests == 0 || requests > Self::MAX_REQUESTS {
            return Err(refused());
        }
        Ok(Self { requests, period })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.requests, self.period.id())
    }
}

/// What a key may ask and spend. A budget without a cap is no cap of the key's own (the
/// service's global budgets still hold).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLimits {
    pub rate: Rate,
    /// The key's own caps on spend budgets (X users a UTC day, GitHub calls an hour, …).
    pub budgets: Caps,
}

impl Default for KeyLimits {
    fn default() -> Self {
        Self {
            rate: Rate::DEFAULT,
            budgets: Caps::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_and_show_as_written() {
        let rate: Rate = " 30 / h ".parse().unwrap();
        assert_eq!(
            rate,
            Rate {
                requests: 30,
                period: Period::Hour
            }
        );
        assert_eq!(rate.to_string(), "30/h");
        assert_eq!(Rate::DEFAULT.to_string(), "600/min");
        for bad in ["0/min", "10", "10/week", "-1/s", "100001/s", "ten/min", ""] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
        for period in Period::ALL {
            assert_eq!(Period::from_duration(period.duration()), Some(period));
            assert_eq!(Period::from_name(period.name()), Some(period));
        }
        assert_eq!(Period::from_name("week"), None);
    }
}
