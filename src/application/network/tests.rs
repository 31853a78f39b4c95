//! A team's network on in-memory ports.

use super::*;
use crate::application::testing::{
    Asked, MemoryCodeHost, MemoryRegister, Recorded, ScriptedGraph, Trigger, use_cases,
};
use crate::domain::{Network, SocialGraphError, Unavailable};
use std::sync::Arc;
use std::time::Duration;

fn team(names: &[&str]) -> Team {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    Team::parse(&names).unwrap()
}

fn names(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

/// alice and bob share acme and follow each other; bob and carol share beta, but their
/// follows cannot be read (both protected); alice and carol follow each other but share
/// nothing. dave is not on GitHub, erin not on X.
fn five() -> (MemoryCodeHost, ScriptedGraph) {
    let code_host = MemoryCodeHost::default()
        .member("alice", &["acme"])
        .member("bob", &["acme", "beta"])
        .member("carol", &["beta"])
        .member("erin", &["acme"]);
    let graph = ScriptedGraph::default()
        .with_users(&["alice", "bob", "carol", "dave"])
        .mutual("alice", "bob")
        .mutual("alice", "carol")
        .unreadable("bob", "carol")
        .unreadable("carol", "bob");
    (code_host, graph)
}

async fn network(
    code_host: MemoryCodeHost,
    graph: ScriptedGraph,
    register: MemoryRegister,
) -> (
    Result<TeamNetwork, NetworkError>,
    Arc<ScriptedGraph>,
    Arc<MemoryRegister>,
) {
    let (code_host, graph, register) = (Arc::new(code_host), Arc::new(graph), Arc::new(register));
    let team = team(&["alice", "bob", "carol", "dave", "erin"]);
    let answer = use_cases(&code_host, &graph, &register)
        .network(&team, Freshness::Cached, &Caller::anonymous())
        .await;
    (answer, graph, register)
}

#[tokio::test]
async fn the_missing_are_left_out_and_follows_asked_only_where_an_organisation_is_shared() {
    let (code_host, graph) = five();
    let (answer, graph, _) = network(code_host, graph, MemoryRegister::default()).await;
    let answer = answer.unwrap();
    let missing: Vec<(&str, Network)> = answer
        .missing
        .iter()
        .map(|m| (m.developer.as_str(), m.network))
        .collect();
    assert_eq!(missing, [("dave", Network::GitHub), ("erin", Network::X)]);
    let everyone = ["alice", "bob", "carol", "dave", "erin"].map(String::from);
    assert_eq!(
        graph.asked(),
        [
            Asked::Users(everyone.to_vec()),
            Asked::Relationships(vec![names("alice", "bob"), names("bob", "carol")]),
        ],
        "alice and carol follow each other, but share no organisation"
    );
    assert_eq!(
        answer.connections,
        [Connection {
            developers: ["alice".into(), "bob".into()],
            organisations: vec!["acme".into()],
        }]
    );
    assert_eq!(answer.groups[0], ["alice", "bob"]);
}

#[tokio::test]
async fn an_unreadable_pair_has_no_verdict_and_every_other_pair_is_recorded_at_once() {
    let (code_host, graph) = five();
    let (answer, _, register) = network(code_host, graph, MemoryRegister::default()).await;
    assert_eq!(
        answer.unwrap().undecided,
        [Undecided {
            developers: ["bob".into(), "carol".into()],
            why: UnreadableFollow {
                follower: "bob".into(),
                followee: "carol".into(),
                network: Network::X,
            },
        }]
    );
    let recorded = register.recorded();
    let pairs: Vec<(&str, &str, bool)> = recorded
        .iter()
        .map(|r: &Recorded| {
            (
                r.pair.0.as_str(),
                r.pair.1.as_str(),
                r.verdict.is_connected(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [("alice", "bob", true), ("alice", "carol", false)],
        "the missing and the undecided are not recorded"
    );
    assert!(recorded.iter().all(|r| r.at == recorded[0].at), "one write");
}

#[tokio::test]
async fn a_graph_that_answers_pair_by_pair_gives_the_same_network() {
    let (code_host, graph) = five();
    let (by_list, _, _) = network(code_host, graph, MemoryRegister::default()).await;
    let (code_host, graph) = five();
    let (by_pair, graph, _) =
        network(code_host, graph.pair_by_pair(), MemoryRegister::default()).await;
    assert_eq!(by_pair.unwrap(), by_list.unwrap());
    assert_eq!(
        graph.asked()[1..],
        [
            Asked::Relationship("alice".into(), "bob".into()),
            Asked::Relationship("bob".into(), "carol".into()),
        ]
    );
}

#[tokio::test]
async fn a_register_that_cannot_take_the_verdicts_is_the_answer_and_none_is_kept() {
    let (code_host, graph) = five();
    let failure = RegisterError::unavailable("disk full");
    let register = MemoryRegister::default().failing(failure.clone());
    let (answer, _, register) = network(code_host, graph, register).await;
    assert_eq!(answer.unwrap_err(), NetworkError::Register(failure));
    assert!(register.recorded().is_empty());
}

#[tokio::test]
async fn follows_that_could_not_be_read_leave_the_team_unanswered_and_unrecorded() {
    let (code_host, graph) = five();
    let limited = SocialGraphError::RateLimited {
        retry_after: Duration::from_secs(900),
    };
    let graph = graph.failing(Trigger::Follows, limited);
    let (answer, _, register) = network(code_host, graph, MemoryRegister::default()).await;
    assert_eq!(
        answer.unwrap_err(),
        NetworkError::Upstream(UpstreamFailure::RateLimited {
            network: Network::X,
            retry_after: Duration::from_secs(900),
        })
    );
    assert!(register.recorded().is_empty());
}

#[tokio::test]
async fn a_failure_part_way_through_the_follows_leaves_the_team_unanswered() {
    let (code_host, graph) = five();
    let failure = SocialGraphError::unavailable("connection reset");
    let graph = graph
        .pair_by_pair()
        .failing(Trigger::FollowsOf("carol".into()), failure);
    let (answer, graph, register) = network(code_host, graph, MemoryRegister::default()).await;
    assert_eq!(
        answer.unwrap_err(),
        NetworkError::Upstream(UpstreamFailure::Unavailable {
            network: Network::X,
            why: Unavailable::new("connection reset"),
        })
    );
    assert_eq!(
        graph.asked().last(),
        Some(&Asked::Relationship("bob".into(), "carol".into())),
        "alice and bob were answered first"
    );
    assert!(register.recorded().is_empty());
}

#[tokio::test]
async fn a_cap_under_the_lists_bound_answers_the_estimate_before_any_follow_is_read() {
    let (code_host, graph) = five();
    let (code_host, graph) = (Arc::new(code_host), Arc::new(graph));
    let register = Arc::new(MemoryRegister::default());
    let team = team(&["alice", "bob", "carol", "dave", "erin"]);
    let cases = use_cases(&code_host, &graph, &register);
    let anyone = Caller::anonymous();
    let estimate = cases
        .estimate(&team, Freshness::Cached, &anyone)
        .await
        .unwrap();
    // alice and bob share acme, bob and carol beta: one list each (one user each).
    let lists: Vec<(&str, Vec<String>)> = estimate
        .lists
        .iter()
        .map(|l| (l.developer.as_str(), l.others.clone()))
        .collect();
    assert_eq!(
        lists,
        [
            ("alice", vec!["bob".to_owned()]),
            ("bob", vec!["carol".to_owned()])
        ]
    );
    assert_eq!((estimate.x_users, estimate.x_calls), (2, 2));
    let over = cases
        .network_capped(&team, Freshness::Cached, &anyone, Some(1))
        .await
        .unwrap();
    assert_eq!(over, Capped::OverCap(estimate.clone()));
    assert!(
        graph
            .asked()
            .iter()
            .all(|asked| matches!(asked, Asked::Users(_))),
        "{:?}",
        graph.asked()
    );
    assert!(register.recorded().is_empty());
    let at = cases
        .network_capped(&team, Freshness::Cached, &anyone, Some(estimate.x_users))
        .await
        .unwrap();
    assert!(matches!(at, Capped::Answered(_)), "{at:?}");
    assert!(!register.recorded().is_empty());
}
