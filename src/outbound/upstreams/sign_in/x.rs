//! Signing in with X: OAuth 2.0 with PKCE, a confidential client (authorise on the web
//! origin, token and revoke on the API's). Access tokens last two hours; refresh tokens
//! rotate at each use.

use super::{App, as_member, failed, granted, refusal, unavailable, unexpected};
use crate::domain::members::{MemberToken, SignIn, SignInError};
use crate::domain::{Clock, Handle, Network};
use crate::outbound::upstreams::client::{Body, Call, Raw, Upstream};
use crate::secret::Secret;
use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use std::sync::Arc;
use url::Url;

/// What a member grants: to read who they are and whom they follow, and to stay signed in
/// past two hours.
const SCOPE: &str = "tweet.read users.read follows.read offline.access";

/// X as a sign-in provider.
#[derive(Clone)]
pub struct XSignIn {
    app: App,
    /// X's web origin (`https://x.com`).
    web: Url,
    /// X's API, where the token endpoints are.
    api: Upstream,
    clock: Arc<dyn Clock>,
}

#[derive(Deserialize)]
struct Me {
    data: MeData,
}

#[derive(Deserialize)]
struct MeData {
    id: String,
    username: String,
}

impl XSignIn {
    pub fn new(app: App, web: Url, api: Upstream, clock: Arc<dyn Clock>) -> Self {
        Self {
            app,
            web,
            api,
            clock,
        }
    }

    /// One call to the token endpoint with `form`.
    async fn token(&self, form: Vec<(&'static str, String)>) -> Result<Raw, SignInError> {
        let call = Call {
            method: Method::POST,
            url: self.api.url(&["2", "oauth2", "token"]),
            body: Body::Form(form),
            basic: self.app.basic(),
            caller: None,
        };
        self.api
            .call("oauth_token", call)
            .await
            .map_err(|f| failed(Network::X, f))
    }

    /// The token in a token endpoint's answer; its refusal as `refused` says.
    fn read_token(
        &self,
        raw: &Raw,
        refused: impl FnOnce(String) -> SignInError,
    ) -> Result<MemberToken, SignInError> {
        match raw.status {
            StatusCode::OK => granted(Network::X, raw, self.clock.now()),
            StatusCode::UNAUTHORIZED => Err(unavailable(
                Network::X,
                "it rejected the app's credentials (X_OAUTH_CLIENT_ID, X_OAUTH_CLIENT_SECRET)",
            )),
            StatusCode::BAD_REQUEST => match refusal(raw) {
                Some(refusal) => Err(refused(refusal.words())),
                None => Err(unexpected(Network::X, raw)),
            },
            _ => Err(unexpected(Network::X, raw)),
        }
    }
}

#[async_trait]
impl SignIn for XSignIn {
    fn network(&self) -> Network {
        Network::X
    }

    fn authorize_url(&self, state: &str, challenge: &str) -> String {
        let mut url = self.web.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(["i", "oauth2", "authorize"]);
        }
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.app.client_id)
            .append_pair("redirect_uri", self.app.callback.as_str())
            .append_pair("scope", SCOPE)
            .append_pair("state", state)
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
        url.into()
    }

    async fn exchange(&self, code: &str, verifier: &Secret) -> Result<MemberToken, SignInError> {
        let raw = self
            .token(vec![
                ("grant_type", "authorization_code".to_owned()),
                ("code", code.to_owned()),
                ("redirect_uri", self.app.callback.to_string()),
                ("code_verifier", verifier.expose().to_owned()),
                ("client_id", self.app.client_id.clone()),
            ])
            .await?;
        self.read_token(&raw, |reason| SignInError::Refused {
            network: Network::X,
            reason,
        })
    }

    async fn who(&self, token: &MemberToken) -> Result<(String, Handle), SignInError> {
        let me: Me = as_member(
            Network::X,
            &self.api,
            token,
            "users_me",
            &["2", "users", "me"],
        )
        .await?;
        let handle = Handle::parse(&me.data.username)
            .map_err(|_| unavailable(Network::X, "it named a user that is not a username"))?;
        Ok((me.data.id, handle))
    }

    /// A new access token and a new refresh token; the old refresh token is then refused
    /// by X, and a refusal means the member's grant is gone.
    async fn renew(&self, token: &MemberToken) -> Result<MemberToken, SignInError> {
        let Some(refresh) = &token.refresh else {
            return Err(SignInError::Revoked {
                network: Network::X,
            });
        };
        let raw = self
            .token(vec![
                ("grant_type", "refresh_token".to_owned()),
                ("refresh_token", refresh.expose().to_owned()),
                ("client_id", self.app.client_id.clone()),
            ])
            .await?;
        self.read_token(&raw, |_| SignInError::Revoked {
            network: Network::X,
        })
    }

    /// Revokes the access token, and the refresh token that could make another.
    async fn revoke(&self, token: &MemberToken) -> Result<(), SignInError> {
        let tokens = [
            ("access_token", Some(&token.access)),
            ("refresh_token", token.refresh.as_ref()),
        ];
        for (hint, value) in tokens {
            let Some(value) = value else { continue };
            let call = Call {
                method: Method::POST,
                url: self.api.url(&["2", "oauth2", "revoke"]),
                body: Body::Form(vec![
                    ("token", value.expose().to_owned()),
                    ("token_type_hint", hint.to_owned()),
                    ("client_id", self.app.client_id.clone()),
                ]),
                basic: self.app.basic(),
                caller: None,
            };
            let raw = self
                .api
                .call("oauth_revoke", call)
                .await
                .map_err(|f| failed(Network::X, f))?;
            if raw.status != StatusCode::OK {
                return Err(unexpected(Network::X, &raw));
            }
        }
        Ok(())
    }
}
