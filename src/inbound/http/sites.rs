//! What a web page of another site can make a visitor's browser do here: nothing that
//! spends or records. The page at `/` and its API are one origin, so none of this touches it.
//!
//! - A service open without a key answers only to the names it is known by: loopback names,
//!   IP addresses, and `ALLOWED_HOSTS`. A page that points a name of its own at the service
//!   (DNS rebinding) sends that name as `Host`, and is answered 421. An IP address cannot
//!   be rebound: a browser that sends one is on the service's own origin. Health and
//!   readiness answer any host: they tell a page nothing, and checkers send all sorts.
//! - A request the browser marks as sent by another site's page (`Sec-Fetch-Site:
//!   cross-site`, or `same-site`: another port of localhost is the same site) is refused
//!   on the routes that spend or record, whatever the auth mode: the API allows no other
//!   origin (no CORS), so no such request is ever meant. While open, a request whose
//!   `Origin` (else `Referer`) is another host and port is too: browsers send
//!   `Sec-Fetch-Site` to trustworthy origins only.

use super::access::reach;
use super::errors::ApiError;
use super::refusal_log::Refused;
use super::wire::ErrorsBody;
use crate::application::Access;
use axum::extract::{Request, State};
use axum::http::uri::Authority;
use axum::http::{HeaderName, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use std::net::IpAddr;
use std::sync::Arc;

static SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// Routes that answer whatever host a request names.
const ANY_HOST: [&str; 2] = ["/healthz", "/readyz"];

/// The answer to a request naming another host, as the OpenAPI document lists it on every
/// route but health and readiness (a description: it is made by [`own_names_only`]).
#[derive(utoipa::IntoResponses)]
pub enum Misdirected {
    #[response(status = 421, description = "While no API key is required, the request names a host (`Host`, or HTTP/2's `:authority`) other than localhost, an IP address or one in ALLOWED_HOSTS; nothing is done",
               example = json!({"errors": ["this service is open without an API key and answers only to localhost, an IP address or a name in ALLOWED_HOSTS"]}))]
    MisdirectedRequest(ErrorsBody),
}

/// The names the service answers to while it is open.
#[derive(Clone)]
pub(super) struct Names {
    pub(super) access: Access,
    /// Lower case, without port.
    pub(super) allowed: Arc<[String]>,
}

/// Refuses, while the request needs no key, one that names a host the service is not known
/// by.
pub(super) async fn own_names_only(
    State(names): State<Names>,
    request: Request,
    next: Next,
) -> Response {
    if !ANY_HOST.contains(&request.uri().path())
        && names.access.is_open_to(reach(request.headers()))
        && !is_own_name(named_host(&request).as_deref(), &names.allowed)
    {
        return Refused::anonymous("host not served").on(ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "this service is open without an API key and answers only to localhost, an IP \
             address or a name in ALLOWED_HOSTS",
        ));
    }
    next.run(request).await
}

/// Refuses a request a browser sent for another site's page.
pub(super) async fn same_origin_only(
    State(names): State<Names>,
    request: Request,
    next: Next,
) -> Response {
    let open = names.access.is_open_to(reach(request.headers()));
    if sent_by_another_site(&request, open) {
        return Refused::anonymous("another site's page").on(ApiError::new(
            StatusCode::FORBIDDEN,
            "a page of another site cannot ask this service for checks: open the service's own \
             page, or call the API from a program",
        ));
    }
    next.run(request).await
}

/// Whether a browser sent `request` for another site's page. The browser's own word,
/// `Sec-Fetch-Site`, when it gives one. It does to trustworthy origins only (https,
/// localhost, loopback addresses), so, for a service `open` without a key (over plain HTTP
/// elsewhere, or to older browsers), the page's origin is also read from `Origin`, else
/// `Referer`, and compared with the host the request names; a program that sends none of
/// them is no page. With a key required that is not needed (a page of another site cannot
/// send the key: no CORS), and it would refuse the service's own page behind a proxy that
/// rewrites `Host`.
fn sent_by_another_site(request: &Request, open: bool) -> bool {
    let headers = request.headers();
    let text = |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text(&SEC_FETCH_SITE) {
        return matches!(
            site.trim().to_ascii_lowercase().as_str(),
            "cross-site" | "same-site"
        );
    }
    if !open {
        return false;
    }
    let Some(page) = text(&header::ORIGIN).or_else(|| text(&header::REFERER)) else {
        return false;
    };
    let named = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| text(&header::HOST).map(str::to_owned));
    !same_authority(page, named.as_deref())
}

/// Whether the page at `page` (an origin or a URL; `null` is an opaque origin) is on the
/// authority the request names (`host[:port]`), default ports included.
fn same_authority(page: &str, named: Option<&str>) -> bool {
    let (Ok(page), Some(named)) = (url::Url::parse(page.trim()), named) else {
        return false;
    };
    let Ok(named) = named.trim().parse::<Authority>() else {
        return false;
    };
    let default = page.port_or_known_default();
    let host = |h: &str| h.trim_end_matches('.').to_ascii_lowercase();
    page.host_str().map(host) == Some(host(named.host()))
        && page.port_or_known_default() == named.port_u16().or(default)
}

