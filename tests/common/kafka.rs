//! Kafka helpers for end-to-end tests: the broker (never skipped when absent), topics,
//! producing, and what a group committed.

use super::{eventually, prometheus_sum, Driftd};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use std::time::Duration;

pub fn brokers() -> String {
    std::env::var("DRIFTD_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".to_string())
}

/// Panics with what to do when no broker answers: these tests must not pass silently.
pub fn require_broker() -> String {
    let b = brokers();
    let first = b.split(',').next().unwrap().to_string();
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&first)
        .ok()
        .and_then(|mut a| a.next())
        .unwrap_or_else(|| panic!("DRIFTD_KAFKA_BROKERS=`{b}` is not host:port"));
    if std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err() {
        panic!(
            "no Kafka broker answers on {first}: start one with `scripts/kafka.sh` \
             (or point DRIFTD_KAFKA_BROKERS at one). The Kafka tests never skip."
        );
    }
    b
}

pub fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("driftd-test-{tag}-{}-{nanos}", std::process::id())
}

pub fn client_config() -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers());
    c
}

pub async fn create_topic(name: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = client_config().create().expect("admin client");
    let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
    let results = admin
        .create_topics(
            [&topic],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await
        .expect("create topic");
    for r in results {
        r.unwrap_or_else(|(t, e)| panic!("cannot create topic {t}: {e}"));
    }
}

pub fn producer() -> FutureProducer {
    client_config()
        .set("message.timeout.ms", "10000")
        .create()
        .expect("producer")
}

/// Produces every payload in order (to partition 0) and waits for all deliveries.
pub async fn produce(producer: &FutureProducer, topic: &str, payloads: &[Vec<u8>]) {
    for p in payloads {
        let record = FutureRecord::<(), [u8]>::to(topic).partition(0).payload(p);
        producer
            .send(record, Duration::from_secs(10))
            .await
            .unwrap_or_else(|(e, _)| panic!("produce to {topic}: {e}"));
    }
}

/// `messages=M offsets=topic/0:C` from a stopped driftd's last log line.
pub fn stop_summary(logs: &str, topic: &str) -> (u64, u64) {
    let line = logs
        .lines()
        .rev()
        .find(|l| l.contains("kafka receiver stopped"))
        .unwrap_or_else(|| panic!("no stop summary in:\n{logs}"));
    let field = |k: &str| line.split_whitespace().find_map(|t| t.strip_prefix(k)).unwrap_or("");
    let messages = field("messages=").parse().unwrap();
    let committed = field("offsets=")
        .split(',')
        .find_map(|p| p.strip_prefix(&format!("{topic}/0:")))
        .map_or(0, |c| c.parse().unwrap());
    (messages, committed)
}

/// The offset `group` has committed on partition 0 of `topic`, as the broker says
/// (`None`: nothing committed yet).
pub fn broker_committed(topic: &str, group: &str) -> Option<i64> {
    let c: BaseConsumer = client_config().set("group.id", group).create().expect("consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, 0);
    let got = c
        .committed_offsets(tpl, Duration::from_secs(10))
        .expect("committed offsets");
    match got.find_partition(topic, 0).map(|p| p.offset()) {
        Some(Offset::Offset(o)) => Some(o),
        Some(Offset::Invalid) => None,
        other => panic!("unexpected committed offset for {topic}/0 in {group}: {other:?}"),
    }
}

/// The sum of a driftd's Prometheus metric `name` over samples with all of `labels`.
pub async fn counter(d: &Driftd, name: &str, labels: &[&str]) -> f64 {
    prometheus_sum(&d.url("prometheus"), name, labels).await
}

/// Waits until driftd's accepted-points counter reaches `n`.
pub async fn wait_accepted(d: &Driftd, n: f64) {
    eventually(Duration::from_secs(60), &format!("{n} accepted points"), || async {
        let got = counter(d, "driftd_receiver_accepted_points_total", &["transport=\"kafka\""]).await;
        assert!(got <= n, "more points accepted ({got}) than sent ({n})");
        (got == n).then_some(())
    })
    .await;
}
/// Waits until driftd's accepted-points counter reaches at least `n`.
pub async fn wait_at_least(d: &Driftd, n: f64) {
    eventually(
        Duration::from_secs(60),
        &format!("at least {n} accepted points"),
        || async {
            let got = counter(d, "driftd_receiver_accepted_points_total", &["transport=\"kafka\""]).await;
            (got >= n).then_some(())
        },
    )
    .await;
}
