//! The shared counters: in Redis when it is configured and answers (atomically, in scripts,
//! on Redis's own clock, so that every instance counts alike), else in this process, on the
//! clock it was given.

use crate::domain::Clock;
use crate::domain::access::{Admission, CountedIn, Counters, Taken, Window};
use crate::outbound::redis::store::RedisStore;
use async_trait::async_trait;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn duration(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// The counters of this process alone.
#[derive(Default)]
pub struct LocalCounters {
    /// The times of each name's requests still inside its period, oldest first.
    requests: Mutex<HashMap<String, VecDeque<i64>>>,
    /// What each budget spent, per window.
    budgets: Mutex<HashMap<(String, Window), u64>>,
}

impl LocalCounters {
    fn admit_at(&self, name: &str, limit: u32, period: Duration, now: i64) -> Admission {
        let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        let times = requests.entry(name.to_owned()).or_default();
        while times.front().is_some_and(|&t| t <= now - millis(period)) {
            times.pop_front();
        }
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let admitted = times.len() < limit;
        if admitted {
            times.push_back(now);
        }
        let oldest = times.front().copied().unwrap_or(now);
        Admission {
            admitted,
            remaining: u32::try_from(limit.saturating_sub(times.len())).unwrap_or(u32::MAX),
            reset: duration(oldest + millis(period) - now),
        }
    }

    /// Takes from the budget, which starts its window at `seed` spent (what the shared store
    /// last said, when it stops answering mid-window) and never counts less than `floor`
    /// (what the database keeps).
    fn take_at(
        &self,
        name: &str,
        units: u64,
        limit: u64,
        window: Window,
        seed: u64,
        floor: u64,
    ) -> Taken {
        let mut budgets = self.budgets.lock().unwrap_or_else(PoisonError::into_inner);
        // Windows that ended are forgotten: a day's and an hour's are kept side by side.
        budgets.retain(|(_, kept), _| kept.end() > window.start());
        let spent = budgets.entry((name.to_owned(), window)).or_insert(seed);
        *spent = (*spent).max(floor);
        let taken = units.min(limit.saturating_sub(*spent));
        *spent += taken;
        Taken {
            units: taken,
            spent: *spent,
            held: CountedIn::Local,
        }
    }

    fn give_back_at(&self, name: &str, units: u64, window: Window) -> Option<u64> {
        let mut budgets = self.budgets.lock().unwrap_or_else(PoisonError::into_inner);
        let spent = budgets.get_mut(&(name.to_owned(), window))?;
        *spent = spent.saturating_sub(units);
        Some(*spent)
    }
}

/// One request under "at most ARGV[1] in any ARGV[2] ms": a sorted set of request times.
const ADMIT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, period = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
local count = redis.call('ZCARD', KEYS[1])
local admitted = 0
if count < limit then
  local n = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[1], now, now .. ':' .. n)
  redis.call('PEXPIRE', KEYS[1], period)
  redis.call('PEXPIRE', KEYS[2], period)
  count = count + 1
  admitted = 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local reset = period
if oldest[2] then reset = tonumber(oldest[2]) + period - now end
return {admitted, limit - count, reset}
";

/// Takes up to ARGV[1] of a budget of ARGV[2], kept until ARGV[3] ms from now, from a count
/// first raised to ARGV[4] (what the database keeps) when it holds less: a Redis that came
/// back empty is seeded, and never lowered.
const TAKE: &str = r"
local stored = tonumber(redis.call('GET', KEYS[1]) or '0')
local spent = math.max(stored, tonumber(ARGV[4]))
local take = math.min(tonumber(ARGV[1]), math.max(tonumber(ARGV[2]) - spent, 0))
if spent + take > stored then
  redis.call('SET', KEYS[1], spent + take, 'PX', ARGV[3])
end
return {take, spent + take}
";

/// Gives back ARGV[1] of a budget, never below nothing; what it has spent after.
const GIVE_BACK: &str = r"
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
local back = math.min(tonumber(ARGV[1]), spent)
if back > 0 then redis.call('DECRBY', KEYS[1], back) end
return spent - back
";

/// The counters, shared through Redis when configured, this process's own otherwise or while
/// Redis cannot answer.
#[derive(Clone)]
pub struct SharedCounters {
    local: Arc<LocalCounters>,
    shared: Option<(RedisStore, Arc<Scripts>)>,
    /// What Redis last said each budget had spent: where this instance's own count starts
    /// when Redis stops answering mid-window, so that an outage does not give every
    /// instance a whole budget again.
    last_shared: Arc<Mutex<HashMap<(String, Window), u64>>>,
    /// The time of this process's own request rates, and of when a budget's window ends.
    clock: Arc<dyn Clock>,
}

struct Scripts {
    admit: redis::Script,
    take: redis::Script,
    give_back: redis::Script,
}

impl SharedCounters {
    /// Counted in `shared` when given, else in this process at `clock`'s time.
    pub fn new(shared: Option<RedisStore>, clock: Arc<dyn Clock>) -> Self {
        let scripts = || {
            Arc::new(Scripts {
                admit: redis::Script::new(ADMIT),
                take: redis::Script::new(TAKE),
                give_back: redis::Script::new(GIVE_BACK),
            })
        };
        Self {
            local: Arc::default(),
            shared: shared.map(|store| (store, scripts())),
            last_shared: Arc::default(),
            clock,
        }
    }

    fn budget_name(name: &str, window: Window) -> String {
        format!("budget:{name}:{}", window.start_ms())
    }
}

