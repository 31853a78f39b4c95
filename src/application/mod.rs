//! The use cases: check a pair now, map a team's network, read a pair's history. They
//! orchestrate the ports (what runs concurrently, when to stop early, what is recorded) and
//! own no I/O. One file per use case; what they share is here.

mod access;
mod check;
mod facts;
mod history;
mod keys;
mod network;

pub use access::{Access, Admitted, Reach, Refusal};
pub use history::history;
pub use keys::{KeyError, create_key, list_keys, revoke_key};
pub use network::{Connection, TeamNetwork, Undecided};

use crate::domain::access::Overspend;
use crate::domain::{
    CodeHost, Handle, HandleError, MissingUser, Network, Pair, Register, RegisterError,
    SameDeveloper, SocialGraph, TeamError, UnreadableFollow, retry_after_secs,
};
use chrono::{DateTime, SubsecRound, Utc};
use std::sync::Arc;
use std::time::Duration;

/// Why a check or a history read gave no verdict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("{0}")]
    BadHandle(#[from] HandleError),
    #[error("{0}")]
    SameDeveloper(#[from] SameDeveloper),
    /// Every (developer, network) that does not exist, in the order dev1-github,
    /// dev1-twitter, dev2-github, dev2-twitter.
    #[error("not valid users: {0:?}")]
    MissingUsers(Vec<MissingUser>),
    #[error("{network} rate limit exceeded")]
    RateLimited {
        network: Network,
        retry_after: Duration,
    },
    #[error("{network} is unavailable: {reason}")]
    Unavailable { network: Network, reason: String },
    /// The follows that would decide cannot be read (protected accounts): no verdict.
    #[error("{0}")]
    Unreadable(UnreadableFollow),
    /// The upstreams together took longer than the deadline; nothing was recorded.
    #[error("the upstreams did not answer within {}", humantime::format_duration(*.0))]
    TimedOut(Duration),
    /// The register could not take the check (nothing was recorded).
    #[error("{0}")]
    Register(#[from] RegisterError),
    /// The register could not be read (a history: nothing, or not all, was read).
    #[error("{0}")]
    RegisterRead(RegisterError),
    /// Not a team: a bad entry, or too few or too many developers.
    #[error("{0}")]
    BadTeam(#[from] TeamError),
    /// A read a spend budget cannot pay for was not made; nothing was recorded.
    #[error("{0}")]
    OverBudget(Overspend),
}

impl CheckError {
    /// What the caller is told, one message per problem: the same words over HTTP and on the
    /// command line. Internal detail (a register's own error, say) is left out; it is for the
    /// log.
    #[must_use]
    pub fn public_messages(&self) -> Vec<String> {
        match self {
            Self::MissingUsers(missing) => missing.iter().map(ToString::to_string).collect(),
            Self::RateLimited {
                network,
                retry_after,
            } => vec![format!(
                "{network} rate limit exceeded; retry after {} s",
                retry_after_secs(*retry_after)
            )],
            Self::Register(_) => vec![
                "the register is unavailable; nothing was recorded, try again later".to_owned(),
            ],
            Self::RegisterRead(_) => {
                vec!["the register is unavailable; nothing was read, try again later".to_owned()]
            }
            Self::TimedOut(deadline) => vec![format!(
                "the upstreams did not answer within {}; try again later",
                humantime::format_duration(*deadline)
            )],
            Self::BadHandle(_)
            | Self::SameDeveloper(_)
            | Self::BadTeam(_)
            | Self::Unavailable { .. }
            | Self::Unreadable(_)
            | Self::OverBudget(_) => vec![self.to_string()],
        }
    }
}

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
}

/// The application: the ports it was built with.
#[derive(Clone)]
pub struct Connections {
    cached: Networks,
    fresh: Networks,
    register: Arc<dyn Register>,
    /// The most the upstream calls of one check or team may take together.
    deadline: Option<Duration>,
}

impl Connections {
    pub fn new(
        code_host: Arc<dyn CodeHost>,
        social_graph: Arc<dyn SocialGraph>,
        register: Arc<dyn Register>,
    ) -> Self {
        let networks = Networks {
            code_host,
            social_graph,
        };
        Self {
            cached: networks.clone(),
            fresh: networks,
            register,
            deadline: None,
        }
    }

    /// Bounds the upstream calls of each check or team, all together: past `deadline` the
    /// answer is [`CheckError::TimedOut`]. Recording is not bounded by it: a verdict decided
    /// in time is recorded (or the register's failure reported), never cut half way.
    #[must_use]
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// `work` (upstream calls only), or `TimedOut` once the deadline has passed.
    async fn in_time<T>(
        &self,
        work: impl Future<Output = Result<T, CheckError>>,
    ) -> Result<T, CheckError> {
        match self.deadline {
            None => work.await,
            Some(deadline) => tokio::time::timeout(deadline, work)
                .await
                .unwrap_or(Err(CheckError::TimedOut(deadline))),
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
        };
        self
    }

    /// Parses two handles as a pair.
    ///
    /// # Errors
    /// `BadHandle` or `SameDeveloper`.
    pub fn pair(dev1: &str, dev2: &str) -> Result<Pair, CheckError> {
        Ok(Pair::new(Handle::parse(dev1)?, Handle::parse(dev2)?)?)
    }

    /// Whether the register answers.
    ///
    /// # Errors
    /// `RegisterError` when it does not.
    pub async fn ready(&self) -> Result<(), RegisterError> {
        self.register.ping().await
    }
}

/// The time a verdict is recorded at: now, to the millisecond the register keeps.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}
