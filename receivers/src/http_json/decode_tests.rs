use super::decode::*;
use crate::json::JsonError;
use driftd_core::{LabelSource, SERVICE_LABEL};
use rand::{RngExt, SeedableRng};

const NOW: u64 = 1_768_213_845_000_000_000;

fn invalid(r: Result<impl std::fmt::Debug, JsonError>) -> (String, String) {
    match r {
        Err(JsonError::Invalid { field, message }) => (field, message),
        other => panic!("expected a 422-class error, got {other:?}"),
    }
}

#[test]
fn a_full_telemetry_request_gives_two_series_of_the_service() {
    let body = br#"{"service_id": "checkout", "latency_ms": 156.7, "payload_kb": 2.3,
                    "timestamp": "2026-01-12T10:30:45.123Z"}"#;
    let t = decode_telemetry(body, NOW).unwrap();
    assert_eq!(t.service_id, "checkout");
    assert_eq!((t.latency_ms, t.payload_kb), (156.7, Some(2.3)));
    assert_eq!(t.time_unix_nano, 1_768_213_845_123_000_000);
    let (points, n) = t.points();
    assert_eq!(n, 2);
    let latency = t.labels(points[0].origin);
    let payload = t.labels(points[1].origin);
    assert_eq!(latency.metric, "latency_ms");
    assert_eq!(payload.metric, "payload_kb");
    assert_eq!(latency.service(), Some("checkout"));
    assert_eq!(points[0].series, latency.id());
    assert_eq!(points[1].series, payload.id());
    assert_eq!((points[0].value, points[1].value), (156.7, 2.3));
}

