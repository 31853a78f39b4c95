//! GitHub's REST API as the code host.

use super::http::{self, describe_transport};
use crate::domain::{
    CodeHost, CodeHostError, Handle, Interrupted, Network, Relationship, SocialGraph,
    SocialGraphError, SocialUser, relationships_one_by_one,
};
use crate::metrics::{Metrics, Outcome};
use crate::secret::Secret;
use async_trait::async_trait;
use reqwest::header::{ACCEPT, AUTHORIZATION, ETAG, HeaderMap, IF_NONE_MATCH, LINK};
use reqwest::{Response, StatusCode};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Pages of 100 organisations followed at most; past that the list is cut, not looped on.
const MAX_PAGES: usize = 50;

/// GitHub's REST API (`GET /users/{login}/orgs`).
#[derive(Clone)]
pub struct GitHubRest {
    client: reqwest::Client,
    base: Url,
    token: Option<Secret>,
    timeout: Duration,
    metrics: Arc<Metrics>,
    /// The last page seen at each URL with its `ETag`, to revalidate with `If-None-Match`:
    /// a `304` costs no rate limit. Bounded, least recently used first out.
    pages: moka::sync::Cache<String, Arc<StoredPage>>,
}

/// One page of organisations as GitHub last sent it.
struct StoredPage {
    etag: String,
    organisations: Vec<String>,
    next: Option<Url>,
}

impl std::fmt::Debug for GitHubRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubRest")
            .field("base", &self.base.as_str())
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Organisation {
    login: String,
}

impl GitHubRest {
    /// # Errors
    /// A message when the base URL is not an http(s) URL or the client cannot be built.
    pub fn new(
        base: &str,
        token: Option<Secret>,
        timeout: Duration,
        metrics: Arc<Metrics>,
        revalidation_entries: u64,
    ) -> Result<Self, String> {
        let base = super::base_url(base, "GITHUB_API_URL")?;
        Ok(Self {
            client: http::client(timeout)?,
            base,
            token,
            timeout,
            metrics,
            pages: moka::sync::Cache::builder()
                .max_capacity(revalidation_entries)
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .build(),
        })
    }

    fn orgs_url(&self, login: &str) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            // Pushed as segments, so a handle is percent-encoded and can never change the path.
            segments.pop_if_empty().extend(["users", login, "orgs"]);
        }
        url.query_pairs_mut().append_pair("per_page", "100");
        url
    }

    async fn get(
        &self,
        endpoint: &'static str,
        url: Url,
        etag: Option<&str>,
    ) -> Result<Response, CodeHostError> {
        let mut request = self
            .client
            .get(url)
            .header(ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        if let Some(token) = &self.token {
            request = request.header(AUTHORIZATION, format!("Bearer {}", token.expose()));
        }
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        request.send().await.map_err(|e| {
            self.metrics.upstream("github", endpoint, Outcome::Error);
            CodeHostError::Unavailable(describe_transport(&e, self.timeout))
        })
    }

    /// One page: its organisations and the next page's URL, revalidated when it was seen
    /// before.
    async fn page(&self, url: Url) -> Result<(Vec<String>, Option<Url>), CodeHostError> {
        let key = url.to_string();
        let stored = self.pages.get(&key);
        let response = self
            .get("orgs", url, stored.as_ref().map(|p| p.etag.as_str()))
            .await?;
        let status = response.status();
        let outcome = |outcome| self.metrics.upstream("github", "orgs", outcome);
        if status == StatusCode::NOT_MODIFIED {
            outcome(Outcome::NotModified);
            // The page's body is unchanged, but a list that grew may have gained a page
            // after it: the 304's own Link header says so when it has one.
            let next = self.next_page(response.headers());
            return match stored {
                Some(page) => Ok((
                    page.organisations.clone(),
                    next.or_else(|| page.next.clone()),
                )),
                None => Err(CodeHostError::Unavailable(
                    "it answered 304 Not Modified to a request that was not conditional".to_owned(),
                )),
            };
        }
        if status == StatusCode::NOT_FOUND {
            outcome(Outcome::NotFound);
            self.pages.invalidate(&key);
            return Err(CodeHostError::NotFound);
        }
        if !status.is_success() {
            return Err(match refusal(response).await {
                Refusal::RateLimited(retry_after) => {
                    outcome(Outcome::RateLimited);
                    CodeHostError::RateLimited { retry_after }
                }
                Refusal::Other(reason) => {
                    outcome(Outcome::Error);
                    CodeHostError::Unavailable(reason)
                }
            });
        }
        let next = self.next_page(response.headers());
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let page: Vec<Organisation> = response.json().await.map_err(|e| {
            outcome(Outcome::Error);
            CodeHostError::Unavailable(describe_transport(&e, self.timeout))
        })?;
        outcome(Outcome::Ok);
        let organisations: Vec<String> = page.into_iter().map(|o| o.login).collect();
        // A full last page is not kept for revalidation: should the list grow by one, this
        // page would not change (so GitHub would answer 304) while a new page appeared.
        let full_last_page = next.is_none() && organisations.len() >= 100;
        if let (Some(etag), false) = (etag, full_last_page) {
            self.pages.insert(
                key,
                Arc::new(StoredPage {
                    etag,
                    organisations: organisations.clone(),
                    next: next.clone(),
                }),
            );
        }
        Ok((organisations, next))
    }

    /// The `rel="next"` link, followed only while it stays on the configured origin so the
    /// token is never sent elsewhere.
    fn next_page(&self, headers: &HeaderMap) -> Option<Url> {
        let link = headers.get(LINK)?.to_str().ok()?;
        let next = link.split(',').find_map(|part| {
            let (target, params) = part.split_once(';')?;
            let is_next = params
                .split(';')
                .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"));
            is_next.then(|| target.trim().trim_start_matches('<').trim_end_matches('>'))
        })?;
        let next = self.base.join(next).ok()?;
        (next.origin() == self.base.origin()).then_some(next)
    }
}

