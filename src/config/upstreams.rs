//! The upstreams: where the answers come from, each network's origin and token, and how long
//! a call may take.

use super::values::{BadValue, FromEnvironmentOnly, timeout, variable};
use crate::domain::Network;
use crate::secret::{Secret, SecretUrl, redact_url};
use clap::Args;
use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

/// The upstreams' settings.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Upstreams")]
pub struct UpstreamSettings {
    /// Use a social graph from a JSON file instead of the real APIs: --demo alone is the
    /// bundled example, --demo=FILE a graph of your own (the `=` is needed).
    #[arg(long = "demo", value_name = "GRAPH.json", num_args = 0..=1, require_equals = true)]
    pub demo: Option<Option<PathBuf>>,
    /// Whose follows count: x, github (GitHub's own follow graph) or bluesky.
    #[arg(long = "social-graph", env = "SOCIAL_GRAPH", default_value = "x", value_parser = social_graph)]
    pub social_graph: Network,
    /// Whole-request timeout for each upstream call (500ms, 2s, ...).
    #[arg(id = "upstream_timeout", long = "upstream-timeout", env = "UPSTREAM_TIMEOUT", default_value = "10s", value_parser = timeout)]
    pub timeout: Duration,
    /// The most a check or a team's network may take, all upstream calls together (over
    /// HTTP and on the command line alike).
    #[arg(long = "request-timeout", env = "REQUEST_TIMEOUT", default_value = "60s", value_parser = timeout)]
    pub request_timeout: Duration,
    #[command(flatten)]
    pub github: GitHubSettings,
    #[command(flatten)]
    pub x: XSettings,
    #[command(flatten)]
    pub bluesky: BlueskySettings,
}

/// GitHub's REST API.
#[derive(Debug, Clone, Args)]
pub struct GitHubSettings {
    /// GitHub REST origin.
    #[arg(id = "github_api_url", long = "github-api-url", env = "GITHUB_API_URL", default_value = "https://api.github.com", value_parser = UpstreamUrl)]
    pub api_url: SecretUrl<Url>,
    /// Sent to GitHub as `Authorization: Bearer`; without it GitHub allows 60 calls an hour.
    #[arg(long = "github-token", env = "GITHUB_TOKEN", hide = true, default_value = "", value_parser = FromEnvironmentOnly)]
    pub token: std::option::Option<Secret>,
    /// GitHub organisation pages kept with their ETag, to revalidate them at no rate-limit
    /// cost once their cached facts expire (least recently used out first).
    #[arg(
        long = "github-etag-entries",
        env = "GITHUB_ETAG_ENTRIES",
        default_value = "100000"
    )]
    pub etag_entries: u64,
}

/// X's API v2.
#[derive(Debug, Clone, Args)]
pub struct XSettings {
    /// X API origin, without /2.
    #[arg(id = "twitter_api_url", long = "twitter-api-url", env = "TWITTER_API_URL", default_value = "https://api.x.com", value_parser = UpstreamUrl)]
    pub api_url: SecretUrl<Url>,
    /// The app-only bearer token the X API needs.
    #[arg(long = "twitter-bearer-token", env = "TWITTER_BEARER_TOKEN", hide = true, default_value = "", value_parser = FromEnvironmentOnly)]
    pub bearer_token: std::option::Option<Secret>,
}

/// Bluesky's AppView.
#[derive(Debug, Clone, Args)]
pub struct BlueskySettings {
    /// Bluesky AppView origin.
    #[arg(id = "bluesky_api_url", long = "bluesky-api-url", env = "BLUESKY_API_URL", default_value = "https://public.api.bsky.app", value_parser = UpstreamUrl)]
    pub api_url: SecretUrl<Url>,
    /// Appended to a handle without a dot to make a Bluesky handle.
    #[arg(
        long = "bluesky-handle-suffix",
        env = "BLUESKY_HANDLE_SUFFIX",
        default_value = ".bsky.social"
    )]
    pub handle_suffix: String,
}

fn social_graph(raw: &str) -> Result<Network, BadValue> {
    Network::from_id(&raw.trim().to_lowercase()).ok_or_else(|| {
        BadValue::new(format!(
            "{raw:?} is not a social graph: use x, github or bluesky"
        ))
    })
}

/// An upstream's origin, from the setting `variable`: an http(s) URL. The message never
/// repeats a value that is not one (it may be a token pasted into the wrong variable), and
/// shows one that is with its credentials hidden.
///
/// # Errors
/// [`BadValue`] naming `variable` and what it must be.
pub(super) fn upstream_url(raw: &str, variable: &str) -> Result<Url, BadValue> {
    let url = Url::parse(raw)
        .map_err(|e| BadValue::because(format!("{variable} is not a URL: {e}"), e))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(BadValue::new(format!(
            "{variable} must be an http(s) URL, not {}",
            redact_url(raw)
        )));
    }
    Ok(url)
}

/// Reads an upstream's origin as [`upstream_url`] does, and says what is wrong in its words
/// alone: clap's own message would repeat the value.
#[derive(Debug, Clone, Copy)]
pub(super) struct UpstreamUrl;

impl TypedValueParser for UpstreamUrl {
    type Value = SecretUrl<Url>;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<Self::Value, clap::Error> {
        let variable = variable(arg);
        upstream_url(&value.to_string_lossy(), &variable)
            .map(SecretUrl::new)
            .map_err(|e| {
                clap::Error::raw(ErrorKind::ValueValidation, format!("{e}\n")).with_cmd(cmd)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upstream_url_must_be_http_and_is_never_echoed_with_its_secrets() {
        assert!(upstream_url("http://127.0.0.1:9/api/", "GITHUB_API_URL").is_ok());
        let err = upstream_url("not a url s3cret", "GITHUB_API_URL")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("GITHUB_API_URL is not a URL"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        let err = upstream_url("ftp://u:s3cret@host/", "TWITTER_API_URL")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("TWITTER_API_URL must be an http(s) URL"),
            "{err}"
        );
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn a_wrong_origin_is_said_in_one_line_naming_its_variable() {
        let cmd = clap::Command::new("connected");
        let arg = clap::Arg::new("github_api_url").env("GITHUB_API_URL");
        let read = |raw: &str| UpstreamUrl.parse_ref(&cmd, Some(&arg), OsStr::new(raw));
        assert_eq!(
            read("https://api.github.com").unwrap().as_str(),
            "https://api.github.com/"
        );
        let err = read("ftp://u:s3cret@host/").unwrap_err().to_string();
        assert_eq!(
            err,
            "error: GITHUB_API_URL must be an http(s) URL, not ftp://u:redacted@host/\n"
        );
    }

    #[test]
    fn a_social_graph_is_named_in_any_case() {
        assert_eq!(social_graph(" Bluesky"), Ok(Network::Bluesky));
        assert!(
            social_graph("mastodon")
                .unwrap_err()
                .to_string()
                .contains("use x, github or bluesky")
        );
    }
}
