//! How an API says it refuses a call: each adapter's reader of refusals, and the readers of
//! rate-limit headers that they share.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest wait a rate limit is believed for: a reset further out is a misread header
/// (milliseconds for seconds, say), not a reason to stop asking for a day.
pub(super) const LONGEST_WAIT: Duration = Duration::from_secs(3600);

/// How an API refused a call, beyond a plain failure: read by the API's own reader from the
/// status, the headers and the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    RateLimited(Duration),
    /// The API's "no such thing" (GitHub's 404, Bluesky's `ActorNotFound`).
    NotFound,
}

/// An API's reader of refusals: `None` for a status that is neither a rate limit nor a
/// not-found (a failure then).
pub type RefusalReader = fn(StatusCode, &HeaderMap, &str) -> Option<Refusal>;

/// The wait until a Unix-seconds reset time in a header, if the header is there: at least a
/// second (a reset already past means the clocks differ, not that the limit is gone) and at
/// most an hour.
pub fn until_reset(headers: &HeaderMap, name: &str) -> Option<Duration> {
    let reset: u64 = headers.get(name)?.to_str().ok()?.trim().parse().ok()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now).max(1)).min(LONGEST_WAIT))
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

/// The usual reader of a `429`: the wait from the API's reset header (Unix seconds), else
/// from `Retry-After`, else `default`.
pub fn too_many_requests(
    status: StatusCode,
    headers: &HeaderMap,
    reset_header: &str,
    default: Duration,
) -> Option<Refusal> {
    (status == StatusCode::TOO_MANY_REQUESTS).then(|| {
        Refusal::RateLimited(
            until_reset(headers, reset_header)
                .or_else(|| retry_after(headers))
                .unwrap_or(default),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn a_reset_in_the_past_means_a_second_and_one_far_off_an_hour() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("1"));
        assert_eq!(
            until_reset(&headers, "x-ratelimit-reset"),
            Some(Duration::from_secs(1))
        );
        headers.insert(
            "x-ratelimit-reset",
            HeaderValue::from_static("99999999999999"),
        );
        assert_eq!(
            until_reset(&headers, "x-ratelimit-reset"),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(until_reset(&headers, "x-rate-limit-reset"), None);
    }

    #[test]
    fn a_reset_in_the_future_is_the_wait() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-rate-limit-reset",
            HeaderValue::from_str(&(now + 120).to_string()).unwrap(),
        );
        let wait = until_reset(&headers, "x-rate-limit-reset").unwrap();
        assert!((119..=120).contains(&wait.as_secs()), "{wait:?}");
    }
}
