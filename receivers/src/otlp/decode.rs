//! `ExportMetricsServiceRequest` bytes → [`Point`]s: a walk of resource → scope →
//! metric → data point over the encoded request ([`super::wire`]) that hashes each
//! series' identity on the fly and allocates nothing (labels are built later, and only
//! for new series, through [`RequestLabels`](super::labels::RequestLabels)).
//!
//! Fields driftd does not read are skipped (only their framing is checked). Messages
//! sent twice merge as protobuf says (a second resource adds its attributes, a second
//! gauge its points); a scalar sent twice keeps its last value. Anything malformed in
//! what is read fails the request.
//!
//! Mapping:
//! - Gauge → [`ValueKind::Gauge`].
//! - Sum: monotonic and cumulative → [`ValueKind::CumulativeCounter`] (the processor
//!   turns it into a rate); any other sum → `Gauge`.
//! - Histogram → [`ValueKind::Histogram`] under the metric's own name: its buckets (a
//!   histogram sent without buckets has one, its total), count and sum. The processor
//!   turns cumulative points into per-interval deltas and derives `<name>_count` (a
//!   rate per second), `<name>_mean` and the quantile series from each interval.
//! - Exponential histograms and summaries are refused for now.

use super::config::IdentityConfig;
use super::labels::{key_value, with_text, Derived, Origin, Selection};
use super::parts::{Layout, MetricData};
pub use super::summary::{DecodeSummary, Refusal};
use super::wire::{Field, Fields, Span, Text, WireError};
use driftd_core::bounds;
use driftd_core::model::{LabelHash, SeriesHasher};
use driftd_core::{Point, ValueKind};
use opentelemetry_proto::tonic::metrics::v1::{AggregationTemporality, DataPointFlags};

/// Appends the points of an encoded `ExportMetricsServiceRequest` to `points` and
/// their origins to `origins` (a point's `origin` indexes `origins`). Both vectors are
/// reused across requests. On `Err` the request is malformed and what was appended
/// must be dropped. Points stamped too far ahead of this machine's clock, read once per
/// request, are refused, as are values out of [`driftd_core::bounds`].
pub fn decode(
    request: &[u8],
    identity: &IdentityConfig,
    points: &mut Vec<Point>,
    origins: &mut Vec<Origin>,
) -> Result<DecodeSummary, WireError> {
    if u32::try_from(request.len()).is_err() {
        return Err(WireError::TooLarge);
    }
    let mut out = Sink {
        request,
        identity,
        points,
        origins,
        summary: DecodeSummary::default(),
        now: driftd_core::time::now_unix_nano(),
    };
    for f in Fields::new(request) {
        let f = f?;
        if f.number == 1 {
            out.resource_metrics(f.bytes()?)?;
        }
    }
    Ok(out.summary)
}

/// One metric and where it sits in the request.
struct MetricAt<'a> {
    name: Text<'a>,
    selection: Selection<'a>,
    /// The identity of the metric's name and its resource, hashed once per metric.
    own: SeriesHasher,
    resource: Span,
    metric: Span,
}

struct Sink<'v> {
    request: &'v [u8],
    identity: &'v IdentityConfig,
    points: &'v mut Vec<Point>,
    origins: &'v mut Vec<Origin>,
    summary: DecodeSummary,
    /// The clock when decoding began.
    now: u64,
}

/// The fields of one number or histogram data point that decoding reads.
#[derive(Default)]
struct DataPoint {
    time_unix_nano: u64,
    flags: u64,
    /// A number point's value, or a histogram's sum.
    value: Option<f64>,
    /// A histogram's count.
    count: u64,
    /// The hash of the identifying attributes.
    labels: LabelHash,
}

impl<'v> Sink<'v> {
    fn resource_metrics(&mut self, rm: &'v [u8]) -> Result<(), WireError> {
        let mut hash = SeriesHasher::new("");
        let selection = Selection::new(self.identity, rm, |key, value| with_text(value, |v| hash.label(key, v)))?;
        let resource_hash = hash.label_hash();
        for f in Fields::new(rm) {
            let f = f?;
            if f.number != 2 {
                continue;
            }
            for m in Fields::new(f.bytes()?) {
                let m = m?;
                if m.number == 2 {
                    self.metric(m.bytes()?, rm, selection, resource_hash)?;
                }
            }
        }
        Ok(())
    }

    fn metric(
        &mut self,
        metric: &'v [u8],
        resource_metrics: &[u8],
        selection: Selection<'_>,
        resource_hash: LabelHash,
    ) -> Result<(), WireError> {
        let Some((name, data)) = MetricData::read(metric)? else {
            return Ok(());
        };
        if name.is_empty() {
            let n = data.count_points()?;
            self.summary.refuse("", Refusal::EmptyName, n);
            return Ok(());
        }
        let mut own = SeriesHasher::new(name);
        own.merge(resource_hash);
        let at = MetricAt {
            name,
            selection,
            own,
            resource: Span::of(self.request, resource_metrics),
            metric: Span::of(self.request, metric),
        };
        // Temporality (sums and histograms) and monotonicity (sums) may follow the
        // points on the wire.
        let (mut cumulative, mut monotonic) = (false, false);
        if matches!(data.kind, 7 | 9 | 10) {
            data.each(|chunk| {
                for f in Fields::new(chunk) {
                    let f = f?;
                    match (data.kind, f.number) {
                        (_, 2) => cumulative = f.varint()? == AggregationTemporality::Cumulative as u64,
                        (7, 3) => monotonic = f.varint()? != 0,
                        _ => {}
                    }
                }
                Ok(())
            })?;
        }
        match data.kind {
            5 => data.each(|chunk| self.numbers(&at, chunk, ValueKind::Gauge)),
            7 if monotonic && cumulative => data.each(|chunk| self.numbers(&at, chunk, ValueKind::CumulativeCounter)),
            7 => data.each(|chunk| self.numbers(&at, chunk, ValueKind::Gauge)),
            9 => data.each(|chunk| self.histograms(&at, chunk, cumulative)),
            _ => {
                let what = if data.kind == 10 {
                    "exponential histogram"
                } else {
                    "summary"
                };
                self.summary
                    .refuse(name.as_str(), Refusal::Unsupported(what), data.count_points()?);
                Ok(())
            }
        }
    }