#[test]
fn without_timestamp_or_payload_the_server_clock_and_one_series() {
    let t = decode_telemetry(br#"{"service_id":"a","latency_ms":0}"#, NOW).unwrap();
    assert_eq!(t.time_unix_nano, NOW);
    assert_eq!(t.points().1, 1);
    // The identity is the one /v1/health/{service_id} looks up.
    let mut h = driftd_core::model::SeriesHasher::new("latency_ms");
    h.label(SERVICE_LABEL, "a");
    assert_eq!(t.points().0[0].series, h.finish());
}

#[test]
fn every_invalid_telemetry_request_names_its_field() {
    let long = "x".repeat(MAX_SERVICE_ID_CHARS + 1);
    let exact = "é".repeat(MAX_SERVICE_ID_CHARS);
    assert!(decode_telemetry(format!(r#"{{"service_id":"{exact}","latency_ms":1}}"#).as_bytes(), NOW).is_ok());
    let cases: Vec<(String, &str, &str)> = vec![
        (r#"{"service_id":"a","latency_ms":-1}"#.into(), "latency_ms", "negative"),
        (r#"{"service_id":"a","latency_ms":NaN}"#.into(), "latency_ms", "NaN"),
        (r#"{"service_id":"a","latency_ms":"NaN"}"#.into(), "latency_ms", "NaN"),
        (
            r#"{"service_id":"a","latency_ms":Infinity}"#.into(),
            "latency_ms",
            "Infinity",
        ),
        (r#"{"service_id":"a"}"#.into(), "latency_ms", "required"),
        (
            r#"{"service_id":"a","latency_ms":null}"#.into(),
            "latency_ms",
            "required",
        ),
        (
            r#"{"service_id":"a","latency_ms":"fast"}"#.into(),
            "latency_ms",
            "expected a number",
        ),
        (
            r#"{"service_id":"a","latency_ms":1,"payload_kb":-2}"#.into(),
            "payload_kb",
            "negative",
        ),
        (r#"{"service_id":"","latency_ms":1}"#.into(), "service_id", "empty"),
        (
            format!(r#"{{"service_id":"{long}","latency_ms":1}}"#),
            "service_id",
            "at most 64",
        ),
        (r#"{"latency_ms":1}"#.into(), "service_id", "required"),
        (
            r#"{"service_id":7,"latency_ms":1}"#.into(),
            "service_id",
            "expected a string",
        ),
        (
            r#"{"service_id":"a","latency_ms":1,"timestamp":"yesterday"}"#.into(),
            "timestamp",
            "RFC 3339",
        ),
        (
            r#"{"service_id":"a","latency_ms":1,"timestamp":"2026-01-12 10:30:45"}"#.into(),
            "timestamp",
            "RFC 3339",
        ),
        (
            r#"{"service_id":"a","latency_ms":1,"timestamp":1768213845}"#.into(),
            "timestamp",
            "expected a string",
        ),
        (
            r#"{"service_id":"a","latency_ms":1,"latency":2}"#.into(),
            "latency",
            "unknown field",
        ),
        ("[1, 2]".into(), "", "JSON object"),
    ];
    for (body, field, words) in cases {
        let (f, message) = invalid(decode_telemetry(body.as_bytes(), NOW));
        assert_eq!(f, field, "{body}: {message}");
        assert!(message.contains(words), "{body}: {message}");
    }
}

#[test]
fn what_is_not_json_is_a_syntax_error() {
    for body in [&b"{"[..], b"", b"{\"service_id\": \"a\",}", b"\xff\xfe", b"{} {}"] {
        assert!(
            matches!(decode_telemetry(body, NOW), Err(JsonError::Syntax(_))),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn points_are_taken_or_refused_one_by_one() {
    let body = br#"[
        {"metric": "queue_depth", "value": 3, "labels": {"service.name": "worker", "queue": "emails"}},
        {"metric": "queue_depth", "value": "NaN"},
        {"metric": "", "value": 1},
        {"metric": "temp", "value": -4.5, "timestamp": "2026-01-12T10:30:45Z"},
        {"metric": "temp", "value": 1, "timestamp": "noon"},
        {"metric": "temp", "value": 1, "labels": {"a": 1}},
        {"metric": "temp", "valu": 1},
        7
    ]"#;
    let d = decode_points(body, NOW).unwrap();
    assert_eq!(d.points.len(), 2);
    assert_eq!(d.points[0].time_unix_nano, NOW);
    assert_eq!(
        d.points[0].labels,
        vec![
            ("queue".into(), "emails".into()),
            ("service.name".into(), "worker".into())
        ]
    );
    assert_eq!(
        (d.points[1].value, d.points[1].time_unix_nano),
        (-4.5, 1_768_213_845_000_000_000)
    );
    let refused: Vec<(usize, &str)> = d.refused.iter().map(|r| (r.index, r.field.as_str())).collect();
    assert_eq!(
        refused,
        [
            (1, "value"),
            (2, "metric"),
            (4, "timestamp"),
            (5, "labels.a"),
            (6, "valu"),
            (7, "")
        ]
    );
    let labels = super::PointLabels(&d.points);
    let p = d.points[0].point(0);
    assert_eq!(p.series, labels.labels(0).id());
    assert_eq!(labels.labels(0).service(), Some("worker"));
}

#[test]
fn a_single_point_object_and_bad_shapes() {
    let d = decode_points(br#"{"metric":"m","value":1}"#, NOW).unwrap();
    assert_eq!((d.points.len(), d.refused.len()), (1, 0));
    assert!(matches!(decode_points(b"[{", NOW), Err(JsonError::Syntax(_))));
    assert!(matches!(decode_points(b"", NOW), Err(JsonError::Syntax(_))));
    assert!(matches!(decode_points(b"\"x\"", NOW), Err(JsonError::Invalid { .. })));
    assert!(matches!(decode_points(b"nul", NOW), Err(JsonError::Syntax(_))));
}

/// Mutated valid bodies and pure noise: the decoders answer, they never panic.
#[test]
fn random_bytes_never_panic() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let seeds: [&[u8]; 2] = [
        br#"{"service_id":"checkout","latency_ms":156.7,"payload_kb":2.3,"timestamp":"2026-01-12T10:30:45.123Z"}"#,
        br#"[{"metric":"m","value":1,"labels":{"a":"b"},"timestamp":"2026-01-12T10:30:45Z"},{"metric":"n","value":NaN}]"#,
    ];
    for i in 0..10_000 {
        let mut b: Vec<u8> = if i % 4 == 0 {
            (0..rng.random_range(0..64)).map(|_| rng.random()).collect()
        } else {
            seeds[i % 2].to_vec()
        };
        for _ in 0..rng.random_range(0..4) {
            if !b.is_empty() {
                let at = rng.random_range(0..b.len());
                b[at] = rng.random();
            }
        }
        b.truncate(rng.random_range(0..=b.len()));
        let _ = decode_telemetry(&b, NOW);
        let _ = decode_points(&b, NOW);
    }
}
