//! The ports: what the application needs from the outside world, and exactly which failures
//! each may report. Adapters translate their technology's errors into these at the boundary.
//! A call that may spend upstream is given its [`Caller`]: who pays, and whose tab it runs up.

use super::access::Caller;
use super::members::MemberCredentials;
use super::{
    Grounds, Handle, HistoryPage, Network, Organisation, Pair, PairVerdict, ReadPlan,
    RegisteredCheck, Unavailable, Verdict,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Failures of the code host (GitHub).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeHostError {
    /// No such user.
    #[error("no such user")]
    NotFound,
    /// The code host refuses more calls for this long.
    #[error("rate limited; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// Anything else: timeout, 5xx, unreadable body, rejected credentials; said in its
    /// reason alone.
    #[error(transparent)]
    Unavailable(Unavailable),
    /// Not asked: a spend budget cannot pay for the call.
    #[error("{0}")]
    OverBudget(crate::domain::access::Overspend),
}

impl CodeHostError {
    /// Unavailable for `reason`, with no error underneath.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self::Unavailable(Unavailable::new(reason))
    }
}

/// The code host: who belongs to which organisations.
#[async_trait]
pub trait CodeHost: Send + Sync + 'static {
    /// Whether a handle can be a user of the code host at all; one that cannot is reported
    /// missing without asking.
    fn accepts(&self, handle: &Handle) -> bool;

    /// Which network this code host is, for messages.
    fn network(&self) -> Network;

    /// The organisations the user publicly belongs to, as the code host spells them (at most
    /// [`Organisation::MAX_PER_DEVELOPER`]).
    ///
    /// # Errors
    /// [`CodeHostError::NotFound`] when the user does not exist; `RateLimited` and
    /// `Unavailable` when the code host could not answer, or answered what cannot be a
    /// developer's organisations (a name that is not a login, too many of them).
    async fn organisations(
        &self,
        user: &Handle,
        caller: &Caller,
    ) -> Result<Vec<Organisation>, CodeHostError>;

    /// Whether a signed-in member's token can answer for them
    /// ([`CodeHost::member_organisations`], [`CodeHost::belongs`]).
    fn answers_for_members(&self) -> bool {
        false
    }

    /// Every organisation `member` belongs to, hidden memberships included, as their own
    /// token lists them (within the member's own rate limit), for `caller`'s request.
    ///
    /// # Errors
    /// [`AsMemberError::TokenRefused`] when the token is no longer taken; `Graph` (the
    /// code host's failure in the social graph's words) when it could not answer.
    async fn member_organisations(
        &self,
        member: &MemberCredentials,
        caller: &Caller,
    ) -> Result<Vec<Organisation>, AsMemberError> {
        let _ = (member, caller);
        Err(AsMemberError::Graph(SocialGraphError::unavailable(
            "it does not answer for members",
        )))
    }

    /// Whether `user` belongs to `organisation`, hidden or not, asked with `member`'s
    /// token: `None` when the member cannot tell (they do not belong to it themselves).
    ///
    /// # Errors
    /// As [`CodeHost::member_organisations`].
    async fn belongs(
        &self,
        member: &MemberCredentials,
        organisation: &Organisation,
        user: &Handle,
        caller: &Caller,
    ) -> Result<Option<bool>, AsMemberError> {
        let _ = (member, organisation, user, caller);
        Err(AsMemberError::Graph(SocialGraphError::unavailable(
            "it does not answer for members",
        )))
    }
}

/// Failures of the social graph (X).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SocialGraphError {
    #[error("rate limited; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// Whether the user with id `follower` follows the one with id `followee` cannot be
    /// read: every list that would tell is private (protected accounts). Neither a failure
    /// of the graph nor a fact about the follow.
    #[error("whether {follower} follows {followee} cannot be read: protected accounts")]
    Protected { follower: String, followee: String },
    /// As [`CodeHostError::Unavailable`].
    #[error(transparent)]
    Unavailable(Unavailable),
    /// Not asked: a spend budget cannot pay for the read.
    #[error("{0}")]
    OverBudget(crate::domain::access::Overspend),
}

impl SocialGraphError {
    /// Unavailable for `reason`, with no error underneath.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self::Unavailable(Unavailable::new(reason))
    }
}

/// A user of the social graph, with the sizes of its follow lists as the graph reports them
/// (they only choose which list to read; a verdict never rests on a count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocialUser {
    pub id: String,
    pub username: String,
    /// How many follow this user; `None` when the graph did not say.
    pub followers: Option<u64>,
    /// How many this user follows; `None` when the graph did not say.
    pub following: Option<u64>,
    /// Whether the account keeps its own follow lists private (X's protected accounts):
    /// whether it follows someone can then be read only from that one's followers, and who
    /// follows it only from their following.
    pub protected: bool,
}

