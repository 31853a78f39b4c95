//! Who may ask: a bearer key recognised, its scopes checked, its request rate counted, and
//! what each key spends written down. Every refusal happens before any use case runs, so it
//! costs no upstream call and records nothing.

use super::to_the_millisecond;
use crate::domain::access::{
    Admission, ApiKeys, Caller, Counters, KeyId, KeyUse, KeysError, PresentedKey, Rate, Scope,
    Usage,
};
use crate::domain::{Chain, Clock};
use crate::periodic;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// What keys spent and is not written yet: per key and UTC day of the request, the use and
/// the time of the last request.
type Unwritten = HashMap<(KeyId, NaiveDate), (Usage, DateTime<Utc>)>;

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessRefusal {
    /// No key was sent.
    NoKey,
    /// What was sent is not a key's shape, or not a known key's.
    InvalidKey,
    /// The key was revoked.
    Revoked,
    /// The key lacks this scope (the request still counts against its rate).
    MissingScope {
        key: KeyId,
        scope: Scope,
        rate: Rate,
        admission: Admission,
    },
    /// The key's request rate is used up.
    RateLimited {
        key: KeyId,
        rate: Rate,
        admission: Admission,
    },
    /// The key store could not be read.
    Unavailable(String),
}

/// A request let through: who asked, and where their rate stands.
#[derive(Debug, Clone)]
pub struct Admitted {
    pub caller: Caller,
    pub rate: Rate,
    pub admission: Admission,
}

/// How a request reached the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Straight from its client.
    Direct,
    /// Through a proxy, which said so in a header: its client may be anyone the proxy serves.
    Proxied,
}

/// The gate in front of the use cases: open, keys required, or keys required of requests
/// that came through a proxy only.
#[derive(Clone)]
pub struct Access {
    gate: Option<Arc<KeyChecks>>,
    /// A request straight from its client needs no key (the service listens where only
    /// this host's clients reach it).
    open_to_direct: bool,
}

struct KeyChecks {
    keys: Arc<dyn ApiKeys>,
    counters: Arc<dyn Counters>,
    /// What tells the UTC day a request's use is counted in.
    clock: Arc<dyn Clock>,
    /// What keys spent since the last write to the key store, per UTC day of the request,
    /// with the time of the last.
    unwritten: Mutex<Unwritten>,
    /// One write at a time: the last, at shutdown, waits for one under way.
    writing: tokio::sync::Mutex<()>,
    /// Whether the key store failed its last lookup: an outage is said when it begins and
    /// when it ends, not once a request (each refusal is counted in the log's summary).
    store_down: AtomicBool,
}

impl Access {
    /// Everyone may ask.
    pub fn open() -> Self {
        Self {
            gate: None,
            open_to_direct: false,
        }
    }

    /// Only holders of a key in `keys` may ask; rates are counted in `counters`. What keys
    /// spend is written to `keys` every few seconds while this lives, per UTC day as `clock`
    /// tells it.
    pub fn with_keys(
        keys: Arc<dyn ApiKeys>,
        counters: Arc<dyn Counters>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let gate = Arc::new(KeyChecks {
            keys,
            counters,
            clock,
            unwritten: Mutex::default(),
            writing: tokio::sync::Mutex::new(()),
            store_down: AtomicBool::new(false),
        });
        tokio::spawn(periodic::write_regularly(
            Arc::downgrade(&gate),
            periodic::WRITE_EVERY,
            "what API keys spent",
            |gate: Arc<KeyChecks>| async move { gate.write_use().await },
        ));
        Self {
            gate: Some(gate),
            open_to_direct: false,
        }
    }

    /// The same gate, letting requests straight from their client through without a key:
    /// only those that came through a proxy need one.
    #[must_use]
    pub fn open_to_direct_clients(mut self) -> Self {
        self.open_to_direct = true;
        self
    }

    /// Whether a request that reached the service this way is let through without a key.
    pub fn is_open_to(&self, reach: Reach) -> bool {
        self.gate.is_none() || (self.open_to_direct && reach == Reach::Direct)
    }

