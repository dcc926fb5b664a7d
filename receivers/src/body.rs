//! Reading an HTTP request body under a size limit, gzip or not: shared by every HTTP
//! receiver so each limit is enforced the same way (as sent and once decompressed).

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use bytes::Bytes;
use flate2::read::MultiGzDecoder;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::io::Read;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// A Content-Encoding other than gzip or identity.
    #[error("unsupported Content-Encoding `{0}`: send `gzip` or no Content-Encoding")]
    UnsupportedEncoding(String),
    /// More bytes than the limit were sent.
    #[error("request body is larger than {0} bytes (raise `max_request_body_size` or send smaller batches)")]
    TooLarge(usize),
    /// The gzip body inflates past the limit.
    #[error(
        "decompressed request body is larger than {0} bytes (raise `max_request_body_size` or send smaller batches)"
    )]
    DecompressedTooLarge(usize),
    /// The body says gzip but is not.
    #[error("request body is not valid gzip: {0}")]
    Gzip(#[source] std::io::Error),
    /// The connection failed while reading.
    #[error("could not read the request body: {0}")]
    Read(String),
}

impl BodyError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            BodyError::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            BodyError::TooLarge(_) | BodyError::DecompressedTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::Gzip(_) | BodyError::Read(_) => StatusCode::BAD_REQUEST,
        }
    }
}

/// The media type a request's Content-Type names, without its parameters
/// (`application/json; charset=utf-8` gives `application/json`); `None` when the header
/// is missing or not visible ASCII.
pub fn media_type(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or("").trim())
}

/// Reads the body (inflating gzip), never holding more than `limit` bytes of it.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let gzip = content_encoding_is_gzip(headers)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge(limit));
    }
    let raw = read_limited(body, limit).await?;
    if gzip {
        Ok(Bytes::from(gunzip(&raw, limit)?))
    } else {
        Ok(raw)
    }
}

fn content_encoding_is_gzip(headers: &HeaderMap) -> Result<bool, BodyError> {
    let Some(value) = headers.get(header::CONTENT_ENCODING) else {
        return Ok(false);
    };
    let text = value.to_str().unwrap_or("").trim();
    if text.eq_ignore_ascii_case("gzip") {
        Ok(true)
    } else if text.is_empty() || text.eq_ignore_ascii_case("identity") {
        Ok(false)
    } else {
        Err(BodyError::UnsupportedEncoding(text.to_string()))
    }
}

/// Reads the body, stopping as soon as it passes `limit` (a missing or lying
/// Content-Length cannot make us buffer more).
async fn read_limited(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(BodyError::TooLarge(limit)),
        Err(e) => Err(BodyError::Read(e.to_string())),
    }
}

/// Decompresses at most `limit` bytes, so a gzip bomb costs `limit` bytes, not memory.
pub fn gunzip(data: &[u8], limit: usize) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::with_capacity(data.len().saturating_mul(4).min(limit));
    MultiGzDecoder::new(data)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(BodyError::Gzip)?;
    if out.len() > limit {
        return Err(BodyError::DecompressedTooLarge(limit));
    }
    Ok(out)
}
