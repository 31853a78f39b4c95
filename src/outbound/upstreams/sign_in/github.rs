//! Signing in with GitHub: an OAuth app (authorise and token on the web origin, the rest on
//! the API's). Its tokens do not expire; a failure of the token endpoint is a `200` with an
//! `error`.

use super::{App, as_member, failed, granted, refusal, unavailable, unexpected};
use crate::domain::members::{MemberToken, SignIn, SignInError};
use crate::domain::{Clock, Handle, Network};
use crate::outbound::upstreams::client::{Body, Call, Upstream};
use crate::secret::Secret;
use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use std::sync::Arc;
use url::Url;

/// What a member grants: their organisations, hidden ones included.
const SCOPE: &str = "read:org";

/// GitHub as a sign-in provider.
#[derive(Clone)]
pub struct GitHubSignIn {
    app: App,
    /// GitHub's web origin (`https://github.com`).
    web: Url,
    /// GitHub's API, unbilled: sign-in calls count against the member's own limit.
    api: Upstream,
    clock: Arc<dyn Clock>,
}

impl GitHubSignIn {
    pub fn new(app: App, web: Url, api: Upstream, clock: Arc<dyn Clock>) -> Self {
        Self {
            app,
            web,
            api: api.unbilled(),
            clock,
        }
    }

    fn web_url(&self, path: &[&str]) -> Url {
        let mut url = self.web.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(path);
        }
        url
    }
}

#[derive(Deserialize)]
struct User {
    login: String,
    id: u64,
}

#[async_trait]
impl SignIn for GitHubSignIn {
    fn network(&self) -> Network {
        Network::GitHub
    }

    fn authorize_url(&self, state: &str, challenge: &str) -> String {
        let mut url = self.web_url(&["login", "oauth", "authorize"]);
        url.query_pairs_mut()
            .append_pair("client_id", &self.app.client_id)
            .append_pair("redirect_uri", self.app.callback.as_str())
            .append_pair("scope", SCOPE)
            .append_pair("state", state)
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
        url.into()
    }

    async fn exchange(&self, code: &str, verifier: &Secret) -> Result<MemberToken, SignInError> {
        let call = Call {
            method: Method::POST,
            url: self.web_url(&["login", "oauth", "access_token"]),
            body: Body::Form(vec![
                ("client_id", self.app.client_id.clone()),
                ("client_secret", self.app.client_secret.expose().to_owned()),
                ("code", code.to_owned()),
                ("redirect_uri", self.app.callback.to_string()),
                ("code_verifier", verifier.expose().to_owned()),
            ]),
            basic: None,
            caller: None,
        };
        let raw = self
            .api
            .call("oauth_token", call)
            .await
            .map_err(|f| failed(Network::GitHub, f))?;
        if raw.status != StatusCode::OK {
            return Err(unexpected(Network::GitHub, &raw));
        }
        // GitHub says "refused" in a 200.
        if let Some(refused) = refusal(&raw) {
            return Err(match refused.error.as_str() {
                "incorrect_client_credentials" | "redirect_uri_mismatch" => unavailable(
                    Network::GitHub,
                    format!("it refused the app's settings: {}", refused.words()),
                ),
                _ => SignInError::Refused {
                    network: Network::GitHub,
                    reason: refused.words(),
                },
            });
        }
        granted(Network::GitHub, &raw, self.clock.now())
    }

    async fn who(&self, token: &MemberToken) -> Result<(String, Handle), SignInError> {
        let user: User = as_member(Network::GitHub, &self.api, token, "user", &["user"]).await?;
        let handle = Handle::parse(&user.login)
            .map_err(|_| unavailable(Network::GitHub, "it named a user that is not a login"))?;
        Ok((user.id.to_string(), handle))
    }

    /// GitHub's OAuth app tokens do not expire: there is nothing to renew.
    async fn renew(&self, token: &MemberToken) -> Result<MemberToken, SignInError> {
        Ok(token.clone())
    }

    async fn revoke(&self, token: &MemberToken) -> Result<(), SignInError> {
        let call = Call {
            method: Method::DELETE,
            url: self
                .api
                .url(&["applications", &self.app.client_id, "grant"]),
            body: Body::Json(serde_json::json!({ "access_token": token.access.expose() })),
            basic: self.app.basic(),
            caller: None,
        };
        let raw = self
            .api
            .call("oauth_revoke", call)
            .await
            .map_err(|f| failed(Network::GitHub, f))?;
        match raw.status {
            // Gone already counts as revoked.
            StatusCode::NO_CONTENT | StatusCode::NOT_FOUND | StatusCode::UNPROCESSABLE_ENTITY => {
                Ok(())
            }
            _ => Err(unexpected(Network::GitHub, &raw)),
        }
    }
}
