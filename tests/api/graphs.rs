//! The choice of social graph: X, GitHub's own follow graph, or Bluesky.

use crate::fake::Graph;
use crate::support::spawn_app_with;
use connected::domain::Network;
use connected::domain::access::Caller;
use serde_json::json;

fn pair() -> Graph {
    Graph::new()
        .dev("alice", &["acme"], &["bob"])
        .dev("bob", &["acme"], &["alice"])
        .dev("carol", &["acme"], &["alice"])
}

#[tokio::test]
async fn on_githubs_follow_graph_a_pair_needs_no_list_and_no_x() {
    let app = spawn_app_with(pair(), |c| c.upstreams.social_graph = Network::GitHub).await;
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(
        answer.body,
        json!({"connected": true, "organisations": ["acme"]})
    );
    let calls = app.github.calls();
    assert_eq!(
        calls.iter().filter(|c| c.contains("/following/")).count(),
        2,
        "{calls:?}"
    );
    assert_eq!(app.x.call_count(), 0);
    assert_eq!(
        app.register("alice", "bob").await.body[0]["social_graph"],
        json!("github")
    );

    assert_eq!(app.realtime("alice", "carol").await.status, 404);
    // A missing developer is reported once, on github.
    let answer = app.realtime("ghost", "alice").await;
    assert_eq!(
        answer.body,
        json!({"errors": ["ghost is not a valid user in github"]})
    );
}

#[tokio::test]
async fn on_bluesky_one_call_answers_both_directions() {
    let app = spawn_app_with(pair(), |c| {
        c.upstreams.social_graph = Network::Bluesky;
        c.upstreams.x.bearer_token = None;
    })
    .await;
    let answer = app.realtime("alice", "bob").await;
    assert_eq!(
        answer.body,
        json!({"connected": true, "organisations": ["acme"]})
    );
    let calls = app.bluesky.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(
        calls[0].starts_with(
            "/xrpc/app.bsky.actor.getProfiles?actors=alice.bsky.social,bob.bsky.social"
        ),
        "{calls:?}"
    );
    assert!(
        calls[1].starts_with("/xrpc/app.bsky.graph.getRelationships"),
        "{calls:?}"
    );
    assert_eq!(app.x.call_count(), 0);
    assert_eq!(
        app.register("alice", "bob").await.body[0]["social_graph"],
        json!("bluesky")
    );
    assert_eq!(app.realtime("alice", "carol").await.status, 404);
}

#[tokio::test]
async fn unknown_bluesky_actors_are_not_valid_users_in_bluesky() {
    let graph = pair().github("ghonly", &["acme"]);
    let app = spawn_app_with(graph, |c| c.upstreams.social_graph = Network::Bluesky).await;
    let answer = app.realtime("ghonly", "alice").await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body,
        json!({"errors": ["ghonly is not a valid user in bluesky"]})
    );
    // A handle Bluesky cannot have is not sent.
    let answer = app.realtime("a_b", "alice").await;
    assert_eq!(
        answer.body,
        json!({"errors": ["a_b is not a valid user in github", "a_b is not a valid user in bluesky"]})
    );
}

#[tokio::test]
async fn both_shapes_of_an_unknown_actor_answer_are_understood() {
    use connected::domain::{Relationship, SocialGraph, SocialUser};
    use connected::outbound::upstreams::bluesky::BlueskyAppView;
    let bluesky = crate::fake::bluesky(pair()).await;
    let appview = BlueskyAppView::new(
        bluesky.url.parse().unwrap(),
        ".bsky.social",
        std::time::Duration::from_secs(2),
        std::sync::Arc::default(),
        std::sync::Arc::new(connected::outbound::clock::SystemClock),
    )
    .unwrap();
    let user = |did: &str| SocialUser {
        id: did.to_owned(),
        username: did.to_owned(),
        followers: None,
        following: None,
        protected: false,
    };
    let anyone = Caller::anonymous();
    let nobody = Relationship {
        forward: Some(false),
        backward: Some(false),
    };
    // The lexicon's 400 ActorNotFound, and today's 200 with every entry notFoundActor.
    for as_400 in [true, false] {
        bluesky.unknown_actor_as_400(as_400);
        let known = appview
            .relationship(&user("did:plc:gone"), &user("did:plc:2000"), &anyone)
            .await;
        assert_eq!(known, Ok(nobody), "400: {as_400}");
    }
    let known = appview
        .relationship(&user("did:plc:2000"), &user("did:plc:2001"), &anyone)
        .await;
    assert!(known.unwrap().mutual());
}

#[tokio::test]
async fn a_team_on_bluesky_asks_each_developer_once() {
    let graph = pair()
        .dev("dan", &["acme"], &["alice", "bob"])
        .x("alice", &["dan"])
        .x("bob", &["dan"]);
    let app = spawn_app_with(graph, |c| c.upstreams.social_graph = Network::Bluesky).await;
    let answer = app.network(&["alice", "bob", "carol", "dan"]).await;
    assert_eq!(answer.body["groups"], json!([["alice", "bob", "dan"]]));
    let relationship_calls = app
        .bluesky
        .calls()
        .iter()
        .filter(|c| c.contains("getRelationships"))
        .count();
    assert_eq!(relationship_calls, 3, "{:?}", app.bluesky.calls());
}

#[tokio::test]
async fn a_handle_bluesky_cannot_have_never_fails_the_others() {
    let graph = pair().github("bob-2", &["acme"]);
    let app = spawn_app_with(graph, |c| {
        c.upstreams.social_graph = Network::Bluesky;
        c.upstreams.bluesky.handle_suffix = ".2".into();
    })
    .await;
    // Under the suffix ".2" no handle is a valid Bluesky handle: reported, never sent.
    let answer = app.realtime("alice", "bob-2").await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({"errors": ["alice is not a valid user in bluesky", "bob-2 is not a valid user in bluesky"]})
    );
    assert_eq!(app.bluesky.call_count(), 0);
}
