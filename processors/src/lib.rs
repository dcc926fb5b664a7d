//! driftd's processors. `drift` turns points into per-series drift state and events.

pub mod drift;
pub mod incidents;

use driftd_core::component::{BuildContext, BuildError, ProcessorFactory};
use driftd_core::config::{parse_body, ComponentConfig, ComponentId, FieldError, ParseError, Value};
use driftd_core::Consumer;
use serde::Serialize;
use std::sync::Arc;

/// Every processor driftd ships, by YAML type name.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ProcessorConfig {
    /// `drift`: per-series baselines and drift detection.
    Drift(drift::DriftConfig),
}

impl ComponentConfig for ProcessorConfig {
    const KINDS: &'static [&'static str] = &["drift"];

    fn parse(kind: &str, body: Value) -> Result<Self, ParseError> {
        match kind {
            "drift" => parse_body(body).map(ProcessorConfig::Drift),
            _ => Err(ParseError::UnknownKind),
        }
    }

    fn validate(&self) -> Vec<FieldError> {
        match self {
            ProcessorConfig::Drift(c) => c.validate(),
        }
    }
}

impl ProcessorFactory for ProcessorConfig {
    fn emits_events(&self) -> bool {
        match self {
            ProcessorConfig::Drift(_) => true,
        }
    }

    async fn build(
        &self,
        id: &ComponentId,
        pipeline: &str,
        ctx: &mut BuildContext,
        next: Arc<dyn Consumer>,
    ) -> Result<Arc<dyn Consumer>, BuildError> {
        match self {
            ProcessorConfig::Drift(c) => drift::build(c, id, pipeline, ctx, next).await,
        }
    }
}
