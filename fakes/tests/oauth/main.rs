//! The fakes' signed-in members over real HTTP: the OAuth flows of GitHub and X, and what a
//! member's own token answers.

mod github;
mod x;

use connected_fakes::pkce_challenge;
use reqwest::{Client, Response, StatusCode};
use url::Url;

/// A PKCE verifier, 43 to 128 characters as the specification asks.
const VERIFIER: &str = "the-verifier-of-this-test-0123456789-abcdefghijklmnop";

/// The callback the tests register; nothing listens there, the redirects are not followed.
const CALLBACK: &str = "http://127.0.0.1:9/auth/callback";

/// A client that does not follow redirects, so a test sees each one.
fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("connected-fakes-tests")
        .build()
        .unwrap()
}

/// The challenge of [`VERIFIER`].
fn challenge() -> String {
    pkce_challenge(VERIFIER)
}

/// `base` + `path` with these query parameters, encoded.
fn url(base: &str, path: &str, params: &[(&str, &str)]) -> Url {
    Url::parse_with_params(&format!("{base}{path}"), params).unwrap()
}

/// A form body of these parameters.
fn form(params: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// The parameters of a redirect's `Location`, after checking it goes to the callback.
fn redirected(response: &Response) -> Vec<(String, String)> {
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(CALLBACK), "{location}");
    Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// The value of `key` among the parameters.
fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A header's value as text.
fn header(response: &Response, name: &str) -> String {
    response.headers()[name].to_str().unwrap().to_owned()
}

#[test]
fn the_challenge_is_base64url_of_sha256_without_padding() {
    // The example of RFC 7636, appendix B.
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    assert_eq!(
        pkce_challenge(verifier),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}
