//! driftd's receivers: how points get into a pipeline. One folder per component type
//! (`otlp` → `otlp/`); [`ReceiverConfig`] is the closed list the binary registers.

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
}

impl ComponentConfig for ReceiverConfig {
    const KINDS: &'static [&'static str] = &["otlp"];

    fn parse(kind: &str, body: serde_yaml::Value) -> Result<Self, ParseError> {
        match kind {
            "otlp" => parse_body(body).map(ReceiverConfig::Otlp),
            _ => Err(ParseError::UnknownKind),
        }
    }

    fn validate(&self) -> Vec<FieldError> {
        match self {
            ReceiverConfig::Otlp(c) => c.validate(),
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
        }
    }
}
