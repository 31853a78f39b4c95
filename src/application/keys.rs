//! Managing API keys: make one (its secret shown once), list them, revoke one.

use super::to_the_millisecond;
use crate::domain::Clock;
use crate::domain::access::{
    ApiKey, ApiKeys, IssuedKey, KeyLimits, KeyName, KeyNameError, KeyReport, KeysError, Scopes,
};
use crate::secret::Secret;

/// Why a key was not made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    BadName(#[from] KeyNameError),
    #[error(transparent)]
    Store(#[from] KeysError),
    /// getrandom's error is not a `std::error::Error` without its `std` feature: kept as it
    /// is, and said.
    #[error("the operating system gave no random bytes: {0}")]
    NoRandomness(getrandom::Error),
}

/// A new key named `name`, made at `clock`'s time: stored as a hash; its secret is
/// returned, to be shown once.
///
/// # Errors
/// [`KeyError::BadName`], [`KeysError::NameTaken`], or the store's or the random source's
/// failure.
pub async fn create_key(
    keys: &dyn ApiKeys,
    clock: &dyn Clock,
    name: &str,
    scopes: Scopes,
    limits: KeyLimits,
) -> Result<(ApiKey, Secret), KeyError> {
    let name = KeyName::parse(name)?;
    let issued = IssuedKey::generate().map_err(KeyError::NoRandomness)?;
    let key = ApiKey {
        id: issued.id,
        name,
        scopes,
        limits,
        created_at: to_the_millisecond(clock.now()),
        last_used_at: None,
        revoked_at: None,
    };
    keys.create(&key, &issued.hash).await?;
    Ok((key, issued.key))
}

/// Every key, oldest first, with what it spent on `clock`'s day (UTC).
///
/// # Errors
/// The store's failure.
pub async fn list_keys(keys: &dyn ApiKeys, clock: &dyn Clock) -> Result<Vec<KeyReport>, KeysError> {
    keys.list(clock.now().date_naive()).await
}

/// What revoking a key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// The key is revoked from now on.
    Revoked(ApiKey),
    /// The key was revoked already, at its `revoked_at`: nothing changed.
    Already(ApiKey),
}

/// Revokes the key with this name or id, at `clock`'s time; one revoked already keeps the
/// time it was revoked at.
///
/// # Errors
/// [`KeysError::NotFound`], [`KeysError::Ambiguous`] or the store's failure.
pub async fn revoke_key(
    keys: &dyn ApiKeys,
    clock: &dyn Clock,
    name_or_id: &str,
) -> Result<Revocation, KeysError> {
    let now = to_the_millisecond(clock.now());
    let key = keys.revoke(name_or_id, now).await?;
    Ok(if key.revoked_at.is_some_and(|at| at < now) {
        Revocation::Already(key)
    } else {
        Revocation::Revoked(key)
    })
}
