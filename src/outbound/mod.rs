//! The ports implemented with real technology. Each adapter turns its technology's failures
//! into the port's errors at the boundary.

pub mod bluesky;
pub mod cache;
pub mod clock;
pub mod counters;
mod database_error;
pub mod demo;
pub mod github;
mod history;
pub mod keys_sql;
pub mod postgres;
pub mod recent_keys;
mod register_sql;
mod retention;
pub mod shared;
mod spend_sql;
pub mod sqlite;
pub mod upstream;
pub mod x;

/// How a register's pool of database connections is sized and waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Connections at most (SQLite's writing pool; a database in memory always has one).
    pub max_connections: u32,
    /// How long to wait for a connection: at start-up, for each request, for readiness.
    pub connect_timeout: std::time::Duration,
}

impl PoolSettings {
    /// How long an unused connection stays open.
    const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);
    /// How long a connection is used before it is replaced by a new one.
    const MAX_LIFETIME: std::time::Duration = std::time::Duration::from_secs(1800);
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
    }

    #[test]
    fn a_database_url_is_shown_without_its_password() {
        let shown = redact_url("postgres://app:s3cret@db:5432/connected");
        assert_eq!(shown, "postgres://app:redacted@db:5432/connected");
        assert_eq!(redact_url("sqlite://connected.db"), "sqlite://connected.db");
    }
}
