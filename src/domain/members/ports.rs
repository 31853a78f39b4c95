//! The members' ports: where sign-ins, sessions and tokens are kept ([`Members`]), and the
//! providers members sign in with ([`SignIn`]).

use super::{Account, Digest, Link, Member, MemberCredentials, MemberToken, PendingSignIn};

/// What forgetting a member deleted: their links, and the accounts whose tokens could not be
/// read (so cannot be revoked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forgot {
    pub links: Vec<Link>,
    pub unreadable: Vec<Account>,
}
use crate::domain::{Handle, Network, Unavailable};
use crate::secret::Secret;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Failures of the members' store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MembersError {
    /// The storage could not be reached, refused the operation, or holds a token it cannot
    /// decrypt (another `TOKEN_KEY`); nothing was written.
    #[error("the members' store is unavailable: {0}")]
    Unavailable(#[source] Unavailable),
}

impl MembersError {
    /// Unavailable for `reason`, with no error underneath.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self::Unavailable(Unavailable::new(reason))
    }
}

/// Where members' sign-ins, browser sessions and tokens are kept. Tokens are encrypted by the
/// adapter before they are written; what is handed out is decrypted.
#[async_trait]
pub trait Members: Send + Sync + 'static {
    /// Keeps a sign-in begun, under the digest of its `state`, dropping those expired at
    /// `now`.
    ///
    /// # Errors
    /// [`MembersError::Unavailable`] when it cannot be kept, or too many are under way.
    async fn begin(
        &self,
        state: &Digest,
        pending: &PendingSignIn,
        now: DateTime<Utc>,
    ) -> Result<(), MembersError>;

    /// Takes the sign-in begun under `state`, once: it is gone afterwards, whether or not
    /// it is still valid at `now` (`None` when there is none, or it has expired).
    async fn take(
        &self,
        state: &Digest,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingSignIn>, MembersError>;

    /// Keeps `link` for the member of its handle (made a member if they were not): it
    /// replaces any link of the same account, or of the same member on the same network.
    async fn link(&self, link: &Link) -> Result<(), MembersError>;

    /// Opens a browser session for `member` under the digest of its cookie.
    async fn open_session(
        &self,
        session: &Digest,
        member: &Handle,
        expires_at: DateTime<Utc>,
    ) -> Result<(), MembersError>;

    /// The member a browser session belongs to, while it is valid at `now`.
    async fn session(
        &self,
        session: &Digest,
        now: DateTime<Utc>,
    ) -> Result<Option<Handle>, MembersError>;

    /// Ends a browser session.
    async fn close_session(&self, session: &Digest) -> Result<(), MembersError>;

    /// What is kept of a member, tokens aside.
    async fn member(&self, handle: &Handle) -> Result<Option<Member>, MembersError>;

    /// The tokens on `network` of those `handles` who signed in there, each with its account
    /// and the member's consent, in no particular order.
    async fn credentials(
        &self,
        handles: &[&Handle],
        network: Network,
    ) -> Result<Vec<MemberCredentials>, MembersError>;

    /// Sets a member's consent to count hidden organisations; `false` when there is no such
    /// member.
    async fn set_hidden_organisations(
        &self,
        member: &Handle,
        count: bool,
    ) -> Result<bool, MembersError>;

    /// Replaces the token of `account` with a renewed one; `false` when the account is no
    /// longer linked (the member left meanwhile), and then nothing is written.
    async fn renew(&self, account: &Account, token: &MemberToken) -> Result<bool, MembersError>;

    /// Drops the link of `account` (its token was revoked at the provider).
    async fn unlink(&self, account: &Account) -> Result<(), MembersError>;

    /// Deletes every row about the member's sign-in (links, consent, sessions, sign-ins
    /// begun on their behalf) and returns what it held, so that their tokens can be
    /// revoked. The register's past answers stay. Tokens that cannot be decrypted (another
    /// `TOKEN_KEY`) do not stop it: their rows go too, and their accounts are returned.
    async fn forget(&self, member: &Handle) -> Result<Forgot, MembersError>;
}

/// Failures of a provider during sign-in or with a member's token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    /// The provider refused what it was given (a code used or expired, a verifier that does
    /// not match, a refresh token that no longer works), in its words.
    #[error("{network} refused the sign-in: {reason}")]
    Refused { network: Network, reason: String },
    /// The token no longer works: the member revoked it, or it expired past renewal.
    #[error("the {} token was revoked", network.title())]
    Revoked { network: Network },
    #[error("{network} rate limit exceeded")]
    RateLimited {
        network: Network,
        retry_after: std::time::Duration,
    },
    /// The provider could not be asked, or answered what cannot be read.
    #[error("{} is unavailable: {why}", network.title())]
    Unavailable {
        network: Network,
        #[source]
        why: Unavailable,
    },
}

/// A provider members sign in with (OAuth 2.0, authorisation code with PKCE S256).
#[async_trait]
pub trait SignIn: Send + Sync + 'static {
    /// Which network it is.
    fn network(&self) -> Network;

    /// Where to send the browser to approve: the provider's authorisation page, with the
    /// `state` and the PKCE `challenge`, returning to the service's callback.
    fn authorize_url(&self, state: &str, challenge: &str) -> String;

    /// The token a `code` from the callback is worth, with the `verifier` of its challenge.
    async fn exchange(&self, code: &str, verifier: &Secret) -> Result<MemberToken, SignInError>;

    /// Whose token it is.
    async fn who(&self, token: &MemberToken) -> Result<(String, Handle), SignInError>;

    /// A renewed token, from its refresh token (which the provider then stops taking).
    async fn renew(&self, token: &MemberToken) -> Result<MemberToken, SignInError>;

    /// Revokes the token at the provider.
    async fn revoke(&self, token: &MemberToken) -> Result<(), SignInError>;
}
