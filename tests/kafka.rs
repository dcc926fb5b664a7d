//! The Kafka receiver end to end, against a real Kafka-protocol broker (tansu, started by
//! `scripts/kafka.sh`; or any broker named by `DRIFTD_KAFKA_BROKERS`) and the real
//! binary: a step is detected in `json` and `otlp_proto` topics; a driftd stopped
//! mid-stream and restarted loses no message; duplicates count once; a poison message
//! is skipped (and dead-lettered) without stopping consumption; with a persistent
//! store, offsets are committed only once a saved checkpoint covers their messages.
//!
//! With no broker these tests fail, loudly: they never pass by skipping.

mod common;

use common::kafka::{
    broker_committed, brokers, client_config, counter, create_topic, produce, producer, require_broker, stop_summary,
    unique, wait_accepted, wait_at_least,
};
use common::{all_series, drift_events, eventually, get_json, Driftd};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use prost::Message as _;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const SERVICES: [&str; 3] = ["checkout", "payments", "search"];
const STEPPED: &str = "payments";
const T0: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z, in seconds
const SIGMA: f64 = 10.0;
const STEP_AT: u64 = 200;
const SAMPLES: u64 = STEP_AT + 30;

/// driftd consuming `topic` in `group` from the earliest offset.
fn config(topic: &str, group: &str, encoding: &str, extra: &str) -> String {
    format!(
        r#"
receivers:
  kafka:
    brokers: ["{brokers}"]
    topics: [{topic}]
    group_id: {group}
    initial_offset: earliest
    encoding: {encoding}
    commit_interval: 200ms
    properties:
      session.timeout.ms: "6000"
      heartbeat.interval.ms: "500"
      topic.metadata.refresh.interval.ms: "1000"
{extra}
processors:
  drift: {{}}
exporters:
  api:
    endpoint: 127.0.0.1:0
  prometheus:
    endpoint: 127.0.0.1:0
  storage: {{}}
service:
  pipelines:
    metrics:
      receivers: [kafka]
      processors: [drift]
      exporters: [api, prometheus, storage]
"#,
        brokers = brokers()
    )
}

fn rfc3339(seconds: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_secs(seconds)).to_string()
}

/// Sample `i` of every service: Gaussian noise around 100, +8σ on `STEPPED` from `STEP_AT`.
fn samples(rng: &mut StdRng, i: u64) -> [f64; 3] {
    let noise = Normal::new(0.0, SIGMA).unwrap();
    SERVICES.map(|svc| {
        let step = if svc == STEPPED && i >= STEP_AT {
            8.0 * SIGMA
        } else {
            0.0
        };
        100.0 + noise.sample(rng) + step
    })
}

/// Exactly one drift_start, for the stepped service, and /v1/health says so.
async fn assert_one_drift_on_the_stepped_service(d: &Driftd) {
    let api = d.url("api");
    let starts = eventually(Duration::from_secs(10), "a drift_start", || async {
        let e = drift_events(&api, "drift_start").await;
        (!e.is_empty()).then_some(e)
    })
    .await;
    assert_eq!(starts.len(), 1, "exactly one drift_start: {starts:?}");
    assert_eq!(starts[0]["series"]["labels"]["service.name"], STEPPED, "{}", starts[0]);
    let (_, health) = get_json(&format!("{api}/v1/health/{STEPPED}")).await;
    assert_eq!(health["state"], "DRIFT_DETECTED", "{health}");
    assert_eq!(health["sample_count"], SAMPLES, "{health}");
    for calm in SERVICES.iter().filter(|s| **s != STEPPED) {
        let (_, h) = get_json(&format!("{api}/v1/health/{calm}")).await;
        assert_eq!(h["state"], "STABLE", "{calm}: {h}");
    }
}

#[tokio::test]
async fn json_topic_step_is_one_drift() {
    require_broker();
    let topic = unique("json-step");
    create_topic(&topic, 1).await;
    let mut rng = StdRng::seed_from_u64(21);
    let mut payloads = Vec::new();
    for i in 0..SAMPLES {
        for (svc, v) in SERVICES.iter().zip(samples(&mut rng, i)) {
            let event = json!({"source_id": svc, "metric": "latency_ms", "value": v,
                               "event_time": rfc3339(T0 + i), "event_id": format!("{svc}-{i}")});
            payloads.push(event.to_string().into_bytes());
        }
    }
    produce(&producer(), &topic, &payloads).await;
    let d = Driftd::start(&config(&topic, &unique("g"), "json", ""));
    wait_accepted(&d, (3 * SAMPLES) as f64).await;
    assert_one_drift_on_the_stepped_service(&d).await;
}

fn otlp_request(i: u64, values: [f64; 3]) -> ExportMetricsServiceRequest {
    common::otlp::latency_request_at(&SERVICES, (T0 + i) * 1_000_000_000, &values)
}

