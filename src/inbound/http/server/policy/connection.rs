//! One connection as the rules see it: what it is doing (reading a request head, serving
//! requests, waiting for one), since when, and what its task must do next.

use super::{Due, Expiry, Standing, Timeouts, Wake, Wakes};
use std::time::{Duration, Instant};

/// How long a connection asked to close (at the cap, or at shutdown) may take to do so on
/// its own once it has no request in flight: enough for hyper to flush a response and for an
/// HTTP/2 client to acknowledge the GOAWAY, short enough that a client which never does
/// cannot keep its slot.
pub const CLOSE_BACKSTOP: Duration = Duration::from_secs(1);

/// A request on a connection, numbered from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestNo(u64);

/// What a connection is doing, changed as things happen on it and read at a given time.
#[derive(Debug)]
pub struct ConnectionState {
    /// Requests whose head has been read and whose response has not yet been dropped.
    in_flight: usize,
    /// When `in_flight` last fell to zero (or the connection was accepted).
    idle_since: Instant,
    /// When the head awaited now began: at accept for the first request, at its first byte
    /// for the next ones on a kept-alive connection.
    head_started: Option<Instant>,
    /// HTTP/2 has served a request: its idle connections carry pings and settings that say
    /// nothing about a request head, so only the idle timeout applies from then on.
    http2: bool,
    /// When the connection was asked to close, and whether its task has been told.
    close_requested: Option<Instant>,
    close_told: bool,
    /// Dropped to make room at the cap.
    shed: bool,
    /// The requests in flight whose response waits on the client, and since when. Few: one
    /// per HTTP/2 stream at most.
    waiting: Vec<(RequestNo, Instant)>,
    next_request: u64,
    /// Whether the task was last told of no deadline: only then must a response that starts
    /// waiting on its client wake it (any deadline it has is earlier than that one's).
    task_unarmed: bool,
    /// Whether it weighs against the cap: until the cap stops counting it.
    counted: bool,
}

impl ConnectionState {
    /// A connection accepted at `now`, waiting for its first request head.
    pub fn new(now: Instant) -> Self {
        Self {
            in_flight: 0,
            idle_since: now,
            head_started: Some(now),
            http2: false,
            close_requested: None,
            close_told: false,
            shed: false,
            waiting: Vec::new(),
            next_request: 0,
            task_unarmed: true,
            counted: true,
        }
    }

    /// What the connection weighs against the cap: as many requests as it has in flight
    /// (an HTTP/2 stream costs what a connection does), one at least; nothing once the cap
    /// no longer counts it.
    pub fn weight(&self) -> usize {
        if self.counted {
            self.in_flight.max(1)
        } else {
            0
        }
    }

    /// The cap no longer counts the connection: it is closing, or gone.
    pub fn uncount(&mut self) {
        self.counted = false;
    }

    pub fn standing(&self) -> Standing {
        if self.in_flight == 0 && self.close_requested.is_none() {
            return Standing::Idle(self.idle_since);
        }
        self.waiting_since()
            .map_or(Standing::Busy, Standing::WaitingOnClient)
    }

    /// Since when a response has waited on its client, the one waiting the longest.
    pub fn waiting_since(&self) -> Option<Instant> {
        self.waiting.iter().map(|(_, since)| *since).min()
    }

    /// Bytes arrived from the client at `now`: with no request in flight, the start of a
    /// request head (not on HTTP/2, whose idle connections carry pings and settings).
    pub fn bytes_arrived(&mut self, now: Instant) -> Wakes {
        if self.in_flight == 0 && self.head_started.is_none() && !self.http2 {
            self.head_started = Some(now);
            return Wakes::TASK;
        }
        Wakes::NONE
    }

    /// A request head has been read.
    pub fn request_started(&mut self, http2: bool) -> (RequestNo, Wakes) {
        self.in_flight += 1;
        self.head_started = None;
        self.http2 |= http2;
        let request = RequestNo(self.next_request);
        self.next_request += 1;
        (request, Wakes::TASK)
    }

    /// `request`'s response has been sent, or dropped, at `now`.
    pub fn request_finished(&mut self, request: RequestNo, now: Instant) -> Wakes {
        self.waiting.retain(|(waiting, _)| *waiting != request);
        let weighs_less = self.in_flight > 1 && self.counted;
        self.in_flight = self.in_flight.saturating_sub(1);
        let idle = self.in_flight == 0;
        if idle {
            self.idle_since = now;
            self.head_started = None;
        }
        Wakes {
            task: idle,
            accept_loop: idle || weighs_less,
        }
    }

    /// Whether `request`'s response waits on its client from `now` (it was handed a piece,
    /// or has just begun), or not (the client asked for more, or the response has ended).
    pub fn waiting_on_client(&mut self, request: RequestNo, waiting: bool, now: Instant) -> Wakes {
        let found = self.waiting.iter().position(|(r, _)| *r == request);
        match (waiting, found) {
            (true, Some(at)) => self.waiting[at].1 = now,
            (true, None) => self.waiting.push((request, now)),
            (false, Some(at)) => {
                self.waiting.swap_remove(at);
            }
            (false, None) => {}
        }
        Wakes {
            task: waiting && self.task_unarmed,
            accept_loop: false,
        }
    }