/// What is known of the follows between two users: `forward` whether the first follows the
/// second, `backward` the other way; `None` where it was not asked (once one direction is
/// known not to hold, the other need not be).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relationship {
    pub forward: Option<bool>,
    pub backward: Option<bool>,
}

impl Relationship {
    /// Neither follows the other.
    pub const NEITHER: Self = Self {
        forward: Some(false),
        backward: Some(false),
    };

    /// What is known of each of `n` pairs: `known` as given, nothing for pairs it lacks.
    pub fn for_each_of(n: usize, known: &[Relationship]) -> Vec<Relationship> {
        (0..n)
            .map(|i| known.get(i).copied().unwrap_or_default())
            .collect()
    }

    /// Whether each follows the other.
    pub fn mutual(&self) -> bool {
        self.forward == Some(true) && self.backward == Some(true)
    }

    /// Whether enough is known to tell if it is mutual.
    pub fn settled(&self) -> bool {
        self.forward == Some(false)
            || self.backward == Some(false)
            || (self.forward.is_some() && self.backward.is_some())
    }

    /// The same, seen from the second user.
    #[must_use]
    pub fn reversed(self) -> Self {
        Self {
            forward: self.backward,
            backward: self.forward,
        }
    }
}

/// Why a member's token gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AsMemberError {
    /// The network no longer takes the token (revoked, or expired past renewal).
    #[error("the member's token is no longer taken")]
    TokenRefused,
    #[error(transparent)]
    Graph(SocialGraphError),
}

/// What a member's token tells of one other user: the user, and the relationship from the
/// member (first) to them (second), both directions.
pub type MemberView = (SocialUser, Relationship);

/// The social graph: who follows whom.
#[async_trait]
pub trait SocialGraph: Send + Sync + 'static {
    /// Which network this graph is, for messages and the register.
    fn network(&self) -> Network;

    /// Whether a handle can be a user of this network at all; one that cannot is reported
    /// missing without asking.
    fn accepts(&self, handle: &Handle) -> bool;

    /// Looks up several users at once, in as few calls as the graph allows (it batches them
    /// as its API takes them); the answer has one entry per handle, in order, `None`
    /// for a user that does not exist (or is suspended).
    ///
    /// # Errors
    /// `RateLimited` and `Unavailable` when the graph could not answer; a missing user is not
    /// an error.
    async fn users(
        &self,
        handles: &[&Handle],
        caller: &Caller,
    ) -> Result<Vec<Option<SocialUser>>, SocialGraphError>;

    /// Whether the two follow each other, asking as little as possible (once one direction
    /// is known not to hold, the other need not be asked).
    ///
    /// # Errors
    /// `RateLimited` and `Unavailable` when the graph could not answer; `Protected` when a
    /// direction that matters cannot be read.
    async fn relationship(
        &self,
        a: &SocialUser,
        b: &SocialUser,
        caller: &Caller,
    ) -> Result<Relationship, SocialGraphError>;

    /// The relationships of several pairs of `users` (indices into it), each completed from
    /// what is already `known` of it (one entry per pair) until it tells whether it is
    /// mutual, or left unsettled when the follows that would tell cannot be read
    /// ([`SocialGraphError::Protected`]: the pair has no answer, the others still do). A
    /// graph that reads lists answers them all with each list read at most once, and only
    /// for the directions still unknown; one that answers pair by pair may use
    /// [`relationships_one_by_one`].
    ///
    /// # Errors
    /// [`PartialRelationships`] when the graph stopped answering part way: what it had learned by then
    /// (so that it is not asked again, and paid for again), and why it stopped.
    async fn relationships(
        &self,
        users: &[SocialUser],
        pairs: &[(usize, usize)],
        known: &[Relationship],
        caller: &Caller,
    ) -> Result<Vec<Relationship>, PartialRelationships>;

    /// The lists [`SocialGraph::relationships`] would read for the same arguments, and
    /// nothing read: the same planning, so that what it costs can be told first. A graph
    /// that reads no lists plans none (the default).
    async fn plan(
        &self,
        users: &[SocialUser],
        pairs: &[(usize, usize)],
        known: &[Relationship],
    ) -> ReadPlan {
        let _ = (users, pairs, known);
        ReadPlan::default()
    }

    /// Whether a signed-in member's token can answer for them ([`SocialGraph::as_member`]).
    fn answers_for_members(&self) -> bool {
        false
    }

    /// What `member`'s own token tells of each of `others`, in as few calls as the graph
    /// allows: one entry per handle, in order, `None` for a user that does not exist, else
    /// the user and both directions between the member and them. Paid by `caller`, as any
    /// lookup; limited by the member's own rate limits.
    ///
    /// # Errors
    /// [`AsMemberError::TokenRefused`] when the token is no longer taken; `Graph` when the
    /// graph could not answer. A graph that cannot answer for members says so as a failure.
    async fn as_member(
        &self,
        member: &MemberCredentials,
        others: &[&Handle],
        caller: &Caller,
    ) -> Result<Vec<Option<MemberView>>, AsMemberError> {
        let _ = (member, others, caller);
        Err(AsMemberError::Graph(SocialGraphError::unavailable(
            "it does not answer for members",
        )))
    }
}

