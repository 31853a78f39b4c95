//! Short histories a SQLite register has read, kept in memory while nothing has been written
//! to the database since: reading one again would only pay for the hand-off to SQLite's
//! thread and back. This register's own writes forget their pairs; a write from anywhere
//! else (the command line on the same file, another process) changes the header of the
//! write-ahead log's index, which SQLite rewrites on every commit (its change counter, last
//! frame and checksums): every kept history is checked against it before it is served.

use crate::domain::RegisteredCheck;
use chrono::{DateTime, Utc};
use std::io::Read as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

/// A history as read: each entry with its id.
pub(super) type Rows = Vec<(RegisteredCheck, i64)>;

/// Entries of one history kept at most: longer ones are read each time.
pub(super) const LONGEST_KEPT: usize = 100;
/// Entries kept in all, least recently used out first (a few megabytes).
const ENTRIES_KEPT: u64 = 50_000;

/// The bytes of the write-ahead log index's header that SQLite changes on every commit: the
/// first copy of `WalIndexHdr` (its change counter at offset 8, the last frame, the salts
/// and checksums). `None` when it cannot be read.
type Stamp = Option<[u8; 48]>;

/// What a read must hand back to keep what it read.
#[derive(Clone)]
pub(super) struct Seen {
    writes: u64,
    stamp: Stamp,
}

pub(super) struct RecentHistories {
    kept: moka::sync::Cache<(String, String), Arc<(Rows, Stamp)>>,
    /// Counts this register's writes: a read that began before one does not keep what it
    /// read.
    writes: Mutex<u64>,
    /// The database's write-ahead log index (`…-shm`); `None` for a database in memory,
    /// which only this register can write.
    index: Option<PathBuf>,
}

impl RecentHistories {
    /// For the database whose write-ahead log index is `index`.
    pub(super) fn new(index: Option<PathBuf>) -> Self {
        Self {
            kept: moka::sync::Cache::builder()
                .max_capacity(ENTRIES_KEPT)
                .weigher(|_, kept: &Arc<(Rows, Stamp)>| {
                    u32::try_from(kept.0.len() + 1).unwrap_or(u32::MAX)
                })
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .build(),
            writes: Mutex::new(0),
            index,
        }
    }

    fn stamp(&self) -> Stamp {
        let mut header = [0; 48];
        std::fs::File::open(self.index.as_ref()?)
            .and_then(|mut file| file.read_exact(&mut header))
            .ok()?;
        Some(header)
    }

    /// Whether what was read under `stamp` can be trusted now: always for a database in
    /// memory; for a file, only when the index could be read then and is unchanged now.
    fn unchanged(&self, stamp: &Stamp) -> bool {
        self.index.is_none() || (stamp.is_some() && *stamp == self.stamp())
    }

    /// The whole history kept for the pair `(a, b)`, without the entries older than `since`,
    /// unless the database was written since it was read.
    pub(super) fn get(&self, (a, b): (&str, &str), since: Option<DateTime<Utc>>) -> Option<Rows> {
        let kept = self.kept.get(&(a.to_owned(), b.to_owned()))?;
        let (rows, stamp) = kept.as_ref();
        if !self.unchanged(stamp) {
            return None;
        }
        Some(
            rows.iter()
                .filter(|(check, _)| since.is_none_or(|since| check.registered_at >= since))
                .cloned()
                .collect(),
        )
    }

    /// What to hand [`RecentHistories::keep`] after reading.
    pub(super) fn before_read(&self) -> Seen {
        let writes = *self.writes.lock().unwrap_or_else(PoisonError::into_inner);
        Seen {
            writes,
            stamp: self.stamp(),
        }
    }

    /// Keeps a whole history read after [`RecentHistories::before_read`] gave `seen`, unless
    /// this register wrote since (it may not be in what was read) or the history is long. A
    /// write from elsewhere since is caught when it is served.
    pub(super) fn keep(&self, (a, b): (&str, &str), rows: &Rows, seen: Seen) {
        if rows.len() > LONGEST_KEPT || (self.index.is_some() && seen.stamp.is_none()) {
            return;
        }
        let writes = self.writes.lock().unwrap_or_else(PoisonError::into_inner);
        if *writes == seen.writes {
            self.kept.insert(
                (a.to_owned(), b.to_owned()),
                Arc::new((rows.clone(), seen.stamp)),
            );
        }
    }

    /// Forgets the pairs just written, before their writers are told: whoever reads after
    /// being answered reads the database.
    pub(super) fn written<'a>(&self, pairs: impl Iterator<Item = (&'a str, &'a str)>) {
        let mut writes = self.writes.lock().unwrap_or_else(PoisonError::into_inner);
        *writes += 1;
        for (a, b) in pairs {
            self.kept.invalidate(&(a.to_owned(), b.to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Network, Verdict};

    fn rows(n: i64) -> Rows {
        (0..n)
            .map(|i| {
                let check = RegisteredCheck {
                    registered_at: DateTime::from_timestamp_millis(i * 1000).unwrap(),
                    verdict: Verdict::NotConnected,
                    social_graph: Network::X,
                };
                (check, i)
            })
            .collect()
    }

    #[test]
    fn a_history_read_before_a_write_is_not_kept() {
        let recent = RecentHistories::new(None);
        let seen = recent.before_read();
        recent.written([("a", "b")].into_iter());
        recent.keep(("a", "b"), &rows(2), seen);
        assert!(recent.get(("a", "b"), None).is_none());
        let seen = recent.before_read();
        recent.keep(("a", "b"), &rows(2), seen);
        assert_eq!(recent.get(("a", "b"), None).unwrap().len(), 2);
    }

    #[test]
    fn a_write_forgets_its_pair_and_only_it() {
        let recent = RecentHistories::new(None);
        let seen = recent.before_read();
        recent.keep(("a", "b"), &rows(1), seen.clone());
        recent.keep(("a", "c"), &rows(1), seen);
        recent.written([("a", "b")].into_iter());
        assert!(recent.get(("a", "b"), None).is_none());
        assert!(recent.get(("a", "c"), None).is_some());
    }

    #[test]
    fn a_write_from_elsewhere_is_seen_in_the_index_of_the_write_ahead_log() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("register.db-shm");
        let mut header = [0_u8; 64];
        std::fs::write(&index, header).unwrap();
        let recent = RecentHistories::new(Some(index.clone()));
        let seen = recent.before_read();
        recent.keep(("a", "b"), &rows(1), seen);
        assert!(recent.get(("a", "b"), None).is_some());
        // A commit elsewhere: the change counter moves, the size does not.
        header[8] = 1;
        std::fs::write(&index, header).unwrap();
        assert!(recent.get(("a", "b"), None).is_none());
        // Nothing is kept, or served, when the index cannot be read.
        std::fs::remove_file(&index).unwrap();
        let seen = recent.before_read();
        recent.keep(("a", "c"), &rows(1), seen);
        assert!(recent.get(("a", "c"), None).is_none());
    }

    #[test]
    fn entries_past_the_retention_are_left_out_and_long_histories_are_not_kept() {
        let recent = RecentHistories::new(None);
        let seen = recent.before_read();
        recent.keep(("a", "b"), &rows(5), seen.clone());
        let since = DateTime::from_timestamp_millis(3000);
        assert_eq!(recent.get(("a", "b"), since).unwrap().len(), 2);
        recent.keep(("a", "c"), &rows(LONGEST_KEPT as i64 + 1), seen);
        assert!(recent.get(("a", "c"), None).is_none());
    }
}
