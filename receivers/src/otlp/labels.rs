//! Series identity from OTLP attributes, read straight from the request bytes and
//! shared by hashing (every point) and label materialisation (the first point of a
//! series), so both always agree.

use super::config::{IdentityConfig, MAX_RESOURCE_ATTRIBUTES};
use super::wire::{Fields, Span, Text, WireError};
use driftd_core::{Buckets, LabelSource, SeriesLabels};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::AnyValue;
use prost::Message;

/// Which series of a data point a [`driftd_core::Point`] belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Derived {
    /// The point's own value (gauge or sum).
    Value,
    /// A histogram: its buckets, count and sum (the processor derives the
    /// per-interval `_count`, `_mean` and quantile series from them).
    Distribution,
}

impl Derived {
    /// The data point field that holds the attributes: number and histogram data
    /// points number it differently.
    fn attributes_field(self) -> u32 {
        match self {
            Derived::Value => 7,
            Derived::Distribution => 9,
        }
    }
}

/// Where a point came from inside its request: what `Point::origin` indexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The `ResourceMetrics` message (its resource's attributes are read from it).
    pub resource: Span,
    /// The `Metric` message.
    pub metric: Span,
    /// The data point message.
    pub point: Span,
    /// Which derived series.
    pub derived: Derived,
}

/// Calls `f` with the text an `AnyValue` (its encoded bytes) hashes and labels as:
/// strings as they are, numbers and booleans as decimal text formatted on the stack;
/// only arrays, maps and bytes (rare in identities) are decoded into owned values.
pub fn with_text<R>(any_value: &[u8], f: impl FnOnce(Text<'_>) -> R) -> Result<R, WireError> {
    // A oneof: the last of its fields on the wire wins.
    let mut last = None;
    for field in Fields::new(any_value) {
        let field = field?;
        if (1..=8).contains(&field.number) {
            last = Some(field);
        }
    }
    let Some(field) = last else {
        return Ok(f(Text::default()));
    };
    // Numbers are formatted into these stack buffers (cheap to make: uninitialised).
    let (mut int, mut float) = (itoa::Buffer::new(), ryu::Buffer::new());
    let json;
    let text = match field.number {
        1 => field.text()?,
        2 => Text::from(if field.varint()? != 0 { "true" } else { "false" }),
        3 => Text::from(int.format(field.varint()? as i64)),
        4 => Text::from(float.format(field.double()?)),
        5..=7 => {
            let value = AnyValue::decode(any_value).map_err(|_| WireError::WrongType(field.number))?;
            json = value
                .value
                .as_ref()
                .map_or(serde_json::Value::Null, json_of)
                .to_string();
            Text::from(json.as_str())
        }
        _ => Text::default(),
    };
    Ok(f(text))
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

/// Calls `each` with the key and encoded value of every attribute (`KeyValue` field
/// `field`) of a message.
pub fn each_attribute<'a>(
    message: &'a [u8],
    field: u32,
    mut each: impl FnMut(Text<'a>, &'a [u8]) -> Result<(), WireError>,
) -> Result<(), WireError> {
    for f in Fields::new(message) {
        let f = f?;
        if f.number == field {
            let (key, value) = key_value(f.bytes()?)?;
            each(key, value)?;
        }
    }
    Ok(())
}

/// The key and encoded `AnyValue` of an encoded `KeyValue`.
pub fn key_value(kv: &[u8]) -> Result<(Text<'_>, &[u8]), WireError> {
    let (mut key, mut value) = (Text::default(), &[][..]);
    for f in Fields::new(kv) {
        let f = f?;
        match f.number {
            1 => key = f.text()?,
            2 => value = f.bytes()?,
            _ => {}
        }
    }
    Ok((key, value))
}

/// The identity rules applied to the points of one resource.
#[derive(Clone, Copy)]
pub struct Selection<'a> {
    identity: &'a IdentityConfig,
    /// Which of `identity.resource_attributes` the resource carries (bit = index).
    on_resource: u64,
}

