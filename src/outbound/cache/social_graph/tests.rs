//! The cache's rules for the social graph, in process (no Redis), over a scripted graph.

use super::*;
use crate::application::testing::{Asked, ScriptedGraph, Trigger, handle};
use crate::domain::TestClock;
use crate::domain::access::{Budget, KeyId, KeyLimits, Overspend};

fn cached(graph: &Arc<ScriptedGraph>, clock: &Arc<TestClock>) -> CachedSocialGraph {
    let settings = CacheSettings {
        ttl: Duration::from_secs(3600),
        ttl_not_found: Duration::from_secs(600),
        max_entries: 100,
    };
    let limits = RateLimitMemory::new(None, clock.clone());
    let profile = GraphProfile {
        users_cache: "scripted_users",
        relationships_cache: "scripted_relationships",
        lookup_limit: "scripted_lookups",
        follows_limit: "scripted_follows",
        pair_by_pair: graph.is_pair_by_pair(),
    };
    let inner: Arc<dyn SocialGraph> = graph.clone();
    CachedSocialGraph::new(
        inner,
        profile,
        settings,
        None,
        limits,
        Arc::default(),
        clock.clone(),
    )
}

fn noon() -> Arc<TestClock> {
    TestClock::at("2026-12-01T12:00:00Z")
}

fn user(name: &str) -> SocialUser {
    SocialUser {
        id: format!("id-{name}"),
        username: name.to_owned(),
        followers: Some(1),
        following: Some(1),
        protected: false,
    }
}

fn key(id: &str) -> Caller {
    Caller::new(KeyId::parse(id).unwrap(), KeyLimits::default())
}

/// Calls that read follows.
fn follow_reads(graph: &ScriptedGraph) -> Vec<Asked> {
    let asked = graph.asked().into_iter();
    asked
        .filter(|call| !matches!(call, Asked::Users(_)))
        .collect()
}

#[tokio::test]
async fn a_settled_pair_is_answered_from_the_cache_without_asking_again() {
    let graph = Arc::new(ScriptedGraph::default().mutual("alice", "bob"));
    let cache = cached(&graph, &noon());
    let (alice, bob) = (user("alice"), user("bob"));
    let anyone = Caller::anonymous();
    let mutual = cache.relationship(&alice, &bob, &anyone).await.unwrap();
    assert!(mutual.mutual());
    // Asked again, either way round, alone or with others.
    let reversed = cache.relationship(&bob, &alice, &anyone).await.unwrap();
    assert_eq!(reversed, mutual.reversed());
    let users = [bob.clone(), alice.clone()];
    let known = cache.relationships(&users, &[(0, 1)], &[], &anyone).await;
    assert_eq!(known.unwrap(), [mutual.reversed()]);
    assert_eq!(
        follow_reads(&graph),
        [Asked::Relationship("alice".into(), "bob".into())]
    );
}

