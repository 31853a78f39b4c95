//! What the GitHub and X clients share: one pooled HTTP client per upstream, rate-limit
//! headers, and failures put in words a user understands.

use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Sent to every upstream; GitHub refuses requests without one.
pub const USER_AGENT: &str = concat!("connected/", env!("CARGO_PKG_VERSION"));

/// A client for one upstream: rustls, kept-alive connections, the whole-request timeout.
///
/// # Errors
/// The text of the builder's error (it fails only when TLS cannot be set up).
pub fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(64)
        // Redirects would carry the token to wherever they point.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// A transport failure in words: a timeout, a refused connection, an unreadable body.
pub fn describe_transport(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        format!("no answer within {}", humantime::format_duration(timeout))
    } else if error.is_connect() {
        "cannot connect".to_owned()
    } else if error.is_decode() || error.is_body() {
        "its answer could not be read".to_owned()
    } else {
        "the request failed".to_owned()
    }
}

/// The longest wait a rate limit is believed for: a reset further out is a misread header
/// (milliseconds for seconds, say), not a reason to stop asking for a day.
const LONGEST_WAIT: Duration = Duration::from_secs(3600);

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

/// A non-2xx answer in words, with the upstream's own message where it gave one.
pub async fn describe_status(response: Response) -> String {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    describe(status, &text)
}

/// A non-2xx status and its body in words.
pub fn describe(status: StatusCode, text: &str) -> String {
    let detail = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|body| {
            ["message", "detail", "title", "error"]
                .iter()
                .find_map(|key| body.get(key).and_then(|v| v.as_str()).map(str::to_owned))
        })
        .map(|d| d.chars().take(200).collect::<String>());
    let code = match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    };
    match (status, detail) {
        (StatusCode::UNAUTHORIZED, _) => format!("it rejected the credentials ({code})"),
        (_, Some(detail)) if !detail.is_empty() => format!("it answered {code}: {detail}"),
        _ => format!("it answered {code}"),
    }
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
