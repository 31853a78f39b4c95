//! X API v2 as the social graph.

use super::upstream::{Refusal, Upstream, too_many_requests};
use crate::domain::{
    Handle, Interrupted, Network, Relationship, SocialGraph, SocialGraphError, SocialUser,
};
use crate::metrics::Metrics;
use crate::secret::Secret;
use async_trait::async_trait;
use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Users per page of a follow list: X's maximum, so a list costs the fewest calls.
const PAGE_SIZE: u32 = 1000;
/// Pages of a follow list read at most (a million users) before giving up.
const MAX_PAGES: usize = 1000;

/// X API v2 (`/2/users/by`, `/2/users/:id/following|followers`).
#[derive(Clone, Debug)]
pub struct XApi {
    api: Upstream,
    metrics: Arc<Metrics>,
}

/// X's refusals: a `429` with its reset in `x-rate-limit-reset` (its windows are 15
/// minutes); X says "not found" inside a `200`, never with a status.
fn refusal(status: StatusCode, headers: &HeaderMap, _: &str) -> Option<Refusal> {
    too_many_requests(
        status,
        headers,
        "x-rate-limit-reset",
        Duration::from_secs(15 * 60),
    )
}

#[derive(Deserialize)]
struct UsersBy {
    data: Option<Vec<User>>,
    errors: Option<Vec<Problem>>,
}

#[derive(Deserialize)]
struct User {
    id: String,
    username: String,
    #[serde(default)]
    public_metrics: Option<PublicMetrics>,
    #[serde(default)]
    protected: bool,
}

#[derive(Deserialize)]
struct PublicMetrics {
    #[serde(default)]
    followers_count: u64,
    #[serde(default)]
    following_count: u64,
}

/// One entry of an answer's `errors`: X's problem details.
#[derive(Deserialize)]
struct Problem {
    #[serde(default)]
    value: Option<serde_json::Value>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    detail: String,
    #[serde(default, rename = "type")]
    kind: String,
}

impl Problem {
    /// Whether it says that the user it names does not exist or is suspended: the two ways
    /// the lookup says "no such user".
    fn is_missing_user(&self) -> bool {
        self.kind.ends_with("/problems/resource-not-found") || self.title == "Forbidden"
    }

    /// Whether it says the resource is private: a protected account's own lists.
    fn is_not_authorized(&self) -> bool {
        self.kind.ends_with("/problems/not-authorized-for-resource")
    }

    fn names(&self, username: &str) -> bool {
        self.value
            .as_ref()
            .and_then(serde_json::Value::as_str)
            .is_some_and(|v| v.eq_ignore_ascii_case(username))
    }

    fn summary(&self) -> String {
        let text = if self.detail.is_empty() {
            &self.title
        } else {
            &self.detail
        };
        text.chars().take(200).collect()
    }
}

#[derive(Deserialize)]
struct FollowPage {
    data: Option<Vec<ListedUser>>,
    meta: Option<Meta>,
    #[serde(default)]
    errors: Vec<Problem>,
}

#[derive(Debug, Deserialize)]
struct ListedUser {
    id: String,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    result_count: Option<u64>,
    #[serde(default)]
    next_token: Option<String>,
}

/// Why a follow list gave no answer.
#[derive(Debug)]
enum ListError {
    /// The list is private: its owner is a protected account.
    Private,
    Graph(SocialGraphError),
}

impl From<SocialGraphError> for ListError {
    fn from(error: SocialGraphError) -> Self {
        ListError::Graph(error)
    }
}

/// An answer that is JSON but not the answer asked for: a failure, never a fact.
fn unreadable(what: impl std::fmt::Display) -> SocialGraphError {
    SocialGraphError::Unavailable(format!("its answer could not be read: {what}"))
}

