//! Hidden organisations, with consent: GitHub makes a new membership private by default, so
//! two colleagues are routinely "not connected" on what anyone can read. A member who lets
//! them count has their whole list read with their own token; and a colleague who consented
//! without a GitHub sign-in is asked about with the member's token, organisation by
//! organisation. A hidden membership of a developer who did not consent is never counted
//! nor shown.

use super::Membership;
use crate::domain::access::{Caller, Meter};
use crate::domain::members::MemberCredentials;
use crate::domain::{AsMemberError, Chain, CodeHost, Handle, Network, Organisation};

/// Organisations of a member asked about, one by one, for a colleague at most.
const BELONGING_ASKED: usize = 10;

/// What consent adds to a pair: the organisations shared, hidden ones included where both
/// allow it.
pub(in crate::application) struct WithHidden {
    pub organisations: Vec<String>,
}

impl Membership {
    /// The organisations `developers` share once the hidden memberships of those who
    /// consented count; `None` when neither consented with a GitHub sign-in (the public
    /// lists say it all). A token that cannot answer leaves its member's public list.
    pub(in crate::application) async fn with_hidden(
        &self,
        code_host: &dyn CodeHost,
        developers: [&Handle; 2],
        public: [&[Organisation]; 2],
        caller: &Caller,
    ) -> Option<WithHidden> {
        if !code_host.answers_for_members() {
            return None;
        }
        let signed_in = self.answering(&developers, Network::GitHub).await;
        let consenting = |dev: &Handle| {
            signed_in
                .iter()
                .find(|c| c.account.handle == *dev && c.hidden_organisations)
        };
        let members = [consenting(developers[0]), consenting(developers[1])];
        if members.iter().all(Option::is_none) {
            return None;
        }
        let mut lists = [public[0].to_vec(), public[1].to_vec()];
        for (list, member) in lists.iter_mut().zip(members) {
            if let Some(member) = member
                && let Some(all) = self.all_organisations(code_host, member, caller).await
            {
                *list = all;
                caller.bill(Meter::member_answers(Network::GitHub), 1);
            }
        }
        let mut shared = crate::domain::shared_organisations(&lists[0], &lists[1]);
        // A colleague who consented without a GitHub sign-in: asked about with the
        // member's token.
        for (at, member) in members.iter().enumerate() {
            let other = developers[1 - at];
            let (Some(member), None) = (member, members[1 - at]) else {
                continue;
            };
            if !self.consents(other).await {
                continue;
            }
            let unshared: Vec<&Organisation> = lists[at]
                .iter()
                .filter(|o| !shared.iter().any(|s| s.eq_ignore_ascii_case(o.as_str())))
                .take(BELONGING_ASKED)
                .collect();
            for organisation in unshared {
                if self
                    .belongs(code_host, member, organisation, other, caller)
                    .await
                {
                    shared.push(organisation.as_str().to_owned());
                    caller.bill(Meter::member_answers(Network::GitHub), 1);
                }
            }
        }
        Some(WithHidden {
            organisations: shared,
        })
    }

    /// A team's organisation lists (`lists[i]` the public one of `handles[i]`) with each
    /// consenting member's replaced by all of theirs, hidden memberships included.
    pub(in crate::application) async fn team_organisations(
        &self,
        code_host: &dyn CodeHost,
        handles: &[&Handle],
        lists: &mut [Vec<Organisation>],
        caller: &Caller,
    ) {
        if !code_host.answers_for_members() {
            return;
        }
        let consenting = self.answering(handles, Network::GitHub).await;
        for member in consenting.iter().filter(|c| c.hidden_organisations) {
            let Some(at) = handles.iter().position(|h| **h == member.account.handle) else {
                continue;
            };
            if let Some(all) = self.all_organisations(code_host, member, caller).await {
                lists[at] = all;
                caller.bill(Meter::member_answers(Network::GitHub), 1);
            }
        }
    }

    /// Every organisation of `member`, or `None` when their token cannot say now.
    async fn all_organisations(
        &self,
        code_host: &dyn CodeHost,
        member: &MemberCredentials,
        caller: &Caller,
    ) -> Option<Vec<Organisation>> {
        match code_host.member_organisations(member, caller).await {
            Ok(all) => Some(all),
            Err(error) => {
                self.did_not_answer(member, error).await;
                None
            }
        }
    }

    /// Whether `member`'s token says `user` belongs to `organisation`.
    async fn belongs(
        &self,
        code_host: &dyn CodeHost,
        member: &MemberCredentials,
        organisation: &Organisation,
        user: &Handle,
        caller: &Caller,
    ) -> bool {
        match code_host.belongs(member, organisation, user, caller).await {
            Ok(belongs) => belongs == Some(true),
            Err(error) => {
                self.did_not_answer(member, error).await;
                false
            }
        }
    }

    async fn did_not_answer(&self, member: &MemberCredentials, error: AsMemberError) {
        match error {
            AsMemberError::TokenRefused => self.token_refused(&member.account).await,
            AsMemberError::Graph(error) => {
                tracing::info!(error = %Chain(&error), "a member's GitHub token did not answer: their public organisations count");
            }
        }
    }

    /// Whether `handle` is a member who lets hidden organisations count (a store that cannot
    /// be read says no).
    async fn consents(&self, handle: &Handle) -> bool {
        match self.members.member(handle).await {
            Ok(member) => member.is_some_and(|m| m.hidden_organisations),
            Err(e) => {
                tracing::warn!(error = %Chain(&e), "a member's consent cannot be read: taken as no");
                false
            }
        }
    }
}
