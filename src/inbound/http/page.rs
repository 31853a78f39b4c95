//! The page for people at `/`: a pair's check and its history, compiled into the binary, so
//! that it works with no network; it fetches nothing but from this service.

use super::AppState;
use axum::Router;
use axum::http::{HeaderName, header};
use axum::response::IntoResponse;
use axum::routing::get;

const INDEX: &str = include_str!("../../../assets/page/index.html");

const HTML: &str = "text/html; charset=utf-8";
const SCRIPT: &str = "text/javascript; charset=utf-8";

/// The page's files under `/page/`: name, media type, contents.
const FILES: [(&str, &str, &str); 4] = [
    (
        "page.css",
        "text/css; charset=utf-8",
        include_str!("../../../assets/page/page.css"),
    ),
    (
        "page.js",
        SCRIPT,
        include_str!("../../../assets/page/page.js"),
    ),
    (
        "network.mjs",
        SCRIPT,
        include_str!("../../../assets/page/network.mjs"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_str!("../../../assets/page/icon.svg"),
    ),
];

/// Only this origin, for everything: the page's own files and the API it calls.
const POLICY: &str =
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub(super) fn routes() -> Router<AppState> {
    FILES.iter().fold(
        Router::new().route("/", get(|| file(HTML, INDEX))),
        |router, &(name, kind, body)| {
            router.route(&format!("/page/{name}"), get(move || file(kind, body)))
        },
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
    use super::{FILES, INDEX};
    use crate::inbound::http::testing::{Unreachable, app};
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use std::sync::Arc;
    use tower::ServiceExt;

    #[tokio::test]
    async fn the_page_and_its_files_are_served_from_this_origin_only() {
        let app = app(Arc::new(Unreachable)).await;
        let files = FILES.map(|(name, kind, _)| (format!("/page/{name}"), kind));
        for (uri, kind) in [(String::from("/"), super::HTML)].iter().chain(&files) {
            let response = app
                .clone()
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{uri}");
            let headers = response.headers();
            assert_eq!(headers["content-type"], *kind, "{uri}");
            assert!(
                headers["content-security-policy"]
                    .to_str()
                    .unwrap()
                    .starts_with("default-src 'self'")
            );
        }
        let texts: Vec<&str> = FILES.iter().map(|&(_, _, body)| body).collect();
        let all = std::iter::once(INDEX).chain(texts.iter().copied());
        // Every file is linked from the page or a script, and the API is called from it.
        for needle in [
            "/page/page.css",
            "/page/page.js",
            "./network.mjs",
            "/page/icon.svg",
            "/connected/realtime/",
            "/connected/network",
            "/docs/",
        ] {
            assert!(all.clone().any(|t| t.contains(needle)), "{needle}");
        }
        // No address elsewhere: the SVG namespace names, it is never fetched.
        for text in all {
            let text = text.replace("\"http://www.w3.org/2000/svg\"", "");
            assert!(
                !text.contains("http://") && !text.contains("https://") && !text.contains("//cdn")
            );
        }
    }
}
