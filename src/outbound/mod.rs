//! The ports implemented with real technology. Each adapter turns its technology's failures
//! into the port's errors at the boundary.

pub mod bluesky;
pub mod cache;
pub mod demo;
pub mod github;
pub mod postgres;
mod recent;
pub mod shared;
pub mod sqlite;
pub mod upstream;
pub mod x;

/// An upstream origin from configuration, checked to be http(s).
fn base_url(raw: &str, variable: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("{variable} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(format!(
            "{variable} must be an http(s) URL, not {}",
            redact_url(raw)
        ));
    }
    Ok(url)
}

/// What a history query binds, in the order it binds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bind {
    DeveloperA,
    DeveloperB,
    Before,
    /// The oldest time the retention lets be served.
    Since,
    /// The page's `limit` less one.
    Offset,
    /// The time and id of the last entry of the previous chunk.
    AfterTime,
    AfterId,
}

/// Entries a whole history is read in, one short query each: a reader holds one chunk at a
/// time whatever the history's length, and no query holds a connection for long.
pub(super) const HISTORY_CHUNK: usize = 2_000;

/// The query for part of a pair's history, oldest first, in the dialect `placeholder`
/// speaks (`?` or `$n`), and what it binds. `lowest` is the backend's earliest time. The
/// columns are the entry's id, then its time, verdict, organisations and social graph.
/// `since` leaves out what is older than the retention.
///
/// A limited page is every entry from the time of the `limit`-th newest one on: it never
/// splits a millisecond, so the next page, strictly before its oldest time, misses nothing
/// (a page holds more than `limit` entries only when several share its oldest millisecond).
/// The inner query walks the pair's index backwards and stops after `limit` rows, so a
/// newest page costs the same on a long history as on a short one.
///
/// Without a limit it is one chunk of [`HISTORY_CHUNK`] entries, after the entry `after`
/// (time, id) when given: the pair's index is sought to that position, not counted through.
fn history_sql(
    time: &str,
    lowest: &str,
    placeholder: impl Fn(usize) -> String,
    page: crate::domain::HistoryPage,
    since: bool,
    after: bool,
) -> (String, Vec<Bind>) {
    let mut binds = Vec::new();
    let filter = |binds: &mut Vec<Bind>| {
        binds.push(Bind::DeveloperA);
        let a = placeholder(binds.len());
        binds.push(Bind::DeveloperB);
        let b = placeholder(binds.len());
        let mut filter = format!("developer_a = {a} AND developer_b = {b}");
        if page.before.is_some() {
            binds.push(Bind::Before);
            filter += &format!(" AND {time} < {}", placeholder(binds.len()));
        }
        if since {
            binds.push(Bind::Since);
            filter += &format!(" AND {time} >= {}", placeholder(binds.len()));
        }
        filter
    };
    let columns = format!("id, {time}, connected, organisations, social_graph");
    let outer = filter(&mut binds);
    let sql = if page.limit.is_some() {
        let inner = filter(&mut binds);
        binds.push(Bind::Offset);
        let offset = placeholder(binds.len());
        format!(
            "SELECT {columns} FROM checks WHERE {outer} AND {time} >= COALESCE(\
             (SELECT {time} FROM checks WHERE {inner} ORDER BY {time} DESC, id DESC LIMIT 1 OFFSET {offset}), \
             {lowest}) ORDER BY {time}, id"
        )
    } else {
        let mut sql = format!("SELECT {columns} FROM checks WHERE {outer}");
        if after {
            binds.push(Bind::AfterTime);
            let at = placeholder(binds.len());
            binds.push(Bind::AfterId);
            let id = placeholder(binds.len());
            sql += &format!(" AND ({time}, id) > ({at}, {id})");
        }
        // A constant, and written as one: SQLite plans a bound LIMIT for its value, so a
        // statement with one is parsed again each time it is run.
        sql += &format!(" ORDER BY {time}, id LIMIT {HISTORY_CHUNK}");
        sql
    };
    (sql, binds)
}

