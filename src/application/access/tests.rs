//! The gate's order of checks and its count of what keys spent, on a key store and counters
//! in memory and a clock the tests set.

use super::*;
use crate::domain::TestClock;
use crate::domain::access::{
    ApiKey, CountedIn, IssuedKey, KeyLimits, KeyName, KeyReport, Meter, Period, Scopes, StoredKey,
    Taken, Window,
};
use async_trait::async_trait;
use std::time::Duration;

/// A key store in memory, whose reads or writes may fail.
#[derive(Default)]
struct MemoryKeys {
    stored: Mutex<Vec<StoredKey>>,
    written: Mutex<Vec<KeyUse>>,
    unreadable: bool,
    /// Writes still to fail.
    failing_writes: Mutex<u32>,
}

#[async_trait]
impl ApiKeys for MemoryKeys {
    async fn create(
        &self,
        _: &ApiKey,
        _: &crate::domain::access::KeyHash,
    ) -> Result<(), KeysError> {
        unreachable!("the gate makes no key")
    }

    async fn find(&self, id: &KeyId) -> Result<Option<StoredKey>, KeysError> {
        if self.unreadable {
            return Err(KeysError::Unavailable("connection refused".into()));
        }
        let stored = self.stored.lock().unwrap();
        Ok(stored.iter().find(|s| &s.key.id == id).cloned())
    }

    async fn list(&self, _: NaiveDate) -> Result<Vec<KeyReport>, KeysError> {
        unreachable!("the gate lists no key")
    }

    async fn revoke(&self, _: &str, _: DateTime<Utc>) -> Result<ApiKey, KeysError> {
        unreachable!("the gate revokes no key")
    }

    async fn record_use(&self, uses: &[KeyUse]) -> Result<(), KeysError> {
        let mut failing = self.failing_writes.lock().unwrap();
        if *failing > 0 {
            *failing -= 1;
            return Err(KeysError::Unavailable("disk full".into()));
        }
        self.written.lock().unwrap().extend_from_slice(uses);
        Ok(())
    }

    async fn any_usable(&self) -> Result<bool, KeysError> {
        Ok(true)
    }
}

/// Request rates in memory: each name's requests counted, none ever freed.
#[derive(Default)]
struct CountedRates(Mutex<HashMap<String, u32>>);

impl CountedRates {
    fn counted(&self, name: &str) -> u32 {
        self.0.lock().unwrap().get(name).copied().unwrap_or(0)
    }
}

#[async_trait]
impl Counters for CountedRates {
    async fn admit(&self, name: &str, limit: u32, period: Duration) -> Admission {
        let mut counts = self.0.lock().unwrap();
        let count = counts.entry(name.to_owned()).or_default();
        let admitted = *count < limit;
        if admitted {
            *count += 1;
        }
        Admission {
            admitted,
            remaining: limit - *count,
            reset: period,
        }
    }

    async fn take(&self, _: &str, _: u64, _: u64, _: Window, _: u64) -> Taken {
        unreachable!("the gate spends no budget")
    }

    async fn give_back(&self, _: &str, _: u64, _: Window, _: CountedIn) -> Option<u64> {
        unreachable!("the gate spends no budget")
    }
}

/// A key that may check, or may do nothing at all, allowed one request an hour.
fn issue(keys: &MemoryKeys, scopes: Scopes, revoked: bool) -> (KeyId, String) {
    let issued = IssuedKey::generate().unwrap();
    let at = TestClock::at("2026-12-01T12:00:00Z").now();
    let key = ApiKey {
        id: issued.id.clone(),
        name: KeyName::parse(issued.id.as_str()).unwrap(),
        scopes,
        limits: KeyLimits {
            rate: Rate {
                requests: 1,
                period: Period::Hour,
            },
            ..KeyLimits::default()
        },
        created_at: at,
        last_used_at: None,
        revoked_at: revoked.then_some(at),
    };
    let hash = issued.hash;
    keys.stored.lock().unwrap().push(StoredKey { key, hash });
    (issued.id, issued.key.expose().to_owned())
}

fn gate(keys: MemoryKeys) -> (Access, Arc<MemoryKeys>, Arc<CountedRates>, Arc<TestClock>) {
    let (keys, rates) = (Arc::new(keys), Arc::new(CountedRates::default()));
    let clock = TestClock::at("2026-12-01T23:59:59.500Z");
    let access = Access::with_keys(keys.clone(), rates.clone(), clock.clone());
    (access, keys, rates, clock)
}

const CHECK: &[Scope] = &[Scope::Check];

