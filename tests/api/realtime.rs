use crate::fake::{Endpoint, Failure, Graph};
use crate::support::{TestApp, spawn_app, spawn_app_with};
use serde_json::json;
use std::time::{Duration, Instant};

/// alice and bob: mutual followers sharing two organisations; carol follows alice only;
/// dave and alice follow each other but share no organisation.
fn team() -> Graph {
    Graph::new()
        .dev("alice", &["Zeta-Org", "acme", "solo-a"], &["bob"])
        .dev("bob", &["Zeta-Org", "acme", "solo-b"], &["alice"])
        .dev("carol", &["acme"], &["alice"])
        .dev("dave", &["elsewhere"], &["alice"])
        .x("alice", &["dave"])
        .x("bob", &["carol"])
}

fn follow_list_calls(app: &TestApp) -> Vec<String> {
    app.x
        .calls()
        .into_iter()
        .filter(|c| c.contains("/follow"))
        .collect()
}

async fn assert_nothing_recorded(app: &TestApp, dev1: &str, dev2: &str) {
    let register = app.register(dev1, dev2).await;
    assert_eq!((register.status, register.body), (404, json!([])));
}

#[tokio::test]
async fn connected_when_they_follow_each_other_and_share_an_organisation() {
    let app = spawn_app(team()).await;
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(answer.status, 200);
    // GitHub's spelling, unique, sorted case-insensitively.
    assert_eq!(
        answer.body,
        json!({"connected": true, "organisations": ["acme", "Zeta-Org"]})
    );
    // Two organisation lists, one lookup of both users, one page for each direction.
    assert_eq!(app.github.call_count(), 2);
    assert_eq!(
        app.x
            .calls()
            .iter()
            .filter(|c| c.starts_with("/2/users/by?"))
            .count(),
        1
    );
    assert_eq!(follow_list_calls(&app).len(), 2);
    assert_eq!(app.register("alice", "bob").await.status, 200);
}

#[tokio::test]
async fn not_connected_when_they_share_no_organisation() {
    let app = spawn_app(team()).await;
    let answer = app.realtime("alice", "dave").await;
    assert_eq!(
        (answer.status, answer.body),
        (404, json!({"connected": false}))
    );
    // The follow lists are never read when no organisation is shared.
    assert!(follow_list_calls(&app).is_empty(), "{:?}", app.x.calls());
    assert_eq!(app.upstream_calls(), 3);
    let register = app.register("dave", "alice").await;
    assert_eq!(register.body[0]["connected"], json!(false));
}

#[tokio::test]
async fn not_connected_when_only_one_follows_the_other() {
    // carol follows alice, alice does not follow carol; they share acme.
    let app = spawn_app(team()).await;
    let answer = app.realtime("alice", "carol").await;
    assert_eq!(
        (answer.status, answer.body),
        (404, json!({"connected": false}))
    );
    // The failing direction settles it: the other direction is never read.
    assert_eq!(follow_list_calls(&app).len(), 1, "{:?}", app.x.calls());
    assert_eq!(
        app.register("alice", "carol").await.body[0]["connected"],
        json!(false)
    );
}

#[tokio::test]
async fn the_cheaper_direction_is_read_first_and_settles_it() {
    // ann follows ben; ben follows nobody: ben's empty following list is the cheapest read,
    // and it settles the check alone. Counts lag behind follows, so the empty-looking list
    // is read, asking for a short page.
    let graph = Graph::new()
        .dev("ann", &["acme"], &["ben"])
        .dev("ben", &["acme"], &[]);
    let app = spawn_app(graph).await;
    assert_eq!(app.realtime("ann", "ben").await.status, 404);
    assert_eq!(
        follow_list_calls(&app),
        vec!["/2/users/2001/following?max_results=100"]
    );
    assert_eq!(app.x.users_read(), 0);
}

