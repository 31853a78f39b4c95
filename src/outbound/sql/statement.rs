//! One set of SQL for SQLite and PostgreSQL: statements are written with `?` placeholders and
//! put in PostgreSQL's `$1` form when that is the database, and the values they bind are
//! named once, whichever the database.

use sqlx::{Database, Encode, IntoArguments, Type};

/// A value a statement binds.
#[derive(Debug, Clone)]
pub(super) enum Bind {
    Text(String),
    Int(i64),
    /// Text, or `NULL`.
    MaybeText(Option<String>),
    /// An integer, or `NULL`.
    MaybeInt(Option<i64>),
}

/// `sql`, written with `?` placeholders, in the database's dialect: numbered (`$1`, `$2`, …)
/// for PostgreSQL when `numbered`, as written for SQLite. No statement here holds a `?` in a
/// string literal.
pub(super) fn dialect(numbered: bool, sql: &str) -> String {
    if !numbered {
        return sql.to_owned();
    }
    let mut n = 0;
    sql.chars()
        .map(|c| {
            if c == '?' {
                n += 1;
                format!("${n}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `sql` (already in the database's dialect) with `binds` bound in order.
pub(super) fn query<DB>(
    sql: String,
    binds: &[Bind],
) -> sqlx::query::Query<'static, DB, DB::Arguments>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB>,
{
    binds.iter().fold(
        sqlx::query(sqlx::AssertSqlSafe(sql)),
        |q, bind| match bind {
            Bind::Text(text) => q.bind(text.clone()),
            Bind::Int(n) => q.bind(*n),
            Bind::MaybeText(text) => q.bind(text.clone()),
            Bind::MaybeInt(n) => q.bind(*n),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::dialect;

    #[test]
    fn placeholders_are_numbered_for_postgres_only() {
        let sql = "UPDATE t SET a = ? WHERE b = ? AND c IN (?, ?)";
        assert_eq!(dialect(false, sql), sql);
        assert_eq!(
            dialect(true, sql),
            "UPDATE t SET a = $1 WHERE b = $2 AND c IN ($3, $4)"
        );
    }
}
