//! The ports implemented with real technology. Each adapter turns its technology's failures
//! into the port's errors at the boundary.

pub mod demo;
pub mod github;
pub mod http;
pub mod sqlite;
pub mod x;

/// An upstream origin from configuration, checked to be http(s).
fn base_url(raw: &str, variable: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("{variable} is not a URL ({raw}): {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(format!("{variable} must be an http(s) URL, not {raw}"));
    }
    Ok(url)
}
