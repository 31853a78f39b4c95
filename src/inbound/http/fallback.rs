//! Answers to requests no route takes: a 404 for an unknown path, a 405 for a known path
//! with the wrong method, both in the API's JSON error shape. Both cost their sender nothing
//! and can come as a flood: they are summed up in the log as refusals, not written one by one.

use super::ApiError;
use super::refusal_log::Refused;
use crate::metrics::Metrics;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use std::sync::Arc;

/// Requests that match no route are counted under one label, `unmatched`: their paths are
/// anyone's to invent and would make the label set grow without bound.
pub(super) async fn not_found(
    State(metrics): State<Arc<Metrics>>,
    method: Method,
    uri: Uri,
) -> Response {
    metrics.request("unmatched", &method, 404, std::time::Duration::ZERO);
    Refused::anonymous("no such resource").on(no_such_resource(&method, &uri))
}

pub(super) fn no_such_resource(method: &Method, uri: &Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "no such resource: {} {}",
            spoken_method(method),
            spoken_path(uri)
        ),
    )
}

pub(super) async fn method_not_allowed(
    State(metrics): State<Arc<Metrics>>,
    method: Method,
    uri: Uri,
) -> Response {
    metrics.request("unmatched", &method, 405, std::time::Duration::ZERO);
    Refused::anonymous("method not allowed").on(ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} is not allowed on {}",
            spoken_method(&method),
            spoken_path(&uri)
        ),
    ))
}

/// A method as an error message names it: an invented one can be hundreds of kilobytes,
/// which an answer has no reason to send back.
fn spoken_method(method: &Method) -> &'static str {
    match crate::metrics::method_label(method) {
        "other" => "an unknown method",
        known => known,
    }
}

/// The longest path an error message repeats; a path can be tens of kilobytes.
const SPOKEN_PATH_MAX: usize = 256;

fn spoken_path(uri: &Uri) -> String {
    let path = uri.path();
    if path.len() <= SPOKEN_PATH_MAX {
        path.to_owned()
    } else {
        format!("{}…", &path[..path.floor_char_boundary(SPOKEN_PATH_MAX)])
    }
}
