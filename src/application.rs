//! The use cases: check a pair now, read a pair's history. They orchestrate the ports (what
//! runs concurrently, when to stop early, what is recorded) and own no I/O.

use crate::domain::{
    CodeHost, CodeHostError, Handle, HandleError, HistoryPage, MissingUser, Network, Pair,
    Register, RegisterError, RegisteredCheck, SameDeveloper, SocialGraph, SocialGraphError,
    SocialUser, Verdict, shared_organisations,
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
    #[error("{0}")]
    Register(#[from] RegisterError),
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

    /// Checks a pair now against the upstreams and records the verdict before returning it.
    ///
    /// # Errors
    /// See [`CheckError`]; nothing is recorded unless a verdict is returned.
    pub async fn check(&self, dev1: &str, dev2: &str) -> Result<RegisteredCheck, CheckError> {
        self.check_with(dev1, dev2, Freshness::Cached).await
    }

    /// [`Connections::check`], choosing whether cached facts may be used.
    ///
    /// # Errors
    /// See [`CheckError`]; nothing is recorded unless a verdict is returned.
    pub async fn check_with(
        &self,
        dev1: &str,
        dev2: &str,
        freshness: Freshness,
    ) -> Result<RegisteredCheck, CheckError> {
        let pair = Self::pair(dev1, dev2)?;
        let networks = match freshness {
            Freshness::Cached => &self.cached,
            Freshness::Fresh => &self.fresh,
        };
        let verdict = decide(networks, &pair).await?;
        let at = now();
        Ok(self.register.record(&pair, &verdict, at).await?)
    }

    /// The recorded verdicts for the pair that `page` selects, oldest first.
    ///
    /// # Errors
    /// `BadHandle`, `SameDeveloper` or `Register`.
    pub async fn history(
        &self,
        dev1: &str,
        dev2: &str,
        page: HistoryPage,
    ) -> Result<Vec<RegisteredCheck>, CheckError> {
        history(self.register.as_ref(), dev1, dev2, page).await
    }

    /// Whether the register answers.
    ///
    /// # Errors
    /// `RegisterError` when it does not.
    pub async fn ready(&self) -> Result<(), RegisterError> {
        self.register.ping().await
    }
}

async fn decide(networks: &Networks, pair: &Pair) -> Result<Verdict, CheckError> {
    let [dev1, dev2] = pair.developers();

    // Round one, concurrently: both developers' organisations (a not-found is the
    // existence check) and one lookup of both on the social graph. A handle that cannot
    // be a user on a network is not sent there: it is missing without asking.
    let orgs = |dev: &Handle| {
        let code_host = Arc::clone(&networks.code_host);
        let dev = dev.clone();
        async move {
            if !dev.is_github_login() {
                return Err(CodeHostError::NotFound);
            }
            code_host.organisations(&dev).await
        }
    };
    let social = async {
        let valid: Vec<&Handle> = [dev1, dev2]
            .into_iter()
            .filter(|h| h.is_x_username())
            .collect();
        let found = if valid.is_empty() {
            Vec::new()
        } else {
            networks.social_graph.users(&valid).await?
        };
        let mut users = valid.into_iter().zip(found);
        let mut lookup = |dev: &Handle| {
            if dev.is_x_username() {
                users.next().and_then(|(_, user)| user)
            } else {
                None
            }
        };
        Ok::<_, SocialGraphError>([lookup(dev1), lookup(dev2)])
    };
    let (orgs1, orgs2, social) = tokio::join!(orgs(dev1), orgs(dev2), social);

    // An upstream that failed is reported as what it is, never as a missing user; a rate
    // limit first, since it tells the caller when to come back.
    let failures = [
        code_host_failure(&orgs1),
        code_host_failure(&orgs2),
        social.as_ref().err().map(social_graph_failure),
    ];
    let mut failures = failures.into_iter().flatten().collect::<Vec<_>>();
    if !failures.is_empty() {
        failures.sort_by_key(|e| !matches!(e, CheckError::RateLimited { .. }));
        return Err(failures.swap_remove(0));
    }
    let [x1, x2] = social.map_err(|e| social_graph_failure(&e))?;

    let mut missing = Vec::new();
    for (dev, on_github, on_x) in [
        (dev1, orgs1.is_ok(), x1.is_some()),
        (dev2, orgs2.is_ok(), x2.is_some()),
    ] {
        if !on_github {
            missing.push(MissingUser {
                developer: dev.to_string(),
                network: Network::GitHub,
            });
        }
        if !on_x {
            missing.push(MissingUser {
                developer: dev.to_string(),
                network: Network::X,
            });
        }
    }
    let (Ok(orgs1), Ok(orgs2), Some(x1), Some(x2), true) =
        (orgs1, orgs2, x1, x2, missing.is_empty())
    else {
        return Err(CheckError::MissingUsers(missing));
    };

    let organisations = shared_organisations(&orgs1, &orgs2);
    if organisations.is_empty() {
        return Ok(Verdict::NotConnected);
    }

    // Round two: both directions of the follow, cheaper one first, and the second only
    // when the first holds.
    let mut directions = [(&x1, &x2), (&x2, &x1)];
    directions.sort_by_key(|(follower, followee)| follow_cost(follower, followee));
    for (follower, followee) in directions {
        let follows = networks
            .social_graph
            .follows(follower, followee)
            .await
            .map_err(|e| social_graph_failure(&e))?;
        if !follows {
            return Ok(Verdict::NotConnected);
        }
    }
    Ok(Verdict::Connected { organisations })
}

/// The recorded verdicts for the pair that `page` selects, oldest first: reading needs the
/// register only.
///
/// # Errors
/// `BadHandle`, `SameDeveloper` or `Register`.
pub async fn history(
    register: &dyn Register,
    dev1: &str,
    dev2: &str,
    page: HistoryPage,
) -> Result<Vec<RegisteredCheck>, CheckError> {
    let pair = Connections::pair(dev1, dev2)?;
    Ok(register.history(&pair, page).await?)
}

/// Users to read to settle "follower follows followee": the shorter of the two lists.
fn follow_cost(follower: &SocialUser, followee: &SocialUser) -> u64 {
    let unknown = u64::MAX;
    follower
        .following
        .unwrap_or(unknown)
        .min(followee.followers.unwrap_or(unknown))
}

fn code_host_failure<T>(result: &Result<T, CodeHostError>) -> Option<CheckError> {
    match result {
        Ok(_) | Err(CodeHostError::NotFound) => None,
        Err(CodeHostError::RateLimited { retry_after }) => Some(CheckError::RateLimited {
            network: Network::GitHub,
            retry_after: *retry_after,
        }),
        Err(CodeHostError::Unavailable(reason)) => Some(CheckError::Unavailable {
            network: Network::GitHub,
            reason: reason.clone(),
        }),
    }
}

fn social_graph_failure(error: &SocialGraphError) -> CheckError {
    match error {
        SocialGraphError::RateLimited { retry_after } => CheckError::RateLimited {
            network: Network::X,
            retry_after: *retry_after,
        },
        SocialGraphError::Unavailable(reason) => CheckError::Unavailable {
            network: Network::X,
            reason: reason.clone(),
        },
    }
}

/// The time a verdict is recorded at: now, to the millisecond the register keeps.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}
