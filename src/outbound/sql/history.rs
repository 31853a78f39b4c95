//! A pair's history as a stream, shared by both registers: one query for a page, chunks for
//! a whole history, and the limit on how many long histories are read at once.

use super::register::{HISTORY_CHUNK, Position};
use crate::domain::{HistoryPage, HistoryStream, RegisterError, RegisteredCheck};
use futures::{StreamExt as _, TryStreamExt as _, stream};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Whole histories longer than one chunk read at once by one instance: the others wait
/// for a turn. Two per core keeps the cores busy; more would only share them.
pub(super) fn long_reads_allowed() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    (cores * 2).max(2)
}

/// How long a whole history waits for its turn before it is refused (a 503 over HTTP):
/// longer than the default `SEND_TIMEOUT` (30 s) after which a client that stopped reading
/// gives its turn back, so that a reader queued behind such clients is served, not refused.
const LONG_READ_WAIT: std::time::Duration = std::time::Duration::from_secs(45);

/// A turn to read a long history, shared by a register's clones.
#[derive(Clone)]
pub(super) struct LongReads(Arc<Semaphore>);

impl LongReads {
    pub(super) fn new() -> Self {
        Self(Arc::new(Semaphore::new(long_reads_allowed())))
    }
}

/// Entries of a history with their ids, as a register reads them.
type Rows = Vec<(RegisteredCheck, i64)>;

/// The history that `page` selects, from `read`, which reads the entries (with their ids)
/// after a position, or from the start. A limited page is one query. A whole history is
/// read [`HISTORY_CHUNK`] entries at a time, each chunk read when the one before has been
/// consumed; when it is longer than one chunk, it first waits for a turn among
/// [`long_reads_allowed`] (for at most [`LONG_READ_WAIT`]), before anything is yielded, so
/// that a refusal is the first item and can still be answered with a status.
pub(super) fn history_stream<F, Fut>(
    page: HistoryPage,
    long_reads: &LongReads,
    mut read: F,
) -> HistoryStream
where
    F: FnMut(Option<Position>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Rows, RegisterError>> + Send + 'static,
{
    let entries = |rows: Rows| stream::iter(rows.into_iter().map(|(check, _)| Ok(check)));
    if page.limit.is_some() {
        return stream::once(read(None))
            .map_ok(entries)
            .try_flatten()
            .boxed();
    }
    let start = Reading {
        read,
        after: None,
        long_reads: long_reads.0.clone(),
        turn: None,
        finished: false,
    };
    stream::try_unfold(start, |mut reading| async move {
        if reading.finished {
            return Ok(None);
        }
        let rows = (reading.read)(reading.after).await?;
        if rows.len() < HISTORY_CHUNK {
            reading.finished = true;
        } else if reading.turn.is_none() {
            reading.turn = Some(wait_for_turn(Arc::clone(&reading.long_reads)).await?);
        }
        reading.after = rows.last().map(|(check, id)| (check.registered_at, *id));
        Ok(Some((rows, reading)))
    })
    .map_ok(entries)
    .try_flatten()
    .boxed()
}

/// Where a whole history's reading has got to.
struct Reading<F> {
    read: F,
    after: Option<Position>,
    long_reads: Arc<Semaphore>,
    turn: Option<OwnedSemaphorePermit>,
    finished: bool,
}

/// A turn to read a long history, waited for at most [`LONG_READ_WAIT`].
async fn wait_for_turn(long_reads: Arc<Semaphore>) -> Result<OwnedSemaphorePermit, RegisterError> {
    tokio::time::timeout(LONG_READ_WAIT, long_reads.acquire_owned())
        .await
        .map_err(|_| {
            RegisterError::unavailable(format!(
                "{} long histories were being read for {}",
                long_reads_allowed(),
                humantime::format_duration(LONG_READ_WAIT)
            ))
        })?
        .map_err(|_| RegisterError::unavailable("the register is closing"))
}
