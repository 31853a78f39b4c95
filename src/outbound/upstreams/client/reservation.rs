//! One call's reservation: the units taken before the call, and what becomes of them after.
//! What a call costs depends on how far it went: not sent, nothing; sent with no answer read
//! (its outcome unknown), everything it reserved; answered, what the answer returned. A
//! reservation dropped unsettled (its request cancelled) ends by the same rule.

use super::spend::Spending;
use crate::domain::access::{Budget, Caller, CountedIn, Window};

/// How far a reservation's call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Not sent, or refused before it reached the upstream: nothing can have been spent.
    Unsent,
    /// Sent, and no answer read: what it cost is unknown.
    Sent,
    /// Answered: what it cost is what the answer returned.
    Answered,
}

impl Progress {
    /// What a call that reserved `granted` costs, the answer having returned `returned`
    /// (`None` when no one counted it): nothing when it was not sent, and everything when
    /// its outcome is unknown (a budget errs on the side of spending less).
    pub fn cost(self, granted: u64, returned: Option<u64>) -> u64 {
        match (self, returned) {
            (Progress::Unsent, _) => 0,
            (Progress::Answered, Some(returned)) => returned,
            (Progress::Sent | Progress::Answered, _) => granted,
        }
    }
}

/// The counters a reservation took units from: each counter's name, where it holds them and
/// how many. A counter asked before a later one granted less holds more than is granted.
pub(super) type Held = Vec<(String, CountedIn, u64)>;

/// What a paid reservation holds, for [`Spending`] to settle.
pub(super) struct Paid {
    pub(super) spending: Spending,
    pub(super) budget: Budget,
    pub(super) window: Window,
    pub(super) held: Held,
    pub(super) caller: Caller,
    /// Units counted in this instance's gauge of what the service's budget holds reserved.
    pub(super) service_reserved: u64,
}

/// Units taken for one call, settled by [`Spending::settle`] once its answer is counted.
#[must_use = "a reservation is settled once the call's cost is known"]
pub struct Reservation {
    /// How many units the call may cost.
    pub granted: u64,
    progress: Progress,
    /// `None` when no budget pays (or once settled).
    paid: Option<Paid>,
}

impl std::fmt::Debug for Reservation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reservation")
            .field("granted", &self.granted)
            .field("progress", &self.progress)
            .field("budget", &self.paid.as_ref().map(|p| p.budget))
            .finish()
    }
}

impl Reservation {
    /// A reservation no budget pays for.
    pub(super) fn free(granted: u64) -> Self {
        Self {
            granted,
            progress: Progress::Unsent,
            paid: None,
        }
    }

    /// A reservation that holds nothing yet; `granted` is what is asked.
    pub(super) fn paid(paid: Paid, granted: u64) -> Self {
        Self {
            granted,
            progress: Progress::Unsent,
            paid: Some(paid),
        }
    }

    /// Notes units `name` holds for it.
    pub(super) fn hold(&mut self, name: String, holder: CountedIn, units: u64) {
        if let Some(paid) = &mut self.paid {
            paid.held.push((name, holder, units));
        }
    }

    pub(super) fn paid_mut(&mut self) -> Option<&mut Paid> {
        self.paid.as_mut()
    }

    /// Its call went this far.
    pub fn progressed(&mut self, progress: Progress) {
        self.progress = progress;
    }

    /// Its call was answered, but what the answer returned could not be read: the upstream
    /// bills what it sent, which no one counted, so it costs what was reserved.
    pub fn unreadable(&mut self) {
        if self.progress == Progress::Answered {
            self.progress = Progress::Sent;
        }
    }

    pub fn progress(&self) -> Progress {
        self.progress
    }

    /// What it holds, taken out to settle: it is then settled.
    pub(super) fn take_paid(&mut self) -> Option<Paid> {
        self.paid.take()
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(paid) = self.paid.take() {
            let cost = self.progress.cost(self.granted, None);
            let spending = paid.spending.clone();
            let giving_back = spending.close(paid, cost);
            // Giving back needs the runtime; without one (at exit) the units stay spent.
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(giving_back);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_costs_nothing_unsent_everything_unanswered_and_what_it_returned_answered() {
        assert_eq!(Progress::Unsent.cost(1000, None), 0);
        assert_eq!(Progress::Unsent.cost(1000, Some(7)), 0);
        assert_eq!(Progress::Sent.cost(1000, None), 1000);
        assert_eq!(
            Progress::Sent.cost(1000, Some(0)),
            1000,
            "a timeout: unknown"
        );
        assert_eq!(Progress::Answered.cost(1000, Some(7)), 7);
        assert_eq!(Progress::Answered.cost(1000, None), 1000);
    }
}
