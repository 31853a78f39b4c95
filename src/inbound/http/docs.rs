//! The API's document and its viewers: `/openapi.json`, Swagger UI under `/docs`, and
//! Redoc at `/redoc`, its script embedded. Both load nothing from another origin, and say
//! so to the browser ([`DOCS_POLICY`]).

use super::refusal_log::Refused;
use super::security::{DOCS_POLICY, secured};
use super::{ApiDoc, AppState, fallback::no_such_resource};
use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use utoipa::OpenApi;
use utoipa_swagger_ui::{Config, SwaggerUi};

/// Every viewer's route, and the document's.
pub(super) fn routes() -> Router<AppState> {
    let viewers = Router::new()
        .route("/redoc", get(redoc))
        .route("/redoc/redoc.standalone.js", get(redoc_script))
        .merge(swagger_ui());
    secured(viewers, DOCS_POLICY)
}

const REDOC_PAGE: &str = r#"<!DOCTYPE html>
<html>
  <head>
    <title>Connected Developers API</title>
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <link rel="icon" href="/page/icon.svg" type="image/svg+xml">
  </head>
  <body>
    <redoc spec-url="/openapi.json"></redoc>
    <script src="/redoc/redoc.standalone.js"></script>
  </body>
</html>
"#;

/// Redoc 2.x, embedded so the page works with no internet.
const REDOC_SCRIPT: &str = include_str!("../../../assets/redoc.standalone.js");

/// The one address Redoc's script would load from another origin: the logo under its menu
/// ("API docs by Redocly"), shown only once it loads. The script is served without it, so
/// the image is never asked for (the policy would refuse it anyway).
const REDOC_LOGO: &str = "https://cdn.redoc.ly/redoc/logo-mini.svg";

/// Redoc's script as served: without the address of its logo.
fn redoc_script_served() -> &'static str {
    static SERVED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SERVED.get_or_init(|| REDOC_SCRIPT.replace(REDOC_LOGO, ""))
}

async fn redoc() -> Html<&'static str> {
    Html(REDOC_PAGE)
}

async fn redoc_script() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        redoc_script_served(),
    )
}

/// Swagger UI, its files under `/docs/`, and the document at `/openapi.json`. The viewer
/// answers a file it does not have with an empty 404; the API promises the JSON one for
/// every unknown path, so that answer is replaced.
fn swagger_ui() -> Router<AppState> {
    // Swagger UI would send the document's address to validator.swagger.io for a badge.
    let ui = SwaggerUi::new("/docs")
        .url("/openapi.json", ApiDoc::openapi())
        .config(Config::default().validator_url("none"));
    Router::from(ui).layer(middleware::from_fn(docs_not_found))
}

async fn docs_not_found(request: Request, next: Next) -> Response {
    let (method, uri) = (request.method().clone(), request.uri().clone());
    let response = next.run(request).await;
    if response.status() == StatusCode::NOT_FOUND {
        Refused::anonymous("no such resource").on(no_such_resource(&method, &uri))
    } else {
        response
    }
}
