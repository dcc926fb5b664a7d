use super::decode::*;
use crate::json::JsonError;
use crate::otlp::test_support::request_with_one_nan;
use driftd_core::LabelSource;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use prost::Message;
use rand::{RngExt, SeedableRng};

const FALLBACK: u64 = 1_768_213_845_000_000_000;

#[test]
fn a_json_event_is_a_point_of_its_source() {
    let e = decode_json_event(
        br#"{"source_id":"checkout","metric":"latency_ms","value":12.5,"event_time":"2026-01-12T10:30:45.5Z","event_id":"e-1"}"#,
        FALLBACK,
    )
    .unwrap();
    assert_eq!(e.event_id.as_deref(), Some("e-1"));
    assert_eq!(e.time_unix_nano, FALLBACK + 500_000_000);
    let p = e.point();
    let labels = e.labels(p.origin);
    assert_eq!(labels.metric, "latency_ms");
    assert_eq!(labels.service(), Some("checkout"));
    assert_eq!(p.series, labels.id());
    assert_eq!(p.value, 12.5);
}

#[test]
fn without_event_time_the_message_time_is_used() {
    let e = decode_json_event(br#"{"source_id":"a","metric":"m","value":-1}"#, FALLBACK).unwrap();
    assert_eq!((e.time_unix_nano, e.value, e.event_id), (FALLBACK, -1.0, None));
}

#[test]
fn invalid_events_name_their_field() {
    for (body, field) in [
        (r#"{"metric":"m","value":1}"#, "source_id"),
        (r#"{"source_id":"","metric":"m","value":1}"#, "source_id"),
        (r#"{"source_id":"a","value":1}"#, "metric"),
        (r#"{"source_id":"a","metric":"m"}"#, "value"),
        (r#"{"source_id":"a","metric":"m","value":NaN}"#, "value"),
        (
            r#"{"source_id":"a","metric":"m","value":1,"event_time":"today"}"#,
            "event_time",
        ),
        (r#"{"source_id":"a","metric":"m","value":1,"extra":1}"#, "extra"),
        (r#"{"source_id":"a","metric":"m","value":1e300}"#, "value"),
        (
            r#"{"source_id":"a","metric":"m","value":1,"event_time":"2250-01-01T00:00:00Z"}"#,
            "event_time",
        ),
    ] {
        match decode_json_event(body.as_bytes(), FALLBACK) {
            Err(JsonError::Invalid { field: f, .. }) => assert_eq!(f, field, "{body}"),
            other => panic!("{body}: {other:?}"),
        }
    }
    assert!(matches!(
        decode_json_event(b"{oops", FALLBACK),
        Err(JsonError::Syntax(_))
    ));
}

#[test]
fn otlp_payloads_in_both_encodings() {
    let request = request_with_one_nan();
    let json = serde_json::to_vec(&request).unwrap();
    let encoded = decode_otlp_json(&json).unwrap();
    let back = ExportMetricsServiceRequest::decode(&encoded[..]).unwrap();
    let names = |r: &ExportMetricsServiceRequest| {
        r.resource_metrics[0].scope_metrics[0]
            .metrics
            .iter()
            .map(|m| m.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&back), names(&request));
    assert!(decode_otlp_json(b"[]").is_err());
}

/// Mutated valid payloads and pure noise: every decoder answers, none panics.
#[test]
fn random_bytes_never_panic() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let proto = request_with_one_nan().encode_to_vec();
    let otlp_json = serde_json::to_vec(&request_with_one_nan()).unwrap();
    let event =
        br#"{"source_id":"a","metric":"m","value":1.5,"event_time":"2026-01-12T10:30:45Z","event_id":"x"}"#.to_vec();
    let seeds = [proto, otlp_json, event];
    for i in 0..10_000 {
        let mut b: Vec<u8> = if i % 4 == 0 {
            (0..rng.random_range(0..128)).map(|_| rng.random()).collect()
        } else {
            seeds[i % 3].clone()
        };
        for _ in 0..rng.random_range(0..4) {
            if !b.is_empty() {
                let at = rng.random_range(0..b.len());
                b[at] = rng.random();
            }
        }
        b.truncate(rng.random_range(0..=b.len()));
        let _ = decode_json_event(&b, FALLBACK);
        let _ = decode_otlp_json(&b);
    }
}