/// Where a chunked read has got to: the time and id of the last entry read.
type Position = (chrono::DateTime<chrono::Utc>, i64);

/// Whole histories longer than one chunk read at once by one instance: the others wait
/// for a turn. Two per core keeps the cores busy; more would only share them.
fn long_reads_allowed() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    (cores * 2).max(2)
}

/// How long a whole history waits for its turn before it is refused (a 503 over HTTP).
const LONG_READ_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// A turn to read a long history, shared by a register's clones.
#[derive(Clone)]
struct LongReads(std::sync::Arc<tokio::sync::Semaphore>);

impl LongReads {
    fn new() -> Self {
        Self(std::sync::Arc::new(tokio::sync::Semaphore::new(
            long_reads_allowed(),
        )))
    }
}

/// The oldest time the retention lets be served, from now.
fn retained_since(retention: Option<std::time::Duration>) -> Option<chrono::DateTime<chrono::Utc>> {
    let retention = chrono::Duration::from_std(retention?).ok()?;
    chrono::Utc::now().checked_sub_signed(retention)
}

/// The history that `page` selects, from `read`, which reads the entries (with their ids)
/// after a position, or from the start. A limited page is one query. A whole history is
/// read [`HISTORY_CHUNK`] entries at a time, each chunk read when the one before has been
/// consumed; when it is longer than one chunk, it first waits for a turn among
/// [`long_reads_allowed`] (for at most [`LONG_READ_WAIT`]), before anything is yielded, so
/// that a refusal is the first item and can still be answered with a status.
fn history_stream<F, Fut>(
    page: crate::domain::HistoryPage,
    long_reads: &LongReads,
    mut read: F,
) -> crate::domain::HistoryStream
where
    F: FnMut(Option<Position>) -> Fut + Send + 'static,
    Fut: Future<
            Output = Result<
                Vec<(crate::domain::RegisteredCheck, i64)>,
                crate::domain::RegisterError,
            >,
        > + Send
        + 'static,
{
    use crate::domain::RegisterError;
    use futures::{StreamExt as _, TryStreamExt as _, stream};
    let entries = |rows: Vec<(crate::domain::RegisteredCheck, i64)>| {
        stream::iter(rows.into_iter().map(|(check, _)| Ok(check)))
    };
    if page.limit.is_some() {
        return stream::once(read(None))
            .map_ok(entries)
            .try_flatten()
            .boxed();
    }
    struct Reading<F> {
        read: F,
        after: Option<Position>,
        long_reads: std::sync::Arc<tokio::sync::Semaphore>,
        turn: Option<tokio::sync::OwnedSemaphorePermit>,
        finished: bool,
    }
    let start = Reading {
        read,
        after: None,
        long_reads: long_reads.0.clone(),
        turn: None,
        finished: false,
    };
    stream::try_unfold(start, |mut reading| async move {
        if reading.finished {
            return Ok(None);
        }
        let rows = (reading.read)(reading.after).await?;
        if rows.len() < HISTORY_CHUNK {
            reading.finished = true;
        } else if reading.turn.is_none() {
            let turn = reading.long_reads.clone().acquire_owned();
            reading.turn = Some(
                tokio::time::timeout(LONG_READ_WAIT, turn)
                    .await
                    .map_err(|_| {
                        RegisterError::Unavailable(format!(
                            "{} long histories were being read for {}",
                            long_reads_allowed(),
                            humantime::format_duration(LONG_READ_WAIT)
                        ))
                    })?
                    .map_err(|_| RegisterError::Unavailable("the register is closing".into()))?,
            );
        }
        reading.after = rows.last().map(|(check, id)| (check.registered_at, *id));
        Ok(Some((rows, reading)))
    })
    .map_ok(entries)
    .try_flatten()
    .boxed()
}

