use super::*;
use crate::domain::TestClock;
use chrono::{DateTime, Utc};

fn never(_: StatusCode, _: &HeaderMap, _: &str, _: DateTime<Utc>) -> Option<ApiRefusal> {
    None
}

fn upstream(base: &str) -> Upstream {
    Upstream::new(
        "github",
        base.parse().unwrap(),
        Some(&Secret::new("ghp_hush")),
        Duration::from_secs(1),
        Arc::default(),
        never,
        TestClock::at("2026-12-01T12:00:00Z"),
    )
    .unwrap()
}

#[tokio::test]
async fn a_connection_that_fails_is_said_in_words_and_keeps_its_cause_without_the_url() {
    // A port nothing listens on: taken, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let api = upstream(&format!("http://user:s3cret@127.0.0.1:{port}/api/"));
    let url = api.url(&["users", "alice"]);
    let failed = api.get("users", url, None, &Caller::anonymous()).await;
    let Err(Failure::Unavailable(unavailable)) = failed else {
        panic!("a refused connection is a failure");
    };
    assert_eq!(unavailable.reason(), "cannot connect");
    let cause = std::error::Error::source(&unavailable)
        .expect("the transport's error is kept")
        .to_string();
    assert!(
        !cause.contains("s3cret") && !cause.contains("127.0.0.1"),
        "{cause}"
    );
}

#[test]
fn paths_are_built_from_encoded_segments() {
    let api = upstream("http://127.0.0.1:9/api/");
    assert_eq!(
        api.url(&["users", "../../admin?x=1#y", "orgs"]).as_str(),
        "http://127.0.0.1:9/api/users/..%2F..%2Fadmin%3Fx=1%23y/orgs"
    );
}

#[test]
fn the_next_link_is_followed_only_on_the_same_origin() {
    let api = upstream("http://127.0.0.1:9/api/");
    let mut headers = HeaderMap::new();
    headers.insert(
        LINK,
        HeaderValue::from_static(
            "<http://127.0.0.1:9/api/user/1/orgs?per_page=100&page=2>; rel=\"next\", <http://127.0.0.1:9/api/user/1/orgs?per_page=100&page=3>; rel=\"last\"",
        ),
    );
    assert_eq!(
        api.next_link(&headers).unwrap().as_str(),
        "http://127.0.0.1:9/api/user/1/orgs?per_page=100&page=2"
    );
    headers.insert(
        LINK,
        HeaderValue::from_static("<https://evil.example/x>; rel=\"next\""),
    );
    assert_eq!(api.next_link(&headers), None);
    headers.insert(
        LINK,
        HeaderValue::from_static("<http://127.0.0.1:9/api/x>; rel=\"prev\""),
    );
    assert_eq!(api.next_link(&headers), None);
}

#[test]
fn debug_hides_the_token() {
    assert!(!format!("{:?}", upstream("https://api.github.com")).contains("ghp_hush"));
}
