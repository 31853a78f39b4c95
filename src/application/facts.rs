//! Round one of every use case that asks the upstreams: who exists where, with their
//! organisations and social-graph users; and upstream failures in the use cases' words.

use super::Networks;
use crate::domain::access::{Caller, Overspend};
use crate::domain::{
    CodeHostError, Handle, MissingUser, Network, Organisation, SocialGraphError, SocialUser,
    Unavailable,
};
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Why the upstreams gave no answer: each a failure of theirs (or of the budgets that pay
/// for them), never a fact about the developers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamFailure {
    #[error("{network} rate limit exceeded")]
    RateLimited {
        network: Network,
        retry_after: Duration,
    },
    /// The network's reason is told; its cause is for the log.
    #[error("{} is unavailable: {why}", network.title())]
    Unavailable {
        network: Network,
        #[source]
        why: Unavailable,
    },
    /// A read a spend budget cannot pay for was not made.
    #[error("{0}")]
    OverBudget(Overspend),
    /// The upstreams together took longer than the deadline.
    #[error("the upstreams did not answer within {}", humantime::format_duration(*.0))]
    TimedOut(Duration),
}

/// What round one learned of some developers, in their order: their organisations and their
/// social-graph users (`None` where missing), and every missing (developer, network) in the
/// contract's order.
pub(super) struct Known {
    pub(super) organisations: Vec<Option<Vec<Organisation>>>,
    pub(super) users: Vec<Option<SocialUser>>,
    pub(super) missing: Vec<MissingUser>,
}

/// Round one, concurrently: every developer's organisations (a not-found is the existence
/// check) and batched lookups on the social graph. A handle that cannot be a user on a
/// network is not sent there: it is missing without asking.
pub(super) async fn round_one(
    networks: &Networks,
    developers: &[&Handle],
    caller: &Caller,
) -> Result<Known, UpstreamFailure> {
    let names = Names::of(networks);
    let (organisations, social) = tokio::join!(
        organisations_of(networks, developers, caller),
        social_users_of(networks, developers, caller)
    );
    if let Some(failure) = first_failure(&organisations, social.as_ref().err(), names) {
        return Err(failure);
    }
    let found = social.map_err(|e| social_graph_failure(names.social, &e))?;
    Ok(known(developers, organisations, found, names))
}

/// Every developer's organisations, as many asked at once as the code host allows.
pub(super) async fn organisations_of(
    networks: &Networks,
    developers: &[&Handle],
    caller: &Caller,
) -> Vec<Result<Vec<Organisation>, CodeHostError>> {
    let owned: Vec<Handle> = developers.iter().map(|dev| (*dev).clone()).collect();
    futures::stream::iter(owned.into_iter().map(|dev| {
        let code_host = Arc::clone(&networks.code_host);
        async move {
            if !code_host.accepts(&dev) {
                return Err(CodeHostError::NotFound);
            }
            code_host.organisations(&dev, caller).await
        }
    }))
    .buffered(networks.in_flight)
    .collect()
    .await
}

/// The social-graph users of the developers found there, by handle key.
async fn social_users_of(
    networks: &Networks,
    developers: &[&Handle],
    caller: &Caller,
) -> Result<HashMap<String, SocialUser>, SocialGraphError> {
    let valid: Vec<&Handle> = developers
        .iter()
        .copied()
        .filter(|h| networks.social_graph.accepts(h))
        .collect();
    let users = networks.social_graph.users(&valid, caller).await?;
    Ok(valid
        .iter()
        .zip(users)
        .filter_map(|(handle, user)| Some((handle.key().to_owned(), user?)))
        .collect())
}

/// The failure to report, if an upstream failed: reported as what it is, never as a missing
/// user; a rate limit first, since it tells the caller when to come back.
pub(super) fn first_failure(
    organisations: &[Result<Vec<Organisation>, CodeHostError>],
    social: Option<&SocialGraphError>,
    names: Names,
) -> Option<UpstreamFailure> {
    let mut failures: Vec<UpstreamFailure> = organisations
        .iter()
        .filter_map(|result| code_host_failure(names.code, result))
        .chain(social.map(|e| social_graph_failure(names.social, e)))
        .collect();
    failures.sort_by_key(|e| !matches!(e, UpstreamFailure::RateLimited { .. }));
    (!failures.is_empty()).then(|| failures.swap_remove(0))
}

/// Which network each port is.
#[derive(Clone, Copy)]
pub(super) struct Names {
    pub(super) code: Network,
    pub(super) social: Network,
}

impl Names {
    pub(super) fn of(networks: &Networks) -> Self {
        Self {
            code: networks.code_host.network(),
            social: networks.social_graph.network(),
        }
    }
}

/// What round one learned, once no upstream failed.
pub(super) fn known(
    developers: &[&Handle],
    organisations: Vec<Result<Vec<Organisation>, CodeHostError>>,
    mut found: HashMap<String, SocialUser>,
    names: Names,
) -> Known {
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
                network: names.code,
            });
        }
        // On the code host's own follow graph, a missing user is already reported once.
        if user.is_none() && names.social != names.code {
            known.missing.push(MissingUser {
                developer: dev.to_string(),
                network: names.social,
            });
        }
        known.organisations.push(orgs);
        known.users.push(user);
    }
    known
}

fn code_host_failure<T>(
    network: Network,
    result: &Result<T, CodeHostError>,
) -> Option<UpstreamFailure> {
    match result {
        Ok(_) | Err(CodeHostError::NotFound) => None,
        Err(CodeHostError::RateLimited { retry_after }) => Some(UpstreamFailure::RateLimited {
            network,
            retry_after: *retry_after,
        }),
        Err(CodeHostError::OverBudget(overspend)) => {
            Some(UpstreamFailure::OverBudget(overspend.clone()))
        }
        Err(CodeHostError::Unavailable(why)) => Some(UpstreamFailure::Unavailable {
            network,
            why: why.clone(),
        }),
    }
}

pub(super) fn social_graph_failure(network: Network, error: &SocialGraphError) -> UpstreamFailure {
    match error {
        SocialGraphError::RateLimited { retry_after } => UpstreamFailure::RateLimited {
            network,
            retry_after: *retry_after,
        },
        SocialGraphError::OverBudget(overspend) => UpstreamFailure::OverBudget(overspend.clone()),
        SocialGraphError::Unavailable(why) => UpstreamFailure::Unavailable {
            network,
            why: why.clone(),
        },
        // Only a pair's own follows can be unreadable: where it is not asked for, it is an
        // answer that makes no sense.
        SocialGraphError::Protected { .. } => UpstreamFailure::Unavailable {
            network,
            why: Unavailable::new(format!("it answered something not asked: {error}")),
        },
    }
}