#[tokio::test]
async fn missing_users_are_listed_per_developer_and_network_in_order() {
    let graph = team().github("ghonly", &["acme"]).x("xonly", &[]);
    let app = spawn_app(graph).await;

    let answer = app.realtime("ghonly", "xonly").await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body,
        json!({"errors": ["ghonly is not a valid user in twitter", "xonly is not a valid user in github"]})
    );

    let answer = app.realtime("Nobody", "alice").await;
    assert_eq!(
        answer.body,
        json!({"errors": ["Nobody is not a valid user in github", "Nobody is not a valid user in twitter"]})
    );

    let answer = app.realtime("ghost1", "Ghost2").await;
    assert_eq!(
        answer.body,
        json!({"errors": [
            "ghost1 is not a valid user in github", "ghost1 is not a valid user in twitter",
            "Ghost2 is not a valid user in github", "Ghost2 is not a valid user in twitter"
        ]})
    );
    assert!(follow_list_calls(&app).is_empty());
    assert_nothing_recorded(&app, "ghonly", "xonly").await;
    assert_nothing_recorded(&app, "nobody", "alice").await;
}

#[tokio::test]
async fn a_handle_that_cannot_exist_on_a_network_is_not_sent_there() {
    let graph = team().github("foo-bar", &["acme"]).x("foo_bar", &[]);
    let app = spawn_app(graph).await;

    // foo-bar is a GitHub login but can never be an X username.
    let answer = app.realtime("foo-bar", "alice").await;
    assert_eq!(
        answer.body,
        json!({"errors": ["foo-bar is not a valid user in twitter"]})
    );
    assert_eq!(
        app.x.calls(),
        vec!["/2/users/by?user.fields=public_metrics,protected&usernames=alice"]
    );

    // foo_bar is an X username but can never be a GitHub login.
    let answer = app.realtime("alice", "foo_bar").await;
    assert_eq!(
        answer.body,
        json!({"errors": ["foo_bar is not a valid user in github"]})
    );
    assert!(
        app.github.calls().iter().all(|c| !c.contains("foo_bar")),
        "{:?}",
        app.github.calls()
    );

    // Neither anywhere: no upstream is asked at all.
    let before = app.upstream_calls();
    let answer = app.realtime("a.b", "c%20d").await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body,
        json!({"errors": [
            "a.b is not a valid user in github", "a.b is not a valid user in twitter",
            "c d is not a valid user in github", "c d is not a valid user in twitter"
        ]})
    );
    assert_eq!(app.upstream_calls(), before);
}

#[tokio::test]
async fn the_same_developer_twice_is_a_bad_request_without_upstream_calls() {
    let app = spawn_app(team()).await;
    let answer = app.realtime("alice", "ALICE").await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body,
        json!({"errors": ["alice and ALICE are the same developer; a check needs two different developers"]})
    );
    assert_eq!(app.upstream_calls(), 0);
}

#[tokio::test]
async fn handles_are_case_insensitive() {
    let app = spawn_app(team()).await;
    let answer = app.realtime("ALICE", "bOb").await;
    assert_eq!(
        answer.body,
        json!({"connected": true, "organisations": ["acme", "Zeta-Org"]})
    );
    let history = app.register("bob", "alice").await;
    assert_eq!(history.body.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_shared_organisation_on_a_later_page_is_found() {
    let many: Vec<String> = (0..150).map(|i| format!("org-{i:03}")).collect();
    let mut alice_orgs: Vec<&str> = many.iter().map(String::as_str).collect();
    alice_orgs.push("late-shared");
    let graph =
        Graph::new()
            .dev("alice", &alice_orgs, &["bob"])
            .dev("bob", &["late-shared"], &["alice"]);
    let app = spawn_app(graph).await;
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(
        answer.body,
        json!({"connected": true, "organisations": ["late-shared"]})
    );
    let calls = app.github.calls();
    // 151 organisations in pages of 100: the second page comes from the Link header.
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("/user/100/orgs?page=2&per_page=100")),
        "{calls:?}"
    );
}

