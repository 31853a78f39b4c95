//! The gate at the edge: each guarded route states the scope it needs; a request without a
//! usable key, the scope, or a request left in its key's rate is answered here, before any
//! use case runs. A request let through runs as its key's caller and carries the
//! `RateLimit` / `RateLimit-Policy` fields (draft-ietf-httpapi-ratelimit-headers) back.

use super::errors::ApiError;
use super::extract::freshness;
use super::refusal_log::Refused;
use super::request_log::Spent;
use super::wire::ErrorsBody;
use crate::application::{Access, AccessRefusal, Freshness, Reach};
use crate::domain::access::{Admission, Caller, Rate, Scope};
use crate::inbound::wording::retry_after_secs;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The realm named in `WWW-Authenticate`.
const REALM: &str = "connected";
static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// The answers of the gate, as the OpenAPI document lists them on every guarded route (a
/// description of answers: they are made by [`guard`]).
#[derive(utoipa::IntoResponses)]
pub enum AccessRefusals {
    #[response(status = 401, description = "No API key, or not a valid one (unknown or revoked), while keys are required",
               headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"connected\"`, with `error=\"invalid_token\"` for a key that is not valid")),
               example = json!({"errors": ["an API key is required: send Authorization: Bearer <key>"]}))]
    Unauthorized(ErrorsBody),
    #[response(status = 403, description = "The API key lacks the route's scope (or `fresh`, for `Cache-Control: no-cache`); or, on the routes that spend or record, a browser sent the request from another site's page (`Sec-Fetch-Site: cross-site` or `same-site`), whatever the key; nothing is done",
               headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"connected\", error=\"insufficient_scope\", scope=\"...\"`")),
               example = json!({"errors": ["the API key lacks the scope \"fresh\""]}))]
    Forbidden(ErrorsBody),
    #[response(status = 429, description = "The API key's request rate is used up (nothing is done), or its own spend budget cannot pay for a read the answer needs (nothing is recorded)",
               headers(("Retry-After" = u64, description = "Seconds until a request is allowed again"),
                       ("RateLimit-Policy" = String, description = "The key's rate: `\"key\";q=REQUESTS;w=SECONDS`"),
                       ("RateLimit" = String, description = "What is left of it: `\"key\";r=REMAINING;t=SECONDS`")),
               example = json!({"errors": ["the API key's rate of 600/min is used up; retry after 12 s"]}))]
    TooManyRequests(ErrorsBody),
}

/// What a guarded route needs.
#[derive(Clone)]
pub(super) struct Guard {
    pub(super) access: Access,
    pub(super) scope: Scope,
    /// Whether `Cache-Control: no-cache` spends upstream calls on this route, and so needs
    /// the `fresh` scope.
    pub(super) fresh_costs: bool,
}

/// The middleware of a guarded route.
pub(super) async fn guard(
    State(guard): State<Guard>,
    mut request: Request,
    next: Next,
) -> Response {
    let mut needs = vec![guard.scope];
    // Asking for facts read now spends upstream calls again: a scope of its own.
    if guard.fresh_costs && freshness(request.headers()) == Freshness::Fresh {
        needs.push(Scope::Fresh);
    }
    let bearer = bearer(request.headers());
    let reach = reach(request.headers());
    let admitted = match guard.access.admit(bearer.as_deref(), &needs, reach).await {
        Ok(admitted) => admitted,
        Err(refusal) => return refused(refusal),
    };
    let caller = admitted
        .as_ref()
        .map_or_else(Caller::anonymous, |a| a.caller.clone());
    // Counted however the request ends: answered, timed out, or dropped by its client.
    let _counted = BillOnDrop {
        access: guard.access.clone(),
        caller: caller.clone(),
    };
    request.extensions_mut().insert(caller.clone());
    let mut response = next.run(request).await;
    if let Some(admitted) = &admitted {
        insert_rate_fields(response.headers_mut(), admitted.rate, admitted.admission);
    }
    let cost = super::cost::upstream_cost(&caller);
    if guard.fresh_costs {
        response
            .headers_mut()
            .insert(super::cost::UPSTREAM_COST, super::cost::header(&cost));
    }
    response.extensions_mut().insert(Spent {
        key: caller.id().map(ToString::to_string),
        upstream_calls: caller.upstream_calls(),
        usage: caller.usage(),
        cost,
    });
    response
}

/// Notes what a request spent when it ends.
struct BillOnDrop {
    access: Access,
    caller: Caller,
}

impl Drop for BillOnDrop {
    fn drop(&mut self) {
        self.access.spent(&self.caller);
    }
}

