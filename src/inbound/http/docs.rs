//! The API's document and its viewers: `/openapi.json`, Swagger UI under `/docs`, and
//! Redoc at `/redoc`, its script embedded.

use super::{ApiDoc, AppState, fallback::no_such_resource};
use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

/// Every viewer's route, and the document's.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/redoc", get(redoc))
        .route("/redoc/redoc.standalone.js", get(redoc_script))
        .merge(swagger_ui())
}

const REDOC_PAGE: &str = r#"<!DOCTYPE html>
<html>
  <head>
    <title>Connected Developers API</title>
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1">
  </head>
  <body>
    <redoc spec-url="/openapi.json"></redoc>
    <script src="/redoc/redoc.standalone.js"></script>
  </body>
</html>
"#;

/// Redoc 2.x, embedded so the page works with no internet.
const REDOC_SCRIPT: &str = include_str!("../../../assets/redoc.standalone.js");

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
        REDOC_SCRIPT,
    )
}

/// Swagger UI, its files under `/docs/`, and the document at `/openapi.json`. The viewer
/// answers a file it does not have with an empty 404; the API promises the JSON one for
/// every unknown path, so that answer is replaced.
fn swagger_ui() -> Router<AppState> {
    Router::from(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()))
        .layer(middleware::from_fn(docs_not_found))
}

async fn docs_not_found(request: Request, next: Next) -> Response {
    let (method, uri) = (request.method().clone(), request.uri().clone());
    let response = next.run(request).await;
    if response.status() == StatusCode::NOT_FOUND {
        no_such_resource(&method, &uri).into_response()
    } else {
        response
    }
}
