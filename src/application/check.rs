//! Checking one pair now.

use super::facts::{Known, UpstreamFailure, round_one, social_graph_failure};
use super::members::answers::{MemberRound, round_one_as_member};
use super::{Freshness, Membership, Networks, UseCases};
use crate::domain::access::{Caller, Meter};
use crate::domain::{
    Chain, Grounds, Handle, MissingUser, Organisation, Pair, RegisterError, RegisteredCheck,
    Relationship, SocialGraphError, SocialUser, UnreadableFollow, Verdict, shared_organisations,
};

/// Why a check gave no verdict; nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// Every (developer, network) that does not exist, in the order dev1-github,
    /// dev1-twitter, dev2-github, dev2-twitter.
    #[error("not valid users: {0:?}")]
    MissingUsers(Vec<MissingUser>),
    /// The follows that would decide cannot be read (protected accounts).
    #[error("{0}")]
    Unreadable(UnreadableFollow),
    #[error("{0}")]
    Upstream(#[from] UpstreamFailure),
    /// The register could not take the verdict.
    #[error("{0}")]
    Register(#[from] RegisterError),
}

impl UseCases {
    /// Checks `pair` now against the upstreams, paid by `caller`, and records the verdict
    /// before returning it; `freshness` says whether cached facts may be used. A developer
    /// of the pair who signed in on the social graph answers for the follows with their own
    /// token.
    ///
    /// # Errors
    /// See [`CheckError`]; nothing is recorded unless a verdict is returned.
    pub async fn check(
        &self,
        pair: &Pair,
        freshness: Freshness,
        caller: &Caller,
    ) -> Result<RegisteredCheck, CheckError> {
        let networks = self.networks(freshness);
        let membership = self.membership.as_ref();
        let decided = self
            .in_time(decide(networks, membership, pair, caller))
            .await?;
        let grounds = Grounds {
            social_graph: networks.social_graph.network(),
            member_sign_in: decided.member_sign_in,
        };
        Ok(self
            .register
            .record(pair, &decided.verdict, grounds, self.now())
            .await?)
    }
}

/// A verdict, and whether it rested on a member's sign-in.
struct Decided {
    verdict: Verdict,
    member_sign_in: bool,
}

async fn decide(
    networks: &Networks,
    membership: Option<&Membership>,
    pair: &Pair,
    caller: &Caller,
) -> Result<Decided, CheckError> {
    if let Some(decided) = decide_as_member(networks, membership, pair, caller).await? {
        return Ok(decided);
    }
    let [dev1, dev2] = pair.developers();
    let known = round_one(networks, &[dev1, dev2], caller).await?;
    let (orgs1, orgs2, user1, user2) = found(&known)?;
    let (organisations, hidden_decided) =
        shared(networks, membership, [dev1, dev2], [orgs1, orgs2], caller).await;
    if organisations.is_empty() {
        return Ok(Decided {
            verdict: Verdict::NotConnected,
            member_sign_in: false,
        });
    }

    // Round two: whether they follow each other, asking as little as the graph allows.
    let relationship = networks
        .social_graph
        .relationship(user1, user2, caller)
        .await
        .map_err(|e| match e {
            SocialGraphError::Protected { follower, .. } => {
                let (follower, followee) = if follower == user1.id {
                    (dev1, dev2)
                } else {
                    (dev2, dev1)
                };
                CheckError::Unreadable(UnreadableFollow {
                    follower: follower.to_string(),
                    followee: followee.to_string(),
                    network: networks.social_graph.network(),
                })
            }
            e => social_graph_failure(networks.social_graph.network(), &e).into(),
        })?;
    Ok(Decided {
        verdict: verdict(organisations, relationship),
        member_sign_in: hidden_decided,
    })
}

/// The organisations the pair shares, hidden ones included where their consent lets them
/// count, and whether only hidden ones made them share any (the verdict then rests on a
/// member's sign-in).
async fn shared(
    networks: &Networks,
    membership: Option<&Membership>,
    developers: [&Handle; 2],
    public: [&[Organisation]; 2],
    caller: &Caller,
) -> (Vec<String>, bool) {
    let shared = shared_organisations(public[0], public[1]);
    let Some(membership) = membership else {
        return (shared, false);
    };
    let code_host = networks.code_host.as_ref();
    match membership
        .with_hidden(code_host, developers, public, caller)
        .await
    {
        Some(hidden) => {
            let decided = shared.is_empty() && !hidden.organisations.is_empty();
            (hidden.organisations, decided)
        }
        None => (shared, false),
    }
}

/// The verdict of a pair that shares `organisations`, by their follows.
fn verdict(organisations: Vec<String>, relationship: Relationship) -> Verdict {
    if relationship.mutual() {
        Verdict::Connected { organisations }
    } else {
        Verdict::NotConnected
    }
}

/// Both developers' organisations and social-graph users.
type Found<'a> = (
    &'a [Organisation],
    &'a [Organisation],
    &'a SocialUser,
    &'a SocialUser,
);

/// Both developers' organisations and social-graph users, or every one missing.
fn found(known: &Known) -> Result<Found<'_>, CheckError> {
    match (
        known.organisations.first(),
        known.organisations.get(1),
        known.users.first(),
        known.users.get(1),
        known.missing.is_empty(),
    ) {
        (Some(Some(orgs1)), Some(Some(orgs2)), Some(Some(user1)), Some(Some(user2)), true) => {
            Ok((orgs1, orgs2, user1, user2))
        }
        _ => Err(CheckError::MissingUsers(known.missing.clone())),
    }
}

/// The pair decided with a member's token, when one of them signed in on the social graph
/// and the token answered; `None` to decide it the app's way.
async fn decide_as_member(
    networks: &Networks,
    membership: Option<&Membership>,
    pair: &Pair,
    caller: &Caller,
) -> Result<Option<Decided>, CheckError> {
    let Some(membership) = membership.filter(|_| networks.social_graph.answers_for_members())
    else {
        return Ok(None);
    };
    let developers = pair.developers();
    let signed_in = membership
        .answering(&developers, networks.social_graph.network())
        .await;
    let Some((member_at, member)) = developers.iter().enumerate().find_map(|(i, dev)| {
        let member = signed_in.iter().find(|c| c.account.handle == **dev)?;
        Some((i, member))
    }) else {
        return Ok(None);
    };
    let (known, relationship) = match round_one_as_member(
        networks, developers, member_at, member, caller,
    )
    .await?
    {
        MemberRound::Answered(known, relationship) => (known, relationship),
        MemberRound::TokenRefused => {
            membership.token_refused(&member.account).await;
            return Ok(None);
        }
        MemberRound::Failed(error) => {
            tracing::info!(error = %Chain(&error), "a member's token did not answer: asked the app's way");
            return Ok(None);
        }
    };
    let (orgs1, orgs2, _, _) = found(&known)?;
    let (organisations, _) = shared(
        networks,
        Some(membership),
        developers,
        [orgs1, orgs2],
        caller,
    )
    .await;
    let Some(relationship) = relationship.filter(|_| !organisations.is_empty()) else {
        return Ok(Some(Decided {
            verdict: Verdict::NotConnected,
            member_sign_in: false,
        }));
    };
    caller.bill(Meter::member_answers(networks.social_graph.network()), 1);
    Ok(Some(Decided {
        verdict: verdict(organisations, relationship),
        member_sign_in: true,
    }))
}

#[cfg(test)]
mod tests {
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
}
