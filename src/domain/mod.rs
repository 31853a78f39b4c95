//! The problem's own words: handles, pairs, verdicts, registered checks, and the ports the
//! application needs from the outside world. Nothing here knows HTTP, SQL or JSON.

mod handle;
mod ports;

pub use handle::{Handle, HandleError, Pair, SameDeveloper};
pub use ports::{
    CodeHost, CodeHostError, Register, RegisterError, SocialGraph, SocialGraphError, SocialUser,
};

use chrono::{DateTime, Utc};
use std::fmt;
use std::time::Duration;

/// The networks a check asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Network {
    GitHub,
    X,
}

impl Network {
    /// The name used in public messages (`... is not a valid user in twitter`).
    pub fn name(self) -> &'static str {
        match self {
            Network::GitHub => "github",
            Network::X => "twitter",
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The answer for one pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// They follow each other and share these organisations (GitHub's spelling, unique,
    /// sorted case-insensitively, never empty).
    Connected {
        organisations: Vec<String>,
    },
    NotConnected,
}

impl Verdict {
    pub fn is_connected(&self) -> bool {
        matches!(self, Verdict::Connected { .. })
    }

    /// The shared organisations; empty when not connected.
    pub fn organisations(&self) -> &[String] {
        match self {
            Verdict::Connected { organisations } => organisations,
            Verdict::NotConnected => &[],
        }
    }
}

/// A verdict as kept in the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredCheck {
    pub registered_at: DateTime<Utc>,
    pub verdict: Verdict,
}

/// A developer missing on a network, as the user wrote the handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingUser {
    pub developer: String,
    pub network: Network,
}

impl fmt::Display for MissingUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is not a valid user in {}",
            self.developer, self.network
        )
    }
}

/// Whole seconds to wait, at least one: a `Retry-After` of 0 invites a hot loop.
pub fn retry_after_secs(retry_after: Duration) -> u64 {
    let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    secs.max(1)
}

/// The organisations two developers share: GitHub's spelling (the first list's where the
/// two differ in case), unique, sorted case-insensitively.
pub fn shared_organisations(first: &[String], second: &[String]) -> Vec<String> {
    let theirs: std::collections::HashSet<String> =
        second.iter().map(|o| o.to_lowercase()).collect();
    let mut shared: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for org in first {
        let key = org.to_lowercase();
        if theirs.contains(&key) && seen.insert(key) {
            shared.push(org.clone());
        }
    }
    shared.sort_by(|a, b| {
        a.to_lowercase()
            .cmp(&b.to_lowercase())
            .then_with(|| a.cmp(b))
    });
    shared
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn shared_organisations_are_unique_and_sorted_case_insensitively() {
        let a = s(&["Zeta-Org", "acme", "Beta", "ACME", "solo"]);
        let b = s(&["acme", "zeta-org", "beta", "other"]);
        assert_eq!(
            shared_organisations(&a, &b),
            s(&["acme", "Beta", "Zeta-Org"])
        );
    }

    #[test]
    fn no_shared_organisation_gives_an_empty_list() {
        assert!(shared_organisations(&s(&["a"]), &s(&["b"])).is_empty());
        assert!(shared_organisations(&[], &s(&["b"])).is_empty());
    }

    #[test]
    fn retry_after_rounds_up_and_is_never_zero() {
        assert_eq!(retry_after_secs(Duration::from_millis(0)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(30)), 30);
    }

    #[test]
    fn missing_users_read_as_the_contract_says() {
        let m = MissingUser {
            developer: "Bob".into(),
            network: Network::X,
        };
        assert_eq!(m.to_string(), "Bob is not a valid user in twitter");
    }
}
