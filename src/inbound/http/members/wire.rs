//! The members' bodies, as JSON.

use crate::application::Forgotten;
use crate::domain::Network;
use crate::domain::members::Member;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A member as they see themselves: who, what is linked, what they allow; and where one
/// may sign in.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({"member": {"handle": "alice", "github": {"handle": "alice", "id": "583231"}, "x": null, "hidden_organisations": false}, "sign_in": ["github", "x"]})))]
pub struct MemberBody {
    /// The member signed in on this browser; `null` when none is.
    pub member: Option<SignedInBody>,
    /// The networks one may sign in with here.
    pub sign_in: Vec<String>,
}

/// A signed-in member.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedInBody {
    pub handle: String,
    /// The GitHub account linked, if any.
    pub github: Option<AccountBody>,
    /// The X account linked, if any.
    pub x: Option<AccountBody>,
    /// Whether organisations the member belongs to without showing it count (and are
    /// named) in answers about them.
    pub hidden_organisations: bool,
}

/// An account linked.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountBody {
    pub handle: String,
    /// The network's own id of the account.
    pub id: String,
}

impl MemberBody {
    pub fn new(member: Option<&Member>, networks: &[Network]) -> Self {
        let account = |network| {
            member
                .and_then(|m| m.account(network))
                .map(|a| AccountBody {
                    handle: a.handle.to_string(),
                    id: a.id.clone(),
                })
        };
        Self {
            member: member.map(|m| SignedInBody {
                handle: m.handle.to_string(),
                github: account(Network::GitHub),
                x: account(Network::X),
                hidden_organisations: m.hidden_organisations,
            }),
            sign_in: networks.iter().map(|n| n.id().to_owned()).collect(),
        }
    }
}

/// Whether hidden organisations may count.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HiddenOrganisations {
    pub count: bool,
}

/// What "forget me" did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForgottenBody {
    /// The member forgotten.
    pub forgotten: String,
    /// The networks whose tokens were revoked.
    pub revoked: Vec<String>,
    /// The networks whose tokens could not be revoked now (the provider did not answer):
    /// they are deleted here all the same, and can be revoked at the provider.
    pub not_revoked: Vec<String>,
}

impl From<Forgotten> for ForgottenBody {
    fn from(forgotten: Forgotten) -> Self {
        let ids =
            |networks: Vec<Network>| networks.into_iter().map(|n| n.id().to_owned()).collect();
        Self {
            forgotten: forgotten.member.to_string(),
            revoked: ids(forgotten.revoked),
            not_revoked: ids(forgotten.not_revoked),
        }
    }
}
