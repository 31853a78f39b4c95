//! The server's connection policy: when a connection has waited too long, what it weighs
//! against the cap, which one makes room for a new one at the cap, and how long to pause
//! after a failed accept. Decisions only, at a time the caller gives: no socket and no timer
//! here. The server reports what happens on each connection and does what it is told.
//!
//! A connection waits for a request head's first byte for the idle timeout, then has the
//! header timeout to complete the head. hyper's own `header_read_timeout` is not used: it
//! starts again as soon as a response is written, so on a kept-alive connection it is also
//! the idle timeout, and a header timeout short enough to stop slowloris would close pooled
//! connections long before a load balancer in front expects it.
//!
//! A response waits on its client from its start, and again after each piece of it the
//! client is handed, until the client is asked for more; when any response of a connection
//! has waited so for the send timeout, the connection is dropped. A response being computed
//! (a slow database) waits on us, which is not the client's fault and does not count. A
//! request in flight is never timed out otherwise, nor cut by a graceful close.
//!
//! A connection weighs against the cap as many requests as it has in flight (HTTP/2
//! streams), one at least. At the cap, a new connection closes the one that has been idle
//! (no request in flight) the longest: slow and idle clients are shed, a health checker
//! always gets in. With none idle, it drops the one whose response has waited the longest on
//! a client that does not take it (for [`SHED_AFTER`](cap::SHED_AFTER) at least): a client
//! that does not read is a better victim than everyone waiting. Only when every connection
//! has a request in flight that is being read, or computed, does a new one wait, in the
//! listen backlog.

mod accept;
mod cap;
mod connection;

pub use accept::AcceptFailures;
pub use cap::{Room, has_room, make_room, max_streams};
pub use connection::{ConnectionState, RequestNo};

use std::time::{Duration, Instant};

/// How long a connection may wait.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// From a request head's first byte (or from the connection's start) to its end.
    pub header_read: Duration,
    /// With no request in flight and no request head begun.
    pub idle: Duration,
    /// A response waiting on its client to take more of it.
    pub send: Duration,
}

/// Why a connection is closed before its client closes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// A request head was not complete within the header timeout.
    SlowHead,
    /// No request within the idle timeout.
    Idle,
    /// Asked to close, it did not within [`CLOSE_BACKSTOP`](connection::CLOSE_BACKSTOP) of
    /// its last request.
    Closing,
    /// A response waited on its client for the send timeout: the client does not read.
    Stalled,
    /// At the cap, its response had waited on its client the longest: dropped to make room.
    Shed,
}

/// What the connection's task must do.
#[derive(Debug, PartialEq, Eq)]
pub enum Wake {
    /// Begin a graceful close: no new request, those in flight finish.
    Close,
    /// Drop the connection now, with whatever it has in flight.
    Expired(Expiry),
}

/// When the connection's task must act.
#[derive(Debug, PartialEq, Eq)]
pub enum Due {
    Now(Wake),
    /// At this time, unless the connection's state changes first.
    At(Instant),
    /// Not before the connection's state changes.
    OnChange,
}

/// Whom a change of a connection's state must wake.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Wakes {
    /// The connection's task: what it must do, or when, may have changed.
    pub task: bool,
    /// The accept loop: room may be made for a new connection.
    pub accept_loop: bool,
}

impl Wakes {
    const NONE: Self = Self {
        task: false,
        accept_loop: false,
    };
    const TASK: Self = Self {
        task: true,
        accept_loop: false,
    };
}

/// Where a connection stands when room is wanted at the cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// No request in flight since then, and not asked to close.
    Idle(Instant),
    /// A response has waited on its client since then, the one waiting the longest.
    WaitingOnClient(Instant),
    /// Its requests in flight are being read or computed, or it is closing already.
    Busy,
}
