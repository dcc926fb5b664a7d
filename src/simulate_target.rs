//! Where `driftd simulate` sends, and how each target carries a tick's points.

use anyhow::Context;
use driftd_core::time::rfc3339;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use std::str::FromStr;
use std::time::Duration;

/// The metric every simulated series reports.
pub const METRIC: &str = "latency_ms";

/// `--target`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `otlp-grpc://host:port`.
    OtlpGrpc(String),
    /// `otlp-http://host:port` (`POST /v1/metrics`, protobuf).
    OtlpHttp(String),
    /// `http://host:port`: the JSON API's `POST /v1/telemetry`.
    JsonApi(String),
    /// `kafka://broker:port/topic`: `json` events.
    Kafka {
        /// Bootstrap broker.
        broker: String,
        /// Topic.
        topic: String,
    },
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let usage = || {
            format!("`{s}` is not a target: use otlp-grpc://HOST:PORT, otlp-http://HOST:PORT, http://HOST:PORT or kafka://BROKER:PORT/TOPIC")
        };
        let (scheme, rest) = s.split_once("://").ok_or_else(usage)?;
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() {
            return Err(usage());
        }
        match scheme {
            "otlp-grpc" => Ok(Target::OtlpGrpc(format!("http://{rest}"))),
            "otlp-http" => Ok(Target::OtlpHttp(format!("http://{rest}/v1/metrics"))),
            "http" => Ok(Target::JsonApi(format!("http://{rest}/v1/telemetry"))),
            "kafka" => match rest.split_once('/') {
                Some((broker, topic)) if !broker.is_empty() && !topic.is_empty() && !topic.contains('/') => {
                    Ok(Target::Kafka {
                        broker: broker.to_string(),
                        topic: topic.to_string(),
                    })
                }
                _ => Err(usage()),
            },
            _ => Err(usage()),
        }
    }
}

/// One generated point.
#[derive(Clone, Debug)]
pub struct SimPoint {
    /// `sim-<i>`.
    pub service: String,
    /// Sample index within its series.
    pub sample: u64,
    /// Event time.
    pub time_unix_nano: u64,
    /// Value.
    pub value: f64,
}

/// A connected sender.
pub enum Sender {
    /// OTLP/gRPC.
    Grpc(MetricsServiceClient<tonic::transport::Channel>),
    /// OTLP/HTTP protobuf, or the JSON API.
    Http {
        /// The client (keeps connections alive).
        client: reqwest::Client,
        /// Full URL.
        url: String,
        /// JSON API (one request per point) rather than OTLP/HTTP.
        json: bool,
    },
    /// Kafka producer.
    Kafka {
        /// The producer.
        producer: FutureProducer,
        /// Topic.
        topic: String,
        /// Deliveries not yet confirmed: awaited in bulk, so producing is not paced by
        /// round trips.
        pending: Vec<DeliveryFuture>,
    },
}

/// Deliveries awaited at once.
const MAX_PENDING: usize = 20_000;

impl Sender {
    /// Connects to `target` (creating the Kafka topic first when asked).
    pub async fn connect(target: &Target, create_topic: Option<i32>) -> anyhow::Result<Sender> {
        Ok(match target {
            Target::OtlpGrpc(url) => Sender::Grpc(
                MetricsServiceClient::connect(url.clone())
                    .await
                    .with_context(|| format!("cannot connect to {url}"))?,
            ),
            Target::OtlpHttp(url) | Target::JsonApi(url) => Sender::Http {
                client: reqwest::Client::new(),
                url: url.clone(),
                json: matches!(target, Target::JsonApi(_)),
            },
            Target::Kafka { broker, topic } => {
                let mut config = ClientConfig::new();
                config
                    .set("bootstrap.servers", broker)
                    .set("client.id", "driftd-simulate")
                    .set("linger.ms", "5")
                    .set("message.timeout.ms", "30000");
                if let Some(partitions) = create_topic {
                    create(&config, topic, partitions).await?;
                }
                Sender::Kafka {
                    producer: config.create().context("cannot create the Kafka producer")?,
                    topic: topic.clone(),
                    pending: Vec::new(),
                }
            }
        })
    }

    /// Waits for everything sent to be confirmed; returns how many failed.
    pub async fn finish(&mut self) -> u64 {
        match self {
            Sender::Kafka { pending, .. } => confirm(pending).await,
            _ => 0,
        }
    }