impl FollowPage {
    /// The users on the page and the next page's token. A page says what it is (`meta`);
    /// `data` is absent only when the page is empty. Anything else is not an answer: a
    /// protected account's authorisation error, or a failure.
    fn read(self) -> Result<(Vec<ListedUser>, Option<String>), ListError> {
        match (self.meta, self.data) {
            (Some(meta), Some(data)) => Ok((data, meta.next_token)),
            (Some(meta), None) if meta.result_count == Some(0) => Ok((Vec::new(), meta.next_token)),
            (Some(meta), None) => Err(unreadable(format_args!(
                "a page of {} users lists none",
                meta.result_count
                    .map_or_else(|| "an unknown number of".to_owned(), |n| n.to_string())
            ))
            .into()),
            (None, _) if self.errors.iter().any(Problem::is_not_authorized) => {
                Err(ListError::Private)
            }
            (None, _) => Err(unreadable(match self.errors.first() {
                Some(problem) => format!("no page, only an error: {}", problem.summary()),
                None => "no page (neither `data` nor `meta`)".to_owned(),
            })
            .into()),
        }
    }
}

impl XApi {
    /// # Errors
    /// A message when the base URL is not an http(s) URL or the client cannot be built.
    pub fn new(
        base: &str,
        token: Secret,
        timeout: Duration,
        metrics: Arc<Metrics>,
    ) -> Result<Self, String> {
        Ok(Self {
            api: Upstream::new(
                "x",
                base,
                "TWITTER_API_URL",
                Some(&token),
                timeout,
                Arc::clone(&metrics),
                refusal,
            )?,
            metrics,
        })
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut path = vec!["2"];
        path.extend_from_slice(segments);
        self.api.url(&path)
    }

    /// One call to `endpoint` (a metrics label), its failures put in the port's words.
    async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        url: Url,
    ) -> Result<T, SocialGraphError> {
        self.api
            .get_json(endpoint, url)
            .await?
            .ok_or_else(|| SocialGraphError::Unavailable("it answered 404 Not Found".to_owned()))
    }
}

#[async_trait]
impl SocialGraph for XApi {
    fn network(&self) -> Network {
        Network::X
    }

    fn accepts(&self, handle: &Handle) -> bool {
        handle.is_x_username()
    }

    fn pair_by_pair(&self) -> bool {
        false
    }

    /// Up to 100 users a call, X's maximum.
    async fn users(
        &self,
        handles: &[&Handle],
    ) -> Result<Vec<Option<SocialUser>>, SocialGraphError> {
        let mut users = Vec::with_capacity(handles.len());
        for batch in handles.chunks(LOOKUP_BATCH) {
            users.extend(self.users_by(batch).await?);
        }
        Ok(users)
    }

    /// The cheaper direction first (the shorter list that can be read), and the other only
    /// when the first holds.
    async fn relationship(
        &self,
        a: &SocialUser,
        b: &SocialUser,
    ) -> Result<Relationship, SocialGraphError> {
        let a_first = follow_cost(a, b) <= follow_cost(b, a);
        let (first, second) = if a_first { (a, b) } else { (b, a) };
        let mut known = Relationship {
            forward: Some(self.follows(first, second).await?),
            backward: None,
        };
        if known.forward == Some(true) {
            known.backward = Some(self.follows(second, first).await?);
        }
        Ok(if a_first { known } else { known.reversed() })
    }

