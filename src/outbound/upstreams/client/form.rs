//! Calls whose answers the adapter reads itself, status and all: the OAuth endpoints, which
//! say "refused" in a `200` (GitHub) or a `400` (X) with a body of their own, and want a form
//! or JSON posted with the app's Basic credentials rather than a bearer token.

use super::answer::read_bounded;
use super::{Failure, Upstream};
use crate::domain::access::Caller;
use crate::metrics::Outcome;
use crate::secret::Secret;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use url::Url;

/// A call whose answer the adapter reads: its method, URL, body and credentials.
pub struct Call {
    pub method: Method,
    pub url: Url,
    pub body: Body,
    /// Basic credentials (an OAuth app's client id and secret), sent instead of the API's
    /// token.
    pub basic: Option<(String, Secret)>,
    /// Whose request it is made for, when it is one's (counted on their tab).
    pub caller: Option<Caller>,
}

/// What is sent.
pub enum Body {
    /// Nothing (a `GET`).
    Empty,
    /// `application/x-www-form-urlencoded` pairs.
    Form(Vec<(&'static str, String)>),
    /// A JSON document.
    Json(serde_json::Value),
}

/// What came back, whatever its status: for the adapter to read.
pub struct Raw {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Raw {
    /// The body as JSON, or `None` when it is not JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

impl Upstream {
    /// Makes `call` (to `endpoint`, as metrics name it) and returns its answer, bounded,
    /// whatever its status, except a rate limit, which the API's reader names.
    ///
    /// # Errors
    /// [`Failure::RateLimited`] when the API says so; [`Failure::Unavailable`] for a
    /// transport failure or an answer over the size bound.
    pub async fn call(&self, endpoint: &'static str, call: Call) -> Result<Raw, Failure> {
        let same_origin = call.url.origin() == self.base.origin();
        if let Some(caller) = &call.caller {
            self.counted_for(caller);
        }
        let mut headers = self.headers.clone();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut request = self.client.request(call.method, call.url).headers(headers);
        request = match call.basic {
            Some((id, secret)) => request.basic_auth(id, Some(secret.expose())),
            // The API's own credentials go to the API's origin only.
            None => match &self.authorization {
                Some(authorization) if same_origin => {
                    request.header(reqwest::header::AUTHORIZATION, authorization.clone())
                }
                _ => request,
            },
        };
        request = match call.body {
            Body::Empty => request,
            Body::Form(pairs) => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                for (name, value) in &pairs {
                    form.append_pair(name, value);
                }
                request
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(form.finish())
            }
            Body::Json(value) => request
                .header(CONTENT_TYPE, "application/json")
                .body(value.to_string()),
        };
        let response = request
            .send()
            .await
            .map_err(|e| self.failed_in_transport(endpoint, e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_bounded(response, self.max_body)
            .await
            .map_err(|e| match e {
                Ok(reason) => self.failed(endpoint, reason),
                Err(e) => self.failed_in_transport(endpoint, e),
            })?;
        let text = String::from_utf8_lossy(&body);
        if let Some(super::ApiRefusal::RateLimited(wait)) =
            (self.refusal)(status, &headers, &text, self.clock.now())
        {
            self.count(endpoint, Outcome::RateLimited);
            return Err(Failure::RateLimited(wait.clamp(
                std::time::Duration::from_secs(1),
                super::refusal::LONGEST_WAIT,
            )));
        }
        let outcome = if status.is_success() {
            Outcome::Ok
        } else {
            Outcome::Error
        };
        self.count(endpoint, outcome);
        Ok(Raw {
            status,
            headers,
            body,
        })
    }
}
