//! A social graph that answers from a script and writes down every call.

use crate::domain::access::Caller;
use crate::domain::{
    FollowList, Handle, Network, PartialRelationships, PlannedList, ReadPlan, Relationship,
    SocialGraph, SocialGraphError, SocialUser, relationships_one_by_one,
};
use async_trait::async_trait;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

/// A call made to the [`ScriptedGraph`], its users by username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    Users(Vec<String>),
    Relationship(String, String),
    /// The pairs given, whether settled already or not.
    Relationships(Vec<(String, String)>),
}

/// What makes the [`ScriptedGraph`] fail.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// Any lookup of users.
    Lookups,
    /// Any read of follows.
    Follows,
    /// Any read of follows that names this user (by username).
    FollowsOf(String),
    /// Any call paid by this key.
    PaidBy(String),
}

/// A social graph (X, by its name) that answers from a script: who exists (their id is
/// `id-` and their username), who follows whom, which follows cannot be read. It writes down
/// every call and who paid for it, and fails as it is told.
#[derive(Default)]
pub struct ScriptedGraph {
    users: HashMap<String, SocialUser>,
    /// (follower, followee), by username.
    follows: HashSet<(String, String)>,
    /// Follows that cannot be read, as (follower, followee) by username.
    unreadable: HashSet<(String, String)>,
    failures: Vec<(Trigger, SocialGraphError)>,
    pair_by_pair: bool,
    /// How long each call takes.
    delay: Option<Duration>,
    calls: Mutex<Vec<(Asked, Option<String>)>>,
}

impl ScriptedGraph {
    /// These users exist.
    #[must_use]
    pub fn with_users(mut self, usernames: &[&str]) -> Self {
        for name in usernames {
            let user = SocialUser {
                id: format!("id-{name}"),
                username: (*name).to_owned(),
                followers: Some(1),
                following: Some(1),
                protected: false,
            };
            self.users.insert(name.to_lowercase(), user);
        }
        self
    }

    /// `follower` follows `followee`.
    #[must_use]
    pub fn follow(mut self, follower: &str, followee: &str) -> Self {
        self.follows.insert((follower.into(), followee.into()));
        self
    }

    /// `a` and `b` follow each other.
    #[must_use]
    pub fn mutual(self, a: &str, b: &str) -> Self {
        self.follow(a, b).follow(b, a)
    }

    /// Whether `follower` follows `followee` cannot be read.
    #[must_use]
    pub fn unreadable(mut self, follower: &str, followee: &str) -> Self {
        self.unreadable.insert((follower.into(), followee.into()));
        self
    }

    /// Calls that `trigger` names fail with `error`.
    #[must_use]
    pub fn failing(mut self, trigger: Trigger, error: SocialGraphError) -> Self {
        self.failures.push((trigger, error));
        self
    }

    /// It answers pair by pair, as a graph without lists to read.
    #[must_use]
    pub fn pair_by_pair(mut self) -> Self {
        self.pair_by_pair = true;
        self
    }

    /// Whether it answers pair by pair, as a cache of it is told.
    pub fn is_pair_by_pair(&self) -> bool {
        self.pair_by_pair
    }

    /// Each call takes `delay`.
    #[must_use]
    pub fn slow(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Every call, in the order made.
    pub fn asked(&self) -> Vec<Asked> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|c| c.0.clone())
            .collect()
    }

    /// Who paid each call (a key's id; `None` for anyone), in the order made.
    pub fn payers(&self) -> Vec<Option<String>> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|c| c.1.clone())
            .collect()
    }

    /// Writes the call down, takes its time, and fails it when a trigger names it.
    async fn call(
        &self,
        asked: Asked,
        kind: &Trigger,
        caller: &Caller,
    ) -> Result<(), SocialGraphError> {
        let payer = caller.id().map(|id| id.as_str().to_owned());
        let names: Vec<String> = match &asked {
            Asked::Users(names) => names.clone(),
            Asked::Relationship(a, b) => vec![a.clone(), b.clone()],
            Asked::Relationships(pairs) => pairs
                .iter()
                .flat_map(|(a, b)| [a.clone(), b.clone()])
                .collect(),
        };
        self.calls.lock().unwrap().push((asked, payer.clone()));
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
        let named = |trigger: &Trigger| match trigger {
            Trigger::FollowsOf(name) => kind == &Trigger::Follows && names.contains(name),
            Trigger::PaidBy(key) => payer.as_ref() == Some(key),
            other => other == kind,
        };
        match self.failures.iter().find(|(trigger, _)| named(trigger)) {
            Some((_, error)) => Err(error.clone()),
            None => Ok(()),
        }
    }

    /// Whether `follower` follows `followee`; `None` when that cannot be read.
    fn follows(&self, follower: &SocialUser, followee: &SocialUser) -> Option<bool> {
        let direction = (follower.username.clone(), followee.username.clone());
        (!self.unreadable.contains(&direction)).then(|| self.follows.contains(&direction))
    }

    /// Completes `known` as a graph that reads lists does: each direction still unknown, the
    /// second only while the first holds; one that cannot be read is left unknown.
    fn complete(&self, a: &SocialUser, b: &SocialUser, known: Relationship) -> Relationship {
        let forward = known.forward.or_else(|| self.follows(a, b));
        if forward == Some(false) {
            return Relationship {
                forward,
                backward: known.backward,
            };
        }
        Relationship {
            forward,
            backward: known.backward.or_else(|| self.follows(b, a)),
        }
    }
}

