//! The open connections, for the cap: what they weigh, and the one the policy closes to make
//! room for a new one.

use super::activity::{Activity, Load, now};
use super::policy::{self, Room};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub struct Open {
    connections: Mutex<(u64, HashMap<u64, Arc<Activity>>)>,
    /// What they weigh, and the wake-up when room may be made.
    pub load: Arc<Load>,
}

impl Open {
    pub fn new() -> Self {
        Self {
            connections: Mutex::new((0, HashMap::new())),
            load: Arc::new(Load::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, (u64, HashMap<u64, Arc<Activity>>)> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// What the open connections weigh against the cap.
    pub fn weight(&self) -> usize {
        self.load.weight()
    }

    /// A new connection, counted until it is removed or closed to make room.
    pub fn add(&self) -> (u64, Arc<Activity>) {
        let activity = Arc::new(Activity::new(Arc::clone(&self.load)));
        let mut open = self.lock();
        let id = open.0;
        open.0 += 1;
        open.1.insert(id, Arc::clone(&activity));
        (id, activity)
    }

    pub fn remove(&self, id: u64) {
        let removed = self.lock().1.remove(&id);
        if let Some(activity) = removed {
            activity.uncount();
            self.load.freed.notify_one();
        }
    }

    /// Makes room for one connection as the policy says, and stops counting the one it
    /// closes: its slot is free now, its socket within a second.
    pub fn close_one(&self) -> Room<u64> {
        let mut open = self.lock();
        let standings = open
            .1
            .iter()
            .map(|(id, activity)| (*id, activity.standing()));
        let room = policy::make_room(standings, now());
        let (Room::CloseIdle(id) | Room::Shed(id)) = room else {
            return room;
        };
        if let Some(activity) = open.1.remove(&id) {
            activity.uncount();
            if matches!(room, Room::Shed(_)) {
                activity.shed();
            } else {
                activity.request_close();
            }
        }
        room
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::http::server::policy::{Expiry, Timeouts, Wake};
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn the_connection_the_policy_chooses_is_closed_or_dropped_and_no_longer_counted() {
        let open = Open::new();
        let (_, busy) = open.add();
        let _computing = busy.request_started(false);
        let (_, idle) = open.add();
        let (_, stalled) = open.add();
        let response = stalled.request_started(true);
        response.waiting_on_client(true);
        assert!(matches!(open.close_one(), Room::CloseIdle(_)));
        assert_eq!(open.weight(), 2);
        assert_eq!(idle.standing(), policy::Standing::Busy, "asked to close");

        let Room::WaitUntil(shed_at) = open.close_one() else {
            panic!("a response has not waited long enough to be shed");
        };
        tokio::time::sleep_until(tokio::time::Instant::from_std(shed_at)).await;
        assert!(matches!(open.close_one(), Room::Shed(_)));
        assert_eq!(open.weight(), 1);
        let timeouts = Timeouts {
            header_read: Duration::from_secs(10),
            idle: Duration::from_secs(75),
            send: Duration::from_secs(30),
        };
        assert_eq!(stalled.watch(timeouts).await, Wake::Expired(Expiry::Shed));
        assert_eq!(idle.watch(timeouts).await, Wake::Close);
    }

    #[test]
    fn a_connection_removed_weighs_nothing_whatever_it_has_in_flight() {
        let open = Open::new();
        let (id, activity) = open.add();
        let streams: Vec<_> = (0..3).map(|_| activity.request_started(true)).collect();
        assert_eq!(open.weight(), 3);
        open.remove(id);
        assert_eq!(open.weight(), 0);
        drop(streams);
        assert_eq!(open.weight(), 0);
    }
}
