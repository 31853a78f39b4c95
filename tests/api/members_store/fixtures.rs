//! What the members' store's stories share: a store open on a database, rows counted
//! beside it, and the values written.

use chrono::{DateTime, Utc};
use connected::config::Config;
use connected::domain::members::{Account, Digest, Link, MemberToken, Members, PendingSignIn};
use connected::domain::{Handle, Network};
use connected::secret::{Secret, TokenCipher};
use connected::startup::{self, Storage};
use sqlx::{Connection, Row};
use std::sync::Arc;

/// The members' tables, in the order [`Store::rows`] counts them.
pub const TABLES: [&str; 4] = [
    "members",
    "member_links",
    "member_sessions",
    "member_sign_ins",
];

/// The time `ms` milliseconds after the epoch.
pub fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

/// The stories' now.
/// A time before any sign-in a test begins expires.
pub fn earlier() -> DateTime<Utc> {
    now() - chrono::Duration::hours(1)
}

pub fn now() -> DateTime<Utc> {
    at(1_800_000_000_000)
}

/// A handle as written.
pub fn handle(written: &str) -> Handle {
    Handle::parse(written).unwrap()
}

/// The key the stories write under.
pub fn cipher() -> TokenCipher {
    TokenCipher::new([42; 32])
}

/// A store open on a database, and where to count its rows.
pub struct Store {
    pub members: Arc<dyn Members>,
    url: String,
    _storage: Storage,
}

impl Store {
    /// The members' store of the database at `url`, its tokens under `cipher`.
    pub async fn open(url: &str, cipher: TokenCipher) -> Self {
        let mut config = Config::default();
        config.database.url = url.to_owned().into();
        let storage = startup::storage(&config).await.expect("the store opens");
        Self {
            members: storage.members(cipher),
            url: url.to_owned(),
            _storage: storage,
        }
    }

    /// The rows of each of [`TABLES`], counted on a connection of its own.
    pub async fn rows(&self) -> [i64; 4] {
        let mut counts = [0; 4];
        for (count, table) in counts.iter_mut().zip(TABLES) {
            let sql = format!("SELECT COUNT(*) AS n FROM {table}");
            *count = if self.url.starts_with("sqlite:") {
                let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
                row.get::<i64, _>("n")
            } else {
                let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
                row.get::<i64, _>("n")
            };
        }
        counts
    }
}

/// A token, its scope `read:org`.
pub fn token(
    access: &str,
    refresh: Option<&str>,
    expires_at: Option<DateTime<Utc>>,
) -> MemberToken {
    MemberToken {
        access: Secret::new(access),
        refresh: refresh.map(Secret::new),
        expires_at,
        scope: "read:org".into(),
    }
}

/// An account at `network`.
pub fn account(network: Network, id: &str, written: &str) -> Account {
    Account {
        network,
        id: id.into(),
        handle: handle(written),
    }
}

/// `account` linked with `token` now.
pub fn link(account: &Account, token: MemberToken) -> Link {
    Link {
        account: account.clone(),
        token,
        linked_at: now(),
    }
}

/// A sign-in with X begun on one browser, for `member` if signed in.
pub fn pending(member: Option<&str>, expires_at: DateTime<Utc>) -> PendingSignIn {
    PendingSignIn {
        network: Network::X,
        verifier: Secret::new("pkce-verifier-kept-secret"),
        browser: Digest::of("browser-cookie"),
        member: member.map(handle),
        expires_at,
    }
}

/// A SQLite database in `dir`.
pub fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("members.db").display())
}