/// [`SocialGraph::relationships`] for a graph that answers pair by pair: each pair not yet
/// settled asked in turn, stopping at the first failure.
///
/// # Errors
/// [`PartialRelationships`] with what was learned before the failure.
pub async fn relationships_one_by_one<G: SocialGraph + ?Sized>(
    graph: &G,
    users: &[SocialUser],
    pairs: &[(usize, usize)],
    known: &[Relationship],
    caller: &Caller,
) -> Result<Vec<Relationship>, PartialRelationships> {
    let mut known = Relationship::for_each_of(pairs.len(), known);
    for (i, &(a, b)) in pairs.iter().enumerate() {
        if known[i].settled() {
            continue;
        }
        match graph.relationship(&users[a], &users[b], caller).await {
            Ok(relationship) => known[i] = relationship,
            Err(SocialGraphError::Protected { .. }) => {}
            Err(error) => return Err(PartialRelationships { known, error }),
        }
    }
    Ok(known)
}

/// Relationships asked for in bulk whose answers stopped part way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct PartialRelationships {
    /// One entry per pair asked, as far as it is known ([`Relationship::settled`] tells).
    pub known: Vec<Relationship>,
    pub error: SocialGraphError,
}

/// Failures of the register.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// The storage could not be reached or refused the operation; nothing was written.
    #[error("the register is unavailable: {0}")]
    Unavailable(#[source] Unavailable),
}

impl RegisterError {
    /// Unavailable for `reason`, with no error underneath.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self::Unavailable(Unavailable::new(reason))
    }

    /// Unavailable for `reason`, because of `cause` (kept for the log, never told).
    pub fn unavailable_because(
        reason: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Unavailable(Unavailable::because(reason, cause))
    }
}

/// A pair's history as it is read, oldest first.
pub type HistoryStream =
    futures::stream::BoxStream<'static, Result<RegisteredCheck, RegisterError>>;

/// The register of past checks.
#[async_trait]
pub trait Register: Send + Sync + 'static {
    /// Keeps one verdict for a pair, and what it rested on, at the given time, durably,
    /// before returning.
    ///
    /// # Errors
    /// [`RegisterError::Unavailable`] when it could not be written; then nothing was.
    async fn record(
        &self,
        pair: &Pair,
        verdict: &Verdict,
        grounds: Grounds,
        at: DateTime<Utc>,
    ) -> Result<RegisteredCheck, RegisterError>;

    /// Keeps the verdicts of several pairs at once, all or none, each decided on
    /// `social_graph` and with its own [`PairVerdict::member_sign_in`].
    ///
    /// # Errors
    /// [`RegisterError::Unavailable`] when they could not be written; then none was.
    async fn record_all(
        &self,
        verdicts: &[PairVerdict],
        social_graph: Network,
        at: DateTime<Utc>,
    ) -> Result<(), RegisterError>;

    /// The verdicts kept for the pair that `page` selects, oldest first, read as they are
    /// consumed: a whole history is read in chunks, so its length does not decide how much
    /// memory a reader holds. Entries older than the register's retention are left out.
    ///
    /// # Errors
    /// An item [`RegisterError::Unavailable`] when the storage could not be read (or, for a
    /// long history, too many were being read at once); the stream ends after it. A first
    /// item that is not an error means the rest is being read.
    fn stream_history(&self, pair: &Pair, page: HistoryPage) -> HistoryStream;

    /// The same, collected: for bounded pages (a `limit`) and tests.
    ///
    /// # Errors
    /// [`RegisterError::Unavailable`] when the storage could not be read.
    async fn history(
        &self,
        pair: &Pair,
        page: HistoryPage,
    ) -> Result<Vec<RegisteredCheck>, RegisterError> {
        use futures::TryStreamExt as _;
        self.stream_history(pair, page).try_collect().await
    }

    /// Whether the storage answers.
    ///
    /// # Errors
    /// [`RegisterError::Unavailable`] when it does not.
    async fn ping(&self) -> Result<(), RegisterError>;
}
