//! The page for people at `/`: a pair's check and its history, compiled into the binary, so
//! that it works with no network; it fetches nothing but from this service.

use super::AppState;
use axum::Router;
use axum::http::{HeaderName, header};
use axum::response::IntoResponse;
use axum::routing::get;

const INDEX: &str = include_str!("../../../assets/page/index.html");
const STYLE: &str = include_str!("../../../assets/page/page.css");
const SCRIPT: &str = include_str!("../../../assets/page/page.js");

/// Only this origin, for everything: the page's own files and the API it calls.
const POLICY: &str =
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| file("text/html; charset=utf-8", INDEX)))
        .route(
            "/page/page.css",
            get(|| file("text/css; charset=utf-8", STYLE)),
        )
        .route(
            "/page/page.js",
            get(|| file("application/javascript; charset=utf-8", SCRIPT)),
        )
}

async fn file(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    let headers: [(HeaderName, &str); 4] = [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_SECURITY_POLICY, POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    (headers, body)
}

#[cfg(test)]
mod tests {
    use crate::inbound::http::testing::{Unreachable, app};
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use std::sync::Arc;
    use tower::ServiceExt;

    #[tokio::test]
    async fn the_page_and_its_files_are_served_from_this_origin_only() {
        let app = app(Arc::new(Unreachable)).await;
        for (uri, kind) in [
            ("/", "text/html"),
            ("/page/page.css", "text/css"),
            ("/page/page.js", "application/javascript"),
        ] {
            let response = app
                .clone()
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{uri}");
            let headers = response.headers();
            assert!(headers["content-type"].to_str().unwrap().starts_with(kind));
            assert!(
                headers["content-security-policy"]
                    .to_str()
                    .unwrap()
                    .starts_with("default-src 'self'")
            );
        }
        let page = super::INDEX;
        for file in [
            "/page/page.css",
            "/page/page.js",
            "/connected/realtime/",
            "/docs/",
        ] {
            assert!(
                page.contains(file) || super::SCRIPT.contains(file),
                "{file}"
            );
        }
        // No address elsewhere: the SVG namespace names, it is never fetched.
        let script = super::SCRIPT.replace("\"http://www.w3.org/2000/svg\"", "");
        for text in [page, script.as_str(), super::STYLE] {
            assert!(
                !text.contains("http://") && !text.contains("https://") && !text.contains("//cdn")
            );
        }
    }
}
