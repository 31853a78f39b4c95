//! The use cases: check a pair now, read a pair's history. They orchestrate the ports (what
//! runs concurrently, when to stop early, what is recorded) and own no I/O.

use crate::domain::{
    CodeHost, CodeHostError, Handle, HandleError, HistoryPage, HistoryStream, MissingUser, Network,
    Pair, Register, RegisterError, RegisteredCheck, SameDeveloper, SocialGraph, SocialGraphError,
    SocialUser, UnreadableFollow, Verdict, shared_organisations,
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
    /// The follows that would decide cannot be read (protected accounts): no verdict.
    #[error("{0}")]
    Unreadable(UnreadableFollow),
    /// The upstreams together took longer than the deadline; nothing was recorded.
    #[error("the upstreams did not answer within {}", humantime::format_duration(*.0))]
    TimedOut(Duration),
    #[error("{0}")]
    Register(#[from] RegisterError),
    /// A team that is too small or too large.
    #[error("{0}")]
    BadTeam(String),
}

/// The fewest and most developers a team's network takes.
pub const TEAM_SIZE: std::ops::RangeInclusive<usize> = 2..=100;

/// Two developers of a team who are fully connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// As the team gave them, in the team's order.
    pub developers: [String; 2],
    pub organisations: Vec<String>,
}

/// Who in a team is fully connected to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamNetwork {
    /// The team as given, duplicates (ignoring case) folded into their first spelling.
    pub developers: Vec<String>,
    /// Every missing (developer, network), in the team's order: these developers are left
    /// out of the rest.
    pub missing: Vec<MissingUser>,
    pub connections: Vec<Connection>,
    /// The largest sets in which every two are fully connected, largest first.
    pub groups: Vec<Vec<String>>,
    /// Whether there were more groups than are listed.
    pub groups_truncated: bool,
    /// Pairs that share an organisation but whose follows cannot be read (protected
    /// accounts): they have no verdict, and nothing is recorded for them.
    pub undecided: Vec<Undecided>,
}

