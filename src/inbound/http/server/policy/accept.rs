//! Failed accepts come in bursts (the process is out of file descriptors until some close):
//! a growing pause between tries instead of a busy loop, and a burst said when it begins and
//! when it ends rather than a line a failure.

use std::time::{Duration, Instant};

/// After a failed accept, the first pause before trying again; it doubles while accepting
/// fails, up to [`BACKOFF_MAX`].
const BACKOFF: Duration = Duration::from_millis(10);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// What to do after a failed accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// How long to pause before accepting again.
    pub after: Duration,
    /// Whether this failure began a burst.
    pub burst_began: bool,
}

/// A burst of failed accepts, ended by an accept that succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Burst {
    pub failures: u64,
    pub lasted: Duration,
}

/// The accept loop's failures since its last success.
#[derive(Debug)]
pub struct AcceptFailures {
    failing_since: Option<(Instant, u64)>,
    backoff: Duration,
}

impl Default for AcceptFailures {
    fn default() -> Self {
        Self {
            failing_since: None,
            backoff: BACKOFF,
        }
    }
}

impl AcceptFailures {
    /// An accept failed at `now`.
    pub fn failed(&mut self, now: Instant) -> Retry {
        let burst_began = match &mut self.failing_since {
            Some((_, failures)) => {
                *failures += 1;
                false
            }
            None => {
                self.failing_since = Some((now, 1));
                true
            }
        };
        let after = self.backoff;
        self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
        Retry { after, burst_began }
    }

    /// An accept succeeded at `now`: the burst of failures it ends, if any.
    pub fn succeeded(&mut self, now: Instant) -> Option<Burst> {
        let (since, failures) = self.failing_since.take()?;
        self.backoff = BACKOFF;
        Some(Burst {
            failures,
            lasted: now.saturating_duration_since(since),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_accepts_back_off_up_to_a_second_and_start_again_after_a_success() {
        let start = Instant::now();
        let mut failures = AcceptFailures::default();
        let pauses: Vec<_> = (0..9).map(|_| failures.failed(start).after).collect();
        assert_eq!(pauses[0], BACKOFF);
        assert_eq!(pauses[1], BACKOFF * 2);
        assert_eq!(pauses[8], BACKOFF_MAX);
        assert!(failures.succeeded(start).is_some());
        assert_eq!(failures.failed(start).after, BACKOFF);
    }

    #[test]
    fn a_burst_of_failures_is_told_when_it_begins_and_summed_up_when_it_ends() {
        let start = Instant::now();
        let mut failures = AcceptFailures::default();
        assert_eq!(failures.succeeded(start), None, "no burst to end");
        assert!(failures.failed(start).burst_began);
        assert!(!failures.failed(start + Duration::from_secs(1)).burst_began);
        assert_eq!(
            failures.succeeded(start + Duration::from_secs(3)),
            Some(Burst {
                failures: 2,
                lasted: Duration::from_secs(3)
            })
        );
        assert!(failures.failed(start).burst_began, "a new burst");
    }
}
