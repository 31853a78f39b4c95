//! The SQL of a pair's history, shared by both registers: the query in either dialect, what
//! it binds, and how a stored value is read back.

/// What a history query binds, in the order it binds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Bind {
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
/// columns are the entry's id, then its time, verdict, organisations, social graph and
/// whether a member's sign-in told the follows.
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
pub(super) fn history_sql(
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
    let columns = format!("id, {time}, connected, organisations, social_graph, member_sign_in");
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
pub(super) type Position = (chrono::DateTime<chrono::Utc>, i64);

/// A stored social graph id read back.
pub(super) fn stored_network(
    id: &str,
) -> Result<crate::domain::Network, crate::domain::RegisterError> {
    crate::domain::Network::from_id(id).ok_or_else(|| {
        crate::domain::RegisterError::unavailable(format!("stored social graph {id:?} is unknown"))
    })
}
