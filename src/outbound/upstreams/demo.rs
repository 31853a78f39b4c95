//! A social graph and code host read from a JSON file: the offline demo.
//!
//! ```json
//! {"github":  {"users": {"alice": {"orgs": ["acme"]}}},
//!  "twitter": {"users": {"alice": {"following": ["bob"]}}}}
//! ```
//! Optional `id`s (a number on GitHub, a string or number on X) may be given; missing ones are
//! derived from the user's position in the file's sorted handles.
//!
//! Names are read by the rules the real networks' answers are read by: a GitHub user and an
//! organisation are GitHub logins (at most [`Organisation::MAX_PER_DEVELOPER`] organisations
//! each), an X user an X username. A file that breaks one is refused, with where and why.

use crate::domain::access::Caller;
use crate::domain::{
    CodeHost, CodeHostError, Handle, Network, Organisation, OrganisationError,
    PartialRelationships, Relationship, SocialGraph, SocialGraphError, SocialUser,
    relationships_one_by_one,
};
use crate::outbound::upstreams::github::is_github_login;
use crate::outbound::upstreams::x::is_x_username;
use async_trait::async_trait;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use std::collections::{BTreeMap, HashMap, HashSet};

mod examples;
pub use examples::Examples;

/// The example graph compiled into the binary.
pub const BUNDLED_GRAPH: &str = include_str!("../../../demo/graph.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    github: GitHubFile,
    #[serde(default)]
    twitter: TwitterFile,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct GitHubFile {
    #[serde(default)]
    users: BTreeMap<Name<GitHubLogin>, GitHubUserFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GitHubUserFile {
    #[serde(default)]
    #[allow(dead_code)]
    id: Option<u64>,
    #[serde(default)]
    orgs: OrganisationsFile,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TwitterFile {
    #[serde(default)]
    users: BTreeMap<Name<XUsername>, TwitterUserFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TwitterUserFile {
    #[serde(default)]
    id: Option<IdFile>,
    #[serde(default)]
    following: Vec<String>,
    /// A protected account, as on X: its own follow lists cannot be read.
    #[serde(default)]
    protected: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum IdFile {
    Number(u64),
    Text(String),
}

/// A user's name in the file, refused where it stands when it cannot be one on its network.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Name<Rule>(String, std::marker::PhantomData<Rule>);

/// Which names a network has.
trait NameRule {
    /// What a name must be, for the message that refuses one.
    const WHAT: &'static str;
    fn holds(handle: &Handle) -> bool;
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct GitHubLogin;
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct XUsername;

impl NameRule for GitHubLogin {
    const WHAT: &'static str =
        "a GitHub login (1 to 39 ASCII letters, digits or single inner hyphens)";
    fn holds(handle: &Handle) -> bool {
        is_github_login(handle)
    }
}

impl NameRule for XUsername {
    const WHAT: &'static str = "an X username (1 to 15 ASCII letters, digits or underscores)";
    fn holds(handle: &Handle) -> bool {
        is_x_username(handle)
    }
}

impl<'de, Rule: NameRule> Deserialize<'de> for Name<Rule> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        match Handle::parse(&name) {
            Ok(handle) if Rule::holds(&handle) => Ok(Self(name, std::marker::PhantomData)),
            _ => Err(de::Error::custom(format_args!(
                "the user {:?} is not {}",
                name.chars().take(40).collect::<String>(),
                Rule::WHAT
            ))),
        }
    }
}

/// A user's organisations, each checked as it is read, so that the error says where.
#[derive(Default)]
struct OrganisationsFile(Vec<Organisation>);

impl<'de> Deserialize<'de> for OrganisationsFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Names;
        impl<'de> Visitor<'de> for Names {
            type Value = OrganisationsFile;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of organisation names")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut list = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    if list.len() == Organisation::MAX_PER_DEVELOPER {
                        return Err(de::Error::custom(OrganisationError::TooMany {
                            max: Organisation::MAX_PER_DEVELOPER,
                        }));
                    }
                    list.push(Organisation::parse(&name).map_err(de::Error::custom)?);
                }
                Ok(OrganisationsFile(list))
            }
        }
        deserializer.deserialize_seq(Names)
    }
}

