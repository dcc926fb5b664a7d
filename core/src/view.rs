//! The read-only view of drift state that pull exporters (Prometheus, the query API)
//! read at request time.

use crate::event::Stats;
use crate::history::History;
use crate::incident::Incident;
use crate::model::{SeriesId, SeriesLabels};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};

/// Where a series is in its lifecycle.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SeriesState {
    /// Still learning the baseline.
    InsufficientData,
    /// Behaving as its baseline says.
    Stable,
    /// Drifted from its baseline.
    DriftDetected,
}

impl SeriesState {
    /// The API spelling (`STABLE`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SeriesState::InsufficientData => "INSUFFICIENT_DATA",
            SeriesState::Stable => "STABLE",
            SeriesState::DriftDetected => "DRIFT_DETECTED",
        }
    }

    /// The value of the `driftd_series_state` gauge.
    pub fn gauge_value(self) -> f64 {
        match self {
            SeriesState::InsufficientData => 0.0,
            SeriesState::Stable => 1.0,
            SeriesState::DriftDetected => 2.0,
        }
    }
}

impl std::str::FromStr for SeriesState {
    type Err = crate::invalid::Invalid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "INSUFFICIENT_DATA" => Ok(SeriesState::InsufficientData),
            "STABLE" => Ok(SeriesState::Stable),
            "DRIFT_DETECTED" => Ok(SeriesState::DriftDetected),
            _ => Err(crate::invalid::Invalid::new(
                s,
                "a series state",
                "use INSUFFICIENT_DATA, STABLE or DRIFT_DETECTED",
            )),
        }
    }
}

/// A copy of one series' state at one moment.
#[derive(Clone, Debug, Serialize)]
pub struct SeriesSnapshot {
    /// Identity.
    pub id: SeriesId,
    /// Metric name and labels.
    pub labels: Arc<SeriesLabels>,
    /// Lifecycle state.
    pub state: SeriesState,
    /// Event time of the last state change (or of the first sample).
    pub transition_time: u64,
    /// Samples seen since the series appeared.
    pub sample_count: u64,
    /// Event time of the newest sample.
    pub last_time: u64,
    /// The newest value fed to the detector (a rate for counters; for a histogram, the
    /// mean of its newest point's buckets).
    pub last_value: f64,
    /// The newest z-score against the baseline (for a histogram, the PSI of its recent
    /// distribution; 0 while learning).
    pub last_score: f64,
    /// The learned baseline, once there is one.
    pub baseline: Option<Stats>,
    /// The detector watching the series.
    pub detector: &'static str,
}

/// Read access to one series table.
pub trait SeriesView: Send + Sync {
    /// Number of series tracked.
    fn series_count(&self) -> usize;
    /// Points processed since start.
    fn points_processed(&self) -> u64;
    /// One series by id.
    fn get(&self, id: SeriesId) -> Option<SeriesSnapshot>;
    /// Visits every series (order unspecified).
    fn for_each(&self, visit: &mut dyn FnMut(SeriesSnapshot));
    /// The recent history of one series, when the table keeps one for it.
    fn history(&self, id: SeriesId) -> Option<History> {
        let _ = id;
        None
    }
}

/// One entity (a service, see the drift processor's `incidents.entity`) at one moment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EntitySnapshot {
    /// The entity's id: its service labels' values joined with `/`.
    pub id: String,
    /// Series of it tracked.
    pub series: usize,
    /// Of those, how many drift now.
    pub drifting: usize,
    /// Instances of it seen (0 when its series name none).
    pub instances: usize,
    /// 0 to 100: 100 when every signal agrees with its baseline (see the drift
    /// processor's `incidents::health` for the formula).
    pub health: f64,
    /// Its open incident, if any.
    pub incident: Option<Incident>,
}

