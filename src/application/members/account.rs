//! What a signed-in member sees and decides: what is linked, whether hidden organisations
//! count, leaving (forget me), signing out. Each starts from the browser's session cookie.

use super::Membership;
use crate::domain::members::{Digest, Member, MembersError};
use crate::domain::{Handle, Network};

/// What "forget me" did: every row about the member's sign-in is gone; their tokens were
/// revoked at these providers, and could not be at those (they expire or can be revoked
/// by the member at the provider).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forgotten {
    pub member: Handle,
    pub revoked: Vec<Network>,
    pub not_revoked: Vec<Network>,
}

impl Membership {
    /// The member a browser's session cookie belongs to, while it is valid.
    ///
    /// # Errors
    /// [`MembersError`] when the store cannot be read.
    pub async fn signed_in(&self, session: &str) -> Result<Option<Handle>, MembersError> {
        self.members
            .session(&Digest::of(session), self.clock.now())
            .await
    }

    /// What is kept of the member of a session, tokens aside.
    ///
    /// # Errors
    /// [`MembersError`] when the store cannot be read.
    pub async fn member(&self, session: &str) -> Result<Option<Member>, MembersError> {
        match self.signed_in(session).await? {
            Some(handle) => self.members.member(&handle).await,
            None => Ok(None),
        }
    }

    /// Sets whether the session's member lets hidden organisations count; the member as
    /// it now is, or `None` without a valid session.
    ///
    /// # Errors
    /// [`MembersError`] when the store cannot be written.
    pub async fn count_hidden_organisations(
        &self,
        session: &str,
        count: bool,
    ) -> Result<Option<Member>, MembersError> {
        let Some(handle) = self.signed_in(session).await? else {
            return Ok(None);
        };
        self.members
            .set_hidden_organisations(&handle, count)
            .await?;
        self.members.member(&handle).await
    }

    /// Forgets the session's member: their tokens revoked at the providers, every row
    /// about their sign-in deleted. `None` without a valid session.
    ///
    /// # Errors
    /// [`MembersError`] when the store cannot be written; then nothing was revoked.
    pub async fn forget(&self, session: &str) -> Result<Option<Forgotten>, MembersError> {
        let Some(member) = self.signed_in(session).await? else {
            return Ok(None);
        };
        let forgot = self.members.forget(&member).await?;
        let mut forgotten = Forgotten {
            member,
            revoked: Vec::new(),
            not_revoked: forgot.unreadable.iter().map(|a| a.network).collect(),
        };
        for link in forgot.links {
            let network = link.account.network;
            let revoked = match self.provider(network) {
                Some(provider) => provider.revoke(&link.token).await,
                None => Ok(()),
            };
            match revoked {
                Ok(()) => forgotten.revoked.push(network),
                Err(e) => {
                    tracing::warn!(%network, error = %e, "a forgotten member's token could not be revoked");
                    forgotten.not_revoked.push(network);
                }
            }
        }
        Ok(Some(forgotten))
    }

    /// Ends the browser's session; the member stays signed in elsewhere and linked.
    ///
    /// # Errors
    /// [`MembersError`] when the store cannot be written.
    pub async fn sign_out(&self, session: &str) -> Result<(), MembersError> {
        self.members.close_session(&Digest::of(session)).await
    }
}
