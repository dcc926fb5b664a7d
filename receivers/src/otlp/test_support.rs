//! Shared test fixtures: OTLP request builders, a recording consumer, a build context
//! and a counter recorder.

use super::config::IdentityConfig;
use super::labels::RequestLabels;
use super::{decode, DecodeSummary, WireError};
use driftd_core::component::BuildContext;
use driftd_core::store::{EventPage, EventQuery, Store, StoreError};
use driftd_core::{Batch, ConsumeError, Consumer, DriftEvent, LabelSource, Point, SeriesLabels};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyInner;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge as OtlpGauge, Histogram as OtlpHistogram, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// A fixed, non-zero event time.
pub const T: u64 = 1_768_213_845_000_000_000;

pub fn string(key: &str, v: &str) -> KeyValue {
    attr(key, AnyInner::StringValue(v.to_string()))
}

pub fn int(key: &str, v: i64) -> KeyValue {
    attr(key, AnyInner::IntValue(v))
}

pub fn attr(key: &str, v: AnyInner) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

pub fn number(time: u64, v: f64, attributes: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint {
        attributes,
        time_unix_nano: time,
        value: Some(Value::AsDouble(v)),
        ..Default::default()
    }
}

pub fn gauge(name: &str, points: Vec<NumberDataPoint>) -> Metric {
    metric(name, Data::Gauge(OtlpGauge { data_points: points }))
}

pub fn sum(name: &str, monotonic: bool, t: AggregationTemporality, points: Vec<NumberDataPoint>) -> Metric {
    metric(
        name,
        Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: t as i32,
            is_monotonic: monotonic,
        }),
    )
}

pub fn histogram(name: &str, t: AggregationTemporality, points: Vec<HistogramDataPoint>) -> Metric {
    metric(
        name,
        Data::Histogram(OtlpHistogram {
            data_points: points,
            aggregation_temporality: t as i32,
        }),
    )
}

pub fn histogram_point(count: u64, sum: Option<f64>, attributes: Vec<KeyValue>) -> HistogramDataPoint {
    HistogramDataPoint {
        attributes,
        time_unix_nano: T,
        count,
        sum,
        ..Default::default()
    }
}

pub fn metric(name: &str, data: Data) -> Metric {
    Metric {
        name: name.to_string(),
        data: Some(data),
        ..Default::default()
    }
}

pub fn request(resource: Vec<KeyValue>, metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// Two good gauge points and one NaN, from service `api`.
pub fn request_with_one_nan() -> ExportMetricsServiceRequest {
    request(
        vec![string("service.name", "api")],
        vec![gauge(
            "latency",
            vec![
                number(T, 1.5, vec![string("route", "/a")]),
                number(T, 2.5, vec![string("route", "/b")]),
                number(T, f64::NAN, vec![string("route", "/c")]),
            ],
        )],
    )
}

/// Decodes with `identity`, returning each point with its materialised labels.
pub fn run_with(
    req: &ExportMetricsServiceRequest,
    identity: &IdentityConfig,
) -> (Vec<(Point, SeriesLabels)>, DecodeSummary) {
    let bytes = req.encode_to_vec();
    let (mut points, mut origins) = (Vec::new(), Vec::new());
    let summary = decode(&bytes, identity, &mut points, &mut origins).expect("a prost-encoded request decodes");
    assert_eq!(points.len(), origins.len());
    assert_eq!(summary.accepted, points.len() as u64);
    let labels = RequestLabels::new(&bytes, &origins, identity);
    let out = points.iter().map(|p| (*p, labels.labels(p.origin))).collect();
    (out, summary)
}

/// Decodes encoded request bytes with the default identity.
pub fn run_bytes(bytes: &[u8]) -> Result<(Vec<(Point, SeriesLabels)>, DecodeSummary), WireError> {
    let identity = IdentityConfig::default();
    let (mut points, mut origins) = (Vec::new(), Vec::new());
    let summary = decode(bytes, &identity, &mut points, &mut origins)?;
    let labels = RequestLabels::new(bytes, &origins, &identity);
    Ok((points.iter().map(|p| (*p, labels.labels(p.origin))).collect(), summary))
}

/// A length-delimited field `number` holding `body`.
pub fn field(number: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![(number << 3) | 2];
    prost::encoding::encode_varint(body.len() as u64, &mut out);
    out.extend_from_slice(body);
    out
}

/// Decodes with the default identity.
pub fn run(req: &ExportMetricsServiceRequest) -> (Vec<(Point, SeriesLabels)>, DecodeSummary) {
    run_with(req, &IdentityConfig::default())
}

/// Resource attributes of service `api`, with a pid that must not split series.
pub fn service() -> Vec<KeyValue> {
    vec![string("service.name", "api"), int("process.pid", 4242)]
}

/// Records every point with its materialised labels.
#[derive(Default)]
pub struct Recorded {
    pub points: Mutex<Vec<(Point, SeriesLabels)>>,
}

impl Recorded {
    pub fn take(&self) -> Vec<(Point, SeriesLabels)> {
        std::mem::take(&mut *self.points.lock().unwrap())
    }
}

impl Consumer for Recorded {
    fn consume(&self, batch: &Batch<'_>) -> Result<(), ConsumeError> {
        let mut out = self.points.lock().unwrap();
        out.extend(batch.points.iter().map(|p| (*p, batch.labels.labels(p.origin))));
        Ok(())
    }
}

/// A pipeline that is always over capacity.
pub struct Full;

impl Consumer for Full {
    fn consume(&self, _: &Batch<'_>) -> Result<(), ConsumeError> {
        Err(ConsumeError::Full)
    }
}

struct NoStore;

#[async_trait::async_trait]
impl Store for NoStore {
    fn backend(&self) -> &'static str {
        "none"
    }
    async fn append_events(&self, _: &[DriftEvent]) -> Result<(), StoreError> {
        Ok(())
    }
    async fn events(&self, _: &EventQuery) -> Result<EventPage, StoreError> {
        Ok(EventPage::default())
    }
    async fn acknowledge(&self, _: &str) -> Result<bool, StoreError> {
        Ok(false)
    }
}

pub fn build_context() -> BuildContext {
    BuildContext {
        store: Arc::new(NoStore),
        views: Default::default(),
        http: Default::default(),
        limits: Default::default(),
        memory: Default::default(),
        listeners: Vec::new(),
        tasks: Vec::new(),
        durability: Default::default(),
        started_at: SystemTime::now(),
        running: Default::default(),
    }
}

/// A `metrics` recorder that keeps counters by `name{label=value,...}` (labels sorted).
#[derive(Default)]
pub struct Counters {
    counters: Mutex<BTreeMap<String, Arc<AtomicU64>>>,
}

impl Counters {
    pub fn get(&self, key: &str) -> u64 {
        self.counters
            .lock()
            .unwrap()
            .get(key)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    pub fn keys(&self) -> Vec<String> {
        self.counters.lock().unwrap().keys().cloned().collect()
    }
}

impl Recorder for Counters {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let mut labels: Vec<String> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
        labels.sort();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        let c = self.counters.lock().unwrap().entry(name).or_default().clone();
        Counter::from_arc(c)
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}