impl EntitySnapshot {
    /// `drifting` while a series drifts, `recovering` while its incident waits out the
    /// quiet period, else `stable`.
    pub fn state(&self) -> &'static str {
        match (self.drifting, &self.incident) {
            (1.., _) => "drifting",
            (0, Some(_)) => "recovering",
            (0, None) => "stable",
        }
    }

    /// Two processors' views of the same entity as one.
    fn merge(&mut self, other: EntitySnapshot) {
        self.series += other.series;
        self.drifting += other.drifting;
        self.instances = self.instances.max(other.instances);
        self.health = self.health.min(other.health);
        if self.incident.is_none() {
            self.incident = other.incident;
        }
    }
}

/// Read access to the entities one processor groups its series into.
pub trait EntityView: Send + Sync {
    /// Every entity with at least one series.
    fn entities(&self) -> Vec<EntitySnapshot>;
    /// Visits every series of `entity`.
    fn series_of(&self, entity: &str, visit: &mut dyn FnMut(SeriesSnapshot));
}

/// The config the service runs with, for `/debug/pipelines`: its pipelines, and the
/// whole effective config as YAML with secrets and passwords redacted (as
/// `driftd print-config` shows it).
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunningConfig {
    /// Pipelines by name.
    pub pipelines: std::collections::BTreeMap<String, crate::config::PipelineConfig>,
    /// The effective config.
    pub yaml: String,
}

/// Every series table (and entity view) in the running service; pull exporters read
/// all of them.
#[derive(Default)]
pub struct SeriesViews {
    views: RwLock<Vec<Arc<dyn SeriesView>>>,
    entities: RwLock<Vec<Arc<dyn EntityView>>>,
}

impl SeriesViews {
    /// Adds an entity view (called by processors that group series into entities).
    pub fn register_entities(&self, view: Arc<dyn EntityView>) {
        self.entities.write().unwrap_or_else(|e| e.into_inner()).push(view);
    }

    /// Every entity across all views, sorted by id.
    pub fn entities(&self) -> Vec<EntitySnapshot> {
        let views = self.entities.read().unwrap_or_else(|e| e.into_inner()).clone();
        let mut by_id: std::collections::BTreeMap<String, EntitySnapshot> = Default::default();
        for entity in views.iter().flat_map(|v| v.entities()) {
            match by_id.get_mut(&entity.id) {
                Some(known) => known.merge(entity),
                None => {
                    by_id.insert(entity.id.clone(), entity);
                }
            }
        }
        by_id.into_values().collect()
    }

    /// Visits every series of `entity` in every view.
    pub fn series_of(&self, entity: &str, visit: &mut dyn FnMut(SeriesSnapshot)) {
        let views = self.entities.read().unwrap_or_else(|e| e.into_inner()).clone();
        for v in views {
            v.series_of(entity, visit);
        }
    }

    /// Adds a table (called by processors at build time).
    pub fn register(&self, view: Arc<dyn SeriesView>) {
        self.views.write().unwrap_or_else(|e| e.into_inner()).push(view);
    }

    /// All tables.
    pub fn all(&self) -> Vec<Arc<dyn SeriesView>> {
        self.views.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Series tracked across all tables.
    pub fn series_count(&self) -> usize {
        self.all().iter().map(|v| v.series_count()).sum()
    }

    /// Points processed across all tables.
    pub fn points_processed(&self) -> u64 {
        self.all().iter().map(|v| v.points_processed()).sum()
    }

    /// One series from whichever table has it.
    pub fn get(&self, id: SeriesId) -> Option<SeriesSnapshot> {
        self.all().iter().find_map(|v| v.get(id))
    }

    /// The recent history of one series from whichever table keeps it.
    pub fn history(&self, id: SeriesId) -> Option<History> {
        self.all().iter().find_map(|v| v.history(id))
    }

    /// Visits every series in every table.
    pub fn for_each(&self, visit: &mut dyn FnMut(SeriesSnapshot)) {
        for v in self.all() {
            v.for_each(visit);
        }
    }
}
