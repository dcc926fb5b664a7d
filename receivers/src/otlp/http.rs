//! OTLP/HTTP: `POST /v1/metrics` with a protobuf or JSON `ExportMetricsServiceRequest`,
//! optionally gzip-compressed. Errors are `google.rpc.Status` bodies in the request's
//! encoding, as the OTLP/HTTP spec asks.

use super::status::{code, RpcStatus};
use super::wire::WireError;
use super::{export_response, ExportError, Ingest, Outcome};
use crate::body::{media_type, read_body, BodyError};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use driftd_core::ConsumeError;
use opentelemetry_proto::tonic::collector::metrics::v1::{ExportMetricsServiceRequest, ExportMetricsServiceResponse};
use prost::Message;
use std::sync::Arc;

/// The OTLP/HTTP metrics path.
pub(super) const PATH: &str = "/v1/metrics";

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

/// The route, ready to be added to a shared listener.
pub(super) fn router(ingest: Ingest, max_body: usize) -> Router {
    let state = Arc::new(HttpExport { ingest, max_body });
    Router::new().route(PATH, post(export)).with_state(state)
}

struct HttpExport {
    ingest: Ingest,
    max_body: usize,
}

/// How the request (and therefore the answer) is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

/// Why a request was turned away before reaching the pipeline.
#[derive(Debug, thiserror::Error)]
enum Rejection {
    #[error("missing Content-Type: send `application/x-protobuf` or `application/json`")]
    MissingContentType,
    #[error("unsupported Content-Type `{0}`: send `application/x-protobuf` or `application/json`")]
    UnsupportedContentType(String),
    #[error(transparent)]
    Body(#[from] BodyError),
    #[error("request body is not an OTLP ExportMetricsServiceRequest in protobuf: {0}")]
    Protobuf(#[source] WireError),
    #[error("request body is not an OTLP ExportMetricsServiceRequest in JSON: {0}")]
    Json(#[source] serde_json::Error),
}

impl Rejection {
    fn status(&self) -> StatusCode {
        match self {
            Rejection::MissingContentType | Rejection::UnsupportedContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Rejection::Body(e) => e.status(),
            Rejection::Protobuf(_) | Rejection::Json(_) => StatusCode::BAD_REQUEST,
        }
    }

    fn outcome(&self) -> Outcome {
        match self.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Outcome::TooLarge,
            _ => Outcome::BadRequest,
        }
    }

    fn rpc_code(&self) -> i32 {
        match self.status() {
            StatusCode::PAYLOAD_TOO_LARGE => code::RESOURCE_EXHAUSTED,
            _ => code::INVALID_ARGUMENT,
        }
    }
}

async fn export(State(s): State<Arc<HttpExport>>, headers: HeaderMap, body: Body) -> Response {
    // Without a usable Content-Type the error is answered in JSON, the readable one.
    let encoding = match content_type(&headers) {
        Ok(e) => e,
        Err(r) => return s.reject(Encoding::Json, r),
    };
    let request = match s.read(encoding, &headers, body).await {
        Ok(r) => r,
        Err(r) => return s.reject(encoding, r),
    };
    match s.ingest.export(&request) {
        Ok(summary) => success(encoding, &export_response(&summary)),
        // Counted and logged by the ingest already.
        Err(ExportError::Malformed(e)) => {
            let r = Rejection::Protobuf(e);
            status_reply(encoding, r.status(), r.rpc_code(), &r.to_string())
        }
        Err(ExportError::Pipeline(ConsumeError::Full)) => {
            let mut r = status_reply(
                encoding,
                StatusCode::SERVICE_UNAVAILABLE,
                code::RESOURCE_EXHAUSTED,
                "driftd is over capacity: retry with backoff",
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
        Err(ExportError::Pipeline(ConsumeError::Closed)) => status_reply(
            encoding,
            StatusCode::SERVICE_UNAVAILABLE,
            code::UNAVAILABLE,
            "driftd is shutting down",
        ),
    }
}

impl HttpExport {
    fn reject(&self, encoding: Encoding, r: Rejection) -> Response {
        self.ingest.telemetry.request(r.outcome());
        tracing::debug!(receiver = %self.ingest.receiver, error = %r, "rejected an OTLP/HTTP request");
        status_reply(encoding, r.status(), r.rpc_code(), &r.to_string())
    }

    /// The request, encoded as protobuf: JSON is parsed and re-encoded, so both take
    /// the one decoding path.
    async fn read(&self, encoding: Encoding, headers: &HeaderMap, body: Body) -> Result<Bytes, Rejection> {
        let data = read_body(headers, body, self.max_body).await?;
        match encoding {
            Encoding::Protobuf => Ok(data),
            Encoding::Json => serde_json::from_slice::<ExportMetricsServiceRequest>(&data)
                .map(|r| r.encode_to_vec().into())
                .map_err(Rejection::Json),
        }
    }
}

fn content_type(headers: &HeaderMap) -> Result<Encoding, Rejection> {
    match media_type(headers) {
        None => Err(Rejection::MissingContentType),
        Some(m) if m.eq_ignore_ascii_case(PROTOBUF) => Ok(Encoding::Protobuf),
        Some(m) if m.eq_ignore_ascii_case(JSON) => Ok(Encoding::Json),
        Some(m) => Err(Rejection::UnsupportedContentType(m.to_string())),
    }
}

fn success(encoding: Encoding, response: &ExportMetricsServiceResponse) -> Response {
    let body = match encoding {
        Encoding::Protobuf => response.encode_to_vec(),
        // `{}` rather than `{"partialSuccess":null}`, which some parsers choke on.
        Encoding::Json if response.partial_success.is_none() => b"{}".to_vec(),
        Encoding::Json => serde_json::to_vec(response).unwrap_or_else(|_| b"{}".to_vec()),
    };
    reply(encoding, StatusCode::OK, body)
}

/// A `google.rpc.Status` error body.
fn status_reply(encoding: Encoding, status: StatusCode, rpc_code: i32, message: &str) -> Response {
    let body = match encoding {
        Encoding::Protobuf => RpcStatus {
            code: rpc_code,
            message: message.to_string(),
            details: Vec::new(),
        }
        .encode_to_vec(),
        Encoding::Json => serde_json::json!({ "code": rpc_code, "message": message })
            .to_string()
            .into_bytes(),
    };
    reply(encoding, status, body)
}

fn reply(encoding: Encoding, status: StatusCode, body: Vec<u8>) -> Response {
    let content_type = match encoding {
        Encoding::Protobuf => PROTOBUF,
        Encoding::Json => JSON,
    };
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}
