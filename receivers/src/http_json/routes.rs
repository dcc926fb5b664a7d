//! The HTTP handlers: read the body, decode it, hand the points to the pipeline, answer.

use super::decode::{decode_points, decode_telemetry, Refused};
use super::labels::PointLabels;
use crate::body::{media_type, read_body, BodyError};
use crate::counters::{Outcome, ReceiverCounters};
use crate::json::JsonError;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use driftd_core::time::{now_unix_nano, rfc3339};
use driftd_core::{Batch, ConsumeError, Consumer, Point};
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;

/// The per-request telemetry route.
pub(super) const TELEMETRY: &str = "/v1/telemetry";
/// The generic points route.
pub(super) const POINTS: &str = "/v1/points";
/// Every route, as registered with the shared listener.
pub(super) const PATHS: [&str; 2] = [TELEMETRY, POINTS];

/// What the handlers share.
pub(super) struct JsonApi {
    pub receiver: String,
    pub output: Arc<dyn Consumer>,
    pub counters: ReceiverCounters,
    pub max_body: usize,
}

pub(super) fn router(state: JsonApi) -> Router {
    Router::new()
        .route(TELEMETRY, post(telemetry))
        .route(POINTS, post(points))
        .with_state(Arc::new(state))
}

/// Why a request was not taken, with its status.
enum Rejection {
    /// Not `Content-Type: application/json`: refused so that a web page cannot post
    /// here cross-site (a browser sends a form or `text/plain` without asking).
    NotJson(Option<String>),
    Body(BodyError),
    Json(JsonError),
    Pipeline(ConsumeError),
}

impl JsonApi {
    fn reject(&self, r: Rejection) -> Response {
        let (status, outcome, body) = match &r {
            Rejection::NotJson(got) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Outcome::BadRequest,
                json!({ "error": match got {
                    Some(t) => format!("unsupported Content-Type `{t}`: send `Content-Type: application/json`"),
                    None => "missing Content-Type: send `Content-Type: application/json`".to_string(),
                } }),
            ),
            Rejection::Body(e) => {
                let outcome = match e.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => Outcome::TooLarge,
                    _ => Outcome::BadRequest,
                };
                (e.status(), outcome, json!({ "error": e.to_string() }))
            }
            Rejection::Json(e @ JsonError::Syntax(_)) => (
                StatusCode::BAD_REQUEST,
                Outcome::BadRequest,
                json!({ "error": e.to_string() }),
            ),
            Rejection::Json(JsonError::Invalid { field, message }) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Outcome::BadRequest,
                json!({ "error": message, "field": field }),
            ),
            Rejection::Pipeline(e) => (
                StatusCode::SERVICE_UNAVAILABLE,
                Outcome::Unavailable,
                json!({ "error": match e {
                    ConsumeError::Full => "driftd is over capacity: retry with backoff",
                    ConsumeError::Closed => "driftd is shutting down: retry against another instance or later",
                } }),
            ),
        };
        self.counters.request(outcome);
        tracing::debug!(receiver = %self.receiver, status = status.as_u16(), error = %body["error"], "rejected a JSON request");
        let mut response = (status, Json(body)).into_response();
        if matches!(r, Rejection::Pipeline(ConsumeError::Full)) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }

    /// Reads a JSON body: its Content-Type first, then the bytes under the size limit.
    async fn read_json(&self, headers: &HeaderMap, body: Body) -> Result<Bytes, Rejection> {
        match media_type(headers) {
            Some(m) if m.eq_ignore_ascii_case("application/json") => {}
            got => return Err(Rejection::NotJson(got.map(str::to_string))),
        }
        read_body(headers, body, self.max_body).await.map_err(Rejection::Body)
    }

    /// Hands points to the pipeline and counts them.
    fn consume(&self, points: &[Point], batch: Batch<'_>) -> Result<(), Rejection> {
        if points.is_empty() {
            return Ok(());
        }
        self.output.consume(&batch).map_err(Rejection::Pipeline)?;
        self.counters.accepted.increment(points.len() as u64);
        Ok(())
    }
}

async fn telemetry(State(api): State<Arc<JsonApi>>, headers: HeaderMap, body: Body) -> Response {
    let bytes = match api.read_json(&headers, body).await {
        Ok(b) => b,
        Err(r) => return api.reject(r),
    };
    let t = match decode_telemetry(&bytes, now_unix_nano()) {
        Ok(t) => t,
        Err(e) => {
            api.counters.refused.increment(1);
            return api.reject(Rejection::Json(e));
        }
    };
    let (points, n) = t.points();
    if let Err(r) = api.consume(&points[..n], Batch::new(&points[..n], &t)) {
        return api.reject(r);
    }
    api.counters.request(Outcome::Ok);
    let answer = json!({
        "status": "accepted",
        "service_id": t.service_id,
        "timestamp": rfc3339(t.time_unix_nano),
    });
    (StatusCode::ACCEPTED, Json(answer)).into_response()
}

#[derive(Serialize)]
struct PointsAnswer<'a> {
    accepted: usize,
    rejected: usize,
    errors: Vec<PointError<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct PointError<'a> {
    index: usize,
    #[serde(skip_serializing_if = "str::is_empty")]
    field: &'a str,
    error: &'a str,
}

async fn points(State(api): State<Arc<JsonApi>>, headers: HeaderMap, body: Body) -> Response {
    let bytes = match api.read_json(&headers, body).await {
        Ok(b) => b,
        Err(r) => return api.reject(r),
    };
    let decoded = match decode_points(&bytes, now_unix_nano()) {
        Ok(d) => d,
        Err(e) => return api.reject(Rejection::Json(e)),
    };
    let points: Vec<Point> = decoded
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| p.point(i as u32))
        .collect();
    let labels = PointLabels(&decoded.points);
    if let Err(r) = api.consume(&points, Batch::new(&points, &labels)) {
        return api.reject(r);
    }
    let refused = &decoded.refused;
    api.counters.refused.increment(refused.len() as u64);
    let all_refused = points.is_empty() && !refused.is_empty();
    api.counters
        .request(if all_refused { Outcome::BadRequest } else { Outcome::Ok });
    let answer = PointsAnswer {
        accepted: points.len(),
        rejected: refused.len(),
        errors: refused
            .iter()
            .map(|Refused { index, field, message }| PointError {
                index: *index,
                field,
                error: message,
            })
            .collect(),
        error: all_refused.then(|| format!("every point was refused; the first: {}", refused[0].message)),
    };
    let status = if all_refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::ACCEPTED
    };
    (status, Json(answer)).into_response()
}