/// A pair of a team without a verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecided {
    /// As the team gave them, in the team's order.
    pub developers: [String; 2],
    pub why: UnreadableFollow,
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
        let verdict = self.in_time(decide(networks, &pair)).await?;
        let social_graph = networks.social_graph.network();
        Ok(self
            .register
            .record(&pair, &verdict, social_graph, now())
            .await?)
    }

    /// Who in a team is fully connected to whom, with work that grows with the team, not
    /// with its pairs: each developer's organisations once, the social graph's lookups in
    /// batches, and the follows only among developers who share an organisation with
    /// someone. Every pair's verdict is recorded, all in one transaction.
    ///
    /// # Errors
    /// `BadHandle`, `BadTeam`, or an upstream or register failure: then nothing is recorded.
    pub async fn network(
        &self,
        team: &[String],
        freshness: Freshness,
    ) -> Result<TeamNetwork, CheckError> {
        // Far more names than a team can hold is refused before any work on them.
        if team.len() > TEAM_SIZE.end() * 10 {
            return Err(CheckError::BadTeam(format!(
                "a network takes {} to {} different developers, not {}",
                TEAM_SIZE.start(),
                TEAM_SIZE.end(),
                team.len()
            )));
        }
        let mut seen = std::collections::HashSet::new();
        let mut developers: Vec<Handle> = Vec::with_capacity(team.len());
        for (i, raw) in team.iter().enumerate() {
            let handle = Handle::parse(raw)
                .map_err(|e| CheckError::BadTeam(format!("developer {}: {e}", i + 1)))?;
            if seen.insert(handle.key().to_owned()) {
                developers.push(handle);
            }
        }
        if !TEAM_SIZE.contains(&developers.len()) {
            return Err(CheckError::BadTeam(format!(
                "a network takes {} to {} different developers, not {}",
                TEAM_SIZE.start(),
                TEAM_SIZE.end(),
                developers.len()
            )));
        }
        let networks = match freshness {
            Freshness::Cached => &self.cached,
            Freshness::Fresh => &self.fresh,
        };
        let social_graph = networks.social_graph.network();
        let team = self.in_time(team_facts(networks, &developers)).await?;
        let name = |i: usize| developers[team.present[i]].to_string();

        // Every pair of present developers with a verdict gets it, recorded together.
        let mut verdicts = Vec::new();
        let mut connections = Vec::new();
        for a in 0..team.present.len() {
            for b in a + 1..team.present.len() {
                if team.undecided.contains_key(&(a, b)) {
                    continue;
                }
                let (first, second) = (&developers[team.present[a]], &developers[team.present[b]]);
                let verdict = match team.connected.get(&(a, b)) {
                    Some(organisations) => {
                        connections.push(Connection {
                            developers: [first.to_string(), second.to_string()],
                            organisations: organisations.clone(),
                        });
                        Verdict::Connected {
                            organisations: organisations.clone(),
                        }
                    }
                    None => Verdict::NotConnected,
                };
                verdicts.push((Pair::new(first.clone(), second.clone())?, verdict));
            }
        }
        self.register
            .record_all(&verdicts, social_graph, now())
            .await?;

        let links: Vec<(usize, usize)> = team.connected.keys().copied().collect();
        let mut cliques = maximal_cliques(team.present.len(), &links);
        let groups_truncated = cliques.len() > MAX_GROUPS;
        cliques.truncate(MAX_GROUPS);
        let groups = cliques
            .into_iter()
            .map(|group| group.into_iter().map(name).collect())
            .collect();
        let mut undecided: Vec<_> = team.undecided.into_iter().collect();
        undecided.sort_by_key(|(pair, _)| *pair);
        Ok(TeamNetwork {
            developers: developers.iter().map(ToString::to_string).collect(),
            missing: team.missing,
            connections,
            groups,
            groups_truncated,
            undecided: undecided
                .into_iter()
                .map(|((a, b), why)| Undecided {
                    developers: [name(a), name(b)],
                    why,
                })
                .collect(),
        })
    }

    /// The recorded verdicts for the pair that `page` selects, oldest first, read as they
    /// are consumed.
    ///
    /// # Errors
    /// `BadHandle` or `SameDeveloper`; the register's failures come in the stream.
    pub fn history(
        &self,
        dev1: &str,
        dev2: &str,
        page: HistoryPage,
    ) -> Result<HistoryStream, CheckError> {
        history(self.register.as_ref(), dev1, dev2, page)
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

/// What the upstreams tell of a team: who is missing, and among the others (`present`,
/// indices into the team) which pairs are fully connected (with their organisations) and
/// which cannot be decided (protected accounts). Pairs are indices into `present`.
struct TeamFacts {
    missing: Vec<MissingUser>,
    present: Vec<usize>,
    connected: HashMap<(usize, usize), Vec<String>>,
    undecided: HashMap<(usize, usize), UnreadableFollow>,
}

/// Every upstream call a team's network needs, and nothing else (no recording): the part a
/// deadline bounds.
async fn team_facts(networks: &Networks, developers: &[Handle]) -> Result<TeamFacts, CheckError> {
    let social_graph = networks.social_graph.network();
    let refs: Vec<&Handle> = developers.iter().collect();
    let known = round_one(networks, &refs).await?;

    // Those present everywhere, with their facts.
    let present: Vec<(usize, &Vec<String>, SocialUser)> = known
        .organisations
        .iter()
        .zip(&known.users)
        .enumerate()
        .filter_map(|(i, (orgs, user))| Some((i, orgs.as_ref()?, user.clone()?)))
        .collect();
    let people: Vec<SocialUser> = present.iter().map(|(_, _, user)| user.clone()).collect();
    let mut shared: HashMap<(usize, usize), Vec<String>> = HashMap::new();
    for a in 0..present.len() {
        for b in a + 1..present.len() {
            let organisations = shared_organisations(present[a].1, present[b].1);
            if !organisations.is_empty() {
                shared.insert((a, b), organisations);
            }
        }
    }
    let mut candidates: Vec<(usize, usize)> = shared.keys().copied().collect();
    candidates.sort_unstable();
    let relationships = networks
        .social_graph
        .relationships(&people, &candidates, &[])
        .await
        .map_err(|interrupted| social_graph_failure(social_graph, &interrupted.error))?;
    let mut connected = HashMap::new();
    let mut undecided = HashMap::new();
    for (&(a, b), relationship) in candidates.iter().zip(relationships) {
        if relationship.mutual() {
            if let Some(organisations) = shared.remove(&(a, b)) {
                connected.insert((a, b), organisations);
            }
        } else if !relationship.settled() {
            // Only a follow that cannot be read leaves a pair unsettled in an answer.
            let (follower, followee) = if relationship.forward.is_none() {
                (a, b)
            } else {
                (b, a)
            };
            undecided.insert(
                (a, b),
                UnreadableFollow {
                    follower: developers[present[follower].0].to_string(),
                    followee: developers[present[followee].0].to_string(),
                    network: social_graph,
                },
            );
        }
    }
    Ok(TeamFacts {
        missing: known.missing,
        present: present.iter().map(|(i, _, _)| *i).collect(),
        connected,
        undecided,
    })
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
            e => social_graph_failure(networks.social_graph.network(), &e),
        })?;
    Ok(if relationship.mutual() {
        Verdict::Connected { organisations }
    } else {
        Verdict::NotConnected
    })
}

