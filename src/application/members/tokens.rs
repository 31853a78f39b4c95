//! Members' tokens, for the use cases that ask on their behalf: renewed before they expire
//! (X's last two hours, and their refresh tokens rotate), dropped when the provider says the
//! member's grant is gone, never retried for ever.

use super::{Membership, RENEW_MARGIN};
use crate::domain::members::{MemberCredentials, MembersError, SignIn, SignInError};
use crate::domain::{Handle, Network};
use std::sync::Arc;

impl Membership {
    /// The usable tokens on `network` of those of `handles` who signed in there: each
    /// renewed first when it expires soon. A token the provider no longer takes is unlinked
    /// and left out; one that cannot be renewed now (the provider is down) is left out of
    /// this answer only. Without sign-in on `network`, none.
    ///
    /// # Errors
    /// [`MembersError`] when the store cannot be read.
    pub async fn credentials(
        &self,
        handles: &[&Handle],
        network: Network,
    ) -> Result<Vec<MemberCredentials>, MembersError> {
        let Some(provider) = self.provider(network) else {
            return Ok(Vec::new());
        };
        let now = self.clock.now();
        let mut usable = Vec::new();
        for credentials in self.members.credentials(handles, network).await? {
            if !credentials.token.expires_within(now, RENEW_MARGIN) {
                usable.push(credentials);
            } else if let Some(renewed) = self.renewed(provider, credentials).await? {
                usable.push(renewed);
            }
        }
        Ok(usable)
    }

    /// `credentials` with a renewed token, kept; `None` when it cannot be used. One
    /// renewal at a time: a token renewed while this one waited is taken as it is.
    async fn renewed(
        &self,
        provider: &Arc<dyn SignIn>,
        credentials: MemberCredentials,
    ) -> Result<Option<MemberCredentials>, MembersError> {
        let _renewing = self.renewing.lock().await;
        let Some(mut credentials) = self.kept(&credentials).await? else {
            return Ok(None);
        };
        if !credentials
            .token
            .expires_within(self.clock.now(), RENEW_MARGIN)
        {
            return Ok(Some(credentials));
        }
        let account = credentials.account.clone();
        match provider.renew(&credentials.token).await {
            Ok(token) => {
                if !self.members.renew(&account, &token).await? {
                    return Ok(None);
                }
                credentials.token = token;
                Ok(Some(credentials))
            }
            Err(SignInError::Revoked { .. }) => self.renewed_elsewhere(credentials).await,
            Err(e) => {
                tracing::warn!(network = %account.network, error = %e, "a member's token could not be renewed");
                Ok(None)
            }
        }
    }

    /// After the provider refused to renew `stale`: the token another instance renewed
    /// meanwhile (refresh tokens rotate, so only one renewal of each succeeds), or, when
    /// the kept token is still the refused one, the link dropped.
    async fn renewed_elsewhere(
        &self,
        stale: MemberCredentials,
    ) -> Result<Option<MemberCredentials>, MembersError> {
        let account = &stale.account;
        match self.kept(&stale).await? {
            Some(kept) if kept.token.access != stale.token.access => Ok(Some(kept)),
            Some(_) => {
                tracing::info!(network = %account.network, "a member's grant is gone: their token is dropped");
                self.members.unlink(account).await?;
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// The credentials of the same account as the store now holds them.
    async fn kept(
        &self,
        credentials: &MemberCredentials,
    ) -> Result<Option<MemberCredentials>, MembersError> {
        let account = &credentials.account;
        Ok(self
            .members
            .credentials(&[&account.handle], account.network)
            .await?
            .into_iter()
            .find(|c| c.account.id == account.id))
    }

    /// [`Membership::credentials`] for a use case: a store that cannot be read means no
    /// member answers (logged), and the app's way is taken.
    pub async fn answering(&self, handles: &[&Handle], network: Network) -> Vec<MemberCredentials> {
        self.credentials(handles, network)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %crate::domain::Chain(&e), "members' tokens cannot be read: none answers");
                Vec::new()
            })
    }

    /// The network no longer takes `account`'s token: its link is dropped, so that it is
    /// not tried again (a failure to drop it is logged).
    pub async fn token_refused(&self, account: &crate::domain::members::Account) {
        tracing::info!(network = %account.network, "a member's token is no longer taken: it is dropped");
        if let Err(e) = self.members.unlink(account).await {
            tracing::warn!(error = %crate::domain::Chain(&e), "a refused member's token could not be dropped");
        }
    }
}
