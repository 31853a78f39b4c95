//! The one upstream client every API adapter configures: it sends with the API's credentials
//! and timeout, counts each call, reads rate limits through the API's own reader, bounds and
//! decodes answers, and puts failures in words a user understands. An adapter keeps only
//! what is its own: URLs, wire types, and how its API says "rate limited" or "not found".

mod answer;
mod failure;
mod form;
mod ledger;
mod refusal;
mod reservation;
mod spend;

use answer::read_bounded;
pub use answer::{Answer, Reply};
use failure::describe_transport;
pub use failure::{ClientError, Failure, describe};
pub use form::{Body, Call, Raw};
pub use refusal::{ApiRefusal, RefusalReader, retry_after, too_many_requests, until_reset};
pub use reservation::{Progress, Reservation};
pub use spend::Spending;

use crate::domain::access::{Budget, Caller};
use crate::domain::{Clock, Unavailable};
use crate::metrics::{Metrics, Outcome};
use crate::secret::Secret;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue, IF_NONE_MATCH, LINK};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Sent to every upstream; GitHub refuses requests without one.
pub const USER_AGENT: &str = concat!("connected/", env!("CARGO_PKG_VERSION"));

/// The largest answer read unless an API says less ([`Upstream::with_body_limit`]): a full
/// page of a follow list is about 100 KB; anything far larger is not an answer, and is not
/// held in memory.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// How an API's calls are paid for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Per {
    /// One unit a call made (GitHub's calls an hour): taken before each call.
    Call,
    /// One unit an item returned (X's users): the adapter reserves what a call can return
    /// ([`Upstream::reserve`]), makes the call with it ([`Upstream::get_json_paid`]) and
    /// settles what it returned.
    Item,
}

/// One API: its origin, credentials, fixed headers, timeout and refusal reader.
#[derive(Clone)]
pub struct Upstream {
    client: reqwest::Client,
    base: Url,
    /// Marked sensitive, so the HTTP client never shows it.
    authorization: Option<HeaderValue>,
    headers: HeaderMap,
    timeout: Duration,
    metrics: Arc<Metrics>,
    /// The network's name in metrics (`github`, `x`, `bluesky`).
    network: &'static str,
    refusal: RefusalReader,
    /// What a reset time in a refusal is read against.
    clock: Arc<dyn Clock>,
    /// The budgets that pay for its calls, in which unit, and how.
    billing: Option<(Spending, Budget, Per)>,
    /// The largest answer read, in bytes.
    max_body: usize,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("network", &self.network)
            .field("base", &self.base.as_str())
            .field("authorized", &self.authorization.is_some())
            .finish_non_exhaustive()
    }
}

impl Upstream {
    /// A client for the API at `base` (the setting `variable` names it in messages).
    ///
    /// # Errors
    /// [`ClientError`] when the token cannot be a header or the client cannot be built.
    pub fn new(
        network: &'static str,
        base: Url,
        token: Option<&Secret>,
        timeout: Duration,
        metrics: Arc<Metrics>,
        refusal: RefusalReader,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ClientError> {
        let authorization = match token {
            None => None,
            Some(token) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                    .map_err(|_| ClientError::Token { network })?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        Ok(Self {
            client: client(timeout)?,
            base,
            authorization,
            headers: HeaderMap::new(),
            timeout,
            metrics,
            network,
            refusal,
            clock,
            billing: None,
            max_body: MAX_BODY,
        })
    }

    /// The same API, its calls made with `token` (a member's) instead of the API's own, and
    /// billed as the API's are: the app pays for what a member's token reads too.
    ///
    /// # Errors
    /// [`ClientError::Token`] when the token cannot be a header.
    pub fn with_token(&self, token: &Secret) -> Result<Self, ClientError> {
        let mut value =
            HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                ClientError::Token {
                    network: self.network,
                }
            })?;
        value.set_sensitive(true);
        Ok(Self {
            authorization: Some(value),
            ..self.clone()
        })
    }

