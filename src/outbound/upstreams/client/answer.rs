//! What a call brought back: an answer, bounded as it is read, then decoded, each reading
//! counted.

use super::{Failure, Upstream, describe};
use crate::domain::Unavailable;
use crate::metrics::Outcome;
use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

/// What a call brought back.
pub enum Reply<'a> {
    /// A 2xx or a 304, for the adapter to read.
    Answer(Answer<'a>),
    NotFound,
}

/// A successful answer: its status, headers and body (bounded). Reading it counts the call.
pub struct Answer<'a> {
    pub(super) upstream: &'a Upstream,
    pub(super) endpoint: &'static str,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub(super) body: Vec<u8>,
}

impl Answer<'_> {
    /// The body as `T`; JSON that is not `T` (another shape, `null`, cut short) is a
    /// failure, never an empty answer.
    ///
    /// # Errors
    /// [`Failure::Unavailable`] when the body is not `T`.
    pub fn json<T: DeserializeOwned>(self) -> Result<T, Failure> {
        match serde_json::from_slice(&self.body) {
            Ok(value) => {
                self.upstream.count(self.endpoint, Outcome::Ok);
                Ok(value)
            }
            Err(e) => {
                self.upstream.count(self.endpoint, Outcome::Error);
                Err(Unavailable::because("its answer could not be read", e).into())
            }
        }
    }

    /// The answer taken by its status alone (a `204`, a `304`).
    pub fn status_only(self) -> StatusCode {
        let outcome = if self.status == StatusCode::NOT_MODIFIED {
            Outcome::NotModified
        } else {
            Outcome::Ok
        };
        self.upstream.count(self.endpoint, outcome);
        self.status
    }

    /// A success that is not the one asked for (a `200` where a `204` belongs): a failure.
    pub fn unexpected(self) -> Failure {
        self.upstream.count(self.endpoint, Outcome::Error);
        Unavailable::new(describe(self.status, &String::from_utf8_lossy(&self.body))).into()
    }

    /// The `rel="next"` link, followed only while it stays on the API's origin, so the
    /// credentials are never sent elsewhere.
    pub fn next_link(&self) -> Option<Url> {
        self.upstream.next_link(&self.headers)
    }
}

/// The body, up to `max` bytes, read as it comes: `Err(Ok(words))` when it is larger
/// (said by its `Content-Length` or found while reading, never held whole), `Err(Err(_))`
/// when it cannot be read.
pub(super) async fn read_bounded(
    mut response: Response,
    max: usize,
) -> Result<Vec<u8>, Result<String, reqwest::Error>> {
    let too_large = || {
        Err(Ok(format!(
            "its answer could not be read: it is larger than {}",
            size(max)
        )))
    };
    let declared = response.content_length().unwrap_or(0);
    if usize::try_from(declared).map_or(true, |declared| declared > max) {
        return too_large();
    }
    // What the answer says it holds, up to a first chunk or so: a declared size is not a promise.
    let mut body = Vec::with_capacity(usize::try_from(declared).unwrap_or(0).min(64 * 1024));
    while let Some(chunk) = response.chunk().await.map_err(Err)? {
        if body.len() + chunk.len() > max {
            return too_large();
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A size in bytes as people say it: whole MiB or KiB when it is one.
fn size(bytes: usize) -> String {
    const KIB: usize = 1024;
    if bytes.is_multiple_of(KIB * KIB) {
        format!("{} MiB", bytes / (KIB * KIB))
    } else if bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}