/// Headers a proxy adds to say whom it forwards for, or that it is there: the standard ones
/// (`Forwarded`, `Via`), the de facto `X-Forwarded-*` and `X-Real-IP`, and those of the
/// common CDNs. A proxy that adds none of them (nginx's bare `proxy_pass`, a tunnel) cannot
/// be told from a local client: behind one, keys must be required (`AUTH=keys`).
const FORWARDED: [HeaderName; 10] = [
    header::FORWARDED,
    header::VIA,
    HeaderName::from_static("x-forwarded-for"),
    HeaderName::from_static("x-forwarded-host"),
    HeaderName::from_static("x-forwarded-proto"),
    HeaderName::from_static("x-forwarded-port"),
    HeaderName::from_static("x-forwarded-server"),
    HeaderName::from_static("x-real-ip"),
    HeaderName::from_static("cf-connecting-ip"),
    HeaderName::from_static("true-client-ip"),
];

/// How a request reached the service: through a proxy when it carries a header a proxy
/// adds (whatever its value: a proxy that says anything is in the way).
pub(super) fn reach(headers: &HeaderMap) -> Reach {
    if FORWARDED.iter().any(|name| headers.contains_key(name)) {
        Reach::Proxied
    } else {
        Reach::Direct
    }
}

/// The key of `Authorization: Bearer <key>` (the scheme's name in any case), if sent; any
/// other `Authorization` (another scheme, bytes that are not text) is sent as no key's
/// shape, so that it is refused as not valid rather than as missing.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?;
    // One credential a request: two (a proxy adding its own, say) name no one for sure.
    if headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .nth(1)
        .is_some()
    {
        return Some(String::new());
    }
    let Some((scheme, key)) = value.to_str().ok().and_then(|v| v.trim().split_once(' ')) else {
        return Some(String::new());
    };
    if scheme.eq_ignore_ascii_case("bearer") {
        Some(key.trim().to_owned())
    } else {
        Some(String::new())
    }
}

fn insert_rate_fields(headers: &mut HeaderMap, rate: Rate, admission: Admission) {
    let (policy, state) = rate_values(rate, admission);
    headers.insert(RATELIMIT_POLICY.clone(), policy);
    headers.insert(RATELIMIT.clone(), state);
}

/// `RateLimit-Policy: "key";q=600;w=60` and `RateLimit: "key";r=599;t=12`.
fn rate_values(rate: Rate, admission: Admission) -> (HeaderValue, HeaderValue) {
    let policy = format!(
        "\"key\";q={};w={}",
        rate.requests,
        rate.period.duration().as_secs()
    );
    let state = format!(
        "\"key\";r={};t={}",
        admission.remaining,
        retry_after_secs(admission.reset)
    );
    (
        HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("")),
        HeaderValue::from_str(&state).unwrap_or(HeaderValue::from_static("")),
    )
}

/// The answer to a refused request, marked for the log's summary of refusals with why and,
/// when the key was recognised, whose.
fn refused(refusal: AccessRefusal) -> Response {
    let (reason, key) = match &refusal {
        AccessRefusal::NoKey => ("no key", None),
        AccessRefusal::InvalidKey => ("invalid key", None),
        AccessRefusal::Revoked => ("revoked key", None),
        AccessRefusal::MissingScope { key, .. } => ("missing scope", Some(key.to_string())),
        AccessRefusal::RateLimited { key, .. } => ("key rate used up", Some(key.to_string())),
        AccessRefusal::Unavailable(_) => ("key store unavailable", None),
    };
    Refused { reason, key }.on(answer(refusal))
}

fn answer(refusal: AccessRefusal) -> Response {
    match refusal {
        AccessRefusal::NoKey => challenged(
            StatusCode::UNAUTHORIZED,
            &format!("Bearer realm=\"{REALM}\""),
            "an API key is required: send Authorization: Bearer <key>".to_owned(),
        ),
        AccessRefusal::InvalidKey => challenged(
            StatusCode::UNAUTHORIZED,
            &format!("Bearer realm=\"{REALM}\", error=\"invalid_token\""),
            "the API key is not valid".to_owned(),
        ),
        AccessRefusal::Revoked => challenged(
            StatusCode::UNAUTHORIZED,
            &format!("Bearer realm=\"{REALM}\", error=\"invalid_token\""),
            "the API key was revoked".to_owned(),
        ),
        AccessRefusal::MissingScope {
            scope,
            rate,
            admission,
            ..
        } => {
            let mut response = challenged(
                StatusCode::FORBIDDEN,
                &format!(
                    "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{scope}\""
                ),
                format!("the API key lacks the scope {scope:?}", scope = scope.id()),
            );
            insert_rate_fields(response.headers_mut(), rate, admission);
            response
        }
        AccessRefusal::RateLimited {
            rate, admission, ..
        } => {
            let wait = retry_after_secs(admission.reset);
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("the API key's rate of {rate} is used up; retry after {wait} s"),
            )
            .with_retry_after(wait)
            .into_response();
            insert_rate_fields(response.headers_mut(), rate, admission);
            response
        }
        AccessRefusal::Unavailable(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the API keys cannot be read; try again later",
        )
        .into_response(),
    }
}

fn challenged(status: StatusCode, challenge: &str, message: String) -> Response {
    let mut response = ApiError::new(status, message).into_response();
    if let Ok(value) = HeaderValue::from_str(challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}
