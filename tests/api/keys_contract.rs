//! One story, the same assertions, against both key stores.

use crate::support::TestDatabase;
use chrono::{DateTime, Utc};
use connected::config::Config;
use connected::domain::access::{
    ApiKey, ApiKeys, Budget, Caps, IssuedKey, KeyLimits, KeyName, KeyUse, KeysError, Meter, Period,
    PresentedKey, Rate, Scope, Scopes, SpendLedger, Usage, WindowSpend,
};
use connected::startup;
use std::sync::Arc;

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

async fn open(url: &str) -> Arc<dyn ApiKeys> {
    let mut config = Config::default();
    config.database.url = url.to_owned().into();
    startup::storage(&config)
        .await
        .expect("the store opens")
        .keys
}

fn new_key(name: &str, created: DateTime<Utc>) -> (ApiKey, IssuedKey) {
    let issued = IssuedKey::generate().unwrap();
    let key = ApiKey {
        id: issued.id.clone(),
        name: KeyName::parse(name).unwrap(),
        scopes: Scopes::of(&[Scope::Check, Scope::Fresh]),
        limits: KeyLimits {
            rate: Rate {
                requests: 5,
                period: Period::Hour,
            },
            budgets: Caps::default()
                .with(Budget::X_USERS_PER_DAY, Some(1500))
                .with(Budget::GITHUB_CALLS_PER_HOUR, None),
        },
        created_at: created,
        last_used_at: None,
        revoked_at: None,
    };
    (key, issued)
}

async fn story(keys: Arc<dyn ApiKeys>) {
    let day = at(1_700_000_000_000).date_naive();
    assert!(keys.list(day).await.unwrap().is_empty());
    assert!(!keys.any_usable().await.unwrap());

    let (ci, ci_issued) = new_key("ci", at(1_700_000_000_000));
    keys.create(&ci, &ci_issued.hash).await.unwrap();
    let (ops, ops_issued) = new_key("ops", at(1_700_000_001_000));
    keys.create(&ops, &ops_issued.hash).await.unwrap();
    assert!(keys.any_usable().await.unwrap());

    // A name is one key's, for ever.
    let (again, again_issued) = new_key("ci", at(1_700_000_002_000));
    assert_eq!(
        keys.create(&again, &again_issued.hash).await,
        Err(KeysError::NameTaken("ci".into()))
    );

    // Found by its public id, with what is needed to recognise its secret, and no more.
    let found = keys.find(&ci.id).await.unwrap().unwrap();
    assert_eq!(found.key, ci);
    let presented = PresentedKey::parse(ci_issued.key.expose()).unwrap();
    assert!(presented.matches(&found.hash));
    assert!(
        !PresentedKey::parse(ops_issued.key.expose())
            .unwrap()
            .matches(&found.hash)
    );
    assert!(keys.find(&again.id).await.unwrap().is_none());

    // Use adds up per UTC day, and marks the key used at the latest time.
    let used = Usage::of(3)
        .with(Meter::X_USERS, 200)
        .with(Meter::GITHUB_CALLS, 4);
    let on = |ms| KeyUse {
        id: ci.id.clone(),
        day,
        usage: used.clone(),
        last_used: at(ms),
    };
    keys.record_use(&[on(1_700_000_050_000)]).await.unwrap();
    // Two keys, and a request of the day after, in one write.
    let (later, after) = (at(1_700_000_040_000), day.succ_opt().unwrap());
    keys.record_use(&[
        on(1_700_000_040_000),
        KeyUse {
            id: ops.id.clone(),
            day: after,
            usage: used.clone(),
            last_used: later,
        },
    ])
    .await
    .unwrap();
    let listed = keys.list(day).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|r| r.key.name.as_str())
            .collect::<Vec<_>>(),
        ["ci", "ops"],
        "oldest first"
    );
    assert_eq!(
        listed[0].today,
        Usage::of(6)
            .with(Meter::X_USERS, 400)
            .with(Meter::GITHUB_CALLS, 8)
    );
    assert_eq!(listed[0].key.last_used_at, Some(at(1_700_000_050_000)));
    assert_eq!(listed[1].today, Usage::default());
    let next_day = day.succ_opt().unwrap();
    assert_eq!(
        keys.list(next_day).await.unwrap()[0].today,
        Usage::default()
    );

    // Revoked by name or id, once: a second revocation keeps the first time.
    let revoked = keys.revoke("ci", at(1_700_000_060_000)).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(at(1_700_000_060_000)));
    let again = keys
        .revoke(ci.id.as_str(), at(1_700_000_070_000))
        .await
        .unwrap();
    assert_eq!(again.revoked_at, Some(at(1_700_000_060_000)));
    assert_eq!(
        keys.find(&ci.id).await.unwrap().unwrap().key.revoked_at,
        Some(at(1_700_000_060_000))
    );
    assert!(keys.any_usable().await.unwrap(), "ops is still usable");
    assert_eq!(
        keys.revoke("nobody", at(1)).await,
        Err(KeysError::NotFound("nobody".into()))
    );

    // A name that is another key's id is ambiguous, and revokes nothing.
    let (tricky, tricky_issued) = new_key(ops.id.as_str(), at(1_700_000_080_000));
    keys.create(&tricky, &tricky_issued.hash).await.unwrap();
    assert_eq!(
        keys.revoke(ops.id.as_str(), at(1)).await,
        Err(KeysError::Ambiguous(ops.id.to_string()))
    );
    assert_eq!(
        keys.find(&ops.id).await.unwrap().unwrap().key.revoked_at,
        None
    );
}

