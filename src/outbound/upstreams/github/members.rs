//! What a signed-in member's GitHub token answers: all their organisations, hidden
//! memberships included (`GET /user/orgs`, with `read:org`), and whether someone belongs to
//! one of them (`GET /orgs/{org}/members/{user}`: `204` yes, `404` no, `302` to the public
//! list when the member does not belong to it themselves). Unbilled: a member's token
//! counts against their own 5,000 calls an hour.

use super::{GitHubRest, MAX_PAGES, OrganisationWire, PER_PAGE, too_many};
use crate::domain::access::Caller;
use crate::domain::members::MemberCredentials;
use crate::domain::{AsMemberError, Handle, Organisation, SocialGraphError};
use crate::outbound::upstreams::client::{Body, Call, Failure, Raw, Upstream};
use reqwest::{Method, StatusCode};
use url::Url;

impl GitHubRest {
    /// The API under `member`'s token, unbilled.
    fn as_member(&self, member: &MemberCredentials) -> Result<Upstream, AsMemberError> {
        Ok(self
            .api
            .with_token(&member.token.access)
            .map_err(|_| AsMemberError::TokenRefused)?
            .unbilled())
    }

    /// One call under a member's token, its answer for the caller to read; a `401` is the
    /// token no longer taken.
    async fn member_call(
        api: &Upstream,
        endpoint: &'static str,
        url: Url,
        caller: &Caller,
    ) -> Result<Raw, AsMemberError> {
        let call = Call {
            method: Method::GET,
            url,
            body: Body::Empty,
            basic: None,
            caller: Some(caller.clone()),
        };
        let raw = api.call(endpoint, call).await.map_err(graph)?;
        if raw.status == StatusCode::UNAUTHORIZED {
            return Err(AsMemberError::TokenRefused);
        }
        Ok(raw)
    }

    /// [`crate::domain::CodeHost::member_organisations`]: every page of `/user/orgs`.
    pub(super) async fn all_organisations_of(
        &self,
        member: &MemberCredentials,
        caller: &Caller,
    ) -> Result<Vec<Organisation>, AsMemberError> {
        let api = self.as_member(member)?;
        let mut url = api.url(&["user", "orgs"]);
        url.query_pairs_mut()
            .append_pair("per_page", &PER_PAGE.to_string());
        let mut names = Vec::new();
        for _ in 0..MAX_PAGES {
            let raw = Self::member_call(&api, "user_orgs", url, caller).await?;
            if raw.status != StatusCode::OK {
                return Err(unexpected(&raw));
            }
            let page: Vec<OrganisationWire> = serde_json::from_slice(&raw.body)
                .map_err(|_| unreadable("its answer could not be read"))?;
            names.extend(page.into_iter().map(|o| o.login));
            match api.next_link(&raw.headers) {
                Some(next) => url = next,
                None => {
                    return Organisation::list(names.iter())
                        .map_err(|e| unreadable(&format!("its answer could not be read: {e}")));
                }
            }
        }
        Err(AsMemberError::Graph(SocialGraphError::Unavailable(
            too_many(),
        )))
    }

    /// [`crate::domain::CodeHost::belongs`].
    pub(super) async fn member_tells_belonging(
        &self,
        member: &MemberCredentials,
        organisation: &Organisation,
        user: &Handle,
        caller: &Caller,
    ) -> Result<Option<bool>, AsMemberError> {
        let api = self.as_member(member)?;
        let url = api.url(&["orgs", organisation.as_str(), "members", user.as_str()]);
        let raw = Self::member_call(&api, "org_member", url, caller).await?;
        match raw.status {
            StatusCode::NO_CONTENT => Ok(Some(true)),
            StatusCode::NOT_FOUND => Ok(Some(false)),
            // The member does not belong to it: only its public list could be asked.
            StatusCode::FOUND => Ok(None),
            _ => Err(unexpected(&raw)),
        }
    }
}

fn graph(failure: Failure) -> AsMemberError {
    AsMemberError::Graph(failure.into())
}

fn unreadable(reason: &str) -> AsMemberError {
    AsMemberError::Graph(SocialGraphError::unavailable(reason))
}

fn unexpected(raw: &Raw) -> AsMemberError {
    unreadable(&crate::outbound::upstreams::client::describe(
        raw.status,
        &String::from_utf8_lossy(&raw.body),
    ))
}
