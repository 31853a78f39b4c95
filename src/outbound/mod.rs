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

/// The query for a page of a pair's history, in the dialect `placeholder` speaks (`?` or
/// `$n`), binding the pair, then `before` and `limit` when the page has them. Each shape of
/// page gets a query of its own, so the database plans each one on the pair's index: a
/// limited page walks it backwards from the newest entry and stops after `limit` rows.
fn history_sql(
    time: &str,
    placeholder: impl Fn(usize) -> String,
    page: crate::domain::HistoryPage,
) -> String {
    let mut sql = format!(
        "SELECT {time}, connected, organisations, social_graph FROM checks WHERE developer_a = {} AND developer_b = {}",
        placeholder(1),
        placeholder(2)
    );
    let mut next = 3;
    if page.before.is_some() {
        sql += &format!(" AND {time} < {}", placeholder(next));
        next += 1;
    }
    if page.limit.is_some() {
        sql += &format!(" ORDER BY {time} DESC, id DESC LIMIT {}", placeholder(next));
    } else {
        sql += &format!(" ORDER BY {time}, id");
    }
    sql
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
