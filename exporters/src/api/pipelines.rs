//! `/debug/pipelines`: the running pipelines (like the OpenTelemetry Collector's
//! zPages), each component with its own telemetry now (queue depth, points accepted
//! and refused, events, drops), and the effective config with secrets redacted.

use super::ApiState;
use axum::extract::State;
use axum::Json;
use driftd_core::config::ComponentId;
use serde::Serialize;
use std::sync::Arc;

#[derive(Serialize)]
pub(super) struct Pipelines {
    pipelines: Vec<Pipeline>,
    /// The effective config (YAML), secrets and passwords redacted.
    config: String,
}

#[derive(Serialize)]
struct Pipeline {
    name: String,
    receivers: Vec<Component>,
    processors: Vec<Component>,
    exporters: Vec<Component>,
}

#[derive(Serialize)]
struct Component {
    id: String,
    /// Its samples of driftd's own telemetry (those labelled with its id).
    telemetry: Vec<Sample>,
}

#[derive(Serialize)]
struct Sample {
    metric: String,
    value: f64,
}

/// `GET /debug/pipelines`.
pub(super) async fn get(State(api): State<Arc<ApiState>>) -> Json<Pipelines> {
    let recorded = crate::prometheus::install_recorder().render();
    let samples: Vec<(&str, f64)> = recorded
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (metric, value) = l.rsplit_once(' ')?;
            Some((metric, value.parse().ok()?))
        })
        .collect();
    let components = |role: &str, ids: &[ComponentId]| -> Vec<Component> {
        ids.iter()
            .map(|id| {
                let label = format!("{role}=\"{id}\"");
                Component {
                    id: id.to_string(),
                    telemetry: samples
                        .iter()
                        .filter(|(metric, _)| metric.contains(&label))
                        .map(|(metric, value)| Sample {
                            metric: metric.to_string(),
                            value: *value,
                        })
                        .collect(),
                }
            })
            .collect()
    };
    let pipelines = api
        .running
        .pipelines
        .iter()
        .map(|(name, p)| Pipeline {
            name: name.clone(),
            receivers: components("receiver", &p.receivers),
            processors: components("processor", &p.processors),
            exporters: components("exporter", &p.exporters),
        })
        .collect();
    Json(Pipelines {
        pipelines,
        config: api.running.yaml.clone(),
    })
}
