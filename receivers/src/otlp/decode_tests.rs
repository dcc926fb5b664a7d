//! The decoder's mapping of OTLP metric types, and its refusals.

use super::test_support::*;
use super::{decode, DecodeSummary, IdentityConfig, RequestLabels, WireError};
use driftd_core::{Buckets, LabelSource, SeriesLabels, ValueKind};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality::{Cumulative, Delta},
    ExponentialHistogram, ExponentialHistogramDataPoint, HistogramDataPoint, NumberDataPoint, Sum, Summary,
    SummaryDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

#[test]
fn a_gauge_point_becomes_a_gauge_with_its_labels() {
    let req = request(
        service(),
        vec![gauge("latency", vec![number(T, 1.5, vec![string("route", "/a")])])],
    );
    let (points, summary) = run(&req);
    assert_eq!(
        summary,
        DecodeSummary {
            accepted: 1,
            refused: 0,
            first_refusal: None
        }
    );
    let (p, labels) = &points[0];
    assert_eq!((p.value, p.time_unix_nano, p.kind), (1.5, T, ValueKind::Gauge));
    assert_eq!(labels.metric, "latency");
    // process.pid is not an identity attribute by default.
    assert_eq!(
        labels.labels,
        vec![("route".into(), "/a".into()), ("service.name".into(), "api".into())]
    );
}

#[test]
fn only_monotonic_cumulative_sums_are_counters() {
    let p = |v| vec![number(T, v, vec![])];
    let req = request(
        service(),
        vec![
            sum("requests", true, Cumulative, p(10.0)),
            sum("sent", true, Delta, p(3.0)),
            sum("queue", false, Cumulative, p(7.0)),
        ],
    );
    let (points, _) = run(&req);
    let kinds: Vec<_> = points
        .iter()
        .map(|(p, l)| (l.metric.as_str(), p.kind, p.value))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("requests", ValueKind::CumulativeCounter, 10.0),
            ("sent", ValueKind::Gauge, 3.0),
            ("queue", ValueKind::Gauge, 7.0),
        ]
    );
}

#[test]
fn int_values_are_read_as_numbers() {
    let mut dp = number(T, 0.0, vec![]);
    dp.value = Some(Value::AsInt(-42));
    let (points, _) = run(&request(service(), vec![gauge("g", vec![dp])]));
    assert_eq!(points[0].0.value, -42.0);
}

#[test]
fn a_histogram_is_one_point_under_its_own_name_with_its_temporality() {
    let req = request(
        service(),
        vec![
            histogram("rpc", Cumulative, vec![histogram_point(4, Some(10.0), vec![])]),
            histogram("batch", Delta, vec![histogram_point(2, Some(3.0), vec![])]),
        ],
    );
    let (points, summary) = run(&req);
    assert_eq!(summary.refused, 0);
    let got: Vec<_> = points
        .iter()
        .map(|(p, l)| (l.metric.as_str(), p.kind, p.value))
        .collect();
    assert_eq!(
        got,
        vec![
            ("rpc", ValueKind::Histogram { cumulative: true }, 4.0),
            ("batch", ValueKind::Histogram { cumulative: false }, 2.0),
        ]
    );
}

#[test]
fn a_histogram_without_buckets_gives_its_total_as_one_bucket_with_sum_and_start() {
    let mut dp = histogram_point(3, Some(7.5), vec![]);
    dp.start_time_unix_nano = T - 60;
    let req = request(service(), vec![histogram("h", Cumulative, vec![dp])]);
    let bytes = req.encode_to_vec();
    let identity = IdentityConfig::default();
    let (mut points, mut origins) = (Vec::new(), Vec::new());
    decode(&bytes, &identity, &mut points, &mut origins).unwrap();
    let mut buckets = Buckets::default();
    assert!(RequestLabels::new(&bytes, &origins, &identity).buckets(points[0].origin, &mut buckets));
    assert_eq!(
        buckets,
        Buckets {
            bounds: vec![],
            counts: vec![3],
            sum: Some(7.5),
            start_time_unix_nano: T - 60,
        }
    );
}

#[test]
fn a_histogram_with_a_nan_sum_is_taken_without_its_mean_and_says_so() {
    let req = request(
        service(),
        vec![histogram(
            "h",
            Cumulative,
            vec![histogram_point(3, Some(f64::NAN), vec![])],
        )],
    );
    let bytes = req.encode_to_vec();
    let identity = IdentityConfig::default();
    let (mut points, mut origins) = (Vec::new(), Vec::new());
    let summary = decode(&bytes, &identity, &mut points, &mut origins).unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(summary.refused, 1);
    assert!(summary.first_refusal.unwrap().contains("histogram sum"));
    let mut buckets = Buckets::default();
    assert!(RequestLabels::new(&bytes, &origins, &identity).buckets(points[0].origin, &mut buckets));
    assert_eq!(buckets.sum, None);
}

