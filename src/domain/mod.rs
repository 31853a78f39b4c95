//! The problem's own words: handles, pairs, verdicts, registered checks, and the ports the
//! application needs from the outside world. Nothing here knows HTTP, SQL or JSON.

pub mod access;
mod cause;
mod cliques;
mod clock;
mod handle;
pub mod members;
mod organisation;
mod plan;
mod ports;
mod team;

pub use cause::{Cause, Chain, Told, Unavailable};
pub use cliques::maximal_cliques;
pub use clock::Clock;
#[cfg(test)]
pub use clock::TestClock;
pub use handle::{Handle, HandleError, Pair, PairError, SameDeveloper};
pub use organisation::{Organisation, OrganisationError};
pub use plan::{FollowList, PlannedList, ReadPlan};
pub use ports::{
    AsMemberError, CodeHost, CodeHostError, HistoryStream, MemberView, PartialRelationships,
    Register, RegisterError, Relationship, SocialGraph, SocialGraphError, SocialUser,
    relationships_one_by_one,
};
pub use team::{Team, TeamError};

use chrono::{DateTime, Utc};
use std::fmt;

/// The networks a check asks: GitHub for organisations, and one social graph for follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Network {
    GitHub,
    X,
    Bluesky,
}

impl Network {
    /// The name the contract's messages use (`... is not a valid user in twitter`, `twitter
    /// rate limit exceeded`); the service's other words use [`Network::title`].
    pub fn name(self) -> &'static str {
        match self {
            Network::GitHub => "github",
            Network::X => "twitter",
            Network::Bluesky => "bluesky",
        }
    }

    /// Its name for people, as in `1500 X users a day`.
    pub fn title(self) -> &'static str {
        match self {
            Network::GitHub => "GitHub",
            Network::X => "X",
            Network::Bluesky => "Bluesky",
        }
    }

    /// The name a social graph is chosen and recorded by (`SOCIAL_GRAPH=x`).
    pub fn id(self) -> &'static str {
        match self {
            Network::GitHub => "github",
            Network::X => "x",
            Network::Bluesky => "bluesky",
        }
    }

    /// The network a social graph id names.
    pub fn from_id(id: &str) -> Option<Self> {
        match id {
            "github" => Some(Network::GitHub),
            "x" => Some(Network::X),
            "bluesky" => Some(Network::Bluesky),
            _ => None,
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

/// Which part of a pair's history to read: the newest `limit` entries recorded strictly
/// before `before` (both optional: no limit reads everything), always returned oldest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryPage {
    pub limit: Option<u32>,
    pub before: Option<DateTime<Utc>>,
}

/// What a verdict rested on, as the register keeps it: the social graph whose follows
/// decided it, and whether a member's own sign-in told them (their token read what only
/// they may see) rather than what anyone can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grounds {
    pub social_graph: Network,
    pub member_sign_in: bool,
}

impl Grounds {
    /// What anyone can read on `social_graph`: no member's sign-in.
    pub fn public(social_graph: Network) -> Self {
        Self {
            social_graph,
            member_sign_in: false,
        }
    }
}

/// One verdict of a team's, to record with the others: the pair, its verdict, and whether it
/// rested on a member's sign-in (a team is checked against one social graph, given once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairVerdict {
    pub pair: Pair,
    pub verdict: Verdict,
    pub member_sign_in: bool,
}

impl PairVerdict {
    /// Its grounds, on the team's `social_graph`.
    pub fn grounds(&self, social_graph: Network) -> Grounds {
        Grounds {
            social_graph,
            member_sign_in: self.member_sign_in,
        }
    }
}

/// A verdict as kept in the register, with the social graph that decided the follows and
/// whether a member's sign-in told them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredCheck {
    pub registered_at: DateTime<Utc>,
    pub verdict: Verdict,
    pub social_graph: Network,
    /// Whether the verdict rested on a member's own sign-in ([`Grounds::member_sign_in`]).
    pub member_sign_in: bool,
}

impl RegisteredCheck {
    /// `verdict` recorded at `at` on `grounds`.
    pub fn new(verdict: Verdict, grounds: Grounds, at: DateTime<Utc>) -> Self {
        Self {
            registered_at: at,
            verdict,
            social_graph: grounds.social_graph,
            member_sign_in: grounds.member_sign_in,
        }
    }

    /// What it rested on.
    pub fn grounds(&self) -> Grounds {
        Grounds {
            social_graph: self.social_graph,
            member_sign_in: self.member_sign_in,
        }
    }
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

/// A follow that cannot be read: whether `follower` follows `followee` (as the user wrote
/// them) is kept private by the network, both being protected accounts. Neither "not
/// connected" nor a failure: there is no answer to give, or to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableFollow {
    pub follower: String,
    pub followee: String,
    pub network: Network,
}

impl fmt::Display for UnreadableFollow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "whether {} follows {} cannot be read: their {} accounts are protected",
            self.follower,
            self.followee,
            self.network.title()
        )
    }
}

/// The organisations two developers share: GitHub's spelling, unique, sorted
/// case-insensitively. Where the two lists spell one organisation differently in case, the
/// byte-wise smallest spelling is kept, so the answer does not depend on the pair's order.
pub fn shared_organisations(first: &[Organisation], second: &[Organisation]) -> Vec<String> {
    use std::collections::HashMap;
    let spellings = |list: &[Organisation]| {
        let mut by_key: HashMap<String, String> = HashMap::new();
        for org in list.iter().map(Organisation::as_str) {
            let entry = by_key
                .entry(org.to_lowercase())
                .or_insert_with(|| org.to_owned());
            if org < entry.as_str() {
                org.clone_into(entry);
            }
        }
        by_key
    };
    let (mine, theirs) = (spellings(first), spellings(second));
    let mut shared: Vec<String> = mine
        .into_iter()
        .filter_map(|(key, spelling)| {
            let other = theirs.get(&key)?;
            Some(if *other < spelling {
                other.clone()
            } else {
                spelling
            })
        })
        .collect();
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

    fn o(v: &[&str]) -> Vec<Organisation> {
        Organisation::list(v).unwrap()
    }

    #[test]
    fn shared_organisations_are_unique_and_sorted_case_insensitively() {
        let a = o(&["Zeta-Org", "acme", "Beta", "ACME", "solo"]);
        let b = o(&["acme", "zeta-org", "beta", "other"]);
        assert_eq!(
            shared_organisations(&a, &b),
            s(&["ACME", "Beta", "Zeta-Org"])
        );
    }

    #[test]
    fn the_spelling_does_not_depend_on_the_order_of_the_pair() {
        let a = o(&["Zeta-Org"]);
        let b = o(&["zeta-org"]);
        assert_eq!(shared_organisations(&a, &b), shared_organisations(&b, &a));
    }

    #[test]
    fn no_shared_organisation_gives_an_empty_list() {
        assert!(shared_organisations(&o(&["a"]), &o(&["b"])).is_empty());
        assert!(shared_organisations(&[], &o(&["b"])).is_empty());
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
