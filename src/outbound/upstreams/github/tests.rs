use super::*;
use crate::domain::TestClock;
use reqwest::header::HeaderValue;

/// 2026-12-01T12:00:00Z.
fn noon() -> DateTime<Utc> {
    TestClock::at("2026-12-01T12:00:00Z").now()
}

fn github() -> GitHubRest {
    GitHubRest::new(
        "http://127.0.0.1:9/api/".parse().unwrap(),
        None,
        Duration::from_secs(1),
        Arc::default(),
        10,
        TestClock::at("2026-12-01T12:00:00Z"),
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
fn a_secondary_limit_said_only_in_the_body_is_a_rate_limit() {
    let headers = HeaderMap::new();
    assert_eq!(
        refusal(
            StatusCode::FORBIDDEN,
            &headers,
            r#"{"message": "You have exceeded a secondary rate limit."}"#,
            noon(),
        ),
        Some(ApiRefusal::RateLimited(Duration::from_secs(60)))
    );
    assert_eq!(
        refusal(
            StatusCode::FORBIDDEN,
            &headers,
            r#"{"message": "Forbidden"}"#,
            noon(),
        ),
        None
    );
    assert_eq!(
        refusal(StatusCode::NOT_FOUND, &headers, "", noon()),
        Some(ApiRefusal::NotFound)
    );
}

#[test]
fn a_plain_forbidden_is_not_a_rate_limit() {
    let mut headers = HeaderMap::new();
    headers.insert("x-ratelimit-remaining", HeaderValue::from_static("12"));
    assert_eq!(rate_limit(StatusCode::FORBIDDEN, &headers, noon()), None);
    headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
    headers.insert("x-ratelimit-reset", HeaderValue::from_static("1"));
    assert_eq!(
        rate_limit(StatusCode::FORBIDDEN, &headers, noon()),
        Some(Duration::from_secs(1))
    );
    let mut secondary = HeaderMap::new();
    secondary.insert("retry-after", HeaderValue::from_static("30"));
    assert_eq!(
        rate_limit(StatusCode::FORBIDDEN, &secondary, noon()),
        Some(Duration::from_secs(30))
    );
}

#[test]
fn github_logins_follow_githubs_rules() {
    let h = |s: &str| Handle::parse(s).unwrap();
    for ok in ["a", "octocat", "Octo-Cat", "a1-b2-c3", &"x".repeat(39)] {
        assert!(is_github_login(&h(ok)), "{ok} should be a valid login");
    }
    for bad in [
        "-a",
        "a-",
        "a--b",
        "a_b",
        "a.b",
        "ä",
        &"x".repeat(40),
        "a b",
        "a/b",
    ] {
        assert!(
            !is_github_login(&h(bad)),
            "{bad} should not be a valid login"
        );
    }
}

#[test]
fn debug_hides_the_token() {
    let gh = GitHubRest::new(
        "https://api.github.com".parse().unwrap(),
        Some(Secret::new("ghp_hush")),
        Duration::from_secs(1),
        Arc::default(),
        10,
        TestClock::at("2026-12-01T12:00:00Z"),
    )
    .unwrap();
    assert!(!format!("{gh:?}").contains("ghp_hush"));
}
