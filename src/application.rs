//! The use cases: check a pair now, read a pair's history. They orchestrate the ports (what
//! runs concurrently, when to stop early, what is recorded) and own no I/O.

use crate::domain::{
    CodeHost, CodeHostError, Handle, HandleError, HistoryPage, MissingUser, Network, Pair,
    Register, RegisterError, RegisteredCheck, SameDeveloper, SocialGraph, SocialGraphError,
    SocialUser, Verdict, shared_organisations,
};
use chrono::{DateTime, SubsecRound, Utc};
use futures::StreamExt;
use std::collections::HashMap;
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
        let social_graph = networks.social_graph.network();
        Ok(self
            .register
            .record(&pair, &verdict, social_graph, now())
            .await?)
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

/// What round one learned of some developers, in their order: their organisations and their
/// social-graph users (`None` where missing), and every missing (developer, network) in the
/// contract's order.
struct Known {
    organisations: Vec<Option<Vec<String>>>,
    users: Vec<Option<SocialUser>>,
    missing: Vec<MissingUser>,
}

/// GitHub calls in flight at once for one request: GitHub asks clients not to hammer it
/// (its secondary rate limits punish concurrency).
const GITHUB_CONCURRENCY: usize = 8;
/// Users per lookup on the social graph (X's maximum).
const LOOKUP_BATCH: usize = 100;

/// Round one, concurrently: every developer's organisations (a not-found is the existence
/// check) and batched lookups on the social graph. A handle that cannot be a user on a
/// network is not sent there: it is missing without asking.
async fn round_one(networks: &Networks, developers: &[&Handle]) -> Result<Known, CheckError> {
    let social_network = networks.social_graph.network();
    let owned: Vec<Handle> = developers.iter().map(|dev| (*dev).clone()).collect();
    let organisations = futures::stream::iter(owned.into_iter().map(|dev| {
        let code_host = Arc::clone(&networks.code_host);
        async move {
            if !dev.is_github_login() {
                return Err(CodeHostError::NotFound);
            }
            code_host.organisations(&dev).await
        }
    }))
    .buffered(GITHUB_CONCURRENCY)
    .collect::<Vec<_>>();
    let social = async {
        let valid: Vec<&Handle> = developers
            .iter()
            .copied()
            .filter(|h| networks.social_graph.accepts(h))
            .collect();
        let mut found: HashMap<String, SocialUser> = HashMap::new();
        for batch in valid.chunks(LOOKUP_BATCH) {
            let users = networks.social_graph.users(batch).await?;
            for (handle, user) in batch.iter().zip(users) {
                if let Some(user) = user {
                    found.insert(handle.key().to_owned(), user);
                }
            }
        }
        Ok::<_, SocialGraphError>(found)
    };
    let (organisations, social) = tokio::join!(organisations, social);

    // An upstream that failed is reported as what it is, never as a missing user; a rate
    // limit first, since it tells the caller when to come back.
    let mut failures: Vec<CheckError> = organisations
        .iter()
        .filter_map(code_host_failure)
        .chain(
            social
                .as_ref()
                .err()
                .map(|e| social_graph_failure(social_network, e)),
        )
        .collect();
    if !failures.is_empty() {
        failures.sort_by_key(|e| !matches!(e, CheckError::RateLimited { .. }));
        return Err(failures.swap_remove(0));
    }
    let mut found = social.map_err(|e| social_graph_failure(social_network, &e))?;

    let mut known = Known {
        organisations: Vec::with_capacity(developers.len()),
        users: Vec::with_capacity(developers.len()),
        missing: Vec::new(),
    };
    for (dev, orgs) in developers.iter().zip(organisations) {
        let orgs = orgs.ok();
        let user = found.remove(dev.key());
        if orgs.is_none() {
            known.missing.push(MissingUser {
                developer: dev.to_string(),
                network: Network::GitHub,
            });
        }
        // On GitHub's own follow graph, a missing user is already reported once.
        if user.is_none() && social_network != Network::GitHub {
            known.missing.push(MissingUser {
                developer: dev.to_string(),
                network: social_network,
            });
        }
        known.organisations.push(orgs);
        known.users.push(user);
    }
    Ok(known)
}

async fn decide(networks: &Networks, pair: &Pair) -> Result<Verdict, CheckError> {
    let [dev1, dev2] = pair.developers();
    let known = round_one(networks, &[dev1, dev2]).await?;
    let (Some(Some(orgs1)), Some(Some(orgs2)), Some(Some(user1)), Some(Some(user2)), true) = (
        known.organisations.first(),
        known.organisations.get(1),
        known.users.first(),
        known.users.get(1),
        known.missing.is_empty(),
    ) else {
        return Err(CheckError::MissingUsers(known.missing));
    };

    let organisations = shared_organisations(orgs1, orgs2);
    if organisations.is_empty() {
        return Ok(Verdict::NotConnected);
    }

    // Round two: whether they follow each other, asking as little as the graph allows.
    let relationship = networks
        .social_graph
        .relationship(user1, user2)
        .await
        .map_err(|e| social_graph_failure(networks.social_graph.network(), &e))?;
    Ok(if relationship.mutual() {
        Verdict::Connected { organisations }
    } else {
        Verdict::NotConnected
    })
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

fn social_graph_failure(network: Network, error: &SocialGraphError) -> CheckError {
    match error {
        SocialGraphError::RateLimited { retry_after } => CheckError::RateLimited {
            network,
            retry_after: *retry_after,
        },
        SocialGraphError::Unavailable(reason) => CheckError::Unavailable {
            network,
            reason: reason.clone(),
        },
    }
}

/// The time a verdict is recorded at: now, to the millisecond the register keeps.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}
