//! What the members' tables hold: what each ciphertext is bound to, which networks may be
//! written, and a row read back into a link or a sign-in begun, its tokens decrypted.

use crate::domain::members::{
    Account, Digest, Link, MemberToken, MembersError, PendingSignIn, SIGN_IN_NETWORKS,
};
use crate::domain::{Handle, Network, Unavailable};
use crate::outbound::sql::error::describe;
use crate::secret::{CipherError, TokenCipher};
use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Database, Decode, Row, Type};

/// A link's columns, as every query of links selects them.
pub(super) const LINK_COLUMNS: &str = "network, account_id, handle, access_token, refresh_token, \
     expires_at_ms, scope, linked_at_ms";

/// A sign-in's columns, as `take` returns them.
pub(super) const SIGN_IN_COLUMNS: &str = "network, verifier, browser_sha256, member_handle, \
     expires_at_ms";

/// What an account's access token is bound to: its network and its id there.
pub(super) fn access_context(account: &Account) -> String {
    format!("{}:{}:access", account.network.id(), account.id)
}

/// What an account's refresh token is bound to.
pub(super) fn refresh_context(account: &Account) -> String {
    format!("{}:{}:refresh", account.network.id(), account.id)
}

/// What a sign-in's verifier is bound to: the digest of its `state`.
pub(super) fn verifier_context(state: &Digest) -> String {
    format!("sign-in:{}:verifier", state.hex())
}

pub(super) fn unavailable(e: sqlx::Error) -> MembersError {
    MembersError::Unavailable(Unavailable::because(describe(&e), e))
}

pub(super) fn cipher_failed(e: CipherError) -> MembersError {
    MembersError::unavailable(e.to_string())
}

/// Members sign in with GitHub or X only: another network is refused before anything is
/// written.
pub(super) fn sign_in_network(network: Network) -> Result<(), MembersError> {
    if SIGN_IN_NETWORKS.contains(&network) {
        Ok(())
    } else {
        Err(MembersError::unavailable(format!(
            "members do not sign in with {}",
            network.title()
        )))
    }
}

fn malformed(what: &str) -> MembersError {
    MembersError::unavailable(format!("a stored member's {what} is malformed"))
}

/// The value of `column`.
pub(super) fn get<'r, DB, T>(row: &'r DB::Row, column: &str) -> Result<T, MembersError>
where
    DB: Database,
    T: Decode<'r, DB> + Type<DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
{
    row.try_get::<T, _>(column).map_err(unavailable)
}

/// A time stored in milliseconds.
pub(super) fn time(ms: i64) -> Result<DateTime<Utc>, MembersError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| malformed("time"))
}

/// A network members sign in with, by its id.
pub(super) fn network(id: &str) -> Result<Network, MembersError> {
    Network::from_id(id)
        .filter(|n| SIGN_IN_NETWORKS.contains(n))
        .ok_or_else(|| malformed("network"))
}

/// A handle as it was stored.
pub(super) fn handle(written: &str) -> Result<Handle, MembersError> {
    Handle::parse(written).map_err(|_| malformed("handle"))
}

/// The account of a row of [`LINK_COLUMNS`].
pub(super) fn account<DB>(row: &DB::Row) -> Result<Account, MembersError>
where
    DB: Database,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
{
    Ok(Account {
        network: network(&get::<DB, String>(row, "network")?)?,
        id: get::<DB, String>(row, "account_id")?,
        handle: handle(&get::<DB, String>(row, "handle")?)?,
    })
}

/// The link of a row of [`LINK_COLUMNS`], its tokens decrypted.
pub(super) fn link<DB>(row: &DB::Row, cipher: &TokenCipher) -> Result<Link, MembersError>
where
    DB: Database,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'r> i64: Decode<'r, DB> + Type<DB>,
    for<'r> Option<String>: Decode<'r, DB>,
    for<'r> Option<i64>: Decode<'r, DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
{
    let account = account::<DB>(row)?;
    let access = get::<DB, String>(row, "access_token")?;
    let refresh = get::<DB, Option<String>>(row, "refresh_token")?;
    let token = MemberToken {
        access: cipher
            .decrypt(&access, &access_context(&account))
            .map_err(cipher_failed)?,
        refresh: refresh
            .map(|stored| cipher.decrypt(&stored, &refresh_context(&account)))
            .transpose()
            .map_err(cipher_failed)?,
        expires_at: get::<DB, Option<i64>>(row, "expires_at_ms")?
            .map(time)
            .transpose()?,
        scope: get::<DB, String>(row, "scope")?,
    };
    Ok(Link {
        account,
        token,
        linked_at: time(get::<DB, i64>(row, "linked_at_ms")?)?,
    })
}

/// The sign-in of a row of [`SIGN_IN_COLUMNS`] kept under `state`, its verifier decrypted.
pub(super) fn sign_in<DB>(
    row: &DB::Row,
    state: &Digest,
    cipher: &TokenCipher,
) -> Result<PendingSignIn, MembersError>
where
    DB: Database,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'r> i64: Decode<'r, DB> + Type<DB>,
    for<'r> Option<String>: Decode<'r, DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
{
    let verifier = get::<DB, String>(row, "verifier")?;
    Ok(PendingSignIn {
        network: network(&get::<DB, String>(row, "network")?)?,
        verifier: cipher
            .decrypt(&verifier, &verifier_context(state))
            .map_err(cipher_failed)?,
        browser: digest(&get::<DB, String>(row, "browser_sha256")?)?,
        member: get::<DB, Option<String>>(row, "member_handle")?
            .as_deref()
            .map(handle)
            .transpose()?,
        expires_at: time(get::<DB, i64>(row, "expires_at_ms")?)?,
    })
}

/// A digest stored in lower-case hex.
fn digest(hex: &str) -> Result<Digest, MembersError> {
    let bad = || malformed("digest");
    if hex.len() != 64 || !hex.is_ascii() {
        return Err(bad());
    }
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(Digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_reads_back_from_its_hex() {
        let written = Digest::of("state");
        assert_eq!(digest(&written.hex()).unwrap(), written);
        assert!(digest("zz").is_err());
        assert!(digest(&"g".repeat(64)).is_err());
    }

    #[test]
    fn each_token_of_an_account_is_bound_to_its_own_place() {
        let account = Account {
            network: Network::X,
            id: "42".into(),
            handle: Handle::parse("Ada").unwrap(),
        };
        assert_eq!(access_context(&account), "x:42:access");
        assert_eq!(refresh_context(&account), "x:42:refresh");
        assert_ne!(
            verifier_context(&Digest::of("a")),
            verifier_context(&Digest::of("b"))
        );
    }
}
