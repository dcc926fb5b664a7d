//! driftd's receivers: how points get into a pipeline. One folder per component type
//! (`otlp` → `otlp/`, `http_json` → `http_json/`, `kafka` → `kafka/`);
//! [`ReceiverConfig`] is the closed list the binary registers.

mod body;
mod counters;
pub mod file;
pub mod http_json;
pub mod json;
pub mod kafka;
pub mod otlp;

use driftd_core::component::{BuildContext, BuildError, Receiver, ReceiverFactory};
use driftd_core::config::{parse_body, ComponentConfig, ComponentId, FieldError, ParseError};
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
    const KINDS: &'static [&'static str] = &["otlp", "http_json", "kafka", "file"];

    fn parse(kind: &str, body: serde_yaml::Value) -> Result<Self, ParseError> {
        match kind {
            "otlp" => parse_body(body).map(ReceiverConfig::Otlp),
            "http_json" => parse_body(body).map(ReceiverConfig::HttpJson),
            "kafka" => parse_body(body).map(ReceiverConfig::Kafka),
            "file" => parse_body(body).map(ReceiverConfig::File),
            _ => Err(ParseError::UnknownKind),
        }
    }

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