/// Expired entries deleted by one statement: a short transaction, so that checks never
/// wait long behind one.
const PURGE_BATCH: u64 = 500;
/// How often expired entries are looked for.
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);
/// The pause between two batches, for writers to get in.
const PURGE_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// The background deletion of expired entries; it stops when the last clone of its register
/// is dropped.
struct Purge(tokio::task::JoinHandle<()>);

impl Drop for Purge {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Deletes the entries older than `retention` now, then every [`PURGE_EVERY`], with
/// `delete`, which deletes at most [`PURGE_BATCH`] entries older than a time and says how
/// many it deleted. A failure is logged and tried again at the next round.
fn purge_in_background<F, Fut>(retention: std::time::Duration, mut delete: F) -> Purge
where
    F: FnMut(chrono::DateTime<chrono::Utc>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<u64, crate::domain::RegisterError>> + Send,
{
    Purge(tokio::spawn(async move {
        let mut every = tokio::time::interval(PURGE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let Some(cutoff) = retained_since(Some(retention)) else {
                continue;
            };
            let mut deleted = 0;
            loop {
                match delete(cutoff).await {
                    Ok(n) => {
                        deleted += n;
                        if n < PURGE_BATCH {
                            break;
                        }
                        tokio::time::sleep(PURGE_PAUSE).await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "expired register entries could not be deleted; trying again later");
                        break;
                    }
                }
            }
            if deleted > 0 {
                tracing::info!(deleted, retention = %humantime::format_duration(retention), "expired register entries deleted");
            }
        }
    }))
}

/// A stored social graph id read back.
fn stored_network(id: &str) -> Result<crate::domain::Network, crate::domain::RegisterError> {
    crate::domain::Network::from_id(id).ok_or_else(|| {
        crate::domain::RegisterError::Unavailable(format!("stored social graph {id:?} is unknown"))
    })
}

/// What a hidden credential is shown as.
const REDACTED: &str = "redacted";

/// A URL fit to show in a message or a log: every credential it can carry replaced.
///
/// That is the userinfo's password; a userinfo without a password, except for PostgreSQL
/// (where it is a role name), because `redis://TOKEN@host` and `https://TOKEN@host` carry
/// the secret there; and the value of every query or fragment parameter whose name says
/// credential (`password`, `sslpassword`, `token`, `api_key`, …). A string that is not a URL
/// is never shown at all: it may be a password pasted into the wrong variable.
pub fn redact_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return "(an unreadable URL)".to_owned();
    };
    if url.cannot_be_a_base() {
        // `scheme:user:password@host` parses with all of it in the path.
        return match url.path().rsplit_once('@') {
            Some((_, host)) => format!("{}:{REDACTED}@{host}", url.scheme()),
            None => redact_parameters(url).to_string(),
        };
    }
    if url.password().is_some() {
        let _ = url.set_password(Some(REDACTED));
    } else if !url.username().is_empty() && !matches!(url.scheme(), "postgres" | "postgresql") {
        let _ = url.set_username(REDACTED);
    }
    redact_parameters(url).to_string()
}

/// The URL with the value of every credential parameter in its query and fragment hidden.
fn redact_parameters(mut url: url::Url) -> url::Url {
    fn hidden(pairs: url::form_urlencoded::Parse<'_>) -> Option<String> {
        let mut changed = false;
        let pairs: Vec<(String, String)> = pairs
            .map(|(name, value)| {
                if is_credential(&name) {
                    changed = true;
                    (name.into_owned(), REDACTED.to_owned())
                } else {
                    (name.into_owned(), value.into_owned())
                }
            })
            .collect();
        changed.then(|| {
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
        })
    }
    if let Some(query) = url
        .query()
        .and_then(|q| hidden(url::form_urlencoded::parse(q.as_bytes())))
    {
        url.set_query(Some(&query));
    }
    // A fragment is not sent anywhere, but `#access_token=…` is how some tokens travel.
    if let Some(fragment) = url
        .fragment()
        .filter(|f| f.contains('='))
        .and_then(|f| hidden(url::form_urlencoded::parse(f.as_bytes())))
    {
        url.set_fragment(Some(&fragment));
    }
    url
}