#[test]
fn bad_points_are_refused_counted_and_explained() {
    let mut no_value = number(T, 0.0, vec![]);
    no_value.value = None;
    let mut stale = number(T, 1.0, vec![]);
    stale.flags = 1;
    let req = request(
        service(),
        vec![gauge(
            "g",
            vec![
                number(T, f64::NAN, vec![]),
                number(T, f64::INFINITY, vec![]),
                number(T, f64::NEG_INFINITY, vec![]),
                number(0, 1.0, vec![]),
                no_value,
                stale,
                number(T, 1.0, vec![]),
            ],
        )],
    );
    let (points, summary) = run(&req);
    assert_eq!(points.len(), 1);
    assert_eq!(summary.accepted, 1);
    assert_eq!(summary.refused, 6);
    assert_eq!(summary.first_refusal.as_deref(), Some("value is NaN (metric `g`)"));
    assert!(
        summary.error_message().starts_with("6 data point(s) refused"),
        "{}",
        summary.error_message()
    );
}

#[test]
fn each_refusal_names_its_reason() {
    let first = |dp: NumberDataPoint| {
        run(&request(service(), vec![gauge("g", vec![dp])]))
            .1
            .first_refusal
            .unwrap()
    };
    assert!(first(number(T, f64::INFINITY, vec![])).starts_with("value is infinite"));
    assert!(first(number(0, 1.0, vec![])).starts_with("missing time_unix_nano"));
    let mut none = number(T, 1.0, vec![]);
    none.value = None;
    assert!(first(none).starts_with("number data point has no numeric value"));
    let mut stale = number(T, 1.0, vec![]);
    stale.flags = 1;
    assert!(first(stale).contains("no recorded value"));
}

#[test]
fn unsupported_metric_types_and_empty_names_are_refused_per_point() {
    let exp = metric(
        "e",
        Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![ExponentialHistogramDataPoint::default(); 2],
            aggregation_temporality: Cumulative as i32,
        }),
    );
    let summary_metric = || {
        metric(
            "s",
            Data::Summary(Summary {
                data_points: vec![SummaryDataPoint::default()],
            }),
        )
    };
    let nameless = || gauge("", vec![number(T, 1.0, vec![])]);
    let (points, summary) = run(&request(service(), vec![exp, summary_metric(), nameless()]));
    assert!(points.is_empty());
    assert_eq!(summary.refused, 4);
    assert_eq!(
        summary.first_refusal.as_deref(),
        Some("exponential histogram metrics are not supported yet (metric `e`)")
    );
    let (_, s) = run(&request(service(), vec![nameless()]));
    assert_eq!(s.first_refusal.as_deref(), Some("metric name is empty"));
    let (_, s) = run(&request(service(), vec![summary_metric()]));
    assert_eq!(
        s.first_refusal.as_deref(),
        Some("summary metrics are not supported yet (metric `s`)")
    );
}

fn bucketed(counts: Vec<u64>, bounds: Vec<f64>) -> HistogramDataPoint {
    HistogramDataPoint {
        bucket_counts: counts,
        explicit_bounds: bounds,
        ..histogram_point(6, Some(12.0), vec![string("route", "/a")])
    }
}

#[test]
fn a_bucketed_histogram_also_gives_its_distribution_with_buckets() {
    let req = request(
        service(),
        vec![histogram("rpc", Delta, vec![bucketed(vec![1, 3, 2], vec![1.0, 5.0])])],
    );
    let bytes = req.encode_to_vec();
    let identity = IdentityConfig::default();
    let (mut points, mut origins) = (Vec::new(), Vec::new());
    decode(&bytes, &identity, &mut points, &mut origins).unwrap();
    let source = RequestLabels::new(&bytes, &origins, &identity);
    let dist = points
        .iter()
        .find(|p| matches!(p.kind, ValueKind::Histogram { .. }))
        .expect("a distribution");
    assert_eq!(
        (dist.kind, dist.value),
        (ValueKind::Histogram { cumulative: false }, 6.0)
    );
    let labels = source.labels(dist.origin);
    assert_eq!((labels.metric.as_str(), labels.get("route")), ("rpc", Some("/a")));
    assert_eq!(dist.series, labels.id());
    let mut buckets = Buckets::default();
    assert!(source.buckets(dist.origin, &mut buckets));
    assert_eq!(
        buckets,
        Buckets {
            bounds: vec![1.0, 5.0],
            counts: vec![1, 3, 2],
            sum: Some(12.0),
            start_time_unix_nano: 0,
        }
    );
    // Scalar points have no buckets.
    let req = request(service(), vec![gauge("g", vec![number(T, 1.0, vec![])])]);
    let bytes = req.encode_to_vec();
    let (mut points, mut origins) = (Vec::new(), Vec::new());
    decode(&bytes, &identity, &mut points, &mut origins).unwrap();
    let source = RequestLabels::new(&bytes, &origins, &identity);
    assert!(!source.buckets(points[0].origin, &mut buckets));
}