    /// The same API, its refusals read by `refusal` (a member's token may be refused in
    /// words of its own).
    #[must_use]
    pub fn with_refusal(mut self, refusal: RefusalReader) -> Self {
        self.refusal = refusal;
        self
    }

    /// The same API without its credentials: for calls that carry their own (an OAuth
    /// app's), or none.
    #[must_use]
    pub fn anonymous(mut self) -> Self {
        self.authorization = None;
        self
    }

    /// The same API, its calls paid by no budget (a member's own limits pay for them).
    #[must_use]
    pub fn unbilled(mut self) -> Self {
        self.billing = None;
        self
    }

    /// Reads no answer larger than `bytes`: one larger is a failure, and is not read whole.
    #[must_use]
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Its calls paid from `spending`'s `budget`, per call or per item returned.
    #[must_use]
    pub fn billed(mut self, spending: Spending, budget: Budget, per: Per) -> Self {
        self.billing = Some((spending, budget, per));
        self
    }

    /// Reserves what a call may return, between `least` and `want` items, paid by `caller`;
    /// a reservation of `want` when the API is not billed per item.
    ///
    /// # Errors
    /// [`Failure::OverBudget`] when no budget can pay for `least`.
    pub async fn reserve(
        &self,
        want: u64,
        least: u64,
        caller: &Caller,
    ) -> Result<Reservation, Failure> {
        match &self.billing {
            Some((spending, budget, Per::Item)) => spending
                .reserve(caller, *budget, want, least)
                .await
                .map_err(Failure::OverBudget),
            _ => Ok(Reservation::free(want)),
        }
    }

    /// The call reserved for returned `used` items.
    pub async fn settle(&self, reservation: Reservation, used: u64) {
        if let Some((spending, _, _)) = &self.billing {
            spending.settle(reservation, used).await;
        }
    }

