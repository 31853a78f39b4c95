//! Members: developers who signed in with GitHub or X, so that their own tokens can answer
//! about them (cheaper, or truer). A member is not a caller: nobody pays with a member's
//! token, it is a source of facts about that member, held for them, encrypted at rest and
//! never shown.

mod ports;

pub use ports::{Forgot, Members, MembersError, SignIn, SignInError};

use super::{Handle, Network};
use crate::secret::Secret;
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use std::fmt;

/// A member's token at one network, as the provider issued it.
#[derive(Clone, PartialEq, Eq)]
pub struct MemberToken {
    pub access: Secret,
    /// What renews `access` (X, with `offline.access`); it rotates at each use.
    pub refresh: Option<Secret>,
    /// When `access` stops working; `None` when it does not expire (GitHub's OAuth apps).
    pub expires_at: Option<DateTime<Utc>>,
    /// The scopes the member granted, as the provider listed them.
    pub scope: String,
}

impl MemberToken {
    /// Whether it should be renewed before use at `now`: it expires within `margin`.
    pub fn expires_within(&self, now: DateTime<Utc>, margin: chrono::Duration) -> bool {
        self.expires_at.is_some_and(|at| at - margin <= now)
    }
}

impl fmt::Debug for MemberToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemberToken")
            .field("refresh", &self.refresh.is_some())
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Who signed in at a network: the network's own id for the account, and its handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub network: Network,
    /// The network's id of the account (GitHub's numeric id, X's user id), which a rename
    /// does not change.
    pub id: String,
    pub handle: Handle,
}

/// A sign-in kept: the account and its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub account: Account,
    pub token: MemberToken,
    pub linked_at: DateTime<Utc>,
}

/// What is kept of a member, tokens aside: the accounts linked and their consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub handle: Handle,
    /// At most one a network.
    pub accounts: Vec<Account>,
    /// Whether organisations the member belongs to without showing it may count (and be
    /// named) in answers about them: off until they say so.
    pub hidden_organisations: bool,
}

impl Member {
    /// The account linked on `network`, if any.
    pub fn account(&self, network: Network) -> Option<&Account> {
        self.accounts.iter().find(|a| a.network == network)
    }
}

/// A signed-in member's token for one network, as the adapters are handed it: whose it is,
/// what it may read, and the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberCredentials {
    pub account: Account,
    pub token: MemberToken,
    /// The member's consent to count hidden organisations.
    pub hidden_organisations: bool,
}

/// A sign-in begun and not yet finished: what its callback needs, kept under the digest of
/// its `state` for ten minutes at most, and taken once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignIn {
    pub network: Network,
    /// The PKCE verifier whose challenge went to the provider.
    pub verifier: Secret,
    /// The digest of the browser's sign-in cookie: only that browser may finish it.
    pub browser: Digest,
    /// The member already signed in on this browser, if any: the new account must have the
    /// same handle.
    pub member: Option<Handle>,
    pub expires_at: DateTime<Utc>,
}

/// The SHA-256 of a random value handed to a browser (a `state`, a cookie): what is stored,
/// so that reading the database gives nothing a browser could present.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The digest of `value`.
    pub fn of(value: &str) -> Self {
        Self(Sha256::digest(value.as_bytes()).into())
    }

    /// Lower-case hex, as it is stored.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({}…)", &self.hex()[..8])
    }
}

/// The networks a member can sign in with.
pub const SIGN_IN_NETWORKS: [Network; 2] = [Network::GitHub, Network::X];

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_at: Option<&str>) -> MemberToken {
        MemberToken {
            access: Secret::new("gho_secret"),
            refresh: Some(Secret::new("refresh_secret")),
            expires_at: expires_at.map(|t| t.parse().unwrap()),
            scope: "read:org".into(),
        }
    }

    #[test]
    fn debug_never_shows_a_token() {
        let shown = format!("{:?}", token(None));
        assert!(!shown.contains("gho_secret") && !shown.contains("refresh_secret"));
    }

    #[test]
    fn a_token_expiring_within_the_margin_is_renewed_and_one_that_never_expires_is_not() {
        let now: DateTime<Utc> = "2026-12-03T12:00:00Z".parse().unwrap();
        let margin = chrono::Duration::minutes(5);
        assert!(token(Some("2026-12-03T12:04:59Z")).expires_within(now, margin));
        assert!(token(Some("2026-12-03T11:00:00Z")).expires_within(now, margin));
        assert!(!token(Some("2026-12-03T12:05:01Z")).expires_within(now, margin));
        assert!(!token(None).expires_within(now, margin));
    }

    #[test]
    fn a_digest_is_sha256_in_hex() {
        assert_eq!(
            Digest::of("abc").hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(!format!("{:?}", Digest::of("abc")).contains("b00361a3"));
    }
}
