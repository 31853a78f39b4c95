use super::*;
use crate::application::testing::{
    Asked, MemoryCodeHost, MemoryRegister, Recorded, ScriptedGraph, Trigger, pair, use_cases,
};
use crate::domain::access::{Budget, Overspend, Payer};
use crate::domain::{CodeHostError, Network, Unavailable};
use std::sync::Arc;
use std::time::Duration;

/// alice and bob, both in acme (bob in beta too), on X as well.
fn alice_and_bob() -> (MemoryCodeHost, ScriptedGraph) {
    let code_host = MemoryCodeHost::default()
        .member("alice", &["acme", "solo"])
        .member("bob", &["beta", "Acme"]);
    (
        code_host,
        ScriptedGraph::default().with_users(&["alice", "bob"]),
    )
}

/// Alice and Bob checked on these ports, paid by nobody, cached facts allowed.
async fn check_alice_and_bob(
    code_host: &Arc<MemoryCodeHost>,
    graph: &Arc<ScriptedGraph>,
    register: &Arc<MemoryRegister>,
) -> Result<RegisteredCheck, CheckError> {
    let pair = pair("alice", "bob");
    use_cases(code_host, graph, register)
        .check(&pair, Freshness::Cached, &Caller::anonymous())
        .await
}

async fn check(
    code_host: MemoryCodeHost,
    graph: ScriptedGraph,
) -> (
    Result<RegisteredCheck, CheckError>,
    Arc<ScriptedGraph>,
    Arc<MemoryRegister>,
) {
    let (code_host, graph) = (Arc::new(code_host), Arc::new(graph));
    let register = Arc::new(MemoryRegister::default());
    let checked = check_alice_and_bob(&code_host, &graph, &register).await;
    (checked, graph, register)
}

fn rate_limited(secs: u64) -> SocialGraphError {
    SocialGraphError::RateLimited {
        retry_after: Duration::from_secs(secs),
    }
}

#[tokio::test]
async fn every_missing_user_is_listed_in_the_contracts_order_and_nothing_is_recorded() {
    let code_host = MemoryCodeHost::default().member("bob", &["acme"]);
    let graph = ScriptedGraph::default();
    let (checked, graph, register) = check(code_host, graph).await;
    let missing = |developer: &str, network| MissingUser {
        developer: developer.to_owned(),
        network,
    };
    assert_eq!(
        checked.unwrap_err(),
        CheckError::MissingUsers(vec![
            missing("alice", Network::GitHub),
            missing("alice", Network::X),
            missing("bob", Network::X),
        ])
    );
    assert_eq!(
        graph.asked(),
        [Asked::Users(vec!["alice".into(), "bob".into()])]
    );
    assert!(register.recorded().is_empty());
}

#[tokio::test]
async fn dev1_missing_on_x_comes_before_dev2_missing_on_github() {
    let code_host = MemoryCodeHost::default().member("alice", &["acme"]);
    let graph = ScriptedGraph::default().with_users(&["bob"]);
    let (checked, _, _) = check(code_host, graph).await;
    let CheckError::MissingUsers(missing) = checked.unwrap_err() else {
        panic!("not missing users");
    };
    let order: Vec<(&str, Network)> = missing
        .iter()
        .map(|m| (m.developer.as_str(), m.network))
        .collect();
    assert_eq!(order, [("alice", Network::X), ("bob", Network::GitHub)]);
}

#[tokio::test]
async fn without_a_shared_organisation_the_follows_are_not_asked() {
    let code_host = MemoryCodeHost::default()
        .member("alice", &["acme"])
        .member("bob", &["beta"]);
    let graph = ScriptedGraph::default()
        .with_users(&["alice", "bob"])
        .mutual("alice", "bob");
    let (checked, graph, register) = check(code_host, graph).await;
    assert_eq!(checked.unwrap().verdict, Verdict::NotConnected);
    assert!(
        graph
            .asked()
            .iter()
            .all(|call| matches!(call, Asked::Users(_))),
        "{:?}",
        graph.asked()
    );
    assert_eq!(register.recorded().len(), 1, "not connected is recorded");
}

#[tokio::test]
async fn mutual_followers_who_share_organisations_are_connected_and_recorded_so() {
    let (code_host, graph) = alice_and_bob();
    let (checked, graph, register) = check(code_host, graph.mutual("alice", "bob")).await;
    let connected = Verdict::Connected {
        organisations: vec!["Acme".to_owned()],
    };
    let checked = checked.unwrap();
    assert_eq!(checked.verdict, connected);
    assert_eq!(checked.social_graph, Network::X);
    assert_eq!(
        graph.asked().last(),
        Some(&Asked::Relationship("alice".into(), "bob".into()))
    );
    assert_eq!(
        register.recorded(),
        [Recorded {
            pair: ("alice".into(), "bob".into()),
            verdict: connected,
            grounds: Grounds::public(Network::X),
            at: checked.registered_at,
        }]
    );
    assert_eq!(
        checked.registered_at.to_rfc3339(),
        "2026-12-01T12:00:00.123+00:00",
        "the clock's time, to the millisecond"
    );
}

