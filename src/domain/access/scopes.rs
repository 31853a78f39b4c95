//! What a key may do: its scopes.

use std::fmt;

/// One thing a key may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    /// Every scope, in the order they are listed.
    pub const ALL: [Scope; 5] = [
        Scope::Check,
        Scope::History,
        Scope::Network,
        Scope::Fresh,
        Scope::Metrics,
    ];

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
        Self::ALL.into_iter().find(|scope| scope.id() == id)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A set of scopes, shown as their names separated by commas, in [`Scope::ALL`]'s order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scopes(u8);

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
        Self::of(&Scope::ALL)
    }

    /// These scopes.
    pub fn of(scopes: &[Scope]) -> Self {
        Self(scopes.iter().fold(0, |bits, scope| bits | scope.bit()))
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The scopes, in [`Scope::ALL`]'s order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
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
        for scope in Scope::ALL {
            assert_eq!(Scope::from_id(scope.id()), Some(scope));
        }
    }
}
