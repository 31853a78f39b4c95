//! Spending, checked where it happens: before a call, what it can cost is taken from the
//! budgets that pay for it (the service's, and the asking key's), and what it did not cost is
//! given back after. A call no budget can pay for is not made, so a budget is never overrun.

use crate::domain::access::{Budget, Caller, Counters, Overspend, Payer};
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

/// Units taken for one call: given back, in part, by [`Spending::settle`].
#[must_use = "a reservation is settled once the call's cost is known"]
#[derive(Debug)]
pub struct Reservation {
    budget: Budget,
    /// How many units the call may cost.
    pub granted: u64,
    /// The counters the units were taken from, and in which window.
    taken_from: Vec<String>,
    window: crate::domain::access::Window,
    caller: Option<Arc<Caller>>,
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
        let mut taken_from: Vec<String> = Vec::new();
        for (payer, name, limit) in payers {
            // Every payer before this one holds `granted` units.
            let taken = self.counters.take(&name, granted, limit, window).await;
            if payer == Payer::Service {
                self.metrics.budget(budget.id(), limit, taken.spent);
            }
            if taken.units < least.max(1) {
                self.counters.give_back(&name, taken.units, window).await;
                for earlier in &taken_from {
                    self.counters.give_back(earlier, granted, window).await;
                }
                return Err(Overspend {
                    payer,
                    budget,
                    limit,
                    retry_after: window.left(now),
                });
            }
            for earlier in &taken_from {
                self.counters
                    .give_back(earlier, granted - taken.units, window)
                    .await;
            }
            granted = taken.units;
            taken_from.push(name);
        }
        Ok(Reservation {
            budget,
            granted,
            taken_from,
            window,
            caller,
        })
    }

    /// The call cost `used` units of what was reserved: the rest goes back, and the asking
    /// key is billed for `used`.
    pub async fn settle(&self, reservation: Reservation, used: u64) {
        let used = used.min(reservation.granted);
        let unused = reservation.granted - used;
        for name in &reservation.taken_from {
            self.counters
                .give_back(name, unused, reservation.window)
                .await;
        }
        if let Some(caller) = &reservation.caller {
            match reservation.budget {
                Budget::XUsersPerDay => caller.billed_x_users(used),
                Budget::GitHubCallsPerHour => caller.called_github(used),
            }
        }
    }
}
