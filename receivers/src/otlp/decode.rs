//! `ExportMetricsServiceRequest` → [`Point`]s: a pure walk of resource → scope →
//! metric → data point that hashes each series' identity on the fly and allocates
//! nothing per point (labels are built later, and only for new series, through
//! [`RequestLabels`](super::labels::RequestLabels)).
//!
//! Mapping:
//! - Gauge → [`ValueKind::Gauge`].
//! - Sum: monotonic and cumulative → [`ValueKind::CumulativeCounter`] (the processor
//!   turns it into a rate); any other sum → `Gauge`.
//! - Histogram → `<name>_count` (`CumulativeCounter` when cumulative, `Gauge` when
//!   delta) and `<name>_mean` = sum / count (`Gauge`, when the sum is present and the
//!   count is positive). For a cumulative histogram the mean is the mean since
//!   `start_time_unix_nano`, so it reacts slowly; drift of the bucket distribution
//!   itself is a later addition.
//! - Exponential histograms and summaries are refused for now.

use super::config::IdentityConfig;
use super::labels::{with_text, Derived, Origin, Selection};
use driftd_core::model::{LabelHash, SeriesHasher};
use driftd_core::{Point, ValueKind};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, DataPointFlags, HistogramDataPoint, Metric, NumberDataPoint,
};
use std::fmt;

/// Why a data point was not fed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The value is NaN.
    NaN,
    /// The value is +/- infinity.
    Infinite,
    /// `time_unix_nano` is 0.
    MissingTime,
    /// A number point with neither `as_double` nor `as_int`.
    NoValue,
    /// The point carries the no-recorded-value flag (a staleness marker).
    NoRecordedValue,
    /// The metric's name is empty.
    EmptyName,
    /// A histogram's sum is NaN or infinite; its `_count` was still kept.
    HistogramSumNotFinite,
    /// A metric type driftd does not read yet.
    Unsupported(&'static str),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NaN => f.write_str("value is NaN"),
            Refusal::Infinite => f.write_str("value is infinite"),
            Refusal::MissingTime => f.write_str("missing time_unix_nano"),
            // JSON senders land here too with `"asDouble": "NaN"` or `null`, which
            // OTLP/JSON decoding leaves as no value.
            Refusal::NoValue => f.write_str("number data point has no numeric value"),
            Refusal::NoRecordedValue => f.write_str("data point is flagged as having no recorded value"),
            Refusal::EmptyName => f.write_str("metric name is empty"),
            Refusal::HistogramSumNotFinite => {
                f.write_str("histogram sum is NaN or infinite (only its `_count` was kept)")
            }
            Refusal::Unsupported(kind) => write!(f, "{kind} metrics are not supported yet"),
        }
    }
}

/// What decoding one request did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecodeSummary {
    /// Points appended (a histogram data point gives up to two).
    pub accepted: u64,
    /// Data points refused.
    pub refused: u64,
    /// The first refusal, with the metric it hit, for OTLP `partial_success`.
    pub first_refusal: Option<String>,
}

impl DecodeSummary {
    fn refuse(&mut self, metric: &str, reason: Refusal, points: usize) {
        if points == 0 {
            return;
        }
        self.refused += points as u64;
        if self.first_refusal.is_none() {
            self.first_refusal = Some(if metric.is_empty() {
                reason.to_string()
            } else {
                format!("{reason} (metric `{metric}`)")
            });
        }
    }

    /// The OTLP `partial_success.error_message`: how many were refused and the first reason.
    pub fn error_message(&self) -> String {
        let first = self.first_refusal.as_deref().unwrap_or("no reason recorded");
        format!("{} data point(s) refused; first: {first}", self.refused)
    }
}

/// Appends the points of `request` to `points` and their origins to `origins` (a
/// point's `origin` indexes `origins`). Both vectors are reused across requests.
pub fn decode(
    request: &ExportMetricsServiceRequest,
    identity: &IdentityConfig,
    points: &mut Vec<Point>,
    origins: &mut Vec<Origin>,
) -> DecodeSummary {
    let mut out = Sink {
        points,
        origins,
        summary: DecodeSummary::default(),
    };
    // Protobuf messages stay below 2 GiB, so every index fits in a u32.
    for (ri, rm) in request.resource_metrics.iter().enumerate() {
        let resource = rm.resource.as_ref().map_or(&[][..], |r| &r.attributes);
        let selection = Selection::new(identity, resource);
        let mut resource_hash = SeriesHasher::new("");
        for kv in selection.resource_labels() {
            with_text(kv.value.as_ref(), |v| resource_hash.label(&kv.key, v));
        }
        let resource_hash = resource_hash.label_hash();
        for (si, sm) in rm.scope_metrics.iter().enumerate() {
            for (mi, metric) in sm.metrics.iter().enumerate() {
                let at = MetricAt {
                    metric,
                    selection,
                    resource_hash,
                    resource: ri as u32,
                    scope: si as u32,
                    metric_index: mi as u32,
                };
                out.metric(&at);
            }
        }
    }
    out.summary
}

/// One metric and where it sits in the request.
struct MetricAt<'a> {
    metric: &'a Metric,
    selection: Selection<'a>,
    resource_hash: LabelHash,
    resource: u32,
    scope: u32,
    metric_index: u32,
}