    /// Each follow list read at most once: for the pairs' every user, either its `following`
    /// or its `followers` (whichever kind costs less over all of them, where both can be
    /// read), read until every partner it is asked about has turned up or the list ends. A
    /// direction that no readable list can tell (both accounts protected) is left unknown.
    async fn relationships(
        &self,
        users: &[SocialUser],
        pairs: &[(usize, usize)],
        known: &[Relationship],
    ) -> Result<Vec<Relationship>, Interrupted> {
        let mut known = Relationship::for_each_of(pairs.len(), known);
        // The directions still to learn, as (follower, followee).
        let mut needed: Vec<(usize, usize)> = Vec::new();
        for (relationship, &(a, b)) in known.iter().zip(pairs) {
            if relationship.settled() {
                continue;
            }
            if relationship.forward.is_none() {
                needed.push((a, b));
            }
            if relationship.backward.is_none() {
                needed.push((b, a));
            }
        }
        let reads = plan_reads(users, &needed);

        let mut pending = Vec::with_capacity(reads.len());
        for (&(owner, list), others) in &reads {
            let wanted: Vec<String> = others.iter().map(|&o| users[o].id.clone()).collect();
            pending.push(self.read_for(owner, users[owner].id.clone(), list, wanted));
        }
        // The first failure (a rate limit, most likely) stops the reads not yet started: each
        // would be billed for nothing. The lists read by then still count.
        let mut follows: HashMap<(usize, usize), bool> = HashMap::new();
        let mut failure = None;
        let mut reading = futures::stream::iter(pending).buffer_unordered(LIST_CONCURRENCY);
        while let Some((read, answer)) = reading.next().await {
            let (owner, list) = read;
            match answer {
                Ok(found) => {
                    for &other in &reads[&read] {
                        let listed = found.contains(&users[other].id);
                        match list {
                            List::Following => follows.insert((owner, other), listed),
                            List::Followers => follows.insert((other, owner), listed),
                        };
                    }
                }
                // Protected since it was looked up: these directions stay unknown.
                Err(ListError::Private) => {}
                Err(ListError::Graph(error)) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        drop(reading);
        for (relationship, &(a, b)) in known.iter_mut().zip(pairs) {
            if relationship.forward.is_none() {
                relationship.forward = follows.get(&(a, b)).copied();
            }
            if relationship.backward.is_none() {
                relationship.backward = follows.get(&(b, a)).copied();
            }
        }
        match failure {
            None => Ok(known),
            Some(error) => Err(Interrupted { known, error }),
        }
    }
}

/// Which lists to read, each once, for every direction (follower, followee) it answers: the
/// list that a protected account does not keep private when only one can be read; a list
/// read anyway for the directions it also answers; and for the rest the followers'
/// `following` or the followees' `followers`, whichever adds up shorter.
fn plan_reads(
    users: &[SocialUser],
    needed: &[(usize, usize)],
) -> BTreeMap<(usize, List), Vec<usize>> {
    let mut reads: BTreeMap<(usize, List), Vec<usize>> = BTreeMap::new();
    let mut either = Vec::new();
    for &(follower, followee) in needed {
        match (users[follower].protected, users[followee].protected) {
            (true, true) => {}
            (false, true) => reads
                .entry((follower, List::Following))
                .or_default()
                .push(followee),
            (true, false) => reads
                .entry((followee, List::Followers))
                .or_default()
                .push(follower),
            (false, false) => either.push((follower, followee)),
        }
    }
    either.retain(|&(follower, followee)| {
        if let Some(others) = reads.get_mut(&(follower, List::Following)) {
            others.push(followee);
        } else if let Some(others) = reads.get_mut(&(followee, List::Followers)) {
            others.push(follower);
        } else {
            return true;
        }
        false
    });
    let owner = |list: List, (follower, followee): (usize, usize)| match list {
        List::Following => (follower, followee),
        List::Followers => (followee, follower),
    };
    let cost = |list: List| -> u64 {
        let owners: BTreeSet<usize> = either.iter().map(|&d| owner(list, d).0).collect();
        owners
            .into_iter()
            .map(|i| list.size(&users[i]).unwrap_or(u64::MAX / 1024))
            .fold(0, u64::saturating_add)
    };
    let list = if cost(List::Following) <= cost(List::Followers) {
        List::Following
    } else {
        List::Followers
    };
    for &direction in &either {
        let (owner, other) = owner(list, direction);
        reads.entry((owner, list)).or_default().push(other);
    }
    reads
}

/// Which of a user's two follow lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum List {
    Following,
    Followers,
}

impl List {
    fn path(self) -> &'static str {
        match self {
            List::Following => "following",
            List::Followers => "followers",
        }
    }

    /// How long this list of `user` is, as the lookup said.
    fn size(self, user: &SocialUser) -> Option<u64> {
        match self {
            List::Following => user.following,
            List::Followers => user.followers,
        }
    }
}

/// Follow lists read at once for one request.
const LIST_CONCURRENCY: usize = 4;
/// Users per lookup, X's maximum.
const LOOKUP_BATCH: usize = 100;

