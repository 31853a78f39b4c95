//! Connections a PostgreSQL register reads histories on, taken from its pool and held
//! between reads.

use crate::config::PoolSettings;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{PgPool, Postgres};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The pool pings a connection when it hands it out and again when it is given back: two
/// network round trips, and two wake-ups of the server, around a read that is one. A
/// connection held here is pinged only when it is first taken. One that has broken (the
/// server restarted, a proxy hung up) fails its read; it is then given back, where the
/// pool's ping finds it dead and closes it, and the read is run once more on a fresh one: a
/// read changes nothing, so running it again is safe. A read cut short (its client went
/// away) gives its connection back to the pool. Each is given back after [`PoolSettings::MAX_LIFETIME`], as the pool replaces its
/// own.
pub(super) struct Readers {
    pool: PgPool,
    held: Vec<tokio::sync::Mutex<Option<Held>>>,
    next: AtomicUsize,
}

struct Held {
    connection: PoolConnection<Postgres>,
    taken: Instant,
}

/// A history query, built again for each attempt.
pub(super) type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

impl Readers {
    /// Holds up to `count` connections of `pool`, taken when first needed. With none, every
    /// read goes through the pool.
    pub(super) fn new(pool: PgPool, count: usize) -> Self {
        Self {
            pool,
            held: (0..count).map(|_| tokio::sync::Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// How many to hold out of a pool of `max_connections`: half of it at most, so that
    /// writes and keys always have the other half, and no more than reads run at once.
    pub(super) fn count(max_connections: u32) -> usize {
        let half = usize::try_from(max_connections / 2).unwrap_or(usize::MAX);
        half.min(crate::outbound::sql::history::long_reads_allowed())
    }

    /// Every row of the query `build` makes, on a held connection: a free one if there is
    /// one, else the next in turn once it is free.
    pub(super) async fn fetch_all<'q>(
        &self,
        build: impl Fn() -> Query<'q>,
    ) -> Result<Vec<PgRow>, sqlx::Error> {
        let count = self.held.len();
        if count == 0 {
            return build().fetch_all(&self.pool).await;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let free = (0..count).find_map(|i| self.held[(start + i) % count].try_lock().ok());
        let mut slot = match free {
            Some(slot) => slot,
            None => self.held[start % count].lock().await,
        };
        let mut retried = false;
        loop {
            // Taken out while it reads: a read cut short gives it back to the pool.
            let mut held = match slot.take() {
                Some(held) if held.taken.elapsed() < PoolSettings::MAX_LIFETIME => held,
                _ => Held {
                    connection: self.pool.acquire().await?,
                    taken: Instant::now(),
                },
            };
            match build().fetch_all(&mut *held.connection).await {
                Err(e) if broken(&e) => {
                    drop(held);
                    if retried {
                        return Err(e);
                    }
                    retried = true;
                }
                result => {
                    *slot = Some(held);
                    return result;
                }
            }
        }
    }
}

/// Whether `error` says the connection is no longer usable, rather than the query wrong.
fn broken(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => true,
        // Class 08, connection exception; 57P01 to 57P05, the server shutting down or
        // ending the session.
        sqlx::Error::Database(e) => e
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_the_pool_at_most_is_held_and_none_of_a_pool_of_one() {
        assert_eq!(Readers::count(1), 0);
        assert_eq!(Readers::count(2), 1);
        assert!(Readers::count(64) <= 32);
        assert!(Readers::count(64) >= 2);
    }

    #[test]
    fn a_broken_connection_is_told_from_a_failed_query() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(broken(&io));
        assert!(broken(&sqlx::Error::Protocol("unexpected message".into())));
        assert!(!broken(&sqlx::Error::RowNotFound));
        assert!(!broken(&sqlx::Error::PoolTimedOut));
    }
}
