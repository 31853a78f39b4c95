//! What both fakes share for signed-in members: the authorisation codes they hand out, the
//! user tokens they issue, PKCE, and each user's own rate-limit windows.

use crate::Graph;
use crate::server::{Fake, Shared};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Who the fake's authorise page answers as.
#[derive(Clone, Debug, Default)]
pub(crate) enum Approval {
    /// No one was chosen: the authorise page has no user to approve as.
    #[default]
    Nobody,
    /// The user (a key of the graph) approves.
    As(String),
    /// The user clicks "Cancel": `error=access_denied`.
    Deny,
}

/// An authorisation code handed out and not yet exchanged.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) scope: String,
    /// The PKCE challenge and its method (`S256` or `plain`); none when none was sent.
    pub(crate) challenge: Option<(String, String)>,
    pub(crate) user: String,
    pub(crate) issued: Instant,
}

/// A user token issued: whose, with what scope, until when.
#[derive(Clone, Debug)]
pub(crate) struct Issued {
    pub(crate) user: String,
    pub(crate) scope: String,
    pub(crate) expires: Option<Instant>,
}

/// Codes, tokens and per-user windows of one fake.
#[derive(Default)]
pub(crate) struct Grants {
    pub(crate) approval: Approval,
    pub(crate) codes: HashMap<String, Pending>,
    pub(crate) access: HashMap<String, Issued>,
    pub(crate) refresh: HashMap<String, Issued>,
    /// Every token revoked, access or refresh, in order.
    pub(crate) revoked: Vec<String>,
    pub(crate) refreshes: u64,
    /// Test knobs: how long access tokens and codes last instead of the provider's own.
    pub(crate) token_lifetime: Option<Duration>,
    pub(crate) code_lifetime: Option<Duration>,
    /// Test knob: each user's allowance per window on the lookup (X) or core (GitHub) limit.
    pub(crate) user_limit: Option<u64>,
    /// (user, bucket) → (window start, calls made in it).
    windows: HashMap<(String, &'static str), (Instant, u64)>,
    issued: u64,
    /// How this provider's access tokens begin, and how long they last (none: forever).
    pub(crate) prefix: &'static str,
    pub(crate) lifetime: Option<Duration>,
}

/// A user's allowance as a call spends it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    pub(crate) limit: u64,
    pub(crate) remaining: u64,
    /// Unix seconds when the window starts afresh.
    pub(crate) reset: u64,
    /// Whether this call was over the limit (and so refused).
    pub(crate) exceeded: bool,
}

impl Grants {
    /// A token or code nobody else has: `prefix`, then a counter and filler to `len` characters.
    pub(crate) fn fresh(&mut self, prefix: &str, len: usize) -> String {
        self.issued += 1;
        let body = format!(
            "{:0>width$}",
            self.issued,
            width = len.saturating_sub(prefix.len())
        );
        format!("{prefix}{body}")
    }

    /// The pending code, taken out: a code is single-use, whatever the exchange's outcome.
    /// None when unknown, already used, or older than `lifetime` (the provider's unless a
    /// test set its own).
    pub(crate) fn take_code(&mut self, code: &str, lifetime: Duration) -> Option<Pending> {
        let lifetime = self.code_lifetime.unwrap_or(lifetime);
        self.codes
            .remove(code)
            .filter(|pending| pending.issued.elapsed() < lifetime)
    }

    /// The user and scope of a live access token.
    pub(crate) fn holder(&self, token: &str) -> Option<Issued> {
        self.access
            .get(token)
            .filter(|issued| issued.expires.is_none_or(|at| Instant::now() < at))
            .cloned()
    }

    /// Issues an access token for this user and scope, lasting the provider's lifetime unless
    /// a test set its own.
    pub(crate) fn issue(&mut self, user: &str, scope: &str) -> String {
        let token = self.fresh(self.prefix, 40);
        let expires = self
            .lifetime
            .map(|d| self.token_lifetime.unwrap_or(d))
            .map(|d| Instant::now() + d);
        let issued = Issued {
            user: user.to_owned(),
            scope: scope.to_owned(),
            expires,
        };
        self.access.insert(token.clone(), issued);
        token
    }

    /// Revokes an access or refresh token; whether it was live.
    pub(crate) fn revoke(&mut self, token: &str) -> bool {
        let live = self.access.remove(token).is_some() | self.refresh.remove(token).is_some();
        if live {
            self.revoked.push(token.to_owned());
        }
        live
    }

    /// Spends one call of `user`'s window `bucket` (`limit` calls per `length`, unless a test
    /// lowered the limit of X's `users/by` or GitHub's `core`): what is left, and whether
    /// this call went over.
    pub(crate) fn spend(
        &mut self,
        user: &str,
        bucket: &'static str,
        limit: u64,
        length: Duration,
    ) -> Window {
        let limit = match bucket {
            "users/by" | "core" => self.user_limit.unwrap_or(limit),
            _ => limit,
        };
        let now = Instant::now();
        let (start, used) = self
            .windows
            .entry((user.to_owned(), bucket))
            .or_insert((now, 0));
        if now.duration_since(*start) >= length {
            (*start, *used) = (now, 0);
        }
        let exceeded = *used >= limit;
        if !exceeded {
            *used += 1;
        }
        let left = length.saturating_sub(now.duration_since(*start));
        Window {
            limit,
            remaining: limit - *used,
            reset: crate::now() + left.as_secs().max(1),
            exceeded,
        }
    }
}

