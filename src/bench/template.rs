//! A request encoded once, then rewritten in place before every send: each data point's
//! `time_unix_nano` moves forward and its `as_double` gets a fresh value, so the load
//! tool never re-encodes protobuf on its hot path.
//!
//! The byte offsets of those fields are found by encoding unique sentinel values and
//! locating them: `time_unix_nano` is NumberDataPoint field 3 (fixed64, tag byte 0x19)
//! and `as_double` field 4 (fixed64, tag byte 0x21); both are 8 little-endian bytes.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use std::ops::Range;

/// Tag byte of NumberDataPoint.time_unix_nano (field 3, wire type fixed64).
const TIME_TAG: u8 = 0x19;
/// Tag byte of NumberDataPoint.as_double (field 4, wire type fixed64).
const VALUE_TAG: u8 = 0x21;
/// Sentinels: a marker in the high 32 bits, the point's index in the low 32.
const TIME_MARK: u64 = 0x5A5A_5A5A << 32;
const VALUE_MARK: u64 = 0x4059_A5A5 << 32;
const MARK_MASK: u64 = 0xFFFF_FFFF << 32;
const SECOND: u64 = 1_000_000_000;

/// One worker's pre-encoded request and where its points' fields sit.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    bytes: Vec<u8>,
    /// Offsets of each point's 8 `time_unix_nano` bytes.
    times: Vec<usize>,
    /// Offsets of each point's 8 `as_double` bytes.
    values: Vec<usize>,
    /// How far every timestamp moves per send: each series' points stay one second
    /// apart and in order across sends.
    step: u64,
}

impl RequestTemplate {
    /// `points` gauge points spread over `series` (round robin), the first ones at `t0`.
    /// With more series than points only the first `points` series are used.
    pub fn new(series: Range<usize>, points: usize, t0: u64, noise: &mut Noise) -> Self {
        let points = points.max(1);
        let count = series.len().clamp(1, points);
        let mut by_series: Vec<Vec<NumberDataPoint>> = vec![Vec::new(); count];
        for i in 0..points {
            by_series[i % count].push(NumberDataPoint {
                time_unix_nano: TIME_MARK | i as u64,
                value: Some(number_data_point::Value::AsDouble(f64::from_bits(
                    VALUE_MARK | i as u64,
                ))),
                ..Default::default()
            });
        }
        let resource_metrics = by_series
            .into_iter()
            .enumerate()
            .map(|(slot, data_points)| series_metrics(&format!("bench_metric_{}", series.start + slot), data_points))
            .collect();
        let bytes = ExportMetricsServiceRequest { resource_metrics }.encode_to_vec();
        let times = locate(&bytes, TIME_TAG, TIME_MARK, points);
        let values = locate(&bytes, VALUE_TAG, VALUE_MARK, points);
        let mut template = RequestTemplate {
            bytes,
            times,
            values,
            step: points.div_ceil(count) as u64 * SECOND,
        };
        for (i, &at) in template.times.iter().enumerate() {
            let round = (i / count) as u64;
            template.bytes[at..at + 8].copy_from_slice(&(t0 + round * SECOND).to_le_bytes());
        }
        template.fill_values(noise);
        template
    }

    /// The encoded request as it is now.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Points in the request.
    pub fn points(&self) -> u64 {
        self.times.len() as u64
    }

    /// Prepares the next send: every timestamp one step later, every value new.
    pub fn advance(&mut self, noise: &mut Noise) {
        for &at in &self.times {
            let field: &mut [u8; 8] = (&mut self.bytes[at..at + 8]).try_into().expect("8 bytes");
            *field = (u64::from_le_bytes(*field) + self.step).to_le_bytes();
        }
        self.fill_values(noise);
    }

    fn fill_values(&mut self, noise: &mut Noise) {
        for &at in &self.values {
            self.bytes[at..at + 8].copy_from_slice(&noise.value().to_le_bytes());
        }
    }
}

