//! The two request bodies as pure functions of their bytes (and the server's clock for
//! points without a timestamp), so they can be tested and fuzzed without a server.
//!
//! - `/v1/telemetry`: `{"service_id", "latency_ms", "payload_kb"?, "timestamp"?}`; each
//!   measurement becomes a point of series `latency_ms{service.name=<service_id>}` or
//!   `payload_kb{...}`. One bad field refuses the whole request.
//! - `/v1/points`: one `{"metric", "value", "timestamp"?, "labels"?}` or an array of
//!   them; each point is taken or refused on its own, with a reason.

use crate::json::{self, finite, not_ahead, JsonError, Number};
use driftd_core::time::parse_rfc3339;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The longest `service_id` accepted, in characters.
pub const MAX_SERVICE_ID_CHARS: usize = 64;

/// A valid `/v1/telemetry` request.
#[derive(Clone, Debug, PartialEq)]
pub struct Telemetry<'a> {
    /// The service the measurements belong to.
    pub service_id: Cow<'a, str>,
    /// Request latency in milliseconds (finite, >= 0).
    pub latency_ms: f64,
    /// Payload size in KiB (finite, >= 0), when sent.
    pub payload_kb: Option<f64>,
    /// Event time: the request's `timestamp`, else the server's clock.
    pub time_unix_nano: u64,
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a JSON object such as {\"service_id\": \"api\", \"latency_ms\": 12.5}"
)]
struct RawTelemetry<'a> {
    #[serde(borrow, default)]
    service_id: Option<Cow<'a, str>>,
    #[serde(default)]
    latency_ms: Option<Number>,
    #[serde(default)]
    payload_kb: Option<Number>,
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
}

/// Decodes and checks a `/v1/telemetry` body; `now` stamps a request without a timestamp.
pub fn decode_telemetry(body: &[u8], now: u64) -> Result<Telemetry<'_>, JsonError> {
    let text = utf8(body)?;
    object_only(
        text,
        "a JSON object such as {\"service_id\": \"api\", \"latency_ms\": 12.5}",
    )?;
    let raw: RawTelemetry<'_> = json::from_str(text)?;
    let service_id = match raw.service_id {
        None => return Err(JsonError::invalid("service_id", "service_id is required")),
        Some(s) => s,
    };
    let chars = service_id.chars().count();
    if chars == 0 {
        return Err(JsonError::invalid("service_id", "service_id must not be empty"));
    }
    if chars > MAX_SERVICE_ID_CHARS {
        return Err(JsonError::invalid(
            "service_id",
            format!("service_id is {chars} characters long: at most {MAX_SERVICE_ID_CHARS} are allowed"),
        ));
    }
    let latency_ms = match raw.latency_ms {
        None => {
            return Err(JsonError::invalid(
                "latency_ms",
                "latency_ms is required (milliseconds, a number >= 0)",
            ))
        }
        Some(Number(v)) => finite("latency_ms", v, true)?,
    };
    let payload_kb = raw
        .payload_kb
        .map(|Number(v)| finite("payload_kb", v, true))
        .transpose()?;
    let time_unix_nano = timestamp("timestamp", raw.timestamp.as_deref(), now)?;
    Ok(Telemetry {
        service_id,
        latency_ms,
        payload_kb,
        time_unix_nano,
    })
}

fn utf8(body: &[u8]) -> Result<&str, JsonError> {
    std::str::from_utf8(body).map_err(|e| JsonError::Syntax(format!("it is not UTF-8: {e}")))
}

/// serde takes a struct from a JSON array too (by position); only objects are meant.
fn object_only(text: &str, expected: &str) -> Result<(), JsonError> {
    match text.trim_start().as_bytes().first() {
        Some(b'{') => Ok(()),
        None => Err(JsonError::Syntax("it is empty".to_string())),
        Some(_) => {
            // Valid JSON of the wrong shape is a 422, anything else a 400.
            serde_json::from_str::<&RawValue>(text).map_err(|e| JsonError::Syntax(e.to_string()))?;
            Err(JsonError::invalid("", format!("the body must be {expected}")))
        }
    }
}

fn timestamp(field: &str, text: Option<&str>, now: u64) -> Result<u64, JsonError> {
    match text {
        None => Ok(now),
        Some(t) => {
            let time = parse_rfc3339(t).map_err(|e| JsonError::invalid(field, format!("{field}: {e}")))?;
            not_ahead(field, time, now)
        }
    }
}

/// One valid point of a `/v1/points` request.
#[derive(Clone, Debug, PartialEq)]
pub struct PointIn<'a> {
    /// Metric name.
    pub metric: Cow<'a, str>,
    /// The value (finite).
    pub value: f64,
    /// Event time: the point's `timestamp`, else the server's clock.
    pub time_unix_nano: u64,
    /// Identifying labels, sorted by key.
    pub labels: Vec<(String, String)>,
}

/// A point of a `/v1/points` request that was refused, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// Its index in the request (0 for a single object).
    pub index: usize,
    /// The field at fault, empty when the point as a whole is.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// A decoded `/v1/points` request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Points<'a> {
    /// Valid points, in request order.
    pub points: Vec<PointIn<'a>>,
    /// Refused points, in request order.
    pub refused: Vec<Refused>,
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a point object such as {\"metric\": \"queue_depth\", \"value\": 3}"
)]
struct RawPoint<'a> {
    #[serde(borrow, default)]
    metric: Option<Cow<'a, str>>,
    #[serde(default)]
    value: Option<Number>,
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

/// Decodes a `/v1/points` body. `Err` only when the body as a whole is unusable (not
/// JSON, or neither an object nor an array); bad points are listed in `refused`.
pub fn decode_points(body: &[u8], now: u64) -> Result<Points<'_>, JsonError> {
    let text = utf8(body)?;
    let items: Vec<&RawValue> = match text.trim_start().as_bytes().first() {
        Some(b'[') => json::from_str(text)?,
        _ => {
            object_only(
                text,
                "a point object or an array of them: {\"metric\": \"queue_depth\", \"value\": 3}",
            )?;
            vec![json::from_str(text)?]
        }
    };
    let mut out = Points::default();
    for (index, item) in items.into_iter().enumerate() {
        match point(item.get(), now) {
            Ok(p) => out.points.push(p),
            Err(e) => out.refused.push(match e {
                JsonError::Invalid { field, message } => Refused { index, field, message },
                JsonError::Syntax(message) => Refused {
                    index,
                    field: String::new(),
                    message,
                },
            }),
        }
    }
    Ok(out)
}

fn point(text: &str, now: u64) -> Result<PointIn<'_>, JsonError> {
    object_only(
        text,
        "a point object such as {\"metric\": \"queue_depth\", \"value\": 3}",
    )?;
    let raw: RawPoint<'_> = json::from_str(text)?;
    let metric = match raw.metric {
        Some(m) if !m.is_empty() => m,
        Some(_) => return Err(JsonError::invalid("metric", "metric must not be empty")),
        None => return Err(JsonError::invalid("metric", "metric is required")),
    };
    let value = match raw.value {
        Some(Number(v)) => finite("value", v, false)?,
        None => return Err(JsonError::invalid("value", "value is required")),
    };
    let time_unix_nano = timestamp("timestamp", raw.timestamp.as_deref(), now)?;
    let labels: Vec<(String, String)> = raw.labels.unwrap_or_default().into_iter().collect();
    if labels.iter().any(|(k, _)| k.is_empty()) {
        return Err(JsonError::invalid("labels", "a label key must not be empty"));
    }
    Ok(PointIn {
        metric,
        value,
        time_unix_nano,
        labels,
    })
}