#[async_trait]
impl Counters for SharedCounters {
    async fn admit(&self, name: &str, limit: u32, period: Duration) -> Admission {
        if let Some((store, scripts)) = &self.shared {
            // One hash tag: both keys of a name live on one Redis Cluster slot.
            let keys = [format!("rate:{{{name}}}"), format!("rate:{{{name}}}:n")];
            let args = [i64::from(limit), millis(period).max(1)];
            let answer: Option<(i64, i64, i64)> = store.eval(&scripts.admit, &keys, &args).await;
            if let Some((admitted, remaining, reset)) = answer {
                return Admission {
                    admitted: admitted == 1,
                    remaining: u32::try_from(remaining.max(0)).unwrap_or(0),
                    reset: duration(reset),
                };
            }
        }
        self.local
            .admit_at(name, limit, period, self.clock.now_ms())
    }

    async fn take(
        &self,
        name: &str,
        units: u64,
        limit: u64,
        window: Window,
        at_least: u64,
    ) -> Taken {
        let known = (name.to_owned(), window);
        if let Some((store, scripts)) = &self.shared {
            let keys = [Self::budget_name(name, window)];
            let keep = (window.end().timestamp_millis() - self.clock.now_ms()).max(1000);
            let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
            let args = [count(units), count(limit), keep, count(at_least)];
            let answer: Option<(i64, i64)> = store.eval(&scripts.take, &keys, &args).await;
            if let Some((units, spent)) = answer {
                let spent = u64::try_from(spent).unwrap_or(0);
                let mut last = self
                    .last_shared
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                last.retain(|(_, kept), _| kept.end() > window.start());
                last.insert(known, spent);
                return Taken {
                    units: u64::try_from(units).unwrap_or(0),
                    spent,
                    held: CountedIn::Shared,
                };
            }
        }
        let seed = self
            .last_shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&known)
            .copied()
            .unwrap_or(0);
        self.local
            .take_at(name, units, limit, window, seed, at_least)
    }

    async fn give_back(
        &self,
        name: &str,
        units: u64,
        window: Window,
        held: CountedIn,
    ) -> Option<u64> {
        match (held, &self.shared) {
            (CountedIn::Shared, Some((store, scripts))) => {
                let keys = [Self::budget_name(name, window)];
                let args = [i64::try_from(units).unwrap_or(i64::MAX)];
                // Not taken back when Redis does not answer: they stay spent.
                let spent: Option<i64> = store.eval(&scripts.give_back, &keys, &args).await;
                spent.and_then(|n| u64::try_from(n).ok())
            }
            (CountedIn::Local, _) => self.local.give_back_at(name, units, window),
            (CountedIn::Shared, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn noon() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_rate_admits_a_burst_then_one_request_per_freed_slot() {
        let counters = LocalCounters::default();
        let period = Duration::from_secs(60);
        let at = |s: i64| s * 1000;
        for i in 0..3 {
            let admission = counters.admit_at("k", 3, period, at(i));
            assert!(admission.admitted);
            assert_eq!(admission.remaining, 2 - u32::try_from(i).unwrap());
        }
        let refused = counters.admit_at("k", 3, period, at(10));
        assert!(!refused.admitted);
        assert_eq!(
            refused.reset,
            Duration::from_secs(50),
            "the first slot frees at 60 s"
        );
        assert!(counters.admit_at("other", 3, period, at(10)).admitted);
        assert!(counters.admit_at("k", 3, period, at(60)).admitted);
        assert!(!counters.admit_at("k", 3, period, at(60)).admitted);
        assert!(counters.admit_at("k", 3, period, at(61)).admitted);
    }

    #[test]
    fn a_budget_is_never_overrun_and_takes_back_what_was_not_spent() {
        let counters = LocalCounters::default();
        let window = Window::day(noon());
        let take = |units, window| counters.take_at("x", units, 1500, window, 0, 0);
        assert_eq!(take(1000, window).units, 1000);
        assert_eq!(take(1000, window).units, 500);
        assert_eq!(take(1000, window).units, 0);
        counters.give_back_at("x", 300, window);
        assert_eq!(take(0, window).spent, 1200);
        assert_eq!(take(1000, window).units, 300);
        let tomorrow = Window::day(window.end());
        assert_eq!(take(1000, tomorrow).units, 1000);
        assert_eq!(take(0, window).spent, 0, "yesterday is forgotten");
    }

    #[test]
    fn a_days_budget_and_an_hours_are_kept_side_by_side() {
        let counters = LocalCounters::default();
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T17:42:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let day = |units| counters.take_at("x_users", units, 1500, Window::day(at), 0, 0);
        assert_eq!(day(1500).units, 1500);
        let hour = counters.take_at("github", 1, 5000, Window::hour(at), 0, 0);
        assert_eq!(hour.units, 1);
        assert_eq!(day(1000).units, 0, "the hour's take kept the day's count");
        let next_hour = at + chrono::TimeDelta::hours(1);
        counters.take_at("github", 1, 5000, Window::hour(next_hour), 0, 0);
        assert_eq!(day(1000).units, 0);
    }

    #[test]
    fn a_budget_counted_alone_starts_where_the_shared_store_left_it() {
        let counters = LocalCounters::default();
        let window = Window::day(noon());
        assert_eq!(
            counters.take_at("x", 1000, 1500, window, 1400, 0).units,
            100
        );
    }

    #[test]
    fn a_budget_never_counts_less_than_the_database_keeps() {
        let counters = LocalCounters::default();
        let window = Window::hour(noon());
        assert_eq!(counters.take_at("g", 5, 20, window, 0, 12).spent, 17);
        assert_eq!(counters.give_back_at("g", 5, window), Some(12));
        // A floor below the count changes nothing; one above raises it.
        assert_eq!(counters.take_at("g", 1, 20, window, 3, 10).spent, 13);
        assert_eq!(counters.take_at("g", 10, 20, window, 0, 18).units, 2);
    }
}