    /// Sends `name: value` on every call.
    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: &'static str) -> Self {
        self.headers.insert(name, HeaderValue::from_static(value));
        self
    }

    /// The API's origin.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The origin with these path segments appended, each percent-encoded, so that a handle
    /// can never change which URL is called.
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Counts a call of this API for `caller`.
    fn counted_for(&self, caller: &Caller) {
        if let Some(network) = crate::domain::Network::from_id(self.network) {
            caller.called_upstream(network);
        }
    }

    fn count(&self, endpoint: &'static str, outcome: Outcome) {
        self.metrics.upstream(self.network, endpoint, outcome);
    }

    /// `GET url` (a call to `endpoint`, as metrics name it) for `caller`, conditional on
    /// `etag` when given.
    ///
    /// # Errors
    /// [`Failure::RateLimited`] when the API's reader says so; [`Failure::Unavailable`] for
    /// a transport failure, an answer over the size bound, or any other refusal.
    pub async fn get(
        &self,
        endpoint: &'static str,
        url: Url,
        etag: Option<&str>,
        caller: &Caller,
    ) -> Result<Reply<'_>, Failure> {
        let Some((spending, budget, Per::Call)) = &self.billing else {
            return self.send(endpoint, url, etag, caller, None).await;
        };
        let mut reservation = spending
            .reserve(caller, *budget, 1, 1)
            .await
            .map_err(Failure::OverBudget)?;
        let reply = self
            .send(endpoint, url, etag, caller, Some(&mut reservation))
            .await;
        // A 304 does not count against GitHub's limit; anything else answered does.
        let free = matches!(&reply, Ok(Reply::Answer(a)) if a.status == StatusCode::NOT_MODIFIED);
        spending.settle(reservation, u64::from(!free)).await;
        reply
    }

    /// [`Upstream::get_json`] of a call paid by `reservation`, which learns how far the call
    /// went: sent, then answered (or not sent at all, when no connection could be made).
    ///
    /// # Errors
    /// As [`Upstream::get_json`].
    pub async fn get_json_paid<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        url: Url,
        caller: &Caller,
        reservation: &mut Reservation,
    ) -> Result<Option<T>, Failure> {
        match self
            .send(endpoint, url, None, caller, Some(&mut *reservation))
            .await?
        {
            Reply::Answer(answer) => answer.json().map(Some).inspect_err(|_| {
                reservation.unreadable();
            }),
            Reply::NotFound => Ok(None),
        }
    }

    async fn send(
        &self,
        endpoint: &'static str,
        url: Url,
        etag: Option<&str>,
        caller: &Caller,
        mut paid_by: Option<&mut Reservation>,
    ) -> Result<Reply<'_>, Failure> {
        let request = self.request(url, etag);
        self.counted_for(caller);
        let mut progressed = |progress| {
            if let Some(reservation) = paid_by.as_deref_mut() {
                reservation.progressed(progress);
            }
        };
        // From here, cancelled or failed, the call may have reached the upstream.
        progressed(Progress::Sent);
        let response = request.send().await.map_err(|e| {
            if e.is_connect() {
                progressed(Progress::Unsent);
            }
            self.failed_in_transport(endpoint, e)
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_bounded(response, self.max_body)
            .await
            .map_err(|e| match e {
                Ok(reason) => self.failed(endpoint, reason),
                Err(e) => self.failed_in_transport(endpoint, e),
            })?;
        progressed(Progress::Answered);
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            return Ok(Reply::Answer(Answer {
                upstream: self,
                endpoint,
                status,
                headers,
                body,
            }));
        }
        self.refused(endpoint, status, &headers, &body)
    }

    /// `GET url` with the API's credentials and headers, conditional on `etag` when given.
    fn request(&self, url: Url, etag: Option<&str>) -> reqwest::RequestBuilder {
        let mut request = self.client.get(url).headers(self.headers.clone());
        if let Some(authorization) = &self.authorization {
            request = request.header(AUTHORIZATION, authorization.clone());
        }
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        request
    }

    /// A call to `endpoint` that got no answer, for `reason`: counted, and said.
    fn failed(&self, endpoint: &'static str, reason: String) -> Failure {
        self.count(endpoint, Outcome::Error);
        Unavailable::new(reason).into()
    }

    /// A call to `endpoint` that failed in transport, counted. The transport's error is kept
    /// without its URL: an upstream's origin may carry credentials.
    fn failed_in_transport(&self, endpoint: &'static str, e: reqwest::Error) -> Failure {
        self.count(endpoint, Outcome::Error);
        Unavailable::because(describe_transport(&e, self.timeout), e.without_url()).into()
    }

    /// An answer that is neither a 2xx nor a 304, as the API's refusal reader takes it:
    /// rate limited, not found, or a failure in its words.
    fn refused(
        &self,
        endpoint: &'static str,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Reply<'_>, Failure> {
        let text = String::from_utf8_lossy(body);
        match (self.refusal)(status, headers, &text, self.clock.now()) {
            Some(ApiRefusal::RateLimited(wait)) => {
                self.count(endpoint, Outcome::RateLimited);
                Err(Failure::RateLimited(
                    wait.clamp(Duration::from_secs(1), refusal::LONGEST_WAIT),
                ))
            }
            Some(ApiRefusal::NotFound) => {
                self.count(endpoint, Outcome::NotFound);
                Ok(Reply::NotFound)
            }
            None => Err(self.failed(endpoint, describe(status, &text))),
        }
    }

    /// [`Upstream::get`] of a JSON answer: `None` for the API's not-found.
    ///
    /// # Errors
    /// As [`Upstream::get`], and when the body is not `T`.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        url: Url,
        caller: &Caller,
    ) -> Result<Option<T>, Failure> {
        match self.get(endpoint, url, None, caller).await? {
            Reply::Answer(answer) => answer.json().map(Some),
            Reply::NotFound => Ok(None),
        }
    }

    /// The `rel="next"` link in `headers`, followed only while it stays on the API's origin.
    pub fn next_link(&self, headers: &HeaderMap) -> Option<Url> {
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

/// A client for one upstream: rustls, kept-alive connections, the whole-request timeout.
fn client(timeout: Duration) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(64)
        // Redirects would carry the token to wherever they point.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(ClientError::Build)
}

#[cfg(test)]
mod tests;
