//! GitHub's REST API as the code host (and what a member's token answers: `members.rs`).

mod members;

use super::client::{self, ApiRefusal, ClientError, Reply, Upstream};
use crate::domain::Clock;
use crate::domain::access::{Budget, Caller};
use crate::domain::members::MemberCredentials;
use crate::domain::{
    AsMemberError, CodeHost, CodeHostError, Handle, Network, Organisation, OrganisationError,
    PartialRelationships, Relationship, SocialGraph, SocialGraphError, SocialUser, Unavailable,
    relationships_one_by_one,
};
use crate::metrics::Metrics;
use crate::outbound::cache::GraphProfile;
use crate::outbound::upstreams::client::{Per, Spending};
use crate::secret::Secret;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, ETAG, HeaderMap, HeaderName};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Organisations asked for a page: GitHub's largest page.
const PER_PAGE: usize = 100;
/// Pages followed at most: enough for every organisation a developer may have.
const MAX_PAGES: usize = Organisation::MAX_PER_DEVELOPER.div_ceil(PER_PAGE);
/// The largest page read: a full page of GitHub's organisation objects is some 100 KiB;
/// what is larger is not a page of organisations, and is not held in memory.
const MAX_PAGE_BODY: usize = 1024 * 1024;

/// GitHub's REST API (`GET /users/{login}/orgs`).
#[derive(Clone)]
pub struct GitHubRest {
    api: Upstream,
    /// The last page seen at each URL with its `ETag`, to revalidate with `If-None-Match`:
    /// a `304` costs no rate limit. Bounded, least recently used first out.
    pages: moka::sync::Cache<String, Arc<StoredPage>>,
}

/// One page of organisations as GitHub last sent it.
struct StoredPage {
    etag: String,
    organisations: Vec<Organisation>,
    next: Option<Url>,
}

impl std::fmt::Debug for GitHubRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubRest")
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct OrganisationWire {
    login: String,
}

/// The rate limit every GitHub call counts against: one per token, whichever endpoint.
pub const GITHUB_LIMIT: &str = "github";

impl GitHubRest {
    /// Its client without the app's credentials, unbilled: for members' sign-in, whose
    /// calls carry the member's or the OAuth app's own.
    pub fn sign_in_client(&self) -> Upstream {
        self.api.clone().anonymous().unbilled()
    }

    /// # Errors
    /// [`ClientError`] when the client cannot be built.
    /// The same client, its calls paid from `spending`.
    #[must_use]
    pub fn billed(mut self, spending: Spending) -> Self {
        self.api = self
            .api
            .billed(spending, Budget::GITHUB_CALLS_PER_HOUR, Per::Call);
        self
    }