#[tokio::test]
async fn the_sqlite_key_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("keys.db").display());
    story(open(&url).await).await;
}

#[tokio::test]
async fn the_postgres_key_store_keeps_the_contract() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    story(open(&db.url).await).await;
}

async fn ledger(url: &str) -> Arc<dyn SpendLedger> {
    let mut config = Config::default();
    config.database.url = url.to_owned().into();
    startup::storage(&config)
        .await
        .expect("the store opens")
        .ledger
}

fn spend(counter: &str, window_start_ms: i64, units: u64) -> WindowSpend {
    WindowSpend {
        counter: counter.to_owned(),
        window_start_ms,
        units,
    }
}

/// Two instances add their spending to one ledger; old windows are forgotten.
async fn ledger_story(url: &str) {
    let (a, b) = (ledger(url).await, ledger(url).await);
    let hour = 1_700_002_800_000;
    let since = at(hour - 86_400_000);
    assert!(a.add_spent(&[], since).await.unwrap().is_empty());
    let first = [
        spend("service:github_calls_per_hour", hour, 12),
        spend("key:abcdefghijkl:x_users_per_day", hour - 3_600_000, 30),
        spend("service:x_users_per_day", hour - 2 * 86_400_000, 99),
    ];
    a.add_spent(&first, since).await.unwrap();
    let mut totals = b
        .add_spent(&[spend("service:github_calls_per_hour", hour, 5)], since)
        .await
        .unwrap();
    totals.sort_by(|x, y| x.counter.cmp(&y.counter));
    assert_eq!(
        totals,
        [
            spend("key:abcdefghijkl:x_users_per_day", hour - 3_600_000, 30),
            spend("service:github_calls_per_hour", hour, 17),
        ],
        "added up, and the window older than a day forgotten"
    );
}

#[tokio::test]
async fn the_sqlite_spend_ledger_adds_up_every_instances_spending() {
    let dir = tempfile::tempdir().unwrap();
    ledger_story(&format!(
        "sqlite://{}",
        dir.path().join("keys.db").display()
    ))
    .await;
}

#[tokio::test]
async fn the_postgres_spend_ledger_adds_up_every_instances_spending() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    ledger_story(&db.url).await;
}
