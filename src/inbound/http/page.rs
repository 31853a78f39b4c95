//! The page for people at `/`: a pair's check and its history, a team's network drawn, the
//! members' panel (sign in, consent, forget me), compiled into the binary so that it works
//! with no network; it fetches nothing but from this service. Serving a demo graph, the page
//! is told which of its developers to suggest (`<meta name="demo-pair">`, `demo-team`).

use super::AppState;
use super::security::{PAGE_POLICY, secured};
use crate::outbound::upstreams::demo::Examples;
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::hash::{DefaultHasher, Hash, Hasher};
use tower_http::compression::CompressionLayer;

const INDEX: &str = include_str!("../../../assets/page/index.html");

/// Where in the page the demo graph's developers are written, when it is served.
const DEMO_MARK: &str = "<!--demo-->";

const HTML: &str = "text/html; charset=utf-8";
const SCRIPT: &str = "text/javascript; charset=utf-8";

/// The page's files under `/page/`: name, media type, contents.
const FILES: [(&str, &str, &str); 12] = [
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
        "service.mjs",
        SCRIPT,
        include_str!("../../../assets/page/service.mjs"),
    ),
    (
        "pair.mjs",
        SCRIPT,
        include_str!("../../../assets/page/pair.mjs"),
    ),
    (
        "team.mjs",
        SCRIPT,
        include_str!("../../../assets/page/team.mjs"),
    ),
    (
        "network.mjs",
        SCRIPT,
        include_str!("../../../assets/page/network.mjs"),
    ),
    (
        "asking.mjs",
        SCRIPT,
        include_str!("../../../assets/page/asking.mjs"),
    ),
    (
        "legend.mjs",
        SCRIPT,
        include_str!("../../../assets/page/legend.mjs"),
    ),
    (
        "quote.mjs",
        SCRIPT,
        include_str!("../../../assets/page/quote.mjs"),
    ),
    (
        "members.mjs",
        SCRIPT,
        include_str!("../../../assets/page/members.mjs"),
    ),
    (
        "member.mjs",
        SCRIPT,
        include_str!("../../../assets/page/member.mjs"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_str!("../../../assets/page/icon.svg"),
    ),
];

/// The page and its files, gzipped for a client that accepts it; the page names `demo`'s
/// developers when it is given (a demo graph is served).
pub(super) fn routes(demo: Option<&Examples>) -> Router<AppState> {
    let index = Bytes::from(index(demo));
    let files = std::iter::once(("/".to_owned(), HTML, index)).chain(FILES.iter().map(
        |&(name, kind, body)| {
            (
                format!("/page/{name}"),
                kind,
                Bytes::from_static(body.as_bytes()),
            )
        },
    ));
    let router = files
        .fold(Router::new(), |router, (path, kind, body)| {
            let tag = etag(&body);
            router.route(&path, get(move |request| file(kind, body, tag, request)))
        })
        .layer(CompressionLayer::new());
    secured(router, PAGE_POLICY)
}

/// The page, with `demo`'s pair and team in `<meta>`s when a demo graph is served. Handles
/// known to both networks are letters and digits only; any other is left out all the same.
fn index(demo: Option<&Examples>) -> String {
    let Some(demo) = demo else {
        return INDEX.replace(DEMO_MARK, "");
    };
    let safe = |handle: &&String| handle.chars().all(|c| c.is_ascii_alphanumeric());
    let line = |name: &str, handles: &[String]| {
        let handles: Vec<&str> = handles.iter().filter(safe).map(String::as_str).collect();
        format!("<meta name=\"{name}\" content=\"{}\">", handles.join(" "))
    };
    let mut metas = vec![line("demo-team", &demo.team)];
    if let Some(pair) = &demo.pair {
        metas.insert(0, line("demo-pair", pair));
    }
    INDEX.replace(DEMO_MARK, &metas.join("\n  "))
}

/// A file of the page, or 304 when the client's copy (`If-None-Match`) is this one (`tag`):
/// the page is revalidated on every load (`no-cache`) but sent again only when it changed.
async fn file(
    content_type: &'static str,
    body: Bytes,
    tag: HeaderValue,
    request: HeaderMap,
) -> impl IntoResponse {
    let opaque = tag.to_str().unwrap_or_default().trim_start_matches("W/");
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|candidate| candidate.trim_start_matches("W/") == opaque || candidate == "*");
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, tag.clone()),
    ];
    if fresh {
        (StatusCode::NOT_MODIFIED, headers, Bytes::new())
    } else {
        (StatusCode::OK, headers, body)
    }
}

/// A validator of `body`: a hash of it, the same for the same binary. Weak, as the same
/// file gzipped or not is the same file to a cache (`If-None-Match` compares weakly).
fn etag(body: &[u8]) -> HeaderValue {
    let mut hasher = DefaultHasher::new();
    body.hash(&mut hasher);
    HeaderValue::try_from(format!("W/\"{:016x}\"", hasher.finish()))
        .expect("hex digits in quotes are a header value") // ok: made of hex digits only
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
    async fn a_file_is_gzipped_when_asked_and_not_sent_again_when_the_client_has_it() {
        let app = app(Arc::new(Unreachable)).await;
        let get = |headers: &[(&str, &str)]| {
            let mut request = Request::get("/page/team.mjs");
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            app.clone().oneshot(request.body(Body::empty()).unwrap())
        };
        let whole = get(&[("accept-encoding", "gzip")]).await.unwrap();
        assert_eq!(whole.status(), StatusCode::OK);
        assert_eq!(whole.headers()["content-encoding"], "gzip");
        let tag = whole.headers()["etag"].to_str().unwrap().to_owned();
        let zipped = axum::body::to_bytes(whole.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(
            zipped.len() < FILES[4].2.len() / 2,
            "{} bytes",
            zipped.len()
        );

        let again = get(&[("if-none-match", &format!("\"other\", {tag}"))])
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        let empty = axum::body::to_bytes(again.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(empty.is_empty());
        let changed = get(&[("if-none-match", "\"other\"")]).await.unwrap();
        assert_eq!(changed.status(), StatusCode::OK);
        assert!(changed.headers().get("content-encoding").is_none());
    }

    #[test]
    fn the_demo_graph_s_developers_are_named_in_the_page_only_when_it_is_served() {
        use crate::outbound::upstreams::demo::Examples;
        assert_eq!(INDEX.matches(super::DEMO_MARK).count(), 1);
        let plain = super::index(None);
        assert!(!plain.contains(r#"name="demo-"#) && !plain.contains(super::DEMO_MARK));
        let demo = Examples {
            pair: Some(["alice".into(), "bob".into()]),
            team: vec!["alice".into(), "bob".into(), "<i>".into(), "carol".into()],
        };
        let page = super::index(Some(&demo));
        assert!(page.contains(r#"<meta name="demo-pair" content="alice bob">"#));
        assert!(page.contains(r#"<meta name="demo-team" content="alice bob carol">"#));
        let no_pair = super::index(Some(&Examples {
            pair: None,
            team: vec!["a".into()],
        }));
        assert!(!no_pair.contains(r#"name="demo-pair""#) && no_pair.contains(r#"content="a""#));
    }

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
            "./service.mjs",
            "./pair.mjs",
            "./team.mjs",
            "./asking.mjs",
            "./legend.mjs",
            "./quote.mjs",
            "./members.mjs",
            "./member.mjs",
            "/page/icon.svg",
            "/connected/realtime/",
            "/connected/network",
            "/connected/network/estimate",
            "/members/me",
            "/members/connect/",
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