/// The host a request names: the URI's authority (HTTP/2's `:authority`, or an absolute
/// request target), else `Host`; `None` when it names none, and an empty name when what it
/// names cannot be read.
fn named_host(request: &Request) -> Option<String> {
    if let Some(authority) = request.uri().authority() {
        return Some(authority.host().to_owned());
    }
    let value = request.headers().get(header::HOST)?;
    Some(
        value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<Authority>().ok())
            .map(|a| a.host().to_owned())
            .unwrap_or_default(),
    )
}

/// Whether `host` (without port) is a name the service answers to while open: none named
/// (not a browser), localhost and its subdomains (browsers resolve them to loopback
/// themselves), any IP address, or one of `allowed`.
fn is_own_name(host: Option<&str>, allowed: &[String]) -> bool {
    let Some(host) = host else {
        return true;
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    !host.is_empty()
        && (literal.parse::<IpAddr>().is_ok()
            || host == "localhost"
            || host.ends_with(".localhost")
            || allowed.contains(&host))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    #[test]
    fn a_page_is_of_this_site_when_its_origin_names_the_host_and_port_the_request_names() {
        let own = Some("192.168.1.5:5000");
        assert!(same_authority("http://192.168.1.5:5000", own));
        assert!(same_authority("http://192.168.1.5:5000/page/app.js", own));
        assert!(same_authority(
            "http://Demo.Example.com.",
            Some("demo.example.com")
        ));
        assert!(same_authority(
            "https://demo.example.com",
            Some("demo.example.com:443")
        ));
        assert!(!same_authority("http://192.168.1.5:5001", own));
        assert!(!same_authority("http://evil.example", own));
        assert!(!same_authority("null", own));
        assert!(!same_authority("http://192.168.1.5:5000", None));
        assert!(!same_authority("http://192.168.1.5:5000", Some("bad host")));
    }

    #[test]
    fn the_browsers_word_wins_and_without_it_origin_then_referer_tell() {
        let sent = |headers: &[(&str, &str)]| {
            let mut request = Request::builder().uri("/connected/realtime/a/b");
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            sent_by_another_site(&request.body(Body::empty()).unwrap(), true)
        };
        let host = ("Host", "10.0.0.2:5000");
        assert!(!sent(&[host]), "a program");
        assert!(sent(&[host, ("Sec-Fetch-Site", "cross-site")]));
        assert!(sent(&[host, ("Sec-Fetch-Site", "same-site")]));
        assert!(!sent(&[
            host,
            ("Sec-Fetch-Site", "same-origin"),
            ("Origin", "http://x.example")
        ]));
        assert!(sent(&[host, ("Referer", "http://evil.example/page")]));
        assert!(sent(&[host, ("Origin", "null")]));
        assert!(!sent(&[host, ("Referer", "http://10.0.0.2:5000/")]));
        assert!(!sent(&[
            host,
            ("Origin", "http://10.0.0.2:5000"),
            ("Referer", "http://x.example/")
        ]));
        let with_key = Request::builder()
            .header("Host", "10.0.0.2:5000")
            .header("Origin", "http://evil.example")
            .body(Body::empty())
            .unwrap();
        assert!(!sent_by_another_site(&with_key, false), "the key decides");
    }

    fn named(uri: &str, host: Option<&str>) -> Option<String> {
        let mut request = Request::get(uri);
        if let Some(host) = host {
            request = request.header(header::HOST, host);
        }
        named_host(&request.body(Body::empty()).unwrap())
    }

    #[test]
    fn the_host_named_is_the_authority_else_the_host_header_without_port() {
        assert_eq!(
            named("/x", Some("localhost:5000")),
            Some("localhost".into())
        );
        assert_eq!(named("/x", Some("[::1]:5000")), Some("[::1]".into()));
        assert_eq!(
            named("http://evil.example:5000/x", Some("localhost")),
            Some("evil.example".into()),
            "an HTTP/2 authority or an absolute target wins over Host"
        );
        assert_eq!(named("/x", Some("a b")), Some(String::new()));
        assert_eq!(named("/x", None), None);
    }

    #[test]
    fn an_open_service_answers_to_loopback_names_ip_addresses_and_allowed_hosts_only() {
        let allowed = ["demo.example.com".to_owned()];
        for own in [
            "localhost",
            "LOCALHOST.",
            "app.localhost",
            "127.0.0.1",
            "127.8.9.10",
            "[::1]",
            "192.168.1.2",
            "demo.example.com",
            "Demo.Example.com",
        ] {
            assert!(is_own_name(Some(own), &allowed), "{own}");
        }
        for foreign in [
            "attacker.example",
            "localhost.evil.example",
            "example.com",
            "",
        ] {
            assert!(!is_own_name(Some(foreign), &allowed), "{foreign}");
        }
        assert!(is_own_name(None, &[]), "no host named: not a browser");
    }
}
