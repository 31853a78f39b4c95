//! A connection's activity, shared by its task, its socket and its requests: the policy's
//! state of the connection behind a lock, told what happens as it happens, and the wake-ups
//! the policy asks for.

use super::policy::{ConnectionState, Due, RequestNo, Standing, Timeouts, Wake, Wakes};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::Notify;

/// The time the policy is told: tokio's clock, which tests can pause.
pub fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// What the open connections weigh against the cap, and the accept loop's wake-up; shared by
/// the accept loop and every connection.
#[derive(Debug, Default)]
pub struct Load {
    /// The sum of the connections' weights, kept as each changes.
    weight: AtomicUsize,
    /// A connection went idle, closed or finished one of several requests: room may be made
    /// for a new one.
    pub freed: Notify,
}

impl Load {
    pub fn weight(&self) -> usize {
        self.weight.load(Ordering::Relaxed)
    }

    fn changed(&self, before: usize, after: usize) {
        if after > before {
            self.weight.fetch_add(after - before, Ordering::Relaxed);
        } else {
            self.weight.fetch_sub(before - after, Ordering::Relaxed);
        }
    }
}

#[derive(Debug)]
pub struct Activity {
    state: Mutex<ConnectionState>,
    /// Wakes the connection's task when the policy says so.
    changed: Notify,
    /// What all connections weigh, which this one's weight is part of.
    load: Arc<Load>,
}

impl Activity {
    /// A connection accepted now, weighing on `load` from now on.
    pub fn new(load: Arc<Load>) -> Self {
        let state = ConnectionState::new(now());
        load.changed(0, state.weight());
        Self {
            state: Mutex::new(state),
            changed: Notify::new(),
            load,
        }
    }

    fn state(&self) -> MutexGuard<'_, ConnectionState> {
        // Nothing panics while holding the lock; if something did, the state is still the
        // best knowledge there is.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `change` to the state, keeps the load's weight up to date, and wakes whom the
    /// policy says.
    fn update<R>(&self, change: impl FnOnce(&mut ConnectionState) -> (R, Wakes)) -> R {
        let mut state = self.state();
        let before = state.weight();
        let (result, wakes) = change(&mut state);
        self.load.changed(before, state.weight());
        drop(state);
        if wakes.task {
            self.changed.notify_one();
        }
        if wakes.accept_loop {
            self.load.freed.notify_one();
        }
        result
    }

    pub fn standing(&self) -> Standing {
        self.state().standing()
    }

    #[cfg(test)]
    pub fn waiting_since(&self) -> Option<std::time::Instant> {
        self.state().waiting_since()
    }

    /// Asks the connection to close gracefully.
    pub fn request_close(&self) {
        self.update(|state| ((), state.request_close(now())));
    }

    /// Drops the connection now, its requests in flight with it, to make room at the cap.
    pub fn shed(&self) {
        self.update(|state| ((), state.shed()));
    }

    /// The connection no longer weighs against the cap.
    pub fn uncount(&self) {
        self.update(|state| {
            state.uncount();
            ((), Wakes::default())
        });
    }

    pub fn bytes_arrived(&self) {
        self.update(|state| ((), state.bytes_arrived(now())));
    }

    pub fn request_started(self: &Arc<Self>, http2: bool) -> InFlight {
        let request = self.update(|state| state.request_started(http2));
        InFlight {
            activity: Arc::clone(self),
            request,
        }
    }

    /// Completes when the connection must be closed, gracefully or at once.
    pub async fn watch(&self, timeouts: Timeouts) -> Wake {
        loop {
            // Created before the state is read: a change made in between leaves a permit,
            // so it is not missed.
            let changed = self.changed.notified();
            let due = self.state().next(now(), timeouts);
            match due {
                Due::Now(wake) => return wake,
                Due::OnChange => changed.await,
                Due::At(deadline) => {
                    let deadline = tokio::time::Instant::from_std(deadline);
                    tokio::select! {
                        () = tokio::time::sleep_until(deadline) => {}
                        () = changed => {}
                    }
                }
            }
        }
    }
}

/// A request in flight, from its head read to its response body dropped (sent, or the
/// connection gone).
pub struct InFlight {
    activity: Arc<Activity>,
    request: RequestNo,
}

impl InFlight {
    /// Whether the response waits on the client from now, or not.
    pub fn waiting_on_client(&self, waiting: bool) {
        self.activity
            .update(|state| ((), state.waiting_on_client(self.request, waiting, now())));
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.activity
            .update(|state| ((), state.request_finished(self.request, now())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::http::server::policy::Expiry;
    use std::time::Duration;
    use tokio::time::Instant;

    const TIMEOUTS: Timeouts = Timeouts {
        header_read: Duration::from_secs(10),
        idle: Duration::from_secs(75),
        send: Duration::from_secs(30),
    };

    #[tokio::test(start_paused = true)]
    async fn the_watch_sleeps_until_the_policys_deadline_and_wakes_on_a_change() {
        let activity = Arc::new(Activity::new(Arc::default()));
        let in_flight = activity.request_started(false);
        let watching = tokio::spawn({
            let activity = Arc::clone(&activity);
            async move { activity.watch(TIMEOUTS).await }
        });
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(
            !watching.is_finished(),
            "a request in flight has no deadline"
        );
        in_flight.waiting_on_client(true);
        let waiting = Instant::now();
        assert_eq!(watching.await.unwrap(), Wake::Expired(Expiry::Stalled));
        assert_eq!(waiting.elapsed(), TIMEOUTS.send);
    }

    #[test]
    fn the_load_weighs_each_connection_as_the_policy_says() {
        let load = Arc::new(Load::default());
        let first = Arc::new(Activity::new(Arc::clone(&load)));
        let second = Arc::new(Activity::new(Arc::clone(&load)));
        assert_eq!(load.weight(), 2);
        let streams: Vec<_> = (0..3).map(|_| first.request_started(true)).collect();
        assert_eq!(load.weight(), 4);
        second.uncount();
        assert_eq!(load.weight(), 3);
        drop(streams);
        first.uncount();
        assert_eq!(load.weight(), 0);
    }
}