#[test]
fn inconsistent_buckets_refuse_the_point() {
    for (counts, bounds) in [
        (vec![1, 2], vec![1.0, 2.0]),
        (vec![1, 2, 3], vec![2.0, 1.0]),
        (vec![1, 2], vec![f64::NAN]),
    ] {
        let req = request(
            service(),
            vec![histogram("h", Cumulative, vec![bucketed(counts, bounds)])],
        );
        let (points, summary) = run(&req);
        assert!(points.is_empty(), "{points:?}");
        assert_eq!(summary.refused, 1);
        assert!(summary.first_refusal.unwrap().contains("buckets"));
    }
}

#[test]
fn fields_in_any_order_decode_like_prost_order() {
    let resource = Resource {
        attributes: service(),
        ..Default::default()
    }
    .encode_to_vec();
    let sum = Sum {
        data_points: vec![number(T, 5.0, vec![])],
        aggregation_temporality: Cumulative as i32,
        is_monotonic: true,
    };
    // The sum's flags after its points, the metric's name after its data, the
    // resource after its scopes.
    let mut sum_bytes = Vec::new();
    for p in &sum.data_points {
        sum_bytes.extend(field(1, &p.encode_to_vec()));
    }
    sum_bytes.extend([0x10, 0x02, 0x18, 0x01]);
    let metric_bytes = [field(7, &sum_bytes), field(1, b"requests")].concat();
    let scope = field(2, &metric_bytes);
    let rm = [field(2, &scope), field(1, &resource)].concat();
    let reordered = field(1, &rm);

    let (got, _) = run_bytes(&reordered).unwrap();
    let want = run(&request(service(), vec![metric("requests", Data::Sum(sum))])).0;
    assert_eq!(got, want);
    assert_eq!(got[0].0.kind, ValueKind::CumulativeCounter);
}

#[test]
fn malformed_bytes_fail_the_whole_request() {
    let mut bytes = request(service(), vec![gauge("g", vec![number(T, 1.0, vec![])])]).encode_to_vec();
    bytes.truncate(bytes.len() - 3);
    assert_eq!(run_bytes(&bytes).unwrap_err(), WireError::Truncated);
    // A metric name that is not UTF-8.
    let bad_name = field(1, &field(2, &field(2, &field(1, &[0xc3, 0x28]))));
    assert_eq!(run_bytes(&bad_name).unwrap_err(), WireError::NotUtf8(1));
}

#[test]
fn a_resource_metrics_without_a_resource_decodes() {
    let metric = metric(
        "g",
        Data::Gauge(opentelemetry_proto::tonic::metrics::v1::Gauge {
            data_points: vec![number(T, 2.0, vec![string("route", "/a")])],
        }),
    );
    let bytes = field(1, &field(2, &field(2, &metric.encode_to_vec())));
    let (points, summary) = run_bytes(&bytes).unwrap();
    assert_eq!(summary.accepted, 1);
    assert_eq!(points[0].1, SeriesLabels::new("g", vec![("route".into(), "/a".into())]));
    assert_eq!(points[0].0.series, points[0].1.id());
}

#[test]
fn messages_sent_twice_merge_as_prost_merges_them() {
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    let gauge_of = |v: f64, route: &str| {
        opentelemetry_proto::tonic::metrics::v1::Gauge {
            data_points: vec![number(T, v, vec![string("route", route)])],
        }
        .encode_to_vec()
    };
    let resource = |kv| {
        Resource {
            attributes: vec![kv],
            ..Default::default()
        }
        .encode_to_vec()
    };
    // Two gauge parts, then a name; a sum part before them is replaced by the gauge.
    let sum = Sum {
        data_points: vec![number(T, 9.0, vec![])],
        ..Default::default()
    }
    .encode_to_vec();
    let metric = [
        field(7, &sum),
        field(5, &gauge_of(1.0, "/a")),
        field(1, b"g"),
        field(5, &gauge_of(2.0, "/b")),
    ]
    .concat();
    let rm = [
        field(1, &resource(string("service.name", "api"))),
        field(2, &field(2, &metric)),
        field(1, &resource(string("region", "eu"))),
    ]
    .concat();
    let bytes = field(1, &rm);

    let (got, summary) = run_bytes(&bytes).unwrap();
    let prost = ExportMetricsServiceRequest::decode(&bytes[..]).unwrap();
    assert_eq!(got, run(&prost).0);
    assert_eq!(summary.accepted, 2);
    assert_eq!(got[1].0.value, 2.0);
    assert_eq!(got[1].1.get("service.name"), Some("api"));
}