#[tokio::test]
async fn otlp_proto_topic_step_is_one_drift() {
    require_broker();
    let topic = unique("otlp-step");
    create_topic(&topic, 1).await;
    let mut rng = StdRng::seed_from_u64(22);
    let payloads: Vec<Vec<u8>> = (0..SAMPLES)
        .map(|i| otlp_request(i, samples(&mut rng, i)).encode_to_vec())
        .collect();
    produce(&producer(), &topic, &payloads).await;
    let d = Driftd::start(&config(&topic, &unique("g"), "otlp_proto", ""));
    wait_accepted(&d, (3 * SAMPLES) as f64).await;
    assert_one_drift_on_the_stepped_service(&d).await;
}

fn event(source: &str, id: &str, second: u64, value: f64) -> Vec<u8> {
    json!({"source_id": source, "metric": "m", "value": value, "event_time": rfc3339(T0 + second), "event_id": id})
        .to_string()
        .into_bytes()
}

#[tokio::test]
async fn stopped_mid_stream_and_restarted_loses_no_message() {
    require_broker();
    let topic = unique("restart");
    let group = unique("g");
    create_topic(&topic, 1).await;
    const N: u64 = 1000;
    let config = config(&topic, &group, "json", "");

    let mut first = Driftd::start(&config);
    // A producer that keeps going while driftd stops and restarts: ~300 events/s.
    let writer = {
        let topic = topic.clone();
        tokio::spawn(async move {
            let p = producer();
            for chunk in (0..N).collect::<Vec<_>>().chunks(10) {
                let payloads: Vec<Vec<u8>> = chunk
                    .iter()
                    .map(|i| event(&format!("ev-{i}"), &format!("id-{i}"), *i, 1.0))
                    .collect();
                produce(&p, &topic, &payloads).await;
                tokio::time::sleep(Duration::from_millis(33)).await;
            }
        })
    };
    wait_at_least(&first, 100.0).await;
    assert!(!writer.is_finished(), "the stop must come mid-stream");
    let status = first.stop();
    assert!(status.success(), "clean exit on SIGTERM: {status}\n{}", first.logs());
    let (processed, committed) = stop_summary(&first.logs(), &topic);
    assert!(processed >= 100, "{processed}");
    // One partition read from offset 0: the first run processed [0, processed) and
    // committed exactly that at shutdown (never more than it processed).
    assert_eq!(committed, processed, "{}", first.logs());
    assert_eq!(
        broker_committed(&topic, &group),
        Some(committed as i64),
        "the broker holds the commit"
    );

    let second = Driftd::start(&config);
    writer.await.unwrap();
    let api = second.url("api");
    // Every event was processed at least once: [0, committed) by the first run, and
    // [committed, N) by the second.
    eventually(Duration::from_secs(60), "the rest of the stream", || async {
        let seen: BTreeSet<u64> = all_series(&api)
            .await
            .iter()
            .filter_map(|s| s["labels"]["service.name"].as_str()?.strip_prefix("ev-")?.parse().ok())
            .collect();
        (committed..N).all(|i| seen.contains(&i)).then_some(())
    })
    .await;
    let second_run = counter(
        &second,
        "driftd_receiver_accepted_points_total",
        &["transport=\"kafka\""],
    )
    .await;
    assert!(
        processed as f64 + second_run >= N as f64,
        "{processed} + {second_run} < {N}"
    );
}

#[tokio::test]
async fn duplicates_count_once_and_poison_is_skipped_not_fatal() {
    require_broker();
    let topic = unique("poison");
    let dlq = unique("dlq");
    create_topic(&topic, 1).await;
    create_topic(&dlq, 1).await;
    let mut payloads: Vec<Vec<u8>> = (0..25).map(|i| event("dup", &format!("id-{i}"), i, i as f64)).collect();
    payloads.push(b"\x00\x01 not json at all".to_vec());
    payloads.extend((25..50).map(|i| event("dup", &format!("id-{i}"), i, i as f64)));
    // The same events again (a producer retry): same ids, dropped.
    payloads.extend((10..20).map(|i| event("dup", &format!("id-{i}"), i, i as f64)));
    // A valid JSON message that is not an event.
    payloads.push(br#"{"source_id": "dup", "metric": "m"}"#.to_vec());
    // Behind the series' newest point: late.
    payloads.push(event("dup", "late-1", 5, 0.0));
    payloads.extend((50..60).map(|i| event("dup", &format!("id-{i}"), i, i as f64)));
    produce(&producer(), &topic, &payloads).await;

    let d = Driftd::start(&config(
        &topic,
        &unique("g"),
        "json",
        &format!("    dead_letter_topic: {dlq}"),
    ));
    wait_accepted(&d, 60.0).await;
    let (_, health) = get_json(&format!("{}/v1/health/dup", d.url("api"))).await;
    assert_eq!(
        health["sample_count"], 60,
        "each event once, the ones after the poison too: {health}"
    );
    let messages = |outcome: &'static str| {
        let d = &d;
        async move { counter(d, "driftd_kafka_messages_total", &[&format!("outcome=\"{outcome}\"")]).await }
    };
    assert_eq!(messages("ok").await, 60.0);
    assert_eq!(messages("duplicate").await, 10.0);
    assert_eq!(messages("undecodable").await, 2.0);
    assert_eq!(messages("late").await, 1.0);
    let logs = d.logs();
    assert!(
        logs.contains("skipping a Kafka message that does not decode") && logs.contains("offset=25"),
        "{logs}"
    );

    // Both poison messages were copied to the dead-letter topic, saying where from.
    let reader: BaseConsumer = client_config()
        .set("group.id", unique("dlq-reader"))
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&dlq, 0, Offset::Beginning).unwrap();
    reader.assign(&tpl).unwrap();
    let mut dead = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while dead.len() < 2 && Instant::now() < deadline {
        if let Some(Ok(m)) = reader.poll(Duration::from_millis(200)) {
            let headers = m.headers().expect("headers");
            let offset = headers
                .iter()
                .find(|h| h.key == "driftd.offset")
                .and_then(|h| std::str::from_utf8(h.value?).ok()?.parse::<i64>().ok())
                .expect("driftd.offset header");
            dead.push(offset);
        }
    }
    assert_eq!(dead, [25, 61], "dead-lettered offsets");
    let commits = counter(&d, "driftd_kafka_commits_total", &[]).await;
    assert!(commits >= 1.0, "{commits}");
}