    /// Asks the connection at `now` to close gracefully (a second ask changes nothing).
    pub fn request_close(&mut self, now: Instant) -> Wakes {
        if self.close_requested.is_some() {
            return Wakes::NONE;
        }
        self.close_requested = Some(now);
        Wakes::TASK
    }

    /// Drops the connection, its requests in flight with it, to make room at the cap.
    pub fn shed(&mut self) -> Wakes {
        self.shed = true;
        Wakes::TASK
    }

    /// What the connection's task must do at `now`, or when to look again. A close is told
    /// once.
    pub fn next(&mut self, now: Instant, timeouts: Timeouts) -> Due {
        let due = self.due(now, timeouts);
        self.task_unarmed = due == Due::OnChange;
        due
    }

    fn due(&mut self, now: Instant, timeouts: Timeouts) -> Due {
        if self.shed {
            return Due::Now(Wake::Expired(Expiry::Shed));
        }
        if self.close_requested.is_some() && !self.close_told {
            self.close_told = true;
            return Due::Now(Wake::Close);
        }
        match self.deadline(timeouts) {
            None => Due::OnChange,
            Some((deadline, expiry)) if deadline <= now => Due::Now(Wake::Expired(expiry)),
            Some((deadline, _)) => Due::At(deadline),
        }
    }

