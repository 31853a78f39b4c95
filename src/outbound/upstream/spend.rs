//! Spending, checked where it happens: before a call, what it can cost is taken from the
//! budgets that pay for it (the service's, and the asking key's), and what it did not cost is
//! given back after. A call no budget can pay for is not made, so a budget is never overrun.

use crate::domain::access::{Budget, Caller, Counters, Holder, Overspend, Payer};
use crate::metrics::Metrics;
use std::sync::Arc;

/// The service's own caps; `None` is no cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServiceBudgets {
    pub x_users_per_day: Option<u64>,
    pub github_calls_per_hour: Option<u64>,
}

impl ServiceBudgets {
    fn limit(&self, budget: Budget) -> Option<u64> {
        match budget {
            Budget::XUsersPerDay => self.x_users_per_day,
            Budget::GitHubCallsPerHour => self.github_calls_per_hour,
        }
    }
}

/// The budgets, counted in shared counters.
#[derive(Clone)]
pub struct Spending {
    counters: Arc<dyn Counters>,
    service: ServiceBudgets,
    metrics: Arc<Metrics>,
}

/// Units taken for one call: given back, in part, by [`Spending::settle`]. One dropped
/// unsettled (its request cancelled, its call perhaps made) keeps them all spent, and bills
/// them to the caller: a budget errs on the side of spending less.
#[must_use = "a reservation is settled once the call's cost is known"]
#[derive(Debug)]
pub struct Reservation {
    budget: Budget,
    /// How many units the call may cost.
    pub granted: u64,
    /// The counters the units were taken from, and where each holds them.
    taken_from: Vec<(String, Holder)>,
    window: crate::domain::access::Window,
    caller: Option<Arc<Caller>>,
    settled: bool,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.settled {
            bill(self.caller.as_deref(), self.budget, self.granted);
        }
    }
}

/// Bills the caller, if there is one, for `used` units.
fn bill(caller: Option<&Caller>, budget: Budget, used: u64) {
    if let Some(caller) = caller {
        match budget {
            Budget::XUsersPerDay => caller.billed_x_users(used),
            Budget::GitHubCallsPerHour => caller.called_github(used),
        }
    }
}

fn key_limit(caller: &Caller, budget: Budget) -> Option<u64> {
    match budget {
        Budget::XUsersPerDay => caller.limits.x_users_per_day,
        Budget::GitHubCallsPerHour => caller.limits.github_calls_per_hour,
    }
}

impl Reservation {
    /// A reservation no budget pays for.
    pub(super) fn free(granted: u64) -> Self {
        Self {
            budget: Budget::XUsersPerDay,
            granted,
            taken_from: Vec::new(),
            window: Budget::XUsersPerDay.window(chrono::Utc::now()),
            settled: false,
            caller: None,
        }
    }
}

impl Spending {
    pub fn new(
        counters: Arc<dyn Counters>,
        service: ServiceBudgets,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            counters,
            service,
            metrics,
        }
    }

    /// Takes up to `want` units of `budget` for one call, or as few as `least`: from the
    /// asking key's budget, then the service's.
    ///
    /// # Errors
    /// [`Overspend`] naming the budget that cannot give `least`; nothing is then taken.
    pub async fn reserve(
        &self,
        budget: Budget,
        want: u64,
        least: u64,
    ) -> Result<Reservation, Overspend> {
        let now = chrono::Utc::now();
        let window = budget.window(now);
        let caller = Caller::current();
        let mut payers: Vec<(Payer, String, u64)> = Vec::new();
        if let Some(caller) = &caller
            && let Some(id) = &caller.id
            && let Some(limit) = key_limit(caller, budget)
        {
            payers.push((Payer::Key, format!("key:{id}:{}", budget.id()), limit));
        }
        if let Some(limit) = self.service.limit(budget) {
            payers.push((Payer::Service, format!("service:{}", budget.id()), limit));
        }
        let mut granted = want;
        let mut taken_from: Vec<(String, Holder)> = Vec::new();
        for (payer, name, limit) in payers {
            // Every payer before this one holds `granted` units.
            let taken = self.counters.take(&name, granted, limit, window).await;
            if payer == Payer::Service {
                self.metrics.budget(budget.id(), limit, taken.spent);
            }
            if taken.units < least.max(1) {
                taken_from.push((name, taken.held));
                self.give_back(&taken_from, granted, window, Some(taken.units))
                    .await;
                return Err(Overspend {
                    payer,
                    budget,
                    limit,
                    retry_after: window.left(now),
                });
            }
            self.give_back(&taken_from, granted - taken.units, window, None)
                .await;
            granted = taken.units;
            taken_from.push((name, taken.held));
        }
        Ok(Reservation {
            budget,
            granted,
            taken_from,
            window,
            caller,
            settled: false,
        })
    }

    /// Gives `units` back to each payer in `taken_from`, and `last` (when given) to the last.
    async fn give_back(
        &self,
        taken_from: &[(String, Holder)],
        units: u64,
        window: crate::domain::access::Window,
        last: Option<u64>,
    ) {
        for (i, (name, held)) in taken_from.iter().enumerate() {
            let back = match last {
                Some(last) if i + 1 == taken_from.len() => last,
                _ => units,
            };
            self.counters.give_back(name, back, window, *held).await;
        }
    }

    /// The call cost `used` units of what was reserved: the rest goes back, and the asking
    /// key is billed for `used`.
    pub async fn settle(&self, mut reservation: Reservation, used: u64) {
        reservation.settled = true;
        if used > reservation.granted {
            tracing::warn!(
                budget = reservation.budget.id(),
                granted = reservation.granted,
                used,
                "an upstream returned more than it was asked for"
            );
        }
        let unused = reservation.granted.saturating_sub(used);
        self.give_back(&reservation.taken_from, unused, reservation.window, None)
            .await;
        bill(reservation.caller.as_deref(), reservation.budget, used);
    }
}