    /// Lets a request with `bearer` (the `Authorization: Bearer` value) that reached the
    /// service by `reach` through when its key is known, not revoked, has a request left in
    /// its rate and holds every scope in `needs`; `None` when the gate is open to it.
    ///
    /// # Errors
    /// The first [`AccessRefusal`] met, checked in this order: no key, not a known key's (or the
    /// key store cannot answer), revoked, its rate spent, a scope missing (counted against
    /// its rate, so that the refusal carries the rate's standing like every other answer).
    pub async fn admit(
        &self,
        bearer: Option<&str>,
        needs: &[Scope],
        reach: Reach,
    ) -> Result<Option<Admitted>, AccessRefusal> {
        let Some(gate) = self.gate.as_ref().filter(|_| !self.is_open_to(reach)) else {
            return Ok(None);
        };
        let bearer = bearer.ok_or(AccessRefusal::NoKey)?;
        let presented = PresentedKey::parse(bearer).ok_or(AccessRefusal::InvalidKey)?;
        let stored = gate
            .found(gate.keys.find(&presented.id).await)?
            .filter(|stored| presented.matches(&stored.hash))
            .ok_or(AccessRefusal::InvalidKey)?;
        let key = stored.key;
        if key.revoked_at.is_some() {
            return Err(AccessRefusal::Revoked);
        }
        let rate = key.limits.rate;
        let admission = gate
            .counters
            .admit(
                &format!("key:{}", key.id),
                rate.requests,
                rate.period.duration(),
            )
            .await;
        if !admission.admitted {
            return Err(AccessRefusal::RateLimited {
                key: key.id,
                rate,
                admission,
            });
        }
        if let Some(&scope) = needs.iter().find(|&&scope| !key.scopes.contains(scope)) {
            return Err(AccessRefusal::MissingScope {
                key: key.id,
                scope,
                rate,
                admission,
            });
        }
        Ok(Some(Admitted {
            caller: Caller::new(key.id, key.limits),
            rate,
            admission,
        }))
    }

    /// Writes what keys spent and is not written yet (at shutdown, say); a failure is logged.
    pub async fn write_use(&self) {
        if let Some(gate) = &self.gate
            && let Err(e) = gate.write_use().await
        {
            tracing::warn!(error = %Chain(&e), "what API keys spent last could not be written");
        }
    }

    /// Notes what a request let through spent, once it is done.
    pub fn spent(&self, caller: &Caller) {
        if let Some(gate) = &self.gate
            && let Some(id) = caller.id()
        {
            let at = to_the_millisecond(gate.clock.now());
            let mut unwritten = gate
                .unwritten
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let (usage, last) = unwritten
                .entry((id.clone(), at.date_naive()))
                .or_insert((Usage::default(), at));
            usage.add(&caller.usage());
            *last = (*last).max(at);
        }
    }
}

impl KeyChecks {
    /// A lookup's result, an outage of the key store said when it begins and ends.
    fn found<T>(&self, lookup: Result<T, KeysError>) -> Result<T, AccessRefusal> {
        match lookup {
            Ok(found) => {
                if self.store_down.swap(false, Ordering::Relaxed) {
                    tracing::info!("the key store answers again");
                }
                Ok(found)
            }
            Err(e) => {
                if !self.store_down.swap(true, Ordering::Relaxed) {
                    tracing::error!(error = %Chain(&e), "the key store is unavailable: requests with a key are answered 503 until it answers");
                }
                let why = match e {
                    KeysError::Unavailable(unavailable) => unavailable.reason().to_owned(),
                    other => other.to_string(),
                };
                Err(AccessRefusal::Unavailable(why))
            }
        }
    }

    /// Writes what keys spent since the last write; a failed write is kept for the next.
    async fn write_use(&self) -> Result<(), KeysError> {
        let _writing = self.writing.lock().await;
        let taken = std::mem::take(
            &mut *self
                .unwritten
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        if taken.is_empty() {
            return Ok(());
        }
        let uses: Vec<KeyUse> = taken
            .into_iter()
            .map(|((id, day), (usage, last_used))| KeyUse {
                id,
                day,
                usage,
                last_used,
            })
            .collect();
        let written = self.keys.record_use(&uses).await;
        if written.is_err() {
            let mut unwritten = self
                .unwritten
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for used in uses {
                let (usage, last) = unwritten
                    .entry((used.id, used.day))
                    .or_insert((Usage::default(), used.last_used));
                usage.add(&used.usage);
                *last = (*last).max(used.last_used);
            }
        }
        written
    }
}

#[cfg(test)]
mod tests;
