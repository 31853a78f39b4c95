//! X API v2 as the social graph.

use super::http::{self, describe_status, describe_transport};
use crate::domain::{
    Handle, Interrupted, Network, Relationship, SocialGraph, SocialGraphError, SocialUser,
};
use crate::metrics::{Metrics, Outcome};
use crate::secret::Secret;
use async_trait::async_trait;
use futures::StreamExt;
use reqwest::header::AUTHORIZATION;
use reqwest::{Response, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Users per page of a follow list: X's maximum, so a list costs the fewest calls.
const PAGE_SIZE: u32 = 1000;
/// Pages of a follow list read at most (a million users) before giving up.
const MAX_PAGES: usize = 1000;

/// X API v2 (`/2/users/by`, `/2/users/:id/following|followers`).
#[derive(Clone)]
pub struct XApi {
    client: reqwest::Client,
    base: Url,
    token: Secret,
    timeout: Duration,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for XApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XApi")
            .field("base", &self.base.as_str())
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct UsersBy {
    #[serde(default)]
    data: Vec<User>,
}

#[derive(Deserialize)]
struct User {
    id: String,
    username: String,
    #[serde(default)]
    public_metrics: Option<PublicMetrics>,
}

#[derive(Deserialize)]
struct PublicMetrics {
    #[serde(default)]
    followers_count: u64,
    #[serde(default)]
    following_count: u64,
}

#[derive(Deserialize)]
struct FollowPage {
    #[serde(default)]
    data: Vec<ListedUser>,
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct ListedUser {
    id: String,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    next_token: Option<String>,
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
            client: http::client(timeout)?,
            base: super::base_url(base, "TWITTER_API_URL")?,
            token,
            timeout,
            metrics,
        })
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("2").extend(segments);
        }
        url
    }

    /// One call to `endpoint` (a metrics label), its failures put in the port's words.
    async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        url: Url,
    ) -> Result<T, SocialGraphError> {
        let outcome = |outcome| self.metrics.upstream("x", endpoint, outcome);
        let response: Response = self
            .client
            .get(url)
            .header(AUTHORIZATION, format!("Bearer {}", self.token.expose()))
            .send()
            .await
            .map_err(|e| {
                outcome(Outcome::Error);
                SocialGraphError::Unavailable(describe_transport(&e, self.timeout))
            })?;
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            outcome(Outcome::RateLimited);
            let retry_after = http::until_reset(response.headers(), "x-rate-limit-reset")
                .or_else(|| http::retry_after(response.headers()))
                // X's windows are 15 minutes.
                .unwrap_or(Duration::from_secs(15 * 60));
            return Err(SocialGraphError::RateLimited { retry_after });
        }
        if !status.is_success() {
            outcome(Outcome::Error);
            return Err(SocialGraphError::Unavailable(
                describe_status(response).await,
            ));
        }
        let body = response.json().await.map_err(|e| {
            outcome(Outcome::Error);
            SocialGraphError::Unavailable(describe_transport(&e, self.timeout))
        })?;
        outcome(Outcome::Ok);
        Ok(body)
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

    async fn users(
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
            .append_pair("user.fields", "public_metrics");
        // Missing and suspended users are not HTTP errors: they come back in `errors`, which
        // is all that needs knowing about them here.
        let found: UsersBy = self.get("users_by", url).await?;
        Ok(handles
            .iter()
            .map(|handle| {
                found
                    .data
                    .iter()
                    .find(|u| u.username.eq_ignore_ascii_case(handle.as_str()))
                    .map(|u| SocialUser {
                        id: u.id.clone(),
                        username: u.username.clone(),
                        followers: u.public_metrics.as_ref().map(|m| m.followers_count),
                        following: u.public_metrics.as_ref().map(|m| m.following_count),
                    })
            })
            .collect())
    }

    async fn follows(
        &self,
        follower: &SocialUser,
        followee: &SocialUser,
    ) -> Result<bool, SocialGraphError> {
        // X bills every user a list returns: read the shorter of the follower's following
        // and the followee's followers. Even an empty-looking list is read: counts lag behind
        // follows, and a verdict must rest on the list itself.
        let unknown = u64::MAX;
        let (owner, list, wanted) =
            if follower.following.unwrap_or(unknown) <= followee.followers.unwrap_or(unknown) {
                (follower, List::Following, followee)
            } else {
                (followee, List::Followers, follower)
            };
        let found = self
            .read_list(&owner.id, list, &[wanted.id.as_str()])
            .await?;
        Ok(!found.is_empty())
    }

    /// Each follow list read at most once: for the pairs' every user, either its `following`
    /// or its `followers` (whichever kind costs less over all of them), read until every
    /// partner it is asked about has turned up or the list ends.
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
        // Whose lists to read: the followers' `following`, or the followees' `followers`,
        // whichever adds up shorter. Each list is read once, for every direction it answers.
        let size = |n: Option<u64>| n.unwrap_or(u64::MAX / 1024);
        let owners = |list: List| -> BTreeMap<usize, Vec<usize>> {
            let mut owners: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for &(follower, followee) in &needed {
                match list {
                    List::Following => owners.entry(follower).or_default().push(followee),
                    List::Followers => owners.entry(followee).or_default().push(follower),
                }
            }
            owners
        };
        let cost = |list: List, owners: &BTreeMap<usize, Vec<usize>>| -> u64 {
            owners
                .keys()
                .map(|&i| match list {
                    List::Following => size(users[i].following),
                    List::Followers => size(users[i].followers),
                })
                .fold(0, u64::saturating_add)
        };
        let (by_following, by_followers) = (owners(List::Following), owners(List::Followers));
        let (list, owners) =
            if cost(List::Following, &by_following) <= cost(List::Followers, &by_followers) {
                (List::Following, by_following)
            } else {
                (List::Followers, by_followers)
            };

        let mut reads = Vec::with_capacity(owners.len());
        for (&owner, others) in &owners {
            let wanted: Vec<String> = others.iter().map(|&o| users[o].id.clone()).collect();
            reads.push(self.read_for(owner, users[owner].id.clone(), list, wanted));
        }
        // The first failure (a rate limit, most likely) stops the reads not yet started: each
        // would be billed for nothing. The lists read by then still count.
        let mut follows: HashMap<(usize, usize), bool> = HashMap::new();
        let mut failure = None;
        let mut reading = futures::stream::iter(reads).buffer_unordered(LIST_CONCURRENCY);
        while let Some(read) = reading.next().await {
            match read {
                Ok((owner, found)) => {
                    for &other in &owners[&owner] {
                        let listed = found.contains(&users[other].id);
                        match list {
                            List::Following => follows.insert((owner, other), listed),
                            List::Followers => follows.insert((other, owner), listed),
                        };
                    }
                }
                Err(error) => {
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

/// Which of a user's two follow lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

/// Follow lists read at once for one request.
const LIST_CONCURRENCY: usize = 4;

impl XApi {
    /// [`XApi::read_list`] for the user at `index`, owning what it needs.
    async fn read_for(
        &self,
        index: usize,
        owner: String,
        list: List,
        wanted: Vec<String>,
    ) -> Result<(usize, HashSet<String>), SocialGraphError> {
        let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
        Ok((index, self.read_list(&owner, list, &wanted).await?))
    }

    /// Reads `owner`'s list page by page until every wanted id has been seen or the list
    /// ends; the wanted ids it saw.
    async fn read_list(
        &self,
        owner: &str,
        list: List,
        wanted: &[&str],
    ) -> Result<HashSet<String>, SocialGraphError> {
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
            self.metrics.x_users_read(page.data.len() as u64);
            for user in page.data {
                if wanted.contains(&user.id.as_str()) {
                    found.insert(user.id);
                }
            }
            token = page.meta.and_then(|m| m.next_token);
            if token.is_none() || found.len() == wanted.len() {
                return Ok(found);
            }
        }
        Err(SocialGraphError::Unavailable(format!(
            "the {} list of user {owner} has more than {MAX_PAGES} pages",
            list.path()
        )))
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
