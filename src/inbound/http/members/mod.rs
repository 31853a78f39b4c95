//! The members' routes: sign in with GitHub or X (a redirect to the provider and its
//! callback), the member's own view, their consent to hidden organisations, forget me, and
//! sign out. A member is known by a session cookie, never by an API key; with sign-in off,
//! every one of these answers 404.

mod cookies;
mod wire;

pub use wire::{AccountBody, ForgottenBody, HiddenOrganisations, MemberBody, SignedInBody};

use super::extract::unreadable;
use super::{ApiError, AppState, ErrorsBody};
use crate::application::{Callback, Membership, SignInFailure};
use crate::domain::Network;
use crate::domain::members::{MembersError, SignInError};
use axum::Json;
use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::header::{ACCEPT, CACHE_CONTROL, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use cookies::{Jar, SESSION, SIGN_IN};
use serde::Deserialize;

/// How long a member's browser session lasts, in days.
const SESSION_DAYS: i64 = 30;

/// Sign-in as the routes serve it: the use cases, how cookies are set, and the public
/// origin a member's own page is served from.
#[derive(Clone)]
pub struct MemberSite {
    pub membership: Membership,
    pub secure_cookies: bool,
    pub origin: url::Origin,
}

/// The members' routes; while sign-in is not `on`, each answers 404 before it reads
/// anything (another method is still the API's 405).
pub(super) fn routes(on: bool) -> Router<AppState> {
    let routes = Router::new()
        .route("/members/connect/{network}", get(connect))
        .route("/members/connect/{network}/callback", get(callback))
        .route("/members/me", get(me).delete(forget))
        .route(
            "/members/me/hidden-organisations",
            put(hidden_organisations).layer(DefaultBodyLimit::max(CONSENT_BODY_LIMIT)),
        )
        .route("/members/sign-out", post(sign_out));
    if on {
        routes
    } else {
        routes.route_layer(axum::middleware::from_fn(not_offered))
    }
}

/// The answer of every members' route while sign-in is off.
async fn not_offered(_: axum::extract::Request, _: axum::middleware::Next) -> Response {
    not_offered_here().into_response()
}

fn not_offered_here() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "member sign-in is not offered here")
}

/// 404 while sign-in is off.
fn site(state: &AppState) -> Result<&MemberSite, ApiError> {
    state.members.as_ref().ok_or_else(not_offered_here)
}

/// A network members may sign in with, from the path.
fn network(site: &MemberSite, id: &str) -> Result<Network, ApiError> {
    Network::from_id(id)
        .filter(|n| site.membership.networks().contains(n))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "members cannot sign in with {:?} here",
                    id.chars().take(20).collect::<String>()
                ),
            )
        })
}

/// Sends the browser to the provider to approve.
async fn connect(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let site = site(&state)?;
    let network = network(site, &id)?;
    let member = match cookies::read(&headers, SESSION) {
        Some(session) => site.membership.signed_in(&session).await.map_err(store)?,
        None => None,
    };
    let begun = site
        .membership
        .begin(network, member)
        .await
        .map_err(failure)?;
    let jar = Jar {
        secure: site.secure_cookies,
    };
    let location = HeaderValue::from_str(&begun.redirect).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "the provider's address cannot be sent",
        )
    })?;
    Ok((
        StatusCode::FOUND,
        [
            (LOCATION, location),
            (SET_COOKIE, jar.sign_in(begun.browser.expose())),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response())
}

/// What a provider sends the browser back with; anything longer than a provider's values
/// is refused before it is read.
#[derive(Debug, Deserialize)]
struct Returned {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The provider's answer: the member signed in, and sent to the page.
async fn callback(
    State(state): State<AppState>,
    Path(id): Path<String>,
    returned: Result<Query<Returned>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let site = site(&state)?;
    let network = network(site, &id)?;
    let Query(returned) = returned.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "the provider's answer cannot be read",
        )
    })?;
    let too_long = [&returned.code, &returned.state, &returned.error]
        .iter()
        .any(|v| v.as_ref().is_some_and(|v| v.len() > 512));
    if too_long {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "the provider's answer is too long to be one",
        ));
    }
    let browser = cookies::read(&headers, SIGN_IN);
    let callback = Callback {
        code: returned.code,
        state: returned.state,
        error: returned.error,
    };
    let jar = Jar {
        secure: site.secure_cookies,
    };
    let signed_in = match site
        .membership
        .finish(network, callback, browser.as_deref())
        .await
    {
        Ok(signed_in) => signed_in,
        Err(failure) if navigated(&headers) => return Ok(back_to_the_page(&failure, jar)),
        Err(failure) => return Err(self::failure(failure)),
    };
    let mut response = (
        StatusCode::SEE_OTHER,
        [
            (LOCATION, HeaderValue::from_static("/#member")),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response();
    let set = response.headers_mut();
    set.append(
        SET_COOKIE,
        jar.session(signed_in.session.expose(), SESSION_DAYS),
    );
    set.append(SET_COOKIE, jar.end_sign_in());
    Ok(response)
}

/// Whether a browser navigated here (it asks for a page): a failed sign-in is then told on
/// the service's page, not as a JSON document.
fn navigated(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// A failed sign-in, for a browser: back to the page, which says why by a code of its own
/// (never words from the address, which anyone can write).
fn back_to_the_page(failure: &SignInFailure, jar: Jar) -> Response {
    let code = match failure {
        SignInFailure::Expired => "expired",
        SignInFailure::OtherBrowser => "other_browser",
        SignInFailure::Declined { .. } => "declined",
        SignInFailure::HandleMismatch { .. } => "handle_mismatch",
        SignInFailure::Provider(_) => "provider",
        SignInFailure::Off | SignInFailure::Store(_) | SignInFailure::NoRandomness => "unavailable",
    };
    log(failure);
    let location = format!("/?sign_in_error={code}#member");
    let mut response = (
        StatusCode::SEE_OTHER,
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
    )
        .into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, location);
    }
    response.headers_mut().append(SET_COOKIE, jar.end_sign_in());
    response
}