/// Users to read to settle "follower follows followee": the shorter of the follower's
/// following and the followee's followers that can be read (unknown sizes count as endless,
/// and so does a direction no list can tell).
fn follow_cost(follower: &SocialUser, followee: &SocialUser) -> u64 {
    let size = |owner: &SocialUser, list: List| {
        if owner.protected {
            u64::MAX
        } else {
            list.size(owner).unwrap_or(u64::MAX - 1)
        }
    };
    size(follower, List::Following).min(size(followee, List::Followers))
}

impl XApi {
    /// One `/2/users/by` call.
    async fn users_by(
        &self,
        handles: &[&Handle],
    ) -> Result<Vec<Option<SocialUser>>, SocialGraphError> {
        let mut url = self.url(&["users", "by"]);
        let names = handles
            .iter()
            .map(|h| h.as_str())
            .collect::<Vec<_>>()
            .join(",");
        url.query_pairs_mut()
            .append_pair("usernames", &names)
            .append_pair("user.fields", "public_metrics,protected");
        // Missing and suspended users are not HTTP errors: they come back in `errors`. A user
        // is missing only when `errors` says so; one the answer does not mention at all is a
        // failure, never "no such user".
        let answer: UsersBy = self.get("users_by", url).await?;
        if answer.data.is_none() && answer.errors.is_none() {
            return Err(unreadable("neither users nor errors"));
        }
        let (data, errors) = (
            answer.data.unwrap_or_default(),
            answer.errors.unwrap_or_default(),
        );
        handles
            .iter()
            .map(|handle| {
                let name = handle.as_str();
                if let Some(u) = data.iter().find(|u| u.username.eq_ignore_ascii_case(name)) {
                    return Ok(Some(SocialUser {
                        id: u.id.clone(),
                        username: u.username.clone(),
                        followers: u.public_metrics.as_ref().map(|m| m.followers_count),
                        following: u.public_metrics.as_ref().map(|m| m.following_count),
                        protected: u.protected,
                    }));
                }
                match errors.iter().find(|p| p.names(name)) {
                    Some(problem) if problem.is_missing_user() => Ok(None),
                    Some(problem) => Err(unreadable(format_args!(
                        "an error about {name}: {}",
                        problem.summary()
                    ))),
                    None => Err(unreadable(format_args!("{name} is not mentioned"))),
                }
            })
            .collect()
    }

    /// Whether `follower` follows `followee`: one list read.
    async fn follows(
        &self,
        follower: &SocialUser,
        followee: &SocialUser,
    ) -> Result<bool, SocialGraphError> {
        // X bills every user a list returns: read the shorter of the follower's following
        // and the followee's followers, of those a protected account does not keep private.
        // Even an empty-looking list is read: counts lag behind follows, and a verdict must
        // rest on the list itself.
        let mut lists = [
            (List::Following, follower, followee),
            (List::Followers, followee, follower),
        ];
        lists.sort_by_key(|&(list, owner, _)| list.size(owner).unwrap_or(u64::MAX));
        for (list, owner, wanted) in lists {
            if owner.protected {
                continue;
            }
            match self.read_list(&owner.id, list, &[wanted.id.as_str()]).await {
                Ok(found) => return Ok(!found.is_empty()),
                // Protected since it was looked up: the other list may still tell.
                Err(ListError::Private) => {}
                Err(ListError::Graph(error)) => return Err(error),
            }
        }
        Err(SocialGraphError::Protected {
            follower: follower.id.clone(),
            followee: followee.id.clone(),
        })
    }

    /// [`XApi::read_list`] for the user at `index`, owning what it needs.
    async fn read_for(
        &self,
        index: usize,
        owner: String,
        list: List,
        wanted: Vec<String>,
    ) -> ((usize, List), Result<HashSet<String>, ListError>) {
        let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
        ((index, list), self.read_list(&owner, list, &wanted).await)
    }

