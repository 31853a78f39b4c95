//! The REST API, served by axum: the router, the OpenAPI document, and what the handlers
//! share. The handlers live beside it, one file per concern.

mod access;
mod checks;
mod cost;
mod docs;
mod errors;
mod estimate;
mod extract;
mod fallback;
mod members;
mod ops;
mod page;
mod refusal_log;
mod register;
mod request_log;
mod security;
pub mod server;
mod sites;
#[cfg(test)]
mod testing;
mod wire;

pub use access::AccessRefusals;
pub use errors::ApiError;
pub use estimate::{EstimateBody, ListBody, MembersBody, OverCapBody, RoundOneBody};
pub use members::MemberSite;
pub use sites::Misdirected;
pub use wire::{
    ConnectionBody, ErrorsBody, NetworkBody, RegisterEntry, StatusBody, TeamRequest, UndecidedBody,
    VerdictBody,
};

use crate::application::{Access, UseCases};
use crate::domain::access::Scope;
use crate::metrics::Metrics;
use crate::outbound::upstreams::demo::Examples;
use access::Guard;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::middleware;
use axum::routing::{get, post};
use checks::{network, realtime};
use extract::TEAM_BODY_LIMIT;
use ops::{healthz, metrics_text, readyz};
use register::register;
use std::sync::Arc;
use utoipa::OpenApi;

/// The OpenAPI document, generated from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Connected Developers API",
        description = "Whether two developers are fully connected: they follow each other on X \
                       (formerly Twitter) and share at least one GitHub organisation. Every \
                       definitive answer is kept in a register.",
    ),
    paths(checks::realtime, register::register, checks::network, estimate::estimate, ops::healthz, ops::readyz, ops::metrics_text,
          members::me, members::hidden_organisations, members::forget, members::sign_out),
    components(schemas(VerdictBody, ErrorsBody, RegisterEntry, StatusBody, TeamRequest, NetworkBody, ConnectionBody, UndecidedBody,
                       EstimateBody, ListBody, MembersBody, RoundOneBody, OverCapBody,
                       members::MemberBody, members::SignedInBody, members::AccountBody, members::HiddenOrganisations, members::ForgottenBody)),
    modifiers(&BearerKeys),
    tags((name = "connected", description = "Checks and their register"),
         (name = "members", description = "Developers who sign in with GitHub or X (a browser session, off unless the service sets it up); signing in itself is the browser's redirect to /members/connect/{github,x}"),
         (name = "operations", description = "Health, readiness and metrics"))
)]
pub struct ApiDoc;

/// The bearer scheme API keys are sent with, so that a client (Swagger UI's *Authorize*)
/// knows how to send one.
struct BearerKeys;

impl utoipa::Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("cdk_…")
            .description(Some(
                "An API key made by `connected keys create NAME`. Required unless the service \
                 is open (AUTH=open, AUTH=auto with the demo graph, or AUTH=auto on a loopback \
                 address for a request that did not come through a proxy).",
            ))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// What the page is told, besides what the API answers.
pub struct Page {
    /// The page draws a team whose quote is at most this many X users without asking first
    /// (`QUOTE_CONFIRM_X_USERS`, told in every estimate).
    pub confirm_above: u64,
    /// The developers to suggest, when a demo graph is served.
    pub demo: Option<Examples>,
}

/// What the handlers share.
#[derive(Clone)]
struct AppState {
    use_cases: UseCases,
    metrics: Arc<Metrics>,
    /// Member sign-in, when it is on.
    members: Option<MemberSite>,
    /// When the page asks before drawing a team, told in every estimate.
    confirm_above: estimate::ConfirmAbove,
}

impl FromRef<AppState> for UseCases {
    fn from_ref(state: &AppState) -> Self {
        state.use_cases.clone()
    }
}

impl FromRef<AppState> for estimate::ConfirmAbove {
    fn from_ref(state: &AppState) -> Self {
        state.confirm_above
    }
}

impl FromRef<AppState> for Arc<Metrics> {
    fn from_ref(state: &AppState) -> Self {
        Arc::clone(&state.metrics)
    }
}

/// The whole HTTP application for the given use cases, behind `access`, counting into
/// `metrics`. Health, readiness and the documentation are always open; while the service is
/// open, it answers to localhost, IP addresses and `allowed_hosts` only. With `members`,
/// developers may sign in. What the page is told is in `page`.
pub fn router(
    use_cases: UseCases,
    metrics: Arc<Metrics>,
    access: Access,
    allowed_hosts: &[String],
    members: Option<MemberSite>,
    page: Page,
) -> Router {
    let signing_in = members.is_some();
    let state = AppState {
        use_cases,
        metrics: Arc::clone(&metrics),
        members,
        confirm_above: estimate::ConfirmAbove(page.confirm_above),
    };
    let names = sites::Names {
        access: access.clone(),
        allowed: allowed_hosts.into(),
    };
    let needs = |scope| {
        let guard = Guard {
            access: access.clone(),
            scope,
            fresh_costs: matches!(scope, Scope::Check | Scope::Network),
        };
        middleware::from_fn_with_state(guard, access::guard)
    };
    let routes = Router::new()
        .route(
            "/connected/realtime/{dev1}/{dev2}",
            get(realtime).route_layer(needs(Scope::Check)).route_layer(
                middleware::from_fn_with_state(names.clone(), sites::same_origin_only),
            ),
        )
        .route(
            "/connected/register/{dev1}/{dev2}",
            get(register).route_layer(needs(Scope::History)),
        )
        .route(
            "/connected/network",
            post(network)
                .layer(DefaultBodyLimit::max(TEAM_BODY_LIMIT))
                .route_layer(needs(Scope::Network))
                .route_layer(middleware::from_fn_with_state(
                    names.clone(),
                    sites::same_origin_only,
                )),
        )
        .route(
            "/connected/network/estimate",
            post(estimate::estimate)
                .layer(DefaultBodyLimit::max(TEAM_BODY_LIMIT))
                .route_layer(needs(Scope::Network))
                .route_layer(middleware::from_fn_with_state(
                    names.clone(),
                    sites::same_origin_only,
                )),
        )
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get(metrics_text).route_layer(needs(Scope::Metrics)),
        )
        .merge(docs::routes())
        .merge(page::routes(page.demo.as_ref()))
        .merge(members::routes(signing_in))
        .route_layer(middleware::from_fn_with_state(metrics, ops::track))
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .with_state(state)
        .layer(middleware::from_fn_with_state(names, sites::own_names_only));
    request_log::around(routes, refusal_log::RefusalLog::start())
}

#[cfg(test)]
mod tests {
    use super::testing::{Unreachable, app, get};
    use axum::http::StatusCode;
    use serde_json::json;
    use std::sync::Arc;

    #[tokio::test]
    async fn an_unreadable_path_is_a_bad_request_not_a_crash() {
        let app = app(Arc::new(Unreachable)).await;
        let (status, body) = get(app.clone(), "/connected/realtime/%FF%FE/bob").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body["errors"][0]
                .as_str()
                .unwrap()
                .starts_with("the developers in the path cannot be read")
        );
        let long = "a".repeat(101);
        let (status, body) = get(app, &format!("/connected/realtime/{long}/bob")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"errors": ["a developer handle is at most 100 characters long"]})
        );
    }
}
