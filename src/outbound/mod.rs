//! The ports implemented with real technology. Each adapter turns its technology's failures
//! into the port's errors at the boundary.

pub mod bluesky;
pub mod cache;
pub mod demo;
pub mod github;
pub mod http;
pub mod postgres;
pub mod shared;
pub mod sqlite;
pub mod x;

/// An upstream origin from configuration, checked to be http(s).
fn base_url(raw: &str, variable: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("{variable} is not a URL ({raw}): {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(format!("{variable} must be an http(s) URL, not {raw}"));
    }
    Ok(url)
}

/// What a history query binds, in the order it binds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bind {
    DeveloperA,
    DeveloperB,
    Before,
    /// The page's `limit` less one.
    Offset,
}

/// The query for a page of a pair's history, oldest first, in the dialect `placeholder`
/// speaks (`?` or `$n`), and what it binds. `lowest` is the backend's earliest time.
///
/// A limited page is every entry from the time of the `limit`-th newest one on: it never
/// splits a millisecond, so the next page, strictly before its oldest time, misses nothing
/// (a page holds more than `limit` entries only when several share its oldest millisecond).
/// The inner query walks the pair's index backwards and stops after `limit` rows, so a
/// newest page costs the same on a long history as on a short one.
fn history_sql(
    time: &str,
    lowest: &str,
    placeholder: impl Fn(usize) -> String,
    page: crate::domain::HistoryPage,
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
        filter
    };
    let columns = format!("{time}, connected, organisations, social_graph");
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
        format!("SELECT {columns} FROM checks WHERE {outer} ORDER BY {time}, id")
    };
    (sql, binds)
}

/// A stored social graph id read back.
fn stored_network(id: &str) -> Result<crate::domain::Network, crate::domain::RegisterError> {
    crate::domain::Network::from_id(id).ok_or_else(|| {
        crate::domain::RegisterError::Unavailable(format!("stored social graph {id:?} is unknown"))
    })
}

/// A database URL fit to show: the password, if any, replaced.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("redacted"));
            url.to_string()
        }
        Ok(url) => url.to_string(),
        Err(_) => "(an unreadable URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_database_url_is_shown_without_its_password() {
        let shown = super::redact_url("postgres://app:s3cret@db:5432/connected");
        assert_eq!(shown, "postgres://app:redacted@db:5432/connected");
        assert_eq!(
            super::redact_url("sqlite://connected.db"),
            "sqlite://connected.db"
        );
    }
}
