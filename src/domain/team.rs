//! A team: the developers whose network is mapped together.

use super::{Handle, HandleError};
use std::ops::RangeInclusive;

/// Two to a hundred different developers, in the order given, each handle given twice
/// (ignoring case) kept once, in its first spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    developers: Vec<Handle>,
}

/// Why a list of names is not a team.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TeamError {
    /// The entry at `position` (from 1) is not a handle.
    #[error("developer {position}: {error}")]
    BadHandle { position: usize, error: HandleError },
    /// Too few or too many different developers (or far too many names to look at).
    #[error("a network takes {} to {} different developers, not {given}", Team::SIZE.start(), Team::SIZE.end())]
    Size { given: usize },
}

impl Team {
    /// The fewest and most different developers a team has.
    pub const SIZE: RangeInclusive<usize> = 2..=100;
    /// Names looked at, at most: far more than a team can hold is refused before any work
    /// on them, while a team with some names given twice is still taken.
    pub const MAX_ENTRIES: usize = *Self::SIZE.end() * 10;

    /// The team these names make.
    ///
    /// # Errors
    /// [`TeamError`] naming the first bad entry, or the size that is out of bounds.
    pub fn parse(names: &[String]) -> Result<Self, TeamError> {
        if names.len() > Self::MAX_ENTRIES {
            return Err(TeamError::Size { given: names.len() });
        }
        let mut seen = std::collections::HashSet::new();
        let mut developers: Vec<Handle> = Vec::with_capacity(names.len());
        for (i, raw) in names.iter().enumerate() {
            let handle = Handle::parse(raw).map_err(|error| TeamError::BadHandle {
                position: i + 1,
                error,
            })?;
            if seen.insert(handle.key().to_owned()) {
                developers.push(handle);
            }
        }
        if !Self::SIZE.contains(&developers.len()) {
            return Err(TeamError::Size {
                given: developers.len(),
            });
        }
        Ok(Self { developers })
    }

    /// The developers, in the team's order.
    pub fn developers(&self) -> &[Handle] {
        &self.developers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn duplicates_fold_into_their_first_spelling() {
        let team = Team::parse(&names(&["Alice", "bob", "ALICE"])).unwrap();
        let shown: Vec<&str> = team.developers().iter().map(Handle::as_str).collect();
        assert_eq!(shown, ["Alice", "bob"]);
    }

    #[test]
    fn the_size_counts_different_developers() {
        assert_eq!(
            Team::parse(&names(&["a", "A"])).unwrap_err().to_string(),
            "a network takes 2 to 100 different developers, not 1"
        );
        let many: Vec<String> = (0..101).map(|i| format!("d{i}")).collect();
        assert_eq!(
            Team::parse(&many).unwrap_err(),
            TeamError::Size { given: 101 }
        );
        let names_twice: Vec<String> = (0..1000).map(|i| format!("d{}", i % 100)).collect();
        assert_eq!(Team::parse(&names_twice).unwrap().developers().len(), 100);
        let far_too_many: Vec<String> = vec!["a".to_owned(); 1001];
        assert_eq!(
            Team::parse(&far_too_many).unwrap_err(),
            TeamError::Size { given: 1001 }
        );
    }

    #[test]
    fn a_bad_entry_is_named_by_its_position() {
        assert_eq!(
            Team::parse(&names(&["a", ""])).unwrap_err().to_string(),
            "developer 2: a developer handle cannot be empty"
        );
    }
}
