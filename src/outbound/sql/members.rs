//! The members' sign-ins, browser sessions and tokens in the register's database, SQLite or
//! PostgreSQL: one store over either pool, as the keys are kept. Tokens and PKCE verifiers
//! are encrypted with the [`TokenCipher`] before they are written; a `state` or a cookie is
//! kept as its digest. Every change of more than one row is one transaction.

mod rows;

use super::statement::{self, Bind};
use crate::domain::Handle;
use crate::domain::Network;
use crate::domain::members::{
    Account, Digest, Forgot, Link, Member, MemberCredentials, MemberToken, Members, MembersError,
    PendingSignIn, SIGN_IN_NETWORKS,
};
use crate::secret::TokenCipher;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rows::{LINK_COLUMNS, SIGN_IN_COLUMNS, cipher_failed, get, unavailable};
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, Pool, Type};

/// Sign-ins begun and not finished, kept at most at once.
const SIGN_INS_UNDER_WAY: i64 = 10_000;

/// The members kept in a database of the register's.
pub struct SqlMembers<DB: Database> {
    pool: Pool<DB>,
    /// Whether placeholders are numbered (`$1`, PostgreSQL) rather than `?` (SQLite).
    numbered: bool,
    cipher: TokenCipher,
}

impl<DB: Database> Clone for SqlMembers<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            numbered: self.numbered,
            cipher: self.cipher.clone(),
        }
    }
}

impl<DB: Database> std::fmt::Debug for SqlMembers<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlMembers").finish_non_exhaustive()
    }
}

impl<DB: Database> SqlMembers<DB> {
    /// The members in `pool`'s database, their tokens under `cipher`; `numbered` for
    /// PostgreSQL's `$1` placeholders.
    pub(super) fn new(pool: Pool<DB>, numbered: bool, cipher: TokenCipher) -> Self {
        Self {
            pool,
            numbered,
            cipher,
        }
    }
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn text(value: &str) -> Bind {
    Bind::Text(value.to_owned())
}

impl<DB> SqlMembers<DB>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB>,
{
    fn query(&self, sql: &str, binds: &[Bind]) -> sqlx::query::Query<'static, DB, DB::Arguments> {
        statement::query(statement::dialect(self.numbered, sql), binds)
    }

    /// The rows `sql` returns.
    async fn rows(&self, sql: &str, binds: &[Bind]) -> Result<Vec<DB::Row>, MembersError> {
        self.query(sql, binds)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)
    }

    /// Runs statements in one transaction.
    async fn execute(&self, statements: &[(&str, Vec<Bind>)]) -> Result<(), MembersError> {
        let mut transaction = self.pool.begin().await.map_err(unavailable)?;
        for (sql, binds) in statements {
            self.query(sql, binds)
                .execute(&mut *transaction)
                .await
                .map_err(unavailable)?;
        }
        transaction.commit().await.map_err(unavailable)
    }

    /// A token's columns as they are written: access, refresh, expiry, scope.
    fn sealed(&self, account: &Account, token: &MemberToken) -> Result<[Bind; 4], MembersError> {
        let access = self
            .cipher
            .encrypt(&token.access, &rows::access_context(account))
            .map_err(cipher_failed)?;
        let refresh = token
            .refresh
            .as_ref()
            .map(|refresh| {
                self.cipher
                    .encrypt(refresh, &rows::refresh_context(account))
            })
            .transpose()
            .map_err(cipher_failed)?;
        Ok([
            Bind::Text(access),
            Bind::MaybeText(refresh),
            Bind::MaybeInt(token.expires_at.map(millis)),
            text(&token.scope),
        ])
    }
}