/// One `ResourceMetrics` holding gauge `name` with `data_points`; the resource's
/// `service.name` is one of 50, derived from the name.
pub fn series_metrics(name: &str, data_points: Vec<NumberDataPoint>) -> ResourceMetrics {
    let service = name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 50;
    ResourceMetrics {
        resource: Some(Resource {
            attributes: vec![KeyValue {
                key: "service.name".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue(format!("svc-{service}"))),
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        scope_metrics: vec![ScopeMetrics {
            metrics: vec![Metric {
                name: name.to_string(),
                data: Some(metric::Data::Gauge(Gauge { data_points })),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Offsets of the 8-byte payloads of fields tagged `tag` whose value is `mark | i`,
/// indexed by `i`. Panics unless each of the `points` sentinels occurs exactly once:
/// the request was built here, so anything else is a bug in this file.
fn locate(bytes: &[u8], tag: u8, mark: u64, points: usize) -> Vec<usize> {
    let mut at = vec![usize::MAX; points];
    let mut found = 0;
    for p in 0..bytes.len().saturating_sub(8) {
        if bytes[p] != tag {
            continue;
        }
        let v = u64::from_le_bytes(bytes[p + 1..p + 9].try_into().expect("8 bytes"));
        let i = (v & !MARK_MASK) as usize;
        if v & MARK_MASK == mark && i < points {
            assert_eq!(at[i], usize::MAX, "sentinel {i} found twice");
            at[i] = p + 1;
            found += 1;
        }
    }
    assert_eq!(found, points, "every data point's field is located");
    at
}

/// Cheap pseudo-random values around 100 (xorshift64*, roughly Gaussian with σ ≈ 1),
/// so the target sees stationary noise and raises no drift.
#[derive(Debug, Clone)]
pub struct Noise(u64);

impl Noise {
    /// A generator; `seed` picks the sequence.
    pub fn new(seed: u64) -> Self {
        Noise(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The next value: 100 plus the sum of four uniforms, scaled to σ ≈ 1.
    pub fn value(&mut self) -> f64 {
        let sum: f64 = (0..4).map(|_| self.uniform()).sum();
        100.0 + (sum - 2.0) * 3f64.sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (metric name, time, value) of every point, in encoded order.
    fn decoded(bytes: &[u8]) -> Vec<(String, u64, f64)> {
        let req = ExportMetricsServiceRequest::decode(bytes).expect("decodes");
        let mut out = Vec::new();
        for rm in req.resource_metrics {
            for m in rm.scope_metrics.into_iter().flat_map(|s| s.metrics) {
                let Some(metric::Data::Gauge(g)) = m.data else {
                    panic!("gauge")
                };
                for p in g.data_points {
                    let Some(number_data_point::Value::AsDouble(v)) = p.value else {
                        panic!("double")
                    };
                    out.push((m.name.clone(), p.time_unix_nano, v));
                }
            }
        }
        out
    }

    #[test]
    fn patched_bytes_decode_to_the_expected_times_and_values() {
        let t0 = 1_700_000_000 * SECOND;
        let mut noise = Noise::new(7);
        let mut t = RequestTemplate::new(10..13, 8, t0, &mut noise);
        assert_eq!(t.points(), 8);
        let first = decoded(t.bytes());
        // 8 points over 3 series: 3, 3 and 2 points one second apart.
        let times: Vec<_> = first.iter().map(|(n, t, _)| (n.as_str(), (t - t0) / SECOND)).collect();
        assert_eq!(
            times,
            [
                ("bench_metric_10", 0),
                ("bench_metric_10", 1),
                ("bench_metric_10", 2),
                ("bench_metric_11", 0),
                ("bench_metric_11", 1),
                ("bench_metric_11", 2),
                ("bench_metric_12", 0),
                ("bench_metric_12", 1),
            ]
        );
        assert!(first.iter().all(|(_, _, v)| (90.0..110.0).contains(v)), "{first:?}");

        t.advance(&mut noise);
        let second = decoded(t.bytes());
        for (a, b) in first.iter().zip(&second) {
            assert_eq!(a.0, b.0);
            assert_eq!(
                b.1,
                a.1 + 3 * SECOND,
                "each series moves on by its 3 points per request"
            );
            assert_ne!(a.2, b.2, "values are redrawn");
        }
        assert_eq!(
            t.bytes().len(),
            RequestTemplate::new(10..13, 8, t0, &mut noise).bytes().len()
        );
    }

    #[test]
    fn more_series_than_points_uses_the_first_ones() {
        let t = RequestTemplate::new(0..1000, 4, SECOND, &mut Noise::new(1));
        let names: Vec<_> = decoded(t.bytes()).into_iter().map(|(n, ..)| n).collect();
        assert_eq!(
            names,
            ["bench_metric_0", "bench_metric_1", "bench_metric_2", "bench_metric_3"]
        );
    }

    #[test]
    fn noise_is_centred_on_100_with_unit_spread() {
        let mut noise = Noise::new(3);
        let xs: Vec<f64> = (0..100_000).map(|_| noise.value()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!((mean - 100.0).abs() < 0.02, "{mean}");
        assert!((var.sqrt() - 1.0).abs() < 0.02, "{var}");
    }
}