#[async_trait]
impl SocialGraph for ScriptedGraph {
    fn network(&self) -> Network {
        Network::X
    }

    fn accepts(&self, _: &Handle) -> bool {
        true
    }

    async fn users(
        &self,
        handles: &[&Handle],
        caller: &Caller,
    ) -> Result<Vec<Option<SocialUser>>, SocialGraphError> {
        let names = handles.iter().map(|h| h.key().to_owned()).collect();
        self.call(Asked::Users(names), &Trigger::Lookups, caller)
            .await?;
        Ok(handles
            .iter()
            .map(|h| self.users.get(h.key()).cloned())
            .collect())
    }

    async fn relationship(
        &self,
        a: &SocialUser,
        b: &SocialUser,
        caller: &Caller,
    ) -> Result<Relationship, SocialGraphError> {
        let asked = Asked::Relationship(a.username.clone(), b.username.clone());
        self.call(asked, &Trigger::Follows, caller).await?;
        let protected =
            |follower: &SocialUser, followee: &SocialUser| SocialGraphError::Protected {
                follower: follower.id.clone(),
                followee: followee.id.clone(),
            };
        let forward = self.follows(a, b).ok_or_else(|| protected(a, b))?;
        if !forward {
            return Ok(Relationship {
                forward: Some(false),
                backward: None,
            });
        }
        let backward = self.follows(b, a).ok_or_else(|| protected(b, a))?;
        Ok(Relationship {
            forward: Some(true),
            backward: Some(backward),
        })
    }

    /// For a graph that reads lists, one list a pair not yet settled (the first user's
    /// `following`, as long as the user says), asking nothing: enough to see what was
    /// planned for.
    async fn plan(
        &self,
        users: &[SocialUser],
        pairs: &[(usize, usize)],
        known: &[Relationship],
    ) -> ReadPlan {
        if self.pair_by_pair {
            return ReadPlan::default();
        }
        let known = Relationship::for_each_of(pairs.len(), known);
        let lists = pairs
            .iter()
            .zip(known)
            .filter(|(_, relationship)| !relationship.settled())
            .map(|(&(a, b), _)| {
                let size = users[a].following.unwrap_or(0);
                PlannedList::new(a, FollowList::Following, size, 1000, vec![b])
            })
            .collect();
        ReadPlan { lists }
    }

    async fn relationships(
        &self,
        users: &[SocialUser],
        pairs: &[(usize, usize)],
        known: &[Relationship],
        caller: &Caller,
    ) -> Result<Vec<Relationship>, PartialRelationships> {
        if self.pair_by_pair {
            return relationships_one_by_one(self, users, pairs, known, caller).await;
        }
        let mut known = Relationship::for_each_of(pairs.len(), known);
        let named =
            |&(a, b): &(usize, usize)| (users[a].username.clone(), users[b].username.clone());
        let asked = Asked::Relationships(pairs.iter().map(named).collect());
        if let Err(error) = self.call(asked, &Trigger::Follows, caller).await {
            return Err(PartialRelationships { known, error });
        }
        for (relationship, &(a, b)) in known.iter_mut().zip(pairs) {
            *relationship = self.complete(&users[a], &users[b], *relationship);
        }
        Ok(known)
    }
}
