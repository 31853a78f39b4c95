//! How an API says it refuses a call: each adapter's reader of refusals, and the readers of
//! rate-limit headers that they share.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use std::time::Duration;

/// The longest wait a rate limit is believed for: a reset further out is a misread header
/// (milliseconds for seconds, say), not a reason to stop asking for a day.
pub(super) const LONGEST_WAIT: Duration = Duration::from_secs(3600);

/// How an API refused a call, beyond a plain failure: read by the API's own reader from the
/// status, the headers and the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiRefusal {
    RateLimited(Duration),
    /// The API's "no such thing" (GitHub's 404, Bluesky's `ActorNotFound`).
    NotFound,
}

/// An API's reader of refusals, given the status, the headers and the body of an answer and
/// the time it came at: `None` for a status that is neither a rate limit nor a not-found (a
/// failure then).
pub type RefusalReader = fn(StatusCode, &HeaderMap, &str, DateTime<Utc>) -> Option<ApiRefusal>;

/// The wait from `now` until a Unix-seconds reset time in a header, if the header is there:
/// at least a second (a reset already past means the clocks differ, not that the limit is
/// gone) and at most an hour.
pub fn until_reset(headers: &HeaderMap, name: &str, now: DateTime<Utc>) -> Option<Duration> {
    let reset: i64 = headers.get(name)?.to_str().ok()?.trim().parse().ok()?;
    let wait = u64::try_from(reset.saturating_sub(now.timestamp())).unwrap_or(0);
    Some(Duration::from_secs(wait.max(1)).min(LONGEST_WAIT))
}

/// A `Retry-After` in seconds, if given.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs.max(1)).min(LONGEST_WAIT))
}

/// The usual reader of a `429` that came at `now`: the wait from the API's reset header
/// (Unix seconds), else from `Retry-After`, else `default`.
pub fn too_many_requests(
    status: StatusCode,
    headers: &HeaderMap,
    reset_header: &str,
    default: Duration,
    now: DateTime<Utc>,
) -> Option<ApiRefusal> {
    (status == StatusCode::TOO_MANY_REQUESTS).then(|| {
        ApiRefusal::RateLimited(
            until_reset(headers, reset_header, now)
                .or_else(|| retry_after(headers))
                .unwrap_or(default),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Clock, TestClock};
    use reqwest::header::HeaderValue;

    /// 2026-12-01T12:00:00Z, in Unix seconds.
    const NOON: i64 = 1_796_126_400;

    fn noon() -> DateTime<Utc> {
        let noon = TestClock::at("2026-12-01T12:00:00Z").now();
        assert_eq!(noon.timestamp(), NOON);
        noon
    }

    fn reset_at(unix_seconds: i64) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = HeaderValue::from_str(&unix_seconds.to_string()).unwrap();
        headers.insert("x-ratelimit-reset", value);
        headers
    }

    #[test]
    fn a_reset_in_the_past_means_a_second_and_one_far_off_an_hour() {
        let wait = |headers: &HeaderMap| until_reset(headers, "x-ratelimit-reset", noon());
        assert_eq!(wait(&reset_at(1)), Some(Duration::from_secs(1)));
        assert_eq!(wait(&reset_at(NOON)), Some(Duration::from_secs(1)));
        assert_eq!(wait(&reset_at(NOON + 7200)), Some(LONGEST_WAIT));
        let headers = reset_at(NOON + 7200);
        assert_eq!(until_reset(&headers, "x-rate-limit-reset", noon()), None);
    }

    #[test]
    fn a_reset_in_the_future_is_the_wait() {
        assert_eq!(
            until_reset(&reset_at(NOON + 120), "x-ratelimit-reset", noon()),
            Some(Duration::from_secs(120))
        );
    }

    #[test]
    fn a_too_many_requests_waits_for_its_reset_else_its_retry_after_else_the_default() {
        let default = Duration::from_secs(900);
        let read = |status, headers: &HeaderMap| {
            too_many_requests(status, headers, "x-ratelimit-reset", default, noon())
        };
        let mut headers = reset_at(NOON + 30);
        headers.insert("retry-after", HeaderValue::from_static("5"));
        assert_eq!(
            read(StatusCode::TOO_MANY_REQUESTS, &headers),
            Some(ApiRefusal::RateLimited(Duration::from_secs(30)))
        );
        headers.remove("x-ratelimit-reset");
        assert_eq!(
            read(StatusCode::TOO_MANY_REQUESTS, &headers),
            Some(ApiRefusal::RateLimited(Duration::from_secs(5)))
        );
        assert_eq!(
            read(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new()),
            Some(ApiRefusal::RateLimited(default))
        );
        assert_eq!(read(StatusCode::SERVICE_UNAVAILABLE, &headers), None);
    }
}
