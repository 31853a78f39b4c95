//! A pair's register: its history, whole and streamed, or a page of it with a `Link` to
//! the older one.

use super::access::AccessRefusals;
use super::extract::{HistoryParams, PairPath};
use super::sites::Misdirected;
use super::{ApiError, ErrorsBody, RegisterEntry};
use crate::application::UseCases;
use crate::domain::{Chain, HistoryStream, RegisterError, RegisteredCheck};
use crate::inbound::wording::Unread;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::{FutureExt as _, StreamExt as _, TryStreamExt as _};

/// Read a pair's recorded answers
///
/// Every recorded answer for a pair, oldest first. The pair is unordered and
/// case-insensitive. With `limit`, only the newest `limit` answers (before `before`, if
/// given), still oldest first, and a `Link: <…>; rel="next"` header to the older page when
/// there may be one.
#[utoipa::path(
    get,
    operation_id = "readPairHistory",
    path = "/connected/register/{dev1}/{dev2}",
    tag = "connected",
    params(
        ("dev1" = String, Path, min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$",
         description = "A developer's handle (case-insensitive): 1 to 100 characters, no control character"),
        ("dev2" = String, Path, min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$",
         description = "Another developer's handle (not the same as dev1, ignoring case); the order does not matter"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 10000,
         description = "Return only the newest `limit` answers (default: all)"),
        ("before" = Option<String>, Query, format = DateTime,
         description = "Only answers registered strictly before this RFC 3339 time (for paging backwards)"),
    ),
    responses(
        (status = 200, description = "The pair's recorded checks, oldest first", body = [RegisterEntry],
         headers(("Link" = String, description = "With `limit`, when a full page was returned: the next, older page (rel=\"next\")")),
         example = json!([{"registered_at": "2021-10-30T13:54:45.485Z", "connected": true, "organisations": ["acme"], "social_graph": "x", "member_sign_in": false},
                          {"registered_at": "2021-11-02T08:01:12.007Z", "connected": false, "social_graph": "x", "member_sign_in": true}])),
        (status = 404, description = "The pair has no record (in the page asked for)", body = [RegisterEntry], example = json!([])),
        (status = 400, description = "The same developer twice, or a bad `limit` or `before`", body = ErrorsBody),
        (status = 503, description = "The register is unavailable, or the API keys cannot be read", body = ErrorsBody),
        AccessRefusals,
        Misdirected,
    ),
    security((), ("bearer" = []))
)]
pub(super) async fn register(
    State(use_cases): State<UseCases>,
    PairPath(pair): PairPath,
    HistoryParams(page): HistoryParams,
) -> Result<Response, ApiError> {
    let history = use_cases.history(&pair, page);
    if page.limit.is_none() {
        return whole_history(history).await;
    }
    // A limited page is bounded: it is read whole, for its Link header.
    let history: Vec<RegisteredCheck> = history.try_collect().await.map_err(Unread)?;
    let status = if history.is_empty() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    let entries: Vec<RegisterEntry> = history.iter().map(RegisterEntry::from).collect();
    let mut response = (status, Json(&entries)).into_response();
    if let (Some(limit), Some(oldest)) = (page.limit, entries.first())
        && entries.len() >= limit as usize
        && let [dev1, dev2] = pair.developers()
        && let Some(link) = next_page(dev1.as_str(), dev2.as_str(), limit, &oldest.registered_at)
    {
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}

/// The `Link` to the page older than `oldest`, of the same `limit`, for a pair's full page.
fn next_page(dev1: &str, dev2: &str, limit: u32, oldest: &str) -> Option<HeaderValue> {
    let mut next = url::Url::parse("http://localhost/").expect("a constant URL parses"); // ok: a constant
    if let Ok(mut segments) = next.path_segments_mut() {
        segments
            .clear()
            .extend(["connected", "register", dev1, dev2]);
    }
    next.query_pairs_mut()
        .append_pair("limit", &limit.to_string())
        .append_pair("before", oldest);
    let link = format!(
        "<{}?{}>; rel=\"next\"",
        next.path(),
        next.query().unwrap_or_default()
    );
    HeaderValue::from_str(&link).ok()
}

/// Entries serialised into one write of a whole history's body.
const ENTRIES_PER_WRITE: usize = 256;

/// A whole history, streamed into the body as it is read: the JSON array the limited page
/// gives, without ever holding more than a chunk of it. The first entries are read before
/// the status is chosen, so an empty history is still a `404 []` and a register that cannot
/// be read a `503`; a history read in one go is sent whole, with its length. A failure after
/// the status can only cut the body short: the closing `]` is never sent and the connection
/// is aborted, so a client cannot take the part for the whole.
async fn whole_history(history: HistoryStream) -> Result<Response, ApiError> {
    let mut chunks = history.ready_chunks(ENTRIES_PER_WRITE);
    let Some(first) = chunks.next().await else {
        return Ok((StatusCode::NOT_FOUND, Json(Vec::<RegisterEntry>::new())).into_response());
    };
    let mut opening = b"[".to_vec();
    write_entries(&mut opening, first, true).map_err(Unread)?;
    let json = [(header::CONTENT_TYPE, "application/json")];
    let next = match chunks.next().now_or_never() {
        Some(None) => {
            opening.push(b']');
            return Ok((json, opening).into_response());
        }
        Some(Some(entries)) => Some(entries),
        None => None,
    };
    let span = tracing::Span::current();
    let rest = futures::stream::iter(next).chain(chunks).map(move |entries| {
        let mut bytes: Vec<u8> = Vec::with_capacity(entries.len() * 128);
        write_entries(&mut bytes, entries, false).inspect_err(|e| {
            span.in_scope(|| {
                tracing::error!(error = %Chain(e), "the register failed part way through a history: the answer was cut");
            });
        })?;
        Ok::<_, RegisterError>(bytes)
    });
    let body = futures::stream::once(async { Ok(opening) })
        .chain(rest)
        .chain(futures::stream::once(async { Ok(b"]".to_vec()) }))
        // Nothing may follow a failure, the closing bracket least of all.
        .scan(false, |failed, chunk| {
            let next = (!*failed).then(|| {
                *failed = chunk.is_err();
                chunk
            });
            async move { next }
        });
    Ok((json, axum::body::Body::from_stream(body)).into_response())
}

/// Entries of a history, as JSON, at the end of `bytes`, each after a comma unless it is
/// the array's `first`.
fn write_entries(
    bytes: &mut Vec<u8>,
    entries: Vec<Result<RegisteredCheck, RegisterError>>,
    mut first: bool,
) -> Result<(), RegisterError> {
    for entry in entries {
        let check = entry?;
        if !first {
            bytes.push(b',');
        }
        first = false;
        serde_json::to_writer(&mut *bytes, &RegisterEntry::from(&check)).map_err(|e| {
            RegisterError::unavailable_because(format!("an entry cannot be written: {e}"), e)
        })?;
    }
    Ok(())
}