#[async_trait]
impl<DB> Members for SqlMembers<DB>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB>,
    for<'r> String: Decode<'r, DB>,
    for<'r> i64: Decode<'r, DB>,
    for<'r> Option<String>: Decode<'r, DB>,
    for<'r> Option<i64>: Decode<'r, DB>,
    for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
{
    async fn begin(
        &self,
        state: &Digest,
        pending: &PendingSignIn,
        now: DateTime<Utc>,
    ) -> Result<(), MembersError> {
        rows::sign_in_network(pending.network)?;
        let verifier = self
            .cipher
            .encrypt(&pending.verifier, &rows::verifier_context(state))
            .map_err(cipher_failed)?;
        let member = pending.member.as_ref();
        // Those expired go first; past the cap, none is begun (a flood of redirects asked
        // for and never finished cannot grow the table without end).
        let expired = "DELETE FROM member_sign_ins WHERE expires_at_ms <= ?";
        let insert = "INSERT INTO member_sign_ins (state_sha256, network, verifier, \
             browser_sha256, member, member_handle, expires_at_ms) \
             SELECT ?, ?, ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM member_sign_ins) < ? \
             RETURNING state_sha256";
        let binds = vec![
            Bind::Text(state.hex()),
            text(pending.network.id()),
            Bind::Text(verifier),
            Bind::Text(pending.browser.hex()),
            Bind::MaybeText(member.map(|m| m.key().to_owned())),
            Bind::MaybeText(member.map(|m| m.as_str().to_owned())),
            Bind::Int(millis(pending.expires_at)),
            Bind::Int(SIGN_INS_UNDER_WAY),
        ];
        let mut transaction = self.pool.begin().await.map_err(unavailable)?;
        self.query(expired, &[Bind::Int(millis(now))])
            .execute(&mut *transaction)
            .await
            .map_err(unavailable)?;
        let begun = self
            .query(insert, &binds)
            .fetch_optional(&mut *transaction)
            .await
            .map_err(unavailable)?;
        transaction.commit().await.map_err(unavailable)?;
        if begun.is_none() {
            return Err(MembersError::unavailable(format!(
                "{SIGN_INS_UNDER_WAY} sign-ins are under way, the most kept at once; try again in a few minutes"
            )));
        }
        Ok(())
    }

    async fn take(
        &self,
        state: &Digest,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingSignIn>, MembersError> {
        // Those expired first (this one too, if it has): none is kept past its time.
        let expired = "DELETE FROM member_sign_ins WHERE expires_at_ms <= ?";
        self.execute(&[(expired, vec![Bind::Int(millis(now))])])
            .await?;
        // Deleted and returned in one statement: of two callers, one gets it.
        let take = format!(
            "DELETE FROM member_sign_ins WHERE state_sha256 = ? RETURNING {SIGN_IN_COLUMNS}"
        );
        let row = self
            .query(&take, &[Bind::Text(state.hex())])
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let pending = rows::sign_in::<DB>(&row, state, &self.cipher)?;
        Ok((pending.expires_at > now).then_some(pending))
    }

    async fn link(&self, link: &Link) -> Result<(), MembersError> {
        let account = &link.account;
        rows::sign_in_network(account.network)?;
        let member = text(account.handle.key());
        let network = text(account.network.id());
        let id = text(&account.id);
        let create = "INSERT INTO members (handle_key, handle, hidden_organisations, \
             created_at_ms) VALUES (?, ?, 0, ?) ON CONFLICT (handle_key) DO NOTHING";
        let replace = "DELETE FROM member_links WHERE (network = ? AND account_id = ?) \
             OR (member = ? AND network = ?)";
        let insert = format!(
            "INSERT INTO member_links (member, {LINK_COLUMNS}) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        let [access, refresh, expires, scope] = self.sealed(account, &link.token)?;
        let linked_at = Bind::Int(millis(link.linked_at));
        let statements = [
            (
                create,
                vec![
                    member.clone(),
                    text(account.handle.as_str()),
                    linked_at.clone(),
                ],
            ),
            (
                replace,
                vec![network.clone(), id.clone(), member.clone(), network.clone()],
            ),
            (
                insert.as_str(),
                vec![
                    member,
                    network,
                    id,
                    text(account.handle.as_str()),
                    access,
                    refresh,
                    expires,
                    scope,
                    linked_at,
                ],
            ),
        ];
        self.execute(&statements).await
    }

    async fn open_session(
        &self,
        session: &Digest,
        member: &Handle,
        expires_at: DateTime<Utc>,
    ) -> Result<(), MembersError> {
        let insert = "INSERT INTO member_sessions (session_sha256, member, expires_at_ms) \
             VALUES (?, ?, ?)";
        let binds = vec![
            Bind::Text(session.hex()),
            text(member.key()),
            Bind::Int(millis(expires_at)),
        ];
        self.execute(&[(insert, binds)]).await
    }

    async fn session(
        &self,
        session: &Digest,
        now: DateTime<Utc>,
    ) -> Result<Option<Handle>, MembersError> {
        let select = "SELECT m.handle, s.expires_at_ms FROM member_sessions s \
             JOIN members m ON m.handle_key = s.member WHERE s.session_sha256 = ?";
        let found = self.rows(select, &[Bind::Text(session.hex())]).await?;
        let Some(row) = found.first() else {
            return Ok(None);
        };
        if rows::time(get::<DB, i64>(row, "expires_at_ms")?)? > now {
            return rows::handle(&get::<DB, String>(row, "handle")?).map(Some);
        }
        let expired = "DELETE FROM member_sessions WHERE session_sha256 = ? AND expires_at_ms <= ?";
        let binds = vec![Bind::Text(session.hex()), Bind::Int(millis(now))];
        self.execute(&[(expired, binds)]).await?;
        Ok(None)
    }

    async fn close_session(&self, session: &Digest) -> Result<(), MembersError> {
        let delete = "DELETE FROM member_sessions WHERE session_sha256 = ?";
        self.execute(&[(delete, vec![Bind::Text(session.hex())])])
            .await
    }

    async fn member(&self, handle: &Handle) -> Result<Option<Member>, MembersError> {
        let select = "SELECT m.handle AS member_handle, m.hidden_organisations, \
             l.network, l.account_id, l.handle FROM members m \
             LEFT JOIN member_links l ON l.member = m.handle_key \
             WHERE m.handle_key = ? ORDER BY l.network";
        let found = self.rows(select, &[text(handle.key())]).await?;
        let Some(first) = found.first() else {
            return Ok(None);
        };
        let mut accounts = Vec::with_capacity(found.len());
        for row in &found {
            if get::<DB, Option<String>>(row, "network")?.is_some() {
                accounts.push(rows::account::<DB>(row)?);
            }
        }
        Ok(Some(Member {
            handle: rows::handle(&get::<DB, String>(first, "member_handle")?)?,
            accounts,
            hidden_organisations: get::<DB, i64>(first, "hidden_organisations")? != 0,
        }))
    }

    async fn credentials(
        &self,
        handles: &[&Handle],
        network: Network,
    ) -> Result<Vec<MemberCredentials>, MembersError> {
        let mut keys: Vec<&str> = handles.iter().map(|h| h.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        if keys.is_empty() || !SIGN_IN_NETWORKS.contains(&network) {
            return Ok(Vec::new());
        }
        let columns = LINK_COLUMNS.replace(", ", ", l.");
        let select = format!(
            "SELECT l.{columns}, m.hidden_organisations FROM member_links l \
             JOIN members m ON m.handle_key = l.member \
             WHERE l.network = ? AND l.member IN ({})",
            vec!["?"; keys.len()].join(", ")
        );
        let mut binds = vec![text(network.id())];
        binds.extend(keys.into_iter().map(text));
        let found = self.rows(&select, &binds).await?;
        found
            .iter()
            .map(|row| {
                let link = rows::link::<DB>(row, &self.cipher)?;
                Ok(MemberCredentials {
                    account: link.account,
                    token: link.token,
                    hidden_organisations: get::<DB, i64>(row, "hidden_organisations")? != 0,
                })
            })
            .collect()
    }

    async fn set_hidden_organisations(
        &self,
        member: &Handle,
        count: bool,
    ) -> Result<bool, MembersError> {
        let update = "UPDATE members SET hidden_organisations = ? WHERE handle_key = ? \
             RETURNING handle_key";
        let binds = [Bind::Int(i64::from(count)), text(member.key())];
        Ok(!self.rows(update, &binds).await?.is_empty())
    }

    async fn renew(&self, account: &Account, token: &MemberToken) -> Result<bool, MembersError> {
        let [access, refresh, expires, scope] = self.sealed(account, token)?;
        let update = "UPDATE member_links SET access_token = ?, refresh_token = ?, \
             expires_at_ms = ?, scope = ? WHERE network = ? AND account_id = ? \
             RETURNING account_id";
        let binds = [
            access,
            refresh,
            expires,
            scope,
            text(account.network.id()),
            text(&account.id),
        ];
        Ok(!self.rows(update, &binds).await?.is_empty())
    }

    async fn unlink(&self, account: &Account) -> Result<(), MembersError> {
        let delete = "DELETE FROM member_links WHERE network = ? AND account_id = ?";
        let binds = vec![text(account.network.id()), text(&account.id)];
        self.execute(&[(delete, binds)]).await
    }

    async fn forget(&self, member: &Handle) -> Result<Forgot, MembersError> {
        let key = text(member.key());
        let links = format!("DELETE FROM member_links WHERE member = ? RETURNING {LINK_COLUMNS}");
        let sign_ins = "DELETE FROM member_sign_ins WHERE member = ?";
        // Its sessions go with it (they cascade).
        let members = "DELETE FROM members WHERE handle_key = ?";
        let mut transaction = self.pool.begin().await.map_err(unavailable)?;
        let deleted = self
            .query(&links, std::slice::from_ref(&key))
            .fetch_all(&mut *transaction)
            .await
            .map_err(unavailable)?;
        // A token that cannot be decrypted is deleted all the same: the member asked to be
        // forgotten; it is said, since it cannot be revoked.
        let mut forgot = Forgot::default();
        for row in &deleted {
            match rows::link::<DB>(row, &self.cipher) {
                Ok(link) => forgot.links.push(link),
                Err(_) => forgot.unreadable.push(rows::account::<DB>(row)?),
            }
        }
        for sql in [sign_ins, members] {
            self.query(sql, std::slice::from_ref(&key))
                .execute(&mut *transaction)
                .await
                .map_err(unavailable)?;
        }
        transaction.commit().await.map_err(unavailable)?;
        Ok(forgot)
    }
}
