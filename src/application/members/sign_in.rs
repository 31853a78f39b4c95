//! Signing in: the redirect to the provider, with a single-use `state` bound to the browser
//! and a PKCE challenge, and the callback that exchanges the code, asks who signed in and
//! links the token to that handle.

use super::{Membership, SESSION_TTL, SIGN_IN_TTL, random};
use crate::domain::members::{
    Account, Digest, Link, MembersError, PendingSignIn, SignIn, SignInError,
};
use crate::domain::{Handle, Network};
use crate::secret::Secret;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use std::sync::Arc;

/// A sign-in begun: where to send the browser, and the value of the cookie that binds the
/// sign-in to it.
#[derive(Debug)]
pub struct Begun {
    pub redirect: String,
    pub browser: Secret,
}

/// What the provider sent the browser back with.
#[derive(Debug, Default, Clone)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    /// The provider's refusal (`access_denied` when the member declined).
    pub error: Option<String>,
}

/// A member signed in: who, and the value of their session cookie.
#[derive(Debug)]
pub struct SignedIn {
    pub member: Handle,
    pub session: Secret,
}

/// Why a sign-in did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInFailure {
    /// Sign-in on this network is off.
    #[error("sign-in with this network is not offered")]
    Off,
    /// The `state` is unknown, used already, expired, or for another network.
    #[error("this sign-in has expired or was already used: start again")]
    Expired,
    /// The sign-in was begun in another browser.
    #[error("this sign-in was begun in another browser: start again here")]
    OtherBrowser,
    /// The member declined at the provider, or the provider refused them.
    #[error("{} did not approve the sign-in: {reason}", network.title())]
    Declined { network: Network, reason: String },
    /// The account's handle is not the handle of the member already signed in: one handle
    /// is one person on both networks.
    #[error(
        "you are signed in as {member}, but this {} account is {signed_in_as}: one handle is one person on GitHub and X, so both must be {member}", network.title()
    )]
    HandleMismatch {
        member: Handle,
        signed_in_as: Handle,
        network: Network,
    },
    #[error("{0}")]
    Provider(SignInError),
    #[error("{0}")]
    Store(#[from] MembersError),
    /// The operating system gave no random bytes.
    #[error("no random values could be drawn")]
    NoRandomness,
}

impl Membership {
    /// Begins a sign-in with `network` for the browser, signed in as `member` already if it
    /// is (the new account must then have the same handle).
    ///
    /// # Errors
    /// [`SignInFailure::Off`] when sign-in there is off; `Store` and `NoRandomness` when
    /// the sign-in could not be kept.
    pub async fn begin(
        &self,
        network: Network,
        member: Option<Handle>,
    ) -> Result<Begun, SignInFailure> {
        let provider = self.provider(network).ok_or(SignInFailure::Off)?;
        let (state, verifier, browser) = (draw()?, draw()?, draw()?);
        let now = self.clock.now();
        let pending = PendingSignIn {
            network,
            verifier: Secret::new(verifier.clone()),
            browser: Digest::of(&browser),
            member,
            expires_at: now + SIGN_IN_TTL,
        };
        self.members
            .begin(&Digest::of(&state), &pending, now)
            .await?;
        Ok(Begun {
            redirect: provider.authorize_url(&state, &challenge(&verifier)),
            browser: Secret::new(browser),
        })
    }

    /// Finishes a sign-in with `network` from the provider's `callback`, in the browser
    /// that holds the sign-in cookie `browser`: the code is exchanged, the account asked
    /// who it is and linked, and a session opened.
    ///
    /// # Errors
    /// See [`SignInFailure`]; a token that cannot be kept is revoked.
    pub async fn finish(
        &self,
        network: Network,
        callback: Callback,
        browser: Option<&str>,
    ) -> Result<SignedIn, SignInFailure> {
        let provider = self.provider(network).ok_or(SignInFailure::Off)?;
        let state = callback.state.as_deref().ok_or(SignInFailure::Expired)?;
        let now = self.clock.now();
        let pending = self
            .members
            .take(&Digest::of(state), now)
            .await?
            .filter(|p| p.network == network)
            .ok_or(SignInFailure::Expired)?;
        if browser.map(Digest::of) != Some(pending.browser.clone()) {
            return Err(SignInFailure::OtherBrowser);
        }
        let code = match (callback.error, callback.code) {
            (None, Some(code)) => code,
            (error, _) => {
                return Err(SignInFailure::Declined {
                    network,
                    reason: error.map_or_else(|| "no code was given".to_owned(), |e| words(&e)),
                });
            }
        };
        let token = provider
            .exchange(&code, &pending.verifier)
            .await
            .map_err(|e| declined(network, e))?;
        let account = self.account(provider, &token).await?;
        if let Some(member) = pending.member.filter(|m| *m != account.handle) {
            revoke_quietly(provider, &token).await;
            return Err(SignInFailure::HandleMismatch {
                member,
                signed_in_as: account.handle,
                network,
            });
        }
        let member = account.handle.clone();
        let link = Link {
            account,
            token,
            linked_at: now,
        };
        self.members.link(&link).await?;
        self.open_session(&member).await
    }

    /// Who the token is, as an account of the provider's network.
    async fn account(
        &self,
        provider: &Arc<dyn SignIn>,
        token: &crate::domain::members::MemberToken,
    ) -> Result<Account, SignInFailure> {
        let (id, handle) = provider.who(token).await.map_err(SignInFailure::Provider)?;
        Ok(Account {
            network: provider.network(),
            id,
            handle,
        })
    }

    /// A new browser session for `member`.
    async fn open_session(&self, member: &Handle) -> Result<SignedIn, SignInFailure> {
        let session = draw()?;
        let expires_at = self.clock.now() + SESSION_TTL;
        self.members
            .open_session(&Digest::of(&session), member, expires_at)
            .await?;
        Ok(SignedIn {
            member: member.clone(),
            session: Secret::new(session),
        })
    }
}

/// A refusal of the code (used, expired, a verifier that does not match) is the sign-in's
/// end, to start again; anything else is the provider's failure.
fn declined(network: Network, error: SignInError) -> SignInFailure {
    match error {
        SignInError::Refused { reason, .. } => SignInFailure::Declined { network, reason },
        other => SignInFailure::Provider(other),
    }
}

/// Revokes a token that will not be kept; a failure is only logged.
async fn revoke_quietly(provider: &Arc<dyn SignIn>, token: &crate::domain::members::MemberToken) {
    if let Err(e) = provider.revoke(token).await {
        tracing::warn!(network = %provider.network(), error = %e, "a token that was not kept could not be revoked");
    }
}

/// The PKCE S256 challenge of `verifier`.
fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A provider's words, bounded and on one line.
fn words(raw: &str) -> String {
    raw.chars().filter(|c| !c.is_control()).take(100).collect()
}

fn draw() -> Result<String, SignInFailure> {
    random().map_err(|_| SignInFailure::NoRandomness)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636s_example() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
