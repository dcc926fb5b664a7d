//! Kafka message payloads → points, as functions of the bytes (plus the time to stamp
//! an event that carries none, and the clock an `event_time` may not run ahead of), so
//! they can be tested and fuzzed alone.
//!
//! - `json`: one event `{"source_id", "metric", "value", "event_time"?, "event_id"?}`,
//!   series `<metric>{service.name=<source_id>}`. Without `event_time` the message's
//!   own Kafka timestamp is used.
//! - `otlp_proto` / `otlp_json`: an `ExportMetricsServiceRequest`, mapped exactly as the
//!   `otlp` receiver maps it.

use crate::json::{self, finite, not_ahead, JsonError, Number};
use crate::otlp::WireError;
use driftd_core::model::SeriesHasher;
use driftd_core::time::parse_rfc3339;
use driftd_core::{LabelSource, Point, SeriesLabels, ValueKind, SERVICE_LABEL};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use prost::Message;
use serde::Deserialize;
use std::borrow::Cow;

/// One valid `json` event.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonEvent<'a> {
    /// The source (service) it belongs to.
    pub source_id: Cow<'a, str>,
    /// Metric name.
    pub metric: Cow<'a, str>,
    /// The value (finite).
    pub value: f64,
    /// Event time, nanoseconds since the epoch.
    pub time_unix_nano: u64,
    /// The sender's id for the event, for deduplication.
    pub event_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an event object such as {\"source_id\": \"api\", \"metric\": \"latency_ms\", \"value\": 12.5, \"event_time\": \"2026-01-12T10:30:45Z\"}"
)]
struct RawEvent<'a> {
    #[serde(borrow, default)]
    source_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    metric: Option<Cow<'a, str>>,
    #[serde(default)]
    value: Option<Number>,
    #[serde(borrow, default)]
    event_time: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    event_id: Option<Cow<'a, str>>,
}

/// Decodes one `json` event; `fallback_time` stamps an event without `event_time`.
pub fn decode_json_event(payload: &[u8], fallback_time: u64) -> Result<JsonEvent<'_>, JsonError> {
    let text = std::str::from_utf8(payload).map_err(|e| JsonError::Syntax(format!("not UTF-8: {e}")))?;
    let raw: RawEvent<'_> = json::from_str(text)?;
    let source_id = required(raw.source_id, "source_id")?;
    let metric = required(raw.metric, "metric")?;
    let value = match raw.value {
        Some(Number(v)) => finite("value", v, false)?,
        None => return Err(JsonError::invalid("value", "value is required")),
    };
    let time_unix_nano = match raw.event_time.as_deref() {
        Some(t) => {
            let time = parse_rfc3339(t).map_err(|e| JsonError::invalid("event_time", format!("event_time: {e}")))?;
            not_ahead("event_time", time, driftd_core::time::now_unix_nano())?
        }
        None => fallback_time,
    };
    Ok(JsonEvent {
        source_id,
        metric,
        value,
        time_unix_nano,
        event_id: raw.event_id.filter(|id| !id.is_empty()),
    })
}

fn required<'a>(v: Option<Cow<'a, str>>, field: &str) -> Result<Cow<'a, str>, JsonError> {
    match v {
        Some(s) if !s.is_empty() => Ok(s),
        Some(_) => Err(JsonError::invalid(field, format!("{field} must not be empty"))),
        None => Err(JsonError::invalid(field, format!("{field} is required"))),
    }
}

impl JsonEvent<'_> {
    /// The event as a point (its series hashed from metric and source).
    pub fn point(&self) -> Point {
        let mut h = SeriesHasher::new(&*self.metric);
        h.label(SERVICE_LABEL, &*self.source_id);
        Point {
            series: h.finish(),
            time_unix_nano: self.time_unix_nano,
            value: self.value,
            kind: ValueKind::Gauge,
            origin: 0,
        }
    }
}

impl LabelSource for JsonEvent<'_> {
    fn labels(&self, _origin: u32) -> SeriesLabels {
        SeriesLabels::new(
            self.metric.to_string(),
            vec![(SERVICE_LABEL.to_string(), self.source_id.to_string())],
        )
    }
}

/// Why an OTLP payload did not decode.
#[derive(Debug, thiserror::Error)]
pub enum OtlpDecodeError {
    /// Not an `ExportMetricsServiceRequest` in protobuf.
    #[error("not an OTLP ExportMetricsServiceRequest in protobuf: {0}")]
    Protobuf(#[from] WireError),
    /// Not an `ExportMetricsServiceRequest` in OTLP/JSON.
    #[error("not an OTLP ExportMetricsServiceRequest in JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but not an object.
    #[error("not an OTLP ExportMetricsServiceRequest in JSON: expected an object")]
    NotAnObject,
}

/// Parses an `otlp_json` payload into the protobuf encoding the OTLP decoder reads
/// (`otlp_proto` payloads go to it as they are).
pub fn decode_otlp_json(payload: &[u8]) -> Result<Vec<u8>, OtlpDecodeError> {
    // serde would also take a struct from an array, by position.
    if payload.trim_ascii_start().first() != Some(&b'{') {
        return Err(OtlpDecodeError::NotAnObject);
    }
    let request: ExportMetricsServiceRequest = serde_json::from_slice(payload)?;
    Ok(request.encode_to_vec())
}
