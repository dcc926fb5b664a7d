//! driftd's receivers: how points get into a pipeline. One folder per component type
//! (`otlp` → `otlp/`, `http_json` → `http_json/`, `kafka` → `kafka/`);
//! [`ReceiverConfig`] is the closed list the binary registers.

pub mod body;
mod counters;
pub mod file;
pub mod http_json;
pub mod json;
pub mod kafka;
pub mod otlp;

use driftd_core::component::{BuildContext, BuildError, Receiver, ReceiverFactory};
use driftd_core::config::{parse_body, ComponentConfig, ComponentId, FieldError, Kind};
use driftd_core::Consumer;
use serde::Serialize;
use std::sync::Arc;

/// The config of any receiver this crate ships, one variant per YAML type name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ReceiverConfig {
    /// `otlp`: OTLP metrics over gRPC and HTTP.
    Otlp(otlp::OtlpConfig),
    /// `http_json`: `POST /v1/telemetry` and `POST /v1/points`.
    HttpJson(http_json::HttpJsonConfig),
    /// `kafka`: topics of a Kafka-protocol broker, in a consumer group.
    Kafka(kafka::KafkaConfig),
    /// `file`: recorded points from a CSV or JSON lines file, to the end (replay).
    File(file::FileConfig),
}

impl ComponentConfig for ReceiverConfig {
    const KINDS: &'static [Kind<Self>] = &[
        Kind {
            name: "otlp",
            about: "OTLP metrics over gRPC and HTTP (protobuf or JSON, optionally gzip); a protocol is on when its key is present",
            example: "protocols: {grpc: {}, http: {}}",
            parse: |body| parse_body(body).map(ReceiverConfig::Otlp),
        },
        Kind {
            name: "http_json",
            about: "`POST /v1/telemetry` and `POST /v1/points`: points as JSON, sent as `Content-Type: application/json` (anything else is answered 415, which keeps cross-site form posts out)",
            example: "{}",
            parse: |body| parse_body(body).map(ReceiverConfig::HttpJson),
        },
        Kind {
            name: "kafka",
            about: "Topics of a Kafka-protocol broker, in a consumer group (OTLP protobuf, OTLP JSON or driftd's JSON)",
            example: "topics: [metrics]",
            parse: |body| parse_body(body).map(ReceiverConfig::Kafka),
        },
        Kind {
            name: "file",
            about: "Recorded points from a CSV or JSON-lines file, read to its end (`driftd replay`)",
            example: "path: recorded.csv",
            parse: |body| parse_body(body).map(ReceiverConfig::File),
        },
    ];

    fn validate(&self) -> Vec<FieldError> {
        match self {
            ReceiverConfig::Otlp(c) => c.validate(),
            ReceiverConfig::HttpJson(c) => c.validate(),
            ReceiverConfig::Kafka(c) => c.validate(),
            ReceiverConfig::File(c) => c.validate(),
        }
    }
}

impl ReceiverFactory for ReceiverConfig {
    async fn build(
        &self,
        id: &ComponentId,
        ctx: &mut BuildContext,
        output: Arc<dyn Consumer>,
    ) -> Result<Option<Box<dyn Receiver>>, BuildError> {
        match self {
            ReceiverConfig::Otlp(c) => c.build(id, ctx, output).await,
            ReceiverConfig::HttpJson(c) => c.build(id, ctx, output).await,
            ReceiverConfig::Kafka(c) => c.build(id, ctx, output).await,
            ReceiverConfig::File(c) => c.build(id, ctx, output).await,
        }
    }
}
