//! Who may ask: whether callers need an API key, and the names an open service answers to.

use super::values::BadValue;
use clap::Args;

/// Access settings.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Access")]
pub struct AuthSettings {
    /// Whether callers need an API key: auto (open on a loopback address or with --demo,
    /// keys required otherwise), keys, or open.
    #[arg(long = "auth", env = "AUTH", default_value_t = AuthMode::Auto)]
    pub mode: AuthMode,
    /// Host names (comma-separated, no scheme or port) an open service answers to, besides
    /// localhost and IP addresses: with no API key required, a request naming any other host
    /// is refused (421), so that a web page cannot reach the service through a name of its
    /// own (DNS rebinding).
    #[arg(long = "allowed-hosts", env = "ALLOWED_HOSTS", default_value = "", value_parser = allowed_hosts)]
    pub allowed_hosts: std::vec::Vec<String>,
}

/// Whether callers need an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// Open on a loopback address or with the demo graph; keys required otherwise.
    #[default]
    Auto,
    /// Keys always required.
    Keys,
    /// Never: anyone who reaches the port may spend the upstream budgets.
    Open,
}

impl std::str::FromStr for AuthMode {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.trim().to_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "keys" => Ok(Self::Keys),
            "open" => Ok(Self::Open),
            _ => Err("use auto, keys or open".to_owned()),
        }
    }
}

impl std::fmt::Display for AuthMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Keys => "keys",
            Self::Open => "open",
        })
    }
}

/// Who needs an API key, as the auth mode and the listen address decide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// Every guarded route needs one.
    Required,
    /// Open to this host's own clients, on a loopback address: a request that came through
    /// a proxy (it carries a header a proxy adds: `Forwarded`, `Via`, `X-Forwarded-For`, …)
    /// is not one of them, and needs a key.
    ThroughProxies,
    /// Open to everyone who reaches the port.
    Off,
}

/// A host name an open service answers to, as written in `ALLOWED_HOSTS`: compared in lower
/// case, without a final dot.
///
/// # Errors
/// [`BadValue`] when it is not a bare name (a scheme, a port, a path, a space).
fn allowed_host(raw: &str) -> Result<String, BadValue> {
    let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let bare = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if bare {
        Ok(name)
    } else {
        Err(BadValue::new(format!(
            "ALLOWED_HOSTS: {raw:?} is not a host name (write names such as demo.example.com, without scheme or port)"
        )))
    }
}

/// Host names as written: comma-separated, empty is none.
fn allowed_hosts(raw: &str) -> Result<Vec<String>, BadValue> {
    raw.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(allowed_host)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allowed_host_is_a_bare_name_in_lower_case() {
        assert_eq!(
            allowed_host(" Demo.Example.COM. "),
            Ok("demo.example.com".to_owned())
        );
        for wrong in [
            "https://demo.example.com",
            "demo.example.com:5000",
            "a b",
            "",
            "x/y",
        ] {
            assert!(allowed_host(wrong).is_err(), "{wrong}");
        }
        assert_eq!(
            allowed_hosts("a.example, ,B.example"),
            Ok(vec!["a.example".to_owned(), "b.example".to_owned()])
        );
        assert_eq!(allowed_hosts(""), Ok(vec![]));
    }

    #[test]
    fn an_auth_mode_is_read_in_any_case() {
        assert_eq!("KEYS".parse::<AuthMode>(), Ok(AuthMode::Keys));
        assert!("closed".parse::<AuthMode>().is_err());
    }
}
