//! How long the register keeps its entries: the oldest time served, and the background
//! deletion of what has expired, shared by both registers.

use crate::domain::Clock;
use std::sync::Arc;
use std::time::Duration;

/// How long a register keeps its entries, and the background deletion of older ones while
/// the register lives.
#[derive(Clone, Default)]
pub(super) struct Retention {
    kept: Option<Kept>,
    _purge: Option<Arc<Purge>>,
}

/// Entries are kept for `keep` before `clock`'s now.
#[derive(Clone)]
struct Kept {
    keep: Duration,
    clock: Arc<dyn Clock>,
}

impl Retention {
    /// Entries kept for `keep` (`None`: for ever); when limited, `delete(pool, cutoff)`
    /// deletes at most [`PURGE_BATCH`] entries older than `cutoff`, in the background, until
    /// the last clone of this is dropped.
    pub(super) fn start<P, F, Fut>(
        keep: Option<Duration>,
        clock: Arc<dyn Clock>,
        pool: P,
        delete: F,
    ) -> Self
    where
        P: Clone + Send + Sync + 'static,
        F: Fn(P, chrono::DateTime<chrono::Utc>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<u64, crate::domain::RegisterError>> + Send,
    {
        let kept = keep.map(|keep| Kept { keep, clock });
        Self {
            _purge: kept.clone().map(|kept| {
                Arc::new(purge_in_background(kept, move |cutoff| {
                    delete(pool.clone(), cutoff)
                }))
            }),
            kept,
        }
    }

    /// Entries older than `keep` not served, and not deleted either: for a register that
    /// only reads.
    pub(super) fn served_only(keep: Option<Duration>, clock: Arc<dyn Clock>) -> Self {
        Self {
            kept: keep.map(|keep| Kept { keep, clock }),
            _purge: None,
        }
    }

    /// The oldest time served, from now on the clock the register was given.
    pub(super) fn since(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let kept = self.kept.as_ref()?;
        retained_since(Some(kept.keep), kept.clock.now())
    }
}

/// The oldest time the retention lets be served, from `now`.
fn retained_since(
    retention: Option<std::time::Duration>,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let retention = chrono::Duration::from_std(retention?).ok()?;
    now.checked_sub_signed(retention)
}

/// Expired entries deleted by one statement: a short transaction, so that checks never
/// wait long behind one.
pub(super) const PURGE_BATCH: u64 = 500;
/// How often expired entries are looked for.
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);
/// The pause between two batches, for writers to get in.
const PURGE_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// The background deletion of expired entries; it stops when the last clone of its register
/// is dropped.
struct Purge(tokio::task::JoinHandle<()>);

impl Drop for Purge {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Deletes the entries older than `retention` now, then every [`PURGE_EVERY`], with
/// `delete`, which deletes at most [`PURGE_BATCH`] entries older than a time and says how
/// many it deleted. A failure is logged and tried again at the next round.
fn purge_in_background<F, Fut>(kept: Kept, mut delete: F) -> Purge
where
    F: FnMut(chrono::DateTime<chrono::Utc>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<u64, crate::domain::RegisterError>> + Send,
{
    Purge(tokio::spawn(async move {
        let mut every = tokio::time::interval(PURGE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let Some(cutoff) = retained_since(Some(kept.keep), kept.clock.now()) else {
                continue;
            };
            let mut deleted = 0;
            loop {
                match delete(cutoff).await {
                    Ok(n) => {
                        deleted += n;
                        if n < PURGE_BATCH {
                            break;
                        }
                        tokio::time::sleep(PURGE_PAUSE).await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %crate::domain::Chain(&e), "expired register entries could not be deleted; trying again later");
                        break;
                    }
                }
            }
            if deleted > 0 {
                tracing::info!(deleted, retention = %humantime::format_duration(kept.keep), "expired register entries deleted");
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TestClock;

    #[test]
    fn what_is_served_starts_one_retention_before_now() {
        let now = TestClock::at("2026-12-01T12:00:00Z").now();
        let week = Duration::from_secs(7 * 24 * 3600);
        assert_eq!(
            retained_since(Some(week), now).map(|since| since.to_rfc3339()),
            Some("2026-11-24T12:00:00+00:00".to_owned())
        );
        assert_eq!(retained_since(None, now), None, "kept for ever");
    }

    #[test]
    fn what_is_served_follows_the_clock_the_register_was_given() {
        let clock = TestClock::at("2026-12-01T12:00:00Z");
        let retention = Retention::served_only(Some(Duration::from_secs(3600)), clock.clone());
        let since = || retention.since().map(|since| since.to_rfc3339());
        assert_eq!(since(), Some("2026-12-01T11:00:00+00:00".to_owned()));
        clock.advance(Duration::from_secs(1800));
        assert_eq!(since(), Some("2026-12-01T11:30:00+00:00".to_owned()));
        let for_ever = Retention::served_only(None, clock);
        assert_eq!(for_ever.since(), None);
    }
}
