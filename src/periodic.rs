//! What is counted in memory and written out every so often (what keys spent, what the
//! budgets spent): one loop for every such writer, so that each says only what it writes.

use std::fmt::Display;
use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often counts kept in memory are written out: what a process killed outright loses.
pub const WRITE_EVERY: Duration = Duration::from_secs(2);

/// Calls `write` on `owner` every `every` for as long as the owner lives. A failure is
/// said once (`what` names what could not be written), not on every try, and said again
/// only after a write has succeeded; the writer keeps what failed for its next try.
pub async fn write_regularly<T, F, Fut, E>(
    owner: Weak<T>,
    every: Duration,
    what: &'static str,
    write: F,
) where
    F: Fn(Arc<T>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        ticks.tick().await;
        let Some(owner) = owner.upgrade() else {
            return;
        };
        match write(owner).await {
            Ok(()) => failing = false,
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "{what} could not be written; trying again");
                }
                failing = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn writes_every_period_through_failures_and_stops_when_its_owner_is_gone() {
        let tries = Arc::new(AtomicU32::new(0));
        let writing = tokio::spawn(write_regularly(
            Arc::downgrade(&tries),
            WRITE_EVERY,
            "the counts",
            |tries: Arc<AtomicU32>| async move {
                let n = tries.fetch_add(1, Ordering::SeqCst);
                if n.is_multiple_of(2) {
                    Err("down")
                } else {
                    Ok(())
                }
            },
        ));
        tokio::time::sleep(WRITE_EVERY * 4 + WRITE_EVERY / 2).await;
        // The first tick is at once: 0, 2, 4, 6 and 8 s.
        assert_eq!(tries.load(Ordering::SeqCst), 5);
        drop(tries);
        tokio::time::sleep(WRITE_EVERY).await;
        assert!(writing.is_finished(), "it stops once its owner is dropped");
    }
}