    /// # Errors
    /// [`ClientError`] when the client cannot be built.
    pub fn new(
        base: Url,
        token: Option<Secret>,
        timeout: Duration,
        metrics: Arc<Metrics>,
        revalidation_entries: u64,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ClientError> {
        let api = Upstream::new(
            "github",
            base,
            token.as_ref(),
            timeout,
            metrics,
            refusal,
            clock,
        )?
        .with_body_limit(MAX_PAGE_BODY)
        .with_header(ACCEPT, "application/vnd.github+json")
        .with_header(
            HeaderName::from_static("x-github-api-version"),
            "2022-11-28",
        );
        Ok(Self {
            api,
            pages: moka::sync::Cache::builder()
                .max_capacity(revalidation_entries)
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .build(),
        })
    }

    fn orgs_url(&self, login: &str) -> Url {
        let mut url = self.api.url(&["users", login, "orgs"]);
        url.query_pairs_mut()
            .append_pair("per_page", &PER_PAGE.to_string());
        url
    }

    /// One page: its organisations and the next page's URL, revalidated when it was seen
    /// before.
    async fn page(
        &self,
        url: Url,
        caller: &Caller,
    ) -> Result<(Vec<Organisation>, Option<Url>), CodeHostError> {
        let key = url.to_string();
        let stored = self.pages.get(&key);
        let etag = stored.as_ref().map(|p| p.etag.as_str());
        let answer = match self.api.get("orgs", url, etag, caller).await? {
            Reply::Answer(answer) => answer,
            Reply::NotFound => {
                self.pages.invalidate(&key);
                return Err(CodeHostError::NotFound);
            }
        };
        let next = answer.next_link();
        if answer.status == StatusCode::NOT_MODIFIED {
            answer.status_only();
            // The page's body is unchanged, but a list that grew may have gained a page
            // after it: the 304's own Link header says so when it has one.
            return match stored {
                Some(page) => Ok((
                    page.organisations.clone(),
                    next.or_else(|| page.next.clone()),
                )),
                None => Err(CodeHostError::unavailable(
                    "it answered 304 Not Modified to a request that was not conditional",
                )),
            };
        }
        let etag = answer
            .headers
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let page: Vec<OrganisationWire> = answer.json()?;
        let organisations = Organisation::list(page.iter().map(|o| &o.login)).map_err(|e| {
            CodeHostError::unavailable(format!("its answer could not be read: {e}"))
        })?;
        // A full last page is not kept for revalidation: should the list grow by one, this
        // page would not change (so GitHub would answer 304) while a new page appeared.
        let full_last_page = next.is_none() && organisations.len() >= PER_PAGE;
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
}

/// GitHub's refusals: `404` is "no such user" (or, for a follow, "does not follow"); a rate
/// limit by its headers, or a secondary rate limit said only in a `403`'s body (GitHub asks
/// for a minute's wait then, and may ban a client that keeps going).
fn refusal(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    now: DateTime<Utc>,
) -> Option<ApiRefusal> {
    if status == StatusCode::NOT_FOUND {
        return Some(ApiRefusal::NotFound);
    }
    if let Some(wait) = rate_limit(status, headers, now) {
        return Some(ApiRefusal::RateLimited(wait));
    }
    let limited = matches!(
        status,
        StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
    ) && body.to_ascii_lowercase().contains("rate limit");
    limited.then(|| ApiRefusal::RateLimited(Duration::from_secs(60)))
}

/// GitHub's rate limits: 403 or 429 with `x-ratelimit-remaining: 0` (reset in
/// `x-ratelimit-reset`), or a secondary limit with `retry-after`. A plain 403 is a permission
/// problem, not a rate limit.
fn rate_limit(status: StatusCode, headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let exhausted = headers
        .get("x-ratelimit-remaining")
        .is_some_and(|v| v.as_bytes() == b"0");
    if let Some(wait) = client::retry_after(headers) {
        return Some(wait);
    }
    if exhausted {
        return Some(
            client::until_reset(headers, "x-ratelimit-reset", now)
                .unwrap_or(Duration::from_secs(60)),
        );
    }
    // GitHub's advice for a secondary limit without headers: wait at least a minute.
    (status == StatusCode::TOO_MANY_REQUESTS).then(|| Duration::from_secs(60))
}

/// A list longer than any developer's: an answer that cannot be read, not a fact.
fn too_many() -> Unavailable {
    Unavailable::new(format!(
        "its answer could not be read: {}",
        OrganisationError::TooMany {
            max: Organisation::MAX_PER_DEVELOPER
        }
    ))
}

/// GitHub calls one request may have in flight at once: GitHub asks clients not to hammer
/// it (its secondary rate limits punish concurrency).
pub const CALLS_IN_FLIGHT: usize = 8;

#[async_trait]
impl CodeHost for GitHubRest {
    fn answers_for_members(&self) -> bool {
        true
    }

    async fn member_organisations(
        &self,
        member: &MemberCredentials,
        caller: &Caller,
    ) -> Result<Vec<Organisation>, AsMemberError> {
        self.all_organisations_of(member, caller).await
    }

    async fn belongs(
        &self,
        member: &MemberCredentials,
        organisation: &Organisation,
        user: &Handle,
        caller: &Caller,
    ) -> Result<Option<bool>, AsMemberError> {
        self.member_tells_belonging(member, organisation, user, caller)
            .await
    }

    fn accepts(&self, handle: &Handle) -> bool {
        is_github_login(handle)
    }

    fn network(&self) -> Network {
        Network::GitHub
    }

    async fn organisations(
        &self,
        user: &Handle,
        caller: &Caller,
    ) -> Result<Vec<Organisation>, CodeHostError> {
        let mut url = self.orgs_url(user.as_str());
        let mut organisations: Vec<Organisation> = Vec::new();
        for number in 0..MAX_PAGES {
            // Only the first page says whether the user exists: a later one not found is
            // a list that changed under the reading, not a missing user.
            let (page, next) = match self.page(url, caller).await {
                Err(CodeHostError::NotFound) if number > 0 => {
                    return Err(CodeHostError::unavailable(format!(
                        "page {} of the organisation list of {user} was not found",
                        number + 1
                    )));
                }
                answer => answer?,
            };
            if organisations.len() + page.len() > Organisation::MAX_PER_DEVELOPER {
                return Err(CodeHostError::Unavailable(too_many()));
            }
            organisations.extend(page);
            match next {
                // A page after the most a developer may have: more than that, not read.
                Some(_) if organisations.len() == Organisation::MAX_PER_DEVELOPER => {
                    return Err(CodeHostError::Unavailable(too_many()));
                }
                Some(next) => url = next,
                None => return Ok(organisations),
            }
        }
        Err(CodeHostError::unavailable(format!(
            "its answer could not be read: the organisation list of {user} goes on past {MAX_PAGES} pages"
        )))
    }
}

/// GitHub's own follow graph: "A follows B" is `GET /users/{a}/following/{b}` (204 yes, 404
/// no), so a pair needs no list reads. Whether a user exists is the organisations call's to
/// say, made in the same round: the lookup here asks nothing.
/// What the cache of GitHub's follow graph is told: its names, and that it answers pair by pair.
pub const GITHUB_PROFILE: GraphProfile = GraphProfile {
    users_cache: "github_social_users",
    relationships_cache: "github_relationships",
    lookup_limit: GITHUB_LIMIT,
    follows_limit: GITHUB_LIMIT,
    pair_by_pair: true,
};

#[async_trait]
impl SocialGraph for GitHubRest {
    fn network(&self) -> Network {
        Network::GitHub
    }

    /// GitHub's limit is one per token, whichever endpoint: its follow graph shares the
    /// code host's.
    fn accepts(&self, handle: &Handle) -> bool {
        is_github_login(handle)
    }

    async fn users(
        &self,
        handles: &[&Handle],
        _caller: &Caller,
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

    /// One direction, and the other only when the first holds.
    async fn relationship(
        &self,
        a: &SocialUser,
        b: &SocialUser,
        caller: &Caller,
    ) -> Result<Relationship, SocialGraphError> {
        let mut known = Relationship {
            forward: Some(self.follows(a, b, caller).await?),
            backward: None,
        };
        if known.forward == Some(true) {
            known.backward = Some(self.follows(b, a, caller).await?);
        }
        Ok(known)
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

impl GitHubRest {
    /// Whether `follower` follows `followee`: `GET /users/{a}/following/{b}`, `204` yes,
    /// `404` no.
    async fn follows(
        &self,
        follower: &SocialUser,
        followee: &SocialUser,
        caller: &Caller,
    ) -> Result<bool, SocialGraphError> {
        let url = self
            .api
            .url(&["users", &follower.username, "following", &followee.username]);
        match self.api.get("following", url, None, caller).await? {
            Reply::NotFound => Ok(false),
            Reply::Answer(answer) if answer.status == StatusCode::NO_CONTENT => {
                answer.status_only();
                Ok(true)
            }
            Reply::Answer(answer) => Err(answer.unexpected().into()),
        }
    }
}

/// Whether a handle can be a GitHub user: a login by GitHub's rule, which users and
/// organisations share (1–39 ASCII letters, digits or single hyphens, neither first nor last).
pub fn is_github_login(handle: &Handle) -> bool {
    Organisation::parse(handle.as_str()).is_ok()
}

#[cfg(test)]
mod tests;
