//! What the router's tests share: the app over the demo graph, a register that cannot be
//! reached, and a GET read as JSON.

use super::router;
use crate::application::UseCases;
use crate::domain::{
    Grounds, HistoryPage, HistoryStream, Network, Pair, PairVerdict, Register, RegisterError,
    RegisteredCheck, Verdict,
};
use crate::outbound::upstreams::demo::DemoGraph;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

/// A register whose storage is gone.
pub struct Unreachable;

#[async_trait::async_trait]
impl Register for Unreachable {
    async fn record(
        &self,
        _: &Pair,
        _: &Verdict,
        _: Grounds,
        _: DateTime<Utc>,
    ) -> Result<RegisteredCheck, RegisterError> {
        Err(RegisterError::unavailable("disk I/O error"))
    }
    async fn record_all(
        &self,
        _: &[PairVerdict],
        _: Network,
        _: DateTime<Utc>,
    ) -> Result<(), RegisterError> {
        Err(RegisterError::unavailable("disk I/O error"))
    }
    fn stream_history(&self, _: &Pair, _: HistoryPage) -> HistoryStream {
        futures::stream::iter([Err(RegisterError::unavailable("disk I/O error"))]).boxed()
    }
    async fn ping(&self) -> Result<(), RegisterError> {
        Err(RegisterError::unavailable("disk I/O error"))
    }
}

pub async fn app(register: Arc<dyn Register>) -> Router {
    let graph = Arc::new(DemoGraph::bundled().unwrap());
    let graph_examples = graph.examples(8);
    router(
        UseCases::new(
            graph.clone(),
            graph,
            register,
            crate::domain::TestClock::at("2026-12-01T12:00:00Z"),
        ),
        Arc::default(),
        crate::application::Access::open(),
        &[],
        None,
        super::Page {
            confirm_above: 1000,
            demo: Some(graph_examples),
        },
    )
}

pub async fn get(app: Router, uri: &str) -> (StatusCode, Value) {
    let response = app
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}