#[tokio::test]
async fn a_half_known_pair_is_completed_from_what_the_cache_keeps() {
    // The cache keeps that alice follows bob (an interrupted team request learnt it); the
    // graph would now say otherwise, so an answer that says so was not asked from scratch.
    let graph = Arc::new(ScriptedGraph::default().follow("bob", "alice"));
    let cache = cached(&graph, &noon());
    let (alice, bob) = (user("alice"), user("bob"));
    let key = PairKey::of(&alice, &bob);
    let half = Relationship {
        forward: Some(true),
        backward: None,
    };
    cache.keep(&key, half, Duration::from_secs(60)).await;
    let users = [alice.clone(), bob.clone()];
    let known = cache
        .relationships(&users, &[(0, 1)], &[], &Caller::anonymous())
        .await;
    assert!(known.unwrap()[0].mutual(), "completed, not asked again");
    assert_eq!(
        follow_reads(&graph),
        [Asked::Relationships(vec![("alice".into(), "bob".into())])]
    );
    // Kept whole now: asked no more.
    let again = cache.relationship(&alice, &bob, &Caller::anonymous()).await;
    assert!(again.unwrap().mutual());
    assert_eq!(follow_reads(&graph).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_load_that_failed_on_another_keys_budget_is_asked_again_paid_by_this_one() {
    let spent = Overspend {
        payer: Payer::Key,
        budget: Budget::X_USERS_PER_DAY,
        limit: 10,
        retry_after: Duration::from_secs(60),
    };
    let graph = ScriptedGraph::default()
        .with_users(&["alice"])
        .failing(
            Trigger::PaidBy("spentspent00".into()),
            SocialGraphError::OverBudget(spent.clone()),
        )
        .slow(Duration::from_secs(1));
    let graph = Arc::new(graph);
    let cache = cached(&graph, &noon());
    let alice = handle("alice");
    let asked = [&alice];
    let (broke, paying) = (key("spentspent00"), key("payingpaying"));
    let first = cache.users(&asked, &broke);
    let second = async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        cache.users(&asked, &paying).await
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(first.unwrap_err(), SocialGraphError::OverBudget(spent));
    assert_eq!(
        second.unwrap()[0].as_ref().map(|u| u.id.as_str()),
        Some("id-alice")
    );
    // The shared load was the first key's; the second key paid for its own ask. (The first
    // key, told its own budget is spent, asks once more itself: its budget refuses that
    // before any request is sent.)
    let payers = graph.payers();
    assert_eq!(payers[0].as_deref(), Some("spentspent00"));
    let paid = |key: &str| payers.iter().filter(|p| p.as_deref() == Some(key)).count();
    assert_eq!((paid("spentspent00"), paid("payingpaying")), (2, 1));
}

#[tokio::test]
async fn a_rate_limit_is_remembered_until_it_resets_on_the_clock() {
    let limited = SocialGraphError::RateLimited {
        retry_after: Duration::from_secs(60),
    };
    let graph = ScriptedGraph::default().failing(Trigger::Follows, limited);
    let graph = Arc::new(graph);
    let clock = noon();
    let cache = cached(&graph, &clock);
    let (alice, bob) = (user("alice"), user("bob"));
    let anyone = Caller::anonymous();
    assert!(cache.relationship(&alice, &bob, &anyone).await.is_err());
    clock.advance(Duration::from_secs(45));
    assert_eq!(
        cache.relationship(&alice, &bob, &anyone).await.unwrap_err(),
        SocialGraphError::RateLimited {
            retry_after: Duration::from_secs(15)
        },
        "not asked: 15 s left"
    );
    assert_eq!(follow_reads(&graph).len(), 1);
    clock.advance(Duration::from_secs(15));
    assert!(cache.relationship(&alice, &bob, &anyone).await.is_err());
    assert_eq!(follow_reads(&graph).len(), 2, "asked once the limit reset");
}

#[tokio::test]
async fn a_plan_leaves_out_the_pairs_the_cache_settles_and_reads_nothing() {
    let graph = Arc::new(ScriptedGraph::default().mutual("alice", "bob"));
    let cache = cached(&graph, &noon());
    let (alice, bob, carol) = (user("alice"), user("bob"), user("carol"));
    let anyone = Caller::anonymous();
    let users = [alice.clone(), bob.clone(), carol];
    let before = cache.plan(&users, &[(0, 1), (0, 2)], &[]).await;
    assert_eq!(before.lists.len(), 2);
    assert!(
        cache
            .relationship(&alice, &bob, &anyone)
            .await
            .unwrap()
            .mutual()
    );
    let asked = follow_reads(&graph).len();
    let after = cache.plan(&users, &[(0, 1), (0, 2)], &[]).await;
    let planned: Vec<(usize, Vec<usize>)> = after
        .lists
        .iter()
        .map(|list| (list.owner, list.others.clone()))
        .collect();
    assert_eq!(
        planned,
        [(0, vec![2])],
        "alice and bob are settled: they cost nothing"
    );
    assert_eq!(after.users(), 1);
    assert_eq!(follow_reads(&graph).len(), asked, "planning reads nothing");
}
