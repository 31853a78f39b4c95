//! The use cases: check a pair now, map a team's network, read a pair's history. They take
//! what the edge has already parsed (a pair, a team, a page) and who pays for it (the
//! caller), orchestrate the ports (what runs concurrently, when to stop early, what is
//! recorded) and own no I/O. One file per use case, each with its own error; what they share
//! is here.

mod access;
mod check;
mod facts;
mod history;
mod keys;
mod members;
mod network;
#[cfg(test)]
pub(crate) mod testing;

pub use access::{Access, AccessRefusal, Admitted, Reach};
pub use check::CheckError;
pub use facts::UpstreamFailure;
pub use history::history;
pub use keys::{KeyError, Revocation, create_key, list_keys, revoke_key};
pub use members::team::MemberLookups;
pub use members::{Begun, Callback, Forgotten, Membership, SignInFailure, SignedIn};
pub use network::{
    Capped, Connection, EstimatedList, NetworkError, NetworkEstimate, RoundOneCost, TeamNetwork,
    Undecided,
};

use crate::domain::{Clock, CodeHost, Register, RegisterError, SocialGraph};
use chrono::{DateTime, SubsecRound, Utc};
use std::sync::Arc;
use std::time::Duration;

/// Whether a check may use what is cached about the developers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Freshness {
    /// Cached facts are good enough.
    #[default]
    Cached,
    /// Ask the upstreams again (and refresh what is cached).
    Fresh,
}

/// The two upstream ports, as one view.
#[derive(Clone)]
struct Networks {
    code_host: Arc<dyn CodeHost>,
    social_graph: Arc<dyn SocialGraph>,
    /// Calls to the code host one request may have in flight at once.
    in_flight: usize,
}

/// Calls to the code host one request has in flight at once, unless told otherwise.
const IN_FLIGHT: usize = 8;

/// The application: the ports it was built with.
#[derive(Clone)]
pub struct UseCases {
    cached: Networks,
    fresh: Networks,
    register: Arc<dyn Register>,
    /// What verdicts are recorded at.
    clock: Arc<dyn Clock>,
    /// The most the upstream calls of one check or team may take together.
    deadline: Option<Duration>,
    /// Members who signed in, whose tokens answer for them; `None` with sign-in off.
    membership: Option<Membership>,
}

impl UseCases {
    pub fn new(
        code_host: Arc<dyn CodeHost>,
        social_graph: Arc<dyn SocialGraph>,
        register: Arc<dyn Register>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let networks = Networks {
            code_host,
            social_graph,
            in_flight: IN_FLIGHT,
        };
        Self {
            cached: networks.clone(),
            fresh: networks,
            register,
            clock,
            deadline: None,
            membership: None,
        }
    }

    /// Lets members' tokens answer for them.
    #[must_use]
    pub fn with_membership(mut self, membership: Membership) -> Self {
        self.membership = Some(membership);
        self
    }

    /// Bounds the upstream calls of each check or team, all together: past `deadline` the
    /// answer is [`UpstreamFailure::TimedOut`]. Recording is not bounded by it: a verdict decided
    /// in time is recorded (or the register's failure reported), never cut half way.
    #[must_use]
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// `work` (upstream calls only), or `TimedOut` once the deadline has passed.
    async fn in_time<T, E: From<UpstreamFailure>>(
        &self,
        work: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        match self.deadline {
            None => work.await,
            Some(deadline) => tokio::time::timeout(deadline, work)
                .await
                .unwrap_or_else(|_| Err(UpstreamFailure::TimedOut(deadline).into())),
        }
    }

    /// The ports `freshness` asks for.
    fn networks(&self, freshness: Freshness) -> &Networks {
        match freshness {
            Freshness::Cached => &self.cached,
            Freshness::Fresh => &self.fresh,
        }
    }

    /// The ports a [`Freshness::Fresh`] check uses: the same upstreams, past their caches.
    #[must_use]
    pub fn with_fresh(
        mut self,
        code_host: Arc<dyn CodeHost>,
        social_graph: Arc<dyn SocialGraph>,
    ) -> Self {
        self.fresh = Networks {
            code_host,
            social_graph,
            in_flight: self.cached.in_flight,
        };
        self
    }

    /// Lets one request have up to `calls` calls to the code host in flight at once (at
    /// least one), as the code host asks of its clients.
    #[must_use]
    pub fn with_calls_in_flight(mut self, calls: usize) -> Self {
        let calls = calls.max(1);
        self.cached.in_flight = calls;
        self.fresh.in_flight = calls;
        self
    }

    /// Whether the register answers.
    ///
    /// # Errors
    /// `RegisterError` when it does not.
    pub async fn ready(&self) -> Result<(), RegisterError> {
        self.register.ping().await
    }