/// Why a graph file was refused.
#[derive(Debug, thiserror::Error)]
#[error("invalid demo graph: {0}")]
pub struct DemoGraphError(String);

/// The X users, by lower-cased handle.
type Users = HashMap<String, SocialUser>;
/// Whom each X user follows, by lower-cased handles.
type Following = HashMap<String, HashSet<String>>;

/// The demo graph, indexed by lower-cased handle.
#[derive(Debug, Clone)]
pub struct DemoGraph {
    orgs: HashMap<String, Vec<Organisation>>,
    users: Users,
    following: Following,
}

impl DemoGraph {
    /// The graph bundled with the binary.
    ///
    /// # Errors
    /// Never in practice: the bundled file is checked by the tests.
    pub fn bundled() -> Result<Self, DemoGraphError> {
        Self::from_json(BUNDLED_GRAPH)
    }

    /// Parses and checks a graph file's text.
    ///
    /// # Errors
    /// [`DemoGraphError`] naming what is wrong: bad JSON, unknown fields, a handle given
    /// twice, a duplicate id, or a follow of someone not in the graph.
    pub fn from_json(text: &str) -> Result<Self, DemoGraphError> {
        let file: File = serde_json::from_str(text).map_err(|e| DemoGraphError(e.to_string()))?;
        let orgs = organisations(file.github)?;
        let (mut users, following) = social_users(&file.twitter)?;
        check_follows(&users, &following)?;
        count_follows(&mut users, &following);
        Ok(Self {
            orgs,
            users,
            following,
        })
    }
}

/// Each GitHub user's organisations, by lower-cased login.
fn organisations(github: GitHubFile) -> Result<HashMap<String, Vec<Organisation>>, DemoGraphError> {
    let mut orgs = HashMap::new();
    for (Name(login, _), user) in github.users {
        let handle = Handle::parse(&login)
            .map_err(|e| DemoGraphError(format!("github user {login:?}: {e}")))?;
        if orgs.insert(handle.key().to_owned(), user.orgs.0).is_some() {
            return Err(DemoGraphError(format!(
                "github user {login} is given twice"
            )));
        }
    }
    Ok(orgs)
}

/// Each X user's id, in the file's order: its own, else the first free one from a million
/// on. Explicit ids are taken first, so a derived one never takes an id the file gives.
fn twitter_ids(
    users: &BTreeMap<Name<XUsername>, TwitterUserFile>,
) -> Result<Vec<String>, DemoGraphError> {
    let explicit: Vec<Option<String>> = users
        .values()
        .map(|user| match &user.id {
            Some(IdFile::Number(n)) => Some(n.to_string()),
            Some(IdFile::Text(s)) => Some(s.clone()),
            None => None,
        })
        .collect();
    let mut taken: HashSet<String> = HashSet::new();
    for id in explicit.iter().flatten() {
        if !taken.insert(id.clone()) {
            return Err(DemoGraphError(format!("twitter id {id} is given twice")));
        }
    }
    let mut next_derived = 1_000_000_u64;
    let mut derive = || loop {
        let candidate = next_derived.to_string();
        next_derived += 1;
        if taken.insert(candidate.clone()) {
            break candidate;
        }
    };
    Ok(explicit
        .into_iter()
        .map(|id| id.unwrap_or_else(&mut derive))
        .collect())
}