    /// Reads `owner`'s list page by page until every wanted id has been seen or the list
    /// ends; the wanted ids it saw.
    async fn read_list(
        &self,
        owner: &str,
        list: List,
        wanted: &[&str],
    ) -> Result<HashSet<String>, ListError> {
        let mut found = HashSet::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut url = self.url(&["users", owner, list.path()]);
            {
                let mut query = url.query_pairs_mut();
                query.append_pair("max_results", &PAGE_SIZE.to_string());
                if let Some(token) = &token {
                    query.append_pair("pagination_token", token);
                }
            }
            let page: FollowPage = self.get(list.path(), url).await?;
            let (users, next) = page.read()?;
            self.metrics.x_users_read(users.len() as u64);
            for user in users {
                if wanted.contains(&user.id.as_str()) {
                    found.insert(user.id);
                }
            }
            token = next;
            if token.is_none() || found.len() == wanted.len() {
                return Ok(found);
            }
        }
        Err(SocialGraphError::Unavailable(format!(
            "the {} list of user {owner} has more than {MAX_PAGES} pages",
            list.path()
        ))
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_built_from_segments() {
        let x = XApi::new(
            "http://127.0.0.1:9",
            Secret::new("t"),
            Duration::from_secs(1),
            Arc::default(),
        )
        .unwrap();
        assert_eq!(
            x.url(&["users", "1/../x", "following"]).as_str(),
            "http://127.0.0.1:9/2/users/1%2F..%2Fx/following"
        );
    }

    fn user(id: &str, following: u64, followers: u64, protected: bool) -> SocialUser {
        SocialUser {
            id: id.to_owned(),
            username: id.to_owned(),
            followers: Some(followers),
            following: Some(following),
            protected,
        }
    }

    #[test]
    fn lists_a_protected_account_keeps_private_are_never_planned() {
        // 0 protected, 1 and 2 not: 0 -> 1 only from 1's followers, 1 -> 0 only from 1's
        // following; 0 and 3 both protected: no list tells.
        let users = [
            user("a", 1, 1, true),
            user("b", 10, 10, false),
            user("c", 1, 5000, false),
            user("d", 1, 1, true),
        ];
        let reads = plan_reads(&users, &[(0, 1), (1, 0), (0, 3), (3, 0), (2, 1)]);
        assert_eq!(
            reads,
            BTreeMap::from([
                ((1, List::Following), vec![0]),
                ((1, List::Followers), vec![0, 2]),
            ]),
            "2 -> 1 rides on 1's followers, read anyway for 0 -> 1, not on 2's own list"
        );
    }

    #[test]
    fn the_cheaper_kind_of_list_is_read_when_both_can_be() {
        let users = [user("a", 5000, 1, false), user("b", 5000, 1, false)];
        assert_eq!(
            plan_reads(&users, &[(0, 1), (1, 0)]),
            BTreeMap::from([
                ((0, List::Followers), vec![1]),
                ((1, List::Followers), vec![0]),
            ])
        );
    }

    fn page(body: &str) -> Result<(Vec<ListedUser>, Option<String>), ListError> {
        serde_json::from_str::<FollowPage>(body).unwrap().read()
    }

    #[test]
    fn a_page_is_read_only_when_it_says_it_is_one() {
        let (users, next) = page(r#"{"meta": {"result_count": 0}}"#).ok().unwrap();
        assert!(users.is_empty() && next.is_none());
        let (users, next) =
            page(r#"{"data": [{"id": "1"}], "meta": {"result_count": 1, "next_token": "t"}}"#)
                .ok()
                .unwrap();
        assert_eq!((users.len(), next.as_deref()), (1, Some("t")));
        assert!(matches!(
            page(
                r#"{"errors": [{"title": "Authorization Error", "type": "https://api.twitter.com/2/problems/not-authorized-for-resource"}]}"#
            ),
            Err(ListError::Private)
        ));
        for body in [
            r#"{"title":"OK","detail":"OK","type":"about:blank","status":200}"#,
            r#"{"meta": {"result_count": 2}}"#,
            r#"{"data": []}"#,
        ] {
            assert!(
                matches!(
                    page(body),
                    Err(ListError::Graph(SocialGraphError::Unavailable(_)))
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let x = XApi::new(
            "https://api.x.com",
            Secret::new("AAAA-bearer"),
            Duration::from_secs(1),
            Arc::default(),
        )
        .unwrap();
        assert!(!format!("{x:?}").contains("AAAA"));
    }
}