/// Read who is signed in here
///
/// The member of the browser's session, or who may sign in.
#[utoipa::path(
    get,
    operation_id = "readMember",
    path = "/members/me",
    tag = "members",
    responses(
        (status = 200, description = "The member signed in on this browser (`null` when none is), and the networks one may sign in with.", body = MemberBody),
        (status = 404, description = "Member sign-in is not offered here.", body = ErrorsBody),
    )
)]
pub(super) async fn me(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let site = site(&state)?;
    let member = match cookies::read(&headers, SESSION) {
        Some(session) => site.membership.member(&session).await.map_err(store)?,
        None => None,
    };
    Ok(private(Json(MemberBody::new(
        member.as_ref(),
        &site.membership.networks(),
    ))))
}

/// The largest consent body read.
const CONSENT_BODY_LIMIT: usize = 1024;

/// Let hidden organisations count, or not
///
/// Sets whether the member's hidden GitHub organisations count (and are shown) in answers
/// about them.
#[utoipa::path(
    put,
    operation_id = "setHiddenOrganisations",
    path = "/members/me/hidden-organisations",
    tag = "members",
    request_body = HiddenOrganisations,
    responses(
        (status = 200, description = "Saved: the member as they now are.", body = MemberBody),
        (status = 400, description = "The body is not `{\"count\": true|false}`.", body = ErrorsBody),
        (status = 401, description = "No member is signed in on this browser.", body = ErrorsBody),
        (status = 403, description = "Sent by another site's page.", body = ErrorsBody),
        (status = 404, description = "Member sign-in is not offered here.", body = ErrorsBody),
        (status = 415, description = "The body is not sent as JSON.", body = ErrorsBody),
        (status = 422, description = "The body is JSON of another shape.", body = ErrorsBody),
    )
)]
pub(super) async fn hidden_organisations(
    State(state): State<AppState>,
    headers: HeaderMap,
    choice: Result<Json<HiddenOrganisations>, JsonRejection>,
) -> Result<Response, ApiError> {
    let (site, session) = signed_in_from_own_page(&state, &headers)?;
    let Json(choice) = choice.map_err(|rejection| {
        unreadable(rejection, "{\"count\": true|false}", CONSENT_BODY_LIMIT)
    })?;
    let member = site
        .membership
        .count_hidden_organisations(&session, choice.count)
        .await
        .map_err(store)?
        .ok_or_else(sign_in_first)?;
    Ok(private(Json(MemberBody::new(
        Some(&member),
        &site.membership.networks(),
    ))))
}

