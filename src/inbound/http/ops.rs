//! How the service is watched: liveness, readiness, the metrics and the middleware that
//! counts requests into them.

use super::access::AccessRefusals;
use super::request_log::RouteName;
use super::sites::Misdirected;
use super::{ApiError, ErrorsBody, StatusBody};
use crate::application::UseCases;
use crate::metrics::Metrics;
use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Instant;

/// Read the service's metrics
///
/// Prometheus metrics: requests, upstream calls, cache lookups, X users read.
#[utoipa::path(get, path = "/metrics", tag = "operations", operation_id = "metrics",
    responses((status = 200, description = "The metrics in the Prometheus (OpenMetrics) text format", body = String,
               content_type = "application/openmetrics-text"),
               AccessRefusals, Misdirected),
    security((), ("bearer" = [])))]
pub(super) async fn metrics_text(State(metrics): State<Arc<Metrics>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.encode(),
    )
        .into_response()
}

/// Check that the process runs
///
/// Liveness: 200 while the process runs.
#[utoipa::path(get, path = "/healthz", tag = "operations", operation_id = "health",
    responses((status = 200, description = "The process runs", body = StatusBody)))]
pub(super) async fn healthz() -> Json<StatusBody> {
    Json(StatusBody {
        status: "ok".into(),
    })
}

/// Check that the register answers
///
/// Readiness: 200 when the register answers, 503 otherwise.
#[utoipa::path(get, path = "/readyz", tag = "operations", operation_id = "readiness",
    responses((status = 200, description = "The register answers", body = StatusBody),
              (status = 503, description = "The register does not answer", body = ErrorsBody)))]
pub(super) async fn readyz(State(use_cases): State<UseCases>) -> Response {
    match use_cases.ready().await {
        Ok(()) => Json(StatusBody {
            status: "ready".into(),
        })
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %crate::domain::Chain(&e), "not ready");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the register is unavailable",
            )
            .into_response()
        }
    }
}

/// Counts every routed request by its route template (never the raw path, whose handles
/// would make the label set grow without bound).
pub(super) async fn track(
    State(metrics): State<Arc<Metrics>>,
    route: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let route = route.map_or_else(|| "unmatched".to_owned(), |r| r.as_str().to_owned());
    let method = request.method().clone();
    let started = Instant::now();
    let mut response = next.run(request).await;
    metrics.request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response.extensions_mut().insert(RouteName(route));
    response
}

#[cfg(test)]
mod tests {
    use crate::inbound::http::testing::{Unreachable, app, get};
    use axum::http::StatusCode;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_register_that_cannot_write_gives_503_and_readiness_says_so() {
        let app = app(Arc::new(Unreachable)).await;
        let (status, body) = get(app.clone(), "/connected/realtime/alice/bob").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let message = body["errors"][0].as_str().unwrap();
        assert!(
            message.contains("register is unavailable") && !message.contains("disk"),
            "{message}"
        );
        let (status, _) = get(app.clone(), "/connected/register/alice/bob").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let (status, _) = get(app.clone(), "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let (status, _) = get(app, "/healthz").await;
        assert_eq!(status, StatusCode::OK);
    }
}