#[tokio::test]
async fn a_follow_one_way_only_is_not_connected() {
    let (code_host, graph) = alice_and_bob();
    let (checked, _, register) = check(code_host, graph.follow("bob", "alice")).await;
    assert_eq!(checked.unwrap().verdict, Verdict::NotConnected);
    assert_eq!(register.recorded()[0].verdict, Verdict::NotConnected);
}

#[tokio::test]
async fn a_protected_follow_is_unreadable_naming_who_would_follow_whom() {
    for (follower, followee) in [("alice", "bob"), ("bob", "alice")] {
        let (code_host, graph) = alice_and_bob();
        let graph = graph.mutual("alice", "bob").unreadable(follower, followee);
        let (checked, _, register) = check(code_host, graph).await;
        assert_eq!(
            checked.unwrap_err(),
            CheckError::Unreadable(UnreadableFollow {
                follower: follower.to_owned(),
                followee: followee.to_owned(),
                network: Network::X,
            })
        );
        assert!(register.recorded().is_empty());
    }
}

#[tokio::test]
async fn a_rate_limit_is_reported_first_whichever_port_met_it() {
    let (code_host, graph) = alice_and_bob();
    let code_host = code_host.failing_for("bob", CodeHostError::unavailable("502"));
    let graph = graph.failing(Trigger::Lookups, rate_limited(30));
    let (checked, _, _) = check(code_host, graph).await;
    assert_eq!(
        checked.unwrap_err(),
        CheckError::Upstream(UpstreamFailure::RateLimited {
            network: Network::X,
            retry_after: Duration::from_secs(30),
        })
    );

    let (code_host, graph) = alice_and_bob();
    let limited = CodeHostError::RateLimited {
        retry_after: Duration::from_secs(60),
    };
    let code_host = code_host.failing_for("bob", limited);
    let graph = graph.failing(Trigger::Lookups, SocialGraphError::unavailable("503"));
    let (checked, _, _) = check(code_host, graph).await;
    assert_eq!(
        checked.unwrap_err(),
        CheckError::Upstream(UpstreamFailure::RateLimited {
            network: Network::GitHub,
            retry_after: Duration::from_secs(60),
        })
    );
}

#[tokio::test]
async fn an_upstream_failure_is_never_a_missing_user_nor_a_verdict() {
    // alice is missing on GitHub, but bob could not be asked: no answer at all.
    let code_host =
        MemoryCodeHost::default().failing_for("bob", CodeHostError::unavailable("timed out"));
    let (checked, _, register) = check(code_host, ScriptedGraph::default()).await;
    assert_eq!(
        checked.unwrap_err(),
        CheckError::Upstream(UpstreamFailure::Unavailable {
            network: Network::GitHub,
            why: Unavailable::new("timed out"),
        })
    );
    assert!(register.recorded().is_empty());

    // The follows could not be read: not "not connected".
    let overspend = Overspend {
        payer: Payer::Key,
        budget: Budget::X_USERS_PER_DAY,
        limit: 10,
        retry_after: Duration::from_secs(5),
    };
    let (code_host, graph) = alice_and_bob();
    let graph = graph.failing(
        Trigger::Follows,
        SocialGraphError::OverBudget(overspend.clone()),
    );
    let (checked, _, register) = check(code_host, graph).await;
    assert_eq!(
        checked.unwrap_err(),
        CheckError::Upstream(UpstreamFailure::OverBudget(overspend))
    );
    assert!(register.recorded().is_empty());
}

#[tokio::test]
async fn a_handle_the_code_host_cannot_have_is_missing_there_without_asking() {
    let (code_host, graph) = alice_and_bob();
    let code_host = Arc::new(code_host.refusing("bob"));
    let (graph, register) = (Arc::new(graph), Arc::new(MemoryRegister::default()));
    let checked = check_alice_and_bob(&code_host, &graph, &register).await;
    assert_eq!(
        checked.unwrap_err(),
        CheckError::MissingUsers(vec![MissingUser {
            developer: "bob".into(),
            network: Network::GitHub,
        }])
    );
    assert_eq!(code_host.asked(), ["alice"]);
}

#[tokio::test]
async fn a_register_that_cannot_write_is_the_answer() {
    let (code_host, graph) = alice_and_bob();
    let (code_host, graph) = (Arc::new(code_host), Arc::new(graph));
    let failure = RegisterError::unavailable("disk full");
    let register = Arc::new(MemoryRegister::default().failing(failure.clone()));
    let checked = check_alice_and_bob(&code_host, &graph, &register).await;
    assert_eq!(checked.unwrap_err(), CheckError::Register(failure));
}
