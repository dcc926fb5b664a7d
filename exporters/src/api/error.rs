//! API errors: always JSON `{"error": "..."}` with a message that says what to change.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use driftd_core::store::StoreError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query parameter has a value the API cannot use.
    #[error("invalid `{param}`: {message}")]
    InvalidParam {
        /// The parameter's name.
        param: &'static str,
        /// What is wrong and which values are accepted.
        message: String,
    },
    /// The request is malformed in some other way.
    #[error("{0}")]
    BadRequest(String),
    /// Nothing matches what the path names.
    #[error("{0}")]
    NotFound(String),
    /// The storage backend cannot answer now.
    #[error("{0}; retry later")]
    Unavailable(#[source] StoreError),
}

impl ApiError {
    /// An invalid `param`.
    pub fn param(param: &'static str, message: impl std::fmt::Display) -> Self {
        ApiError::InvalidParam {
            param,
            message: message.to_string(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidParam { .. } | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => ApiError::Unavailable(e),
            StoreError::Rejected(message) => {
                ApiError::BadRequest(format!("the event store rejected the query: {message}"))
            }
        }
    }
}

#[derive(serde::Serialize)]
struct ErrorBody {
    error: String,
}

/// Seconds a client should wait before retrying after a 503.
const RETRY_AFTER_SECONDS: &str = "5";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = Json(ErrorBody {
            error: self.to_string(),
        });
        if status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!(error = %self, "query API: storage unavailable");
            return (status, [(header::RETRY_AFTER, RETRY_AFTER_SECONDS)], body).into_response();
        }
        (status, body).into_response()
    }
}
