//! Handlers tested in-process through the router, over a fixed series table and the
//! real memory store.

mod events;
mod incidents;
mod series;

use super::*;
use crate::storage::conformance::{sample_event, BASE_TIME};
use crate::storage::memory::MemoryStore;
use crate::testing::{context, http_get, serve, snapshot, views};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use driftd_core::store::{EventPage, EventQuery, StoreError};
use driftd_core::view::{SeriesSnapshot, SeriesState};
use driftd_core::{DriftEvent, EventKind};
use serde_json::{json, Value};
use std::num::NonZeroUsize;
use tower::ServiceExt;

const SECOND: u64 = 1_000_000_000;

fn table() -> Vec<SeriesSnapshot> {
    vec![
        snapshot("payload_kb", &[("service.name", "checkout")], SeriesState::Stable),
        snapshot(
            "latency_ms",
            &[("service.name", "checkout")],
            SeriesState::DriftDetected,
        ),
        snapshot("latency_ms", &[("service.name", "search")], SeriesState::Stable),
        snapshot(
            "queue_depth",
            &[("service.name", "batch")],
            SeriesState::InsufficientData,
        ),
        snapshot("errors", &[("service.name", "batch")], SeriesState::InsufficientData),
        snapshot("cpu", &[("host", "a")], SeriesState::Stable),
    ]
}

fn events() -> Vec<DriftEvent> {
    vec![
        sample_event("latency_ms", "checkout", EventKind::DriftStart, BASE_TIME),
        sample_event("latency_ms", "checkout", EventKind::DriftEnd, BASE_TIME + 60 * SECOND),
        sample_event("latency_ms", "search", EventKind::DriftStart, BASE_TIME + 120 * SECOND),
    ]
}

async fn app_with(store: Arc<dyn Store>) -> Router {
    app_with_auth(store, None)
}

fn app_with_auth(store: Arc<dyn Store>, auth: Option<&BearerAuth>) -> Router {
    router(
        Arc::new(ApiState {
            views: views(table(), 1_234),
            store,
            started_at: SystemTime::now(),
            running: Default::default(),
        }),
        auth,
    )
}

#[tokio::test]
async fn with_a_bearer_token_every_route_but_health_needs_it() {
    let auth: BearerAuth = serde_yaml::from_str("bearer_token: t0ken-t0ken-t0ken-t0ken").expect("auth");
    let app = app_with_auth(
        Arc::new(MemoryStore::new(NonZeroUsize::new(10).expect("non-zero"))),
        Some(&auth),
    );
    let send = |uri: &str, token: Option<&str>| {
        let mut request = Request::builder().uri(uri);
        if let Some(t) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        app.clone().oneshot(request.body(Body::empty()).expect("request"))
    };
    assert_eq!(send("/health", None).await.expect("health").status(), StatusCode::OK);
    let denied = send("/v1/series", None).await.expect("series");
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(denied.headers()[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(
        send("/v1/series", Some("wrong")).await.expect("series").status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send("/v1/series", Some("t0ken-t0ken-t0ken-t0ken"))
            .await
            .expect("series")
            .status(),
        StatusCode::OK
    );
}

async fn app() -> Router {
    let store = MemoryStore::new(NonZeroUsize::new(100).expect("non-zero"));
    store.append_events(&events()).await.expect("appends");
    app_with(Arc::new(store)).await
}

async fn call(app: &Router, method: Method, uri: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
    assert_eq!(
        content_type.as_ref().and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "{uri}"
    );
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, serde_json::from_slice(&bytes).expect("JSON body"))
}

async fn get_json(app: &Router, uri: &str) -> (StatusCode, Value) {
    call(app, Method::GET, uri).await
}

/// An error response: its status and message.
async fn error(app: &Router, uri: &str) -> (StatusCode, String) {
    let (status, body) = get_json(app, uri).await;
    let message = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{uri}: no error in {body}"));
    (status, message.to_string())
}

/// A backend that is down.
struct Down;

#[async_trait::async_trait]
impl Store for Down {
    fn backend(&self) -> &'static str {
        "down"
    }
    async fn append_events(&self, _: &[DriftEvent]) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn events(&self, _: &EventQuery) -> Result<EventPage, StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn acknowledge(&self, _: &str) -> Result<bool, StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
}
