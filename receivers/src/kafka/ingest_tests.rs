use super::config::{Encoding, KafkaConfig};
use super::ingest::{Handled, Ingest};
use crate::otlp::test_support::{gauge, number, request, string, Full, Recorded, T};
use prost::Message;
use std::sync::Arc;

fn config(encoding: Encoding) -> KafkaConfig {
    let mut c: KafkaConfig = serde_yaml::from_str("topics: [t]").unwrap();
    c.encoding = encoding;
    c
}

fn event(id: Option<&str>, t: &str, v: f64) -> Vec<u8> {
    let mut e = serde_json::json!({"source_id": "api", "metric": "latency_ms", "value": v, "event_time": t});
    if let Some(id) = id {
        e["event_id"] = id.into();
    }
    e.to_string().into_bytes()
}

#[test]
fn json_events_duplicates_late_points_and_poison() {
    let recorded = Arc::new(Recorded::default());
    let mut ingest = Ingest::new("kafka", &config(Encoding::Json), recorded.clone());
    let h = |ingest: &mut Ingest, payload: &[u8]| ingest.handle(payload, 0).unwrap();
    assert_eq!(
        h(&mut ingest, &event(Some("a"), "2026-01-12T10:00:01Z", 1.0)),
        Handled::Ok { accepted: 1 }
    );
    assert_eq!(
        h(&mut ingest, &event(Some("a"), "2026-01-12T10:00:01Z", 1.0)),
        Handled::Duplicate
    );
    // Without an id, the same series, time and value is the same event.
    assert_eq!(
        h(&mut ingest, &event(None, "2026-01-12T10:00:02Z", 2.0)),
        Handled::Ok { accepted: 1 }
    );
    assert_eq!(
        h(&mut ingest, &event(None, "2026-01-12T10:00:02Z", 2.0)),
        Handled::Duplicate
    );
    assert_eq!(
        h(&mut ingest, &event(Some("b"), "2026-01-12T10:00:00Z", 3.0)),
        Handled::Late
    );
    assert!(matches!(h(&mut ingest, b"not json"), Handled::Undecodable(r) if r.contains("not valid JSON")));
    assert_eq!(
        h(&mut ingest, &event(Some("c"), "2026-01-12T10:00:03Z", 4.0)),
        Handled::Ok { accepted: 1 }
    );
    let got = recorded.take();
    let values: Vec<f64> = got.iter().map(|(p, _)| p.value).collect();
    assert_eq!(values, [1.0, 2.0, 4.0]);
    assert!(got
        .iter()
        .all(|(p, l)| p.series == l.id() && l.service() == Some("api")));
}

#[test]
fn a_full_pipeline_leaves_no_trace_so_the_retry_goes_through() {
    let mut ingest = Ingest::new("kafka", &config(Encoding::Json), Arc::new(Full));
    let payload = event(Some("x"), "2026-01-12T10:00:01Z", 1.0);
    assert!(ingest.handle(&payload, 0).is_err());
    assert!(ingest.handle(&payload, 0).is_err(), "still refused, not a duplicate");
}

#[test]
fn otlp_proto_messages_drop_only_the_points_seen_before() {
    let recorded = Arc::new(Recorded::default());
    let mut ingest = Ingest::new("kafka", &config(Encoding::OtlpProto), recorded.clone());
    let req = |points| request(vec![string("service.name", "api")], vec![gauge("latency_ms", points)]);
    let first = req(vec![number(T, 1.0, vec![]), number(T + 1, 2.0, vec![])]).encode_to_vec();
    assert_eq!(ingest.handle(&first, 0).unwrap(), Handled::Ok { accepted: 2 });
    assert_eq!(ingest.handle(&first, 0).unwrap(), Handled::Duplicate);
    let overlapping = req(vec![number(T + 1, 2.0, vec![]), number(T + 2, 3.0, vec![])]).encode_to_vec();
    assert_eq!(ingest.handle(&overlapping, 0).unwrap(), Handled::Ok { accepted: 1 });
    let late = req(vec![number(T, 9.0, vec![])]).encode_to_vec();
    assert_eq!(ingest.handle(&late, 0).unwrap(), Handled::Late);
    assert!(matches!(
        ingest.handle(b"\x0a\xff", 0).unwrap(),
        Handled::Undecodable(_)
    ));
    let values: Vec<f64> = recorded.take().iter().map(|(p, _)| p.value).collect();
    assert_eq!(values, [1.0, 2.0, 3.0]);
}

#[test]
fn otlp_json_messages_decode_like_otlp_http() {
    let recorded = Arc::new(Recorded::default());
    let mut ingest = Ingest::new("kafka", &config(Encoding::OtlpJson), recorded.clone());
    let body = serde_json::to_vec(&request(
        vec![string("service.name", "api")],
        vec![gauge("g", vec![number(T, 1.0, vec![])])],
    ))
    .unwrap();
    assert_eq!(ingest.handle(&body, 0).unwrap(), Handled::Ok { accepted: 1 });
    assert_eq!(recorded.take()[0].1.service(), Some("api"));
}