/// What a PKCE verifier must hash to: BASE64URL-no-pad(SHA-256(verifier)).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `verifier` answers the challenge remembered with the code: none sent, none
/// checked; a challenge sent needs its verifier.
pub(crate) fn verifier_answers(
    challenge: &Option<(String, String)>,
    verifier: Option<&str>,
) -> bool {
    match (challenge, verifier) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some((challenge, method)), Some(verifier)) => match method.as_str() {
            "S256" => pkce_challenge(verifier) == *challenge,
            "plain" => verifier == challenge,
            _ => false,
        },
    }
}

/// The `id:secret` of a Basic `Authorization` header, if it is one.
pub(crate) fn basic_credentials(headers: &axum::http::HeaderMap) -> Option<(String, String)> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// The bearer token of an `Authorization` header (GitHub also takes `token …`).
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .or_else(|| value.strip_prefix("token "))
}

/// The parameters of a form body and of the query together (the body wins).
pub(crate) fn form(query: Option<&str>, body: &[u8]) -> HashMap<String, String> {
    let mut params: HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    params.extend(url::form_urlencoded::parse(body).into_owned());
    params
}

/// A `302 Found` to `redirect_uri` with these parameters added to its query; none when it
/// is not a URL.
pub(crate) fn back_to(redirect_uri: &str, params: &[(&str, &str)]) -> Option<Response> {
    let mut url = url::Url::parse(redirect_uri).ok()?;
    url.query_pairs_mut().extend_pairs(params);
    let location = HeaderValue::from_str(url.as_str()).ok()?;
    Some((StatusCode::FOUND, [("location", location)]).into_response())
}

/// What the user chosen by the test does on the authorise page.
pub(crate) enum Decision {
    /// Approves: this code, remembered with the request, goes back to the callback.
    Code(String),
    /// Cancels: `error=access_denied` goes back.
    Denied,
    /// No user of this network was chosen: the test forgot to.
    NoUser,
}

/// The chosen user's decision on `request` (whose `user` is filled in here); `on_network`
/// tells whether a user of the graph is on this provider.
pub(crate) fn decide(
    shared: &Shared,
    on_network: impl Fn(&Graph, &str) -> bool,
    mut request: Pending,
) -> Decision {
    let approval = shared.oauth.lock().unwrap().approval.clone();
    match approval {
        Approval::As(user) if shared.with_graph(|g| on_network(g, &user)) => {
            request.user = user;
            let mut grants = shared.oauth.lock().unwrap();
            let code = grants.fresh("c0de", 32);
            grants.codes.insert(code.clone(), request);
            Decision::Code(code)
        }
        Approval::As(_) | Approval::Nobody => Decision::NoUser,
        Approval::Deny => Decision::Denied,
    }
}

/// What a test sees and sets of a fake's signed-in members.
impl Fake {
    /// The authorise page approves as this user (a login or username of the graph) from now on.
    pub fn approve_as(&self, user: &str) {
        self.shared.oauth.lock().unwrap().approval = Approval::As(user.to_lowercase());
    }

    /// The authorise page denies from now on: `error=access_denied`, as when the user cancels.
    pub fn deny_authorisation(&self) {
        self.shared.oauth.lock().unwrap().approval = Approval::Deny;
    }

    /// X only: access tokens issued from now on last this long instead of two hours, so a
    /// test sees expiry without waiting (GitHub's OAuth App tokens never expire).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.shared.oauth.lock().unwrap().token_lifetime = Some(lifetime);
    }

    /// Authorisation codes last this long instead of the provider's own (X's 30 seconds;
    /// GitHub's 10 minutes).
    pub fn set_code_lifetime(&self, lifetime: Duration) {
        self.shared.oauth.lock().unwrap().code_lifetime = Some(lifetime);
    }

    /// Each signed-in user may make this many calls per window instead of the provider's
    /// own: X's `users/by` (900 per 15 minutes per user), GitHub's core limit (5,000 an hour
    /// per user). The app token and other users keep their own allowances.
    pub fn set_user_lookup_limit(&self, limit: u64) {
        self.shared.oauth.lock().unwrap().user_limit = Some(limit);
    }

    /// Every token revoked, access or refresh, in order.
    pub fn tokens_revoked(&self) -> Vec<String> {
        self.shared.oauth.lock().unwrap().revoked.clone()
    }

    /// How many refresh-token grants were answered with new tokens.
    pub fn refreshes(&self) -> u64 {
        self.shared.oauth.lock().unwrap().refreshes
    }

    /// The tokens that still work: access tokens not expired nor revoked, and refresh tokens
    /// not used nor revoked, sorted.
    pub fn live_tokens(&self) -> Vec<String> {
        let grants = self.shared.oauth.lock().unwrap();
        let mut live: Vec<String> = grants
            .access
            .keys()
            .filter(|token| grants.holder(token).is_some())
            .chain(grants.refresh.keys())
            .cloned()
            .collect();
        live.sort();
        live
    }

    /// Issues an access token for `user` with `scope` directly, as if they had signed in:
    /// for tests that need a member's token without the redirects.
    pub fn issue_token(&self, user: &str, scope: &str) -> String {
        let mut grants = self.shared.oauth.lock().unwrap();
        grants.issue(&user.to_lowercase(), scope)
    }
}
