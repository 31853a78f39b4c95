//! What the budgets spent, as this instance knows it: what it settled and has not written
//! yet, and what the database last said every instance spent. Together they are the least a
//! budget has spent in its window, which its counter is never let below: a restart, or a
//! Redis that comes back empty, does not give the budget back.

use crate::domain::access::{LedgerUnavailable, SpendLedger, Window, WindowSpend};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// A counter's name and the start of its window, in milliseconds since the epoch.
type Slot = (String, i64);

/// What this instance knows the budgets spent.
#[derive(Default)]
pub(super) struct Ledger {
    store: Option<Arc<dyn SpendLedger>>,
    figures: Mutex<Figures>,
    /// One write at a time: the last, at shutdown, waits for one under way.
    writing: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Figures {
    /// Settled here, not written yet.
    unwritten: HashMap<Slot, u64>,
    /// What the database said, with what this instance is writing to it.
    kept: HashMap<Slot, u64>,
    /// Held by this instance's reservations under way: counted by the counters, in the
    /// database only once settled.
    reserved: HashMap<Slot, u64>,
}

impl Ledger {
    /// Kept in `store`.
    pub(super) fn in_store(store: Arc<dyn SpendLedger>) -> Self {
        Self {
            store: Some(store),
            ..Self::default()
        }
    }

    fn figures(&self) -> std::sync::MutexGuard<'_, Figures> {
        self.figures.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes `units` spent (and settled) from `counter` in `window`.
    pub(super) fn spent(&self, counter: &str, window: Window, units: u64) {
        if units > 0 && self.store.is_some() {
            *self
                .figures()
                .unwritten
                .entry((counter.to_owned(), window.start_ms()))
                .or_default() += units;
        }
    }

    /// Notes `units` of `counter` in `window` held by a reservation under way, until
    /// [`Ledger::released`]: a counter raised to the floor keeps them, so that giving back
    /// what they did not cost never takes it below what was spent.
    pub(super) fn held(&self, counter: &str, window: Window, units: u64) {
        if units > 0 {
            *self
                .figures()
                .reserved
                .entry((counter.to_owned(), window.start_ms()))
                .or_default() += units;
        }
    }

    /// The reservation that held `units` of `counter` in `window` has ended.
    pub(super) fn released(&self, counter: &str, window: Window, units: u64) {
        let slot = (counter.to_owned(), window.start_ms());
        let mut figures = self.figures();
        if let Some(held) = figures.reserved.get_mut(&slot) {
            *held = held.saturating_sub(units);
            if *held == 0 {
                figures.reserved.remove(&slot);
            }
        }
    }

    /// The least `counter` has counted in `window`: what every instance spent, and what
    /// this one holds reserved.
    pub(super) fn floor(&self, counter: &str, window: Window) -> u64 {
        let slot = (counter.to_owned(), window.start_ms());
        let figures = self.figures();
        let of = |map: &HashMap<Slot, u64>| map.get(&slot).copied().unwrap_or(0);
        of(&figures.kept) + of(&figures.unwritten) + of(&figures.reserved)
    }

    /// Adds what was settled since the last write to the database, and reads back what every
    /// instance spent in the windows of the last day; a failed write is kept for the next.
    ///
    /// # Errors
    /// [`LedgerUnavailable`] when the database could not be written.
    pub(super) async fn write(&self, now: DateTime<Utc>) -> Result<(), LedgerUnavailable> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let _writing = self.writing.lock().await;
        // The longest window is a day: older ones are done with.
        let since = now - TimeDelta::days(1);
        let since_ms = since.timestamp_millis();
        let taken: Vec<WindowSpend> = {
            let mut figures = self.figures();
            let unwritten = std::mem::take(&mut figures.unwritten);
            let mut taken = Vec::with_capacity(unwritten.len());
            for ((counter, start), units) in unwritten {
                if start < since_ms {
                    continue;
                }
                // Still counted while it is written.
                *figures.kept.entry((counter.clone(), start)).or_default() += units;
                taken.push(WindowSpend {
                    counter,
                    window_start_ms: start,
                    units,
                });
            }
            taken
        };
        let answer = store.add_spent(&taken, since).await;
        let mut figures = self.figures();
        match answer {
            Ok(totals) => {
                figures.kept.retain(|(_, start), _| *start >= since_ms);
                for total in totals {
                    let kept = figures
                        .kept
                        .entry((total.counter, total.window_start_ms))
                        .or_default();
                    *kept = (*kept).max(total.units);
                }
                Ok(())
            }
            Err(e) => {
                for spend in taken {
                    let slot = (spend.counter, spend.window_start_ms);
                    if let Some(kept) = figures.kept.get_mut(&slot) {
                        *kept = kept.saturating_sub(spend.units);
                    }
                    *figures.unwritten.entry(slot).or_default() += spend.units;
                }
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::Budget;

    #[test]
    fn the_floor_keeps_what_reservations_under_way_hold_until_they_end() {
        let ledger = Ledger::default();
        let noon = DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z").unwrap();
        let hour = Budget::GITHUB_CALLS_PER_HOUR.window(noon.with_timezone(&Utc));
        let counter = "service:github_calls_per_hour";
        ledger.held(counter, hour, 3);
        ledger.held(counter, hour, 2);
        assert_eq!(ledger.floor(counter, hour), 5);
        assert_eq!(ledger.floor("key:other", hour), 0);
        ledger.released(counter, hour, 3);
        assert_eq!(ledger.floor(counter, hour), 2);
        ledger.released(counter, hour, 9);
        assert_eq!(ledger.floor(counter, hour), 0, "never below nothing");
        assert!(ledger.figures().reserved.is_empty(), "nothing left behind");
    }
}