/// How GitHub refused a request.
enum Refusal {
    RateLimited(Duration),
    Other(String),
}

/// A non-2xx answer: a rate limit by its headers, or a secondary rate limit said only in the
/// body (GitHub asks for a minute's wait then, and may ban a client that keeps going), or
/// anything else in words.
async fn refusal(response: Response) -> Refusal {
    let status = response.status();
    if let Some(wait) = rate_limit(status, response.headers()) {
        return Refusal::RateLimited(wait);
    }
    let text = response.text().await.unwrap_or_default();
    let limited = matches!(
        status,
        StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
    ) && text.to_ascii_lowercase().contains("rate limit");
    if limited {
        Refusal::RateLimited(Duration::from_secs(60))
    } else {
        Refusal::Other(http::describe(status, &text))
    }
}

/// GitHub's rate limits: 403 or 429 with `x-ratelimit-remaining: 0` (reset in
/// `x-ratelimit-reset`), or a secondary limit with `retry-after`. A plain 403 is a permission
/// problem, not a rate limit.
fn rate_limit(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let exhausted = headers
        .get("x-ratelimit-remaining")
        .is_some_and(|v| v.as_bytes() == b"0");
    if let Some(wait) = http::retry_after(headers) {
        return Some(wait);
    }
    if exhausted {
        return Some(
            http::until_reset(headers, "x-ratelimit-reset").unwrap_or(Duration::from_secs(60)),
        );
    }
    // GitHub's advice for a secondary limit without headers: wait at least a minute.
    (status == StatusCode::TOO_MANY_REQUESTS).then(|| Duration::from_secs(60))
}

/// GitHub calls in flight at once for one request: GitHub asks clients not to hammer it
/// (its secondary rate limits punish concurrency).
const CONCURRENCY: usize = 8;

#[async_trait]
impl CodeHost for GitHubRest {
    fn accepts(&self, handle: &Handle) -> bool {
        handle.is_github_login()
    }

    fn concurrency(&self) -> usize {
        CONCURRENCY
    }

    async fn organisations(&self, user: &Handle) -> Result<Vec<String>, CodeHostError> {
        let mut url = self.orgs_url(user.as_str());
        let mut organisations = Vec::new();
        for _ in 0..MAX_PAGES {
            let (page, next) = self.page(url).await?;
            organisations.extend(page);
            match next {
                Some(next) => url = next,
                None => return Ok(organisations),
            }
        }
        Err(CodeHostError::Unavailable(format!(
            "the organisation list of {user} has more than {MAX_PAGES} pages"
        )))
    }
}

/// GitHub's own follow graph: "A follows B" is `GET /users/{a}/following/{b}` (204 yes, 404
/// no), so a pair needs no list reads. Whether a user exists is the organisations call's to
/// say, made in the same round: the lookup here asks nothing.
#[async_trait]
impl SocialGraph for GitHubRest {
    fn network(&self) -> Network {
        Network::GitHub
    }

    fn accepts(&self, handle: &Handle) -> bool {
        handle.is_github_login()
    }

