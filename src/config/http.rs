//! The REST API's server: where it listens, how long a client and a request may take, how
//! many connections it keeps, how it stops.

use super::values::{BadValue, timeout};
use clap::Args;
use std::net::SocketAddr;
use std::time::Duration;

/// Where `serve` listens unless told otherwise.
pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:5000";

/// The server's settings.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Serving")]
pub struct HttpSettings {
    /// Where the REST API listens: `serve` alone takes it (`--listen-addr`, `LISTEN_ADDR`,
    /// by default [`DEFAULT_LISTEN_ADDR`]), the other commands listen nowhere.
    #[arg(skip = SocketAddr::from(([127, 0, 0, 1], 5000)))]
    pub listen_addr: SocketAddr,
    // Long enough for any real client on a slow link to send a request head (a few hundred
    // bytes), short enough that a client trickling one holds its connection for seconds only.
    /// How long a client has to send a request head, from its first byte (from the
    /// connection's start for the first request); slower ones are disconnected.
    #[arg(long = "header-read-timeout", env = "HEADER_READ_TIMEOUT", default_value = "10s", value_parser = timeout)]
    pub header_read_timeout: Duration,
    // Longer than the idle timeout of the proxies and load balancers usually in front (60 s
    // for AWS's ALB and nginx's upstream keep-alive), so that they, not we, close a pooled
    // connection: the side that closes first can race a request sent on it, which the proxy
    // then answers 502. The same as nginx's own default. Idle connections are cheap, and at
    // the cap the longest idle is closed first anyway.
    /// How long a connection with no request in flight stays open (keep it longer than the
    /// idle timeout of a load balancer in front).
    #[arg(long = "idle-timeout", env = "IDLE_TIMEOUT", default_value = "75s", value_parser = timeout)]
    pub idle_timeout: Duration,
    // Long enough for a client on a slow link to take a part of an answer (hyper hands the
    // socket a few tens of KiB at a time), short enough that a client which stops reading
    // gives back its connection, and any turn its answer holds, within half a minute.
    /// How long a response may wait on its client to take more of it (a client that stops
    /// reading); then its connection is dropped.
    #[arg(long = "send-timeout", env = "SEND_TIMEOUT", default_value = "30s", value_parser = timeout)]
    pub send_timeout: Duration,
    /// Open client connections at most, an HTTP/2 connection counting its requests in flight
    /// (lowered to fit the open-file limit); at the cap, the connection idle the longest is
    /// closed to let a new one in, or else one whose client has stopped reading.
    #[arg(long = "max-connections", env = "MAX_CONNECTIONS", default_value = "10000", value_parser = at_least_one)]
    pub max_connections: usize,
    /// How long requests in flight may take to finish after SIGTERM or Ctrl-C.
    #[arg(long = "shutdown-grace", env = "SHUTDOWN_GRACE", default_value = "10s", value_parser = timeout)]
    pub shutdown_grace: Duration,
}

fn at_least_one(raw: &str) -> Result<usize, BadValue> {
    match raw.trim().parse::<usize>() {
        Ok(0) => Err(BadValue::new("must be at least 1")),
        Ok(n) => Ok(n),
        Err(e) => Err(BadValue::because(
            format!("{e} (write a count such as 10000)"),
            e,
        )),
    }
}