/// Forget the signed-in member
///
/// Forget me: tokens revoked at the providers, every row of the member's sign-in deleted.
#[utoipa::path(
    delete,
    operation_id = "forgetMember",
    path = "/members/me",
    tag = "members",
    responses(
        (status = 200, description = "Forgotten: which tokens were revoked at the providers, and which could not be now.", body = ForgottenBody),
        (status = 401, description = "No member is signed in on this browser.", body = ErrorsBody),
        (status = 403, description = "Sent by another site's page.", body = ErrorsBody),
        (status = 404, description = "Member sign-in is not offered here.", body = ErrorsBody),
    )
)]
pub(super) async fn forget(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (site, session) = signed_in_from_own_page(&state, &headers)?;
    let forgotten = site
        .membership
        .forget(&session)
        .await
        .map_err(store)?
        .ok_or_else(sign_in_first)?;
    let jar = Jar {
        secure: site.secure_cookies,
    };
    let mut response = private(Json(ForgottenBody::from(forgotten)));
    response.headers_mut().append(SET_COOKIE, jar.end_session());
    Ok(response)
}

/// Sign out on this browser
///
/// Ends this browser's session.
#[utoipa::path(
    post,
    operation_id = "signOut",
    path = "/members/sign-out",
    tag = "members",
    responses(
        (status = 204, description = "Signed out on this browser."),
        (status = 403, description = "Sent by another site's page.", body = ErrorsBody),
        (status = 404, description = "Member sign-in is not offered here.", body = ErrorsBody),
    )
)]
pub(super) async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let site = site(&state)?;
    refuse_other_sites(site, &headers)?;
    if let Some(session) = cookies::read(&headers, SESSION) {
        site.membership.sign_out(&session).await.map_err(store)?;
    }
    let jar = Jar {
        secure: site.secure_cookies,
    };
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, jar.end_session())]).into_response())
}

/// The site and the session of a request that changes a member's state, sent by the
/// service's own page.
fn signed_in_from_own_page<'a>(
    state: &'a AppState,
    headers: &HeaderMap,
) -> Result<(&'a MemberSite, String), ApiError> {
    let site = site(state)?;
    refuse_other_sites(site, headers)?;
    let session = cookies::read(headers, SESSION).ok_or_else(sign_in_first)?;
    Ok((site, session))
}

fn refuse_other_sites(site: &MemberSite, headers: &HeaderMap) -> Result<(), ApiError> {
    if cookies::from_another_site(headers, &site.origin) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "a page of another site cannot change a member's sign-in",
        ));
    }
    Ok(())
}

fn sign_in_first() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "sign in first: no member is signed in on this browser",
    )
}

/// An answer about a member, never kept by a cache.
fn private(body: impl IntoResponse) -> Response {
    (
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        body,
    )
        .into_response()
}

fn store(error: MembersError) -> ApiError {
    tracing::error!(error = %crate::domain::Chain(&error), "the members' store failed");
    store_unavailable()
}

fn store_unavailable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "the members' store is unavailable; try again later",
    )
    .with_retry_after(5)
}

/// Says a failed sign-in in the log: the store's and a provider's failures as problems of
/// the service's, the rest as what members did.
fn log(failure: &SignInFailure) {
    let chain = crate::domain::Chain(failure);
    match failure {
        SignInFailure::Store(_) => tracing::error!(error = %chain, "the members' store failed"),
        SignInFailure::Provider(SignInError::Unavailable { .. }) => {
            tracing::warn!(error = %chain, "a sign-in failed at the provider");
        }
        _ => tracing::info!(error = %failure, "a member's sign-in failed"),
    }
}

/// A sign-in that did not happen, as HTTP says it.
fn failure(failure: SignInFailure) -> ApiError {
    log(&failure);
    let status = match &failure {
        SignInFailure::Off => StatusCode::NOT_FOUND,
        SignInFailure::Expired | SignInFailure::Declined { .. } => StatusCode::BAD_REQUEST,
        SignInFailure::OtherBrowser => StatusCode::FORBIDDEN,
        SignInFailure::HandleMismatch { .. } => StatusCode::CONFLICT,
        SignInFailure::Store(_) => return store_unavailable(),
        SignInFailure::Provider(SignInError::RateLimited { retry_after, .. }) => {
            return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, failure.to_string())
                .with_retry_after(retry_after.as_secs().max(1));
        }
        SignInFailure::Provider(SignInError::Refused { .. } | SignInError::Revoked { .. }) => {
            StatusCode::BAD_REQUEST
        }
        SignInFailure::Provider(SignInError::Unavailable { .. }) => StatusCode::BAD_GATEWAY,
        SignInFailure::NoRandomness => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError::new(status, failure.to_string())
}
