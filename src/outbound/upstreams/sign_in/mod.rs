//! The providers members sign in with: GitHub's OAuth app and X's OAuth 2.0 app, each an
//! adapter of [`SignIn`](crate::domain::members::SignIn) over the one upstream client.
//! What they share is here: the app's credentials and callback, and the reading of a
//! token answer.

mod github;
mod x;

pub use github::GitHubSignIn;
pub use x::XSignIn;

use super::client::{Body, Call, Failure, Raw, Upstream};
use crate::domain::members::{MemberToken, SignInError};
use crate::domain::{Network, Unavailable};
use crate::secret::Secret;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use url::Url;

/// An OAuth app at a provider: its client id and secret, and where the provider sends the
/// member back.
#[derive(Clone)]
pub struct App {
    pub client_id: String,
    pub client_secret: Secret,
    /// `{PUBLIC_URL}/members/connect/{network}/callback`.
    pub callback: Url,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("client_id", &self.client_id)
            .field("callback", &self.callback.as_str())
            .finish_non_exhaustive()
    }
}

impl App {
    /// The app's Basic credentials.
    fn basic(&self) -> Option<(String, Secret)> {
        Some((self.client_id.clone(), self.client_secret.clone()))
    }
}

/// A token answer, as both providers give it on success.
#[derive(Deserialize)]
struct Granted {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    scope: String,
}

/// A refusal, as both providers word one.
#[derive(Deserialize)]
struct Refusal {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl Refusal {
    /// The provider's words, bounded and on one line.
    fn words(&self) -> String {
        let words = self.error_description.as_deref().unwrap_or(&self.error);
        words
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect()
    }
}

/// The token in `raw` (a success of the token endpoint), received at `now`.
fn granted(network: Network, raw: &Raw, now: DateTime<Utc>) -> Result<MemberToken, SignInError> {
    let granted: Granted = serde_json::from_slice(&raw.body)
        .map_err(|e| unavailable_because(network, "its token answer could not be read", e))?;
    if granted.access_token.is_empty() {
        return Err(unavailable(network, "its token answer holds no token"));
    }
    Ok(MemberToken {
        access: Secret::new(granted.access_token),
        refresh: granted.refresh_token.map(Secret::new),
        expires_at: granted
            .expires_in
            .filter(|secs| *secs > 0)
            .map(|secs| now + chrono::Duration::seconds(secs)),
        scope: granted.scope,
    })
}

/// The provider's refusal in `raw`, if it is one.
fn refusal(raw: &Raw) -> Option<Refusal> {
    serde_json::from_slice(&raw.body).ok()
}

fn unavailable(network: Network, reason: impl Into<String>) -> SignInError {
    SignInError::Unavailable {
        network,
        why: Unavailable::new(reason),
    }
}

fn unavailable_because(
    network: Network,
    reason: &str,
    cause: impl std::error::Error + Send + Sync + 'static,
) -> SignInError {
    SignInError::Unavailable {
        network,
        why: Unavailable::because(reason, cause),
    }
}

/// An answer that is neither what was asked nor a refusal the adapter knows.
fn unexpected(network: Network, raw: &Raw) -> SignInError {
    unavailable(
        network,
        super::client::describe(raw.status, &String::from_utf8_lossy(&raw.body)),
    )
}

/// `GET path` on `api` under the member's `token` (a call to `endpoint`): its body as `T`
/// when it answers `200`; a `401` is the token revoked.
async fn as_member<T: serde::de::DeserializeOwned>(
    network: Network,
    api: &Upstream,
    token: &MemberToken,
    endpoint: &'static str,
    path: &[&str],
) -> Result<T, SignInError> {
    let api = api
        .with_token(&token.access)
        .map_err(|_| unavailable(network, "the token is not a valid header value"))?;
    let call = Call {
        method: reqwest::Method::GET,
        url: api.url(path),
        body: Body::Empty,
        basic: None,
        caller: None,
    };
    let raw = api
        .call(endpoint, call)
        .await
        .map_err(|f| failed(network, f))?;
    match raw.status {
        reqwest::StatusCode::OK => serde_json::from_slice(&raw.body)
            .map_err(|e| unavailable_because(network, "its answer could not be read", e)),
        reqwest::StatusCode::UNAUTHORIZED => Err(SignInError::Revoked { network }),
        _ => Err(unexpected(network, &raw)),
    }
}

/// A failure of the client, in the sign-in port's words.
fn failed(network: Network, failure: Failure) -> SignInError {
    match failure {
        Failure::RateLimited(retry_after) => SignInError::RateLimited {
            network,
            retry_after,
        },
        Failure::Unavailable(why) => SignInError::Unavailable { network, why },
        Failure::OverBudget(overspend) => unavailable(network, overspend.to_string()),
    }
}