    /// Sends a tick's points (all of one sample index, one per series); returns how
    /// many failed (for Kafka, of those confirmed meanwhile).
    pub async fn send(&mut self, points: &[SimPoint]) -> u64 {
        match self {
            Sender::Grpc(client) => match client.export(request(points)).await {
                Ok(_) => 0,
                Err(_) => points.len() as u64,
            },
            Sender::Http {
                client,
                url,
                json: false,
            } => {
                let sent = client
                    .post(url.as_str())
                    .header("content-type", "application/x-protobuf")
                    .body(request(points).encode_to_vec())
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => 0,
                    _ => points.len() as u64,
                }
            }
            Sender::Http {
                client,
                url,
                json: true,
            } => {
                let mut failed = 0;
                for p in points {
                    let body = serde_json::json!({
                        "service_id": p.service,
                        "latency_ms": p.value,
                        "timestamp": rfc3339(p.time_unix_nano),
                    });
                    match client.post(url.as_str()).json(&body).send().await {
                        Ok(r) if r.status().is_success() => {}
                        _ => failed += 1,
                    }
                }
                failed
            }
            Sender::Kafka {
                producer,
                topic,
                pending,
            } => {
                let mut failed = 0;
                for p in points {
                    let payload = serde_json::json!({
                        "source_id": p.service,
                        "metric": METRIC,
                        "value": p.value,
                        "event_time": rfc3339(p.time_unix_nano),
                        "event_id": format!("{}-{}", p.service, p.sample),
                    })
                    .to_string();
                    // Keyed by series, so a series stays in one partition, in order.
                    let mut record = FutureRecord::to(topic.as_str())
                        .key(p.service.as_str())
                        .payload(&payload);
                    loop {
                        match producer.send_result(record) {
                            Ok(delivery) => pending.push(delivery),
                            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                                record = r;
                                failed += confirm(pending).await;
                                continue;
                            }
                            Err(_) => failed += 1,
                        }
                        break;
                    }
                }
                if pending.len() >= MAX_PENDING {
                    failed += confirm(pending).await;
                }
                failed
            }
        }
    }
}

/// Awaits every pending delivery; returns how many failed.
async fn confirm(pending: &mut Vec<DeliveryFuture>) -> u64 {
    let mut failed = 0;
    for d in pending.drain(..) {
        if !matches!(d.await, Ok(Ok(_))) {
            failed += 1;
        }
    }
    failed
}

/// Creates `topic` unless it exists.
async fn create(config: &ClientConfig, topic: &str, partitions: i32) -> anyhow::Result<()> {
    let admin: AdminClient<_> = config.create().context("cannot create the Kafka admin client")?;
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    let results = admin
        .create_topics(
            [&new],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await
        .with_context(|| format!("cannot create topic {topic}"))?;
    for r in results {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((t, code)) => anyhow::bail!("cannot create topic {t}: {code}"),
        }
    }
    Ok(())
}

/// One OTLP request with one gauge point per series.
fn request(points: &[SimPoint]) -> ExportMetricsServiceRequest {
    let resource_metrics = points
        .iter()
        .map(|p| ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: driftd_core::SERVICE_LABEL.into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(p.service.clone())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: METRIC.into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: vec![NumberDataPoint {
                            time_unix_nano: p.time_unix_nano,
                            value: Some(number_data_point::Value::AsDouble(p.value)),
                            ..Default::default()
                        }],
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    ExportMetricsServiceRequest { resource_metrics }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_bad_ones_say_what_to_use() {
        assert_eq!(
            "otlp-grpc://127.0.0.1:4317".parse(),
            Ok(Target::OtlpGrpc("http://127.0.0.1:4317".into()))
        );
        assert_eq!(
            "otlp-http://h:4318/".parse(),
            Ok(Target::OtlpHttp("http://h:4318/v1/metrics".into()))
        );
        assert_eq!(
            "http://h:8000".parse(),
            Ok(Target::JsonApi("http://h:8000/v1/telemetry".into()))
        );
        assert_eq!(
            "kafka://127.0.0.1:9092/events".parse(),
            Ok(Target::Kafka {
                broker: "127.0.0.1:9092".into(),
                topic: "events".into()
            })
        );
        for bad in [
            "127.0.0.1:8000",
            "ftp://x",
            "kafka://broker",
            "kafka://b/t/u",
            "http://",
        ] {
            let e = bad.parse::<Target>().unwrap_err();
            assert!(e.contains("otlp-grpc://"), "{e}");
        }
    }
}
