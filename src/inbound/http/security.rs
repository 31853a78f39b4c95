//! The headers every document served to a browser carries (the page, Swagger UI, Redoc): a
//! content security policy, which also forbids framing (`frame-ancestors 'none'`), and no
//! content sniffing. One layer, each set of routes with its own policy.

use super::AppState;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;

/// The page: only this origin, for everything (its own files and the API it calls).
pub(super) const PAGE_POLICY: &str =
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The API's viewers: scripts, the document and everything else from this origin only.
/// Both viewers set styles from their scripts (Redoc through styled-components), so inline
/// styles are allowed; their icons are `data:` images; Redoc's search runs in a worker made
/// from a `blob:` of its own script. No other origin is named: they work offline.
pub(super) const DOCS_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `router` with `policy` and `nosniff` on every answer.
pub(super) fn secured(router: Router<AppState>, policy: &'static str) -> Router<AppState> {
    router.layer(axum::middleware::map_response(
        move |mut response: Response| async move {
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(policy),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response
        },
    ))
}
