//! Developer handles and unordered pairs of them.

use std::fmt;

/// A developer's handle as written by the user.
///
/// The same handle names the same person on the code host and on the social graph. Handles
/// are case-insensitive on both networks, so equality and the pair key use the lower-cased
/// form, while messages repeat the handle exactly as it was written.
#[derive(Clone, Eq)]
pub struct Handle {
    written: String,
    key: String,
}

/// Why a string cannot be a handle at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    #[error("a developer handle cannot be empty")]
    Empty,
    #[error("a developer handle is at most {max} characters long")]
    TooLong { max: usize },
    #[error("a developer handle cannot contain control characters")]
    ControlCharacter,
}

impl Handle {
    /// Longest handle accepted at all; longer strings cannot be a user on any network.
    pub const MAX_LEN: usize = 100;

    /// Accepts any non-empty string of reasonable length; whether it can be a user on a given
    /// network is asked separately (each adapter's own rule),
    /// because a handle invalid on one network is still checked on the other.
    ///
    /// # Errors
    /// [`HandleError`] when the string is empty, longer than [`Handle::MAX_LEN`], or holds a
    /// control character.
    pub fn parse(raw: &str) -> Result<Self, HandleError> {
        if raw.is_empty() {
            return Err(HandleError::Empty);
        }
        if raw.chars().count() > Self::MAX_LEN {
            return Err(HandleError::TooLong { max: Self::MAX_LEN });
        }
        // No network has a user whose name holds one, PostgreSQL refuses NUL in text, and a
        // terminal or log line shown one can be made to lie: refused before anything is
        // asked or stored.
        if raw.chars().any(char::is_control) {
            return Err(HandleError::ControlCharacter);
        }
        Ok(Self {
            written: raw.to_owned(),
            // ASCII folding, as both networks do: Unicode folding would make a Kelvin sign
            // the letter k and fold two different strings into one developer.
            key: raw.to_ascii_lowercase(),
        })
    }

    /// The handle as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.written
    }

    /// The case-folded form used for equality and storage.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl PartialEq for Handle {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl std::hash::Hash for Handle {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({:?})", self.written)
    }
}

/// Two different developers, in no particular order: `a/b`, `b/a` and `A/B` are one pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pair {
    first: Handle,
    second: Handle,
}

/// Why two handles do not make a pair.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{first} and {second} are the same developer; a check needs two different developers")]
pub struct SameDeveloper {
    pub first: String,
    pub second: String,
}

/// Why two names do not make a pair.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PairError {
    #[error(transparent)]
    BadHandle(#[from] HandleError),
    #[error(transparent)]
    SameDeveloper(#[from] SameDeveloper),
}

impl Pair {
    /// The pair two names make, as a user wrote them.
    ///
    /// # Errors
    /// [`PairError`]: a name that is not a handle, or both naming the same developer.
    pub fn parse(dev1: &str, dev2: &str) -> Result<Self, PairError> {
        Ok(Self::new(Handle::parse(dev1)?, Handle::parse(dev2)?)?)
    }

    /// # Errors
    /// [`SameDeveloper`] when both handles name the same developer, ignoring case.
    pub fn new(dev1: Handle, dev2: Handle) -> Result<Self, SameDeveloper> {
        if dev1 == dev2 {
            return Err(SameDeveloper {
                first: dev1.written,
                second: dev2.written,
            });
        }
        Ok(Self {
            first: dev1,
            second: dev2,
        })
    }

    /// The developers in the order the user gave them.
    pub fn developers(&self) -> [&Handle; 2] {
        [&self.first, &self.second]
    }

    /// The canonical key: both handles lower-cased, sorted.
    pub fn key(&self) -> (&str, &str) {
        let (a, b) = (self.first.key(), self.second.key());
        if a <= b { (a, b) } else { (b, a) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Handle {
        Handle::parse(s).unwrap()
    }

    #[test]
    fn handles_compare_case_insensitively_but_keep_their_spelling() {
        assert_eq!(h("Alice"), h("aLICE"));
        assert_eq!(h("Alice").to_string(), "Alice");
        assert_eq!(h("Alice").key(), "alice");
    }

    #[test]
    fn only_ascii_letters_fold() {
        assert_ne!(h("\u{212A}im"), h("kim"));
        assert_eq!(h("KIM"), h("kim"));
    }

    #[test]
    fn empty_and_overlong_handles_are_refused() {
        assert_eq!(Handle::parse(""), Err(HandleError::Empty));
        assert!(matches!(
            Handle::parse(&"a".repeat(101)),
            Err(HandleError::TooLong { .. })
        ));
    }

    #[test]
    fn control_characters_are_refused_wherever_they_are() {
        for bad in [
            "\0", "ali\0ce", "a\u{1f}", "\u{7f}b", "a\u{80}", "a\u{9f}", "a\nb", "\tab", "a\r",
        ] {
            assert_eq!(
                Handle::parse(bad),
                Err(HandleError::ControlCharacter),
                "{bad:?} should be refused"
            );
        }
        assert_eq!(
            HandleError::ControlCharacter.to_string(),
            "a developer handle cannot contain control characters"
        );
        // Printable non-ASCII stays a handle: whether a network has such a user is its call.
        for ok in ["a b", "é", "\u{a0}x", "\u{212A}im"] {
            assert!(Handle::parse(ok).is_ok(), "{ok:?} should be a handle");
        }
    }

    #[test]
    fn a_pair_is_unordered_and_case_insensitive() {
        let ab = Pair::new(h("Bob"), h("alice")).unwrap();
        let ba = Pair::new(h("ALICE"), h("bob")).unwrap();
        assert_eq!(ab.key(), ("alice", "bob"));
        assert_eq!(ab.key(), ba.key());
    }

    #[test]
    fn the_same_developer_twice_is_not_a_pair() {
        let err = Pair::new(h("Alice"), h("alice")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Alice and alice are the same developer; a check needs two different developers"
        );
    }
}
