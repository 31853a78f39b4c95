//! X API v2 as the social graph.

use super::http::{self, describe_status, describe_transport};
use crate::domain::{Handle, Network, SocialGraph, SocialGraphError, SocialUser};
use crate::metrics::{Metrics, Outcome};
use crate::secret::Secret;
use async_trait::async_trait;
use reqwest::header::AUTHORIZATION;
use reqwest::{Response, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
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
                (&follower.id, "following", &followee.id)
            } else {
                (&followee.id, "followers", &follower.id)
            };
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut url = self.url(&["users", owner, list]);
            {
                let mut query = url.query_pairs_mut();
                query.append_pair("max_results", &PAGE_SIZE.to_string());
                if let Some(token) = &token {
                    query.append_pair("pagination_token", token);
                }
            }
            let page: FollowPage = self.get(list, url).await?;
            self.metrics.x_users_read(page.data.len() as u64);
            if page.data.iter().any(|u| &u.id == wanted) {
                return Ok(true);
            }
            token = page.meta.and_then(|m| m.next_token);
            if token.is_none() {
                return Ok(false);
            }
        }
        Err(SocialGraphError::Unavailable(format!(
            "the {list} list of user {owner} has more than {} pages",
            MAX_PAGES
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
