//! driftd's processors. `drift` turns points into per-series drift state and events.

pub mod drift;
pub mod incidents;

use driftd_core::component::{BuildContext, BuildError, ProcessorFactory};
use driftd_core::config::{parse_body, ComponentConfig, ComponentId, FieldError, Kind};
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
    const KINDS: &'static [Kind<Self>] = &[Kind {
        name: "drift",
        about: "Per-series baselines learned from the data, drift detection, incidents",
        example: "{}",
        parse: |body| parse_body(body).map(ProcessorConfig::Drift),
    }];

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
