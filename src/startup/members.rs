//! Member sign-in wired: the providers the settings turn on, the store of the register's
//! database with the tokens' cipher, and what the routes need to set cookies.

use super::{StartupError, Storage};
use crate::application::Membership;
use crate::config::{Config, OAuthApp};
use crate::domain::members::SignIn;
use crate::domain::{Clock, Network};
use crate::inbound::http::MemberSite;
use crate::metrics::Metrics;
use crate::outbound::upstreams::github::GitHubRest;
use crate::outbound::upstreams::sign_in::{App, GitHubSignIn, XSignIn};
use crate::outbound::upstreams::x::XApi;
use crate::secret::{Secret, TokenCipher};
use std::sync::Arc;
use url::Url;

/// Sign-in as the settings ask for it: `None` when no provider is set up.
///
/// # Errors
/// [`StartupError::SignIn`] when the settings are half set or `TOKEN_KEY` cannot be a key.
pub(super) fn member_site(
    config: &Config,
    storage: &Storage,
    metrics: &Arc<Metrics>,
    clock: &Arc<dyn Clock>,
) -> Result<Option<MemberSite>, StartupError> {
    let settings = &config.members;
    let (github, x) = (settings.app(Network::GitHub)?, settings.app(Network::X)?);
    let (Some(public_url), Some(token_key)) = (&settings.public_url, &settings.token_key) else {
        return Ok(None);
    };
    if github.is_none() && x.is_none() {
        return Ok(None);
    }
    let cipher = TokenCipher::from_base64(token_key.expose()).map_err(StartupError::TokenKey)?;
    let mut providers: Vec<Arc<dyn SignIn>> = Vec::new();
    if let Some(app) = github {
        providers.push(Arc::new(github_sign_in(
            config, app, public_url, metrics, clock,
        )?));
    }
    if let Some(app) = x {
        providers.push(Arc::new(x_sign_in(
            config, app, public_url, metrics, clock,
        )?));
    }
    let networks: Vec<&str> = providers.iter().map(|p| p.network().id()).collect();
    tracing::info!(public_url = %public_url, networks = ?networks, "member sign-in: on");
    let membership = Membership::new(storage.members(cipher), providers, Arc::clone(clock));
    Ok(Some(MemberSite {
        membership,
        secure_cookies: settings.secure_cookies(),
        origin: public_url.origin(),
    }))
}

/// Where `network`'s provider sends a member back.
fn callback(public_url: &Url, network: Network) -> Url {
    let mut url = public_url.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.clear()
            .extend(["members", "connect", network.id(), "callback"]);
    }
    url
}

fn app(app: OAuthApp, public_url: &Url, network: Network) -> App {
    App {
        client_id: app.client_id,
        client_secret: app.client_secret,
        callback: callback(public_url, network),
    }
}

fn github_sign_in(
    config: &Config,
    oauth: OAuthApp,
    public_url: &Url,
    metrics: &Arc<Metrics>,
    clock: &Arc<dyn Clock>,
) -> Result<GitHubSignIn, StartupError> {
    let upstreams = &config.upstreams;
    let api = GitHubRest::new(
        upstreams.github.api_url.clone().into_inner(),
        None,
        upstreams.timeout,
        Arc::clone(metrics),
        0,
        Arc::clone(clock),
    )?;
    Ok(GitHubSignIn::new(
        app(oauth, public_url, Network::GitHub),
        config.members.github_web_url.clone().into_inner(),
        api.sign_in_client(),
        Arc::clone(clock),
    ))
}

fn x_sign_in(
    config: &Config,
    oauth: OAuthApp,
    public_url: &Url,
    metrics: &Arc<Metrics>,
    clock: &Arc<dyn Clock>,
) -> Result<XSignIn, StartupError> {
    let upstreams = &config.upstreams;
    let api = XApi::new(
        upstreams.x.api_url.clone().into_inner(),
        Secret::new(""),
        upstreams.timeout,
        Arc::clone(metrics),
        Arc::clone(clock),
    )?;
    Ok(XSignIn::new(
        app(oauth, public_url, Network::X),
        config.members.x_web_url.clone().into_inner(),
        api.sign_in_client(),
        Arc::clone(clock),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_is_under_the_public_origin() {
        let public: Url = "https://connected.example.com".parse().unwrap();
        assert_eq!(
            callback(&public, Network::X).as_str(),
            "https://connected.example.com/members/connect/x/callback"
        );
    }
}
