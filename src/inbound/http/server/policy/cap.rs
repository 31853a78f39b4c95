//! The cap on open connections: when a new one may be served, and which open one makes room
//! for it when none may.

use super::Standing;
use std::time::{Duration, Instant};

/// At the cap, how long a response must have waited on its client before its connection is
/// dropped to make room. A client that reads, however slowly, takes some of it well within
/// this (hyper hands the socket more as soon as there is room), so only one that has stopped
/// reading is chosen; and a new connection waits this long at most behind one that has.
pub const SHED_AFTER: Duration = Duration::from_secs(1);

/// An HTTP/2 connection's requests at once, at most (and never more than the cap): each
/// weighs against the cap as a connection does. RFC 9113 recommends allowing 100 at least;
/// hyper's default is 200.
const MAX_STREAMS: usize = 100;

/// The requests one HTTP/2 connection may have in flight under a cap of `max_connections`.
pub fn max_streams(max_connections: usize) -> usize {
    max_connections.clamp(1, MAX_STREAMS)
}

/// Whether a new connection may be served while the open ones weigh `weight`.
pub fn has_room(weight: usize, max_connections: usize) -> bool {
    weight < max_connections
}

/// How room is made for a new connection at the cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Room<K> {
    /// Ask this idle connection to close; its slot is free at once.
    CloseIdle(K),
    /// Drop this connection, whose response has waited on its client for too long.
    Shed(K),
    /// None can go yet: look again at this time, or as soon as one goes idle.
    WaitUntil(Instant),
}

/// Which of `connections`, known by their keys, makes room at `now`: the one idle the
/// longest; with none idle, the one whose response has waited on its client the longest,
/// once it has for [`SHED_AFTER`]. Of two that have waited as long, the smaller key.
pub fn make_room<K: Ord + Copy>(
    connections: impl IntoIterator<Item = (K, Standing)>,
    now: Instant,
) -> Room<K> {
    let mut longest_idle = None;
    let mut longest_waiting = None;
    for (key, standing) in connections {
        match standing {
            Standing::Idle(since) => longest_idle = earliest(longest_idle, (since, key)),
            Standing::WaitingOnClient(since) => {
                longest_waiting = earliest(longest_waiting, (since, key));
            }
            Standing::Busy => {}
        }
    }
    if let Some((_, key)) = longest_idle {
        return Room::CloseIdle(key);
    }
    match longest_waiting {
        Some((since, key)) if since + SHED_AFTER <= now => Room::Shed(key),
        Some((since, _)) => Room::WaitUntil(since + SHED_AFTER),
        // A response that starts waiting on its client wakes no one: look again by then.
        None => Room::WaitUntil(now + SHED_AFTER),
    }
}

fn earliest<K: Ord>(found: Option<(Instant, K)>, candidate: (Instant, K)) -> Option<(Instant, K)> {
    match found {
        Some(found) => Some(found.min(candidate)),
        None => Some(candidate),
    }
}

#[cfg(test)]
mod tests {
    use super::super::ConnectionState;
    use super::*;
    use Standing::{Busy, Idle, WaitingOnClient};

    fn at(start: Instant, millis: u64) -> Instant {
        start + Duration::from_millis(millis)
    }

    #[test]
    fn a_new_connection_is_served_while_the_open_ones_weigh_less_than_the_cap() {
        assert!(has_room(39, 40));
        assert!(!has_room(40, 40));
        assert!(
            !has_room(41, 40),
            "streams may weigh more than the cap allows"
        );
    }

    #[test]
    fn an_http2_connection_may_have_as_many_requests_in_flight_as_the_cap_up_to_100() {
        assert_eq!(max_streams(0), 1);
        assert_eq!(max_streams(40), 40);
        assert_eq!(max_streams(10_000), 100);
    }

    #[test]
    fn at_the_cap_the_connection_idle_the_longest_is_closed_whatever_the_others_do() {
        let start = Instant::now();
        let open = [
            (1, Busy),
            (2, WaitingOnClient(start)),
            (3, Idle(at(start, 10))),
            (4, Idle(at(start, 5))),
            (5, Idle(at(start, 5))),
        ];
        assert_eq!(make_room(open, at(start, 5000)), Room::CloseIdle(4));
    }

    #[test]
    fn with_none_idle_the_response_waiting_longest_on_its_client_is_shed_after_a_second() {
        let start = Instant::now();
        let open = [
            (1, Busy),
            (2, WaitingOnClient(at(start, 5))),
            (3, WaitingOnClient(start)),
        ];
        assert_eq!(
            make_room(open, at(start, 999)),
            Room::WaitUntil(at(start, 1000)),
            "not waited for a second yet"
        );
        assert_eq!(make_room(open, at(start, 1000)), Room::Shed(3));
    }

    #[test]
    fn when_every_request_is_being_read_or_computed_a_new_connection_waits() {
        let start = Instant::now();
        assert_eq!(
            make_room([(1, Busy), (2, Busy)], start),
            Room::WaitUntil(at(start, 1000))
        );
        assert_eq!(
            make_room::<u64>([], start),
            Room::WaitUntil(at(start, 1000))
        );
    }

    #[test]
    fn a_connection_weighs_its_requests_in_flight_one_at_least_and_nothing_once_uncounted() {
        let start = Instant::now();
        let mut state = ConnectionState::new(start);
        assert_eq!(state.weight(), 1);
        let (first, _) = state.request_started(true);
        assert_eq!(state.weight(), 1);
        let more: Vec<_> = (0..3).map(|_| state.request_started(true).0).collect();
        assert_eq!(state.weight(), 4);
        let _ = state.request_finished(first, start);
        assert_eq!(state.weight(), 3);
        state.uncount();
        assert_eq!(state.weight(), 0);
        for request in more {
            let _ = state.request_finished(request, start);
        }
        assert_eq!(state.weight(), 0);
    }

    #[test]
    fn a_connection_stands_idle_waiting_on_its_client_or_busy() {
        let start = Instant::now();
        let mut state = ConnectionState::new(start);
        let (first, _) = state.request_started(false);
        let _ = state.request_finished(first, at(start, 2));
        assert_eq!(state.standing(), Idle(at(start, 2)));
        let (request, _) = state.request_started(false);
        assert_eq!(state.standing(), Busy, "computing");
        let _ = state.waiting_on_client(request, true, at(start, 3));
        assert_eq!(state.standing(), WaitingOnClient(at(start, 3)));
        let _ = state.request_finished(request, at(start, 4));
        let _ = state.request_close(at(start, 5));
        assert_eq!(state.standing(), Busy, "closing already");
    }
}
