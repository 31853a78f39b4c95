//! A social graph and code host read from a JSON file: the offline demo.
//!
//! ```json
//! {"github":  {"users": {"alice": {"orgs": ["acme"]}}},
//!  "twitter": {"users": {"alice": {"following": ["bob"]}}}}
//! ```
//! Optional `id`s (a number on GitHub, a string or number on X) may be given; missing ones are
//! derived from the user's position in the file's sorted handles.

use crate::domain::GraphNames;
use crate::domain::{
    CodeHost, CodeHostError, Handle, Interrupted, Network, Relationship, SocialGraph,
    SocialGraphError, SocialUser, relationships_one_by_one,
};
use async_trait::async_trait;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The example graph compiled into the binary.
pub const BUNDLED_GRAPH: &str = include_str!("../../demo/graph.json");

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
    users: BTreeMap<String, GitHubUserFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GitHubUserFile {
    #[serde(default)]
    #[allow(dead_code)]
    id: Option<u64>,
    #[serde(default)]
    orgs: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TwitterFile {
    #[serde(default)]
    users: BTreeMap<String, TwitterUserFile>,
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
    orgs: HashMap<String, Vec<String>>,
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
fn organisations(github: GitHubFile) -> Result<HashMap<String, Vec<String>>, DemoGraphError> {
    let mut orgs = HashMap::new();
    for (login, user) in github.users {
        let handle = Handle::parse(&login)
            .map_err(|e| DemoGraphError(format!("github user {login:?}: {e}")))?;
        if orgs.insert(handle.key().to_owned(), user.orgs).is_some() {
            return Err(DemoGraphError(format!(
                "github user {login} is given twice"
            )));
        }
    }
    Ok(orgs)
}

/// Each X user's id, in the file's order: its own, else the first free one from a million
/// on. Explicit ids are taken first, so a derived one never takes an id the file gives.
fn twitter_ids(users: &BTreeMap<String, TwitterUserFile>) -> Result<Vec<String>, DemoGraphError> {
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
    for ((username, user), id) in twitter.users.iter().zip(twitter_ids(&twitter.users)?) {
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
        handle.is_github_login()
    }

    /// Nothing to wait for: all in memory.
    fn concurrency(&self) -> usize {
        64
    }

    async fn organisations(&self, user: &Handle) -> Result<Vec<String>, CodeHostError> {
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

    fn names(&self) -> GraphNames {
        GraphNames {
            users_cache: "demo_users",
            relationships_cache: "demo_relationships",
            lookup_limit: "demo",
            follows_limit: "demo",
        }
    }

    fn accepts(&self, handle: &Handle) -> bool {
        handle.is_x_username()
    }

    async fn users(
        &self,
        handles: &[&Handle],
    ) -> Result<Vec<Option<SocialUser>>, SocialGraphError> {
        Ok(handles
            .iter()
            .map(|h| self.users.get(h.key()).cloned())
            .collect())
    }

    fn pair_by_pair(&self) -> bool {
        true
    }

    async fn relationship(
        &self,
        a: &SocialUser,
        b: &SocialUser,
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
    ) -> Result<Vec<Relationship>, Interrupted> {
        relationships_one_by_one(self, users, pairs, known).await
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
mod tests {
    use super::*;

    fn h(s: &str) -> Handle {
        Handle::parse(s).unwrap()
    }

    #[tokio::test]
    async fn the_bundled_graph_loads() {
        let graph = DemoGraph::bundled().unwrap();
        assert!(!graph.orgs.is_empty());
        assert!(!graph.users.is_empty());
    }

    #[tokio::test]
    async fn a_graph_answers_case_insensitively_and_counts_follows() {
        let graph = DemoGraph::from_json(
            r#"{"github": {"users": {"Alice": {"orgs": ["Acme"]}}},
                "twitter": {"users": {"Alice": {"following": ["BOB"], "id": 7}, "bob": {}}}}"#,
        )
        .unwrap();
        assert_eq!(
            graph.organisations(&h("aLiCe")).await.unwrap(),
            vec!["Acme"]
        );
        assert_eq!(
            graph.organisations(&h("bob")).await,
            Err(CodeHostError::NotFound)
        );
        let users = graph
            .users(&[&h("ALICE"), &h("bob"), &h("carol")])
            .await
            .unwrap();
        let alice = users[0].clone().unwrap();
        let bob = users[1].clone().unwrap();
        assert_eq!(alice.id, "7");
        assert_eq!((alice.following, bob.followers), (Some(1), Some(1)));
        assert!(users[2].is_none());
        assert!(graph.follows(&alice, &bob).unwrap());
        assert!(!graph.follows(&bob, &alice).unwrap());
    }

    #[test]
    fn a_follow_of_someone_outside_the_graph_is_refused() {
        let err = DemoGraph::from_json(r#"{"twitter": {"users": {"a": {"following": ["zed"]}}}}"#)
            .unwrap_err();
        assert!(err.to_string().contains("follows zed"), "{err}");
    }

    #[test]
    fn unknown_fields_and_bad_json_are_refused() {
        assert!(DemoGraph::from_json(r#"{"gitlab": {}}"#).is_err());
        assert!(DemoGraph::from_json("{").is_err());
        assert!(
            DemoGraph::from_json(r#"{"twitter": {"users": {"a": {"id": 1}, "b": {"id": "1"}}}}"#)
                .is_err()
        );
    }
}