    async fn users(
        &self,
        handles: &[&Handle],
    ) -> Result<Vec<Option<SocialUser>>, SocialGraphError> {
        Ok(handles
            .iter()
            .map(|h| {
                Some(SocialUser {
                    id: h.key().to_owned(),
                    username: h.as_str().to_owned(),
                    followers: None,
                    following: None,
                    protected: false,
                })
            })
            .collect())
    }

    fn pair_by_pair(&self) -> bool {
        true
    }

    /// One direction, and the other only when the first holds.
    async fn relationship(
        &self,
        a: &SocialUser,
        b: &SocialUser,
    ) -> Result<Relationship, SocialGraphError> {
        let mut known = Relationship {
            forward: Some(self.follows(a, b).await?),
            backward: None,
        };
        if known.forward == Some(true) {
            known.backward = Some(self.follows(b, a).await?);
        }
        Ok(known)
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

impl GitHubRest {
    /// Whether `follower` follows `followee`: `GET /users/{a}/following/{b}`.
    async fn follows(
        &self,
        follower: &SocialUser,
        followee: &SocialUser,
    ) -> Result<bool, SocialGraphError> {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend([
                "users",
                &follower.username,
                "following",
                &followee.username,
            ]);
        }
        let outcome = |outcome| self.metrics.upstream("github", "following", outcome);
        let response = self
            .get("following", url, None)
            .await
            .map_err(|e| match e {
                CodeHostError::Unavailable(reason) => SocialGraphError::Unavailable(reason),
                CodeHostError::RateLimited { retry_after } => {
                    SocialGraphError::RateLimited { retry_after }
                }
                CodeHostError::NotFound => SocialGraphError::Unavailable("not found".to_owned()),
            })?;
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            outcome(Outcome::Ok);
            return Ok(true);
        }
        if status == StatusCode::NOT_FOUND {
            outcome(Outcome::NotFound);
            return Ok(false);
        }
        match refusal(response).await {
            Refusal::RateLimited(retry_after) => {
                outcome(Outcome::RateLimited);
                Err(SocialGraphError::RateLimited { retry_after })
            }
            Refusal::Other(reason) => {
                outcome(Outcome::Error);
                Err(SocialGraphError::Unavailable(reason))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn github() -> GitHubRest {
        GitHubRest::new(
            "http://127.0.0.1:9/api/",
            None,
            Duration::from_secs(1),
            Arc::default(),
            10,
        )
        .unwrap()
    }

    #[test]
    fn handles_are_percent_encoded_into_one_path_segment() {
        let url = github().orgs_url("../../admin?x=1#y");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/api/users/..%2F..%2Fadmin%3Fx=1%23y/orgs?per_page=100"
        );
    }

    #[test]
    fn the_next_link_is_followed_only_on_the_same_origin() {
        let gh = github();
        let mut headers = HeaderMap::new();
        headers.insert(
            LINK,
            HeaderValue::from_static(
                "<http://127.0.0.1:9/api/user/1/orgs?per_page=100&page=2>; rel=\"next\", <http://127.0.0.1:9/api/user/1/orgs?per_page=100&page=3>; rel=\"last\"",
            ),
        );
        assert_eq!(
            gh.next_page(&headers).unwrap().as_str(),
            "http://127.0.0.1:9/api/user/1/orgs?per_page=100&page=2"
        );
        headers.insert(
            LINK,
            HeaderValue::from_static("<https://evil.example/x>; rel=\"next\""),
        );
        assert_eq!(gh.next_page(&headers), None);
        headers.insert(
            LINK,
            HeaderValue::from_static("<http://127.0.0.1:9/api/x>; rel=\"prev\""),
        );
        assert_eq!(gh.next_page(&headers), None);
    }

    #[test]
    fn a_plain_forbidden_is_not_a_rate_limit() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("12"));
        assert_eq!(rate_limit(StatusCode::FORBIDDEN, &headers), None);
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("1"));
        assert_eq!(
            rate_limit(StatusCode::FORBIDDEN, &headers),
            Some(Duration::from_secs(1))
        );
        let mut secondary = HeaderMap::new();
        secondary.insert("retry-after", HeaderValue::from_static("30"));
        assert_eq!(
            rate_limit(StatusCode::FORBIDDEN, &secondary),
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn debug_hides_the_token() {
        let gh = GitHubRest::new(
            "https://api.github.com",
            Some(Secret::new("ghp_hush")),
            Duration::from_secs(1),
            Arc::default(),
            10,
        )
        .unwrap();
        assert!(!format!("{gh:?}").contains("ghp_hush"));
    }
}
