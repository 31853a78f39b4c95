//! GitHub organisations as the code host names them: one login each, and a developer's
//! list of them, bounded. Whatever an upstream or a file says is read through these rules,
//! so that a name that cannot be an organisation never reaches a verdict, the register or a
//! page.

use std::fmt;

/// An organisation's login, as GitHub spells it: 1–39 ASCII letters, digits or single
/// hyphens, neither first nor last (the rule of every GitHub login).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Organisation(String);

/// Why a name, or a list of names, cannot be a developer's organisations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrganisationError {
    /// `shown` is the name cut to a few characters, control characters escaped: the name
    /// itself may be megabytes long or hold a NUL.
    #[error(
        "the organisation {shown} is not a GitHub login (1 to 39 ASCII letters, digits or single inner hyphens)"
    )]
    NotALogin { shown: String },
    #[error("more than {max} organisations for one developer")]
    TooMany { max: usize },
}

impl Organisation {
    /// The most organisations read for one developer: far more than anyone belongs to, and
    /// few enough that a hostile answer cannot fill memory, a verdict or a register row.
    pub const MAX_PER_DEVELOPER: usize = 1000;

    /// # Errors
    /// [`OrganisationError::NotALogin`] when `raw` cannot be a GitHub login.
    pub fn parse(raw: &str) -> Result<Self, OrganisationError> {
        if is_github_login(raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(OrganisationError::NotALogin { shown: shown(raw) })
        }
    }

    /// A developer's organisations from their names, in order.
    ///
    /// # Errors
    /// [`OrganisationError::TooMany`] past [`Organisation::MAX_PER_DEVELOPER`] names (the
    /// rest is not looked at), else the first name that is not a login.
    pub fn list<S: AsRef<str>>(
        names: impl IntoIterator<Item = S>,
    ) -> Result<Vec<Self>, OrganisationError> {
        let mut list = Vec::new();
        for name in names {
            if list.len() == Self::MAX_PER_DEVELOPER {
                return Err(OrganisationError::TooMany {
                    max: Self::MAX_PER_DEVELOPER,
                });
            }
            list.push(Self::parse(name.as_ref())?);
        }
        Ok(list)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Organisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Organisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Organisation({:?})", self.0)
    }
}

/// GitHub's rule for a login, users' and organisations' alike.
pub(super) fn is_github_login(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 39
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// A name fit for a message: quoted, control characters escaped, cut after 40 characters
/// with its length said.
fn shown(raw: &str) -> String {
    const SHOWN: usize = 40;
    let head: String = raw.chars().take(SHOWN).collect();
    let quoted = format!("{head:?}");
    if head.len() == raw.len() {
        quoted
    } else {
        format!("{quoted}… ({} bytes)", raw.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organisation_is_a_github_login() {
        for ok in ["a", "acme", "Zeta-Org", "a1-b2", &"x".repeat(39)] {
            assert_eq!(Organisation::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "-a",
            "a-",
            "a--b",
            "a_b",
            "a.b",
            "ä",
            "a b",
            "a\0b",
            "a\u{1}",
            &"x".repeat(40),
        ] {
            assert!(
                matches!(
                    Organisation::parse(bad),
                    Err(OrganisationError::NotALogin { .. })
                ),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn a_refused_name_is_shown_short_and_escaped() {
        let huge = format!("\u{1}{}", "x".repeat(7 * 1024 * 1024));
        let message = Organisation::parse(&huge).unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
        assert!(
            message.starts_with("the organisation \"\\u{1}xxx"),
            "{message}"
        );
        assert!(
            message.contains(&format!("({} bytes)", huge.len())),
            "{message}"
        );
        assert_eq!(
            Organisation::parse("a\0b").unwrap_err().to_string(),
            "the organisation \"a\\0b\" is not a GitHub login (1 to 39 ASCII letters, digits or single inner hyphens)"
        );
    }

    #[test]
    fn a_list_is_bounded_and_stops_reading_past_the_bound() {
        let names: Vec<String> = (0..Organisation::MAX_PER_DEVELOPER)
            .map(|i| format!("o{i}"))
            .collect();
        assert_eq!(Organisation::list(&names).unwrap().len(), 1000);
        // The name past the bound is not even looked at.
        let over = names.iter().map(String::as_str).chain(["-bad-"]);
        assert_eq!(
            Organisation::list(over),
            Err(OrganisationError::TooMany { max: 1000 })
        );
        assert!(Organisation::list(["acme", "a\u{1}"]).is_err());
        assert!(Organisation::list(Vec::<String>::new()).unwrap().is_empty());
    }
}
