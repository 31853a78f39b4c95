//! Short histories a SQLite register has read, whole or their newest page, kept in memory
//! while nothing has been written to the database since: reading one again would only pay
//! for the hand-off to SQLite's thread and back. Whoever writes (this register, the command
//! line on the same file, another process), SQLite rewrites the header of the write-ahead
//! log's index on every commit, before the commit returns (its change counter, last frame
//! and checksums): every kept history is checked against that header before it is served,
//! so a read never misses an answer already given.

use crate::domain::RegisteredCheck;
use chrono::{DateTime, Utc};
use std::io::Read as _;
use std::path::PathBuf;
use std::sync::Arc;

/// A history as read: each entry with its id.
pub(super) type Rows = Vec<(RegisteredCheck, i64)>;

/// Entries of one history, or of one page, kept at most: longer ones are read each time.
pub(super) const LONGEST_KEPT: usize = 100;
/// Entries kept in all, least recently used out first (a few megabytes).
const ENTRIES_KEPT: u64 = 50_000;

/// The bytes of the write-ahead log index's header that SQLite changes on every commit: the
/// first copy of `WalIndexHdr` (its change counter at offset 8, the last frame, the salts
/// and checksums).
pub(super) type Stamp = [u8; 48];

/// What was read: a pair's whole history (`None`), or its newest page of so many entries.
type Key = (String, String, Option<u32>);

pub(super) struct RecentHistories {
    kept: moka::sync::Cache<Key, Arc<(Rows, Stamp)>>,
    /// The database's write-ahead log index (`…-shm`).
    index: PathBuf,
}

impl RecentHistories {
    /// For the database whose write-ahead log index is `index`.
    pub(super) fn new(index: PathBuf) -> Self {
        Self {
            kept: moka::sync::Cache::builder()
                .max_capacity(ENTRIES_KEPT)
                .weigher(|_, kept: &Arc<(Rows, Stamp)>| {
                    u32::try_from(kept.0.len() + 1).unwrap_or(u32::MAX)
                })
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .build(),
            index,
        }
    }

    /// The index's header now; `None` when it cannot be read (then nothing is kept or
    /// served).
    pub(super) fn stamp(&self) -> Option<Stamp> {
        let mut header = [0; 48];
        std::fs::File::open(&self.index)
            .and_then(|mut file| file.read_exact(&mut header))
            .ok()?;
        Some(header)
    }

    /// The whole history (`limit` `None`) or newest page kept for the pair `(a, b)`, without
    /// the entries older than `since`, unless the database was written since it was read.
    ///
    /// `since` only moves forward, and what it leaves out of a kept page is what the same
    /// query would leave out now: the newest `limit` entries from `since` on are those of
    /// the page read with an earlier `since`, less the entries older than the new one.
    pub(super) fn get(
        &self,
        (a, b): (&str, &str),
        limit: Option<u32>,
        since: Option<DateTime<Utc>>,
    ) -> Option<Rows> {
        let kept = self.kept.get(&(a.to_owned(), b.to_owned(), limit))?;
        let (rows, stamp) = kept.as_ref();
        if self.stamp().as_ref() != Some(stamp) {
            return None;
        }
        Some(
            rows.iter()
                .filter(|(check, _)| since.is_none_or(|since| check.registered_at >= since))
                .cloned()
                .collect(),
        )
    }

    /// Keeps a whole history (`limit` `None`) or newest page read after
    /// [`RecentHistories::stamp`] gave `stamp`, unless it is long or the index could not be
    /// read. A write that came during the read changed the index, so what was read is never
    /// served.
    pub(super) fn keep(
        &self,
        (a, b): (&str, &str),
        limit: Option<u32>,
        rows: &Rows,
        stamp: Option<Stamp>,
    ) {
        if let (Some(stamp), true) = (stamp, rows.len() <= LONGEST_KEPT) {
            self.kept.insert(
                (a.to_owned(), b.to_owned(), limit),
                Arc::new((rows.clone(), stamp)),
            );
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
                    member_sign_in: i % 2 == 1,
                };
                (check, i)
            })
            .collect()
    }

    /// A register over a fake index, and a way to change it as a commit would.
    fn recent() -> (tempfile::TempDir, RecentHistories, impl Fn(u8)) {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("register.db-shm");
        let commit = {
            let index = index.clone();
            move |counter: u8| {
                let mut header = [0_u8; 64];
                header[8] = counter;
                std::fs::write(&index, header).unwrap();
            }
        };
        commit(0);
        (dir, RecentHistories::new(index), commit)
    }

    #[test]
    fn a_history_read_before_a_write_is_not_served() {
        let (_dir, recent, commit) = recent();
        let seen = recent.stamp();
        commit(1);
        recent.keep(("a", "b"), None, &rows(2), seen);
        assert!(recent.get(("a", "b"), None, None).is_none());
        let seen = recent.stamp();
        recent.keep(("a", "b"), None, &rows(2), seen);
        assert_eq!(recent.get(("a", "b"), None, None).unwrap().len(), 2);
    }

    #[test]
    fn any_write_forgets_every_history() {
        let (_dir, recent, commit) = recent();
        let seen = recent.stamp();
        recent.keep(("a", "b"), None, &rows(1), seen);
        recent.keep(("a", "c"), None, &rows(1), seen);
        commit(1);
        assert!(recent.get(("a", "b"), None, None).is_none());
        assert!(recent.get(("a", "c"), None, None).is_none());
    }

    #[test]
    fn a_write_from_elsewhere_is_seen_in_the_index_of_the_write_ahead_log() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("register.db-shm");
        let mut header = [0_u8; 64];
        std::fs::write(&index, header).unwrap();
        let recent = RecentHistories::new(index.clone());
        let seen = recent.stamp();
        recent.keep(("a", "b"), None, &rows(1), seen);
        assert!(recent.get(("a", "b"), None, None).is_some());
        // A commit elsewhere: the change counter moves, the size does not.
        header[8] = 1;
        std::fs::write(&index, header).unwrap();
        assert!(recent.get(("a", "b"), None, None).is_none());
        // Nothing is kept, or served, when the index cannot be read.
        std::fs::remove_file(&index).unwrap();
        let seen = recent.stamp();
        recent.keep(("a", "c"), None, &rows(1), seen);
        assert!(recent.get(("a", "c"), None, None).is_none());
    }

    #[test]
    fn entries_past_the_retention_are_left_out_and_long_histories_are_not_kept() {
        let (_dir, recent, _) = recent();
        let seen = recent.stamp();
        recent.keep(("a", "b"), None, &rows(5), seen);
        let since = DateTime::from_timestamp_millis(3000);
        assert_eq!(recent.get(("a", "b"), None, since).unwrap().len(), 2);
        recent.keep(("a", "c"), None, &rows(LONGEST_KEPT as i64 + 1), seen);
        assert!(recent.get(("a", "c"), None, None).is_none());
    }

    #[test]
    fn a_page_is_kept_apart_from_the_whole_history_and_forgotten_on_a_write() {
        let (_dir, recent, commit) = recent();
        let seen = recent.stamp();
        recent.keep(("a", "b"), Some(2), &rows(2), seen);
        assert!(recent.get(("a", "b"), None, None).is_none());
        assert!(recent.get(("a", "b"), Some(3), None).is_none());
        assert_eq!(recent.get(("a", "b"), Some(2), None).unwrap(), rows(2));
        let since = DateTime::from_timestamp_millis(1000);
        assert_eq!(recent.get(("a", "b"), Some(2), since).unwrap().len(), 1);
        commit(1);
        assert!(recent.get(("a", "b"), Some(2), None).is_none());
    }
}
