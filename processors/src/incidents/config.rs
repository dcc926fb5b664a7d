//! `processors.drift.incidents` settings.

use super::canary::{CanaryConfig, CANARY};
use driftd_core::config::FieldError;
use driftd_core::DriftEvent;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How drift events are grouped into incidents. The defaults need no tuning.
///
/// ```yaml
/// incidents:
///   window: 2m
///   entity:
///     service: [service.namespace, service.name, deployment.environment.name, deployment.environment]
///     instance: [service.instance.id, host.name, k8s.pod.name]
///   canary: {cohort: service.version}    # off unless set
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentsConfig {
    /// A drift of an entity joins its open incident; an incident stays open while a
    /// member drifts and for this long after the last one recovered (a drift that
    /// starts meanwhile joins it), then resolves.
    #[serde(default = "IncidentsConfig::default_window", with = "humantime_serde")]
    pub window: Duration,
    /// Which labels make a series' entity and its instance.
    #[serde(default)]
    pub entity: EntityConfig,
    /// Compare a cohort of each service (a canary) with the rest of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<CanaryConfig>,
}

impl IncidentsConfig {
    fn default_window() -> Duration {
        Duration::from_secs(120)
    }

    /// The window in nanoseconds.
    pub fn window_nanos(&self) -> u64 {
        u64::try_from(self.window.as_nanos()).unwrap_or(u64::MAX)
    }

    /// The entity a drift event belongs to: its series' service, and for a canary
    /// comparison the cohort too (`checkout@service.version=2`).
    pub fn entity_of(&self, e: &DriftEvent) -> String {
        let service = self.entity.entity_of(&e.series);
        match &self.canary {
            Some(c) if e.detector == CANARY => {
                let label = c.cohort().0;
                format!("{service}@{label}={}", e.series.get(label).unwrap_or_default())
            }
            _ => service,
        }
    }

    /// Cross-field rules.
    pub fn validate(&self, at: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.window.is_zero() {
            errors.push(FieldError::new(
                format!("{at}.window"),
                "must be positive (e.g. `2m`): drifts of one entity within it form one incident",
            ));
        }
        if self.entity.service.is_empty() {
            errors.push(FieldError::new(
                format!("{at}.entity.service"),
                "name at least one label (e.g. `service.name`)",
            ));
        }
        if let Some(c) = &self.canary {
            errors.extend(c.validate(&format!("{at}.canary")));
        }
        errors
    }
}

impl Default for IncidentsConfig {
    fn default() -> Self {
        IncidentsConfig {
            window: Self::default_window(),
            entity: EntityConfig::default(),
            canary: None,
        }
    }
}

/// The labels that make an entity: `service` (joined with `/`, in this order; a series
/// with none of them belongs to `unknown_service`, as in OpenTelemetry) and `instance`
/// (the first present names the series' instance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityConfig {
    /// Labels of the service, outermost first.
    #[serde(default = "EntityConfig::default_service")]
    pub service: Vec<String>,
    /// Labels that name an instance of it, the preferred first.
    #[serde(default = "EntityConfig::default_instance")]
    pub instance: Vec<String>,
}

impl EntityConfig {
    fn default_service() -> Vec<String> {
        [
            "service.namespace",
            "service.name",
            "deployment.environment.name",
            "deployment.environment",
        ]
        .map(String::from)
        .to_vec()
    }

    fn default_instance() -> Vec<String> {
        ["service.instance.id", "host.name", "k8s.pod.name"]
            .map(String::from)
            .to_vec()
    }
}

impl Default for EntityConfig {
    fn default() -> Self {
        EntityConfig {
            service: Self::default_service(),
            instance: Self::default_instance(),
        }
    }
}
