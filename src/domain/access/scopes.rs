//! What a key may do: its scopes.

use enumset::{EnumSet, EnumSetType};
use std::fmt;

/// One thing a key may be allowed to do. A set of them is an [`EnumSet`]: one bit per
/// variant, however many there are, so that two scopes can never share one.
#[derive(Debug, Hash, PartialOrd, Ord, EnumSetType)]
pub enum Scope {
    /// Ask for a realtime check.
    Check,
    /// Read the register.
    History,
    /// Map a team's network.
    Network,
    /// Send `Cache-Control: no-cache`, which spends upstream calls again.
    Fresh,
    /// Read `/metrics`.
    Metrics,
}

impl Scope {
    /// Every scope, in the order they are declared.
    pub fn all() -> impl Iterator<Item = Scope> {
        EnumSet::<Scope>::all().into_iter()
    }

    /// The name a scope is given and shown by.
    pub fn id(self) -> &'static str {
        match self {
            Scope::Check => "check",
            Scope::History => "history",
            Scope::Network => "network",
            Scope::Fresh => "fresh",
            Scope::Metrics => "metrics",
        }
    }

    /// The scope named `id`, exactly.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::all().find(|scope| scope.id() == id)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A set of scopes, shown as their names separated by commas, in their declared order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scopes(EnumSet<Scope>);

/// Why a list of scopes was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopesError {
    #[error("{0:?} is not a scope: use {list}", list = Scopes::all())]
    Unknown(String),
    #[error("a key needs at least one scope")]
    Empty,
}

impl Scopes {
    /// What a key gets when no scopes are given: everything but `fresh` and `metrics`.
    pub fn default_for_keys() -> Self {
        Self::of(&[Scope::Check, Scope::History, Scope::Network])
    }

    /// Every scope.
    pub fn all() -> Self {
        Self(EnumSet::all())
    }

    /// These scopes.
    pub fn of(scopes: &[Scope]) -> Self {
        Self(scopes.iter().copied().collect())
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0.contains(scope)
    }

    /// The scopes, in their declared order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        self.0.into_iter()
    }
}

impl std::str::FromStr for Scopes {
    type Err = ScopesError;

    /// `check,history`: names separated by commas, spaces around them ignored.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let mut scopes = Vec::new();
        for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let scope = Scope::from_id(&name.to_lowercase())
                .ok_or_else(|| ScopesError::Unknown(name.to_owned()))?;
            scopes.push(scope);
        }
        if scopes.is_empty() {
            return Err(ScopesError::Empty);
        }
        Ok(Self::of(&scopes))
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::id).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_read_and_show_as_lists_of_names() {
        let scopes: Scopes = " network, CHECK ,".parse().unwrap();
        assert_eq!(scopes, Scopes::of(&[Scope::Check, Scope::Network]));
        assert_eq!(scopes.to_string(), "check,network");
        assert!(scopes.contains(Scope::Check) && !scopes.contains(Scope::Fresh));
        assert_eq!(
            Scopes::default_for_keys().to_string(),
            "check,history,network"
        );
        assert_eq!(
            Scopes::all().to_string(),
            "check,history,network,fresh,metrics"
        );
        assert_eq!(
            "check,admin".parse::<Scopes>(),
            Err(ScopesError::Unknown("admin".into()))
        );
        assert_eq!(" , ".parse::<Scopes>(), Err(ScopesError::Empty));
    }

    #[test]
    fn every_scope_has_a_name_of_its_own_and_a_set_of_all_holds_each_apart() {
        let names: std::collections::BTreeSet<&str> = Scope::all().map(Scope::id).collect();
        assert_eq!(
            names.len(),
            Scope::all().count(),
            "no two scopes share a name"
        );
        for scope in Scope::all() {
            assert_eq!(Scope::from_id(scope.id()), Some(scope));
            let alone = Scopes::of(&[scope]);
            for other in Scope::all().filter(|other| *other != scope) {
                assert!(!alone.contains(other), "{scope} must not grant {other}");
            }
        }
    }
}
