//! The members' cookies: the browser's session, and the one that binds a sign-in begun to
//! the browser that began it. Both `HttpOnly`, `SameSite=Lax`, and `Secure` when the public
//! URL is https. And the one check their state-changing routes add: the request comes from
//! the service's own page.

use axum::http::header::{COOKIE, HeaderMap};
use axum::http::{HeaderName, HeaderValue};
use cookie::{Cookie, SameSite};

/// The member's browser session, on every path.
pub(super) const SESSION: &str = "connected_member";
/// The sign-in begun, on the sign-in paths only.
pub(super) const SIGN_IN: &str = "connected_sign_in";
/// Where the sign-in cookie is sent.
const SIGN_IN_PATH: &str = "/members/connect";

/// How cookies are set.
#[derive(Debug, Clone, Copy)]
pub(super) struct Jar {
    /// Whether cookies are `Secure` (the public URL is https).
    pub(super) secure: bool,
}

impl Jar {
    /// `Set-Cookie` for the session `value`, for `days`.
    pub(super) fn session(self, value: &str, days: i64) -> HeaderValue {
        self.set(SESSION, value, "/", cookie::time::Duration::days(days))
    }

    /// `Set-Cookie` for a sign-in begun, for ten minutes.
    pub(super) fn sign_in(self, value: &str) -> HeaderValue {
        self.set(
            SIGN_IN,
            value,
            SIGN_IN_PATH,
            cookie::time::Duration::minutes(10),
        )
    }

    /// `Set-Cookie` that removes the session.
    pub(super) fn end_session(self) -> HeaderValue {
        self.set(SESSION, "", "/", cookie::time::Duration::ZERO)
    }

    /// `Set-Cookie` that removes the sign-in cookie.
    pub(super) fn end_sign_in(self) -> HeaderValue {
        self.set(SIGN_IN, "", SIGN_IN_PATH, cookie::time::Duration::ZERO)
    }

    fn set(self, name: &str, value: &str, path: &str, age: cookie::time::Duration) -> HeaderValue {
        let cookie = Cookie::build((name, value))
            .path(path)
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .max_age(age)
            .build();
        let mut header = HeaderValue::from_str(&cookie.to_string())
            .unwrap_or_else(|_| HeaderValue::from_static(""));
        header.set_sensitive(true);
        header
    }
}

/// The value of the cookie `name` the request carries, if it is one of ours (a random
/// value of the URL-safe alphabet; anything else is no cookie of ours).
pub(super) fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
        .filter(|value| {
            (1..=64).contains(&value.len())
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Whether a request that changes a member's state came from another site's page: the
/// browser's `Sec-Fetch-Site` when it says, else its `Origin` against the public URL's.
/// (`SameSite=Lax` already keeps the cookie off cross-site requests of these methods; this
/// refuses them whatever the browser.)
pub(super) fn from_another_site(headers: &HeaderMap, origin: &url::Origin) -> bool {
    let text = |name: &str| {
        headers
            .get(HeaderName::from_bytes(name.as_bytes()).ok()?)
            .and_then(|v| v.to_str().ok())
    };
    if let Some(site) = text("sec-fetch-site") {
        return !matches!(site.trim(), "same-origin" | "none");
    }
    match text("origin") {
        Some(sent) => url::Url::parse(sent).map_or(true, |sent| sent.origin() != *origin),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_over_https() {
        let set = Jar { secure: true }.session("abc", 30);
        let set = set.to_str().unwrap();
        for part in [
            "connected_member=abc",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Max-Age=2592000",
        ] {
            assert!(set.contains(part), "{set} lacks {part}");
        }
        let plain = Jar { secure: false }.sign_in("xyz");
        let plain = plain.to_str().unwrap();
        assert!(!plain.contains("Secure"), "{plain}");
        assert!(plain.contains("Path=/members/connect"), "{plain}");
        assert!(
            Jar { secure: false }
                .end_session()
                .to_str()
                .unwrap()
                .contains("Max-Age=0")
        );
    }

    #[test]
    fn only_our_own_cookie_values_are_read() {
        let sent = headers(&[("cookie", "a=1; connected_member=Ab-_9"), ("cookie", "x=2")]);
        assert_eq!(read(&sent, SESSION).as_deref(), Some("Ab-_9"));
        assert_eq!(read(&sent, SIGN_IN), None);
        let odd = headers(&[("cookie", "connected_member=a%20b")]);
        assert_eq!(read(&odd, SESSION), None);
        let long = format!("connected_member={}", "a".repeat(65));
        assert_eq!(read(&headers(&[("cookie", &long)]), SESSION), None);
    }

    #[test]
    fn another_sites_page_is_told_by_the_browser_or_its_origin() {
        let origin = url::Url::parse("https://connected.example.com")
            .unwrap()
            .origin();
        let says = |pairs: &[(&'static str, &str)]| from_another_site(&headers(pairs), &origin);
        assert!(says(&[("sec-fetch-site", "cross-site")]));
        assert!(says(&[("sec-fetch-site", "same-site")]));
        assert!(!says(&[("sec-fetch-site", "same-origin")]));
        assert!(says(&[("origin", "https://evil.example")]));
        assert!(says(&[("origin", "null")]));
        assert!(!says(&[("origin", "https://connected.example.com")]));
        assert!(!says(&[]), "a program sends neither");
    }
}