/// Whether a URL parameter's name says its value is a credential: generous on purpose, since
/// hiding a harmless value costs a little clarity and showing a password costs the password.
fn is_credential(name: &str) -> bool {
    let name: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    const PARTS: [&str; 12] = [
        "pass",
        "pwd",
        "secret",
        "token",
        "auth",
        "key",
        "credential",
        "signature",
        "session",
        "cookie",
        "private",
        "bearer",
    ];
    const WHOLE: [&str; 4] = ["pw", "sig", "code", "jwt"];
    PARTS.iter().any(|part| name.contains(part)) || WHOLE.contains(&name.as_str())
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn credentials_in_the_query_are_hidden_whatever_their_case() {
        assert_eq!(
            redact_url("postgres://postgres:pw@127.0.0.1:5999/x?password=SECRET&sslmode=require"),
            "postgres://postgres:redacted@127.0.0.1:5999/x?password=redacted&sslmode=require"
        );
        for name in [
            "password",
            "PassWord",
            "pass",
            "pwd",
            "pw",
            "secret",
            "token",
            "access_token",
            "sslpassword",
            "sslkey",
            "auth",
            "Authorization",
            "api_key",
            "api-key",
            "apiKey",
            "X-Amz-Signature",
            "sig",
            "client_secret",
        ] {
            let shown = redact_url(&format!(
                "postgres://db/x?{name}=SECRET&application_name=app"
            ));
            assert!(!shown.contains("SECRET"), "{name}: {shown}");
            assert!(shown.contains("application_name=app"), "{name}: {shown}");
        }
        // Encoded names are read as the server reads them.
        assert!(!redact_url("postgres://db/x?pass%77ord=SECRET").contains("SECRET"));
    }

    #[test]
    fn a_redis_secret_in_the_user_part_is_hidden() {
        assert_eq!(
            redact_url("redis://:s3cret@cache:6379/0"),
            "redis://:redacted@cache:6379/0"
        );
        assert_eq!(
            redact_url("redis://s3cret@cache:6379"),
            "redis://redacted@cache:6379"
        );
        assert_eq!(
            redact_url("rediss://default:s3cret@cache:6380#insecure"),
            "rediss://default:redacted@cache:6380#insecure"
        );
        assert_eq!(
            redact_url("redis+unix:///run/redis.sock?db=1&pass=s3cret"),
            "redis+unix:///run/redis.sock?db=1&pass=redacted"
        );
        assert_eq!(
            redact_url("https://ghp_token@api.example.com/"),
            "https://redacted@api.example.com/"
        );
        // A PostgreSQL role is not a secret and helps read the error.
        assert_eq!(
            redact_url("postgres://app@db/connected"),
            "postgres://app@db/connected"
        );
    }

    #[test]
    fn what_is_not_a_url_is_never_shown() {
        for raw in ["s3cret", "postgres://a:s3cret@[bad/x", "://s3cret"] {
            assert_eq!(redact_url(raw), "(an unreadable URL)", "{raw}");
        }
        assert_eq!(redact_url("postgres:app:s3cret@db"), "postgres:redacted@db");
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(
            redact_url("https://api.example.com/#access_token=s3cret&state=1"),
            "https://api.example.com/#access_token=redacted&state=1"
        );
        let err = super::base_url("not a url s3cret", "GITHUB_API_URL").unwrap_err();
        assert!(!err.contains("s3cret"), "{err}");
        let err = super::base_url("ftp://u:s3cret@host/", "GITHUB_API_URL").unwrap_err();
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn a_database_url_is_shown_without_its_password() {
        let shown = redact_url("postgres://app:s3cret@db:5432/connected");
        assert_eq!(shown, "postgres://app:redacted@db:5432/connected");
        assert_eq!(redact_url("sqlite://connected.db"), "sqlite://connected.db");
    }
}