    fn numbers(&mut self, at: &MetricAt<'_>, data: &'v [u8], kind: ValueKind) -> Result<(), WireError> {
        for f in Fields::new(data) {
            let f = f?;
            if f.number != 1 {
                continue;
            }
            let point = f.bytes()?;
            let dp = read_point(point, &NUMBER, at, |dp, f| {
                match f.number {
                    4 => dp.value = Some(f.double()?),
                    6 => dp.value = Some(f.fixed64()? as i64 as f64),
                    _ => {}
                }
                Ok(())
            })?;
            let checked = check_point(&dp, self.now).and_then(|()| dp.value.map_or(Err(Refusal::NoValue), finite));
            match checked {
                Ok(v) => self.push(at, point, Derived::Value, dp.labels, dp.time_unix_nano, v, kind),
                Err(r) => self.summary.refuse(at.name.as_str(), r, 1),
            }
        }
        Ok(())
    }

    fn histograms(&mut self, at: &MetricAt<'_>, data: &'v [u8], cumulative: bool) -> Result<(), WireError> {
        let kind = ValueKind::Histogram { cumulative };
        for f in Fields::new(data) {
            let f = f?;
            if f.number != 1 {
                continue;
            }
            let point = f.bytes()?;
            let mut layout = Layout::default();
            let dp = read_point(point, &HISTOGRAM, at, |dp, f| {
                match f.number {
                    4 => dp.count = f.fixed64()?,
                    5 => dp.value = Some(f.double()?),
                    6 => f.each_fixed64(|_| layout.buckets += 1)?,
                    7 => f.each_fixed64(|b| layout.bound(f64::from_bits(b)))?,
                    _ => {}
                }
                Ok(())
            })?;
            if let Err(r) = check_point(&dp, self.now).and_then(|()| layout.check()) {
                self.summary.refuse(at.name.as_str(), r, 1);
                continue;
            }
            let (labels, t, count) = (dp.labels, dp.time_unix_nano, dp.count as f64);
            self.push(at, point, Derived::Distribution, labels, t, count, kind);
            // The point is taken without its mean, and says so.
            if dp.value.is_some_and(|sum| !usable_sum(sum)) {
                self.summary.refuse(at.name.as_str(), Refusal::HistogramSumNotFinite, 1);
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        at: &MetricAt<'_>,
        point: &[u8],
        derived: Derived,
        point_labels: LabelHash,
        time_unix_nano: u64,
        value: f64,
        kind: ValueKind,
    ) {
        let mut h = at.own;
        h.merge(point_labels);
        self.points.push(Point {
            series: h.finish(),
            time_unix_nano,
            value,
            kind,
            origin: self.origins.len() as u32,
        });
        self.origins.push(Origin {
            resource: at.resource,
            metric: at.metric,
            point: Span::of(self.request, point),
            derived,
        });
        self.summary.accepted += 1;
    }
}

/// Where a data point type keeps the fields every type has.
struct PointFields {
    attributes: u32,
    flags: u32,
}

const NUMBER: PointFields = PointFields {
    attributes: 7,
    flags: 8,
};
const HISTOGRAM: PointFields = PointFields {
    attributes: 9,
    flags: 10,
};

/// Reads, in one pass, the fields every data point type has (time, flags, and the
/// attributes, hashed as `at` selects them) and hands the others to `other`.
fn read_point(
    point: &[u8],
    fields: &PointFields,
    at: &MetricAt<'_>,
    mut other: impl FnMut(&mut DataPoint, Field<'_>) -> Result<(), WireError>,
) -> Result<DataPoint, WireError> {
    let mut dp = DataPoint::default();
    let mut labels = SeriesHasher::new("");
    for f in Fields::new(point) {
        let f = f?;
        match f.number {
            3 => dp.time_unix_nano = f.fixed64()?,
            n if n == fields.flags => dp.flags = f.varint()?,
            n if n == fields.attributes => {
                let (key, value) = key_value(f.bytes()?)?;
                if at.selection.selects_point(key) {
                    with_text(value, |v| labels.label(key, v))?;
                }
            }
            _ => other(&mut dp, f)?,
        }
    }
    dp.labels = labels.label_hash();
    Ok(dp)
}

/// Checks shared by every data point type.
fn check_point(dp: &DataPoint, now: u64) -> Result<(), Refusal> {
    if dp.time_unix_nano == 0 {
        return Err(Refusal::MissingTime);
    }
    if dp.flags & DataPointFlags::NoRecordedValueMask as u64 != 0 {
        return Err(Refusal::NoRecordedValue);
    }
    bounds::check_time(dp.time_unix_nano, now).map_err(Refusal::OutOfBounds)?;
    Ok(())
}

/// Whether a histogram's sum can give it a mean: a number within [`driftd_core::bounds`].
pub(super) fn usable_sum(sum: f64) -> bool {
    bounds::check_value(sum).is_ok()
}

/// `v`, if it is a number within [`driftd_core::bounds`].
fn finite(v: f64) -> Result<f64, Refusal> {
    if v.is_nan() {
        Err(Refusal::NaN)
    } else if v.is_infinite() {
        Err(Refusal::Infinite)
    } else {
        bounds::check_value(v).map_err(Refusal::OutOfBounds)
    }
}
