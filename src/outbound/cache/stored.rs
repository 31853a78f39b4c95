//! The social graph's facts in the form the cache keeps them, and the key a pair's
//! relationship is kept under. Redis keeps them too, across versions: a field added must
//! read what older versions kept.

use crate::domain::{Relationship, SocialUser};
use serde::{Deserialize, Serialize};

/// A social user as kept in the cache.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct CachedUser {
    id: String,
    username: String,
    followers: Option<u64>,
    following: Option<u64>,
    /// Absent in what older versions kept in Redis: those users were not known to be.
    #[serde(default)]
    protected: bool,
}

impl From<&SocialUser> for CachedUser {
    fn from(u: &SocialUser) -> Self {
        Self {
            id: u.id.clone(),
            username: u.username.clone(),
            followers: u.followers,
            following: u.following,
            protected: u.protected,
        }
    }
}

impl From<CachedUser> for SocialUser {
    fn from(u: CachedUser) -> Self {
        Self {
            id: u.id,
            username: u.username,
            followers: u.followers,
            following: u.following,
            protected: u.protected,
        }
    }
}

/// Where a pair's relationship is kept: one fact per unordered pair of users, under its
/// users' ids sorted.
pub(super) struct PairKey {
    pub(super) key: String,
    /// Whether sorting swapped the users.
    swapped: bool,
}

impl PairKey {
    pub(super) fn of(a: &SocialUser, b: &SocialUser) -> Self {
        if a.id > b.id {
            Self {
                key: format!("{}:{}", b.id, a.id),
                swapped: true,
            }
        } else {
            Self {
                key: format!("{}:{}", a.id, b.id),
                swapped: false,
            }
        }
    }

    /// A relationship of the pair as asked, as it is kept, and back.
    pub(super) fn orient(&self, relationship: Relationship) -> Relationship {
        if self.swapped {
            relationship.reversed()
        } else {
            relationship
        }
    }
}

/// A relationship as kept in the cache.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(super) struct CachedRelationship {
    forward: Option<bool>,
    backward: Option<bool>,
}

impl From<Relationship> for CachedRelationship {
    fn from(r: Relationship) -> Self {
        Self {
            forward: r.forward,
            backward: r.backward,
        }
    }
}

impl From<CachedRelationship> for Relationship {
    fn from(r: CachedRelationship) -> Self {
        Self {
            forward: r.forward,
            backward: r.backward,
        }
    }
}