#[tokio::test]
async fn a_follow_on_a_later_page_is_found_and_reading_stops_there() {
    // alice follows 2,500 others before bob; bob has 3,000 followers: alice's following is
    // the shorter list for alice→bob. bob follows alice, who has few followers.
    let graph = Graph::new()
        .dev("alice", &["acme"], &[])
        .dev("bob", &["acme"], &["alice"])
        .pad_following("alice", 2500)
        .x("alice", &["bob"])
        .pad_followers("bob", 3000);
    let app = spawn_app(graph).await;
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let lists = follow_list_calls(&app);
    let alice_following: Vec<_> = lists
        .iter()
        .filter(|c| c.starts_with("/2/users/2000/following"))
        .collect();
    assert_eq!(alice_following.len(), 3, "{lists:?}");
    // Each page asks for what the list can still return, by its count of 2,501.
    let asked: Vec<bool> = alice_following
        .iter()
        .zip(["max_results=1000", "max_results=1000", "max_results=501"])
        .map(|(call, asked)| call.contains(asked))
        .collect();
    assert_eq!(asked, [true, true, true], "{lists:?}");
    assert!(
        alice_following[2].contains("pagination_token=NEXT2000"),
        "{lists:?}"
    );
    // bob→alice: alice's followers (one) is cheaper than bob's following (one): one page.
    assert_eq!(lists.len(), 4, "{lists:?}");
    assert!(
        !lists.iter().any(|c| c.contains("/2/users/2001/followers")),
        "bob's 3,001 followers are never read"
    );
}

#[tokio::test]
async fn the_followers_list_is_read_when_it_is_the_shorter() {
    // carol follows 5,000 accounts, alice has 2 followers: carol→alice reads alice's followers.
    let graph = Graph::new()
        .dev("alice", &["acme"], &["carol"])
        .dev("carol", &["acme"], &["alice"])
        .pad_following("carol", 5000);
    let app = spawn_app(graph).await;
    assert_eq!(app.realtime("carol", "alice").await.status, 200);
    let lists = follow_list_calls(&app);
    assert!(
        !lists
            .iter()
            .any(|c| c.starts_with("/2/users/2001/following")),
        "{lists:?}"
    );
    assert!(
        lists
            .iter()
            .any(|c| c.starts_with("/2/users/2000/followers")),
        "{lists:?}"
    );
    assert!(app.x.users_read() < 10, "read {} users", app.x.users_read());
}

#[tokio::test]
async fn github_rate_limit_is_a_503_with_retry_after_and_nothing_is_recorded() {
    let app = spawn_app(team()).await;
    app.github
        .fail(Endpoint::Any, Failure::RateLimited { reset_in: 120 });
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(answer.status, 503);
    let secs: u64 = answer.retry_after.as_deref().unwrap().parse().unwrap();
    assert!((119..=121).contains(&secs), "Retry-After {secs}");
    assert_eq!(
        answer.body,
        json!({"errors": [format!("github rate limit exceeded; retry after {secs} s")]})
    );
    assert_nothing_recorded(&app, "alice", "bob").await;
}

#[tokio::test]
async fn x_rate_limit_on_the_lookup_is_a_503_and_nothing_is_recorded() {
    let app = spawn_app(team()).await;
    app.x
        .fail(Endpoint::Lookup, Failure::RateLimited { reset_in: 600 });
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(answer.status, 503);
    let secs: u64 = answer.retry_after.as_deref().unwrap().parse().unwrap();
    assert!((599..=601).contains(&secs), "Retry-After {secs}");
    assert_eq!(
        answer.body["errors"][0],
        json!(format!("twitter rate limit exceeded; retry after {secs} s"))
    );
    assert_nothing_recorded(&app, "alice", "bob").await;
}

#[tokio::test]
async fn x_rate_limit_on_a_follow_list_is_a_503_and_nothing_is_recorded() {
    let app = spawn_app(team()).await;
    app.x
        .fail(Endpoint::FollowList, Failure::RateLimited { reset_in: 900 });
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(answer.status, 503);
    assert!(answer.retry_after.is_some());
    assert_nothing_recorded(&app, "alice", "bob").await;
}