/// The recorded verdicts for the pair that `page` selects, oldest first, read as they are
/// consumed: reading needs the register only.
///
/// # Errors
/// `BadHandle` or `SameDeveloper`; the register's failures come in the stream.
pub fn history(
    register: &dyn Register,
    dev1: &str,
    dev2: &str,
    page: HistoryPage,
) -> Result<HistoryStream, CheckError> {
    let pair = Connections::pair(dev1, dev2)?;
    Ok(register.stream_history(&pair, page))
}

/// Groups reported at most: a graph built to have exponentially many maximal cliques gets
/// the first ones, not a search that never ends.
const MAX_GROUPS: usize = 1000;

/// The maximal cliques of two or more among `n` nodes linked by `links`, each sorted, largest
/// first (then in node order), at most one more than [`MAX_GROUPS`] of them (so the caller
/// can tell there were more): Bron–Kerbosch with a pivot,
/// which stays fast on the sparse graphs teams make.
fn maximal_cliques(n: usize, links: &[(usize, usize)]) -> Vec<Vec<usize>> {
    use std::collections::BTreeSet;
    let mut adjacent: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    for &(a, b) in links {
        adjacent[a].insert(b);
        adjacent[b].insert(a);
    }
    fn extend(
        adjacent: &[BTreeSet<usize>],
        clique: &mut Vec<usize>,
        mut candidates: BTreeSet<usize>,
        mut excluded: BTreeSet<usize>,
        found: &mut Vec<Vec<usize>>,
    ) {
        // One past the cap, to know that there were more.
        if found.len() > MAX_GROUPS {
            return;
        }
        if candidates.is_empty() && excluded.is_empty() {
            if clique.len() >= 2 {
                let mut group = clique.clone();
                group.sort_unstable();
                found.push(group);
            }
            return;
        }
        let pivot = candidates
            .union(&excluded)
            .max_by_key(|&&u| adjacent[u].intersection(&candidates).count())
            .copied();
        let Some(pivot) = pivot else { return };
        let to_try: Vec<usize> = candidates.difference(&adjacent[pivot]).copied().collect();
        for v in to_try {
            clique.push(v);
            extend(
                adjacent,
                clique,
                candidates.intersection(&adjacent[v]).copied().collect(),
                excluded.intersection(&adjacent[v]).copied().collect(),
                found,
            );
            clique.pop();
            candidates.remove(&v);
            excluded.insert(v);
        }
    }
    let mut found = Vec::new();
    extend(
        &adjacent,
        &mut Vec::new(),
        (0..n).collect(),
        BTreeSet::new(),
        &mut found,
    );
    found.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    found
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
        // Only a pair's own follows can be unreadable: where it is not asked for, it is an
        // answer that makes no sense.
        SocialGraphError::Protected { .. } => CheckError::Unavailable {
            network,
            reason: format!("it answered something not asked: {error}"),
        },
    }
}

/// The time a verdict is recorded at: now, to the millisecond the register keeps.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

#[cfg(test)]
mod tests {
    use super::maximal_cliques;

    #[test]
    fn maximal_cliques_are_found_largest_first() {
        // 0-1-2 a triangle, 2-3 a pair, 4 alone, 5-6 a pair.
        let links = [(0, 1), (1, 2), (0, 2), (2, 3), (5, 6)];
        assert_eq!(
            maximal_cliques(7, &links),
            vec![vec![0, 1, 2], vec![2, 3], vec![5, 6]]
        );
        assert!(maximal_cliques(3, &[]).is_empty());
    }

    #[test]
    fn a_graph_with_too_many_groups_gives_the_first_thousand() {
        // Seven triples, each member linked to every member of the other triples but to none
        // of its own: 3^7 = 2,187 maximal groups.
        let n = 21;
        let links: Vec<(usize, usize)> = (0..n)
            .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
            .filter(|(a, b)| a / 3 != b / 3)
            .collect();
        assert_eq!(
            super::maximal_cliques(n, &links).len(),
            super::MAX_GROUPS + 1
        );
    }

    #[test]
    fn a_complete_team_is_one_group() {
        let links: Vec<(usize, usize)> = (0..30)
            .flat_map(|a| (a + 1..30).map(move |b| (a, b)))
            .collect();
        assert_eq!(
            maximal_cliques(30, &links),
            vec![(0..30).collect::<Vec<_>>()]
        );
    }
}