impl<'a> Selection<'a> {
    /// The rules for points under a `ResourceMetrics` (encoded); calls `each` with
    /// every attribute of its resource that identifies the series, in the order sent
    /// (a resource sent twice merges, as protobuf says).
    pub fn new(
        identity: &'a IdentityConfig,
        resource_metrics: &[u8],
        mut each: impl FnMut(Text<'_>, &[u8]) -> Result<(), WireError>,
    ) -> Result<Self, WireError> {
        let mut on_resource = 0u64;
        for f in Fields::new(resource_metrics) {
            let f = f?;
            if f.number != 1 {
                continue;
            }
            each_attribute(f.bytes()?, 1, |key, value| {
                match identity.resource_index(key) {
                    Some(i) if i < MAX_RESOURCE_ATTRIBUTES => on_resource |= 1 << i,
                    _ => return Ok(()),
                }
                each(key, value)
            })?;
        }
        Ok(Selection { identity, on_resource })
    }

    /// Whether a point attribute is part of the identity. A key the resource already
    /// contributes is left out, so a series never carries one label twice.
    pub fn selects_point(&self, key: Text<'_>) -> bool {
        let on_resource = |i: usize| self.on_resource & (1 << i) != 0;
        self.identity.point_attributes.selects(key) && !self.identity.resource_index(key).is_some_and(on_resource)
    }
}

/// Materialises labels (and histogram buckets) for the points decoded from one request.
pub struct RequestLabels<'a> {
    request: &'a [u8],
    origins: &'a [Origin],
    identity: &'a IdentityConfig,
}

impl<'a> RequestLabels<'a> {
    /// Labels for points whose `origin` indexes `origins`, decoded from `request`.
    pub fn new(request: &'a [u8], origins: &'a [Origin], identity: &'a IdentityConfig) -> Self {
        RequestLabels {
            request,
            origins,
            identity,
        }
    }

    fn origin(&self, origin: u32) -> Option<&Origin> {
        self.origins.get(origin as usize)
    }

    fn try_labels(&self, o: &Origin) -> Result<SeriesLabels, WireError> {
        let owned =
            |key: Text<'_>, value: &[u8]| with_text(value, |v| (key.as_str().to_string(), v.as_str().to_string()));
        let mut labels = Vec::new();
        let selection = Selection::new(self.identity, o.resource.in_request(self.request), |k, v| {
            labels.push(owned(k, v)?);
            Ok(())
        })?;
        let point = o.point.in_request(self.request);
        each_attribute(point, o.derived.attributes_field(), |k, v| {
            if selection.selects_point(k) {
                labels.push(owned(k, v)?);
            }
            Ok(())
        })?;
        let mut name = "";
        for f in Fields::new(o.metric.in_request(self.request)) {
            let f = f?;
            if f.number == 1 {
                name = f.text()?.as_str();
            }
        }
        Ok(SeriesLabels::new(name, labels))
    }
}

/// Reads the buckets, sum and start time of an encoded `HistogramDataPoint`; a point
/// without buckets gives one count, its total.
pub fn read_buckets(point: &[u8], out: &mut Buckets) -> Result<(), WireError> {
    let mut count = 0;
    for f in Fields::new(point) {
        let f = f?;
        match f.number {
            2 => out.start_time_unix_nano = f.fixed64()?,
            4 => count = f.fixed64()?,
            5 => out.sum = Some(f.double()?).filter(|s| super::decode::usable_sum(*s)),
            6 => f.each_fixed64(|c| out.counts.push(c))?,
            7 => f.each_fixed64(|b| out.bounds.push(f64::from_bits(b)))?,
            _ => {}
        }
    }
    if out.counts.is_empty() {
        out.counts.push(count);
    }
    Ok(())
}

impl LabelSource for RequestLabels<'_> {
    fn labels(&self, origin: u32) -> SeriesLabels {
        // Origins come from decoding this very request, so a miss is a bug here; an
        // empty identity is safer than a panic on the ingest path.
        match self.origin(origin).map(|o| self.try_labels(o)) {
            Some(Ok(labels)) => labels,
            _ => {
                tracing::error!(origin, "OTLP point origin does not resolve in its request");
                SeriesLabels::new(String::new(), Vec::new())
            }
        }
    }

    fn buckets(&self, origin: u32, out: &mut Buckets) -> bool {
        out.clear();
        match self.origin(origin) {
            Some(o) if o.derived == Derived::Distribution => {
                read_buckets(o.point.in_request(self.request), out).is_ok()
            }
            _ => false,
        }
    }
}