#[tokio::test]
async fn a_rate_limit_is_not_reported_as_a_missing_user() {
    // nobody exists nowhere, but X cannot be asked: the honest answer is the rate limit.
    let app = spawn_app(team()).await;
    app.x
        .fail(Endpoint::Lookup, Failure::RateLimited { reset_in: 60 });
    let answer = app.realtime("nobody", "alice").await;
    assert_eq!(answer.status, 503);
}

#[tokio::test]
async fn an_upstream_server_error_is_a_502_naming_the_network() {
    let app = spawn_app(team()).await;
    app.github.fail(Endpoint::Any, Failure::Status(500));
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(answer.status, 502);
    assert_eq!(
        answer.body,
        json!({"errors": ["GitHub is unavailable: it answered HTTP 500 Internal Server Error: Server Error"]})
    );
    app.github.heal();

    app.x.fail(Endpoint::FollowList, Failure::Status(503));
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(answer.status, 502);
    assert!(
        answer.body["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("X is unavailable: it answered HTTP 503")
    );
    assert_nothing_recorded(&app, "alice", "bob").await;
}

#[tokio::test]
async fn a_hung_upstream_is_a_502_within_the_timeout() {
    let app = spawn_app_with(team(), |c| c.upstreams.timeout = Duration::from_millis(500)).await;
    app.x
        .fail(Endpoint::Lookup, Failure::Hang(Duration::from_secs(10)));
    let started = Instant::now();
    let answer = app.realtime("alice", "bob").await;
    let took = started.elapsed();
    assert_eq!(answer.status, 502);
    assert_eq!(
        answer.body,
        json!({"errors": ["X is unavailable: no answer within 500ms"]})
    );
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    assert_nothing_recorded(&app, "alice", "bob").await;
}

#[tokio::test]
async fn an_unreadable_answer_is_a_502() {
    let app = spawn_app(team()).await;
    app.github.fail(Endpoint::Any, Failure::Garbage);
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(answer.status, 502);
    assert_eq!(
        answer.body,
        json!({"errors": ["GitHub is unavailable: its answer could not be read"]})
    );
}

#[tokio::test]
async fn rejected_credentials_are_a_502_that_never_shows_the_token() {
    let app = spawn_app_with(team(), |c| {
        c.upstreams.x.bearer_token = Some(connected::secret::Secret::new("wrong-token-123"));
    })
    .await;
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(answer.status, 502);
    let message = answer.body["errors"][0].as_str().unwrap();
    assert_eq!(
        message,
        "X is unavailable: it rejected the credentials (HTTP 401 Unauthorized)"
    );
    assert!(!message.contains("wrong-token-123"));

    app.github.fail(Endpoint::Any, Failure::Status(401));
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(answer.status, 502);
}

#[tokio::test]
async fn an_x_app_without_access_to_follow_lists_is_a_502_saying_so() {
    let app = spawn_app(team()).await;
    app.x.fail(Endpoint::FollowList, Failure::Status(403));
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(answer.status, 502);
    let message = answer.body["errors"][0].as_str().unwrap();
    assert!(
        message.starts_with("X is unavailable: it answered HTTP 403 Forbidden"),
        "{message}"
    );
}

#[tokio::test]
async fn a_check_that_needs_many_slow_calls_gives_up_at_the_request_deadline() {
    // Each call answers within its own timeout, but together they take too long.
    let app = spawn_app_with(team(), |c| {
        c.upstreams.timeout = Duration::from_secs(5);
        c.upstreams.request_timeout = Duration::from_millis(400);
    })
    .await;
    app.x.set_latency(Duration::from_millis(300));
    let started = Instant::now();
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(answer.status, 504, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({"errors": ["the upstreams did not answer within 400ms; try again later"]})
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_nothing_recorded(&app, "alice", "bob").await;
}