impl MetricAt<'_> {
    /// The hash of the point attributes that identify the series.
    fn point_hash(&self, attributes: &[KeyValue]) -> LabelHash {
        let mut h = SeriesHasher::new("");
        for kv in attributes.iter().filter(|kv| self.selection.selects_point(&kv.key)) {
            with_text(kv.value.as_ref(), |v| h.label(&kv.key, v));
        }
        h.label_hash()
    }

    fn origin(&self, point: usize, derived: Derived) -> Origin {
        Origin {
            resource: self.resource,
            scope: self.scope,
            metric: self.metric_index,
            point: point as u32,
            derived,
        }
    }
}

struct Sink<'v> {
    points: &'v mut Vec<Point>,
    origins: &'v mut Vec<Origin>,
    summary: DecodeSummary,
}

impl Sink<'_> {
    fn metric(&mut self, at: &MetricAt<'_>) {
        let m = at.metric;
        let Some(data) = &m.data else { return };
        if m.name.is_empty() {
            let n = match data {
                Data::Gauge(g) => g.data_points.len(),
                Data::Sum(s) => s.data_points.len(),
                Data::Histogram(h) => h.data_points.len(),
                Data::ExponentialHistogram(h) => h.data_points.len(),
                Data::Summary(s) => s.data_points.len(),
            };
            self.summary.refuse("", Refusal::EmptyName, n);
            return;
        }
        let cumulative = |t: i32| t == AggregationTemporality::Cumulative as i32;
        match data {
            Data::Gauge(g) => self.numbers(at, &g.data_points, ValueKind::Gauge),
            Data::Sum(s) => {
                let kind = if s.is_monotonic && cumulative(s.aggregation_temporality) {
                    ValueKind::CumulativeCounter
                } else {
                    ValueKind::Gauge
                };
                self.numbers(at, &s.data_points, kind)
            }
            Data::Histogram(h) => {
                let kind = if cumulative(h.aggregation_temporality) {
                    ValueKind::CumulativeCounter
                } else {
                    ValueKind::Gauge
                };
                self.histograms(at, &h.data_points, kind)
            }
            Data::ExponentialHistogram(h) => self.summary.refuse(
                &m.name,
                Refusal::Unsupported("exponential histogram"),
                h.data_points.len(),
            ),
            Data::Summary(s) => self
                .summary
                .refuse(&m.name, Refusal::Unsupported("summary"), s.data_points.len()),
        }
    }

    fn numbers(&mut self, at: &MetricAt<'_>, dps: &[NumberDataPoint], kind: ValueKind) {
        for (pi, dp) in dps.iter().enumerate() {
            let value = match dp.value {
                Some(Value::AsDouble(d)) => Some(d),
                Some(Value::AsInt(i)) => Some(i as f64),
                None => None,
            };
            let checked = check_point(dp.time_unix_nano, dp.flags).and_then(|()| match value {
                None => Err(Refusal::NoValue),
                Some(v) => finite(v),
            });
            match checked {
                Ok(v) => {
                    let labels = at.point_hash(&dp.attributes);
                    self.push(at, pi, Derived::Value, labels, dp.time_unix_nano, v, kind);
                }
                Err(r) => self.summary.refuse(&at.metric.name, r, 1),
            }
        }
    }

    fn histograms(&mut self, at: &MetricAt<'_>, dps: &[HistogramDataPoint], kind: ValueKind) {
        for (pi, dp) in dps.iter().enumerate() {
            if let Err(r) = check_point(dp.time_unix_nano, dp.flags) {
                self.summary.refuse(&at.metric.name, r, 1);
                continue;
            }
            let labels = at.point_hash(&dp.attributes);
            let t = dp.time_unix_nano;
            let count = dp.count as f64;
            self.push(at, pi, Derived::HistogramCount, labels, t, count, kind);
            match dp.sum {
                Some(sum) if !sum.is_finite() => {
                    self.summary.refuse(&at.metric.name, Refusal::HistogramSumNotFinite, 1)
                }
                Some(sum) if dp.count > 0 => {
                    let mean = sum / count;
                    self.push(at, pi, Derived::HistogramMean, labels, t, mean, ValueKind::Gauge);
                }
                _ => {}
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        at: &MetricAt<'_>,
        point: usize,
        derived: Derived,
        point_labels: LabelHash,
        time_unix_nano: u64,
        value: f64,
        kind: ValueKind,
    ) {
        let mut h = SeriesHasher::with_suffix(&at.metric.name, derived.suffix());
        h.merge(at.resource_hash);
        h.merge(point_labels);
        self.points.push(Point {
            series: h.finish(),
            time_unix_nano,
            value,
            kind,
            origin: self.origins.len() as u32,
        });
        self.origins.push(at.origin(point, derived));
        self.summary.accepted += 1;
    }
}

/// Checks shared by every data point type.
fn check_point(time_unix_nano: u64, flags: u32) -> Result<(), Refusal> {
    if time_unix_nano == 0 {
        return Err(Refusal::MissingTime);
    }
    if flags & DataPointFlags::NoRecordedValueMask as u32 != 0 {
        return Err(Refusal::NoRecordedValue);
    }
    Ok(())
}

fn finite(v: f64) -> Result<f64, Refusal> {
    if v.is_nan() {
        Err(Refusal::NaN)
    } else if v.is_infinite() {
        Err(Refusal::Infinite)
    } else {
        Ok(v)
    }
}
