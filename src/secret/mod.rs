//! Credentials that never show themselves in `Debug`, `Display`, logs or errors: a token
//! never, a URL that may carry one only with it redacted; and the cipher members' tokens are
//! kept under.

mod cipher;
mod redact;

pub use cipher::{CipherError, TokenCipher, TokenKeyError};
pub use redact::redact_url;

/// A token read from configuration. Only [`Secret::expose`] gives the value, at the one place
/// it is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(s))
    }
}

/// A URL that may carry a credential (a password, a token in a parameter, a proxy's user):
/// code reads it whole, `Debug` shows it as [`redact_url`] does. `T` is the URL as written
/// (`String`) or parsed (`url::Url`).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl<T = String>(T);

impl<T> SecretUrl<T> {
    pub fn new(url: T) -> Self {
        Self(url)
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for SecretUrl<T> {
    fn from(url: T) -> Self {
        Self(url)
    }
}

impl<T> std::ops::Deref for SecretUrl<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: AsRef<str>> std::fmt::Debug for SecretUrl<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&redact_url(self.0.as_ref()), f)
    }
}

/// A URL as written: whether it is one is for its user to say.
impl std::str::FromStr for SecretUrl {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::{Secret, SecretUrl};

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("ghp_very_secret");
        assert!(!format!("{secret:?}").contains("very_secret"));
        assert!(!format!("{:?}", Some(secret.clone())).contains("very_secret"));
        assert_eq!(secret.expose(), "ghp_very_secret");
    }

    #[test]
    fn a_url_shows_itself_without_its_credentials_and_gives_them_to_code() {
        let written = "postgres://app:pg-password@db/connected";
        let url = SecretUrl::new(written.to_owned());
        assert_eq!(
            format!("{url:?}"),
            r#""postgres://app:redacted@db/connected""#
        );
        assert_eq!(url.as_str(), written);
        let parsed = SecretUrl::new(url::Url::parse("https://user:proxy-password@proxy/").unwrap());
        assert!(!format!("{parsed:?}").contains("proxy-password"));
        assert_eq!(parsed.password(), Some("proxy-password"));
    }
}