/// driftd whose drift processor checkpoints to SQLite every `interval`.
fn checkpointed_config(topic: &str, group: &str, interval: &str) -> String {
    config(topic, group, "json", "").replace("  drift: {}", &format!("  drift: {{checkpoint_interval: {interval}}}"))
        + "storage: {backend: sqlite, retention: 3650d, path: \"{dir}/driftd.db\"}\n"
}

async fn produce_events(topic: &str, n: u64) {
    let payloads: Vec<Vec<u8>> = (0..n)
        .map(|i| event(&format!("cp-{}", i % 5), &format!("id-{i}"), i, 1.0))
        .collect();
    produce(&producer(), topic, &payloads).await;
}

#[tokio::test]
async fn offsets_wait_for_the_checkpoint_that_covers_them() {
    require_broker();
    let topic = unique("checkpoint");
    let group = unique("g");
    create_topic(&topic, 1).await;
    const N: u64 = 200;
    produce_events(&topic, N).await;

    // Only the shutdown checkpoint is ever written.
    let mut d = Driftd::start(&checkpointed_config(&topic, &group, "1h"));
    wait_accepted(&d, N as f64).await;
    // Many commit intervals (200ms) later, nothing is committed: no checkpoint is saved.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(broker_committed(&topic, &group), None, "{}", d.logs());

    let status = d.stop();
    assert!(status.success(), "clean exit on SIGTERM: {status}\n{}", d.logs());
    let logs = d.logs();
    assert_eq!(stop_summary(&logs, &topic), (N, N), "{logs}");
    assert_eq!(broker_committed(&topic, &group), Some(N as i64), "{logs}");
    assert!(!logs.contains("within service.shutdown"), "{logs}");
}

#[tokio::test]
async fn periodic_checkpoints_release_offsets_while_running() {
    require_broker();
    let topic = unique("checkpoint-periodic");
    let group = unique("g");
    create_topic(&topic, 1).await;
    const N: u64 = 200;
    produce_events(&topic, N).await;

    let d = Driftd::start(&checkpointed_config(&topic, &group, "1s"));
    wait_accepted(&d, N as f64).await;
    eventually(Duration::from_secs(20), "the commit after a checkpoint", || async {
        (broker_committed(&topic, &group) == Some(N as i64)).then_some(())
    })
    .await;
}

/// An undecodable message whose dead-letter copy cannot be written holds its offset:
/// nothing after it is judged or committed until the copy is written (here, once the
/// dead-letter topic exists), and then everything is.
#[tokio::test]
async fn a_failed_dead_letter_write_holds_the_offset_until_it_succeeds() {
    require_broker();
    let (topic, group, dlq) = (unique("dlq-fails"), unique("g"), unique("dlq-later"));
    create_topic(&topic, 1).await;
    let mut payloads: Vec<Vec<u8>> = (0..5).map(|i| event("dl", &format!("id-{i}"), i, 1.0)).collect();
    payloads.push(b"not json".to_vec());
    payloads.extend((5..10).map(|i| event("dl", &format!("id-{i}"), i, 1.0)));
    produce(&producer(), &topic, &payloads).await;

    // The dead-letter topic does not exist yet, and tansu does not create topics.
    let d = Driftd::start(&config(
        &topic,
        &group,
        "json",
        &format!("    dead_letter_topic: {dlq}"),
    ));
    eventually(Duration::from_secs(30), "a failed dead-letter write", || async {
        d.logs().contains("holding its offset and retrying").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let accepted = counter(&d, "driftd_receiver_accepted_points_total", &["transport=\"kafka\""]).await;
    assert_eq!(
        accepted, 5.0,
        "nothing after the message is judged while its copy fails"
    );
    let committed = broker_committed(&topic, &group);
    assert!(
        committed.is_none_or(|o| o <= 5),
        "the poison's offset (5) is not committed: {committed:?}"
    );

    create_topic(&dlq, 1).await;
    wait_accepted(&d, 10.0).await;
    eventually(Duration::from_secs(20), "every offset committed", || async {
        (broker_committed(&topic, &group) == Some(11)).then_some(())
    })
    .await;
}