async fn refusal(access: &Access, bearer: Option<&str>) -> AccessRefusal {
    access
        .admit(bearer, CHECK, Reach::Direct)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_key_is_recognised_before_anything_else_is_asked_of_it() {
    let keys = MemoryKeys::default();
    let (_, secret) = issue(&keys, Scopes::of(CHECK), false);
    let (_, revoked) = issue(&keys, Scopes::default(), true);
    let (unknown, _) = issue(&MemoryKeys::default(), Scopes::of(CHECK), false);
    let (access, _, rates, _) = gate(keys);
    assert_eq!(refusal(&access, None).await, AccessRefusal::NoKey);
    assert_eq!(
        refusal(&access, Some("hunter2")).await,
        AccessRefusal::InvalidKey
    );
    let id = |key: &str| key.split('_').nth(1).unwrap().to_owned();
    let someone_elses = secret.replace(&id(&secret), unknown.as_str());
    assert_eq!(
        refusal(&access, Some(&someone_elses)).await,
        AccessRefusal::InvalidKey
    );
    let forged = revoked.replace(&id(&revoked), &id(&secret));
    assert_eq!(
        refusal(&access, Some(&forged)).await,
        AccessRefusal::InvalidKey
    );
    // Its rate spent and its scope missing: still refused as revoked, and not counted.
    let revoked_id = id(&revoked);
    let rate = format!("key:{revoked_id}");
    rates.0.lock().unwrap().insert(rate.clone(), 1);
    assert_eq!(
        refusal(&access, Some(&revoked)).await,
        AccessRefusal::Revoked
    );
    assert_eq!(rates.counted(&rate), 1);
}

#[tokio::test]
async fn a_key_store_that_cannot_be_read_refuses_every_key_but_not_the_keyless() {
    let keys = MemoryKeys {
        unreadable: true,
        ..MemoryKeys::default()
    };
    let (_, secret) = issue(&keys, Scopes::of(CHECK), false);
    let (access, _, _, _) = gate(keys);
    assert_eq!(
        refusal(&access, Some(&secret)).await,
        AccessRefusal::Unavailable("connection refused".into())
    );
    assert_eq!(refusal(&access, None).await, AccessRefusal::NoKey);
}

#[tokio::test]
async fn a_spent_rate_is_said_before_a_missing_scope_and_a_missing_scope_still_counts() {
    let keys = MemoryKeys::default();
    let (id, reader) = issue(&keys, Scopes::of(&[Scope::History]), false);
    let (access, _, rates, _) = gate(keys);
    let name = format!("key:{id}");
    let AccessRefusal::MissingScope {
        scope, admission, ..
    } = refusal(&access, Some(&reader)).await
    else {
        panic!("not a missing scope");
    };
    assert_eq!((scope, admission.remaining), (Scope::Check, 0));
    assert_eq!(rates.counted(&name), 1, "counted against its rate");
    let AccessRefusal::RateLimited { key, .. } = refusal(&access, Some(&reader)).await else {
        panic!("not a rate limit");
    };
    assert_eq!(key, id);
}

#[tokio::test]
async fn a_key_with_the_scope_and_a_request_left_is_let_through_as_its_caller() {
    let keys = MemoryKeys::default();
    let (id, checker) = issue(&keys, Scopes::of(CHECK), false);
    let (access, _, _, _) = gate(keys);
    let admitted = access.admit(Some(&checker), CHECK, Reach::Direct).await;
    let admitted = admitted.unwrap().unwrap();
    assert_eq!(admitted.caller.id(), Some(&id));
    assert!(admitted.admission.admitted);
}

#[tokio::test]
async fn only_requests_through_a_proxy_need_a_key_when_direct_clients_are_trusted() {
    let (access, _, _, _) = gate(MemoryKeys::default());
    let access = access.open_to_direct_clients();
    assert!(
        access
            .admit(None, CHECK, Reach::Direct)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        access.admit(None, CHECK, Reach::Proxied).await.unwrap_err(),
        AccessRefusal::NoKey
    );
    let open = Access::open();
    assert!(
        open.admit(None, CHECK, Reach::Proxied)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn what_a_key_spent_is_counted_in_the_utc_day_of_each_request() {
    let keys = MemoryKeys::default();
    let (id, _) = issue(&keys, Scopes::of(CHECK), false);
    let (access, keys, _, clock) = gate(keys);
    let request = |x_users| {
        let caller = Caller::new(id.clone(), KeyLimits::default());
        caller.bill(Meter::X_USERS, x_users);
        access.spent(&caller);
    };
    request(3);
    request(4);
    clock.set("2026-12-02T00:00:00.250Z");
    request(5);
    access.write_use().await;
    let mut written = keys.written.lock().unwrap().clone();
    written.sort_by_key(|used| used.day);
    let days: Vec<(String, u64, u64, String)> = written
        .iter()
        .map(|used| {
            let last = used.last_used.to_rfc3339();
            (
                used.day.to_string(),
                used.usage.requests,
                used.usage.spent(Meter::X_USERS),
                last,
            )
        })
        .collect();
    assert_eq!(
        days,
        [
            (
                "2026-12-01".into(),
                2,
                7,
                "2026-12-01T23:59:59.500+00:00".into()
            ),
            (
                "2026-12-02".into(),
                1,
                5,
                "2026-12-02T00:00:00.250+00:00".into()
            ),
        ]
    );
}

#[tokio::test]
async fn what_could_not_be_written_is_written_with_the_next() {
    let keys = MemoryKeys {
        failing_writes: Mutex::new(1),
        ..MemoryKeys::default()
    };
    let (id, _) = issue(&keys, Scopes::of(CHECK), false);
    let (access, keys, _, _) = gate(keys);
    let caller = Caller::new(id, KeyLimits::default());
    access.spent(&caller);
    access.write_use().await;
    access.spent(&caller);
    access.write_use().await;
    let written = keys.written.lock().unwrap().clone();
    let requests: u64 = written.iter().map(|used| used.usage.requests).sum();
    assert_eq!(requests, 2, "{written:?}");
    assert_eq!(*keys.failing_writes.lock().unwrap(), 0, "one write failed");
}