    /// When the connection expires if nothing changes, and why; `None`: it does not.
    fn deadline(&self, timeouts: Timeouts) -> Option<(Instant, Expiry)> {
        if self.in_flight > 0 {
            let since = self.waiting_since()?;
            return Some((since + timeouts.send, Expiry::Stalled));
        }
        Some(match (self.close_requested, self.head_started) {
            (Some(asked), _) => (asked.max(self.idle_since) + CLOSE_BACKSTOP, Expiry::Closing),
            (None, Some(started)) if !self.http2 => {
                (started + timeouts.header_read, Expiry::SlowHead)
            }
            _ => (self.idle_since + timeouts.idle, Expiry::Idle),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUTS: Timeouts = Timeouts {
        header_read: Duration::from_secs(10),
        idle: Duration::from_secs(75),
        send: Duration::from_secs(30),
    };

    /// A time `secs` seconds after `start`.
    fn at(start: Instant, secs: u64) -> Instant {
        start + Duration::from_secs(secs)
    }

    /// A connection accepted at `start` that has served one HTTP/1.1 request, done at `done`.
    fn served_one(start: Instant, done: Instant) -> ConnectionState {
        let mut state = ConnectionState::new(start);
        let (request, _) = state.request_started(false);
        let _ = state.request_finished(request, done);
        state
    }

    #[test]
    fn a_new_connection_has_the_header_timeout_to_send_its_first_head() {
        let start = Instant::now();
        let mut state = ConnectionState::new(start);
        assert_eq!(state.next(start, TIMEOUTS), Due::At(at(start, 10)));
        let _ = state.bytes_arrived(at(start, 9));
        assert_eq!(
            state.next(at(start, 10), TIMEOUTS),
            Due::Now(Wake::Expired(Expiry::SlowHead)),
            "its first byte does not start the header timeout again"
        );
    }

    #[test]
    fn a_kept_alive_connection_waits_the_idle_timeout_then_the_header_timeout() {
        let start = Instant::now();
        let mut quiet = served_one(start, at(start, 1));
        assert_eq!(quiet.next(at(start, 1), TIMEOUTS), Due::At(at(start, 76)));
        assert_eq!(
            quiet.next(at(start, 76), TIMEOUTS),
            Due::Now(Wake::Expired(Expiry::Idle))
        );

        let mut slow = served_one(start, at(start, 1));
        assert_eq!(slow.bytes_arrived(at(start, 71)), Wakes::TASK);
        assert_eq!(slow.bytes_arrived(at(start, 72)), Wakes::NONE);
        assert_eq!(slow.next(at(start, 71), TIMEOUTS), Due::At(at(start, 81)));
        assert_eq!(
            slow.next(at(start, 81), TIMEOUTS),
            Due::Now(Wake::Expired(Expiry::SlowHead))
        );
    }

    #[test]
    fn http2_pings_between_requests_do_not_start_the_header_timeout() {
        let start = Instant::now();
        let mut state = ConnectionState::new(start);
        let (request, _) = state.request_started(true);
        let _ = state.request_finished(request, start);
        assert_eq!(state.bytes_arrived(at(start, 5)), Wakes::NONE);
        assert_eq!(state.next(at(start, 5), TIMEOUTS), Due::At(at(start, 75)));
    }

    #[test]
    fn a_request_in_flight_is_never_timed_out_nor_cut_by_a_close() {
        let start = Instant::now();
        let mut state = ConnectionState::new(start);
        let (request, _) = state.request_started(false);
        assert_eq!(state.next(at(start, 3600), TIMEOUTS), Due::OnChange);
        assert_eq!(state.request_close(at(start, 3600)), Wakes::TASK);
        assert_eq!(state.request_close(at(start, 3601)), Wakes::NONE);
        assert_eq!(state.next(at(start, 3600), TIMEOUTS), Due::Now(Wake::Close));
        assert_eq!(
            state.next(at(start, 7200), TIMEOUTS),
            Due::OnChange,
            "told once"
        );
        let _ = state.request_finished(request, at(start, 7200));
        assert_eq!(
            state.next(at(start, 7200), TIMEOUTS),
            Due::At(at(start, 7201))
        );
        assert_eq!(
            state.next(at(start, 7201), TIMEOUTS),
            Due::Now(Wake::Expired(Expiry::Closing))
        );
    }

    #[test]
    fn an_idle_connection_asked_to_close_has_the_backstop_to_do_so() {
        let start = Instant::now();
        let mut state = served_one(start, at(start, 1));
        let _ = state.request_close(at(start, 5));
        assert_eq!(state.next(at(start, 5), TIMEOUTS), Due::Now(Wake::Close));
        assert_eq!(state.next(at(start, 5), TIMEOUTS), Due::At(at(start, 6)));
        assert_eq!(
            state.next(at(start, 6), TIMEOUTS),
            Due::Now(Wake::Expired(Expiry::Closing))
        );
    }

    #[test]
    fn a_response_waits_on_its_client_for_the_send_timeout_from_its_last_progress() {
        let start = Instant::now();
        let mut state = ConnectionState::new(start);
        let (request, _) = state.request_started(false);
        let _ = state.waiting_on_client(request, true, start);
        assert_eq!(state.next(start, TIMEOUTS), Due::At(at(start, 30)));
        let _ = state.waiting_on_client(request, false, at(start, 20));
        assert_eq!(
            state.next(at(start, 3600), TIMEOUTS),
            Due::OnChange,
            "asked for more"
        );
        let _ = state.waiting_on_client(request, true, at(start, 3600));
        assert_eq!(state.waiting_since(), Some(at(start, 3600)));
        let _ = state.waiting_on_client(request, true, at(start, 3610));
        assert_eq!(
            state.next(at(start, 3640), TIMEOUTS),
            Due::Now(Wake::Expired(Expiry::Stalled))
        );
    }

    #[test]
    fn the_response_waiting_longest_on_its_client_sets_the_deadline() {
        let start = Instant::now();
        let mut state = ConnectionState::new(start);
        let (first, _) = state.request_started(true);
        let (second, _) = state.request_started(true);
        let _ = state.waiting_on_client(first, true, start);
        let _ = state.waiting_on_client(second, true, at(start, 10));
        assert_eq!(state.next(start, TIMEOUTS), Due::At(at(start, 30)));
        let _ = state.request_finished(first, at(start, 20));
        assert_eq!(state.next(at(start, 20), TIMEOUTS), Due::At(at(start, 40)));
    }

    #[test]
    fn a_shed_connection_expires_at_once_with_its_requests_in_flight() {
        let start = Instant::now();
        let mut state = ConnectionState::new(start);
        let _computing = state.request_started(true);
        assert_eq!(state.shed(), Wakes::TASK);
        assert_eq!(
            state.next(start, TIMEOUTS),
            Due::Now(Wake::Expired(Expiry::Shed))
        );
    }

    #[test]
    fn a_response_that_starts_waiting_wakes_the_task_only_when_it_has_no_deadline() {
        let start = Instant::now();
        let mut state = ConnectionState::new(start);
        let (first, _) = state.request_started(true);
        let (second, _) = state.request_started(true);
        assert_eq!(state.next(start, TIMEOUTS), Due::OnChange);
        assert_eq!(state.waiting_on_client(first, true, start), Wakes::TASK);
        assert_eq!(state.next(start, TIMEOUTS), Due::At(at(start, 30)));
        let later = state.waiting_on_client(second, true, at(start, 1));
        assert_eq!(
            later,
            Wakes::NONE,
            "its deadline is later than the one the task has"
        );
    }

    #[test]
    fn the_accept_loop_is_woken_when_a_connection_goes_idle_or_weighs_less() {
        let start = Instant::now();
        let mut state = ConnectionState::new(start);
        let (first, _) = state.request_started(true);
        let (second, _) = state.request_started(true);
        let (third, _) = state.request_started(true);
        let fewer = state.request_finished(first, start);
        assert_eq!((fewer.task, fewer.accept_loop), (false, true));
        state.uncount();
        let uncounted = state.request_finished(second, start);
        assert_eq!(uncounted, Wakes::NONE, "it weighs nothing already");
        let idle = state.request_finished(third, start);
        assert_eq!((idle.task, idle.accept_loop), (true, true));
    }
}
