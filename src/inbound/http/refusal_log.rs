//! Refused requests, summed up: a refusal is counted, not written, and one line per kind of
//! refusal (status, reason, key) and second says how many there were. A flood of refused
//! requests, which costs its sender nothing, so writes a few lines a second however fast it
//! comes; a request let through keeps its own line in the request log.

use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

/// How long refusals are counted before their line is written.
const EVERY: Duration = Duration::from_secs(1);

/// Set on a refused response by what refused it: why, and whose key when it was recognised
/// (a key sent but not recognised is not named: anyone can make one up).
#[derive(Clone, Debug)]
pub(super) struct Refused {
    pub(super) reason: &'static str,
    pub(super) key: Option<String>,
}

impl Refused {
    /// A refusal with no key named, for `reason`.
    pub(super) fn anonymous(reason: &'static str) -> Self {
        Self { reason, key: None }
    }

    /// `answer`, marked as this refusal for the summary.
    pub(super) fn on(self, answer: impl IntoResponse) -> Response {
        let mut response = answer.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// What refusals are counted by.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Kind {
    pub(super) status: u16,
    pub(super) reason: &'static str,
    pub(super) key: Option<String>,
}

/// How many refusals of a kind, and who sent the first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Tally {
    pub(super) count: u64,
    pub(super) first_peer: Option<SocketAddr>,
}

/// AccessRefusals counted over windows of a fixed length: a window opens with the first refusal
/// after the last one closed, and its counts are handed out once it has ended. The time is
/// given with each call, so that the rule is tested without waiting.
#[derive(Debug)]
pub(super) struct Summary {
    every: Duration,
    opened: Option<Instant>,
    tallies: BTreeMap<Kind, Tally>,
}

impl Summary {
    pub(super) fn new(every: Duration) -> Self {
        Self {
            every,
            opened: None,
            tallies: BTreeMap::new(),
        }
    }

    /// Counts a refusal of `kind` from `peer` at `now`; the counts of a window it finds
    /// ended, if any.
    pub(super) fn note(
        &mut self,
        kind: Kind,
        peer: Option<SocketAddr>,
        now: Instant,
    ) -> Vec<(Kind, Tally)> {
        let ended = self.due(now);
        self.opened.get_or_insert(now);
        self.tallies
            .entry(kind)
            .or_insert(Tally {
                count: 0,
                first_peer: peer,
            })
            .count += 1;
        ended
    }

    /// The counts of the window, once it has ended at `now`; nothing before.
    pub(super) fn due(&mut self, now: Instant) -> Vec<(Kind, Tally)> {
        match self.opened {
            Some(opened) if now.saturating_duration_since(opened) >= self.every => {
                self.opened = None;
                std::mem::take(&mut self.tallies).into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    /// Whatever is counted, ended or not (at shutdown).
    fn rest(&mut self) -> Vec<(Kind, Tally)> {
        self.opened = None;
        std::mem::take(&mut self.tallies).into_iter().collect()
    }
}

/// The summary the request log writes refusals to, written out every [`EVERY`] by a task
/// of its own while it lives, and once more when it is dropped.
pub(super) struct RefusalLog {
    summary: Mutex<Summary>,
}

impl RefusalLog {
    pub(super) fn start() -> Arc<Self> {
        let log = Arc::new(Self {
            summary: Mutex::new(Summary::new(EVERY)),
        });
        tokio::spawn(write_regularly(Arc::downgrade(&log)));
        log
    }

    fn summary(&self) -> std::sync::MutexGuard<'_, Summary> {
        self.summary.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a refused request, answered `status`.
    pub(super) fn note(&self, status: u16, refused: &Refused, peer: Option<SocketAddr>) {
        let kind = Kind {
            status,
            reason: refused.reason,
            key: refused.key.clone(),
        };
        let ended = self.summary().note(kind, peer, Instant::now());
        write(ended);
    }
}

impl Drop for RefusalLog {
    fn drop(&mut self) {
        write(self.summary().rest());
    }
}

async fn write_regularly(log: Weak<RefusalLog>) {
    // A window is written at most a quarter of its length after it ends.
    let mut every = tokio::time::interval(EVERY / 4);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(log) = log.upgrade() else { return };
        let ended = log.summary().due(Instant::now());
        write(ended);
    }
}

fn write(tallies: Vec<(Kind, Tally)>) {
    for (kind, tally) in tallies {
        let first_peer = tally
            .first_peer
            .map_or_else(|| "-".to_owned(), |peer| peer.to_string());
        tracing::info!(
            status = kind.status,
            reason = kind.reason,
            key = kind.key.as_deref().unwrap_or("-"),
            count = tally.count,
            first_peer,
            "refused (a line per reason and key, at most one a second)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(status: u16, reason: &'static str, key: Option<&str>) -> Kind {
        Kind {
            status,
            reason,
            key: key.map(str::to_owned),
        }
    }

    #[test]
    fn refusals_are_counted_per_kind_and_handed_out_once_their_window_ends() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let peer: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let other: SocketAddr = "127.0.0.1:4001".parse().unwrap();
        let mut summary = Summary::new(Duration::from_secs(1));
        let no_key = kind(401, "no key", None);
        let scope = kind(403, "missing scope", Some("k1"));
        for n in 0..10_000 {
            let from = if n == 0 { peer } else { other };
            assert!(
                summary
                    .note(no_key.clone(), Some(from), at(n / 20))
                    .is_empty()
            );
        }
        assert!(summary.note(scope.clone(), None, at(999)).is_empty());
        assert!(summary.due(at(999)).is_empty(), "the window has not ended");

        let ended = summary.due(at(1000));
        assert_eq!(
            ended,
            [
                (
                    no_key.clone(),
                    Tally {
                        count: 10_000,
                        first_peer: Some(peer)
                    }
                ),
                (
                    scope,
                    Tally {
                        count: 1,
                        first_peer: None
                    }
                ),
            ]
        );
        assert!(summary.due(at(5000)).is_empty(), "nothing is counted twice");
    }

    #[test]
    fn a_refusal_after_a_quiet_spell_opens_a_new_window_and_closes_the_old() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut summary = Summary::new(Duration::from_secs(1));
        let no_key = kind(401, "no key", None);
        assert!(summary.note(no_key.clone(), None, at(0)).is_empty());
        let ended = summary.note(no_key.clone(), None, at(3000));
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].1.count, 1);
        assert!(
            summary.due(at(3999)).is_empty(),
            "the new window opened at 3 s"
        );
        assert_eq!(summary.due(at(4000))[0].1.count, 1);
        assert!(summary.rest().is_empty());
    }
}
