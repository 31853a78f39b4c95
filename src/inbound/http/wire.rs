//! The wire types of the REST API: what goes over HTTP, converted from the domain at the edge.

use crate::application::TeamNetwork;
use crate::domain::{Handle, RegisteredCheck, Team, Verdict};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, Type};

/// The answer of a realtime check.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({"connected": true, "organisations": ["acme", "Zeta-Org"]})))]
pub struct VerdictBody {
    /// Whether the two developers are fully connected.
    pub connected: bool,
    /// The organisations both belong to (GitHub's spelling, unique, sorted
    /// case-insensitively); present only when connected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisations: Option<Vec<String>>,
}

impl From<&Verdict> for VerdictBody {
    fn from(verdict: &Verdict) -> Self {
        match verdict {
            Verdict::Connected { organisations } => Self {
                connected: true,
                organisations: Some(organisations.clone()),
            },
            Verdict::NotConnected => Self {
                connected: false,
                organisations: None,
            },
        }
    }
}

/// Why no verdict could be given: one message per problem.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({"errors": ["dev1 is not a valid user in github", "dev2 is not a valid user in twitter"]})))]
pub struct ErrorsBody {
    pub errors: Vec<String>,
}

impl ErrorsBody {
    pub fn one(message: impl Into<String>) -> Self {
        Self {
            errors: vec![message.into()],
        }
    }
}

/// One recorded check.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({"registered_at": "2021-10-30T13:54:45.485Z", "connected": true, "organisations": ["acme"], "social_graph": "x", "member_sign_in": false})))]
pub struct RegisterEntry {
    /// When the verdict was recorded: RFC 3339, UTC, milliseconds.
    pub registered_at: String,
    pub connected: bool,
    /// Present only on connected entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisations: Option<Vec<String>>,
    /// The social graph whose follows decided the verdict: `x`, `github` or `bluesky`.
    pub social_graph: String,
    /// Whether the verdict rested on a member's own sign-in (their token read the follows)
    /// rather than on what anyone can read; `false` for every verdict recorded before
    /// members could sign in.
    pub member_sign_in: bool,
}

impl From<&RegisteredCheck> for RegisterEntry {
    fn from(check: &RegisteredCheck) -> Self {
        let VerdictBody {
            connected,
            organisations,
        } = VerdictBody::from(&check.verdict);
        Self {
            registered_at: check
                .registered_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            connected,
            organisations,
            social_graph: check.social_graph.id().to_owned(),
            member_sign_in: check.member_sign_in,
        }
    }
}

/// Liveness and readiness answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusBody {
    pub status: String,
}

/// A team to map.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"developers": ["alice", "bob", "carol"]})))]
pub struct TeamRequest {
    /// 2 to 100 different developers; the same handle twice (ignoring case) counts once, and
    /// more than 1,000 entries are refused before any is read.
    #[schema(schema_with = team_developers)]
    pub developers: Vec<String>,
    /// The most X users the answer may be billed for past round one (its follow lists and
    /// members' lookups, what the estimate's `x_users` bounds): when the bound is over it,
    /// the answer is a `409` with the estimate, and no list is read. Round one (the
    /// organisations and lookups) is spent either way. Not given: no cap.
    #[serde(default, deserialize_with = "cap")]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub max_x_users: Option<u64>,
}

/// The most X users a cap may say: far more than any team's lists hold.
const MOST_X_USERS: u64 = 1_000_000_000;

/// A cap of X users: a whole number (written `624` or `624.0`, as JSON allows), from 0 to
/// [`MOST_X_USERS`].
fn cap<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    use serde::de::Error as _;
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let whole = number.as_u64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= MOST_X_USERS as f64)
            .map(|f| f as u64)
    });
    match whole {
        Some(n) if n <= MOST_X_USERS => Ok(Some(n)),
        _ => Err(D::Error::custom(format!(
            "max_x_users must be a whole number from 0 to {MOST_X_USERS}"
        ))),
    }
}

/// What [`Handle::parse`] accepts, as a JSON Schema `pattern`: no control character
/// (Unicode's `Cc`, which is what `char::is_control` tests).
pub const HANDLE_PATTERN: &str = r"^[^\x00-\x1F\x7F-\x9F]*$";

/// A handle as the server accepts it. `maxLength` counts code points, as
/// [`Handle::MAX_LEN`] does.
fn handle_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(Handle::MAX_LEN))
        .pattern(Some(HANDLE_PATTERN))
        .build()
}

/// The team's list as the server accepts it. That the entries name at least 2 and at most
/// 100 *different* developers (ignoring ASCII case) is no JSON Schema keyword: the
/// description says it.
fn team_developers() -> Array {
    ArrayBuilder::new()
        .items(handle_schema())
        .min_items(Some(*Team::SIZE.start()))
        .max_items(Some(Team::MAX_ENTRIES))
        .description(Some(format!(
            "{} to {} different developers' handles; the same handle twice (ignoring case) \
             counts once; at most {} entries",
            Team::SIZE.start(),
            Team::SIZE.end(),
            Team::MAX_ENTRIES
        )))
        .build()
}

/// Two fully connected developers of the team.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionBody {
    pub developers: [String; 2],
    pub organisations: Vec<String>,
}

/// Who in the team is fully connected to whom.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "developers": ["alice", "bob", "carol", "zed"],
    "errors": ["zed is not a valid user in github", "zed is not a valid user in twitter"],
    "connections": [{"developers": ["alice", "bob"], "organisations": ["acme"]}, {"developers": ["alice", "carol"], "organisations": ["acme"]}],
    "groups": [["alice", "bob"], ["alice", "carol"]]
})))]
pub struct NetworkBody {
    /// The team as given, duplicates folded.
    pub developers: Vec<String>,
    /// Developers missing on a network, as in the realtime check; they are left out of the rest.
    pub errors: Vec<String>,
    /// Every fully connected pair, in the team's order.
    pub connections: Vec<ConnectionBody>,
    /// The largest sets in which every two are fully connected, largest first, at most
    /// 1,000.
    pub groups: Vec<Vec<String>>,
    /// Present, and true, only when there were more groups than the 1,000 listed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schema(default = false)]
    pub groups_truncated: bool,
    /// Present only when some pairs that share an organisation have no answer because
    /// their follows cannot be read (protected accounts): those pairs are in no connection
    /// or group and are not recorded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(default = json!([]))]
    pub undecided: Vec<UndecidedBody>,
}

/// A pair of the team without an answer, and why.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({"developers": ["alice", "bob"], "error": "whether alice follows bob cannot be read: their X accounts are protected"})))]
pub struct UndecidedBody {
    pub developers: [String; 2],
    pub error: String,
}

impl From<&TeamNetwork> for NetworkBody {
    fn from(network: &TeamNetwork) -> Self {
        Self {
            developers: network.developers.clone(),
            errors: network.missing.iter().map(ToString::to_string).collect(),
            connections: network
                .connections
                .iter()
                .map(|c| ConnectionBody {
                    developers: c.developers.clone(),
                    organisations: c.organisations.clone(),
                })
                .collect(),
            groups: network.groups.clone(),
            groups_truncated: network.groups_truncated,
            undecided: network
                .undecided
                .iter()
                .map(|u| UndecidedBody {
                    developers: u.developers.clone(),
                    error: u.why.to_string(),
                })
                .collect(),
        }
    }
}
