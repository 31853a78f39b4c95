//! Member sign-in: where providers send members back, the OAuth apps registered at GitHub
//! and X, and the key their tokens are encrypted with. Sign-in on a network is on when the
//! public URL, the token key and that network's app are all set; off, its routes answer 404.

use super::upstreams::{UpstreamUrl, upstream_url};
use super::values::{BadValue, FromEnvironmentOnly, or_none_when_empty};
use crate::domain::Network;
use crate::secret::{Secret, SecretUrl};
use clap::Args;
use url::Url;

/// The sign-in settings.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Member sign-in")]
pub struct MemberSettings {
    /// The service's public origin (https://connected.example.com): where GitHub and X send
    /// a member back after sign-in, `{PUBLIC_URL}/members/connect/{github,x}/callback`, the
    /// callback URL to register with each OAuth app. Sign-in is off without it.
    #[arg(long = "public-url", env = "PUBLIC_URL", default_value = "", hide_default_value = true, value_parser = or_none_when_empty(public_url))]
    pub public_url: std::option::Option<Url>,
    /// The key members' tokens are encrypted with at rest: 32 random bytes in base64
    /// (`openssl rand -base64 32`). Sign-in is off without it; another key cannot read the
    /// tokens kept with this one.
    #[arg(long = "token-key", env = "TOKEN_KEY", hide = true, default_value = "", value_parser = FromEnvironmentOnly)]
    pub token_key: std::option::Option<Secret>,
    /// The client id of the GitHub OAuth app members sign in with.
    #[arg(long = "github-oauth-client-id", env = "GITHUB_OAUTH_CLIENT_ID", default_value = "", hide_default_value = true, value_parser = or_none_when_empty(client_id))]
    pub github_client_id: std::option::Option<String>,
    /// The client secret of that GitHub OAuth app.
    #[arg(long = "github-oauth-client-secret", env = "GITHUB_OAUTH_CLIENT_SECRET", hide = true, default_value = "", value_parser = FromEnvironmentOnly)]
    pub github_client_secret: std::option::Option<Secret>,
    /// The client id of the X app (OAuth 2.0, confidential client) members sign in with.
    #[arg(long = "x-oauth-client-id", env = "X_OAUTH_CLIENT_ID", default_value = "", hide_default_value = true, value_parser = or_none_when_empty(client_id))]
    pub x_client_id: std::option::Option<String>,
    /// The client secret of that X app.
    #[arg(long = "x-oauth-client-secret", env = "X_OAUTH_CLIENT_SECRET", hide = true, default_value = "", value_parser = FromEnvironmentOnly)]
    pub x_client_secret: std::option::Option<Secret>,
    /// GitHub's web origin, where its authorisation and token endpoints are.
    #[arg(long = "github-web-url", env = "GITHUB_WEB_URL", default_value = "https://github.com", value_parser = UpstreamUrl)]
    pub github_web_url: SecretUrl<Url>,
    /// X's web origin, where its authorisation page is (its token endpoint is on the API's
    /// origin).
    #[arg(long = "x-web-url", env = "X_WEB_URL", default_value = "https://x.com", value_parser = UpstreamUrl)]
    pub x_web_url: SecretUrl<Url>,
}

/// An OAuth app: its client id and secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: Secret,
}

impl MemberSettings {
    /// The app members sign in with on `network`, when sign-in there is on.
    ///
    /// # Errors
    /// [`BadValue`] when it is half set: a client id without its secret (or the other way
    /// round), or an app without the public URL or the token key it needs.
    pub fn app(&self, network: Network) -> Result<Option<OAuthApp>, BadValue> {
        let (id, secret, prefix) = match network {
            Network::GitHub => (&self.github_client_id, &self.github_client_secret, "GITHUB"),
            Network::X => (&self.x_client_id, &self.x_client_secret, "X"),
            Network::Bluesky => return Ok(None),
        };
        let app = match (id, secret) {
            (None, None) => return Ok(None),
            (Some(client_id), Some(client_secret)) => OAuthApp {
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
            },
            (Some(_), None) => {
                return Err(BadValue::new(format!(
                    "{prefix}_OAUTH_CLIENT_ID is set without {prefix}_OAUTH_CLIENT_SECRET"
                )));
            }
            (None, Some(_)) => {
                return Err(BadValue::new(format!(
                    "{prefix}_OAUTH_CLIENT_SECRET is set without {prefix}_OAUTH_CLIENT_ID"
                )));
            }
        };
        let missing: Vec<&str> = [
            ("PUBLIC_URL", self.public_url.is_none()),
            ("TOKEN_KEY", self.token_key.is_none()),
        ]
        .into_iter()
        .filter_map(|(name, missing)| missing.then_some(name))
        .collect();
        if !missing.is_empty() {
            return Err(BadValue::new(format!(
                "{prefix}_OAUTH_CLIENT_ID is set: member sign-in also needs {}",
                missing.join(" and ")
            )));
        }
        Ok(Some(app))
    }

    /// Whether the public URL is https, so that cookies are `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|url| url.scheme() == "https")
    }
}

/// The public URL: an http(s) origin, with no path, query or credentials.
fn public_url(raw: &str) -> Result<Url, BadValue> {
    let url = upstream_url(raw.trim(), "PUBLIC_URL")?;
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(BadValue::new(
            "PUBLIC_URL must be an origin (https://connected.example.com), without a path",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(BadValue::new("PUBLIC_URL must not carry credentials"));
    }
    Ok(url)
}

/// A client id: printable, without spaces, as providers issue them.
fn client_id(raw: &str) -> Result<String, BadValue> {
    let id = raw.trim();
    if id.len() > 200 || !id.chars().all(|c| c.is_ascii_graphic()) {
        return Err(BadValue::new(
            "an OAuth client id is up to 200 printable characters, without spaces",
        ));
    }
    Ok(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> MemberSettings {
        crate::config::Config::default().members
    }

    #[test]
    fn sign_in_is_off_by_default() {
        let members = settings();
        assert_eq!(members.app(Network::GitHub), Ok(None));
        assert_eq!(members.app(Network::X), Ok(None));
    }

    #[test]
    fn an_app_needs_its_secret_the_public_url_and_the_token_key() {
        let mut members = settings();
        members.github_client_id = Some("Iv1.abc".into());
        let err = members.app(Network::GitHub).unwrap_err().to_string();
        assert!(err.contains("without GITHUB_OAUTH_CLIENT_SECRET"), "{err}");
        members.github_client_secret = Some(Secret::new("s3cret"));
        let err = members.app(Network::GitHub).unwrap_err().to_string();
        assert!(err.contains("needs PUBLIC_URL and TOKEN_KEY"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        members.public_url = Some(public_url("https://connected.example.com").unwrap());
        members.token_key = Some(Secret::new("key"));
        let app = members.app(Network::GitHub).unwrap().unwrap();
        assert_eq!(app.client_id, "Iv1.abc");
        assert!(members.secure_cookies());
        assert_eq!(members.app(Network::X), Ok(None), "X's app is its own");
    }

    #[test]
    fn the_public_url_is_an_origin() {
        assert!(public_url("http://127.0.0.1:5000").is_ok());
        assert!(public_url("https://example.com/connected").is_err());
        assert!(public_url("https://u:p@example.com").is_err());
        assert!(public_url("example.com").is_err());
    }

    #[test]
    fn a_client_id_has_no_spaces() {
        assert!(client_id("abc def").is_err());
        assert_eq!(client_id(" abc ").unwrap(), "abc");
    }
}