/// The X users (with no follows counted yet) and whom each follows, by lower-cased handle.
fn social_users(twitter: &TwitterFile) -> Result<(Users, Following), DemoGraphError> {
    let mut users = Users::new();
    let mut following = Following::new();
    for ((Name(username, _), user), id) in twitter.users.iter().zip(twitter_ids(&twitter.users)?) {
        let handle = Handle::parse(username)
            .map_err(|e| DemoGraphError(format!("twitter user {username:?}: {e}")))?;
        let social = SocialUser {
            id,
            username: username.clone(),
            followers: Some(0),
            following: Some(0),
            protected: user.protected,
        };
        if users.insert(handle.key().to_owned(), social).is_some() {
            return Err(DemoGraphError(format!(
                "twitter user {username} is given twice"
            )));
        }
        let follows = user.following.iter().map(|f| f.to_lowercase()).collect();
        following.insert(handle.key().to_owned(), follows);
    }
    Ok((users, following))
}

/// Refuses a follow of someone who is not among the users.
fn check_follows(users: &Users, following: &Following) -> Result<(), DemoGraphError> {
    for (follower, followees) in following {
        for followee in followees {
            if !users.contains_key(followee) {
                return Err(DemoGraphError(format!(
                    "twitter user {} follows {followee}, who is not among the twitter users",
                    users[follower].username
                )));
            }
        }
    }
    Ok(())
}

/// Sets each user's follow counts from the follows.
fn count_follows(users: &mut Users, following: &Following) {
    for (follower, followees) in following {
        for followee in followees {
            if let Some(user) = users.get_mut(followee) {
                user.followers = Some(user.followers.unwrap_or(0) + 1);
            }
        }
        if let Some(user) = users.get_mut(follower) {
            user.following = Some(followees.len() as u64);
        }
    }
}

#[async_trait]
impl CodeHost for DemoGraph {
    /// The demo graph stands in for GitHub.
    fn accepts(&self, handle: &Handle) -> bool {
        is_github_login(handle)
    }

    fn network(&self) -> Network {
        Network::GitHub
    }

    async fn organisations(
        &self,
        user: &Handle,
        _caller: &Caller,
    ) -> Result<Vec<Organisation>, CodeHostError> {
        self.orgs
            .get(user.key())
            .cloned()
            .ok_or(CodeHostError::NotFound)
    }
}

#[async_trait]
impl SocialGraph for DemoGraph {
    /// The demo graph stands in for X.
    fn network(&self) -> Network {
        Network::X
    }

    fn accepts(&self, handle: &Handle) -> bool {
        is_x_username(handle)
    }

    async fn users(
        &self,
        handles: &[&Handle],
        _caller: &Caller,
    ) -> Result<Vec<Option<SocialUser>>, SocialGraphError> {
        Ok(handles
            .iter()
            .map(|h| self.users.get(h.key()).cloned())
            .collect())
    }

    async fn relationship(
        &self,
        a: &SocialUser,
        b: &SocialUser,
        _caller: &Caller,
    ) -> Result<Relationship, SocialGraphError> {
        Ok(Relationship {
            forward: Some(self.follows(a, b)?),
            backward: Some(self.follows(b, a)?),
        })
    }

    async fn relationships(
        &self,
        users: &[SocialUser],
        pairs: &[(usize, usize)],
        known: &[Relationship],
        caller: &Caller,
    ) -> Result<Vec<Relationship>, PartialRelationships> {
        relationships_one_by_one(self, users, pairs, known, caller).await
    }
}

impl DemoGraph {
    /// Whether `follower` follows `followee`.
    fn follows(
        &self,
        follower: &SocialUser,
        followee: &SocialUser,
    ) -> Result<bool, SocialGraphError> {
        // As on X: the follower's following and the followee's followers are the only lists
        // that tell, and a protected account keeps its own private.
        if follower.protected && followee.protected {
            return Err(SocialGraphError::Protected {
                follower: follower.id.clone(),
                followee: followee.id.clone(),
            });
        }
        Ok(self
            .following
            .get(&follower.username.to_lowercase())
            .is_some_and(|f| f.contains(&followee.username.to_lowercase())))
    }
}

#[cfg(test)]
mod tests;
