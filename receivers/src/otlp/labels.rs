//! Series identity from OTLP attributes, shared by hashing (every point) and label
//! materialisation (the first point of a series), so both always agree.

use super::config::IdentityConfig;
use driftd_core::{LabelSource, SeriesLabels};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;

/// Which series of a data point a [`driftd_core::Point`] belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Derived {
    /// The point's own value (gauge or sum).
    Value,
    /// A histogram's `<name>_count`.
    HistogramCount,
    /// A histogram's `<name>_mean` (sum / count).
    HistogramMean,
}

impl Derived {
    /// The suffix appended to the metric name.
    pub fn suffix(self) -> &'static str {
        match self {
            Derived::Value => "",
            Derived::HistogramCount => "_count",
            Derived::HistogramMean => "_mean",
        }
    }
}

/// Where a point came from inside its request: what `Point::origin` indexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    /// Index into `resource_metrics`.
    pub resource: u32,
    /// Index into that resource's `scope_metrics`.
    pub scope: u32,
    /// Index into that scope's `metrics`.
    pub metric: u32,
    /// Index into that metric's data points.
    pub point: u32,
    /// Which derived series.
    pub derived: Derived,
}

/// Calls `f` with the text an attribute value hashes and labels as: strings as they
/// are, numbers and booleans as decimal text formatted on the stack; only arrays,
/// maps and bytes (rare in identities) allocate.
pub fn with_text<R>(value: Option<&AnyValue>, f: impl FnOnce(&str) -> R) -> R {
    match value.and_then(|v| v.value.as_ref()) {
        None | Some(Value::StringValueStrindex(_)) => f(""),
        Some(Value::StringValue(s)) => f(s),
        Some(Value::BoolValue(b)) => f(if *b { "true" } else { "false" }),
        Some(Value::IntValue(i)) => f(itoa::Buffer::new().format(*i)),
        Some(Value::DoubleValue(d)) => f(ryu::Buffer::new().format(*d)),
        Some(other) => f(&json_of(other).to_string()),
    }
}

/// Arrays and maps as plain JSON (`["a",1]`, `{"k":"v"}`); map keys come out sorted,
/// so the text does not depend on the order the sender used.
fn json_of(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    let any = |v: &AnyValue| v.value.as_ref().map_or(J::Null, json_of);
    match value {
        Value::StringValue(s) => J::String(s.clone()),
        Value::BoolValue(b) => J::Bool(*b),
        Value::IntValue(i) => J::from(*i),
        Value::DoubleValue(d) => serde_json::Number::from_f64(*d).map_or(J::Null, J::Number),
        Value::ArrayValue(a) => J::Array(a.values.iter().map(any).collect()),
        Value::KvlistValue(kv) => J::Object(
            kv.values
                .iter()
                .map(|e| (e.key.clone(), e.value.as_ref().map_or(J::Null, any)))
                .collect(),
        ),
        Value::BytesValue(b) => J::String(b.iter().map(|x| format!("{x:02x}")).collect()),
        Value::StringValueStrindex(_) => J::Null,
    }
}

/// The identity rules applied to the points of one resource.
#[derive(Clone, Copy)]
pub struct Selection<'a> {
    identity: &'a IdentityConfig,
    resource: &'a [KeyValue],
}

impl<'a> Selection<'a> {
    /// The rules for points under a resource with these attributes.
    pub fn new(identity: &'a IdentityConfig, resource: &'a [KeyValue]) -> Self {
        Selection { identity, resource }
    }

    /// The resource attributes that identify the series, in the order sent.
    pub fn resource_labels(&self) -> impl Iterator<Item = &'a KeyValue> + 'a {
        let identity = self.identity;
        self.resource
            .iter()
            .filter(move |kv| identity.selects_resource(&kv.key))
    }

    /// Whether a point attribute is part of the identity. A key the resource already
    /// contributes is left out, so a series never carries one label twice.
    pub fn selects_point(&self, key: &str) -> bool {
        self.identity.point_attributes.selects(key)
            && !(self.identity.selects_resource(key) && self.resource.iter().any(|kv| kv.key == key))
    }
}

/// Materialises labels for the points decoded from one request.
pub struct RequestLabels<'a> {
    request: &'a ExportMetricsServiceRequest,
    origins: &'a [Origin],
    identity: &'a IdentityConfig,
}

impl<'a> RequestLabels<'a> {
    /// Labels for points whose `origin` indexes `origins`, decoded from `request`.
    pub fn new(request: &'a ExportMetricsServiceRequest, origins: &'a [Origin], identity: &'a IdentityConfig) -> Self {
        RequestLabels {
            request,
            origins,
            identity,
        }
    }

    fn try_labels(&self, origin: u32) -> Option<SeriesLabels> {
        let o = self.origins.get(origin as usize)?;
        let rm = self.request.resource_metrics.get(o.resource as usize)?;
        let metric = rm.scope_metrics.get(o.scope as usize)?.metrics.get(o.metric as usize)?;
        let attributes = match metric.data.as_ref()? {
            Data::Gauge(g) => &g.data_points.get(o.point as usize)?.attributes,
            Data::Sum(s) => &s.data_points.get(o.point as usize)?.attributes,
            Data::Histogram(h) => &h.data_points.get(o.point as usize)?.attributes,
            Data::ExponentialHistogram(_) | Data::Summary(_) => return None,
        };
        let resource = rm.resource.as_ref().map_or(&[][..], |r| &r.attributes);
        let selection = Selection::new(self.identity, resource);
        let owned = |kv: &KeyValue| (kv.key.clone(), with_text(kv.value.as_ref(), str::to_string));
        let labels = selection
            .resource_labels()
            .map(owned)
            .chain(
                attributes
                    .iter()
                    .filter(|kv| selection.selects_point(&kv.key))
                    .map(owned),
            )
            .collect();
        let name = format!("{}{}", metric.name, o.derived.suffix());
        Some(SeriesLabels::new(name, labels))
    }
}

impl LabelSource for RequestLabels<'_> {
    fn labels(&self, origin: u32) -> SeriesLabels {
        // Origins come from decoding this very request, so a miss is a bug here; an
        // empty identity is safer than a panic on the ingest path.
        self.try_labels(origin).unwrap_or_else(|| {
            tracing::error!(origin, "OTLP point origin does not resolve in its request");
            SeriesLabels::new(String::new(), Vec::new())
        })
    }
}