    /// The time a verdict is recorded at.
    fn now(&self) -> DateTime<Utc> {
        to_the_millisecond(self.clock.now())
    }
}

/// `time` to the millisecond the register keeps, so that what is recorded reads back as it
/// was given.
fn to_the_millisecond(time: DateTime<Utc>) -> DateTime<Utc> {
    time.trunc_subsecs(3)
}

#[cfg(test)]
mod tests {
    use super::testing::{MemoryCodeHost, MemoryRegister, ScriptedGraph, pair, use_cases};
    use super::*;
    use crate::domain::access::Caller;
    use crate::domain::{Team, Verdict};

    const DEADLINE: Duration = Duration::from_secs(2);

    fn alice_and_bob() -> MemoryCodeHost {
        MemoryCodeHost::default()
            .member("alice", &["acme"])
            .member("bob", &["acme"])
    }

    #[tokio::test(start_paused = true)]
    async fn upstreams_slower_than_the_deadline_time_out_and_nothing_is_recorded() {
        let code_host = Arc::new(alice_and_bob());
        let graph = ScriptedGraph::default()
            .with_users(&["alice", "bob"])
            .mutual("alice", "bob")
            .slow(Duration::from_millis(500));
        let (graph, register) = (Arc::new(graph), Arc::new(MemoryRegister::default()));
        let app = use_cases(&code_host, &graph, &register).with_deadline(DEADLINE);
        let anyone = Caller::anonymous();
        // A lookup and a follow read, half a second each: in time.
        let pair = pair("alice", "bob");
        assert!(app.check(&pair, Freshness::Cached, &anyone).await.is_ok());
        let graph = Arc::new(
            ScriptedGraph::default()
                .with_users(&["alice", "bob"])
                .slow(Duration::from_secs(3)),
        );
        let app = use_cases(&code_host, &graph, &register).with_deadline(DEADLINE);
        let checked = app.check(&pair, Freshness::Cached, &anyone).await;
        assert_eq!(
            checked.unwrap_err(),
            CheckError::Upstream(UpstreamFailure::TimedOut(DEADLINE))
        );
        let team = Team::parse(&["alice".to_owned(), "bob".to_owned()]).unwrap();
        let mapped = app.network(&team, Freshness::Cached, &anyone).await;
        assert_eq!(
            mapped.unwrap_err(),
            NetworkError::Upstream(UpstreamFailure::TimedOut(DEADLINE))
        );
        assert_eq!(register.recorded().len(), 1, "only the check in time");
    }

    #[tokio::test(start_paused = true)]
    async fn a_verdict_decided_in_time_is_recorded_however_long_the_register_takes() {
        let code_host = Arc::new(alice_and_bob());
        let graph = ScriptedGraph::default()
            .with_users(&["alice", "bob"])
            .mutual("alice", "bob");
        let graph = Arc::new(graph);
        let register = Arc::new(MemoryRegister::default().slow(DEADLINE * 5));
        let app = use_cases(&code_host, &graph, &register).with_deadline(DEADLINE);
        let checked = app
            .check(
                &pair("alice", "bob"),
                Freshness::Cached,
                &Caller::anonymous(),
            )
            .await;
        assert!(checked.unwrap().verdict.is_connected());
        let team = Team::parse(&["alice".to_owned(), "bob".to_owned()]).unwrap();
        let mapped = app
            .network(&team, Freshness::Cached, &Caller::anonymous())
            .await;
        assert_eq!(mapped.unwrap().connections.len(), 1);
        let recorded = register.recorded();
        assert_eq!(recorded.len(), 2);
        assert!(recorded.iter().all(|r| r.verdict != Verdict::NotConnected));
    }

    #[tokio::test]
    async fn fresh_checks_ask_the_ports_given_for_them() {
        let cached = Arc::new(alice_and_bob());
        let graph = Arc::new(ScriptedGraph::default().with_users(&["alice", "bob"]));
        let register = Arc::new(MemoryRegister::default());
        let past_the_cache = Arc::new(alice_and_bob());
        let app =
            use_cases(&cached, &graph, &register).with_fresh(past_the_cache.clone(), graph.clone());
        let pair = pair("alice", "bob");
        let anyone = Caller::anonymous();
        app.check(&pair, Freshness::Fresh, &anyone).await.unwrap();
        assert_eq!((cached.asked().len(), past_the_cache.asked().len()), (0, 2));
        app.check(&pair, Freshness::Cached, &anyone).await.unwrap();
        assert_eq!((cached.asked().len(), past_the_cache.asked().len()), (2, 2));
    }
}
