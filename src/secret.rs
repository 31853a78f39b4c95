//! A credential that never shows itself in `Debug`, `Display`, logs or errors.

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

#[cfg(test)]
mod tests {
    #[test]
    fn debug_never_shows_the_value() {
        let secret = super::Secret::new("ghp_very_secret");
        assert!(!format!("{secret:?}").contains("very_secret"));
        assert!(!format!("{:?}", Some(secret.clone())).contains("very_secret"));
        assert_eq!(secret.expose(), "ghp_very_secret");
    }
}
